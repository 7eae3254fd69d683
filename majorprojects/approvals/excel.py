"""The approvals ledger in Excel: rows in, .xlsx bytes out (export), and an uploaded workbook in,
typed rows out (import). Pure: matching rows to items and saving them is
`services.ledger_import`, through the same checks as the forms and the API.

One row per project × item. Uploads are read through projects.importing.reader (size, type,
signature and zip-bomb checks, read-only openpyxl); exported text never starts a formula."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import xlsxwriter

from majorprojects.core.text import compact, normalize
from majorprojects.core.xlsx import safe_text
from majorprojects.projects.importing import values as cells
from majorprojects.projects.importing.reader import ImportFileError, check_upload, load_rows
from majorprojects.projects.importing.values import CellError

from .models import ItemStatus

HEADER_SCAN = 10
SHEET_NAME = "前期工作台账"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    kind: str  # info | key | status | date | text | unit | hidden
    aliases: tuple[str, ...] = ()
    limit: int = 0


COLUMNS = [
    Column("index", "序号", 6, "info"),
    Column("code", "项目代码", 24, "key"),
    Column("project_name", "项目名称", 30, "key", ("项目",)),
    Column("region", "所在区域", 10, "info"),
    Column("regime", "审批类型", 8, "info"),
    Column("item_name", "审批事项", 18, "key", ("事项", "事项名称", "审批事项名称")),
    Column("status", "办理状态", 10, "status", ("状态",)),
    Column("responsible_unit", "责任单位", 24, "unit"),
    Column("responsible_person", "责任人", 10, "text", (), 50),
    Column("submitted_date", "受理日期", 12, "date", ("申报日期",)),
    Column("planned_date", "计划完成日期", 12, "date", ("计划完成时间", "计划办结日期", "计划日期")),
    Column(
        "actual_date", "实际办结日期", 12, "date", ("实际完成日期", "办结日期", "批复日期", "实际完成时间")
    ),
    Column("approving_body", "审批部门", 18, "text", ("审批单位", "审批机关"), 100),
    Column("document_number", "批复文号", 22, "text", ("文号", "批复文件文号"), 100),
    Column("promise_due_date", "承诺补齐期限", 12, "date", ("承诺期限", "补齐期限")),
    Column("papers_supplied_date", "要件补齐日期", 12, "date", ("补齐日期",)),
    Column("not_applicable_reason", "不涉及原因", 20, "text", (), 200),
    Column("note", "备注", 24, "text", (), 500),
    Column("flags", "预警", 16, "info"),
    Column("version", "版本", 6, "hidden"),
]
BY_KEY = {c.key: c for c in COLUMNS}
INPUT_KINDS = ("status", "date", "text", "unit")
INPUT_KEYS = [c.key for c in COLUMNS if c.kind in INPUT_KINDS]

_STATUS_WORDS = {
    ItemStatus.NOT_STARTED: ("未启动", "未开始", "未办理", "未办"),
    ItemStatus.IN_PROGRESS: ("办理中", "在办", "正在办理", "进行中"),
    ItemStatus.DONE: ("已办结", "办结", "已完成", "完成", "已批复", "已取得"),
    ItemStatus.PROMISED: ("容缺承诺", "容缺", "告知承诺", "承诺制", "容缺办理"),
    ItemStatus.NOT_APPLICABLE: ("不涉及", "无需办理", "不需要", "不适用"),
}
STATUS_BY_WORD = {word: status.value for status, words in _STATUS_WORDS.items() for word in words}


def _names(column: Column) -> set[str]:
    return {compact(column.header), *(compact(a) for a in column.aliases)}


def status_value(value: object) -> str:
    text = compact(value)
    if not text:
        raise CellError("不能为空，请填写未启动、办理中、已办结、容缺承诺或不涉及")
    if text in STATUS_BY_WORD:
        return STATUS_BY_WORD[text]
    raise CellError(f"应为未启动、办理中、已办结、容缺承诺或不涉及，而不是“{normalize(value)}”")


def parse_value(column: Column, value: object):
    if column.kind == "status":
        return status_value(value)
    if column.kind == "date":
        return cells.date(value)
    text = cells.text(value)
    if column.limit and len(text) > column.limit:
        raise CellError(f"最多 {column.limit} 个字")
    return text


def canonical(value: object) -> str:
    """One spelling per value, to tell whether an imported row changes anything."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "_meta"):  # a Unit
        return str(value.pk)
    return str(value).strip()


# --- Export ------------------------------------------------------------------------------------

HEAD_FORMAT = {
    "bold": True,
    "bg_color": "#DCE6F1",
    "border": 1,
    "text_wrap": True,
    "align": "center",
    "valign": "vcenter",
}


def _cell(row: dict, index: int, key: str):
    item = row["item"]
    project = item.project
    if key == "index":
        return index
    if key == "code":
        return project.code or ""
    if key == "project_name":
        return project.name
    if key == "region":
        return project.region.label
    if key == "regime":
        return project.get_approval_regime_display()
    if key == "item_name":
        return item.item_type.name
    if key == "status":
        return item.get_status_display()
    if key == "responsible_unit":
        return item.responsible_unit.name if item.responsible_unit_id else ""
    if key == "flags":
        return "、".join(row.get("flag_labels", []))
    return getattr(item, key)


def ledger_xlsx(rows: Iterable[dict], *, title: str = "前期工作台账") -> bytes:
    """One sheet, one row per item. `rows` are selectors' rows: {"item": ApprovalItem with
    project__region, item_type and responsible_unit selected, "flag_labels": [...]}. The hidden
    版本 column lets an import notice items changed in the system since the export."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties({"title": title})
    sheet = book.add_worksheet(SHEET_NAME)
    head = book.add_format(HEAD_FORMAT)
    title_fmt = book.add_format({"bold": True, "font_size": 16, "align": "center"})
    text_fmt = book.add_format({"border": 1, "valign": "top", "text_wrap": True, "font_size": 10})
    date_fmt = book.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd", "font_size": 10})
    visible = [c for c in COLUMNS if c.kind != "hidden"]
    for c, column in enumerate(COLUMNS):
        sheet.set_column(c, c, column.width, None, {"hidden": column.kind == "hidden"})
    sheet.merge_range(0, 0, 0, len(visible) - 1, safe_text(title), title_fmt)
    for c, column in enumerate(COLUMNS):
        sheet.write_string(1, c, column.header, head)
    r = 2
    for index, row in enumerate(rows, start=1):
        for c, column in enumerate(COLUMNS):
            value = _cell(row, index, column.key)
            if value is None or value == "":
                sheet.write_blank(r, c, None, text_fmt)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
            elif isinstance(value, int):
                sheet.write_number(r, c, value, text_fmt)
            else:
                sheet.write_string(r, c, safe_text(value), text_fmt)
        r += 1
    sheet.freeze_panes(2, 3)
    sheet.autofilter(1, 0, max(r - 1, 1), len(visible) - 1)
    notes = book.add_worksheet("填写说明")
    for i, line in enumerate(
        (
            "1. 每行一个项目的一个审批事项，按“项目代码”（无代码时按“项目名称”）和“审批事项”对应系统中已有的事项。",
            "2. 可修改：办理状态、责任单位、责任人、受理日期、计划完成日期、实际办结日期、审批部门、批复文号、"
            "承诺补齐期限、要件补齐日期、不涉及原因、备注；其他列仅供参考。",
            "3. 办理状态填写：未启动、办理中、已办结、容缺承诺、不涉及。已办结须有实际办结日期和批复文号；"
            "不涉及须写明原因；容缺承诺须有承诺补齐期限。日期写作 2026-03-15。",
            "4. 导入时先整体校验：任何一行有错误，都不会写入任何数据，并列出“第几行、哪一列”的错误。",
            "5. 未改动的行不会导入；导出后在系统中又被修改过的事项，导入时该行会被拒绝，请重新导出。",
        )
    ):
        notes.write_string(i, 0, line)
    notes.set_column(0, 0, 120)
    book.close()
    return buffer.getvalue()


# --- Import ------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    code: str = ""
    project_name: str = ""
    item_name: str = ""
    version: int | None = None
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


@dataclass
class Upload:
    rows: list[Row]
    headers: dict[str, str]  # column key → header text as in the file


def _header_row(rows: list[list]) -> int | None:
    names = _names(BY_KEY["item_name"])
    for i, row in enumerate(rows[:HEADER_SCAN]):
        if any(isinstance(v, str) and compact(v).split("(")[0] in names for v in row):
            return i
    return None


def _map_headers(header: list) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for i, value in enumerate(header):
        if not isinstance(value, str) or not value.strip():
            continue
        text = compact(value).split("(")[0]  # NFKC made "（" "("
        for column in COLUMNS:
            if column.key not in found and text in _names(column):
                found[column.key] = (i, normalize(value))
                break
    return found


def _at(row: list, index: int):
    return row[index] if index < len(row) else None


def _version(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(float(compact(value))) if not isinstance(value, int) else value
    except (ValueError, OverflowError):  # "abc", "inf", "1e400"
        raise CellError(f"应为整数，而不是“{normalize(value)}”")
    if number < 0 or number > 2**31 - 1:
        raise CellError(f"版本号“{normalize(value)}”无效，请使用导出的原表")
    return number


def read_ledger(*, name: str, content: bytes) -> Upload:
    """The data rows of an uploaded ledger (first visible sheet). ImportFileError with a Chinese
    message when the file cannot be read, has no header, or lacks the columns to match rows."""
    check_upload(name, content)
    sheet_name, _sheets, rows = load_rows(content, None)
    index = _header_row(rows)
    if index is None:
        raise ImportFileError(
            f"工作表“{sheet_name}”的前 {HEADER_SCAN} 行中没有找到表头（须有“审批事项”列）。请使用导出的台账。"
        )
    mapped = _map_headers(rows[index])
    if "code" not in mapped and "project_name" not in mapped:
        raise ImportFileError("表头中没有“项目代码”或“项目名称”列，无法对应到项目。")
    present = [key for key in INPUT_KEYS if key in mapped]
    if not present:
        raise ImportFileError(
            "表头中没有可导入的列（如“办理状态”“实际办结日期”“批复文号”），请使用导出的台账。"
        )
    result = []
    for number, values in enumerate(rows[index + 1 :], start=index + 2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row = Row(number=number)
        if "code" in mapped:
            row.code = compact(cells.text(_at(values, mapped["code"][0])))
        if "project_name" in mapped:
            row.project_name = normalize(cells.text(_at(values, mapped["project_name"][0])))
        row.item_name = normalize(cells.text(_at(values, mapped["item_name"][0])))
        if "version" in mapped:
            try:
                row.version = _version(_at(values, mapped["version"][0]))
            except CellError as exc:
                row.errors["version"] = exc.message
        for key in present:
            try:
                row.values[key] = parse_value(BY_KEY[key], _at(values, mapped[key][0]))
            except CellError as exc:
                row.errors[key] = exc.message
        if not row.item_name and not any(canonical(_at(values, mapped[k][0])) for k in present):
            continue  # a notes line under the table ("填表人：…"), or a row left empty
        if not (row.code or row.project_name):
            row.errors["project_name"] = "缺少项目代码和项目名称，无法对应到项目"
        if not row.item_name:
            row.errors["item_name"] = "不能为空"
        result.append(row)
    headers = {key: header for key, (_i, header) in mapped.items()}
    return Upload(rows=result, headers=headers)
