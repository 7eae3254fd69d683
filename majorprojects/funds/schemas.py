"""API shapes for funds. Amounts are 万元, exact decimals sent as strings with two decimals
("1200.00"); rates and percentage points are strings with one decimal ("37.5", "-12.5"). Input
amounts may be numbers or strings with a unit ("0.5亿"); funds.services converts and checks them,
so the API refuses what the pages refuse, with the same Chinese message."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema

from majorprojects.organisation.schemas import Ref, RegionRef
from majorprojects.projects.models import FundingSource
from majorprojects.projects.schemas import AmountIn, Money
from majorprojects.reporting.schemas import Percent

from .models import Level, MovementKind, ProgrammeKind

# --- programmes -----------------------------------------------------------------------------


class ProgrammeRef(Schema):
    id: int
    code: str
    name: str


class ProgrammeOut(Schema):
    id: int
    code: str = Field(description="稳定代码，如 central_budget、special_bond")
    name: str
    kind: str
    kind_label: str
    level: str
    level_label: str
    funding_source: str = Field(description="对应调度表资金来源（ReportFunds.source）；空表示不从调度表取数")
    window_months: int | None = Field(description="下达后应使用完毕的月数；空表示不设期限")
    straight_line: bool = Field(description="true：按直线序时进度考核；false：期限届满时要求全部使用")
    idle_months: int | None = Field(description="连续此月数无支付列为可能收回")
    start_deadline_months: int | None = Field(description="下达后此月数内项目仍未开工列为可能收回")
    sort_order: int
    is_active: bool
    version: int

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_level_label(obj) -> str:
        return obj.get_level_display()


class ProgrammePatch(Schema):
    version: int = Field(description="读取时的版本号；他人已修改则返回 409")
    name: str | None = Field(None, max_length=50)
    kind: ProgrammeKind | None = None
    level: Level | None = None
    funding_source: str | None = Field(
        None,
        max_length=30,
        description=f"调度表资金来源：{'、'.join(FundingSource.values)}；空字符串表示不对应",
    )
    window_months: int | None = Field(None, ge=1, le=600)
    straight_line: bool | None = None
    idle_months: int | None = Field(None, ge=1, le=600)
    start_deadline_months: int | None = Field(None, ge=1, le=600)
    sort_order: int | None = Field(None, ge=0, le=32767)
    is_active: bool | None = None


# --- allocations ------------------------------------------------------------------------------


class PaceOut(Schema):
    elapsed_months: int = Field(description="下达至统计日的整月数")
    window_end: date | None = Field(description="应使用完毕日期；无期限为空")
    expected: Money | None = Field(description="序时应支付 = 下达金额 × min(1, 已过月数 / 期限月数)")
    expected_pct: Percent | None
    actual_pct: Percent | None = Field(description="支付率（%）")
    gap: Money | None = Field(description="落后金额 = 序时应支付 − 已支付（不落后为 0）")
    gap_pp: Percent | None = Field(description="支付率 − 序时进度（百分点，负数为落后）")
    behind: bool


class MovementOut(Schema):
    id: int
    kind: str = Field(description="arrival 到位、transfer 拨付、payment 支付")
    kind_label: str
    on_date: date
    amount: Money
    note: str
    report_id: int | None = Field(description="据调度表确认的支付：来源调度表")
    confirmed: bool = Field(description="据调度表确认的支付（只有市级管理员可删除）")
    may_delete: bool | None = Field(None, description="项目资金接口中：调用者可否删除该记录")

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_confirmed(obj) -> bool:
        return bool(obj.report_source or obj.report_id)

    @staticmethod
    def resolve_may_delete(obj) -> bool | None:
        return getattr(obj, "may_delete", None)


class AllocationOut(Schema):
    id: int
    project: Ref
    region: RegionRef
    programme: ProgrammeRef
    batch: str
    document_no: str
    issued_on: date
    amount: Money
    note: str
    version: int
    arrived: Money
    transferred: Money
    paid: Money
    unpaid: Money
    rate: Percent | None = Field(description="支付率 = 已支付 / 下达金额（%）")
    last_payment: date | None
    pace: PaceOut
    flags: list[str] = Field(description="数据提示，如“支付超过到位”")


class AllocationDetail(AllocationOut):
    movements: list[MovementOut]


class AllocationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AllocationOut]


class AllocationIn(Schema):
    project_id: int
    programme: str = Field(description="资金渠道代码，如 central_budget")
    document_no: str = Field(max_length=100, description="下达文号；同一项目同一渠道内不能重复")
    issued_on: date
    amount: AmountIn
    batch: str = Field("", max_length=50)
    note: str = Field("", max_length=200)


class AllocationPatch(Schema):
    version: int = Field(description="读取时的版本号；他人已修改则返回 409，不作任何修改")
    programme: str | None = None
    document_no: str | None = Field(None, max_length=100)
    issued_on: date | None = None
    amount: AmountIn | None = None
    batch: str | None = Field(None, max_length=50)
    note: str | None = Field(None, max_length=200)


class MovementIn(Schema):
    kind: MovementKind
    on_date: date
    amount: AmountIn
    note: str = Field("", max_length=200)


# --- loans ------------------------------------------------------------------------------------


class ReleaseOut(Schema):
    id: int
    on_date: date
    amount: Money
    note: str


class LoanOut(Schema):
    id: int
    project: Ref
    programme: ProgrammeRef | None
    bank: str
    contract_no: str
    signed_on: date
    amount_signed: Money
    term_months: int | None
    subsidy_applied: Money
    subsidy_granted: Money
    note: str
    version: int
    released: Money
    release_rate: Percent | None = Field(description="投放率 = 已投放 / 签约金额（%）")
    last_release: date | None
    releases: list[ReleaseOut]


class LoanIn(Schema):
    project_id: int
    programme: str | None = Field(None, description="资金渠道代码，如 mid_long_loan、policy_finance")
    bank: str = Field(max_length=100)
    contract_no: str = Field("", max_length=100)
    signed_on: date
    amount_signed: AmountIn
    term_months: int | None = Field(None, ge=1, le=600)
    subsidy_applied: AmountIn | None = None
    subsidy_granted: AmountIn | None = Field(None, description="获批贴息：仅市级管理员、县市区或行业部门可填")
    note: str = Field("", max_length=200)


class LoanPatch(Schema):
    version: int
    programme: str | None = None
    bank: str | None = Field(None, max_length=100)
    contract_no: str | None = Field(None, max_length=100)
    signed_on: date | None = None
    amount_signed: AmountIn | None = None
    term_months: int | None = Field(None, ge=1, le=600)
    subsidy_applied: AmountIn | None = None
    subsidy_granted: AmountIn | None = None
    note: str | None = Field(None, max_length=200)


class ReleaseIn(Schema):
    on_date: date
    amount: AmountIn
    note: str = Field("", max_length=200)


# --- figures ----------------------------------------------------------------------------------


class GroupOut(Schema):
    key: int | str | None
    label: str
    allocations: int
    projects: int
    allocated: Money
    arrived: Money
    transferred: Money
    paid: Money
    unpaid: Money
    rate: Percent | None = Field(description="支付率（%）")
    arrival_rate: Percent | None = Field(description="到位率（%）")
    windowed: int = Field(description="设有使用期限的笔数")
    behind_count: int = Field(description="落后序时进度的笔数")
    behind_amount: Money = Field(description="落后笔数的下达金额")
    behind_gap: Money = Field(description="落后笔数的落后金额合计")


class OverviewOut(Schema):
    as_of: date
    by: str
    by_label: str
    total: GroupOut
    rows: list[GroupOut]


class RiskOut(Schema):
    allocation: AllocationOut
    reasons: list[str]
    not_started: bool
    idle_months: int | None


class ReportedOut(Schema):
    report_id: int
    period_label: str
    period_end: date
    source: str
    source_label: str
    arrived: Money
    paid: Money
    confirmed: Money = Field(description="已确认计入台账的支付")
    status: str = Field(description="未确认、已确认、金额不一致")
    programmes: list[str] = Field(description="对应的资金渠道")


class LoansTotalOut(Schema):
    loans: int
    signed: Money
    released: Money
    release_rate: Percent | None
    subsidy_applied: Money
    subsidy_granted: Money


class ProjectFundsOut(Schema):
    as_of: date
    project: Ref
    total: GroupOut
    by_programme: list[GroupOut]
    allocations: list[AllocationDetail]
    at_risk: list[RiskOut]
    loans: list[LoanOut]
    loans_total: LoansTotalOut
    reported: list[ReportedOut]
    may_record: list[str] = Field(
        description="调用者可在本项目登记的类型：allocation 下达、arrival 到位、transfer 拨付、"
        "payment 支付（含确认调度表支付）、loan 贷款及投放、subsidy 获批贴息"
    )


class ConfirmIn(Schema):
    programme: str = Field(description="资金渠道代码，如 central_budget")


class SkippedOut(Schema):
    report_id: int
    period_label: str
    paid: Money
    reason: str


class ConfirmOut(Schema):
    created: list[MovementOut]
    skipped: list[SkippedOut]
