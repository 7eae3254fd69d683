"""Upload → preview → commit of project ledgers (Excel). Parsing lives in projects.importing."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from majorprojects.accounts.scope import can_change_projects


def upload(request: HttpRequest) -> HttpResponse:
    if not can_change_projects(request.user):
        raise PermissionDenied("您的账号无权导入项目。")
    return render(request, "projects/import_upload.html", {})


def template_download(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("导入模板尚未提供。")


def preview(request: HttpRequest, batch_pk: int) -> HttpResponse:
    raise PermissionDenied("导入预览尚未提供。")
