"""Approvals ledger pages (前期工作台账): the city-wide matrix, the item list with its Excel export
and import, the overdue page, readiness lists, one project's ledger (also the project file's
前期手续 tab) with item editing. The city admin's templates are in template_views.py. Access from
accounts.scope, figures from approvals.selectors, every change through approvals.services."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from majorprojects.accounts.scope import (
    can_configure,
    changeable_projects,
    get_project,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.core.errors import ConflictError
from majorprojects.projects.importing.reader import size_text
from majorprojects.projects.models import FundingSource

from . import excel, selectors, services
from .forms import (
    NO_UNIT,
    AttachmentForm,
    ItemFilterForm,
    ItemForm,
    LedgerFilterForm,
    LedgerImportForm,
    ReadinessFilterForm,
)
from .models import ApprovalItem, ItemStatus, ReadinessTarget

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FLAG_KINDS = list(selectors.FLAG_LABELS)


# --- helpers -------------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看项目数据。")


def _require_admin(request: HttpRequest) -> None:
    _require_reader(request)
    if not can_configure(request.user):
        raise PermissionDenied("审批事项和模板由市级管理员维护。")


def _htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for name in ("page", *drop):
        params.pop(name, None)
    return params.urlencode()


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or "无权执行此操作。"


def _attach_errors(form, exc: ValidationError) -> None:
    """A service's {field: message} errors under the form's fields, the rest at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _item(request: HttpRequest, item_pk: int, *, change: bool) -> ApprovalItem:
    """The item: 404 outside the user's scope, 403 for a change the user may not make."""
    _require_reader(request)
    item = (
        ApprovalItem.objects.filter(pk=item_pk, project__in=visible_projects(request.user))
        .select_related(
            "project__region", "project__owner_unit", "item_type", "responsible_unit", "attachment"
        )
        .first()
    )
    if item is None:
        raise Http404("事项不存在或无权访问")
    if change and not services.may_change_ledger(request.user, item.project):
        raise PermissionDenied("您的账号无权修改该项目的前期工作台账。")
    return item


def _back(request: HttpRequest, default: str) -> str:
    """Where to return after a change: the page the user came from (`next`, or the page an HTMX
    request was made from), when it is on this site; otherwise `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not target and request.headers.get("HX-Current-URL"):
        parts = urlsplit(request.headers["HX-Current-URL"])
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        return target
    return default


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- city-wide ledger ----------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    """The city-wide ledger: items by item type, responsible unit or region × status, with the
    overdue count; every number links to the item list filtered the same way."""
    _require_reader(request)
    form = LedgerFilterForm(request.GET or None, user=request.user)
    by = request.GET.get("by")
    by = by if by in selectors.MATRIX_DIMENSIONS else "item_type"
    matrix = selectors.ledger_matrix(request.user, by=by, **form.selector_kwargs())
    # Links into the item list: the page's filters plus the row's own key (a region row is that
    # region alone, as the matrix counts it, not its subtree).
    base = _query(request, "by", *(["region"] if by == "region" else []))
    for row in matrix["rows"]:
        if by == "item_type":
            row["param"] = f"item_type={row['key']}"
        elif by == "unit":
            row["param"] = f"unit={row['key'] if row['key'] is not None else NO_UNIT}"
        else:
            row["param"] = f"region={row['key']}&exact=on"
        row["cells"] = [{"status": s, "n": row["counts"][s]} for s in ItemStatus.values]
    context = {
        "form": form,
        "matrix": matrix,
        "by": by,
        "dimensions": selectors.MATRIX_DIMENSIONS,
        "base": base,
        "query": _query(request),
        "total_cells": [{"status": s, "n": matrix["totals"]["counts"][s]} for s in ItemStatus.values],
    }
    template = "approvals/_matrix.html" if _htmx(request) else "approvals/index.html"
    return render(request, template, context)


def _filtered_rows(request: HttpRequest, form: ItemFilterForm, *, project=None):
    """The list's rows: a page of items with their flags, or every flagged item when the flag
    filter is on (flags are computed, not stored)."""
    qs = form.items(request.user, project=project)
    if form.flag_kind:
        page = _page(request, selectors.flagged_rows(qs, kind=form.flag_kind))
        return page, list(page.object_list)
    page = _page(request, qs)
    return page, selectors.with_flags(page.object_list)


def item_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = ItemFilterForm(request.GET or None, user=request.user)
    page, rows = _filtered_rows(request, form)
    query = _query(request)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "can_import": changeable_projects(request.user).exists(),
        "export_url": reverse("approvals:export") + (f"?{query}" if query else ""),
    }
    template = "approvals/_items.html" if _htmx(request) else "approvals/items.html"
    return render(request, template, context)


@require_GET
def item_export(request: HttpRequest) -> HttpResponse:
    """Export what the list shows (same filters, same scope, every page), or one project's ledger
    (`project=<id>`)."""
    _require_reader(request)
    form = ItemFilterForm(request.GET or None, user=request.user)
    project = None
    if request.GET.get("project"):
        project = get_project(request.user, request.GET["project"])
    qs = form.items(request.user, project=project)
    rows = selectors.flagged_rows(qs, kind=form.flag_kind) if form.flag_kind else selectors.with_flags(qs)
    title = f"{project.name} 前期工作台账" if project else "前期工作台账"
    content = excel.ledger_xlsx(rows, title=title)
    return _xlsx(content, f"前期工作台账_{timezone.localtime():%Y%m%d_%H%M}.xlsx")


@require_http_methods(["GET", "POST"])
def ledger_import(request: HttpRequest) -> HttpResponse:
    """Upload the edited export: every row checked first, nothing written when any row is wrong
    (the errors are listed by row and column)."""
    _require_reader(request)
    if not changeable_projects(request.user).exists():
        raise PermissionDenied("您的账号无权修改前期工作台账。")
    posted = request.method == "POST"
    form = LedgerImportForm(request.POST if posted else None, request.FILES if posted else None)
    errors: list[str] = []
    if posted and form.is_valid():
        file = form.cleaned_data["file"]
        if file.size > settings.IMPORT_MAX_BYTES:
            form.add_error("file", f"文件超过 {size_text(settings.IMPORT_MAX_BYTES)} 的上限，请拆分后导入。")
        else:
            try:
                result = services.ledger_import(actor=request.user, name=file.name, content=file.read())
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    f"“{file.name}”已导入：更新 {result.updated} 个事项，未改动 {result.unchanged} 个。",
                )
                return redirect("approvals:items")
    context = {"form": form, "errors": errors, "max_size": size_text(settings.IMPORT_MAX_BYTES)}
    return render(request, "approvals/import.html", context)


def overdue(request: HttpRequest) -> HttpResponse:
    """Items needing attention, one tab per flag kind."""
    _require_reader(request)
    form = LedgerFilterForm(request.GET or None, user=request.user)
    kind = request.GET.get("kind")
    kind = kind if kind in selectors.FLAG_LABELS else FLAG_KINDS[0]
    rows = selectors.overdue_items(request.user, **form.selector_kwargs())
    tabs = [
        {"kind": k, "label": label, "count": sum(1 for r in rows if r["flags"][k])}
        for k, label in selectors.FLAG_LABELS.items()
    ]
    page = _page(request, [r for r in rows if r["flags"][kind]])
    context = {
        "form": form,
        "kind": kind,
        "tabs": tabs,
        "page": page,
        "rows": page.object_list,
        "base": _query(request, "kind"),
        "export_url": reverse("approvals:export") + "?" + _query(request, "kind") + f"&flag={kind}",
    }
    template = "approvals/_overdue.html" if _htmx(request) else "approvals/overdue.html"
    return render(request, template, context)


def readiness(request: HttpRequest) -> HttpResponse:
    """ "Ready to start" (the start rules) or "ready for funding" for one programme, each project
    with what it still lacks."""
    _require_reader(request)
    form = ReadinessFilterForm(request.GET or None, user=request.user)
    programme = form.values.get("programme") or ""
    filters = form.selector_kwargs()
    if programme:
        rows = selectors.ready_for_funding(request.user, programme, **filters)
        rules = [r for r in selectors.readiness_rules(ReadinessTarget.FUNDING) if programme in r.programmes]
        title = f"具备{FundingSource(programme).label}申报条件"
    else:
        rows = selectors.ready_to_start(request.user, **filters)
        rules = selectors.readiness_rules(ReadinessTarget.START)
        title = "具备开工条件"
    ready_count = sum(1 for r in rows if r["ready"])
    shown = rows if form.ready_value is None else [r for r in rows if r["ready"] == form.ready_value]
    page = _page(request, shown)
    context = {
        "form": form,
        "programme": programme,
        "programmes": FundingSource.choices,
        "title": title,
        "rules": rules,
        "counts": {"all": len(rows), "ready": ready_count, "not_ready": len(rows) - ready_count},
        "page": page,
        "rows": page.object_list,
        "base": _query(request, "programme", "ready"),
    }
    template = "approvals/_readiness.html" if _htmx(request) else "approvals/readiness.html"
    return render(request, template, context)


# --- one project ---------------------------------------------------------------------------------


def _slip(row: dict) -> dict | None:
    """Planned vs actual for the timeline: late or early by how many days."""
    days = row["slip_days"]
    if days is None:
        return None
    item = row["item"]
    if item.actual_date:
        if days > 0:
            return {"text": f"晚于计划 {days} 天", "tone": "danger"}
        return {"text": f"早于计划 {-days} 天" if days else "按计划办结", "tone": "success"}
    if days > 0:
        return {"text": f"超过计划 {days} 天", "tone": "danger"}
    return {"text": f"距计划还有 {-days} 天" if days else "今天到期", "tone": "secondary"}


def project_tab_context(request: HttpRequest, project) -> dict:
    """The context of approvals/project_tab.html (the project file's 前期手续 tab and the ledger
    page): ledger rows with flags and slip, summary, readiness, and what the user may do.
    `project` must come from accounts.scope.get_project."""
    ledger = selectors.project_ledger(project)
    for row in ledger["rows"]:
        row["slip"] = _slip(row)
    can_change = services.may_change_ledger(request.user, project)
    summary = ledger["summary"]
    counted = summary["applicable"]
    return {
        "project": project,
        "ledger": ledger,
        "ledger_summary": summary,
        "ledger_done_pct": round(100 * summary["done"] / counted) if counted else 0,
        "ledger_readiness": selectors.project_readiness(project),
        "ledger_can_change": can_change,
        "ledger_can_apply": can_change and ledger["has_template"] and not ledger["rows"],
        "ledger_statuses": ItemStatus,
    }


def project_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    project = get_project(request.user, pk)
    context = project_tab_context(request, project)
    if _htmx(request) and request.headers.get("HX-Target") == "ledger":
        return render(request, "approvals/_ledger.html", context)
    return render(request, "approvals/project.html", context)


@require_POST
def apply_templates(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    project = get_project(request.user, pk)
    created = services.ledger_apply_templates(project, request.user)
    if created:
        messages.success(
            request, f"已按“{project.get_approval_regime_display()}”模板建立台账，共 {len(created)} 个事项。"
        )
    else:
        messages.info(request, "台账已包含该审批类型模板中的全部事项。")
    return redirect(_back(request, reverse("approvals:project", args=[pk])))


def _differences(form: ItemForm, current: ApprovalItem) -> list[dict]:
    """What another person saved that differs from what this user typed (shown on a conflict)."""
    typed = form.service_fields()
    rows = []
    for name, value in typed.items():
        saved = getattr(current, name)
        if (saved or None) != (value or None):
            label = form.fields[name].label
            if name == "status":
                shown = current.get_status_display()
            elif hasattr(saved, "strftime"):
                shown = saved.strftime("%Y-%m-%d")
            else:
                shown = str(saved) if saved else "空"
            rows.append({"label": label, "value": shown})
    return rows


def _render_item_form(request, item, form, *, theirs=None, status=200) -> HttpResponse:
    context = {
        "item": item,
        "project": item.project,
        "form": form,
        "theirs": theirs,
        "attachment_form": AttachmentForm(initial={"version": item.version}),
        "next": _back(request, reverse("approvals:project", args=[item.project_id])),
        "inline": _htmx(request),
    }
    if _htmx(request):
        response = render(request, "approvals/_item_form.html", context, status=status)
        response["HX-Retarget"] = f"#edit-{item.pk}"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "approvals/item.html", context, status=status)


@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, item_pk: int) -> HttpResponse:
    """Edit one item: inline in the ledger (HTMX: the ledger is redrawn on success) or as a page."""
    item = _item(request, item_pk, change=True)
    form = ItemForm(request.POST if request.method == "POST" else None, item=item)
    if request.method == "GET" or not form.is_valid():
        return _render_item_form(request, item, form)
    try:
        services.item_update(
            actor=request.user,
            item=item,
            fields=form.service_fields(),
            expected_version=form.cleaned_data["version"],
        )
    except ConflictError as exc:
        current = _item(request, item_pk, change=False)
        form.add_error(
            None,
            f"{exc.message}下方列出了对方保存的与您填写不同的内容；您填写的内容仍在表单中，"
            "核对后再次保存将以您填写的为准。",
        )
        form.renew(current.version)
        return _render_item_form(request, current, form, theirs=_differences(form, current))
    except ValidationError as exc:
        _attach_errors(form, exc)
        return _render_item_form(request, item, form)
    saved = f"已保存“{item.item_type.name}”。"
    if form.cleaned_data.get("promise_workdays"):
        saved = (
            f"已保存“{item.item_type.name}”：承诺补齐期限按 {form.cleaned_data['promise_workdays']} 个"
            f"工作日计算为 {form.cleaned_data['promise_due_date']:%Y-%m-%d}。"
        )
    if _htmx(request):
        context = project_tab_context(request, item.project)
        context["ledger_saved"] = saved
        return render(request, "approvals/_ledger.html", context)
    messages.success(request, saved)
    return redirect(_back(request, reverse("approvals:project", args=[item.project_id])))


@require_POST
def item_attach(request: HttpRequest, item_pk: int) -> HttpResponse:
    """Upload the approval document (stored as the project's 审批文件 attachment)."""
    item = _item(request, item_pk, change=True)
    back = _back(request, reverse("approvals:project", args=[item.project_id]))
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的批复文件。")
        return redirect(back)
    upload = form.cleaned_data["file"]
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        messages.error(request, f"文件超过 {size_text(settings.ATTACHMENT_MAX_BYTES)} 的上限。")
        return redirect(back)
    try:
        services.item_attach(
            actor=request.user,
            item=item,
            name=upload.name,
            content=upload.read(),
            expected_version=form.cleaned_data["version"],
        )
    except (ValidationError, ConflictError) as exc:
        messages.error(request, exc.message if isinstance(exc, ConflictError) else _message(exc))
    else:
        messages.success(request, f"“{item.item_type.name}”的批复文件“{upload.name}”已上传。")
    return redirect(back)
