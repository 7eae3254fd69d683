"""Fund figures against hand-worked numbers: months, pace, payment rates by allocation, project,
programme, region and department, at-risk rules, loans. "Today" is 2026-11-20."""

from datetime import date
from decimal import Decimal as D

import pytest

from majorprojects.accounts.scope import visible_projects
from majorprojects.funds import selectors, services
from majorprojects.funds.models import Allocation, Programme
from majorprojects.funds.selectors import add_months, months_between, pace

from .conftest import TODAY, allocate, move


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 10), date(2026, 7, 9), 5),
        (date(2026, 1, 10), date(2026, 7, 10), 6),
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # a shorter month completes on its last day
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2025, 11, 15), date(2026, 2, 15), 3),  # across the year
        (date(2026, 5, 10), date(2026, 5, 10), 0),
        (date(2026, 5, 10), date(2026, 4, 1), 0),  # before the start
    ],
)
def test_months_between_counts_whole_months(start, end, months):
    assert months_between(start, end) == months


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 5, 10), 6) == date(2026, 11, 10)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


def test_straight_line_pace_behind():
    """1200 issued 2026-01-10, window 12, as of 2026-07-20: 6 whole months, expected
    1200 × 6/12 = 600 (50.0%); paid 450 → 37.5%; gap 600 − 450 = 150 万元, 37.5 − 50.0 = −12.5 pp."""
    p = pace(
        amount=D("1200"),
        paid=D("450"),
        issued_on=date(2026, 1, 10),
        as_of=date(2026, 7, 20),
        window_months=12,
    )
    assert p["elapsed_months"] == 6
    assert p["window_end"] == date(2027, 1, 10)
    assert p["expected"] == D("600.00")
    assert p["expected_pct"] == D("50.0")
    assert p["actual_pct"] == D("37.5")
    assert p["gap"] == D("150.00")
    assert p["gap_pp"] == D("-12.5")
    assert p["behind"] is True


def test_straight_line_pace_rounds_and_caps():
    """800 over 12 months after 1 month: 800/12 = 66.666… → 66.67 (8.3%). After 14 months the
    expectation stops at the whole 800 (100.0%); paid 800 is on pace."""
    early = pace(
        amount=D("800"), paid=D("0"), issued_on=date(2026, 10, 15), as_of=date(2026, 11, 20), window_months=12
    )
    assert (early["expected"], early["expected_pct"], early["gap"], early["gap_pp"]) == (
        D("66.67"),
        D("8.3"),
        D("66.67"),
        D("-8.3"),
    )
    late = pace(
        amount=D("800"),
        paid=D("800"),
        issued_on=date(2025, 9, 15),
        as_of=date(2026, 11, 20),
        window_months=12,
    )
    assert (late["expected"], late["expected_pct"], late["behind"], late["gap"]) == (
        D("800.00"),
        D("100.0"),
        False,
        D("0"),
    )


def test_pace_ahead_has_positive_points_and_no_gap():
    """500 issued 2026-02-01, window 10, as of 2026-06-01: 4 months → 200 expected (40.0%); paid
    300 (60.0%) → +20.0 pp, not behind."""
    p = pace(
        amount=D("500"), paid=D("300"), issued_on=date(2026, 2, 1), as_of=date(2026, 6, 1), window_months=10
    )
    assert (p["expected"], p["gap"], p["gap_pp"], p["behind"]) == (D("200.00"), D("0"), D("20.0"), False)


def test_window_end_only_pace_expects_nothing_before_the_end():
    kwargs = {"amount": D("1000"), "paid": D("100"), "issued_on": date(2026, 1, 1), "window_months": 6}
    before = pace(**kwargs, as_of=date(2026, 6, 30), straight_line=False)
    after = pace(**kwargs, as_of=date(2026, 7, 1), straight_line=False)
    assert (before["expected"], before["behind"]) == (D("0.00"), False)
    assert (after["expected"], after["behind"], after["gap"], after["gap_pp"]) == (
        D("1000.00"),
        True,
        D("900.00"),
        D("-90.0"),
    )


def test_no_window_no_pace():
    p = pace(amount=D("500"), paid=D("0"), issued_on=date(2026, 9, 1), as_of=TODAY, window_months=None)
    assert (p["expected"], p["behind"], p["actual_pct"], p["gap_pp"]) == (None, False, D("0.0"), None)


def _rows(user):
    return {r["allocation"].document_no: r for r in selectors.allocation_rows(visible_projects(user))}


def test_allocation_rows(ledger, users):
    """A1: 1200, arrived 1200, transferred 600, paid 300 + 150 = 450 → 37.5%; issued 05-10, 6
    months to 11-20 → expected 600, gap 150, −12.5 pp.
    A2: 2000, paid 1500 → 75.0%; 9 months → expected 1500 → on pace (0.0 pp).
    A4: 800, 1 month → expected 66.67, behind by 66.67 (−8.3 pp)."""
    rows = _rows(users["admin"])
    a1 = rows["发改投资〔2026〕101号"]
    assert (a1["arrived"], a1["transferred"], a1["paid"], a1["unpaid"], a1["rate"]) == (
        D("1200.00"),
        D("600.00"),
        D("450.00"),
        D("750.00"),
        D("37.5"),
    )
    assert (a1["pace"]["expected"], a1["pace"]["gap"], a1["pace"]["gap_pp"]) == (
        D("600.00"),
        D("150.00"),
        D("-12.5"),
    )
    assert a1["last_payment"] == date(2026, 8, 1)
    assert a1["flags"] == []
    a2 = rows["湘财债〔2026〕8号"]
    assert (a2["rate"], a2["pace"]["expected"], a2["pace"]["gap_pp"], a2["pace"]["behind"]) == (
        D("75.0"),
        D("1500.00"),
        D("0.0"),
        False,
    )
    a2_flags = a2["flags"]
    assert a2_flags == []
    a4 = rows["发改投资〔2026〕202号"]
    assert (a4["pace"]["gap"], a4["pace"]["behind"]) == (D("66.67"), True)


def test_rows_as_of_an_earlier_date(ledger, users):
    """As of 2026-07-31 A1 has paid only the June 300: 25.0%; 2 months → expected 200 → ahead."""
    rows = selectors.allocation_rows(visible_projects(users["admin"]), as_of=date(2026, 7, 31))
    a1 = next(r for r in rows if r["allocation"].pk == ledger["a1"].pk)
    assert (a1["paid"], a1["rate"], a1["pace"]["expected"], a1["pace"]["behind"]) == (
        D("300.00"),
        D("25.0"),
        D("200.00"),
        False,
    )


def test_overview_by_programme(ledger, users):
    """中央预算内 A1 + A4: 2000 allocated, 450 paid → 22.5%; both behind: amount 2000, gap
    150 + 66.67 = 216.67. 专项债 A2: 2000 / 1500 → 75.0%. 市级资金 A3: 500 / 0 → 0.0%.
    Total 4500 allocated, 3200 arrived (71.1%), 1950 paid → 43.3%."""
    overview = selectors.funds_overview(visible_projects(users["admin"]), by="programme")
    rows = {r["label"]: r for r in overview["rows"]}
    assert list(rows) == ["中央预算内投资", "地方政府专项债券", "市级资金"]
    central = rows["中央预算内投资"]
    assert (central["allocated"], central["paid"], central["rate"], central["projects"]) == (
        D("2000.00"),
        D("450.00"),
        D("22.5"),
        2,
    )
    assert (central["behind_count"], central["behind_amount"], central["behind_gap"]) == (
        2,
        D("2000.00"),
        D("216.67"),
    )
    assert (rows["地方政府专项债券"]["rate"], rows["地方政府专项债券"]["behind_count"]) == (D("75.0"), 0)
    assert (rows["市级资金"]["rate"], rows["市级资金"]["windowed"]) == (D("0.0"), 0)
    total = overview["total"]
    assert (total["allocated"], total["arrived"], total["arrival_rate"], total["paid"], total["rate"]) == (
        D("4500.00"),
        D("3200.00"),
        D("71.1"),
        D("1950.00"),
        D("43.3"),
    )
    assert (total["allocations"], total["projects"], total["behind_count"]) == (4, 3, 2)


def test_overview_by_region_rolls_zones_up(ledger, users):
    """临川区: A1 1200 + A3 (经开区, under 临川区) 500 = 1700, paid 450 → 26.5%.
    青山县: A2 2000 + A4 800 = 2800, paid 1500 → 53.6%."""
    rows = selectors.funds_overview(visible_projects(users["admin"]), by="region")["rows"]
    assert [(r["label"], r["allocated"], r["paid"], r["rate"]) for r in rows] == [
        ("临川区", D("1700.00"), D("450.00"), D("26.5")),
        ("青山县", D("2800.00"), D("1500.00"), D("53.6")),
    ]


def test_overview_by_department_uses_the_sector_department(ledger, users, projects, city):
    """Project b's industry (交通) is governed by 交通运输局: A2 + A4 = 2800 / 1500. a and zone
    have no department: 1700 / 450. A responsible department wins over the sector's."""
    rows = selectors.funds_overview(visible_projects(users["admin"]), by="department")["rows"]
    assert [(r["label"], r["allocated"], r["paid"]) for r in rows] == [
        ("云江市交通运输局", D("2800.00"), D("1500.00")),
        ("未明确主管部门", D("1700.00"), D("450.00")),
    ]
    projects["zone"].responsible_department = city["jtj"]
    projects["zone"].save(update_fields=["responsible_department"])
    rows = selectors.funds_overview(visible_projects(users["admin"]), by="department")["rows"]
    assert [(r["label"], r["allocated"]) for r in rows] == [
        ("云江市交通运输局", D("3300.00")),
        ("未明确主管部门", D("1200.00")),
    ]


def test_overview_by_project_and_scope(ledger, users):
    """The county of 临川区 sees a and zone only: 1700 allocated, 450 paid."""
    overview = selectors.funds_overview(visible_projects(users["linchuan"]), by="project")
    assert overview["total"]["allocated"] == D("1700.00")
    assert [(r["label"], r["rate"]) for r in overview["rows"]] == [
        ("临川新材料产业园", D("37.5")),
        ("经开区标准厂房", D("0.0")),
    ]
    assert selectors.funds_overview(visible_projects(users["auditor"]))["total"]["allocations"] == 0


def test_at_risk_lists_not_started_and_idle(ledger, users):
    """A1: issued 05-10, start deadline 6 months → 11-10; project a has not started by 11-20 →
    at risk; last payment 08-01, 3 whole months to 11-20 ≥ 3 → idle too. Unpaid 750.
    A2 (started, paid 10-31), A3 (2 months < 6), A4 (1 month < 3; deadline 2027-04-15): not."""
    risks = selectors.at_risk(visible_projects(users["admin"]))
    assert len(risks) == 1
    risk = risks[0]
    assert risk["row"]["allocation"].pk == ledger["a1"].pk
    assert risk["row"]["unpaid"] == D("750.00")
    assert risk["not_started"] is True and risk["idle_months"] == 3
    assert risk["reasons"] == [
        "下达后 6 个月（2026-11-10）仍未开工",
        "已连续 3 个月无支付（最近支付 2026-08-01）",
    ]


def test_at_risk_boundaries(ledger, users, projects):
    """On the deadline day itself (11-10) a1 is not yet late; 10-31 is under 3 idle months from
    08-01. Once project a starts only the idle reason stays; fully paid allocations are never at
    risk."""
    assert selectors.at_risk(visible_projects(users["admin"]), as_of=date(2026, 10, 31)) == []
    on_deadline = selectors.at_risk(visible_projects(users["admin"]), as_of=date(2026, 11, 10))
    assert [r["reasons"] for r in on_deadline] == [["已连续 3 个月无支付（最近支付 2026-08-01）"]]
    projects["a"].actual_start_date = date(2026, 9, 1)
    projects["a"].save(update_fields=["actual_start_date"])
    assert [r["not_started"] for r in selectors.at_risk(visible_projects(users["admin"]))] == [False]
    move(users["admin"], ledger["a1"], "payment", date(2026, 11, 1), "750")
    assert selectors.at_risk(visible_projects(users["admin"])) == []


def test_never_paid_allocation_is_idle_from_its_issue(users, projects, progs):
    a = allocate(users["admin"], projects["b"], progs["city"], "300", date(2026, 4, 1), "云财建〔2026〕5号")
    risks = selectors.at_risk(visible_projects(users["admin"]))
    assert [r["row"]["allocation"].pk for r in risks] == [a.pk]
    assert risks[0]["reasons"] == ["下达后 7 个月无任何支付"]


def test_programme_rules_are_data(ledger, users):
    """Widening 中央预算内's window to 24 months halves A1's expectation: 6/24 × 1200 = 300 ≤ 450."""
    programme = Programme.objects.get(code="central_budget")
    services.programme_update(actor=users["admin"], programme=programme, fields={"window_months": 24})
    a1 = selectors.allocation_row(Allocation.objects.select_related("programme").get(pk=ledger["a1"].pk))
    assert (a1["pace"]["expected"], a1["pace"]["behind"]) == (D("300.00"), False)


def test_flags_payment_beyond_arrival(users, projects, progs):
    a = allocate(users["admin"], projects["a"], progs["city"], "100", date(2026, 10, 1), "云财建〔2026〕9号")
    move(users["admin"], a, "payment", date(2026, 10, 2), "40")
    row = selectors.allocation_row(Allocation.objects.select_related("programme").get(pk=a.pk))
    assert row["flags"] == ["支付超过到位"]


def test_loans_summary(users, projects, progs):
    """Signed 5000 + 3000 = 8000; released 2000 + 1000 + 1200 = 4200 → 52.5%; subsidy applied
    120 + 0, granted 80."""
    admin = users["admin"]
    first = services.loan_create(
        actor=admin,
        project=projects["b"],
        fields={
            "bank": "国家开发银行湖南省分行",
            "signed_on": date(2026, 3, 1),
            "amount_signed": D("5000"),
            "programme": progs["mid_long_loan"],
            "subsidy_applied": D("120"),
            "subsidy_granted": D("80"),
        },
    )
    second = services.loan_create(
        actor=admin,
        project=projects["a"],
        fields={"bank": "农业发展银行", "signed_on": date(2026, 6, 1), "amount_signed": D("3000")},
    )
    services.loan_release_add(actor=admin, loan=first, on_date=date(2026, 3, 10), amount=D("2000"))
    services.loan_release_add(actor=admin, loan=first, on_date=date(2026, 7, 10), amount=D("1000"))
    services.loan_release_add(actor=admin, loan=second, on_date=date(2026, 6, 20), amount=D("1200"))
    rows = selectors.loan_rows(visible_projects(admin))
    assert [(r["released"], r["release_rate"], r["last_release"]) for r in rows] == [
        (D("3000.00"), D("60.0"), date(2026, 7, 10)),
        (D("1200.00"), D("40.0"), date(2026, 6, 20)),
    ]
    assert selectors.loans_summary(rows) == {
        "loans": 2,
        "signed": D("8000.00"),
        "released": D("4200.00"),
        "release_rate": D("52.5"),
        "subsidy_applied": D("120.00"),
        "subsidy_granted": D("80.00"),
    }
    assert len(selectors.loan_rows(visible_projects(users["qingshan"]))) == 1


def test_project_funds(ledger, projects, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        funds = selectors.project_funds(projects["b"])
    assert [r["allocation"].document_no for r in funds["allocations"]] == [
        "发改投资〔2026〕202号",
        "湘财债〔2026〕8号",
    ]
    assert (funds["total"]["allocated"], funds["total"]["paid"], funds["total"]["rate"]) == (
        D("2800.00"),
        D("1500.00"),
        D("53.6"),
    )
    assert [r["label"] for r in funds["by_programme"]] == ["中央预算内投资", "地方政府专项债券"]
    assert funds["at_risk"] == [] and funds["reported"] == [] and funds["loans"] == []
    assert len(funds["allocations"][1]["allocation"].movements.all()) == 3


def test_overview_query_count_does_not_grow(ledger, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        selectors.funds_overview(visible_projects(users["admin"]), by="department")
    with django_assert_max_num_queries(8):
        selectors.funds_overview(visible_projects(users["jtj"]), by="region", user=users["jtj"])
