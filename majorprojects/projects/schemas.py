"""API shapes for the project library. Amounts are 万元, exact decimals sent as strings with two
decimals ("12345.00"); they are never floats. Input amounts may be numbers or strings, and
strings may carry a unit the way the forms accept them ("3.5亿", "1,200万元")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django import forms
from ninja import Field, Schema
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema, create_model

from majorprojects.organisation.schemas import Ref, RegionRef

from .filters import ProjectFilterSet
from .models import ApprovalRegime, FundingSource, KeyLevel, ListKind, Stage

TWO_PLACES = Decimal("0.01")

Money = Annotated[
    Decimal,
    PlainSerializer(lambda d: str(Decimal(d).quantize(TWO_PLACES)), return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12345.00"]}),
]
Coordinate = Annotated[
    Decimal,
    PlainSerializer(lambda d: str(d), return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["112.938814"]}),
]


def _amount_text(value):
    """Numbers become their exact text; the forms' AmountField then reads the amount, so the API
    accepts exactly what the pages accept ("3.5亿", "1,200万元", 1234.56)."""
    if isinstance(value, bool):
        raise ValueError("请填写金额（万元）。")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | Decimal):
        return format(value, "f")
    return value


AmountIn = Annotated[
    str,
    BeforeValidator(_amount_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "description": '万元；数字或字符串，字符串可带单位，如 "3.5亿"、"1,200万元"',
            "examples": ["12345.67"],
        }
    ),
]


# --- Output ------------------------------------------------------------------------------


class YearListingOut(Schema):
    """The project's listing in the year the list is for (`year` of the response)."""

    list_kind: str
    key_level: str
    planned_investment: Money | None
    is_new_start: bool | None


class ProjectRow(Schema):
    """One row of the project list."""

    id: int
    name: str
    code: str | None
    stage: str
    stage_label: str
    region: RegionRef
    owner_unit: Ref
    sector: Ref
    industry: Ref | None
    responsible_department: Ref | None
    package_leader: Ref | None
    total_investment: Money
    start_year: int | None
    end_year: int | None
    planned_start_date: date | None
    actual_start_date: date | None
    actual_completion_date: date | None
    is_private_investment: bool
    is_high_tech: bool
    is_package: bool
    parent_id: int | None
    tags: list[str]
    year_listing: YearListingOut | None = Field(description="该年度的清单情况；未列入该年度清单时为空")
    version: int
    updated_at: datetime

    @staticmethod
    def resolve_stage_label(obj) -> str:
        return obj.get_stage_display()

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_year_listing(obj) -> dict | None:
        if getattr(obj, "year_list_kind", None) is None:
            return None
        return {
            "list_kind": obj.year_list_kind,
            "key_level": obj.year_key_level,
            "planned_investment": obj.year_plan,
            "is_new_start": obj.year_new_start,
        }


class TotalsOut(Schema):
    count: int = Field(description="项目数：打包项目与其子项目同时在结果中时只计子项目")
    total_investment: Money
    planned_investment: Money = Field(description="该年度计划投资合计")


class ProjectPage(Schema):
    year: int = Field(description="年度清单、年度计划投资所依据的年度（filter 参数 year，缺省为今年）")
    count: int = Field(description="符合条件的行数（用于分页）")
    limit: int
    offset: int
    totals: TotalsOut
    items: list[ProjectRow]


class ListingOut(Schema):
    year: int
    list_kind: str
    list_kind_label: str
    key_level: str
    key_level_label: str
    planned_investment: Money
    planned_start: date | None
    planned_completion: date | None
    is_new_start: bool
    target: str

    @staticmethod
    def resolve_list_kind_label(obj) -> str:
        return obj.get_list_kind_display()

    @staticmethod
    def resolve_key_level_label(obj) -> str:
        return obj.get_key_level_display()


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    year: int
    batch: str = Field(description="三个一批类别：sign/start/produce，空为不适用")


class ChildOut(Schema):
    id: int
    name: str
    owner_unit: Ref
    region: RegionRef
    stage: str
    total_investment: Money
    planned_investment: Money | None = Field(description="该年度计划投资")

    @staticmethod
    def resolve_planned_investment(obj) -> Decimal | None:
        return obj.year_plan


class PackageOut(Schema):
    """A package's sub-projects and the sums its own figures are made of."""

    year: int
    total_investment: Money
    planned_investment: Money
    children: list[ChildOut]


class ProjectDetail(ProjectRow):
    address: str
    longitude: Coordinate | None
    latitude: Coordinate | None
    content: str
    approval_regime: str
    approval_regime_label: str
    contact_name: str
    contact_phone: str
    work_group: Ref | None
    planned_completion_date: date | None
    parent: Ref | None
    funding: dict[str, Money] = Field(description="资金来源构成：来源代码 → 金额（万元）")
    listings: list[ListingOut]
    campaigns: list[CampaignOut]
    package: PackageOut | None = Field(description="打包项目的子项目及汇总；非打包项目为空")
    created_at: datetime

    @staticmethod
    def resolve_approval_regime_label(obj) -> str:
        return obj.get_approval_regime_display()

    @staticmethod
    def resolve_funding(obj) -> dict:
        return {f.source: f.amount for f in obj.funding.all()}

    @staticmethod
    def resolve_campaigns(obj) -> list[dict]:
        return [
            {
                "id": m.campaign.pk,
                "name": m.campaign.name,
                "kind": m.campaign.kind,
                "year": m.campaign.year,
                "batch": m.batch,
            }
            for m in obj.memberships.all()
        ]

    @staticmethod
    def resolve_package(obj) -> dict | None:
        return getattr(obj, "rollup", None)


# --- Input -------------------------------------------------------------------------------


class _ProjectFields(Schema):
    """Every field a client may set. Referenced records are given by id."""

    name: str | None = Field(None, max_length=200)
    code: str | None = Field(None, description="项目代码，格式 YYYY-RRRRRR-DD-TT-NNNNNN")
    owner_unit_id: int | None = Field(None, description="项目单位（业主）；项目单位账号可省略，默认为本单位")
    region_id: int | None = None
    address: str | None = None
    longitude: Decimal | None = None
    latitude: Decimal | None = None
    sector_id: int | None = Field(None, description="项目类别（顶层类别）")
    industry_id: int | None = Field(None, description="所属行业（某类别下的行业）")
    content: str | None = None
    approval_regime: ApprovalRegime | None = None
    start_year: int | None = None
    end_year: int | None = None
    total_investment: AmountIn | None = None
    is_private_investment: bool | None = None
    is_high_tech: bool | None = None
    package_leader_id: int | None = Field(None, description="包联领导（人员 id，须为领导）")
    responsible_department_id: int | None = Field(None, description="责任部门（政府部门单位 id）")
    contact_name: str | None = None
    contact_phone: str | None = None
    work_group_id: int | None = None
    planned_start_date: date | None = None
    planned_completion_date: date | None = None
    parent_id: int | None = Field(None, description="所属打包项目 id")
    is_package: bool | None = None
    tags: list[str] | None = Field(None, description="标签；给出时整体替换")
    funding: dict[FundingSource, AmountIn | None] | None = Field(
        None, description="资金来源构成：来源代码 → 金额（万元）；给出时整体替换"
    )


class ProjectIn(_ProjectFields):
    name: str = Field(max_length=200)
    region_id: int
    sector_id: int
    total_investment: AmountIn
    stage: str | None = Field(
        None,
        description="登记时的阶段：conceived/reserved/preparing/signed（缺省 reserved）；开工及以后用 transitions",
    )


class ProjectPatch(_ProjectFields):
    """Only the fields present are changed; `null` clears an optional field."""

    version: int = Field(description="读取项目时得到的 version；已被他人修改时返回 409")


class TransitionIn(Schema):
    stage: Stage
    on_date: date | None = Field(None, description="开工、竣工时填写实际日期，不能晚于今天")
    note: str = Field("", max_length=500, description="说明；阶段回退（仅市级管理员）必须填写原因")


class ListingIn(Schema):
    """The whole listing for one year (PUT replaces it)."""

    list_kind: ListKind
    key_level: KeyLevel = KeyLevel.NONE
    planned_investment: AmountIn
    planned_start: date | None = None
    planned_completion: date | None = None
    is_new_start: bool = False
    target: str = ""


FILTER_NOTES = {
    "q": "多个词用空格分隔",
    "year": "缺省为今年；给出时只列该年度清单内的项目",
    "region": "含下辖区域；须在本账号的管辖范围内",
    "sector": "含其下的行业",
}


def _filter_description(name: str, field: forms.Field) -> str:
    text = str(field.label)
    if isinstance(field, forms.ModelChoiceField):
        text += f"（{field.to_field_name or 'id'}）"
    elif isinstance(field, forms.ChoiceField):
        values = "；".join(f"{value} {label}" for value, label in field.choices if value)
        text += f"：{values}" + ("（可重复）" if isinstance(field, forms.MultipleChoiceField) else "")
    elif isinstance(field, forms.BooleanField):
        text += "：1 是"
    elif isinstance(field, forms.DateField):
        text += "（YYYY-MM-DD）"
    elif isinstance(field, forms.IntegerField) and field.max_value is not None:
        text += f"（{field.min_value}–{field.max_value}）"
    if placeholder := field.widget.attrs.get("placeholder"):
        text += f"：{placeholder}"
    if name in FILTER_NOTES:
        text += f"。{FILTER_NOTES[name]}"
    return text


# The list's query parameters, generated from the list page's filter form so the two cannot
# drift apart. Values are taken as text here and checked by the form (422 with its messages).
ProjectFilters = create_model(
    "ProjectFilters",
    __base__=Schema,
    __doc__="项目库列表的筛选参数：与网页项目库（/projects/）的筛选完全相同。",
    **{
        name: (
            list[str] | None if isinstance(field, forms.MultipleChoiceField) else str | None,
            Field(None, description=_filter_description(name, field)),
        )
        for name, field in ProjectFilterSet.base_fields.items()
    },
)
