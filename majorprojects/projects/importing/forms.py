"""The upload form and the preview's mapping form (a select per detected column)."""

from __future__ import annotations

from django import forms

from majorprojects.core.forms import BootstrapMixin

from ..filters import current_year
from .fields import choices


class ProjectImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="台账文件",
        help_text="Excel（.xlsx）文件",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
    year = forms.IntegerField(
        label="年度", min_value=2000, max_value=2100, help_text="年度计划投资、库别、重点级别写入该年度清单"
    )
    sheet = forms.CharField(
        label="工作表", required=False, max_length=100, help_text="不填则读取第一个可见的工作表"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"year": current_year()})
        super().__init__(*args, **kwargs)


class ImportMappingForm(BootstrapMixin, forms.Form):
    """Year, sheet and, for each column the reader found, the field it feeds (or none)."""

    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    sheet = forms.ChoiceField(label="工作表")

    def __init__(self, data=None, *, batch):
        result = batch.result or {}
        super().__init__(
            data, initial={"year": result.get("year") or batch.year, "sheet": result.get("sheet")}
        )
        self.fields["sheet"].choices = [(s, s) for s in result.get("sheets", [])]
        self.columns = []
        for column in result.get("columns", []):
            column = dict(column)
            name = f"col_{column['letter']}"
            self.fields[name] = forms.ChoiceField(
                label=f"{column['letter']}列「{column['header']}」",
                choices=choices(),
                required=False,
                initial=column["field"],
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            self.columns.append(column)
        for column in self.columns:
            column["bound"] = self[f"col_{column['letter']}"]

    def mapping(self) -> dict[str, str]:
        """{column letter: field key or ""} for the selects that were sent (the others keep theirs)."""
        return {
            c["letter"]: self.cleaned_data.get(f"col_{c['letter']}") or ""
            if f"col_{c['letter']}" in self.data
            else c["field"]
            for c in self.columns
        }
