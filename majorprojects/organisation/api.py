"""Directory endpoints (regions, units, sectors, people, work groups) and the caller's account.

The directory is read by every account that works with project data — the same rule as the
directory pages; the security/audit administrator gets 403 (separation of duties)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_change_projects,
    can_configure,
    can_manage_listings,
    visible_projects,
    visible_projects_allowed,
)

from .models import Person, Region, Sector, Unit, UnitKind, WorkGroup
from .schemas import (
    ERRORS,
    MeOut,
    PersonPage,
    RegionOut,
    SectorOut,
    UnitPage,
    WorkGroupOut,
)

router = Router(tags=["组织机构"])

MAX_LIMIT = 500


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.auth):
        raise PermissionDenied("您的账号不查看组织机构和项目数据。")


def _page(qs, limit: int, offset: int) -> dict:
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get("/regions", response={200: list[RegionOut], **ERRORS}, summary="行政区域（树形，按路径排序）")
def region_list(request: HttpRequest):
    """Every region as a flat list ordered by path, so a client builds the tree from `parent_id`."""
    _require_reader(request)
    return Region.objects.order_by("path")


@router.get("/sectors", response={200: list[SectorOut], **ERRORS}, summary="项目类别与行业")
def sector_list(request: HttpRequest):
    _require_reader(request)
    return Sector.objects.order_by("sort_order", "code")


@router.get("/units", response={200: UnitPage, **ERRORS}, summary="单位（分页）")
def unit_list(
    request: HttpRequest,
    kind: UnitKind | None = None,
    region: int | None = Query(None, description="区域 id，含其下辖区域"),
    q: str = Query("", max_length=100, description="按名称、简称或统一社会信用代码搜索"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    _require_reader(request)
    qs = Unit.objects.prefetch_related("sectors").order_by("kind", "name", "id")
    if kind:
        qs = qs.filter(kind=kind)
    if region is not None:
        path = Region.objects.filter(pk=region).values_list("path", flat=True).first()
        qs = qs.filter(region__path__startswith=path) if path else qs.none()
    if q.strip():
        text = q.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(short_name__icontains=text) | Q(credit_code=text))
    return _page(qs, limit, offset)


@router.get("/people", response={200: PersonPage, **ERRORS}, summary="人员与领导（分页）")
def person_list(
    request: HttpRequest,
    leaders: bool = Query(False, description="只列市/县领导（包联领导可选项）"),
    unit: int | None = Query(None, description="单位 id"),
    q: str = Query("", max_length=100, description="按姓名、职务或单位名称搜索"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    _require_reader(request)
    qs = Person.objects.order_by("sort_order", "name", "id")
    if leaders:
        qs = qs.filter(is_leader=True)
    if unit is not None:
        qs = qs.filter(unit_id=unit)
    if q.strip():
        text = q.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(position__icontains=text) | Q(unit__name__icontains=text))
    return _page(qs, limit, offset)


@router.get("/work-groups", response={200: list[WorkGroupOut], **ERRORS}, summary="工作专班")
def work_group_list(request: HttpRequest):
    _require_reader(request)
    return WorkGroup.objects.prefetch_related("member_units").order_by("sort_order", "name")


def _scope_description(user) -> str:
    if user.role == Role.CITY_ADMIN:
        return "全部项目（可修改）"
    if user.role == Role.LEADER:
        return "全部项目（只读）"
    if user.role == Role.COUNTY:
        return f"{user.region.name}及其下辖区域的项目" if user.region_id else "未设置管辖区域，无项目"
    if user.role == Role.DEPARTMENT:
        if not user.unit_id:
            return "未设置所属单位，无项目"
        sectors = "、".join(s.name for s in user.unit.sectors.all()) or "无"
        return f"{user.unit.name}负责的项目，及其主管类别/行业（{sectors}）的项目"
    if user.role == Role.PROJECT_UNIT:
        return f"{user.unit.name}的项目（含其打包项目的子项目）" if user.unit_id else "未设置所属单位，无项目"
    return "不查看项目数据（管理账号、查阅审计日志）"


@router.get("/me", response={200: MeOut, 401: ERRORS[401]}, tags=["账号"], summary="当前账号及数据范围")
def me(request: HttpRequest):
    user = request.auth
    reads = visible_projects_allowed(user)
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "role_label": user.get_role_display(),
        "unit": user.unit,
        "region": user.region,
        "authenticated_by": getattr(request, "auth_method", "session"),
        "scope": {
            "reads_projects": reads,
            "changes_projects": can_change_projects(user),
            "manages_listings": can_manage_listings(user),
            "configures_organisation": can_configure(user),
            "description": _scope_description(user),
            "visible_projects": visible_projects(user).count() if reads else 0,
        },
    }
