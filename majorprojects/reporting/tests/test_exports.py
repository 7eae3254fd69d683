"""Dispatch exports read back with openpyxl: the overview workbook (pure: hand-made rows in,
bytes out) and the list of projects that have not reported for a period."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from majorprojects.factories import ProjectFactory
from majorprojects.projects.models import AnnualListing, ListKind, Project
from majorprojects.reporting import exports, selectors
from majorprojects.reporting.models import Report, Status
from majorprojects.reporting.periods import period_refresh_slots

FORMULA_STARTS = ("=", "+", "-", "@")


def _book(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def _strings(book) -> list[str]:
    return [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def _row(label, **values):
    """A selectors.Row with everything zero/empty except `values`."""
    row = {
        "key": label,
        "label": label,
        "projects": 0,
        "plan": Decimal("0.00"),
        "done_month": Decimal("0.00"),
        "done_prev_month": Decimal("0.00"),
        "done_ytd": Decimal("0.00"),
        "done_ytd_last_year": Decimal("0.00"),
        "plan_pct": None,
        "time_pct": Decimal("83.3"),
        "gap_pp": None,
        "gap_text": "—",
        "mom_pct": None,
        "yoy_pct": None,
        "new_planned": 0,
        "new_started": 0,
        "new_start_pct": None,
        "continuing": 0,
        "resumed": 0,
        "start_resume_pct": None,
        "completion_planned": 0,
        "completed": 0,
        "completion_pct": None,
    }
    return row | values


# Plan 36,000; October YTD 9,000 → 25.0%; time progress 83.3% → 落后时间进度 58.3 个百分点.
SUMMARY = _row(
    None,
    projects=2,
    plan=Decimal("36000.00"),
    done_month=Decimal("1234.56"),
    done_prev_month=Decimal("1000.00"),
    done_ytd=Decimal("9000.00"),
    done_ytd_last_year=Decimal("12000.00"),
    plan_pct=Decimal("25.0"),
    gap_pp=Decimal("-58.3"),
    gap_text="落后时间进度 58.3 个百分点",
    mom_pct=Decimal("23.5"),  # (1,234.56 − 1,000) / 1,000 = 23.456 → 23.5
    yoy_pct=Decimal("-25.0"),  # (9,000 − 12,000) / 12,000
    new_planned=1,
    new_started=1,
    new_start_pct=Decimal("100.0"),
    continuing=1,
    resumed=0,
    start_resume_pct=Decimal("50.0"),
)
TREND = {
    "months": [f"{m}月" for m in range(1, 13)],
    "this_year": [Decimal("0.00")] * 9 + [Decimal("9000.00"), Decimal("0.00"), Decimal("0.00")],
    "last_year": [Decimal("1000.00")] * 12,
    "cumulative": [Decimal("0.00")] * 9 + [Decimal("9000.00")] * 3,
    "plan": Decimal("36000.00"),
    "plan_pct": [Decimal("0.0")] * 9 + [Decimal("25.0")] * 3,
    "time_pct": [selectors.time_progress(2026, m) for m in range(1, 13)],
}


def _overview(tables=None):
    tables = tables or {
        "region": [
            _row(
                "临川区",
                projects=1,
                plan=Decimal("12000.00"),
                done_ytd=Decimal("9000.00"),
                plan_pct=Decimal("75.0"),
                gap_pp=Decimal("-8.3"),
            ),
            _row("青山县", projects=1, plan=Decimal("24000.00")),
        ]
    }
    return exports.overview_xlsx(
        title="2026年1-10月重大项目调度情况", year=2026, month=10, summary=SUMMARY, tables=tables, trend=TREND
    )


def test_overview_summary_sheet_reads_back():
    sheet = _book(_overview())["汇总"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert sheet["A1"].value == "2026年1-10月重大项目调度情况"
    assert values["年度计划投资（万元）"] == 36000 and values["年度计划投资（亿元）"] == 3.6
    assert values["本年累计完成（万元）"] == 9000 and values["本年累计完成（亿元）"] == 0.9
    assert values["完成年度计划（%）"] == 25 and values["时间进度（%）"] == 83.3
    assert values["与时间进度比较"] == "落后时间进度 58.3 个百分点"
    assert values["本月完成（万元）"] == 1234.56 and values["环比（%）"] == 23.5
    assert values["同比（%）"] == -25
    assert values["竣工率（%）"] is None  # nothing planned to complete: left blank, not 0
    assert len(values) == len(exports.SUMMARY_ITEMS)


def test_overview_dimension_sheet_has_the_page_columns_and_a_total_from_the_summary():
    sheet = _book(_overview())["按区域"]
    assert sheet["A1"].value == "2026年1-10月重大项目调度情况（按区域）"
    assert sheet["A2"].value == "单位：万元；时间进度 83.3%"
    assert [c.value for c in sheet[3]] == [c.header.format(label="区域") for c in exports.TABLE_COLUMNS]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows[0][:9] == ("临川区", 1, 12000, 0, None, 9000, None, 75, -8.3)
    assert rows[1][:3] == ("青山县", 1, 24000)
    # 合计 is the summary (2 projects, 36,000), whatever the rows hold
    assert rows[2][:9] == ("合计", 2, 36000, 1234.56, 23.5, 9000, -25, 25, -58.3)
    assert rows[2][9:12] == (1, 1, 100) and rows[2][12:15] == (1, 0, 50)
    money, pct, gap = sheet["C4"], sheet["H4"], sheet["I4"]
    assert (
        money.number_format == "#,##0.00"
        and pct.number_format == "0.0"
        and gap.number_format == "+0.0;-0.0;0.0"
    )
    assert sheet.freeze_panes == "B4"


def test_overview_sheets_follow_the_tables_order_and_only_programmes_get_the_note():
    tables = {"programme": [_row("中央预算内投资")], "region": [_row("临川区")]}
    book = _book(_overview(tables))
    assert book.sheetnames == ["汇总", "按资金渠道", "按区域", "走势"]
    note = [v for v in _strings(book) if "各渠道之和可能大于合计" in v]
    assert len(note) == 1 and note[0] in [c.value for row in book["按资金渠道"].iter_rows() for c in row]


def test_overview_trend_sheet_stops_at_the_chosen_month():
    sheet = _book(_overview())["走势"]
    assert sheet["A2"].value == "单位：万元；2026年计划投资 36,000.00 万元"
    assert [c.value for c in sheet[3]] == [
        "月份",
        "2026年当月完成（万元）",
        "2025年同月完成（万元）",
        "2026年累计完成（万元）",
        "累计完成占年度计划（%）",
        "时间进度（%）",
    ]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["1月"] == (0, 1000, 0, 0, 8.3)
    assert rows["10月"] == (9000, 1000, 9000, 25, 83.3)
    assert rows["11月"] == (None, 1000, None, None, 91.7)


def test_overview_labels_that_look_like_formulas_stay_text():
    tables = {
        "work_group": [_row('=HYPERLINK("http://evil.example","点我")'), _row("@SUM(A1)")],
        "leader": [_row("-王副市长"), _row("+1")],
    }
    book = _book(_overview(tables))
    strings = _strings(book)
    assert '\'=HYPERLINK("http://evil.example","点我")' in strings and "'-王副市长" in strings
    assert not [s for s in strings if s.startswith(FORMULA_STARTS)]
    assert not [c for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]


# --- 未报送项目清单 ---------------------------------------------------------------------------


@pytest.fixture
def missing(october, listed, city, users, monkeypatch):
    """October 2026: a submitted; b untouched; "=cmd" (临川区) saved as a draft only."""
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 10, 30))
    a, b = listed["a"], listed["b"]
    Project.objects.filter(pk=b.pk).update(
        contact_name="李四",
        contact_phone="0731-87654321",
        responsible_department=city["jtj"],
        code="2026-431921-48-01-000002",
    )
    evil = ProjectFactory(
        name="=cmd|' /C calc'!A0",
        owner_unit=city["owner_a"],
        sector=city["industry"],
        contact_name="@王五",
        contact_phone="+8613800000000",
    )
    AnnualListing.objects.create(
        project=evil, year=2026, list_kind=ListKind.CONSTRUCTION, planned_investment=Decimal("100")
    )
    period_refresh_slots(october)
    Report.objects.filter(period=october, project=a).update(
        status=Status.SUBMITTED, submitted_at=timezone.now()
    )
    Report.objects.filter(period=october, project=evil).update(status=Status.DRAFT)
    return {"period": october, "evil": evil, **listed}


def test_missing_list_reads_back_with_contacts(missing):
    period = missing["period"]
    reports = selectors.missing_reports(period, Report.objects.all())
    sheet = _book(exports.missing_xlsx(period, reports))["未报送项目"]
    assert sheet["A1"].value == "2026年10月未报送项目清单"
    assert sheet["A2"].value == "截止日期：2026-10-28；未报送 2 个项目"
    assert [c.value for c in sheet[3]] == [
        "序号",
        "区域",
        "项目名称",
        "项目代码",
        "项目单位",
        "责任部门",
        "联系人",
        "联系电话",
        "截止日期",
        "状态",
    ]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 2  # a has reported
    first, second = rows
    # ordered by region then name: 临川区 before 青山县
    assert first[:3] == (1, "临川区", "'=cmd|' /C calc'!A0")
    assert first[4:] == ("临川建设投资有限公司", None, "'@王五", "'+8613800000000", first[8], "草稿")
    assert second == (
        2,
        "青山县",
        "青山县环城公路",
        "2026-431921-48-01-000002",
        "青山县城市发展集团有限公司",
        "云江市交通运输局",
        "李四",
        "0731-87654321",
        second[8],
        "待填报",
    )
    assert first[8].date() == second[8].date() == date(2026, 10, 28)
    assert sheet["I4"].number_format == "yyyy-mm-dd"


def test_missing_list_never_starts_a_cell_with_a_formula_character(missing):
    period = missing["period"]
    book = _book(exports.missing_xlsx(period, selectors.missing_reports(period, Report.objects.all())))
    strings = _strings(book)
    assert strings and not [s for s in strings if s.startswith(FORMULA_STARTS)]
    assert not [c for row in book.active.iter_rows() for c in row if c.data_type == "f"]


def test_missing_list_of_nobody(missing):
    period = missing["period"]
    Report.objects.filter(period=period).update(submitted_at=timezone.now(), status=Status.SUBMITTED)
    sheet = _book(exports.missing_xlsx(period, selectors.missing_reports(period, Report.objects.all())))[
        "未报送项目"
    ]
    assert sheet["A2"].value == "截止日期：2026-10-28；未报送 0 个项目"
    assert sheet.max_row == 3


def test_missing_list_reads_its_rows_without_extra_queries(missing, django_assert_num_queries):
    """The selector's select_related covers every column: one query for the rows."""
    period = missing["period"]
    reports = selectors.missing_reports(period, Report.objects.all())
    with django_assert_num_queries(1):
        exports.missing_xlsx(period, reports)
