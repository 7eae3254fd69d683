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
    # Approvals ledger
    "approval_ledger_apply": "生成前期手续清单",
    "approval_item_update": "更新前期手续",
    "approval_item_not_applicable": "标记手续不涉及",
    "approval_item_promise": "登记容缺承诺",
    "approval_item_papers_supplied": "承诺材料已补齐",
    "approval_item_attach": "上传手续附件",
    "approval_item_import": "导入前期手续",
    "approval_type_create": "新增手续事项",
    "approval_type_update": "修改手续事项",
    "approval_template_add": "手续模板增加事项",
    "approval_template_remove": "手续模板移除事项",
    "approval_template_reorder": "调整手续模板顺序",
    "approval_rule_create": "新增开工与资金条件规则",
    "approval_rule_update": "修改开工与资金条件规则",
    "approval_rule_delete": "删除开工与资金条件规则",
    # Funds
    "programme_create": "新增资金渠道",
    "programme_update": "修改资金渠道规则",
    "allocation_create": "登记资金下达",
    "allocation_update": "修改资金下达",
    "allocation_delete": "删除资金下达",
    "funds_arrival": "登记资金到位",
    "funds_transfer": "登记资金拨付",
    "funds_payment": "登记资金支付",
    "funds_movement_delete": "删除资金记录",
    "funds_confirm_reported": "确认调度表支付",
    "loan_create": "登记贷款",
    "loan_update": "修改贷款",
    "loan_release": "登记贷款投放",
    "loan_release_delete": "删除贷款投放",
    # Problem ledger
    "problem_raise": "反映问题",
    "problem_update": "更新问题描述",
    "problem_accept": "受理问题",
    "problem_merge": "合并重复问题",
    "problem_merged_in": "并入重复问题",
    "problem_split": "拆分问题",
    "problem_assign": "交办问题",
    "problem_progress": "报告办理进展",
    "problem_extension_request": "申请延期",
    "problem_extension_decide": "审批延期申请",
    "problem_extension_cancel": "延期申请作废",
    "problem_resolve": "办结问题",
    "problem_confirm": "确认办理结果",
    "problem_close": "销号",
    "problem_notice": "逾期通报",
    "problem_flag_first_reply": "首次答复逾期",
    "problem_flag_progress": "月度进展未报",
    "problem_escalate": "提请领导协调",
    "problem_coordination": "记录协调会议",
    "problem_task_done": "协调任务完成",
    "problem_task_undone": "协调任务重开",
    "problem_attachment_add": "上传问题附件",
    "problem_attachment_delete": "删除问题附件",
    "problem_category_add": "新增问题类别",
    "problem_category_change": "修改问题类别",
    # Warnings (红黄灯)
    "alert_scan": "扫描预警",
    "alert_rule_create": "新增预警规则",
    "alert_rule_update": "修改预警规则",
    "alert_rules_import": "导入预警规则文件",
    "warning_notify": "下发预警通知",
    "warning_plan": "提交整改计划",
    "warning_rectified": "报告整改完成",
    "warning_strike_off": "预警销号",
    "warning_reopen": "重新打开预警",
    "warning_exemption_request": "申请正当理由豁免",
    "warning_exemption_approve": "批准豁免",
    "warning_exemption_reject": "驳回豁免",
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
