"""The metrics that warning rules light projects and regions on (SPEC C6): what a value is for
one month, with the numbers behind it. Thresholds, consecutive periods, grace, exemptions,
escalation and carry-over are the engine's business (alerts.engine), not the metrics'.

Every metric computes all its subjects in bulk: a bounded number of queries (at most six)
whatever the number of projects. `compute` returns a Reading for every subject of the context
(every project of `ctx.projects`, packages left out; every region of `ctx.regions`); value None
means the metric does not apply to that subject this month (no light at all, not green).

A metric judges the state "as of" `ctx.as_of` = min(ctx.today, ctx.period_end): the month's last
day once the month is over, the scan's today while it runs. Dates recorded after that day are
read as not yet having happened, so a rescan of a past month gives the same readings after
projects start, items are approved or problems are resolved.

Definitions with worked examples: docs/alerts-metrics.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    FilteredRelation,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from majorprojects.approvals.models import GRANTED, ApprovalItem, ItemStatus
from majorprojects.approvals.models import OPEN as APPROVAL_OPEN
from majorprojects.funds.models import Allocation
from majorprojects.funds.selectors import _sums as fund_sums
from majorprojects.funds.selectors import pace
from majorprojects.problems.models import Problem
from majorprojects.problems.models import Status as ProblemStatus
from majorprojects.problems.selectors import overdue_q
from majorprojects.projects.models import AnnualListing, Stage
from majorprojects.reporting.models import COUNTED, Frequency, Report, YearDone
from majorprojects.reporting.models import Status as ReportStatus
from majorprojects.reporting.selectors import _months, change, percent, time_progress

from .models import RegionTarget

PROJECT = "project"
REGION = "region"
ZERO = Decimal("0.00")
STARTED_STAGES = (Stage.CONSTRUCTION, Stage.COMPLETED, Stage.OPERATING)
REPORT_KINDS = ("missing", "late", "missing_or_late")
EVIDENCE_ROWS = 10  # items listed in a reading's evidence (the count is always complete)


# --- the interface --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanContext:
    year: int  # the period scanned: a month
    month: int
    period_end: date  # last day of the month
    today: date  # period_end for past months, localdate() for the current one
    projects: QuerySet  # narrowed to the rule's scope; packages excluded
    regions: QuerySet  # counties/zones under the city, for region metrics
    params: dict  # the rule's metric parameters, validated against Metric.params
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # shared by one scan's rules

    @property
    def as_of(self) -> date:
        """The day the state is judged on: the month's end once it is over, else today."""
        return min(self.today, self.period_end)


@dataclass(frozen=True)
class Reading:
    value: Decimal | int | None  # None: not applicable to this subject (no light at all)
    evidence: dict  # JSON-able numbers and labels behind the value (docs/alerts-metrics.md)


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    subject: str  # "project" | "region"
    unit: str
    higher_is_worse: bool  # True: thresholds are "value >= t"; False: "value <= t"
    params: dict  # name -> (type, required, Chinese label, allowed values or None)
    compute: Callable[[ScanContext], dict[int, Reading]]
    description: str = ""  # one Chinese sentence for the rule editor


METRICS: dict[str, Metric] = {}


def metric(code: str) -> Metric:
    try:
        return METRICS[code]
    except KeyError:
        raise KeyError(f"未知的预警指标：{code}") from None


def _register(**kwargs) -> None:
    m = Metric(**kwargs)
    METRICS[m.code] = m


# --- helpers --------------------------------------------------------------------------------------


_JSON = {Decimal: str, date: date.isoformat}


def _j(value):
    """A value for the evidence JSON: Decimal as its exact string, dates in ISO form."""
    convert = _JSON.get(type(value))
    return value if convert is None else convert(value)


def _evidence(**values) -> dict:
    return {k: _j(v) for k, v in values.items()}


def _projects(ctx: ScanContext) -> QuerySet:
    return ctx.projects.filter(is_package=False)


def _project_ids(ctx: ScanContext) -> list[int]:
    return list(_projects(ctx).order_by().values_list("pk", flat=True))


def _in_scope(qs: QuerySet, ctx: ScanContext, prefix: str = "project__") -> QuerySet:
    """Rows of `qs` belonging to the context's projects (one subquery, none when unfiltered)."""
    qs = qs.filter(**{f"{prefix}is_package": False})
    if ctx.projects.query.where:
        qs = qs.filter(**{f"{prefix}in": ctx.projects.values("pk")})
    return qs


def _month_index(day_or_year, month: int | None = None) -> int:
    if month is None:
        return day_or_year.year * 12 + day_or_year.month
    return day_or_year * 12 + month


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


# One shared reading for "not applicable" (readings are not changed after they are made).
NOT_APPLICABLE = Reading(None, {})


def _none_for(ids) -> dict[int, Reading]:
    return dict.fromkeys(ids, NOT_APPLICABLE)


def _day_after_start(day: date) -> datetime:
    """The first moment of the day after `day` (local time): `moment < this` is "on or before
    `day`", without a per-row date cast in SQL."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _local_day(moment, zone) -> date | None:
    return moment.astimezone(zone).date() if moment else None


# --- 1. start overdue -----------------------------------------------------------------------------


def start_overdue_months(ctx: ScanContext) -> dict[int, Reading]:
    """Months a planned start is overdue, counting the planned month itself: planned 2026-03-15
    and not started at 2026-03-31 → 1; still not started at 2026-05-31 → 3 (March, April, May).
    The planned start is this year's listing's, else the project's. Started (actual start on or
    before as_of, or a started stage without a date), no planned start, or a planned start after
    as_of → None."""
    as_of = ctx.as_of
    rows = (
        _projects(ctx)
        .annotate(
            yl=FilteredRelation("listings", condition=Q(listings__year=ctx.year)),
            p_start=Coalesce("yl__planned_start", "planned_start_date"),
        )
        .order_by()
        .values_list("pk", "p_start", "yl__planned_start", "actual_start_date", "stage")
    )
    out = {}
    for pk, p_start, listed_start, actual, stage in rows:
        started = actual <= as_of if actual else stage in STARTED_STAGES
        if p_start is None or p_start > as_of or started:
            out[pk] = NOT_APPLICABLE
            continue
        months = _month_index(ctx.year, ctx.month) - _month_index(p_start) + 1
        out[pk] = Reading(
            months,
            _evidence(
                planned_start=p_start,
                planned_start_source="listing" if listed_start else "project",
                actual_start=actual,
                as_of=as_of,
                months_overdue=months,
            ),
        )
    return out


# --- 2. plan gap ----------------------------------------------------------------------------------


def plan_gap_pp(ctx: ScanContext) -> dict[int, Reading]:
    """Year-to-date counted investment (YearDone m1…m<month>) / this year's listing plan × 100,
    one decimal, minus time progress (reporting.selectors.time_progress), in percentage points.
    None without a listing plan > 0 for the year."""
    out = _none_for(_project_ids(ctx))
    time_pct = time_progress(ctx.year, ctx.month)
    rows = (
        _in_scope(AnnualListing.objects.filter(year=ctx.year, planned_investment__gt=0), ctx)
        .annotate(
            yd=FilteredRelation("project__year_done", condition=Q(project__year_done__year=ctx.year)),
            ytd=_months(ctx.month, "yd__"),
        )
        .order_by()
        .values_list("project_id", "planned_investment", "ytd")
    )
    for pk, plan, ytd in rows:
        done = _cents(ytd)
        plan_pct = percent(done, plan)
        out[pk] = Reading(
            plan_pct - time_pct,
            _evidence(
                plan=_cents(plan),
                done_ytd=done,
                months=f"1-{ctx.month}月",
                plan_pct=plan_pct,
                time_pct=time_pct,
                gap_pp=plan_pct - time_pct,
            ),
        )
    return out


# --- 3. fund payment pace -------------------------------------------------------------------------


def fund_pace_gap_pp(ctx: ScanContext) -> dict[int, Reading]:
    """Payment progress minus expected pace over a project's allocations whose programme has a
    usage window (funds.selectors.pace and its sums, as of as_of), issued on or before as_of,
    optionally of one programme: paid% = Σpaid / Σallocated, expected% = Σexpected /
    Σallocated (each one decimal), value = paid% − expected% — the amount-weighted gap. None
    without such allocations."""
    out = _none_for(_project_ids(ctx))
    as_of = ctx.as_of
    qs = _in_scope(
        Allocation.objects.filter(issued_on__lte=as_of, programme__window_months__isnull=False), ctx
    )
    code = ctx.params.get("programme")
    if code:
        qs = qs.filter(programme__code=code)
    rows = (
        qs.values_list(
            "pk",
            "project_id",
            "amount",
            "issued_on",
            "document_no",
            "programme__name",
            "programme__window_months",
            "programme__straight_line",
        )
        .annotate(paid=fund_sums(as_of)["paid_sum"])
        .order_by("project_id", "issued_on", "pk")
    )
    grouped: dict[int, list] = defaultdict(list)
    for _pk, project_id, amount, issued_on, document_no, programme, window, straight, paid in rows:
        paid = _cents(paid)
        step = pace(
            amount=amount,
            paid=paid,
            issued_on=issued_on,
            as_of=as_of,
            window_months=window,
            straight_line=straight,
        )
        grouped[project_id].append((amount, paid, step, issued_on, document_no, programme))
    for pk, rows in grouped.items():
        allocated = sum((r[0] for r in rows), ZERO)
        paid = sum((r[1] for r in rows), ZERO)
        expected = sum((r[2]["expected"] for r in rows), ZERO)
        paid_pct, expected_pct = percent(paid, allocated), percent(expected, allocated)
        out[pk] = Reading(
            paid_pct - expected_pct,
            {
                **_evidence(
                    as_of=as_of,
                    programme=code or None,
                    allocated=_cents(allocated),
                    paid=_cents(paid),
                    expected=_cents(expected),
                    paid_pct=paid_pct,
                    expected_pct=expected_pct,
                    gap_pp=paid_pct - expected_pct,
                    behind=sum(1 for r in rows if r[2]["behind"]),
                ),
                "allocations": [
                    _evidence(
                        programme=programme,
                        document_no=document_no,
                        issued_on=issued_on,
                        amount=_cents(amount),
                        paid=paid_one,
                        expected=step["expected"],
                        window_end=step["window_end"],
                    )
                    for amount, paid_one, step, issued_on, document_no, programme in rows[:EVIDENCE_ROWS]
                ],
            },
        )
    return out


# --- 4. started, not in the statistics ------------------------------------------------------------


def stats_pending_months(ctx: ScanContext) -> dict[int, Reading]:
    """Calendar months from the start month to the scanned month for a project started on or
    before as_of and not included in the statistics by as_of (not included, or included after
    as_of): started 2026-03-10, still not included at 2026-05-31 → 2; started in May → 0. A
    project included without a date counts as included. Not started → None."""
    as_of = ctx.as_of
    rows = (
        _projects(ctx)
        .order_by()
        .values_list("pk", "actual_start_date", "stats_included", "stats_included_date")
    )
    out = {}
    for pk, started, included, included_on in rows:
        pending = not included or (included_on is not None and included_on > as_of)
        if started is None or started > as_of or not pending:
            out[pk] = NOT_APPLICABLE
            continue
        months = _month_index(ctx.year, ctx.month) - _month_index(started)
        out[pk] = Reading(
            months,
            _evidence(
                started_on=started,
                stats_included=bool(included),
                stats_included_date=included_on,
                as_of=as_of,
                months_pending=months,
            ),
        )
    return out


# --- 5. reports missing or late -------------------------------------------------------------------


def _judged_until(ctx: ScanContext) -> date:
    """The last deadline a scan may judge: the month's last day once the month is at its end (a
    deadline shifted onto the 30th is judged by that month's scan), otherwise the day before
    today (a report due today can still be sent today)."""
    as_of = ctx.as_of
    return as_of if as_of == ctx.period_end else as_of - timedelta(days=1)


def _report_flags(ctx: ScanContext) -> tuple[Q, Q, Q]:
    """(judged, missing, late) over Report rows, as of as_of. Judged: the deadline with grace
    (Period.late_after) is on or before _judged_until. Missing: no report standing on as_of —
    never sent, returned and not resent (the completeness selector's "missing": status
    pending/draft/returned), or first sent after as_of. Late: standing, first sent after the
    deadline with grace (Report.is_late, set when it was first sent)."""
    as_of = ctx.as_of
    judged = Q(period__late_after__lte=_judged_until(ctx))
    standing = Q(status__in=COUNTED) & (
        Q(submitted_at__isnull=True) | Q(submitted_at__lt=_day_after_start(as_of))
    )
    missing = judged & ~standing
    late = judged & standing & Q(is_late=True)
    return judged, missing, late


def report_missing_periods(ctx: ScanContext) -> dict[int, Reading]:
    """Consecutive reporting periods of the project (its monthly or quarterly slots, weekly ones
    left out) ending with the slot whose period ends with the scanned month, in which the report
    was missing, late, or either (param kind, default missing_or_late). 0 when this month's slot
    is fine. None when the project has no slot ending this month (a quarterly reporter in the
    quarter's first two months) or when its deadline has not passed (see _judged_until)."""
    kind = ctx.params.get("kind") or "missing_or_late"
    if kind not in REPORT_KINDS:
        raise ValueError(f"漏报指标参数 kind 应为 {', '.join(REPORT_KINDS)} 之一：{kind}")
    judged, missing, late = _report_flags(ctx)
    bad = {"missing": missing, "late": late, "missing_or_late": missing | late}[kind]
    as_of = ctx.as_of
    out = _none_for(_project_ids(ctx))
    slots = _in_scope(Report.objects.exclude(period__frequency=Frequency.WEEKLY), ctx)
    now = (
        slots.filter(period_end=ctx.period_end)
        .order_by()
        .values_list(
            "project_id",
            "status",
            "submitted_at",
            "is_late",
            "period__label",
            "period__due_on",
            "period__late_after",
        )
    )
    current = {}
    for pk, status, sent, is_late, label, due_on, late_after in now:
        current[pk] = (status, sent, is_late, label, due_on, late_after)
    bad_now = slots.filter(period_end=ctx.period_end).filter(bad).values("project_id")
    # The last judged slot before this month that was fine, per project whose slot is bad now:
    # one aggregate (a correlated subquery per row costs seconds on PostgreSQL).
    last_good = dict(
        Report.objects.exclude(period__frequency=Frequency.WEEKLY)
        .filter(project_id__in=bad_now, period_end__lt=ctx.period_end)
        .filter(judged)
        .exclude(bad)
        .values("project_id")
        .annotate(last=Max("period_end"))
        .order_by()
        .values_list("project_id", "last")
    )
    # Driven from the projects whose slot is bad now (already in scope), not from the scope.
    streaks = (
        Report.objects.exclude(period__frequency=Frequency.WEEKLY)
        .filter(project_id__in=bad_now, period_end__lte=ctx.period_end)
        .filter(bad)
        .annotate(
            is_missing=Case(
                When(missing, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
        .order_by("project_id", "-period_end")
        .values_list("project_id", "period_end", "period__label", "is_missing")
    )
    zone = timezone.get_current_timezone()
    runs: dict[int, list] = defaultdict(list)
    for pk, end, label, is_missing in streaks:
        good = last_good.get(pk)
        if good is None or end > good:
            runs[pk].append((label, bool(is_missing)))
    for pk, (status, sent, is_late, label, due_on, late_after) in current.items():
        if late_after > _judged_until(ctx):
            continue
        run = runs.get(pk, [])
        out[pk] = Reading(
            len(run),
            {
                **_evidence(
                    kind=kind,
                    period=label,
                    due_on=due_on,
                    late_after=late_after,
                    as_of=as_of,
                    status=ReportStatus(status).label,
                    submitted_on=_local_day(sent, zone),
                    late=bool(is_late),
                    periods_missing=sum(1 for _, m in run if m),
                    periods_late=sum(1 for _, m in run if not m),
                ),
                "periods": [lab for lab, _ in run],
            },
        )
    return out


# --- 6, 7. approval items and promises ------------------------------------------------------------


def _ledger_counts(ctx: ScanContext, flagged: Q, when: str, extra: dict | None = None) -> dict[int, Reading]:
    """Count of a project's approval items matching `flagged`, None without a ledger; the
    evidence lists the flagged items by `when` (their planned or promised date), oldest first."""
    out = _none_for(_project_ids(ctx))
    items = _in_scope(ApprovalItem.objects.all(), ctx)
    counts = (
        items.order_by().values("project_id").annotate(items=Count("pk"), flagged=Count("pk", filter=flagged))
    )
    details = defaultdict(list)
    rows = (
        items.filter(flagged)
        .order_by("project_id", when, "position", "pk")
        .values_list("project_id", "item_type__name", when, "status")
    )
    for pk, name, day, status in rows:
        details[pk].append((name, day, status))
    as_of = ctx.as_of
    for row in counts:
        pk, found = row["project_id"], details.get(row["project_id"], [])
        out[pk] = Reading(
            row["flagged"],
            {
                **_evidence(as_of=as_of, items=row["items"], flagged=row["flagged"]),
                **(extra or {}),
                "flagged_items": [
                    _evidence(item=name, date=day, days=(as_of - day).days, status=ItemStatus(status).label)
                    for name, day, status in found[:EVIDENCE_ROWS]
                ],
            },
        )
    return out


def approval_overdue_items(ctx: ScanContext) -> dict[int, Reading]:
    """Approval items overdue by at least max(1, min_days) days at as_of: still to do
    (未启动/办理中) — or granted after as_of — with the planned date that many days before
    as_of. With min_days 0 this is approvals.selectors' "overdue" flag (planned date before
    today). None when the project has no ledger."""
    days = max(1, int(ctx.params.get("min_days") or 0))
    as_of = ctx.as_of
    flagged = Q(planned_date__lte=as_of - timedelta(days=days)) & (
        Q(status__in=APPROVAL_OPEN) | Q(status__in=GRANTED, actual_date__gt=as_of)
    )
    return _ledger_counts(ctx, flagged, "planned_date", {"min_days": days})


def promise_overdue_items(ctx: ScanContext) -> dict[int, Reading]:
    """Promise-based approvals (容缺/告知承诺) whose promised date is before as_of and whose
    papers were not supplied by as_of (approvals.selectors' "promise_overdue" flag). A promise
    due today is not overdue. None when the project has no ledger."""
    as_of = ctx.as_of
    flagged = Q(promise_due_date__lt=as_of) & (
        Q(status=ItemStatus.PROMISED, papers_supplied_date__isnull=True)
        | Q(status__in=GRANTED, papers_supplied_date__gt=as_of)
    )
    return _ledger_counts(ctx, flagged, "promise_due_date")


# --- 8. problems ----------------------------------------------------------------------------------


def problem_overdue_items(ctx: ScanContext) -> dict[int, Reading]:
    """The project's own problems (not the ones it shares) overdue at as_of:
    problems.selectors.overdue_q (in handling, deadline before as_of), plus those resolved
    after as_of whose deadline was already past then. 0 when none."""
    as_of = ctx.as_of
    flagged = overdue_q(as_of) | Q(
        status__in=(ProblemStatus.RESOLVED, ProblemStatus.CLOSED),
        resolved_at__gte=_day_after_start(as_of),
        deadline__lt=as_of,
    )
    rows = (
        _in_scope(Problem.objects.filter(flagged), ctx)
        .order_by("project_id", "deadline", "pk")
        .values_list("project_id", "pk", "title", "deadline", "lead_unit__name")
    )
    found = defaultdict(list)
    for pk, problem_id, title, deadline, unit in rows:
        found[pk].append((problem_id, title, deadline, unit))
    out = {}
    for pk in _project_ids(ctx):
        items = found.get(pk, [])
        out[pk] = Reading(
            len(items),
            {
                **_evidence(as_of=as_of, overdue=len(items)),
                "problems": [
                    _evidence(id=i, title=t, deadline=d, days=(as_of - d).days, lead_unit=u or "")
                    for i, t, d, u in items[:EVIDENCE_ROWS]
                ],
            },
        )
    return out


# --- region metrics -------------------------------------------------------------------------------


@dataclass
class _Money:
    months: list  # this year's counted amounts m1…m12, all projects
    listed: list  # the same, projects listed this year
    last_ytd: Decimal  # last year's m1…m<month>
    plan: Decimal  # this year's listing plans

    @classmethod
    def empty(cls):
        return cls([ZERO] * 12, [ZERO] * 12, ZERO, ZERO)

    def add(self, other: _Money) -> None:
        self.months = [a + b for a, b in zip(self.months, other.months, strict=True)]
        self.listed = [a + b for a, b in zip(self.listed, other.listed, strict=True)]
        self.last_ytd += other.last_ytd
        self.plan += other.plan


def _region_money(ctx: ScanContext) -> tuple[list, dict[int, _Money], _Money]:
    """(regions, money per region (its subtree), the whole of ctx.projects) in three queries:
    the regions, YearDone grouped by the projects' region path, listings likewise. Computed once
    per scan for the same projects and regions (the four region rules share it)."""
    key = ("region_money", str(ctx.projects.query), str(ctx.regions.query))
    if key not in ctx.cache:
        ctx.cache[key] = _region_money_read(ctx)
    return ctx.cache[key]


def _region_money_read(ctx: ScanContext) -> tuple[list, dict[int, _Money], _Money]:
    year, month = ctx.year, ctx.month
    regions = list(ctx.regions.order_by("path").values_list("pk", "path"))
    this, last = Q(year=year), Q(year=year - 1)
    listed = Q(yl__id__isnull=False)
    done = (
        _in_scope(YearDone.objects.filter(year__in=[year - 1, year]), ctx)
        .annotate(yl=FilteredRelation("project__listings", condition=Q(project__listings__year=year)))
        .values(path=F("project__region__path"))
        .annotate(
            **{f"t{m}": Sum(f"m{m}", filter=this) for m in range(1, 13)},
            **{f"l{m}": Sum(f"m{m}", filter=this & listed) for m in range(1, 13)},
            last_ytd=Sum(_months(month), filter=last),
        )
        .order_by()
    )
    plans = (
        _in_scope(AnnualListing.objects.filter(year=year), ctx)
        .values(path=F("project__region__path"))
        .annotate(plan=Sum("planned_investment"))
        .order_by()
    )
    by_path: dict[str, _Money] = defaultdict(_Money.empty)
    for row in done:
        money = by_path[row["path"]]
        money.add(
            _Money(
                [_cents(row[f"t{m}"]) for m in range(1, 13)],
                [_cents(row[f"l{m}"]) for m in range(1, 13)],
                _cents(row["last_ytd"]),
                ZERO,
            )
        )
    for row in plans:
        by_path[row["path"]].plan += _cents(row["plan"])
    total = _Money.empty()
    for money in by_path.values():
        total.add(money)
    per_region = {}
    for pk, path in regions:
        money = _Money.empty()
        for p, m in by_path.items():
            if p.startswith(path):
                money.add(m)
        per_region[pk] = money
    return regions, per_region, total


def _growth(money: _Money, month: int) -> tuple[Decimal, Decimal | None]:
    ytd = sum(money.months[:month], ZERO)
    return ytd, change(ytd, money.last_ytd)


def _plan_gap(money: _Money, year: int, month: int) -> tuple[Decimal, Decimal | None, Decimal]:
    done = sum(money.listed[:month], ZERO)
    plan_pct = percent(done, money.plan)
    return done, plan_pct, time_progress(year, month)


def _targets(ctx: ScanContext) -> dict[int, RegionTarget]:
    return {
        t.region_id: t
        for t in RegionTarget.objects.filter(year=ctx.year, region__in=ctx.regions.values("pk"))
    }


def region_growth_vs_target_pp(ctx: ScanContext) -> dict[int, Reading]:
    """YTD growth over the same months last year (one decimal, reporting.selectors.change) minus
    the region's RegionTarget.growth_pct for the year. None without a target or without last
    year's base."""
    regions, money, _ = _region_money(ctx)
    targets = _targets(ctx)
    out = {}
    for pk, _path in regions:
        target = targets.get(pk)
        ytd, growth = _growth(money[pk], ctx.month)
        if target is None or target.growth_pct is None or growth is None:
            out[pk] = Reading(
                None, _evidence(done_ytd=ytd, last_year_ytd=money[pk].last_ytd, growth_pct=growth)
            )
            continue
        out[pk] = Reading(
            growth - target.growth_pct,
            _evidence(
                months=f"1-{ctx.month}月",
                done_ytd=ytd,
                last_year_ytd=money[pk].last_ytd,
                growth_pct=growth,
                target_pct=target.growth_pct,
                gap_pp=growth - target.growth_pct,
            ),
        )
    return out


def region_growth_vs_city_pp(ctx: ScanContext) -> dict[int, Reading]:
    """The region's YTD growth minus the city's: the growth of the sums over all of
    ctx.projects (the whole city, not an average of the regions' rates). None when the region
    or the city has no base last year."""
    regions, money, total = _region_money(ctx)
    city_ytd, city_growth = _growth(total, ctx.month)
    out = {}
    for pk, _path in regions:
        ytd, growth = _growth(money[pk], ctx.month)
        numbers = _evidence(
            months=f"1-{ctx.month}月",
            done_ytd=ytd,
            last_year_ytd=money[pk].last_ytd,
            growth_pct=growth,
            city_done_ytd=city_ytd,
            city_last_year_ytd=total.last_ytd,
            city_growth_pct=city_growth,
        )
        if growth is None or city_growth is None:
            out[pk] = Reading(None, numbers)
            continue
        out[pk] = Reading(growth - city_growth, {**numbers, "gap_pp": _j(growth - city_growth)})
    return out


def region_plan_gap_pp(ctx: ScanContext) -> dict[int, Reading]:
    """YTD counted investment of the region's projects listed this year / their listing plans
    × 100 (one decimal) minus time progress. None when the plans sum to 0."""
    regions, money, _ = _region_money(ctx)
    out = {}
    for pk, _path in regions:
        done, plan_pct, time_pct = _plan_gap(money[pk], ctx.year, ctx.month)
        numbers = _evidence(months=f"1-{ctx.month}月", plan=money[pk].plan, done_ytd=done, time_pct=time_pct)
        if plan_pct is None:
            out[pk] = Reading(None, numbers)
            continue
        out[pk] = Reading(
            plan_pct - time_pct, {**numbers, **_evidence(plan_pct=plan_pct, gap_pp=plan_pct - time_pct)}
        )
    return out


def region_behind_months(ctx: ScanContext) -> dict[int, Reading]:
    """Consecutive months of this year up to the scanned one in which region_plan_gap_pp was
    below 0 (each month's YTD from YearDone's month columns against the same plan). 0 when not
    behind this month. None when the plans sum to 0."""
    regions, money, _ = _region_money(ctx)
    out = {}
    for pk, _path in regions:
        if not money[pk].plan:
            out[pk] = Reading(None, _evidence(plan=money[pk].plan))
            continue
        months = []
        for m in range(ctx.month, 0, -1):
            done, plan_pct, time_pct = _plan_gap(money[pk], ctx.year, m)
            if plan_pct - time_pct >= 0:
                break
            months.append(
                _evidence(
                    month=m, done_ytd=done, plan_pct=plan_pct, time_pct=time_pct, gap_pp=plan_pct - time_pct
                )
            )
        out[pk] = Reading(
            len(months), {**_evidence(plan=money[pk].plan, behind_months=len(months)), "months": months}
        )
    return out


def region_month_task_pct(ctx: ScanContext) -> dict[int, Reading]:
    """This month's counted investment / (the annual task ÷ 12) × 100, one decimal. The annual
    task is the region's RegionTarget.investment for the year when set (then the month's done
    is all of its projects'), else the listing plans of its projects listed this year (then the
    month's done is theirs). A quarterly report counts in the quarter's last month. None when
    the task is 0."""
    regions, money, _ = _region_money(ctx)
    targets = _targets(ctx)
    out = {}
    for pk, _path in regions:
        target = targets.get(pk)
        if target is not None and target.investment:
            basis, annual, done = "target", target.investment, money[pk].months[ctx.month - 1]
        else:
            basis, annual, done = "plan", money[pk].plan, money[pk].listed[ctx.month - 1]
        task = _cents(Decimal(annual) / 12) if annual else ZERO
        numbers = _evidence(
            basis=basis, annual_task=_cents(annual), month_task=task, done_month=done, month=ctx.month
        )
        if not annual:
            out[pk] = Reading(None, numbers)
            continue
        value = percent(done * 12, annual)
        out[pk] = Reading(value, {**numbers, "task_pct": _j(value)})
    return out


# --- the registry ---------------------------------------------------------------------------------

_register(
    code="start_overdue_months",
    label="计划开工逾期月数",
    subject=PROJECT,
    unit="个月",
    higher_is_worse=True,
    params={},
    compute=start_overdue_months,
    description="计划开工日期已到而未开工的月数（计划开工当月计 1 个月）",
)
_register(
    code="plan_gap_pp",
    label="年度投资完成进度与时间进度之差",
    subject=PROJECT,
    unit="个百分点",
    higher_is_worse=False,
    params={},
    compute=plan_gap_pp,
    description="本年累计完成投资占年度计划投资的比例减去时间进度",
)
_register(
    code="fund_pace_gap_pp",
    label="资金支付进度与序时进度之差",
    subject=PROJECT,
    unit="个百分点",
    higher_is_worse=False,
    params={"programme": (str, False, "资金渠道代码", None)},
    compute=fund_pace_gap_pp,
    description="设有使用期限的下达资金：累计支付比例减去按期限直线推算的应支付比例",
)
_register(
    code="stats_pending_months",
    label="开工未入统月数",
    subject=PROJECT,
    unit="个月",
    higher_is_worse=True,
    params={},
    compute=stats_pending_months,
    description="已开工未入统项目自开工当月起经过的月数（开工当月为 0）",
)
_register(
    code="report_missing_periods",
    label="连续漏报期数",
    subject=PROJECT,
    unit="期",
    higher_is_worse=True,
    params={"kind": (str, False, "口径（漏报/迟报/漏报或迟报）", REPORT_KINDS)},
    compute=report_missing_periods,
    description="截至本月一期，连续漏报（或迟报）的调度期数",
)
_register(
    code="approval_overdue_items",
    label="前期手续逾期事项数",
    subject=PROJECT,
    unit="项",
    higher_is_worse=True,
    params={"min_days": (int, False, "逾期天数不少于", None)},
    compute=approval_overdue_items,
    description="超过计划完成日期仍未办结的前期工作事项数",
)
_register(
    code="promise_overdue_items",
    label="容缺承诺逾期事项数",
    subject=PROJECT,
    unit="项",
    higher_is_worse=True,
    params={},
    compute=promise_overdue_items,
    description="超过承诺补齐期限仍未补齐要件的容缺承诺事项数",
)
_register(
    code="problem_overdue_items",
    label="问题办理逾期数",
    subject=PROJECT,
    unit="项",
    higher_is_worse=True,
    params={},
    compute=problem_overdue_items,
    description="超过办理时限仍未办结的问题数",
)
_register(
    code="region_growth_vs_target_pp",
    label="投资增速与目标之差",
    subject=REGION,
    unit="个百分点",
    higher_is_worse=False,
    params={},
    compute=region_growth_vs_target_pp,
    description="本年累计完成投资同比增速减去年度增长目标",
)
_register(
    code="region_growth_vs_city_pp",
    label="投资增速与全市平均之差",
    subject=REGION,
    unit="个百分点",
    higher_is_worse=False,
    params={},
    compute=region_growth_vs_city_pp,
    description="本年累计完成投资同比增速减去全市增速",
)
_register(
    code="region_plan_gap_pp",
    label="年度计划完成与时间进度之差",
    subject=REGION,
    unit="个百分点",
    higher_is_worse=False,
    params={},
    compute=region_plan_gap_pp,
    description="列入年度清单项目本年累计完成占年度计划的比例减去时间进度",
)
_register(
    code="region_behind_months",
    label="连续落后时间进度月数",
    subject=REGION,
    unit="个月",
    higher_is_worse=True,
    params={},
    compute=region_behind_months,
    description="截至本月连续落后时间进度的月数",
)
_register(
    code="region_month_task_pct",
    label="月度投资任务完成率",
    subject=REGION,
    unit="%",
    higher_is_worse=False,
    params={},
    compute=region_month_task_pct,
    description="本月完成投资占月度任务（年度任务的十二分之一）的比例",
)
