"""Forms of the warnings pages (预警). They only read and shape input; who may act, states,
deadlines and the rule checks are alerts.services' and alerts.rules' business, whose
{field: message} errors the views put back under the fields."""

from __future__ import annotations

import json
import re

from django import forms
from django.conf import settings

from majorprojects.accounts.scope import allowed_regions
from majorprojects.core.forms import BootstrapMixin, DateInput
from majorprojects.organisation.models import Region
from majorprojects.projects.models import FundingSource, KeyLevel, ListKind, Stage

from .models import Approver, Light, Rule, Status, Subject
from .rules import registry

PERIOD_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
RULE_FILE_MAX_BYTES = 1024 * 1024


def parse_period(value: str | None) -> tuple[int, int] | None:
    """(year, month) from "YYYY-MM", None when empty or malformed."""
    match = PERIOD_RE.match((value or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return year, month


def period_label(year: int, month: int) -> str:
    return f"{year}年{month}月"


def _text(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class VersionMixin(forms.Form):
    """The warning's version when the page was shown (optimistic check in the services)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --- Lists ----------------------------------------------------------------------------------


class WarningFilterForm(BootstrapMixin, forms.Form):
    """预警列表's filters. `periods` are the scanned months offered in the picker."""

    period = forms.ChoiceField(label="月份", required=False)
    light = forms.ChoiceField(label="灯色", required=False, choices=[("", "全部"), *Light.choices])
    rule = forms.ChoiceField(label="规则", required=False)
    region = forms.ModelChoiceField(label="区域", queryset=None, required=False, empty_label="全部区域")
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部"), ("open", "未办结（待整改、整改中、待销号）"), *Status.choices],
    )
    subject = forms.ChoiceField(label="对象", required=False, choices=[("", "全部"), *Subject.choices])
    q = forms.CharField(
        label="搜索", required=False, max_length=50, widget=forms.TextInput(attrs={"placeholder": "项目名称"})
    )

    def __init__(self, data=None, *, user, periods: list[tuple[int, int]], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["period"].choices = [("", "全部月份")] + [
            (f"{y}-{m:02d}", period_label(y, m)) for y, m in periods
        ]
        self.fields["rule"].choices = [("", "全部规则")] + [
            (code, name)
            for code, name in Rule.objects.order_by("sort_order", "code").values_list("code", "name")
        ]
        self.fields["region"].queryset = allowed_regions(user).order_by("path")

    def filters(self) -> dict:
        """Keyword arguments for selectors.warning_list from the valid fields."""
        if not self.is_bound:
            return {}
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        out = {}
        period = parse_period(d.get("period"))
        if period:
            out["year"], out["month"] = period
        for name in ("light", "rule", "status", "subject"):
            if d.get(name):
                out[name] = d[name]
        if d.get("region"):
            out["region_id"] = d["region"].pk
        return out


# --- Workflow steps -------------------------------------------------------------------------


class NotifyForm(VersionMixin, BootstrapMixin, forms.Form):
    note = forms.CharField(label="通知说明", required=False, max_length=500, widget=_text(2))


class PlanForm(VersionMixin, BootstrapMixin, forms.Form):
    plan = forms.CharField(label="整改措施", max_length=2000, widget=_text(4))
    deadline = forms.DateField(label="整改时限", widget=DateInput)


class RectifiedForm(VersionMixin, BootstrapMixin, forms.Form):
    rectification = forms.CharField(label="整改情况", max_length=2000, widget=_text(4))
    file = forms.FileField(label="佐证材料（可选）", required=False, help_text="PDF、图片或办公文档。")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
            limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"{upload.name}：文件超过 {limit} MB 的上限。")
        return upload


class StrikeOffForm(VersionMixin, BootstrapMixin, forms.Form):
    note = forms.CharField(label="销号意见", required=False, max_length=500, widget=_text(2))


class ReopenForm(VersionMixin, BootstrapMixin, forms.Form):
    reason = forms.CharField(label="退回理由", max_length=2000, widget=_text(3))


class ExemptionForm(VersionMixin, BootstrapMixin, forms.Form):
    justification = forms.CharField(label="正当理由", max_length=2000, widget=_text(4))
    until = forms.CharField(
        label="适用至（月份，可选）",
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text="不填则只适用于本期；最长 12 个月。",
    )

    def clean_until(self):
        value = self.cleaned_data.get("until")
        if not value:
            return None
        period = parse_period(value)
        if period is None:
            raise forms.ValidationError("月份格式应为 YYYY-MM，如 2026-12。")
        return period


class DecideForm(VersionMixin, BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(
        label="审批结果",
        choices=[("approve", "批准（免于亮灯）"), ("reject", "不批准")],
    )
    note = forms.CharField(label="审批意见", required=False, max_length=500, widget=_text(2))


# --- Rules ----------------------------------------------------------------------------------


def metric_choices() -> list[tuple[str, str]]:
    return [
        (
            m.code,
            f"{m.label}（{Subject(m.subject).label}，{m.unit}，{'越大越差' if m.higher_is_worse else '越小越差'}）",
        )
        for m in registry().values()
    ]


class RuleForm(VersionMixin, BootstrapMixin, forms.Form):
    """One rule as the city admin edits it; `data_for_service()` gives its rule-file form, which
    alerts.services.rule_save checks exactly as a rule file is checked."""

    code = forms.CharField(
        label="规则代码", max_length=50, help_text="小写字母、数字、连字符，如 start-overdue。"
    )
    name = forms.CharField(label="规则名称", max_length=100)
    subject = forms.ChoiceField(label="对象", choices=Subject.choices)
    metric = forms.ChoiceField(label="指标")
    params = forms.CharField(
        label="指标参数（JSON）",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": '{"programme": "special_bond"}'}),
        help_text="没有参数时留空。",
    )
    yellow = forms.DecimalField(label="黄灯阈值", required=False, max_digits=14, decimal_places=4)
    red = forms.DecimalField(label="红灯阈值", required=False, max_digits=14, decimal_places=4)
    yellow_after = forms.IntegerField(label="连续几期达到阈值亮黄灯", initial=1, min_value=1)
    red_after = forms.IntegerField(
        label="连续几期达到阈值升红灯", required=False, min_value=2, help_text="不按连续期数升级时留空。"
    )
    grace_days = forms.IntegerField(label="期末后宽限天数", initial=0, min_value=0)
    grace_months = forms.IntegerField(label="每年前几个月不亮灯", initial=0, min_value=0)
    scope_lists = forms.MultipleChoiceField(
        label="适用库别",
        required=False,
        choices=ListKind.choices,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    scope_levels = forms.MultipleChoiceField(
        label="适用重点级别",
        required=False,
        choices=[c for c in KeyLevel.choices if c[0]],
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    scope_programmes = forms.MultipleChoiceField(
        label="适用资金类别",
        required=False,
        choices=FundingSource.choices,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    scope_stages = forms.MultipleChoiceField(
        label="适用阶段",
        required=False,
        choices=Stage.choices,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    scope_regions = forms.MultipleChoiceField(label="适用区域（含下级）", required=False)
    exemptable = forms.BooleanField(label="有正当理由可免于亮灯", required=False, initial=True)
    exemption_approver = forms.ChoiceField(label="正当理由审批", choices=Approver.choices)
    year_from = forms.IntegerField(label="起始年度", required=False, min_value=2000, max_value=2100)
    year_to = forms.IntegerField(label="截止年度", required=False, min_value=2000, max_value=2100)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)
    sort_order = forms.IntegerField(label="排序", initial=0, min_value=0)
    description = forms.CharField(label="说明", required=False, widget=_text(3))

    # Rule-file keys whose errors the service reports, mapped to the field that shows them.
    ERROR_FIELDS = {
        "scope": "scope_lists",
        "exemption": "exemptable",
        "years": "year_from",
        "active": "is_active",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = metric_choices()
        self.fields["scope_regions"].choices = [
            (code, f"{name}（{code}）")
            for code, name in Region.objects.order_by("path").values_list("code", "name")
        ]
        self.fields["scope_regions"].widget.attrs["size"] = 6
        self.fields["version"].required = False

    @classmethod
    def initial_for(cls, rule: Rule) -> dict:
        return {
            "version": rule.version,
            "code": rule.code,
            "name": rule.name,
            "description": rule.description,
            "subject": rule.subject,
            "metric": rule.metric,
            "params": json.dumps(rule.params, ensure_ascii=False) if rule.params else "",
            "yellow": rule.yellow_threshold.normalize() if rule.yellow_threshold is not None else None,
            "red": rule.red_threshold.normalize() if rule.red_threshold is not None else None,
            "yellow_after": rule.yellow_after,
            "red_after": rule.red_after,
            "grace_days": rule.grace_days,
            "grace_months": rule.grace_months,
            "scope_lists": rule.scope_lists,
            "scope_levels": rule.scope_levels,
            "scope_programmes": rule.scope_programmes,
            "scope_stages": rule.scope_stages,
            "scope_regions": rule.scope_regions,
            "exemptable": rule.exemptable,
            "exemption_approver": rule.exemption_approver,
            "year_from": rule.year_from,
            "year_to": rule.year_to,
            "is_active": rule.is_active,
            "sort_order": rule.sort_order,
        }

    def clean_params(self):
        text = (self.cleaned_data.get("params") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise forms.ValidationError('不是有效的 JSON，如 {"programme": "special_bond"}。')
        if not isinstance(value, dict):
            raise forms.ValidationError('应为 JSON 对象，如 {"programme": "special_bond"}。')
        return value

    def data_for_service(self) -> dict:
        d = self.cleaned_data

        def number(value):
            return None if value is None else str(value)

        return {
            "code": d["code"].strip(),
            "name": d["name"],
            "description": d.get("description") or "",
            "subject": d["subject"],
            "metric": d["metric"],
            "params": d.get("params") or {},
            "scope": {
                "lists": list(d.get("scope_lists") or []),
                "levels": list(d.get("scope_levels") or []),
                "programmes": list(d.get("scope_programmes") or []),
                "regions": list(d.get("scope_regions") or []),
                "stages": list(d.get("scope_stages") or []),
            },
            "yellow": number(d.get("yellow")),
            "red": number(d.get("red")),
            "yellow_after": d["yellow_after"],
            "red_after": d.get("red_after"),
            "grace_days": d["grace_days"],
            "grace_months": d["grace_months"],
            "exemption": {"allowed": bool(d.get("exemptable")), "approver": d["exemption_approver"]},
            "years": {"from": d.get("year_from"), "to": d.get("year_to")},
            "active": bool(d.get("is_active")),
            "sort_order": d["sort_order"],
        }


class RuleFileForm(BootstrapMixin, forms.Form):
    """A rule file to check (dry run). The parsed JSON is in cleaned_data["data"], the text in
    cleaned_data["text"] (carried to the confirm step)."""

    file = forms.FileField(
        label="规则文件（JSON）", help_text="由“导出规则文件”得到的 .json 文件，修改后导入。"
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        if upload.size > RULE_FILE_MAX_BYTES:
            raise forms.ValidationError({"file": "规则文件超过 1 MB 的上限。"})
        raw = upload.read()
        cleaned["text"], cleaned["data"] = _parse_rule_file(raw, "file")
        return cleaned


class RuleConfirmForm(forms.Form):
    """The confirm step of an import: the file's text, as checked in the dry run."""

    text = forms.CharField(widget=forms.HiddenInput, max_length=RULE_FILE_MAX_BYTES)

    def clean(self):
        cleaned = super().clean()
        if "text" in cleaned:
            cleaned["text"], cleaned["data"] = _parse_rule_file(cleaned["text"].encode("utf-8"), "text")
        return cleaned


def _parse_rule_file(raw: bytes, field: str) -> tuple[str, object]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError({field: "规则文件应为 UTF-8 编码的 JSON 文本。"})
    try:
        return text, json.loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"第 {line} 行" if line else ""
        raise forms.ValidationError({field: f"规则文件不是有效的 JSON（{where}{getattr(exc, 'msg', '')}）。"})
