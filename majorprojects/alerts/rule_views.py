"""Rule pages (预警规则): the rule set for everyone who reads warnings; for the city admin the
edit form (alerts.services.rule_save), the rule file's export, its import with a dry run that
shows the errors or the changes before anything is written, and "restore defaults" with the
same preview. The rule file's schema: docs/alerts.md."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from majorprojects.accounts.scope import can_manage_alert_rules
from majorprojects.core.errors import ConflictError
from majorprojects.organisation.models import Region
from majorprojects.projects.models import FundingSource, KeyLevel, ListKind, Stage

from . import services
from .defaults import default_rule_file
from .forms import RuleConfirmForm, RuleFileForm, RuleForm
from .models import Approver, Rule
from .rules import RULE_FIELDS, registry, rules_export, rules_validate
from .templatetags.alerts_tags import num as number
from .views import require_reader

SCOPE_LABELS = {
    "scope_lists": dict(ListKind.choices),
    "scope_levels": dict(KeyLevel.choices),
    "scope_programmes": dict(FundingSource.choices),
    "scope_stages": dict(Stage.choices),
}


def _require_admin(request: HttpRequest) -> None:
    require_reader(request)
    if not can_manage_alert_rules(request.user):
        raise PermissionDenied("只有市级管理员可以修改预警规则。")


def _rule_summary(rule: Rule, region_names: dict[str, str]) -> dict:
    metric = registry().get(rule.metric)
    sign = "≥" if (metric.higher_is_worse if metric else True) else "≤"
    unit = metric.unit if metric else ""
    scope = []
    for attr, labels in SCOPE_LABELS.items():
        values = getattr(rule, attr) or []
        if values:
            scope.append("、".join(labels.get(v, v) for v in values))
    if rule.scope_regions:
        scope.append("、".join(region_names.get(c, c) for c in rule.scope_regions))
    consecutive = f"连续 {rule.yellow_after} 期亮黄灯" if rule.yellow_after > 1 else "当期达到即亮黄灯"
    if rule.red_after:
        consecutive += f"；连续 {rule.red_after} 期升红灯"
    grace = []
    if rule.grace_days:
        grace.append(f"期末后宽限 {rule.grace_days} 天")
    if rule.grace_months:
        grace.append(f"每年前 {rule.grace_months} 个月不亮灯")
    years = "不限"
    if rule.year_from or rule.year_to:
        years = f"{rule.year_from or '…'}—{rule.year_to or '…'}"
    return {
        "rule": rule,
        "metric_label": metric.label if metric else f"未知指标 {rule.metric}",
        "params": json.dumps(rule.params, ensure_ascii=False) if rule.params else "",
        "scope": "；".join(scope) or ("全部项目" if rule.subject == "project" else "全部县市区"),
        "yellow": f"{sign} {number(rule.yellow_threshold)} {unit}"
        if rule.yellow_threshold is not None
        else "—",
        "red": f"{sign} {number(rule.red_threshold)} {unit}" if rule.red_threshold is not None else "—",
        "consecutive": consecutive,
        "grace": "；".join(grace) or "无",
        "exemption": (
            f"可申请，{Approver(rule.exemption_approver).label}审批" if rule.exemptable else "不接受正当理由"
        ),
        "years": years,
    }


@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    """预警规则: read by everyone who reads warnings; the city admin edits, imports, restores."""
    require_reader(request)
    region_names = dict(Region.objects.values_list("code", "name"))
    rules = [_rule_summary(r, region_names) for r in Rule.objects.select_related("updated_by")]
    can_manage = can_manage_alert_rules(request.user)
    context = {
        "rules": rules,
        "can_manage": can_manage,
        "import_form": RuleFileForm() if can_manage else None,
    }
    return render(request, "alerts/rules.html", context)


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """New rule (no pk) or edit one; the same checks as a rule file, errors under the fields."""
    _require_admin(request)
    rule = None
    if pk is not None:
        rule = Rule.objects.filter(pk=pk).first()
        if rule is None:
            raise Http404("规则不存在")
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                saved = services.rule_save(
                    actor=request.user,
                    data=form.data_for_service(),
                    rule=rule,
                    expected_version=form.cleaned_data.get("version") if rule else None,
                )
            except ConflictError as exc:
                form.add_error(None, f"{exc.message}（当前内容仍在表单中，可刷新页面查看他人修改后的规则。）")
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    field = RuleForm.ERROR_FIELDS.get(field, field)
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"规则“{saved.name}”已保存，下次扫描起生效。")
                return redirect("alerts:rules")
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule) if rule else {"exemption_approver": Approver.CITY})
    return render(request, "alerts/rule_form.html", {"form": form, "rule": rule})


@require_GET
def rule_export(request: HttpRequest) -> HttpResponse:
    """The whole rule set as a rule file (JSON download)."""
    require_reader(request)
    content = json.dumps(rules_export(), ensure_ascii=False, indent=2)
    response = HttpResponse(content.encode("utf-8"), content_type="application/json; charset=utf-8")
    name = f"预警规则_{timezone.localtime():%Y%m%d_%H%M}.json"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _changes(data, report) -> dict[str, list[str]]:
    """For each rule the import would update, the labels of the fields that change."""
    if not report.ok or not report.updated:
        return {}
    cleaned, _ = rules_validate(data)
    existing = {r.code: r for r in Rule.objects.filter(code__in=report.updated)}
    out = {}
    for values in cleaned:
        rule = existing.get(values["code"])
        if rule is not None:
            out[rule.code] = [
                str(Rule._meta.get_field(name).verbose_name)
                for name in RULE_FIELDS
                if getattr(rule, name) != values[name]
            ]
    return out


def _preview(
    request: HttpRequest, *, data, text: str, report, title: str, confirm_url: str = "", restore=False
):
    names = dict(Rule.objects.values_list("code", "name"))
    items = data.get("rules") if isinstance(data, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            names.setdefault(item["code"], str(item.get("name") or ""))
    changes = _changes(data, report)
    context = {
        "title": title,
        "report": report,
        "names": names,
        "updated": [(code, names.get(code, ""), changes.get(code, [])) for code in report.updated],
        "created": [(code, names.get(code, "")) for code in report.created],
        "deactivated": [(code, names.get(code, "")) for code in report.deactivated],
        "unchanged": report.unchanged,
        "confirm_form": RuleConfirmForm(initial={"text": text}) if text else None,
        "confirm_url": confirm_url,
        "restore": restore and report.ok,
        "nothing": report.ok and not (report.created or report.updated or report.deactivated),
    }
    return render(request, "alerts/rule_import.html", context)


@require_http_methods(["GET", "POST"])
def rule_import(request: HttpRequest) -> HttpResponse:
    """Import a rule file: the upload is checked and previewed (dry run, nothing written); the
    confirm step sends the same text back and imports it all-or-nothing."""
    _require_admin(request)
    if request.method == "GET":
        return render(request, "alerts/rule_import.html", {"title": "导入规则文件", "form": RuleFileForm()})
    if "text" in request.POST:
        confirm = RuleConfirmForm(request.POST)
        if not confirm.is_valid():
            form = RuleFileForm()
            form.add_error(None, [e for errors in confirm.errors.values() for e in errors])
            return render(request, "alerts/rule_import.html", {"title": "导入规则文件", "form": form})
        data = confirm.cleaned_data["data"]
        report = services.rules_file_import(actor=request.user, data=data, dry_run=False)
        if not report.ok:
            return _preview(request, data=data, text="", report=report, title="导入规则文件")
        messages.success(request, _summary("规则文件已导入", report))
        return redirect("alerts:rules")
    form = RuleFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "alerts/rule_import.html", {"title": "导入规则文件", "form": form})
    data = form.cleaned_data["data"]
    report = services.rules_file_import(actor=request.user, data=data, dry_run=True)
    return _preview(
        request,
        data=data,
        text=form.cleaned_data["text"] if report.ok else "",
        report=report,
        title="导入规则文件：检查结果",
        confirm_url=request.path,
    )


def _summary(head: str, report) -> str:
    return (
        f"{head}：新增 {len(report.created)} 条、修改 {len(report.updated)} 条、"
        f"停用 {len(report.deactivated)} 条、未变 {len(report.unchanged)} 条规则，下次扫描起生效。"
    )


@require_GET
def rule_restore_preview(request: HttpRequest) -> HttpResponse:
    """恢复默认规则, step one: what restoring the shipped rule set would change (dry run)."""
    _require_admin(request)
    report = services.rules_restore_defaults(actor=request.user, dry_run=True)
    return _preview(
        request,
        data=default_rule_file(),
        text="",
        report=report,
        title="恢复默认规则：将发生的变化",
        restore=True,
    )


@require_POST
def rule_restore(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    report = services.rules_restore_defaults(actor=request.user, dry_run=False)
    if report.ok:
        messages.success(request, _summary("已恢复默认规则", report))
    else:
        messages.error(request, "默认规则未能恢复：" + "；".join(str(e) for e in report.errors))
    return redirect("alerts:rules")
