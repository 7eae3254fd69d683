"""Problem ledger workbooks: data in (selectors.export_rows, selectors.metrics), bytes out.
Text cells never start a formula (core.xlsx.cell_value)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import xlsxwriter

from majorprojects.core.xlsx import cell_value

TITLE_FORMAT = {"bold": True, "font_size": 16, "align": "center"}
HEAD_FORMAT = {
    "bold": True,
    "bg_color": "#DCE6F1",
    "border": 1,
    "text_wrap": True,
    "align": "center",
    "valign": "vcenter",
}

# (key, header, width)
LIST_COLUMNS = [
    ("index", "序号", 6),
    ("id", "编号", 8),
    ("title", "问题概述", 30),
    ("project", "项目名称", 30),
    ("region", "所在区域", 12),
    ("category", "问题类别", 10),
    ("source", "来源", 12),
    ("urgency", "紧急程度", 8),
    ("status", "状态", 10),
    ("raising_unit", "反映单位", 24),
    ("created", "反映日期", 12),
    ("description", "问题描述", 40),
    ("request", "诉求", 30),
    ("lead_unit", "牵头单位", 22),
    ("co_units", "配合单位", 24),
    ("leader", "责任领导", 14),
    ("responsible", "责任人", 18),
    ("deadline", "办理时限", 12),
    ("overdue", "是否逾期", 8),
    ("level", "督办等级", 14),
    ("closed", "销号日期", 12),
]

METRIC_COLUMNS = [
    ("label", "{by_label}", 26),
    ("total", "问题数", 8),
    ("open", "未销号", 8),
    ("overdue", "逾期", 8),
    ("closed", "已销号", 8),
    ("closure_rate", "销号率（%）", 10),
    ("avg_days", "平均办结天数", 12),
    ("median_days", "办结天数中位数", 12),
    ("confirmations", "确认次数", 10),
    ("satisfied", "满意次数", 10),
    ("satisfaction_rate", "满意率（%）", 10),
]


def _book():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    return buffer, book


def _write(sheet, r: int, c: int, value, date_fmt) -> None:
    value = cell_value(value)
    if value is None or value == "":
        return
    if isinstance(value, str):
        sheet.write_string(r, c, value)
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value)
    else:
        sheet.write_datetime(r, c, value, date_fmt)


def problems_xlsx(rows: Iterable[dict], *, title: str = "问题台账") -> bytes:
    buffer, book = _book()
    sheet = book.add_worksheet("问题台账")
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    for i, (_, _, width) in enumerate(LIST_COLUMNS):
        sheet.set_column(i, i, width)
    sheet.merge_range(0, 0, 0, len(LIST_COLUMNS) - 1, title, book.add_format(TITLE_FORMAT))
    sheet.write_row(1, 0, [h for _, h, _ in LIST_COLUMNS], book.add_format(HEAD_FORMAT))
    sheet.freeze_panes(2, 3)
    for n, row in enumerate(rows, start=1):
        for c, (key, _, _) in enumerate(LIST_COLUMNS):
            _write(sheet, n + 1, c, n if key == "index" else row.get(key), date_fmt)
    book.close()
    return buffer.getvalue()


def metrics_xlsx(figures: dict, *, title: str = "问题办理情况统计") -> bytes:
    """`figures` is selectors.metrics(...): its rows and the 合计 row."""
    buffer, book = _book()
    sheet = book.add_worksheet("统计")
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    bold = book.add_format({"bold": True})
    for i, (_, _, width) in enumerate(METRIC_COLUMNS):
        sheet.set_column(i, i, width)
    sheet.merge_range(0, 0, 0, len(METRIC_COLUMNS) - 1, title, book.add_format(TITLE_FORMAT))
    headers = [h.format(by_label=figures["by_label"]) for _, h, _ in METRIC_COLUMNS]
    sheet.write_row(1, 0, headers, book.add_format(HEAD_FORMAT))
    r = 2
    for row in [*figures["rows"], figures["total"]]:
        for c, (key, _, _) in enumerate(METRIC_COLUMNS):
            _write(sheet, r, c, row.get(key), date_fmt)
        r += 1
    sheet.set_row(r - 1, None, bold)
    book.close()
    return buffer.getvalue()
