"""Automatic supervision of the ledger (一通报两约谈, seed 004 六), run by
`manage.py escalate_problems` (daily is fine: every record is once per problem, reason and month,
so a rerun adds nothing).

- Overdue: an item in handling past its deadline gets a notice (通报) in each month it is found
  overdue, the first in the month it becomes overdue. The notice count sets its level on the
  ladder (conf "escalation_levels", by default 1 通报, 2 分管副职约谈, 3 主要负责人约谈).
- First reply overdue: the lead unit has not replied by `first_reply_due` — flagged once a month.
- Missing monthly progress: an item that was in handling through the whole previous calendar
  month (assigned before it began) without any progress note in it — flagged once for that month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from majorprojects.audit.services import event_record

from . import conf
from .models import HANDLING, Escalation, Problem, ProgressNote, Reason
from .notify import notify


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _record(problem: Problem, reason: str, period: date, **fields) -> Escalation | None:
    """The period's record, or None when it already existed (the rerun case)."""
    escalation, created = Escalation.objects.get_or_create(
        problem=problem, reason=reason, period=period, defaults=fields
    )
    return escalation if created else None


def _notice(problem: Problem, today: date) -> bool:
    period = month_start(today)
    with transaction.atomic():
        problem = (
            Problem.objects.select_for_update(of=("self",))
            .select_related("project", "lead_unit")
            .get(pk=problem.pk)
        )
        if problem.status not in HANDLING or not problem.deadline or problem.deadline >= today:
            return False
        if Escalation.objects.filter(problem=problem, reason=Reason.OVERDUE, period=period).exists():
            return False
        number = Escalation.objects.filter(problem=problem, reason=Reason.OVERDUE).count() + 1
        level = max(conf.level_for_notices(number), problem.escalation_level)
        _record(problem, Reason.OVERDUE, period, notice_number=number, level=level, deadline=problem.deadline)
        raised = level > problem.escalation_level
        problem.notice_count = number
        problem.escalation_level = level
        problem.save(update_fields=["notice_count", "escalation_level", "updated_at"])
        event_record(
            actor=None,
            verb="problem_notice",
            target=problem,
            project=problem.project,
            details={
                "period": period.strftime("%Y-%m"),
                "notice": number,
                "level": level,
                "level_name": conf.level_name(level),
                "deadline": problem.deadline,
                "days_overdue": (today - problem.deadline).days,
            },
        )
        notify(
            problem,
            f"逾期督办：第{number}次通报" + (f"（{conf.level_name(level)}）" if raised and level > 1 else ""),
            f"该问题办理时限为 {problem.deadline:%Y-%m-%d}，已逾期 {(today - problem.deadline).days} 天，"
            f"现为第 {number} 次通报，督办等级：{conf.level_name(level)}。",
            units=[problem.lead_unit],
        )
    return True


def _flag(problem: Problem, reason: str, period: date, details: dict) -> bool:
    with transaction.atomic():
        if _record(problem, reason, period, deadline=problem.deadline) is None:
            return False
        event_record(
            actor=None,
            verb=f"problem_flag_{reason}",
            target=problem,
            project=problem.project,
            details={"period": period.strftime("%Y-%m"), **details},
        )
    return True


def _recorded(reason: str, period: date) -> Exists:
    return Exists(Escalation.objects.filter(problem=OuterRef("pk"), reason=reason, period=period))


def escalate(today: date | None = None) -> dict[str, int]:
    """Run the supervision for `today` (default: the local date). Returns how many records were
    added: {"notices", "first_reply", "progress"} — all 0 on a rerun."""
    today = today or timezone.localdate()
    counts = {"notices": 0, "first_reply": 0, "progress": 0}
    in_handling = Problem.objects.filter(status__in=HANDLING).select_related("project", "lead_unit")

    for problem in in_handling.filter(deadline__lt=today).order_by("pk"):
        counts["notices"] += _notice(problem, today)

    period = month_start(today)
    late_reply = in_handling.filter(first_reply_at__isnull=True, first_reply_due__lt=today).exclude(
        _recorded(Reason.FIRST_REPLY, period)
    )
    for problem in late_reply.order_by("pk"):
        counts["first_reply"] += _flag(
            problem, Reason.FIRST_REPLY, period, {"first_reply_due": problem.first_reply_due}
        )

    if conf.get("monthly_progress"):
        last = previous_month(today)
        last_start, this_start = _aware(last), _aware(period)
        noted = ProgressNote.objects.filter(
            problem=OuterRef("pk"), created_at__gte=last_start, created_at__lt=this_start
        )
        silent = (
            in_handling.filter(assigned_at__lt=last_start)
            .exclude(Exists(noted))
            .exclude(_recorded(Reason.PROGRESS, last))
        )
        for problem in silent.order_by("pk"):
            counts["progress"] += _flag(problem, Reason.PROGRESS, last, {"month": last.strftime("%Y-%m")})
    return counts
