"""API shapes of the warnings app. Values are decimal strings ("-12.5"); periods are "YYYY-MM";
lights are "red", "yellow" or "green"."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import PlainSerializer, WithJsonSchema

Dec = Annotated[
    Decimal,
    PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["-12.5"]}),
]

VERSION = Field(None, description="读取时得到的 version；给出时核对，已被他人处理时返回 409")
PERIOD_HELP = "月份 YYYY-MM，默认最近一次扫描的月份"


class MetricOut(Schema):
    code: str
    label: str
    subject: str
    unit: str
    higher_is_worse: bool
    description: str
    params: dict[str, Any] = Field(description="参数名 → {type, required, label, allowed}")


class RuleOut(Schema):
    id: int
    version: int
    code: str
    name: str
    description: str
    subject: str
    metric: str
    params: dict[str, Any]
    scope: dict[str, list[str]]
    yellow: float | int | None
    red: float | int | None
    yellow_after: int
    red_after: int | None
    grace_days: int
    grace_months: int
    exemption: dict[str, Any]
    years: dict[str, int | None]
    active: bool
    sort_order: int


class RuleIn(Schema):
    """One rule in the rule file's form (docs/alerts.md)."""

    rule: dict[str, Any]
    version: int | None = VERSION


class RuleErrorOut(Schema):
    index: int | None
    code: str
    field: str
    message: str


class ImportReportOut(Schema):
    ok: bool
    dry_run: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    deactivated: list[str]
    errors: list[RuleErrorOut]


class ScanIn(Schema):
    period: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])


class ScanOut(Schema):
    period: str
    rules: int
    created: int
    updated: int
    unchanged: int
    cleared: int
    by_light: dict[str, int]
    skipped: dict[str, str]
    seconds: float


class WarningRow(Schema):
    id: int
    period: str
    rule_code: str
    rule_name: str
    metric_label: str
    unit: str
    subject: str = Field(description="project 项目、region 区域")
    project_id: int | None
    project_name: str
    region_id: int
    region_name: str
    light: str
    light_label: str
    value: Dec | None
    streak: int = Field(description="连续达到黄灯阈值的期数（含本期）")
    escalated: bool = Field(description="上期黄灯、本期升为红灯")
    carried: bool = Field(description="上期已有同一规则的预警")
    condition_cleared: bool = Field(description="重新扫描时条件已消除（已有处理过程的预警保留）")
    status: str = Field(
        description="issued 已亮灯、notified 已通知、rectifying 整改中、rectified 已整改待销号、"
        "struck_off 已销号、exempted 已免于亮灯"
    )
    status_label: str
    responsible_unit: str
    leader: str
    plan: str
    deadline: date | None
    version: int


class WarningPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[WarningRow]


class EventOut(Schema):
    at: datetime
    actor: str
    verb: str
    details: dict[str, Any]


class ExemptionOut(Schema):
    id: int
    status: str
    justification: str
    period_from: str
    period_to: str
    decision_note: str
    version: int


class WarningDetail(WarningRow):
    evidence: dict[str, Any]
    rectification: str
    note: str
    carried_from_id: int | None
    actions: dict[str, bool]
    exemptions: list[ExemptionOut]
    timeline: list[EventOut]


class NotifyIn(Schema):
    note: str = Field("", max_length=500)
    version: int | None = VERSION


class PlanIn(Schema):
    plan: str = Field(max_length=2000)
    deadline: date
    version: int | None = VERSION


class RectifiedIn(Schema):
    rectification: str = Field(max_length=2000)
    version: int | None = VERSION


class NoteIn(Schema):
    note: str = Field("", max_length=500)
    version: int | None = VERSION


class ReasonIn(Schema):
    reason: str = Field(max_length=500)
    version: int | None = VERSION


class ExemptionIn(Schema):
    justification: str = Field(max_length=2000)
    until: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}$", description="适用至 YYYY-MM，默认仅预警所在月份"
    )
    version: int | None = VERSION


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=500)
    version: int | None = VERSION


class NegativeRow(WarningRow):
    new: bool = Field(description="上期不在清单上的项目")


class NegativeSection(Schema):
    region_id: int
    region_name: str
    red: int
    yellow: int
    projects: int
    rows: list[NegativeRow]


class ClearedProject(Schema):
    project_id: int
    project_name: str
    light: str = Field(description="上期灯色")


class NegativeList(Schema):
    period: str
    counts: dict[str, int]
    by_rule: list[dict[str, Any]]
    comparison: dict[str, Any]
    sections: list[NegativeSection]


class BoardRow(Schema):
    region_id: int
    region_name: str
    kind: str
    light: str
    light_label: str
    warnings: list[WarningRow]
    projects: dict[str, int]
