"""Upload → preview (fix the column mapping, re-validate) → confirm or discard, and the template.
Reading, validating and writing live in projects.importing; a batch is visible to its uploader only."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from majorprojects.accounts.scope import can_change_projects

from .filters import current_year
from .importing import batches
from .importing.fields import FIELDS
from .importing.forms import ImportMappingForm, ProjectImportForm
from .importing.reader import ImportFileError, size_text
from .importing.template import template_xlsx
from .models import ImportBatch

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_importer(request: HttpRequest) -> None:
    if not can_change_projects(request.user):
        raise PermissionDenied("您的账号无权导入项目。")


def _own_batches(request: HttpRequest):
    return ImportBatch.objects.filter(uploaded_by=request.user)


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    form = ProjectImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        if file.size > settings.IMPORT_MAX_BYTES:
            form.add_error("file", f"文件超过 {size_text(settings.IMPORT_MAX_BYTES)} 的上限，请拆分后导入。")
        else:
            try:
                batch = batches.batch_create(
                    actor=request.user,
                    name=file.name,
                    content=file.read(),
                    year=form.cleaned_data["year"],
                    sheet=form.cleaned_data["sheet"].strip(),
                )
            except ImportFileError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("projects:import_preview", batch_pk=batch.pk)
    context = {
        "form": form,
        "recent": _own_batches(request)[:10],
        "fields": FIELDS,
        "max_size": size_text(settings.IMPORT_MAX_BYTES),
        "year": current_year(),
    }
    return render(request, "projects/import_upload.html", context)


@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    try:
        year = int(request.GET.get("year") or current_year())
    except ValueError:
        year = current_year()
    if not 2000 <= year <= 2100:
        year = current_year()
    response = HttpResponse(template_xlsx(actor=request.user, year=year), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"项目台账导入模板_{year}.xlsx")
    return response


@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest, batch_pk: int) -> HttpResponse:
    _require_importer(request)
    batch = get_object_or_404(_own_batches(request), pk=batch_pk)
    form = None
    if request.method == "POST":
        action = request.POST.get("action", "remap")
        try:
            if action == "discard":
                batches.batch_discard(actor=request.user, batch=batch)
                messages.info(request, f"已放弃导入“{batch.original_name}”，未写入任何数据。")
                return redirect("projects:import")
            if action == "confirm":
                done, result = batches.batch_confirm(actor=request.user, batch=batch)
                if done:
                    applied = result["applied"]
                    messages.success(
                        request,
                        f"已导入：新建 {applied['create']} 个，更新 {applied['update']} 个，"
                        f"无变化 {applied['unchanged']} 个。",
                    )
                    return redirect("projects:list")
                messages.error(request, "文件中仍有错误，未写入任何数据。请修改后重新上传。")
            else:
                form = ImportMappingForm(request.POST, batch=batch)
                if form.is_valid():
                    batches.batch_remap(
                        actor=request.user,
                        batch=batch,
                        sheet=form.cleaned_data["sheet"],
                        columns=form.mapping(),
                        year=form.cleaned_data["year"],
                    )
                    form = None
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        batch.refresh_from_db()
    context = {
        "batch": batch,
        "result": batch.result,
        "form": form or ImportMappingForm(batch=batch),
        "editable": batch.status == ImportBatch.Status.PREVIEW,
    }
    if request.headers.get("HX-Request"):
        return render(request, "projects/_import_preview_body.html", {**context, "htmx": True})
    return render(request, "projects/import_preview.html", context)
