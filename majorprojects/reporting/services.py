"""Every state change of a dispatch report: save a draft, submit, approve, return, lock the
period, request and decide corrections, add photos. Each runs in one transaction, checks scope,
locks the report row, and writes one event row.

Retries are safe: amounts are "this period's" values that are set, never added, one report per
project and period (unique constraint), and a request carrying the idempotency key of the last
applied change returns the report as it is instead of failing on the version check."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from majorprojects.accounts.scope import (
    can_fill_report,
    can_lock_periods,
    can_review_report,
)
from majorprojects.audit.services import event_record
from majorprojects.core.errors import ConflictError
from majorprojects.core.money import AmountError, parse_amount
from majorprojects.problems.services import problem_from_report
from majorprojects.projects.models import AttachmentKind, FundingSource, Project, Stage
from majorprojects.projects.services import attachment_add, project_transition

from . import validation
from .models import COUNTED, EDITABLE, Correction, Period, Report, ReportFunds, ReportPhoto, Status
from .totals import counted_amount, recompute_totals, year_done_refresh, year_done_shift

# Fields a filler types (the form, the grid, the Excel template and the API all use these).
REPORT_FIELDS = [
    "investment",
    "progress",
    "percent_complete",
    "started_on",
    "structure_done_on",
    "completed_on",
    "operating_on",
    "stats_included",
    "stats_date",
    "problems",
    "next_plan",
    "note",
]
# Fields a correction of a locked report may change (milestones moved the lifecycle already:
# those are corrected on the project itself by the city admin).
CORRECTABLE_FIELDS = [
    "investment",
    "progress",
    "percent_complete",
    "stats_included",
    "stats_date",
    "problems",
    "next_plan",
    "note",
]
MAX_PHOTOS = 9
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e12")  # 万元, the ceiling core.money.parse_amount applies to typed amounts


def _locked(report: Report) -> Report:
    return (
        Report.objects.select_for_update(of=("self",))
        .select_related("period__schedule", "project")
        .get(pk=report.pk)
    )


def _same_request(report: Report, key: str) -> bool:
    return bool(key) and report.last_key == key


def _check_version(report: Report, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != report.version:
        who = report.filled_by.display_name if report.filled_by_id else "他人"
        raise ConflictError(
            f"这份报表已被{who}修改（现为第 {report.version} 版，您编辑的是第 {expected_version} 版）。"
            "您的内容未保存，请刷新后核对再填。"
        )


def _clean_funds(funds: dict | None) -> dict[str, tuple[Decimal, Decimal]]:
    """{source: (arrived, paid)} with checks; raises ValidationError naming the source."""
    cleaned = {}
    labels = dict(FundingSource.choices)
    for source, pair in (funds or {}).items():
        if source not in labels:
            raise ValidationError({"funds": f"未知的资金来源“{source}”。"})
        try:
            arrived, paid = (Decimal(str(v).strip() or 0) if v is not None else Decimal(0) for v in pair)
            if not (arrived.is_finite() and paid.is_finite()) or max(arrived, paid) >= MAX_AMOUNT:
                raise InvalidOperation
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError({"funds": f"{labels[source]}的到位和支付金额应为以万元计的数值。"})
        if arrived < 0 or paid < 0:
            raise ValidationError({"funds": f"{labels[source]}的到位和支付金额不能为负数。"})
        cleaned[source] = (arrived.quantize(CENT, ROUND_HALF_UP), paid.quantize(CENT, ROUND_HALF_UP))
    return cleaned


def _set_funds(report: Report, funds: dict[str, tuple[Decimal, Decimal]]) -> dict:
    current = {f.source: (f.arrived, f.paid) for f in report.funds.all()}
    if current == {s: v for s, v in funds.items() if any(v)}:
        return {}
    report.funds.all().delete()
    ReportFunds.objects.bulk_create(
        ReportFunds(report=report, source=s, arrived=a, paid=p) for s, (a, p) in funds.items() if a or p
    )
    return {
        "funds": [
            {k: [str(x) for x in v] for k, v in current.items()},
            {k: [str(x) for x in v] for k, v in funds.items() if any(v)},
        ]
    }


TEXT_FIELDS = ("progress", "problems", "next_plan", "note")


def _convert(report: Report, name: str, value):
    """A typed value from form/API/Excel input; ValidationError naming the field otherwise."""
    if isinstance(value, str):
        value = value.strip()
    if name in TEXT_FIELDS:
        return value or ""
    if value in ("", None):
        return None
    if name == "investment":
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ValidationError({name: f"{validation.FIELD_LABELS[name]}：{exc}。"})
    if name == "stats_included" and isinstance(value, str):
        if value in ("是", "已入统", "true", "True", "1", "on", "yes"):
            return True
        if value in ("否", "未入统", "false", "False", "0", "no"):
            return False
        raise ValidationError({name: "是否入统请填“是”或“否”。"})
    field = report._meta.get_field(name)
    try:
        value = field.to_python(value)
        if value is not None:
            field.run_validators(value)
    except ValidationError:
        kind = "日期（如 2026-10-15）" if name.endswith("_on") or name.endswith("_date") else "数值"
        extra = "，应在 0 到 100 之间" if name == "percent_complete" else ""
        raise ValidationError({name: f"{validation.FIELD_LABELS.get(name, name)}应为{kind}{extra}。"})
    return value


def _apply(report: Report, data: dict, fields: list[str]) -> dict:
    """Set the given fields from input; all conversion errors at once, nothing set on error."""
    values, errors = {}, {}
    for name in fields:
        if name in data:
            try:
                values[name] = _convert(report, name, data[name])
            except ValidationError as exc:
                errors.update(exc.message_dict)
    _raise({k: v[0] if isinstance(v, list) else v for k, v in errors.items()})
    changes = {}
    for name, value in values.items():
        old = getattr(report, name)
        if old != value:
            changes[name] = [old, value]
            setattr(report, name, value)
    return changes


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


def _check_fillable(report: Report, *, submitting: bool = False) -> None:
    if report.period.is_locked:
        verb = "不能再报送" if submitting else "如需修改请提交更正申请"
        raise ValidationError({"__all__": f"{report.period.label}已锁定，{verb}。"})
    if report.status not in EDITABLE:
        tail = "无需重复报送" if submitting else "不能再修改"
        raise ValidationError({"__all__": f"报表{report.get_status_display()}，{tail}。"})


def _fill(
    report: Report, data: dict, funds: dict | None, past: dict, *, complete: bool = False
) -> tuple[dict, dict | None]:
    """Set typed values on the locked report and check them (with `complete`, also the fields a
    sending needs: all errors at once); returns (changes, cleaned funds)."""
    changes = _apply(report, data, REPORT_FIELDS)
    cleaned_funds = _clean_funds(funds) if funds is not None else None
    errors = validation.check_complete(report) if complete else {}
    _raise({**errors, **validation.check_values(report, past=past)})
    return changes, cleaned_funds


def _derive_totals(report: Report, past: dict) -> bool:
    """Set the report's own running totals from `past`; True when later reports need them
    re-derived too (an earlier month was changed)."""
    amount = report.investment or Decimal(0)
    report.year_to_date = past["year_before"] + amount
    report.since_start = report.project.prior_investment + past["before"] + amount
    return past["later"] > 0


def _mark_sent(report: Report, key: str) -> bool:
    """Status and timeliness of a sending; returns whether it is a resubmission."""
    resubmission = report.status == Status.RETURNED
    if not report.submitted_at:
        report.submitted_at = timezone.now()
        report.is_late = timezone.localdate() > report.period.late_after
    report.status = Status.SUBMITTED
    report.last_key = key
    return resubmission


FILL_UPDATE = [
    *REPORT_FIELDS,
    "year_to_date",
    "since_start",
    "status",
    "version",
    "last_key",
    "filled_by",
    "updated_at",
]
SEND_UPDATE = ["submitted_at", "is_late"]


@transaction.atomic
def report_save(
    *,
    actor,
    report: Report,
    data: dict,
    funds: dict | None = None,
    expected_version: int | None = None,
    key: str = "",
) -> Report:
    """Save a draft (a slot becomes a draft; a returned report stays returned until resent)."""
    if not can_fill_report(actor, report):
        raise PermissionDenied("您无权填报该项目的调度表。")
    report = _locked(report)
    if _same_request(report, key):
        return report
    _check_fillable(report)
    _check_version(report, expected_version)
    first_save = report.status == Status.PENDING
    past = validation.history(report)
    changes, cleaned_funds = _fill(report, data, funds, past)
    if cleaned_funds is not None:
        changes.update(_set_funds(report, cleaned_funds))
    if not changes and not first_save:
        return report
    if first_save:
        report.status = Status.DRAFT
    later = _derive_totals(report, past)
    report.version += 1
    report.last_key = key
    report.filled_by = actor
    report.save(update_fields=FILL_UPDATE)
    if later and "investment" in changes:
        recompute_totals(report.project_id, report.period_end)
    event_record(actor=actor, verb="report_save", target=report, project=report.project, details=changes)
    return report


@transaction.atomic
def report_submit(*, actor, report: Report, expected_version: int | None = None, key: str = "") -> Report:
    return report_save_submit(actor=actor, report=report, data={}, expected_version=expected_version, key=key)


@transaction.atomic
def report_save_submit(
    *,
    actor,
    report: Report,
    data: dict,
    funds: dict | None = None,
    expected_version: int | None = None,
    key: str = "",
) -> Report:
    """Save what was typed (if anything) and send it, in one pass and one transaction: if sending
    is refused, nothing of the request is kept. A retried request (same key) is answered with
    the report as it stands and never sends twice."""
    if not can_fill_report(actor, report):
        raise PermissionDenied("您无权报送该项目的调度表。")
    report = _locked(report)
    if _same_request(report, key):
        return report
    _check_fillable(report, submitting=True)
    _check_version(report, expected_version)
    counted_before = counted_amount(report)
    past = validation.history(report)
    changes, cleaned_funds = _fill(report, data, funds, past, complete=True)
    if cleaned_funds is not None:
        changes.update(_set_funds(report, cleaned_funds))
    later = _derive_totals(report, past)
    resubmission = _mark_sent(report, key)
    report.version += 1
    if changes:
        report.filled_by = actor
    report.save(update_fields=FILL_UPDATE + SEND_UPDATE)
    if later and "investment" in changes:
        recompute_totals(report.project_id, report.period_end)
    year_done_shift(report, counted_before)
    event_record(
        actor=actor,
        verb="report_resubmit" if resubmission else "report_submit",
        target=report,
        project=report.project,
        details={**changes, "investment": report.investment, "late": report.is_late},
    )
    if report.problems.strip():
        problem_from_report(report, actor=actor)  # the problems met become a ledger item
    return report


@transaction.atomic
def report_return(*, actor, report: Report, reason: str) -> Report:
    if not can_review_report(actor, report):
        raise PermissionDenied("您无权审核该项目的调度表。")
    report = _locked(report)
    if report.status != Status.SUBMITTED:
        raise ValidationError(
            {"__all__": f"只有已报送的报表可以退回（当前：{report.get_status_display()}）。"}
        )
    if not reason.strip():
        raise ValidationError({"reason": "请填写退回原因，告诉填报人需要修改什么。"})
    report.status = Status.RETURNED
    report.return_reason = reason.strip()
    report.reviewed_by, report.reviewed_at = actor, timezone.now()
    report.version += 1
    report.save(
        update_fields=["status", "return_reason", "reviewed_by", "reviewed_at", "version", "updated_at"]
    )
    year_done_refresh(report.project_id, report.period_end.year)
    event_record(
        actor=actor, verb="report_return", target=report, project=report.project, details={"reason": reason}
    )
    return report


def _apply_milestones(actor, report: Report) -> list[str]:
    """An approved report moves the project's lifecycle and statistics status."""
    project = Project.objects.select_for_update().get(pk=report.project_id)
    done = []
    note = f"据{report.period.label}调度报表"
    if report.started_on and not project.actual_start_date:
        project = project_transition(
            actor=actor, project=project, stage=Stage.CONSTRUCTION, on_date=report.started_on, note=note
        )
        done.append("started")
    if report.completed_on and not project.actual_completion_date:
        if project.stage != Stage.CONSTRUCTION:
            project = project_transition(
                actor=actor, project=project, stage=Stage.CONSTRUCTION, on_date=project.actual_start_date
            )
        project = project_transition(
            actor=actor, project=project, stage=Stage.COMPLETED, on_date=report.completed_on, note=note
        )
        done.append("completed")
    if report.operating_on and project.stage == Stage.COMPLETED:
        project = project_transition(
            actor=actor, project=project, stage=Stage.OPERATING, on_date=report.operating_on, note=note
        )
        done.append("operating")
    fields = []
    if report.structure_done_on and not project.main_structure_date:
        project.main_structure_date = report.structure_done_on
        fields.append("main_structure_date")
    if report.stats_included and not project.stats_included:
        # Forward only: leaving the statistics is not something a progress report decides.
        project.stats_included = True
        project.stats_included_date = report.stats_date or timezone.localdate()
        fields += ["stats_included", "stats_included_date"]
    if fields:
        project.version += 1
        project.save(update_fields=[*fields, "version", "updated_at"])
        done += fields
    return done


@transaction.atomic
def report_approve(*, actor, report: Report) -> Report:
    if not can_review_report(actor, report):
        raise PermissionDenied("您无权审核该项目的调度表。")
    report = _locked(report)
    if report.status == Status.APPROVED:
        return report
    if report.status != Status.SUBMITTED:
        raise ValidationError(
            {"__all__": f"只有已报送的报表可以审核通过（当前：{report.get_status_display()}）。"}
        )
    report.status = Status.APPROVED
    report.return_reason = ""
    report.reviewed_by, report.reviewed_at = actor, timezone.now()
    report.version += 1
    report.save(
        update_fields=["status", "return_reason", "reviewed_by", "reviewed_at", "version", "updated_at"]
    )
    moved = _apply_milestones(actor, report)
    event_record(
        actor=actor, verb="report_approve", target=report, project=report.project, details={"applied": moved}
    )
    return report


@transaction.atomic
def period_lock(*, actor, period: Period) -> dict:
    """Close a period: its sent reports become locked, unsent ones stay missing for good."""
    if not can_lock_periods(actor):
        raise PermissionDenied("只有市级管理员可以锁定调度期次。")
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.is_locked:
        raise ValidationError(
            {"__all__": f"{period.label}已于 {timezone.localtime(period.locked_at):%Y-%m-%d %H:%M} 锁定。"}
        )
    reports = period.reports.all()
    # Reports sent but never reviewed are accepted as they stand: their milestones and
    # statistics status reach the project as an approval would have made them.
    unreviewed = (
        reports.filter(status=Status.SUBMITTED)
        .filter(
            Q(started_on__isnull=False)
            | Q(completed_on__isnull=False)
            | Q(operating_on__isnull=False)
            | Q(structure_done_on__isnull=False)
            | Q(stats_included=True)
        )
        .select_related("period", "project")
    )
    applied = 0
    for report in unreviewed:
        applied += bool(_apply_milestones(actor, report))
    counts = {
        "locked": reports.filter(status__in=COUNTED).update(
            status=Status.LOCKED, version=F("version") + 1, updated_at=timezone.now()
        ),
        "missing": reports.filter(status__in=EDITABLE).count(),
        "milestones_applied": applied,
    }
    period.locked_at, period.locked_by = timezone.now(), actor
    period.save(update_fields=["locked_at", "locked_by"])
    event_record(actor=actor, verb="period_lock", target=period, details=counts)
    return counts


@transaction.atomic
def correction_request(*, actor, report: Report, data: dict, reason: str) -> Correction:
    if not can_fill_report(actor, report):
        raise PermissionDenied("您无权申请更正该报表。")
    report = _locked(report)
    if report.status != Status.LOCKED:
        raise ValidationError(
            {"__all__": "只有已锁定的报表需要走更正申请；未锁定的报表可直接修改或由审核人退回。"}
        )
    if report.corrections.filter(state=Correction.State.PENDING).exists():
        raise ValidationError({"__all__": "该报表已有一份待审批的更正申请，请等待市级审批。"})
    if not reason.strip():
        raise ValidationError({"reason": "请填写更正理由。"})
    trial = Report.objects.select_related("period__schedule", "project").get(pk=report.pk)
    changes = _apply(trial, data, CORRECTABLE_FIELDS)
    if not changes:
        raise ValidationError({"__all__": "更正内容与原值相同。"})
    _raise(validation.check_values(trial))
    correction = Correction.objects.create(
        report=report,
        changes={k: [_plain(v) for v in pair] for k, pair in changes.items()},
        reason=reason.strip(),
        requested_by=actor,
    )
    event_record(
        actor=actor,
        verb="correction_request",
        target=report,
        project=report.project,
        details={**changes, "reason": reason.strip()},
    )
    return correction


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _typed(report: Report, name: str, value):
    if value is None:
        return None
    return report._meta.get_field(name).to_python(value)


@transaction.atomic
def correction_decide(*, actor, correction: Correction, approve: bool, note: str = "") -> Correction:
    """The city approves (the corrected values replace the locked ones, totals re-derived) or
    rejects (with a reason). Either way the original values stay in the correction and events."""
    if not can_lock_periods(actor):
        raise PermissionDenied("更正申请由市级管理员审批。")
    correction = Correction.objects.select_for_update().get(pk=correction.pk)
    if correction.state != Correction.State.PENDING:
        raise ValidationError({"__all__": f"该更正申请{correction.get_state_display()}。"})
    if not approve and not note.strip():
        raise ValidationError({"note": "驳回更正申请须填写理由。"})
    report = _locked(correction.report)
    if approve:
        values = {name: _typed(report, name, new) for name, (_old, new) in correction.changes.items()}
        changes = _apply(report, values, CORRECTABLE_FIELDS)
        _raise(validation.check_values(report))
        report.version += 1
        report.save(update_fields=[*CORRECTABLE_FIELDS, "version", "updated_at"])
        if "investment" in changes:
            recompute_totals(report.project_id, report.period_end)
            year_done_refresh(report.project_id, report.period_end.year)
        if "stats_included" in changes or "stats_date" in changes:
            _apply_milestones(actor, report)
    correction.state = Correction.State.APPROVED if approve else Correction.State.REJECTED
    correction.decided_by, correction.decided_at = actor, timezone.now()
    correction.decision_note = note.strip()
    correction.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    event_record(
        actor=actor,
        verb="correction_approve" if approve else "correction_reject",
        target=report,
        project=report.project,
        details={**correction.changes, "note": note.strip()} if approve else {"note": note.strip()},
    )
    return correction


@transaction.atomic
def report_photo_add(*, actor, report: Report, name: str, content: bytes) -> ReportPhoto:
    if not can_fill_report(actor, report):
        raise PermissionDenied("您无权为该报表上传照片。")
    report = _locked(report)
    if not report.is_editable:
        raise ValidationError({"photo": "报表已报送或已锁定，不能再上传照片。"})
    digest = hashlib.sha256(content).hexdigest()
    same = report.photos.filter(attachment__sha256=digest).first()
    if same:
        return same  # a double click or a resent upload: the photo is there already
    if report.photos.count() >= MAX_PHOTOS:
        raise ValidationError({"photo": f"每期最多上传 {MAX_PHOTOS} 张形象进度照片。"})
    attachment = attachment_add(
        actor=actor,
        project=report.project,
        name=name,
        content=content,
        kind=AttachmentKind.PHOTO,
        description=f"{report.period.label}形象进度",
    )
    return ReportPhoto.objects.create(report=report, attachment=attachment)
