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
}


def _field_label(name: str) -> str:
    from majorprojects.projects.models import AnnualListing, Project

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
        if isinstance(value, list) and len(value) == 2 and key not in ("tags",):
            old, new = (v if v not in (None, "") else "空" for v in value)
            lines.append(f"{_field_label(key)}：{old} → {new}")
        elif isinstance(value, list):
            lines.append(f"{_field_label(key)}：{'、'.join(map(str, value))}")
        elif isinstance(value, dict):
            lines.append(f"{_field_label(key)}：" + "，".join(f"{k} {v}" for k, v in value.items()))
        else:
            lines.append(f"{_field_label(key)}：{value}")
    return lines
