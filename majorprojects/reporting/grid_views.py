"""Batch entry for counties and departments (批量填报): the period's grid, one row per report,
each row saved on its own over HTMX; and the period's Excel template, downloaded pre-filled and
uploaded back all-or-nothing. Rows come from accounts.scope.fillable_reports, every change goes
through reporting.services (one event per report), cells are read by reporting.excel."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from majorprojects.accounts.scope import can_change_projects, fillable_reports
from majorprojects.core.errors import ConflictError
from majorprojects.core.forms import BootstrapMixin
from majorprojects.core.templatetags.platform_tags import wan
from majorprojects.core.text import compact, normalize
from majorprojects.organisation.models import Region
from majorprojects.projects.importing.reader import ImportFileError, size_text
from majorprojects.projects.importing.values import CellError

from . import excel, services
from .models import EDITABLE, Period, Report, Status
from .validation import FIELD_LABELS

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEY_PATTERN = re.compile(r"^[0-9a-f-]{16,40}$")
EXPIRED = "页面已过期，请点击“载入最新”后重新填写。"
SUBMITTABLE = (Status.DRAFT, Status.RETURNED)


@dataclass(frozen=True)
class GridColumn:
    name: str
    label: str
    kind: str  # money | derived | percent | long | bool | date
    width: int  # minimum width in rem

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "derived", "percent")


GRID_COLUMNS = [
    GridColumn("investment", "本期完成投资（万元）", "money", 7),
    GridColumn("year_to_date", "本年累计", "derived", 6),
    GridColumn("since_start", "开工累计", "derived", 6),
    GridColumn("percent_complete", "完成比例（%）", "percent", 4),
    GridColumn("progress", "形象进度", "long", 14),
    GridColumn("next_plan", "下期计划", "long", 12),
    GridColumn("stats_included", "是否入统", "bool", 4.5),
    GridColumn("stats_date", "入统日期", "date", 6.5),
    GridColumn("started_on", "开工日期", "date", 6.5),
    GridColumn("completed_on", "竣工日期", "date", 6.5),
    GridColumn("note", "情况说明", "long", 11),
]
MONEY_COLUMNS = ("investment", "year_to_date", "since_start")


def grid_columns(period: Period) -> list[GridColumn]:
    """Weekly periods carry no money: no investment and no totals."""
    return [c for c in GRID_COLUMNS if period.carries_investment or c.name not in MONEY_COLUMNS]


def _input_columns(period: Period) -> list[GridColumn]:
    return [c for c in grid_columns(period) if c.kind != "derived"]


# --- access --------------------------------------------------------------------------------------


def _require_filler(request: HttpRequest) -> None:
    if not can_change_projects(request.user):
        raise PermissionDenied("您的账号不能填报调度表。")


def _period(pk: int) -> Period:
    return get_object_or_404(Period.objects.select_related("schedule"), pk=pk)


def _scoped(user, period: Period) -> QuerySet:
    return fillable_reports(user).filter(period=period)


def _row_report(user, period: Period, report_pk: int) -> Report:
    """One report of this period the user may fill, else 404 (never reveals that it exists)."""
    try:
        report = _scoped(user, period).select_related("project__region").get(pk=report_pk)
    except Report.DoesNotExist:
        raise Http404("报表不存在或无权访问")
    report.period = period
    return report


# --- one row -------------------------------------------------------------------------------------


def _new_key() -> str:
    return str(uuid.uuid4())


def _shown(value, kind: str) -> str:
    """A stored value as the grid's input shows it (plain numbers, ISO dates, 是/否)."""
    if value is None:
        return ""
    if kind == "bool":
        return "是" if value else "否"
    return excel.canonical(value)


def _label(name: str) -> str:
    if name == "__all__":
        return ""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        return str(Report._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _error_dict(exc: ValidationError) -> dict[str, str]:
    if not hasattr(exc, "error_dict"):
        return {"__all__": "；".join(exc.messages)}
    return {name: "；".join(errors) for name, errors in exc.message_dict.items()}


@dataclass
class GridRow:
    report: Report
    cells: list[dict]
    editable: bool
    version: int
    key: str = field(default_factory=_new_key)
    message: str = ""
    saved: str = ""  # "" | "saved" | "submitted"
    unsaved: bool = False
    conflict: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.message) or any(c["error"] for c in self.cells)


def build_row(
    report: Report,
    period: Period,
    *,
    typed: dict | None = None,
    errors: dict | None = None,
    message: str = "",
    version: int | None = None,
    **state,
) -> GridRow:
    """The row as shown: what the person typed (after an error) or what is stored, each cell's
    error, and a message for errors that belong to no shown cell."""
    errors = dict(errors or {})
    cells = []
    for column in grid_columns(period):
        if column.kind == "derived":
            value = getattr(report, column.name)
        elif typed is not None and column.name in typed:
            value = typed[column.name]
        else:
            value = _shown(getattr(report, column.name), column.kind)
        cells.append({"column": column, "value": value, "error": errors.pop(column.name, "")})
    rest = "；".join(errors.values())  # the services' messages name their field
    if message.endswith("："):  # a lead-in ("未能报送：") followed by what is wrong
        message = message + rest if rest else message.rstrip("：") + "，请按标红的单元格修改。"
    elif rest:
        message = f"{message}；{rest}" if message else rest
    return GridRow(
        report=report,
        cells=cells,
        editable=report.is_editable,
        version=report.version if version is None else version,
        message=message,
        **state,
    )


def _render_row(request: HttpRequest, period: Period, row: GridRow) -> HttpResponse:
    return render(request, "reporting/_grid_row.html", {"row": row, "period": period})


def _posted(request: HttpRequest, period: Period) -> tuple[dict, dict, dict]:
    """(raw text as typed, typed values, cell errors) for the row's inputs that were sent."""
    raw, values, errors = {}, {}, {}
    for column in _input_columns(period):
        if column.name not in request.POST:
            continue
        raw[column.name] = request.POST[column.name]
        try:
            values[column.name] = excel.parse_value(column.name, raw[column.name])
        except CellError as exc:
            errors[column.name] = f"{_label(column.name)}：{exc.message}。"
    return raw, values, errors


def _differences(values: dict, current: Report) -> str:
    """What the other person saved that differs from what was typed (shown on a conflict)."""
    parts = []
    for name, value in values.items():
        theirs = getattr(current, name)
        if excel.canonical(value) != excel.canonical(theirs):
            shown = _shown(theirs, "bool" if name == "stats_included" else "")
            if name == "investment" and theirs is not None:
                shown = f"{wan(theirs)} 万元"
            parts.append(f"{_label(name)}“{shown or '空'}”")
    return f"对方保存的内容：{'；'.join(parts)}。" if parts else ""


@require_http_methods(["GET", "POST"])
def grid_row(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    """GET: the row as stored (载入最新). POST: save the row (action=submit: save, then submit)."""
    _require_filler(request)
    period = _period(pk)
    report = _row_report(request.user, period, report_pk)
    if request.method == "GET":
        if not request.headers.get("HX-Request"):  # the row alone is no page: show the grid
            return redirect("reporting:grid", pk=period.pk)
        return _render_row(request, period, build_row(report, period))
    if not report.is_editable:
        reason = (
            f"{period.label}已锁定，如需修改请提交更正申请。"
            if period.is_locked
            else f"报表{report.get_status_display()}，不能再修改。"
        )
        return _render_row(request, period, build_row(report, period, message=reason))
    raw, values, errors = _posted(request, period)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    key = request.POST.get("key", "").strip().lower()
    if version is None or not KEY_PATTERN.match(key):
        return _render_row(
            request, period, build_row(report, period, typed=raw, message=EXPIRED, unsaved=True)
        )
    if errors:
        row = build_row(report, period, typed=raw, errors=errors, version=version, unsaved=True)
        return _render_row(request, period, row)
    submit = request.POST.get("action") == "submit"
    saved = None
    try:
        saved = services.report_save(
            actor=request.user, report=report, data=values, expected_version=version, key=f"{key}:save"
        )
        if submit:
            saved = services.report_submit(
                actor=request.user, report=saved, expected_version=saved.version, key=f"{key}:submit"
            )
    except ConflictError as exc:
        current = _row_report(request.user, period, report_pk)
        message = (
            f"{exc.message}{_differences(values, current)}"
            "您填写的内容仍在本行，核对后再次保存将以您填写的为准；点击“载入最新”可放弃您的填写。"
        )
        row = build_row(current, period, typed=raw, message=message, unsaved=True, conflict=True)
        return _render_row(request, period, row)
    except ValidationError as exc:
        if saved is not None:  # saved as a draft, but not complete enough to submit
            current = _row_report(request.user, period, report_pk)
            row = build_row(
                current,
                period,
                errors=_error_dict(exc),
                message="已保存为草稿，但还不能报送：",
                saved="saved",
            )
            return _render_row(request, period, row)
        row = build_row(report, period, typed=raw, errors=_error_dict(exc), version=version, unsaved=True)
        return _render_row(request, period, row)
    current = _row_report(request.user, period, report_pk)
    return _render_row(request, period, build_row(current, period, saved="submitted" if submit else "saved"))


# --- the grid page -------------------------------------------------------------------------------

STATUS_CHOICES = [("", "全部状态"), ("open", "未报送（待填报、草稿、已退回）"), *Status.choices]


class GridFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label="项目",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称或代码", "type": "search"}),
    )
    region = forms.ModelChoiceField(label="区域", queryset=None, required=False, empty_label="全部区域")
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, regions: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        for name in self.fields:
            self.fields[name].widget.attrs["class"] += (
                " form-control-sm" if name == "q" else " form-select-sm"
            )

    def filter(self, qs: QuerySet) -> QuerySet:
        """Narrow the scoped reports; an invalid filter is ignored, the others apply."""
        if not self.is_bound:
            return qs
        self.is_valid()
        data = self.cleaned_data
        if data.get("region"):
            qs = qs.filter(project__region__path__startswith=data["region"].path)
        if data.get("status") == "open":
            qs = qs.filter(status__in=EDITABLE)
        elif data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("q"):
            q = normalize(data["q"])
            qs = qs.filter(Q(project__name__icontains=q) | Q(project__code__icontains=q))
        return qs


def _grid_page(request: HttpRequest, period: Period, row_errors: dict | None = None) -> HttpResponse:
    user = request.user
    base = _scoped(user, period)
    regions = Region.objects.filter(pk__in=base.values("project__region_id").order_by().distinct()).order_by(
        "path"
    )
    form = GridFilterForm(request.GET or None, regions=regions)
    qs = (
        form.filter(base)
        .select_related("project__region")
        .order_by("project__region__path", "project__name", "pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    row_errors = row_errors or {}
    rows = []
    for report in page:
        report.period = period
        errors = row_errors.get(report.pk)
        rows.append(build_row(report, period, errors=errors, message="未能报送：" if errors else ""))
    counts = dict(base.order_by().values_list("status").annotate(n=Count("id")))
    summary = [(label, counts.get(value, 0)) for value, label in Status.choices if counts.get(value)]
    context = {
        "period": period,
        "form": form,
        "page": page,
        "rows": rows,
        "columns": grid_columns(period),
        "locked": period.is_locked,
        "total": sum(counts.values()),
        "summary": summary,
    }
    return render(request, "reporting/grid.html", context)


def _submit_all(request: HttpRequest, period: Period) -> dict[int, dict] | None:
    """报送本页全部草稿: submit each draft or returned report listed on the page on its own; the
    ones that pass are sent, the others keep their errors per row."""
    if period.is_locked:
        messages.error(request, f"{period.label}已锁定，不能再报送。")
        return None
    ids = {int(v) for v in request.POST.getlist("report") if v.isdigit()}
    reports = list(
        _scoped(request.user, period)
        .filter(pk__in=ids, status__in=SUBMITTABLE)
        .select_related("project")
        .order_by("project__name", "pk")
    )
    if not reports:
        messages.info(request, "本页没有待报送的草稿。")
        return None
    failed: dict[int, dict] = {}
    done = late = 0
    for report in reports:
        try:
            sent = services.report_submit(actor=request.user, report=report)
        except ValidationError as exc:
            failed[report.pk] = _error_dict(exc)
        else:
            done += 1
            late += sent.is_late
    if done:
        text = f"已报送 {done} 份报表，等待审核。"
        if late:
            text += f"其中 {late} 份已过报送期限，计为迟报。"
        messages.success(request, text)
    if failed:
        names = "、".join(r.project.name for r in reports if r.pk in failed)
        messages.warning(request, f"{len(failed)} 份未能报送（{names}）：请按行内提示补充或修改后再报送。")
    return failed or None


@require_http_methods(["GET", "POST"])
def grid(request: HttpRequest, pk: int) -> HttpResponse:
    """The period's grid (GET); POST submits every draft listed on the page."""
    _require_filler(request)
    period = _period(pk)
    if request.method == "POST":
        failed = _submit_all(request, period)
        if not failed:
            return redirect(request.get_full_path())
        return _grid_page(request, period, failed)
    return _grid_page(request, period)


# --- the Excel template --------------------------------------------------------------------------


def _template_reports(user, period: Period) -> list[Report]:
    reports = list(
        _scoped(user, period)
        .select_related("project__region")
        .order_by("project__region__path", "project__name", "pk")
    )
    for report in reports:
        report.period = period
    return reports


@require_GET
def template_download(request: HttpRequest, pk: int) -> HttpResponse:
    _require_filler(request)
    period = _period(pk)
    content = excel.template_xlsx(period=period, reports=_template_reports(request.user, period))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"{period.label}调度表.xlsx")
    return response


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="填报模板",
        help_text="本期下载的填报模板（.xlsx），填好后上传",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        error_messages={"required": "请选择要上传的文件。", "empty": "文件为空。"},
    )
    submit = forms.BooleanField(
        label="导入后直接报送",
        required=False,
        help_text="导入的报表同时报送审核；任何一份不能报送时全部不导入",
    )


@dataclass
class UploadResult:
    saved: list[tuple[int, Report]] = field(default_factory=list)
    submitted: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _where(row: excel.Row, name: str, headers: dict[str, str]) -> str:
    if name == "__all__":
        return f"第 {row.number} 行"
    header = headers.get(name) or (excel.BY_KEY[name].header if name in excel.BY_KEY else _label(name))
    return f"第 {row.number} 行「{header}」"


def _row_errors(row: excel.Row, errors: dict[str, str], headers: dict[str, str]) -> list[str]:
    return [f"{_where(row, name, headers)}：{text.rstrip('。')}。" for name, text in errors.items()]


@dataclass
class _Index:
    """The user's fillable reports of the period, by report id, project code and project name."""

    by_id: dict[int, Report]
    by_code: dict[str, Report]
    by_name: dict[str, list[Report]]

    @classmethod
    def of(cls, reports: list[Report]) -> _Index:
        by_name: dict[str, list[Report]] = {}
        for report in reports:
            by_name.setdefault(compact(report.project.name), []).append(report)
        return cls(
            by_id={r.pk: r for r in reports},
            by_code={compact(r.project.code): r for r in reports if r.project.code},
            by_name=by_name,
        )


def _match(row: excel.Row, period: Period, index: _Index) -> tuple[Report | None, str]:
    """The row's report among the user's fillable reports of the period: by report id, else by
    project code, else by project name. (report, "") or (None, why not)."""
    if row.report_id:
        report = index.by_id.get(row.report_id)
        if report is None:
            return None, (
                f"报表编号 {row.report_id} 不是{period.label}您可填报的报表（可能属于其他期次，"
                "或项目不在您的管辖范围内），请使用本期下载的模板。"
            )
        project = report.project
        if row.code and row.code != compact(project.code):
            return None, (
                f"项目代码“{row.code}”与报表编号对应的项目“{project.name}”不一致，请勿改动项目代码和隐藏列。"
            )
        if not row.code and row.name and compact(row.name) != compact(project.name):
            return None, (
                f"项目名称“{row.name}”与报表编号对应的项目“{project.name}”不一致，请勿改动项目名称和隐藏列。"
            )
        return report, ""
    if row.code:
        report = index.by_code.get(row.code)
        if report is None:
            return None, f"项目代码“{row.code}”不在{period.label}您可填报的项目中。"
        return report, ""
    found = index.by_name.get(compact(row.name), [])
    if not found:
        return None, f"项目“{row.name}”不在{period.label}您可填报的项目中。"
    if len(found) > 1:
        return None, f"有 {len(found)} 个项目名为“{row.name}”，请填写项目代码以区分。"
    return found[0], ""


def upload_apply(*, actor, period: Period, upload: excel.Upload, submit: bool) -> UploadResult:
    """Apply every row through services.report_save (and report_submit when asked) in ONE
    transaction: any error anywhere and nothing is written. Every row is still checked, so all
    errors come back at once, in row order, each naming the Excel row and the column header."""
    result = UploadResult()
    headers = upload.headers
    errors: list[tuple[int, str]] = []
    reports = list(_scoped(actor, period).select_related("project"))
    for report in reports:
        report.period = period
    index = _Index.of(reports)
    matched: list[tuple[excel.Row, Report]] = []
    seen: dict[int, int] = {}
    for row in upload.rows:
        errors += [(row.number, text) for text in _row_errors(row, row.errors, headers)]
        if not (row.report_id or row.code or row.name):
            continue
        report, problem = _match(row, period, index)
        if problem:
            errors.append((row.number, f"第 {row.number} 行：{problem}"))
            continue
        if report.pk in seen:
            errors.append(
                (
                    row.number,
                    f"第 {row.number} 行：与第 {seen[report.pk]} 行是同一项目（{report.project.name}），请只保留一行。",
                )
            )
            continue
        seen[report.pk] = row.number
        if not row.errors:
            matched.append((row, report))
    with transaction.atomic():
        for row, report in matched:
            current = excel.report_values(report, row.values)
            untouched = bool(row.digest) and row.digest == excel.digest(row.values, upload.fields)
            if excel.same_values(row.values, current) or untouched:
                result.unchanged += 1  # an untouched row leaves a report changed online alone
                continue
            try:
                saved = services.report_save(
                    actor=actor, report=report, data=row.values, expected_version=row.version
                )
            except ConflictError as exc:
                errors.append(
                    (
                        row.number,
                        f"第 {row.number} 行（{report.project.name}）：下载模板后该报表又被修改过。"
                        f"{exc.message}请重新下载模板核对。",
                    )
                )
            except ValidationError as exc:
                errors += [(row.number, text) for text in _row_errors(row, _error_dict(exc), headers)]
            else:
                result.saved.append((row.number, saved))
        if submit and not errors:
            for i, (number, saved) in enumerate(result.saved):
                try:
                    sent = services.report_submit(actor=actor, report=saved, expected_version=saved.version)
                except ValidationError as exc:
                    row = excel.Row(number=number)
                    errors += [(number, text) for text in _row_errors(row, _error_dict(exc), headers)]
                else:
                    result.saved[i] = (number, sent)
                    result.submitted += 1
        if errors:
            transaction.set_rollback(True)
            result.saved, result.submitted, result.unchanged = [], 0, 0
    result.errors = [text for _number, text in sorted(errors, key=lambda e: e[0])]
    return result


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    _require_filler(request)
    period = _period(pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        if period.is_locked:
            form.add_error(None, f"{period.label}已锁定，不能再导入；如需修改请提交更正申请。")
        elif file.size > settings.IMPORT_MAX_BYTES:
            form.add_error("file", f"文件超过 {size_text(settings.IMPORT_MAX_BYTES)} 的上限，请拆分后导入。")
        else:
            try:
                parsed = excel.read_upload(
                    name=file.name, content=file.read(), carries_investment=period.carries_investment
                )
            except ImportFileError as exc:
                form.add_error("file", exc.message)
            else:
                result = upload_apply(
                    actor=request.user, period=period, upload=parsed, submit=form.cleaned_data["submit"]
                )
                if not result.errors:
                    context = {"period": period, "result": result, "file_name": file.name}
                    return render(request, "reporting/upload_result.html", context)
                errors = result.errors
    context = {
        "period": period,
        "form": form,
        "errors": errors,
        "max_size": size_text(settings.IMPORT_MAX_BYTES),
        "count": _scoped(request.user, period).count(),
    }
    return render(request, "reporting/upload.html", context)
