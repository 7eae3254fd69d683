"""The dispatch overview page and its Excel export, against a small hand-worked data set.

The data set (today is 2026-11-05, so October 2026 is the latest month past its deadline):

project              region  2026 listing                         2026 reports (status)
a 临川新材料产业园   临川区  plan 12,000, continuing (started      Mar 1,000 (locked), Sep 2,000 (approved),
                             2025-03-01), planned completion        Oct 3,000 (submitted); completed 2026-10-15
                             2026-09-30
b 青山县环城公路     青山县  plan 24,000, new start planned         Jul 700 (returned: not counted),
                             2026-03-15, started 2026-04-10         Aug 4,000 (draft: not counted),
                                                                    Sep 500 (approved), Oct 3,500 (submitted)
c 青山县污水处理厂   青山县  plan 4,000, new start planned          Oct slot pending
                             2026-06-30 (not started), planned
                             completion 2026-10-31
zone 经开区标准厂房  经开区  reserve list, plan 0                   —
                     (临川区)

a also reported in 2025 (all locked): Mar 5,000, Oct 3,000, Nov 1,000.

Hand-worked October 2026 figures for the whole city:
- plan 12,000 + 24,000 + 4,000 = 40,000 万元 (4.00 亿元), 4 listed projects;
- year to date 1,000 + 2,000 + 3,000 + 500 + 3,500 = 10,000 (1.00 亿元) → 10,000 / 40,000 = 25.0%;
- time progress 10/12 = 83.3% → 25.0 − 83.3 = −58.3 → "落后时间进度 58.3 个百分点";
- October 3,000 + 3,500 = 6,500; September 2,000 + 500 = 2,500 → 环比 (6,500 − 2,500)/2,500 = +160.0%;
- 2025 Jan–Oct 5,000 + 3,000 = 8,000 (Nov not counted) → 同比 (10,000 − 8,000)/8,000 = +25.0%;
- new starts planned by Oct 31: b, c = 2; started: b = 1 → 50.0%;
- 开复工: (new started 1 + continuing a with money 1) / (2 + 1) = 66.7%;
- completion planned by Oct 31: a (Sep 30), c (Oct 31) = 2; completed: a = 1 → 50.0%.
By region: 临川区 (a, zone) plan 12,000, YTD 6,000 → 50.0%, −33.3; Oct 3,000 vs Sep 2,000 → +50.0%;
2025 8,000 → 同比 (6,000 − 8,000)/8,000 = −25.0%. 青山县 (b, c) plan 28,000, YTD 4,000 → 14.3%
(4,000/28,000 = 14.29), −69.0; Oct 3,500 vs Sep 500 → +600.0%; no 2025 → 同比 —.
Funds, Jan–Oct: special bond arrived 1,000 paid 800 (a, Oct); central budget arrived 300 paid 200
(b, Sep); b's draft August funds (9,999) do not count.
"""

import io
import re
import threading
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from majorprojects.factories import ProjectFactory
from majorprojects.projects.models import AnnualListing, ListKind, Project, ProjectFunding, Stage
from majorprojects.projects.tests.browser import conftest as browser_conftest
from majorprojects.reporting import selectors
from majorprojects.reporting.models import Period, Report, ReportFunds, Status
from majorprojects.reporting.overview_views import default_month
from majorprojects.reporting.periods import open_periods
from majorprojects.reporting.totals import year_done_rebuild

TODAY = date(2026, 11, 5)


def _today(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *a: day)


def _put(project, year, month, amount, status, funds=None):
    report = Report.objects.get(project=project, period__year=year, period__number=month)
    report.investment = Decimal(amount)
    report.status = status
    report.submitted_at = timezone.now()
    report.save()
    for source, (arrived, paid) in (funds or {}).items():
        ReportFunds.objects.create(report=report, source=source, arrived=arrived, paid=paid)


@pytest.fixture
def dispatch(monthly, listed, users, city, monkeypatch):
    """The data set of the module docstring."""
    _today(monkeypatch, TODAY)
    a, b = listed["a"], listed["b"]
    Project.objects.filter(pk=a.pk).update(
        stage=Stage.COMPLETED, actual_start_date=date(2025, 3, 1), actual_completion_date=date(2026, 10, 15)
    )
    AnnualListing.objects.filter(project=a, year=2026).update(planned_completion=date(2026, 9, 30))
    Project.objects.filter(pk=b.pk).update(stage=Stage.CONSTRUCTION, actual_start_date=date(2026, 4, 10))
    c = ProjectFactory(
        name="青山县污水处理厂",
        owner_unit=city["owner_b"],
        sector=city["infra"],
        total_investment=Decimal("6000"),
    )
    AnnualListing.objects.create(
        project=c,
        year=2026,
        list_kind=ListKind.CONSTRUCTION,
        planned_investment=Decimal("4000"),
        is_new_start=True,
        planned_start=date(2026, 6, 30),
        planned_completion=date(2026, 10, 31),
    )
    open_periods(TODAY)
    _put(a, 2026, 3, "1000", Status.LOCKED)
    _put(a, 2026, 9, "2000", Status.APPROVED)
    _put(a, 2026, 10, "3000", Status.SUBMITTED, {"special_bond": ("1000", "800")})
    _put(b, 2026, 7, "700", Status.RETURNED)
    _put(b, 2026, 8, "4000", Status.DRAFT, {"special_bond": ("9999", "9999")})
    _put(b, 2026, 9, "500", Status.APPROVED, {"central_budget": ("300", "200")})
    _put(b, 2026, 10, "3500", Status.SUBMITTED)
    for month, amount in ((3, "5000"), (10, "3000"), (11, "1000")):
        period = Period.objects.create(
            schedule=monthly,
            frequency=monthly.frequency,
            year=2025,
            number=month,
            label=f"2025年{month}月",
            starts_on=date(2025, month, 1),
            ends_on=selectors.month_end(2025, month),
            due_on=date(2025, month, 28),
            late_after=date(2025, month, 28),
        )
        Report.objects.create(
            period=period,
            project=a,
            period_end=period.ends_on,
            investment=Decimal(amount),
            status=Status.LOCKED,
        )
    # a is funded by two programmes, b by one: the 资金渠道 table counts a twice.
    ProjectFunding.objects.create(project=a, source="special_bond", amount=Decimal("10000"))
    ProjectFunding.objects.create(project=a, source="central_budget", amount=Decimal("5000"))
    ProjectFunding.objects.create(project=b, source="central_budget", amount=Decimal("20000"))
    year_done_rebuild()  # the reports above were written directly, not through the services
    return {**listed, "c": c}


def _rows(response) -> dict:
    return {row["label"]: row for row in response.context["rows"]}


def _text(html: str) -> str:
    """The page's visible text, whitespace collapsed (numbers are checked as a person reads them)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the default month --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 5), (2026, 10)),  # October was due on the 28th: its figures are in
        (date(2026, 10, 28), (2026, 9)),  # the deadline day itself is not past
        (date(2026, 10, 29), (2026, 10)),
    ],
)
def test_default_month_is_the_latest_past_its_deadline(dispatch, today, expected):
    assert default_month(today) == expected


def test_default_month_without_periods_is_the_current_month(db):
    assert default_month(date(2026, 11, 23)) == (2026, 11)


def test_page_opens_on_the_default_month(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/")
    selection = response.context["selection"]
    assert (selection.year, selection.month, selection.by) == (2026, 10, "region")
    assert "2026年1-10月" in response.content.decode()


# --- the city's figures -------------------------------------------------------------------------


def test_headline_cards_show_hand_worked_figures(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2026, "month": 10})
    s = response.context["summary"]
    assert s["plan"] == Decimal("40000") and s["done_ytd"] == Decimal("10000")
    assert (s["plan_pct"], s["time_pct"], s["gap_pp"]) == (Decimal("25.0"), Decimal("83.3"), Decimal("-58.3"))
    assert (s["done_month"], s["done_prev_month"], s["mom_pct"]) == (
        Decimal("6500"),
        Decimal("2500"),
        Decimal("160.0"),
    )
    assert (s["done_ytd_last_year"], s["yoy_pct"]) == (Decimal("8000"), Decimal("25.0"))
    assert (s["new_planned"], s["new_started"], s["new_start_pct"]) == (2, 1, Decimal("50.0"))
    assert s["start_resume_pct"] == Decimal("66.7")
    assert (s["completion_planned"], s["completed"], s["completion_pct"]) == (2, 1, Decimal("50.0"))
    text = _text(response.content.decode())
    for expected in (
        "年度计划投资 4.00 亿元 40,000.00 万元 · 4 个项目",
        "1.00 亿元 10,000.00 万元 · 同比 +25.0% （上年同期 8,000.00 万元）",
        "完成年度计划 25.0% 时间进度 83.3% · 落后时间进度 58.3 个百分点",
        "6,500.00 万元 环比 +160.0% （上月 2,500.00 万元）",
        "新开工率 50.0% 计划10月底前新开工 2 个，已开工 1 个",
        "开复工率 66.7%",
        "竣工率 50.0% 计划10月底前竣工 2 个，已竣工 1 个",
    ):
        assert expected in text, expected


def test_region_table_rows_and_total(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2026, "month": 10, "by": "region"})
    rows = _rows(response)
    assert list(rows) == ["临川区", "青山县"]
    linchuan, qingshan = rows["临川区"], rows["青山县"]
    assert (linchuan["projects"], linchuan["plan"], linchuan["done_ytd"]) == (
        2,
        Decimal("12000"),
        Decimal("6000"),
    )
    assert (linchuan["plan_pct"], linchuan["gap_pp"]) == (Decimal("50.0"), Decimal("-33.3"))
    assert (linchuan["mom_pct"], linchuan["yoy_pct"]) == (Decimal("50.0"), Decimal("-25.0"))
    assert (qingshan["plan"], qingshan["done_ytd"], qingshan["plan_pct"]) == (
        Decimal("28000"),
        Decimal("4000"),
        Decimal("14.3"),
    )
    assert (qingshan["gap_pp"], qingshan["mom_pct"], qingshan["yoy_pct"]) == (
        Decimal("-69.0"),
        Decimal("600.0"),
        None,
    )
    assert (qingshan["new_started"], qingshan["new_planned"], qingshan["completion_pct"]) == (
        1,
        2,
        Decimal("0.0"),
    )
    text = _text(response.content.decode())
    assert "临川区 2 12,000.00 3,000.00 +50.0% 6,000.00 -25.0% 50.0% -33.3 0/0 — 100.0% 1/1 100.0%" in text
    assert "青山县 2 28,000.00 3,500.00 +600.0% 4,000.00 — 14.3% -69.0 1/2 50.0% 50.0% 0/1 0.0%" in text
    # the total row is the summary of all projects, not a sum made by the template
    assert "合计 4 40,000.00 6,500.00 +160.0% 10,000.00 +25.0% 25.0% -58.3 1/2 50.0% 66.7% 1/2 50.0%" in text


def test_programme_rows_count_a_project_under_each_of_its_programmes(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2026, "month": 10, "by": "programme"})
    rows = _rows(response)
    # a (YTD 6,000) is under both programmes, b (4,000) under central budget; c and zone have none
    assert rows["中央预算内投资"]["done_ytd"] == Decimal("10000")
    assert rows["地方政府专项债券"]["done_ytd"] == Decimal("6000")
    assert rows["未填资金来源"]["plan"] == Decimal("4000")
    assert response.context["summary"]["done_ytd"] == Decimal("10000")  # not 16,000
    assert "各渠道之和可能大于合计" in response.content.decode()


@pytest.mark.parametrize("by", list(selectors.DIMENSIONS))
def test_every_dimension_renders_with_the_same_total(client, users, dispatch, by):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2026, "month": 10, "by": by})
    assert response.status_code == 200
    assert f"<th>{selectors.DIMENSIONS[by]}</th>" in response.content.decode()
    assert "合计 4 40,000.00 6,500.00" in _text(response.content.decode())


def test_dimension_switch_returns_only_the_table(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get(
        "/dispatch/",
        {"year": 2026, "month": 10, "by": "sector"},
        headers={"HX-Request": "true", "HX-Target": "dimension"},
    )
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="dimension-table"' in html
    assert list(_rows(response)) == ["产业项目", "基础设施"]
    # the export link follows the chosen grouping
    assert 'data-href="/dispatch/export/?year=2026&amp;month=10&amp;by=sector"' in html
    assert (
        'class="nav-link text-nowrap active" href="/dispatch/?year=2026&amp;month=10&amp;by=sector"' in html
    )


def test_trend_chart_and_funds(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2026, "month": 10})
    chart = response.context["chart"]
    assert chart["unit"] == "万元"  # the largest month, 6,500 万元, reads better in 万元
    assert chart["this_year"] == ["0.00", "0.00", "1000.00"] + ["0.00"] * 5 + [
        "2500.00",
        "6500.00",
        None,
        None,
    ]
    assert chart["last_year"][2] == "5000.00" and chart["last_year"][9] == "3000.00"
    # cumulative: Mar 1,000 → 2.5%; Sep 3,500 → 8.75 → 8.8%; Oct 10,000 → 25.0%; nothing after October
    assert chart["plan_pct"][2] == "2.5" and chart["plan_pct"][8] == "8.8" and chart["plan_pct"][9] == "25.0"
    assert chart["plan_pct"][10:] == [None, None]
    assert chart["time_pct"][9] == "83.3" and chart["time_pct"][11] == "100.0"
    html = response.content.decode()
    assert 'id="dispatch-trend-data"' in html and 'data-chart="dispatch-trend"' in html
    funds = {f["label"]: (f["arrived"], f["paid"]) for f in response.context["funds"]}
    assert funds == {
        "中央预算内投资": (Decimal("300"), Decimal("200")),
        "地方政府专项债券": (Decimal("1000"), Decimal("800")),
    }
    text = _text(html)
    assert "地方政府专项债券 1,000.00 800.00" in text
    # the chart's figures as a table under it
    assert "10月 6,500.00 3,000.00 10,000.00 25.0% 83.3%" in text
    assert "11月 — 1,000.00 — — 91.7%" in text


def test_chart_switches_to_yi_for_large_months(client, users, dispatch):
    Report.objects.filter(project=dispatch["b"], period__year=2026, period__number=10).update(
        investment=Decimal("23500")
    )
    year_done_rebuild()  # written directly, not through the services
    client.force_login(users["admin"])
    chart = client.get("/dispatch/", {"year": 2026, "month": 10}).context["chart"]
    assert chart["unit"] == "亿元" and chart["this_year"][9] == "2.65"  # 3,000 + 23,500 万元


def test_an_earlier_month(client, users, dispatch):
    """September: YTD 1,000 + 2,000 + 500 = 3,500 → 8.8% of 40,000; time 75.0% → 落后 66.2."""
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2026, "month": 9})
    s = response.context["summary"]
    assert (s["done_ytd"], s["plan_pct"], s["gap_text"]) == (
        Decimal("3500"),
        Decimal("8.8"),
        "落后时间进度 66.2 个百分点",
    )
    assert "2026年1-9月" in response.content.decode()


def test_bad_parameters_fall_back_with_a_chinese_message(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": "二〇二六", "month": "13", "by": "colour"})
    assert response.status_code == 200
    selection = response.context["selection"]
    assert (selection.year, selection.month, selection.by) == (2026, 10, "region")
    text = _text(response.content.decode())
    assert "以下条件无效，已改用默认值" in text
    assert "年度：年度应为四位数字年份" in text and "月份：月份应在 1 到 12 之间" in text
    assert "分组：分组方式只能是" in text


def test_a_past_year_without_month_shows_its_december(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/", {"year": 2025})
    selection = response.context["selection"]
    assert (selection.year, selection.month) == (2025, 12)
    # 2025: no listings (plan 0, % of plan "—"); done 5,000 + 3,000 + 1,000 = 9,000
    s = response.context["summary"]
    assert s["done_ytd"] == Decimal("9000") and s["plan_pct"] is None and s["gap_text"] == "—"


# --- scope --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account", "plan", "ytd", "plan_pct"),
    [
        ("admin", "40000", "10000", "25.0"),
        ("leader", "40000", "10000", "25.0"),
        # the county of 临川区 reviews a and zone: 6,000 / 12,000
        ("linchuan", "12000", "6000", "50.0"),
        # the project unit owns a and zone
        ("owner_a", "12000", "6000", "50.0"),
        # 青山县: b and c, 4,000 / 28,000
        ("qingshan", "28000", "4000", "14.3"),
        # the transport bureau governs b only: 4,000 / 24,000 = 16.7
        ("jtj", "24000", "4000", "16.7"),
    ],
)
def test_each_account_counts_only_what_it_may_see(client, users, dispatch, account, plan, ytd, plan_pct):
    client.force_login(users[account])
    s = client.get("/dispatch/", {"year": 2026, "month": 10}).context["summary"]
    assert (s["plan"], s["done_ytd"], s["plan_pct"]) == (Decimal(plan), Decimal(ytd), Decimal(plan_pct))


def test_county_overview_groups_its_own_subtree(client, users, dispatch):
    """临川区: a on the district itself (本级), zone in the development zone below it."""
    client.force_login(users["linchuan"])
    response = client.get("/dispatch/", {"year": 2026, "month": 10, "by": "region"})
    rows = _rows(response)
    assert list(rows) == ["临川区（本级）", "云江经济技术开发区"]
    assert rows["临川区（本级）"]["done_ytd"] == Decimal("6000")
    assert rows["云江经济技术开发区"]["projects"] == 1 and rows["云江经济技术开发区"]["plan_pct"] is None
    text = _text(response.content.decode())
    assert "落后时间进度 33.3 个百分点" in text
    assert "青山县" not in text and "28,000.00" not in text


def test_auditor_cannot_see_the_overview_or_export(client, users, dispatch):
    client.force_login(users["auditor"])
    assert client.get("/dispatch/").status_code == 403
    assert client.get("/dispatch/export/").status_code == 403


def test_anonymous_is_sent_to_login(client, dispatch):
    response = client.get("/dispatch/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_query_count_is_bounded(client, users, dispatch, city, django_assert_max_num_queries):
    """Session (read, save: 4), user, default month, summary (2), table (2 + region labels 3),
    trend (2), funds, the navbar's region: the same however many projects and reports there are."""
    for i in range(30):
        project = ProjectFactory(name=f"批量项目{i}", owner_unit=city["owner_b"], sector=city["infra"])
        AnnualListing.objects.create(
            project=project, year=2026, list_kind=ListKind.CONSTRUCTION, planned_investment=Decimal("100")
        )
    open_periods(TODAY)
    Report.objects.filter(period__year=2026, status=Status.PENDING).update(
        status=Status.SUBMITTED, investment=Decimal("1")
    )
    client.force_login(users["admin"])
    with django_assert_max_num_queries(17):
        assert client.get("/dispatch/").status_code == 200
    client.force_login(users["linchuan"])
    with django_assert_max_num_queries(14):
        assert client.get("/dispatch/", {"by": "department"}).status_code == 200


# --- the export ---------------------------------------------------------------------------------


def _workbook(response):
    assert response.streaming  # FileResponse
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _find(sheet, label):
    for row in sheet.iter_rows(values_only=True):
        if row and row[0] == label:
            return row
    raise AssertionError(f"{label} not in {sheet.title}")


def test_export_keeps_the_month_and_grouping_with_hand_worked_figures(client, users, dispatch):
    client.force_login(users["admin"])
    response = client.get("/dispatch/export/", {"year": 2026, "month": 10, "by": "sector"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "调度总览_2026年10月_" in unquote(response["Content-Disposition"])
    book = _workbook(response)
    names = [s.title for s in book.worksheets]
    assert names[:3] == ["汇总", "按项目类别", "按区域"] and names[-1] == "走势" and len(names) == 10

    summary = book["汇总"]
    assert summary["A1"].value == "2026年1-10月重大项目调度情况"
    assert _find(summary, "年度计划投资（万元）")[1] == 40000
    assert _find(summary, "年度计划投资（亿元）")[1] == 4
    assert _find(summary, "本年累计完成（万元）")[1] == 10000
    assert _find(summary, "完成年度计划（%）")[1] == 25
    assert _find(summary, "时间进度（%）")[1] == 83.3
    assert _find(summary, "与时间进度比较")[1] == "落后时间进度 58.3 个百分点"
    assert _find(summary, "环比（%）")[1] == 160 and _find(summary, "同比（%）")[1] == 25
    assert _find(summary, "新开工率（%）")[1] == 50 and _find(summary, "开复工率（%）")[1] == 66.7
    assert _find(summary, "竣工率（%）")[1] == 50

    region = book["按区域"]
    assert [c.value for c in region[3]][:9] == [
        "区域",
        "项目数（个）",
        "年度计划投资（万元）",
        "本月完成（万元）",
        "环比（%）",
        "本年累计完成（万元）",
        "同比（%）",
        "完成年度计划（%）",
        "比时间进度（百分点）",
    ]
    assert _find(region, "临川区")[:9] == ("临川区", 2, 12000, 3000, 50, 6000, -25, 50, -33.3)
    assert _find(region, "青山县")[:9] == ("青山县", 2, 28000, 3500, 600, 4000, None, 14.3, -69)
    assert _find(region, "合计")[:9] == ("合计", 4, 40000, 6500, 160, 10000, 25, 25, -58.3)
    assert region["C5"].number_format == "#,##0.00"

    programme = book["按资金渠道"]
    assert _find(programme, "地方政府专项债券")[5] == 6000
    assert any(
        "各渠道之和可能大于合计" in str(c) for row in programme.iter_rows(values_only=True) for c in row if c
    )

    trend = book["走势"]
    assert _find(trend, "3月")[1:] == (1000, 5000, 1000, 2.5, 25)
    assert _find(trend, "10月")[1:] == (6500, 3000, 10000, 25, 83.3)
    assert _find(trend, "11月")[1:] == (None, 1000, None, None, 91.7)  # after October: nothing yet


@pytest.mark.parametrize(
    ("account", "ytd", "hidden"),
    [("linchuan", 6000, "青山"), ("owner_a", 6000, "青山"), ("jtj", 4000, "临川")],
)
def test_export_counts_only_what_the_account_may_see(client, users, dispatch, account, ytd, hidden):
    client.force_login(users[account])
    book = _workbook(client.get("/dispatch/export/", {"year": 2026, "month": 10}))
    assert _find(book["汇总"], "本年累计完成（万元）")[1] == ytd
    cells = [c for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row if c]
    assert not any(hidden in str(c) for c in cells)


# --- in a browser -------------------------------------------------------------------------------


def _walk_in_own_chromium(base_url: str, walk) -> None:
    """Run `walk(page)` on a Chromium of its own in a thread of its own: Playwright's sync API
    allows one instance per thread, and the project library's session browser may be open in
    this one. Console errors (a CSP violation, a script error) fail the walk."""
    outcome = {}

    def run():
        try:
            with sync_playwright() as p:
                chromium = p.chromium.launch(
                    executable_path=browser_conftest.CHROMIUM, args=browser_conftest.ARGS
                )
                context = chromium.new_context(
                    locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True
                )
                context.set_default_timeout(15000)
                page = context.new_page()
                errors = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
                page.base = base_url
                try:
                    walk(page)
                finally:
                    context.close()
                    chromium.close()
                assert not errors, f"browser errors: {errors}"
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(180)
    assert not thread.is_alive(), "the browser walk did not finish"
    if "error" in outcome:
        raise outcome["error"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_county_reader_switches_grouping_and_downloads(live_server, users, dispatch, password):
    """The chart draws under the CSP, the grouping switches in place (the month form and the
    export link follow it), and the download holds the chosen month."""
    downloaded = {}

    def walk(page):
        browser_conftest.sign_in(page, "linchuan", password)
        page.goto(f"{page.base}/dispatch/")
        expect(page.locator("[data-testid=card-gap]")).to_have_text("落后时间进度 33.3 个百分点")
        expect(page.locator("[data-testid=trend-chart] canvas")).to_have_count(1)
        expect(page.locator("[data-testid=dimension-table] tbody tr")).to_have_count(2)

        page.click("[data-testid=tab-sector]")
        expect(page.locator("[data-testid=dimension-table] thead th").first).to_have_text("项目类别")
        expect(page.locator("[data-testid=tab-sector]")).to_have_class(re.compile("active"))
        assert "by=sector" in page.url
        expect(page.locator("#export-link")).to_have_attribute("href", re.compile("by=sector"))
        expect(page.locator("[data-testid=trend-chart] canvas")).to_have_count(1)  # the chart stays

        # back to the region table (htmx history): the restored chart is drawn again
        page.go_back()
        expect(page.locator("[data-testid=tab-region]")).to_have_class(re.compile("active"))
        expect(page.locator("[data-testid=trend-chart] canvas")).to_have_count(1)
        drawn = "el => { const chart = window.echarts.getInstanceByDom(el); return !!chart && chart.getDom() === el; }"
        assert page.locator("[data-testid=trend-chart]").evaluate(drawn)
        page.go_forward()
        expect(page.locator("[data-testid=tab-sector]")).to_have_class(re.compile("active"))

        page.select_option("#id_month", "9")
        page.click("button:has-text('查询')")
        expect(page.locator("[data-testid=overview-span]")).to_have_text("2026年1-9月")
        expect(page.locator("[data-testid=tab-sector]")).to_have_class(re.compile("active"))

        with page.expect_download() as download:
            page.click("#export-link")
        downloaded["name"] = download.value.suggested_filename
        with open(download.value.path(), "rb") as f:
            downloaded["content"] = f.read()

    _walk_in_own_chromium(live_server.url, walk)
    assert downloaded["name"].startswith("调度总览_2026年9月_")
    book = openpyxl.load_workbook(io.BytesIO(downloaded["content"]))
    assert book.sheetnames[:2] == ["汇总", "按项目类别"]
    assert _find(book["汇总"], "本年累计完成（万元）")[1] == 3000  # Mar 1,000 + Sep 2,000
