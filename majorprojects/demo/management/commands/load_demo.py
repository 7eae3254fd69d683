"""`manage.py load_demo`: fill an empty database with the demo city 云江市."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from majorprojects.demo.builder import build_demo, clear_demo, demo_exists
from majorprojects.projects.models import Project

YI = 10000


class Command(BaseCommand):
    help = "载入演示数据：虚构的云江市（10 个县市区和园区、25 个市直部门、约 640 个项目、各角色演示账号）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--projects", type=int, default=640, help="项目数（含打包项目及其子项目），默认 640"
        )
        parser.add_argument("--seed", type=int, default=2026, help="随机种子，相同种子生成相同数据")
        parser.add_argument(
            "--if-empty", action="store_true", help="已有项目或演示数据时什么也不做（供 make run 使用）"
        )
        parser.add_argument("--reset", action="store_true", help="先删除已有的演示数据再重建")

    def handle(self, *args, projects, seed, if_empty, reset, **options):
        if projects < 1:
            raise CommandError("--projects 至少为 1。")
        has_data = Project.objects.exists() or demo_exists()
        if if_empty and has_data:
            self.stdout.write("数据库中已有数据，未载入演示数据。")
            return
        if has_data and not reset:
            raise CommandError("数据库中已有数据。如需删除演示数据并重建，请加 --reset。")
        started = time.monotonic()
        with transaction.atomic():
            if reset:
                clear_demo()
                if Project.objects.exists():
                    raise CommandError("删除演示数据后仍有其他项目，为避免混入演示数据，未重建。")
            counts = build_demo(projects=projects, seed=seed)
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"已载入演示数据（{seconds:.1f} 秒）：云江市 {counts['regions']} 个县市区和园区、"
                f"{counts['departments']} 个市直部门、{counts['units']} 个单位、{counts['people']} 名人员、"
                f"{counts['work_groups']} 个专班；项目 {counts['projects']} 个（打包项目 {counts['packages']} 个，"
                f"子项目 {counts['sub_projects']} 个），总投资 {counts['total_investment'] / YI:,.1f} 亿元，"
                f"{counts['year']} 年计划投资 {counts['planned_investment'] / YI:,.1f} 亿元；"
                f"年度清单 {counts['listings']} 条，专项活动 {counts['campaigns']} 个；演示账号 {counts['accounts']} 个。"
            )
        )
        history = counts.get("dispatch")
        if history:
            self.stdout.write(
                f"调度历史（其中用时 {history['seconds']:.1f} 秒）：{history['first']}至{history['last']}共 "
                f"{history['months']} 个月，调度报表 {history['reports']} 份（月报 {history['monthly']}、"
                f"季报 {history['quarterly']}、周报 {history['weekly']}），迟报 {history['late']} 份、"
                f"缺报 {history['missing']} 份、退回待修改 {history['returned']} 份，更正申请 {history['corrections']} 份；"
                f"{history['current_label']}已开启，应报月报 {history['current']} 份。"
            )
        ledgers = counts.get("ledgers")
        if ledgers:
            approvals, funds, problems = ledgers["approvals"], ledgers["funds"], ledgers["problems"]
            self.stdout.write(
                f"台账（其中用时 {ledgers['seconds']:.1f} 秒）：前期工作台账 {approvals['projects']} 个项目 "
                f"{approvals['items']} 项；资金下达 {funds['allocations']} 笔、到位/拨付/支付 {funds['movements']} 笔、"
                f"贷款 {funds['loans']} 笔；问题台账 {problems['problems']} 条（逾期通报 {problems['notices']} 次）。"
            )
            warnings = ledgers.get("warnings")
            if warnings:
                self.stdout.write(
                    f"预警：最近一个月红灯 {warnings['red']} 个、黄灯 {warnings['yellow']} 个；"
                    f"已下发 {warnings['notified']}、整改中 {warnings['planned']}、已整改 {warnings['rectified']}、"
                    f"已销号 {warnings['struck_off']}、豁免 {warnings['exempted']}。"
                )
        self.stdout.write("演示账号见 `python manage.py demo_logins`。")
