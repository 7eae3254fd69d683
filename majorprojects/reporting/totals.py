"""The derived money of dispatch: each report's running totals (what its filler typed so far)
and YearDone, the counted amounts per project, year and month that the figures read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce, ExtractYear

from majorprojects.projects.models import Project

from .models import COUNTED, Report, YearDone

MONTHS = [f"m{m}" for m in range(1, 13)]


def recompute_totals(project_id: int, from_date: date | None = None) -> None:
    """Re-derive year-to-date and since-start totals of a project's reports from `from_date`
    on. Totals are sums of the typed period amounts, so they never go backwards."""
    project = Project.objects.only("prior_investment").get(pk=project_id)
    reports = list(
        Report.objects.filter(project_id=project_id)
        .order_by("period_end", "id")
        .only("id", "period_end", "investment", "year_to_date", "since_start")
    )
    running, year, year_total = project.prior_investment, None, Decimal(0)
    changed = []
    for report in reports:
        if report.period_end.year != year:
            year, year_total = report.period_end.year, Decimal(0)
        amount = report.investment or Decimal(0)
        running += amount
        year_total += amount
        if from_date and report.period_end < from_date:
            continue
        if (report.year_to_date, report.since_start) != (year_total, running):
            report.year_to_date, report.since_start = year_total, running
            changed.append(report)
    Report.objects.bulk_update(changed, ["year_to_date", "since_start"], batch_size=500)


def _counted_by_month(reports) -> dict[tuple[int, int], dict[str, Decimal]]:
    """{(project id, year): {"m1": …, …, "m12": …}} of counted amounts, grouped in SQL."""
    rows = (
        reports.filter(status__in=COUNTED, investment__isnull=False)
        .annotate(y=ExtractYear("period_end"))
        .values("project_id", "y")
        .annotate(
            **{
                f"m{m}": Coalesce(Sum("investment", filter=Q(period_end__month=m)), Decimal(0))
                for m in range(1, 13)
            }
        )
        .order_by()
    )
    return {(row.pop("project_id"), row.pop("y")): row for row in rows}


def year_done_refresh(project_id: int, year: int) -> None:
    """Recount one project's year from its reports (called inside the service's transaction)."""
    counted = _counted_by_month(
        Report.objects.filter(
            project_id=project_id, period_end__gte=date(year, 1, 1), period_end__lte=date(year, 12, 31)
        )
    ).get((project_id, year))
    if counted is None:
        YearDone.objects.filter(project_id=project_id, year=year).delete()
        return
    # An UPDATE first (the common case: the year's row exists); the insert only for a project's
    # first counted report of the year, in a savepoint in case a concurrent request wins it.
    row = YearDone.objects.filter(project_id=project_id, year=year)
    if row.update(**counted):
        return
    try:
        with transaction.atomic():
            YearDone.objects.create(project_id=project_id, year=year, **counted)
    except IntegrityError:
        row.update(**counted)


def counted_amount(report: Report) -> Decimal:
    """What the report adds to the figures as it stands (its status and amount in memory)."""
    return (report.investment or Decimal(0)) if report.status in COUNTED else Decimal(0)


def year_done_shift(report: Report, before: Decimal) -> None:
    """Move the report's month in YearDone by what its counted amount changed since `before`
    (called inside the service's transaction, the report row locked). An `UPDATE … SET m = m + Δ`
    is exact under concurrency; without the year's row the year is counted from the reports."""
    delta = counted_amount(report) - before
    if not delta:
        return
    month = f"m{report.period_end.month}"
    year = report.period_end.year
    if not YearDone.objects.filter(project_id=report.project_id, year=year).update(
        **{month: F(month) + delta}
    ):
        year_done_refresh(report.project_id, year)


def year_done_rebuild(project_ids: Iterable[int] | None = None, *, batch: int = 2000) -> int:
    """Rebuild YearDone from the reports (all projects, or some). Returns the rows written."""
    ids = list(project_ids) if project_ids is not None else list(Project.objects.values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        counted = _counted_by_month(Report.objects.filter(project_id__in=chunk))
        YearDone.objects.filter(project_id__in=chunk).delete()
        YearDone.objects.bulk_create(
            [YearDone(project_id=pid, year=year, **months) for (pid, year), months in counted.items()],
            batch_size=1000,
        )
        written += len(counted)
    return written
