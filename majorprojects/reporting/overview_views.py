"""The dispatch overview (调度总览): a month's plan vs done over the user's projects, the same
figures by any dimension, the year's trend and funds by source; and all of it as an Excel
workbook. Every figure comes from reporting.selectors over accounts.scope.visible_projects."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from majorprojects.accounts.scope import visible_projects, visible_projects_allowed
from majorprojects.core.money import YI, to_yi

from . import exports, selectors
from .models import Frequency, Period

DEFAULT_DIMENSION = "region"
YEARS_BACK = 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class OverviewForm(forms.Form):
    """The month and grouping asked for in the query string; what is wrong falls back to the default."""

    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": "年度应为四位数字年份。",
            "min_value": "年度不能早于 2000 年。",
            "max_value": "年度不能晚于 2100 年。",
        },
    )
    month = forms.IntegerField(
        label="月份",
        min_value=1,
        max_value=12,
        error_messages={
            "invalid": "月份应为 1 到 12 之间的数字。",
            "min_value": "月份应在 1 到 12 之间。",
            "max_value": "月份应在 1 到 12 之间。",
        },
    )
    by = forms.ChoiceField(
        label="分组",
        choices=list(selectors.DIMENSIONS.items()),
        error_messages={
            "invalid_choice": "分组方式只能是：" + "、".join(selectors.DIMENSIONS.values()) + "。"
        },
    )


@dataclass
class Selection:
    year: int
    month: int
    by: str
    errors: list[str] = field(default_factory=list)

    @property
    def by_label(self) -> str:
        return selectors.DIMENSIONS[self.by]

    @property
    def span(self) -> str:
        """The months counted, as bulletins write them: 2026年1-10月; January alone: 2026年1月."""
        return f"{self.year}年{'1-' if self.month > 1 else ''}{self.month}月"

    def query(self, **changes) -> str:
        params = {"year": self.year, "month": self.month, "by": self.by} | changes
        return urlencode(params)


def _require_reader(request: HttpRequest) -> None:
    if not visible_projects_allowed(request.user):
        raise PermissionDenied("您的账号不查看项目数据。")


def default_month(today) -> tuple[int, int]:
    """The latest month whose monthly period is past its deadline (its figures are in), else
    the current month."""
    latest = (
        Period.objects.filter(frequency=Frequency.MONTHLY, due_on__lt=today)
        .order_by("-ends_on")
        .values_list("year", "number")
        .first()
    )
    return tuple(latest) if latest else (today.year, today.month)


def _selection(request: HttpRequest) -> Selection:
    form = OverviewForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    if "year" in data and "month" in data:
        year, month = data["year"], data["month"]
    else:
        today = timezone.localdate()
        default_year, default_m = default_month(today)
        year = data.get("year", default_year)
        if "month" in data:
            month = data["month"]
        elif year == default_year:
            month = default_m
        else:  # another year without a month: a past year's December, a coming year's January
            month = 12 if year < today.year else (today.month if year == today.year else 1)
    errors = [
        f"{form.fields[name].label}：{'；'.join(messages)}"
        for name, messages in form.errors.items()
        if request.GET.get(name) not in (None, "")
    ]
    return Selection(year=year, month=month, by=data.get("by") or DEFAULT_DIMENSION, errors=errors)


def _years(selection: Selection) -> list[int]:
    """Years offered in the selector: this year and the five before it, and the chosen one."""
    this_year = timezone.localdate().year
    return sorted({*range(this_year - YEARS_BACK, this_year + 1), selection.year}, reverse=True)


def _chart(trend: dict, year: int, month: int) -> dict:
    """ECharts input for the trend: monthly bars (this year up to the chosen month, last year in
    full), cumulative % of plan up to the chosen month, time progress for the whole year. Amounts
    in 亿元 once they are large enough to read that way, else in 万元."""
    largest = max([*trend["this_year"], *trend["last_year"]], default=0)
    in_yi = largest >= YI

    def amount(value):
        return str(to_yi(value) if in_yi else value)

    return {
        "year": year,
        "unit": "亿元" if in_yi else "万元",
        "months": trend["months"],
        "this_year": [amount(v) if i < month else None for i, v in enumerate(trend["this_year"])],
        "last_year": [amount(v) for v in trend["last_year"]],
        "plan_pct": [None if i >= month or v is None else str(v) for i, v in enumerate(trend["plan_pct"])],
        "time_pct": [str(v) for v in trend["time_pct"]],
    }


def _trend_rows(trend: dict, month: int) -> list[dict]:
    """The chart's figures as a table (under the chart, for reading and for screen readers)."""
    return [
        {
            "month": name,
            "reached": i < month,
            "this_year": trend["this_year"][i],
            "last_year": trend["last_year"][i],
            "cumulative": trend["cumulative"][i],
            "plan_pct": trend["plan_pct"][i],
            "time_pct": trend["time_pct"][i],
        }
        for i, name in enumerate(trend["months"])
    ]


def _tabs(selection: Selection) -> list[dict]:
    base = reverse("reporting:overview")
    return [
        {
            "code": code,
            "label": label,
            "url": f"{base}?{selection.query(by=code)}",
            "active": code == selection.by,
        }
        for code, label in selectors.DIMENSIONS.items()
    ]


def _table_context(request: HttpRequest, projects, selection: Selection, summary: dict) -> dict:
    return {
        "selection": selection,
        "tabs": _tabs(selection),
        "rows": selectors.month_table(
            projects, selection.year, selection.month, selection.by, user=request.user
        ),
        "summary": summary,
        "export_url": f"{reverse('reporting:overview_export')}?{selection.query()}",
    }


def overview(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    selection = _selection(request)
    projects = visible_projects(request.user)
    summary = selectors.month_summary(projects, selection.year, selection.month)
    context = _table_context(request, projects, selection, summary)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "dimension":
        return render(request, "reporting/_overview_table.html", context)
    trend = selectors.trend(projects, selection.year)
    context |= {
        "years": _years(selection),
        "months": range(1, 13),
        "chart": _chart(trend, selection.year, selection.month),
        "trend_rows": _trend_rows(trend, selection.month),
        "funds": selectors.funds_by_source(projects, selection.year, selection.month),
    }
    return render(request, "reporting/overview.html", context)


def overview_export(request: HttpRequest) -> HttpResponse:
    """The overview as .xlsx: the summary, every dimension (the chosen one first) and the trend."""
    _require_reader(request)
    selection = _selection(request)
    projects = visible_projects(request.user)
    order = [selection.by, *(d for d in selectors.DIMENSIONS if d != selection.by)]
    content = exports.overview_xlsx(
        title=f"{selection.span}重大项目调度情况",
        year=selection.year,
        month=selection.month,
        summary=selectors.month_summary(projects, selection.year, selection.month),
        tables={
            d: selectors.month_table(projects, selection.year, selection.month, d, user=request.user)
            for d in order
        },
        trend=selectors.trend(projects, selection.year),
    )
    name = f"调度总览_{selection.year}年{selection.month}月_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=XLSX)


__all__ = ["default_month", "overview", "overview_export"]
