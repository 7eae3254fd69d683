"""Period arithmetic (pure) and opening periods with their report slots (open_periods)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from majorprojects.audit.services import event_record
from majorprojects.core.workdays import next_workday
from majorprojects.projects.models import AnnualListing, Project, Stage

from .models import Frequency, Period, Report, Schedule, Status


@dataclass(frozen=True)
class Span:
    year: int
    number: int
    label: str
    starts_on: date
    ends_on: date
    due_on: date
    late_after: date


def _clamp_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_due(schedule: Schedule, year: int, month: int) -> date:
    day = schedule.december_due_day if month == 12 and schedule.december_due_day else schedule.due_day
    return _clamp_day(year, month, day)


def span_for(schedule: Schedule, day: date) -> Span:
    """The period of `schedule` that contains `day`, with its deadline.

    Monthly: the calendar month, due on `due_day` of that month (December: `december_due_day`),
    the way statistics offices close the month before its end. Quarterly: the quarter, due on
    `due_day` of its last month. Weekly: Monday–Sunday, due on `due_weekday`. A deadline on a
    statutory holiday or weekend moves to the next working day when `shift_holidays` is set; a
    report is late only after the deadline plus `grace_days`."""
    if schedule.frequency == Frequency.MONTHLY:
        start = date(day.year, day.month, 1)
        end = _clamp_day(day.year, day.month, 31)
        due = _month_due(schedule, day.year, day.month)
        number, label = day.month, f"{day.year}年{day.month}月"
        year = day.year
    elif schedule.frequency == Frequency.QUARTERLY:
        quarter = (day.month - 1) // 3 + 1
        start = date(day.year, quarter * 3 - 2, 1)
        end = _clamp_day(day.year, quarter * 3, 31)
        due = _month_due(schedule, day.year, quarter * 3)
        number, label = quarter, f"{day.year}年第{quarter}季度"
        year = day.year
    else:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
        due = start + timedelta(days=schedule.due_weekday - 1)
        iso_year, week, _ = start.isocalendar()
        number, label, year = week, f"{iso_year}年第{week}周", iso_year
    if schedule.shift_holidays:
        due = next_workday(due)
    return Span(
        year=year,
        number=number,
        label=label,
        starts_on=start,
        ends_on=end,
        due_on=due,
        late_after=due + timedelta(days=schedule.grace_days),
    )


def spans_until(schedule: Schedule, today: date) -> list[Span]:
    """Every period of `schedule` from its start date up to the one containing `today`."""
    spans = []
    day = schedule.starts_on
    while day <= today:
        span = span_for(schedule, day)
        if span.starts_on >= schedule.starts_on or span.ends_on >= schedule.starts_on:
            spans.append(span)
        day = span.ends_on + timedelta(days=1)
    return spans


def matching_projects(schedule: Schedule, period: Period) -> QuerySet:
    """Projects that owe `schedule` a report for `period`: not packages (their sub-projects
    report), not completed before the period began, and matching the list kinds, stages and
    statistics condition."""
    qs = Project.objects.filter(is_package=False).filter(
        Q(actual_completion_date__isnull=True) | Q(actual_completion_date__gte=period.starts_on)
    )
    if schedule.list_kinds:
        kinds = [k for k in schedule.list_kinds if k != "unlisted"]
        listed = AnnualListing.objects.filter(project=OuterRef("pk"), year=period.starts_on.year)
        cond = Exists(listed.filter(list_kind__in=kinds))
        if "unlisted" in schedule.list_kinds:
            cond = cond | ~Exists(listed)
        qs = qs.filter(cond)
    if schedule.stages:
        qs = qs.filter(stage__in=schedule.stages)
    if schedule.stats_pending_only:
        qs = qs.filter(stage=Stage.CONSTRUCTION, stats_included=False)
    return qs


def _overlapping_money_slots(period: Period) -> QuerySet:
    """Reports in other money-carrying periods whose dates overlap `period` (a project moving
    from quarterly to monthly reporting must not report the same month twice)."""
    return Report.objects.filter(
        period__starts_on__lte=period.ends_on, period__ends_on__gte=period.starts_on
    ).exclude(period__frequency=Frequency.WEEKLY)


@transaction.atomic
def period_refresh_slots(period: Period) -> tuple[int, int]:
    """Create the missing slots of an unlocked period and drop untouched slots of projects that
    no longer owe it a report. Returns (created, removed)."""
    if period.is_locked:
        return 0, 0
    schedule = period.schedule
    wanted = matching_projects(schedule, period)
    if schedule.carries_investment:
        taken = _overlapping_money_slots(period).exclude(period=period).values("project_id")
        wanted = wanted.exclude(pk__in=taken)
    wanted_ids = set(wanted.values_list("pk", flat=True))
    existing = set(period.reports.values_list("project_id", flat=True))
    new = [
        Report(period=period, project_id=pk, period_end=period.ends_on)
        for pk in sorted(wanted_ids - existing)
    ]
    Report.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    removed, _ = (
        period.reports.filter(status=Status.PENDING, version=1).exclude(project_id__in=wanted_ids).delete()
    )
    return len(new), removed


def open_periods(today: date, *, actor=None) -> list[dict]:
    """Open every due period of every active schedule and refresh the slots of open ones.
    Idempotent: a rerun creates nothing new unless projects changed lists or stages."""
    results = []
    for schedule in Schedule.objects.filter(is_active=True):
        for span in spans_until(schedule, today):
            period, created = Period.objects.get_or_create(
                schedule=schedule,
                starts_on=span.starts_on,
                defaults={
                    "frequency": schedule.frequency,
                    "year": span.year,
                    "number": span.number,
                    "label": span.label,
                    "ends_on": span.ends_on,
                    "due_on": span.due_on,
                    "late_after": span.late_after,
                },
            )
            if period.is_locked:
                continue
            if not created and span.ends_on < today - timedelta(days=62):
                continue  # long past and never locked: slots stay as they were
            added, removed = period_refresh_slots(period)
            if created:
                event_record(
                    actor=actor,
                    verb="period_open",
                    target=period,
                    details={"schedule": schedule.name, "due_on": period.due_on, "slots": added},
                )
            results.append({"period": period, "created": created, "added": added, "removed": removed})
    return results
