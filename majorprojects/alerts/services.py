"""Every state change of the warnings app: running a scan, the rectification workflow of a
warning (整改销号), justifications (正当理由) and rule edits. Each service runs in one
transaction, locks the row, checks who may act through accounts.scope, checks the optimistic
version when the caller sends one, saves with update_fields and writes one audit event.

States (docs/alerts.md):
    issued ─notify→ notified ─plan→ rectifying ─rectified→ rectified ─strike off→ struck_off
    (a plan may also be filed straight from issued; the city may reopen rectified/struck_off →
    rectifying; an approved justification turns any open warning into exempted)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from majorprojects.accounts.scope import (
    can_decide_exemption,
    can_manage_alert_rules,
    can_notify_warning,
    can_rectify_warning,
    can_strike_off_warning,
)
from majorprojects.audit.services import event_record
from majorprojects.core.errors import ConflictError
from majorprojects.projects.models import AttachmentKind
from majorprojects.projects.services import attachment_add

from . import engine
from .models import (
    OPEN_STATUSES,
    Exemption,
    ExemptionStatus,
    Rule,
    ScanRun,
    Status,
    Warning,
    period_index,
)
from .rules import RULE_FIELDS, ImportReport, forget_streaks, rule_clean, rules_import

MAX_TEXT = 2000
MAX_EXEMPTION_MONTHS = 12


# --- Helpers --------------------------------------------------------------------------------


def _locked(warning: Warning) -> Warning:
    return (
        Warning.objects.select_for_update(of=("self",))
        .select_related("rule", "project", "region")
        .get(pk=warning.pk)
    )


def _check_version(
    obj, expected_version: int | None, message: str = "该预警已被他人处理，请刷新页面后重试。"
):
    if expected_version is not None and expected_version != obj.version:
        raise ConflictError(message)


def _check_status(warning: Warning, allowed, action: str) -> None:
    if warning.status not in allowed:
        raise ValidationError(f"预警当前状态为“{warning.get_status_display()}”，不能{action}。")


def _text(value, field: str, label: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: f"请填写{label}。"})
    if len(text) > MAX_TEXT:
        raise ValidationError({field: f"{label}最多 {MAX_TEXT} 个字符。"})
    return text


def _save(warning: Warning, fields: list[str]) -> None:
    warning.version += 1
    warning.save(update_fields=[*fields, "version", "updated_at"])


def _event(actor, verb: str, warning: Warning, details: dict | None = None) -> None:
    event_record(
        actor=actor,
        verb=verb,
        target=warning,
        project=warning.project if warning.project_id else None,
        details={
            "rule": warning.rule.code,
            "period": f"{warning.year}-{warning.month:02d}",
            **(details or {}),
        },
    )


# --- Scans ----------------------------------------------------------------------------------


def scan_record(result: engine.ScanResult, *, actor=None) -> ScanRun:
    """Keep a scan's outcome (the "last scanned" period of the pages) and its event."""
    run = ScanRun.objects.create(
        year=result.year,
        month=result.month,
        seconds=round(result.seconds, 2),
        result=result.as_dict(),
        actor=actor,
    )
    event_record(
        actor=actor,
        verb="alert_scan",
        target=run,
        target_label=f"{result.year}年{result.month}月预警扫描",
        details=result.as_dict(),
    )
    return run


def scan_run(*, actor, year: int, month: int, today: date | None = None) -> engine.ScanResult:
    """The "run now" button: the city admin scans a month (idempotent)."""
    if not can_manage_alert_rules(actor):
        raise PermissionDenied("只有市级管理员可以运行预警扫描。")
    today = today or timezone.localdate()
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValidationError({"period": "请选择有效的月份。"})
    if (year, month) > (today.year, today.month):
        raise ValidationError({"period": "不能扫描尚未开始的月份。"})
    result = engine.scan(year, month, today=today)
    scan_record(result, actor=actor)
    return result


# --- The rectification workflow -------------------------------------------------------------


@transaction.atomic
def warning_notify(
    *, actor, warning: Warning, note: str = "", expected_version: int | None = None
) -> Warning:
    """The city (or the county over the subject) tells the responsible unit (下发通知)."""
    warning = _locked(warning)
    if not can_notify_warning(actor, warning):
        raise PermissionDenied("您无权下发该预警通知。")
    _check_version(warning, expected_version)
    _check_status(warning, (Status.ISSUED,), "下发通知")
    warning.status = Status.NOTIFIED
    warning.notified_at = timezone.now()
    warning.note = _text(note, "note", "通知说明", required=False)[:500]
    _save(warning, ["status", "notified_at", "note"])
    _event(actor, "warning_notify", warning, {"note": warning.note})
    return warning


@transaction.atomic
def warning_plan(
    *, actor, warning: Warning, plan: str, deadline: date | None, expected_version: int | None = None
) -> Warning:
    """The responsible unit files (or revises) its rectification plan and deadline."""
    warning = _locked(warning)
    if not can_rectify_warning(actor, warning):
        raise PermissionDenied("您无权填报该预警的整改措施。")
    _check_version(warning, expected_version)
    _check_status(warning, (Status.ISSUED, Status.NOTIFIED, Status.RECTIFYING), "填报整改措施")
    plan = _text(plan, "plan", "整改措施")
    if deadline is None:
        raise ValidationError({"deadline": "请填写整改时限。"})
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": "整改时限不能早于今天。"})
    before = {"plan": warning.plan, "deadline": warning.deadline, "status": warning.status}
    warning.plan, warning.deadline, warning.status = plan, deadline, Status.RECTIFYING
    _save(warning, ["plan", "deadline", "status"])
    _event(actor, "warning_plan", warning, {"plan": plan, "deadline": deadline, "before": before})
    return warning


@transaction.atomic
def warning_mark_rectified(
    *,
    actor,
    warning: Warning,
    rectification: str,
    file_name: str = "",
    file_content: bytes = b"",
    expected_version: int | None = None,
) -> Warning:
    """The responsible unit reports the rectification done, with what was done and optionally a
    supporting file (kept as a project attachment)."""
    warning = _locked(warning)
    if not can_rectify_warning(actor, warning):
        raise PermissionDenied("您无权报送该预警的整改情况。")
    _check_version(warning, expected_version)
    _check_status(warning, (Status.RECTIFYING,), "报送整改完成")
    warning.rectification = _text(rectification, "rectification", "整改情况")
    fields = ["rectification", "status", "rectified_at"]
    if file_content:
        if not warning.project_id:
            raise ValidationError({"file": "区域预警不支持上传附件，请在整改情况中说明。"})
        warning.attachment = attachment_add(
            actor=actor,
            project=warning.project,
            name=file_name or "整改佐证材料.pdf",
            content=file_content,
            kind=AttachmentKind.OTHER,
            description=f"预警整改佐证：{warning.rule.name}"[:200],
        )
        fields.append("attachment")
    warning.status = Status.RECTIFIED
    warning.rectified_at = timezone.now()
    _save(warning, fields)
    _event(
        actor,
        "warning_rectified",
        warning,
        {"rectification": warning.rectification, "attachment": warning.attachment_id},
    )
    return warning


@transaction.atomic
def warning_strike_off(
    *, actor, warning: Warning, note: str = "", expected_version: int | None = None
) -> Warning:
    """The city verifies the rectification and strikes the warning off (销号). A warning whose
    condition has cleared may be struck off from any open state."""
    warning = _locked(warning)
    if not can_strike_off_warning(actor, warning):
        raise PermissionDenied("只有市级管理员可以销号。")
    _check_version(warning, expected_version)
    allowed = OPEN_STATUSES if warning.condition_cleared else (Status.RECTIFIED,)
    _check_status(warning, allowed, "销号（须先报送整改完成）")
    warning.status = Status.STRUCK_OFF
    warning.closed_at = timezone.now()
    warning.note = _text(note, "note", "销号意见", required=False)[:500]
    _save(warning, ["status", "closed_at", "note"])
    _event(actor, "warning_strike_off", warning, {"note": warning.note})
    return warning


@transaction.atomic
def warning_reopen(*, actor, warning: Warning, reason: str, expected_version: int | None = None) -> Warning:
    """The city sends a rectified or struck-off warning back to rectifying (整改不到位)."""
    warning = _locked(warning)
    if not can_strike_off_warning(actor, warning):
        raise PermissionDenied("只有市级管理员可以退回整改。")
    _check_version(warning, expected_version)
    _check_status(warning, (Status.RECTIFIED, Status.STRUCK_OFF), "退回整改")
    reason = _text(reason, "reason", "退回理由")
    warning.status = Status.RECTIFYING
    warning.closed_at = None
    warning.note = reason[:500]
    _save(warning, ["status", "closed_at", "note"])
    _event(actor, "warning_reopen", warning, {"reason": reason})
    return warning


# --- Justifications (正当理由) -----------------------------------------------------------------


@transaction.atomic
def exemption_request(
    *,
    actor,
    warning: Warning,
    justification: str,
    until: tuple[int, int] | None = None,
    expected_version: int | None = None,
) -> Exemption:
    """The responsible side asks for the warning's subject to be exempted under its rule from
    the warning's month to `until` (default: that month only; at most 12 months)."""
    warning = _locked(warning)
    if not can_rectify_warning(actor, warning):
        raise PermissionDenied("您无权为该预警申请正当理由。")
    _check_version(warning, expected_version)
    if not warning.rule.exemptable:
        raise ValidationError({"justification": f"规则“{warning.rule.name}”不接受正当理由。"})
    _check_status(warning, OPEN_STATUSES, "申请正当理由")
    if warning.exemptions.filter(status=ExemptionStatus.REQUESTED).exists():
        raise ValidationError({"justification": "已有待审批的正当理由申请。"})
    justification = _text(justification, "justification", "正当理由")
    start = period_index(warning.year, warning.month)
    end = start if until is None else period_index(*until)
    if end < start:
        raise ValidationError({"until": "截止月份不能早于预警所在月份。"})
    if end - start >= MAX_EXEMPTION_MONTHS:
        raise ValidationError({"until": f"正当理由最长适用 {MAX_EXEMPTION_MONTHS} 个月。"})
    exemption = Exemption.objects.create(
        rule=warning.rule,
        project=warning.project,
        region=warning.region,
        warning=warning,
        period_from=start,
        period_to=end,
        justification=justification,
        requested_by=actor,
    )
    warning.version += 1
    warning.save(update_fields=["version", "updated_at"])
    _event(
        actor,
        "warning_exemption_request",
        warning,
        {"justification": justification, "months": end - start + 1},
    )
    return exemption


@transaction.atomic
def exemption_decide(
    *, actor, exemption: Exemption, approve: bool, note: str = "", expected_version: int | None = None
) -> Exemption:
    """The rule's approver decides. Approved: every open warning of the subject under the rule
    in the months covered becomes exempted, and later scans leave the subject unlit there."""
    exemption = (
        Exemption.objects.select_for_update(of=("self",))
        .select_related("rule", "region")
        .get(pk=exemption.pk)
    )
    if not can_decide_exemption(actor, exemption.rule, exemption.region):
        raise PermissionDenied("您无权审批该正当理由。")
    _check_version(exemption, expected_version, "该申请已被他人处理，请刷新页面后重试。")
    if exemption.status != ExemptionStatus.REQUESTED:
        raise ValidationError(f"该申请已{exemption.get_status_display()}。")
    if approve and not exemption.rule.exemptable:
        raise ValidationError({"approve": "该规则已设为不接受正当理由，不能批准；请驳回或先修改规则。"})
    note = _text(note, "note", "审批意见", required=not approve)[:500]
    exemption.status = ExemptionStatus.APPROVED if approve else ExemptionStatus.REJECTED
    exemption.decided_by, exemption.decided_at, exemption.decision_note = actor, timezone.now(), note
    exemption.version += 1
    exemption.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "version"])
    exempted = []
    if approve:
        covered = Warning.objects.select_for_update().filter(
            rule=exemption.rule, status__in=OPEN_STATUSES, project=exemption.project
        )
        if exemption.project_id is None:
            covered = covered.filter(region=exemption.region)
        for warning in covered.select_related("rule", "project", "region"):
            if exemption.period_from <= period_index(warning.year, warning.month) <= exemption.period_to:
                warning.status, warning.closed_at = Status.EXEMPTED, exemption.decided_at
                _save(warning, ["status", "closed_at"])
                exempted.append(warning)
    target = exemption.warning if exemption.warning_id else (exempted[0] if exempted else None)
    verb = "warning_exemption_approve" if approve else "warning_exemption_reject"
    details = {"exemption": exemption.pk, "note": note, "warnings": [w.pk for w in exempted]}
    if target is not None:
        target.rule = exemption.rule
        _event(actor, verb, target, details)
    else:
        event_record(actor=actor, verb=verb, target=exemption, project=exemption.project, details=details)
    return exemption


# --- Rules ----------------------------------------------------------------------------------


@transaction.atomic
def rule_save(*, actor, data: dict, rule: Rule | None = None, expected_version: int | None = None) -> Rule:
    """Create a rule, or update one, from its rule-file form (the same checks as a file)."""
    if not can_manage_alert_rules(actor):
        raise PermissionDenied("只有市级管理员可以修改预警规则。")
    if rule is not None:
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        _check_version(rule, expected_version, "该规则已被他人修改，请刷新页面后重试。")
    values, errors = rule_clean(data)
    if errors:
        raise ValidationError({e.field.split(".")[0] or "code": str(e) for e in reversed(errors)})
    clash = Rule.objects.filter(code=values["code"])
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        raise ValidationError({"code": "规则代码已被其他规则使用。"})
    fields = {name: values[name] for name in RULE_FIELDS}
    if rule is None:
        rule = Rule.objects.create(code=values["code"], updated_by=actor, **fields)
        event_record(actor=actor, verb="alert_rule_create", target=rule, details={"code": rule.code})
        return rule
    changes = {
        name: [str(getattr(rule, name)), str(value)]
        for name, value in fields.items()
        if getattr(rule, name) != value
    }
    if rule.code != values["code"]:
        changes["code"] = [rule.code, values["code"]]
    forget_streaks(rule, fields)
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.code = values["code"]
    rule.updated_by = actor
    rule.version += 1
    rule.save()
    event_record(actor=actor, verb="alert_rule_update", target=rule, details=changes)
    return rule


def rules_restore_defaults(*, actor, dry_run: bool = False) -> ImportReport:
    """Replace the rule set with the shipped default (alerts.defaults)."""
    from .defaults import default_rule_file

    if not can_manage_alert_rules(actor):
        raise PermissionDenied("只有市级管理员可以修改预警规则。")
    return rules_import(default_rule_file(), actor=actor, dry_run=dry_run)


def rules_file_import(*, actor, data, dry_run: bool = False) -> ImportReport:
    """Import a rule file (city admin; all-or-nothing; see alerts.rules.rules_import)."""
    if not can_manage_alert_rules(actor):
        raise PermissionDenied("只有市级管理员可以导入预警规则。")
    return rules_import(data, actor=actor, dry_run=dry_run)
