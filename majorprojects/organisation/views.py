"""Organisation pages: regions, units, people, work groups and categories. Everyone working
with project data reads them (they are the directory of who is responsible); the city admin edits."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from majorprojects.accounts.scope import can_configure, visible_projects_allowed

from . import services
from .forms import PersonForm, RegionForm, SectorForm, UnitForm, WorkGroupForm
from .models import Person, Region, Sector, Unit, UnitKind, WorkGroup

SECTIONS = {
    "regions": {
        "title": "行政区域",
        "model": Region,
        "form": RegionForm,
        "columns": [("code", "区划代码"), ("name", "名称"), ("get_kind_display", "类型"), ("parent", "上级")],
    },
    "units": {
        "title": "单位",
        "model": Unit,
        "form": UnitForm,
        "columns": [
            ("name", "单位名称"),
            ("get_kind_display", "类型"),
            ("region", "区域"),
            ("sector_names", "主管行业"),
        ],
    },
    "people": {
        "title": "人员与领导",
        "model": Person,
        "form": PersonForm,
        "columns": [
            ("name", "姓名"),
            ("position", "职务"),
            ("unit", "单位"),
            ("phone", "电话"),
            ("portfolio", "分管领域"),
        ],
    },
    "workgroups": {
        "title": "工作专班",
        "model": WorkGroup,
        "form": WorkGroupForm,
        "columns": [
            ("name", "专班名称"),
            ("get_kind_display", "类型"),
            ("lead_unit", "牵头单位"),
            ("member_names", "成员单位"),
            ("leader", "分管领导"),
        ],
    },
    "sectors": {
        "title": "项目类别与行业",
        "model": Sector,
        "form": SectorForm,
        "columns": [("code", "代码"), ("name", "名称"), ("parent", "上级类别")],
    },
}


def _queryset(section: str, request: HttpRequest):
    q = request.GET.get("q", "").strip()
    if section == "regions":
        qs = Region.objects.select_related("parent").order_by("path")
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    elif section == "units":
        qs = Unit.objects.select_related("region").prefetch_related("sectors")
        kind = request.GET.get("kind", "")
        if kind:
            qs = qs.filter(kind=kind)
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(credit_code=q))
    elif section == "people":
        qs = Person.objects.select_related("unit")
        if request.GET.get("leaders"):
            qs = qs.filter(is_leader=True)
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(unit__name__icontains=q) | Q(position__icontains=q))
    elif section == "workgroups":
        qs = WorkGroup.objects.select_related("lead_unit", "leader").prefetch_related("member_units")
        if q:
            qs = qs.filter(name__icontains=q)
    else:
        qs = Sector.objects.select_related("parent")
        if q:
            qs = qs.filter(name__icontains=q)
    return qs


def _cell(obj, attr: str):
    if attr == "sector_names":
        return "、".join(s.name for s in obj.sectors.all())
    if attr == "member_names":
        return "、".join(u.short_name or u.name for u in obj.member_units.all())
    value = getattr(obj, attr)
    return value() if callable(value) else (value if value not in (None, "") else "—")


def directory(request: HttpRequest, section: str = "regions") -> HttpResponse:
    if not visible_projects_allowed(request.user) or section not in SECTIONS:
        raise PermissionDenied("无权查看组织机构。")
    config = SECTIONS[section]
    page = Paginator(_queryset(section, request), 100).get_page(request.GET.get("page"))
    rows = [{"pk": obj.pk, "cells": [_cell(obj, attr) for attr, _ in config["columns"]]} for obj in page]
    return render(
        request,
        "organisation/directory.html",
        {
            "section": section,
            "sections": [(k, v["title"]) for k, v in SECTIONS.items()],
            "config": config,
            "rows": rows,
            "page": page,
            "q": request.GET.get("q", ""),
            "can_edit": can_configure(request.user),
            "unit_kinds": UnitKind.choices,
        },
    )


def edit(request: HttpRequest, section: str, pk: int | None = None) -> HttpResponse:
    if not can_configure(request.user) or section not in SECTIONS:
        raise PermissionDenied("仅市级管理员可维护组织机构。")
    config = SECTIONS[section]
    instance = get_object_or_404(config["model"], pk=pk) if pk else None
    form = config["form"](request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        obj = services.organisation_save(actor=request.user, form=form)
        messages.success(request, f"{config['title']}“{obj}”已保存。")
        return redirect("organisation:directory", section=section)
    return render(
        request,
        "organisation/edit.html",
        {"form": form, "config": config, "section": section, "instance": instance},
    )
