"""The one place that decides what an account may see and change.

Every list, detail page, API endpoint, export and search filters through these functions.
Rules (SPEC C1):
- city admin: everything; may change everything.
- leader: reads everything; changes nothing (cockpit).
- county: projects whose region is in its region subtree; may change them.
- department: projects it is responsible for, or whose category/industry it governs; may change them.
  A cross-cutting department (统计局, 财政局 …, `Unit.reads_all_projects`) also reads every project.
- project unit: projects it owns (and sub-projects of packages it owns); may change them.
- auditor (security/audit admin): no project data; manages accounts and reads the audit trail
  (separation of duties).
Later apps scope their rows through the project they belong to: `project_q(user, "project__")`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Role

NOTHING = Q(pk__in=[])


def _prefixed(prefix: str, **lookups) -> Q:
    return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})


def project_q(user, prefix: str = "", *, change: bool = False) -> Q:
    """A Q over Project (or over a model reaching Project via `prefix`) for what `user` may read
    (or, with change=True, change)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    role = user.role
    if role == Role.CITY_ADMIN or (role == Role.LEADER and not change):
        return Q()
    if role == Role.LEADER:
        return NOTHING
    if role == Role.DEPARTMENT and not change and user.unit_id and user.unit.reads_all_projects:
        return Q()
    if role == Role.COUNTY:
        if not user.region_id:
            return NOTHING
        return _prefixed(prefix, region__path__startswith=user.region.path)
    if role == Role.DEPARTMENT:
        if not user.unit_id:
            return NOTHING
        sector_ids = list(user.unit.sectors.values_list("id", flat=True))
        return (
            _prefixed(prefix, responsible_department_id=user.unit_id)
            | _prefixed(prefix, sector_id__in=sector_ids)
            | _prefixed(prefix, industry_id__in=sector_ids)
        )
    if role == Role.PROJECT_UNIT:
        if not user.unit_id:
            return NOTHING
        return _prefixed(prefix, owner_unit_id=user.unit_id) | _prefixed(
            prefix, parent__owner_unit_id=user.unit_id
        )
    return NOTHING


def visible_projects_allowed(user) -> bool:
    """Whether the account works with project data at all (the auditor does not)."""
    return getattr(user, "is_authenticated", False) and user.is_active and user.role != Role.AUDITOR


def can_change_projects(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in (
        Role.CITY_ADMIN,
        Role.COUNTY,
        Role.DEPARTMENT,
        Role.PROJECT_UNIT,
    )


def visible_projects(user) -> QuerySet:
    from majorprojects.projects.models import Project

    return Project.objects.filter(project_q(user))


def changeable_projects(user) -> QuerySet:
    from majorprojects.projects.models import Project

    if not can_change_projects(user):
        return Project.objects.none()
    return Project.objects.filter(project_q(user, change=True))


def get_project(user, pk, *, change: bool = False):
    """The project if `user` may read (or change) it, else Http404 — never reveals existence."""
    qs = changeable_projects(user) if change else visible_projects(user)
    try:
        return qs.select_related("region", "owner_unit", "sector", "industry").get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("项目不存在或无权访问")


def can_manage_listings(user) -> bool:
    """Annual lists and campaigns are government decisions: not for project units."""
    return getattr(user, "is_authenticated", False) and user.role in (
        Role.CITY_ADMIN,
        Role.COUNTY,
        Role.DEPARTMENT,
    )


def allowed_regions(user) -> QuerySet:
    """Regions a user may place a project in (create/edit forms, API, import)."""
    from majorprojects.organisation.models import Region

    if user.role == Role.CITY_ADMIN:
        return Region.objects.all()
    if user.role == Role.COUNTY and user.region_id:
        return Region.objects.filter(path__startswith=user.region.path)
    if user.role in (Role.DEPARTMENT, Role.PROJECT_UNIT):
        return Region.objects.all()
    return Region.objects.none()


def can_manage_accounts(user) -> bool:
    """Accounts are managed by the security/audit administrator, not by the business admin
    (separation of duties, SPEC §1): the DRC admin cannot grant itself or others access."""
    return getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.AUDITOR


def can_read_audit(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.AUDITOR


def can_configure(user) -> bool:
    """Organisation data (regions, units, people, work groups, categories)."""
    return getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.CITY_ADMIN


# --- Dispatch reports (reporting app) -------------------------------------------------------
# A report is read by whoever reads its project and filled by whoever may change its project
# (the project unit itself, or its county or department on its behalf). Review is a government
# act: the county or department over the project, or the city admin. Locking periods and
# deciding corrections of locked data are the city's.


def reports_q(user, *, change: bool = False) -> Q:
    return project_q(user, "project__", change=change)


def visible_reports(user) -> QuerySet:
    from majorprojects.reporting.models import Report

    if not visible_projects_allowed(user):
        return Report.objects.none()
    return Report.objects.filter(reports_q(user))


def can_fill_report(user, report) -> bool:
    if getattr(report, "_fillable_for", None) == user.pk:
        return True  # fetched by get_report(user, …, change=True) in this request: already checked
    return can_change_projects(user) and changeable_projects(user).filter(pk=report.project_id).exists()


def can_review_reports(user) -> bool:
    return can_manage_listings(user)


def can_review_report(user, report) -> bool:
    return can_review_reports(user) and changeable_projects(user).filter(pk=report.project_id).exists()


def reviewable_reports(user) -> QuerySet:
    from majorprojects.reporting.models import Report

    if not can_review_reports(user):
        return Report.objects.none()
    return Report.objects.filter(reports_q(user, change=True))


def fillable_reports(user) -> QuerySet:
    from majorprojects.reporting.models import Report

    if not can_change_projects(user):
        return Report.objects.none()
    return Report.objects.filter(reports_q(user, change=True))


def get_report(user, pk, *, change: bool = False, light: bool = False):
    """The report if `user` may read (or fill) it, else Http404. `light`: only the scope check
    and the keys, for a service that locks and re-reads the row anyway."""
    qs = fillable_reports(user) if change else visible_reports(user)
    if light:
        qs = qs.only("pk", "project_id", "period_id")
    else:
        qs = qs.select_related("period__schedule", "project__region", "project__owner_unit")
    try:
        report = qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("报表不存在或无权访问")
    if change:
        report._fillable_for = user.pk  # can_fill_report need not ask the database again
    return report


def can_lock_periods(user) -> bool:
    return can_configure(user)


# --- Problem ledger (problems app) ----------------------------------------------------------
# A problem is read by whoever reads its project, and by the units working on it: the raising
# unit or user, the lead unit and the co-units (a bureau assigned a problem sees it even when the
# project is outside its sectors). The city admin and leaders read all; the auditor none.
# Acting on it depends on the part one plays (predicates below): the city, or the county for a
# problem in its region, analyses and assigns; the lead unit handles and resolves, co-units add
# notes; the reporter confirms; only the city closes without the reporter's satisfaction.


def problems_q(user) -> Q:
    if not visible_projects_allowed(user):
        return NOTHING
    if user.role in (Role.CITY_ADMIN, Role.LEADER):
        return Q()
    from majorprojects.problems.models import Problem

    q = project_q(user, "project__") | Q(raised_by_id=user.pk)
    if user.role == Role.COUNTY and user.region_id:
        q |= Q(region__path__startswith=user.region.path)
    if user.unit_id:
        co = Problem.co_units.through.objects.filter(unit_id=user.unit_id).values("problem_id")
        q |= Q(raising_unit_id=user.unit_id) | Q(lead_unit_id=user.unit_id) | Q(pk__in=co)
    return q


def visible_problems(user) -> QuerySet:
    from majorprojects.problems.models import Problem

    return Problem.objects.filter(problems_q(user))


def get_problem(user, pk):
    """The problem if `user` may read it, else Http404 — never reveals existence."""
    qs = visible_problems(user)
    try:
        return qs.select_related(
            "project", "category", "region", "raising_unit", "lead_unit", "leader", "raised_by"
        ).get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("问题不存在或无权访问")


def can_raise_problem(user, project) -> bool:
    """Any working account may raise a problem on a project it reads (a project unit: its own)."""
    return can_change_projects(user) and visible_projects(user).filter(pk=project.pk).exists()


def _county_covers(user, problem) -> bool:
    return bool(
        user.role == Role.COUNTY and user.region_id and problem.region.path.startswith(user.region.path)
    )


def can_analyse_problem(user, problem) -> bool:
    """Accept, merge, split: the city; the county for a problem in its region not taken by the city."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.role == Role.CITY_ADMIN:
        return True
    return _county_covers(user, problem) and problem.level != "city"


def is_problem_assigner(user, problem) -> bool:
    """The assigner's side (assign, decide extensions, escalate by hand): the city admin, or the
    county that accepted the problem (or may accept it, before the city does)."""
    return can_analyse_problem(user, problem)


def is_problem_lead(user, problem) -> bool:
    return bool(user.is_active and user.unit_id and user.unit_id == problem.lead_unit_id)


def is_problem_handler(user, problem) -> bool:
    """Lead unit or co-unit users."""
    if is_problem_lead(user, problem):
        return True
    return bool(user.is_active and user.unit_id and problem.co_units.filter(pk=user.unit_id).exists())


def is_problem_reporter(user, problem) -> bool:
    """The user who raised it, or anyone of the raising unit."""
    if not user.is_active:
        return False
    if problem.raised_by_id and problem.raised_by_id == user.pk:
        return True
    return bool(user.unit_id and user.unit_id == problem.raising_unit_id)


def can_close_problem(user, problem) -> bool:
    """Closing without the reporter's satisfaction is the city's decision alone."""
    return getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.CITY_ADMIN
