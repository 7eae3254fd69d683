from decimal import Decimal

from django import template
from django.utils.http import urlencode

from majorprojects.core.money import to_yi

register = template.Library()


@register.filter
def wan(value):
    """Show an amount in 万元 with thousands separators and two decimals."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def yi(value):
    """Show an amount held in 万元 as 亿元."""
    if value is None or value == "":
        return "—"
    return f"{to_yi(Decimal(value)):,.2f}"


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (for pagination and sorting)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True)


VERBS = {
    "project_create": "登记项目",
    "project_update": "修改项目信息",
    "project_import_create": "导入登记项目",
    "project_import_update": "导入更新项目",
    "stage_change": "变更阶段",
    "listing_create": "列入年度清单",
    "listing_update": "修改年度清单",
    "listing_delete": "移出年度清单",
    "campaign_join": "加入专项活动",
    "campaign_update": "修改专项活动类别",
    "campaign_leave": "移出专项活动",
    "attachment_add": "上传附件",
    "attachment_delete": "删除附件",
    "project_import": "导入台账",
    "import_discard": "放弃导入",
    "report_save": "保存调度表",
    "report_submit": "报送调度表",
    "report_resubmit": "重新报送调度表",
    "report_return": "退回调度表",
    "report_approve": "审核通过调度表",
    "period_open": "开启调度期次",
    "period_lock": "锁定调度期次",
    "correction_request": "申请更正调度表",
    "correction_approve": "批准更正",
    "correction_reject": "驳回更正",
    "schedule_save": "保存调度安排",
}
DETAIL_LABELS = {
    "tags": "标签",
    "funding": "资金来源",
    "from": "原阶段",
    "to": "新阶段",
    "date": "日期",
    "note": "说明",
    "batch": "类别",
    "kind": "类型",
    "size": "大小（字节）",
    # dispatch reports
    "investment": "本期完成投资（万元）",
    "progress": "形象进度",
    "percent_complete": "工程完成比例（%）",
    "started_on": "开工日期",
    "structure_done_on": "主体完工日期",
    "completed_on": "竣工日期",
    "operating_on": "投产日期",
    "stats_date": "入统日期",
    "problems": "存在问题",
    "next_plan": "下期计划",
    "funds": "本期资金",
    "reason": "原因",
    "late": "迟报",
    "applied": "同步到项目",
    "locked": "锁定报表数",
    "missing": "未报送数",
    "slots": "应报报表数",
    "schedule": "调度安排",
    "due_on": "截止日期",
    "created": "新建",
    # schedules
    "frequency": "频次",
    "list_kinds": "适用库别",
    "stages": "适用阶段",
    "stats_pending_only": "仅限已开工未入统项目",
    "due_day": "截止日",
    "december_due_day": "12月截止日",
    "due_weekday": "周报截止（星期）",
    "shift_holidays": "节假日顺延",
    "grace_days": "宽限天数",
    "jump_multiple": "单期投资超过月均的倍数",
    "remaining_share": "单期投资超过剩余投资的比例",
    "order": "优先顺序",
    "is_active": "启用",
    "starts_on": "启用日期",
}


def _field_label(name: str) -> str:
    from majorprojects.projects.models import AnnualListing, Project

    if name in DETAIL_LABELS and name not in ("note",):
        return DETAIL_LABELS[name]
    for model in (Project, AnnualListing):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: S112 - not a field of this model; try the next one
            continue
    return DETAIL_LABELS.get(name, name)


@register.filter
def event_label(event) -> str:
    label = VERBS.get(event.verb, event.verb)
    return f"{label}：{event.target_label}" if event.target_label else label


LIST_KEYS = ("tags", "applied", "list_kinds", "stages")
APPLIED = {
    "started": "开工",
    "completed": "竣工",
    "operating": "投产",
    "main_structure_date": "主体完工日期",
    "stats_included": "入统",
    "stats_included_date": "入统日期",
}


def _shown(value) -> str:
    """A detail value as a person reads it: 是/否, 空, lists and {source: [arrived, paid]} maps."""
    if value in (None, "", [], {}):
        return "空"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list):
        return "、".join(APPLIED.get(v, str(v)) if isinstance(v, str) else _shown(v) for v in value)
    if isinstance(value, dict):
        from majorprojects.projects.models import FundingSource

        sources = dict(FundingSource.choices)
        parts = []
        for k, v in value.items():
            if isinstance(v, list) and len(v) == 2:
                parts.append(f"{sources.get(k, k)} 到位{v[0]} 支付{v[1]}")
            else:
                parts.append(f"{sources.get(k, k)} {_shown(v)}")
        return "，".join(parts)
    return str(value)


@register.filter
def event_changes(event) -> list[str]:
    """Readable lines from an event's details: 'field: old → new' or 'field: value'."""
    from majorprojects.projects.models import Stage

    stages = dict(Stage.choices)
    lines = []
    for key, value in (event.details or {}).items():
        if key == "sha256" or value in ("", None, [], {}):
            continue
        if key in ("from", "to"):
            value = stages.get(value, value)
        if isinstance(value, list) and len(value) == 2 and key not in LIST_KEYS:
            old, new = (_shown(v) for v in value)
            lines.append(f"{_field_label(key)}：{old} → {new}")
        else:
            lines.append(f"{_field_label(key)}：{_shown(value)}")
    return lines
