"""Dispatch (调度) endpoints: periods and their completeness, reports (read, save a draft,
submit, approve, return) and the month's aggregates. Reads go through accounts.scope and
reporting.selectors, changes through reporting.services — the same checks, messages and event
rows as the pages, the grid and the Excel upload.

Scope: a report outside the caller's scope is 404 (its existence is not revealed); a report the
caller may read but not fill (the leader) is 403 on changes; approving and returning are for the
county, department or city over the project (403 for project units); the auditor gets 403
everywhere here.

Retries: PUT, POST /reports and submit take an `Idempotency-Key` header. The report remembers
the key of the last change applied to it; the same request sent again (a double click, a resent
request after a lost response) answers 200 with the report as it is and changes nothing."""

from __future__ import annotations

from enum import Enum

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Header, Query, Router

from majorprojects.accounts.scope import (
    get_report,
    visible_projects,
    visible_projects_allowed,
    visible_reports,
)
from majorprojects.organisation.schemas import ERRORS, ErrorOut

from . import selectors, services
from .models import Frequency, Period, Report, Status
from .schemas import (
    CompletenessTable,
    MissingPage,
    PeriodDetail,
    PeriodPage,
    ReportDetail,
    ReportFields,
    ReportIn,
    ReportPage,
    ReportUpsertIn,
    ReturnIn,
    SubmitIn,
    SummaryOut,
    TableOut,
    TrendOut,
)

router = Router(tags=["调度"])

MAX_LIMIT = 500
CHANGE_ERRORS = {409: ErrorOut, **ERRORS}

Dimension = Enum("Dimension", {name: name for name in selectors.DIMENSIONS}, type=str)
CompletenessGroup = Enum(
    "CompletenessGroup", {name: name for name in selectors.COMPLETENESS_GROUPS}, type=str
)

# Query parameters of enum types (defaults shared at module level).
FREQUENCY = Query(None, description="monthly 月调度、quarterly 季调度、weekly 周调度")
STATUS = Query(None, description="pending、draft、submitted、returned、approved、locked")
COMPLETENESS_BY = Query("region", description="region 区域、department 责任部门、list 清单")
TABLE_BY = Query(
    "region",
    description="region 区域、sector 项目类别、list 清单、key_level 重点级别、programme 资金渠道、"
    "leader 包联领导、work_group 工作专班、department 责任部门",
)
YEAR = Query(None, ge=2000, le=2100, description="缺省为今年")
MONTH = Query(None, ge=1, le=12, description="缺省为本月（往年为 12 月）")

IDEMPOTENCY_KEY = Header(
    "",
    alias="Idempotency-Key",
    max_length=64,
    description="每个请求一个新的唯一值（如 UUID）；同一请求重发时带同一个值，不会重复保存或重复报送",
)


# --- Access ---------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看调度数据。")


def _readable(request: HttpRequest, report_id: int) -> Report:
    _require_reader(request)
    return get_report(request.auth, report_id)


def _fillable(request: HttpRequest, report_id: int) -> Report:
    """The report for filling: 404 outside the caller's scope, 403 if the caller may only read.
    Only the keys: the services lock and re-read the row."""
    _require_reader(request)
    try:
        return get_report(request.auth, report_id, change=True, light=True)
    except Http404:
        get_report(request.auth, report_id)  # 404 when outside scope: nothing is revealed
        raise PermissionDenied("您的账号无权填报该项目的调度表。") from None


def _period(request: HttpRequest, period_id: int) -> Period:
    _require_reader(request)
    period = Period.objects.select_related("schedule").filter(pk=period_id).first()
    if period is None:
        raise Http404("调度期次不存在。")
    return period


# --- Helpers --------------------------------------------------------------------------------


def _page(qs, limit: int, offset: int, page: int | None) -> dict:
    """`limit`/`offset` as in the other lists; `page` (from 1) is a shortcut for offset."""
    if page is not None:
        if offset:
            raise DjangoValidationError({"page": "page 与 offset 只能给出其中一个。"})
        offset = (page - 1) * limit
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": list(qs[offset : offset + limit])}


def _month(year: int | None, month: int | None) -> tuple[int, int]:
    """Default: this month; a past year without a month: its December."""
    today = timezone.localdate()
    year = year or today.year
    if month is None:
        month = today.month if year >= today.year else 12
    return year, month


def _input(payload: ReportFields | None) -> tuple[dict, dict | None]:
    """(fields for report_save, funds as {source: (arrived, paid)} or None when not sent)."""
    if payload is None:
        return {}, None
    given = payload.model_dump(exclude_unset=True, include=set(services.REPORT_FIELDS))
    funds = None
    if "funds" in payload.model_fields_set:
        funds = {str(f.source.value): (f.arrived, f.paid) for f in payload.funds or []}
    return given, funds


def _detail(report_id: int) -> Report:
    return Report.objects.select_related("period", "project").prefetch_related("funds").get(pk=report_id)


# --- Periods --------------------------------------------------------------------------------


@router.get("/periods", response={200: PeriodPage, **ERRORS}, summary="调度期次（分页，最新在前）")
def period_list(
    request: HttpRequest,
    frequency: Frequency | None = FREQUENCY,
    year: int | None = Query(None, ge=2000, le=2100),
    locked: bool | None = Query(None, description="true 只列已锁定，false 只列未锁定"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    page: int | None = Query(None, ge=1, description="页码（从 1 起），与 offset 二选一"),
):
    _require_reader(request)
    qs = Period.objects.select_related("schedule").order_by("-ends_on", "schedule__order", "pk")
    if frequency:
        qs = qs.filter(frequency=frequency)
    if year is not None:
        qs = qs.filter(year=year)
    if locked is not None:
        qs = qs.filter(locked_at__isnull=not locked)
    return _page(qs, limit, offset, page)


@router.get(
    "/periods/{int:period_id}", response={200: PeriodDetail, **ERRORS}, summary="调度期次及本范围报送情况"
)
def period_detail(request: HttpRequest, period_id: int):
    period = _period(request, period_id)
    period.completeness = selectors.period_completeness(period, visible_reports(request.auth))
    return period


@router.get(
    "/periods/{int:period_id}/completeness",
    response={200: CompletenessTable, **ERRORS},
    summary="报送情况：按区域、责任部门或清单",
)
def period_completeness(
    request: HttpRequest,
    period_id: int,
    by: CompletenessGroup = COMPLETENESS_BY,
):
    period = _period(request, period_id)
    by = by.value
    rows = selectors.period_completeness_by(period, visible_reports(request.auth), by, user=request.auth)
    return {"period": period, "by": by, "by_label": selectors.COMPLETENESS_GROUPS[by], "rows": rows}


@router.get(
    "/periods/{int:period_id}/missing",
    response={200: MissingPage, **ERRORS},
    summary="未报送名单（含项目负责人及联系电话）",
)
def period_missing(
    request: HttpRequest,
    period_id: int,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    page: int | None = Query(None, ge=1, description="页码（从 1 起），与 offset 二选一"),
):
    period = _period(request, period_id)
    qs = selectors.missing_reports(period, visible_reports(request.auth))
    return {"period": period, **_page(qs, limit, offset, page)}


# --- Reports --------------------------------------------------------------------------------


@router.get("/reports", response={200: ReportPage, **ERRORS}, summary="调度报表（分页，本账号可见范围）")
def report_list(
    request: HttpRequest,
    period_id: int | None = None,
    project_id: int | None = None,
    status: Status | None = STATUS,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    page: int | None = Query(None, ge=1, description="页码（从 1 起），与 offset 二选一"),
):
    _require_reader(request)
    qs = (
        visible_reports(request.auth)
        .select_related("period", "project")
        .order_by("-period_end", "project_id", "pk")
    )
    if period_id is not None:
        qs = qs.filter(period_id=period_id)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    if status:
        qs = qs.filter(status=status)
    return _page(qs, limit, offset, page)


@router.get("/reports/{int:report_id}", response={200: ReportDetail, **ERRORS}, summary="调度报表详情")
def report_detail(request: HttpRequest, report_id: int):
    return _detail(_readable(request, report_id).pk)


@router.put(
    "/reports/{int:report_id}",
    response={200: ReportDetail, **CHANGE_ERRORS},
    summary="保存草稿（只改所给字段，须带 version）",
)
def report_update(
    request: HttpRequest, report_id: int, payload: ReportIn, idempotency_key: str = IDEMPOTENCY_KEY
):
    """Only the fields sent change; `funds`, when sent, replaces the period's funds. A stale
    `version` is 409 and nothing changes."""
    report = _fillable(request, report_id)
    data, funds = _input(payload)
    services.report_save(
        actor=request.auth,
        report=report,
        data=data,
        funds=funds,
        expected_version=payload.version,
        key=idempotency_key,
    )
    return _detail(report.pk)


@router.post(
    "/reports",
    response={200: ReportDetail, **CHANGE_ERRORS},
    summary="按期次和项目保存草稿（对接用）",
)
def report_upsert(request: HttpRequest, payload: ReportUpsertIn, idempotency_key: str = IDEMPOTENCY_KEY):
    """Finds the project's report in the period and saves it as PUT does; `version` is checked
    only when given."""
    _require_reader(request)
    report_id = (
        visible_reports(request.auth)
        .filter(period_id=payload.period_id, project_id=payload.project_id)
        .values_list("pk", flat=True)
        .first()
    )
    if report_id is None:
        raise Http404("该项目在该期次没有调度表，或无权访问。")
    report = _fillable(request, report_id)
    data, funds = _input(payload)
    services.report_save(
        actor=request.auth,
        report=report,
        data=data,
        funds=funds,
        expected_version=payload.version,
        key=idempotency_key,
    )
    return _detail(report.pk)


@router.post(
    "/reports/{int:report_id}/submit",
    response={200: ReportDetail, **CHANGE_ERRORS},
    summary="报送（可同时保存所给字段）",
)
def report_submit(
    request: HttpRequest,
    report_id: int,
    payload: SubmitIn | None = None,
    idempotency_key: str = IDEMPOTENCY_KEY,
):
    """With fields in the body they are saved and the report submitted in one transaction. A
    report already submitted is 422 ("无需重复报送") unless the request carries the key of the
    submission that sent it: then 200 with the report, and nothing changes."""
    report = _fillable(request, report_id)
    data, funds = _input(payload)
    version = payload.version if payload else None
    report = services.report_save_submit(
        actor=request.auth,
        report=report,
        data=data,
        funds=funds,
        expected_version=version,
        key=idempotency_key,
    )
    prefetch_related_objects([report], "funds")  # the service's row: no second read of the report
    return report


@router.post("/reports/{int:report_id}/approve", response={200: ReportDetail, **ERRORS}, summary="审核通过")
def report_approve(request: HttpRequest, report_id: int):
    """For the county, department or city over the project. Approving an approved report
    again changes nothing."""
    report = _readable(request, report_id)
    services.report_approve(actor=request.auth, report=report)
    return _detail(report.pk)


@router.post(
    "/reports/{int:report_id}/return", response={200: ReportDetail, **ERRORS}, summary="退回（须说明原因）"
)
def report_return(request: HttpRequest, report_id: int, payload: ReturnIn):
    report = _readable(request, report_id)
    services.report_return(actor=request.auth, report=report, reason=payload.reason)
    return _detail(report.pk)


# --- Aggregates -----------------------------------------------------------------------------


@router.get(
    "/dispatch/summary",
    response={200: SummaryOut, **ERRORS},
    summary="月度总体情况：计划与完成、时间进度、开工率、竣工率",
)
def dispatch_summary(request: HttpRequest, year: int | None = YEAR, month: int | None = MONTH):
    _require_reader(request)
    year, month = _month(year, month)
    figures = selectors.month_summary(visible_projects(request.auth), year, month)
    return {"year": year, "month": month, **figures}


@router.get("/dispatch/table", response={200: TableOut, **ERRORS}, summary="月度分组统计表")
def dispatch_table(
    request: HttpRequest,
    year: int | None = YEAR,
    month: int | None = MONTH,
    by: Dimension = TABLE_BY,
):
    _require_reader(request)
    year, month = _month(year, month)
    by = by.value
    rows = selectors.month_table(visible_projects(request.auth), year, month, by, user=request.auth)
    return {"year": year, "month": month, "by": by, "by_label": selectors.DIMENSIONS[by], "rows": rows}


@router.get("/dispatch/trend", response={200: TrendOut, **ERRORS}, summary="全年走势：各月完成、累计与计划")
def dispatch_trend(request: HttpRequest, year: int | None = YEAR):
    _require_reader(request)
    year = year or timezone.localdate().year
    return {"year": year, **selectors.trend(visible_projects(request.auth), year)}
