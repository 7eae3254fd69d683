"""Warnings pages (预警): the light board, the negative list (page, print, Excel), the warning
list, my to-do, the project file's tab and the home card. One warning's page and its workflow
steps are in warning_views.py, the rule pages in rule_views.py. Reads go through accounts.scope
and alerts.selectors, changes through alerts.services; the auditor gets 403 everywhere here.
Pages: docs/alerts-pages.md."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_manage_alert_rules,
    changeable_projects,
    visible_projects_allowed,
    visible_warnings,
)

from . import exports, selectors, services
from .forms import WarningFilterForm, parse_period, period_label
from .models import GREEN, Light, ScanRun, Status, Warning

PAGE_SIZE = 50
MINE_LIMIT = 100
PERIOD_CHOICES = 60
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TO_RECTIFY = (Status.ISSUED, Status.NOTIFIED, Status.RECTIFYING)


# --- helpers --------------------------------------------------------------------------------


def require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看预警。")


def scanned_periods() -> list[tuple[int, int]]:
    """The months that have been scanned, newest first (the period pickers' choices)."""
    rows = ScanRun.objects.order_by("-year", "-month").values_list("year", "month").distinct()
    return [tuple(r) for r in rows[:PERIOD_CHOICES]]


def chosen_period(request: HttpRequest, periods: list[tuple[int, int]]) -> tuple[int, int]:
    """?period=YYYY-MM, else the latest scanned month, else last month."""
    chosen = parse_period(request.GET.get("period"))
    if chosen:
        return chosen
    return periods[0] if periods else selectors.default_period(timezone.localdate())


def _period_context(year: int, month: int, periods: list[tuple[int, int]]) -> dict:
    options = list(periods)
    if (year, month) not in options:
        options = sorted([*options, (year, month)], reverse=True)
    return {
        "year": year,
        "month": month,
        "period": f"{year}-{month:02d}",
        "period_label": period_label(year, month),
        "period_options": [
            {"value": f"{y}-{m:02d}", "label": period_label(y, m), "selected": (y, m) == (year, month)}
            for y, m in options
        ],
        "scanned": (year, month) in periods,
    }


# --- the light board ------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """预警总览: counts by light, the region board, the last scan and the scan button."""
    require_reader(request)
    user = request.user
    periods = scanned_periods()
    year, month = chosen_period(request, periods)
    board = selectors.region_board(user, year, month)
    counts = selectors.negative_list(user, year, month)["counts"]
    today = timezone.localdate()
    context = {
        **_period_context(year, month, periods),
        "board": board,
        "counts": counts,
        "region_lights": {
            light: sum(1 for r in board if r["light"] == light) for light in (Light.RED, Light.YELLOW, GREEN)
        },
        "scan": selectors.last_scan(year, month),
        "can_scan": can_manage_alert_rules(user),
        "scan_max": f"{today.year}-{today.month:02d}",
    }
    return render(request, "alerts/index.html", context)


@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    """立即扫描 (the city admin): runs the engine for the month and reports what changed."""
    require_reader(request)
    if not can_manage_alert_rules(request.user):
        raise PermissionDenied("只有市级管理员可以运行预警扫描。")
    period = parse_period(request.POST.get("period"))
    if period is None:
        messages.error(request, "请选择要扫描的月份（格式 YYYY-MM）。")
        return redirect("alerts:index")
    year, month = period
    try:
        result = services.scan_run(actor=request.user, year=year, month=month)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("alerts:index")
    skipped = f"，{len(result.skipped)} 条规则未执行（宽限期或不适用）" if result.skipped else ""
    messages.success(
        request,
        f"已扫描{period_label(year, month)}：新增 {result.created} 条、更新 {result.updated} 条、"
        f"消除 {result.cleared} 条、未变 {result.unchanged} 条预警（{result.rules} 条规则{skipped}，"
        f"用时 {result.seconds:.1f} 秒）。",
    )
    return redirect(f"{reverse('alerts:index')}?period={year}-{month:02d}")


# --- the negative list ----------------------------------------------------------------------


@require_GET
def negative(request: HttpRequest) -> HttpResponse:
    """负面清单: a month's red and yellow projects by region, counts by rule, the comparison
    with the previous month. Prints as a document (the navigation and pickers are hidden)."""
    require_reader(request)
    periods = scanned_periods()
    year, month = chosen_period(request, periods)
    data = selectors.negative_list(request.user, year, month)
    context = {**_period_context(year, month, periods), "data": data, "today": timezone.localdate()}
    return render(request, "alerts/negative.html", context)


@require_GET
def negative_export(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    year, month = chosen_period(request, scanned_periods())
    content = exports.negative_list_xlsx(selectors.negative_list(request.user, year, month))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"负面清单_{year}年{month}月.xlsx")
    return response


# --- the warning list -----------------------------------------------------------------------


@require_GET
def warning_list(request: HttpRequest) -> HttpResponse:
    """预警列表: every warning the user reads, filtered in place (HTMX), 50 a page. Without a
    month chosen it opens on the latest scanned month."""
    require_reader(request)
    periods = scanned_periods()
    data = request.GET.copy()
    if "period" not in data and periods:
        data["period"] = f"{periods[0][0]}-{periods[0][1]:02d}"
    form = WarningFilterForm(data, user=request.user, periods=periods)
    filters = form.filters()
    if request.GET.get("project", "").isdigit():
        filters["project_id"] = int(request.GET["project"])
    qs = selectors.warning_list(request.user, **filters)
    if form.is_valid() and form.cleaned_data.get("q"):
        qs = qs.filter(project__name__contains=form.cleaned_data["q"].strip())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": [selectors.warning_row(w) for w in page],
        "query": _query(request),
    }
    template = "alerts/_results.html" if request.headers.get("HX-Request") else "alerts/list.html"
    return render(request, template, context)


def _query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- my to-do -------------------------------------------------------------------------------


def my_warnings(user) -> dict:
    """What waits for `user` (querysets, None where the part is not theirs): `rectify` — open
    warnings whose rectification is theirs (their changeable projects', and for a county its
    regions'); `notify` — issued warnings to pass on (the city, the county over them);
    `strike_off` — rectified warnings to verify (the city); `exemptions` — justifications to
    decide (selectors.exemptions_to_decide)."""
    base = visible_warnings(user).select_related(*selectors.ROW_RELATED)
    out = {"rectify": None, "notify": None, "strike_off": None}
    deciders = (Role.CITY_ADMIN, Role.COUNTY)
    out["exemptions"] = selectors.exemptions_to_decide(user) if user.role in deciders else None
    issued = base.filter(status=Status.ISSUED, condition_cleared=False).order_by("-year", "-month", "pk")
    county = user.role == Role.COUNTY and user.region_id
    if user.role == Role.CITY_ADMIN:
        out["notify"] = issued
        out["strike_off"] = base.filter(status=Status.RECTIFIED).order_by("rectified_at", "pk")
        return out
    if county:
        out["notify"] = issued.filter(region__path__startswith=user.region.path)
    if user.role in (Role.COUNTY, Role.DEPARTMENT, Role.PROJECT_UNIT):
        mine = Q(project__in=changeable_projects(user).values("pk"))
        if county:
            mine |= Q(project__isnull=True, region__path__startswith=user.region.path)
        out["rectify"] = base.filter(mine, status__in=TO_RECTIFY, condition_cleared=False).order_by(
            F("deadline").asc(nulls_last=True), "-year", "-month", "pk"
        )
    return out


def _section(qs) -> dict | None:
    if qs is None:
        return None
    rows = list(qs[:MINE_LIMIT])
    count = len(rows) if len(rows) < MINE_LIMIT else qs.count()
    return {"rows": rows, "count": count}


@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的整改: the warnings and justifications waiting for this account."""
    require_reader(request)
    found = my_warnings(request.user)
    context = {
        "rectify": _section(found["rectify"]),
        "notify": _section(found["notify"]),
        "strike_off": _section(found["strike_off"]),
        "exemptions": _section(found["exemptions"]),
        "today": timezone.localdate(),
    }
    return render(request, "alerts/mine.html", context)


def todo_items(user, today=None) -> list[dict]:
    """The home card's items (alerts/_home_todo.html as `alert_todo`): {"label", "url_name",
    "args", "due", "light"}, deadlines first."""
    if not visible_projects_allowed(user):
        return []
    today = today or timezone.localdate()
    found = my_warnings(user)
    items = []
    for w in (found["rectify"] or Warning.objects.none())[:MINE_LIMIT]:
        verb = "报送整改完成" if w.status == Status.RECTIFYING else "填报整改措施"
        items.append(_todo(f"{verb}：{_subject(w)} · {w.rule.name}", w, w.deadline))
    for w in (found["strike_off"] or Warning.objects.none())[:MINE_LIMIT]:
        items.append(_todo(f"核验销号：{_subject(w)} · {w.rule.name}", w, None))
    for e in (found["exemptions"] or [])[:MINE_LIMIT]:
        who = e.project.name if e.project_id else e.region.name
        target = e.warning_id
        items.append(
            {
                "label": f"审批正当理由：{who} · {e.rule.name}",
                "url_name": "alerts:detail" if target else "alerts:mine",
                "args": [target] if target else [],
                "due": None,
                "light": "",
            }
        )
    return sorted(items, key=lambda i: (i["due"] is None, i["due"] or today))


def _subject(w: Warning) -> str:
    return w.project.name if w.project_id else w.region.name


def _todo(label: str, w: Warning, due) -> dict:
    return {"label": label, "url_name": "alerts:detail", "args": [w.pk], "due": due, "light": w.light}


# --- the project file's tab -----------------------------------------------------------------


def project_tab_context(request: HttpRequest, project) -> dict:
    """Context for alerts/project_tab.html inside the project file (its 预警 tab). The project
    was read through accounts.scope, and whoever reads a project reads its warnings."""
    require_reader(request)
    return {"alerts_tab": selectors.project_warnings(project)}
