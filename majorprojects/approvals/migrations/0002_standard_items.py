"""The standard approval items, the three regimes' templates and the seeded readiness rules
(docs/approvals.md gives the sources and the assumptions behind each number)."""

from django.db import migrations

# code, name, default approving body, validity months, used when (start | item:<code>),
# warn days, deadline working days, basis
ITEM_TYPES = [
    ("proposal", "项目建议书", "发展改革部门", None, "start", 90, None, ""),
    (
        "feasibility",
        "可研批复",
        "发展改革部门",
        24,
        "start",
        90,
        20,
        "可研批复自批复之日起2年内未开工须重新报批（各地政府投资管理办法通行做法）；审批时限按20个工作日",
    ),
    (
        "verification",
        "项目核准",
        "发展改革部门",
        24,
        "start",
        90,
        20,
        "《企业投资项目核准和备案管理条例》第十一条、第十二条：受理后20个工作日内决定；核准后2年内未开工须申请延期",
    ),
    ("filing", "项目备案", "发展改革部门", None, "start", 90, None, "《企业投资项目核准和备案管理条例》：备案不设有效期"),
    (
        "land_prereview",
        "用地预审与选址意见书",
        "自然资源部门",
        36,
        "item:land_planning_permit",
        90,
        None,
        "自然资规〔2019〕2号：用地预审与选址意见书有效期三年，自批准之日起计算",
    ),
    ("land_planning_permit", "建设用地规划许可", "自然资源部门", None, "start", 90, None, ""),
    ("social_risk", "社会稳定风险评估", "项目所在地政府", None, "start", 90, None, ""),
    (
        "eia",
        "环评批复",
        "生态环境部门",
        60,
        "start",
        180,
        None,
        "《环境影响评价法》第二十四条：批准之日起超过五年方决定开工的，须报原审批部门重新审核",
    ),
    (
        "energy",
        "节能审查",
        "发展改革部门",
        24,
        "start",
        90,
        None,
        "《固定资产投资项目节能审查办法》（2023年）：节能审查意见自印发之日起2年内有效",
    ),
    ("soil_water", "水土保持方案批复", "水行政主管部门", None, "start", 90, None, ""),
    ("preliminary_design", "初步设计及概算批复", "发展改革部门", None, "start", 90, None, ""),
    ("works_planning_permit", "建设工程规划许可", "自然资源部门", None, "start", 90, None, ""),
    ("drawing_review", "施工图审查", "住房城乡建设部门", None, "start", 90, None, ""),
    ("bidding", "招标", "公共资源交易中心", None, "start", 90, None, ""),
    (
        "construction_permit",
        "施工许可",
        "住房城乡建设部门",
        3,
        "start",
        30,
        None,
        "《建筑法》第九条：自领取施工许可证之日起三个月内开工，逾期须申请延期",
    ),
]

TEMPLATES = {
    "approval": [
        "proposal",
        "land_prereview",
        "social_risk",
        "feasibility",
        "energy",
        "eia",
        "soil_water",
        "land_planning_permit",
        "preliminary_design",
        "works_planning_permit",
        "drawing_review",
        "bidding",
        "construction_permit",
    ],
    "verification": [
        "land_prereview",
        "social_risk",
        "verification",
        "energy",
        "eia",
        "soil_water",
        "land_planning_permit",
        "works_planning_permit",
        "drawing_review",
        "bidding",
        "construction_permit",
    ],
    "filing": [
        "filing",
        "energy",
        "eia",
        "soil_water",
        "land_planning_permit",
        "works_planning_permit",
        "drawing_review",
        "construction_permit",
    ],
}

# name, target, programmes, all_items, all_statuses, except codes, requirements, basis
RULES = [
    (
        "具备开工条件",
        "start",
        [],
        True,
        ["done", "promised", "not_applicable"],
        ["construction_permit"],
        {},
        "台账中除施工许可外各事项均已办结、容缺承诺办理或不涉及（施工许可是开工前最后一道手续）",
    ),
    (
        "专项债券储备项目须完成招标",
        "funding",
        ["special_bond"],
        False,
        [],
        [],
        {"bidding": ["done"]},
        "拟发行的专项债券储备项目要全面完成招标程序",
    ),
    (
        "中央预算内和超长期特别国债项目须完成初步设计及概算批复",
        "funding",
        ["central_budget", "ultra_long_bond"],
        False,
        [],
        [],
        {"preliminary_design": ["done"]},
        "中央预算内投资和超长期特别国债项目要实质完成初步设计及概算批复",
    ),
]


def seed(apps, schema_editor):
    ItemType = apps.get_model("approvals", "ApprovalItemType")
    TemplateItem = apps.get_model("approvals", "TemplateItem")
    Rule = apps.get_model("approvals", "ReadinessRule")
    Requirement = apps.get_model("approvals", "ReadinessRequirement")
    types = {}
    for order, (code, name, body, months, used, warn, workdays, basis) in enumerate(ITEM_TYPES, start=1):
        types[code] = ItemType.objects.create(
            code=code,
            name=name,
            approving_body=body,
            validity_months=months,
            used_when="item" if used.startswith("item:") else "start",
            warn_days=warn,
            deadline_workdays=workdays,
            basis=basis,
            sort_order=order * 10,
        )
    for code, (_c, _n, _b, _m, used, *_rest) in zip(types, ITEM_TYPES, strict=True):
        if used.startswith("item:"):
            ItemType.objects.filter(pk=types[code].pk).update(used_by=types[used.removeprefix("item:")])
    for regime, codes in TEMPLATES.items():
        for position, code in enumerate(codes, start=1):
            TemplateItem.objects.create(regime=regime, item_type=types[code], position=position)
    for order, (name, target, programmes, all_items, statuses, excepted, required, basis) in enumerate(
        RULES, start=1
    ):
        rule = Rule.objects.create(
            name=name,
            target=target,
            programmes=programmes,
            all_items=all_items,
            all_statuses=statuses,
            basis=basis,
            sort_order=order,
        )
        rule.except_types.set([types[code] for code in excepted])
        for code, wanted in required.items():
            Requirement.objects.create(rule=rule, item_type=types[code], statuses=wanted)


def unseed(apps, schema_editor):
    apps.get_model("approvals", "ReadinessRule").objects.all().delete()
    apps.get_model("approvals", "TemplateItem").objects.all().delete()
    apps.get_model("approvals", "ApprovalItemType").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_ledger")]

    operations = [migrations.RunPython(seed, unseed)]
