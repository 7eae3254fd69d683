"""Dispatch figures as .xlsx: data in, bytes out.

- overview_xlsx: the overview page as a workbook — a summary sheet, one sheet per dimension with
  the page's columns and a 合计 row, and the month-by-month trend;
- missing_xlsx: the projects that have not reported for a period (未报送项目清单), with the
  contacts to chase.

Amounts are numbers in 万元 with two decimals, rates numbers in percent with one decimal; every
text cell goes through core.xlsx.safe_text, so nothing a user typed is read as a formula."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import xlsxwriter

from majorprojects.core.money import to_yi
from majorprojects.core.xlsx import cell_value, safe_text
from majorprojects.projects.exports import HEAD_FORMAT, TITLE_FORMAT, Column

from .selectors import DIMENSIONS

# One row of the overview's tables (selectors.Row), in the page's order. "{label}" is the
# dimension's name (区域, 项目类别 …).
TABLE_COLUMNS = [
    Column("label", "{label}", 22),
    Column("projects", "项目数（个）", 8, "int"),
    Column("plan", "年度计划投资（万元）", 14, "money"),
    Column("done_month", "本月完成（万元）", 14, "money"),
    Column("mom_pct", "环比（%）", 9, "pct"),
    Column("done_ytd", "本年累计完成（万元）", 14, "money"),
    Column("yoy_pct", "同比（%）", 9, "pct"),
    Column("plan_pct", "完成年度计划（%）", 10, "pct"),
    Column("gap_pp", "比时间进度（百分点）", 11, "pp"),
    Column("new_planned", "计划新开工（个）", 9, "int"),
    Column("new_started", "已新开工（个）", 9, "int"),
    Column("new_start_pct", "新开工率（%）", 9, "pct"),
    Column("continuing", "续建项目（个）", 9, "int"),
    Column("resumed", "已复工（个）", 9, "int"),
    Column("start_resume_pct", "开复工率（%）", 9, "pct"),
    Column("completion_planned", "计划竣工（个）", 9, "int"),
    Column("completed", "已竣工（个）", 9, "int"),
    Column("completion_pct", "竣工率（%）", 9, "pct"),
]

# The summary sheet: (label, key in the summary row, kind); "yi" shows a 万元 amount in 亿元.
SUMMARY_ITEMS = [
    ("项目数（个）", "projects", "int"),
    ("年度计划投资（万元）", "plan", "money"),
    ("年度计划投资（亿元）", "plan", "yi"),
    ("本年累计完成（万元）", "done_ytd", "money"),
    ("本年累计完成（亿元）", "done_ytd", "yi"),
    ("完成年度计划（%）", "plan_pct", "pct"),
    ("时间进度（%）", "time_pct", "pct"),
    ("与时间进度比较", "gap_text", "text"),
    ("本月完成（万元）", "done_month", "money"),
    ("上月完成（万元）", "done_prev_month", "money"),
    ("环比（%）", "mom_pct", "pct"),
    ("上年同期累计完成（万元）", "done_ytd_last_year", "money"),
    ("同比（%）", "yoy_pct", "pct"),
    ("计划新开工项目（个）", "new_planned", "int"),
    ("已新开工项目（个）", "new_started", "int"),
    ("新开工率（%）", "new_start_pct", "pct"),
    ("续建项目（个）", "continuing", "int"),
    ("已复工续建项目（个）", "resumed", "int"),
    ("开复工率（%）", "start_resume_pct", "pct"),
    ("计划竣工项目（个）", "completion_planned", "int"),
    ("已竣工项目（个）", "completed", "int"),
    ("竣工率（%）", "completion_pct", "pct"),
]

PROGRAMME_NOTE = (
    "注：一个项目可有多个资金渠道，在每个渠道中各计一次，故各渠道之和可能大于合计；合计按项目计算。"
)

MISSING_COLUMNS = [
    Column("index", "序号", 6, "int"),
    Column("region", "区域", 14),
    Column("name", "项目名称", 36),
    Column("code", "项目代码", 26),
    Column("owner_unit", "项目单位", 28),
    Column("department", "责任部门", 18),
    Column("contact_name", "联系人", 10),
    Column("contact_phone", "联系电话", 14),
    Column("due_on", "截止日期", 12, "date"),
    Column("status", "状态", 10),
]


NUMBER_FORMATS = {
    "money": {"num_format": "#,##0.00"},
    "yi": {"num_format": "#,##0.00"},
    "pct": {"num_format": "0.0"},
    "pp": {"num_format": "+0.0;-0.0;0.0"},
    "int": {"num_format": "0"},
    "date": {"num_format": "yyyy-mm-dd"},
}
TOTAL_FORMAT = {"bold": True, "bg_color": "#EEF2F7"}


class _Book:
    """An in-memory workbook with the ledger's title/header look and one writer per cell kind."""

    def __init__(self):
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self.buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        add = self.book.add_format
        self.title = add(TITLE_FORMAT)
        self.head = add(HEAD_FORMAT)
        self.note = add({"font_color": "#555555"})
        self.formats = {kind: add(spec) for kind, spec in NUMBER_FORMATS.items()}
        self.total_formats = {kind: add({**spec, **TOTAL_FORMAT}) for kind, spec in NUMBER_FORMATS.items()}
        self.total_text = add(TOTAL_FORMAT)

    def sheet(self, name: str, title: str, columns: list[Column], *, subtitle: str = "", label: str = ""):
        sheet = self.book.add_worksheet(name)
        for i, column in enumerate(columns):
            sheet.set_column(i, i, column.width)
        if len(columns) > 1:
            sheet.merge_range(0, 0, 0, len(columns) - 1, safe_text(title), self.title)
        else:
            sheet.write_string(0, 0, safe_text(title), self.title)
        if subtitle:
            sheet.write_string(1, 0, safe_text(subtitle))
        headers = [safe_text(c.header.format(label=label)) for c in columns]
        sheet.write_row(2, 0, headers, self.head)
        sheet.freeze_panes(3, 1)
        return sheet

    def cell(self, sheet, row: int, col: int, kind: str, value, *, total: bool = False) -> None:
        """One cell: numbers as numbers with their format, text made safe, blanks left empty."""
        if kind == "yi" and value is not None:
            value = to_yi(value)
        value = cell_value(value)
        if value is None or value == "":
            if total:
                sheet.write_blank(row, col, None, self.total_text)
            return
        if kind == "text" or isinstance(value, str):
            sheet.write_string(row, col, safe_text(value), self.total_text if total else None)
        elif kind == "date":
            sheet.write_datetime(row, col, value, self.formats["date"])
        else:
            fmt = (self.total_formats if total else self.formats)[kind]
            sheet.write_number(row, col, value, fmt)

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def _sheet_name(text: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    for ch in "[]:*?/\\":
        text = text.replace(ch, "")
    return text[:31]


def _summary_sheet(book: _Book, title: str, summary: Mapping) -> None:
    columns = [Column("item", "指标", 26), Column("value", "数值", 30)]
    sheet = book.sheet("汇总", title, columns, subtitle="金额单位：万元（另注亿元者除外）")
    for r, (label, key, kind) in enumerate(SUMMARY_ITEMS, start=3):
        sheet.write_string(r, 0, safe_text(label))
        book.cell(sheet, r, 1, kind, summary.get(key))


def _dimension_sheet(book: _Book, title: str, dimension: str, rows: Iterable[Mapping], summary: Mapping):
    label = DIMENSIONS.get(dimension, dimension)
    subtitle = f"单位：万元；时间进度 {summary.get('time_pct')}%"
    sheet = book.sheet(
        _sheet_name(f"按{label}"), f"{title}（按{label}）", TABLE_COLUMNS, subtitle=subtitle, label=label
    )
    r = 3
    for row in rows:
        for c, column in enumerate(TABLE_COLUMNS):
            book.cell(sheet, r, c, column.kind, row.get(column.key))
        r += 1
    for c, column in enumerate(TABLE_COLUMNS):
        value = "合计" if column.key == "label" else summary.get(column.key)
        book.cell(sheet, r, c, column.kind, value, total=True)
    if dimension == "programme":
        sheet.write_string(r + 2, 0, PROGRAMME_NOTE, book.note)


def _trend_sheet(book: _Book, year: int, month: int, trend: Mapping) -> None:
    columns = [
        Column("month", "月份", 8),
        Column("this_year", f"{year}年当月完成（万元）", 16, "money"),
        Column("last_year", f"{year - 1}年同月完成（万元）", 16, "money"),
        Column("cumulative", f"{year}年累计完成（万元）", 16, "money"),
        Column("plan_pct", "累计完成占年度计划（%）", 14, "pct"),
        Column("time_pct", "时间进度（%）", 10, "pct"),
    ]
    subtitle = f"单位：万元；{year}年计划投资 {trend.get('plan', 0):,.2f} 万元"
    sheet = book.sheet("走势", f"{year}年各月完成投资", columns, subtitle=subtitle)
    for i, name in enumerate(trend["months"]):
        r = 3 + i
        reached = i < month  # months after the chosen one have no figures yet
        sheet.write_string(r, 0, safe_text(name))
        book.cell(sheet, r, 1, "money", trend["this_year"][i] if reached else None)
        book.cell(sheet, r, 2, "money", trend["last_year"][i])
        book.cell(sheet, r, 3, "money", trend["cumulative"][i] if reached else None)
        book.cell(sheet, r, 4, "pct", trend["plan_pct"][i] if reached else None)
        book.cell(sheet, r, 5, "pct", trend["time_pct"][i])


def overview_xlsx(
    *,
    title: str,
    year: int,
    month: int,
    summary: Mapping,
    tables: Mapping[str, Iterable[Mapping]],
    trend: Mapping,
) -> bytes:
    """The overview workbook: 汇总, one 按… sheet per dimension in `tables` order (each with a 合计
    row taken from `summary`, never summed here), and 走势."""
    book = _Book()
    _summary_sheet(book, title, summary)
    for dimension, rows in tables.items():
        _dimension_sheet(book, title, dimension, rows, summary)
    _trend_sheet(book, year, month, trend)
    return book.close()


def _missing_values(index: int, report, period) -> list:
    project = report.project
    return [
        index,
        project.region.label if project.region_id else "",
        project.name,
        project.code or "",
        project.owner_unit.name if project.owner_unit_id else "",
        project.responsible_department.name if project.responsible_department_id else "",
        project.contact_name,
        project.contact_phone,
        period.due_on,
        report.get_status_display(),
    ]


def missing_xlsx(period, reports: Iterable) -> bytes:
    """未报送项目清单 of `period`: the slots never sent (selectors.missing_reports, with the
    project's region, owner unit and responsible department selected)."""
    reports = list(reports)
    book = _Book()
    subtitle = f"截止日期：{period.due_on:%Y-%m-%d}；未报送 {len(reports)} 个项目"
    sheet = book.sheet("未报送项目", f"{period.label}未报送项目清单", MISSING_COLUMNS, subtitle=subtitle)
    for r, report in enumerate(reports, start=3):
        values = _missing_values(r - 2, report, period)
        for c, (column, value) in enumerate(zip(MISSING_COLUMNS, values, strict=True)):
            book.cell(sheet, r, c, column.kind, value)
    return book.close()


__all__ = ["MISSING_COLUMNS", "TABLE_COLUMNS", "missing_xlsx", "overview_xlsx"]
