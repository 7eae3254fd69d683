"""The period's Excel template for batch entry (调度表): reports in, pre-filled .xlsx bytes out;
an uploaded workbook in, typed rows out. Pure: applying the rows is the grid views' job, through
reporting.services, so the template, the grid, the form and the API show the same checks and the
same Chinese messages.

The cell parsers here (`parse_value`) serve the grid too: a county clerk may type "2026年10月",
"3.5亿" or "是" in either place."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import xlsxwriter

from majorprojects.core.text import compact, normalize
from majorprojects.core.xlsx import safe_text
from majorprojects.projects.importing import values as cells
from majorprojects.projects.importing.reader import ImportFileError, check_upload, load_rows
from majorprojects.projects.importing.values import CellError

from .models import Period, Report

TEXT_MAX = 4000
HEADER_SCAN = 10
SHEET_NAME = "调度表"
_SPACES = re.compile(r"[\s\u3000\u00a0]+")

MONEY_FIELDS = ("investment",)
PERCENT_FIELDS = ("percent_complete",)
DATE_FIELDS = ("started_on", "structure_done_on", "completed_on", "operating_on", "stats_date")
BOOL_FIELDS = ("stats_included",)
TEXT_FIELDS = ("progress", "problems", "next_plan", "note")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    kind: str  # info | derived | money | percent | date | bool | text | key
    note: str = ""

    @property
    def match(self) -> str:
        """What a header cell must start with to be this column ("本期完成投资（万元）" → "本期完成投资")."""
        return compact(self.header.split("（")[0])


COLUMNS = [
    Column("index", "序号", 6, "info"),
    Column("name", "项目名称", 32, "info", "与系统中的项目名称一致，请勿修改。"),
    Column("code", "项目代码", 24, "info", "请勿修改。"),
    Column("region", "所在区域", 12, "info"),
    Column("status", "填报状态", 9, "info", "已报送、已审核、已锁定的报表不能再修改（灰色）。"),
    Column(
        "investment",
        "本期完成投资（万元）",
        14,
        "money",
        "只填本期（本月/本季）完成数，单位万元，也可写“3.5亿”。不能为负数。",
    ),
    Column(
        "year_to_date", "本年累计（万元，系统计算）", 14, "derived", "系统按各期完成投资自动计算，填写无效。"
    ),
    Column(
        "since_start", "开工累计（万元，系统计算）", 14, "derived", "系统按各期完成投资自动计算，填写无效。"
    ),
    Column(
        "percent_complete",
        "工程完成比例（%）",
        10,
        "percent",
        "0 到 100 之间的数，如 45 表示 45%；不能低于上期。",
    ),
    Column("progress", "形象进度", 36, "text", "本期工程形象进度的文字描述。"),
    Column("started_on", "开工日期", 12, "date", "本期开工的项目填写，如 2026-10-15。"),
    Column("structure_done_on", "主体完工日期", 12, "date", "须晚于开工日期。"),
    Column("completed_on", "竣工日期", 12, "date", "须先有开工日期。"),
    Column("operating_on", "投产日期", 12, "date", "须先有竣工日期。"),
    Column("stats_included", "是否入统", 9, "bool", "从下拉列表选择“是”或“否”。"),
    Column("stats_date", "入统日期", 12, "date", "已入统的项目须填写。"),
    Column("problems", "存在问题", 30, "text"),
    Column("next_plan", "下期计划", 30, "text", "下一期的工作计划。"),
    Column("note", "情况说明", 30, "text", "单期投资明显偏大等异常情况须在此说明原因。"),
    Column("report_id", "报表编号", 10, "key"),
    Column("version", "版本", 6, "key"),
    Column("digest", "校验码", 18, "key"),
]
BY_KEY = {c.key: c for c in COLUMNS}
INPUT_KINDS = ("money", "percent", "date", "bool", "text")
MONEY_COLUMNS = ("investment", "year_to_date", "since_start")


def columns(*, carries_investment: bool) -> list[Column]:
    """The template's columns; weekly periods carry no money."""
    return [c for c in COLUMNS if carries_investment or c.key not in MONEY_COLUMNS]


def input_fields(*, carries_investment: bool) -> list[str]:
    return [c.key for c in columns(carries_investment=carries_investment) if c.kind in INPUT_KINDS]


# --- one value -----------------------------------------------------------------------------------


def _percent(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError("应为 0 到 100 之间的数值")
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        text = compact(value).removesuffix("%")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(f"应为 0 到 100 之间的数值，而不是“{normalize(value)}”")
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise CellError("应为 0 到 100 之间的数值")
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _text(value: object) -> str:
    text = cells.text(value)
    if len(text) > TEXT_MAX:
        raise CellError(f"不能超过 {TEXT_MAX} 字")
    return text


def parse_value(name: str, value: object):
    """A report field's typed value from a cell or a grid input; CellError with a Chinese message
    (without the field's name: the caller puts the column header in front)."""
    if name in MONEY_FIELDS:
        return cells.amount(value)
    if name in PERCENT_FIELDS:
        return _percent(value)
    if name in DATE_FIELDS:
        return cells.date(value)
    if name in BOOL_FIELDS:
        return cells.boolean(value)
    if name in TEXT_FIELDS:
        return _text(value)
    raise ValueError(name)


def canonical(value: object) -> str:
    """One spelling per value, to tell whether a row changed (Decimal('45.50') == 45.5)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return format(number.normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def report_values(report: Report, fields: Iterable[str]) -> dict:
    return {name: getattr(report, name) for name in fields}


def same_values(values: dict, current: dict) -> bool:
    return all(canonical(value) == canonical(current.get(name)) for name, value in values.items())


def digest(values: dict, fields: Iterable[str]) -> str:
    """A short fingerprint of a row's values as downloaded: an upload whose row still has it was
    not touched by the person, so a report changed online meanwhile is left alone."""
    text = json.dumps([canonical(values.get(name)) for name in fields], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- the template --------------------------------------------------------------------------------

TITLE_FORMAT = {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
HEAD_FORMAT = {
    "bold": True,
    "bg_color": "#DCE6F1",
    "border": 1,
    "text_wrap": True,
    "align": "center",
    "valign": "vcenter",
}
GREY = "#EDEDED"
FIRST_ROW = 3  # title, unit/notes, header, then data (0-based row index)


def _formats(book) -> dict:
    base = {"border": 1, "valign": "top", "font_size": 10}
    open_ = {**base, "locked": False}
    shut = {**base, "locked": True, "bg_color": GREY}
    kinds = {
        "text": {"text_wrap": True},
        "money": {"num_format": "#,##0.00"},
        "percent": {},
        "date": {"num_format": "yyyy-mm-dd"},
        "bool": {"align": "center"},
    }
    formats = {
        "info": book.add_format({**base, "text_wrap": True}),
        "derived": book.add_format({**shut, "num_format": "#,##0.00"}),
        "key": book.add_format({"locked": True}),
    }
    for kind, extra in kinds.items():
        formats[f"open_{kind}"] = book.add_format({**open_, **extra})
        formats[f"shut_{kind}"] = book.add_format({**shut, **extra})
    return formats


def _write(sheet, r: int, c: int, value, fmt) -> None:
    if value is None or value == "":
        sheet.write_blank(r, c, None, fmt)
    elif isinstance(value, bool):
        sheet.write_string(r, c, "是" if value else "否", fmt)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(r, c, float(value), fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt)
    else:
        sheet.write_string(r, c, safe_text(value), fmt)


def _cell(report: Report, index: int, column: Column):
    project = report.project
    if column.key == "index":
        return index
    if column.key == "name":
        return project.name
    if column.key == "code":
        return project.code or ""
    if column.key == "region":
        return project.region.label if project.region_id else ""
    if column.key == "status":
        return report.get_status_display()
    if column.key == "report_id":
        return report.pk
    if column.key == "version":
        return report.version
    return getattr(report, column.key)


def _validations(sheet, cols: list[Column], last_row: int) -> None:
    for c, column in enumerate(cols):
        options = None
        if column.kind == "bool":
            options = {
                "validate": "list",
                "source": ["是", "否"],
                "error_title": "是否入统",
                "error_message": "请选择“是”或“否”。",
            }
        elif column.kind == "percent":
            options = {
                "validate": "decimal",
                "criteria": "between",
                "minimum": 0,
                "maximum": 100,
                "error_title": column.header,
                "error_message": "应为 0 到 100 之间的数值。",
            }
        elif column.kind == "money":
            options = {
                "validate": "decimal",
                "criteria": ">=",
                "value": 0,
                "error_title": column.header,
                "error_message": "本期完成投资不能为负数，单位万元。",
                "error_type": "warning",  # "3.5亿" typed as text is still read correctly
            }
        elif column.kind == "date":
            options = {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31),
                "error_title": column.header,
                "error_message": "请填写日期，如 2026-10-15。",
                "error_type": "warning",  # "2026年10月" typed as text is still read correctly
            }
        if options:
            sheet.data_validation(FIRST_ROW, c, last_row, c, options)


def template_xlsx(*, period: Period, reports: Iterable[Report]) -> bytes:
    """The period's template: a title, a notes row, one header row, one row per report (values
    pre-filled; inputs unlocked on reports that may still change), hidden key columns (report id,
    version, digest), drop-down and range checks, and a sheet explaining each column.

    `reports` should come with project and region selected. Text never starts a formula."""
    cols = columns(carries_investment=period.carries_investment)
    fields = [c.key for c in cols if c.kind in INPUT_KINDS]
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
    book.set_properties({"title": f"{period.label}调度表", "subject": "调度填报模板"})
    sheet = book.add_worksheet(SHEET_NAME)
    formats = _formats(book)
    head_fmt = book.add_format(HEAD_FORMAT)
    title_fmt = book.add_format(TITLE_FORMAT)
    note_fmt = book.add_format({"font_color": "#595959", "text_wrap": True, "valign": "vcenter"})
    for c, column in enumerate(cols):
        sheet.set_column(c, c, column.width, None, {"hidden": column.kind == "key"})
    visible = sum(1 for c in cols if c.kind != "key")
    sheet.merge_range(0, 0, 0, visible - 1, safe_text(f"{period.label}调度表"), title_fmt)
    sheet.set_row(0, 28)
    unit = "单位：万元。" if period.carries_investment else "周调度不填完成投资。"
    sheet.merge_range(
        1,
        0,
        1,
        visible - 1,
        f"{unit}白色单元格可填写，灰色为系统计算或已报送（修改无效）；本年累计、开工累计由系统计算。"
        f"截止日期 {period.due_on:%Y-%m-%d}。请勿修改项目名称、项目代码和隐藏列；"
        "导入时全部行校验通过才写入，有错误时不写入任何数据。",
        note_fmt,
    )
    sheet.set_row(1, 32)
    for c, column in enumerate(cols):
        sheet.write_string(2, c, column.header, head_fmt)
        if column.note:
            sheet.write_comment(2, c, column.note, {"x_scale": 1.6, "y_scale": 0.8})
    sheet.set_row(2, 36)
    r = FIRST_ROW
    for index, report in enumerate(reports, start=1):
        editable = report.is_editable
        for c, column in enumerate(cols):
            if column.key == "digest":
                value = digest(report_values(report, fields), fields)
            else:
                value = _cell(report, index, column)
            if column.kind in ("info", "derived", "key"):
                fmt = formats[column.kind]
            else:
                fmt = formats[f"{'open' if editable else 'shut'}_{column.kind}"]
            _write(sheet, r, c, value, fmt)
        r += 1
    if r > FIRST_ROW:
        _validations(sheet, cols, r - 1)
    sheet.freeze_panes(FIRST_ROW, 2)
    sheet.autofilter(2, 0, max(r - 1, 2), visible - 1)
    sheet.protect(
        "",
        {
            "autofilter": True,
            "sort": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )
    _notes(book, cols, period)
    book.close()
    return buffer.getvalue()


def _notes(book, cols: list[Column], period: Period) -> None:
    sheet = book.add_worksheet("填写说明")
    bold = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 80)
    sheet.write_row(0, 0, ["列名", "填写要求"], bold)
    r = 1
    for column in cols:
        if column.kind == "key":
            continue
        sheet.write_row(r, 0, [column.header, column.note], wrap)
        r += 1
    r += 1
    for line in (
        "填写说明：",
        f"1. 本模板为“{period.label}”调度表，只能导入该期次；每行对应一份报表，按隐藏的报表编号对应，"
        "没有报表编号的行按项目代码、再按项目名称对应。",
        "2. 空白单元格表示“未填”，会清空系统中原有的内容；未改动的行不会被导入。",
        "3. 下载模板后如果报表在系统中又被修改过，导入时该行会被拒绝，请重新下载模板。",
        "4. 导入时先整体校验：任何一行有错误，都不会写入任何数据，并列出“第几行、哪一列”的错误。",
        "5. 勾选“导入后直接报送”时，导入的报表会同时报送审核。",
    ):
        sheet.write_string(r, 0, line)
        r += 1


# --- reading an upload ---------------------------------------------------------------------------


@dataclass
class Row:
    """One data row of an upload: its Excel row number, how to find its report, its typed values
    (only the columns the file has) and the cells that could not be read."""

    number: int
    report_id: int | None = None
    version: int | None = None
    digest: str = ""
    code: str = ""
    name: str = ""
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


@dataclass
class Upload:
    rows: list[Row]
    headers: dict[str, str]  # column key → header text as in the file
    fields: list[str]  # input fields of the template for this period's frequency


def _header_row(rows: list[list]) -> int | None:
    keys = {BY_KEY["name"].match, BY_KEY["report_id"].match}
    for i, row in enumerate(rows[:HEADER_SCAN]):
        if any(isinstance(v, str) and compact(v).startswith(tuple(keys)) for v in row):
            return i
    return None


def _map_headers(header: list) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    # Longest match first, so "开工累计" never takes "开工日期" and the like.
    candidates = sorted(COLUMNS, key=lambda c: -len(c.match))
    for i, value in enumerate(header):
        if not isinstance(value, str) or not value.strip():
            continue
        text = compact(value)
        for column in candidates:
            if column.key not in found and text.startswith(column.match):
                found[column.key] = (i, _SPACES.sub(" ", value).strip())
                break
    return found


def _integer(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        number = int(compact(value))
    except ValueError:
        raise CellError(f"应为整数，而不是“{normalize(value)}”")
    if number <= 0:
        raise CellError(f"应为正整数，而不是“{normalize(value)}”")
    return number


def _at(row: list, index: int):
    return row[index] if index < len(row) else None


def read_upload(*, name: str, content: bytes, carries_investment: bool) -> Upload:
    """Check the file (size, type, signature, zip bomb), read its first visible sheet and return
    its data rows. ImportFileError (Chinese message) when it cannot be read or has no header."""
    check_upload(name, content)
    sheet_name, _names, rows = load_rows(content, None)
    index = _header_row(rows)
    if index is None:
        raise ImportFileError(
            f"工作表“{sheet_name}”的前 {HEADER_SCAN} 行中没有找到表头（须有“项目名称”列）。"
            "请使用本期下载的填报模板。"
        )
    mapped = _map_headers(rows[index])
    fields = input_fields(carries_investment=carries_investment)
    present = [key for key in mapped if BY_KEY[key].kind in INPUT_KINDS]
    if not present:
        raise ImportFileError(
            "表头中没有可填报的列（如“本期完成投资”“形象进度”），请使用本期下载的填报模板。"
        )
    if "name" not in mapped and "code" not in mapped and "report_id" not in mapped:
        raise ImportFileError("表头中没有“项目名称”“项目代码”或“报表编号”列，无法对应到报表。")
    result = []
    for offset, values in enumerate(rows[index + 1 :], start=index + 2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row = Row(number=offset)
        for key in ("report_id", "version"):
            if key in mapped:
                try:
                    setattr(row, key, _integer(_at(values, mapped[key][0])))
                except CellError as exc:
                    row.errors[key] = exc.message
        if "digest" in mapped:
            row.digest = normalize(_at(values, mapped["digest"][0]))
        if "code" in mapped:
            row.code = compact(cells.text(_at(values, mapped["code"][0])))
        if "name" in mapped:
            row.name = normalize(cells.text(_at(values, mapped["name"][0])))
        for key in present:
            try:
                row.values[key] = parse_value(key, _at(values, mapped[key][0]))
            except CellError as exc:
                row.errors[key] = exc.message
        filled = any(canonical(v) for v in row.values.values()) or row.errors
        if not row.report_id and not filled:
            continue  # a notes line under the table ("填表人：…"), or a row left empty
        if not (row.report_id or row.code or row.name):
            row.errors["__all__"] = "缺少项目名称、项目代码，无法对应到报表"
        result.append(row)
    headers = {key: header for key, (_i, header) in mapped.items()}
    return Upload(rows=result, headers=headers, fields=fields)
