"""ProjectFilterSet: the project list's filters, shared by the list page, its export, the
command-line export and the API, so "export what I see" is literally the same query."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from majorprojects.accounts.scope import allowed_regions
from majorprojects.core.forms import BootstrapMixin
from majorprojects.core.text import normalize
from majorprojects.organisation.models import Person, Sector, Unit, UnitKind, WorkGroup

from .models import ApprovalRegime, Campaign, KeyLevel, ListKind, Stage, Tag

SORTS = {
    "investment": ("-total_investment", "id"),
    "-investment": ("total_investment", "id"),
    "name": ("name", "id"),
    "region": ("region__path", "-total_investment", "id"),
    "updated": ("-updated_at", "id"),
    "start": ("planned_start_date", "id"),
}
BOOL_CHOICES = [("", "不限"), ("1", "是"), ("0", "否")]


def current_year() -> int:
    return timezone.localdate().year


class ProjectFilterSet(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称、代码、单位、地点"}),
    )
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    region = forms.ModelChoiceField(label="区域", queryset=None, required=False, empty_label="全部区域")
    sector = forms.ModelChoiceField(
        label="类别/行业", queryset=Sector.objects.all(), required=False, empty_label="全部类别"
    )
    stage = forms.MultipleChoiceField(label="阶段", choices=Stage.choices, required=False)
    list_kind = forms.ChoiceField(
        label="库别", required=False, choices=[("", "不限"), ("listed", "已列入年度清单"), *ListKind.choices]
    )
    key_level = forms.ChoiceField(
        label="重点级别",
        required=False,
        choices=[("", "不限"), ("any", "各级重点"), *[c for c in KeyLevel.choices if c[0]]],
    )
    new_start = forms.ChoiceField(
        label="新开工/续建", required=False, choices=[("", "不限"), ("1", "新开工"), ("0", "续建")]
    )
    approval_regime = forms.ChoiceField(
        label="审批类型", required=False, choices=[("", "不限"), *ApprovalRegime.choices]
    )
    department = forms.ModelChoiceField(
        label="责任部门",
        required=False,
        empty_label="全部部门",
        queryset=Unit.objects.filter(kind=UnitKind.DEPARTMENT),
    )
    leader = forms.ModelChoiceField(
        label="包联领导",
        required=False,
        empty_label="全部领导",
        queryset=Person.objects.filter(is_leader=True),
    )
    work_group = forms.ModelChoiceField(
        label="工作专班", required=False, empty_label="全部专班", queryset=WorkGroup.objects.all()
    )
    campaign = forms.ModelChoiceField(
        label="专项活动", required=False, empty_label="全部活动", queryset=Campaign.objects.all()
    )
    tag = forms.ModelChoiceField(
        label="标签", required=False, empty_label="全部标签", queryset=Tag.objects.all(), to_field_name="name"
    )
    private = forms.ChoiceField(label="民间投资", choices=BOOL_CHOICES, required=False)
    high_tech = forms.ChoiceField(label="高技术产业", choices=BOOL_CHOICES, required=False)
    min_total = forms.DecimalField(
        label="总投资≥（万元）", required=False, min_value=0, max_digits=16, decimal_places=2
    )
    max_total = forms.DecimalField(
        label="总投资≤（万元）", required=False, min_value=0, max_digits=16, decimal_places=2
    )
    start_from = forms.DateField(
        label="计划开工自", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    start_to = forms.DateField(
        label="计划开工至", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    light = forms.ChoiceField(
        label="预警灯色",
        required=False,
        choices=[
            ("", "不限"),
            ("red", "红灯"),
            ("yellow", "黄灯"),
            ("green", "绿灯"),
            ("any", "有预警（红灯或黄灯）"),
        ],
        help_text="最近一次预警扫描的月份",
    )
    children = forms.BooleanField(label="展开打包项目的子项目", required=False)
    sort = forms.ChoiceField(
        label="排序",
        required=False,
        choices=[
            ("", "按区域、投资"),
            ("investment", "总投资从高到低"),
            ("-investment", "总投资从低到高"),
            ("name", "项目名称"),
            ("updated", "最近更新"),
            ("start", "计划开工"),
        ],
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["region"].queryset = allowed_regions(user).order_by("path")
        self.fields["sector"].label_from_instance = lambda s: f"　{s.name}" if s.parent_id else s.name

    @property
    def year_value(self) -> int:
        return self._valid().get("year") or current_year()

    def _valid(self) -> dict:
        """The filters that validated: one stale or mistyped value (shown as an error on the page)
        does not throw away the others."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    def filter(self, qs: QuerySet) -> QuerySet:
        """Apply the valid filters to a (scoped) project queryset. Invalid ones are left out."""
        if not self.is_bound:
            return self._hide_children(qs, show=False)
        d = self._valid()
        year = d.get("year") or current_year()
        if d.get("q"):
            for word in normalize(d["q"]).split(" ")[:5]:
                # Chinese and digits have no case: plain LIKE then finds the same rows and is
                # several times cheaper than UPPER(...) LIKE on PostgreSQL. Owners are matched
                # by a subquery on units, not a join the planner drives from the unit table.
                like = "icontains" if word.lower() != word.upper() else "contains"
                owners = Unit.objects.filter(**{f"name__{like}": word}).values("pk")
                qs = qs.filter(
                    Q(**{f"name__{like}": word})
                    | Q(**{f"code__{like}": word})
                    | Q(owner_unit__in=owners)
                    | Q(**{f"address__{like}": word})
                    | Q(**{f"content__{like}": word})
                )
        if d.get("region"):
            qs = qs.filter(region__path__startswith=d["region"].path)
        if d.get("sector"):
            qs = qs.filter(Q(sector=d["sector"]) | Q(industry=d["sector"]) | Q(industry__parent=d["sector"]))
        if d.get("stage"):
            qs = qs.filter(stage__in=d["stage"])
        listing = {}
        if d.get("list_kind") and d["list_kind"] != "listed":
            listing["list_kind"] = d["list_kind"]
        if d.get("key_level") == "any":
            listing["key_level__in"] = [c for c, _ in KeyLevel.choices if c]
        elif d.get("key_level"):
            listing["key_level"] = d["key_level"]
        if d.get("new_start") in ("0", "1"):
            listing["is_new_start"] = d["new_start"] == "1"
        if listing or d.get("list_kind") == "listed":
            qs = qs.filter(listings__year=year, **{f"listings__{k}": v for k, v in listing.items()})
        if d.get("approval_regime"):
            qs = qs.filter(approval_regime=d["approval_regime"])
        if d.get("department"):
            qs = qs.filter(responsible_department=d["department"])
        if d.get("leader"):
            qs = qs.filter(package_leader=d["leader"])
        if d.get("work_group"):
            qs = qs.filter(work_group=d["work_group"])
        if d.get("campaign"):
            qs = qs.filter(memberships__campaign=d["campaign"])
        if d.get("tag"):
            qs = qs.filter(tags=d["tag"])
        if d.get("private") in ("0", "1"):
            qs = qs.filter(is_private_investment=d["private"] == "1")
        if d.get("high_tech") in ("0", "1"):
            qs = qs.filter(is_high_tech=d["high_tech"] == "1")
        if d.get("min_total") is not None:
            qs = qs.filter(total_investment__gte=Decimal(d["min_total"]))
        if d.get("max_total") is not None:
            qs = qs.filter(total_investment__lte=Decimal(d["max_total"]))
        if d.get("start_from"):
            qs = qs.filter(planned_start_date__gte=d["start_from"])
        if d.get("start_to"):
            qs = qs.filter(planned_start_date__lte=d["start_to"])
        if d.get("light"):
            qs = self._by_light(qs, d["light"])
        qs = self._hide_children(qs, show=bool(d.get("children")))
        return qs.order_by(*SORTS.get(d.get("sort") or "", ("region__path", "-total_investment", "id")))

    @staticmethod
    def _by_light(qs: QuerySet, light: str) -> QuerySet:
        """Projects by their light in the latest scanned month (alerts.selectors.light_q);
        before any scan every project is green."""
        from majorprojects.alerts import selectors as alerts

        period = alerts.latest_period()
        if period is None:
            return qs if light == "green" else qs.none()
        if light == "any":
            return qs.exclude(alerts.light_q("green", *period))
        return qs.filter(alerts.light_q(light, *period))

    def _hide_children(self, qs: QuerySet, *, show: bool) -> QuerySet:
        """Sub-projects of a package the user can see are listed under the package, not beside it,
        so the footer never counts money twice. A sub-project whose package is outside the user's
        scope is listed on its own."""
        if show:
            return qs
        from majorprojects.accounts.scope import visible_projects

        return qs.filter(Q(parent__isnull=True) | ~Q(parent__in=visible_projects(self.user).values("pk")))

    @property
    def active(self) -> bool:
        return self.is_bound and any(
            v not in (None, "", [], False) for k, v in self._valid().items() if k not in ("sort", "year")
        )
