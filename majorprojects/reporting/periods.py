"""Period arithmetic (pure) and opening periods with their report slots (open_periods)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from majorprojects.audit.services import event_record
from majorprojects.core.workdays import next_workday
from majorprojects.projects.models import AnnualListing, Project, Stage

from .models import Frequency, Period, Report, ReportPhoto, Schedule, Status


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


def _wanted_ids(period: Period) -> set[int]:
    """Projects that should have a slot in `period`: matching its schedule and, for a
    money-carrying period, not already reporting money for overlapping dates elsewhere."""
    schedule = period.schedule
    wanted = matching_projects(schedule, period)
    if schedule.carries_investment:
        taken = _overlapping_money_slots(period).exclude(period=period).values("project_id")
        wanted = wanted.exclude(pk__in=taken)
    return set(wanted.values_list("pk", flat=True))


def _drop_untouched(period: Period, wanted_ids: set[int]) -> int:
    """Delete the slots nobody has touched (still pending, first version, no progress photo) of
    projects that no longer owe `period` a report; filled ones stay."""
    untouched = period.reports.filter(status=Status.PENDING, version=1).exclude(
        Exists(ReportPhoto.objects.filter(report=OuterRef("pk")))
    )
    removed, _ = untouched.exclude(project_id__in=wanted_ids).delete()
    return removed


def _open_for_update(period: Period) -> Period | None:
    """The period re-read under a row lock (period_lock takes the same lock), or None once it
    is locked: a caller's copy may be older than a lock taken meanwhile."""
    period = Period.objects.select_for_update(of=("self",)).select_related("schedule").get(pk=period.pk)
    return None if period.is_locked else period


def _carried_totals(period: Period, project_ids: list[int]) -> dict[int, dict]:
    """A new slot starts with the totals the project has reached before the period (prior
    investment plus earlier amounts; the year's so far), so it never shows 0 before its first save."""
    if not project_ids or not period.carries_investment:
        return {}
    year_start = date(period.ends_on.year, 1, 1)
    totals = {}
    for chunk_start in range(0, len(project_ids), 500):
        chunk = project_ids[chunk_start : chunk_start + 500]
        prior = dict(Project.objects.filter(pk__in=chunk).values_list("pk", "prior_investment"))
        earlier = (
            Report.objects.filter(
                project_id__in=chunk, period_end__lt=period.starts_on, investment__isnull=False
            )
            .values("project_id")
            .annotate(total=Sum("investment"), year=Sum("investment", filter=Q(period_end__gte=year_start)))
            .order_by()
        )
        for pk in chunk:
            totals[pk] = {"since_start": prior.get(pk) or Decimal(0), "year_to_date": Decimal(0)}
        for row in earlier:
            totals[row["project_id"]]["since_start"] += row["total"] or 0
            totals[row["project_id"]]["year_to_date"] = row["year"] or Decimal(0)
    return totals


@transaction.atomic
def period_refresh_slots(period: Period) -> tuple[int, int]:
    """Create the missing slots of an unlocked period and drop untouched slots of projects that
    no longer owe it a report. Returns (created, removed)."""
    period = _open_for_update(period)
    if period is None:
        return 0, 0
    wanted_ids = _wanted_ids(period)
    removed = _drop_untouched(period, wanted_ids)
    existing = set(period.reports.values_list("project_id", flat=True))
    new_ids = sorted(wanted_ids - existing)
    carried = _carried_totals(period, new_ids)
    new = [
        Report(period=period, project_id=pk, period_end=period.ends_on, **carried.get(pk, {}))
        for pk in new_ids
    ]
    Report.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new), removed


def open_periods(today: date, *, actor=None) -> list[dict]:
    """Open every due period of every active schedule and refresh the slots of open ones.
    Idempotent: a rerun creates nothing new unless projects changed lists or stages.

    Untouched slots that are no longer owed are dropped in a first pass over all periods, and
    slots are created in a second: a project moving from the quarterly to the monthly schedule
    (or back) frees its overlapping slot before the other schedule looks for it, so one run
    settles the change."""
    todo = []
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
            if not created and span.ends_on < today:
                continue  # ended: a project listed afterwards does not owe it (no instant arrears)
            todo.append((period, created))
    dropped = {}
    for period, created in todo:
        if not created:
            with transaction.atomic():
                current = _open_for_update(period)
                if current is not None:
                    dropped[period.pk] = _drop_untouched(current, _wanted_ids(current))
    results = []
    for period, created in todo:
        added, removed = period_refresh_slots(period)
        if created:
            event_record(
                actor=actor,
                verb="period_open",
                target=period,
                details={"schedule": period.schedule.name, "due_on": period.due_on, "slots": added},
            )
        removed += dropped.get(period.pk, 0)
        results.append({"period": period, "created": created, "added": added, "removed": removed})
    return results
