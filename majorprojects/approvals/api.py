"""Approvals ledger (前期工作台账) endpoints, mounted at /api/approvals: item types, templates and
readiness rules (read; edits for the city admin), a project's ledger, item changes, the city-wide
matrix, the overdue list, readiness lists and the Excel export/import. Reads go through
accounts.scope and approvals.selectors, changes through approvals.services.

Scope: a project or item outside the caller's scope is 404; one the caller may read but not
change (the leader, a read-all department) is 403 on changes; the auditor gets 403 everywhere."""

from __future__ import annotations

from enum import Enum

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import File, Query, Router
from ninja.files import UploadedFile

from majorprojects.accounts.scope import (
    can_configure,
    changeable_projects,
    get_project,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.organisation.models import Region, Sector, Unit
from majorprojects.organisation.schemas import ERRORS, ErrorOut
from majorprojects.projects.models import ApprovalRegime, FundingSource

from . import excel, selectors, services
from .models import ApprovalItem, ApprovalItemType, ItemStatus, ReadinessRule, ReadinessTarget
from .schemas import (
    REGIME_LABELS,
    ImportOut,
    ItemOut,
    ItemPatch,
    ItemRowOut,
    ItemTypeIn,
    ItemTypeOut,
    LedgerOut,
    MatrixOut,
    NotApplicableIn,
    PapersIn,
    PromiseIn,
    ReadinessOut,
    RuleIn,
    RuleOut,
    RulePatch,
    TemplateAddIn,
    TemplateOrderIn,
    TemplateOut,
)

router = Router(tags=["前期工作"])

CHANGE_ERRORS = {409: ErrorOut, **ERRORS}
Dimension = Enum("Dimension", {name: name for name in selectors.MATRIX_DIMENSIONS}, type=str)
FlagKind = Enum("FlagKind", {name: name for name in selectors.FLAG_LABELS}, type=str)
REGION = Query(None, description="区域（含下级）")
SECTOR = Query(None, description="项目类别或行业")
MATRIX_BY = Query("item_type", description="item_type 审批事项、unit 责任单位、region 所在区域")
FLAG_KIND = Query(None, description="overdue、promise_overdue、lapse_risk、lapsed；缺省为全部")
PROGRAMME = Query(..., description="资金来源代码，如 special_bond、central_budget")
STATUS = Query(None, description="not_started、in_progress、done、promised、not_applicable")
UPLOAD = File(..., description="导出的台账（.xlsx）")


# --- Access ---------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看项目数据。")


def _require_admin(request: HttpRequest) -> None:
    _require_reader(request)
    if not can_configure(request.auth):
        raise PermissionDenied("审批事项和模板由市级管理员维护。")


def _item(request: HttpRequest, item_id: int, *, change: bool) -> ApprovalItem:
    """The item: 404 outside the caller's scope, 403 on a change the caller may not make."""
    _require_reader(request)
    item = (
        ApprovalItem.objects.filter(pk=item_id, project__in=visible_projects(request.auth))
        .select_related("project", "item_type")
        .first()
    )
    if item is None:
        raise Http404("事项不存在或无权访问。")
    if change and not services.may_change_ledger(request.auth, item.project):
        raise PermissionDenied("您的账号无权修改该项目的前期工作台账。")
    return item


def _filters(region_id: int | None, sector_id: int | None) -> dict:
    filters = {}
    if region_id is not None:
        filters["region"] = Region.objects.filter(pk=region_id).first()
        if filters["region"] is None:
            raise DjangoValidationError({"region_id": "区域不存在。"})
    if sector_id is not None:
        filters["sector"] = Sector.objects.filter(pk=sector_id).first()
        if filters["sector"] is None:
            raise DjangoValidationError({"sector_id": "项目类别不存在。"})
    return filters


def _item_type(item_type_id: int | None, field: str = "item_type_id") -> ApprovalItemType | None:
    if item_type_id is None:
        return None
    found = ApprovalItemType.objects.filter(pk=item_type_id).first()
    if found is None:
        raise DjangoValidationError({field: "审批事项不存在。"})
    return found


def _unit(unit_id: int | None, field: str = "unit_id") -> Unit | None:
    if unit_id is None:
        return None
    found = Unit.objects.filter(pk=unit_id).first()
    if found is None:
        raise DjangoValidationError({field: "单位不存在。"})
    return found


def _fresh(item: ApprovalItem) -> ApprovalItem:
    return ApprovalItem.objects.select_related("item_type", "responsible_unit").get(pk=item.pk)


def _regime(regime: str) -> str:
    if regime not in ApprovalRegime.values:
        raise Http404("审批类型不存在。")
    return regime


# --- Item types and templates ------------------------------------------------------------------


@router.get("/item-types", response={200: list[ItemTypeOut], **ERRORS}, summary="审批事项类型")
def item_type_list(request: HttpRequest, active: bool | None = None):
    _require_reader(request)
    qs = ApprovalItemType.objects.all()
    if active is not None:
        qs = qs.filter(is_active=active)
    return list(qs)


def _type_fields(payload: ItemTypeIn) -> dict:
    fields = payload.model_dump(exclude={"used_by_id"})
    fields["used_when"] = payload.used_when.value
    fields["used_by"] = _item_type(payload.used_by_id, "used_by_id")
    return fields


@router.post("/item-types", response={200: ItemTypeOut, **ERRORS}, summary="新增审批事项类型（市级管理员）")
def item_type_create(request: HttpRequest, payload: ItemTypeIn):
    _require_admin(request)
    return services.item_type_save(actor=request.auth, fields=_type_fields(payload))


@router.put(
    "/item-types/{int:type_id}",
    response={200: ItemTypeOut, **ERRORS},
    summary="修改审批事项类型（市级管理员）",
)
def item_type_update(request: HttpRequest, type_id: int, payload: ItemTypeIn):
    _require_admin(request)
    item_type = ApprovalItemType.objects.filter(pk=type_id).first()
    if item_type is None:
        raise Http404("审批事项不存在。")
    return services.item_type_save(actor=request.auth, item_type=item_type, fields=_type_fields(payload))


def _template(regime: str) -> dict:
    entries = selectors.templates().get(regime, [])
    return {
        "regime": regime,
        "regime_label": REGIME_LABELS[regime],
        "items": [{"position": e.position, "item_type": e.item_type} for e in entries],
    }


@router.get("/templates", response={200: list[TemplateOut], **ERRORS}, summary="各审批类型的事项模板")
def template_list(request: HttpRequest):
    _require_reader(request)
    return [_template(regime) for regime in ApprovalRegime.values]


@router.post(
    "/templates/{regime}/items", response={200: TemplateOut, **ERRORS}, summary="向模板添加事项（市级管理员）"
)
def template_add(request: HttpRequest, regime: str, payload: TemplateAddIn):
    _require_admin(request)
    regime = _regime(regime)
    item_type = _item_type(payload.item_type_id)
    services.template_item_add(
        actor=request.auth, regime=regime, item_type=item_type, position=payload.position
    )
    return _template(regime)


@router.delete(
    "/templates/{regime}/items/{int:type_id}",
    response={200: TemplateOut, **ERRORS},
    summary="从模板移除事项（市级管理员；已有台账不受影响）",
)
def template_remove(request: HttpRequest, regime: str, type_id: int):
    _require_admin(request)
    regime = _regime(regime)
    item_type = ApprovalItemType.objects.filter(pk=type_id).first()
    if item_type is None:
        raise Http404("审批事项不存在。")
    services.template_item_remove(actor=request.auth, regime=regime, item_type=item_type)
    return _template(regime)


@router.put(
    "/templates/{regime}/order", response={200: TemplateOut, **ERRORS}, summary="调整模板顺序（市级管理员）"
)
def template_order(request: HttpRequest, regime: str, payload: TemplateOrderIn):
    _require_admin(request)
    regime = _regime(regime)
    services.template_reorder(actor=request.auth, regime=regime, item_type_ids=payload.item_type_ids)
    return _template(regime)


# --- A project's ledger ------------------------------------------------------------------------


@router.get("/projects/{int:project_id}", response={200: LedgerOut, **ERRORS}, summary="项目前期工作台账")
def project_ledger(request: HttpRequest, project_id: int):
    _require_reader(request)
    project = get_project(request.auth, project_id)
    return selectors.project_ledger(project)


@router.post(
    "/projects/{int:project_id}/apply-templates",
    response={200: LedgerOut, **ERRORS},
    summary="按审批类型补齐台账事项（只添加缺少的事项）",
)
def project_apply_templates(request: HttpRequest, project_id: int):
    _require_reader(request)
    project = get_project(request.auth, project_id)
    services.ledger_apply_templates(project, request.auth)
    return selectors.project_ledger(project)


@router.get("/items/{int:item_id}", response={200: ItemOut, **ERRORS}, summary="台账事项")
def item_detail(request: HttpRequest, item_id: int):
    return _fresh(_item(request, item_id, change=False))


@router.patch(
    "/items/{int:item_id}", response={200: ItemOut, **CHANGE_ERRORS}, summary="修改事项（须带 version）"
)
def item_update(request: HttpRequest, item_id: int, payload: ItemPatch):
    item = _item(request, item_id, change=True)
    given = payload.model_dump(exclude_unset=True, exclude={"version"})
    fields = {}
    for key, value in given.items():
        if key == "responsible_unit_id":
            fields["responsible_unit"] = _unit(value, "responsible_unit_id")
        elif key == "status":
            if value is None:
                raise DjangoValidationError({"status": "办理状态不能为空。"})
            fields["status"] = ItemStatus(value).value
        else:
            fields[key] = value
    try:
        services.item_update(actor=request.auth, item=item, fields=fields, expected_version=payload.version)
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict") and "responsible_unit" in exc.error_dict:
            errors = dict(exc.error_dict)
            errors["responsible_unit_id"] = errors.pop("responsible_unit")
            raise DjangoValidationError(errors) from exc
        raise
    return _fresh(item)


@router.post(
    "/items/{int:item_id}/not-applicable",
    response={200: ItemOut, **CHANGE_ERRORS},
    summary="标记为不涉及（须说明原因）",
)
def item_not_applicable(request: HttpRequest, item_id: int, payload: NotApplicableIn):
    item = _item(request, item_id, change=True)
    services.item_mark_not_applicable(
        actor=request.auth, item=item, reason=payload.reason, expected_version=payload.version
    )
    return _fresh(item)


@router.post(
    "/items/{int:item_id}/promise",
    response={200: ItemOut, **CHANGE_ERRORS},
    summary="登记容缺/告知承诺办理（补齐期限可按工作日计算）",
)
def item_promise(request: HttpRequest, item_id: int, payload: PromiseIn):
    item = _item(request, item_id, change=True)
    services.item_record_promise(
        actor=request.auth,
        item=item,
        approved_on=payload.approved_on,
        promise_due_date=payload.promise_due_date,
        promise_workdays=payload.promise_workdays,
        document_number=payload.document_number,
        approving_body=payload.approving_body,
        expected_version=payload.version,
    )
    return _fresh(item)


@router.post(
    "/items/{int:item_id}/papers-supplied",
    response={200: ItemOut, **CHANGE_ERRORS},
    summary="登记承诺要件已补齐",
)
def item_papers(request: HttpRequest, item_id: int, payload: PapersIn):
    item = _item(request, item_id, change=True)
    services.item_papers_supplied(
        actor=request.auth,
        item=item,
        on_date=payload.on_date,
        document_number=payload.document_number,
        expected_version=payload.version,
    )
    return _fresh(item)


# --- City-wide ---------------------------------------------------------------------------------


@router.get(
    "/matrix", response={200: MatrixOut, **ERRORS}, summary="全市台账：按事项、责任单位或区域统计各状态数"
)
def matrix(
    request: HttpRequest,
    by: Dimension = MATRIX_BY,
    region_id: int | None = REGION,
    sector_id: int | None = SECTOR,
):
    _require_reader(request)
    return selectors.ledger_matrix(
        request.auth, by=getattr(by, "value", by), **_filters(region_id, sector_id)
    )


def _item_rows(rows: list[dict]) -> list[dict]:
    return [{"item": r["item"], "project": r["item"].project, "flags": r["flags"]} for r in rows]


@router.get(
    "/overdue", response={200: list[ItemRowOut], **ERRORS}, summary="逾期、承诺逾期、即将失效和已失效的事项"
)
def overdue(
    request: HttpRequest,
    kind: FlagKind | None = FLAG_KIND,
    region_id: int | None = REGION,
    sector_id: int | None = SECTOR,
    item_type_id: int | None = None,
    unit_id: int | None = Query(None, description="责任单位"),
):
    _require_reader(request)
    rows = selectors.overdue_items(
        request.auth,
        kind=getattr(kind, "value", kind),
        item_type=_item_type(item_type_id),
        unit=_unit(unit_id),
        **_filters(region_id, sector_id),
    )
    return _item_rows(rows)


def _readiness(rows: list[dict], rules: list[str]) -> dict:
    return {
        "rules": rules,
        "count": len(rows),
        "ready": sum(1 for r in rows if r["ready"]),
        "rows": [
            {
                "project": r["project"],
                "ready": r["ready"],
                "missing": [
                    {**m, "item_type_id": m["item_type"].pk if m["item_type"] else None} for m in r["missing"]
                ],
            }
            for r in rows
        ],
    }


@router.get(
    "/readiness/start", response={200: ReadinessOut, **ERRORS}, summary="具备开工条件的项目及各项目所缺事项"
)
def readiness_start(
    request: HttpRequest,
    ready: bool | None = Query(None, description="true 只列已具备、false 只列未具备"),
    region_id: int | None = REGION,
    sector_id: int | None = SECTOR,
):
    _require_reader(request)
    rows = selectors.ready_to_start(request.auth, ready=ready, **_filters(region_id, sector_id))
    rules = [r.name for r in selectors.readiness_rules("start")]
    return _readiness(rows, rules)


@router.get(
    "/readiness/funding",
    response={200: ReadinessOut, **ERRORS},
    summary="具备资金申报条件的项目（按资金渠道）",
)
def readiness_funding(
    request: HttpRequest,
    programme: FundingSource = PROGRAMME,
    ready: bool | None = Query(None, description="true 只列已具备、false 只列未具备"),
    region_id: int | None = REGION,
    sector_id: int | None = SECTOR,
):
    _require_reader(request)
    rows = selectors.ready_for_funding(
        request.auth, FundingSource(programme).value, ready=ready, **_filters(region_id, sector_id)
    )
    rules = [
        r.name for r in selectors.readiness_rules("funding") if FundingSource(programme).value in r.programmes
    ]
    return _readiness(rows, rules)


# --- Excel -------------------------------------------------------------------------------------


@router.get("/export.xlsx", response={200: None, **ERRORS}, summary="导出前期工作台账（Excel）")
def export(
    request: HttpRequest,
    region_id: int | None = REGION,
    sector_id: int | None = SECTOR,
    status: ItemStatus | None = STATUS,
    item_type_id: int | None = None,
    project_id: int | None = None,
):
    _require_reader(request)
    project = get_project(request.auth, project_id) if project_id is not None else None
    items = selectors.ledger_items(
        request.auth,
        status=ItemStatus(status).value if status else None,
        item_type=_item_type(item_type_id),
        project=project,
        **_filters(region_id, sector_id),
    )
    content = excel.ledger_xlsx(selectors.with_flags(items))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E5%89%8D%E6%9C%9F%E5%B7%A5%E4%BD%9C%E5%8F%B0%E8%B4%A6.xlsx"
    )
    return response


@router.post("/import", response={200: ImportOut, **ERRORS}, summary="导入前期工作台账（全部校验通过才写入）")
def import_ledger(request: HttpRequest, file: UploadedFile = UPLOAD):
    """Rows for projects the caller may not change are refused like any other bad row."""
    _require_reader(request)
    if not changeable_projects(request.auth).exists():
        raise PermissionDenied("您的账号无权修改前期工作台账。")
    content = file.read(settings.IMPORT_MAX_BYTES + 1)
    result = services.ledger_import(actor=request.auth, name=file.name or "", content=content)
    return {"updated": result.updated, "unchanged": result.unchanged}


# --- Readiness rules ---------------------------------------------------------------------------


def _rule_out(rule: ReadinessRule) -> dict:
    excepted, requirements = services.readiness_rule_lists(rule)
    return {
        "id": rule.pk,
        "name": rule.name,
        "target": rule.target,
        "target_label": rule.get_target_display(),
        "programmes": rule.programmes,
        "programme_labels": rule.programme_labels(),
        "all_items": rule.all_items,
        "all_statuses": rule.all_statuses,
        "except_types": excepted,
        "requirements": [
            {
                "item_type": r["item_type"],
                "statuses": r["statuses"],
                "status_labels": [ItemStatus(s).label for s in r["statuses"] if s in ItemStatus.values],
            }
            for r in requirements
        ],
        "basis": rule.basis,
        "is_active": rule.is_active,
        "sort_order": rule.sort_order,
        "version": services.readiness_rule_version(rule),
    }


def _rules():
    return ReadinessRule.objects.prefetch_related("requirements__item_type", "except_types")


def _rule(rule_id: int) -> ReadinessRule:
    rule = _rules().filter(pk=rule_id).first()
    if rule is None:
        raise Http404("规则不存在。")
    return rule


def _rule_fields(given: dict) -> dict:
    """The API's body as services.readiness_rule_save fields: ids become item types (an unknown
    id is a 422 naming the field); an explicit null is refused rather than read as empty."""
    nulls = {key: "不能为空；不修改的字段请不要传。" for key, value in given.items() if value is None}
    if nulls:
        raise DjangoValidationError(nulls)
    fields = {k: v for k, v in given.items() if k not in ("except_type_ids", "requirements")}
    if "except_type_ids" in given:
        fields["except_types"] = [_item_type(pk, "except_type_ids") for pk in given["except_type_ids"]]
    if "requirements" in given:
        fields["requirements"] = [
            {"item_type": _item_type(r["item_type_id"], "requirements"), "statuses": r["statuses"]}
            for r in given["requirements"]
        ]
    return fields


def _save_rule(request: HttpRequest, rule: ReadinessRule | None, given: dict, version: str | None):
    try:
        saved = services.readiness_rule_save(
            actor=request.auth, rule=rule, fields=_rule_fields(given), expected_version=version
        )
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict") and "except_types" in exc.error_dict:
            errors = dict(exc.error_dict)
            errors["except_type_ids"] = errors.pop("except_types")
            raise DjangoValidationError(errors) from exc
        raise
    return _rule_out(saved)


@router.get("/rules", response={200: list[RuleOut], **ERRORS}, summary="开工与资金条件规则")
def rule_list(
    request: HttpRequest,
    target: str | None = Query(None, description="start 开工条件、funding 资金条件；缺省为全部"),
    active: bool | None = None,
):
    _require_reader(request)
    qs = _rules()
    if target is not None:
        if target not in ReadinessTarget.values:
            raise DjangoValidationError({"target": "用途应为 start（开工条件）或 funding（资金条件）。"})
        qs = qs.filter(target=target)
    if active is not None:
        qs = qs.filter(is_active=active)
    return [_rule_out(rule) for rule in qs]


@router.get("/rules/{int:rule_id}", response={200: RuleOut, **ERRORS}, summary="一条开工与资金条件规则")
def rule_detail(request: HttpRequest, rule_id: int):
    _require_reader(request)
    return _rule_out(_rule(rule_id))


def _require_rule_admin(request: HttpRequest) -> None:
    _require_reader(request)
    if not can_configure(request.auth):
        raise PermissionDenied("开工与资金条件规则由市级管理员维护。")


@router.post("/rules", response={200: RuleOut, **ERRORS}, summary="新增开工与资金条件规则（市级管理员）")
def rule_create(request: HttpRequest, payload: RuleIn):
    _require_rule_admin(request)
    return _save_rule(request, None, payload.model_dump(), None)


@router.patch(
    "/rules/{int:rule_id}",
    response={200: RuleOut, **CHANGE_ERRORS},
    summary="修改开工与资金条件规则（市级管理员；须带 version）",
)
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch):
    _require_rule_admin(request)
    rule = _rule(rule_id)
    given = payload.model_dump(exclude_unset=True, exclude={"version"})
    return _save_rule(request, rule, given, payload.version)


@router.delete(
    "/rules/{int:rule_id}",
    response={204: None, **CHANGE_ERRORS},
    summary="删除开工与资金条件规则（市级管理员；须带 version）",
)
def rule_delete(
    request: HttpRequest, rule_id: int, version: str = Query(..., description="读取时的 version")
):
    _require_rule_admin(request)
    services.readiness_rule_delete(actor=request.auth, rule=_rule(rule_id), expected_version=version)
    return 204, None
