"""The shipped rule set (默认规则): what most campaign notices ask for, as a rule file. Seeded by
migration 0003_default_rules; restored from the rules page, `alerts_rules restore` or
`services.rules_restore_defaults`. A city replaces it by importing its own file (docs/alerts.md)."""

from __future__ import annotations

import copy

from .rules import SCHEMA, SCHEMA_VERSION

CONSTRUCTION = {"lists": ["construction"], "levels": [], "programmes": [], "regions": [], "stages": []}
ALL_PROJECTS = {"lists": [], "levels": [], "programmes": [], "regions": [], "stages": []}


def _rule(code, name, metric, yellow, red, *, description, scope=None, subject="project", sort_order,
          yellow_after=1, red_after=None, grace_days=0, grace_months=0, exemptable=True, approver="city",
          params=None):  # fmt: skip
    return {
        "code": code,
        "name": name,
        "description": description,
        "subject": subject,
        "metric": metric,
        "params": params or {},
        "scope": copy.deepcopy(
            scope if scope is not None else (CONSTRUCTION if subject == "project" else ALL_PROJECTS)
        ),
        "yellow": yellow,
        "red": red,
        "yellow_after": yellow_after,
        "red_after": red_after,
        "grace_days": grace_days,
        "grace_months": grace_months,
        "exemption": {"allowed": exemptable, "approver": approver},
        "years": {"from": None, "to": None},
        "active": True,
        "sort_order": sort_order,
    }


DEFAULT_RULES = [
    _rule(
        "start-overdue",
        "逾期未开工",
        "start_overdue_months",
        1,
        3,
        sort_order=10,
        description="年度建设项目计划开工时间已到仍未开工：逾期1个月亮黄灯，逾期3个月及以上亮红灯。",
    ),
    _rule(
        "plan-gap",
        "投资完成滞后时间进度",
        "plan_gap_pp",
        -10,
        -20,
        sort_order=20,
        grace_months=1,
        description="年度计划投资完成率低于时间进度10个百分点亮黄灯、20个百分点亮红灯；1月份不亮灯。",
    ),
    _rule(
        "fund-payment",
        "资金支付进度滞后",
        "fund_pace_gap_pp",
        -10,
        -20,
        sort_order=30,
        scope=ALL_PROJECTS,
        description="中央预算内、专项债等资金支付进度低于序时进度10个百分点亮黄灯、20个百分点亮红灯。",
    ),
    _rule(
        "stats-pending",
        "开工未入统",
        "stats_pending_months",
        2,
        3,
        sort_order=40,
        description="项目开工后2个月仍未纳入固定资产投资统计亮黄灯，3个月及以上亮红灯。",
    ),
    _rule(
        "report-missing",
        "调度信息漏报迟报",
        "report_missing_periods",
        1,
        2,
        sort_order=50,
        exemptable=False,
        params={"kind": "missing_or_late"},
        description="调度表漏报或迟报1期亮黄灯，连续2期及以上亮红灯；不接受正当理由。",
    ),
    _rule(
        "approval-overdue",
        "前期手续办理逾期",
        "approval_overdue_items",
        1,
        3,
        sort_order=60,
        scope=ALL_PROJECTS,
        description="前期审批事项超过计划办结时间：1项亮黄灯，3项及以上亮红灯。",
    ),
    _rule(
        "promise-overdue",
        "容缺承诺逾期",
        "promise_overdue_items",
        1,
        None,
        sort_order=70,
        red_after=2,
        scope=ALL_PROJECTS,
        exemptable=False,
        description="容缺受理承诺补齐材料逾期亮黄灯，连续2个月未补齐亮红灯；不接受正当理由。",
    ),
    _rule(
        "problem-overdue",
        "问题办理逾期",
        "problem_overdue_items",
        1,
        3,
        sort_order=80,
        scope=ALL_PROJECTS,
        description="项目反映的问题超过办理时限未办结：1个亮黄灯，3个及以上亮红灯。",
    ),
    _rule(
        "region-growth-target",
        "投资增速低于目标",
        "region_growth_vs_target_pp",
        -5,
        -10,
        subject="region",
        sort_order=110,
        grace_months=1,
        description="县市区项目投资增速低于年度目标5个百分点亮黄灯、10个百分点亮红灯；1月份不亮灯。",
    ),
    _rule(
        "region-growth-city",
        "投资增速低于全市平均",
        "region_growth_vs_city_pp",
        -5,
        -10,
        subject="region",
        sort_order=120,
        grace_months=1,
        description="县市区项目投资增速低于全市平均5个百分点亮黄灯、10个百分点亮红灯；1月份不亮灯。",
    ),
    _rule(
        "region-behind",
        "连续落后时间进度",
        "region_behind_months",
        2,
        3,
        subject="region",
        sort_order=130,
        exemptable=False,
        description="县市区年度计划完成率连续2个月落后时间进度亮黄灯，连续3个月亮红灯（约谈）。",
    ),
    _rule(
        "region-month-task",
        "月度投资任务完成率偏低",
        "region_month_task_pct",
        80,
        60,
        subject="region",
        sort_order=140,
        description="县市区当月投资任务完成率低于80%亮黄灯，低于60%亮红灯。",
    ),
]


def default_rule_file() -> dict:
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "rules": copy.deepcopy(DEFAULT_RULES)}
