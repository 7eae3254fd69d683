"""API shapes for dispatch (调度): periods, reports, completeness and the month's aggregates.

Amounts are 万元, exact decimals sent as strings with two decimals ("12345.00"), as in the
project API; percentages are strings too ("25.0", "-58.3"). Report fields are taken as the client
sends them (numbers or strings) and converted and checked by reporting.services, so the API,
the form, the grid and the Excel upload refuse the same input with the same Chinese message."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema, field_validator

from majorprojects.core.money import AmountError, parse_amount
from majorprojects.organisation.schemas import Ref, RegionRef
from majorprojects.projects.models import FundingSource
from majorprojects.projects.schemas import AmountIn, Money

SOURCE_ORDER = {source: i for i, source in enumerate(FundingSource.values)}

Percent = Annotated[
    Decimal,
    PlainSerializer(lambda d: str(d), return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["25.0"]}),
]


def _scalar_text(value):
    """Numbers as their exact text; the service converts and checks the value."""
    if isinstance(value, bool):
        raise ValueError("请填写数字。")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


NumberIn = Annotated[
    str,
    BeforeValidator(_scalar_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}], "examples": ["45.5"]}),
]
DateIn = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-10-15"]})]


def _fund_amount(value) -> Decimal:
    """A fund amount (万元) read the way the forms read amounts; blank is 0."""
    try:
        return parse_amount(value) or Decimal(0)
    except AmountError as exc:
        raise ValueError(f"{exc}。") from exc


FundAmountIn = Annotated[
    Decimal,
    BeforeValidator(_fund_amount),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "description": '万元；数字或字符串，可带单位，如 "1500"、"0.2亿"',
            "examples": ["1500.00"],
        }
    ),
]


# --- Output ------------------------------------------------------------------------------


class PeriodOut(Schema):
    id: int
    schedule: Ref
    frequency: str = Field(description="monthly 月调度、quarterly 季调度、weekly 周调度")
    frequency_label: str
    year: int
    number: int = Field(description="月份、季度或周次")
    label: str = Field(examples=["2026年10月"])
    starts_on: date
    ends_on: date
    due_on: date = Field(description="截止日期（遇法定节假日已顺延）")
    late_after: date = Field(description="晚于此日报送计为迟报（截止日加宽限期）")
    locked_at: datetime | None = Field(description="市级锁定时间；未锁定为空")

    @staticmethod
    def resolve_frequency_label(obj) -> str:
        return obj.get_frequency_display()


class PeriodPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PeriodOut]


class CompletenessOut(Schema):
    due: int = Field(description="应报")
    submitted: int = Field(description="已报送（含已审核、已退回、已锁定）")
    on_time: int = Field(description="按时报送")
    late: int = Field(description="迟报")
    missing: int = Field(description="未报送")
    approved: int = Field(description="已审核（含已锁定）")
    returned: int = Field(description="已退回待重报")
    timely_pct: Percent | None = Field(description="及时率 = 按时报送 / 应报（%）")


class PeriodDetail(PeriodOut):
    completeness: CompletenessOut = Field(description="本账号数据范围内的报送情况")


class _CompletenessGroup(Schema):
    key: int | str | None = Field(description="分组：区域 id、责任部门 id 或清单代码；空为未归类")
    label: str


class CompletenessRow(CompletenessOut, _CompletenessGroup):
    """A group's figures (the group's key and label come first)."""


class CompletenessTable(Schema):
    period: PeriodOut
    by: str
    by_label: str
    rows: list[CompletenessRow]


class ProjectRef(Schema):
    id: int
    name: str
    code: str | None


class PeriodRef(Schema):
    id: int
    label: str
    frequency: str
    year: int
    number: int
    ends_on: date
    due_on: date
    late_after: date
    locked_at: datetime | None


class MissingOut(Schema):
    """A report slot not yet sent, with whom to chase."""

    report_id: int
    status: str
    status_label: str
    project: ProjectRef
    region: RegionRef
    owner_unit: Ref
    responsible_department: Ref | None
    contact_name: str = Field(description="项目负责人")
    contact_phone: str

    @staticmethod
    def resolve_report_id(obj) -> int:
        return obj.pk

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_region(obj):
        return obj.project.region

    @staticmethod
    def resolve_owner_unit(obj):
        return obj.project.owner_unit

    @staticmethod
    def resolve_responsible_department(obj):
        return obj.project.responsible_department

    @staticmethod
    def resolve_contact_name(obj) -> str:
        return obj.project.contact_name

    @staticmethod
    def resolve_contact_phone(obj) -> str:
        return obj.project.contact_phone


class MissingPage(Schema):
    period: PeriodOut
    count: int
    limit: int
    offset: int
    items: list[MissingOut]


class ReportRow(Schema):
    """One row of the report list."""

    id: int
    period: PeriodRef
    project: ProjectRef
    status: str = Field(
        description="pending 待填报、draft 草稿、submitted 已报送、returned 已退回、approved 已审核、locked 已锁定"
    )
    status_label: str
    investment: Money | None = Field(description="本期完成投资")
    year_to_date: Money = Field(description="本年累计完成（系统计算）")
    since_start: Money = Field(description="开工累计完成（系统计算）")
    percent_complete: Percent | None
    is_late: bool
    submitted_at: datetime | None
    version: int
    updated_at: datetime

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()


class ReportPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReportRow]


class FundOut(Schema):
    source: str
    source_label: str
    arrived: Money = Field(description="本期到位")
    paid: Money = Field(description="本期支付")

    @staticmethod
    def resolve_source_label(obj) -> str:
        return obj.get_source_display()


class ReportDetail(ReportRow):
    progress: str = Field(description="形象进度")
    started_on: date | None
    structure_done_on: date | None
    completed_on: date | None
    operating_on: date | None
    stats_included: bool | None
    stats_date: date | None
    problems: str
    next_plan: str
    note: str = Field(description="情况说明（单期投资明显偏大时必填）")
    return_reason: str
    reviewed_at: datetime | None
    funds: list[FundOut] = Field(description="按资金来源的固定顺序")

    @staticmethod
    def resolve_funds(obj) -> list:
        return sorted(obj.funds.all(), key=lambda f: SOURCE_ORDER.get(f.source, len(SOURCE_ORDER)))


class MonthFigures(Schema):
    projects: int = Field(description="列入该年度清单的项目数")
    plan: Money = Field(description="年度计划投资")
    done_month: Money = Field(description="本月完成")
    done_prev_month: Money = Field(description="上月完成")
    done_ytd: Money = Field(description="1 月至本月累计完成")
    done_ytd_last_year: Money = Field(description="上年同期累计完成")
    plan_pct: Percent | None = Field(description="占年度计划（%）")
    time_pct: Percent = Field(description="时间进度（%）")
    gap_pp: Percent | None = Field(description="与时间进度之差（百分点，正为超过）")
    gap_text: str = Field(examples=["落后时间进度 58.3 个百分点"])
    mom_pct: Percent | None = Field(description="本月完成环比（%）")
    yoy_pct: Percent | None = Field(description="累计完成同比（%）")
    new_planned: int = Field(description="计划截至本月新开工项目数")
    new_started: int = Field(description="其中已开工")
    new_start_pct: Percent | None = Field(description="新开工率（%）")
    continuing: int = Field(description="续建项目数")
    resumed: int = Field(description="其中本年已复工（有完成投资）")
    start_resume_pct: Percent | None = Field(description="开复工率（%）")
    completion_planned: int = Field(description="计划截至本月竣工项目数")
    completed: int = Field(description="其中已竣工")
    completion_pct: Percent | None = Field(description="竣工率（%）")


class _Month(Schema):
    year: int
    month: int


class SummaryOut(MonthFigures, _Month):
    """The month's figures over every project the caller sees."""


class _TableGroup(Schema):
    key: int | str | None = Field(
        description="分组键：区域/类别/领导/专班/部门 id，或清单、级别、资金渠道代码"
    )
    label: str


class TableRow(MonthFigures, _TableGroup):
    """A group's figures (the group's key and label come first)."""


class TableOut(Schema):
    year: int
    month: int
    by: str
    by_label: str
    rows: list[TableRow]


class TrendOut(Schema):
    year: int
    months: list[str] = Field(examples=[["1月", "2月"]])
    this_year: list[Money] = Field(description="本年各月完成")
    last_year: list[Money] = Field(description="上年各月完成")
    cumulative: list[Money] = Field(description="本年累计完成")
    plan: Money = Field(description="本年年度计划投资")
    plan_pct: list[Percent | None] = Field(description="累计完成占年度计划（%）")
    time_pct: list[Percent] = Field(description="时间进度（%）")


# --- Input -------------------------------------------------------------------------------


class FundIn(Schema):
    source: FundingSource
    arrived: FundAmountIn = Decimal(0)
    paid: FundAmountIn = Decimal(0)


class ReportFields(Schema):
    """What a filler types. Only the fields sent change; `null` or "" clears a field. Values are
    converted and checked by the same service as the pages (Chinese messages naming the field)."""

    investment: AmountIn | None = Field(None, description="本期完成投资（万元）")
    progress: str | None = Field(None, description="形象进度")
    percent_complete: NumberIn | None = Field(None, description="工程完成比例（%），0–100，不低于上期")
    started_on: DateIn | None = Field(None, description="开工日期（本期开工时填写）")
    structure_done_on: DateIn | None = Field(None, description="主体完工日期")
    completed_on: DateIn | None = Field(None, description="竣工日期")
    operating_on: DateIn | None = Field(None, description="投产日期")
    stats_included: bool | str | None = Field(None, description="是否入统：true/false 或“是”/“否”")
    stats_date: DateIn | None = Field(None, description="入统日期")
    problems: str | None = Field(None, description="存在问题")
    next_plan: str | None = Field(None, description="下期计划")
    note: str | None = Field(None, description="情况说明")
    funds: list[FundIn] | None = Field(
        None, description="本期资金到位与支付，按资金来源；给出时整体替换（空列表清空）"
    )

    @field_validator("funds")
    @classmethod
    def _one_row_per_source(cls, funds):
        seen = set()
        for fund in funds or []:
            if fund.source in seen:
                raise ValueError(f"资金来源“{FundingSource(fund.source).label}”重复，每个来源只填一行。")
            seen.add(fund.source)
        return funds


class ReportIn(ReportFields):
    version: int = Field(description="读取报表时得到的 version；已被他人修改时返回 409")


class SubmitIn(ReportFields):
    version: int | None = Field(
        None, description="读取报表时得到的 version；给出时核对，已被他人修改时返回 409"
    )


class ReportUpsertIn(ReportFields):
    period_id: int
    project_id: int
    version: int | None = Field(None, description="给出时核对（409）；不给出则不核对版本")


class ReturnIn(Schema):
    reason: str = Field(max_length=1000, description="退回原因：需要填报人修改什么")
