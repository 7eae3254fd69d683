"""Recount the per-project, per-year counted amounts the dispatch figures read (YearDone) from
the reports. Services keep them current; run this after loading reports by other means."""

from django.core.management.base import BaseCommand
from django.db import transaction

from majorprojects.reporting.totals import year_done_rebuild


class Command(BaseCommand):
    help = "按调度报表重算各项目分年分月的已报送完成投资（汇总数据）。"

    def handle(self, *args, **options):
        with transaction.atomic():
            rows = year_done_rebuild()
        self.stdout.write(f"已重算 {rows} 条项目年度分月完成投资。")
