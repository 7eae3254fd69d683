"""`manage.py export_projects --out F.xlsx [--year Y] [--region CODE]`: the project ledger as the list
page exports it (same columns, amounts as numbers in 万元), for all projects or one region's subtree."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from majorprojects.organisation.models import Region
from majorprojects.projects import exports, selectors
from majorprojects.projects.filters import current_year
from majorprojects.projects.models import Project


class Command(BaseCommand):
    help = "导出项目台账（.xlsx），列与项目库“导出当前结果”相同，可再导入。"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="输出文件（.xlsx）")
        parser.add_argument("--year", type=int, help="年度清单的年度，默认今年")
        parser.add_argument("--region", help="只导出该区域（6 位区划代码）及其下级区域的项目")

    def handle(self, *args, out, year, region, **options):
        year = year or current_year()
        qs = Project.objects.all()
        title = f"{year}年项目清单"
        if region:
            try:
                area = Region.objects.get(code=region)
            except Region.DoesNotExist:
                raise CommandError(f"没有区划代码为 {region} 的区域。")
            qs = qs.filter(region__path__startswith=area.path)
            title = f"{area.name}{year}年项目清单"
        path = Path(out)
        if path.suffix.lower() != ".xlsx":
            raise CommandError("输出文件须以 .xlsx 结尾。")
        totals = selectors.project_totals(qs, year)
        path.write_bytes(
            exports.projects_xlsx(selectors.export_rows(qs, year), year=year, title=title, totals=totals)
        )
        self.stdout.write(self.style.SUCCESS(f"已导出 {totals['count']} 个项目到 {path}。"))
