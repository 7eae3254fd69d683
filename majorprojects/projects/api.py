"""Project library endpoints. Reads go through accounts.scope and projects.selectors, the list
through the list page's ProjectFilterSet, and changes through projects.services after the same
forms the pages use have checked the input — so the API accepts, refuses and shows exactly what
the pages do.

Scope: a project outside the caller's scope is 404 (its existence is not revealed); a project
the caller may read but not change (the leader) is 403; the auditor gets 403 everywhere here."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from ninja import Path, Query, Router

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_change_projects,
    can_manage_listings,
    get_project,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.organisation.schemas import ERRORS, ErrorOut

from . import selectors, services
from .filters import ProjectFilterSet, current_year
from .forms import ListingForm, ProjectForm
from .models import FundingSource, Project
from .schemas import (
    ListingIn,
    ListingOut,
    ProjectDetail,
    ProjectFilters,
    ProjectIn,
    ProjectPage,
    ProjectPatch,
    TransitionIn,
)

router = Router(tags=["项目库"])

MAX_LIMIT = 500
# Foreign keys are `<name>_id` in the API and `<name>` in the forms and services.
FK_FIELDS = services.PROJECT_FK_FIELDS


# --- Access ---------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看项目数据。")


def _changeable(request: HttpRequest, project_id: int) -> Project:
    """The project for a change: 404 outside the caller's scope, 403 if the caller may only read."""
    _require_reader(request)
    get_project(request.auth, project_id)  # 404 first: a reader outside scope learns nothing
    if not can_change_projects(request.auth):
        raise PermissionDenied("您的账号无权修改项目。")
    return get_project(request.auth, project_id, change=True)


# --- Input: API names ↔ form and service names ----------------------------------------------


def _api_name(name: str) -> str:
    if name.startswith("fund_"):
        return f"funding.{name.removeprefix('fund_')}"
    return f"{name}_id" if name in FK_FIELDS else name


@contextmanager
def _api_names():
    """Re-raise a service's or form's ValidationError under the API's field names."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError({_api_name(k): v for k, v in exc.error_dict.items()}) from exc


def _form_data(given: dict) -> dict:
    """A request body (only the fields the client sent) as ProjectForm data."""
    data = {}
    for key, value in given.items():
        if key == "tags":
            continue  # a list, passed to the service as it is
        if key == "funding":
            amounts = {FundingSource(source).value: amount for source, amount in (value or {}).items()}
            for source in FundingSource.values:
                data[f"fund_{source}"] = amounts.get(source)
        elif key.removesuffix("_id") in FK_FIELDS:
            data[key.removesuffix("_id")] = value
        else:
            data[key] = value
    return data


def _current_data(project: Project) -> dict:
    """The project's values as ProjectForm data: what a partial update starts from, and for a new
    project the model's defaults (approval regime, flags) that the page's form starts with."""
    data = {
        name: getattr(project, f"{name}_id" if name in FK_FIELDS else name)
        for name in services.PROJECT_FIELDS
    }
    if project.pk:
        for funding in project.funding.all():
            data[f"fund_{funding.source}"] = funding.amount
    return data


def _service_kwargs(form: ProjectForm, given: dict, *, partial: bool) -> dict:
    with _api_names():
        if not form.is_valid():
            raise DjangoValidationError(form.errors.as_data())
    kwargs = form.service_kwargs()
    fields = kwargs["fields"]
    if partial:
        fields = {name: value for name, value in fields.items() if _api_name(name) in given}
    return {
        "fields": fields,
        "tags": (given["tags"] or []) if "tags" in given else None,
        "fundings": kwargs["fundings"] if "funding" in given else None,
    }


# --- Output ---------------------------------------------------------------------------------


def _detail(project_id: int, user) -> Project:
    """The project with everything ProjectDetail shows (called after the scope check);
    `year_listing` is this year's."""
    year = current_year()
    project = (
        selectors.with_year(Project.objects.filter(pk=project_id), year)
        .select_related(
            "region",
            "owner_unit",
            "sector",
            "industry",
            "responsible_department",
            "package_leader",
            "work_group",
            "parent",
        )
        .prefetch_related("tags", "funding", "listings", "memberships__campaign")
        .get()
    )
    if project.is_package:
        project.rollup = {"year": year, **selectors.package_rollup(project, year, user=user)}
    return project


# --- Endpoints ------------------------------------------------------------------------------


@router.get("", response={200: ProjectPage, **ERRORS}, summary="项目列表（与网页项目库相同的筛选）")
def project_list(
    request: HttpRequest,
    filters: Query[ProjectFilters],
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """The list page's filters are read by the list page's own filter form (ProjectFilterSet),
    so the same query string gives the same projects, order and totals. Unlike the page, an
    invalid filter value is refused (422) instead of being ignored."""
    _require_reader(request)
    user = request.auth
    filterset = ProjectFilterSet(request.GET or None, user=user)
    if filterset.is_bound and not filterset.is_valid():
        raise DjangoValidationError(filterset.errors.as_data())
    qs = filterset.filter(visible_projects(user))
    year = filterset.year_value
    rows = selectors.list_rows(qs, year).prefetch_related("tags")
    return {
        "year": year,
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "totals": selectors.project_totals(qs, year),
        "items": list(rows[offset : offset + limit]),
    }


@router.get("/{int:project_id}", response={200: ProjectDetail, **ERRORS}, summary="项目详情（一项一档）")
def project_detail(request: HttpRequest, project_id: int):
    _require_reader(request)
    project = get_project(request.auth, project_id)
    return _detail(project.pk, request.auth)


@router.post("", response={201: ProjectDetail, **ERRORS}, summary="新增项目")
def project_create(request: HttpRequest, payload: ProjectIn):
    _require_reader(request)
    user = request.auth
    if not can_change_projects(user):
        raise PermissionDenied("您的账号无权新增项目。")
    given = payload.model_dump(exclude_unset=True)
    data = {**_current_data(Project()), **_form_data(given)}
    if user.role == Role.PROJECT_UNIT and not data.get("owner_unit"):
        data["owner_unit"] = user.unit_id
    kwargs = _service_kwargs(ProjectForm(data, user=user), given, partial=False)
    with _api_names():
        project = services.project_create(actor=user, **kwargs)
    return 201, _detail(project.pk, request.auth)


@router.patch(
    "/{int:project_id}",
    response={200: ProjectDetail, 409: ErrorOut, **ERRORS},
    summary="修改项目（部分字段，须带 version）",
)
def project_update(request: HttpRequest, project_id: int, payload: ProjectPatch):
    """Only the fields sent change. `version` is the one read with the project: if someone saved
    the project since, nothing changes and the answer is 409."""
    project = _changeable(request, project_id)
    given = payload.model_dump(exclude_unset=True)
    data = {**_current_data(project), **_form_data(given)}
    kwargs = _service_kwargs(ProjectForm(data, instance=project, user=request.auth), given, partial=True)
    with _api_names():
        services.project_update(
            actor=request.auth, project=project, expected_version=payload.version, **kwargs
        )
    return _detail(project.pk, request.auth)


@router.post("/{int:project_id}/transitions", response={200: ProjectDetail, **ERRORS}, summary="阶段变更")
def project_transition(request: HttpRequest, project_id: int, payload: TransitionIn):
    """Move the project along its lifecycle (开工 and 竣工 need the actual date). Going back is a
    correction only the city admin makes, with a reason in `note`."""
    project = _changeable(request, project_id)
    with _api_names():
        services.project_transition(
            actor=request.auth,
            project=project,
            stage=payload.stage.value,
            on_date=payload.on_date,
            note=payload.note,
        )
    return _detail(project.pk, request.auth)


@router.put(
    "/{int:project_id}/listings/{year}",
    response={200: ListingOut, **ERRORS},
    summary="设置项目某年度的清单（储备/年度建设、重点级别、年度计划）",
)
def listing_put(
    request: HttpRequest,
    project_id: int,
    payload: ListingIn,
    year: int = Path(..., ge=2000, le=2100),
):
    """Creates the year's listing or replaces it. Annual lists are government decisions: the
    project unit gets 403."""
    project = _changeable(request, project_id)
    if not can_manage_listings(request.auth):
        raise PermissionDenied("年度清单由县市区、行业部门或市级管理员维护。")
    data = {**payload.model_dump(), "year": year}
    form = ListingForm(data)
    with _api_names():
        if not form.is_valid():
            raise DjangoValidationError(form.errors.as_data())
        return services.listing_save(actor=request.auth, project=project, **form.cleaned_data)
