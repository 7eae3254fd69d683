"""Forms of the dispatch pages: one report (fill, correct, return), the reports list's filters,
period filters, correction decisions and schedules. Forms only read input; every check on the
figures lives in reporting.validation and runs in the services, so the form, the grid, the
Excel upload and the API show the same Chinese messages."""

from __future__ import annotations

import re
import uuid
from datetime import date

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from majorprojects.accounts.scope import allowed_regions
from majorprojects.core.forms import AmountField, BootstrapMixin, DateInput
from majorprojects.core.text import normalize
from majorprojects.projects.models import FundingSource, ListKind, Stage

from .models import EDITABLE, Frequency, Period, Report, Schedule, Status
from .services import CORRECTABLE_FIELDS, REPORT_FIELDS
from .validation import REQUIRED, situation

MILESTONES = ("started_on", "structure_done_on", "completed_on", "operating_on")
DATE_FIELDS = (*MILESTONES, "stats_date")
TEXT_FIELDS = ("progress", "problems", "next_plan", "note")
KEY_PATTERN = re.compile(r"^[0-9a-f-]{16,40}$")


def new_key() -> str:
    """A fresh idempotency key for one rendering of a form."""
    return str(uuid.uuid4())


def _label(name: str) -> str:
    return str(Report._meta.get_field(name).verbose_name)


class StatsSelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "未填"), ("true", "是"), ("false", "否")]


def _styled(field: forms.Field, *, large: bool = False) -> forms.Field:
    """Bootstrap classes for a field added after the form was built (BootstrapMixin styles the
    declared ones)."""
    css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
    if large:
        css += " form-select-lg" if css == "form-select" else " form-control-lg"
    field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()
    return field


def report_field(name: str) -> forms.Field:
    """The input for one report field, with a Chinese message naming it."""
    label = _label(name)
    help_text = Report._meta.get_field(name).help_text
    if name == "investment":
        return AmountField(label=label, required=False, help_text="只填本期数；本年累计、开工累计由系统计算")
    if name == "percent_complete":
        return forms.DecimalField(
            label=label,
            required=False,
            max_digits=5,
            decimal_places=2,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            error_messages={
                "invalid": f"{label}应为 0 到 100 之间的数值。",
                "max_digits": f"{label}应为 0 到 100 之间的数值。",
                "max_decimal_places": f"{label}最多两位小数。",
                "max_whole_digits": f"{label}应为 0 到 100 之间的数值。",
            },
        )
    if name in DATE_FIELDS:
        return forms.DateField(
            label=label,
            required=False,
            widget=DateInput(),
            error_messages={"invalid": f"{label}应为日期（如 2026-10-15）。"},
        )
    if name == "stats_included":
        return forms.NullBooleanField(label="是否入统", required=False, widget=StatsSelect())
    if name in TEXT_FIELDS:
        return forms.CharField(
            label=label,
            required=False,
            max_length=4000,
            help_text=help_text,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages={"max_length": f"{label}不能超过 4000 字。"},
        )
    raise ValueError(name)


class ReportForm(BootstrapMixin, forms.Form):
    """The report a filler types: REPORT_FIELDS, this period's funds by source, and the hidden
    version (optimistic check) and idempotency key (a resent form is applied once)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    key = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, report: Report, **kwargs):
        if "data" not in kwargs and not args:
            kwargs["initial"] = self.initial_for(report)
        super().__init__(*args, **kwargs)
        self.report = report
        self.carries_investment = report.period.carries_investment
        names = [n for n in REPORT_FIELDS if self.carries_investment or n != "investment"]
        for name in names:
            self.fields[name] = _styled(report_field(name), large=True)
        if self.carries_investment:
            for source in FundingSource:
                self.fields[f"arrived_{source.value}"] = _styled(
                    AmountField(label=f"{source.label}本期到位（万元）", required=False)
                )
                self.fields[f"paid_{source.value}"] = _styled(
                    AmountField(label=f"{source.label}本期支付（万元）", required=False)
                )
        for name in ("version", "key"):
            self.fields[name].error_messages["required"] = "表单已过期，请刷新页面后重新填写。"
        # What submission will require (the project's situation decides: building, preparing …).
        self.required_on_submit = set(REQUIRED[situation(report)])

    @staticmethod
    def initial_for(report: Report) -> dict:
        initial = {name: getattr(report, name) for name in REPORT_FIELDS}
        for funds in report.funds.all():
            initial[f"arrived_{funds.source}"] = funds.arrived
            initial[f"paid_{funds.source}"] = funds.paid
        initial["version"] = report.version
        initial["key"] = new_key()
        return initial

    def clean_key(self):
        key = self.cleaned_data["key"].strip().lower()
        if not KEY_PATTERN.match(key):
            raise forms.ValidationError("表单已过期，请刷新页面后重新填写。")
        return key

    def main_fields(self):
        return [self[n] for n in REPORT_FIELDS if n in self.fields and n not in MILESTONES]

    def milestone_fields(self):
        return [self[n] for n in MILESTONES]

    def funds_rows(self):
        if not self.carries_investment:
            return []
        return [
            {"label": s.label, "arrived": self[f"arrived_{s.value}"], "paid": self[f"paid_{s.value}"]}
            for s in FundingSource
        ]

    def service_data(self) -> dict:
        return {n: self.cleaned_data.get(n) for n in REPORT_FIELDS if n in self.fields}

    def service_funds(self) -> dict | None:
        if not self.carries_investment:
            return None
        return {
            s.value: (
                self.cleaned_data.get(f"arrived_{s.value}") or 0,
                self.cleaned_data.get(f"paid_{s.value}") or 0,
            )
            for s in FundingSource
        }

    def keys(self) -> tuple[str, str]:
        """Separate keys for the save and the submit of one form (a submit saves first)."""
        key = self.cleaned_data["key"]
        return f"{key}:save", f"{key}:submit"

    def renew(self, *, version: int) -> None:
        """After a failed attempt: keep what was typed, but carry a fresh key (and the version the
        next attempt starts from) so the next click is a new request."""
        data = self.data.copy()
        data["key"] = new_key()
        data["version"] = str(version)
        self.data = data


class CorrectionForm(BootstrapMixin, forms.Form):
    """A correction of a locked report: the corrected values and the reason."""

    reason = forms.CharField(
        label="更正理由",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写更正理由。"},
    )

    def __init__(self, *args, report: Report, **kwargs):
        if "data" not in kwargs and not args:
            kwargs["initial"] = {name: getattr(report, name) for name in CORRECTABLE_FIELDS}
        super().__init__(*args, **kwargs)
        names = [n for n in CORRECTABLE_FIELDS if report.period.carries_investment or n != "investment"]
        fields = {name: _styled(report_field(name)) for name in names}
        fields["reason"] = self.fields.pop("reason")
        self.fields = fields

    def service_data(self) -> dict:
        return {n: self.cleaned_data.get(n) for n in CORRECTABLE_FIELDS if n in self.fields}


class ReturnForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label="退回原因",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "告诉填报人需要修改什么"}),
        error_messages={"required": "请填写退回原因，告诉填报人需要修改什么。"},
    )


class PhotoForm(BootstrapMixin, forms.Form):
    photo = forms.FileField(
        label="形象进度照片",
        help_text="JPG 或 PNG，每期最多 9 张",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={"required": "请选择要上传的照片。"},
    )


class DecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(
        label="审批结果", choices=[("approve", "批准更正"), ("reject", "驳回")], widget=forms.RadioSelect
    )
    note = forms.CharField(label="审批意见", required=False, max_length=1000)

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


# --- lists ---------------------------------------------------------------------------------------

STATUS_FILTER = [("", "全部状态"), *Status.choices]
VIEWS = {"all": "全部", "fill": "待我填报", "review": "待我审核"}


class ReportFilterForm(BootstrapMixin, forms.Form):
    """Filters of "我的调度": a preset (all / to fill / to review), period, status, region and a
    search on the project name or code."""

    view = forms.ChoiceField(
        label="范围", required=False, choices=list(VIEWS.items()), widget=forms.HiddenInput
    )
    period = forms.ModelChoiceField(label="期次", queryset=None, required=False, empty_label="全部期次")
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_FILTER)
    region = forms.ModelChoiceField(label="区域", queryset=None, required=False, empty_label="全部区域")
    q = forms.CharField(
        label="项目名称",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称或代码", "type": "search"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        since = date(timezone.localdate().year - 2, 1, 1)
        self.fields["period"].queryset = Period.objects.filter(ends_on__gte=since).order_by(
            "-ends_on", "schedule__order"
        )
        self.fields["region"].queryset = allowed_regions(user).order_by("path")

    @staticmethod
    def preset(qs: QuerySet, view: str, *, today) -> QuerySet:
        """To fill: editable reports of open periods that have begun; to review: sent reports.
        (The same conditions as selectors.todo.)"""
        if view == "fill":
            return qs.filter(
                status__in=EDITABLE, period__locked_at__isnull=True, period__starts_on__lte=today
            )
        if view == "review":
            return qs.filter(status=Status.SUBMITTED)
        return qs

    def filter(self, qs: QuerySet, *, today) -> QuerySet:
        """Narrow an already scoped queryset. An invalid filter is ignored, the others apply."""
        if not self.is_bound:
            return qs
        self.is_valid()
        data = self.cleaned_data
        qs = self.preset(qs, data.get("view") or "all", today=today)
        if data.get("period"):
            qs = qs.filter(period=data["period"])
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("region"):
            qs = qs.filter(project__region__path__startswith=data["region"].path)
        if data.get("q"):
            q = normalize(data["q"]).strip()
            qs = qs.filter(Q(project__name__icontains=q) | Q(project__code__icontains=q))
        return qs

    @property
    def view_value(self) -> str:
        if not self.is_bound:
            return ""
        self.is_valid()
        return self.cleaned_data.get("view") or ""


class PeriodFilterForm(BootstrapMixin, forms.Form):
    frequency = forms.ChoiceField(
        label="频次", required=False, choices=[("", "全部频次"), *Frequency.choices]
    )
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years = Period.objects.order_by("-year").values_list("year", flat=True).distinct()
        self.fields["year"].choices = [("", "全部年度"), *((y, f"{y}年") for y in years)]

    def filter(self, qs: QuerySet) -> QuerySet:
        if not (self.is_bound and self.is_valid()):
            return qs
        if self.cleaned_data.get("frequency"):
            qs = qs.filter(frequency=self.cleaned_data["frequency"])
        if self.cleaned_data.get("year"):
            qs = qs.filter(year=self.cleaned_data["year"])
        return qs


# --- schedules -----------------------------------------------------------------------------------

UNLISTED = ("unlisted", "未列入清单")


class ScheduleForm(BootstrapMixin, forms.ModelForm):
    """A reporting schedule. Saved by reporting.schedules.schedule_save (not by the form)."""

    list_kinds = forms.MultipleChoiceField(
        label="适用库别",
        required=False,
        choices=[*ListKind.choices, UNLISTED],
        widget=forms.CheckboxSelectMultiple,
        help_text="不选表示不限库别；“未列入清单”指当年未列入任何年度清单的项目",
    )
    stages = forms.MultipleChoiceField(
        label="适用阶段",
        required=False,
        choices=Stage.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选表示不限阶段",
    )

    class Meta:
        model = Schedule
        fields = [
            "name",
            "frequency",
            "list_kinds",
            "stages",
            "stats_pending_only",
            "due_day",
            "december_due_day",
            "due_weekday",
            "shift_holidays",
            "grace_days",
            "jump_multiple",
            "remaining_share",
            "order",
            "is_active",
            "starts_on",
        ]
        widgets = {"starts_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("list_kinds", "stages"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        for name in ("due_day", "december_due_day", "due_weekday", "grace_days", "order"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        for name in ("jump_multiple", "remaining_share"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"

    def clean(self):
        data = super().clean()
        if data.get("frequency") == Frequency.WEEKLY and data.get("december_due_day"):
            self.add_error("december_due_day", "周调度按星期截止，不设12月截止日。")
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
