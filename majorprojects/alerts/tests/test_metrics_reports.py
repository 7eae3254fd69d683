"""report_missing_periods: consecutive periods with the report missing, late, or either.

The monthly schedule (due on the 28th, a weekend or holiday deadline moved to the next working
day, no grace) opened January–October 2026 for projects a and b (annual construction list); zone
is in the reserve list and owes no report. Deadlines used below: July 28, August 28, September 28,
October 28 (all working days).

Project a: January–June sent on time; July never sent; August sent on time, then returned and
not resent; September sent late (29 September); October never sent.
Project b: every month sent on time (October on the deadline itself)."""

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from majorprojects.alerts.tests.test_metrics import scan
from majorprojects.factories import ListingFactory
from majorprojects.projects.models import ListKind, Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Frequency, Period, Report, Schedule, Status
from majorprojects.reporting.periods import open_periods

D = date


def sent_on(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def mark(project, month, status, day=None, year=2026):
    """Set a slot's state as the services leave it: first sending time and lateness."""
    report = Report.objects.select_related("period").get(
        project=project, period__year=year, period__number=month
    )
    report.status = status
    report.submitted_at = sent_on(day) if day else None
    report.is_late = bool(day) and day > report.period.late_after
    report.save(update_fields=["status", "submitted_at", "is_late"])
    return report


@pytest.fixture
def dispatch(projects):
    Schedule.objects.all().delete()
    Schedule.objects.create(
        name="月调度",
        frequency=Frequency.MONTHLY,
        list_kinds=[ListKind.CONSTRUCTION],
        due_day=28,
        december_due_day=25,
        starts_on=D(2026, 1, 1),
    )
    ListingFactory(project=projects["a"], list_kind=ListKind.CONSTRUCTION)
    ListingFactory(project=projects["b"], list_kind=ListKind.CONSTRUCTION)
    ListingFactory(project=projects["zone"], list_kind=ListKind.RESERVE)
    open_periods(D(2026, 10, 5))
    a, b = projects["a"], projects["b"]
    for m in range(1, 7):
        mark(a, m, Status.APPROVED, D(2026, m, 20))
    mark(a, 7, Status.PENDING)
    mark(a, 8, Status.RETURNED, D(2026, 8, 20))  # first sent on time, returned, not resent
    mark(a, 9, Status.SUBMITTED, D(2026, 9, 29))  # a day late
    mark(a, 10, Status.DRAFT)
    for m in range(1, 10):
        mark(b, m, Status.SUBMITTED, D(2026, m, 25))
    mark(b, 10, Status.SUBMITTED, D(2026, 10, 28))  # on the deadline
    return projects


@pytest.mark.parametrize(
    ("month", "kind", "a", "b"),
    [
        # October, either: Oct missing, Sep late, Aug returned (missing), Jul missing; June fine → 4
        (10, "missing_or_late", 4, 0),
        (10, None, 4, 0),  # the default kind
        (10, "missing", 1, 0),  # Oct missing; September's late report ends the run
        (10, "late", 0, 0),  # October is missing, not late
        (9, "missing_or_late", 3, 0),  # Sep, Aug, Jul
        (9, "late", 1, 0),
        (9, "missing", 0, 0),
        (8, "missing", 2, 0),  # Aug returned-not-resent, Jul never sent
        (6, "missing_or_late", 0, 0),
    ],
)
def test_consecutive_periods(dispatch, month, kind, a, b):
    params = {"kind": kind} if kind else {}
    readings = scan("report_missing_periods", month=month, **params)
    assert (readings[dispatch["a"].pk].value, readings[dispatch["b"].pk].value) == (a, b)
    assert readings[dispatch["zone"].pk].value is None  # no slot


def test_evidence_lists_the_periods(dispatch):
    evidence = scan("report_missing_periods")[dispatch["a"].pk].evidence
    assert evidence == {
        "kind": "missing_or_late",
        "period": "2026年10月",
        "due_on": "2026-10-28",
        "late_after": "2026-10-28",
        "as_of": "2026-10-31",
        "status": "草稿",
        "submitted_on": None,
        "late": False,
        "periods_missing": 3,
        "periods_late": 1,
        "periods": ["2026年10月", "2026年9月", "2026年8月", "2026年7月"],
    }


def test_the_day_after_the_deadline_is_late(dispatch):
    mark(dispatch["b"], 10, Status.SUBMITTED, D(2026, 10, 29))
    assert scan("report_missing_periods", kind="late")[dispatch["b"].pk].value == 1
    assert scan("report_missing_periods", kind="missing")[dispatch["b"].pk].value == 0


def test_not_judged_before_the_deadline(dispatch):
    """October scanned on 20 or 28 October: its deadline (28th) has not passed → None. On the
    29th it is judged."""
    for today in (D(2026, 10, 20), D(2026, 10, 28)):
        readings = scan("report_missing_periods", today=today)
        assert readings[dispatch["a"].pk].value is None
        assert readings[dispatch["b"].pk].value is None
    readings = scan("report_missing_periods", today=D(2026, 10, 29))
    assert readings[dispatch["a"].pk].value == 4
    assert readings[dispatch["b"].pk].value == 0


def test_a_report_sent_after_the_scan_day_was_missing_on_it(dispatch):
    """a sends October on 3 November (late). The October scan (as of 31 October) still sees it
    missing; September's late report ends a "missing" run there."""
    mark(dispatch["a"], 10, Status.SUBMITTED, D(2026, 11, 3))
    assert scan("report_missing_periods", kind="missing")[dispatch["a"].pk].value == 1
    assert scan("report_missing_periods", kind="late")[dispatch["a"].pk].value == 0
    # in November's run (November not sent either) the October report counts as late:
    # Nov missing, Oct late, Sep late, Aug and Jul missing → 5; "missing" alone stops at Oct → 1
    open_periods(D(2026, 11, 5))
    assert scan("report_missing_periods", month=11)[dispatch["a"].pk].value == 5
    assert scan("report_missing_periods", month=11, kind="missing")[dispatch["a"].pk].value == 1


def test_a_deadline_on_the_months_last_day_is_judged_by_that_months_scan(dispatch):
    """November 2026: the 28th is a Saturday, the deadline moves to Monday the 30th, the last
    day of the month. The November scan (as of 30 November) judges it."""
    open_periods(D(2026, 11, 5))
    november = Period.objects.get(year=2026, number=11, frequency=Frequency.MONTHLY)
    assert november.late_after == D(2026, 11, 30)
    readings = scan("report_missing_periods", month=11)
    assert readings[dispatch["a"].pk].value == 5  # Nov, Oct, Sep (late), Aug, Jul
    assert readings[dispatch["b"].pk].value == 1  # November not sent
    # during November (today the 23rd) it is not judged yet
    assert scan("report_missing_periods", month=11, today=D(2026, 11, 23))[dispatch["a"].pk].value is None


def test_weekly_periods_are_not_counted(dispatch):
    """A weekly schedule for started projects not in the statistics adds weekly slots that are
    never sent; the metric reads only the money-carrying (monthly/quarterly) ones."""
    Project.objects.filter(pk=dispatch["b"].pk).update(stage=Stage.CONSTRUCTION, stats_included=False)
    Schedule.objects.create(
        name="周调度",
        frequency=Frequency.WEEKLY,
        stats_pending_only=True,
        starts_on=D(2026, 10, 1),
        order=20,
    )
    open_periods(D(2026, 10, 30))
    assert Report.objects.filter(project=dispatch["b"], period__frequency=Frequency.WEEKLY).exists()
    assert scan("report_missing_periods")[dispatch["b"].pk].value == 0


@pytest.mark.parametrize(("day", "expected"), [(D(2026, 10, 28), 0), (D(2026, 10, 29), 1)])
def test_sending_through_the_service_on_the_due_day_or_the_day_after(
    monkeypatch, dispatch, users, day, expected
):
    """The report service decides lateness when the report is sent; the metric follows it."""
    a = dispatch["a"]
    Project.objects.filter(pk=a.pk).update(stage=Stage.CONSTRUCTION, actual_start_date=D(2026, 3, 1))
    for m in range(7, 10):
        mark(a, m, Status.APPROVED, D(2026, m, 20))
    report = Report.objects.get(project=a, period__year=2026, period__number=10)
    monkeypatch.setattr(timezone, "localdate", lambda *args: day)
    monkeypatch.setattr(timezone, "now", lambda: sent_on(day))
    services.report_save_submit(
        actor=users["owner_a"],
        report=report,
        data={"investment": "800", "progress": "主体施工", "percent_complete": "40", "next_plan": "继续施工"},
    )
    assert scan("report_missing_periods")[a.pk].value == expected
