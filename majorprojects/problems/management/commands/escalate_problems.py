"""Supervise the problem ledger: overdue notices up the ladder (一通报两约谈), overdue first replies
and months without progress (idempotent; run daily)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from majorprojects.problems.escalation import escalate


class Command(BaseCommand):
    help = "问题台账督办：逾期通报及约谈升级、首次答复超期、当月未报进展（可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按指定日期计算（YYYY-MM-DD），默认今天")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError:
            raise CommandError("--date 应为 YYYY-MM-DD 格式的日期。")
        counts = escalate(today)
        self.stdout.write(
            f"新增逾期通报 {counts['notices']} 条；首次答复超期 {counts['first_reply']} 条；"
            f"当月未报进展 {counts['progress']} 条。"
        )
