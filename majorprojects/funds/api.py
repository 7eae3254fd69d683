"""Funds (资金) endpoints: programmes, allocations and their movements, loans and releases, the
overview by programme, region or department, the at-risk list, one project's funds, confirming
reported payments, and Excel exports. Reads go through accounts.scope and funds.selectors,
changes through funds.services — the same checks, messages and event rows as the pages.

Scope: a project, allocation or loan outside the caller's scope is 404; a change the caller may
not make is 403 (scope.can_record_funds: the leader and the auditor everywhere; project units on
allocations, arrivals, transfers, the granted interest subsidy and entries they did not enter;
everyone but the city admin on payments confirmed from dispatch reports and on programmes). A
stale `version` (or a record deleted meanwhile) is 409 and nothing changes."""

from __future__ import annotations

from datetime import date
from enum import Enum

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router

from majorprojects.accounts.scope import (
    can_configure,
    get_project,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.organisation.schemas import ERRORS, ErrorOut
from majorprojects.projects.models import Project

from . import exports, selectors, services
from .models import Allocation, Loan, LoanRelease, Movement, Programme
from .schemas import (
    AllocationDetail,
    AllocationIn,
    AllocationPage,
    AllocationPatch,
    ConfirmIn,
    ConfirmOut,
    LoanIn,
    LoanOut,
    LoanPatch,
    MovementIn,
    MovementOut,
    OverviewOut,
    ProgrammeOut,
    ProgrammePatch,
    ProjectFundsOut,
    ReleaseIn,
    ReleaseOut,
    RiskOut,
)

router = Router(tags=["资金"])

MAX_LIMIT = 500
CHANGE_ERRORS = {409: ErrorOut, **ERRORS}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GroupBy = Enum("GroupBy", {name: name for name in selectors.GROUPS}, type=str)
BY = Query("programme", description="programme 资金渠道、region 区域、department 主管部门、project 项目")
AS_OF = Query(None, description="统计截止日期，缺省为今天")


# --- access -----------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看资金数据。")


def _projects(request: HttpRequest):
    _require_reader(request)
    return visible_projects(request.auth)


def _allocation(request: HttpRequest, allocation_id: int) -> Allocation:
    allocation = (
        Allocation.objects.filter(project__in=_projects(request).values("pk"), pk=allocation_id)
        .select_related("programme", "project__region")
        .first()
    )
    if allocation is None:
        raise Http404("资金下达记录不存在或无权访问。")
    return allocation


def _loan(request: HttpRequest, loan_id: int) -> Loan:
    loan = (
        Loan.objects.filter(project__in=_projects(request).values("pk"), pk=loan_id)
        .select_related("project")
        .first()
    )
    if loan is None:
        raise Http404("贷款记录不存在或无权访问。")
    return loan


def _programme(code: str | None, field: str = "programme") -> Programme | None:
    if code is None:
        return None
    programme = Programme.objects.filter(code=code).first()
    if programme is None:
        raise DjangoValidationError({field: f"没有代码为“{code}”的资金渠道。"})
    return programme


# --- output -----------------------------------------------------------------------------------


def _allocation_out(row: selectors.AllocationRow, *, movements: bool = False) -> dict:
    a = row["allocation"]
    out = {
        "id": a.pk,
        "project": {"id": a.project_id, "name": a.project.name},
        "region": a.project.region,
        "programme": a.programme,
        "batch": a.batch,
        "document_no": a.document_no,
        "issued_on": a.issued_on,
        "amount": a.amount,
        "note": a.note,
        "version": a.version,
        **{
            k: row[k]
            for k in ("arrived", "transferred", "paid", "unpaid", "rate", "last_payment", "pace", "flags")
        },
    }
    if movements:
        out["movements"] = list(a.movements.all())
    return out


def _allocation_detail(allocation_id: int) -> dict:
    allocation = (
        selectors.allocations_in(Project.objects.all())
        .filter(pk=allocation_id)
        .prefetch_related("movements")
        .get()
    )
    return _allocation_out(selectors.allocation_row(allocation), movements=True)


def _loan_out(row: selectors.LoanRow) -> dict:
    loan = row["loan"]
    return {
        "id": loan.pk,
        "project": {"id": loan.project_id, "name": loan.project.name},
        "programme": loan.programme,
        **{
            name: getattr(loan, name)
            for name in (
                "bank",
                "contract_no",
                "signed_on",
                "amount_signed",
                "term_months",
                "subsidy_applied",
                "subsidy_granted",
                "note",
                "version",
            )
        },
        "released": row["released"],
        "release_rate": row["release_rate"],
        "last_release": row["last_release"],
        "releases": list(loan.releases.all()),
    }


def _loan_detail(loan_id: int) -> dict:
    loan = selectors.loans_in(Project.objects.all()).filter(pk=loan_id).prefetch_related("releases").get()
    return _loan_out(selectors.loan_row(loan))


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


# --- programmes -------------------------------------------------------------------------------


@router.get("/programmes", response={200: list[ProgrammeOut], **ERRORS}, summary="资金渠道及其规则")
def programme_list(request: HttpRequest):
    _require_reader(request)
    return list(Programme.objects.all())


@router.patch(
    "/programmes/{int:programme_id}",
    response={200: ProgrammeOut, **CHANGE_ERRORS},
    summary="修改资金渠道规则（市级管理员，须带 version）",
)
def programme_update(request: HttpRequest, programme_id: int, payload: ProgrammePatch):
    _require_reader(request)
    if not can_configure(request.auth):
        raise PermissionDenied("资金渠道由市级管理员维护。")
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise Http404("资金渠道不存在。")
    fields = payload.model_dump(exclude_unset=True, exclude={"version"})
    return services.programme_update(
        actor=request.auth, programme=programme, fields=fields, expected_version=payload.version
    )


# --- allocations ------------------------------------------------------------------------------


@router.get("/allocations", response={200: AllocationPage, **ERRORS}, summary="资金下达台账（分页）")
def allocation_list(
    request: HttpRequest,
    project_id: int | None = None,
    programme: str | None = Query(None, description="资金渠道代码"),
    as_of: date | None = AS_OF,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    qs = selectors.allocations_in(_projects(request), as_of=as_of)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    if programme:
        qs = qs.filter(programme=_programme(programme))
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [
            _allocation_out(selectors.allocation_row(a, as_of=as_of)) for a in qs[offset : offset + limit]
        ],
    }


@router.get(
    "/allocations/{int:allocation_id}",
    response={200: AllocationDetail, **ERRORS},
    summary="下达详情及到位、拨付、支付记录",
)
def allocation_detail(request: HttpRequest, allocation_id: int):
    return _allocation_detail(_allocation(request, allocation_id).pk)


@router.post("/allocations", response={201: AllocationDetail, **ERRORS}, summary="登记资金下达")
def allocation_create(request: HttpRequest, payload: AllocationIn):
    _require_reader(request)
    project = get_project(request.auth, payload.project_id)
    allocation = services.allocation_create(
        actor=request.auth,
        project=project,
        programme=_programme(payload.programme),
        document_no=payload.document_no,
        issued_on=payload.issued_on,
        amount=payload.amount,
        batch=payload.batch,
        note=payload.note,
    )
    return 201, _allocation_detail(allocation.pk)


@router.patch(
    "/allocations/{int:allocation_id}",
    response={200: AllocationDetail, **CHANGE_ERRORS},
    summary="修改资金下达（部分字段，须带 version）",
)
def allocation_update(request: HttpRequest, allocation_id: int, payload: AllocationPatch):
    allocation = _allocation(request, allocation_id)
    fields = payload.model_dump(exclude_unset=True, exclude={"version"})
    if "programme" in fields:
        fields["programme"] = _programme(fields["programme"])
    services.allocation_update(
        actor=request.auth, allocation=allocation, fields=fields, expected_version=payload.version
    )
    return _allocation_detail(allocation.pk)


@router.delete(
    "/allocations/{int:allocation_id}",
    response={204: None, **CHANGE_ERRORS},
    summary="删除误登记的资金下达（须无到位、拨付、支付记录）",
)
def allocation_delete(request: HttpRequest, allocation_id: int, version: int = Query(...)):
    allocation = _allocation(request, allocation_id)
    services.allocation_delete(actor=request.auth, allocation=allocation, expected_version=version)
    return 204, None


@router.post(
    "/allocations/{int:allocation_id}/movements",
    response={201: MovementOut, **ERRORS},
    summary="登记到位、拨付或支付",
)
def movement_add(request: HttpRequest, allocation_id: int, payload: MovementIn):
    allocation = _allocation(request, allocation_id)
    movement = services.movement_add(
        actor=request.auth,
        allocation=allocation,
        kind=payload.kind.value,
        on_date=payload.on_date,
        amount=payload.amount,
        note=payload.note,
    )
    return 201, movement


@router.delete(
    "/movements/{int:movement_id}",
    response={204: None, **CHANGE_ERRORS},
    summary="删除到位、拨付或支付记录（据调度表确认的支付仅市级管理员）",
)
def movement_delete(request: HttpRequest, movement_id: int):
    movement = Movement.objects.filter(
        pk=movement_id, allocation__project__in=_projects(request).values("pk")
    ).first()
    if movement is None:
        raise Http404("记录不存在或无权访问。")
    services.movement_delete(actor=request.auth, movement=movement)
    return 204, None


# --- loans ------------------------------------------------------------------------------------


def _loan_fields(given: dict) -> dict:
    fields = dict(given)
    if "programme" in fields:
        fields["programme"] = _programme(fields["programme"])
    return fields


@router.get("/loans", response={200: list[LoanOut], **ERRORS}, summary="贷款及贴息（本账号可见范围）")
def loan_list(request: HttpRequest, project_id: int | None = None):
    projects = _projects(request)
    if project_id is not None:
        projects = projects.filter(pk=project_id)
    loans = selectors.loans_in(projects).prefetch_related("releases")
    return [_loan_out(selectors.loan_row(loan)) for loan in loans]


@router.post("/loans", response={201: LoanOut, **ERRORS}, summary="登记贷款")
def loan_create(request: HttpRequest, payload: LoanIn):
    _require_reader(request)
    project = get_project(request.auth, payload.project_id)
    given = payload.model_dump(exclude_unset=True, exclude={"project_id"})
    loan = services.loan_create(actor=request.auth, project=project, fields=_loan_fields(given))
    return 201, _loan_detail(loan.pk)


@router.patch(
    "/loans/{int:loan_id}", response={200: LoanOut, **CHANGE_ERRORS}, summary="修改贷款（须带 version）"
)
def loan_update(request: HttpRequest, loan_id: int, payload: LoanPatch):
    loan = _loan(request, loan_id)
    given = payload.model_dump(exclude_unset=True, exclude={"version"})
    services.loan_update(
        actor=request.auth, loan=loan, fields=_loan_fields(given), expected_version=payload.version
    )
    return _loan_detail(loan.pk)


@router.post("/loans/{int:loan_id}/releases", response={201: ReleaseOut, **ERRORS}, summary="登记贷款投放")
def loan_release_add(request: HttpRequest, loan_id: int, payload: ReleaseIn):
    loan = _loan(request, loan_id)
    release = services.loan_release_add(
        actor=request.auth, loan=loan, on_date=payload.on_date, amount=payload.amount, note=payload.note
    )
    return 201, release


@router.delete(
    "/releases/{int:release_id}", response={204: None, **CHANGE_ERRORS}, summary="删除贷款投放记录"
)
def loan_release_delete(request: HttpRequest, release_id: int):
    release = LoanRelease.objects.filter(
        pk=release_id, loan__project__in=_projects(request).values("pk")
    ).first()
    if release is None:
        raise Http404("记录不存在或无权访问。")
    services.loan_release_delete(actor=request.auth, release=release)
    return 204, None


# --- figures ----------------------------------------------------------------------------------


@router.get(
    "/overview", response={200: OverviewOut, **ERRORS}, summary="资金总体情况：按渠道、区域、主管部门或项目"
)
def overview(request: HttpRequest, by: GroupBy = BY, as_of: date | None = AS_OF):
    return selectors.funds_overview(_projects(request), by=GroupBy(by).value, as_of=as_of, user=request.auth)


@router.get(
    "/at-risk", response={200: list[RiskOut], **ERRORS}, summary="可能收回的资金（逾期未开工、长期未支付）"
)
def at_risk(
    request: HttpRequest,
    programme: str | None = Query(None, description="资金渠道代码"),
    as_of: date | None = AS_OF,
):
    risks = selectors.at_risk(_projects(request), as_of=as_of, programme=_programme(programme))
    return [{**risk, "allocation": _allocation_out(risk["row"])} for risk in risks]


@router.get(
    "/projects/{int:project_id}",
    response={200: ProjectFundsOut, **ERRORS},
    summary="项目资金（一项一档资金页）",
)
def project_funds(request: HttpRequest, project_id: int, as_of: date | None = AS_OF):
    _require_reader(request)
    project = get_project(request.auth, project_id)
    funds = selectors.project_funds(project, as_of=as_of)
    for row in funds["allocations"]:
        for movement in row["allocation"].movements.all():
            movement.may_delete = services.can_delete_entry(request.auth, project, movement)
    return {
        **funds,
        "may_record": [
            kind for kind in services.KIND_LABELS if services.can_record(request.auth, project, kind)
        ],
        "project": {"id": project.pk, "name": project.name},
        "allocations": [_allocation_out(row, movements=True) for row in funds["allocations"]],
        "at_risk": [{**risk, "allocation": _allocation_out(risk["row"])} for risk in funds["at_risk"]],
        "loans": [_loan_out(row) for row in funds["loans"]],
    }


@router.post(
    "/projects/{int:project_id}/confirm-reported",
    response={200: ConfirmOut, **ERRORS},
    summary="将调度表填报的支付确认计入资金台账（可重复调用，不会重复计入）",
)
def confirm_reported(request: HttpRequest, project_id: int, payload: ConfirmIn):
    _require_reader(request)
    project = get_project(request.auth, project_id)
    return services.payments_from_reports(
        actor=request.auth, project=project, programme=_programme(payload.programme)
    )


# --- exports ----------------------------------------------------------------------------------


@router.get(
    "/export/overview.xlsx", summary="导出资金总体情况（按渠道、按区域）", response={200: None, **ERRORS}
)
def export_overview(request: HttpRequest, as_of: date | None = AS_OF):
    projects = _projects(request)
    as_of = as_of or timezone.localdate()
    content = exports.overview_xlsx(
        as_of=as_of,
        by_programme=selectors.funds_overview(projects, by="programme", as_of=as_of, user=request.auth),
        by_region=selectors.funds_overview(projects, by="region", as_of=as_of, user=request.auth),
    )
    return _xlsx(content, f"funds-overview-{as_of:%Y%m%d}.xlsx")


@router.get("/export/allocations.xlsx", summary="导出资金下达台账", response={200: None, **ERRORS})
def export_allocations(request: HttpRequest, as_of: date | None = AS_OF):
    as_of = as_of or timezone.localdate()
    rows = selectors.allocation_rows(_projects(request), as_of=as_of)
    return _xlsx(exports.allocations_xlsx(rows, as_of=as_of), f"funds-allocations-{as_of:%Y%m%d}.xlsx")


@router.get("/export/at-risk.xlsx", summary="导出可能收回的资金清单", response={200: None, **ERRORS})
def export_at_risk(request: HttpRequest, as_of: date | None = AS_OF):
    as_of = as_of or timezone.localdate()
    risks = selectors.at_risk(_projects(request), as_of=as_of)
    return _xlsx(exports.at_risk_xlsx(risks, as_of=as_of), f"funds-at-risk-{as_of:%Y%m%d}.xlsx")
