from django import forms

from majorprojects.core.forms import BootstrapMixin

from .models import Person, Region, Sector, Unit, WorkGroup


class RegionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "short_name", "kind", "parent", "sort_order"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk and parent.path.startswith(self.instance.path):
            raise forms.ValidationError("上级区域不能是本区域或其下级。")
        return parent


class UnitForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Unit
        fields = [
            "name",
            "short_name",
            "kind",
            "region",
            "credit_code",
            "sectors",
            "address",
            "reads_all_projects",
            "records_funds",
            "is_active",
        ]
        widgets = {"sectors": forms.SelectMultiple(attrs={"size": 8})}


class PersonForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Person
        fields = ["name", "position", "phone", "unit", "is_leader", "is_liaison", "portfolio", "sort_order"]


class WorkGroupForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = WorkGroup
        fields = ["name", "kind", "lead_unit", "member_units", "leader", "duties", "sort_order"]
        widgets = {
            "member_units": forms.SelectMultiple(attrs={"size": 8}),
            "duties": forms.Textarea(attrs={"rows": 3}),
        }


class SectorForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Sector
        fields = ["code", "name", "parent", "sort_order"]
