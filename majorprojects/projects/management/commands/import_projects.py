"""`manage.py import_projects FILE.xlsx [--year Y] [--dry-run] [--user USERNAME] [--sheet NAME]`:
the upload page's import from the command line. Validates every row first; writes all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from majorprojects.accounts.models import Role, User
from majorprojects.projects.importing import (
    ImportFileError,
    ImportRejected,
    build_plan,
    plan_apply,
    read_sheet,
)
from majorprojects.projects.importing.plan import STATUS_LABELS


class Command(BaseCommand):
    help = "从 Excel（.xlsx）台账导入项目：先校验全部行，有任何错误则不写入；重复导入只更新不重复登记。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="台账文件（.xlsx）")
        parser.add_argument(
            "--year", type=int, help="年度清单的年度；默认取表头中的年份（如“2025年计划投资”），否则今年"
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验并列出将新建、更新的项目，不写入")
        parser.add_argument("--user", help="以该账号导入（决定管辖范围并记入操作记录）；默认第一个市级管理员")
        parser.add_argument("--sheet", help="工作表名称；默认第一个可见的工作表")

    def handle(self, *args, file, year, dry_run, user, sheet, **options):
        actor = self._actor(user)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        try:
            read = read_sheet(path.read_bytes(), name=path.name, sheet=sheet)
        except ImportFileError as exc:
            raise CommandError(exc.message)
        plan = build_plan(read, actor=actor, year=year)
        self.stdout.write(
            f"工作表“{read.name}”，表头在第 {read.header_row} 行"
            f"{'（两行）' if read.header_rows == 2 else ''}，年度 {plan.year}，导入账号 {actor.username}。"
        )
        for notice in plan.notices:
            self.stdout.write(notice)
        for row in plan.rows:
            if row.status != "error" and (options["verbosity"] > 1 or row.status != "unchanged"):
                detail = "；".join(row.changes)
                self.stdout.write(
                    f"第 {row.row} 行 {STATUS_LABELS[row.status]}：{row.name}{'（' + detail + '）' if detail else ''}"
                )
        counts = plan.counts
        summary = (
            f"新建 {counts['create']} 个，更新 {counts['update']} 个，无变化 {counts['unchanged']} 个，"
            f"跳过 {counts['skipped']} 行"
        )
        if not plan.ok:
            for message in plan.messages():
                self.stderr.write(message)
            raise CommandError(f"发现 {len(plan.messages())} 处错误，未写入任何数据。")
        if dry_run:
            self.stdout.write(f"校验通过（试运行，未写入）：{summary}。")
            return
        try:
            plan_apply(actor=actor, plan=plan)
        except ImportRejected as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError("导入失败，未写入任何数据。")
        self.stdout.write(self.style.SUCCESS(f"已导入：{summary}。"))

    def _actor(self, username: str | None) -> User:
        if username:
            try:
                return User.objects.get(username=username, is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"没有启用的账号“{username}”。")
        actor = User.objects.filter(role=Role.CITY_ADMIN, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError("没有启用的市级管理员账号，请用 --user 指定导入账号。")
        return actor
