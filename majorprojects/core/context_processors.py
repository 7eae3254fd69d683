from django.conf import settings
from django.urls import reverse

from majorprojects.accounts.scope import (
    can_change_projects,
    can_manage_accounts,
    can_read_audit,
    visible_projects_allowed,
)

# Pages without their own entry that belong under one (the entry is shown active there).
SECTIONS = {"reporting:periods": ("reporting:schedules", "reporting:corrections")}


def _nav(request) -> list[dict]:
    user = request.user
    if not user.is_authenticated:
        return []
    items = [("core:home", "首页")]
    if visible_projects_allowed(user):
        items.append(("projects:list", "项目库"))
    if can_change_projects(user):
        items.append(("projects:import", "导入台账"))
    if visible_projects_allowed(user):
        items += [
            ("reporting:overview", "调度总览"),
            ("reporting:reports", "我的调度"),
            ("reporting:periods", "调度期次"),
            ("approvals:index", "前期台账"),
            ("funds:index", "资金"),
            ("problems:list", "问题台账"),
            ("alerts:index", "预警"),
        ]
    if visible_projects_allowed(user):
        items.append(("organisation:regions", "组织机构"))
    if can_manage_accounts(user):
        items.append(("accounts:list", "账号管理"))
    if can_read_audit(user):
        items.append(("audit:list", "审计日志"))
    path = request.path
    urls = [(reverse(name), label) for name, label in items]
    prefixes = [(url, url) for url, _ in urls] + [
        (reverse(alias), reverse(name)) for name, _ in items for alias in SECTIONS.get(name, ())
    ]
    matches = [(p, url) for p, url in prefixes if (path == p if p == "/" else path.startswith(p))]
    current = max(matches, key=lambda m: len(m[0]))[1] if matches else None
    nav = [{"url": url, "label": label, "active": url == current} for url, label in urls]
    return nav


def platform(request):
    return {"PLATFORM_NAME": settings.PLATFORM_NAME, "NAV": _nav(request)}
