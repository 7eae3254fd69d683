"""Lock a period from the command line (the city usually does it on the period page)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from majorprojects.accounts.models import Role, User
from majorprojects.reporting.models import Period
from majorprojects.reporting.services import period_lock


class Command(BaseCommand):
    help = "锁定调度期次（市级管理员）。"

    def add_arguments(self, parser):
        parser.add_argument("period", type=int, help="期次编号（ID）")
        parser.add_argument("--user", required=True, help="执行锁定的市级管理员账号")

    def handle(self, *args, **options):
        try:
            period = Period.objects.get(pk=options["period"])
            actor = User.objects.get(username=options["user"], role=Role.CITY_ADMIN, is_active=True)
        except Period.DoesNotExist:
            raise CommandError("没有这个调度期次。")
        except User.DoesNotExist:
            raise CommandError("没有这个市级管理员账号。")
        try:
            counts = period_lock(actor=actor, period=period)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages))
        self.stdout.write(
            f"{period.label}已锁定：锁定报表 {counts['locked']} 份，未报送 {counts['missing']} 份。"
        )
