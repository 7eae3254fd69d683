"""The readiness rules (开工与资金条件规则) behind the "ready to start" and "ready for funding"
lists: every reader of projects sees them (what "ready" means), the city admin adds, changes,
switches off and deletes them through approvals.services (readiness_rule_save / _delete, with
the rule's version so a stale form is refused)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from majorprojects.accounts.scope import can_configure
from majorprojects.core.errors import ConflictError

from . import services
from .forms import ReadinessRuleForm
from .models import ItemStatus, ReadinessRule, ReadinessTarget
from .views import _attach_errors, _message, _require_reader


def _require_rule_admin(request: HttpRequest) -> None:
    _require_reader(request)
    if not can_configure(request.user):
        raise PermissionDenied("开工与资金条件规则由市级管理员维护。")


def _rule(pk: int) -> ReadinessRule:
    rule = (
        ReadinessRule.objects.prefetch_related("requirements__item_type", "except_types")
        .filter(pk=pk)
        .first()
    )
    if rule is None:
        raise Http404("规则不存在")
    return rule


def _labels(values) -> str:
    return "、".join(ItemStatus(v).label for v in values if v in ItemStatus.values)


def describe(rule: ReadinessRule) -> list[str]:
    """What the rule requires, one line per condition, as the readiness page explains it."""
    excepted, requirements = services.readiness_rule_lists(rule)
    lines = []
    if rule.all_items:
        but = f"（{'、'.join(t.name for t in excepted)}除外）" if excepted else ""
        lines.append(f"台账全部事项{but}须为{_labels(rule.all_statuses)}")
    lines += [f"{r['item_type'].name}须为{_labels(r['statuses'])}" for r in requirements]
    return lines


def rules(request: HttpRequest) -> HttpResponse:
    """The rules by use, active and switched off, with what each requires."""
    _require_reader(request)
    qs = ReadinessRule.objects.prefetch_related("requirements__item_type", "except_types")
    groups = []
    for target in ReadinessTarget:
        rows = [
            {"rule": r, "conditions": describe(r), "version": services.readiness_rule_version(r)}
            for r in qs
            if r.target == target.value
        ]
        groups.append({"target": target.value, "label": target.label, "rows": rows})
    context = {"groups": groups, "can_edit": can_configure(request.user)}
    return render(request, "approvals/rules.html", context)


def _rules_url(rule: ReadinessRule | None = None) -> str:
    return reverse("approvals:rules") + (f"#rule-{rule.pk}" if rule else "")


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change a rule. A stale form (someone saved the rule since it was opened) keeps
    what was typed and says so; saving again overrides."""
    _require_rule_admin(request)
    rule = _rule(pk) if pk is not None else None
    version = services.readiness_rule_version(rule) if rule else ""
    form = ReadinessRuleForm(request.POST if request.method == "POST" else None, rule=rule, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.readiness_rule_save(
                actor=request.user,
                rule=rule,
                fields=form.service_fields(),
                expected_version=form.cleaned_data["version"] if rule else None,
            )
        except ConflictError as exc:
            if not ReadinessRule.objects.filter(pk=rule.pk).exists():
                messages.error(request, exc.message)
                return redirect(_rules_url())
            form.add_error(None, f"{exc.message}您填写的内容仍在表单中，核对后再次保存将以您填写的为准。")
            form.renew(services.readiness_rule_version(_rule(rule.pk)))
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"规则“{saved.name}”已保存，开工与资金条件清单已按新规则计算。")
            return redirect(_rules_url(saved))
    return render(request, "approvals/rules_form.html", {"form": form, "rule": rule})


@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_rule_admin(request)
    rule = _rule(pk)
    try:
        services.readiness_rule_delete(
            actor=request.user, rule=rule, expected_version=request.POST.get("version", "")
        )
    except (ValidationError, ConflictError) as exc:
        messages.error(request, exc.message if isinstance(exc, ConflictError) else _message(exc))
        return redirect(_rules_url(rule))
    messages.success(request, f"已删除规则“{rule.name}”。")
    return redirect(_rules_url())
