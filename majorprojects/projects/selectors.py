"""Reads over the project library. Every figure shown on a page, an export or the API about
projects comes from here, over a queryset already narrowed by accounts.scope."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TypedDict

from django.db.models import Count, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum

from majorprojects.audit.models import Event

from .models import AnnualListing, Project, Stage

ZERO = Decimal("0.00")


class Totals(TypedDict):
    count: int
    total_investment: Decimal
    planned_investment: Decimal


def with_year(qs: QuerySet, year: int) -> QuerySet:
    """Annotate each project with its listing for `year` (plan, list kind, key level, new start)."""
    listing = AnnualListing.objects.filter(project=OuterRef("pk"), year=year)
    return qs.annotate(
        year_plan=Subquery(listing.values("planned_investment")[:1]),
        year_list_kind=Subquery(listing.values("list_kind")[:1]),
        year_key_level=Subquery(listing.values("key_level")[:1]),
        year_new_start=Subquery(listing.values("is_new_start")[:1]),
    )


def list_rows(qs: QuerySet, year: int) -> QuerySet:
    """The project list's rows: the related names it shows, joined once, plus the year's listing."""
    return with_year(qs, year).select_related(
        "region", "owner_unit", "sector", "industry", "responsible_department", "package_leader"
    )


def _counted(qs: QuerySet) -> Q:
    """Rows whose money is counted: a package with sub-projects in the same set is represented
    by them (its own total is their sum), so it is left out to avoid counting twice. One
    uncorrelated subquery: a NOT EXISTS over the filtered set is re-run per row on SQLite."""
    return ~Q(pk__in=qs.filter(parent__isnull=False).values("parent_id"))


def _countable(qs: QuerySet) -> QuerySet:
    return qs.filter(_counted(qs))


def list_totals(qs: QuerySet, year: int) -> tuple[int, Totals]:
    """The number of rows listed and the footer figures, in one query that runs the filters
    once (the list page gives the row count to its paginator instead of counting again)."""
    qs = qs.order_by()
    counted = _counted(qs)
    agg = (
        Project.objects.filter(pk__in=qs.values("pk"))
        .annotate(this_year=FilteredRelation("listings", condition=Q(listings__year=year)))
        .aggregate(
            rows=Count("pk"),
            n=Count("pk", filter=counted),
            total=Sum("total_investment", filter=counted),
            plan=Sum("this_year__planned_investment", filter=counted),
        )
    )
    totals = Totals(
        count=agg["n"] or 0, total_investment=agg["total"] or ZERO, planned_investment=agg["plan"] or ZERO
    )
    return agg["rows"] or 0, totals


def project_totals(qs: QuerySet, year: int) -> Totals:
    """Footer figures: 项目数, 总投资 and 年度计划投资 (万元) for exactly the rows listed."""
    return list_totals(qs, year)[1]


def stage_breakdown(qs: QuerySet) -> list[dict]:
    """Projects and total investment per lifecycle stage, in lifecycle order (for charts)."""
    rows = {
        r["stage"]: r
        for r in _countable(qs.order_by())
        .values("stage")
        .annotate(n=Count("pk"), total=Sum("total_investment"))
    }
    return [
        {
            "stage": s.value,
            "label": s.label,
            "count": rows.get(s.value, {}).get("n", 0),
            "total_investment": rows.get(s.value, {}).get("total") or ZERO,
        }
        for s in Stage
    ]


def region_breakdown(qs: QuerySet, year: int, regions) -> list[dict]:
    """Per region (each with its subtree): count, total investment, the year's planned investment."""
    out = []
    for region in regions:
        sub = qs.filter(region__path__startswith=region.path)
        totals = project_totals(sub, year)
        out.append({"region": region, **totals})
    return out


def package_rollup(project: Project, year: int, *, user=None) -> dict:
    """A package's sub-projects that `user` may read, with the package's totals (the sums over all
    its sub-projects). Sub-projects outside the user's scope are counted, not shown."""
    from majorprojects.accounts.scope import project_q

    children = project.children.all()
    if user is not None:
        children = children.filter(project_q(user))
    shown = list(with_year(children.select_related("owner_unit", "region"), year))
    plan = AnnualListing.objects.filter(project__parent=project, year=year).aggregate(
        s=Sum("planned_investment")
    )
    return {
        "children": shown,
        "hidden_count": project.children.count() - len(shown),
        "total_investment": project.children.aggregate(s=Sum("total_investment"))["s"] or ZERO,
        "planned_investment": plan["s"] or ZERO,
    }


def project_timeline(project: Project, limit: int = 200) -> QuerySet:
    return Event.objects.filter(project=project).select_related("actor")[:limit]


def export_rows(qs: QuerySet, year: int) -> Iterator[dict]:
    """Plain dicts for the Excel export, streamed in chunks so 50,000 rows stay in bounded memory."""
    qs = with_year(qs, year).order_by("region__path", "-total_investment", "id")
    fields = [
        "pk",
        "name",
        "code",
        "region__name",
        "owner_unit__name",
        "sector__name",
        "industry__name",
        "content",
        "address",
        "approval_regime",
        "start_year",
        "end_year",
        "total_investment",
        "year_plan",
        "year_list_kind",
        "year_key_level",
        "year_new_start",
        "planned_start_date",
        "planned_completion_date",
        "stage",
        "actual_start_date",
        "actual_completion_date",
        "responsible_department__name",
        "package_leader__name",
        "work_group__name",
        "contact_name",
        "contact_phone",
        "is_private_investment",
        "is_high_tech",
        "parent__name",
        "is_package",
    ]
    chunk: list[dict] = []
    for row in qs.values(*fields).iterator(chunk_size=2000):
        chunk.append(row)
        if len(chunk) >= 2000:
            yield from _with_tags(chunk)
            chunk = []
    if chunk:
        yield from _with_tags(chunk)


def _with_tags(rows: list[dict]) -> Iterator[dict]:
    ids = [r["pk"] for r in rows]
    names: dict[int, list[str]] = {}
    for pid, tag in Project.tags.through.objects.filter(project_id__in=ids).values_list(
        "project_id", "tag__name"
    ):
        names.setdefault(pid, []).append(tag)
    for r in rows:
        r["tags"] = "、".join(sorted(names.get(r["pk"], [])))
        yield r
