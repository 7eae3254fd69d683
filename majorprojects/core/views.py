from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from majorprojects.accounts.scope import (
    can_change_projects,
    can_review_reports,
    visible_projects,
    visible_projects_allowed,
)
from majorprojects.alerts.views import todo_items as alert_todo
from majorprojects.problems.selectors import todo_items as problem_todo
from majorprojects.projects.filters import current_year
from majorprojects.projects.selectors import project_totals, stage_breakdown
from majorprojects.reporting.selectors import todo


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {"year": current_year()}
    if visible_projects_allowed(user):
        context["problem_todo"] = problem_todo(user)
        context["alert_todo"] = alert_todo(user)
        context["today"] = timezone.localdate()
        if can_change_projects(user):
            context["todo"] = todo(user)
            context["todo_review"] = can_review_reports(user)
        qs = visible_projects(user)
        context["totals"] = project_totals(qs, context["year"])
        stages = stage_breakdown(qs)
        context["stages"] = stages
        context["stage_chart"] = {
            "labels": [s["label"] for s in stages],
            "counts": [s["count"] for s in stages],
            "amounts": [str(s["total_investment"]) for s in stages],
        }
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "您的账号无权执行此操作。"
    return render(request, "core/error.html", {"heading": "无权访问", "message": message}, status=403)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"heading": "页面不存在", "message": "页面不存在，或您无权访问该数据。"},
        status=404,
    )


__all__ = ["forbidden", "healthz", "home", "not_found"]
