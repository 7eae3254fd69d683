"""Every state change on funds. Each runs in one transaction, checks who may act, validates with
Chinese messages naming the field, and writes one audit event.

Who may act (docs/funds.md): programmes (their rules) are the city admin's (scope.can_configure);
everything else is decided per kind by scope.can_record_funds —
- government (the city admin, the county or department over the project, the finance department
  on every project of its region) records allocations (下达), arrivals (到位), transfers (拨付),
  payments (支付), loans and the interest subsidy granted, and deletes any entry except a payment
  confirmed from a dispatch report, which only the city admin deletes;
- the project unit records payments (and confirms its reported payments) and loans, and deletes
  only the payments and releases its own unit entered, never confirmed ones.

Rules for movements: amount > 0; dated on or after the allocation's issue date and not after
today; for each kind, the cumulative amount stays within the allocation. Arrivals, transfers and
payments are not chained to one another (ledgers are often kept out of order and dispatch reports
give payments only): selectors flag "拨付超过到位" / "支付超过到位" instead."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from majorprojects.accounts.scope import can_configure, can_record_funds
from majorprojects.audit.services import diff, event_record
from majorprojects.core.errors import ConflictError
from majorprojects.core.money import AmountError, parse_amount
from majorprojects.projects.models import FundingSource, Project

from . import selectors
from .models import (
    Allocation,
    Level,
    Loan,
    LoanRelease,
    Movement,
    MovementKind,
    Programme,
    ProgrammeKind,
)

ZERO = Decimal("0.00")
PROGRAMME_FIELDS = [
    "name",
    "kind",
    "level",
    "funding_source",
    "window_months",
    "straight_line",
    "idle_months",
    "start_deadline_months",
    "sort_order",
    "is_active",
]
ALLOCATION_FIELDS = ["programme", "batch", "document_no", "issued_on", "amount", "note"]
LOAN_FIELDS = [
    "programme",
    "bank",
    "contract_no",
    "signed_on",
    "amount_signed",
    "term_months",
    "subsidy_applied",
    "subsidy_granted",
    "note",
]
OUT_OF_SCOPE = "项目不存在或无权访问。"


# --- who may act --------------------------------------------------------------------------------

KIND_LABELS = {
    "allocation": "资金下达",
    "arrival": "资金到位",
    "transfer": "资金拨付",
    "payment": "资金支付",
    "loan": "贷款",
    "subsidy": "获批贴息",
}
GOVERNMENT = "市级管理员、县市区、行业主管部门或财政部门"
CONFIRMED_DELETE = "据调度表确认的支付只能由市级管理员删除。"
GONE = "该记录已被删除，请刷新页面。"


def can_record(actor, project: Project, kind: str = MovementKind.PAYMENT) -> bool:
    """Whether `actor` may record an entry of `kind` on the project (scope.can_record_funds):
    allocation, arrival, transfer, payment, loan or subsidy. With the default kind: whether the
    actor records funds on the project at all (everyone who records anything records payments)."""
    return can_record_funds(actor, project, str(kind))


def can_allocate(actor, project: Project) -> bool:
    """Allocations are government records: city admin, the county/department over the project, or
    the finance department."""
    return can_record(actor, project, "allocation")


def recordable_kinds(actor, project: Project) -> list[str]:
    """The movement kinds (到位/拨付/支付) `actor` may record on the project, in display order."""
    return [kind for kind in MovementKind.values if can_record(actor, project, kind)]


def can_delete_entry(actor, project: Project, entry) -> bool:
    """Whether `actor` may delete a recorded movement or loan release of the project."""
    kind = entry.kind if isinstance(entry, Movement) else "loan"
    return can_record_funds(actor, project, kind, entry=entry)


def require_record(actor, project: Project, kind: str) -> None:
    """PermissionDenied unless `actor` may record `kind` on the project: out of scope when it may
    record nothing there, else a message naming who records that kind."""
    if can_record(actor, project, kind):
        return
    if not can_record(actor, project):
        raise PermissionDenied(OUT_OF_SCOPE)
    raise PermissionDenied(f"{KIND_LABELS[kind]}由{GOVERNMENT}登记。")


def _require_delete(actor, project: Project, entry) -> None:
    if can_delete_entry(actor, project, entry):
        return
    if not can_record(actor, project):
        raise PermissionDenied(OUT_OF_SCOPE)
    if isinstance(entry, Movement) and (entry.report_source or entry.report_id):
        raise PermissionDenied(CONFIRMED_DELETE)
    if isinstance(entry, Movement) and entry.kind in (MovementKind.ARRIVAL, MovementKind.TRANSFER):
        raise PermissionDenied(f"{KIND_LABELS[entry.kind]}由{GOVERNMENT}登记和删除。")
    raise PermissionDenied("项目单位只能删除本单位登记的记录。")


# --- input checks -------------------------------------------------------------------------------


def _amount(errors: dict, field: str, label: str, value, *, allow_zero: bool = False) -> Decimal | None:
    """A positive (or, with allow_zero, non-negative) amount in 万元, else an error on `field`."""
    if value is None or value == "":
        if allow_zero:
            return ZERO
        errors[field] = f"请填写{label}（万元）。"
        return None
    try:
        amount = parse_amount(value)
    except AmountError as exc:
        message = str(exc)
        if message.startswith("金额"):  # 金额不能为负数 / 金额过大
            errors[field] = f"{label}{message.removeprefix('金额')}。"
        else:
            errors[field] = f"{label}：{message}。"
        return None
    if amount is None:
        if allow_zero:
            return ZERO
        errors[field] = f"请填写{label}（万元）。"
        return None
    if amount < 0:  # parse_amount refuses negatives already; kept for Decimal input
        errors[field] = f"{label}不能为负数。"
        return None
    if amount == 0 and not allow_zero:
        errors[field] = f"{label}须大于 0 万元。"
        return None
    return amount


def _date(errors: dict, field: str, label: str, value, *, today: date) -> date | None:
    if value is None or value == "":
        errors[field] = f"请填写{label}。"
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            errors[field] = f"{label}格式应为 YYYY-MM-DD。"
            return None
    if value > today:
        errors[field] = f"{label}不能晚于今天。"
        return None
    return value


def _text(errors: dict, field: str, label: str, value, max_length: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[field] = f"请填写{label}。"
    elif len(text) > max_length:
        errors[field] = f"{label}最多 {max_length} 个字符。"
    return text


def _months(errors: dict, field: str, label: str, value) -> int | None:
    if value is None or value == "":
        return None
    try:
        months = int(value)
    except (TypeError, ValueError):
        errors[field] = f"{label}应为整数（月）。"
        return None
    if months < 1 or months > 600:
        errors[field] = f"{label}应在 1 到 600 个月之间。"
        return None
    return months


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _check_version(model, obj, expected_version: int | None) -> None:
    """Optimistic check: bump the version only if it is still the one the editor read."""
    version = obj.version if expected_version is None else expected_version
    if model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + 1) != 1:
        raise ConflictError()


# --- programmes ---------------------------------------------------------------------------------


def _programme_values(programme: Programme, fields: dict) -> None:
    errors: dict = {}
    for name, value in fields.items():
        if name not in PROGRAMME_FIELDS:
            continue
        if name == "name":
            value = _text(errors, "name", "名称", value, 50, required=True)
        elif name == "kind" and value not in ProgrammeKind.values:
            errors["kind"] = "请选择资金类别。"
        elif name == "level" and value not in Level.values:
            errors["level"] = "请选择层级。"
        elif name == "funding_source" and (value or "") not in ["", *FundingSource.values]:
            errors["funding_source"] = "请选择调度表中的资金来源。"
        elif name == "window_months":
            value = _months(errors, name, "使用期限", value)
        elif name == "idle_months":
            value = _months(errors, name, "连续未支付预警月数", value)
        elif name == "start_deadline_months":
            value = _months(errors, name, "开工期限", value)
        elif name in ("straight_line", "is_active"):
            value = bool(value)
        elif name == "sort_order":
            try:
                value = max(0, min(int(value or 0), 32767))
            except (TypeError, ValueError):
                errors["sort_order"] = "排序应为整数。"
                continue
        if name == "funding_source":
            value = value or ""
        setattr(programme, name, value)
    if programme.name and Programme.objects.filter(name=programme.name).exclude(pk=programme.pk).exists():
        errors["name"] = f"资金渠道“{programme.name}”已存在。"
    _raise(errors)


@transaction.atomic
def programme_create(*, actor, code: str, fields: dict) -> Programme:
    if not can_configure(actor):
        raise PermissionDenied("资金渠道由市级管理员维护。")
    code = (code or "").strip()
    errors = {}
    if not code or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
        errors["code"] = "代码只能由字母、数字、下划线或连字符组成。"
    elif Programme.objects.filter(code=code).exists():
        errors["code"] = f"代码“{code}”已被使用。"
    _raise(errors)
    programme = Programme(code=code[:30])
    _programme_values(programme, {"kind": "", "level": "", **fields})
    programme.save()
    event_record(actor=actor, verb="programme_create", target=programme, details={"code": code})
    return programme


@transaction.atomic
def programme_update(
    *, actor, programme: Programme, fields: dict, expected_version: int | None = None
) -> Programme:
    """Edit a programme's rules (window, pace, at-risk thresholds, dispatch source)."""
    if not can_configure(actor):
        raise PermissionDenied("资金渠道由市级管理员维护。")
    _check_version(Programme, programme, expected_version)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    before = {name: getattr(programme, name) for name in PROGRAMME_FIELDS}
    _programme_values(programme, fields)
    changed = list(diff(programme, before, PROGRAMME_FIELDS))
    programme.save(update_fields=[*changed, "version"])
    event_record(
        actor=actor,
        verb="programme_update",
        target=programme,
        details=diff(programme, before, PROGRAMME_FIELDS),
    )
    return programme


# --- allocations --------------------------------------------------------------------------------


def _allocation_values(allocation: Allocation, fields: dict, *, today: date) -> None:
    errors: dict = {}
    for name in ALLOCATION_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if name == "programme":
            if not isinstance(value, Programme):
                value = Programme.objects.filter(pk=value).first() if value else None
            if value is None:
                errors["programme"] = "请选择资金渠道。"
                continue
            if not value.is_active and value.pk != allocation.programme_id:
                errors["programme"] = f"资金渠道“{value.name}”已停用。"
                continue
            if allocation.pk and value.pk != allocation.programme_id and allocation.movements.exists():
                # Its movements (and the dispatch source of confirmed payments) belong to the
                # programme they were recorded under: moving them would let a reported payment be
                # confirmed a second time, or count under another programme.
                errors["programme"] = (
                    "该下达已有到位/拨付/支付记录，不能更改资金渠道；如确需更改，请先删除这些记录。"
                )
                continue
            allocation.programme = value
            continue
        if name == "batch":
            value = _text(errors, name, "批次", value, 50)
        elif name == "document_no":
            value = _text(errors, name, "下达文号", value, 100, required=True)
        elif name == "note":
            value = _text(errors, name, "备注", value, 200)
        elif name == "issued_on":
            value = _date(errors, name, "下达日期", value, today=today)
        elif name == "amount":
            value = _amount(errors, name, "下达金额", value)
        if name not in errors:
            setattr(allocation, name, value)
    if (
        "programme" not in errors
        and allocation.programme_id
        and allocation.document_no
        and "document_no" not in errors
    ):
        duplicate = Allocation.objects.filter(
            programme_id=allocation.programme_id,
            project_id=allocation.project_id,
            document_no=allocation.document_no,
        ).exclude(pk=allocation.pk)
        if duplicate.exists():
            errors["document_no"] = (
                f"下达文号“{allocation.document_no}”已在本项目的{allocation.programme.name}中登记，不能重复登记。"
            )
    if allocation.pk and not errors:
        sums = {
            row["kind"]: row["s"]
            for row in allocation.movements.values("kind").annotate(s=Sum("amount")).order_by()
        }
        labels = dict(MovementKind.choices)
        for kind in (MovementKind.PAYMENT, MovementKind.TRANSFER, MovementKind.ARRIVAL):
            if sums.get(kind) and allocation.amount < sums[kind]:
                errors["amount"] = f"下达金额不能少于已{labels[kind]}的 {selectors.cents(sums[kind])} 万元。"
                break
        first = selectors.first_movement_date(allocation)
        if first and allocation.issued_on > first:
            errors["issued_on"] = f"下达日期不能晚于已登记的到位/拨付/支付日期 {first:%Y-%m-%d}。"
    _raise(errors)


def _save_unique(obj) -> None:
    """Save, turning a unique-constraint race into the same message as the check before it."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError({"document_no": f"下达文号“{obj.document_no}”已登记，不能重复登记。"}) from None


@transaction.atomic
def allocation_create(
    *,
    actor,
    project: Project,
    programme: Programme | int | None,
    document_no: str,
    issued_on: date | None,
    amount,
    batch: str = "",
    note: str = "",
) -> Allocation:
    """Record funds allocated (下达) to a project."""
    require_record(actor, project, "allocation")
    allocation = Allocation(project=project, created_by=actor if actor.pk else None)
    _allocation_values(
        allocation,
        {
            "programme": programme,
            "batch": batch,
            "document_no": document_no,
            "issued_on": issued_on,
            "amount": amount,
            "note": note,
        },
        today=timezone.localdate(),
    )
    _save_unique(allocation)
    event_record(
        actor=actor,
        verb="allocation_create",
        target=allocation,
        project=project,
        details={
            "programme": allocation.programme.name,
            "batch": allocation.batch,
            "document_no": allocation.document_no,
            "issued_on": allocation.issued_on,
            "amount": allocation.amount,
        },
    )
    return allocation


@transaction.atomic
def allocation_update(
    *, actor, allocation: Allocation, fields: dict, expected_version: int | None = None
) -> Allocation:
    """Change an allocation (only the fields given). A stale `expected_version` is a ConflictError
    and nothing changes; the amount cannot fall below what has arrived, been transferred or paid,
    and the issue date cannot move after the first movement."""
    require_record(actor, allocation.project, "allocation")
    _check_version(Allocation, allocation, expected_version)
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("programme", "project")
        .get(pk=allocation.pk)
    )
    before = {name: getattr(allocation, name) for name in ALLOCATION_FIELDS}
    _allocation_values(allocation, fields, today=timezone.localdate())
    changed = list(diff(allocation, before, ALLOCATION_FIELDS))
    try:
        with transaction.atomic():
            allocation.save(update_fields=[*changed, "version", "updated_at"])
    except IntegrityError:
        raise ValidationError(
            {"document_no": f"下达文号“{allocation.document_no}”已登记，不能重复登记。"}
        ) from None
    event_record(
        actor=actor,
        verb="allocation_update",
        target=allocation,
        project=allocation.project,
        details=diff(allocation, before, ALLOCATION_FIELDS),
    )
    return allocation


@transaction.atomic
def allocation_delete(*, actor, allocation: Allocation, expected_version: int | None = None) -> None:
    """Delete an allocation entered by mistake; one with movements must lose them first."""
    project = allocation.project
    require_record(actor, project, "allocation")
    _check_version(Allocation, allocation, expected_version)
    if allocation.movements.exists():
        raise ValidationError("该下达已有到位/拨付/支付记录，请先删除这些记录。")
    label = str(allocation)
    details = {
        "programme": allocation.programme.name,
        "document_no": allocation.document_no,
        "amount": allocation.amount,
    }
    allocation.delete()
    event_record(
        actor=actor,
        verb="allocation_delete",
        target_type="allocation",
        target_label=label,
        project=project,
        details=details,
    )


# --- movements ----------------------------------------------------------------------------------


def _movement_checks(allocation: Allocation, kind: str, on_date, amount, note: str, *, today: date) -> tuple:
    errors: dict = {}
    labels = dict(MovementKind.choices)
    if kind not in MovementKind.values:
        errors["kind"] = "请选择类型：到位、拨付或支付。"
        _raise(errors)
    label = labels[kind]
    on_date = _date(errors, "on_date", f"{label}日期", on_date, today=today)
    if on_date and on_date < allocation.issued_on:
        errors["on_date"] = f"{label}日期不能早于下达日期 {allocation.issued_on:%Y-%m-%d}。"
    amount = _amount(errors, "amount", f"{label}金额", amount)
    note = _text(errors, "note", "说明", note, 200)
    if amount is not None and "amount" not in errors:
        so_far = selectors.cents(allocation.movements.filter(kind=kind).aggregate(s=Sum("amount"))["s"])
        if so_far + amount > allocation.amount:
            errors["amount"] = (
                f"累计{label} {so_far + amount} 万元将超过下达金额 {allocation.amount} 万元"
                f"（已{label} {so_far} 万元，本次最多 {allocation.amount - so_far} 万元）。"
            )
    _raise(errors)
    return on_date, amount, note


@transaction.atomic
def movement_add(
    *, actor, allocation: Allocation, kind: str, on_date: date | None, amount, note: str = ""
) -> Movement:
    """Record money of an allocation arriving, transferred or paid (arrivals and transfers are
    government acts: scope.can_record_funds). The allocation row is locked, so two payments sent
    at once cannot together pass the allocated amount."""
    if kind not in MovementKind.values:
        require_record(actor, allocation.project, MovementKind.PAYMENT)
        raise ValidationError({"kind": "请选择类型：到位、拨付或支付。"})
    require_record(actor, allocation.project, kind)
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("programme", "project")
        .get(pk=allocation.pk)
    )
    on_date, amount, note = _movement_checks(
        allocation, kind, on_date, amount, note, today=timezone.localdate()
    )
    movement = Movement.objects.create(
        allocation=allocation,
        kind=kind,
        on_date=on_date,
        amount=amount,
        note=note,
        created_by=actor if actor.pk else None,
    )
    event_record(
        actor=actor,
        verb=f"funds_{kind}",
        target=allocation,
        project=allocation.project,
        details={"movement": movement.pk, "kind": kind, "on_date": on_date, "amount": amount, "note": note},
    )
    return movement


@transaction.atomic
def movement_delete(*, actor, movement: Movement) -> None:
    """Delete an arrival, transfer or payment entered by mistake. Government accounts delete any
    except a payment confirmed from a dispatch report (the city admin's); a project unit only the
    payments its own unit entered (scope.can_record_funds)."""
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("project__region")
        .get(pk=movement.allocation_id)
    )
    movement = Movement.objects.select_related("created_by").filter(pk=movement.pk).first()
    if movement is None:
        raise ConflictError(GONE)
    _require_delete(actor, allocation.project, movement)
    details = {
        "movement": movement.pk,
        "kind": movement.kind,
        "on_date": movement.on_date,
        "amount": movement.amount,
        "report": movement.report_id,
    }
    movement.delete()
    event_record(
        actor=actor,
        verb="funds_movement_delete",
        target=allocation,
        project=allocation.project,
        details=details,
    )


@transaction.atomic
def payments_from_reports(*, actor, project: Project, programme: Programme) -> dict:
    """Confirm the project's payments reported in dispatch reports into the ledger of
    `programme`, by the rules of selectors.payment_candidates. Idempotent: a (report, source)
    already confirmed is skipped, so running it again writes nothing. Returns
    {"created": [Movement], "skipped": [{"report_id", "period_label", "paid", "reason"}]}."""
    require_record(actor, project, MovementKind.PAYMENT)
    if not programme.funding_source:
        raise ValidationError(
            {"programme": f"资金渠道“{programme.name}”未对应调度表资金来源，无法从调度表确认支付。"}
        )
    # Lock the programme's allocations of this project: the candidates' room is then exact.
    list(
        Allocation.objects.select_for_update().filter(project=project, programme=programme).values_list("pk")
    )
    created, skipped = [], []
    for candidate in selectors.payment_candidates(project, programme):
        if candidate["skip"]:
            if candidate["skip"] != "已确认":
                skipped.append(
                    {
                        "report_id": candidate["report_id"],
                        "period_label": candidate["period_label"],
                        "paid": candidate["paid"],
                        "reason": candidate["skip"],
                    }
                )
            continue
        for allocation, part in candidate["split"]:
            created.append(
                Movement.objects.create(
                    allocation=allocation,
                    kind=MovementKind.PAYMENT,
                    on_date=candidate["on_date"],
                    amount=part,
                    note=f"据{candidate['period_label']}调度表确认",
                    report_id=candidate["report_id"],
                    report_source=programme.funding_source,
                    created_by=actor if actor.pk else None,
                )
            )
    if created or skipped:
        event_record(
            actor=actor,
            verb="funds_confirm_reported",
            target=programme,
            project=project,
            details={
                "created": [
                    {
                        "allocation": m.allocation_id,
                        "report": m.report_id,
                        "on_date": m.on_date,
                        "amount": m.amount,
                    }
                    for m in created
                ],
                "skipped": skipped,
            },
        )
    return {"created": created, "skipped": skipped}


# --- loans --------------------------------------------------------------------------------------


def _loan_values(loan: Loan, fields: dict, *, actor, today: date) -> None:
    errors: dict = {}
    for name in LOAN_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if name == "programme":
            if value is not None and not isinstance(value, Programme):
                value = Programme.objects.filter(pk=value).first()
                if value is None:
                    errors["programme"] = "资金渠道不存在。"
                    continue
            loan.programme = value
            continue
        if name == "bank":
            value = _text(errors, name, "贷款银行", value, 100, required=True)
        elif name == "contract_no":
            value = _text(errors, name, "合同编号", value, 100)
        elif name == "note":
            value = _text(errors, name, "备注", value, 200)
        elif name == "signed_on":
            value = _date(errors, name, "签约日期", value, today=today)
        elif name == "amount_signed":
            value = _amount(errors, name, "签约金额", value)
        elif name == "term_months":
            value = _months(errors, name, "贷款期限", value)
        elif name == "subsidy_applied":
            value = _amount(errors, name, "申请贴息", value, allow_zero=True)
        elif name == "subsidy_granted":
            value = _amount(errors, name, "获批贴息", value, allow_zero=True)
            if value is not None and value != loan.subsidy_granted:
                require_record(actor, loan.project, "subsidy")
        if name not in errors:
            setattr(loan, name, value)
    if not errors and loan.subsidy_granted > loan.subsidy_applied:
        errors["subsidy_granted"] = (
            f"获批贴息 {loan.subsidy_granted} 万元不能超过申请贴息 {loan.subsidy_applied} 万元。"
        )
    if loan.pk and not errors:
        released = selectors.cents(loan.releases.aggregate(s=Sum("amount"))["s"])
        if loan.amount_signed < released:
            errors["amount_signed"] = f"签约金额不能少于已投放的 {released} 万元。"
        first = selectors.first_release_date(loan)
        if first and loan.signed_on > first:
            errors["signed_on"] = f"签约日期不能晚于已登记的投放日期 {first:%Y-%m-%d}。"
    _raise(errors)


@transaction.atomic
def loan_create(*, actor, project: Project, fields: dict) -> Loan:
    require_record(actor, project, "loan")
    loan = Loan(project=project, created_by=actor if actor.pk else None)
    _loan_values(
        loan,
        {"bank": "", "signed_on": None, "amount_signed": None, **fields},
        actor=actor,
        today=timezone.localdate(),
    )
    loan.save()
    event_record(
        actor=actor,
        verb="loan_create",
        target=loan,
        project=project,
        details={name: getattr(loan, name) for name in LOAN_FIELDS},
    )
    return loan


@transaction.atomic
def loan_update(*, actor, loan: Loan, fields: dict, expected_version: int | None = None) -> Loan:
    require_record(actor, loan.project, "loan")
    _check_version(Loan, loan, expected_version)
    loan = Loan.objects.select_for_update(of=("self",)).select_related("project").get(pk=loan.pk)
    before = {name: getattr(loan, name) for name in LOAN_FIELDS}
    _loan_values(loan, fields, actor=actor, today=timezone.localdate())
    changed = list(diff(loan, before, LOAN_FIELDS))
    loan.save(update_fields=[*changed, "version", "updated_at"])
    event_record(
        actor=actor,
        verb="loan_update",
        target=loan,
        project=loan.project,
        details=diff(loan, before, LOAN_FIELDS),
    )
    return loan


@transaction.atomic
def loan_release_add(*, actor, loan: Loan, on_date: date | None, amount, note: str = "") -> LoanRelease:
    """Record money of a loan released (投放): after signing, not after today, within the signed
    amount."""
    require_record(actor, loan.project, "loan")
    loan = Loan.objects.select_for_update(of=("self",)).select_related("project").get(pk=loan.pk)
    errors: dict = {}
    on_date = _date(errors, "on_date", "投放日期", on_date, today=timezone.localdate())
    if on_date and on_date < loan.signed_on:
        errors["on_date"] = f"投放日期不能早于签约日期 {loan.signed_on:%Y-%m-%d}。"
    amount = _amount(errors, "amount", "投放金额", amount)
    note = _text(errors, "note", "说明", note, 200)
    if amount is not None and "amount" not in errors:
        so_far = selectors.cents(loan.releases.aggregate(s=Sum("amount"))["s"])
        if so_far + amount > loan.amount_signed:
            errors["amount"] = (
                f"累计投放 {so_far + amount} 万元将超过签约金额 {loan.amount_signed} 万元"
                f"（已投放 {so_far} 万元，本次最多 {loan.amount_signed - so_far} 万元）。"
            )
    _raise(errors)
    release = LoanRelease.objects.create(
        loan=loan, on_date=on_date, amount=amount, note=note, created_by=actor if actor.pk else None
    )
    event_record(
        actor=actor,
        verb="loan_release",
        target=loan,
        project=loan.project,
        details={"release": release.pk, "on_date": on_date, "amount": amount},
    )
    return release


@transaction.atomic
def loan_release_delete(*, actor, release: LoanRelease) -> None:
    """Delete a release entered by mistake: government accounts any, a project unit those its own
    unit entered (scope.can_record_funds)."""
    loan = (
        Loan.objects.select_for_update(of=("self",)).select_related("project__region").get(pk=release.loan_id)
    )
    release = LoanRelease.objects.select_related("created_by").filter(pk=release.pk).first()
    if release is None:
        raise ConflictError(GONE)
    _require_delete(actor, loan.project, release)
    details = {"release": release.pk, "on_date": release.on_date, "amount": release.amount}
    release.delete()
    event_record(actor=actor, verb="loan_release_delete", target=loan, project=loan.project, details=details)
