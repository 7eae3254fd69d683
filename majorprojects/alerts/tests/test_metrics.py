"""The metric registry and the project metrics on plan, start, statistics and funds, each on a
small hand-worked table. The shared city (root conftest): project a in 临川区, b in 青山县, zone
in the development zone under 临川区. `scan` runs one metric for one month like the engine does.

Hand-worked numbers: time progress of month m is m/12 (one decimal): March 25.0, June 50.0,
October 83.3."""

import json
from datetime import date
from decimal import Decimal

import pytest

from majorprojects.alerts.metrics import METRICS, Reading, ScanContext, metric
from majorprojects.factories import ListingFactory, ProjectFactory
from majorprojects.funds.models import Allocation, Movement, MovementKind, Programme
from majorprojects.organisation.models import Region
from majorprojects.projects.models import Project, Stage
from majorprojects.reporting.models import YearDone
from majorprojects.reporting.selectors import month_end

D = date


def scan(
    code, year=2026, month=10, *, today=None, projects=None, regions=None, **params
) -> dict[int, Reading]:
    """Run metric `code` for a month as the engine does: today is the month's end unless given."""
    end = month_end(year, month)
    ctx = ScanContext(
        year=year,
        month=month,
        period_end=end,
        today=today or end,
        projects=Project.objects.all() if projects is None else projects,
        regions=Region.objects.none() if regions is None else regions,
        params=params,
    )
    return metric(code).compute(ctx)


def value(code, project, **kwargs):
    return scan(code, **kwargs)[project.pk].value


def year_done(project, year, **months):
    """A YearDone row: months given as m1=…, amounts in 万元."""
    return YearDone.objects.create(project=project, year=year, **{k: Decimal(v) for k, v in months.items()})


# --- the registry ---------------------------------------------------------------------------------

CONTRACT = [
    # code, subject, unit, higher_is_worse, label
    ("start_overdue_months", "project", "个月", True, "计划开工逾期月数"),
    ("plan_gap_pp", "project", "个百分点", False, "年度投资完成进度与时间进度之差"),
    ("fund_pace_gap_pp", "project", "个百分点", False, "资金支付进度与序时进度之差"),
    ("stats_pending_months", "project", "个月", True, "开工未入统月数"),
    ("report_missing_periods", "project", "期", True, "连续漏报期数"),
    ("approval_overdue_items", "project", "项", True, "前期手续逾期事项数"),
    ("promise_overdue_items", "project", "项", True, "容缺承诺逾期事项数"),
    ("problem_overdue_items", "project", "项", True, "问题办理逾期数"),
    ("region_growth_vs_target_pp", "region", "个百分点", False, "投资增速与目标之差"),
    ("region_growth_vs_city_pp", "region", "个百分点", False, "投资增速与全市平均之差"),
    ("region_plan_gap_pp", "region", "个百分点", False, "年度计划完成与时间进度之差"),
    ("region_behind_months", "region", "个月", True, "连续落后时间进度月数"),
    ("region_month_task_pct", "region", "%", False, "月度投资任务完成率"),
]


def test_the_registry_holds_the_contracted_codes():
    assert [(m.code, m.subject, m.unit, m.higher_is_worse, m.label) for m in METRICS.values()] == CONTRACT
    for m in METRICS.values():
        assert metric(m.code) is m
        assert m.description
        for name, (kind, required, label, allowed) in m.params.items():
            assert kind in (str, int) and required is False and label, name
            assert allowed is None or all(isinstance(a, kind) for a in allowed)
    assert METRICS["report_missing_periods"].params["kind"][3] == ("missing", "late", "missing_or_late")


def test_an_unknown_code_is_refused_in_chinese():
    with pytest.raises(KeyError, match="未知的预警指标：no_such_metric"):
        metric("no_such_metric")


def test_every_project_of_the_scope_gets_a_reading_and_packages_none(projects):
    package = ProjectFactory(is_package=True, region=projects["a"].region)
    scoped = Project.objects.filter(region=projects["a"].region)
    for code, m in METRICS.items():
        if m.subject != "project":
            continue
        readings = scan(code, projects=scoped)
        assert set(readings) == {projects["a"].pk}, code
        assert package.pk not in scan(code), code
        json.dumps([r.evidence for r in readings.values()])


# --- start overdue --------------------------------------------------------------------------------

START_CASES = [
    # (project planned start, this year's listing planned start, actual start, stage, month, today, expected)
    # planned 15 March, not started: end of March 1 (the planned month counts), end of May 3
    (D(2026, 3, 15), None, None, Stage.PREPARING, 3, None, 1),
    (D(2026, 3, 15), None, None, Stage.PREPARING, 5, None, 3),
    (D(2026, 3, 15), None, None, Stage.PREPARING, 2, None, None),  # not due yet
    # planned on the month's last day and not started at the month's end: 1
    (D(2026, 5, 31), None, None, Stage.PREPARING, 5, None, 1),
    # the current month scanned on the 20th: the 31st is still to come
    (D(2026, 5, 31), None, None, Stage.PREPARING, 5, D(2026, 5, 20), None),
    (D(2026, 5, 20), None, None, Stage.PREPARING, 5, D(2026, 5, 20), 1),  # due today, not started
    (D(2026, 3, 15), None, D(2026, 4, 10), Stage.CONSTRUCTION, 5, None, None),  # started in April
    # started on 2 June: a rescan of May still sees it not started (3 months)
    (D(2026, 3, 15), None, D(2026, 6, 2), Stage.CONSTRUCTION, 5, None, 3),
    (D(2026, 3, 15), None, D(2026, 5, 31), Stage.CONSTRUCTION, 5, None, None),  # started on the last day
    (None, None, None, Stage.PREPARING, 5, None, None),  # no planned start
    (D(2026, 3, 15), None, None, Stage.CONSTRUCTION, 5, None, None),  # started, date not recorded
    # the listing's planned start (1 April) wins over the project's (10 January): April, May → 2
    (D(2026, 1, 10), D(2026, 4, 1), None, Stage.PREPARING, 5, None, 2),
    (None, D(2026, 4, 1), None, Stage.PREPARING, 5, None, 2),
    # last year's date carries on: November, December, January, February → 4
    (D(2025, 11, 20), None, None, Stage.SIGNED, 2, None, 4),
]


@pytest.mark.parametrize(("planned", "listed", "actual", "stage", "month", "today", "expected"), START_CASES)
def test_start_overdue_months(city, planned, listed, actual, stage, month, today, expected):
    p = ProjectFactory(planned_start_date=planned, actual_start_date=actual, stage=stage)
    if listed:
        ListingFactory(project=p, year=2026, planned_start=listed)
    reading = scan(
        "start_overdue_months", month=month, today=today, projects=Project.objects.filter(pk=p.pk)
    )[p.pk]
    assert reading.value == expected
    if expected is not None:
        assert reading.evidence["months_overdue"] == expected
        assert reading.evidence["planned_start"] == (listed or planned).isoformat()
        assert reading.evidence["planned_start_source"] == ("listing" if listed else "project")


def test_start_overdue_ignores_another_years_listing(city):
    """Planned 1 February 2026 on the project; the 2025 listing said June 2025 (not this
    year's listing, so not used): February–May → 4."""
    p = ProjectFactory(planned_start_date=D(2026, 2, 1))
    ListingFactory(project=p, year=2025, planned_start=D(2025, 6, 1))
    assert value("start_overdue_months", p, month=5) == 4


# --- plan gap -------------------------------------------------------------------------------------


@pytest.fixture
def plans(projects):
    """a: plan 12,000; done Jan–Oct 900 each (9,000) and 5,000 in November; 2025 ignored.
    b: plan 24,000, nothing reported. zone: listed with plan 0. A fourth project, not listed,
    has money but no plan."""
    a, b, zone = projects["a"], projects["b"], projects["zone"]
    ListingFactory(project=a, planned_investment=Decimal("12000"))
    ListingFactory(project=b, planned_investment=Decimal("24000"))
    ListingFactory(project=zone, planned_investment=Decimal("0"))
    year_done(a, 2026, **{f"m{m}": "900" for m in range(1, 11)}, m11="5000")
    year_done(a, 2025, **{f"m{m}": "3000" for m in range(1, 13)})
    unlisted = ProjectFactory(region=a.region)
    year_done(unlisted, 2026, m1="100")
    return {**projects, "unlisted": unlisted}


@pytest.mark.parametrize(
    ("name", "month", "expected"),
    [
        ("a", 10, Decimal("-8.3")),  # 9,000 / 12,000 = 75.0 %, minus 83.3
        ("a", 3, Decimal("-2.5")),  # 2,700 / 12,000 = 22.5 %, minus 25.0
        ("a", 11, Decimal("25.0")),  # 9,000 + 5,000 = 14,000 / 12,000 = 116.7 %, minus 91.7
        ("b", 10, Decimal("-83.3")),  # nothing done: 0.0 − 83.3
        ("zone", 10, None),  # plan 0
        ("unlisted", 10, None),  # no listing
    ],
)
def test_plan_gap_pp(plans, name, month, expected):
    assert value("plan_gap_pp", plans[name], month=month) == expected


def test_plan_gap_evidence(plans):
    reading = scan("plan_gap_pp")[plans["a"].pk]
    assert reading.evidence == {
        "plan": "12000.00",
        "done_ytd": "9000.00",
        "months": "1-10月",
        "plan_pct": "75.0",
        "time_pct": "83.3",
        "gap_pp": "-8.3",
    }


# --- statistics -----------------------------------------------------------------------------------

STATS_CASES = [
    # (actual start, included, included on, month, expected)
    (D(2026, 3, 10), False, None, 5, 2),  # started in March, not included at the end of May
    (D(2026, 5, 10), False, None, 5, 0),  # started this month
    (D(2026, 6, 2), False, None, 5, None),  # not started at the end of May
    (D(2026, 3, 10), True, D(2026, 4, 20), 5, None),  # included in April
    (D(2026, 3, 10), True, D(2026, 6, 5), 5, 2),  # included after May: pending at the end of May
    (D(2026, 3, 10), True, None, 5, None),  # included, date not recorded
    (None, False, None, 5, None),  # not started
    (D(2025, 11, 3), False, None, 2, 3),  # December, January, February
]


@pytest.mark.parametrize(("started", "included", "included_on", "month", "expected"), STATS_CASES)
def test_stats_pending_months(city, started, included, included_on, month, expected):
    p = ProjectFactory(
        actual_start_date=started,
        stage=Stage.CONSTRUCTION if started else Stage.PREPARING,
        stats_included=included,
        stats_included_date=included_on,
    )
    reading = scan("stats_pending_months", month=month, projects=Project.objects.filter(pk=p.pk))[p.pk]
    assert reading.value == expected
    if expected is not None:
        assert reading.evidence["started_on"] == started.isoformat()
        assert reading.evidence["months_pending"] == expected


# --- fund pace ------------------------------------------------------------------------------------


@pytest.fixture
def funds(projects):
    """a: 中央预算内 1,200 issued 10 May 2026 (window 12 months, straight line), paid 300 on
    15 June, 150 on 1 August and 100 on 10 November; 专项债 2,000 issued 1 February 2026, paid
    1,000 on 15 March and 500 on 31 October.
    b: 市级资金 500 (no window) and 中央预算内 800 issued 5 November (after October).
    zone: nothing."""
    progs = {p.code: p for p in Programme.objects.all()}
    a, b = projects["a"], projects["b"]

    def allocate(project, code, amount, issued_on, payments=()):
        allocation = Allocation.objects.create(
            project=project,
            programme=progs[code],
            document_no=f"{code}-{issued_on}",
            issued_on=issued_on,
            amount=Decimal(amount),
        )
        for day, paid in payments:
            Movement.objects.create(
                allocation=allocation, kind=MovementKind.PAYMENT, on_date=day, amount=paid
            )
        Movement.objects.create(
            allocation=allocation, kind=MovementKind.ARRIVAL, on_date=issued_on, amount=amount
        )
        return allocation

    allocate(
        a,
        "central_budget",
        "1200",
        D(2026, 5, 10),
        [(D(2026, 6, 15), 300), (D(2026, 8, 1), 150), (D(2026, 11, 10), 100)],
    )
    allocate(a, "special_bond", "2000", D(2026, 2, 1), [(D(2026, 3, 15), 1000), (D(2026, 10, 31), 500)])
    allocate(b, "city", "500", D(2026, 3, 1))
    allocate(b, "central_budget", "800", D(2026, 11, 5))
    return projects


@pytest.mark.parametrize(
    ("month", "programme", "expected"),
    [
        # October, both: central elapsed 5 months (10 May → 31 Oct), expected 1,200 × 5/12 =
        # 500.00, paid 450; bond elapsed 8 months, expected 2,000 × 8/12 = 1,333.33, paid 1,500.
        # Σ allocated 3,200, Σ paid 1,950 = 60.9 %, Σ expected 1,833.33 = 57.3 % → +3.6
        (10, None, Decimal("3.6")),
        # central alone: paid 37.5 % − expected 41.7 % → −4.2 (the November payment not yet)
        (10, "central_budget", Decimal("-4.2")),
        # bond alone: 75.0 % − 66.7 % → +8.3
        (10, "special_bond", Decimal("8.3")),
        # September, central alone: 4 months elapsed → 400 expected (33.3 %), paid 450 (37.5 %) → +4.2
        (9, "central_budget", Decimal("4.2")),
        # March, both: central not yet issued; bond 1 month → 166.67 (8.3 %), paid 1,000 (50.0 %)
        (3, None, Decimal("41.7")),
        # April, central: not issued yet → no windowed allocation
        (4, "central_budget", None),
    ],
)
def test_fund_pace_gap_pp(funds, month, programme, expected):
    params = {"programme": programme} if programme else {}
    assert value("fund_pace_gap_pp", funds["a"], month=month, **params) == expected


def test_fund_pace_not_applicable_without_a_windowed_allocation(funds):
    readings = scan("fund_pace_gap_pp")
    # b: 市级资金 has no window; its 中央预算内 allocation is issued after October. zone: nothing.
    assert readings[funds["b"].pk].value is None
    assert readings[funds["zone"].pk].value is None
    assert scan("fund_pace_gap_pp", month=11)[funds["b"].pk].value == Decimal("0.0")  # issued 5 Nov: 0 months


def test_fund_pace_evidence(funds):
    evidence = scan("fund_pace_gap_pp", programme="central_budget")[funds["a"].pk].evidence
    assert {
        k: evidence[k] for k in ("allocated", "paid", "expected", "paid_pct", "expected_pct", "gap_pp")
    } == {
        "allocated": "1200.00",
        "paid": "450.00",
        "expected": "500.00",
        "paid_pct": "37.5",
        "expected_pct": "41.7",
        "gap_pp": "-4.2",
    }
    assert evidence["allocations"] == [
        {
            "programme": "中央预算内投资",
            "document_no": "central_budget-2026-05-10",
            "issued_on": "2026-05-10",
            "amount": "1200.00",
            "paid": "450.00",
            "expected": "500.00",
            "window_end": "2027-05-10",
        }
    ]
