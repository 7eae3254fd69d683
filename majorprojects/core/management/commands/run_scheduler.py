"""The single-machine scheduler: runs the periodic commands (settings.SCHEDULED_COMMANDS) at
their intervals, forever, or once with --once (for cron or a systemd timer instead)."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = "按计划运行定时任务（开启调度期次等），适用于单机部署。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="每个任务运行一次后退出")
        parser.add_argument("--tick", type=int, default=30, help="检查间隔（秒）")

    def handle(self, *args, **options):
        last_run: dict[str, float] = {}
        while True:
            now = time.monotonic()
            for name, minutes in settings.SCHEDULED_COMMANDS.items():
                if options["once"] or now - last_run.get(name, -1e12) >= minutes * 60:
                    started = timezone.localtime()
                    self.stdout.write(f"[{started:%Y-%m-%d %H:%M:%S}] {name}")
                    try:
                        call_command(name, stdout=self.stdout, stderr=self.stderr)
                    except Exception as exc:  # keep the loop alive; the next tick retries
                        self.stderr.write(f"{name} 运行失败：{exc}")
                    last_run[name] = now
            if options["once"]:
                return
            time.sleep(options["tick"])
