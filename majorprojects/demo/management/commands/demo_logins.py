"""`manage.py demo_logins`: print the demo accounts, what each one sees, and the password."""

import unicodedata

from django.core.management.base import BaseCommand

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import visible_projects
from majorprojects.demo.builder import demo_accounts, demo_usernames
from majorprojects.demo.data import DEMO_PASSWORD

HEADERS = ("用户名", "角色", "单位 / 区域", "能看到什么", "密码")


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def scope_text(user) -> str:
    if user.role == Role.AUDITOR:
        return "不看项目数据；管理账号、查阅审计日志"
    n = visible_projects(user).count()
    if user.role == Role.CITY_ADMIN:
        return f"全市全部项目（{n} 个），配置组织机构、清单和活动"
    if user.role == Role.LEADER:
        return f"全市项目只读（{n} 个）"
    if user.role == Role.COUNTY:
        return f"{user.region.name if user.region else '—'}的项目（{n} 个）"
    if user.role == Role.DEPARTMENT and user.unit and user.unit.reads_all_projects:
        return f"全市项目只读（{n} 个），修改本部门负责的项目"
    if user.role == Role.DEPARTMENT:
        industries = "、".join(user.unit.sectors.values_list("name", flat=True)) if user.unit else ""
        governs = f"或主管{industries}" if industries else ""
        return f"本部门负责{governs}的项目（{n} 个）"
    return f"本单位的项目（{n} 个）"


def rows() -> list[tuple[str, ...]]:
    order = {name: i for i, name in enumerate(demo_usernames())}
    users = sorted(demo_accounts().select_related("unit", "region"), key=lambda u: order[u.username])
    verified: dict[str, bool] = {}
    out = []
    for user in users:
        # Demo accounts share one hash; checking a password is deliberately slow, so check each
        # distinct hash once.
        if user.password not in verified:
            verified[user.password] = user.check_password(DEMO_PASSWORD)
        password = DEMO_PASSWORD if verified[user.password] else "（已修改）"
        if not user.is_active:
            password = "（已停用）"
        place = user.unit.name if user.unit and user.role != Role.COUNTY else (user.region or "")
        out.append((user.username, user.get_role_display(), str(place), scope_text(user), password))
    return out


class Command(BaseCommand):
    help = "列出演示账号：用户名、角色、单位或区域、可见范围和密码。"

    def handle(self, *args, **options):
        table = rows()
        if not table:
            self.stdout.write("没有演示账号。先运行 `python manage.py load_demo`。")
            return
        sizes = [max(width(r[i]) for r in [HEADERS, *table]) for i in range(len(HEADERS))]
        line = "  ".join("-" * s for s in sizes)
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，登录页 /accounts/login/）")
        self.stdout.write(line)
        for row in [HEADERS, None, *table]:
            if row is None:
                self.stdout.write(line)
                continue
            self.stdout.write(
                "  ".join(pad(cell, size) for cell, size in zip(row, sizes, strict=True)).rstrip()
            )
        self.stdout.write(line)
