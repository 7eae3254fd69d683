"""Figures of the ledger against hand-worked numbers ("today" is Mon 23 Nov 2026): validity
clocks, overdue and promise-overdue flags, one project's summary, the city-wide matrix, the
overdue list, and the readiness lists — each scoped to what the account may read."""

from datetime import date
from decimal import Decimal

import pytest

from majorprojects.approvals import selectors
from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.projects.models import FundingSource, ProjectFunding, Stage

from .conftest import TODAY, item

pytestmark = pytest.mark.django_db


def set_item(project, code, **fields):
    ApprovalItem.objects.filter(project=project, item_type__code=code).update(**fields)
    return item(project, code)


def flags_of(project, code):
    row = next(r for r in selectors.project_ledger(project)["rows"] if r["item"].item_type.code == code)
    return row["flags"]


def granted(project, code, on):
    return set_item(project, code, status=ItemStatus.DONE, actual_date=on, document_number="文号")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 12, 20), 24, date(2026, 12, 20)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
    ],
)
def test_add_months(day, months, expected):
    assert selectors.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("code", "approved", "risk", "lapsed", "days_left"),
    [
        ("feasibility", date(2024, 12, 20), True, False, 27),  # 2 years → 20 Dec 2026, warn 90 days
        ("feasibility", date(2025, 6, 1), False, False, 190),  # 1 Jun 2027: outside the window
        ("feasibility", date(2024, 10, 1), False, True, -53),  # ended 1 Oct 2026 unused
        ("construction_permit", date(2026, 9, 10), True, False, 17),  # start by 10 Dec 2026, warn 30
        ("construction_permit", date(2026, 8, 1), False, True, -22),  # should have started by 1 Nov
        ("eia", date(2022, 1, 10), True, False, 48),  # 5 years → 10 Jan 2027, warn 180 days
        ("land_prereview", date(2023, 12, 1), True, False, 8),  # 3 years → 1 Dec 2026
    ],
)
def test_validity_clock_flags(ledgers, code, approved, risk, lapsed, days_left):
    granted(ledgers["a"], code, approved)
    flags = flags_of(ledgers["a"], code)
    assert (flags["lapse_risk"], flags["lapsed"], flags["days_left"]) == (risk, lapsed, days_left)


def test_a_started_project_has_used_its_approvals(ledgers):
    a = ledgers["a"]
    granted(a, "construction_permit", date(2026, 8, 1))
    granted(a, "feasibility", date(2024, 12, 20))
    a.stage, a.actual_start_date = Stage.CONSTRUCTION, date(2026, 10, 8)
    a.save()
    assert not flags_of(a, "construction_permit")["kinds"]
    assert not flags_of(a, "feasibility")["kinds"]


def test_land_prereview_is_used_by_the_land_planning_permit(ledgers):
    a = ledgers["a"]
    granted(a, "land_prereview", date(2023, 12, 1))
    assert flags_of(a, "land_prereview")["lapse_risk"]
    granted(a, "land_planning_permit", date(2026, 5, 1))
    assert not flags_of(a, "land_prereview")["kinds"]


def test_overdue_and_promise_overdue(ledgers):
    a = ledgers["a"]
    set_item(a, "eia", status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 11, 20))
    set_item(a, "energy", status=ItemStatus.NOT_STARTED, planned_date=TODAY)
    set_item(
        a,
        "soil_water",
        status=ItemStatus.PROMISED,
        actual_date=date(2026, 9, 1),
        promise_due_date=date(2026, 11, 1),
    )
    assert flags_of(a, "eia")["overdue"] and flags_of(a, "eia")["overdue_days"] == 3
    assert not flags_of(a, "energy")["kinds"]  # due today is not overdue yet
    promise = flags_of(a, "soil_water")
    assert promise["promise_overdue"] and promise["overdue_days"] == 22
    set_item(a, "soil_water", papers_supplied_date=date(2026, 11, 5))
    assert not flags_of(a, "soil_water")["promise_overdue"]


def test_project_ledger_summary(ledgers):
    a = ledgers["a"]
    granted(a, "feasibility", date(2026, 3, 1))
    set_item(a, "feasibility", planned_date=date(2026, 2, 20))
    set_item(a, "proposal", status=ItemStatus.NOT_APPLICABLE, not_applicable_reason="已列入规划")
    set_item(a, "eia", status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 11, 1))
    set_item(
        a,
        "energy",
        status=ItemStatus.PROMISED,
        actual_date=date(2026, 10, 1),
        promise_due_date=date(2026, 12, 1),
    )
    ledger = selectors.project_ledger(a)
    assert ledger["summary"] == {
        "total": 13,
        "applicable": 12,
        "done": 1,
        "promised": 1,
        "in_progress": 1,
        "not_started": 9,
        "not_applicable": 1,
        "overdue": 1,
        "promise_overdue": 0,
        "lapse_risk": 0,
        "lapsed": 0,
    }
    rows = {r["item"].item_type.code: r for r in ledger["rows"]}
    assert rows["feasibility"]["slip_days"] == 9  # done 9 days after the plan
    assert rows["eia"]["slip_days"] == 22  # still open, 22 days past the plan
    assert [r["item"].item_type.name for r in ledger["rows"]][:2] == ["项目建议书", "用地预审与选址意见书"]


def test_project_ledger_query_count(ledgers, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        ledger = selectors.project_ledger(ledgers["a"])
        [r["item"].item_type.name for r in ledger["rows"]]


@pytest.fixture
def worked(ledgers, city):
    a, b = ledgers["a"], ledgers["b"]
    granted(a, "feasibility", date(2026, 3, 1))
    set_item(
        a, "eia", status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 11, 1), responsible_unit=city["jtj"]
    )
    set_item(a, "proposal", status=ItemStatus.NOT_APPLICABLE, not_applicable_reason="已列入规划")
    granted(b, "verification", date(2026, 6, 1))
    set_item(b, "eia", status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 12, 31))
    return ledgers


def test_matrix_by_item_type_for_the_city(worked, users):
    m = selectors.ledger_matrix(users["admin"], by="item_type")
    rows = {r["label"]: r for r in m["rows"]}
    assert rows["环评批复"]["counts"]["in_progress"] == 2
    assert (rows["环评批复"]["total"], rows["环评批复"]["overdue"]) == (2, 1)
    assert rows["可研批复"]["counts"]["done"] == 1 and rows["项目核准"]["counts"]["done"] == 1
    assert m["totals"]["total"] == 24
    assert m["totals"]["counts"] == {
        "not_started": 19,
        "in_progress": 2,
        "done": 2,
        "promised": 0,
        "not_applicable": 1,
    }
    assert m["totals"]["overdue"] == 1
    assert m["rows"][0]["label"] == "项目建议书"  # item types in their configured order


def test_matrix_is_scoped_and_filterable(worked, users, city):
    county = selectors.ledger_matrix(users["linchuan"], by="item_type")
    assert county["totals"]["total"] == 13
    assert selectors.ledger_matrix(users["admin"], region=city["qingshan"])["totals"]["total"] == 11
    assert selectors.ledger_matrix(users["admin"], sector=city["transport"])["totals"]["total"] == 11
    assert selectors.ledger_matrix(users["auditor"])["totals"]["total"] == 0
    by_unit = {r["label"]: r for r in selectors.ledger_matrix(users["admin"], by="unit")["rows"]}
    assert by_unit["云江市交通运输局"]["total"] == 1 and by_unit["未指定责任单位"]["total"] == 23
    by_region = {r["label"]: r["total"] for r in selectors.ledger_matrix(users["admin"], by="region")["rows"]}
    assert by_region == {"临川区": 13, "青山县": 11}


def test_overdue_list(worked, users, city, django_assert_max_num_queries):
    a = worked["a"]
    granted(a, "construction_permit", date(2026, 9, 10))
    set_item(
        a,
        "soil_water",
        status=ItemStatus.PROMISED,
        actual_date=date(2026, 9, 1),
        promise_due_date=date(2026, 11, 1),
    )
    with django_assert_max_num_queries(3):
        rows = selectors.overdue_items(users["admin"])
    assert [(r["item"].item_type.code, r["flags"]["kinds"]) for r in rows] == [
        ("eia", ["overdue"]),  # 22 days
        ("soil_water", ["promise_overdue"]),  # 22 days, later in the template
        ("construction_permit", ["lapse_risk"]),
    ]
    assert [r["item"].item_type.code for r in selectors.overdue_items(users["admin"], kind="lapse_risk")] == [
        "construction_permit"
    ]
    assert selectors.overdue_items(users["qingshan"]) == []
    assert len(selectors.overdue_items(users["admin"], unit=city["jtj"])) == 1


def ready_all(project, *, leave=()):
    for it in ApprovalItem.objects.filter(project=project).exclude(item_type__code__in=leave):
        it.status, it.actual_date, it.document_number = ItemStatus.DONE, date(2026, 6, 1), "文号"
        it.save()


def test_ready_to_start(ledgers, users):
    a, b = ledgers["a"], ledgers["b"]
    ready_all(a, leave=("construction_permit", "proposal", "energy"))
    set_item(a, "proposal", status=ItemStatus.NOT_APPLICABLE, not_applicable_reason="已列入规划")
    set_item(
        a,
        "energy",
        status=ItemStatus.PROMISED,
        actual_date=date(2026, 6, 1),
        promise_due_date=date(2026, 12, 1),
    )
    ready_all(b, leave=("bidding", "construction_permit"))
    rows = {r["project"].pk: r for r in selectors.ready_to_start(users["admin"])}
    assert rows[a.pk]["ready"] and rows[a.pk]["missing"] == []
    assert not rows[b.pk]["ready"]
    assert [(m["name"], m["status_label"]) for m in rows[b.pk]["missing"]] == [("招标", "未启动")]
    # 经开区标准厂房 is in 前期 without a ledger: not ready, the ledger itself is missing.
    zone = rows[ledgers["zone"].pk]
    assert not zone["ready"] and zone["missing"][0]["status_label"] == "未建立"
    assert [r["project"].pk for r in selectors.ready_to_start(users["admin"], ready=True)] == [a.pk]
    assert {r["project"].pk for r in selectors.ready_to_start(users["qingshan"])} == {b.pk}
    a.stage, a.actual_start_date = Stage.CONSTRUCTION, date(2026, 11, 2)
    a.save()
    assert a.pk not in {r["project"].pk for r in selectors.ready_to_start(users["admin"])}


def test_ready_for_funding(ledgers, users):
    a, b = ledgers["a"], ledgers["b"]
    ProjectFunding.objects.create(project=a, source=FundingSource.SPECIAL_BOND, amount=Decimal("20000"))
    ProjectFunding.objects.create(project=a, source=FundingSource.CENTRAL_BUDGET, amount=Decimal("5000"))
    ProjectFunding.objects.create(project=b, source=FundingSource.CENTRAL_BUDGET, amount=Decimal("8000"))
    bond = selectors.ready_for_funding(users["admin"], FundingSource.SPECIAL_BOND)
    assert [(r["project"].pk, r["ready"]) for r in bond] == [(a.pk, False)]
    assert bond[0]["missing"][0]["name"] == "招标" and bond[0]["missing"][0]["wanted"] == ["已办结"]
    granted(a, "bidding", date(2026, 9, 1))
    assert selectors.ready_for_funding(users["admin"], FundingSource.SPECIAL_BOND)[0]["ready"]
    granted(a, "preliminary_design", date(2026, 8, 1))
    central = {
        r["project"].pk: r for r in selectors.ready_for_funding(users["admin"], FundingSource.CENTRAL_BUDGET)
    }
    assert central[a.pk]["ready"]
    assert central[b.pk]["missing"][0]["status_label"] == "未列入台账"  # 核准类 has no such item
    assert selectors.ready_for_funding(users["admin"], FundingSource.ULTRA_LONG_BOND) == []
    assert [
        r["project"].pk for r in selectors.ready_for_funding(users["owner_a"], FundingSource.CENTRAL_BUDGET)
    ] == [a.pk]
    readiness = selectors.project_readiness(a)
    assert {f["programme"]: f["ready"] for f in readiness["funding"]} == {
        "special_bond": True,
        "central_budget": True,
    }


def test_readiness_query_count(ledgers, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        selectors.ready_to_start(users["admin"])
