"""Reads of the warnings app: lights, the negative list (负面清单), a project's warnings tab, the
region board, warning lists and the actions a user may take. Pages, the API, the Excel export and
the bulletin all read through these functions, so a count is computed in one place.

Which warnings light a subject: those not exempted and whose condition still holds
(`condition_cleared` false). A struck-off warning still counts for its month — the month's
negative list is a record — and shows its status; the next month's scan decides afresh."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Q, QuerySet

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_decide_exemption,
    can_manage_alert_rules,
    can_notify_warning,
    can_rectify_warning,
    can_strike_off_warning,
    visible_projects,
    visible_warnings,
)
from majorprojects.organisation.models import Region, RegionKind
from majorprojects.projects.models import AnnualListing

from .engine import BOARD_REGION_KINDS
from .models import (
    GREEN,
    LIGHT_RANK,
    OPEN_STATUSES,
    Exemption,
    ExemptionStatus,
    Light,
    ScanRun,
    Status,
    Warning,
)
from .rules import registry

LIGHT_LABELS = {Light.RED.value: "红灯", Light.YELLOW.value: "黄灯", GREEN: "绿灯"}


def lighting(qs: QuerySet) -> QuerySet:
    """The warnings of a queryset that light their subject."""
    return qs.filter(condition_cleared=False).exclude(status=Status.EXEMPTED)


def previous_period(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def latest_period() -> tuple[int, int] | None:
    """The most recent month scanned (the default period of the pages), else None."""
    run = ScanRun.objects.order_by("-year", "-month").values_list("year", "month").first()
    return tuple(run) if run else None


def last_scan(year: int | None = None, month: int | None = None) -> ScanRun | None:
    qs = ScanRun.objects.all()
    if year and month:
        qs = qs.filter(year=year, month=month)
    return qs.select_related("actor").order_by("-started_at").first()


def _worse(a: str, b: str) -> str:
    return a if LIGHT_RANK[a] >= LIGHT_RANK[b] else b


# --- Lights ---------------------------------------------------------------------------------


def project_lights(project_ids, year: int, month: int) -> dict[int, str]:
    """{pk: "red" | "yellow" | "green"} for the given projects in a month (one query)."""
    ids = list(project_ids)
    out = dict.fromkeys(ids, GREEN)
    rows = lighting(Warning.objects.filter(project_id__in=ids, year=year, month=month)).values_list(
        "project_id", "light"
    )
    for pk, light in rows:
        out[pk] = _worse(out[pk], light)
    return out


def _with_packages(project_ids) -> QuerySet:
    """The projects and the packages they belong to: a package (never lit itself) shows the
    worst light of its sub-projects."""
    from majorprojects.projects.models import Project

    return Project.objects.filter(Q(pk__in=project_ids) | Q(children__in=project_ids)).values("pk")


def light_q(light: str, year: int, month: int, prefix: str = "") -> Q:
    """A Q over Project (or via `prefix`) for the project list's light filter; a package counts
    with the worst light of its sub-projects."""
    lit = lighting(Warning.objects.filter(year=year, month=month, project__isnull=False))
    red = _with_packages(lit.filter(light=Light.RED).values("project_id"))
    if light == Light.RED:
        return Q(**{f"{prefix}pk__in": red})
    if light == Light.YELLOW:
        yellow = _with_packages(lit.filter(light=Light.YELLOW).values("project_id"))
        return Q(**{f"{prefix}pk__in": yellow}) & ~Q(**{f"{prefix}pk__in": red})
    if light == GREEN:
        return ~Q(**{f"{prefix}pk__in": _with_packages(lit.values("project_id"))})
    raise ValueError(f"unknown light {light!r}")


def warning_row(w: Warning) -> dict:
    """One warning as the pages, the API and the export show it."""
    metric = registry().get(w.rule.metric)
    return {
        "id": w.pk,
        "period": f"{w.year}-{w.month:02d}",
        "year": w.year,
        "month": w.month,
        "rule_id": w.rule_id,
        "rule_code": w.rule.code,
        "rule_name": w.rule.name,
        "rule_sort": w.rule.sort_order,
        "metric_label": metric.label if metric else w.rule.metric,
        "unit": metric.unit if metric else "",
        "subject": w.subject,
        "project_id": w.project_id,
        "project_name": w.project.name if w.project_id else "",
        "project_code": (w.project.code or "") if w.project_id else "",
        "region_id": w.region_id,
        "region_name": w.region.name,
        "light": w.light,
        "light_label": LIGHT_LABELS[w.light],
        "value": w.value,
        "streak": w.streak,
        "escalated": w.escalated,
        "carried": w.carried_from_id is not None,
        "condition_cleared": w.condition_cleared,
        "status": w.status,
        "status_label": w.get_status_display(),
        "responsible_unit": w.responsible_unit.name if w.responsible_unit_id else "",
        "leader": w.leader.name if w.leader_id else "",
        "plan": w.plan,
        "deadline": w.deadline,
        "version": w.version,
    }


ROW_RELATED = ("rule", "project", "region", "responsible_unit", "leader")


def warning_list(
    user,
    *,
    year: int | None = None,
    month: int | None = None,
    light: str | None = None,
    rule: str | None = None,
    region_id: int | None = None,
    status: str | None = None,
    project_id: int | None = None,
    subject: str | None = None,
    lit_only: bool = False,
) -> QuerySet:
    """The warnings `user` may read, filtered. status "open" means any open state; region
    includes its subtree; rule is a rule code."""
    qs = visible_warnings(user).select_related(*ROW_RELATED)
    if year:
        qs = qs.filter(year=year)
    if month:
        qs = qs.filter(month=month)
    if light:
        qs = qs.filter(light=light)
    if rule:
        qs = qs.filter(rule__code=rule)
    if region_id:
        region = Region.objects.filter(pk=region_id).first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if project_id:
        qs = qs.filter(project_id=project_id)
    if subject:
        qs = qs.filter(subject=subject)
    if lit_only:
        qs = lighting(qs)
    return qs.order_by("-year", "-month", "rule__sort_order", "region__path", "-light", "pk")


def project_warnings(project, *, months: int = 12) -> dict:
    """The project file's warnings tab: the current light (of the latest scanned month), its
    warnings then, every warning of the project (newest first) and a light per month."""
    period = latest_period()
    rows = list(
        Warning.objects.filter(project=project)
        .select_related(*ROW_RELATED)
        .order_by("-year", "-month", "rule__sort_order", "pk")
    )
    by_month: dict[tuple[int, int], str] = {}
    for w in rows:
        if not w.condition_cleared and w.status != Status.EXEMPTED:
            key = (w.year, w.month)
            by_month[key] = _worse(by_month.get(key, GREEN), w.light)
    current = [warning_row(w) for w in rows if period and (w.year, w.month) == period]
    trend = []
    if period:
        year, month = period
        for _ in range(months):
            trend.append({"period": f"{year}-{month:02d}", "light": by_month.get((year, month), GREEN)})
            year, month = previous_period(year, month)
        trend.reverse()
    return {
        "period": f"{period[0]}-{period[1]:02d}" if period else "",
        "light": by_month.get(period, GREEN) if period else GREEN,
        "current": current,
        "history": [warning_row(w) for w in rows],
        "trend": trend,
        "exemptions": list(
            Exemption.objects.filter(project=project).select_related("rule").order_by("-requested_at")
        ),
    }


# --- Regions --------------------------------------------------------------------------------


def _base_region(user) -> Region | None:
    """The region whose children are the negative list's groups: a county user's own region,
    otherwise the city (the top of the tree when there are several)."""
    if user is not None and user.role == Role.COUNTY and user.region_id:
        return user.region
    cities = list(Region.objects.filter(kind=RegionKind.CITY).order_by("depth", "code")[:2])
    if len(cities) == 1:
        return cities[0]
    return Region.objects.order_by("depth", "code").first()


def region_groups(user) -> tuple[dict[int, int], list[dict]]:
    """(region id → group region id, groups in order). Groups are the base region's children;
    a region under a child counts in that child (a zone in its district); a project placed on the
    base region itself counts under a "本级" group."""
    base = _base_region(user)
    if base is None:
        return {}, []
    children = list(base.children.order_by("sort_order", "code"))
    groups = [{"id": c.pk, "name": c.label, "code": c.code} for c in children]
    groups.append({"id": base.pk, "name": f"{base.label}（本级）", "code": base.code})
    mapping = {}
    for pk, path in Region.objects.filter(path__startswith=base.path).values_list("pk", "path"):
        owner = next((c for c in children if path.startswith(c.path)), base)
        mapping[pk] = owner.pk
    return mapping, groups


def negative_list(user, year: int, month: int) -> dict:
    """The negative list of a month (负面清单): the projects with a red or yellow light, one row
    per warning, grouped by region; counts by light (projects by their worst light, and
    warnings) and by rule; and the comparison with the previous month (projects new on the
    list, still on it, and gone from it)."""
    mapping, groups = region_groups(user)
    qs = lighting(warning_list(user, year=year, month=month, subject="project"))
    rows = [warning_row(w) for w in qs]
    worst: dict[int, str] = {}
    for row in rows:
        row["group_id"] = mapping.get(row["region_id"], row["region_id"])
        worst[row["project_id"]] = _worse(worst.get(row["project_id"], GREEN), row["light"])
    prev_year, prev_month = previous_period(year, month)
    previous = {}
    for pk, name, region_id, light in lighting(
        warning_list(user, year=prev_year, month=prev_month, subject="project")
    ).values_list("project_id", "project__name", "region_id", "light"):
        previous.setdefault(
            pk, {"project_id": pk, "project_name": name, "region_id": region_id, "light": GREEN}
        )
        previous[pk]["light"] = _worse(previous[pk]["light"], light)
    for row in rows:
        row["new"] = row["project_id"] not in previous

    group_rows: dict[int, list] = defaultdict(list)
    for row in rows:
        group_rows[row["group_id"]].append(row)
    order = {g["id"]: i for i, g in enumerate(groups)}
    extra = [gid for gid in group_rows if gid not in order]
    names = dict(Region.objects.filter(pk__in=extra).values_list("pk", "name")) if extra else {}
    sections = []
    for group in [*groups, *({"id": gid, "name": names.get(gid, ""), "code": ""} for gid in extra)]:
        members = sorted(
            group_rows.get(group["id"], []),
            key=lambda r: (-LIGHT_RANK[r["light"]], r["project_name"], r["rule_code"]),
        )
        projects_in = {r["project_id"]: worst[r["project_id"]] for r in members}
        sections.append(
            {
                "region_id": group["id"],
                "region_name": group["name"],
                "rows": members,
                "red": sum(1 for v in projects_in.values() if v == Light.RED),
                "yellow": sum(1 for v in projects_in.values() if v == Light.YELLOW),
                "projects": len(projects_in),
            }
        )
    by_rule: dict[str, dict] = {}
    for row in rows:
        entry = by_rule.setdefault(
            row["rule_code"],
            {
                "rule_code": row["rule_code"],
                "rule_name": row["rule_name"],
                "sort_order": row["rule_sort"],
                "red": 0,
                "yellow": 0,
            },
        )
        entry[row["light"]] += 1
    current = set(worst)
    cleared = [p for pk, p in previous.items() if pk not in current]
    return {
        "year": year,
        "month": month,
        "period": f"{year}-{month:02d}",
        "sections": [s for s in sections if s["rows"]],
        "rows": rows,
        "counts": {
            "projects": len(worst),
            "red": sum(1 for v in worst.values() if v == Light.RED),
            "yellow": sum(1 for v in worst.values() if v == Light.YELLOW),
            "warnings": len(rows),
            "red_warnings": sum(1 for r in rows if r["light"] == Light.RED),
            "yellow_warnings": sum(1 for r in rows if r["light"] == Light.YELLOW),
        },
        "by_rule": sorted(by_rule.values(), key=lambda e: (e.pop("sort_order"), e["rule_code"])),
        "comparison": {
            "previous_period": f"{prev_year}-{prev_month:02d}",
            "new": sum(1 for pk in current if pk not in previous),
            "persisting": sum(1 for pk in current if pk in previous),
            "cleared": len(cleared),
            "cleared_projects": sorted(cleared, key=lambda p: p["project_name"]),
        },
    }


def region_board(user, year: int, month: int) -> list[dict]:
    """The region light board: for each county-level region (and zone) the user reads, its own
    light from the region rules with those warnings, and its projects by light (the projects of
    the year's annual lists plus any warned project, in the region's subtree — a zone's projects
    count under its district too, as everywhere in the platform)."""
    regions = list(Region.objects.filter(kind__in=BOARD_REGION_KINDS).order_by("path"))
    if user.role == Role.COUNTY:
        regions = [r for r in regions if user.region_id and r.path.startswith(user.region.path)]
    region_warnings: dict[int, list] = defaultdict(list)
    for w in lighting(warning_list(user, year=year, month=month, subject="region")):
        region_warnings[w.region_id].append(warning_row(w))
    projects = visible_projects(user).filter(is_package=False)
    warned = lighting(Warning.objects.filter(year=year, month=month, project__isnull=False)).values(
        "project_id"
    )
    listed = AnnualListing.objects.filter(year=year).values("project_id")
    population = list(projects.filter(Q(pk__in=listed) | Q(pk__in=warned)).values_list("pk", "region__path"))
    lights = project_lights([pk for pk, _ in population], year, month)
    board = []
    for region in regions:
        counts = {Light.RED.value: 0, Light.YELLOW.value: 0, GREEN: 0}
        for pk, path in population:
            if path.startswith(region.path):
                counts[lights[pk]] += 1
        own = region_warnings.get(region.pk, [])
        light = GREEN
        for row in own:
            light = _worse(light, row["light"])
        board.append(
            {
                "region_id": region.pk,
                "region_name": region.name,
                "kind": region.kind,
                "light": light,
                "light_label": LIGHT_LABELS[light],
                "warnings": own,
                "projects": {**counts, "total": sum(counts.values())},
            }
        )
    return board


# --- Actions --------------------------------------------------------------------------------


def warning_actions(user, warning: Warning) -> dict[str, bool]:
    """Which workflow buttons `user` gets on a warning (the services check again)."""
    status = warning.status
    rectify = can_rectify_warning(user, warning)
    pending = warning.exemptions.filter(status=ExemptionStatus.REQUESTED).first()
    return {
        "notify": status == Status.ISSUED and can_notify_warning(user, warning),
        "plan": status in (Status.ISSUED, Status.NOTIFIED, Status.RECTIFYING) and rectify,
        "rectified": status == Status.RECTIFYING and rectify,
        "strike_off": can_strike_off_warning(user, warning)
        and (status == Status.RECTIFIED or (warning.condition_cleared and status in OPEN_STATUSES)),
        "reopen": status in (Status.RECTIFIED, Status.STRUCK_OFF) and can_strike_off_warning(user, warning),
        "request_exemption": warning.rule.exemptable
        and status in OPEN_STATUSES
        and pending is None
        and rectify,
        "decide_exemption": pending is not None and can_decide_exemption(user, warning.rule, warning.region),
    }


def pending_exemption(warning: Warning) -> Exemption | None:
    return warning.exemptions.filter(status=ExemptionStatus.REQUESTED).first()


def exemptions_to_decide(user) -> QuerySet:
    """Requests waiting for `user`'s decision (the city admin: all; a county: its region's under
    rules that counties approve)."""
    qs = Exemption.objects.filter(status=ExemptionStatus.REQUESTED).select_related(
        "rule", "project", "region", "requested_by"
    )
    if can_manage_alert_rules(user):
        return qs
    if user.role == Role.COUNTY and user.region_id:
        return qs.filter(rule__exemption_approver="county", region__path__startswith=user.region.path)
    return qs.none()


def timeline(warning: Warning) -> list:
    from majorprojects.audit.models import Event

    return list(
        Event.objects.filter(target_type="warning", target_id=str(warning.pk))
        .select_related("actor")
        .order_by("at", "pk")
    )


def default_period(today: date) -> tuple[int, int]:
    """The month scan_warnings scans by default: the previous calendar month."""
    return previous_period(today.year, today.month)
