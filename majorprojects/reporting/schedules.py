"""Editing reporting schedules (city admin) and previewing their next deadlines.

A schedule change applies to periods opened afterwards; periods already open keep the due dates
they were opened with (reports may already have been judged late against them)."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction

from majorprojects.accounts.scope import can_lock_periods
from majorprojects.audit.services import diff, event_record

from .models import Schedule
from .periods import span_for

FIELDS = [
    "name",
    "frequency",
    "list_kinds",
    "stages",
    "stats_pending_only",
    "due_day",
    "december_due_day",
    "due_weekday",
    "shift_holidays",
    "grace_days",
    "jump_multiple",
    "remaining_share",
    "order",
    "is_active",
    "starts_on",
]


@transaction.atomic
def schedule_save(*, actor, schedule: Schedule | None, data: dict) -> Schedule:
    """Create (schedule None) or update a schedule from already validated form `data`; model
    validation runs again here (ValidationError naming the field)."""
    if not can_lock_periods(actor):
        raise PermissionDenied("只有市级管理员可以维护调度安排。")
    creating = schedule is None or schedule.pk is None
    if creating:
        schedule = Schedule()
        before = {}
    else:
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        before = {name: copy.deepcopy(getattr(schedule, name)) for name in FIELDS}
    for name in FIELDS:
        if name in data:
            setattr(schedule, name, data[name])
    changes = diff(schedule, before, [n for n in FIELDS if n in data])
    if not creating and not changes:
        return schedule
    schedule.full_clean()
    if creating:
        schedule.save()
    else:
        schedule.save(update_fields=list(changes))
    event_record(
        actor=actor,
        verb="schedule_save",
        target=schedule,
        details={"created": True, **changes} if creating else changes,
    )
    return schedule


def upcoming_deadlines(schedule: Schedule, today: date, count: int = 3) -> list[dict]:
    """The next `count` periods of `schedule` from the one containing `today` (or its start
    date, if later): label, the nominal deadline, the deadline after a holiday shift, and the
    last day a report still counts as on time."""
    nominal = copy.copy(schedule)
    nominal.shift_holidays = False
    day = max(today, schedule.starts_on) if schedule.starts_on else today
    rows = []
    for _ in range(count):
        span = span_for(schedule, day)
        plain = span_for(nominal, day).due_on
        rows.append(
            {
                "label": span.label,
                "starts_on": span.starts_on,
                "ends_on": span.ends_on,
                "nominal_due": plain,
                "due_on": span.due_on,
                "shifted": span.due_on != plain,
                "late_after": span.late_after,
            }
        )
        day = span.ends_on + timedelta(days=1)
    return rows
