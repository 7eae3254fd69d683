"""Problem-ledger endpoints: list and read, raise, and every workflow step (accept, merge, split,
assign, progress, extension request and decision, resolve, confirm, reopen, close, escalate),
plus the figures by unit or category. Reads go through accounts.scope and problems.selectors,
changes through problems.services — the same checks, Chinese messages and event rows as the pages.

Scope: a problem outside the caller's scope is 404 (its existence is not revealed); a step the
caller may not take is 403; a stale `version` is 409; bad input is 422 naming the field. The
auditor gets 403 everywhere here.

Retries: every POST takes an `Idempotency-Key` header. Raising with a key already used by the
same account returns the problem it raised; a step whose key is the problem's last applied key
answers 200 with the problem as it is and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Header, Query, Router

from majorprojects.accounts.scope import get_problem, visible_projects, visible_projects_allowed
from majorprojects.organisation.models import Person, Unit
from majorprojects.organisation.schemas import ERRORS, ErrorOut

from . import selectors, services
from .models import HANDLING_KINDS, Category, Extension, Problem, Source, Status
from .schemas import (
    AcceptIn,
    AssignIn,
    CategoryOut,
    ConfirmIn,
    CoordinationOut,
    DecideIn,
    EscalateIn,
    ExtensionIn,
    MergeIn,
    MetricsOut,
    ProblemDetail,
    ProblemPage,
    ProgressIn,
    RaiseIn,
    ReasonIn,
    ResolveIn,
    SplitIn,
)

router = Router(tags=["问题台账"])

MAX_LIMIT = 500
CHANGE_ERRORS = {409: ErrorOut, **ERRORS}
STATUS = Query(
    None,
    description="open 未销号（全部未办结）、reported、accepted、assigned、reopened、resolved、closed、merged、split",
)
IDEMPOTENCY_KEY = Header(
    "",
    alias="Idempotency-Key",
    max_length=64,
    description="每个请求一个新的唯一值（如 UUID）；同一请求重发时带同一个值，不会重复执行",
)


# --- Access and lookups ---------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看问题台账。")


def _problem(request: HttpRequest, problem_id: int) -> Problem:
    _require_reader(request)
    return get_problem(request.auth, problem_id)


def _get(model, pk, field: str, message: str, **filters):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, **filters).first()
    if obj is None:
        raise DjangoValidationError({field: message})
    return obj


def _units(ids: list[int], field: str) -> list[Unit]:
    units = list(Unit.objects.filter(pk__in=ids, is_active=True))
    if len(units) != len(set(ids)):
        raise DjangoValidationError({field: "所选单位不存在或已停用。"})
    if any(u.kind not in HANDLING_KINDS for u in units):
        raise DjangoValidationError(
            {field: "配合单位须为政府部门、县市区政府、金融机构等办理单位，不能是项目单位。"}
        )
    return units


def _once(problem: Problem, key: str, change: Callable[[], object]) -> None:
    """Apply `change` unless `key` is the key of the last change applied to the problem."""
    with transaction.atomic():
        if key:
            last = Problem.objects.select_for_update().values_list("last_key", flat=True).get(pk=problem.pk)
            if last == key:
                return
        change()
        if key:
            Problem.objects.filter(pk=problem.pk).update(last_key=key)


def _step(request: HttpRequest, problem_id: int, key: str, change: Callable[[Problem], object]) -> Problem:
    """One workflow step on a problem in the caller's scope, applied once per idempotency key;
    answers with the problem as it then stands."""
    problem = _problem(request, problem_id)
    _once(problem, key, lambda: change(problem))
    return _respond(request, problem.pk)


def _respond(request: HttpRequest, problem_id: int) -> Problem:
    """The problem with everything ProblemDetail shows (after the change, re-read in scope)."""
    problem = get_problem(request.auth, problem_id)
    problem.other_project_ids = list(problem.other_projects.values_list("pk", flat=True))
    problem.sub_item_ids = list(problem.sub_items.values_list("pk", flat=True))
    problem.actions = selectors.actions(request.auth, problem)
    problem.timeline = selectors.problem_timeline(problem, request.auth)
    return problem


# --- Reads ----------------------------------------------------------------------------------


@router.get("/categories", response={200: list[CategoryOut], **ERRORS}, summary="问题类别")
def category_list(request: HttpRequest):
    _require_reader(request)
    return list(Category.objects.filter(is_active=True))


@router.get("", response={200: ProblemPage, **ERRORS}, summary="问题台账（分页，本账号可见范围）")
def problem_list(
    request: HttpRequest,
    status: str | None = STATUS,
    category_id: int | None = None,
    unit_id: int | None = Query(None, description="牵头或配合单位"),
    region_id: int | None = Query(None, description="含下级区域"),
    project_id: int | None = None,
    overdue: bool | None = Query(None, description="true 只列逾期，false 排除逾期"),
    level: int | None = Query(None, ge=0, le=9, description="督办等级"),
    source: Source | None = None,
    q: str = Query("", max_length=100, description="搜索问题概述、描述、诉求、项目名称"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    _require_reader(request)
    if status and status != "open" and status not in Status.values:
        raise DjangoValidationError({"status": "状态无效。"})
    qs = selectors.problem_filter(
        selectors.problem_list(request.auth),
        status=status,
        category=category_id,
        unit=unit_id,
        region=region_id,
        project=project_id,
        overdue=overdue,
        level=level,
        source=source.value if source else None,
        q=q,
    ).order_by("-created_at", "-pk")
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": list(qs[offset : offset + limit])}


@router.get("/metrics", response={200: MetricsOut, **ERRORS}, summary="办理情况统计：按牵头单位或问题类别")
def problem_metrics(
    request: HttpRequest,
    by: str = Query("unit", description="unit 牵头单位、category 问题类别"),
):
    _require_reader(request)
    if by not in selectors.GROUPS:
        raise DjangoValidationError({"by": "请选择以下之一：unit、category。"})
    return selectors.metrics(selectors.problem_list(request.auth), by)


@router.get("/{int:problem_id}", response={200: ProblemDetail, **ERRORS}, summary="问题详情及全过程记录")
def problem_detail(request: HttpRequest, problem_id: int):
    _require_reader(request)
    return _respond(request, problem_id)


# --- Raising --------------------------------------------------------------------------------


@router.post("", response={200: ProblemDetail, **CHANGE_ERRORS}, summary="反映问题")
def problem_raise(request: HttpRequest, payload: RaiseIn, idempotency_key: str = IDEMPOTENCY_KEY):
    _require_reader(request)
    project = visible_projects(request.auth).filter(pk=payload.project_id).first()
    if project is None:
        raise DjangoValidationError({"project_id": "项目不存在或无权访问。"})
    category = _get(Category, payload.category_id, "category_id", "问题类别不存在。", is_active=True)
    others = list(visible_projects(request.auth).filter(pk__in=payload.other_project_ids))
    if len(others) != len(set(payload.other_project_ids)):
        raise DjangoValidationError({"other_project_ids": "所选的其他项目不存在或无权访问。"})
    problem = services.problem_raise(
        actor=request.auth,
        project=project,
        category=category,
        description=payload.description,
        request=payload.request,
        title=payload.title,
        urgency=payload.urgency.value,
        source=payload.source.value if payload.source else "",
        other_projects=others,
        key=idempotency_key,
    )
    return _respond(request, problem.pk)


# --- Analysis and assignment ----------------------------------------------------------------


@router.post("/{int:problem_id}/accept", response={200: ProblemDetail, **CHANGE_ERRORS}, summary="受理")
def problem_accept(
    request: HttpRequest, problem_id: int, payload: AcceptIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_accept(
            actor=request.auth,
            problem=problem,
            note=payload.note,
            category=_get(Category, payload.category_id, "category_id", "问题类别不存在。", is_active=True),
            expected_version=payload.version,
        ),
    )


@router.post(
    "/{int:problem_id}/merge",
    response={200: ProblemDetail, **CHANGE_ERRORS},
    summary="合并重复问题（本问题并入 into_id）",
)
def problem_merge(
    request: HttpRequest, problem_id: int, payload: MergeIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    problem = _problem(request, problem_id)
    try:
        into = get_problem(request.auth, payload.into_id)
    except Http404:
        raise DjangoValidationError({"into_id": "要合并到的问题不存在或无权访问。"}) from None
    _once(
        problem,
        idempotency_key,
        lambda: services.problem_merge(
            actor=request.auth,
            problem=problem,
            into=into,
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )
    return _respond(request, problem.pk)


@router.post(
    "/{int:problem_id}/split", response={200: ProblemDetail, **CHANGE_ERRORS}, summary="分解为子事项"
)
def problem_split(
    request: HttpRequest, problem_id: int, payload: SplitIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    problem = _problem(request, problem_id)
    items = []
    for i, item in enumerate(payload.items):
        category = _get(
            Category, item.category_id, f"items.{i}.category_id", "问题类别不存在。", is_active=True
        )
        items.append(
            {
                "description": item.description,
                "title": item.title,
                "request": item.request,
                "category": category,
            }
        )
    _once(
        problem,
        idempotency_key,
        lambda: services.problem_split(
            actor=request.auth, problem=problem, items=items, expected_version=payload.version
        ),
    )
    return _respond(request, problem.pk)


@router.post(
    "/{int:problem_id}/assign", response={200: ProblemDetail, **CHANGE_ERRORS}, summary="交办（五到位）"
)
def problem_assign(
    request: HttpRequest, problem_id: int, payload: AssignIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    problem = _problem(request, problem_id)
    lead = _get(Unit, payload.lead_unit_id, "lead_unit_id", "牵头单位不存在或已停用。", is_active=True)
    if lead.kind not in HANDLING_KINDS:
        raise DjangoValidationError(
            {"lead_unit_id": "牵头单位须为政府部门、县市区政府、金融机构等办理单位，不能是项目单位。"}
        )
    leader = _get(Person, payload.leader_id, "leader_id", "责任领导不存在。")
    if not leader.is_leader:
        raise DjangoValidationError({"leader_id": f"{leader.name}不是领导，责任领导须从市/县领导中选择。"})
    co_units = _units(payload.co_unit_ids, "co_unit_ids")
    _once(
        problem,
        idempotency_key,
        lambda: services.problem_assign(
            actor=request.auth,
            problem=problem,
            lead_unit=lead,
            co_units=co_units,
            leader=leader,
            responsible_name=payload.responsible_name,
            responsible_phone=payload.responsible_phone,
            solution=payload.solution,
            deadline=payload.deadline,
            workdays=payload.workdays,
            expected_version=payload.version,
        ),
    )
    return _respond(request, problem.pk)


# --- Handling -------------------------------------------------------------------------------


@router.post(
    "/{int:problem_id}/progress", response={200: ProblemDetail, **CHANGE_ERRORS}, summary="报送办理进展"
)
def problem_progress(
    request: HttpRequest, problem_id: int, payload: ProgressIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_progress(actor=request.auth, problem=problem, text=payload.text),
    )


@router.post(
    "/{int:problem_id}/extensions",
    response={200: ProblemDetail, **CHANGE_ERRORS},
    summary="申请延期（牵头单位）",
)
def extension_request(
    request: HttpRequest, problem_id: int, payload: ExtensionIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_extension_request(
            actor=request.auth, problem=problem, until=payload.until, reason=payload.reason
        ),
    )


@router.post(
    "/extensions/{int:extension_id}/decide",
    response={200: ProblemDetail, **CHANGE_ERRORS},
    summary="审批延期申请（交办方）",
)
def extension_decide(
    request: HttpRequest, extension_id: int, payload: DecideIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    _require_reader(request)
    extension = Extension.objects.filter(pk=extension_id).first()
    if extension is None:
        raise Http404("延期申请不存在或无权访问。")
    try:
        problem = get_problem(request.auth, extension.problem_id)
    except Http404:
        raise Http404("延期申请不存在或无权访问。") from None
    _once(
        problem,
        idempotency_key,
        lambda: services.problem_extension_decide(
            actor=request.auth, extension=extension, approve=payload.approve, note=payload.note
        ),
    )
    return _respond(request, problem.pk)


@router.post(
    "/{int:problem_id}/resolve", response={200: ProblemDetail, **CHANGE_ERRORS}, summary="办结（牵头单位）"
)
def problem_resolve(
    request: HttpRequest, problem_id: int, payload: ResolveIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_resolve(
            actor=request.auth,
            problem=problem,
            resolution=payload.resolution,
            expected_version=payload.version,
        ),
    )


# --- Closure and escalation -----------------------------------------------------------------


@router.post(
    "/{int:problem_id}/confirm",
    response={200: ProblemDetail, **CHANGE_ERRORS},
    summary="确认办理结果（反映人）：满意销号，不满意重新办理",
)
def problem_confirm(
    request: HttpRequest, problem_id: int, payload: ConfirmIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_confirm(
            actor=request.auth,
            problem=problem,
            satisfied=payload.satisfied,
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/{int:problem_id}/reopen",
    response={200: ProblemDetail, **CHANGE_ERRORS},
    summary="不满意，退回重新办理（反映人，须说明理由）",
)
def problem_reopen(
    request: HttpRequest, problem_id: int, payload: ReasonIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_confirm(
            actor=request.auth,
            problem=problem,
            satisfied=False,
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/{int:problem_id}/close",
    response={200: ProblemDetail, **CHANGE_ERRORS},
    summary="市级销号（须说明理由）",
)
def problem_close(
    request: HttpRequest, problem_id: int, payload: ReasonIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    return _step(
        request,
        problem_id,
        idempotency_key,
        lambda problem: services.problem_close(
            actor=request.auth, problem=problem, reason=payload.reason, expected_version=payload.version
        ),
    )


@router.post(
    "/{int:problem_id}/escalate",
    response={200: CoordinationOut, **CHANGE_ERRORS},
    summary="提级协调：提请分管领导召开协调会",
)
def problem_escalate(
    request: HttpRequest, problem_id: int, payload: EscalateIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    problem = _problem(request, problem_id)
    leader = _get(Person, payload.leader_id, "leader_id", "领导不存在。")
    result = {}

    def change():
        result["coordination"] = services.problem_escalate(
            actor=request.auth, problem=problem, leader=leader, reason=payload.reason
        )

    _once(problem, idempotency_key, change)
    return result.get("coordination") or problem.coordinations.select_related("leader").last()
