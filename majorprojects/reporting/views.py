"""Dispatch pages: one report (filled on a phone, submitted, reviewed, photos, corrections), the
user's reports, periods with completeness and the "who has not reported" list, schedules and
corrections. Access from accounts.scope, changes through reporting.services (schedules through
reporting.schedules), figures from reporting.selectors."""

from __future__ import annotations

import copy
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from majorprojects.accounts.scope import (
    can_change_projects,
    can_fill_report,
    can_lock_periods,
    can_review_report,
    can_review_reports,
    fillable_reports,
    get_report,
    reviewable_reports,
    visible_projects_allowed,
    visible_reports,
)
from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.core.templatetags.platform_tags import VERBS, event_changes, wan
from majorprojects.projects.models import FundingSource, Stage

from . import selectors, services
from .forms import (
    CorrectionForm,
    PhotoForm,
    ReportFilterForm,
    ReportForm,
    ReturnForm,
)
from .models import Correction, Report, Status
from .services import REPORT_FIELDS

PAGE_SIZE = 50
PERIOD_PAGE_SIZE = 12
HISTORY_LIMIT = 100


# --- helpers -------------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看项目数据。")


def _require_filler(request: HttpRequest, report: Report) -> None:
    if not can_fill_report(request.user, report):
        raise PermissionDenied("您无权填报该项目的调度表。")


def _require_city_admin(request: HttpRequest) -> None:
    if not can_lock_periods(request.user):
        raise PermissionDenied("只有市级管理员可以执行此操作。")


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or "无权执行此操作。"


def _attach_errors(form, exc: ValidationError) -> None:
    """A service's {field: message} errors onto the form: under the field when the form has it,
    otherwise at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        else:
            form.add_error(None, errors)


def _page(request: HttpRequest, qs, size: int = PAGE_SIZE):
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _report_url(report: Report) -> str:
    return reverse("reporting:report", args=[report.pk])


# --- one report ----------------------------------------------------------------------------------


def _display(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name == "investment":
        return f"{wan(value)} 万元"
    if name == "percent_complete":
        return f"{Decimal(value).normalize():f}%"
    if name == "stats_included":
        return "是" if value else "否"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _values(report: Report) -> list[dict]:
    """The report's typed values for reading (label, shown value)."""
    rows = []
    for name in REPORT_FIELDS:
        if name == "investment" and not report.period.carries_investment:
            continue
        label = _field_label(name)
        rows.append({"name": name, "label": label, "value": _display(name, getattr(report, name))})
    return rows


def _differences(form: ReportForm, current: Report) -> list[dict]:
    """What the other person saved that differs from what this user typed (shown on a conflict,
    so both versions are in front of the user and nothing is lost silently)."""
    typed = form.service_data()
    rows = [
        {"label": row["label"], "value": row["value"]}
        for row in _values(current)
        if row["name"] in typed and typed[row["name"]] != getattr(current, row["name"])
    ]
    theirs = {f.source: (f.arrived, f.paid) for f in current.funds.all()}
    mine = {s: (Decimal(a), Decimal(p)) for s, (a, p) in (form.service_funds() or {}).items() if a or p}
    if theirs != mine:
        labels = dict(FundingSource.choices)
        text = "；".join(f"{labels[s]} 到位 {wan(a)} 支付 {wan(p)}" for s, (a, p) in theirs.items()) or "无"
        rows.append({"label": "本期资金（万元）", "value": text})
    return rows


def _readable(event: Event) -> dict:
    """An event for the report's history: the verb's label and readable detail lines."""
    labels = dict(FundingSource.choices)
    stages = dict(Stage.choices) | {
        "main_structure_date": "主体完工",
        "stats_included": "入统",
        "stats_included_date": "入统日期",
        "started": "开工",
        "completed": "竣工",
        "operating": "投产",
    }
    details = {}
    for key, value in (event.details or {}).items():
        if key == "funds" and isinstance(value, list) and len(value) == 2:
            value = [
                "；".join(f"{labels.get(s, s)} 到位{a} 支付{p}" for s, (a, p) in side.items()) or "无"
                for side in value
            ]
        elif key == "applied" and isinstance(value, list):
            value = "、".join(stages.get(v, v) for v in value) or "无"
        elif isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, list) and len(value) == 2:
            value = [("是" if v else "否") if isinstance(v, bool) else v for v in value]
        details[key] = value
    shown = copy.copy(event)
    shown.details = details
    return {"event": event, "label": VERBS.get(event.verb, event.verb), "lines": event_changes(shown)}


def _field_label(name: str) -> str:
    return "是否入统" if name == "stats_included" else str(Report._meta.get_field(name).verbose_name)


def _correction_item(correction: Correction) -> dict:
    """A correction with its changes as readable lines (label, original, corrected)."""

    def shown(value) -> str:
        if isinstance(value, bool):
            return "是" if value else "否"
        return "空" if value in (None, "") else str(value)

    lines = [
        {"label": _field_label(name), "old": shown(old), "new": shown(new)}
        for name, (old, new) in correction.changes.items()
    ]
    return {"correction": correction, "changes": lines}


def _history(report: Report) -> list[dict]:
    events = selectors.report_history(report)
    return [_readable(e) for e in events[:HISTORY_LIMIT]]


def _render_report(
    request: HttpRequest,
    report: Report,
    *,
    form: ReportForm | None = None,
    return_form: ReturnForm | None = None,
    correction_form: CorrectionForm | None = None,
    photo_form: PhotoForm | None = None,
    theirs: list | None = None,
) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    can_fill = can_fill_report(user, report)
    can_review = can_review_report(user, report)
    editable = report.is_editable
    if form is None and can_fill and editable:
        form = ReportForm(report=report)
    pending_correction = report.corrections.filter(state=Correction.State.PENDING).first()
    if correction_form is None and can_fill and report.status == Status.LOCKED and not pending_correction:
        correction_form = CorrectionForm(report=report)
    if return_form is None and can_review and report.status == Status.SUBMITTED:
        return_form = ReturnForm()
    context = {
        "report": report,
        "period": report.period,
        "project": report.project,
        "today": today,
        "overdue": editable and today > report.period.due_on,
        "can_fill": can_fill,
        "can_review": can_review and report.status == Status.SUBMITTED,
        "form": form,
        "theirs": theirs,
        "values": _values(report),
        "funds": report.funds.all(),
        "photos": report.photos.select_related("attachment"),
        "photo_form": photo_form or (PhotoForm() if can_fill and editable else None),
        "can_add_photos": can_fill and editable,
        "return_form": return_form,
        "correction_form": correction_form,
        "pending_correction": pending_correction,
        "corrections": [
            _correction_item(c) for c in report.corrections.select_related("requested_by", "decided_by")
        ],
        "history": _history(report),
    }
    return render(request, "reporting/report.html", context)


def _already_submitted(report: Report, submit_key: str) -> bool:
    """Whether this very form was already submitted (a double click or a resent form)."""
    last_key = Report.objects.filter(pk=report.pk).values_list("last_key", flat=True).first()
    return last_key == submit_key


@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the report; POST saves the draft (保存草稿)."""
    _require_reader(request)
    report = get_report(request.user, pk)
    if request.method == "GET":
        return _render_report(request, report)
    _require_filler(request, report)
    form = ReportForm(request.POST, report=report)
    if not form.is_valid():
        return _render_report(request, report, form=form)
    save_key, _ = form.keys()
    try:
        services.report_save(
            actor=request.user,
            report=report,
            data=form.service_data(),
            funds=form.service_funds(),
            expected_version=form.cleaned_data["version"],
            key=save_key,
        )
    except ConflictError as exc:
        return _conflict(request, report, form, exc)
    except ValidationError as exc:
        _attach_errors(form, exc)
        form.renew(version=form.cleaned_data["version"])
        return _render_report(request, report, form=form)
    messages.success(request, "草稿已保存。确认无误后请点击“报送”。")
    return redirect(_report_url(report))


def _conflict(request: HttpRequest, report: Report, form: ReportForm, exc: ConflictError) -> HttpResponse:
    current = get_report(request.user, report.pk)
    form.add_error(
        None,
        f"{exc.message}下方列出了对方保存的与您填写不同的内容；您填写的内容仍在表单中，"
        "核对后再次保存将以您填写的为准。",
    )
    form.renew(version=current.version)
    return _render_report(request, current, form=form, theirs=_differences(form, current))


@require_POST
def report_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save what the form holds, then submit (报送). A resent form is applied once."""
    _require_reader(request)
    report = get_report(request.user, pk)
    _require_filler(request, report)
    form = ReportForm(request.POST, report=report)
    if not form.is_valid():
        return _render_report(request, report, form=form)
    save_key, submit_key = form.keys()
    if _already_submitted(report, submit_key):
        messages.success(request, "已报送。")
        return redirect(_report_url(report))
    saved = None
    try:
        saved = services.report_save(
            actor=request.user,
            report=report,
            data=form.service_data(),
            funds=form.service_funds(),
            expected_version=form.cleaned_data["version"],
            key=save_key,
        )
        report = services.report_submit(
            actor=request.user, report=saved, expected_version=saved.version, key=submit_key
        )
    except ConflictError as exc:
        return _conflict(request, report, form, exc)
    except ValidationError as exc:
        if _already_submitted(report, submit_key):  # a twin request got there first
            messages.success(request, "已报送。")
            return redirect(_report_url(report))
        _attach_errors(form, exc)
        if saved is not None:
            form.add_error(None, "填写的内容已保存为草稿，但还不能报送：请按提示补充或修改后再报送。")
        form.renew(version=saved.version if saved is not None else form.cleaned_data["version"])
        return _render_report(request, get_report(request.user, pk), form=form)
    if report.is_late:
        messages.warning(request, f"已报送。已超过{report.period.label}的报送期限，计为迟报。")
    else:
        messages.success(request, "已报送，等待审核。")
    return redirect(_report_url(report))


@require_POST
def report_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    report = get_report(request.user, pk)
    if not can_review_report(request.user, report):
        raise PermissionDenied("您无权审核该项目的调度表。")
    try:
        services.report_approve(actor=request.user, report=report)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"已审核通过：{report.project.name}（{report.period.label}）。")
    return redirect(_report_url(report))


@require_POST
def report_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    report = get_report(request.user, pk)
    if not can_review_report(request.user, report):
        raise PermissionDenied("您无权审核该项目的调度表。")
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.report_return(actor=request.user, report=report, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if "reason" in getattr(exc, "message_dict", {}):
                _attach_errors(form, exc)
            else:
                messages.error(request, _message(exc))
                return redirect(_report_url(report))
        else:
            messages.success(request, "已退回填报人修改。")
            return redirect(_report_url(report))
    return _render_report(request, report, return_form=form)


@require_POST
def report_photo_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a progress photo. From the report page it is sent by HTMX so what the user has
    typed in the report form stays in place; the answer is the photos block."""
    _require_reader(request)
    report = get_report(request.user, pk)
    _require_filler(request, report)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["photo"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            form.add_error("photo", f"照片超过 {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB 的上限。")
        else:
            try:
                services.report_photo_add(
                    actor=request.user, report=report, name=upload.name, content=upload.read()
                )
            except ValidationError as exc:
                form.add_error("photo", exc.messages)
            else:
                form = PhotoForm()
                if not request.headers.get("HX-Request"):
                    messages.success(request, "照片已上传。")
    if request.headers.get("HX-Request"):
        context = {
            "report": report,
            "project": report.project,
            "photos": report.photos.select_related("attachment"),
            "photo_form": form,
            "can_add_photos": report.is_editable,
        }
        return render(request, "reporting/_photos.html", context)
    if form.errors:
        messages.error(request, "照片未上传：" + "；".join(e for errs in form.errors.values() for e in errs))
    return redirect(f"{_report_url(report)}#photos")


@require_POST
def correction_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    report = get_report(request.user, pk)
    _require_filler(request, report)
    form = CorrectionForm(request.POST, report=report)
    if form.is_valid():
        try:
            services.correction_request(
                actor=request.user,
                report=report,
                data=form.service_data(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, "更正申请已提交，等待市级审批。")
            return redirect(_report_url(report))
    return _render_report(request, report, correction_form=form)


# --- my reports ----------------------------------------------------------------------------------

PRESET_SCOPES = {"all": visible_reports, "fill": fillable_reports, "review": reviewable_reports}
PRESET_ORDER = {
    "all": ("-period_end", "project__name", "pk"),
    "fill": ("period__due_on", "project__name", "pk"),
    "review": ("period__due_on", "submitted_at", "pk"),
}


def _default_preset(user) -> str:
    if can_review_reports(user):
        return "review"
    if can_change_projects(user):
        return "fill"
    return "all"


@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    """我的调度: the reports the user may read, with presets for what to fill and to review."""
    _require_reader(request)
    user, today = request.user, timezone.localdate()
    data = request.GET.copy()
    if not data.get("view"):
        data["view"] = _default_preset(user)
    form = ReportFilterForm(data, user=user)
    view = form.view_value or "all"
    qs = form.filter(PRESET_SCOPES[view](user), today=today)
    qs = qs.select_related("period", "project__region").order_by(*PRESET_ORDER[view])
    counts = {
        "fill": ReportFilterForm.preset(fillable_reports(user), "fill", today=today).count()
        if can_change_projects(user)
        else None,
        "review": ReportFilterForm.preset(reviewable_reports(user), "review", today=today).count()
        if can_review_reports(user)
        else None,
    }
    params = data.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "view": view,
        "page": _page(request, qs),
        "counts": counts,
        "today": today,
        "query": params.urlencode(),
    }
    template = (
        "reporting/_report_results.html" if request.headers.get("HX-Request") else "reporting/reports.html"
    )
    return render(request, template, context)
