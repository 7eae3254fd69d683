"""Forms of the problem-ledger pages. They only read and shape input (choices come from the
user's scope); every rule — who may act, states, deadlines, required texts — is checked in
problems.services, whose {field: message} errors the views put back under the fields."""

from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    can_change_projects,
    problem_filter_regions,
    visible_problems,
    visible_projects,
)
from majorprojects.core.forms import BootstrapMixin, DateInput
from majorprojects.organisation.models import Person, Unit

from . import conf, selectors
from .models import FOLDED, HANDLING_KINDS, OPEN, Category, Problem, Source, Status, Urgency
from .services import DEFAULT_SOURCE, MAX_SPLIT, MAX_WORKDAYS

MAX_FILES = 10


def check_upload_size(upload) -> None:
    """Refuse a file over the attachment limit from its declared size, before it is read (the
    same limit and message as projects.services.check_attachment)."""
    if upload is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise forms.ValidationError(f"{upload.name}：文件超过 {limit} MB 的上限。")


def _text(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class VersionMixin(forms.Form):
    """The problem's version when the page was shown (optimistic check in the services)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        unit = f"，{obj.unit}" if obj.unit_id else ""
        return f"{obj.name}（{obj.position or '—'}{unit}）"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the attachment service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(MultipleFileField, self).clean(f, initial) for f in files]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"一次最多上传 {MAX_FILES} 个附件。")
        for f in files:
            check_upload_size(f)
        return files


def handling_units(current: Problem | None = None):
    q = Q(is_active=True, kind__in=HANDLING_KINDS)
    if current is not None and current.lead_unit_id:
        q |= Q(pk=current.lead_unit_id)
    return Unit.objects.filter(q).order_by("kind", "name")


# --- Raising ---------------------------------------------------------------------------------


class RaiseForm(BootstrapMixin, forms.Form):
    project = forms.ModelChoiceField(label="项目", queryset=None, empty_label="请选择项目")
    category = forms.ModelChoiceField(label="问题类别", queryset=None, empty_label="请选择问题类别")
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, initial=Urgency.NORMAL)
    source = forms.ChoiceField(label="来源", choices=(), required=False)
    title = forms.CharField(
        label="问题概述", max_length=100, required=False, help_text="可不填，默认取问题描述的第一句"
    )
    description = forms.CharField(label="问题描述", widget=_text(5))
    request = forms.CharField(label="诉求", widget=_text(3), required=False, help_text="希望协调解决的事项")
    attachments = MultipleFileField(
        label="附件",
        required=False,
        help_text="可多选；PDF、JPG、PNG、Word、Excel，单个文件不超过上限",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        projects = visible_projects(user) if can_change_projects(user) else visible_projects(user).none()
        self.fields["project"].queryset = projects.only("pk", "name").order_by("name", "pk")
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        if user.role == Role.PROJECT_UNIT:
            del self.fields["source"]
        else:
            own = DEFAULT_SOURCE.get(user.role, Source.VISIT)
            choices = [(own, Source(own).label)] + (
                [] if own == Source.VISIT else [(Source.VISIT, Source.VISIT.label)]
            )
            self.fields["source"].choices = choices
            self.fields["source"].initial = own
        self.fields["attachments"].widget.attrs["class"] = "form-control"


# --- Analysis --------------------------------------------------------------------------------


class AcceptForm(BootstrapMixin, VersionMixin):
    prefix = "accept"
    category = forms.ModelChoiceField(
        label="问题类别",
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label="（不改变）",
        help_text="研判时可更正类别，如调度表中反映的问题默认为“其他”。",
    )
    note = forms.CharField(label="受理意见", widget=_text(2), required=False)


class MergeForm(BootstrapMixin, VersionMixin):
    prefix = "merge"
    into = forms.ModelChoiceField(
        label="合并到",
        queryset=None,
        empty_label="请选择要合并到的问题",
        help_text="合并后本问题的反映人在目标问题中跟踪办理；办理结果由目标问题的反映人确认"
        "（目标问题不是企业反映的，本问题的反映人也可确认）。",
    )
    reason = forms.CharField(label="合并理由", widget=_text(2), required=False)

    def __init__(self, *args, user, problem: Problem, **kwargs):
        super().__init__(*args, **kwargs)
        # Duplicates are raised on the same project or in the same region.
        self.fields["into"].queryset = (
            selectors.problem_list(user)
            .filter(Q(project_id=problem.project_id) | Q(region_id=problem.region_id), status__in=OPEN)
            .exclude(pk=problem.pk)
            .order_by("-created_at", "-pk")
        )
        self.fields["into"].label_from_instance = lambda p: f"#{p.pk} {p.title}（{p.project.name}）"


class SubItemForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label="子事项概述", max_length=100, required=False)
    description = forms.CharField(label="问题描述", widget=_text(2), required=False)
    request = forms.CharField(label="诉求", widget=_text(2), required=False)
    category = forms.ModelChoiceField(
        label="问题类别",
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label="同原问题",
    )

    def __init__(self, *args, category_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if category_choices is not None:  # one query for the whole formset
            self.fields["category"].choices = category_choices

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(k) for k in ("title", "description", "request"))


SubItemFormSet = forms.formset_factory(SubItemForm, extra=4, max_num=MAX_SPLIT, absolute_max=MAX_SPLIT)


def category_choices() -> list:
    return [("", "同原问题"), *Category.objects.filter(is_active=True).values_list("pk", "name")]


class SplitForm(BootstrapMixin, VersionMixin):
    """The version; the sub-items come in SubItemFormSet (prefix "items")."""

    prefix = "split"


# --- Assignment (五到位) -------------------------------------------------------------------------


class AssignForm(BootstrapMixin, VersionMixin):
    prefix = "assign"
    lead_unit = forms.ModelChoiceField(label="牵头单位", queryset=None, empty_label="请选择牵头单位")
    co_units = forms.ModelMultipleChoiceField(
        label="配合单位", queryset=None, required=False, help_text="可多选（按住 Ctrl 或在手机上点选）"
    )
    leader = PersonChoiceField(label="责任领导", queryset=None, empty_label="请选择责任领导")
    responsible_name = forms.CharField(label="责任人", max_length=50)
    responsible_phone = forms.CharField(label="责任人电话", max_length=30, required=False)
    solution = forms.CharField(label="解决方案", widget=_text(3))
    deadline = forms.DateField(label="办理时限（日期）", required=False, widget=DateInput())
    workdays = forms.IntegerField(
        label="或：工作日天数",
        required=False,
        min_value=1,
        max_value=MAX_WORKDAYS,
        help_text="按法定工作日从今天起推算（节假日、调休已计入）；与日期二选一",
    )

    def __init__(self, *args, problem: Problem, **kwargs):
        if not args and "initial" not in kwargs and problem.lead_unit_id:
            kwargs["initial"] = {
                "lead_unit": problem.lead_unit_id,
                "co_units": [u.pk for u in problem.co_units.all()],
                "leader": problem.leader_id,
                "responsible_name": problem.responsible_name,
                "responsible_phone": problem.responsible_phone,
                "solution": problem.solution,
                "deadline": problem.deadline,
            }
        super().__init__(*args, **kwargs)
        units = handling_units(problem)
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units
        self.fields["co_units"].widget.attrs["size"] = 6
        self.fields["leader"].queryset = (
            Person.objects.filter(is_leader=True).select_related("unit").order_by("sort_order", "name")
        )


# --- Handling --------------------------------------------------------------------------------


class ProgressForm(BootstrapMixin, forms.Form):
    prefix = "progress"
    text = forms.CharField(label="进展情况", widget=_text(3))


class ExtensionForm(BootstrapMixin, forms.Form):
    prefix = "extend"
    until = forms.DateField(label="申请延至", widget=DateInput())
    reason = forms.CharField(label="延期理由", widget=_text(2))


class DecideForm(BootstrapMixin, forms.Form):
    prefix = "decide"
    decision = forms.ChoiceField(
        choices=[("approve", "同意"), ("reject", "不同意")], widget=forms.HiddenInput
    )
    note = forms.CharField(label="审批意见", widget=_text(2), required=False, help_text="不同意时必填")


class ResolveForm(BootstrapMixin, VersionMixin):
    prefix = "resolve"
    resolution = forms.CharField(
        label="办理结果", widget=_text(3), help_text="写明已经办了什么、解决到什么程度"
    )


class ConfirmForm(BootstrapMixin, VersionMixin):
    prefix = "confirm"
    verdict = forms.ChoiceField(
        choices=[("satisfied", "满意"), ("unsatisfied", "不满意")], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label="意见", widget=_text(2), required=False, help_text="不满意时必填，说明原因"
    )


class CloseForm(BootstrapMixin, VersionMixin):
    prefix = "close"
    reason = forms.CharField(label="销号理由", widget=_text(2))


# --- Escalation and coordination ---------------------------------------------------------------


class EscalateForm(BootstrapMixin, forms.Form):
    prefix = "escalate"
    leader = PersonChoiceField(label="协调领导", queryset=None, empty_label="请选择领导")
    reason = forms.CharField(label="提级理由", widget=_text(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = Person.objects.filter(is_leader=True).select_related("unit")


class CoordinationForm(BootstrapMixin, forms.Form):
    meeting_date = forms.DateField(label="协调会日期", widget=DateInput())
    minutes = forms.CharField(label="会议纪要", widget=_text(3))


class TaskForm(BootstrapMixin, forms.Form):
    text = forms.CharField(label="议定事项", required=False)
    unit = forms.ModelChoiceField(label="责任单位", queryset=None, required=False, empty_label="请选择")
    due_date = forms.DateField(label="完成时限", required=False, widget=DateInput())

    def __init__(self, *args, unit_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = handling_units()
        if unit_choices is not None:  # one query for the whole formset
            self.fields["unit"].choices = unit_choices

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(k) for k in ("text", "unit", "due_date"))


TaskFormSet = forms.formset_factory(TaskForm, extra=3, max_num=20, absolute_max=20)


def unit_choices() -> list:
    return [("", "请选择"), *handling_units().values_list("pk", "name")]


class AttachmentForm(BootstrapMixin, forms.Form):
    prefix = "attach"
    file = forms.FileField(label="文件")
    description = forms.CharField(label="说明", max_length=200, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload_size(upload)
        return upload


# --- Lists -------------------------------------------------------------------------------------

YES_NO = [("", "全部"), ("1", "逾期"), ("0", "未逾期")]
# The status filter: by default merged duplicates and split parents are left out (their target
# and sub-items are listed, as in the figures); "all" lists them too.
ALL_STATUSES = "all"
STATUS_CHOICES = [
    ("", "全部（不含已合并、已分解）"),
    (ALL_STATUSES, "全部（含已合并、已分解）"),
    ("open", "未销号"),
    *Status.choices,
]


class ProblemFilterForm(BootstrapMixin, forms.Form):
    """The ledger's filters; `filter(qs)` applies them through selectors.problem_filter. Invalid
    values are ignored (and listed above the results)."""

    q = forms.CharField(label="搜索", required=False, max_length=100)
    status = forms.ChoiceField(label="状态", required=False)
    category = forms.ModelChoiceField(label="问题类别", queryset=Category.objects.all(), required=False)
    unit = forms.ModelChoiceField(label="办理单位", queryset=None, required=False)
    region = forms.ModelChoiceField(label="区域", queryset=None, required=False)
    overdue = forms.ChoiceField(label="是否逾期", choices=YES_NO, required=False)
    level = forms.TypedChoiceField(label="督办等级", required=False, coerce=int, empty_value=None)
    project = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "问题、诉求或项目名称"
        self.fields["status"].choices = STATUS_CHOICES
        # Units handling problems the user reads (not every unit city-wide).
        readable = visible_problems(user).values("pk")
        co = Problem.co_units.through.objects.filter(problem_id__in=readable).values("unit_id")
        leads = visible_problems(user).filter(lead_unit__isnull=False).values("lead_unit_id")
        self.fields["unit"].queryset = Unit.objects.filter(Q(pk__in=leads) | Q(pk__in=co)).order_by(
            "kind", "name"
        )
        self.fields["region"].queryset = problem_filter_regions(user).order_by("path")
        self.fields["region"].label_from_instance = lambda r: ("　" * max(r.depth - 1, 0)) + r.name
        self.fields["level"].choices = [("", "全部")] + [(str(k), v) for k, v in conf.level_choices()]
        for name in ("category", "unit", "region"):
            self.fields[name].empty_label = "全部"
        for field in self.fields.values():  # compact, like the project list's filters
            css = field.widget.attrs.get("class", "")
            size = "form-select-sm" if "form-select" in css else "form-control-sm"
            field.widget.attrs["class"] = f"{css} {size}"

    def filter(self, qs, today: date | None = None):
        self.is_valid()  # fields that failed are left out of cleaned_data, hence ignored
        data = self.cleaned_data
        overdue = {"1": True, "0": False}.get(data.get("overdue") or "")
        status = data.get("status") or ""
        if not status:
            qs = qs.exclude(status__in=FOLDED)
        return selectors.problem_filter(
            qs,
            status=None if status in ("", ALL_STATUSES) else status,
            category=data.get("category"),
            unit=data.get("unit"),
            region=data.get("region"),
            overdue=overdue,
            level=data.get("level"),
            q=data.get("q") or "",
            project=data.get("project"),
            today=today,
        )


class WeekForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
    week = forms.IntegerField(min_value=1, max_value=53, required=False)

    def week_value(self) -> tuple[int, int]:
        """(ISO year, ISO week): the requested one if it exists, else this week."""
        today = timezone.localdate()
        current = today.isocalendar()
        if not self.is_valid():
            return current.year, current.week
        year = self.cleaned_data.get("year") or current.year
        week = self.cleaned_data.get("week") or current.week
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            return current.year, current.week
        return year, week
