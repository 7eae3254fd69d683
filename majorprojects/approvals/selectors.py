"""Reads over the approvals ledger: one project's ledger, the city-wide matrix, the overdue list,
the validity clocks, and readiness ("ready to start", "ready for funding"). Every figure the
pages, the API, the exports and the scan command show comes from here, over rows scoped by
accounts.scope.visible_projects.

Flags (computed for `today`, timezone.localdate() unless given):
- overdue: 未启动/办理中 and the planned date has passed;
- promise_overdue: 容缺承诺 whose papers are not supplied by the promised date;
- lapse_risk: a granted approval (已办结/容缺承诺) with a validity clock that ends within the item
  type's warning window and has not been used (the project has not started, or for a clock used
  by a later item, that item is not granted yet);
- lapsed: the same clock has already ended unused.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from typing import TypedDict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from majorprojects.accounts.scope import visible_projects
from majorprojects.projects.models import FundingSource, Project, Stage

from .models import (
    GRANTED,
    OPEN,
    ApprovalItem,
    ApprovalItemType,
    ItemStatus,
    ReadinessRule,
    ReadinessTarget,
    TemplateItem,
    UsedWhen,
)

FLAG_LABELS = {
    "overdue": "逾期未办结",
    "promise_overdue": "承诺逾期未补齐",
    "lapse_risk": "批复即将失效",
    "lapsed": "批复已失效",
}
STARTED_STAGES = (Stage.CONSTRUCTION, Stage.COMPLETED, Stage.OPERATING)
NOT_STARTED_STAGES = (Stage.CONCEIVED, Stage.RESERVED, Stage.PREPARING, Stage.SIGNED)
LEDGER_STAGES = (Stage.PREPARING, Stage.SIGNED)  # where every project is expected to have a ledger
MATRIX_DIMENSIONS = {"item_type": "审批事项", "unit": "责任单位", "region": "所在区域"}


class Flags(TypedDict):
    overdue: bool
    promise_overdue: bool
    lapse_risk: bool
    lapsed: bool
    overdue_days: int | None
    expires_on: date | None
    days_left: int | None
    kinds: list[str]
    labels: list[str]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def project_started(project: Project) -> bool:
    return bool(project.actual_start_date) or project.stage in STARTED_STAGES


def item_flags(item: ApprovalItem, *, today: date, started: bool, granted_types: set[int]) -> Flags:
    """The flags of one item. `started`: the project has started; `granted_types`: item type ids
    granted (已办结/容缺承诺) in the same project's ledger."""
    overdue = item.status in OPEN and item.planned_date is not None and item.planned_date < today
    promise_overdue = (
        item.status == ItemStatus.PROMISED
        and item.papers_supplied_date is None
        and item.promise_due_date is not None
        and item.promise_due_date < today
    )
    kind = item.item_type
    expires_on = None
    if item.status in GRANTED and item.actual_date and kind.validity_months:
        expires_on = add_months(item.actual_date, kind.validity_months)
    used = started or (
        kind.used_when == UsedWhen.ITEM and kind.used_by_id is not None and kind.used_by_id in granted_types
    )
    days_left = (expires_on - today).days if expires_on else None
    running = expires_on is not None and not used
    lapsed = running and days_left < 0
    lapse_risk = running and 0 <= days_left <= kind.warn_days
    overdue_days = None
    if overdue:
        overdue_days = (today - item.planned_date).days
    elif promise_overdue:
        overdue_days = (today - item.promise_due_date).days
    values = {
        "overdue": overdue,
        "promise_overdue": promise_overdue,
        "lapse_risk": lapse_risk,
        "lapsed": lapsed,
    }
    kinds = [k for k, on in values.items() if on]
    return Flags(
        **values,
        overdue_days=overdue_days,
        expires_on=expires_on if running else None,
        days_left=days_left if running else None,
        kinds=kinds,
        labels=[FLAG_LABELS[k] for k in kinds],
    )


def _granted_by_project(project_ids) -> dict[int, set[int]]:
    granted: dict[int, set[int]] = defaultdict(set)
    for project_id, type_id in ApprovalItem.objects.filter(
        project_id__in=project_ids, status__in=GRANTED
    ).values_list("project_id", "item_type_id"):
        granted[project_id].add(type_id)
    return granted


def with_flags(items, today: date | None = None) -> list[dict]:
    """[{"item", "flags", "flag_labels"}] for items with project and item_type selected (one
    extra query for the granted items of their projects)."""
    today = _today(today)
    items = list(items)
    granted = _granted_by_project({i.project_id for i in items})
    rows = []
    for item in items:
        flags = item_flags(
            item, today=today, started=project_started(item.project), granted_types=granted[item.project_id]
        )
        rows.append({"item": item, "flags": flags, "flag_labels": flags["labels"]})
    return rows


# --- Scoped rows and filters -------------------------------------------------------------------


def _filter_projects(qs: QuerySet, *, region=None, sector=None, prefix: str = "") -> QuerySet:
    if region is not None:
        qs = qs.filter(**{f"{prefix}region__path__startswith": region.path})
    if sector is not None:
        qs = qs.filter(
            Q(**{f"{prefix}sector": sector})
            | Q(**{f"{prefix}industry": sector})
            | Q(**{f"{prefix}industry__parent": sector})
        )
    return qs


def ledger_items(
    user,
    *,
    region=None,
    sector=None,
    status: str | None = None,
    item_type: ApprovalItemType | None = None,
    unit=None,
    project: Project | None = None,
) -> QuerySet:
    """Items of the projects `user` may read, filtered (region subtree, sector or industry,
    status, item type, responsible unit, project), in project then template order."""
    qs = ApprovalItem.objects.filter(project__in=visible_projects(user))
    qs = _filter_projects(qs, region=region, sector=sector, prefix="project__")
    if status:
        qs = qs.filter(status=status)
    if item_type is not None:
        qs = qs.filter(item_type=item_type)
    if unit is not None:
        qs = qs.filter(responsible_unit=unit)
    if project is not None:
        qs = qs.filter(project=project)
    return qs.select_related("project__region", "item_type", "responsible_unit", "attachment").order_by(
        "project__region__path", "project_id", "position", "id"
    )


# --- One project ----------------------------------------------------------------------------


class LedgerSummary(TypedDict):
    total: int
    applicable: int
    done: int
    promised: int
    in_progress: int
    not_started: int
    not_applicable: int
    overdue: int
    promise_overdue: int
    lapse_risk: int
    lapsed: int


def summarise(rows: list[dict]) -> LedgerSummary:
    counts = defaultdict(int)
    for row in rows:
        counts[row["item"].status] += 1
        for kind in row["flags"]["kinds"]:
            counts[kind] += 1
    total = len(rows)
    return LedgerSummary(
        total=total,
        applicable=total - counts[ItemStatus.NOT_APPLICABLE],
        done=counts[ItemStatus.DONE],
        promised=counts[ItemStatus.PROMISED],
        in_progress=counts[ItemStatus.IN_PROGRESS],
        not_started=counts[ItemStatus.NOT_STARTED],
        not_applicable=counts[ItemStatus.NOT_APPLICABLE],
        overdue=counts["overdue"],
        promise_overdue=counts["promise_overdue"],
        lapse_risk=counts["lapse_risk"],
        lapsed=counts["lapsed"],
    )


def project_ledger(project: Project, *, today: date | None = None) -> dict:
    """One project's ledger for its tab: items in template order, each with planned vs actual
    (`slip_days`: days done after the plan, or days past the plan while still open) and flags,
    and the summary (已办结 n / m applicable, overdue k …). `project` must come from
    accounts.scope.get_project."""
    today = _today(today)
    items = (
        ApprovalItem.objects.filter(project=project)
        .select_related("item_type", "responsible_unit", "attachment")
        .order_by("position", "id")
    )
    items = list(items)
    for item in items:
        item.project = project
    rows = with_flags(items, today)
    for row in rows:
        item = row["item"]
        slip = None
        if item.planned_date:
            if item.actual_date:
                slip = (item.actual_date - item.planned_date).days
            elif item.status in OPEN:
                slip = (today - item.planned_date).days
        row["slip_days"] = slip
    return {
        "project": project,
        "rows": rows,
        "summary": summarise(rows),
        "has_template": TemplateItem.objects.filter(regime=project.approval_regime).exists(),
    }


# --- City-wide ------------------------------------------------------------------------------


def ledger_matrix(
    user, *, by: str = "item_type", region=None, sector=None, today: date | None = None
) -> dict:
    """Counts of items by `by` (item_type | unit | region) × status, with overdue counts and
    totals, over the items `user` may read. One grouped query."""
    if by not in MATRIX_DIMENSIONS:
        raise ValueError(by)
    today = _today(today)
    qs = _filter_projects(
        ApprovalItem.objects.filter(project__in=visible_projects(user)),
        region=region,
        sector=sector,
        prefix="project__",
    )
    key, label, order = {
        "item_type": ("item_type_id", "item_type__name", "item_type__sort_order"),
        "unit": ("responsible_unit_id", "responsible_unit__name", "responsible_unit__name"),
        "region": ("project__region_id", "project__region__name", "project__region__path"),
    }[by]
    grouped = (
        qs.order_by()
        .values(key, label, order, "status")
        .annotate(n=Count("id"), late=Count("id", filter=Q(status__in=OPEN, planned_date__lt=today)))
    )
    rows: dict = {}
    for g in grouped:
        row = rows.setdefault(
            g[key],
            {
                "key": g[key],
                "label": g[label] or "未指定责任单位",
                "order": g[order] if g[order] is not None else "",
                "counts": dict.fromkeys(ItemStatus.values, 0),
                "total": 0,
                "overdue": 0,
            },
        )
        row["counts"][g["status"]] += g["n"]
        row["total"] += g["n"]
        row["overdue"] += g["late"]
    ordered = sorted(rows.values(), key=lambda r: (r["key"] is None, str(r["order"]), r["label"]))
    totals = {
        "counts": {s: sum(r["counts"][s] for r in ordered) for s in ItemStatus.values},
        "total": sum(r["total"] for r in ordered),
        "overdue": sum(r["overdue"] for r in ordered),
    }
    for row in ordered:
        del row["order"]
    return {
        "by": by,
        "by_label": MATRIX_DIMENSIONS[by],
        "statuses": [{"value": s.value, "label": s.label} for s in ItemStatus],
        "rows": ordered,
        "totals": totals,
    }


def overdue_items(
    user,
    *,
    kind: str | None = None,
    region=None,
    sector=None,
    item_type: ApprovalItemType | None = None,
    unit=None,
    today: date | None = None,
) -> list[dict]:
    """Items needing attention: overdue, promise overdue, about to lapse or lapsed (`kind` picks
    one of FLAG_LABELS). Rows as with_flags, most overdue first, then the soonest to lapse."""
    qs = ledger_items(user, region=region, sector=sector, item_type=item_type, unit=unit)
    return flagged_rows(qs, kind=kind, today=today)


def flagged_rows(qs: QuerySet, *, kind: str | None = None, today: date | None = None) -> list[dict]:
    """The rows of `qs` (items with project and item_type selected) that carry a flag."""
    if kind is not None and kind not in FLAG_LABELS:
        raise ValueError(kind)
    today = _today(today)
    candidates = (
        Q(status__in=OPEN, planned_date__lt=today)
        | Q(status=ItemStatus.PROMISED, papers_supplied_date__isnull=True, promise_due_date__lt=today)
        | Q(
            status__in=GRANTED,
            actual_date__isnull=False,
            item_type__validity_months__isnull=False,
            project__actual_start_date__isnull=True,
        )
    )
    rows = [row for row in with_flags(qs.filter(candidates), today) if row["flags"]["kinds"]]
    if kind:
        rows = [row for row in rows if row["flags"][kind]]
    rows.sort(
        key=lambda r: (
            -(r["flags"]["overdue_days"] or 0),
            r["flags"]["days_left"] if r["flags"]["days_left"] is not None else 10**6,
            r["item"].project_id,
            r["item"].position,
        )
    )
    return rows


# --- Readiness ------------------------------------------------------------------------------


def readiness_rules(target: str | None = None) -> list[ReadinessRule]:
    qs = ReadinessRule.objects.filter(is_active=True).prefetch_related(
        "requirements__item_type", "except_types"
    )
    if target:
        qs = qs.filter(target=target)
    return list(qs)


def _status_labels(values) -> list[str]:
    return [ItemStatus(v).label for v in values if v in ItemStatus.values]


def evaluate(rule: ReadinessRule, items: list[ApprovalItem]) -> list[dict]:
    """What `rule` finds missing in a project's ledger: [{"item_type", "name", "status",
    "status_label", "wanted"}] (status None: the item is not in the ledger at all)."""
    by_type = {i.item_type_id: i for i in items}
    missing = []
    if rule.all_items:
        if not items:
            missing.append(
                {
                    "item_type": None,
                    "name": "前期工作台账",
                    "status": None,
                    "status_label": "未建立",
                    "wanted": [],
                }
            )
        excepted = {t.pk for t in rule.except_types.all()}
        for item in items:
            if item.item_type_id not in excepted and item.status not in rule.all_statuses:
                missing.append(_missing(item.item_type, item, rule.all_statuses))
    for requirement in rule.requirements.all():
        item = by_type.get(requirement.item_type_id)
        if item is None or item.status not in requirement.statuses:
            missing.append(_missing(requirement.item_type, item, requirement.statuses))
    return missing


def _missing(item_type, item, wanted) -> dict:
    return {
        "item_type": item_type,
        "name": item_type.name,
        "status": item.status if item else None,
        "status_label": item.get_status_display() if item else "未列入台账",
        "wanted": _status_labels(wanted),
    }


def _readiness_rows(projects: list[Project], rules: list[ReadinessRule]) -> list[dict]:
    items: dict[int, list[ApprovalItem]] = defaultdict(list)
    for item in (
        ApprovalItem.objects.filter(project__in=[p.pk for p in projects])
        .select_related("item_type")
        .order_by("position", "id")
    ):
        items[item.project_id].append(item)
    rows = []
    for project in projects:
        missing, seen = [], set()
        for rule in rules:
            for entry in evaluate(rule, items[project.pk]):
                key = entry["item_type"].pk if entry["item_type"] else None
                if key not in seen:
                    seen.add(key)
                    missing.append({**entry, "rule": rule.name})
        rows.append(
            {
                "project": project,
                "ready": not missing,
                "missing": missing,
                "items": len(items[project.pk]),
            }
        )
    rows.sort(key=lambda r: (not r["ready"], len(r["missing"]), r["project"].region.path, r["project"].pk))
    return rows


def ready_to_start(user, *, region=None, sector=None, ready: bool | None = None) -> list[dict]:
    """Projects not yet started (in 前期/签约, or earlier with a ledger) against the "start" rules:
    [{"project", "ready", "missing": [...], "items": n}], ready ones first. `ready` filters."""
    rules = readiness_rules(ReadinessTarget.START)
    qs = _filter_projects(visible_projects(user), region=region, sector=sector)
    qs = (
        qs.filter(stage__in=NOT_STARTED_STAGES, actual_start_date__isnull=True)
        .filter(Q(stage__in=LEDGER_STAGES) | Q(approval_items__isnull=False))
        .distinct()
        .select_related("region", "owner_unit")
    )
    rows = _readiness_rows(list(qs), rules)
    return rows if ready is None else [r for r in rows if r["ready"] == ready]


def ready_for_funding(
    user, programme: str, *, region=None, sector=None, ready: bool | None = None
) -> list[dict]:
    """Projects counting on `programme` (a FundingSource value in their funding) and not yet
    completed, against the funding rules for that programme. Same rows as ready_to_start, plus
    "rules": the names of the rules applied (none: every such project is ready)."""
    if programme not in FundingSource.values:
        raise ValueError(programme)
    rules = [r for r in readiness_rules(ReadinessTarget.FUNDING) if programme in r.programmes]
    qs = _filter_projects(visible_projects(user), region=region, sector=sector)
    qs = (
        qs.filter(funding__source=programme, funding__amount__gt=0)
        .exclude(stage__in=(Stage.COMPLETED, Stage.OPERATING))
        .distinct()
        .select_related("region", "owner_unit")
    )
    rows = _readiness_rows(list(qs), rules)
    for row in rows:
        row["rules"] = [r.name for r in rules]
    return rows if ready is None else [r for r in rows if r["ready"] == ready]


def project_readiness(project: Project) -> dict:
    """For the project file: {"start": {"ready", "missing"}, "funding": [{"programme",
    "programme_label", "ready", "missing"}]} for the programmes in the project's funding."""
    rules = readiness_rules()
    items = list(project.approval_items.select_related("item_type").order_by("position", "id"))
    start_missing = [m for r in rules if r.target == ReadinessTarget.START for m in evaluate(r, items)]
    funding = []
    labels = dict(FundingSource.choices)
    for source in project.funding.filter(amount__gt=0).values_list("source", flat=True):
        missing = [
            m
            for r in rules
            if r.target == ReadinessTarget.FUNDING and source in r.programmes
            for m in evaluate(r, items)
        ]
        funding.append(
            {
                "programme": source,
                "programme_label": labels.get(source, source),
                "ready": not missing,
                "missing": missing,
            }
        )
    return {"start": {"ready": not start_missing, "missing": start_missing}, "funding": funding}


def templates() -> dict[str, list[TemplateItem]]:
    """Each regime's template in order: {regime value: [TemplateItem with item_type]}."""
    result: dict[str, list[TemplateItem]] = defaultdict(list)
    for entry in TemplateItem.objects.select_related("item_type").order_by("regime", "position", "id"):
        result[entry.regime].append(entry)
    return dict(result)
