"""Forms of the approvals ledger pages: the list filters, one item's edit form, the attachment and
Excel uploads, and the city admin's template, item-type and readiness-rule forms. Forms only read
input; the rules on an item or a rule live in approvals.services, so the page, the Excel import
and the API give the same Chinese messages."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from majorprojects.accounts.models import Role
from majorprojects.core.forms import BootstrapMixin, DateInput
from majorprojects.core.workdays import add_workdays
from majorprojects.organisation.models import Region, Sector, Unit
from majorprojects.projects.models import FundingSource

from . import selectors
from .models import ApprovalItem, ApprovalItemType, ItemStatus, ReadinessRule, ReadinessTarget, UsedWhen
from .services import ITEM_FIELDS, ITEM_TYPE_FIELDS, RULE_FIELDS, readiness_rule_lists

NO_UNIT = "none"
READY_CHOICES = [("", "全部"), ("1", "已具备"), ("0", "未具备")]


def filter_regions(user):
    """Regions offered in the filters: a county's own subtree, everything for the others (what
    each account may read is decided by accounts.scope; this only keeps the list short)."""
    if user.role == Role.COUNTY and user.region_id:
        return Region.objects.filter(path__startswith=user.region.path).order_by("path")
    return Region.objects.order_by("path")


class LedgerFilterForm(BootstrapMixin, forms.Form):
    """Region (with its subtree) and sector/industry: the filters every ledger page shares."""

    region = forms.ModelChoiceField(label="区域", queryset=None, required=False, empty_label="全部区域")
    sector = forms.ModelChoiceField(
        label="类别/行业", queryset=Sector.objects.all(), required=False, empty_label="全部类别"
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["region"].queryset = filter_regions(user)
        self.fields["sector"].label_from_instance = lambda s: f"　{s.name}" if s.parent_id else s.name
        self.is_valid()  # invalid values are reported and ignored, valid ones apply

    @property
    def values(self) -> dict:
        return getattr(self, "cleaned_data", {})

    def selector_kwargs(self) -> dict:
        return {"region": self.values.get("region"), "sector": self.values.get("sector")}


class ItemFilterForm(LedgerFilterForm):
    status = forms.ChoiceField(
        label="办理状态", required=False, choices=[("", "全部状态"), *ItemStatus.choices]
    )
    item_type = forms.ModelChoiceField(
        label="审批事项", queryset=ApprovalItemType.objects.all(), required=False, empty_label="全部事项"
    )
    unit = forms.ChoiceField(label="责任单位", required=False)
    flag = forms.ChoiceField(
        label="预警", required=False, choices=[("", "不限"), *selectors.FLAG_LABELS.items()]
    )
    exact = forms.BooleanField(label="仅本级区域", required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)

    def full_clean(self):
        if "unit" in self.fields and not self.fields["unit"].choices:
            units = Unit.objects.filter(approval_items__isnull=False).distinct().order_by("name")
            self.fields["unit"].choices = [
                ("", "全部单位"),
                (NO_UNIT, "未指定责任单位"),
                *((str(u.pk), u.name) for u in units),
            ]
        super().full_clean()

    def selector_kwargs(self) -> dict:
        values = self.values
        unit = values.get("unit")
        return {
            **super().selector_kwargs(),
            "status": values.get("status") or None,
            "item_type": values.get("item_type"),
            "unit": Unit.objects.filter(pk=unit).first() if unit and unit != NO_UNIT else None,
        }

    def items(self, user, *, project=None):
        """The items the list shows (before the flag filter): selectors.ledger_items narrowed to
        the region itself (links from the matrix by region) or to items with no responsible unit."""
        qs = selectors.ledger_items(user, project=project, **self.selector_kwargs())
        if self.values.get("exact") and self.values.get("region"):
            qs = qs.filter(project__region=self.values["region"])
        if self.values.get("unit") == NO_UNIT:
            qs = qs.filter(responsible_unit__isnull=True)
        return qs

    @property
    def flag_kind(self) -> str | None:
        return self.values.get("flag") or None


class ReadinessFilterForm(LedgerFilterForm):
    programme = forms.ChoiceField(
        label="条件", required=False, choices=[("", "具备开工条件"), *FundingSource.choices]
    )
    ready = forms.ChoiceField(label="是否具备", required=False, choices=READY_CHOICES)

    @property
    def ready_value(self) -> bool | None:
        value = self.values.get("ready")
        return None if not value else value == "1"


class ItemForm(BootstrapMixin, forms.Form):
    """One ledger item. Every field is sent to services.item_update, which checks the whole item
    (dates not after today, 已办结 needs date and number, 不涉及 needs a reason …)."""

    status = forms.ChoiceField(label="办理状态", choices=ItemStatus.choices)
    responsible_unit = forms.ModelChoiceField(
        label="责任单位", queryset=Unit.objects.none(), required=False, empty_label="未指定"
    )
    responsible_person = forms.CharField(label="责任人", required=False, max_length=50)
    submitted_date = forms.DateField(label="受理日期", required=False, widget=DateInput())
    planned_date = forms.DateField(label="计划完成日期", required=False, widget=DateInput())
    actual_date = forms.DateField(
        label="实际办结日期",
        required=False,
        widget=DateInput(),
        help_text="容缺承诺办理时填写批复（受理）日期",
    )
    approving_body = forms.CharField(label="审批部门", required=False, max_length=100)
    document_number = forms.CharField(label="批复文号", required=False, max_length=100)
    promise_due_date = forms.DateField(
        label="承诺补齐期限", required=False, widget=DateInput(), help_text="容缺/告知承诺办理的要件补齐期限"
    )
    promise_workdays = forms.IntegerField(
        label="承诺补齐时限（工作日）",
        required=False,
        min_value=1,
        max_value=365,
        error_messages={
            "invalid": "请填写工作日数（整数）。",
            "min_value": "补齐时限应为 1 到 365 个工作日。",
            "max_value": "补齐时限应为 1 到 365 个工作日。",
        },
        help_text="容缺承诺办理时可填：自批复（受理）日期起按法定工作日计算承诺补齐期限（节假日顺延，调休上班日计入）",
    )
    papers_supplied_date = forms.DateField(
        label="要件补齐日期", required=False, widget=DateInput(), help_text="填写后事项转为“已办结”"
    )
    not_applicable_reason = forms.CharField(
        label="不涉及原因", required=False, max_length=200, help_text="状态为“不涉及”时必填"
    )
    note = forms.CharField(
        label="备注", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, data=None, *, item: ApprovalItem, **kwargs):
        initial = {name: getattr(item, name) for name in ITEM_FIELDS}
        initial["responsible_unit"] = item.responsible_unit_id
        initial["version"] = item.version
        super().__init__(data, initial=initial, auto_id=f"id_item{item.pk}_%s", **kwargs)
        self.item = item
        self.fields["responsible_unit"].queryset = Unit.objects.filter(
            Q(is_active=True) | Q(pk=item.responsible_unit_id or 0)
        ).order_by("kind", "name")
        if item.item_type.deadline_workdays:
            self.fields[
                "planned_date"
            ].help_text = f"只填受理日期时，按办理时限 {item.item_type.deadline_workdays} 个工作日自动计算"

    def clean(self):
        """A promise's due date may be given as N statutory working days after the approval date
        (as services.item_record_promise computes it); the computed date replaces the one in
        the date field."""
        data = super().clean()
        workdays = data.get("promise_workdays")
        if workdays is None:
            return data
        if data.get("status") != ItemStatus.PROMISED:
            self.add_error("promise_workdays", "只有办理状态为“容缺承诺”时才按工作日计算承诺补齐期限。")
        elif not data.get("actual_date"):
            if "actual_date" not in self.errors:
                self.add_error("actual_date", "按工作日计算承诺补齐期限须填写批复（受理）日期。")
        else:
            data["promise_due_date"] = add_workdays(data["actual_date"], workdays)
        return data

    def service_fields(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ITEM_FIELDS}

    def renew(self, version: int) -> None:
        """Keep what the user typed but carry the current version, so saving again overrides."""
        data = self.data.copy()
        data["version"] = str(version)
        self.data = data


class AttachmentForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="批复文件", help_text="PDF、图片或 Office 文件")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class LedgerImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="台账文件",
        help_text="从本系统导出的前期工作台账（.xlsx），修改后上传",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


class TemplateAddForm(BootstrapMixin, forms.Form):
    item_type = forms.ModelChoiceField(
        label="事项", queryset=ApprovalItemType.objects.none(), empty_label="选择事项"
    )
    position = forms.IntegerField(
        label="位置", required=False, min_value=1, max_value=999, help_text="第几项；不填放在最后"
    )

    def __init__(self, data=None, *, regime: str, present: set[int], **kwargs):
        super().__init__(data, auto_id=f"id_{regime}_%s", **kwargs)
        self.fields["item_type"].queryset = ApprovalItemType.objects.filter(is_active=True).exclude(
            pk__in=present
        )


class ItemTypeForm(BootstrapMixin, forms.ModelForm):
    """An item type's defaults, validity clock and statutory deadline (saved by
    services.item_type_save, which checks the "used by" rule)."""

    class Meta:
        model = ApprovalItemType
        fields = ITEM_TYPE_FIELDS
        widgets = {"basis": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        others = ApprovalItemType.objects.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["used_by"].queryset = others
        self.fields["used_by"].empty_label = "无"
        self.fields["used_when"].choices = UsedWhen.choices

    def service_fields(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ITEM_TYPE_FIELDS}


class ReadinessRuleForm(BootstrapMixin, forms.Form):
    """A readiness rule: its use (start, or funding for some programmes), "every ledger item"
    with the statuses they must be in and the items excepted, and per item type the statuses it
    must be in (a matrix: one row per item type, `req_<id>` and `exc_<id>`). Checked and saved by
    services.readiness_rule_save; `version` is services.readiness_rule_version as read."""

    name = forms.CharField(label="规则名称", max_length=100)
    target = forms.ChoiceField(label="用途", choices=ReadinessTarget.choices)
    programmes = forms.MultipleChoiceField(
        label="资金渠道",
        required=False,
        choices=FundingSource.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="用途为资金申报/下达条件时选择：资金来源中含所选渠道的项目适用本规则",
    )
    all_items = forms.BooleanField(label="台账全部事项", required=False)
    all_statuses = forms.MultipleChoiceField(
        label="全部事项须处于的状态",
        required=False,
        choices=ItemStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="勾选“台账全部事项”时：项目台账中除“除外”事项以外的每个事项都须处于所选状态之一",
    )
    basis = forms.CharField(
        label="依据", required=False, max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )
    sort_order = forms.IntegerField(label="排序", min_value=0, initial=0)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, rule: ReadinessRule | None = None, version: str = "", **kwargs):
        initial = {"version": version}
        excepted, requirements = readiness_rule_lists(rule) if rule is not None else ([], [])
        if rule is not None:
            initial.update({name: getattr(rule, name) for name in RULE_FIELDS})
        initial.update({f"exc_{t.pk}": True for t in excepted})
        initial.update({f"req_{r['item_type'].pk}": r["statuses"] for r in requirements})
        super().__init__(data, initial=initial, **kwargs)
        used = {t.pk for t in excepted} | {r["item_type"].pk for r in requirements}
        self.item_types = list(ApprovalItemType.objects.filter(Q(is_active=True) | Q(pk__in=used)))
        for item_type in self.item_types:
            self.fields[f"req_{item_type.pk}"] = forms.MultipleChoiceField(
                label=item_type.name,
                required=False,
                choices=ItemStatus.choices,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            )
            self.fields[f"exc_{item_type.pk}"] = forms.BooleanField(
                label=f"{item_type.name}除外",
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )
        for name in ("programmes", "all_statuses"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    @property
    def rows(self) -> list[dict]:
        """The matrix: each item type with its statuses' checkboxes and its "except" box."""
        return [
            {"item_type": t, "statuses": self[f"req_{t.pk}"], "excepted": self[f"exc_{t.pk}"]}
            for t in self.item_types
        ]

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: data.get(name) for name in RULE_FIELDS}
        fields["except_types"] = [t for t in self.item_types if data.get(f"exc_{t.pk}")]
        fields["requirements"] = [
            {"item_type": t, "statuses": data[f"req_{t.pk}"]}
            for t in self.item_types
            if data.get(f"req_{t.pk}")
        ]
        return fields

    def renew(self, version: str) -> None:
        """Keep what the user typed but carry the current version, so saving again overrides."""
        data = self.data.copy()
        data["version"] = version
        self.data = data
