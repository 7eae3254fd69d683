"""Open due reporting periods and create their report slots (idempotent; run hourly or daily)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from majorprojects.reporting.periods import open_periods


class Command(BaseCommand):
    help = "开启到期的调度期次并生成各项目的报表（可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="按指定日期计算（YYYY-MM-DD），默认今天")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        except ValueError:
            raise CommandError("--today 应为 YYYY-MM-DD 格式的日期。")
        results = open_periods(today)
        opened = sum(1 for r in results if r["created"])
        added = sum(r["added"] for r in results)
        removed = sum(r["removed"] for r in results)
        self.stdout.write(f"开启期次 {opened} 个；新增报表 {added} 份；移除不再需要的空白报表 {removed} 份。")
