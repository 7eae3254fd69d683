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


# --- Funds (funds app) ----------------------------------------------------------------------


def can_record_funds(user, project, kind: str, *, entry=None) -> bool:
    """Whether `user` may record an entry of `kind` on `project` — or, given `entry` (a recorded
    funds.Movement or funds.LoanRelease, `kind` being its kind), delete that entry. Reading is
    `visible_projects`. Kinds: allocation 下达, arrival 到位, transfer 拨付, payment 支付 (also
    confirming reported payments), loan 贷款 (its terms and releases), subsidy 获批贴息.
    - Government records every kind: the city admin; the county or department that may change the
      project; the finance department (财政局: a department whose unit has `records_funds`) on
      every project in its unit's region subtree — it also registers the allocations it issues. It deletes any entry except a payment confirmed from a dispatch
      report (`report_source` set), which only the city admin deletes.
    - The project unit (may change the project) records payments and loans only: allocations,
      arrivals, transfers and the subsidy granted are government acts. It deletes only entries of
      those kinds that an account of its own unit entered, never one confirmed from a report.
    - Leaders, the auditor and everyone else: nothing.
    The scope check is remembered on `project` per user (one query per request, not per entry)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    role = user.role
    if role == Role.CITY_ADMIN:
        return True
    if role not in (Role.COUNTY, Role.DEPARTMENT, Role.PROJECT_UNIT):
        return False
    confirmed = bool(
        entry is not None and (getattr(entry, "report_source", "") or getattr(entry, "report_id", None))
    )
    unit = user.unit if user.unit_id else None
    if (
        role == Role.DEPARTMENT
        and unit is not None
        and unit.records_funds
        and project.region.path.startswith(unit.region.path)
    ):
        return not confirmed
    known = project.__dict__.setdefault("_funds_changeable", {})
    if user.pk not in known:
        known[user.pk] = changeable_projects(user).filter(pk=project.pk).exists()
    if not known[user.pk]:
        return False
    if role != Role.PROJECT_UNIT:
        return not confirmed
    if kind not in ("payment", "loan"):
        return False
    if entry is None:
        return True
    author = entry.created_by
    return bool(
        not confirmed
        and author is not None
        and author.role == Role.PROJECT_UNIT
        and author.unit_id == user.unit_id
    )


# --- Problem ledger (problems app) ----------------------------------------------------------
# A problem is read by whoever reads its project, and by the units working on it: the raising
# unit or user, the lead unit and the co-units (a bureau assigned a problem sees it even when the
# project is outside its sectors), and by the reporters of duplicates merged into it. The city
# admin and leaders read all; the auditor none.
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
    # The reporter of a duplicate follows it into the item it was merged into (a subquery: the
    # list stays one query).
    return q | Q(pk__in=_merged_targets(user))


def _own_reporter_q(user) -> Q:
    q = Q(raised_by_id=user.pk)
    if user.unit_id:
        q |= Q(raising_unit_id=user.unit_id)
    return q


def _merged_targets(user):
    """Ids of the problems into which an item `user` (or the user's unit) raised was merged."""
    from majorprojects.problems.models import Problem

    return Problem.objects.filter(_own_reporter_q(user), merged_into__isnull=False).values("merged_into_id")


def problem_confirmer_q(user) -> Q:
    """Problems whose resolution `user` may confirm (the rule of is_problem_confirmer)."""
    from majorprojects.organisation.models import UnitKind

    raised_by_enterprise = Q(raising_unit__kind=UnitKind.ENTERPRISE) | Q(raised_by__role=Role.PROJECT_UNIT)
    return _own_reporter_q(user) | (Q(pk__in=_merged_targets(user)) & ~raised_by_enterprise)


def problem_filter_regions(user) -> QuerySet:
    """Regions offered in the ledger's region filter: what the account reads problems in — a
    county its own subtree, the auditor nothing, everyone else every region (the list itself is
    scoped by problems_q; this only keeps the choices meaningful)."""
    from majorprojects.organisation.models import Region

    if not visible_projects_allowed(user):
        return Region.objects.none()
    if user.role == Role.COUNTY and user.region_id:
        return Region.objects.filter(path__startswith=user.region.path)
    return Region.objects.all()


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


def _is_own_reporter(user, problem) -> bool:
    if problem.raised_by_id and problem.raised_by_id == user.pk:
        return True
    return bool(user.unit_id and user.unit_id == problem.raising_unit_id)


def _reports_merged_item(user, problem) -> bool:
    from majorprojects.problems.models import Problem

    return Problem.objects.filter(_own_reporter_q(user), merged_into_id=problem.pk).exists()


def is_problem_reporter(user, problem) -> bool:
    """The user who raised it, anyone of the raising unit, or the reporter of a duplicate that
    was merged into it (who follows it there: reads it, is told of its resolution, may attach)."""
    if not user.is_active:
        return False
    return _is_own_reporter(user, problem) or _reports_merged_item(user, problem)


def problem_raised_by_enterprise(problem) -> bool:
    """Raised by a project unit (an enterprise), whose satisfaction is the gate."""
    from majorprojects.organisation.models import UnitKind

    if problem.raising_unit_id and problem.raising_unit.kind == UnitKind.ENTERPRISE:
        return True
    return bool(problem.raised_by_id and problem.raised_by.role == Role.PROJECT_UNIT)


def is_problem_confirmer(user, problem) -> bool:
    """Who gives the verdict on a resolution (the satisfaction gate, 企业满意的方可销号): the
    problem's own reporter; and, when it was not raised by an enterprise (the city, a county or a
    department raised it), also the reporters of the duplicates merged into it — the enterprises
    behind them. The first verdict on a resolution decides."""
    if not user.is_active:
        return False
    if _is_own_reporter(user, problem):
        return True
    return not problem_raised_by_enterprise(problem) and _reports_merged_item(user, problem)


def can_close_problem(user, problem) -> bool:
    """Closing without the reporter's satisfaction is the city's decision alone."""
    return getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.CITY_ADMIN


# --- Warnings (alerts app) ------------------------------------------------------------------
# A project's warning is read by whoever reads the project; a region's warning by the city admin,
# the leaders and the county over the region (and by cross-cutting departments, which read every
# project). The unit steps (rectification plan, rectified, asking for an exemption) belong to
# whoever may change the project (its project unit, county or department) — for a region's
# warning, to the county over it. Notifying is the city's or the county's; striking off,
# reopening, running a scan and editing rules are the city's; an exemption is decided by the
# rule's approver (the city always may).


def warnings_q(user) -> Q:
    if not visible_projects_allowed(user):
        return NOTHING
    if user.role in (Role.CITY_ADMIN, Role.LEADER):
        return Q()
    q = Q(project__isnull=False) & project_q(user, "project__")
    if user.role == Role.COUNTY and user.region_id:
        q |= Q(project__isnull=True, region__path__startswith=user.region.path)
    elif user.role == Role.DEPARTMENT and user.unit_id and user.unit.reads_all_projects:
        q |= Q(project__isnull=True)
    return q


def visible_warnings(user) -> QuerySet:
    from majorprojects.alerts.models import Warning

    return Warning.objects.filter(warnings_q(user))


def get_warning(user, pk):
    """The warning if `user` may read it, else Http404 — never reveals existence."""
    qs = visible_warnings(user)
    try:
        return qs.select_related(
            "rule", "project", "region", "responsible_unit", "leader", "attachment", "carried_from"
        ).get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("预警不存在或无权访问")


def _county_over_region(user, region) -> bool:
    return bool(user.role == Role.COUNTY and user.region_id and region.path.startswith(user.region.path))


def can_rectify_warning(user, warning) -> bool:
    """Plan, report rectified, ask for an exemption: the project's changers; for a region's
    warning the county over it; the city admin on anyone's behalf."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.role == Role.CITY_ADMIN:
        return True
    if warning.project_id:
        return can_change_projects(user) and changeable_projects(user).filter(pk=warning.project_id).exists()
    return _county_over_region(user, warning.region)


def can_notify_warning(user, warning) -> bool:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return user.role == Role.CITY_ADMIN or _county_over_region(user, warning.region)


def can_strike_off_warning(user, warning=None) -> bool:
    """Verifying a rectification and striking the warning off (销号) is the city's."""
    return can_configure(user)


def can_decide_exemption(user, rule, region) -> bool:
    """The rule's approver: the city admin always; the county over the subject when the rule
    lets counties approve."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.role == Role.CITY_ADMIN:
        return True
    return rule.exemption_approver == "county" and _county_over_region(user, region)


def can_manage_alert_rules(user) -> bool:
    """Editing, importing and restoring rules and running a scan: the city admin."""
    return can_configure(user)
