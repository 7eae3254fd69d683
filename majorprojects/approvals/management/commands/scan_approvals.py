"""Daily sweep of the approvals ledger (idempotent): give every project in 前期/签约 the items of its
regime's template that its ledger lacks, and report the items that are overdue, whose promised
papers are late, or whose approval is about to lapse or has lapsed (the figures come from
approvals.selectors; nothing is stored, so running it twice changes nothing)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from majorprojects.approvals.models import ApprovalItem
from majorprojects.approvals.selectors import FLAG_LABELS, LEDGER_STAGES, flagged_rows
from majorprojects.approvals.services import ledger_apply_templates
from majorprojects.projects.models import Project


class Command(BaseCommand):
    help = "补齐前期、签约阶段项目的台账事项，并统计逾期、承诺逾期和批复失效风险（可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="按指定日期计算（YYYY-MM-DD），默认今天")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        except ValueError:
            raise CommandError("--today 应为 YYYY-MM-DD 格式的日期。")
        projects = added = 0
        for project in Project.objects.filter(stage__in=LEDGER_STAGES).order_by("pk").iterator():
            created = ledger_apply_templates(project)
            if created:
                projects += 1
                added += len(created)
        rows = flagged_rows(ApprovalItem.objects.select_related("project", "item_type"), today=today)
        counts = {kind: sum(1 for r in rows if r["flags"][kind]) for kind in FLAG_LABELS}
        figures = "；".join(f"{FLAG_LABELS[k]} {n} 项" for k, n in counts.items())
        self.stdout.write(f"补齐台账项目 {projects} 个、事项 {added} 项。{figures}。")
