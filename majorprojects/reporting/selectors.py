"""Reads over dispatch data: the month's plan-vs-done aggregates by any dimension, the trend,
completeness and timeliness of a period, who has not reported, and each user's to-do list.

Every figure about dispatch on a page, in an export or in the API comes from here, over a
project queryset already narrowed by accounts.scope. Definitions (SPEC §4):
- done = the sum of reported period amounts of reports that were sent (submitted, approved or
  locked; drafts and returned reports do not count); a quarterly report counts in its last month;
- plan = the year's planned investment of the annual listings;
- % of plan = year-to-date done / plan; time progress = m/12 (TIME_PROGRESS_BASIS="day": the
  share of the year's days up to the month's end); the difference is in percentage points;
- new-start rate = planned new starts (listing new start, planned start ≤ month end) that have
  started by the month's end; start-and-resumption rate (开复工率) = (those started + continuing
  projects with money reported this year) / (planned new starts + continuing projects);
- completion rate = projects planned to complete by the month's end that have completed.
Packages are left out: their sub-projects carry the plans and the reports.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

from django.conf import settings
from django.db.models import Count, Expression, F, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import can_lock_periods, fillable_reports, reviewable_reports
from majorprojects.organisation.models import Person, Region, RegionKind, Sector, Unit, WorkGroup
from majorprojects.projects.models import AnnualListing, FundingSource, KeyLevel, ListKind

from .models import COUNTED, EDITABLE, Correction, Period, Report, Status, YearDone

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
ONE_PLACE = Decimal("0.1")

DIMENSIONS = {
    "region": "区域",
    "sector": "项目类别",
    "list": "清单",
    "key_level": "重点级别",
    "programme": "资金渠道",
    "leader": "包联领导",
    "work_group": "工作专班",
    "department": "责任部门",
}


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def time_progress(year: int, month: int) -> Decimal:
    """Share of the year elapsed at the end of `month`, in percent (one decimal)."""
    if getattr(settings, "TIME_PROGRESS_BASIS", "month") == "day":
        end = month_end(year, month)
        days = 366 if calendar.isleap(year) else 365
        value = Decimal(end.timetuple().tm_yday) * HUNDRED / days
    else:
        value = Decimal(month) * HUNDRED / 12
    return value.quantize(ONE_PLACE, ROUND_HALF_UP)


def _cents(value) -> Decimal:
    """An amount as Decimal with two places (SQLite sums of decimals come back unscaled)."""
    return Decimal(value or 0).quantize(ZERO)


def percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) * HUNDRED / Decimal(whole)).quantize(ONE_PLACE, ROUND_HALF_UP)


def change(now, before) -> Decimal | None:
    """Growth in percent (环比/同比); None when there is nothing to compare with."""
    if not before:
        return None
    return ((Decimal(now or 0) - Decimal(before)) * HUNDRED / Decimal(before)).quantize(
        ONE_PLACE, ROUND_HALF_UP
    )


def progress_phrase(gap: Decimal | None) -> str:
    """ "超过时间进度 3.2 个百分点" / "落后时间进度 5.0 个百分点" / "与时间进度持平"."""
    if gap is None:
        return "—"
    if gap > 0:
        return f"超过时间进度 {gap} 个百分点"
    if gap < 0:
        return f"落后时间进度 {-gap} 个百分点"
    return "与时间进度持平"


class Row(TypedDict, total=False):
    key: object
    label: str
    projects: int
    plan: Decimal
    done_month: Decimal
    done_prev_month: Decimal
    done_ytd: Decimal
    done_ytd_last_year: Decimal
    plan_pct: Decimal | None
    time_pct: Decimal
    gap_pp: Decimal | None
    gap_text: str
    mom_pct: Decimal | None
    yoy_pct: Decimal | None
    new_planned: int
    new_started: int
    new_start_pct: Decimal | None
    continuing: int
    resumed: int
    start_resume_pct: Decimal | None
    completion_planned: int
    completed: int
    completion_pct: Decimal | None


# --- grouping keys ----------------------------------------------------------------------------


def _key_path(dimension: str, prefix: str) -> str:
    """The column (reached from Report via prefix "project__", from AnnualListing via "project__",
    from Project via "") that groups rows for a dimension."""
    return {
        "total": None,
        "region": f"{prefix}region_id",
        "sector": f"{prefix}sector_id",
        "leader": f"{prefix}package_leader_id",
        "work_group": f"{prefix}work_group_id",
        "department": f"{prefix}responsible_department_id",
        "programme": f"{prefix}funding__source",
        "list": "yl__list_kind",
        "key_level": "yl__key_level",
    }[dimension]


def _base_region(user) -> Region | None:
    """The region whose children are the rows: a county user's own region; otherwise the city
    when the deployment has exactly one, else the top of the tree (a province's cities)."""
    if user is not None and user.role == Role.COUNTY and user.region_id:
        return user.region
    cities = list(Region.objects.filter(kind=RegionKind.CITY).order_by("depth", "code")[:2])
    if len(cities) == 1:
        return cities[0]
    return Region.objects.order_by("depth", "code").first()


def _region_rollup(user) -> tuple[dict, dict]:
    """Map every region id to the group it counts in (the base region's children; projects
    placed on the base region itself count under it; a region outside the base, which only a
    multi-root tree has, is its own row) and give each group its order and label."""
    base = _base_region(user)
    if base is None:
        return {}, {}
    groups = list(base.children.order_by("sort_order", "code"))
    mapping, labels = {}, {}
    for region in Region.objects.only("id", "path", "name", "short_name", "code"):
        if not region.path.startswith(base.path):
            mapping[region.pk] = region.pk
            labels[region.pk] = (10_000 + int(region.code), region.label)
            continue
        owner = next((g for g in groups if region.path.startswith(g.path)), base)
        mapping[region.pk] = owner.pk
    labels.update({g.pk: (i, g.label) for i, g in enumerate(groups, start=1)})
    labels[base.pk] = (0, f"{base.label}（本级）")
    return mapping, labels


def _sector_rollup() -> tuple[dict, dict]:
    sectors = list(Sector.objects.values_list("id", "parent_id", "name", "sort_order"))
    parent = {s[0]: s[1] for s in sectors}
    mapping = {}
    for sector_id, *_ in sectors:
        root = sector_id
        while parent.get(root):
            root = parent[root]
        mapping[sector_id] = root
    labels = {s[0]: (s[3], s[2]) for s in sectors if not s[1]}
    return mapping, labels


def _labels(dimension: str, keys: set, user) -> tuple[dict, dict]:
    """(mapping raw key → group key, group key → (order, label))."""
    identity = {k: k for k in keys}
    if dimension == "region":
        return _region_rollup(user)
    if dimension == "sector":
        return _sector_rollup()
    if dimension == "list":
        return identity, {k: (i, v) for i, (k, v) in enumerate(ListKind.choices)} | {
            None: (99, "未列入年度清单")
        }
    if dimension == "key_level":
        order = [KeyLevel.PROVINCE, KeyLevel.CITY, KeyLevel.COUNTY, KeyLevel.NONE]
        return identity, {k: (order.index(k), KeyLevel(k).label) for k in order} | {
            None: (99, "未列入年度清单")
        }
    if dimension == "programme":
        return identity, {k: (i, v) for i, (k, v) in enumerate(FundingSource.choices)} | {
            None: (99, "未填资金来源")
        }
    model = {"leader": Person, "work_group": WorkGroup, "department": Unit}[dimension]
    names = {
        pk: (i, str(obj))
        for i, (pk, obj) in enumerate((o.pk, o) for o in model.objects.filter(pk__in=[k for k in keys if k]))
    }
    none_label = {"leader": "未明确包联领导", "work_group": "未纳入专班", "department": "未明确责任部门"}
    return identity, names | {None: (9999, none_label[dimension])}


# --- the month's figures ------------------------------------------------------------------------


def _in(qs: QuerySet, projects: QuerySet, prefix: str = "project__") -> QuerySet:
    """Narrow rows to `projects` (not packages). An unfiltered project set (the city admin's)
    adds no subquery at all."""
    qs = qs.filter(**{f"{prefix}is_package": False})
    if projects.query.where:
        qs = qs.filter(**{f"{prefix[:-2] if prefix else 'pk'}__in": projects.values("pk")})
    return qs


def _year_done(projects: QuerySet, years: list[int], listing_year: int) -> QuerySet:
    return _in(YearDone.objects.filter(year__in=years), projects).annotate(
        yl=FilteredRelation("project__listings", condition=Q(project__listings__year=listing_year))
    )


def _months(upto: int, prefix: str = "") -> Expression:
    """m1 + … + m<upto> (a year-to-date sum over YearDone's month columns)."""
    total = F(f"{prefix}m1")
    for m in range(2, upto + 1):
        total = total + F(f"{prefix}m{m}")
    return total


def _listings(projects: QuerySet, year: int) -> QuerySet:
    return _in(AnnualListing.objects.filter(year=year), projects).annotate(yl=F("pk"))


def _money(projects: QuerySet, year: int, month: int, key: str | None) -> dict:
    """Done this month, last month, year to date and the same months last year, from YearDone:
    one row per project and year instead of every report."""
    this, last = Q(year=year), Q(year=year - 1)
    prev = Sum(f"m{month - 1}", filter=this) if month > 1 else Sum("m12", filter=last)
    aggregates = {
        "done_ytd": Sum(_months(month), filter=this),
        "done_month": Sum(f"m{month}", filter=this),
        "done_prev_month": prev,
        "done_ytd_last_year": Sum(_months(month), filter=last),
    }
    qs = _year_done(projects, [year - 1, year], year)
    if key is None:
        return {None: qs.aggregate(**aggregates)}
    return {row.pop("k"): row for row in qs.values(k=F(key)).annotate(**aggregates).order_by()}


def _counts(projects: QuerySet, year: int, month: int, key: str | None) -> dict:
    end = month_end(year, month)
    year_start = date(year, 1, 1)
    qs = _listings(projects, year).annotate(
        yd=FilteredRelation("project__year_done", condition=Q(project__year_done__year=year)),
        p_start=Coalesce("planned_start", "project__planned_start_date"),
        p_done=Coalesce("planned_completion", "project__planned_completion_date"),
        ytd=_months(month, "yd__"),
    )
    new_planned = Q(is_new_start=True, p_start__lte=end)
    continuing = Q(
        is_new_start=False, list_kind=ListKind.CONSTRUCTION, project__actual_start_date__lt=year_start
    )
    completion_planned = Q(p_done__gte=year_start, p_done__lte=end)
    aggregates = {
        "projects": Count("pk"),
        "plan": Sum("planned_investment"),
        "new_planned": Count("pk", filter=new_planned),
        "new_started": Count("pk", filter=new_planned & Q(project__actual_start_date__lte=end)),
        "continuing": Count("pk", filter=continuing),
        "resumed": Count("pk", filter=continuing & Q(ytd__gt=0)),
        "completion_planned": Count("pk", filter=completion_planned),
        "completed": Count("pk", filter=completion_planned & Q(project__actual_completion_date__lte=end)),
    }
    if key is None:
        return {None: qs.aggregate(**aggregates)}
    key = key.replace("yl__", "")
    return {row.pop("k"): row for row in qs.values(k=F(key)).annotate(**aggregates).order_by()}


def _finish(row: dict, year: int, month: int) -> Row:
    for name in ("plan", "done_month", "done_prev_month", "done_ytd", "done_ytd_last_year"):
        row[name] = _cents(row.get(name))
    for name in (
        "projects",
        "new_planned",
        "new_started",
        "continuing",
        "resumed",
        "completion_planned",
        "completed",
    ):
        row[name] = row.get(name) or 0
    row["time_pct"] = time_progress(year, month)
    row["plan_pct"] = percent(row["done_ytd"], row["plan"])
    row["gap_pp"] = None if row["plan_pct"] is None else row["plan_pct"] - row["time_pct"]
    row["gap_text"] = progress_phrase(row["gap_pp"])
    row["mom_pct"] = change(row["done_month"], row["done_prev_month"])
    row["yoy_pct"] = change(row["done_ytd"], row["done_ytd_last_year"])
    row["new_start_pct"] = percent(row["new_started"], row["new_planned"])
    row["start_resume_pct"] = percent(
        row["new_started"] + row["resumed"], row["new_planned"] + row["continuing"]
    )
    row["completion_pct"] = percent(row["completed"], row["completion_planned"])
    return row


def month_summary(projects: QuerySet, year: int, month: int) -> Row:
    """The whole set's figures for a month (the overview's headline)."""
    row = {**_money(projects, year, month, None)[None], **_counts(projects, year, month, None)[None]}
    return _finish(row, year, month)


def month_table(projects: QuerySet, year: int, month: int, dimension: str, *, user=None) -> list[Row]:
    """One row per group of `dimension`, ordered, each with the same figures as month_summary.
    Regions and sectors roll up to the county-level region and the top-level category."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    money = _money(projects, year, month, _key_path(dimension, "project__"))
    counts = _counts(projects, year, month, _key_path(dimension, "project__"))
    mapping, labels = _labels(dimension, set(money) | set(counts), user)
    grouped: dict = defaultdict(lambda: defaultdict(lambda: 0))
    for source in (money, counts):
        for raw, values in source.items():
            group = mapping.get(raw, raw)
            for name, value in values.items():
                grouped[group][name] += value or 0
    rows = []
    for group, values in grouped.items():
        order, label = labels.get(group, (9999, str(group)))
        rows.append((order, label, group, values))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [
        _finish({"key": group, "label": label, **values}, year, month) for _, label, group, values in rows
    ]


def trend(projects: QuerySet, year: int) -> dict:
    """Monthly done this year and last year, the running total and % of this year's plan."""
    sums = {f"{y}_{m}": Sum(f"m{m}", filter=Q(year=y)) for y in (year - 1, year) for m in range(1, 13)}
    row = _in(YearDone.objects.filter(year__in=[year - 1, year]), projects).aggregate(**sums)
    months = {(y, m): _cents(row[f"{y}_{m}"]) for y in (year - 1, year) for m in range(1, 13)}
    plan = _listings(projects, year).aggregate(plan=Sum("planned_investment"))["plan"] or ZERO
    this = [months[(year, m)] for m in range(1, 13)]
    last = [months[(year - 1, m)] for m in range(1, 13)]
    running, cumulative = ZERO, []
    for value in this:
        running += value
        cumulative.append(running)
    return {
        "months": [f"{m}月" for m in range(1, 13)],
        "this_year": this,
        "last_year": last,
        "cumulative": cumulative,
        "plan": plan,
        "plan_pct": [percent(v, plan) for v in cumulative],
        "time_pct": [time_progress(year, m) for m in range(1, 13)],
    }


# --- completeness and timeliness ------------------------------------------------------------------


class Completeness(TypedDict):
    key: object
    label: str
    due: int
    submitted: int
    on_time: int
    late: int
    missing: int
    approved: int
    returned: int
    timely_pct: Decimal | None


COMPLETENESS_GROUPS = {"region": "区域", "department": "责任部门", "list": "清单"}


def _completeness_aggregates() -> dict:
    """due = submitted + missing. Submitted: a report that stands (sent and not sent back);
    on time / late split the submitted by their first sending. Missing: nothing standing —
    never sent, or returned and not yet resent (the returned count is that part of it)."""
    sent = Q(status__in=COUNTED)
    return {
        "due": Count("pk"),
        "submitted": Count("pk", filter=sent),
        "on_time": Count("pk", filter=sent & Q(is_late=False)),
        "late": Count("pk", filter=sent & Q(is_late=True)),
        "missing": Count("pk", filter=Q(status__in=EDITABLE)),
        "approved": Count("pk", filter=Q(status__in=(Status.APPROVED, Status.LOCKED))),
        "returned": Count("pk", filter=Q(status=Status.RETURNED)),
    }


def _completeness_row(values: dict) -> dict:
    values["timely_pct"] = percent(values["on_time"], values["due"])
    return values


def period_completeness(period: Period, reports: QuerySet) -> dict:
    """Due, submitted, on time, late, missing, approved, returned for a period over `reports`
    (already scoped)."""
    qs = reports.filter(period=period)
    return _completeness_row(qs.aggregate(**_completeness_aggregates()))


def period_completeness_by(period: Period, reports: QuerySet, dimension: str, *, user=None) -> list[dict]:
    if dimension not in COMPLETENESS_GROUPS:
        raise ValueError(dimension)
    qs = reports.filter(period=period)
    if dimension == "list":
        qs = qs.annotate(
            yl=FilteredRelation(
                "project__listings", condition=Q(project__listings__year=period.starts_on.year)
            )
        )
        key = "yl__list_kind"
    else:
        key = _key_path(dimension, "project__")
    raw = {row.pop("k"): row for row in qs.values(k=F(key)).annotate(**_completeness_aggregates()).order_by()}
    mapping, labels = _labels(dimension, set(raw), user)
    grouped: dict = defaultdict(lambda: defaultdict(lambda: 0))
    for k, values in raw.items():
        for name, value in values.items():
            grouped[mapping.get(k, k)][name] += value
    rows = sorted(
        ((labels.get(g, (9999, str(g))), g, v) for g, v in grouped.items()), key=lambda r: (r[0][0], r[0][1])
    )
    return [_completeness_row({"key": g, "label": lab[1], **v}) for lab, g, v in rows]


def periods_completeness(periods, reports: QuerySet) -> dict[int, dict]:
    """period_completeness for many periods in one query (the periods list)."""
    ids = [p.pk for p in periods]
    rows = (
        reports.filter(period_id__in=ids)
        .values("period_id")
        .annotate(**_completeness_aggregates())
        .order_by()
    )
    found = {row.pop("period_id"): _completeness_row(row) for row in rows}
    empty = dict.fromkeys(_completeness_aggregates(), 0)
    return {pk: found.get(pk) or _completeness_row(dict(empty)) for pk in ids}


def report_history(report: Report) -> QuerySet:
    """The event rows of one report, newest first (the report page's history)."""
    from majorprojects.audit.models import Event

    return (
        Event.objects.filter(target_type="report", target_id=str(report.pk))
        .select_related("actor")
        .order_by("-at", "-pk")
    )


def missing_reports(period: Period, reports: QuerySet) -> QuerySet:
    """Who has not reported (未报送): slots with no standing report (never sent, or returned and
    not resent), with the contacts to chase."""
    return (
        reports.filter(period=period, status__in=EDITABLE)
        .select_related("project__region", "project__owner_unit", "project__responsible_department", "period")
        .order_by("project__region__path", "project__name")
    )


# --- to-do ----------------------------------------------------------------------------------------


def todo(user, *, today: date | None = None, limit: int = 10) -> dict:
    """What `user` must do in dispatch: reports to fill (project units; counties and departments
    see the unsent reports of their area), reports to review, and for the city periods to lock
    and corrections to decide. Each list is ordered by due date, with counts."""
    today = today or timezone.localdate()
    open_slots = (
        fillable_reports(user)
        .filter(status__in=EDITABLE, period__locked_at__isnull=True, period__starts_on__lte=today)
        .select_related("period", "project")
        .order_by("period__due_on", "project__name")
    )
    to_review = (
        reviewable_reports(user)
        .filter(status=Status.SUBMITTED)
        .select_related("period", "project")
        .order_by("period__due_on", "submitted_at")
    )
    out = {
        "to_fill": list(open_slots[:limit]),
        "to_fill_count": open_slots.count(),
        "to_fill_overdue": open_slots.filter(period__due_on__lt=today).count(),
        "to_review": list(to_review[:limit]),
        "to_review_count": to_review.count(),
        "periods_to_lock": [],
        "corrections": [],
        "today": today,
    }
    if can_lock_periods(user):
        out["periods_to_lock"] = list(
            Period.objects.filter(locked_at__isnull=True, late_after__lt=today - timedelta(days=0)).order_by(
                "ends_on"
            )[:limit]
        )
        out["corrections"] = list(
            Correction.objects.filter(state=Correction.State.PENDING).select_related(
                "report__project", "report__period"
            )[:limit]
        )
    return out


def project_reports(project_id: int) -> QuerySet:
    """A project's reports, newest first (the project file's dispatch tab)."""
    return (
        Report.objects.filter(project_id=project_id)
        .exclude(status=Status.PENDING, period__locked_at__isnull=True)
        .select_related("period")
        .order_by("-period_end", "period__frequency")
    )


def programme_label(value) -> str:
    return dict(FundingSource.choices).get(value, "未填资金来源")


def funds_by_source(projects: QuerySet, year: int, month: int) -> list[dict]:
    """Funds arrived and paid in reports, year to date, by source."""
    from .models import ReportFunds

    rows = (
        ReportFunds.objects.filter(
            report__project__in=projects.values("pk"),
            report__status__in=COUNTED,
            report__period_end__gte=date(year, 1, 1),
            report__period_end__lte=month_end(year, month),
        )
        .values("source")
        .annotate(arrived=Sum("arrived"), paid=Sum("paid"))
        .order_by()
    )
    order = {value: i for i, value in enumerate(FundingSource.values)}
    rows = sorted(rows, key=lambda r: order.get(r["source"], len(order)))
    return [{"source": r["source"], "label": programme_label(r["source"]), **r} for r in rows]
