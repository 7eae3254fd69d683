"""Reads of the problem ledger: lists, a problem's timeline, the weekly list, the figures by unit
and by category, and the to-do items. Every figure about problems is computed here (pages, API,
exports, the dashboard and the bulletin read these functions). Definitions: docs/problems.md."""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_analyse_problem,
    is_problem_assigner,
    problem_confirmer_q,
    visible_problems,
)
from majorprojects.audit.models import Event

from . import conf
from .models import ANALYSIS, FOLDED, HANDLING, OPEN, Confirmation, Extension, Problem, Status

LIST_RELATED = ("project", "category", "region", "lead_unit", "raising_unit")


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def overdue_q(today: date | None = None) -> Q:
    """In handling and past the deadline (a resolved item awaiting confirmation is not overdue)."""
    return Q(status__in=HANDLING, deadline__lt=_today(today))


def is_overdue(problem: Problem, today: date | None = None) -> bool:
    return problem.status in HANDLING and bool(problem.deadline) and problem.deadline < _today(today)


def days_left(problem: Problem, today: date | None = None) -> int | None:
    """Calendar days to the deadline (negative when overdue); None without a deadline."""
    if not problem.deadline or problem.status not in HANDLING:
        return None
    return (problem.deadline - _today(today)).days


def problem_list(user) -> QuerySet:
    """Every problem `user` may read, newest first, with what a list row shows."""
    return visible_problems(user).select_related(*LIST_RELATED)


def _unit_q(unit_id) -> Q:
    co = Problem.co_units.through.objects.filter(unit_id=unit_id).values("problem_id")
    return Q(lead_unit_id=unit_id) | Q(pk__in=co)


def problem_filter(
    qs: QuerySet,
    *,
    status: str | None = None,
    category=None,
    unit=None,
    region=None,
    overdue: bool | None = None,
    level: int | None = None,
    q: str = "",
    project=None,
    source: str | None = None,
    today: date | None = None,
) -> QuerySet:
    """The list filters. `status` is a Status value or "open" (any not yet closed); `unit` matches
    lead and co-units; `region` includes its subtree; `q` searches title, description, request
    and project name. Model instances or ids are accepted for category, unit, region, project."""
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category_id=getattr(category, "pk", category))
    if unit:
        qs = qs.filter(_unit_q(getattr(unit, "pk", unit)))
    if region:
        from majorprojects.organisation.models import Region

        region = region if isinstance(region, Region) else Region.objects.filter(pk=region).first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    if overdue is True:
        qs = qs.filter(overdue_q(today))
    elif overdue is False:
        qs = qs.exclude(overdue_q(today))
    if level is not None:
        qs = qs.filter(escalation_level=level)
    if project:
        project_id = getattr(project, "pk", project)
        qs = qs.filter(Q(project_id=project_id) | Q(other_projects__id=project_id)).distinct()
    if source:
        qs = qs.filter(source=source)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(description__icontains=q)
            | Q(request__icontains=q)
            | Q(project__name__icontains=q)
        )
    return qs


def project_problems(user, project) -> QuerySet:
    """The project file's problems tab: items on the project or sharing it, in the user's scope."""
    return problem_filter(problem_list(user), project=project)


# --- My problems and to-do -----------------------------------------------------------------


def _analysable_q(user) -> Q:
    if user.role == Role.CITY_ADMIN:
        return Q()
    if user.role == Role.COUNTY and user.region_id:
        return Q(region__path__startswith=user.region.path) & ~Q(level="city")
    return Q(pk__in=[])


def my_problems(user) -> dict[str, QuerySet]:
    """The "my problems" page, by the part the user plays:
    - handle: items in handling where the user's unit is lead or co-unit;
    - confirm: resolved items awaiting the user's verdict (scope.is_problem_confirmer: raised by
      the user or the user's unit, or — when not raised by an enterprise — with such a duplicate
      merged into them);
    - analyse: items to accept / merge / split / assign (city; county within its region);
    - extensions: pending deadline-extension requests the user may decide;
    - raised: everything the user or the user's unit raised."""
    base = problem_list(user)
    unit_id = user.unit_id
    reporter_q = Q(raised_by_id=user.pk) | (Q(raising_unit_id=unit_id) if unit_id else Q(pk__in=[]))
    handle = base.filter(_unit_q(unit_id), status__in=HANDLING) if unit_id else base.none()
    analyse_q = _analysable_q(user)
    return {
        "handle": handle.order_by("deadline", "pk"),
        "confirm": base.filter(problem_confirmer_q(user), status=Status.RESOLVED).order_by(
            "resolved_at", "pk"
        ),
        "analyse": base.filter(analyse_q, status__in=ANALYSIS).order_by("created_at", "pk"),
        "extensions": Extension.objects.filter(
            state=Extension.State.PENDING, problem__in=base.filter(analyse_q)
        ).select_related("problem", "requested_by"),
        "raised": base.filter(reporter_q),
    }


def todo_items(user, today: date | None = None) -> list[dict]:
    """Items for the user's to-do list: {"label", "url_name", "args", "due"} (due may be None),
    soonest first. URL names are the problem UI's: problems:detail (pk), problems:mine."""
    today = _today(today)
    mine = my_problems(user)
    items = []
    for p in mine["handle"].filter(lead_unit_id=user.unit_id):
        if p.first_reply_at is None and p.first_reply_due:
            items.append(_todo(f"首次答复：{p.title}", p, p.first_reply_due))
        else:
            items.append(_todo(f"办理问题：{p.title}", p, p.deadline))
    for p in mine["handle"].exclude(lead_unit_id=user.unit_id):
        items.append(_todo(f"配合办理：{p.title}", p, p.deadline))
    for p in mine["confirm"]:
        items.append(_todo(f"确认办理结果：{p.title}", p, None))
    for ext in mine["extensions"]:
        items.append(_todo(f"审批延期申请：{ext.problem.title}", ext.problem, ext.requested_date))
    analyse = mine["analyse"].count()
    if analyse:
        items.append(
            {"label": f"待研判交办的问题 {analyse} 个", "url_name": "problems:mine", "args": [], "due": None}
        )
    return sorted(items, key=lambda i: (i["due"] is None, i["due"] or today))


def _todo(label: str, problem: Problem, due: date | None) -> dict:
    return {"label": label, "url_name": "problems:detail", "args": [problem.pk], "due": due}


def todo_count(user) -> int:
    return len(todo_items(user))


def actions(user, problem: Problem) -> dict[str, bool]:
    """Which transitions `user` may attempt on `problem` now (for buttons; services re-check)."""
    from majorprojects.accounts.scope import (
        can_close_problem,
        is_problem_confirmer,
        is_problem_handler,
        is_problem_lead,
    )

    analyst = can_analyse_problem(user, problem)
    assigner = is_problem_assigner(user, problem)
    lead = is_problem_lead(user, problem)
    return {
        "accept": analyst and problem.status == Status.REPORTED,
        "merge": analyst and problem.status in ANALYSIS,
        "split": analyst and problem.status in ANALYSIS and not problem.parent_id,
        "assign": assigner and problem.status in (*ANALYSIS, *HANDLING),
        "progress": problem.status in HANDLING and is_problem_handler(user, problem),
        "extend": lead and problem.status in HANDLING,
        "resolve": lead and problem.status in HANDLING,
        "confirm": problem.status == Status.RESOLVED and is_problem_confirmer(user, problem),
        "close": problem.status in OPEN and can_close_problem(user, problem),
        "escalate": assigner and problem.status in OPEN,
    }


# --- A problem's timeline ------------------------------------------------------------------

VERB_LABELS = {
    "problem_raise": "反映问题",
    "problem_update": "更新问题描述",
    "problem_accept": "受理",
    "problem_merge": "合并至其他问题",
    "problem_merged_in": "合并进重复问题",
    "problem_split": "分解为子事项",
    "problem_assign": "交办（五到位）",
    "problem_progress": "办理进展",
    "problem_extension_request": "申请延期",
    "problem_extension_decide": "延期审批",
    "problem_extension_cancel": "延期申请作废",
    "problem_resolve": "办结",
    "problem_confirm": "反映人确认",
    "problem_close": "市级销号",
    "problem_escalate": "提级协调",
    "problem_coordination": "协调会纪要",
    "problem_task_done": "议定事项完成",
    "problem_task_undone": "议定事项改为未完成",
    "problem_notice": "逾期通报",
    "problem_flag_first_reply": "首次答复超期",
    "problem_flag_progress": "当月未报进展",
    "problem_attachment_add": "上传附件",
    "problem_attachment_delete": "删除附件",
}


def _summary(verb: str, d: dict) -> str:
    """One line of text for a timeline entry, from the event's details."""
    if verb == "problem_assign":
        co = "、".join(d.get("co_units") or [])
        text = f"牵头单位：{d.get('lead_unit')}"
        text += f"；配合单位：{co}" if co else ""
        text += f"；责任领导：{d.get('leader')}；责任人：{d.get('responsible')}；时限：{d.get('deadline')}"
        if d.get("workdays"):
            text += f"（{d['workdays']}个工作日）"
        return f"{text}；解决方案：{d.get('solution')}"
    if verb == "problem_progress":
        return f"{d.get('unit')}：{d.get('text')}" + ("（首次答复）" if d.get("first_reply") else "")
    if verb == "problem_extension_request":
        return f"由 {d.get('from')} 延至 {d.get('until')}；理由：{d.get('reason')}"
    if verb == "problem_extension_decide":
        verdict = "同意" if d.get("approved") else "不同意"
        return f"{verdict}延至 {d.get('until')}" + (f"；意见：{d['note']}" if d.get("note") else "")
    if verb == "problem_extension_cancel":
        return f"延至 {d.get('until')} 的申请作废：{d.get('note')}"
    if verb == "problem_confirm":
        return "满意，销号" if d.get("satisfied") else f"不满意，重新办理：{d.get('reason')}"
    if verb == "problem_notice":
        return f"{d.get('period')} 第{d.get('notice')}次通报，督办等级：{d.get('level_name')}（逾期 {d.get('days_overdue')} 天）"
    if verb == "problem_coordination":
        tasks = "；".join(d.get("tasks") or [])
        return f"{d.get('meeting_date')} {d.get('leader')}主持：{d.get('minutes')}" + (
            f"。议定：{tasks}" if tasks else ""
        )
    for key in ("resolution", "reason", "text", "description", "note", "task", "name"):
        if d.get(key):
            return str(d[key])
    if verb == "problem_raise":
        return f"来源：{d.get('source', '')}，类别：{d.get('category', '')}"
    if verb == "problem_merge":
        return f"合并至 #{d.get('into')} {d.get('into_title', '')}"
    if verb == "problem_merged_in":
        return f"并入 #{d.get('from')} {d.get('from_title', '')}"
    if verb == "problem_split":
        return "子事项：" + "、".join(f"#{pk}" for pk in d.get("sub_items") or [])
    if verb == "problem_accept":
        return f"研判层级：{d.get('level', '')}"
    if verb == "problem_escalate":
        return f"提请 {d.get('leader')} 协调"
    if verb.startswith("problem_flag_"):
        return f"{d.get('period')}"
    return ""


def problem_timeline(problem: Problem, user=None) -> list[dict]:
    """Everything that happened to the problem, oldest first: raising, analysis, assignment,
    progress notes, extension requests and decisions, notices and flags, coordination meetings,
    resolution, confirmations and closure. Read from the audit events every service (and the
    escalation command) writes, so it is one query and the same as the audit trail.
    With `user`, a merge naming a problem the user may not open shows its number only (one more
    query when there are merges). Each entry: {"at", "verb", "label", "actor", "text", "details"}."""
    events = list(
        Event.objects.filter(target_type="problem", target_id=str(problem.pk))
        .select_related("actor__unit")
        .order_by("at", "id")
    )
    hidden = _unreadable_merges(user, events) if user is not None else set()
    entries = []
    for e in events:
        actor = e.actor
        if actor is None:
            who = "系统督办" if e.verb.startswith(("problem_notice", "problem_flag")) else "系统"
        else:
            who = f"{actor.display_name}（{actor.unit}）" if actor.unit_id else actor.display_name
        details = e.details or {}
        other = _merge_other(e.verb, details)
        if other is not None and other in hidden:
            details = {k: v for k, v in details.items() if k not in ("into_title", "from_title")}
            details["into_title" if e.verb == "problem_merge" else "from_title"] = "（无权查看）"
        entries.append(
            {
                "at": e.at,
                "verb": e.verb,
                "label": VERB_LABELS.get(e.verb, e.verb),
                "actor": who,
                "text": _summary(e.verb, details),
                "details": details,
            }
        )
    return entries


def _merge_other(verb: str, details: dict):
    """The id of the other problem a merge event names (None for other events)."""
    if verb == "problem_merge":
        return details.get("into")
    if verb == "problem_merged_in":
        return details.get("from")
    return None


def _unreadable_merges(user, events) -> set:
    ids = {i for e in events if (i := _merge_other(e.verb, e.details or {})) is not None}
    if not ids:
        return set()
    return ids - set(visible_problems(user).filter(pk__in=ids).values_list("pk", flat=True))


# --- The weekly list -----------------------------------------------------------------------


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def weekly_list(qs: QuerySet, year: int, week: int) -> dict:
    """The standard weekly sections for ISO week (year, week), Monday to Sunday:
    - new: raised in the week;
    - in_progress: raised before the week and not closed by its end;
    - closed: closed (销号) in the week.
    Merged and split items are left out (their targets and sub-items are listed)."""
    start = date.fromisocalendar(year, week, 1)
    end = start + timedelta(days=6)
    lo, hi = _aware(start), _aware(end + timedelta(days=1))
    qs = qs.exclude(status__in=FOLDED).select_related(*LIST_RELATED)
    return {
        "year": year,
        "week": week,
        "start": start,
        "end": end,
        "new": qs.filter(created_at__gte=lo, created_at__lt=hi).order_by("created_at", "pk"),
        "in_progress": qs.filter(created_at__lt=lo)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=hi))
        .order_by("deadline", "pk"),
        "closed": qs.filter(closed_at__gte=lo, closed_at__lt=hi).order_by("closed_at", "pk"),
    }


# --- Metrics -------------------------------------------------------------------------------

GROUPS = {"unit": "牵头单位", "category": "问题类别"}
UNASSIGNED = "未交办"


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _days(values: list[int], how) -> Decimal | None:
    if not values:
        return None
    return Decimal(str(how(values))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _row(key, label: str, items: list[dict], today: date) -> dict:
    closed = [i for i in items if i["status"] == Status.CLOSED]
    days = [
        (timezone.localtime(i["closed_at"]).date() - timezone.localtime(i["created_at"]).date()).days
        for i in closed
    ]
    satisfied = sum(i["satisfied"] for i in items)
    confirmations = sum(i["confirmations"] for i in items)
    return {
        "key": key,
        "label": label,
        "total": len(items),
        "open": len(items) - len(closed),
        "overdue": sum(
            1 for i in items if i["status"] in HANDLING and i["deadline"] and i["deadline"] < today
        ),
        "closed": len(closed),
        "closure_rate": _rate(len(closed), len(items)),
        "avg_days": _days(days, statistics.mean),
        "median_days": _days(days, statistics.median),
        "confirmations": confirmations,
        "satisfied": satisfied,
        "satisfaction_rate": _rate(satisfied, confirmations),
    }


def metrics(qs: QuerySet, by: str = "unit", today: date | None = None) -> dict:
    """Figures per lead unit or per category, plus a 合计 row. Items counted: every problem in
    `qs` except merged duplicates and split parents (their target and sub-items are counted).
    - open: not closed; overdue: in handling past the deadline; closed: 销号 (either way);
    - closure_rate = closed / total (%, one decimal);
    - avg_days, median_days: calendar days from raising to closure, over closed items;
    - satisfaction_rate = satisfied confirmations / all confirmations (a reopened-then-satisfied
      item counts one of each).
    Returns {"by", "by_label", "rows", "total"}; rates and days are Decimal or None (no data)."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    today = _today(today)
    if by == "unit":
        key_field, label_field, sort_field = "lead_unit_id", "lead_unit__name", "lead_unit__name"
    else:
        key_field, label_field, sort_field = "category_id", "category__name", "category__sort_order"
    counted = qs.exclude(status__in=FOLDED)
    fields = {"pk", "status", "deadline", "created_at", "closed_at", key_field, label_field, sort_field}
    rows = list(counted.values(*fields))
    tallies: dict[int, list[int]] = {}
    verdicts = Confirmation.objects.filter(problem__in=counted.values("pk")).values_list(
        "problem_id", "satisfied"
    )
    for problem_id, satisfied in verdicts:
        tally = tallies.setdefault(problem_id, [0, 0])
        tally[0] += 1
        tally[1] += int(satisfied)
    groups: dict = {}
    for r in rows:
        r["confirmations"], r["satisfied"] = tallies.get(r["pk"], (0, 0))
        groups.setdefault(r[key_field], []).append(r)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (
            kv[0] is None,
            kv[1][0][sort_field] if kv[0] is not None else 0,
            kv[1][0][label_field] or "",
        ),
    )
    out = [_row(key, items[0][label_field] or UNASSIGNED, items, today) for key, items in ordered]
    return {
        "by": by,
        "by_label": GROUPS[by],
        "rows": out,
        "total": _row(None, "合计", rows, today),
    }


def escalation_counts(qs: QuerySet) -> list[dict]:
    """Open items per supervision level: [{"level", "name", "count"}] from level 0 up."""
    open_items = qs.filter(status__in=OPEN)
    counts = {lvl: 0 for lvl, _ in conf.level_choices()}
    for level in open_items.values_list("escalation_level", flat=True):
        counts[level] = counts.get(level, 0) + 1
    return [{"level": lvl, "name": conf.level_name(lvl), "count": n} for lvl, n in sorted(counts.items())]


# --- Export rows ---------------------------------------------------------------------------


def export_rows(qs: QuerySet, today: date | None = None) -> list[dict]:
    """The filtered list as plain rows for problems.exports.problems_xlsx (3 queries)."""
    today = _today(today)
    rows = []
    for p in qs.select_related(*LIST_RELATED, "leader").prefetch_related("co_units"):
        rows.append(
            {
                "id": p.pk,
                "title": p.title,
                "project": p.project.name,
                "region": p.region.name,
                "category": p.category.name,
                "source": p.get_source_display(),
                "urgency": p.get_urgency_display(),
                "status": p.get_status_display(),
                "raising_unit": p.raising_unit.name if p.raising_unit_id else "",
                "created": timezone.localtime(p.created_at).date(),
                "description": p.description,
                "request": p.request,
                "lead_unit": p.lead_unit.name if p.lead_unit_id else "",
                "co_units": "、".join(u.name for u in p.co_units.all()),
                "leader": str(p.leader) if p.leader_id else "",
                "responsible": " ".join(x for x in (p.responsible_name, p.responsible_phone) if x),
                "deadline": p.deadline,
                "overdue": is_overdue(p, today),
                "level": conf.level_name(p.escalation_level),
                "closed": timezone.localtime(p.closed_at).date() if p.closed_at else None,
            }
        )
    return rows
