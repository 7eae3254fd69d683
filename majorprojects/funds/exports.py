"""Funds as .xlsx: data in (rows from funds.selectors), bytes out.

- overview_xlsx: the overview by programme and by region (one sheet each, with a 合计 row);
- allocations_xlsx: the allocation ledger (下达台账) with arrived, transferred, paid, rate and pace;
- at_risk_xlsx: allocations at risk of recall with their reasons.

Amounts are numbers in 万元, rates numbers in percent; every text cell goes through
core.xlsx.cell_value, so nothing a user typed is read as a formula."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

import xlsxwriter

from majorprojects.core.xlsx import cell_value, safe_text
from majorprojects.projects.exports import HEAD_FORMAT, TITLE_FORMAT, Column

from .selectors import AllocationRow, GroupRow, RiskRow

GROUP_COLUMNS = [
    Column("label", "{label}", 22),
    Column("allocations", "下达笔数", 8, "int"),
    Column("projects", "项目数（个）", 8, "int"),
    Column("allocated", "下达金额（万元）", 14, "money"),
    Column("arrived", "到位金额（万元）", 14, "money"),
    Column("arrival_rate", "到位率（%）", 9, "pct"),
    Column("transferred", "拨付金额（万元）", 14, "money"),
    Column("paid", "支付金额（万元）", 14, "money"),
    Column("rate", "支付率（%）", 9, "pct"),
    Column("unpaid", "未支付（万元）", 14, "money"),
    Column("behind_count", "落后序时进度（笔）", 10, "int"),
    Column("behind_amount", "落后笔数下达金额（万元）", 14, "money"),
    Column("behind_gap", "落后进度差额（万元）", 14, "money"),
]

ALLOCATION_COLUMNS = [
    Column("index", "序号", 6, "int"),
    Column("project", "项目名称", 32),
    Column("region", "所在区域", 12),
    Column("programme", "资金渠道", 16),
    Column("batch", "批次", 14),
    Column("document_no", "下达文号", 24),
    Column("issued_on", "下达日期", 12, "date"),
    Column("amount", "下达金额（万元）", 14, "money"),
    Column("arrived", "到位（万元）", 12, "money"),
    Column("transferred", "拨付（万元）", 12, "money"),
    Column("paid", "支付（万元）", 12, "money"),
    Column("rate", "支付率（%）", 9, "pct"),
    Column("window_end", "应使用完毕日期", 12, "date"),
    Column("expected", "序时应支付（万元）", 14, "money"),
    Column("gap", "落后金额（万元）", 12, "money"),
    Column("gap_pp", "比序时进度（百分点）", 11, "pct"),
    Column("last_payment", "最近支付日期", 12, "date"),
    Column("flags", "数据提示", 16),
]

RISK_COLUMNS = [
    *ALLOCATION_COLUMNS[:8],
    Column("paid", "支付（万元）", 12, "money"),
    Column("unpaid", "未支付（万元）", 12, "money"),
    Column("stage", "项目阶段", 8),
    Column("reasons", "可能收回原因", 48),
]


class _Book:
    def __init__(self):
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(self.buffer, {"in_memory": True})
        self.title = self.book.add_format(TITLE_FORMAT)
        self.head = self.book.add_format(HEAD_FORMAT)
        self.formats = {
            "money": self.book.add_format({"num_format": "#,##0.00", "border": 1}),
            "pct": self.book.add_format({"num_format": "0.0", "border": 1}),
            "int": self.book.add_format({"num_format": "0", "border": 1}),
            "date": self.book.add_format({"num_format": "yyyy-mm-dd", "border": 1}),
            "text": self.book.add_format({"border": 1, "text_wrap": True}),
        }

    def sheet(self, name: str, title: str, columns: list[Column], rows: Iterable[dict], label: str = ""):
        sheet = self.book.add_worksheet(name)
        sheet.merge_range(0, 0, 0, len(columns) - 1, safe_text(title), self.title)
        for c, column in enumerate(columns):
            sheet.set_column(c, c, column.width)
            sheet.write_string(2, c, column.header.format(label=label), self.head)
        r = 3
        for row in rows:
            for c, column in enumerate(columns):
                value = cell_value(row.get(column.key))
                if value is None:
                    sheet.write_blank(r, c, None, self.formats[column.kind])
                elif isinstance(value, str):
                    sheet.write_string(r, c, value, self.formats["text"])
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, value, self.formats["date"])
                else:
                    sheet.write_number(r, c, value, self.formats[column.kind])
            r += 1
        sheet.freeze_panes(3, 1)
        return sheet

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def _group_dict(row: GroupRow, label: str | None = None) -> dict:
    return {**row, "label": label or row["label"]}


def overview_xlsx(*, as_of: date, by_programme: dict, by_region: dict) -> bytes:
    """`by_programme` / `by_region`: selectors.funds_overview results."""
    book = _Book()
    for name, overview in (("按资金渠道", by_programme), ("按区域", by_region)):
        rows = [_group_dict(r) for r in overview["rows"]] + [_group_dict(overview["total"], "合计")]
        book.sheet(
            name,
            f"资金下达与支付情况（{overview['by_label']}，截至 {as_of:%Y-%m-%d}）",
            GROUP_COLUMNS,
            rows,
            label=overview["by_label"],
        )
    return book.close()


def _allocation_dict(index: int, row: AllocationRow) -> dict:
    a = row["allocation"]
    pace = row["pace"]
    return {
        "index": index,
        "project": a.project.name,
        "region": a.project.region.label,
        "programme": a.programme.name,
        "batch": a.batch,
        "document_no": a.document_no,
        "issued_on": a.issued_on,
        "amount": row["amount"],
        "arrived": row["arrived"],
        "transferred": row["transferred"],
        "paid": row["paid"],
        "unpaid": row["unpaid"],
        "rate": row["rate"],
        "window_end": pace["window_end"],
        "expected": pace["expected"],
        "gap": pace["gap"] if pace["behind"] else None,
        "gap_pp": pace["gap_pp"],
        "last_payment": row["last_payment"],
        "flags": "；".join(row["flags"]),
        "stage": a.project.get_stage_display(),
    }


def allocations_xlsx(rows: list[AllocationRow], *, as_of: date) -> bytes:
    book = _Book()
    book.sheet(
        "资金下达台账",
        f"资金下达台账（截至 {as_of:%Y-%m-%d}）",
        ALLOCATION_COLUMNS,
        (_allocation_dict(i, r) for i, r in enumerate(rows, start=1)),
    )
    return book.close()


def at_risk_xlsx(risks: list[RiskRow], *, as_of: date) -> bytes:
    book = _Book()
    book.sheet(
        "可能收回资金",
        f"可能收回的资金清单（截至 {as_of:%Y-%m-%d}）",
        RISK_COLUMNS,
        (
            {**_allocation_dict(i, r["row"]), "reasons": "；".join(r["reasons"])}
            for i, r in enumerate(risks, start=1)
        ),
    )
    return book.close()
