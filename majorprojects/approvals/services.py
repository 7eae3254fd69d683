"""Every state change on the approvals ledger: item updates (with their shortcuts: not
applicable, promise, papers supplied, attachment), applying the regime's template to a project,
the Excel import, and the city admin's edits of item types, templates and readiness rules.

Each runs in one transaction, checks scope through accounts.scope, validates with Chinese
messages naming the field, and writes one audit event per changed item (the project's timeline).
Items are edited with an optimistic version check: a stale form gets ConflictError."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from majorprojects.accounts.scope import can_configure, changeable_projects, visible_projects
from majorprojects.audit.services import diff, event_record
from majorprojects.core.errors import ConflictError
from majorprojects.core.workdays import add_workdays
from majorprojects.organisation.models import Unit
from majorprojects.projects.models import ApprovalRegime, AttachmentKind, FundingSource, Project
from majorprojects.projects.services import attachment_add

from .models import (
    GRANTED,
    OPEN,
    ApprovalItem,
    ApprovalItemType,
    ItemStatus,
    ReadinessRequirement,
    ReadinessRule,
    ReadinessTarget,
    TemplateItem,
    UsedWhen,
)

ITEM_FIELDS = [
    "status",
    "responsible_unit",
    "responsible_person",
    "submitted_date",
    "planned_date",
    "actual_date",
    "approving_body",
    "document_number",
    "not_applicable_reason",
    "promise_due_date",
    "papers_supplied_date",
    "note",
]
ITEM_TYPE_FIELDS = [
    "code",
    "name",
    "approving_body",
    "validity_months",
    "used_when",
    "used_by",
    "warn_days",
    "deadline_workdays",
    "basis",
    "sort_order",
    "is_active",
]
TEXT_LIMITS = {
    "responsible_person": 50,
    "approving_body": 100,
    "document_number": 100,
    "not_applicable_reason": 200,
    "note": 500,
}


def _label(name: str) -> str:
    return str(ApprovalItem._meta.get_field(name).verbose_name)


# --- Access ---------------------------------------------------------------------------------


def may_change_ledger(actor, project: Project) -> bool:
    """Whoever may change the project (its unit, its county or department, the city admin)
    keeps its ledger. Built only from accounts.scope."""
    return changeable_projects(actor).filter(pk=project.pk).exists()


def _require_change(actor, project: Project) -> None:
    if not may_change_ledger(actor, project):
        raise PermissionDenied("您的账号无权修改该项目的前期工作台账。")


def _require_admin(actor) -> None:
    if not can_configure(actor):
        raise PermissionDenied("审批事项和模板由市级管理员维护。")


# --- Checking one item -------------------------------------------------------------------------


def _clean_item(item: ApprovalItem, today: date) -> None:
    """Normalise and check an item's values in place; ValidationError {field: message}."""
    errors: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        value = (getattr(item, name) or "").strip()
        setattr(item, name, value)
        if len(value) > limit:
            errors[name] = f"{_label(name)}最多 {limit} 个字。"
    if item.status not in ItemStatus.values:
        errors["status"] = "请选择办理状态：未启动、办理中、已办结、容缺承诺或不涉及。"
        raise ValidationError(errors)
    for name in ("submitted_date", "actual_date", "papers_supplied_date"):
        value = getattr(item, name)
        if value and value > today:
            errors[name] = f"{_label(name)}不能晚于今天。"
    if item.responsible_unit_id and not item.responsible_unit.is_active:
        errors["responsible_unit"] = "所选责任单位已停用。"
    if item.status == ItemStatus.PROMISED and item.papers_supplied_date:
        item.status = ItemStatus.DONE  # the papers are in: the approval is complete
    if item.status != ItemStatus.NOT_APPLICABLE:
        item.not_applicable_reason = ""
    if item.submitted_date and not item.planned_date and item.item_type.deadline_workdays:
        item.planned_date = add_workdays(item.submitted_date, item.item_type.deadline_workdays)
    status = item.status
    if status == ItemStatus.NOT_APPLICABLE and not item.not_applicable_reason:
        errors["not_applicable_reason"] = "标记为“不涉及”须填写原因。"
    if status in OPEN:
        if item.actual_date:
            errors["actual_date"] = f"“{ItemStatus(status).label}”的事项不应填写实际办结日期。"
        if item.papers_supplied_date:
            errors["papers_supplied_date"] = "尚未办结的事项不应填写要件补齐日期。"
    if status in GRANTED and not item.actual_date:
        errors.setdefault(
            "actual_date",
            "已办结的事项须填写实际办结日期。"
            if status == ItemStatus.DONE
            else "容缺承诺办理须填写批复（受理）日期。",
        )
    if status == ItemStatus.DONE and not item.document_number:
        errors["document_number"] = "已办结的事项须填写批复文号。"
    if status == ItemStatus.PROMISED and not item.promise_due_date:
        errors["promise_due_date"] = "容缺承诺办理须填写承诺补齐期限。"
    if item.actual_date and item.submitted_date and item.actual_date < item.submitted_date:
        errors.setdefault("actual_date", "实际办结日期不能早于受理日期。")
    if item.promise_due_date and item.actual_date and item.promise_due_date < item.actual_date:
        errors.setdefault("promise_due_date", "承诺补齐期限不能早于批复（受理）日期。")
    if item.papers_supplied_date:
        if not item.promise_due_date:
            errors.setdefault("papers_supplied_date", "只有容缺承诺办理的事项才登记要件补齐日期。")
        elif item.actual_date and item.papers_supplied_date < item.actual_date:
            errors.setdefault("papers_supplied_date", "要件补齐日期不能早于批复（受理）日期。")
    if errors:
        raise ValidationError(errors)


def _lock(item: ApprovalItem, expected_version: int | None) -> ApprovalItem:
    version = item.version if expected_version is None else expected_version
    if ApprovalItem.objects.filter(pk=item.pk, version=version).update(version=F("version") + 1) != 1:
        raise ConflictError("该事项已被他人修改，请刷新页面后重新编辑。")
    return (
        ApprovalItem.objects.select_for_update(of=("self",))
        .select_related("item_type", "project")
        .get(pk=item.pk)
    )


def _save(actor, item: ApprovalItem, before: dict, verb: str, extra: dict | None = None) -> ApprovalItem:
    changed = list(diff(item, before, ITEM_FIELDS))
    item.updated_by = actor if getattr(actor, "pk", None) else None
    item.save(update_fields=[*changed, "updated_by", "updated_at"])
    details = diff(item, before, ITEM_FIELDS)
    event_record(
        actor=actor,
        verb=verb,
        target=item,
        project=item.project,
        target_label=f"前期工作：{item.item_type.name}",
        details={**details, **(extra or {})},
    )
    return item


def _change(actor, item: ApprovalItem, fields: dict, expected_version: int | None, verb: str, extra=None):
    _require_change(actor, item.project)
    item = _lock(item, expected_version)
    before = {name: getattr(item, name) for name in ITEM_FIELDS}
    for name, value in fields.items():
        if name not in ITEM_FIELDS:
            raise ValidationError({name: "不能修改此字段。"})
        if name in TEXT_LIMITS and value is None:
            value = ""
        setattr(item, name, value)
    _clean_item(item, timezone.localdate())
    return _save(actor, item, before, verb, extra)


@transaction.atomic
def item_update(*, actor, item: ApprovalItem, fields: dict, expected_version: int | None) -> ApprovalItem:
    """Change any of ITEM_FIELDS (`responsible_unit` is a Unit or None). Only the fields given
    change; the whole item is checked afterwards."""
    return _change(actor, item, fields, expected_version, "approval_item_update")


@transaction.atomic
def item_mark_not_applicable(
    *, actor, item: ApprovalItem, reason: str, expected_version: int | None
) -> ApprovalItem:
    fields = {
        "status": ItemStatus.NOT_APPLICABLE,
        "not_applicable_reason": reason or "",
        "actual_date": None,
        "papers_supplied_date": None,
        "promise_due_date": None,
    }
    return _change(actor, item, fields, expected_version, "approval_item_not_applicable")


@transaction.atomic
def item_record_promise(
    *,
    actor,
    item: ApprovalItem,
    approved_on: date,
    promise_due_date: date | None = None,
    promise_workdays: int | None = None,
    document_number: str | None = None,
    approving_body: str | None = None,
    expected_version: int | None,
) -> ApprovalItem:
    """A promise-based approval (容缺/告知承诺): granted on `approved_on`, missing papers due by
    `promise_due_date`, or `promise_workdays` statutory working days after `approved_on`."""
    if promise_due_date is None and promise_workdays is not None:
        if not approved_on:
            raise ValidationError({"actual_date": "容缺承诺办理须填写批复（受理）日期。"})
        if promise_workdays < 1 or promise_workdays > 365:
            raise ValidationError({"promise_workdays": "补齐时限应为 1 到 365 个工作日。"})
        promise_due_date = add_workdays(approved_on, promise_workdays)
    fields = {
        "status": ItemStatus.PROMISED,
        "actual_date": approved_on,
        "promise_due_date": promise_due_date,
        "papers_supplied_date": None,
    }
    if document_number is not None:
        fields["document_number"] = document_number
    if approving_body is not None:
        fields["approving_body"] = approving_body
    return _change(
        actor,
        item,
        fields,
        expected_version,
        "approval_item_promise",
        extra={"promise_workdays": promise_workdays} if promise_workdays else None,
    )


@transaction.atomic
def item_papers_supplied(
    *,
    actor,
    item: ApprovalItem,
    on_date: date,
    document_number: str | None = None,
    expected_version: int | None,
) -> ApprovalItem:
    """The promised papers are in: the item becomes 已办结."""
    if item.status != ItemStatus.PROMISED:
        raise ValidationError({"status": "只有“容缺承诺”状态的事项才能登记要件补齐。"})
    if not on_date:
        raise ValidationError({"papers_supplied_date": "请填写要件补齐日期。"})
    fields = {"papers_supplied_date": on_date, "status": ItemStatus.DONE}
    if document_number is not None:
        fields["document_number"] = document_number
    return _change(actor, item, fields, expected_version, "approval_item_papers_supplied")


@transaction.atomic
def item_attach(
    *, actor, item: ApprovalItem, name: str, content: bytes, expected_version: int | None
) -> ApprovalItem:
    """Attach the approval document. Stored as the project's attachment (审批文件) with the same
    size and type checks, so it also shows in the project's attachments."""
    _require_change(actor, item.project)
    item = _lock(item, expected_version)
    label = " ".join(part for part in (item.item_type.name, item.document_number) if part)
    attachment = attachment_add(
        actor=actor,
        project=item.project,
        name=name,
        content=content,
        kind=AttachmentKind.APPROVAL,
        description=label,
    )
    previous = item.attachment_id
    item.attachment = attachment
    item.updated_by = actor
    item.save(update_fields=["attachment", "updated_by", "updated_at"])
    event_record(
        actor=actor,
        verb="approval_item_attach",
        target=item,
        project=item.project,
        target_label=f"前期工作：{item.item_type.name}",
        details={"attachment": attachment.original_name, "replaced": previous},
    )
    return item


# --- Applying templates -----------------------------------------------------------------------


@transaction.atomic
def ledger_apply_templates(project: Project, actor=None) -> list[ApprovalItem]:
    """Add the items of the project's regime template that its ledger lacks (idempotent: nothing
    happens when all are there; items already there, or from another regime, are kept).
    `actor=None` is the system (scan_approvals, the demo builder); otherwise the actor must be
    allowed to change the project. Returns the items created."""
    if actor is not None:
        _require_change(actor, project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    existing = set(ApprovalItem.objects.filter(project=project).values_list("item_type_id", flat=True))
    template = TemplateItem.objects.filter(
        regime=project.approval_regime, item_type__is_active=True
    ).select_related("item_type")
    new = [
        ApprovalItem(
            project=project,
            item_type=entry.item_type,
            position=entry.position,
            approving_body=entry.item_type.approving_body,
        )
        for entry in template
        if entry.item_type_id not in existing
    ]
    if not new:
        return []
    ApprovalItem.objects.bulk_create(new)
    event_record(
        actor=actor,
        verb="approval_ledger_apply",
        target=project,
        project=project,
        target_label="前期工作台账",
        details={"regime": project.get_approval_regime_display(), "items": [i.item_type.name for i in new]},
    )
    return new


# --- Item types and templates (city admin) ----------------------------------------------------


@transaction.atomic
def item_type_save(*, actor, item_type: ApprovalItemType | None = None, fields: dict) -> ApprovalItemType:
    """Create an item type, or change one (validity clock, deadline, defaults, active flag)."""
    _require_admin(actor)
    created = item_type is None
    item_type = item_type or ApprovalItemType()
    if not created:
        item_type = ApprovalItemType.objects.select_for_update().get(pk=item_type.pk)
    before = {name: getattr(item_type, name) for name in ITEM_TYPE_FIELDS}
    for name, value in fields.items():
        if name not in ITEM_TYPE_FIELDS:
            raise ValidationError({name: "不能修改此字段。"})
        setattr(item_type, name, value)
    if item_type.used_when == UsedWhen.ITEM:
        if not item_type.used_by_id:
            raise ValidationError({"used_by": "“后续事项办结”须选择后续事项。"})
        if item_type.pk and item_type.used_by_id == item_type.pk:
            raise ValidationError({"used_by": "后续事项不能是本事项。"})
    else:
        item_type.used_by = None
    item_type.full_clean()
    item_type.save()
    event_record(
        actor=actor,
        verb="approval_type_create" if created else "approval_type_update",
        target=item_type,
        details=diff(item_type, before, ITEM_TYPE_FIELDS),
    )
    return item_type


def _check_regime(regime: str) -> None:
    if regime not in ApprovalRegime.values:
        raise ValidationError({"regime": "审批类型应为审批类、核准类或备案类。"})


def _renumber(regime: str, order: list[int]) -> None:
    entries = {e.item_type_id: e for e in TemplateItem.objects.filter(regime=regime)}
    for position, type_id in enumerate(order, start=1):
        entry = entries[type_id]
        if entry.position != position:
            entry.position = position
            entry.save(update_fields=["position"])


def _template_order(regime: str) -> list[int]:
    return list(
        TemplateItem.objects.select_for_update()
        .filter(regime=regime)
        .order_by("position", "id")
        .values_list("item_type_id", flat=True)
    )


@transaction.atomic
def template_item_add(
    *, actor, regime: str, item_type: ApprovalItemType, position: int | None = None
) -> TemplateItem:
    """Put an item type into a regime's template at `position` (from 1; default last). Projects
    get it the next time templates are applied to them."""
    _require_admin(actor)
    _check_regime(regime)
    order = _template_order(regime)
    if item_type.pk in order:
        raise ValidationError({"item_type": f"“{item_type.name}”已在{ApprovalRegime(regime).label}模板中。"})
    if not item_type.is_active:
        raise ValidationError({"item_type": f"“{item_type.name}”已停用。"})
    index = len(order) if position is None else max(0, min(position - 1, len(order)))
    entry = TemplateItem.objects.create(regime=regime, item_type=item_type, position=len(order) + 1)
    order.insert(index, item_type.pk)
    _renumber(regime, order)
    event_record(
        actor=actor,
        verb="approval_template_add",
        target=entry,
        target_label=f"{ApprovalRegime(regime).label}模板",
        details={"item_type": item_type.name, "position": index + 1},
    )
    entry.refresh_from_db()
    return entry


@transaction.atomic
def template_item_remove(*, actor, regime: str, item_type: ApprovalItemType) -> None:
    """Take an item type out of a template; existing ledgers keep their items."""
    _require_admin(actor)
    _check_regime(regime)
    order = _template_order(regime)
    if item_type.pk not in order:
        raise ValidationError({"item_type": f"“{item_type.name}”不在{ApprovalRegime(regime).label}模板中。"})
    TemplateItem.objects.filter(regime=regime, item_type=item_type).delete()
    order.remove(item_type.pk)
    _renumber(regime, order)
    event_record(
        actor=actor,
        verb="approval_template_remove",
        target_type="templateitem",
        target_label=f"{ApprovalRegime(regime).label}模板",
        details={"item_type": item_type.name},
    )


@transaction.atomic
def template_reorder(*, actor, regime: str, item_type_ids: list[int]) -> list[TemplateItem]:
    """Set a template's order: `item_type_ids` must list exactly the template's item types."""
    _require_admin(actor)
    _check_regime(regime)
    order = _template_order(regime)
    if len(item_type_ids) != len(set(item_type_ids)) or set(item_type_ids) != set(order):
        raise ValidationError({"item_type_ids": "须按新顺序列出该模板的全部事项，且不能重复。"})
    _renumber(regime, list(item_type_ids))
    event_record(
        actor=actor,
        verb="approval_template_reorder",
        target_type="templateitem",
        target_label=f"{ApprovalRegime(regime).label}模板",
        details={"from": order, "to": list(item_type_ids)},
    )
    return list(TemplateItem.objects.filter(regime=regime).select_related("item_type").order_by("position"))


# --- Excel import ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    updated: int
    unchanged: int


def _find_unit(name: str, units: dict[str, list[Unit]]) -> Unit:
    from majorprojects.core.text import compact

    found = units.get(compact(name), [])
    if not found:
        raise ValueError(f"找不到单位“{name}”，请填写系统中已有的单位全称")
    if len(found) > 1:
        raise ValueError(f"有多个名为“{name}”的单位，请在系统中修改")
    return found[0]


@transaction.atomic
def ledger_import(*, actor, name: str, content: bytes) -> ImportResult:
    """Update existing items from an uploaded ledger (one row per project × item, matched by
    project code — or project name when the code is blank — and item name). All or nothing: any
    error in any row raises ValidationError listing "第N行“列”：…" and writes nothing. Rows equal
    to the current values are skipped; a row changed in the file whose item changed in the system
    since the export (hidden 版本 column) is refused."""
    from majorprojects.core.text import compact
    from majorprojects.projects.importing.reader import ImportFileError

    from . import excel

    try:
        upload = excel.read_ledger(name=name, content=content)
    except ImportFileError as exc:
        raise ValidationError(exc.message)
    today = timezone.localdate()
    errors: list[str] = []
    changeable = changeable_projects(actor)
    codes = {r.code for r in upload.rows if r.code}
    names = {r.project_name for r in upload.rows if not r.code and r.project_name}
    by_code = {p.code: p for p in changeable.filter(code__in=codes)}
    by_name: dict[str, list[Project]] = {}
    for project in changeable.filter(name__in=names):
        by_name.setdefault(project.name, []).append(project)
    visible_codes = set(visible_projects(actor).filter(code__in=codes).values_list("code", flat=True))
    types = {compact(t.name): t for t in ApprovalItemType.objects.all()}
    project_ids = {p.pk for p in by_code.values()} | {p.pk for ps in by_name.values() for p in ps}
    items = {
        (i.project_id, i.item_type_id): i
        for i in ApprovalItem.objects.filter(project_id__in=project_ids)
        .select_related("item_type", "project", "responsible_unit")
        .select_for_update(of=("self",))
    }
    units: dict[str, list[Unit]] = {}
    if "responsible_unit" in upload.headers:
        for unit in Unit.objects.filter(is_active=True):
            for key in {compact(unit.name), compact(unit.short_name)} - {""}:
                units.setdefault(key, []).append(unit)
    seen: dict[int, int] = {}
    pending: list[tuple[ApprovalItem, dict]] = []
    unchanged = 0

    def add(row, key, message):
        header = upload.headers.get(key) or (_label(key) if key in ITEM_FIELDS else "")
        where = f"“{header}”" if header else ""
        errors.append(f"第{row.number}行{where}：{message}")

    for row in upload.rows:
        for key, message in row.errors.items():
            add(row, key, message)
        if row.errors:
            continue
        if row.code:
            project = by_code.get(row.code)
            if project is None:
                add(
                    row,
                    "code",
                    "无权修改该项目" if row.code in visible_codes else f"找不到项目代码“{row.code}”",
                )
                continue
        else:
            matches = by_name.get(row.project_name, [])
            if len(matches) != 1:
                add(
                    row,
                    "project_name",
                    f"找不到项目“{row.project_name}”或无权修改"
                    if not matches
                    else f"有多个名为“{row.project_name}”的项目，请填写项目代码",
                )
                continue
            project = matches[0]
        item_type = types.get(compact(row.item_name))
        item = items.get((project.pk, item_type.pk)) if item_type else None
        if item is None:
            add(row, "item_name", f"该项目的台账中没有“{row.item_name}”事项")
            continue
        if item.pk in seen:
            add(row, "item_name", f"与第{seen[item.pk]}行是同一事项")
            continue
        seen[item.pk] = row.number
        values = dict(row.values)
        if "responsible_unit" in values:
            unit_name = values["responsible_unit"]
            if not unit_name:
                values["responsible_unit"] = None
            elif item.responsible_unit_id and compact(unit_name) in {
                compact(item.responsible_unit.name),
                compact(item.responsible_unit.short_name),
            }:
                values["responsible_unit"] = item.responsible_unit
            else:
                try:
                    values["responsible_unit"] = _find_unit(unit_name, units)
                except ValueError as exc:
                    add(row, "responsible_unit", str(exc))
                    continue
        before = {name: getattr(item, name) for name in values}
        if all(excel.canonical(before[k]) == excel.canonical(v) for k, v in values.items()):
            unchanged += 1
            continue
        if row.version is not None and row.version != item.version:
            add(row, "item_name", "导出后该事项已在系统中被修改，请重新导出后再填写")
            continue
        snapshot = {name: getattr(item, name) for name in ITEM_FIELDS}
        for key, value in values.items():
            setattr(item, key, value)
        try:
            _clean_item(item, today)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    add(row, key, message.rstrip("。"))
            continue
        pending.append((item, snapshot))
    if errors:
        raise ValidationError(errors)
    for item, snapshot in pending:
        item.version += 1
        item.updated_by = actor
        changed = list(diff(item, snapshot, ITEM_FIELDS))
        item.save(update_fields=[*changed, "version", "updated_by", "updated_at"])
        event_record(
            actor=actor,
            verb="approval_item_import",
            target=item,
            project=item.project,
            target_label=f"前期工作：{item.item_type.name}",
            details={**diff(item, snapshot, ITEM_FIELDS), "file": name[:100]},
        )
    return ImportResult(updated=len(pending), unchanged=unchanged)


# --- Readiness rules (city admin) -------------------------------------------------------------

RULE_FIELDS = [
    "name",
    "target",
    "programmes",
    "all_items",
    "all_statuses",
    "basis",
    "is_active",
    "sort_order",
]
RULE_LISTS = ["except_types", "requirements"]
RULE_CONFLICT = "该规则已被他人修改，请刷新页面后重新编辑。"
RULE_GONE = "该规则已被他人删除，请刷新页面。"


def _require_rule_admin(actor) -> None:
    if not can_configure(actor):
        raise PermissionDenied("开工与资金条件规则由市级管理员维护。")


def readiness_rule_lists(rule: ReadinessRule) -> tuple[list[ApprovalItemType], list[dict]]:
    """The rule's except types and requirements ([{"item_type", "statuses"}]), in item order
    (uses prefetched rows when there are some)."""
    if rule.pk is None:
        return [], []
    excepted = sorted(rule.except_types.all(), key=lambda t: (t.sort_order, t.pk))
    requirements = sorted(rule.requirements.all(), key=lambda r: (r.item_type.sort_order, r.item_type_id))
    return excepted, [{"item_type": r.item_type, "statuses": list(r.statuses)} for r in requirements]


def _rule_audit_state(rule: ReadinessRule, excepted, requirements) -> dict:
    state = {name: getattr(rule, name) for name in RULE_FIELDS}
    state["except_types"] = [t.name for t in excepted]
    state["requirements"] = {r["item_type"].name: _status_text(r["statuses"]) for r in requirements}
    state["all_statuses"] = _status_text(rule.all_statuses)
    return state


def _status_text(values) -> list[str]:
    return [ItemStatus(v).label for v in values if v in ItemStatus.values]


def readiness_rule_version(rule: ReadinessRule) -> str:
    """The rule's version for optimistic edits: a digest of everything the rule says (its row,
    its except types and its requirements). Forms and the API send back the version they read; a
    save or delete whose version no longer matches is refused with ConflictError."""
    excepted, requirements = readiness_rule_lists(rule)
    state = {name: getattr(rule, name) for name in RULE_FIELDS}
    state["programmes"] = sorted(state["programmes"])
    state["all_statuses"] = sorted(state["all_statuses"])
    state["except_types"] = sorted(t.pk for t in excepted)
    state["requirements"] = sorted([r["item_type"].pk, sorted(r["statuses"])] for r in requirements)
    text = json.dumps(state, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _locked_rule(rule: ReadinessRule, expected_version: str | None) -> ReadinessRule:
    locked = ReadinessRule.objects.select_for_update().filter(pk=rule.pk).first()
    if locked is None:
        raise ConflictError(RULE_GONE)
    if expected_version is not None and readiness_rule_version(locked) != expected_version:
        raise ConflictError(RULE_CONFLICT)
    return locked


def _ordered(values, allowed: list[str]) -> list[str]:
    return [v for v in allowed if v in set(values)]


def _clean_rule(rule: ReadinessRule, values: dict) -> tuple[list[ApprovalItemType], list[dict]]:
    """Normalise and check a rule's values (set on `rule`); returns the except types and the
    requirements to store. ValidationError {field: message} naming the field."""
    errors: dict[str, str] = {}
    name = str(values["name"] or "").strip()
    if not name:
        errors["name"] = "请填写规则名称。"
    elif len(name) > 100:
        errors["name"] = "规则名称最多 100 个字。"
    elif ReadinessRule.objects.filter(name=name).exclude(pk=rule.pk).exists():
        errors["name"] = f"已有名为“{name}”的规则，规则名称不能重复。"
    target = values["target"]
    if target not in ReadinessTarget.values:
        errors["target"] = "请选择用途：具备开工条件，或具备资金申报/下达条件。"
    programmes = list(values["programmes"] or [])
    unknown = [str(code) for code in programmes if code not in FundingSource.values]
    if unknown:
        known = "、".join(f"{value}（{label}）" for value, label in FundingSource.choices)
        errors["programmes"] = f"资金渠道代码“{'、'.join(unknown)}”不存在，可用的代码：{known}。"
    elif target == ReadinessTarget.FUNDING and not programmes:
        errors["programmes"] = "用于资金申报/下达条件的规则须选择至少一个资金渠道。"
    if target == ReadinessTarget.START:
        programmes = []  # the start rules apply to every candidate project
    all_items = bool(values["all_items"])
    all_statuses = list(values["all_statuses"] or [])
    bad = [str(s) for s in all_statuses if s not in ItemStatus.values]
    if bad:
        errors["all_statuses"] = f"办理状态“{'、'.join(bad)}”不存在。"
    elif all_items and not all_statuses:
        errors["all_statuses"] = "勾选“台账全部事项”时须选择这些事项须处于的状态。"
    excepted: list[ApprovalItemType] = []
    if all_items:
        for item_type in values["except_types"] or []:
            if item_type not in excepted:
                excepted.append(item_type)
    else:
        all_statuses = []  # without "all items" there is nothing for them to apply to
    requirements: list[dict] = []
    seen: set[int] = set()
    for entry in values["requirements"] or []:
        item_type, statuses = entry["item_type"], list(entry.get("statuses") or [])
        if item_type.pk in seen:
            errors.setdefault("requirements", f"“{item_type.name}”重复列出，每个事项只能列一次。")
            continue
        seen.add(item_type.pk)
        wrong = [str(s) for s in statuses if s not in ItemStatus.values]
        if wrong:
            errors.setdefault("requirements", f"“{item_type.name}”的状态“{'、'.join(wrong)}”不存在。")
        elif not statuses:
            errors.setdefault("requirements", f"请为“{item_type.name}”选择至少一个须处于的状态。")
        requirements.append({"item_type": item_type, "statuses": _ordered(statuses, ItemStatus.values)})
    if not all_items and not requirements:
        errors.setdefault("requirements", "请至少选择一个须满足的审批事项，或勾选“台账全部事项”。")
    basis = str(values["basis"] or "").strip()
    if len(basis) > 200:
        errors["basis"] = "依据最多 200 个字。"
    sort_order = values["sort_order"]
    if isinstance(sort_order, bool) or not isinstance(sort_order, int) or sort_order < 0:
        errors["sort_order"] = "排序应为不小于 0 的整数。"
    if errors:
        raise ValidationError(errors)
    rule.name, rule.target, rule.basis, rule.sort_order = name, target, basis, sort_order
    rule.programmes = _ordered(programmes, FundingSource.values)
    rule.all_items, rule.all_statuses = all_items, _ordered(all_statuses, ItemStatus.values)
    rule.is_active = bool(values["is_active"])
    excepted.sort(key=lambda t: (t.sort_order, t.pk))
    requirements.sort(key=lambda r: (r["item_type"].sort_order, r["item_type"].pk))
    return excepted, requirements


def _keep_a_start_rule(rule: ReadinessRule, *, field: str) -> None:
    """Without an active start rule every project would count as ready to start: the last one
    can be replaced (add the new one first) but not switched off, moved or deleted."""
    # Lock every active start rule (in one order) before counting: two admins switching off the
    # last two at once would otherwise both see the other one still active.
    active = list(
        ReadinessRule.objects.select_for_update()
        .filter(target=ReadinessTarget.START, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not set(active) - {rule.pk}:
        raise ValidationError(
            {
                field: "至少须保留一条启用的开工条件规则（否则所有项目都会被视为具备开工条件）；请先新增替代规则。"
            }
        )


@transaction.atomic
def readiness_rule_save(
    *, actor, rule: ReadinessRule | None = None, fields: dict, expected_version: str | None = None
) -> ReadinessRule:
    """Create a readiness rule, or change one. `fields` holds RULE_FIELDS and, as lists that
    replace the current ones, `except_types` (ApprovalItemType) and `requirements`
    ([{"item_type": ApprovalItemType, "statuses": [ItemStatus values]}]); on a change only the
    keys given change. `expected_version` is readiness_rule_version() as read (None: no check).
    The readiness lists read the rules as they are, so a change shows at once."""
    _require_rule_admin(actor)
    unknown = sorted(set(fields) - set(RULE_FIELDS) - set(RULE_LISTS))
    if unknown:
        raise ValidationError({name: "不能修改此字段。" for name in unknown})
    created, was_start = rule is None, False
    if created:
        rule = ReadinessRule()
        defaults = {"programmes": [], "all_items": False, "all_statuses": [], "basis": ""}
        values = {"name": "", "target": "", "is_active": True, "sort_order": 0, **defaults}
        values.update({"except_types": [], "requirements": []})
        before = None
    else:
        rule = _locked_rule(rule, expected_version)
        excepted, requirements = readiness_rule_lists(rule)
        values = {name: getattr(rule, name) for name in RULE_FIELDS}
        values.update({"except_types": excepted, "requirements": requirements})
        before = _rule_audit_state(rule, excepted, requirements)
        was_start = rule.target == ReadinessTarget.START and rule.is_active
    values.update(fields)
    excepted, requirements = _clean_rule(rule, values)
    if was_start and not (rule.target == ReadinessTarget.START and rule.is_active):
        _keep_a_start_rule(rule, field="target" if rule.target != ReadinessTarget.START else "is_active")
    after = _rule_audit_state(rule, excepted, requirements)
    if before is not None and after == before:
        return rule
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:  # the same name saved by someone else since the check
        raise ValidationError({"name": f"已有名为“{rule.name}”的规则，规则名称不能重复。"})
    rule.except_types.set(excepted)
    ReadinessRequirement.objects.filter(rule=rule).delete()
    ReadinessRequirement.objects.bulk_create(
        ReadinessRequirement(rule=rule, item_type=r["item_type"], statuses=r["statuses"])
        for r in requirements
    )
    if created:
        details = after
    else:
        details = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    event_record(
        actor=actor,
        verb="approval_rule_create" if created else "approval_rule_update",
        target=rule,
        target_label=f"开工与资金条件规则：{rule.name}",
        details=details,
    )
    return ReadinessRule.objects.prefetch_related("requirements__item_type", "except_types").get(pk=rule.pk)


@transaction.atomic
def readiness_rule_delete(*, actor, rule: ReadinessRule, expected_version: str | None = None) -> None:
    """Delete a rule (its requirements go with it). The last active start rule stays (see
    _keep_a_start_rule); a rule can also be switched off instead (`is_active`)."""
    _require_rule_admin(actor)
    rule = _locked_rule(rule, expected_version)
    if rule.target == ReadinessTarget.START and rule.is_active:
        _keep_a_start_rule(rule, field="rule")
    excepted, requirements = readiness_rule_lists(rule)
    event_record(
        actor=actor,
        verb="approval_rule_delete",
        target=rule,
        target_label=f"开工与资金条件规则：{rule.name}",
        details=_rule_audit_state(rule, excepted, requirements),
    )
    rule.delete()
