from django.conf import settings
from django.urls import reverse

from majorprojects.accounts.scope import (
    can_change_projects,
    can_manage_accounts,
    can_read_audit,
    visible_projects_allowed,
)


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
        items.append(("organisation:regions", "组织机构"))
    if can_manage_accounts(user):
        items.append(("accounts:list", "账号管理"))
    if can_read_audit(user):
        items.append(("audit:list", "审计日志"))
    path = request.path
    urls = [(reverse(name), label) for name, label in items]
    matches = [url for url, _ in urls if (path == url if url == "/" else path.startswith(url))]
    current = max(matches, key=len) if matches else None
    nav = [{"url": url, "label": label, "active": url == current} for url, label in urls]
    return nav


def platform(request):
    return {"PLATFORM_NAME": settings.PLATFORM_NAME, "NAV": _nav(request)}
