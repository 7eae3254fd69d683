"""The city admin's pages for the approvals ledger's configuration: each regime's template
(add, remove, move up/down) and the item types' validity clocks and deadlines. Changes through
approvals.services (template_item_add/remove, template_reorder, item_type_save)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from majorprojects.projects.models import ApprovalRegime

from . import selectors, services
from .forms import ItemTypeForm, TemplateAddForm
from .models import ApprovalItemType
from .views import _attach_errors, _message, _require_admin


def _regime(regime: str) -> str:
    if regime not in ApprovalRegime.values:
        raise Http404("审批类型不存在")
    return regime


def templates(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    entries = selectors.templates()
    regimes = []
    for regime in ApprovalRegime:
        items = entries.get(regime.value, [])
        regimes.append(
            {
                "value": regime.value,
                "label": regime.label,
                "entries": items,
                "form": TemplateAddForm(regime=regime.value, present={e.item_type_id for e in items}),
            }
        )
    context = {"regimes": regimes, "item_types": ApprovalItemType.objects.select_related("used_by")}
    return render(request, "approvals/templates.html", context)


def _templates_url(regime: str) -> str:
    return f"{reverse('approvals:templates')}#regime-{regime}"


@require_POST
def template_add(request: HttpRequest, regime: str) -> HttpResponse:
    _require_admin(request)
    regime = _regime(regime)
    present = {e.item_type_id for e in selectors.templates().get(regime, [])}
    form = TemplateAddForm(request.POST, regime=regime, present=present)
    if not form.is_valid():
        messages.error(request, "请选择要加入模板的事项（位置为正整数）。")
        return redirect(_templates_url(regime))
    try:
        entry = services.template_item_add(
            actor=request.user,
            regime=regime,
            item_type=form.cleaned_data["item_type"],
            position=form.cleaned_data["position"],
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            f"已将“{entry.item_type.name}”加入{ApprovalRegime(regime).label}模板第 {entry.position} 项。",
        )
    return redirect(_templates_url(regime))


@require_POST
def template_remove(request: HttpRequest, regime: str, type_pk: int) -> HttpResponse:
    _require_admin(request)
    regime = _regime(regime)
    item_type = ApprovalItemType.objects.filter(pk=type_pk).first()
    if item_type is None:
        raise Http404("审批事项不存在")
    try:
        services.template_item_remove(actor=request.user, regime=regime, item_type=item_type)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request, f"已从{ApprovalRegime(regime).label}模板移除“{item_type.name}”（已有台账不受影响）。"
        )
    return redirect(_templates_url(regime))


@require_POST
def template_move(request: HttpRequest, regime: str, type_pk: int) -> HttpResponse:
    """Move one item up or down in its template."""
    _require_admin(request)
    regime = _regime(regime)
    order = [e.item_type_id for e in selectors.templates().get(regime, [])]
    if type_pk not in order:
        raise Http404("该事项不在模板中")
    i = order.index(type_pk)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        try:
            services.template_reorder(actor=request.user, regime=regime, item_type_ids=order)
        except ValidationError as exc:
            messages.error(request, _message(exc))
    return redirect(_templates_url(regime))


@require_http_methods(["GET", "POST"])
def item_type_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change an item type: default approving body, validity clock, warning window,
    statutory deadline in working days."""
    _require_admin(request)
    item_type = None
    if pk is not None:
        item_type = ApprovalItemType.objects.filter(pk=pk).first()
        if item_type is None:
            raise Http404("审批事项不存在")
    form = ItemTypeForm(request.POST if request.method == "POST" else None, instance=item_type)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.item_type_save(
                actor=request.user, item_type=item_type, fields=form.service_fields()
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"审批事项“{saved.name}”已保存。")
            return redirect(f"{reverse('approvals:templates')}#types")
    return render(request, "approvals/item_type_form.html", {"form": form, "item_type": item_type})
