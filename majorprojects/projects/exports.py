"""Project ledger as .xlsx: data in, bytes out. The same columns for the list page's export, the
`export_projects` command and the import template, so an exported file can be imported back."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import xlsxwriter

from majorprojects.core.xlsx import cell_value

from .models import ApprovalRegime, KeyLevel, ListKind, Stage


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int = 14
    kind: str = "text"  # text | money | date | int


COLUMNS = [
    Column("index", "序号", 6, "int"),
    Column("name", "项目名称", 36),
    Column("code", "项目代码", 26),
    Column("region", "所在区域", 12),
    Column("owner_unit", "项目单位", 28),
    Column("sector", "项目类别", 10),
    Column("industry", "所属行业", 12),
    Column("content", "建设内容及规模", 40),
    Column("address", "建设地点", 20),
    Column("approval_regime", "审批类型", 8),
    Column("years", "建设起止年限", 12),
    Column("total_investment", "总投资（万元）", 14, "money"),
    Column("planned_investment", "{year}年计划投资（万元）", 16, "money"),
    Column("list_kind", "库别", 12),
    Column("key_level", "重点级别", 8),
    Column("new_start", "新开工/续建", 10),
    Column("planned_start_date", "计划开工日期", 12, "date"),
    Column("planned_completion_date", "计划竣工日期", 12, "date"),
    Column("stage", "项目阶段", 8),
    Column("actual_start_date", "实际开工日期", 12, "date"),
    Column("actual_completion_date", "实际竣工日期", 12, "date"),
    Column("responsible_department", "责任部门", 16),
    Column("package_leader", "包联领导", 10),
    Column("work_group", "工作专班", 14),
    Column("contact_name", "项目负责人", 10),
    Column("contact_phone", "联系电话", 14),
    Column("private", "民间投资", 8),
    Column("high_tech", "高技术产业", 8),
    Column("tags", "标签", 16),
    Column("parent", "所属打包项目", 24),
]

# Cell formats shared by the export and the import template, so both look like one ledger.
TITLE_FORMAT = {"bold": True, "font_size": 16, "align": "center"}
HEAD_FORMAT = {
    "bold": True,
    "bg_color": "#DCE6F1",
    "border": 1,
    "text_wrap": True,
    "align": "center",
    "valign": "vcenter",
}

_REGIME = dict(ApprovalRegime.choices)
_LIST = dict(ListKind.choices)
_KEY = dict(KeyLevel.choices)
_STAGE = dict(Stage.choices)


def headers(year: int) -> list[str]:
    return [c.header.format(year=year) for c in COLUMNS]


def _years(row: dict) -> str:
    start, end = row.get("start_year"), row.get("end_year")
    if start and end:
        return f"{start}-{end}"
    return str(start or end or "")


def row_values(index: int, row: dict) -> list:
    """One export row from a selectors.export_rows dict, in COLUMNS order."""
    new_start = row.get("year_new_start")
    return [
        index,
        row["name"],
        row.get("code") or "",
        row.get("region__name") or "",
        row.get("owner_unit__name") or "",
        row.get("sector__name") or "",
        row.get("industry__name") or "",
        row.get("content") or "",
        row.get("address") or "",
        _REGIME.get(row.get("approval_regime"), ""),
        _years(row),
        row.get("total_investment"),
        row.get("year_plan"),
        _LIST.get(row.get("year_list_kind"), "") if row.get("year_list_kind") else "",
        _KEY.get(row.get("year_key_level") or "", "") if row.get("year_key_level") else "",
        "" if new_start is None else ("新开工" if new_start else "续建"),
        row.get("planned_start_date"),
        row.get("planned_completion_date"),
        _STAGE.get(row.get("stage"), ""),
        row.get("actual_start_date"),
        row.get("actual_completion_date"),
        row.get("responsible_department__name") or "",
        row.get("package_leader__name") or "",
        row.get("work_group__name") or "",
        row.get("contact_name") or "",
        row.get("contact_phone") or "",
        "是" if row.get("is_private_investment") else "否",
        "是" if row.get("is_high_tech") else "否",
        row.get("tags") or "",
        row.get("parent__name") or "",
    ]


def projects_xlsx(rows: Iterable[dict], *, year: int, title: str, totals: dict | None = None) -> bytes:
    """The ledger: a title row, a unit row, one header row, the projects, and a 合计 row.

    Amounts are numbers in 万元; text never starts a formula (core.xlsx.cell_value)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"constant_memory": True, "in_memory": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet("项目清单")
    title_fmt = book.add_format(TITLE_FORMAT)
    head_fmt = book.add_format(HEAD_FORMAT)
    money_fmt = book.add_format({"num_format": "#,##0.00"})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    total_fmt = book.add_format({"bold": True, "num_format": "#,##0.00"})
    for i, column in enumerate(COLUMNS):
        sheet.set_column(i, i, column.width)
    sheet.merge_range(0, 0, 0, len(COLUMNS) - 1, title, title_fmt)
    sheet.write_string(1, 0, "单位：万元")
    sheet.write_row(2, 0, headers(year), head_fmt)
    sheet.freeze_panes(3, 2)
    r = 3
    for index, row in enumerate(rows, start=1):
        for c, (column, value) in enumerate(zip(COLUMNS, row_values(index, row), strict=True)):
            value = cell_value(value)
            if value is None or value == "":
                continue
            if column.kind == "money":
                sheet.write_number(r, c, value, money_fmt)
            elif column.kind == "date":
                sheet.write_datetime(r, c, value, date_fmt)
            elif column.kind == "int":
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
        r += 1
    if totals is not None:
        sheet.write_string(r, 1, f"合计（{totals['count']}个）")
        keys = [c.key for c in COLUMNS]
        sheet.write_number(r, keys.index("total_investment"), float(totals["total_investment"]), total_fmt)
        sheet.write_number(
            r, keys.index("planned_investment"), float(totals["planned_investment"]), total_fmt
        )
    book.close()
    return buffer.getvalue()
