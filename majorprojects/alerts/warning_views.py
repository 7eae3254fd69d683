"""One warning's page (预警详情): why it is lit (the metric value, the thresholds, the
consecutive months, the evidence as a table), the same rule's history for the same subject,
the timeline, and the workflow steps selectors.warning_actions allows — notify, plan,
rectified (with an optional supporting file), strike off, reopen, ask for and decide a
justification (正当理由). Every step is a POST through alerts.services: out of scope 404, not
allowed 403, a stale version shows the latest state with the conflict message and what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from majorprojects.accounts.scope import get_warning, visible_warnings
from majorprojects.core.errors import ConflictError

from . import selectors, services
from .forms import (
    DecideForm,
    ExemptionForm,
    NotifyForm,
    PlanForm,
    RectifiedForm,
    ReopenForm,
    StrikeOffForm,
)
from .models import Exemption, ExemptionStatus, Warning, period_of
from .rules import registry
from .templatetags.alerts_tags import num as number
from .views import require_reader

HISTORY_LIMIT = 24
CONFLICT_HINT = "页面已显示最新情况；您填写的内容仍在表单中，核对后可再次提交。"
# action key of selectors.warning_actions → (form class, url name, title, button, button class)
STEPS = {
    "notify": (NotifyForm, "notify", "下发整改通知", "下发通知", "btn-primary"),
    "plan": (PlanForm, "plan", "填报整改措施和时限", "提交整改措施", "btn-primary"),
    "rectified": (RectifiedForm, "rectified", "报送整改完成", "报送整改完成", "btn-success"),
    "strike_off": (StrikeOffForm, "strike_off", "核验销号", "确认销号", "btn-success"),
    "reopen": (ReopenForm, "reopen", "退回整改", "退回整改", "btn-outline-danger"),
    "request_exemption": (
        ExemptionForm,
        "exemption",
        "申请正当理由（免于亮灯）",
        "提交申请",
        "btn-outline-primary",
    ),
    "decide_exemption": (DecideForm, "decide", "审批正当理由", "提交审批", "btn-primary"),
}
MAIN_ORDER = ("strike_off", "decide_exemption", "rectified", "notify", "plan")
VERBS = {
    "warning_notify": "下发整改通知",
    "warning_plan": "填报整改措施",
    "warning_rectified": "报送整改完成",
    "warning_strike_off": "核验销号",
    "warning_reopen": "退回整改",
    "warning_exemption_request": "申请正当理由",
    "warning_exemption_approve": "批准正当理由",
    "warning_exemption_reject": "不批准正当理由",
}
DETAIL_LABELS = {
    "note": "说明",
    "plan": "整改措施",
    "deadline": "整改时限",
    "rectification": "整改情况",
    "reason": "理由",
    "justification": "正当理由",
    "months": "适用月数",
}
EVIDENCE_LABELS = {
    "as_of": "截至日期",
    "planned_start": "计划开工日期",
    "planned_start_source": "计划开工日期来源",
    "actual_start": "实际开工日期",
    "months_overdue": "逾期月数",
    "plan": "年度计划投资（万元）",
    "done_ytd": "年初至今完成投资（万元）",
    "months": "统计月份",
    "plan_pct": "年度计划完成进度（%）",
    "time_pct": "时间进度（%）",
    "gap_pp": "差值（个百分点）",
    "programme": "资金渠道",
    "allocated": "下达金额（万元）",
    "paid": "已支付（万元）",
    "expected": "按序时应支付（万元）",
    "paid_pct": "支付进度（%）",
    "expected_pct": "序时进度（%）",
    "behind": "落后序时的下达笔数",
    "allocations": "资金下达明细",
    "document_no": "下达文号",
    "issued_on": "下达日期",
    "amount": "金额（万元）",
    "window_end": "使用期限截止",
    "started_on": "开工日期",
    "stats_included": "已入统",
    "stats_included_date": "入统日期",
    "months_pending": "开工未入统月数",
    "kind": "口径",
    "period": "期次",
    "due_on": "报送截止日",
    "late_after": "宽限截止日",
    "status": "状态",
    "submitted_on": "报送日期",
    "late": "迟报",
    "periods_missing": "漏报期数",
    "periods_late": "迟报期数",
    "periods": "连续期次（由近及远）",
    "items": "手续事项数",
    "flagged": "逾期事项数",
    "min_days": "逾期天数不少于",
    "flagged_items": "逾期事项",
    "item": "事项",
    "date": "日期",
    "days": "逾期天数",
    "overdue": "逾期问题数",
    "problems": "逾期问题",
    "id": "编号",
    "title": "问题",
    "deadline": "办理时限",
    "lead_unit": "牵头单位",
    "last_year_ytd": "上年同期完成（万元）",
    "growth_pct": "增速（%）",
    "target_pct": "目标增速（%）",
    "city_done_ytd": "全市年初至今完成（万元）",
    "city_last_year_ytd": "全市上年同期完成（万元）",
    "city_growth_pct": "全市增速（%）",
    "behind_months": "连续落后月数",
    "month": "月份",
    "basis": "任务口径",
    "annual_task": "年度任务（万元）",
    "month_task": "月度任务（万元）",
    "done_month": "当月完成（万元）",
    "task_pct": "任务完成率（%）",
}
VALUE_LABELS = {
    ("planned_start_source", "listing"): "年度清单",
    ("planned_start_source", "project"): "项目信息",
    ("basis", "target"): "区域投资目标",
    ("basis", "plan"): "年度清单计划",
    ("kind", "missing"): "漏报",
    ("kind", "late"): "迟报",
    ("kind", "missing_or_late"): "漏报或迟报",
}


# --- reading --------------------------------------------------------------------------------


def _warning(request: HttpRequest, pk: int) -> Warning:
    require_reader(request)
    return get_warning(request.user, pk)


def _show(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if (key, value) in VALUE_LABELS:
        return VALUE_LABELS[(key, value)]
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


def evidence_rows(evidence: dict) -> list[dict]:
    """The evidence JSON as rows: {"label", "value"} for a plain value, {"label", "head",
    "rows"} for a list of records (allocations, overdue items …) or a nested object."""
    rows = []
    for key, value in (evidence or {}).items():
        label = EVIDENCE_LABELS.get(key, key)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            rows.append(
                {
                    "label": label,
                    "head": [EVIDENCE_LABELS.get(k, k) for k in keys],
                    "rows": [[_show(k, v.get(k)) for k in keys] for v in value],
                }
            )
        elif isinstance(value, dict):
            rows.append(
                {
                    "label": label,
                    "head": ["项目", "数值"],
                    "rows": [[EVIDENCE_LABELS.get(k, k), _show(k, v)] for k, v in value.items()],
                }
            )
        else:
            rows.append({"label": label, "value": _show(key, value)})
    return rows


def why_lit(warning: Warning) -> dict:
    """为什么亮灯: the metric, the value against the thresholds, the consecutive conditions."""
    rule = warning.rule
    metric = registry().get(rule.metric)
    worse_high = metric.higher_is_worse if metric else True
    sign = "≥" if worse_high else "≤"
    unit = metric.unit if metric else ""

    def threshold(value):
        return f"{sign} {number(value)} {unit}".strip() if value is not None else "—"

    after = f"连续 {rule.yellow_after} 期达到阈值亮黄灯" if rule.yellow_after > 1 else "达到黄灯阈值即亮黄灯"
    if rule.red_after:
        after += f"，连续 {rule.red_after} 期升红灯"
    return {
        "metric_label": metric.label if metric else rule.metric,
        "metric_code": rule.metric,
        "unit": unit,
        "direction": "越大越差" if worse_high else "越小越差",
        "value": number(warning.value),
        "yellow": threshold(rule.yellow_threshold),
        "red": threshold(rule.red_threshold),
        "consecutive": after,
        "streak": warning.streak,
        "grace": rule.grace_days,
        "evidence": evidence_rows(warning.evidence),
    }


def _history(user, warning: Warning) -> list[Warning]:
    """The same rule's warnings for the same subject, newest first (carried-over months)."""
    qs = visible_warnings(user).filter(rule_id=warning.rule_id, subject=warning.subject)
    if warning.project_id:
        qs = qs.filter(project_id=warning.project_id)
    else:
        qs = qs.filter(project__isnull=True, region_id=warning.region_id)
    return list(qs.select_related("responsible_unit").order_by("-year", "-month", "-pk")[:HISTORY_LIMIT])


def _timeline(warning: Warning) -> list[dict]:
    out = []
    for event in selectors.timeline(warning):
        details = event.details or {}
        shown = [
            (DETAIL_LABELS[k], "—" if details[k] in (None, "") else details[k])
            for k in DETAIL_LABELS
            if k in details and details[k] not in (None, "")
        ]
        out.append(
            {
                "at": event.at,
                "actor": str(event.actor) if event.actor_id else "系统",
                "verb": VERBS.get(event.verb, event.verb),
                "details": shown,
            }
        )
    return out


def _version(key: str, warning: Warning, pending: Exemption | None) -> int:
    """The version a step's form carries: the pending request's when deciding it."""
    if key == "decide_exemption" and pending is not None:
        return pending.version
    return warning.version


def _forms(warning: Warning, acts: dict, pending: Exemption | None) -> dict:
    forms = {}
    for key, (form_class, *_rest) in STEPS.items():
        if acts.get(key):
            form = form_class(initial={"version": _version(key, warning, pending)}, prefix=key)
            if key == "rectified" and not warning.project_id:
                del form.fields["file"]
            forms[key] = form
    return forms


def _main_step(steps: list[dict]) -> str:
    """The step shown open: what this user is expected to do next."""
    keys = [s["key"] for s in steps]
    return next((k for k in MAIN_ORDER if k in keys), "")


def _render(request: HttpRequest, warning: Warning, *, bound: dict | None = None):
    user = request.user
    acts = selectors.warning_actions(user, warning)
    pending = selectors.pending_exemption(warning)
    forms = _forms(warning, acts, pending)
    forms.update(bound or {})
    steps = [
        {
            "key": key,
            "form": forms[key],
            "url": reverse(f"alerts:{url}", args=[warning.pk]),
            "title": title,
            "button": button,
            "button_class": css,
            "multipart": key == "rectified",
        }
        for key, (_form, url, title, button, css) in STEPS.items()
        if key in forms
    ]
    exemptions = [
        {
            "obj": e,
            "from": "{}年{}月".format(*period_of(e.period_from)),
            "to": "{}年{}月".format(*period_of(e.period_to)),
        }
        for e in warning.exemptions.select_related("requested_by", "decided_by").order_by("-requested_at")
    ]
    context = {
        "warning": warning,
        "row": selectors.warning_row(warning),
        "why": why_lit(warning),
        "history": _history(user, warning),
        "timeline": _timeline(warning),
        "steps": steps,
        "open_step": next(iter(bound), "") if bound else _main_step(steps),
        "pending": pending,
        "exemptions": exemptions,
        "errors": [e for f in (bound or {}).values() for e in f.non_field_errors()],
    }
    return render(request, "alerts/detail.html", context)


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _warning(request, pk))


# --- the steps ------------------------------------------------------------------------------


def _attach_errors(form, exc: ValidationError, rename: dict | None = None) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        field = (rename or {}).get(field, field)
        form.add_error(field if field in form.fields else None, errors)


def _act(request: HttpRequest, pk: int, key: str, run, success: str, rename: dict | None = None):
    """Bind the step's form, run the service with its cleaned data. Bad input or a service's
    ValidationError shows the page again with the form and its errors; a stale version the
    latest state with the conflict message and what was typed. PermissionDenied → 403."""
    warning = _warning(request, pk)
    form_class = STEPS[key][0]
    form = form_class(request.POST, request.FILES, prefix=key)
    if key == "rectified" and not warning.project_id:
        del form.fields["file"]
    if form.is_valid():
        try:
            run(warning, form.cleaned_data)
        except ConflictError as exc:
            current = _warning(request, pk)
            form.data = form.data.copy()
            version = _version(key, current, selectors.pending_exemption(current))
            form.data[form.add_prefix("version")] = str(version)
            form.add_error(None, f"{exc.message}{CONFLICT_HINT}")
            return _render(request, current, bound={key: form})
        except ValidationError as exc:
            _attach_errors(form, exc, rename)
        else:
            messages.success(request, success)
            return redirect("alerts:detail", pk=pk)
    return _render(request, _warning(request, pk), bound={key: form})


@require_POST
def notify(request: HttpRequest, pk: int) -> HttpResponse:
    def run(w, d):
        services.warning_notify(actor=request.user, warning=w, note=d["note"], expected_version=d["version"])

    return _act(request, pk, "notify", run, "已下发整改通知，责任单位将在“我的整改”中看到该预警。")


@require_POST
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    def run(w, d):
        services.warning_plan(
            actor=request.user,
            warning=w,
            plan=d["plan"],
            deadline=d["deadline"],
            expected_version=d["version"],
        )

    return _act(request, pk, "plan", run, "整改措施已提交，整改完成后请报送整改情况。")


@require_POST
def rectified(request: HttpRequest, pk: int) -> HttpResponse:
    def run(w, d):
        upload = d.get("file")
        services.warning_mark_rectified(
            actor=request.user,
            warning=w,
            rectification=d["rectification"],
            file_name=upload.name if upload else "",
            file_content=upload.read() if upload else b"",
            expected_version=d["version"],
        )

    return _act(request, pk, "rectified", run, "整改情况已报送，等待市级核验销号。", rename={"kind": "file"})


@require_POST
def strike_off(request: HttpRequest, pk: int) -> HttpResponse:
    def run(w, d):
        services.warning_strike_off(
            actor=request.user, warning=w, note=d["note"], expected_version=d["version"]
        )

    return _act(request, pk, "strike_off", run, "已核验销号。")


@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def run(w, d):
        services.warning_reopen(
            actor=request.user, warning=w, reason=d["reason"], expected_version=d["version"]
        )

    return _act(request, pk, "reopen", run, "已退回整改。")


@require_POST
def exemption(request: HttpRequest, pk: int) -> HttpResponse:
    def run(w, d):
        services.exemption_request(
            actor=request.user,
            warning=w,
            justification=d["justification"],
            until=d["until"],
            expected_version=d["version"],
        )

    return _act(request, pk, "request_exemption", run, "正当理由申请已提交，等待审批。")


@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Decide the warning's pending justification (the form's version is the request's)."""
    approve = request.POST.get("decide_exemption-decision") == "approve"

    def run(w, d):
        pending = Exemption.objects.filter(warning=w, status=ExemptionStatus.REQUESTED).first()
        if pending is None:
            raise Http404("没有待审批的正当理由申请")
        services.exemption_decide(
            actor=request.user,
            exemption=pending,
            approve=d["decision"] == "approve",
            note=d["note"],
            expected_version=d["version"],
        )

    return _act(
        request,
        pk,
        "decide_exemption",
        run,
        "已批准正当理由，相关预警免于亮灯。" if approve else "已不批准正当理由申请。",
    )
