"""Forms of the funds pages. Forms only read input: every rule on amounts, dates and document
numbers lives in funds.services, whose ValidationError messages (keyed by these field names) are
put back on the form by the views, so the pages and the API show the same Chinese messages.
Amounts are read as text and parsed by the services ("1,200", "0.5亿" are accepted there)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.http import urlencode

from majorprojects.accounts.models import Role
from majorprojects.core.forms import BootstrapMixin, DateInput
from majorprojects.organisation.models import Region
from majorprojects.projects.models import FundingSource

from .models import Allocation, Level, Loan, MovementKind, Programme, ProgrammeKind


def _required(label: str) -> dict:
    return {"required": f"请填写{label}。"}


def _date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        error_messages={**_required(label), "invalid": f"{label}格式应为 YYYY-MM-DD。"},
    )


def _amount_field(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    """An amount in 万元 as typed; the service parses it and names the field in its messages."""
    return forms.CharField(
        label=f"{label}（万元）",
        required=required,
        max_length=30,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages=_required(f"{label}（万元）"),
    )


def _months_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"{label}（月）",
        required=False,
        error_messages={"invalid": f"{label}应为整数（月）。"},
    )


class VersionField(forms.IntegerField):
    """The version the editor read; a stale one is refused by the service (ConflictError)."""

    def __init__(self, **kwargs):
        super().__init__(
            widget=forms.HiddenInput,
            min_value=1,
            error_messages={
                "required": "页面已过期，请刷新后重新编辑。",
                "invalid": "页面已过期，请刷新后重新编辑。",
                "min_value": "页面已过期，请刷新后重新编辑。",
            },
            **kwargs,
        )


# --- filters ----------------------------------------------------------------------------------


def region_choices(user):
    """Regions offered in the filters: a county account its own subtree, others the whole tree."""
    regions = Region.objects.order_by("path")
    if user.role == Role.COUNTY and user.region_id:
        regions = regions.filter(path__startswith=user.region.path)
    return regions


class FundsFilterForm(BootstrapMixin, forms.Form):
    """Filters of the allocations and at-risk lists (query string). What is invalid is ignored
    and reported above the list."""

    as_of = _date_field("统计截止日期", required=False)
    programme = forms.ModelChoiceField(
        label="资金渠道",
        queryset=Programme.objects.none(),
        required=False,
        empty_label="全部渠道",
        error_messages={"invalid_choice": "没有这个资金渠道。"},
    )
    region = forms.ModelChoiceField(
        label="区域",
        queryset=Region.objects.none(),
        required=False,
        empty_label="全部区域",
        error_messages={"invalid_choice": "没有这个区域或不在您的管辖范围内。"},
    )
    behind = forms.BooleanField(label="仅看落后序时进度", required=False)
    at_risk = forms.BooleanField(label="仅看可能收回", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.order_by("sort_order", "pk")
        self.fields["region"].queryset = region_choices(user)
        self.fields["region"].label_from_instance = lambda r: "　" * max(r.path.count("/") - 3, 0) + r.label
        self.is_valid()

    @property
    def problems(self) -> list[str]:
        return [
            f"{self.fields[name].label}：{'；'.join(messages)}"
            for name, messages in self.errors.items()
            if name in self.fields
        ]

    def value(self, name: str):
        return self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None

    def filter_projects(self, projects):
        region = self.value("region")
        if region is not None:
            projects = projects.filter(region__path__startswith=region.path)
        return projects

    def query(self, **changes) -> str:
        """The filters as given (valid ones), for the export link and pagination."""
        params = {}
        for name in ("as_of", "programme", "region"):
            value = self.value(name)
            if value:
                params[name] = value.isoformat() if name == "as_of" else value.pk
        for name in ("behind", "at_risk"):
            if self.value(name):
                params[name] = "on"
        params.update(changes)
        return urlencode(params)


# --- allocations and movements ------------------------------------------------------------------


class AllocationForm(BootstrapMixin, forms.Form):
    programme = forms.ModelChoiceField(
        label="资金渠道",
        queryset=Programme.objects.none(),
        error_messages={"required": "请选择资金渠道。", "invalid_choice": "请选择资金渠道。"},
    )
    batch = forms.CharField(label="批次", required=False, max_length=50, help_text="如：2026年第一批")
    document_no = forms.CharField(label="下达文号", max_length=100, error_messages=_required("下达文号"))
    issued_on = _date_field("下达日期")
    amount = _amount_field("下达金额", help_text="可填“0.5亿”，系统换算为万元")
    note = forms.CharField(label="备注", required=False, max_length=200)
    version = VersionField(required=False)

    def __init__(self, *args, instance: Allocation | None = None, locked_programme: bool = False, **kwargs):
        """`locked_programme`: the allocation has movements, its programme can no longer change
        (the service refuses it): the field is shown disabled and keeps the current one."""
        self.instance = instance
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            initial = {
                "programme": instance.programme_id,
                "batch": instance.batch,
                "document_no": instance.document_no,
                "issued_on": instance.issued_on,
                "amount": f"{instance.amount:.2f}",
                "note": instance.note,
                "version": instance.version,
                **initial,
            }
        super().__init__(*args, initial=initial, **kwargs)
        programmes = Programme.objects.filter(is_active=True)
        if instance is not None:
            programmes = Programme.objects.filter(is_active=True) | Programme.objects.filter(
                pk=instance.programme_id
            )
            self.fields["version"].required = True
            if locked_programme:
                self.fields["programme"].disabled = True
                self.fields["programme"].help_text = "已有到位/拨付/支付记录，不能更改资金渠道"
        self.fields["programme"].queryset = programmes.order_by("sort_order", "pk")

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name] for name in ("programme", "batch", "document_no", "issued_on", "amount", "note")
        }


class MovementForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label="类型",
        choices=MovementKind.choices,
        initial=MovementKind.PAYMENT,
        error_messages={
            "required": "请选择类型：到位、拨付或支付。",
            "invalid_choice": "请选择类型：到位、拨付或支付。",
        },
    )
    on_date = _date_field("日期")
    amount = _amount_field("金额")
    note = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, allocation_pk: int, kinds: list[str] | None = None, **kwargs):
        """`kinds`: the kinds the user may record (services.recordable_kinds); only these are
        offered — a project unit records payments, arrivals and transfers are government acts."""
        kwargs.setdefault("auto_id", f"id_m{allocation_pk}_%s")
        kwargs.setdefault("initial", {"on_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in MovementKind.choices if k in kinds]
            if MovementKind.PAYMENT not in kinds and kinds:
                self.fields["kind"].initial = kinds[0]


# --- loans --------------------------------------------------------------------------------------


class LoanForm(BootstrapMixin, forms.Form):
    """A loan; the subsidy granted is a government record: the field is left out for a project
    unit (the service refuses the change anyway)."""

    programme = forms.ModelChoiceField(
        label="资金渠道",
        queryset=Programme.objects.none(),
        required=False,
        empty_label="（不指定）",
        error_messages={"invalid_choice": "资金渠道不存在。"},
    )
    bank = forms.CharField(label="贷款银行", max_length=100, error_messages=_required("贷款银行"))
    contract_no = forms.CharField(label="合同编号", required=False, max_length=100)
    signed_on = _date_field("签约日期")
    amount_signed = _amount_field("签约金额")
    term_months = _months_field("贷款期限")
    subsidy_applied = _amount_field("申请贴息", required=False)
    subsidy_granted = _amount_field("获批贴息", required=False)
    note = forms.CharField(label="备注", required=False, max_length=200)
    version = VersionField(required=False)

    def __init__(self, *args, instance: Loan | None = None, may_grant: bool = True, **kwargs):
        self.instance = instance
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            initial = {
                "programme": instance.programme_id,
                "bank": instance.bank,
                "contract_no": instance.contract_no,
                "signed_on": instance.signed_on,
                "amount_signed": f"{instance.amount_signed:.2f}",
                "term_months": instance.term_months,
                "subsidy_applied": f"{instance.subsidy_applied:.2f}",
                "subsidy_granted": f"{instance.subsidy_granted:.2f}",
                "note": instance.note,
                "version": instance.version,
                **initial,
            }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["programme"].queryset = Programme.objects.filter(is_active=True).order_by(
            "sort_order", "pk"
        )
        if instance is not None:
            self.fields["version"].required = True
        if not may_grant:
            del self.fields["subsidy_granted"]

    def service_fields(self) -> dict:
        data = self.cleaned_data
        names = [n for n in self.fields if n != "version"]
        return {name: data[name] for name in names}


class ReleaseForm(BootstrapMixin, forms.Form):
    on_date = _date_field("投放日期")
    amount = _amount_field("投放金额")
    note = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, loan_pk: int, **kwargs):
        kwargs.setdefault("auto_id", f"id_r{loan_pk}_%s")
        kwargs.setdefault("initial", {"on_date": timezone.localdate()})
        super().__init__(*args, **kwargs)


# --- programmes ---------------------------------------------------------------------------------


class ProgrammeForm(BootstrapMixin, forms.Form):
    """A programme's rules (city admin). `code` is asked only when creating one."""

    code = forms.CharField(
        label="代码",
        max_length=30,
        help_text="字母、数字、下划线或连字符，如 county_fund；保存后不可修改",
        error_messages=_required("代码"),
    )
    name = forms.CharField(label="名称", max_length=50, error_messages=_required("名称"))
    kind = forms.ChoiceField(
        label="类别", choices=ProgrammeKind.choices, error_messages={"required": "请选择资金类别。"}
    )
    level = forms.ChoiceField(
        label="层级", choices=Level.choices, error_messages={"required": "请选择层级。"}
    )
    funding_source = forms.ChoiceField(
        label="调度表资金来源",
        choices=[("", "（不对应）"), *FundingSource.choices],
        required=False,
        help_text="调度表中该渠道的支付据此确认记入台账；多个渠道可对应同一来源",
    )
    window_months = _months_field("使用期限")
    straight_line = forms.BooleanField(label="按直线进度考核", required=False)
    idle_months = _months_field("连续未支付预警")
    start_deadline_months = _months_field("开工期限")
    sort_order = forms.IntegerField(
        label="排序", required=False, min_value=0, error_messages={"invalid": "排序应为整数。"}
    )
    is_active = forms.BooleanField(label="启用", required=False)
    version = VersionField(required=False)

    FIELDS = (
        "name",
        "kind",
        "level",
        "funding_source",
        "window_months",
        "straight_line",
        "idle_months",
        "start_deadline_months",
        "sort_order",
        "is_active",
    )

    def __init__(self, *args, instance: Programme | None = None, **kwargs):
        self.instance = instance
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            initial = {name: getattr(instance, name) for name in self.FIELDS} | {
                "version": instance.version,
                **initial,
            }
        else:
            initial = {"straight_line": True, "is_active": True, "sort_order": 100, **initial}
        super().__init__(*args, initial=initial, **kwargs)
        help_texts = {
            "window_months": "下达后应在此月数内使用完毕；空表示不设期限",
            "straight_line": "否：仅在期限届满时要求全部使用",
            "idle_months": "连续此月数无支付列为可能收回；空表示不检查",
            "start_deadline_months": "下达后此月数内项目仍未开工列为可能收回；空表示不检查",
        }
        for name, text in help_texts.items():
            self.fields[name].help_text = text
        if instance is not None:
            del self.fields["code"]
            self.fields["version"].required = True

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}
