"""API shapes for the approvals ledger (前期工作台账). Dates are ISO dates; statuses are the
values of ItemStatus with their Chinese labels alongside."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema

from majorprojects.organisation.schemas import Ref, RegionRef
from majorprojects.projects.models import ApprovalRegime

from .models import ItemStatus, UsedWhen


class ItemTypeOut(Schema):
    id: int
    code: str
    name: str
    approving_body: str
    validity_months: int | None = Field(description="有效期（月），自批复之日起；空为不设有效期")
    used_when: str = Field(description="start 项目开工、item 后续事项办结：有效期内须完成的事")
    used_by_id: int | None
    warn_days: int = Field(description="失效前多少天开始预警")
    deadline_workdays: int | None = Field(description="办理时限（法定工作日），自受理日期起")
    basis: str
    sort_order: int
    is_active: bool


class ItemTypeIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=50)
    approving_body: str = Field("", max_length=100)
    validity_months: int | None = Field(None, ge=1, le=240)
    used_when: UsedWhen = UsedWhen.START
    used_by_id: int | None = None
    warn_days: int = Field(90, ge=0, le=3650)
    deadline_workdays: int | None = Field(None, ge=1, le=365)
    basis: str = Field("", max_length=200)
    sort_order: int = Field(0, ge=0)
    is_active: bool = True


class TemplateEntryOut(Schema):
    position: int
    item_type: Ref


class TemplateOut(Schema):
    regime: str
    regime_label: str
    items: list[TemplateEntryOut]


class TemplateAddIn(Schema):
    item_type_id: int
    position: int | None = Field(None, ge=1, description="插入位置（从 1 起），缺省放在最后")


class TemplateOrderIn(Schema):
    item_type_ids: list[int] = Field(description="该模板全部事项的新顺序")


class FlagsOut(Schema):
    overdue: bool = Field(description="逾期未办结")
    promise_overdue: bool = Field(description="容缺承诺逾期未补齐")
    lapse_risk: bool = Field(description="批复即将失效")
    lapsed: bool = Field(description="批复已失效")
    overdue_days: int | None
    expires_on: date | None = Field(description="有效期届满日（未使用的有效期）")
    days_left: int | None
    labels: list[str]


class ItemOut(Schema):
    id: int
    project_id: int
    item_type: Ref
    position: int
    status: str
    status_label: str
    responsible_unit: Ref | None
    responsible_person: str
    submitted_date: date | None
    planned_date: date | None
    actual_date: date | None
    approving_body: str
    document_number: str
    attachment_id: int | None
    not_applicable_reason: str
    promise_due_date: date | None
    papers_supplied_date: date | None
    note: str
    version: int

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()


class LedgerRowOut(Schema):
    item: ItemOut
    flags: FlagsOut
    slip_days: int | None = Field(None, description="实际晚于计划的天数；未办结时为已超过计划的天数")


class SummaryOut(Schema):
    total: int
    applicable: int = Field(description="除“不涉及”外的事项数")
    done: int
    promised: int
    in_progress: int
    not_started: int
    not_applicable: int
    overdue: int
    promise_overdue: int
    lapse_risk: int
    lapsed: int


class ProjectRef(Schema):
    id: int
    name: str
    code: str | None
    region: RegionRef
    approval_regime: str
    stage: str


class LedgerOut(Schema):
    project: ProjectRef
    rows: list[LedgerRowOut]
    summary: SummaryOut


class ItemPatch(Schema):
    """Only the fields sent change; `version` is the item's version as read."""

    version: int
    status: ItemStatus | None = None
    responsible_unit_id: int | None = None
    responsible_person: str | None = Field(None, max_length=50)
    submitted_date: date | None = None
    planned_date: date | None = None
    actual_date: date | None = None
    approving_body: str | None = Field(None, max_length=100)
    document_number: str | None = Field(None, max_length=100)
    not_applicable_reason: str | None = Field(None, max_length=200)
    promise_due_date: date | None = None
    papers_supplied_date: date | None = None
    note: str | None = Field(None, max_length=500)


class NotApplicableIn(Schema):
    version: int
    reason: str = Field(max_length=200)


class PromiseIn(Schema):
    version: int
    approved_on: date
    promise_due_date: date | None = None
    promise_workdays: int | None = Field(None, ge=1, le=365, description="自批复日起的法定工作日数")
    document_number: str | None = Field(None, max_length=100)
    approving_body: str | None = Field(None, max_length=100)


class PapersIn(Schema):
    version: int
    on_date: date
    document_number: str | None = Field(None, max_length=100)


class ItemRowOut(Schema):
    item: ItemOut
    project: ProjectRef
    flags: FlagsOut


class StatusLabel(Schema):
    value: str
    label: str


class MatrixRowOut(Schema):
    key: int | None
    label: str
    counts: dict[str, int]
    total: int
    overdue: int


class MatrixTotals(Schema):
    counts: dict[str, int]
    total: int
    overdue: int


class MatrixOut(Schema):
    by: str
    by_label: str
    statuses: list[StatusLabel]
    rows: list[MatrixRowOut]
    totals: MatrixTotals


class MissingOut(Schema):
    item_type_id: int | None
    name: str
    status: str | None
    status_label: str
    wanted: list[str]
    rule: str


class ReadinessRowOut(Schema):
    project: ProjectRef
    ready: bool
    missing: list[MissingOut]


class ReadinessOut(Schema):
    rules: list[str]
    count: int
    ready: int
    rows: list[ReadinessRowOut]


class ImportOut(Schema):
    updated: int
    unchanged: int


REGIME_LABELS = dict(ApprovalRegime.choices)


# --- Readiness rules -----------------------------------------------------------------------------


class RuleRequirementOut(Schema):
    item_type: Ref
    statuses: list[str] = Field(description="该事项须处于的状态（满足其一即可）")
    status_labels: list[str]


class RuleOut(Schema):
    id: int
    name: str
    target: str = Field(description="start 开工条件、funding 资金申报/下达条件")
    target_label: str
    programmes: list[str] = Field(description="适用的资金来源代码（用途为 funding 时）")
    programme_labels: list[str]
    all_items: bool = Field(description="台账全部事项（除外事项除外）须处于 all_statuses 之一")
    all_statuses: list[str]
    except_types: list[Ref]
    requirements: list[RuleRequirementOut]
    basis: str
    is_active: bool
    sort_order: int
    version: str = Field(description="修改、删除时原样带回，用于并发校验")


class RuleRequirementIn(Schema):
    item_type_id: int
    statuses: list[str] = Field(description="not_started、in_progress、done、promised、not_applicable")


class RuleIn(Schema):
    name: str = Field(max_length=100)
    target: str = Field(description="start 开工条件、funding 资金申报/下达条件")
    programmes: list[str] = Field([], description="资金来源代码，如 special_bond、central_budget")
    all_items: bool = False
    all_statuses: list[str] = []
    except_type_ids: list[int] = []
    requirements: list[RuleRequirementIn] = []
    basis: str = Field("", max_length=200)
    is_active: bool = True
    sort_order: int = Field(0, ge=0)


class RulePatch(Schema):
    """Only the fields sent change (lists replace the current ones); `version` as read."""

    version: str
    name: str | None = Field(None, max_length=100)
    target: str | None = None
    programmes: list[str] | None = None
    all_items: bool | None = None
    all_statuses: list[str] | None = None
    except_type_ids: list[int] | None = None
    requirements: list[RuleRequirementIn] | None = None
    basis: str | None = Field(None, max_length=200)
    is_active: bool | None = None
    sort_order: int | None = Field(None, ge=0)
