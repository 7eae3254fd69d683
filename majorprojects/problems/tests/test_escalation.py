"""The supervision ladder (一通报两约谈) over several months, reruns that add nothing, overdue
first replies, months without progress, and the management command."""

from datetime import date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from majorprojects.audit.models import Event
from majorprojects.problems import services
from majorprojects.problems.escalation import escalate
from majorprojects.problems.models import Escalation, Problem, Reason


def _at(day: date):
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10))


@pytest.fixture
def late(assigned):
    """Assigned on 2026-09-01 with a deadline of 2026-09-30; first reply given on the day."""
    Problem.objects.filter(pk=assigned.pk).update(
        deadline=date(2026, 9, 30),
        assigned_at=_at(date(2026, 9, 1)),
        first_reply_due=date(2026, 9, 8),
        first_reply_at=_at(date(2026, 9, 1)),
    )
    assigned.refresh_from_db()
    return assigned


def test_ladder_over_three_months_with_reruns(late):
    # Not yet overdue on the deadline itself.
    assert escalate(date(2026, 9, 30))["notices"] == 0
    # October: first notice (通报); rerun on the same and a later day of October adds nothing.
    assert escalate(date(2026, 10, 1))["notices"] == 1
    assert escalate(date(2026, 10, 1))["notices"] == 0
    assert escalate(date(2026, 10, 25))["notices"] == 0
    late.refresh_from_db()
    assert (late.notice_count, late.escalation_level) == (1, 1)
    # November: second notice → talk by the deputy leader in charge.
    escalate(date(2026, 11, 2))
    late.refresh_from_db()
    assert (late.notice_count, late.escalation_level) == (2, 2)
    # December: third notice → talk by the head.
    escalate(date(2026, 12, 1))
    escalate(date(2026, 12, 1))
    late.refresh_from_db()
    assert (late.notice_count, late.escalation_level) == (3, 3)
    notices = Escalation.objects.filter(reason=Reason.OVERDUE).order_by("period")
    assert [(e.period, e.notice_number, e.level) for e in notices] == [
        (date(2026, 10, 1), 1, 1),
        (date(2026, 11, 1), 2, 2),
        (date(2026, 12, 1), 3, 3),
    ]
    names = [e.details["level_name"] for e in Event.objects.filter(verb="problem_notice").order_by("id")]
    assert names == ["通报", "分管副职约谈", "主要负责人约谈"]


def test_thresholds_and_names_are_configurable(settings, late):
    settings.PROBLEMS = {"escalation_levels": [(1, "通报"), (3, "分管领导约谈")]}
    for day in (date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)):
        escalate(day)
    levels = list(
        Escalation.objects.filter(reason=Reason.OVERDUE).order_by("period").values_list("level", flat=True)
    )
    assert levels == [1, 1, 2]


def test_an_approved_extension_stops_the_notices(late, users, ledger):
    escalate(date(2026, 10, 1))
    ext = services.problem_extension_request(
        actor=ledger["zrzyj_user"], problem=late, until=date(2027, 1, 31), reason="待批复"
    )
    services.problem_extension_decide(actor=users["admin"], extension=ext, approve=True)
    assert escalate(date(2026, 12, 1))["notices"] == 0
    late.refresh_from_db()
    assert late.escalation_level == 1  # what happened stays on record


def test_resolved_and_closed_items_are_not_supervised(late, ledger):
    services.problem_resolve(actor=ledger["zrzyj_user"], problem=late, resolution="已解决")
    assert escalate(date(2026, 10, 1)) == {"notices": 0, "first_reply": 0, "progress": 0}


def test_first_reply_overdue_is_flagged_once_a_month(assigned, ledger):
    # Assigned today (2026-11-23): first reply due 2026-11-30.
    assert escalate(date(2026, 11, 30))["first_reply"] == 0
    assert escalate(date(2026, 12, 1))["first_reply"] == 1
    assert escalate(date(2026, 12, 15))["first_reply"] == 0
    services.problem_progress(actor=ledger["zrzyj_user"], problem=assigned, text="已接收")
    assert escalate(date(2027, 1, 4))["first_reply"] == 0
    assert Escalation.objects.filter(reason=Reason.FIRST_REPLY).count() == 1


def test_missing_monthly_progress(late, ledger):
    """Assigned 1 Sept (10:00). Only months that began after the assignment count: September is
    never checked; October has no note → flagged once, by the first run in November."""
    counts = escalate(date(2026, 10, 5))  # checks September: assigned 1 Sept, not before it
    assert counts["progress"] == 0
    assert escalate(date(2026, 11, 5))["progress"] == 1
    assert escalate(date(2026, 11, 20))["progress"] == 0
    flag = Escalation.objects.get(reason=Reason.PROGRESS)
    assert flag.period == date(2026, 10, 1)
    # A note in November: nothing to flag for November in December.
    note = services.problem_progress(actor=ledger["sthjj_user"], problem=late, text="配合推进")
    type(note).objects.filter(pk=note.pk).update(created_at=_at(date(2026, 11, 10)))
    assert escalate(date(2026, 12, 2))["progress"] == 0


def test_monthly_progress_flag_can_be_switched_off(settings, late):
    settings.PROBLEMS = {"monthly_progress": False}
    assert escalate(date(2026, 11, 5))["progress"] == 0


def test_command_is_idempotent(late):
    out = StringIO()
    call_command("escalate_problems", "--date", "2026-10-02", stdout=out)
    assert "新增逾期通报 1 条" in out.getvalue()
    out = StringIO()
    call_command("escalate_problems", "--date", "2026-10-02", stdout=out)
    assert "新增逾期通报 0 条；首次答复超期 0 条；当月未报进展 0 条" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("escalate_problems", "--date", "2026-13-01")


def test_command_defaults_to_today(late):
    call_command("escalate_problems", stdout=StringIO())
    late.refresh_from_db()
    assert late.notice_count == 1  # today is 2026-11-23, overdue since October
