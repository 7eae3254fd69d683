"""Warnings endpoints (红黄灯): metrics and rules (read, export, import with a dry run, create and
edit), a scan run, warnings with their workflow, the negative list (JSON and Excel), lights of
projects and the region board. Reads go through accounts.scope and alerts.selectors, changes
through alerts.services — the same checks, Chinese messages and event rows as the pages.

A warning outside the caller's scope is 404; a step the caller may not take is 403; a stale
`version` is 409; bad input is 422 naming the field. The auditor gets 403 everywhere here."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Query, Router

from majorprojects.accounts.scope import (
    can_manage_alert_rules,
    get_warning,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.organisation.schemas import ERRORS, ErrorOut

from . import exports, selectors, services
from .models import Exemption, Light, Rule, Status, Subject, period_of
from .rules import registry, rule_to_dict, rules_export
from .schemas import (
    BoardRow,
    DecideIn,
    ExemptionIn,
    ImportReportOut,
    MetricOut,
    NegativeList,
    NoteIn,
    NotifyIn,
    PlanIn,
    ReasonIn,
    RectifiedIn,
    RuleIn,
    RuleOut,
    ScanIn,
    ScanOut,
    WarningDetail,
    WarningPage,
)

router = Router(tags=["预警（红黄灯）"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHANGE_ERRORS = {409: ErrorOut, **ERRORS}
PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
MAX_LIMIT = 500
MAX_LIGHT_IDS = 1000
RULE_FILE = Body(..., description="规则文件（docs/alerts.md）")


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看预警。")


def _require_rules_admin(request: HttpRequest) -> None:
    if not can_manage_alert_rules(request.auth):
        raise PermissionDenied("只有市级管理员可以管理预警规则。")


def _period(value: str | None, field: str = "period") -> tuple[int, int]:
    if not value:
        latest = selectors.latest_period()
        return latest or selectors.default_period(timezone.localdate())
    match = PERIOD.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise DjangoValidationError({field: "月份格式应为 YYYY-MM，如 2026-10。"})
    return int(match.group(1)), int(match.group(2))


def _rule_out(rule: Rule) -> dict:
    return {"id": rule.pk, "version": rule.version, **rule_to_dict(rule)}


def _warning(request: HttpRequest, warning_id: int):
    """The warning if the caller may read it (404 outside scope)."""
    _require_reader(request)
    return get_warning(request.auth, warning_id)


def _detail(request: HttpRequest, warning_id: int) -> dict:
    warning = get_warning(request.auth, warning_id)
    row = selectors.warning_row(warning)
    return {
        **row,
        "evidence": warning.evidence,
        "rectification": warning.rectification,
        "note": warning.note,
        "carried_from_id": warning.carried_from_id,
        "actions": selectors.warning_actions(request.auth, warning),
        "exemptions": [
            {
                "id": e.pk,
                "status": e.status,
                "justification": e.justification,
                "period_from": "{}-{:02d}".format(*period_of(e.period_from)),
                "period_to": "{}-{:02d}".format(*period_of(e.period_to)),
                "decision_note": e.decision_note,
                "version": e.version,
            }
            for e in warning.exemptions.order_by("-requested_at")
        ],
        "timeline": [
            {"at": e.at, "actor": str(e.actor or "系统"), "verb": e.verb, "details": e.details}
            for e in selectors.timeline(warning)
        ],
    }


def _rule_data(payload: RuleIn) -> dict:
    """The rule as sent, without the read-only keys a client copies from GET /rules/{id}."""
    return {k: v for k, v in payload.rule.items() if k not in ("id", "version")}


# --- Metrics and rules ----------------------------------------------------------------------


@router.get("/metrics", response={200: list[MetricOut], **ERRORS}, summary="可用的预警指标")
def metric_list(request: HttpRequest):
    _require_reader(request)
    return [
        {
            "code": m.code,
            "label": m.label,
            "subject": m.subject,
            "unit": m.unit,
            "higher_is_worse": m.higher_is_worse,
            "description": getattr(m, "description", ""),
            "params": {
                name: {"type": spec[0].__name__, "required": spec[1], "label": spec[2], "allowed": spec[3]}
                for name, spec in m.params.items()
            },
        }
        for m in registry().values()
    ]


@router.get("/rules", response={200: list[RuleOut], **ERRORS}, summary="预警规则")
def rule_list(request: HttpRequest):
    _require_reader(request)
    return [_rule_out(r) for r in Rule.objects.order_by("sort_order", "code")]


@router.get("/rules/export", response={200: dict, **ERRORS}, summary="导出规则文件（JSON）")
def rule_export(request: HttpRequest):
    _require_reader(request)
    return rules_export()


@router.post(
    "/rules/import", response={200: ImportReportOut, **ERRORS}, summary="导入规则文件（全部成功或不做修改）"
)
def rule_import(
    request: HttpRequest,
    payload: dict = RULE_FILE,
    dry_run: bool = Query(False, description="true：只校验并报告将发生的变化"),
):
    _require_rules_admin(request)
    report = services.rules_file_import(actor=request.auth, data=payload, dry_run=dry_run)
    return report.as_dict()


@router.post("/rules/restore-defaults", response={200: ImportReportOut, **ERRORS}, summary="恢复默认规则")
def rule_restore(request: HttpRequest, dry_run: bool = Query(False)):
    _require_rules_admin(request)
    return services.rules_restore_defaults(actor=request.auth, dry_run=dry_run).as_dict()


@router.get("/rules/{int:rule_id}", response={200: RuleOut, **ERRORS}, summary="规则详情")
def rule_detail(request: HttpRequest, rule_id: int):
    _require_reader(request)
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("规则不存在。")
    return _rule_out(rule)


@router.post("/rules", response={200: RuleOut, **CHANGE_ERRORS}, summary="新建规则")
def rule_create(request: HttpRequest, payload: RuleIn):
    _require_rules_admin(request)
    return _rule_out(services.rule_save(actor=request.auth, data=_rule_data(payload)))


@router.put("/rules/{int:rule_id}", response={200: RuleOut, **CHANGE_ERRORS}, summary="修改规则")
def rule_update(request: HttpRequest, rule_id: int, payload: RuleIn):
    _require_rules_admin(request)
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("规则不存在。")
    rule = services.rule_save(
        actor=request.auth, data=_rule_data(payload), rule=rule, expected_version=payload.version
    )
    return _rule_out(rule)


# --- Scans ----------------------------------------------------------------------------------


@router.post("/scans", response={200: ScanOut, **ERRORS}, summary="立即扫描某月（市级管理员，可重复执行）")
def scan_now(request: HttpRequest, payload: ScanIn):
    _require_reader(request)
    year, month = _period(payload.period)
    return services.scan_run(actor=request.auth, year=year, month=month).as_dict()


# --- Warnings -------------------------------------------------------------------------------


@router.get("/warnings", response={200: WarningPage, **ERRORS}, summary="预警列表（本账号可见范围）")
def warning_list(
    request: HttpRequest,
    period: str | None = Query(None, description="月份 YYYY-MM；省略时为全部月份"),
    light: Light | None = None,
    rule: str | None = Query(None, description="规则代码"),
    region_id: int | None = Query(None, description="含下级区域"),
    status: str | None = Query(
        None, description="open 未办结，或 issued、notified、rectifying、rectified、struck_off、exempted"
    ),
    project_id: int | None = None,
    subject: Subject | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    _require_reader(request)
    if status and status != "open" and status not in Status.values:
        raise DjangoValidationError({"status": "状态无效。"})
    year, month = _period(period) if period else (None, None)
    qs = selectors.warning_list(
        request.auth,
        year=year,
        month=month,
        light=light.value if light else None,
        rule=rule,
        region_id=region_id,
        status=status,
        project_id=project_id,
        subject=subject.value if subject else None,
    )
    items = [selectors.warning_row(w) for w in qs[offset : offset + limit]]
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": items}


@router.get(
    "/warnings/{int:warning_id}", response={200: WarningDetail, **ERRORS}, summary="预警详情及处理记录"
)
def warning_detail(request: HttpRequest, warning_id: int):
    _require_reader(request)
    return _detail(request, warning_id)


@router.post(
    "/warnings/{int:warning_id}/notify", response={200: WarningDetail, **CHANGE_ERRORS}, summary="下发通知"
)
def warning_notify(request: HttpRequest, warning_id: int, payload: NotifyIn):
    warning = _warning(request, warning_id)
    services.warning_notify(
        actor=request.auth, warning=warning, note=payload.note, expected_version=payload.version
    )
    return _detail(request, warning_id)


@router.post(
    "/warnings/{int:warning_id}/plan",
    response={200: WarningDetail, **CHANGE_ERRORS},
    summary="填报整改措施和时限",
)
def warning_plan(request: HttpRequest, warning_id: int, payload: PlanIn):
    warning = _warning(request, warning_id)
    services.warning_plan(
        actor=request.auth,
        warning=warning,
        plan=payload.plan,
        deadline=payload.deadline,
        expected_version=payload.version,
    )
    return _detail(request, warning_id)


@router.post(
    "/warnings/{int:warning_id}/rectified",
    response={200: WarningDetail, **CHANGE_ERRORS},
    summary="报送整改完成",
)
def warning_rectified(request: HttpRequest, warning_id: int, payload: RectifiedIn):
    warning = _warning(request, warning_id)
    services.warning_mark_rectified(
        actor=request.auth,
        warning=warning,
        rectification=payload.rectification,
        expected_version=payload.version,
    )
    return _detail(request, warning_id)


@router.post(
    "/warnings/{int:warning_id}/strike-off",
    response={200: WarningDetail, **CHANGE_ERRORS},
    summary="核验销号（市级）",
)
def warning_strike_off(request: HttpRequest, warning_id: int, payload: NoteIn):
    warning = _warning(request, warning_id)
    services.warning_strike_off(
        actor=request.auth, warning=warning, note=payload.note, expected_version=payload.version
    )
    return _detail(request, warning_id)


@router.post(
    "/warnings/{int:warning_id}/reopen",
    response={200: WarningDetail, **CHANGE_ERRORS},
    summary="退回整改（市级）",
)
def warning_reopen(request: HttpRequest, warning_id: int, payload: ReasonIn):
    warning = _warning(request, warning_id)
    services.warning_reopen(
        actor=request.auth, warning=warning, reason=payload.reason, expected_version=payload.version
    )
    return _detail(request, warning_id)


@router.post(
    "/warnings/{int:warning_id}/exemption",
    response={200: WarningDetail, **CHANGE_ERRORS},
    summary="申请正当理由",
)
def warning_exemption(request: HttpRequest, warning_id: int, payload: ExemptionIn):
    warning = _warning(request, warning_id)
    until = _period(payload.until, "until") if payload.until else None
    services.exemption_request(
        actor=request.auth,
        warning=warning,
        justification=payload.justification,
        until=until,
        expected_version=payload.version,
    )
    return _detail(request, warning_id)


@router.post(
    "/exemptions/{int:exemption_id}/decide", response={200: dict, **CHANGE_ERRORS}, summary="审批正当理由"
)
def exemption_decide(request: HttpRequest, exemption_id: int, payload: DecideIn):
    _require_reader(request)
    exemption = Exemption.objects.filter(pk=exemption_id).select_related("warning").first()
    if exemption is None or (
        exemption.warning_id
        and not selectors.warning_list(request.auth).filter(pk=exemption.warning_id).exists()
    ):
        raise Http404("正当理由申请不存在或无权访问")
    exemption = services.exemption_decide(
        actor=request.auth,
        exemption=exemption,
        approve=payload.approve,
        note=payload.note,
        expected_version=payload.version,
    )
    return {"id": exemption.pk, "status": exemption.status, "version": exemption.version}


# --- The negative list, lights, the board ---------------------------------------------------


@router.get(
    "/negative-list", response={200: NegativeList, **ERRORS}, summary="负面清单（按区域，含上期比较）"
)
def negative_list(request: HttpRequest, period: str | None = Query(None, description="月份 YYYY-MM")):
    _require_reader(request)
    year, month = _period(period)
    return selectors.negative_list(request.auth, year, month)


@router.get("/negative-list.xlsx", response={200: None, **ERRORS}, summary="导出负面清单（Excel）")
def negative_list_xlsx(request: HttpRequest, period: str | None = Query(None, description="月份 YYYY-MM")):
    _require_reader(request)
    year, month = _period(period)
    content = exports.negative_list_xlsx(selectors.negative_list(request.auth, year, month))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''negative-list-{year}{month:02d}.xlsx"
    return response


@router.get("/lights", response={200: dict[str, str], **ERRORS}, summary="项目灯色（red/yellow/green）")
def project_lights(
    request: HttpRequest,
    project_ids: str = Query(..., description="项目 id，逗号分隔，最多 1000 个"),
    period: str | None = Query(None, description="月份 YYYY-MM"),
):
    _require_reader(request)
    try:
        ids = [int(x) for x in project_ids.split(",") if x.strip()]
    except ValueError:
        raise DjangoValidationError({"project_ids": "项目 id 应为逗号分隔的整数。"})
    if len(ids) > MAX_LIGHT_IDS:
        raise DjangoValidationError({"project_ids": f"最多 {MAX_LIGHT_IDS} 个项目。"})
    year, month = _period(period)
    readable = list(visible_projects(request.auth).filter(pk__in=ids).values_list("pk", flat=True))
    return {str(pk): light for pk, light in selectors.project_lights(readable, year, month).items()}


@router.get("/board", response={200: list[BoardRow], **ERRORS}, summary="区域红黄灯看板")
def region_board(request: HttpRequest, period: str | None = Query(None, description="月份 YYYY-MM")):
    _require_reader(request)
    year, month = _period(period)
    return selectors.region_board(request.auth, year, month)
