"""Rule files: the default set, round trips, every validation message, all-or-nothing imports,
the command."""

import copy
import json

import pytest
from django.core.management import CommandError, call_command

from majorprojects.alerts.defaults import DEFAULT_RULES, default_rule_file
from majorprojects.alerts.models import Rule
from majorprojects.alerts.rules import rules_export, rules_import, rules_validate
from majorprojects.audit.models import Event

pytestmark = pytest.mark.django_db


def good_rule(**changes):
    rule = {
        "code": "start-late",
        "name": "开工滞后",
        "subject": "project",
        "metric": "fake_high",
        "params": {"flag": "a"},
        "scope": {
            "lists": ["construction"],
            "levels": ["city"],
            "programmes": [],
            "regions": [],
            "stages": [],
        },
        "yellow": 1,
        "red": 3,
        "yellow_after": 1,
        "red_after": 3,
        "grace_days": 5,
        "grace_months": 1,
        "exemption": {"allowed": True, "approver": "county"},
        "years": {"from": 2026, "to": 2027},
        "active": True,
        "sort_order": 5,
        "description": "示例",
    }
    rule.update(changes)
    return rule


def file_of(*rules):
    return {"schema": "majorprojects.alerts/rules", "version": 1, "rules": list(rules)}


def test_the_migration_seeds_the_default_rule_set():
    assert set(Rule.objects.values_list("code", flat=True)) == {r["code"] for r in DEFAULT_RULES}
    assert rules_export() == default_rule_file()


def test_default_rules_use_real_metrics():
    cleaned, errors = rules_validate(default_rule_file())
    assert errors == [] and len(cleaned) == len(DEFAULT_RULES)


def test_round_trip(fake, admin_user):
    data = file_of(
        good_rule(), good_rule(code="gap", metric="fake_low", yellow=-10.5, red=-20, red_after=None)
    )
    report = rules_import(data, actor=admin_user)
    assert report.ok and report.created == ["start-late", "gap"]
    assert len(report.deactivated) == len(DEFAULT_RULES)
    exported = rules_export(Rule.objects.filter(is_active=True).order_by("sort_order", "code"))
    assert sorted(exported["rules"], key=lambda r: r["code"]) == sorted(
        data["rules"], key=lambda r: r["code"]
    )
    again = rules_import(rules_export(), actor=admin_user)
    assert again.ok and again.created == again.updated == again.deactivated == []
    assert Event.objects.filter(verb="alert_rules_import").count() == 2


def test_import_updates_by_code_and_dry_run_writes_nothing(fake, admin_user):
    rules_import(file_of(good_rule()), actor=admin_user)
    rule = Rule.objects.get(code="start-late")
    changed = file_of(good_rule(red=4))
    report = rules_import(changed, actor=admin_user, dry_run=True)
    assert report.updated == ["start-late"]
    rule.refresh_from_db()
    assert rule.red_threshold == 3 and rule.version == 1
    report = rules_import(changed, actor=admin_user)
    rule.refresh_from_db()
    assert rule.red_threshold == 4 and rule.version == 2


def _err(**changes):
    return good_rule(**changes)


def _without(key):
    rule = good_rule()
    del rule[key]
    return rule


INVALID = [
    (file_of(_err(metric="no_such")), "第1条规则（start-late）“指标”：未知指标“no_such”。"),
    (file_of(_err(metric="fake_region")), "指标“测试指标fake_region”适用于区域，与规则对象不符。"),
    (file_of(_err(params={"flag": "z"})), "参数“flag”（测试参数）取值 'z' 无效，可选：a、b。"),
    (file_of(_err(params={"other": 1})), "指标“测试指标fake_high”没有参数“other”。"),
    (file_of(_err(yellow="很多")), "“黄灯阈值”：应为数字。"),
    (file_of(_err(red=True)), "“红灯阈值”：应为数字。"),
    (file_of(_err(yellow=None, red=None)), "黄灯、红灯阈值至少填写一个。"),
    (file_of(_err(yellow=3, red=3)), "红灯阈值应大于黄灯阈值（指标“测试指标fake_high”越大越差）。"),
    (file_of(_err(metric="fake_low", yellow=-10, red=-5)), "红灯阈值应小于黄灯阈值"),
    (file_of(_err(scope={"lists": ["annual"]})), "库别代码“annual”无效"),
    (file_of(_err(scope={"levels": ["national"]})), "重点级别代码“national”无效"),
    (file_of(_err(scope={"programmes": ["lottery"]})), "资金类别代码“lottery”无效"),
    (file_of(_err(scope={"regions": ["999999"]})), "区划代码“999999”不存在。"),
    (file_of(_err(scope={"stages": ["dreaming"]})), "阶段代码“dreaming”无效"),
    (file_of(_err(scope={"owners": []})), "未知范围“owners”"),
    (
        file_of(good_rule(), good_rule(name="另一条")),
        "第2条规则（start-late）“规则代码”：规则代码与第1条重复。",
    ),
    (file_of(_err(code="Start Late")), "只能由小写字母、数字、连字符和下划线组成"),
    (file_of(_without("name")), "“规则名称”：必填"),
    (file_of(_err(subject="person")), "应为 project（项目）或 region（区域）。"),
    (file_of(_err(yellow_after=0)), "“连续几期亮黄灯”：应在 1 到 24 之间。"),
    (file_of(_err(red_after=1)), "“连续几期升红灯”：应在 2 到 24 之间。"),
    (file_of(_err(yellow_after=3, red_after=3)), "应大于“连续几期亮黄灯”。"),
    (file_of(_err(grace_days=-1)), "“宽限天数”：应在 0 到 90 之间。"),
    (file_of(_err(grace_months=12)), "应在 0 到 11 之间。"),
    (file_of(_err(exemption={"allowed": "yes"})), "“正当理由”：应为 true 或 false。"),
    (file_of(_err(exemption={"approver": "mayor"})), "应为 city（市级）或 county（县市区）。"),
    (file_of(_err(years={"from": 2027, "to": 2026})), "起始年度不能晚于截止年度。"),
    (file_of(_err(colour="red")), "未知字段“colour”。"),
    (file_of(_err(yellow="1.00001")), "最多 4 位小数。"),
    (file_of("not a rule"), "第1条规则：应为 JSON 对象。"),
    ({"schema": "other", "version": 1, "rules": []}, "不是预警规则文件"),
    ({"schema": "majorprojects.alerts/rules", "version": 9, "rules": []}, "规则文件版本应为 1。"),
    ({"schema": "majorprojects.alerts/rules", "version": 1}, "缺少规则列表 rules。"),
    ([], "规则文件应为 JSON 对象。"),
]


@pytest.mark.parametrize("data,message", INVALID)
def test_invalid_files_change_nothing(fake, admin_user, data, message):
    before = list(Rule.objects.order_by("pk").values())
    report = rules_import(copy.deepcopy(data), actor=admin_user)
    assert not report.ok
    assert any(message in e.as_dict()["message"] for e in report.errors), [str(e) for e in report.errors]
    assert list(Rule.objects.order_by("pk").values()) == before
    assert not Event.objects.filter(verb="alert_rules_import").exists()


def test_region_rules_take_only_regions_and_city_approval(fake, city, admin_user):
    data = file_of(
        good_rule(
            code="r",
            subject="region",
            metric="fake_region",
            yellow=-5,
            red=-10,
            params={},
            scope={"regions": ["431902"], "lists": ["construction"]},
            exemption={"allowed": True, "approver": "county"},
        )
    )
    messages = [str(e) for e in rules_validate(data)[1]]
    assert "第1条规则（r）“适用范围”：区域规则只能按区域限定范围。" in messages
    assert "第1条规则（r）“正当理由”：区域预警的正当理由只能由市级审批。" in messages


def test_every_error_is_listed(fake, admin_user):
    report = rules_import(file_of(_err(metric="no_such"), _err(code="b", yellow="x")), actor=admin_user)
    assert {(e.index, e.field) for e in report.errors} == {(1, "metric"), (2, "yellow")}


def test_command(fake, tmp_path, admin_user):
    path = tmp_path / "rules.json"
    call_command("alerts_rules", "export", str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == default_rule_file()
    data["rules"][0]["red"] = 0
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("alerts_rules", "validate", str(path))
    with pytest.raises(CommandError, match="未做任何修改"):
        call_command("alerts_rules", "import", str(path))
    data["rules"][0]["red"] = 6
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    call_command("alerts_rules", "import", str(path), "--dry-run")
    assert Rule.objects.get(code="start-overdue").red_threshold == 3
    call_command("alerts_rules", "import", str(path))
    assert Rule.objects.get(code="start-overdue").red_threshold == 6
    call_command("alerts_rules", "restore")
    assert Rule.objects.get(code="start-overdue").red_threshold == 3
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="不是有效的 JSON"):
        call_command("alerts_rules", "validate", str(path))


def test_the_worked_example_in_the_docs_is_valid(city):
    import re
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "docs" / "alerts.md").read_text(encoding="utf-8")
    example = text.split("### Worked example", 1)[1]
    data = json.loads(re.search(r"```json\n(.*?)```", example, re.S).group(1))
    cleaned, errors = rules_validate(data)
    assert errors == [] and len(cleaned) == 5
