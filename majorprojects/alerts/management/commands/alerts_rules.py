"""Rule files from the command line: export the rule set, validate or import a file (all or
nothing), or restore the shipped defaults. Schema: docs/alerts.md."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from majorprojects.alerts.defaults import default_rule_file
from majorprojects.alerts.rules import rules_export, rules_import, rules_validate


class Command(BaseCommand):
    help = "预警规则文件：export 导出、validate 校验、import 导入（--dry-run 只校验不写入）、restore 恢复默认规则。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "validate", "import", "restore"])
        parser.add_argument("file", nargs="?", help="JSON 规则文件；export 时省略则输出到屏幕")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告将发生的变化，不写入")

    def handle(self, *args, **options):
        action, path = options["action"], options["file"]
        if action == "export":
            text = json.dumps(rules_export(), ensure_ascii=False, indent=2)
            if path:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text + "\n")
                self.stdout.write(f"已导出到 {path}")
            else:
                self.stdout.write(text)
            return
        if action == "restore":
            data = default_rule_file()
        else:
            if not path:
                raise CommandError("请指定规则文件。")
            data = self._read(path)
        if action == "validate":
            _, errors = rules_validate(data)
            self._fail(errors)
            self.stdout.write("规则文件有效。")
            return
        report = rules_import(data, actor=None, dry_run=options["dry_run"])
        self._fail(report.errors)
        prefix = "（试运行，未写入）" if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}新增 {len(report.created)} 条，更新 {len(report.updated)} 条，未变 {len(report.unchanged)} 条，"
            f"停用 {len(report.deactivated)} 条。"
        )
        for label, codes in (
            ("新增", report.created),
            ("更新", report.updated),
            ("停用", report.deactivated),
        ):
            if codes:
                self.stdout.write(f"  {label}：{'、'.join(codes)}")

    def _read(self, path: str):
        try:
            with open(path, encoding="utf-8-sig") as f:
                return json.load(f)
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"规则文件不是有效的 JSON：{exc}")

    def _fail(self, errors) -> None:
        if errors:
            for error in errors:
                sys.stderr.write(f"{error}\n")
            raise CommandError(f"规则文件有 {len(errors)} 处错误，未做任何修改。")
