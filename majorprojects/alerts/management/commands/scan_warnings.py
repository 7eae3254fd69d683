"""Scan a month's warnings (idempotent; the scheduler runs it daily). Default period: the
previous calendar month — the month whose dispatch reports are in by now; rerunning it every
day picks up late reports and corrections without touching the workflow of existing warnings."""

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from majorprojects.alerts.engine import scan
from majorprojects.alerts.selectors import default_period
from majorprojects.alerts.services import scan_record

PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$")


class Command(BaseCommand):
    help = "按预警规则扫描某月的红黄灯（默认上个月，可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--period", help="扫描月份 YYYY-MM，默认上个月")

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["period"]:
            match = PERIOD.match(options["period"])
            if not match or not 1 <= int(match.group(2)) <= 12:
                raise CommandError("--period 应为 YYYY-MM 格式的月份，如 2026-10。")
            year, month = int(match.group(1)), int(match.group(2))
            if (year, month) > (today.year, today.month):
                raise CommandError("不能扫描尚未开始的月份。")
        else:
            year, month = default_period(today)
        result = scan(year, month, today=today)
        scan_record(result)
        self.stdout.write(
            f"{year}年{month}月：规则 {result.rules} 条，新增 {result.created}、更新 {result.updated}、"
            f"未变 {result.unchanged}、消除 {result.cleared}；"
            f"红灯 {result.by_light['red']} 条，黄灯 {result.by_light['yellow']} 条；用时 {result.seconds:.1f} 秒。"
        )
        for code, reason in result.skipped.items():
            self.stdout.write(f"  跳过 {code}：{reason}")
