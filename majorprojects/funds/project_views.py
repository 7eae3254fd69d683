"""One project's funds (项目资金): its allocations with their arrivals, transfers and payments and
their pace, its loans with releases and interest subsidy, and the payments its dispatch reports
gave beside the ledger, with confirmation into the ledger; and the forms that change them.

Scope: a project, allocation, movement, loan or release outside what the user reads is a 404; a
change the user may not make is the service's PermissionDenied, a 403. Figures come from
funds.selectors.project_funds; changes go through funds.services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from majorprojects.accounts.scope import get_project, visible_projects
from majorprojects.core.errors import ConflictError

from . import selectors, services
from .forms import AllocationForm, LoanForm, MovementForm, ReleaseForm
from .models import Allocation, Loan, LoanRelease, Movement, MovementKind, Programme
from .views import as_of_from, require_reader, service_error

UNCONFIRMED = ("未确认", "金额不一致")
ALLOCATION_DENIED = f"资金下达由{services.GOVERNMENT}登记。"


# --- lookups (scoped: 404 outside what the user reads) ------------------------------------------


def _project(request: HttpRequest, pk: int):
    require_reader(request)
    return get_project(request.user, pk)


def _scoped(request: HttpRequest, model, pk: int, project_path: str, related: tuple, message: str):
    """A funds row whose project (reached by `project_path`) the user may read, else Http404."""
    require_reader(request)
    row = (
        model.objects.filter(**{f"{project_path}__in": visible_projects(request.user).values("pk")}, pk=pk)
        .select_related(*related)
        .first()
    )
    if row is None:
        raise Http404(message)
    return row


def _allocation(request: HttpRequest, pk: int) -> Allocation:
    return _scoped(
        request, Allocation, pk, "project", ("programme", "project"), "资金下达记录不存在或无权访问。"
    )


def _movement(request: HttpRequest, pk: int) -> Movement:
    return _scoped(
        request, Movement, pk, "allocation__project", ("allocation",), "资金记录不存在或无权访问。"
    )


def _loan(request: HttpRequest, pk: int) -> Loan:
    return _scoped(request, Loan, pk, "project", ("project", "programme"), "贷款记录不存在或无权访问。")


def _release(request: HttpRequest, pk: int) -> LoanRelease:
    return _scoped(request, LoanRelease, pk, "loan__project", ("loan",), "投放记录不存在或无权访问。")


def _project_url(project_id: int, anchor: str = "") -> str:
    return reverse("funds:project", args=[project_id]) + (f"#{anchor}" if anchor else "")


# --- the project page ---------------------------------------------------------------------------


def _confirmable(funds: dict) -> list[dict]:
    """Programmes of the project's allocations that have a dispatch source with reported payments
    not (or no longer) matching the ledger: each gets a "核对并确认" link."""
    open_sources = {}
    for row in funds["reported"]:
        if row["status"] in UNCONFIRMED:
            open_sources[row["source"]] = open_sources.get(row["source"], 0) + 1
    seen, result = set(), []
    for row in funds["allocations"]:
        programme = row["allocation"].programme
        if programme.pk in seen or programme.funding_source not in open_sources:
            continue
        seen.add(programme.pk)
        result.append({"programme": programme, "periods": open_sources[programme.funding_source]})
    return result


def _project_context(
    request: HttpRequest,
    project,
    *,
    movement_form: tuple[int, MovementForm] | None = None,
    release_form: tuple[int, ReleaseForm] | None = None,
) -> dict:
    as_of, problems = as_of_from(request)
    user = request.user
    funds = selectors.project_funds(project, as_of=as_of)
    kinds = services.recordable_kinds(user, project)
    can_record = bool(kinds)
    can_allocate = services.can_allocate(user, project)
    can_loan = services.can_record(user, project, "loan")
    for row in funds["allocations"]:
        pk = row["allocation"].pk
        row["movements"] = [
            {"m": m, "deletable": can_record and services.can_delete_entry(user, project, m)}
            for m in row["allocation"].movements.all()
        ]
        if can_record:
            if movement_form and movement_form[0] == pk:
                row["form"] = movement_form[1]
            else:
                row["form"] = MovementForm(allocation_pk=pk, kinds=kinds)
    for row in funds["loans"]:
        pk = row["loan"].pk
        row["releases"] = [
            {"r": r, "deletable": can_loan and services.can_delete_entry(user, project, r)}
            for r in row["loan"].releases.all()
        ]
        if can_loan:
            if release_form and release_form[0] == pk:
                row["form"] = release_form[1]
            else:
                row["form"] = ReleaseForm(loan_pk=pk)
    return {
        "project": project,
        "funds": funds,
        "as_of": as_of,
        "problems": problems,
        "can_record": can_record,
        "can_allocate": can_allocate,
        "can_loan": can_loan,
        "movement_kinds": [MovementKind(kind).label for kind in kinds],
        "confirmable": _confirmable(funds) if can_record else [],
    }


def project(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    return render(request, "funds/project.html", _project_context(request, project))


# --- allocations --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def allocation_new(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    if not services.can_allocate(request.user, project):
        raise PermissionDenied(ALLOCATION_DENIED)
    form = AllocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            allocation = services.allocation_create(
                actor=request.user, project=project, **form.service_fields()
            )
        except ValidationError as exc:
            service_error(form, exc)
        else:
            messages.success(
                request,
                f"已登记{allocation.programme.name}下达 {allocation.amount:,.2f} 万元（{allocation.document_no}）。",
            )
            return redirect(_project_url(project.pk, f"alloc-{allocation.pk}"))
    return render(request, "funds/allocation_form.html", {"form": form, "project": project})


@require_http_methods(["GET", "POST"])
def allocation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    project = allocation.project
    if not services.can_allocate(request.user, project):
        raise PermissionDenied(ALLOCATION_DENIED)
    form = AllocationForm(
        request.POST or None, instance=allocation, locked_programme=allocation.movements.exists()
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.allocation_update(
                actor=request.user,
                allocation=allocation,
                fields=form.service_fields(),
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, ConflictError) as exc:
            service_error(form, exc)
        else:
            messages.success(request, "资金下达已保存。")
            return redirect(_project_url(project.pk, f"alloc-{allocation.pk}"))
    return render(
        request, "funds/allocation_form.html", {"form": form, "project": project, "allocation": allocation}
    )


@require_POST
def allocation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    project_id = allocation.project_id
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0  # a form without its version is stale: the service refuses it
    try:
        services.allocation_delete(actor=request.user, allocation=allocation, expected_version=version)
    except (ValidationError, ConflictError) as exc:
        messages.error(request, exc.message if isinstance(exc, ConflictError) else "；".join(exc.messages))
    else:
        messages.success(request, f"已删除资金下达（{allocation.document_no}）。")
    return redirect(_project_url(project_id))


# --- movements ----------------------------------------------------------------------------------


@require_POST
def movement_add(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    project = allocation.project
    kinds = services.recordable_kinds(request.user, project)
    if not kinds:
        raise PermissionDenied(services.OUT_OF_SCOPE)
    if request.POST.get("kind") in MovementKind.values:
        services.require_record(request.user, project, request.POST["kind"])  # 到位/拨付: government
    form = MovementForm(request.POST, allocation_pk=allocation.pk, kinds=kinds)
    if form.is_valid():
        try:
            movement = services.movement_add(actor=request.user, allocation=allocation, **form.cleaned_data)
        except ValidationError as exc:
            service_error(form, exc)
        else:
            messages.success(
                request,
                f"已登记{movement.get_kind_display()} {movement.amount:,.2f} 万元（{allocation.document_no}）。",
            )
            return redirect(_project_url(project.pk, f"alloc-{allocation.pk}"))
    project = get_project(request.user, project.pk)
    context = _project_context(request, project, movement_form=(allocation.pk, form))
    return render(request, "funds/project.html", context)


@require_POST
def movement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    movement = _movement(request, pk)
    allocation = movement.allocation
    try:
        services.movement_delete(actor=request.user, movement=movement)
    except ConflictError as exc:
        messages.error(request, exc.message)
    else:
        label = MovementKind(movement.kind).label
        messages.success(
            request, f"已删除{label}记录 {movement.on_date:%Y-%m-%d} {movement.amount:,.2f} 万元。"
        )
    return redirect(_project_url(allocation.project_id, f"alloc-{allocation.pk}"))


# --- reported payments into the ledger ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def confirm_reported(request: HttpRequest, pk: int, programme_pk: int) -> HttpResponse:
    """GET: what confirming the project's reported payments into a programme's ledger would write
    (selectors.payment_candidates); POST: write it (services.payments_from_reports)."""
    project = _project(request, pk)
    if not services.can_record(request.user, project, MovementKind.PAYMENT):
        raise PermissionDenied("您无权登记本项目的资金支付。")
    programme = Programme.objects.filter(pk=programme_pk).first()
    if programme is None:
        raise Http404("资金渠道不存在。")
    if request.method == "POST":
        try:
            result = services.payments_from_reports(actor=request.user, project=project, programme=programme)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            created = result["created"]
            total = selectors.cents(sum(m.amount for m in created))
            if created:
                messages.success(
                    request,
                    f"已将 {len(created)} 笔调度表支付（共 {total:,.2f} 万元）记入{programme.name}台账。",
                )
            else:
                messages.info(request, f"{programme.name}没有可确认的调度表支付。")
            for skipped in result["skipped"]:
                messages.warning(request, f"{skipped['period_label']}未确认：{skipped['reason']}。")
        return redirect(_project_url(project.pk, "reported"))
    candidates = selectors.payment_candidates(project, programme)
    writable = [c for c in candidates if not c["skip"]]
    return render(
        request,
        "funds/confirm.html",
        {
            "project": project,
            "programme": programme,
            "candidates": candidates,
            "writable": writable,
            "writable_total": selectors.cents(sum(c["paid"] for c in writable)),
        },
    )


# --- loans --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def loan_new(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    if not services.can_record(request.user, project, "loan"):
        raise PermissionDenied("您无权登记本项目的贷款。")
    form = LoanForm(request.POST or None, may_grant=services.can_record(request.user, project, "subsidy"))
    if request.method == "POST" and form.is_valid():
        try:
            loan = services.loan_create(actor=request.user, project=project, fields=form.service_fields())
        except ValidationError as exc:
            service_error(form, exc)
        else:
            messages.success(request, f"已登记{loan.bank}贷款 {loan.amount_signed:,.2f} 万元。")
            return redirect(_project_url(project.pk, f"loan-{loan.pk}"))
    return render(request, "funds/loan_form.html", {"form": form, "project": project})


@require_http_methods(["GET", "POST"])
def loan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    loan = _loan(request, pk)
    project = loan.project
    if not services.can_record(request.user, project, "loan"):
        raise PermissionDenied("您无权修改本项目的贷款。")
    form = LoanForm(
        request.POST or None,
        instance=loan,
        may_grant=services.can_record(request.user, project, "subsidy"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.loan_update(
                actor=request.user,
                loan=loan,
                fields=form.service_fields(),
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, ConflictError) as exc:
            service_error(form, exc)
        else:
            messages.success(request, "贷款信息已保存。")
            return redirect(_project_url(project.pk, f"loan-{loan.pk}"))
    return render(request, "funds/loan_form.html", {"form": form, "project": project, "loan": loan})


@require_POST
def release_add(request: HttpRequest, pk: int) -> HttpResponse:
    loan = _loan(request, pk)
    project = loan.project
    form = ReleaseForm(request.POST, loan_pk=loan.pk)
    if form.is_valid():
        try:
            release = services.loan_release_add(actor=request.user, loan=loan, **form.cleaned_data)
        except ValidationError as exc:
            service_error(form, exc)
        else:
            messages.success(request, f"已登记投放 {release.amount:,.2f} 万元。")
            return redirect(_project_url(project.pk, f"loan-{loan.pk}"))
    elif not services.can_record(request.user, project, "loan"):
        raise PermissionDenied(services.OUT_OF_SCOPE)
    project = get_project(request.user, project.pk)
    context = _project_context(request, project, release_form=(loan.pk, form))
    return render(request, "funds/project.html", context)


@require_POST
def release_delete(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    try:
        services.loan_release_delete(actor=request.user, release=release)
    except ConflictError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已删除投放记录 {release.on_date:%Y-%m-%d} {release.amount:,.2f} 万元。")
    return redirect(_project_url(release.loan.project_id, f"loan-{release.loan_id}"))
