"""Problem-ledger pages: my problems, the ledger with filters and its Excel export, the figures
by unit and category, the weekly list, raising a problem, and one problem's page with every
workflow step. Reads go through accounts.scope and problems.selectors, changes through
problems.services (which check who may act); a problem out of scope is 404, a step the account
may not take is 403, a stale form shows the service's conflict message. Pages: docs/problems.md."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_change_projects,
    can_raise_problem,
    is_problem_assigner,
    is_problem_handler,
    is_problem_reporter,
    visible_problems,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.core.errors import ConflictError

from . import conf, exports, selectors, services
from .forms import (
    AcceptForm,
    AssignForm,
    AttachmentForm,
    CloseForm,
    ConfirmForm,
    CoordinationForm,
    DecideForm,
    EscalateForm,
    ExtensionForm,
    MergeForm,
    ProblemFilterForm,
    ProgressForm,
    RaiseForm,
    ResolveForm,
    SplitForm,
    SubItemFormSet,
    TaskFormSet,
    WeekForm,
    category_choices,
    unit_choices,
)
from .models import HANDLING, Coordination, CoordinationTask, Extension, Problem, ProblemAttachment

PAGE_SIZE = 50
MINE_LIMIT = 50
PROJECT_TAB_LIMIT = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DETAIL_RELATED = (
    "project",
    "category",
    "region",
    "raising_unit",
    "raised_by",
    "lead_unit",
    "leader__unit",
    "assigned_by",
    "accepted_by",
    "escalated_to",
    "merged_into",
    "parent",
    "report__period",
)
STEP_URLS = {
    "accept": "accept",
    "merge": "merge",
    "assign": "assign",
    "progress": "progress",
    "extend": "extension",
    "resolve": "resolve",
    "close": "close",
    "escalate": "escalate",
    "attach": "attachment_add",
}
CONFLICT_HINT = "页面已显示最新情况；您填写的内容仍在表单中，核对后可再次提交。"


# --- helpers -------------------------------------------------------------------------------------


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看问题台账。")


def _problem(request: HttpRequest, pk: int) -> Problem:
    """The problem with what its page shows, if the user may read it; else 404."""
    _require_reader(request)
    problem = visible_problems(request.user).select_related(*DETAIL_RELATED).filter(pk=pk).first()
    if problem is None:
        raise Http404("问题不存在或无权访问")
    return problem


def _detail_url(problem: Problem) -> str:
    return reverse("problems:detail", args=[problem.pk])


def _attach_errors(form, exc: ValidationError, rename: dict | None = None) -> None:
    """A service's {field: message} errors under the form's fields (others at the top)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        field = (rename or {}).get(field, field)
        form.add_error(field if field in form.fields else None, errors)


def _filtered(request: HttpRequest):
    form = ProblemFilterForm(request.GET, user=request.user)
    return form, form.filter(selectors.problem_list(request.user))


def _query(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for key in ("page", *drop):
        params.pop(key, None)
    return params.urlencode()


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _stamp() -> str:
    return f"{timezone.localtime():%Y%m%d_%H%M}"


# --- lists ---------------------------------------------------------------------------------------


@require_GET
def problem_list(request: HttpRequest) -> HttpResponse:
    """问题台账: every problem the user reads, filtered in place (HTMX), 50 a page."""
    _require_reader(request)
    form, qs = _filtered(request)
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "folded_hidden": not form.cleaned_data.get("status"),
        "today": timezone.localdate(),
        "query": _query(request),
        "can_raise": can_change_projects(request.user),
    }
    template = "problems/_results.html" if request.headers.get("HX-Request") else "problems/list.html"
    return render(request, template, context)


@require_GET
def problem_export(request: HttpRequest) -> HttpResponse:
    """Exactly what the list shows (same filters, same scope), all pages."""
    _require_reader(request)
    _, qs = _filtered(request)
    rows = selectors.export_rows(qs.order_by("-created_at", "-pk"))
    return _xlsx(exports.problems_xlsx(rows), f"问题台账_{_stamp()}.xlsx")


@require_GET
def problem_metrics(request: HttpRequest) -> HttpResponse:
    """办理情况统计: by lead unit and by category, over the filtered ledger."""
    _require_reader(request)
    form, qs = _filtered(request)
    context = {
        "form": form,
        "by_unit": selectors.metrics(qs, "unit"),
        "by_category": selectors.metrics(qs, "category"),
        "levels": selectors.escalation_counts(qs),
        "query": _query(request, "by"),
    }
    return render(request, "problems/metrics.html", context)


@require_GET
def metrics_export(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    by = request.GET.get("by", "unit")
    if by not in selectors.GROUPS:
        raise Http404("没有这种统计口径")
    _, qs = _filtered(request)
    figures = selectors.metrics(qs, by)
    title = f"问题办理情况统计（按{figures['by_label']}）"
    return _xlsx(
        exports.metrics_xlsx(figures, title=title), f"问题办理统计_{figures['by_label']}_{_stamp()}.xlsx"
    )


def _section(qs, limit: int = MINE_LIMIT) -> dict:
    rows = list(qs[:limit])
    return {"rows": rows, "count": len(rows) if len(rows) < limit else qs.count()}


@require_GET
def my_problems(request: HttpRequest) -> HttpResponse:
    """我的问题: what waits for this user, by the part they play."""
    _require_reader(request)
    user = request.user
    mine = selectors.my_problems(user)
    analyst = user.role in (Role.CITY_ADMIN, Role.COUNTY)
    reporter = can_change_projects(user)
    context = {
        "handle": _section(mine["handle"]) if user.unit_id else None,
        "confirm": _section(mine["confirm"]) if reporter else None,
        "analyse": _section(mine["analyse"]) if analyst else None,
        "extensions": _section(mine["extensions"]) if analyst else None,
        "raised": _section(mine["raised"]) if reporter else None,
        "today": timezone.localdate(),
        "can_raise": reporter,
    }
    return render(request, "problems/mine.html", context)


@require_GET
def weekly(request: HttpRequest) -> HttpResponse:
    """周报: new this week, in progress, closed this week (ISO week, Monday to Sunday)."""
    _require_reader(request)
    year, week = WeekForm(request.GET).week_value()
    data = selectors.weekly_list(selectors.problem_list(request.user), year, week)
    start = data["start"]
    previous = (start - timedelta(days=7)).isocalendar()
    following = (start + timedelta(days=7)).isocalendar()
    context = {
        "data": data,
        "sections": [
            ("new", "本周新增", list(data["new"])),
            ("in_progress", "办理中", list(data["in_progress"])),
            ("closed", "本周办结", list(data["closed"])),
        ],
        "previous": {"year": previous.year, "week": previous.week},
        "following": {"year": following.year, "week": following.week},
        "today": timezone.localdate(),
    }
    return render(request, "problems/weekly.html", context)


WEEKLY_SECTIONS = {"new": "本周新增", "in_progress": "办理中", "closed": "本周办结"}


@require_GET
def weekly_export(request: HttpRequest) -> HttpResponse:
    """One section of the weekly list as a workbook (`section` = new, in_progress or closed)."""
    _require_reader(request)
    section = request.GET.get("section", "new")
    if section not in WEEKLY_SECTIONS:
        raise Http404("没有这个栏目")
    year, week = WeekForm(request.GET).week_value()
    data = selectors.weekly_list(selectors.problem_list(request.user), year, week)
    title = (
        f"{year}年第{week}周（{data['start']:%m月%d日}—{data['end']:%m月%d日}）{WEEKLY_SECTIONS[section]}问题"
    )
    content = exports.problems_xlsx(selectors.export_rows(data[section]), title=title)
    return _xlsx(content, f"问题周报_{year}年第{week}周_{WEEKLY_SECTIONS[section]}.xlsx")


# --- the project file's tab and the home card ----------------------------------------------------


def project_tab_context(request: HttpRequest, project) -> dict:
    """Context for problems/project_tab.html inside the project file (its 问题 tab)."""
    qs = selectors.project_problems(request.user, project).order_by("-created_at", "-pk")
    rows = list(qs[:PROJECT_TAB_LIMIT])
    total = len(rows) if len(rows) < PROJECT_TAB_LIMIT else qs.count()
    return {
        "problems": rows,
        "problems_total": total,
        "problems_open": sum(1 for p in rows if p.is_open),
        "can_raise_problem": can_raise_problem(request.user, project),
        "today": timezone.localdate(),
    }


# --- raising -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def problem_raise(request: HttpRequest) -> HttpResponse:
    """反映问题, with attachments; all or nothing (a bad file leaves no problem behind)."""
    _require_reader(request)
    user = request.user
    if not can_change_projects(user):
        raise PermissionDenied("您的账号不能反映问题。")
    initial = {}
    if request.method == "GET" and request.GET.get("project", "").isdigit():
        project = visible_projects(user).filter(pk=int(request.GET["project"])).first()
        if project is not None:
            initial["project"] = project.pk
    form = RaiseForm(request.POST or None, request.FILES or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        written = []  # files stored so far, removed again if the whole raise does not commit
        try:
            # Every file is checked (sizes by the form, type and content here) before anything
            # is created or written.
            files = _checked_files(data["attachments"])
            with transaction.atomic():
                problem = services.problem_raise(
                    actor=user,
                    project=data["project"],
                    category=data["category"],
                    description=data["description"],
                    request=data["request"],
                    title=data["title"],
                    urgency=data["urgency"],
                    source=data.get("source") or "",
                )
                for name, content in files:
                    attachment = services.problem_attachment_add(
                        actor=user, problem=problem, name=name, content=content
                    )
                    written.append(attachment.file.name)
        except ValidationError as exc:
            _remove_files(written)
            _attach_errors(form, exc)
        except Exception:
            _remove_files(written)
            raise
        else:
            messages.success(request, f"问题已反映（编号 {problem.pk}），等待研判交办。")
            return redirect(_detail_url(problem))
    return render(request, "problems/raise.html", {"form": form})


def _checked_files(uploads) -> list[tuple[str, bytes]]:
    """(name, content) of each upload, all checked as services.problem_attachment_add will;
    the first bad one raises a ValidationError on `attachments` naming the file."""
    files = []
    for upload in uploads:
        content = upload.read()
        try:
            services.attachment_check(upload.name, content)
        except ValidationError as exc:
            raise ValidationError({"attachments": [f"{upload.name}：{m}" for m in exc.messages]})
        files.append((upload.name, content))
    return files


def _remove_files(names: list[str]) -> None:
    """Delete stored files whose rows were rolled back (content-addressed names under the new
    problem's id, so no other row uses them)."""
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


# --- one problem ---------------------------------------------------------------------------------


def _can_attach(user, problem: Problem) -> bool:
    """Who may add attachments (as problems.services.problem_attachment_add checks)."""
    return (
        user.role == Role.CITY_ADMIN
        or is_problem_reporter(user, problem)
        or is_problem_assigner(user, problem)
        or is_problem_handler(user, problem)
    )


def _forms(user, problem: Problem, acts: dict) -> dict:
    """A blank form for each step the user may take now."""
    version = {"version": problem.version}
    forms = {}
    if acts["accept"]:
        forms["accept"] = AcceptForm(initial=version)
    if acts["merge"]:
        forms["merge"] = MergeForm(initial=version, user=user, problem=problem)
    if acts["split"]:
        forms["split"] = SplitForm(initial=version)
        forms["split_items"] = SubItemFormSet(
            prefix="items", form_kwargs={"category_choices": category_choices()}
        )
    if acts["assign"]:
        forms["assign"] = AssignForm(problem=problem)  # re-assigning starts from the current five
        forms["assign"].initial["version"] = problem.version
    if acts["progress"]:
        forms["progress"] = ProgressForm()
    if acts["extend"]:
        forms["extend"] = ExtensionForm()
    if acts["resolve"]:
        forms["resolve"] = ResolveForm(initial=version)
    if acts["confirm"]:
        forms["confirm"] = ConfirmForm(initial=version)
    if acts["close"]:
        forms["close"] = CloseForm(initial=version)
    if acts["escalate"]:
        forms["escalate"] = EscalateForm()
    if acts["decide"]:
        forms["decide"] = DecideForm()
    if acts["attach"]:
        forms["attach"] = AttachmentForm()
    return forms


def _main_step(problem: Problem, acts: dict) -> str:
    """The step whose form is shown open: what this user is expected to do next."""
    if acts["assign"] and not problem.lead_unit_id and not acts["accept"]:
        return "assign"
    return next((name for name in ("confirm", "accept", "progress") if acts[name]), "")


def _render_detail(
    request: HttpRequest, problem: Problem, *, bound: dict | None = None, record: tuple | None = None
) -> HttpResponse:
    """The problem's page. `bound`: forms that failed, shown in place of the blank ones (their
    top-level errors also above the page); `record`: (coordination pk, form, task formset) that
    failed."""
    user = request.user
    acts = selectors.actions(user, problem)
    assigner = is_problem_assigner(user, problem)
    extensions = list(problem.extensions.select_related("requested_by", "decided_by"))
    acts["decide"] = (
        assigner
        and problem.status in HANDLING
        and any(e.state == Extension.State.PENDING for e in extensions)
    )
    acts["attach"] = _can_attach(user, problem)
    forms = _forms(user, problem, acts)
    forms.update(bound or {})
    errors = [
        e for f in (bound or {}).values() if hasattr(f, "non_field_errors") for e in f.non_field_errors()
    ]
    coordinations = list(
        problem.coordinations.select_related("leader", "requested_by", "recorded_by").prefetch_related(
            "tasks__unit"
        )
    )
    units = unit_choices() if assigner and coordinations else None
    for c in coordinations:
        if record and record[0] == c.pk:
            c.record_form, c.task_formset = record[1], record[2]
            errors += list(record[1].non_field_errors())
        elif assigner:
            c.record_form = CoordinationForm(
                prefix=f"c{c.pk}", initial={"minutes": c.minutes, "meeting_date": c.meeting_date}
            )
            c.task_formset = TaskFormSet(prefix=f"c{c.pk}-tasks", form_kwargs={"unit_choices": units})
        for t in c.tasks.all():
            t.can_mark = assigner or (user.unit_id is not None and user.unit_id == t.unit_id)
    project_readable = (
        user.role in (Role.CITY_ADMIN, Role.LEADER)
        or visible_projects(user).filter(pk=problem.project_id).exists()
    )
    today = timezone.localdate()
    days_left = selectors.days_left(problem, today)
    sub_items = list(problem.sub_items.select_related("lead_unit"))
    merged_items = list(problem.merged_items.all())
    related = [problem.parent, problem.merged_into, *sub_items, *merged_items]
    readable = _readable_ids(user, [p.pk for p in related if p is not None])
    for p in related:
        if p is not None:
            p.readable = p.pk in readable
    context = {
        "problem": problem,
        "acts": acts,
        "forms": forms,
        "errors": errors,
        "open_form": next(iter(bound), "") if bound else ("record" if record else _main_step(problem, acts)),
        "co_units": list(problem.co_units.all()),
        "other_projects": list(problem.other_projects.all()),
        "sub_items": sub_items,
        "merged_items": merged_items,
        "notes": list(problem.notes.select_related("unit", "author")),
        "extensions": extensions,
        "confirmations": list(problem.confirmations.select_related("by")),
        "escalations": list(problem.escalations.all()),
        "coordinations": coordinations,
        "attachments": list(problem.attachments.select_related("uploaded_by")),
        "timeline": selectors.problem_timeline(problem, user),
        "overdue": selectors.is_overdue(problem, today),
        "days_left": days_left,
        "days_overdue": -days_left if days_left is not None and days_left < 0 else 0,
        "urls": {name: reverse(f"problems:{view}", args=[problem.pk]) for name, view in STEP_URLS.items()},
        "level_name": conf.level_name(problem.escalation_level),
        "project_readable": project_readable,
        "today": today,
    }
    return render(request, "problems/detail.html", context)


def _readable_ids(user, ids: list[int]) -> set[int]:
    """Which of these related problems (parent, merge target, sub-items, merged duplicates) the
    user may open; the page names the others only by number (无权查看)."""
    if not ids:
        return set()
    return set(visible_problems(user).filter(pk__in=ids).values_list("pk", flat=True))


@require_GET
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _problem(request, pk))


def _act(request: HttpRequest, problem: Problem, name: str, form, run, success: str) -> HttpResponse:
    """Validate `form` and run the step (`run(cleaned_data)`). Bad input or a service's
    ValidationError shows the page again with the form and its errors; a stale version shows the
    latest state with the conflict message and what the user typed. PermissionDenied → 403."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except ConflictError as exc:
            current = _problem(request, problem.pk)
            if "version" in form.fields:
                form.data = form.data.copy()
                form.data[form.add_prefix("version")] = str(current.version)
            form.add_error(None, f"{exc.message}{CONFLICT_HINT}")
            return _render_detail(request, current, bound={name: form})
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(_detail_url(problem))
    return _render_detail(request, _problem(request, problem.pk), bound={name: form})


@require_POST
def accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    return _act(
        request,
        problem,
        "accept",
        AcceptForm(request.POST),
        lambda d: services.problem_accept(
            actor=request.user,
            problem=problem,
            note=d["note"],
            category=d["category"],
            expected_version=d["version"],
        ),
        "已受理，请交办（五到位）或分解、合并。",
    )


@require_POST
def merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    form = MergeForm(request.POST, user=request.user, problem=problem)
    return _act(
        request,
        problem,
        "merge",
        form,
        lambda d: services.problem_merge(
            actor=request.user,
            problem=problem,
            into=d["into"],
            reason=d["reason"],
            expected_version=d["version"],
        ),
        "已合并到所选问题。",
    )


@require_POST
def split_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Split into sub-items: blank rows are skipped; a sub-item's errors show on its row."""
    problem = _problem(request, pk)
    form = SplitForm(request.POST)
    formset = SubItemFormSet(
        request.POST, prefix="items", form_kwargs={"category_choices": category_choices()}
    )
    if form.is_valid() and formset.is_valid():
        rows = [f for f in formset.forms if not f.is_blank()]
        items = [
            {k: f.cleaned_data[k] for k in ("title", "description", "request", "category")} for f in rows
        ]
        try:
            children = services.problem_split(
                actor=request.user,
                problem=problem,
                items=items,
                expected_version=form.cleaned_data["version"],
            )
        except ConflictError as exc:
            form.add_error(None, f"{exc.message}{CONFLICT_HINT}")
            problem = _problem(request, pk)
            form.data = form.data.copy()
            form.data[form.add_prefix("version")] = str(problem.version)
        except ValidationError as exc:
            for key, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
                parts = key.split(".")
                if len(parts) == 3 and parts[0] == "items":
                    rows[int(parts[1])].add_error(
                        parts[2] if parts[2] in ("description", "category") else None, errors
                    )
                else:
                    form.add_error(None, errors)
        else:
            messages.success(request, f"已分解为 {len(children)} 个子事项，请分别交办。")
            return redirect(_detail_url(problem))
    if formset.non_form_errors():
        form.add_error(None, list(formset.non_form_errors()))
    if form.is_bound and not form.errors and any(f.errors for f in formset.forms):
        form.add_error(None, "请检查子事项的填写。")
    return _render_detail(request, problem, bound={"split": form, "split_items": formset})


@require_POST
def assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    form = AssignForm(request.POST, problem=problem)
    return _act(
        request,
        problem,
        "assign",
        form,
        lambda d: services.problem_assign(
            actor=request.user,
            problem=problem,
            lead_unit=d["lead_unit"],
            co_units=list(d["co_units"]),
            leader=d["leader"],
            responsible_name=d["responsible_name"],
            responsible_phone=d["responsible_phone"],
            solution=d["solution"],
            deadline=d["deadline"],
            workdays=d["workdays"],
            expected_version=d["version"],
        ),
        "已交办，牵头单位和配合单位将在待办中看到该问题。",
    )


@require_POST
def progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    return _act(
        request,
        problem,
        "progress",
        ProgressForm(request.POST),
        lambda d: services.problem_progress(actor=request.user, problem=problem, text=d["text"]),
        "办理进展已报送。",
    )


@require_POST
def extension_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    return _act(
        request,
        problem,
        "extend",
        ExtensionForm(request.POST),
        lambda d: services.problem_extension_request(
            actor=request.user, problem=problem, until=d["until"], reason=d["reason"]
        ),
        "延期申请已提交，等待交办方审批。",
    )


@require_POST
def decide_view(request: HttpRequest, pk: int, ext_pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    extension = get_object_or_404(Extension, pk=ext_pk, problem=problem)
    form = DecideForm(request.POST)
    approve = request.POST.get("decide-decision") == "approve"
    return _act(
        request,
        problem,
        "decide",
        form,
        lambda d: services.problem_extension_decide(
            actor=request.user, extension=extension, approve=d["decision"] == "approve", note=d["note"]
        ),
        f"已{'同意' if approve else '不同意'}延期申请。",
    )


@require_POST
def resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    return _act(
        request,
        problem,
        "resolve",
        ResolveForm(request.POST),
        lambda d: services.problem_resolve(
            actor=request.user, problem=problem, resolution=d["resolution"], expected_version=d["version"]
        ),
        "已办结，等待反映人确认。",
    )


@require_POST
def confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    satisfied = request.POST.get("confirm-verdict") == "satisfied"
    return _act(
        request,
        problem,
        "confirm",
        ConfirmForm(request.POST),
        lambda d: services.problem_confirm(
            actor=request.user,
            problem=problem,
            satisfied=d["verdict"] == "satisfied",
            reason=d["reason"],
            expected_version=d["version"],
        ),
        "已确认满意，问题销号。" if satisfied else "已退回牵头单位重新办理。",
    )


@require_POST
def close_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    return _act(
        request,
        problem,
        "close",
        CloseForm(request.POST),
        lambda d: services.problem_close(
            actor=request.user, problem=problem, reason=d["reason"], expected_version=d["version"]
        ),
        "已销号。",
    )


@require_POST
def escalate_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    return _act(
        request,
        problem,
        "escalate",
        EscalateForm(request.POST),
        lambda d: services.problem_escalate(
            actor=request.user, problem=problem, leader=d["leader"], reason=d["reason"]
        ),
        "已提级协调，请在协调会后记录会议纪要和议定事项。",
    )


@require_POST
def coordination_view(request: HttpRequest, pk: int, coord_pk: int) -> HttpResponse:
    """Record a coordination meeting: date, minutes, and its decisions as tasks."""
    problem = _problem(request, pk)
    coordination = get_object_or_404(Coordination, pk=coord_pk, problem=problem)
    form = CoordinationForm(request.POST, prefix=f"c{coord_pk}")
    formset = TaskFormSet(
        request.POST, prefix=f"c{coord_pk}-tasks", form_kwargs={"unit_choices": unit_choices()}
    )
    if form.is_valid() and formset.is_valid():
        rows = [f for f in formset.forms if not f.is_blank()]
        tasks = [{k: f.cleaned_data[k] for k in ("text", "unit", "due_date")} for f in rows]
        try:
            services.coordination_record(
                actor=request.user,
                coordination=coordination,
                meeting_date=form.cleaned_data["meeting_date"],
                minutes=form.cleaned_data["minutes"],
                tasks=tasks,
            )
        except ValidationError as exc:
            for key, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
                parts = key.split(".")
                if len(parts) == 3 and parts[0] == "tasks":
                    rows[int(parts[1])].add_error(parts[2], errors)
                else:
                    form.add_error(key if key in form.fields else None, errors)
        else:
            messages.success(request, "协调会纪要已记录。")
            return redirect(f"{_detail_url(problem)}#coordination-{coord_pk}")
    if formset.non_form_errors():
        form.add_error(None, list(formset.non_form_errors()))
    return _render_detail(request, problem, record=(coord_pk, form, formset))


@require_POST
def task_done_view(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    task = get_object_or_404(CoordinationTask, pk=task_pk, coordination__problem=problem)
    done = request.POST.get("done", "1") == "1"
    services.coordination_task_done(actor=request.user, task=task, done=done)
    messages.success(request, "议定事项已标记为完成。" if done else "议定事项已改为未完成。")
    return redirect(f"{_detail_url(problem)}#coordination-{task.coordination_id}")


@require_POST
def attachment_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    form = AttachmentForm(request.POST, request.FILES)

    def run(d):
        upload = d["file"]  # its size was checked by the form before reading
        services.problem_attachment_add(
            actor=request.user,
            problem=problem,
            name=upload.name,
            content=upload.read(),
            description=d["description"],
        )

    return _act(request, problem, "attach", form, run, "附件已上传。")


@require_GET
def attachment_download(request: HttpRequest, pk: int, att_pk: int) -> FileResponse:
    """Attachments live outside the web root; only accounts that read the problem get them."""
    problem = _problem(request, pk)
    attachment = get_object_or_404(ProblemAttachment, pk=att_pk, problem=problem)
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
def attachment_delete_view(request: HttpRequest, pk: int, att_pk: int) -> HttpResponse:
    problem = _problem(request, pk)
    attachment = get_object_or_404(ProblemAttachment, pk=att_pk, problem=problem)
    services.problem_attachment_delete(actor=request.user, attachment=attachment)
    messages.success(request, f"附件“{attachment.original_name}”已删除。")
    return redirect(f"{_detail_url(problem)}#attachments")
