"""approval_overdue_items, promise_overdue_items and problem_overdue_items: counts of overdue
items at the scan day, each boundary on its own row, and agreement with approvals.selectors'
flags on the same ledger. The October 2026 scan judges as of 31 October; "today" for the
approvals selectors is that day too."""

from collections import Counter
from datetime import date, datetime, time

import pytest
from django.utils import timezone

from majorprojects.alerts.tests.test_metrics import scan
from majorprojects.approvals.models import ApprovalItem, ApprovalItemType, ItemStatus
from majorprojects.approvals.selectors import flagged_rows
from majorprojects.factories import ProjectFactory
from majorprojects.problems.models import Category, Problem, Source
from majorprojects.problems.models import Status as P

D = date
AS_OF = D(2026, 10, 31)


@pytest.fixture
def types(db):
    return list(ApprovalItemType.objects.order_by("sort_order")[:8])


def item(project, item_type, status=ItemStatus.NOT_STARTED, **fields):
    return ApprovalItem.objects.create(project=project, item_type=item_type, status=status, **fields)


# --- approval items -------------------------------------------------------------------------------

APPROVAL_CASES = [
    # (status, planned date, actual date, min_days, counted)
    (ItemStatus.NOT_STARTED, D(2026, 10, 30), None, 0, True),  # one day overdue
    (ItemStatus.IN_PROGRESS, D(2026, 10, 31), None, 0, False),  # due on the scan day
    (ItemStatus.IN_PROGRESS, D(2026, 11, 5), None, 0, False),  # not due
    (ItemStatus.IN_PROGRESS, None, None, 0, False),  # no planned date
    (ItemStatus.IN_PROGRESS, D(2026, 10, 29), None, 3, False),  # 2 days < 3
    (ItemStatus.IN_PROGRESS, D(2026, 10, 28), None, 3, True),  # 3 days
    (ItemStatus.DONE, D(2026, 9, 1), D(2026, 10, 15), 0, False),  # done before the scan day
    (ItemStatus.DONE, D(2026, 9, 1), D(2026, 11, 10), 0, True),  # done after it: open on 31 Oct
    (ItemStatus.NOT_APPLICABLE, D(2026, 9, 1), None, 0, False),
]


@pytest.mark.parametrize(("status", "planned", "actual", "min_days", "counted"), APPROVAL_CASES)
def test_approval_overdue_items(projects, types, status, planned, actual, min_days, counted):
    a = projects["a"]
    item(a, types[0], status, planned_date=planned, actual_date=actual)
    item(a, types[1], ItemStatus.DONE, planned_date=D(2026, 3, 1), actual_date=D(2026, 3, 1))
    reading = scan("approval_overdue_items", min_days=min_days)[a.pk]
    assert reading.value == (1 if counted else 0)
    assert reading.evidence["items"] == 2
    assert reading.evidence["min_days"] == max(1, min_days)
    if counted:
        (row,) = reading.evidence["flagged_items"]
        assert row["item"] == types[0].name
        assert row["date"] == planned.isoformat()
        assert row["days"] == (AS_OF - planned).days


def test_approval_metrics_need_a_ledger(projects, types):
    item(projects["a"], types[0])
    readings = scan("approval_overdue_items")
    promises = scan("promise_overdue_items")
    assert readings[projects["a"].pk].value == 0 and promises[projects["a"].pk].value == 0
    assert readings[projects["b"].pk].value is None and promises[projects["b"].pk].value is None


# --- promises -------------------------------------------------------------------------------------

PROMISE_CASES = [
    # (status, promise due, papers supplied, counted)
    (ItemStatus.PROMISED, D(2026, 10, 30), None, True),
    (ItemStatus.PROMISED, D(2026, 10, 31), None, False),  # due on the scan day
    (ItemStatus.PROMISED, D(2026, 11, 30), None, False),
    (ItemStatus.DONE, D(2026, 10, 1), D(2026, 10, 20), False),  # papers in before the scan day
    (ItemStatus.DONE, D(2026, 10, 1), D(2026, 11, 3), True),  # papers in after it
    (ItemStatus.DONE, None, None, False),  # an ordinary approval
]


@pytest.mark.parametrize(("status", "due", "supplied", "counted"), PROMISE_CASES)
def test_promise_overdue_items(projects, types, status, due, supplied, counted):
    a = projects["a"]
    item(
        a,
        types[0],
        status,
        actual_date=D(2026, 6, 1),
        planned_date=D(2026, 6, 1),
        promise_due_date=due,
        papers_supplied_date=supplied,
    )
    reading = scan("promise_overdue_items")[a.pk]
    assert reading.value == (1 if counted else 0)
    if counted:
        assert reading.evidence["flagged_items"][0]["date"] == due.isoformat()


# --- agreement with approvals.selectors -----------------------------------------------------------


@pytest.fixture
def ledger(projects, types):
    """a: two overdue (planned 1 Sep, 30 Oct), one due on 31 Oct, one done, one promise overdue
    (due 15 Oct), one promise due 31 Oct. b: one overdue (planned 10 Oct), one promise with
    papers supplied. zone: one item planned for December. Another project has no ledger."""
    a, b, zone = projects["a"], projects["b"], projects["zone"]
    item(a, types[0], ItemStatus.NOT_STARTED, planned_date=D(2026, 9, 1))
    item(a, types[1], ItemStatus.IN_PROGRESS, planned_date=D(2026, 10, 30))
    item(a, types[2], ItemStatus.IN_PROGRESS, planned_date=D(2026, 10, 31))
    item(a, types[3], ItemStatus.DONE, planned_date=D(2026, 8, 1), actual_date=D(2026, 8, 3))
    promised = {"actual_date": D(2026, 7, 1), "planned_date": D(2026, 7, 1)}
    item(a, types[4], ItemStatus.PROMISED, promise_due_date=D(2026, 10, 15), **promised)
    item(a, types[5], ItemStatus.PROMISED, promise_due_date=D(2026, 10, 31), **promised)
    item(b, types[0], ItemStatus.IN_PROGRESS, planned_date=D(2026, 10, 10))
    item(
        b,
        types[1],
        ItemStatus.DONE,
        promise_due_date=D(2026, 9, 1),
        papers_supplied_date=D(2026, 8, 30),
        **promised,
    )
    item(zone, types[0], ItemStatus.NOT_STARTED, planned_date=D(2026, 12, 1))
    ProjectFactory(region=a.region)
    return projects


def selector_counts(kind) -> Counter:
    qs = ApprovalItem.objects.select_related("project", "item_type")
    return Counter(row["item"].project_id for row in flagged_rows(qs, kind=kind, today=AS_OF))


@pytest.mark.parametrize(
    ("code", "kind", "expected"),
    [
        ("approval_overdue_items", "overdue", {"a": 2, "b": 1, "zone": 0}),
        ("promise_overdue_items", "promise_overdue", {"a": 1, "b": 0, "zone": 0}),
    ],
)
def test_agrees_with_the_approvals_selectors(ledger, code, kind, expected):
    readings = scan(code, today=AS_OF)
    by_selector = selector_counts(kind)
    for name, count in expected.items():
        pk = ledger[name].pk
        assert readings[pk].value == count == by_selector.get(pk, 0), name
    # the current month scanned on its 20th agrees with the selectors' "today" too
    mid = scan(code, month=11, today=D(2026, 11, 20))
    by_selector = Counter(
        row["item"].project_id
        for row in flagged_rows(
            ApprovalItem.objects.select_related("project", "item_type"), kind=kind, today=D(2026, 11, 20)
        )
    )
    assert {pk: r.value for pk, r in mid.items() if r.value} == dict(by_selector)


# --- problems -------------------------------------------------------------------------------------


def problem(project, status, deadline, resolved_on=None, **fields):
    return Problem.objects.create(
        project=project,
        region=project.region,
        title=f"问题 {status} {deadline}",
        category=Category.objects.get(code="land"),
        source=Source.PROJECT_UNIT,
        description="用地指标未落实",
        status=status,
        deadline=deadline,
        resolved_at=timezone.make_aware(datetime.combine(resolved_on, time(9))) if resolved_on else None,
        **fields,
    )


PROBLEM_CASES = [
    # (status, deadline, resolved on, counted)
    (P.ASSIGNED, D(2026, 10, 30), None, True),
    (P.REOPENED, D(2026, 10, 1), None, True),
    (P.ASSIGNED, D(2026, 10, 31), None, False),  # due on the scan day
    (P.ASSIGNED, None, None, False),
    (P.ACCEPTED, D(2026, 10, 1), None, False),  # not yet assigned: no deadline runs
    (P.RESOLVED, D(2026, 10, 1), D(2026, 10, 20), False),  # resolved before the scan day
    (P.RESOLVED, D(2026, 10, 1), D(2026, 11, 4), True),  # resolved after it
    (P.CLOSED, D(2026, 10, 1), D(2026, 11, 4), True),
    (P.CLOSED, D(2026, 10, 1), D(2026, 9, 28), False),
    (P.MERGED, D(2026, 10, 1), None, False),
]


@pytest.mark.parametrize(("status", "deadline", "resolved_on", "counted"), PROBLEM_CASES)
def test_problem_overdue_items(projects, status, deadline, resolved_on, counted):
    a = projects["a"]
    p = problem(a, status, deadline, resolved_on)
    readings = scan("problem_overdue_items")
    assert readings[a.pk].value == (1 if counted else 0)
    assert readings[projects["b"].pk].value == 0  # no problems: green, not "not applicable"
    if counted:
        assert readings[a.pk].evidence["problems"] == [
            {
                "id": p.pk,
                "title": p.title,
                "deadline": deadline.isoformat(),
                "days": (AS_OF - deadline).days,
                "lead_unit": "",
            }
        ]


def test_a_shared_problem_counts_for_its_own_project_only(projects):
    p = problem(projects["a"], P.ASSIGNED, D(2026, 10, 1))
    p.other_projects.add(projects["b"])
    readings = scan("problem_overdue_items")
    assert (readings[projects["a"].pk].value, readings[projects["b"].pk].value) == (1, 0)
