from django import forms

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import allowed_regions, changeable_projects
from majorprojects.core.forms import AmountField, BootstrapMixin, DateInput
from majorprojects.organisation.models import Person, Sector, Unit, UnitKind

from .models import AnnualListing, AttachmentKind, BatchKind, Campaign, FundingSource, Project, Stage
from .services import PRE_START_STAGES, PROJECT_FIELDS


class ProjectForm(BootstrapMixin, forms.ModelForm):
    """Create/edit a project. Region, owner and package choices are limited to the user's scope."""

    total_investment = AmountField(label="总投资（万元）", help_text="可填“3.5亿”，系统换算为万元")
    tags_text = forms.CharField(
        label="标签",
        required=False,
        max_length=300,
        help_text="多个标签用逗号或顿号分隔，如：数字经济、民生实事",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Project
        fields = [f for f in PROJECT_FIELDS if f != "total_investment"]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 3}),
            "planned_start_date": DateInput(),
            "planned_completion_date": DateInput(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["region"].queryset = allowed_regions(user).order_by("path")
        units = Unit.objects.filter(is_active=True)
        self.fields["owner_unit"].queryset = units.exclude(kind=UnitKind.DEPARTMENT).order_by("name")
        if user.role == Role.PROJECT_UNIT:
            self.fields["owner_unit"].queryset = units.filter(pk=user.unit_id)
            self.fields["owner_unit"].initial = user.unit_id
        self.fields["responsible_department"].queryset = units.filter(kind=UnitKind.DEPARTMENT).order_by(
            "name"
        )
        self.fields["package_leader"].queryset = Person.objects.filter(is_leader=True)
        self.fields["sector"].queryset = Sector.objects.filter(parent__isnull=True)
        self.fields["industry"].queryset = Sector.objects.filter(parent__isnull=False).select_related(
            "parent"
        )
        self.fields["industry"].label_from_instance = lambda s: f"{s.parent.name} / {s.name}"
        parents = changeable_projects(user).filter(is_package=True, parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents.order_by("name")
        for source in FundingSource:
            self.fields[f"fund_{source.value}"] = AmountField(
                label=f"其中：{source.label}（万元）", required=False
            )
        if not self.instance.pk:
            self.fields["stage"] = forms.ChoiceField(
                label="当前阶段",
                initial=Stage.RESERVED,
                required=False,
                help_text="已开工的项目登记后通过“阶段变更”填写实际开工日期",
                choices=[(s.value, s.label) for s in Stage if s in PRE_START_STAGES],
            )
            self.fields["stage"].widget.attrs["class"] = "form-select"
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["tags_text"].initial = "、".join(t.name for t in self.instance.tags.all())
            self.fields["total_investment"].initial = self.instance.total_investment
            for f in self.instance.funding.all():
                self.fields[f"fund_{f.source}"].initial = f.amount

    def funding_fields(self):
        return [self[f"fund_{s.value}"] for s in FundingSource]

    def main_fields(self):
        skip = {f"fund_{s.value}" for s in FundingSource} | {"version"}
        return [f for f in self.visible_fields() if f.name not in skip]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        fields = {name: data.get(name) for name in PROJECT_FIELDS if name in data}
        fields["code"] = (data.get("code") or "").strip() or None
        if data.get("stage"):
            fields["stage"] = data["stage"]
        tags = [
            t for t in data.get("tags_text", "").replace("，", ",").replace("、", ",").split(",") if t.strip()
        ]
        fundings = {s.value: data.get(f"fund_{s.value}") for s in FundingSource}
        return {"fields": fields, "tags": tags, "fundings": fundings}

    def clean_version(self):
        version = self.cleaned_data.get("version")
        if self.instance.pk and not version:
            raise forms.ValidationError("表单已过期，请刷新页面后重新编辑。")
        return version

    def _post_clean(self):
        # Model validation happens in the service (one place); keep the form's own checks only.
        pass


class TransitionForm(BootstrapMixin, forms.Form):
    stage = forms.ChoiceField(label="变更为", choices=Stage.choices)
    on_date = forms.DateField(
        label="日期", required=False, widget=DateInput(), help_text="开工、竣工时填写实际日期"
    )
    note = forms.CharField(label="说明", required=False, max_length=500)


class ListingForm(BootstrapMixin, forms.ModelForm):
    planned_investment = AmountField(label="年度计划投资（万元）")

    class Meta:
        model = AnnualListing
        fields = [
            "year",
            "list_kind",
            "key_level",
            "planned_investment",
            "planned_start",
            "planned_completion",
            "is_new_start",
            "target",
        ]
        widgets = {
            "planned_start": DateInput(),
            "planned_completion": DateInput(),
            "target": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        pass


class MembershipForm(BootstrapMixin, forms.Form):
    campaign = forms.ModelChoiceField(label="专项活动", queryset=Campaign.objects.all())
    batch = forms.ChoiceField(label="三个一批类别", choices=BatchKind.choices, required=False)


class AttachmentForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=AttachmentKind.choices)
    file = forms.FileField(label="文件", help_text="PDF、JPG、PNG、Word、Excel，单个不超过 20 MB")
    description = forms.CharField(label="说明", required=False, max_length=200)
