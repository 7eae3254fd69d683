"""API shapes for the problem ledger. Rates are strings with one decimal ("66.7") or null when
there is nothing to divide by; dates are YYYY-MM-DD."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import PlainSerializer, WithJsonSchema

from majorprojects.organisation.schemas import Ref

from . import conf
from .models import Source, Urgency

Rate = Annotated[
    Decimal,
    PlainSerializer(lambda d: str(d), return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["66.7"]}),
]

VERSION = Field(description="读取问题时得到的 version（必填）；已被他人处理时返回 409")


class CategoryOut(Schema):
    id: int
    code: str
    name: str


class ProblemRow(Schema):
    id: int
    title: str
    project: Ref
    category: Ref
    region: Ref
    source: str
    source_label: str
    urgency: str
    urgency_label: str
    status: str = Field(
        description="reported 待研判、accepted 待交办、assigned 办理中、reopened 重新办理、"
        "resolved 待确认、closed 已销号、merged 已合并、split 已分解"
    )
    status_label: str
    lead_unit: Ref | None
    deadline: date | None
    overdue: bool = Field(description="办理中且已过办理时限")
    escalation_level: int = Field(description="督办等级：0 未督办，1 通报，2 分管副职约谈，3 主要负责人约谈")
    escalation_level_name: str
    created_at: datetime
    closed_at: datetime | None
    version: int

    @staticmethod
    def resolve_source_label(obj) -> str:
        return obj.get_source_display()

    @staticmethod
    def resolve_urgency_label(obj) -> str:
        return obj.get_urgency_display()

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_overdue(obj) -> bool:
        from .selectors import is_overdue

        return is_overdue(obj)

    @staticmethod
    def resolve_escalation_level_name(obj) -> str:
        return conf.level_name(obj.escalation_level)


class ProblemPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProblemRow]


class TimelineOut(Schema):
    at: datetime
    verb: str
    label: str
    actor: str
    text: str


class ExtensionOut(Schema):
    id: int
    previous_deadline: date
    requested_date: date
    reason: str
    state: str = Field(description="pending 待审批、approved 已同意、rejected 不同意")
    decision_note: str
    requested_at: datetime
    decided_at: datetime | None


class ProblemDetail(ProblemRow):
    description: str
    request: str
    raised_by: str
    raising_unit: Ref | None
    other_project_ids: list[int]
    report_id: int | None
    parent_id: int | None
    merged_into_id: int | None
    sub_item_ids: list[int]
    level: str = Field(description="研判层级：city 市级、county 县级；未受理时为空")
    co_units: list[Ref]
    leader: Ref | None = Field(description="责任领导")
    responsible_name: str
    responsible_phone: str
    solution: str
    deadline_workdays: int | None = Field(description="按工作日交办时的天数")
    assigned_at: datetime | None
    first_reply_due: date | None
    first_reply_at: datetime | None
    resolution: str
    resolved_at: datetime | None
    close_kind: str
    close_reason: str
    reopen_count: int
    notice_count: int
    escalated_to: Ref | None
    actions: dict[str, bool] = Field(description="当前账号现在可执行的操作")
    extensions: list[ExtensionOut]
    timeline: list[TimelineOut]

    @staticmethod
    def resolve_raised_by(obj) -> str:
        return obj.raised_by.display_name if obj.raised_by_id else ""


# --- Input ----------------------------------------------------------------------------------


class RaiseIn(Schema):
    project_id: int
    category_id: int
    description: str = Field(max_length=5000)
    request: str = Field("", max_length=2000, description="诉求")
    title: str = Field("", max_length=100, description="问题概述；缺省取描述首行")
    urgency: Urgency = Urgency.NORMAL
    source: Source | None = Field(None, description="缺省按账号角色；项目单位只能是 project_unit")
    other_project_ids: list[int] = Field(default_factory=list, max_length=50)


class AcceptIn(Schema):
    note: str = Field("", max_length=1000)
    category_id: int | None = Field(None, description="问题类别（研判时更正类别；不填不改变）")
    version: int = VERSION


class MergeIn(Schema):
    into_id: int = Field(description="保留的问题")
    reason: str = Field("", max_length=1000)
    version: int = VERSION


class SplitItemIn(Schema):
    description: str = Field(max_length=5000)
    title: str = Field("", max_length=100)
    request: str = Field("", max_length=2000)
    category_id: int | None = None


class SplitIn(Schema):
    items: list[SplitItemIn] = Field(max_length=20)
    version: int = VERSION


class AssignIn(Schema):
    lead_unit_id: int = Field(description="牵头单位（责任单位）")
    co_unit_ids: list[int] = Field(default_factory=list, max_length=30, description="配合单位")
    leader_id: int = Field(description="责任领导（人员）")
    responsible_name: str = Field(max_length=50, description="责任人")
    responsible_phone: str = Field("", max_length=30)
    solution: str = Field(max_length=5000, description="解决方案")
    deadline: date | None = Field(None, description="办理时限（日期）；与 workdays 二选一")
    workdays: int | None = Field(None, description="办理时限（法定工作日天数，自今天起算）")
    version: int = VERSION


class ProgressIn(Schema):
    text: str = Field(max_length=5000)


class ExtensionIn(Schema):
    until: date = Field(description="申请延至")
    reason: str = Field(max_length=2000)


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=1000, description="审批意见；不同意时必填")


class ResolveIn(Schema):
    resolution: str = Field(max_length=5000, description="办理结果")
    version: int = VERSION


class ConfirmIn(Schema):
    satisfied: bool
    reason: str = Field("", max_length=2000, description="意见；不满意时必填")
    version: int = VERSION


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)
    version: int = VERSION


class EscalateIn(Schema):
    leader_id: int = Field(description="协调领导（分管副市长等）")
    reason: str = Field(max_length=2000)


class CoordinationOut(Schema):
    id: int
    leader: Ref
    reason: str
    meeting_date: date | None
    minutes: str


# --- Figures --------------------------------------------------------------------------------


class MetricRow(Schema):
    key: int | None = Field(description="单位或类别的 id；合计行与未交办为 null")
    label: str
    total: int
    open: int
    overdue: int
    closed: int
    closure_rate: Rate | None = Field(description="销号率 %")
    avg_days: Rate | None = Field(description="平均办结天数（自反映至销号，自然日）")
    median_days: Rate | None
    confirmations: int
    satisfied: int
    satisfaction_rate: Rate | None = Field(description="满意率 % = 满意次数 / 确认次数")


class MetricsOut(Schema):
    by: str
    by_label: str
    rows: list[MetricRow]
    total: MetricRow
