"""Rule files: the JSON form of the rule set (schema in docs/alerts.md), its validation with
Chinese messages naming the rule and the field, export, and an all-or-nothing import.

One rule in a file:

    {"code": "start-overdue", "name": "计划开工逾期", "subject": "project",
     "metric": "start_overdue_months", "params": {},
     "scope": {"lists": ["construction"], "levels": [], "programmes": [], "regions": [], "stages": []},
     "yellow": 1, "red": 3, "yellow_after": 1, "red_after": null,
     "grace_days": 0, "grace_months": 0,
     "exemption": {"allowed": true, "approver": "city"},
     "years": {"from": null, "to": null}, "active": true, "sort_order": 10, "description": ""}

`rule_clean` is also what the rule edit service uses, so a rule typed in the UI and a rule read
from a file meet exactly the same checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from majorprojects.audit.services import event_record
from majorprojects.organisation.models import Region
from majorprojects.projects.models import FundingSource, KeyLevel, ListKind, Stage

from .models import Approver, Rule, Subject

SCHEMA = "majorprojects.alerts/rules"
SCHEMA_VERSION = 1
CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")  # used with fullmatch (no trailing newline)
MAX_INT_PARAM = 3650  # days or periods: ten years is more than any rule needs
MAX_AFTER = 24
MAX_GRACE_DAYS = 90
THRESHOLD_LIMIT = Decimal("1e9")

SCOPE_CHOICES = {
    "lists": ("库别", set(ListKind.values)),
    "levels": ("重点级别", {v for v in KeyLevel.values if v}),
    "programmes": ("资金类别", set(FundingSource.values)),
    "stages": ("阶段", set(Stage.values)),
}
SCOPE_FIELDS = {"lists": "scope_lists", "levels": "scope_levels", "programmes": "scope_programmes",
                "regions": "scope_regions", "stages": "scope_stages"}  # fmt: skip
KNOWN_KEYS = {
    "code", "name", "description", "subject", "metric", "params", "scope", "yellow", "red",
    "yellow_after", "red_after", "grace_days", "grace_months", "exemption", "years", "active",
    "sort_order",
}  # fmt: skip
FIELD_LABELS = {
    "code": "规则代码", "name": "规则名称", "description": "说明", "subject": "对象", "metric": "指标",
    "params": "指标参数", "scope": "适用范围", "yellow": "黄灯阈值", "red": "红灯阈值",
    "yellow_after": "连续几期亮黄灯", "red_after": "连续几期升红灯", "grace_days": "宽限天数",
    "grace_months": "每年前几个月不亮灯", "exemption": "正当理由", "years": "适用年度",
    "active": "启用", "sort_order": "排序",
}  # fmt: skip


def registry() -> dict:
    """The metric registry (read at call time, so tests may register a metric of their own)."""
    from majorprojects.alerts import metrics

    return metrics.METRICS


@dataclass
class RuleError:
    index: int | None  # 1-based position in the file, None for a rule edited alone
    code: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.index}条规则" if self.index else "规则"
        if self.code:
            where += f"（{self.code}）"
        label = FIELD_LABELS.get(self.field.split(".")[0], self.field)
        return f"{where}“{label}”：{self.message}" if self.field else f"{where}：{self.message}"

    def as_dict(self) -> dict:
        return {"index": self.index, "code": self.code, "field": self.field, "message": str(self)}


@dataclass
class ImportReport:
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
            "errors": [e.as_dict() for e in self.errors],
        }


# --- Conversion -----------------------------------------------------------------------------


def _number_out(value: Decimal | None):
    if value is None:
        return None
    value = value.normalize()
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def rule_to_dict(rule: Rule) -> dict:
    """One rule in the file's form (the inverse of rule_clean)."""
    return {
        "code": rule.code,
        "name": rule.name,
        "description": rule.description,
        "subject": rule.subject,
        "metric": rule.metric,
        "params": rule.params or {},
        "scope": {key: list(getattr(rule, attr) or []) for key, attr in SCOPE_FIELDS.items()},
        "yellow": _number_out(rule.yellow_threshold),
        "red": _number_out(rule.red_threshold),
        "yellow_after": rule.yellow_after,
        "red_after": rule.red_after,
        "grace_days": rule.grace_days,
        "grace_months": rule.grace_months,
        "exemption": {"allowed": rule.exemptable, "approver": rule.exemption_approver},
        "years": {"from": rule.year_from, "to": rule.year_to},
        "active": rule.is_active,
        "sort_order": rule.sort_order,
    }


def rules_export(rules=None) -> dict:
    """The whole rule set (or the given rules) as a rule file."""
    rules = Rule.objects.order_by("sort_order", "code") if rules is None else rules
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "rules": [rule_to_dict(r) for r in rules]}


# --- Validation -----------------------------------------------------------------------------


def _int(value, *, low: int, high: int) -> tuple[int | None, str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return None, "应为整数。"
    if not low <= value <= high:
        return None, f"应在 {low} 到 {high} 之间。"
    return value, ""


def _decimal(value) -> tuple[Decimal | None, str]:
    if value is None or value == "":
        return None, ""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None, "应为数字。"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None, "应为数字。"
    if not number.is_finite() or abs(number) >= THRESHOLD_LIMIT:
        return None, "应为有限的数字。"
    if number != number.quantize(Decimal("0.0001")):
        return None, "最多 4 位小数。"
    return number, ""


def _programme_exists(code: str) -> bool:
    from majorprojects.funds.models import Programme

    return Programme.objects.filter(code=code).exists()


def _param(spec, value) -> tuple[object, str]:
    kind, _required, _label, allowed = spec
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in (Decimal, float):
        number, message = _decimal(value)
        if message or number is None:
            return None, "应为数字。"
        value = _number_out(number)
        ok = True
    elif kind is list:
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, str)
    if not ok:
        return None, {bool: "应为 true 或 false。", int: "应为整数。", list: "应为列表。"}.get(
            kind, "应为文本。"
        )
    if kind is int and not 0 <= value <= MAX_INT_PARAM:
        return None, f"应为 0 到 {MAX_INT_PARAM} 之间的整数。"
    if kind is str and len(value) > 100:
        return None, "过长（最多 100 个字符）。"
    if allowed:
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in allowed]
        if bad:
            return None, f"取值 {bad[0]!r} 无效，可选：{'、'.join(str(a) for a in allowed)}。"
    return value, ""


def rule_clean(data, *, index: int | None = None, region_codes: set[str] | None = None):
    """(field values for Rule, errors) for one rule in the file's form."""
    errors: list[RuleError] = []
    if not isinstance(data, dict):
        return None, [RuleError(index, "", "", "应为 JSON 对象。")]
    code = data.get("code")
    code_label = code if isinstance(code, str) else ""

    def err(name: str, message: str) -> None:
        errors.append(RuleError(index, code_label, name, message))

    for key in sorted(set(data) - KNOWN_KEYS):
        err(key, f"未知字段“{key}”。")
    out: dict = {}
    if not isinstance(code, str) or not CODE.fullmatch(code):
        err("code", "必填，只能由小写字母、数字、连字符和下划线组成，最长 50 个字符。")
    out["code"] = code
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        err("name", "必填，最长 100 个字符。")
    out["name"] = name.strip() if isinstance(name, str) else ""
    description = data.get("description", "")
    if not isinstance(description, str):
        err("description", "应为文本。")
        description = ""
    out["description"] = description.strip()
    subject = data.get("subject", Subject.PROJECT)
    if subject not in Subject.values:
        err("subject", "应为 project（项目）或 region（区域）。")
    out["subject"] = subject

    metric = registry().get(data.get("metric")) if isinstance(data.get("metric"), str) else None
    out["metric"] = data.get("metric")
    if metric is None:
        err("metric", f"未知指标“{data.get('metric')}”。")
    elif subject in Subject.values and metric.subject != subject:
        err("metric", f"指标“{metric.label}”适用于{Subject(metric.subject).label}，与规则对象不符。")

    params = data.get("params", {}) or {}
    if not isinstance(params, dict):
        err("params", "应为 JSON 对象。")
        params = {}
    clean_params = {}
    if metric is not None:
        for key in sorted(set(params) - set(metric.params)):
            err(f"params.{key}", f"指标“{metric.label}”没有参数“{key}”。")
        for key, spec in metric.params.items():
            if key not in params or params[key] is None:
                if spec[1]:
                    err(f"params.{key}", f"缺少必填参数“{key}”（{spec[2]}）。")
                continue
            value, message = _param(spec, params[key])
            if not message and key == "programme" and not _programme_exists(value):
                message = f"资金渠道代码“{value}”不存在（见“资金渠道”）。"
            if message:
                err(f"params.{key}", f"参数“{key}”（{spec[2]}）{message}")
            else:
                clean_params[key] = value
    out["params"] = clean_params

    scope = data.get("scope", {}) or {}
    if not isinstance(scope, dict):
        err("scope", "应为 JSON 对象。")
        scope = {}
    for key in sorted(set(scope) - set(SCOPE_FIELDS)):
        err(f"scope.{key}", f"未知范围“{key}”，可用：lists、levels、programmes、regions、stages。")
    for key, attr in SCOPE_FIELDS.items():
        values = scope.get(key, []) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            err(f"scope.{key}", "应为代码列表。")
            out[attr] = []
            continue
        if key == "regions":
            known = (
                region_codes
                if region_codes is not None
                else set(Region.objects.values_list("code", flat=True))
            )
            bad = [v for v in values if v not in known]
            if bad:
                err("scope.regions", f"区划代码“{bad[0]}”不存在。")
        else:
            label, allowed = SCOPE_CHOICES[key]
            bad = [v for v in values if v not in allowed]
            if bad:
                err(f"scope.{key}", f"{label}代码“{bad[0]}”无效，可选：{'、'.join(sorted(allowed))}。")
            elif values and subject == Subject.REGION:
                err(f"scope.{key}", "区域规则只能按区域限定范围。")
        out[attr] = list(dict.fromkeys(values))

    yellow, message = _decimal(data.get("yellow"))
    if message:
        err("yellow", message)
    red, message_red = _decimal(data.get("red"))
    if message_red:
        err("red", message_red)
    if not message and not message_red:
        if yellow is None and red is None:
            err("yellow", "黄灯、红灯阈值至少填写一个。")
        elif yellow is not None and red is not None and metric is not None:
            if metric.higher_is_worse and red <= yellow:
                err("red", f"红灯阈值应大于黄灯阈值（指标“{metric.label}”越大越差）。")
            if not metric.higher_is_worse and red >= yellow:
                err("red", f"红灯阈值应小于黄灯阈值（指标“{metric.label}”越小越差）。")
    out["yellow_threshold"], out["red_threshold"] = yellow, red

    value, message = _int(data.get("yellow_after", 1), low=1, high=MAX_AFTER)
    if message:
        err("yellow_after", message)
    out["yellow_after"] = value or 1
    red_after = data.get("red_after")
    out["red_after"] = None
    if red_after is not None:
        value, message = _int(red_after, low=2, high=MAX_AFTER)
        if message:
            err("red_after", message)
        elif value <= out["yellow_after"]:
            err("red_after", "应大于“连续几期亮黄灯”。")
        else:
            out["red_after"] = value
    value, message = _int(data.get("grace_days", 0), low=0, high=MAX_GRACE_DAYS)
    if message:
        err("grace_days", message)
    out["grace_days"] = value or 0
    value, message = _int(data.get("grace_months", 0), low=0, high=11)
    if message:
        err("grace_months", message)
    out["grace_months"] = value or 0

    exemption = data.get("exemption", {}) or {}
    if not isinstance(exemption, dict):
        err("exemption", '应为 JSON 对象，如 {"allowed": true, "approver": "city"}。')
        exemption = {}
    allowed = exemption.get("allowed", True)
    if not isinstance(allowed, bool):
        err("exemption.allowed", "应为 true 或 false。")
    out["exemptable"] = allowed is True
    approver = exemption.get("approver", Approver.CITY)
    if approver not in Approver.values:
        err("exemption.approver", "应为 city（市级）或 county（县市区）。")
    if approver == Approver.COUNTY and subject == Subject.REGION:
        err("exemption.approver", "区域预警的正当理由只能由市级审批。")
    out["exemption_approver"] = approver

    years = data.get("years", {}) or {}
    if not isinstance(years, dict):
        err("years", '应为 JSON 对象，如 {"from": 2026, "to": null}。')
        years = {}
    bounds = {}
    for key in ("from", "to"):
        raw = years.get(key)
        bounds[key] = None
        if raw is not None:
            value, message = _int(raw, low=2000, high=2100)
            if message:
                err(f"years.{key}", message)
            bounds[key] = value
    if bounds["from"] and bounds["to"] and bounds["from"] > bounds["to"]:
        err("years", "起始年度不能晚于截止年度。")
    out["year_from"], out["year_to"] = bounds["from"], bounds["to"]

    active = data.get("active", True)
    if not isinstance(active, bool):
        err("active", "应为 true 或 false。")
    out["is_active"] = active is True
    value, message = _int(data.get("sort_order", 0), low=0, high=100_000)
    if message:
        err("sort_order", message)
    out["sort_order"] = value or 0
    return out, errors


RULE_FIELDS = [
    "name", "description", "subject", "metric", "params", "scope_lists", "scope_levels",
    "scope_programmes", "scope_regions", "scope_stages", "yellow_threshold", "red_threshold",
    "yellow_after", "red_after", "grace_days", "grace_months", "exemptable", "exemption_approver",
    "year_from", "year_to", "is_active", "sort_order",
]  # fmt: skip


def _file_errors(data) -> list[RuleError]:
    if not isinstance(data, dict):
        return [RuleError(None, "", "", "规则文件应为 JSON 对象。")]
    errors = []
    if data.get("schema") != SCHEMA:
        errors.append(RuleError(None, "", "", f"不是预警规则文件（schema 应为 “{SCHEMA}”）。"))
    if data.get("version") != SCHEMA_VERSION:
        errors.append(RuleError(None, "", "", f"规则文件版本应为 {SCHEMA_VERSION}。"))
    if not isinstance(data.get("rules"), list):
        errors.append(RuleError(None, "", "", "缺少规则列表 rules。"))
    return errors


def rules_validate(data) -> tuple[list[dict], list[RuleError]]:
    """(cleaned rules, errors) for a whole file; nothing is written."""
    errors = _file_errors(data)
    if errors:
        return [], errors
    region_codes = set(Region.objects.values_list("code", flat=True))
    cleaned, seen = [], {}
    for index, item in enumerate(data["rules"], start=1):
        values, rule_errors = rule_clean(item, index=index, region_codes=region_codes)
        errors.extend(rule_errors)
        if values is None:
            continue
        code = values.get("code")
        if isinstance(code, str):
            if code in seen:
                errors.append(RuleError(index, code, "code", f"规则代码与第{seen[code]}条重复。"))
            seen.setdefault(code, index)
        cleaned.append(values)
    return cleaned, errors


def _rule_values(rule: Rule) -> dict:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


@transaction.atomic
def forget_streaks(rule: Rule, fields: dict) -> None:
    """A rule that now looks at other subjects or another measure starts its streaks afresh:
    last month's hits of the old rule must not count towards `red_after` of the new one."""
    from .models import Hit

    if any(
        fields.get(name, getattr(rule, name)) != getattr(rule, name)
        for name in ("subject", "metric", "params")
    ):
        Hit.objects.filter(rule=rule).delete()


def rules_import(data, *, actor, dry_run: bool = False, replace: bool = True) -> ImportReport:
    """Apply a rule file all-or-nothing: rules are matched by code, created or updated; with
    `replace`, active rules absent from the file are deactivated (kept, as warnings refer to
    them). An invalid file changes nothing and the report lists every error."""
    report = ImportReport(dry_run=dry_run)
    cleaned, errors = rules_validate(data)
    if errors:
        report.errors = errors
        return report
    existing = {r.code: r for r in Rule.objects.select_for_update()}
    for values in cleaned:
        code = values["code"]
        rule = existing.get(code)
        fields = {k: values[k] for k in RULE_FIELDS}
        if rule is None:
            report.created.append(code)
            if not dry_run:
                Rule.objects.create(code=code, updated_by=actor, **fields)
            continue
        if _rule_values(rule) == fields:
            report.unchanged.append(code)
            continue
        report.updated.append(code)
        if not dry_run:
            forget_streaks(rule, fields)
            for name, value in fields.items():
                setattr(rule, name, value)
            rule.version += 1
            rule.updated_by = actor
            rule.save()
    if replace:
        in_file = {v["code"] for v in cleaned}
        report.deactivated = sorted(c for c, r in existing.items() if c not in in_file and r.is_active)
        if report.deactivated and not dry_run:
            for code in report.deactivated:
                rule = existing[code]
                rule.is_active = False
                rule.version += 1
                rule.updated_by = actor
                rule.save(update_fields=["is_active", "version", "updated_by", "updated_at"])
    if not dry_run:
        event_record(
            actor=actor,
            verb="alert_rules_import",
            target_type="rule",
            target_label="预警规则文件",
            details={k: v for k, v in report.as_dict().items() if k in ("created", "updated", "deactivated")},
        )
    return report
