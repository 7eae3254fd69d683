"""Funds pages (资金): the overview by programme and by region, the allocation ledger with its
pace, the at-risk list, the programmes' rules, and the project file's funds tab. One project's
funds page and its forms are in project_views.py.

Every figure comes from funds.selectors over accounts.scope.visible_projects; every change goes
through funds.services (their PermissionDenied is a 403, their ValidationError is shown on the
form field it names, their ConflictError above the form)."""

from __future__ import annotations

import io
from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from majorprojects.accounts.scope import can_configure, visible_projects, visible_projects_allowed
from majorprojects.core.errors import ConflictError
from majorprojects.core.money import YI, to_yi

from . import exports, selectors, services
from .forms import FundsFilterForm, ProgrammeForm
from .models import Programme

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The overview's second table: by region (the default) or by department.
SECOND_GROUPS = {"region": "按区域", "department": "按主管部门"}


# --- shared helpers -----------------------------------------------------------------------------


def require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看资金数据。")


def attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: keyed messages on their field, others above it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            if name in form.fields and not form.fields[name].widget.is_hidden:
                form.add_error(name, errors)
            else:
                form.add_error(None, errors)
    else:
        form.add_error(None, exc.messages)


def service_error(form: forms.Form, exc: Exception) -> None:
    if isinstance(exc, ConflictError):
        form.add_error(None, exc.message)
    else:
        attach_errors(form, exc)


def xlsx_response(content: bytes, name: str) -> FileResponse:
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=XLSX)


class AsOfForm(forms.Form):
    as_of = forms.DateField(required=False, error_messages={"invalid": "统计截止日期格式应为 YYYY-MM-DD。"})


def as_of_from(request: HttpRequest) -> tuple[date, list[str]]:
    """The `as_of` date asked for (default today) and what was wrong with it; a date after
    today is today (nothing is recorded in the future)."""
    form = AsOfForm(request.GET)
    today = timezone.localdate()
    if not form.is_valid():
        return today, [f"{e}已改用今天。" for e in form.errors["as_of"]]
    as_of = form.cleaned_data["as_of"] or today
    if as_of > today:
        return today, ["统计截止日期不能晚于今天，已改用今天。"]
    return as_of, []


# --- overview -----------------------------------------------------------------------------------


def _chart(by_programme: list) -> dict:
    """ECharts input: allocated vs paid per programme (in 亿元 once large enough to read that
    way, else 万元), and the payment rate."""
    largest = max((r["allocated"] for r in by_programme), default=0)
    in_yi = largest >= YI

    def amount(value):
        return str(to_yi(value) if in_yi else value)

    return {
        "unit": "亿元" if in_yi else "万元",
        "labels": [r["label"] for r in by_programme],
        "allocated": [amount(r["allocated"]) for r in by_programme],
        "paid": [amount(r["paid"]) for r in by_programme],
        "rate": [None if r["rate"] is None else str(r["rate"]) for r in by_programme],
    }


def _second_by(request: HttpRequest) -> str:
    by = request.GET.get("by", "region")
    return by if by in SECOND_GROUPS else "region"


def _second_tabs(as_of: date, by: str) -> list[dict]:
    base = reverse("funds:index")
    return [
        {
            "code": code,
            "label": label,
            "url": f"{base}?as_of={as_of:%Y-%m-%d}&by={code}",
            "active": code == by,
        }
        for code, label in SECOND_GROUPS.items()
    ]


def index(request: HttpRequest) -> HttpResponse:
    """The funds overview: cards, by programme (table and chart), by region or department, the
    at-risk count — all from one pass over the allocations."""
    require_reader(request)
    as_of, problems = as_of_from(request)
    by = _second_by(request)
    rows = selectors.allocation_rows(visible_projects(request.user), as_of=as_of)
    context = {
        "as_of": as_of,
        "by": by,
        "tabs": _second_tabs(as_of, by),
        "groups": selectors.group_rows(rows, by, user=request.user),
        "group_label": selectors.GROUPS[by],
        "total": selectors.summarise(rows),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "groups":
        return render(request, "funds/_groups.html", context)
    by_programme = selectors.group_rows(rows, "programme")
    risks = [risk for row in rows if (risk := selectors.risk_reasons(row, as_of=as_of))]
    context |= {
        "problems": problems,
        "by_programme": by_programme,
        "chart": _chart(by_programme),
        "risk_count": len(risks),
        "risk_unpaid": selectors.cents(sum(r["row"]["unpaid"] for r in risks)),
        "export_url": f"{reverse('funds:index_export')}?as_of={as_of:%Y-%m-%d}",
    }
    return render(request, "funds/index.html", context)


def index_export(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    as_of, _ = as_of_from(request)
    projects = visible_projects(request.user)
    content = exports.overview_xlsx(
        as_of=as_of,
        by_programme=selectors.funds_overview(projects, by="programme", as_of=as_of, user=request.user),
        by_region=selectors.funds_overview(projects, by="region", as_of=as_of, user=request.user),
    )
    return xlsx_response(content, f"资金总览_截至{as_of:%Y%m%d}.xlsx")


# --- allocations --------------------------------------------------------------------------------


def _filtered_rows(request: HttpRequest) -> tuple[FundsFilterForm, date, list[dict]]:
    """The allocation rows the filters ask for, each with its at-risk reasons (or None)."""
    form = FundsFilterForm(request.GET, user=request.user)
    as_of = form.value("as_of") or timezone.localdate()
    as_of = min(as_of, timezone.localdate())
    projects = form.filter_projects(visible_projects(request.user))
    rows = [
        {**row, "risk": selectors.risk_reasons(row, as_of=as_of)}
        for row in selectors.allocation_rows(projects, as_of=as_of, programme=form.value("programme"))
    ]
    if form.value("behind"):
        rows = [r for r in rows if r["pace"]["behind"]]
    if form.value("at_risk"):
        rows = [r for r in rows if r["risk"]]
    return form, as_of, rows


def allocations(request: HttpRequest) -> HttpResponse:
    """The allocation ledger (下达台账): per row rate, pace and flags; filters in place (HTMX)."""
    require_reader(request)
    form, as_of, rows = _filtered_rows(request)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "as_of": as_of,
        "page": page,
        "total": selectors.summarise(rows),
        "export_url": f"{reverse('funds:allocations_export')}?{form.query()}",
        "hx_base": reverse("funds:allocations"),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "funds/_allocation_results.html", context)
    return render(request, "funds/allocations.html", context)


def allocations_export(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    _, as_of, rows = _filtered_rows(request)
    return xlsx_response(exports.allocations_xlsx(rows, as_of=as_of), f"资金下达台账_截至{as_of:%Y%m%d}.xlsx")


# --- at risk ------------------------------------------------------------------------------------


def _risks(request: HttpRequest) -> tuple[FundsFilterForm, date, list]:
    form = FundsFilterForm(request.GET, user=request.user)
    as_of = min(form.value("as_of") or timezone.localdate(), timezone.localdate())
    projects = form.filter_projects(visible_projects(request.user))
    return form, as_of, selectors.at_risk(projects, as_of=as_of, programme=form.value("programme"))


def at_risk(request: HttpRequest) -> HttpResponse:
    """Allocations that may be recalled (可能收回), largest unpaid first, with the reasons."""
    require_reader(request)
    form, as_of, risks = _risks(request)
    context = {
        "form": form,
        "as_of": as_of,
        "risks": risks,
        "unpaid": selectors.cents(sum(r["row"]["unpaid"] for r in risks)),
        "allocated": selectors.cents(sum(r["row"]["amount"] for r in risks)),
        "export_url": f"{reverse('funds:at_risk_export')}?{form.query()}",
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "funds/_risk_results.html", context)
    return render(request, "funds/at_risk.html", context)


def at_risk_export(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    _, as_of, risks = _risks(request)
    return xlsx_response(
        exports.at_risk_xlsx(risks, as_of=as_of), f"可能收回资金清单_截至{as_of:%Y%m%d}.xlsx"
    )


# --- programmes ---------------------------------------------------------------------------------


def programmes(request: HttpRequest) -> HttpResponse:
    """The programmes and their rules; the city admin edits them."""
    require_reader(request)
    return render(
        request,
        "funds/programmes.html",
        {
            "programmes": Programme.objects.order_by("sort_order", "pk"),
            "can_configure": can_configure(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def programme_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if not can_configure(request.user):
        raise PermissionDenied("资金渠道由市级管理员维护。")
    programme = None
    if pk is not None:
        programme = Programme.objects.filter(pk=pk).first()
        if programme is None:
            raise Http404("资金渠道不存在。")
    form = ProgrammeForm(request.POST or None, instance=programme)
    if request.method == "POST" and form.is_valid():
        try:
            if programme is None:
                programme = services.programme_create(
                    actor=request.user, code=form.cleaned_data["code"], fields=form.service_fields()
                )
                messages.success(request, f"资金渠道“{programme.name}”已新增。")
            else:
                programme = services.programme_update(
                    actor=request.user,
                    programme=programme,
                    fields=form.service_fields(),
                    expected_version=form.cleaned_data["version"],
                )
                messages.success(request, f"资金渠道“{programme.name}”的规则已保存。")
        except (ValidationError, ConflictError) as exc:
            service_error(form, exc)
        else:
            return redirect("funds:programmes")
    return render(request, "funds/programme_form.html", {"form": form, "programme": programme})


# --- the project file's funds tab ---------------------------------------------------------------


def project_tab_context(request: HttpRequest, project) -> dict:
    """What funds/project_tab.html needs, for the project file's 资金 tab (the project is already
    scoped by the project view)."""
    funds = selectors.project_funds(project)
    return {
        "funds": funds,
        "funds_behind": sum(1 for r in funds["allocations"] if r["pace"]["behind"]),
        "funds_unconfirmed": sum(1 for r in funds["reported"] if r["status"] in ("未确认", "金额不一致")),
        "funds_can_record": services.can_record(request.user, project),
    }
