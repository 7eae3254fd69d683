"""Periods (completeness, who has not reported, locking), schedules and correction requests.
The pages of one report and of "my reports" are in views.py."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from majorprojects.accounts.scope import (
    can_change_projects,
    can_lock_periods,
    visible_reports,
)
from majorprojects.projects.models import ListKind, Stage

from . import exports, schedules, selectors, services
from .forms import (
    UNLISTED,
    DecisionForm,
    PeriodFilterForm,
    ScheduleForm,
)
from .models import Correction, Period, Schedule
from .views import (
    PERIOD_PAGE_SIZE,
    _attach_errors,
    _correction_item,
    _message,
    _page,
    _require_city_admin,
    _require_reader,
)

# --- periods -------------------------------------------------------------------------------------


@require_GET
def period_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = PeriodFilterForm(request.GET or None)
    periods = form.filter(Period.objects.select_related("schedule")).order_by("-ends_on", "schedule__order")
    page = _page(request, periods, PERIOD_PAGE_SIZE)
    reports = visible_reports(request.user)
    today = timezone.localdate()
    figures = selectors.periods_completeness(list(page), reports)
    rows = [
        {
            "period": period,
            "figures": figures[period.pk],
            "closing": not period.is_locked and today > period.late_after,
        }
        for period in page
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "today": today,
        "can_lock": can_lock_periods(request.user),
    }
    return render(request, "reporting/periods.html", context)


@require_GET
def period_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    period = get_object_or_404(Period.objects.select_related("schedule", "locked_by"), pk=pk)
    user = request.user
    by = request.GET.get("by") if request.GET.get("by") in selectors.COMPLETENESS_GROUPS else "region"
    reports = visible_reports(user)
    context = {
        "period": period,
        "by": by,
        "by_label": selectors.COMPLETENESS_GROUPS[by],
        "groups": selectors.COMPLETENESS_GROUPS,
        "totals": selectors.period_completeness(period, reports),
        "rows": selectors.period_completeness_by(period, reports, by, user=user),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "completeness":
        return render(request, "reporting/_completeness.html", context)
    today = timezone.localdate()
    context |= {
        "page": _page(request, selectors.missing_reports(period, reports)),
        "today": today,
        "closing": not period.is_locked and today > period.late_after,
        "can_lock": can_lock_periods(user) and not period.is_locked,
        "can_enter": can_change_projects(user) and not period.is_locked,
        "is_admin": can_lock_periods(user),
    }
    return render(request, "reporting/period.html", context)


@require_POST
def period_lock_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_city_admin(request)
    period = get_object_or_404(Period, pk=pk)
    try:
        counts = services.period_lock(actor=request.user, period=period)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            f"{period.label}已锁定：{counts['locked']} 份报表锁定，{counts['missing']} 份未报送记为缺报。",
        )
    return redirect("reporting:period", pk=pk)


@require_GET
def missing_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The "who has not reported" list of a period, as the user sees it, in Excel."""
    _require_reader(request)
    period = get_object_or_404(Period, pk=pk)
    reports = selectors.missing_reports(period, visible_reports(request.user))
    content = exports.missing_xlsx(period, reports)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"{period.label}未报送名单_{timezone.localtime():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- schedules -----------------------------------------------------------------------------------


@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    _require_city_admin(request)
    kinds = dict([*ListKind.choices, UNLISTED])
    stages = dict(Stage.choices)
    rows = [
        {
            "schedule": s,
            "kinds": "、".join(kinds.get(k, k) for k in s.list_kinds) or "不限",
            "stages": "、".join(stages.get(k, k) for k in s.stages) or "不限",
        }
        for s in Schedule.objects.all()
    ]
    return render(request, "reporting/schedules.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_city_admin(request)
    schedule = get_object_or_404(Schedule, pk=pk) if pk else None
    today = timezone.localdate()
    deadlines = schedules.upcoming_deadlines(schedule, today) if schedule else []
    form = ScheduleForm(request.POST or None, instance=copy.copy(schedule) if schedule else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = schedules.schedule_save(actor=request.user, schedule=schedule, data=form.service_data())
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"调度安排“{saved.name}”已保存，此后开启的期次按新规则计算截止日。")
            return redirect("reporting:schedule_edit", pk=saved.pk)
    context = {"form": form, "schedule": schedule, "deadlines": deadlines}
    return render(request, "reporting/schedule_form.html", context)


# --- corrections ---------------------------------------------------------------------------------


def _corrections(user):
    qs = Correction.objects.select_related("report__project", "report__period", "requested_by", "decided_by")
    if can_lock_periods(user):
        return qs
    return qs.filter(report__in=visible_reports(user).values("pk"))


@require_GET
def correction_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    state = request.GET.get("state", Correction.State.PENDING)
    if state not in (*Correction.State.values, "all"):
        state = Correction.State.PENDING
    qs = _corrections(request.user)
    if state != "all":
        qs = qs.filter(state=state)
    page = _page(request, qs)
    context = {
        "page": page,
        "rows": [_correction_item(c) for c in page],
        "state": state,
        "states": [*Correction.State.choices, ("all", "全部")],
        "can_decide": can_lock_periods(request.user),
    }
    return render(request, "reporting/corrections.html", context)


@require_POST
def correction_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_city_admin(request)
    try:
        correction = _corrections(request.user).get(pk=pk)
    except Correction.DoesNotExist:
        raise Http404("更正申请不存在")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择批准或驳回。")
    else:
        try:
            services.correction_decide(
                actor=request.user,
                correction=correction,
                approve=form.approve,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            verb = "批准" if form.approve else "驳回"
            messages.success(
                request,
                f"已{verb}{correction.report.project.name}（{correction.report.period.label}）的更正申请。",
            )
    return redirect(f"{reverse('reporting:corrections')}?state={Correction.State.PENDING}")
