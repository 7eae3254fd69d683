"""Project library pages: list (HTMX filtering), the project file with tabs, forms, stage
transitions, listings, campaigns, attachments and the Excel export. Scope: accounts.scope."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods, require_POST

from majorprojects.accounts.scope import (
    can_change_projects,
    can_manage_listings,
    fillable_reports,
    get_project,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.core.errors import ConflictError
from majorprojects.reporting.models import Status as ReportStatus
from majorprojects.reporting.selectors import project_reports

from . import exports, selectors, services
from .filters import ProjectFilterSet, current_year
from .forms import AttachmentForm, ListingForm, MembershipForm, ProjectForm, TransitionForm
from .models import AnnualListing, Attachment, CampaignMembership, SavedFilter, Stage

PAGE_SIZE = 50
TABS = [
    ("basics", "基本信息"),
    ("listings", "年度清单"),
    ("campaigns", "专项活动"),
    ("approvals", "前期手续"),
    ("funds", "资金"),
    ("dispatch", "调度"),
    ("problems", "问题"),
    ("alerts", "预警"),
    ("attachments", "附件"),
    ("timeline", "变更记录"),
]
# Tabs other apps render: (context function "module.function(request, project) -> dict", template).
APP_TABS = {
    "approvals": ("majorprojects.approvals.views.project_tab_context", "approvals/project_tab.html"),
    "funds": ("majorprojects.funds.views.project_tab_context", "funds/project_tab.html"),
    "problems": ("majorprojects.problems.views.project_tab_context", "problems/project_tab.html"),
    "alerts": ("majorprojects.alerts.views.project_tab_context", "alerts/project_tab.html"),
}
DISPATCH_TAB_LIMIT = 120


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看项目数据。")


def _filtered(request: HttpRequest):
    filterset = ProjectFilterSet(request.GET or None, user=request.user)
    return filterset, filterset.filter(visible_projects(request.user))


def project_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    filterset, qs = _filtered(request)
    year = filterset.year_value
    rows, totals = selectors.list_totals(qs, year)
    paginator = Paginator(selectors.list_rows(qs, year), PAGE_SIZE)
    paginator.count = rows  # counted with the totals: the filters run once less
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "page": page,
        "year": year,
        "totals": totals,
        "can_create": can_change_projects(request.user),
        "query": request.GET.urlencode(),
    }
    template = "projects/_results.html" if request.headers.get("HX-Request") else "projects/list.html"
    return render(request, template, context)


def _list_query(request: HttpRequest) -> str:
    """The list's filters as a query string, without the page number."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    """Keep the current filters under a name (我的筛选); the same name overwrites."""
    _require_reader(request)
    name = request.POST.get("name", "").strip()[:50]
    query = request.POST.get("query", "")[:2000]
    if not name:
        messages.error(request, "请填写筛选名称。")
    else:
        SavedFilter.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
        messages.success(request, f"已保存筛选“{name}”。")
    return redirect(f"{reverse('projects:list')}?{query}" if query else reverse("projects:list"))


@require_POST
def saved_filter_delete(request: HttpRequest, filter_pk: int) -> HttpResponse:
    get_object_or_404(SavedFilter, pk=filter_pk, user=request.user).delete()
    return redirect("projects:list")


def project_export(request: HttpRequest) -> HttpResponse:
    """Export exactly what the list shows (same filters, same scope), all pages."""
    _require_reader(request)
    filterset, qs = _filtered(request)
    year = filterset.year_value
    content = exports.projects_xlsx(
        selectors.export_rows(qs, year),
        year=year,
        title=f"{year}年项目清单",
        totals=selectors.project_totals(qs, year),
    )
    name = f"项目清单_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _detail_context(request: HttpRequest, project, tab: str) -> dict:
    year = current_year()
    context = {
        "project": project,
        "tab": tab,
        "tabs": TABS,
        "can_change": _can_change(request.user, project),
        "can_manage_listings": can_manage_listings(request.user) and _can_change(request.user, project),
    }
    if tab in APP_TABS:
        function, template = APP_TABS[tab]
        context.update(import_string(function)(request, project))
        context["tab_template"] = template
        return context
    context["tab_template"] = f"projects/tabs/{tab}.html"
    if tab == "basics":
        context["funding"] = project.funding.all()
        context["tags"] = project.tags.all()
        if project.is_package:
            context["rollup"] = selectors.package_rollup(project, year, user=request.user)
            context["year"] = year
        context["transition_form"] = TransitionForm(initial={"stage": _next_stage(project.stage)})
    elif tab == "listings":
        context["listings"] = project.listings.all()
        context["listing_form"] = ListingForm(initial={"year": year})
    elif tab == "campaigns":
        context["memberships"] = project.memberships.select_related("campaign")
        context["membership_form"] = MembershipForm()
    elif tab == "attachments":
        context["attachments"] = project.attachments.select_related("uploaded_by")
        context["attachment_form"] = AttachmentForm()
    elif tab == "dispatch":
        context["reports"] = project_reports(project.pk)[:DISPATCH_TAB_LIMIT]
        context["open_slots"] = (
            fillable_reports(request.user)
            .filter(
                project=project,
                status=ReportStatus.PENDING,
                period__locked_at__isnull=True,
                period__starts_on__lte=timezone.localdate(),
            )
            .select_related("period")
            .order_by("period__due_on")
        )
        context["today"] = timezone.localdate()
    elif tab == "timeline":
        context["events"] = selectors.project_timeline(project)
    return context


def _next_stage(stage: str) -> str:
    order = [s.value for s in Stage]
    i = order.index(stage)
    return order[min(i + 1, len(order) - 1)]


def _can_change(user, project) -> bool:
    from majorprojects.accounts.scope import changeable_projects

    return changeable_projects(user).filter(pk=project.pk).exists()


def project_detail(request: HttpRequest, pk: int, tab: str = "basics") -> HttpResponse:
    _require_reader(request)
    project = get_project(request.user, pk)
    if tab not in dict(TABS):
        raise Http404("没有这个标签页")
    context = _detail_context(request, project, tab)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "tab-body":
        return render(request, context["tab_template"], context)
    return render(request, "projects/detail.html", context)


@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    if not can_change_projects(request.user):
        raise PermissionDenied("您的账号无权新增项目。")
    form = ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"项目“{project.name}”已登记。")
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    form = ProjectForm(request.POST or None, instance=project, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_update(
                actor=request.user,
                project=project,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except ConflictError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/form.html", {"form": form, "project": project})


@require_POST
def project_transition(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.project_transition(
                actor=request.user,
                project=project,
                stage=form.cleaned_data["stage"],
                on_date=form.cleaned_data["on_date"],
                note=form.cleaned_data["note"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, f"阶段已变更为“{Stage(form.cleaned_data['stage']).label}”。")
    else:
        messages.error(request, "请检查阶段和日期。")
    return redirect("projects:detail", pk=pk)


@require_POST
def listing_save(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    form = ListingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.listing_save(actor=request.user, project=project, **data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, f"{data['year']}年度清单已保存。")
    else:
        messages.error(
            request,
            "年度清单填写有误："
            + "；".join(
                f"{form.fields[f].label}：{e[0]}" for f, e in form.errors.items() if f in form.fields
            ),
        )
    return redirect("projects:tab", pk=pk, tab="listings")


@require_POST
def listing_delete(request: HttpRequest, pk: int, listing_pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    listing = get_object_or_404(AnnualListing, pk=listing_pk, project=project)
    try:
        services.listing_delete(actor=request.user, listing=listing)
    except PermissionDenied as exc:
        messages.error(request, _message(exc))
    return redirect("projects:tab", pk=pk, tab="listings")


@require_POST
def membership_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    form = MembershipForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set(actor=request.user, project=project, **form.cleaned_data)
        except PermissionDenied as exc:
            messages.error(request, _message(exc))
    return redirect("projects:tab", pk=pk, tab="campaigns")


@require_POST
def membership_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    membership = get_object_or_404(CampaignMembership, pk=membership_pk, project=project)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except PermissionDenied as exc:
        messages.error(request, _message(exc))
    return redirect("projects:tab", pk=pk, tab="campaigns")


@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            messages.error(request, "文件超过大小上限。")
        else:
            try:
                services.attachment_add(
                    actor=request.user,
                    project=project,
                    name=upload.name,
                    content=upload.read(),
                    kind=form.cleaned_data["kind"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as exc:
                messages.error(request, _message(exc))
            else:
                messages.success(request, f"附件“{upload.name}”已上传。")
    else:
        messages.error(request, "请选择附件类型和文件。")
    return redirect("projects:tab", pk=pk, tab="attachments")


def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Attachments live outside the web root; only accounts that may read the project get them."""
    _require_reader(request)
    project = get_project(request.user, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, project=project)
    inline = attachment.extension in (".pdf", ".jpg", ".jpeg", ".png") and request.GET.get("download") != "1"
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404("附件文件不存在")
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    return response


@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    project = get_project(request.user, pk, change=True)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, project=project)
    try:
        services.attachment_delete(actor=request.user, attachment=attachment)
    except PermissionDenied as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, "附件已删除。")
    return redirect("projects:tab", pk=pk, tab="attachments")


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or "无权执行此操作。"


def _attach_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            form.add_error(target, errors if target else [f"{field}：{e}" for e in errors])
    else:
        form.add_error(None, exc.messages)
