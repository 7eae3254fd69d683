"""Every state change of the problem ledger. Each service runs in one transaction, locks the
problem row, checks who may act through accounts.scope, checks the optimistic version when the
caller sends one, saves with update_fields and writes one audit event (target: the problem, so
the problem's timeline and its project's 变更记录 both read it). Mail is queued on commit.

Who may do what, and the states: docs/problems.md."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_analyse_problem,
    can_close_problem,
    can_configure,
    can_raise_problem,
    is_problem_assigner,
    is_problem_confirmer,
    is_problem_handler,
    is_problem_lead,
    is_problem_reporter,
    problem_raised_by_enterprise,
    visible_projects,
)
from majorprojects.audit.services import event_record
from majorprojects.core.errors import ConflictError
from majorprojects.core.workdays import add_workdays
from majorprojects.projects.services import check_attachment

from . import conf
from .models import (
    ANALYSIS,
    HANDLING,
    HANDLING_KINDS,
    OPEN,
    Category,
    CloseKind,
    Confirmation,
    Coordination,
    CoordinationTask,
    Extension,
    Level,
    Problem,
    ProblemAttachment,
    ProgressNote,
    Source,
    Status,
    Urgency,
)
from .notify import merged_reporters, notify, reporters

DEFAULT_SOURCE = {
    Role.PROJECT_UNIT: Source.PROJECT_UNIT,
    Role.COUNTY: Source.COUNTY,
    Role.DEPARTMENT: Source.DEPARTMENT,
    Role.CITY_ADMIN: Source.CITY,
}
OTHER_CATEGORY = "other"
MAX_WORKDAYS = 250
MAX_DEADLINE_YEARS = 2  # a deadline further off than this is a typo, not a plan
MAX_SPLIT = 20
TITLE_LENGTH = 40


# --- Helpers --------------------------------------------------------------------------------


def _locked(problem: Problem) -> Problem:
    return (
        Problem.objects.select_for_update(of=("self",))
        .select_related("project", "region", "category", "lead_unit", "raising_unit", "raised_by")
        .get(pk=problem.pk)
    )


def _check_version(problem: Problem, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != problem.version:
        raise ConflictError("该问题已被他人处理，请刷新页面后重试。")


def _check_status(problem: Problem, allowed, action: str) -> None:
    if problem.status not in allowed:
        raise ValidationError(f"问题当前状态为“{problem.get_status_display()}”，不能{action}。")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _text(value) -> str:
    return (value or "").strip()


def _title(title: str, description: str) -> str:
    title = _text(title)
    if title:
        return title[:100]
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return first_line[:TITLE_LENGTH] + ("…" if len(first_line) > TITLE_LENGTH else "")


def _save(problem: Problem, fields: list[str], *, bump: bool = True) -> None:
    if bump:
        problem.version += 1
        fields = [*fields, "version"]
    problem.save(update_fields=[*fields, "updated_at"])


def _event(actor, verb: str, problem: Problem, details: dict | None = None) -> None:
    event_record(actor=actor, verb=verb, target=problem, project=problem.project, details=details or {})


def _today() -> date:
    return timezone.localdate()


def _actor_level(actor) -> str:
    return Level.CITY if actor.role == Role.CITY_ADMIN else Level.COUNTY


def first_reply_due(start: date) -> date:
    days = conf.get("first_reply_days")
    if conf.get("first_reply_workdays"):
        return add_workdays(start, days)
    return start + timedelta(days=days)


def latest_deadline(today: date) -> date:
    """The latest deadline an assignment may set: two years from today (28 February for a
    29 February)."""
    try:
        return today.replace(year=today.year + MAX_DEADLINE_YEARS)
    except ValueError:
        return today.replace(year=today.year + MAX_DEADLINE_YEARS, day=28)


def _cancel_pending_extensions(actor, problem: Problem, why: str) -> None:
    """A pending extension request dies with the handling: the step that resolves or closes the
    problem marks it 已作废 and records that on the problem's timeline."""
    for extension in problem.extensions.select_for_update().filter(state=Extension.State.PENDING):
        extension.state = Extension.State.CANCELLED
        extension.decided_at = timezone.now()
        extension.decision_note = why
        extension.save(update_fields=["state", "decided_at", "decision_note"])
        _event(
            actor,
            "problem_extension_cancel",
            problem,
            {"until": extension.requested_date, "note": why},
        )


def default_category() -> Category:
    return (
        Category.objects.filter(code=OTHER_CATEGORY).first()
        or Category.objects.order_by("sort_order").first()
    )


# --- Raising --------------------------------------------------------------------------------


@transaction.atomic
def problem_raise(
    *,
    actor,
    project,
    category: Category | None,
    description: str,
    request: str = "",
    title: str = "",
    urgency: str = Urgency.NORMAL,
    source: str = "",
    other_projects=(),
    key: str = "",
) -> Problem:
    """Raise a problem on a project in the actor's scope. With `key` (the API's Idempotency-Key)
    the same request sent twice raises one problem."""
    if key:
        existing = Problem.objects.filter(raised_by=actor, raise_key=key).first()
        if existing is not None:
            return existing
    if project is None or not can_raise_problem(actor, project):
        raise PermissionDenied("您无权为该项目反映问题。")
    description = _text(description)
    source = source or DEFAULT_SOURCE.get(actor.role, Source.VISIT)
    errors = {}
    if not description:
        errors["description"] = "请填写问题描述。"
    if category is None or not category.is_active:
        errors["category"] = "请选择问题类别。"
    if urgency not in Urgency.values:
        errors["urgency"] = "请选择紧急程度。"
    if source not in Source.values or source == Source.REPORT:
        errors["source"] = "问题来源无效（调度报表中的问题由报表报送时自动登记）。"
    elif actor.role == Role.PROJECT_UNIT and source != Source.PROJECT_UNIT:
        errors["source"] = "项目单位反映的问题，来源只能是“项目单位反映”。"
    others = [p for p in other_projects if p.pk != project.pk]
    if others:
        readable = set(
            visible_projects(actor).filter(pk__in=[p.pk for p in others]).values_list("pk", flat=True)
        )
        if any(p.pk not in readable for p in others):
            errors["other_projects"] = "所选的其他项目不存在或无权访问。"
    _raise(errors)
    problem = Problem.objects.create(
        project=project,
        title=_title(title, description),
        category=category,
        source=source,
        description=description,
        request=_text(request),
        urgency=urgency,
        raised_by=actor,
        raising_unit_id=actor.unit_id,
        region_id=project.region_id,
        raise_key=key[:64],
    )
    if others:
        problem.other_projects.set(others)
    _event(
        actor,
        "problem_raise",
        problem,
        {"category": category.name, "source": problem.get_source_display(), "urgency": urgency},
    )
    return problem


def problem_from_report(report, actor=None) -> Problem | None:
    """The ledger item for a dispatch report's "存在问题" text (source: report). One per report:
    calling again returns the same item, and while nobody has analysed it yet a changed text (a
    returned and resubmitted report) updates its description. Empty text: None."""
    from majorprojects.reporting.models import Report

    text = _text(report.problems)
    if not text:
        return None
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=report.pk)
        existing = Problem.objects.filter(report=report).first()
        if existing is not None:
            if existing.status == Status.REPORTED and existing.description != text:
                existing.description = text
                existing.title = _title("", text)
                _save(existing, ["description", "title"])
                _event(actor, "problem_update", existing, {"description": text, "from_report": report.pk})
            return existing
        project = report.project
        problem = Problem.objects.create(
            project=project,
            title=_title("", text),
            category=default_category(),
            source=Source.REPORT,
            description=text,
            raised_by=report.filled_by or actor,
            raising_unit_id=project.owner_unit_id,
            region_id=project.region_id,
            report=report,
        )
        _event(
            actor,
            "problem_raise",
            problem,
            {"category": problem.category.name, "source": problem.get_source_display(), "report": report.pk},
        )
        return problem


# --- Analysis -------------------------------------------------------------------------------


def _require_analyst(actor, problem: Problem) -> None:
    if not can_analyse_problem(actor, problem):
        raise PermissionDenied("只有市级专班或问题所在县市区可以研判该问题。")


@transaction.atomic
def problem_accept(
    *,
    actor,
    problem: Problem,
    note: str = "",
    category: Category | None = None,
    expected_version: int | None = None,
) -> Problem:
    """Accept an item for handling; the analyst may correct its category (a report's problem
    arrives as 其他)."""
    problem = _locked(problem)
    _require_analyst(actor, problem)
    _check_status(problem, (Status.REPORTED,), "受理")
    _check_version(problem, expected_version)
    if category is not None and not category.is_active:
        raise ValidationError({"category": "该问题类别已停用。"})
    details = {"level": "", "note": _text(note)}
    fields = ["status", "level", "accepted_by", "accepted_at"]
    if category is not None and category.pk != problem.category_id:
        details["category"] = [problem.category.name, category.name]
        problem.category = category
        fields.append("category")
    problem.status = Status.ACCEPTED
    problem.level = _actor_level(actor)
    problem.accepted_by = actor
    problem.accepted_at = timezone.now()
    _save(problem, fields)
    details["level"] = problem.get_level_display()
    _event(actor, "problem_accept", problem, details)
    return problem


@transaction.atomic
def problem_merge(
    *, actor, problem: Problem, into: Problem, reason: str = "", expected_version: int | None = None
) -> Problem:
    """Fold a duplicate into another open item: the duplicate becomes 已合并 and its projects join
    the target's. Returns the target."""
    if into is None or into.pk == problem.pk:
        raise ValidationError({"into": "请选择要合并到的另一个问题。"})
    first, second = sorted([problem, into], key=lambda p: p.pk)
    locked = {p.pk: _locked(p) for p in (first, second)}
    problem, into = locked[problem.pk], locked[into.pk]
    _require_analyst(actor, problem)
    if not can_analyse_problem(actor, into):
        raise PermissionDenied("只能合并到您有权研判的问题。")
    _check_status(problem, ANALYSIS, "合并")
    _check_version(problem, expected_version)
    if into.status not in OPEN:
        raise ValidationError({"into": f"目标问题状态为“{into.get_status_display()}”，不能再合并进来。"})
    problem.status = Status.MERGED
    problem.merged_into = into
    problem.level = problem.level or _actor_level(actor)
    _save(problem, ["status", "merged_into", "level"])
    projects = {problem.project_id, *problem.other_projects.values_list("pk", flat=True)} - {into.project_id}
    if projects:
        into.other_projects.add(*projects)
    _event(
        actor, "problem_merge", problem, {"into": into.pk, "into_title": into.title, "reason": _text(reason)}
    )
    _event(actor, "problem_merged_in", into, {"from": problem.pk, "from_title": problem.title})
    return into


@transaction.atomic
def problem_split(
    *, actor, problem: Problem, items: list[dict], expected_version: int | None = None
) -> list[Problem]:
    """Split a problem into sub-items (each for its own unit to handle). `items`: dicts with
    `description` (required), `title`, `request`, `category` (a Category; default the parent's).
    The parent becomes 已分解; the sub-items start accepted, ready to be assigned."""
    problem = _locked(problem)
    _require_analyst(actor, problem)
    _check_status(problem, ANALYSIS, "分解")
    _check_version(problem, expected_version)
    if problem.parent_id:
        raise ValidationError("分解出的子事项不能再分解。")
    errors = {}
    if len(items) < 2:
        errors["items"] = "至少分解为两个子事项。"
    elif len(items) > MAX_SPLIT:
        errors["items"] = f"最多分解为 {MAX_SPLIT} 个子事项。"
    for i, item in enumerate(items):
        if not _text(item.get("description")):
            errors[f"items.{i}.description"] = f"第 {i + 1} 个子事项：请填写问题描述。"
        category = item.get("category")
        if category is not None and not category.is_active:
            errors[f"items.{i}.category"] = f"第 {i + 1} 个子事项：问题类别已停用。"
    _raise(errors)
    level = problem.level or _actor_level(actor)
    now = timezone.now()
    others = list(problem.other_projects.all())
    children = []
    for item in items:
        description = _text(item["description"])
        child = Problem.objects.create(
            project=problem.project,
            title=_title(item.get("title", ""), description),
            category=item.get("category") or problem.category,
            source=problem.source,
            description=description,
            request=_text(item.get("request")) or problem.request,
            urgency=problem.urgency,
            status=Status.ACCEPTED,
            raised_by=problem.raised_by,
            raising_unit=problem.raising_unit,
            region=problem.region,
            parent=problem,
            level=level,
            accepted_by=actor,
            accepted_at=now,
        )
        if others:
            child.other_projects.set(others)
        children.append(child)
        _event(actor, "problem_raise", child, {"parent": problem.pk, "category": child.category.name})
    problem.status = Status.SPLIT
    problem.level = level
    _save(problem, ["status", "level"])
    _event(actor, "problem_split", problem, {"sub_items": [c.pk for c in children]})
    return children


# --- Assignment (五到位) -----------------------------------------------------------------------


@transaction.atomic
def problem_assign(
    *,
    actor,
    problem: Problem,
    lead_unit,
    co_units=(),
    leader,
    responsible_name: str,
    responsible_phone: str = "",
    solution: str,
    deadline: date | None = None,
    workdays: int | None = None,
    expected_version: int | None = None,
) -> Problem:
    """Assign with the five in place: lead unit (and co-units), responsible leader, responsible
    person, solution, deadline — a date, or a number of statutory working days from today.
    Re-assigning an item in handling sets a new deadline (the assigner's own decision); the lead
    unit gets more time only through an extension request."""
    problem = _locked(problem)
    if not is_problem_assigner(actor, problem):
        raise PermissionDenied("只有市级专班或受理该问题的县市区可以交办。")
    _check_status(problem, (*ANALYSIS, *HANDLING), "交办")
    _check_version(problem, expected_version)
    today = _today()
    responsible_name = _text(responsible_name)
    solution = _text(solution)
    errors = {}
    if lead_unit is None or not lead_unit.is_active:
        errors["lead_unit"] = "请选择牵头单位（责任单位）。"
    elif lead_unit.kind not in HANDLING_KINDS:
        errors["lead_unit"] = "牵头单位须为政府部门、县市区政府、金融机构等办理单位，不能是项目单位。"
    bad_co = [u.name for u in co_units if not u.is_active or u.kind not in HANDLING_KINDS]
    if bad_co:
        errors["co_units"] = f"配合单位须为在用的办理单位（不能是项目单位）：{'、'.join(bad_co)}。"
    if leader is None:
        errors["leader"] = "请选择责任领导。"
    elif not leader.is_leader:
        errors["leader"] = f"{leader.name}不是领导，责任领导须从市/县领导中选择。"
    if not responsible_name:
        errors["responsible_name"] = "请填写责任人。"
    if not solution:
        errors["solution"] = "请填写解决方案。"
    if deadline is not None and workdays is not None:
        errors["deadline"] = "办理时限请填写日期或工作日天数其中之一。"
    elif deadline is None and workdays is None:
        errors["deadline"] = "请填写办理时限（日期或工作日天数）。"
    elif workdays is not None and not 1 <= workdays <= MAX_WORKDAYS:
        errors["workdays"] = f"工作日天数应在 1 到 {MAX_WORKDAYS} 之间。"
    elif deadline is not None and deadline < today:
        errors["deadline"] = "办理时限不能早于今天。"
    elif deadline is not None and deadline > latest_deadline(today):
        errors["deadline"] = f"办理时限不能晚于 {latest_deadline(today):%Y-%m-%d}（两年内），请核对日期。"
    _raise(errors)
    if workdays is not None:
        deadline = add_workdays(today, workdays)
    co_units = [u for u in co_units if u.pk != lead_unit.pk]
    lead_changed = problem.lead_unit_id != lead_unit.pk
    problem.lead_unit = lead_unit
    problem.leader = leader
    problem.responsible_name = responsible_name[:50]
    problem.responsible_phone = _text(responsible_phone)[:30]
    problem.solution = solution
    problem.deadline = deadline
    problem.deadline_workdays = workdays
    problem.assigned_by = actor
    problem.assigned_at = timezone.now()
    if not problem.level:
        problem.level = _actor_level(actor)
    if problem.status == Status.REPORTED:
        problem.accepted_by, problem.accepted_at = actor, problem.assigned_at
    if lead_changed:
        problem.first_reply_at = None
        problem.first_reply_due = first_reply_due(today)
    problem.status = Status.ASSIGNED
    _save(
        problem,
        [
            "lead_unit",
            "leader",
            "responsible_name",
            "responsible_phone",
            "solution",
            "deadline",
            "deadline_workdays",
            "assigned_by",
            "assigned_at",
            "level",
            "accepted_by",
            "accepted_at",
            "first_reply_at",
            "first_reply_due",
            "status",
        ],
    )
    problem.co_units.set(co_units)
    _event(
        actor,
        "problem_assign",
        problem,
        {
            "lead_unit": lead_unit.name,
            "co_units": [u.name for u in co_units],
            "leader": str(leader),
            "responsible": responsible_name,
            "solution": solution,
            "deadline": deadline,
            "workdays": workdays,
        },
    )
    notify(
        problem,
        "新交办问题",
        f"交办您单位办理（牵头单位：{lead_unit.name}），办理时限 {deadline:%Y-%m-%d}，"
        f"首次答复期限 {problem.first_reply_due:%Y-%m-%d}。\n解决方案：{solution}",
        units=[lead_unit, *co_units],
    )
    return problem


# --- Handling -------------------------------------------------------------------------------


@transaction.atomic
def problem_progress(*, actor, problem: Problem, text: str) -> ProgressNote:
    """A progress note by the lead unit or a co-unit. The lead unit's first note is the first
    reply. Notes do not change the version (a co-unit's note never makes the lead's form stale)."""
    problem = _locked(problem)
    if not is_problem_handler(actor, problem):
        raise PermissionDenied("只有牵头单位和配合单位可以报送办理进展。")
    _check_status(problem, HANDLING, "报送进展")
    text = _text(text)
    _raise({"text": "请填写进展情况。"} if not text else {})
    lead = is_problem_lead(actor, problem)
    note = ProgressNote.objects.create(
        problem=problem, unit_id=actor.unit_id, author=actor, text=text, is_lead=lead
    )
    problem.last_progress_at = note.created_at
    fields = ["last_progress_at"]
    first = lead and problem.first_reply_at is None
    if first:
        problem.first_reply_at = note.created_at
        fields.append("first_reply_at")
    _save(problem, fields, bump=False)
    _event(actor, "problem_progress", problem, {"text": text, "unit": actor.unit.name, "first_reply": first})
    return note


@transaction.atomic
def problem_extension_request(*, actor, problem: Problem, until: date, reason: str) -> Extension:
    problem = _locked(problem)
    if not is_problem_lead(actor, problem):
        raise PermissionDenied("只有牵头单位可以申请延期。")
    _check_status(problem, HANDLING, "申请延期")
    reason = _text(reason)
    errors = {}
    if until is None:
        errors["until"] = "请填写申请延至的日期。"
    elif problem.deadline and until <= problem.deadline:
        errors["until"] = f"申请延至的日期须晚于现有时限 {problem.deadline:%Y-%m-%d}。"
    elif until < _today():
        errors["until"] = "申请延至的日期不能早于今天。"
    if not reason:
        errors["reason"] = "请说明延期理由。"
    _raise(errors)
    if problem.extensions.filter(state=Extension.State.PENDING).exists():
        raise ValidationError("已有待审批的延期申请，请等待审批结果。")
    extension = Extension.objects.create(
        problem=problem,
        previous_deadline=problem.deadline,
        requested_date=until,
        reason=reason,
        requested_by=actor,
    )
    _event(
        actor,
        "problem_extension_request",
        problem,
        {"from": problem.deadline, "until": until, "reason": reason},
    )
    notify(
        problem,
        "延期申请待审批",
        f"牵头单位申请将办理时限延至 {until:%Y-%m-%d}。理由：{reason}",
        users=[problem.assigned_by],
    )
    return extension


@transaction.atomic
def problem_extension_decide(*, actor, extension: Extension, approve: bool, note: str = "") -> Extension:
    problem = _locked(extension.problem)
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if not is_problem_assigner(actor, problem):
        raise PermissionDenied("延期申请由交办方审批。")
    if extension.state == Extension.State.CANCELLED:
        raise ValidationError("该延期申请已作废（问题已办结或销号）。")
    if extension.state != Extension.State.PENDING:
        raise ValidationError("该延期申请已审批。")
    _check_status(problem, HANDLING, "审批延期")
    note = _text(note)
    if not approve and not note:
        raise ValidationError({"note": "不同意延期时请填写审批意见。"})
    extension.state = Extension.State.APPROVED if approve else Extension.State.REJECTED
    extension.decided_by = actor
    extension.decided_at = timezone.now()
    extension.decision_note = note
    extension.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if approve:
        problem.deadline = extension.requested_date
        problem.deadline_workdays = None
        _save(problem, ["deadline", "deadline_workdays"])
    _event(
        actor,
        "problem_extension_decide",
        problem,
        {"approved": approve, "until": extension.requested_date, "note": note},
    )
    notify(
        problem,
        "延期申请已审批",
        f"延期至 {extension.requested_date:%Y-%m-%d} 的申请{'已同意' if approve else '未同意'}。{note}",
        units=[problem.lead_unit],
    )
    return extension


@transaction.atomic
def problem_resolve(
    *, actor, problem: Problem, resolution: str, expected_version: int | None = None
) -> Problem:
    problem = _locked(problem)
    if not is_problem_lead(actor, problem):
        raise PermissionDenied("只有牵头单位可以办结问题。")
    _check_status(problem, HANDLING, "办结")
    _check_version(problem, expected_version)
    resolution = _text(resolution)
    _raise({"resolution": "请填写办理结果。"} if not resolution else {})
    problem.status = Status.RESOLVED
    problem.resolution = resolution
    problem.resolved_at = timezone.now()
    _save(problem, ["status", "resolution", "resolved_at"])
    _event(actor, "problem_resolve", problem, {"resolution": resolution})
    _cancel_pending_extensions(actor, problem, "问题已办结，延期申请作废。")
    # Who confirms: the own reporter; the reporters of merged duplicates too unless an enterprise
    # raised the item (scope.is_problem_confirmer). Those who only follow it are told it is done.
    own, merged = reporters(problem), merged_reporters(problem)
    if problem_raised_by_enterprise(problem):
        confirmers, followers = own, merged
    else:
        confirmers = {k: [*own[k], *merged[k]] for k in own}
        followers = {"units": [], "users": []}
    notify(
        problem,
        "问题已办结，请确认",
        f"牵头单位已办结该问题，请确认是否满意。\n办理结果：{resolution}",
        **confirmers,
    )
    notify(
        problem,
        "问题已办结",
        f"您反映的重复问题已并入该问题，牵头单位已办结，由该问题的反映人确认。\n办理结果：{resolution}",
        **followers,
    )
    return problem


# --- Closure --------------------------------------------------------------------------------


@transaction.atomic
def problem_confirm(
    *, actor, problem: Problem, satisfied: bool, reason: str = "", expected_version: int | None = None
) -> Problem:
    """The reporter's verdict: satisfied closes the item (销号); not satisfied reopens it for the
    lead unit, with a reason."""
    problem = _locked(problem)
    if not is_problem_confirmer(actor, problem):
        raise PermissionDenied("只有问题反映人（反映单位）可以确认办理结果。")
    _check_status(problem, (Status.RESOLVED,), "确认")
    _check_version(problem, expected_version)
    reason = _text(reason)
    if not satisfied and not reason:
        raise ValidationError({"reason": "不满意时请说明理由。"})
    Confirmation.objects.create(problem=problem, satisfied=satisfied, reason=reason, by=actor)
    if satisfied:
        problem.status = Status.CLOSED
        problem.closed_at = timezone.now()
        problem.close_kind = CloseKind.SATISFIED
        _save(problem, ["status", "closed_at", "close_kind"])
        _event(actor, "problem_confirm", problem, {"satisfied": True, "reason": reason})
    else:
        problem.status = Status.REOPENED
        problem.reopen_count += 1
        problem.resolved_at = None
        _save(problem, ["status", "reopen_count", "resolved_at"])
        _event(actor, "problem_confirm", problem, {"satisfied": False, "reason": reason})
        notify(problem, "问题被退回重新办理", f"反映人对办理结果不满意：{reason}", units=[problem.lead_unit])
    return problem


@transaction.atomic
def problem_close(*, actor, problem: Problem, reason: str, expected_version: int | None = None) -> Problem:
    """The city closes an open item without the reporter's satisfaction, with a recorded reason."""
    problem = _locked(problem)
    if not can_close_problem(actor, problem):
        raise PermissionDenied("只有市级专班可以直接销号。")
    _check_status(problem, OPEN, "销号")
    _check_version(problem, expected_version)
    reason = _text(reason)
    _raise({"reason": "请填写销号理由。"} if not reason else {})
    previous = problem.status
    problem.status = Status.CLOSED
    problem.closed_at = timezone.now()
    problem.close_kind = CloseKind.CITY
    problem.close_reason = reason
    _save(problem, ["status", "closed_at", "close_kind", "close_reason"])
    _event(actor, "problem_close", problem, {"reason": reason, "from": previous})
    _cancel_pending_extensions(actor, problem, "问题已销号，延期申请作废。")
    return problem


# --- Escalation by hand and coordination meetings --------------------------------------------


@transaction.atomic
def problem_escalate(*, actor, problem: Problem, leader, reason: str) -> Coordination:
    """Escalate a hard problem to a named leader (分管副市长) for a coordination meeting."""
    problem = _locked(problem)
    if not is_problem_assigner(actor, problem):
        raise PermissionDenied("只有市级专班或受理该问题的县市区可以提级协调。")
    _check_status(problem, OPEN, "提级协调")
    reason = _text(reason)
    errors = {}
    if leader is None or not leader.is_leader:
        errors["leader"] = "请选择一位市/县领导。"
    if not reason:
        errors["reason"] = "请填写提级理由。"
    _raise(errors)
    coordination = Coordination.objects.create(
        problem=problem, leader=leader, reason=reason, requested_by=actor
    )
    problem.escalated_to = leader
    _save(problem, ["escalated_to"])
    _event(actor, "problem_escalate", problem, {"leader": str(leader), "reason": reason})
    account = getattr(leader, "account", None)
    notify(problem, "问题提级协调", f"该问题已提请{leader}牵头协调。理由：{reason}", users=[account])
    return coordination


def _require_coordinator(actor, coordination: Coordination) -> Problem:
    problem = coordination.problem
    if not is_problem_assigner(actor, problem):
        raise PermissionDenied("协调会纪要由市级专班或受理该问题的县市区记录。")
    return problem


@transaction.atomic
def coordination_record(
    *, actor, coordination: Coordination, meeting_date: date, minutes: str, tasks: list[dict] = ()
) -> Coordination:
    """Record the meeting: date, minutes, and its decisions as tasks (dicts with `text`, `unit`,
    `due_date`), added to those already recorded."""
    coordination = (
        Coordination.objects.select_for_update(of=("self",))
        .select_related("problem__region")
        .get(pk=coordination.pk)
    )
    problem = _require_coordinator(actor, coordination)
    minutes = _text(minutes)
    errors = {}
    if meeting_date is None:
        errors["meeting_date"] = "请填写协调会日期。"
    elif meeting_date > _today():
        errors["meeting_date"] = "协调会日期不能晚于今天。"
    if not minutes:
        errors["minutes"] = "请填写会议纪要。"
    for i, task in enumerate(tasks):
        if not _text(task.get("text")):
            errors[f"tasks.{i}.text"] = f"第 {i + 1} 项议定事项：请填写内容。"
        if task.get("unit") is None:
            errors[f"tasks.{i}.unit"] = f"第 {i + 1} 项议定事项：请选择责任单位。"
        if task.get("due_date") is None:
            errors[f"tasks.{i}.due_date"] = f"第 {i + 1} 项议定事项：请填写完成时限。"
    _raise(errors)
    coordination.meeting_date = meeting_date
    coordination.minutes = minutes
    coordination.recorded_by = actor
    coordination.save(update_fields=["meeting_date", "minutes", "recorded_by"])
    created = [
        CoordinationTask.objects.create(
            coordination=coordination, text=_text(t["text"]), unit=t["unit"], due_date=t["due_date"]
        )
        for t in tasks
    ]
    _event(
        actor,
        "problem_coordination",
        problem,
        {
            "leader": str(coordination.leader),
            "meeting_date": meeting_date,
            "minutes": minutes,
            "tasks": [f"{t.text}（{t.unit}，{t.due_date:%Y-%m-%d}前）" for t in created],
        },
    )
    return coordination


@transaction.atomic
def coordination_task_done(*, actor, task: CoordinationTask, done: bool = True) -> CoordinationTask:
    task = (
        CoordinationTask.objects.select_for_update(of=("self",))
        .select_related("coordination__problem__region")
        .get(pk=task.pk)
    )
    problem = task.coordination.problem
    if not (is_problem_assigner(actor, problem) or (actor.unit_id and actor.unit_id == task.unit_id)):
        raise PermissionDenied("只有议定事项的责任单位或交办方可以标记完成。")
    if task.done == done:
        return task
    task.done = done
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done", "done_at"])
    _event(actor, "problem_task_done" if done else "problem_task_undone", problem, {"task": task.text})
    return task


# --- Attachments ----------------------------------------------------------------------------


def _participates(actor, problem: Problem) -> bool:
    return (
        actor.role == Role.CITY_ADMIN
        or is_problem_reporter(actor, problem)
        or is_problem_assigner(actor, problem)
        or is_problem_handler(actor, problem)
    )


def attachment_check(name: str, content: bytes) -> None:
    """Refuse a file problem_attachment_add would refuse (size, type, content), with the same
    Chinese message — so a form with several files can check them all before storing any."""
    check_attachment(name, content, "other")


@transaction.atomic
def problem_attachment_add(
    *, actor, problem: Problem, name: str, content: bytes, description: str = ""
) -> ProblemAttachment:
    """Size- and type-checked exactly as project attachments (projects.services.check_attachment)."""
    problem = _locked(problem)
    if not _participates(actor, problem):
        raise PermissionDenied("只有问题的反映方、交办方和办理单位可以上传附件。")
    ext, content_type = check_attachment(name, content, "other")
    digest = hashlib.sha256(content).hexdigest()
    original = PurePath(name.replace("\\", "/")).name[:200] or f"附件{ext}"
    attachment = ProblemAttachment(
        problem=problem,
        original_name=original,
        extension=ext,
        content_type=content_type,
        size=len(content),
        sha256=digest,
        description=_text(description)[:200],
        uploaded_by=actor,
    )
    attachment.file.save(f"{digest}{ext}", ContentFile(content), save=False)
    attachment.save()
    _event(
        actor, "problem_attachment_add", problem, {"name": original, "size": len(content), "sha256": digest}
    )
    return attachment


@transaction.atomic
def problem_attachment_delete(*, actor, attachment: ProblemAttachment) -> None:
    problem = attachment.problem
    if not (actor.role == Role.CITY_ADMIN or attachment.uploaded_by_id == actor.pk):
        raise PermissionDenied("只能删除本人上传的附件。")
    name, stored = attachment.original_name, attachment.file.name
    still_used = ProblemAttachment.objects.filter(file=stored).exclude(pk=attachment.pk).exists()
    attachment.delete()
    if not still_used:
        transaction.on_commit(lambda: attachment.file.storage.delete(stored))
    _event(actor, "problem_attachment_delete", problem, {"name": name})


# --- Configuration --------------------------------------------------------------------------


@transaction.atomic
def category_save(
    *,
    actor,
    code: str,
    name: str,
    sort_order: int = 0,
    is_active: bool = True,
    category: Category | None = None,
) -> Category:
    """Create or change a problem category (the city's configuration)."""
    if not can_configure(actor):
        raise PermissionDenied("问题类别由市级管理员维护。")
    code, name = _text(code), _text(name)
    others = Category.objects.exclude(pk=category.pk) if category else Category.objects.all()
    errors = {}
    if not code:
        errors["code"] = "请填写代码。"
    elif others.filter(code=code).exists():
        errors["code"] = "代码已被使用。"
    if not name:
        errors["name"] = "请填写名称。"
    elif others.filter(name=name).exists():
        errors["name"] = "名称已被使用。"
    _raise(errors)
    category = category or Category()
    created = category.pk is None
    category.code, category.name, category.sort_order, category.is_active = (
        code[:30],
        name[:30],
        sort_order,
        is_active,
    )
    category.save()
    event_record(
        actor=actor,
        verb="problem_category_add" if created else "problem_category_change",
        target=category,
        details={"code": code, "name": name, "sort_order": sort_order, "is_active": is_active},
    )
    return category
