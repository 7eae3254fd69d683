"""The rule pages: everyone who reads warnings reads the rules and exports the rule file; the
city admin edits a rule (errors under the fields, stale version), imports a rule file with a
dry run (the changes, or every error and nothing changed; invalid JSON) and restores the
defaults with the same preview. Others get 403."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from majorprojects.alerts.models import Rule
from majorprojects.alerts.rules import rules_export
from majorprojects.audit.models import Event

from .test_views import as_user, flash

pytestmark = pytest.mark.django_db

EDIT = {
    "code": "start-overdue-x",
    "name": "计划开工逾期（本市）",
    "subject": "project",
    "metric": "start_overdue_months",
    "params": "",
    "yellow": "1",
    "red": "3",
    "yellow_after": "1",
    "red_after": "",
    "grace_days": "0",
    "grace_months": "0",
    "scope_lists": ["construction"],
    "exemptable": "on",
    "exemption_approver": "city",
    "year_from": "",
    "year_to": "",
    "is_active": "on",
    "sort_order": "5",
    "description": "",
}


def upload(data, name="rules.json"):
    content = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return SimpleUploadedFile(name, content, content_type="application/json")


def snapshot():
    return list(Rule.objects.order_by("code").values_list("code", "name", "is_active", "version"))


@pytest.mark.parametrize("who", ["admin", "leader", "linchuan", "jtj", "owner_a"])
def test_everyone_reads_the_rules_and_exports_the_file(client, users, who):
    as_user(client, users[who])
    html = client.get("/alerts/rules/").content.decode()
    assert 'data-testid="rule-table"' in html and "计划开工" in html
    assert ("新增规则" in html) == (who == "admin")
    response = client.get("/alerts/rules/export.json")
    assert (
        response["Content-Type"].startswith("application/json")
        and "attachment" in response["Content-Disposition"]
    )
    data = json.loads(response.content)
    assert data["schema"] == "majorprojects.alerts/rules" and len(data["rules"]) == Rule.objects.count()


@pytest.mark.parametrize("who", ["leader", "linchuan", "jtj", "owner_a"])
def test_only_the_city_admin_changes_rules(client, users, who):
    rule = Rule.objects.first()
    as_user(client, users[who])
    assert client.get("/alerts/rules/new/").status_code == 403
    assert client.get(f"/alerts/rules/{rule.pk}/").status_code == 403
    assert client.post("/alerts/rules/new/", EDIT).status_code == 403
    assert client.get("/alerts/rules/import/").status_code == 403
    assert client.post("/alerts/rules/import/", {"file": upload(rules_export())}).status_code == 403
    assert client.get("/alerts/rules/restore/").status_code == 403
    assert client.post("/alerts/rules/restore/apply/").status_code == 403


def test_create_a_rule(client, users):
    response = as_user(client, users["admin"]).post("/alerts/rules/new/", EDIT, follow=True)
    assert "规则“计划开工逾期（本市）”已保存" in flash(response)
    rule = Rule.objects.get(code="start-overdue-x")
    assert rule.scope_lists == ["construction"] and rule.red_threshold == 3 and rule.exemptable
    assert Event.objects.filter(verb="alert_rule_create").exists()


def test_edit_a_rule_errors_under_the_fields(client, users):
    rule = Rule.objects.filter(metric="start_overdue_months").first()
    as_user(client, users["admin"])
    page = client.get(f"/alerts/rules/{rule.pk}/")
    assert page.context["form"].initial["code"] == rule.code
    data = {**EDIT, "code": rule.code, "version": rule.version, "yellow": "3", "red": "1"}
    response = client.post(f"/alerts/rules/{rule.pk}/", data)
    assert response.status_code == 200
    assert "红灯阈值应大于黄灯阈值" in response.context["form"].errors["red"][0]
    data = {**EDIT, "code": rule.code, "version": rule.version, "params": '{"nope": 1}'}
    response = client.post(f"/alerts/rules/{rule.pk}/", data)
    assert "没有参数“nope”" in response.context["form"].errors["params"][0]
    data = {**EDIT, "code": rule.code, "version": rule.version, "params": "{nope"}
    response = client.post(f"/alerts/rules/{rule.pk}/", data)
    assert response.context["form"].errors["params"] == [
        '不是有效的 JSON，如 {"programme": "special_bond"}。'
    ]
    assert Rule.objects.get(pk=rule.pk).version == rule.version


def test_edit_a_rule_with_a_stale_version(client, users):
    rule = Rule.objects.filter(metric="start_overdue_months").first()
    data = {**EDIT, "code": rule.code, "version": rule.version - 1 if rule.version > 1 else rule.version + 5}
    response = as_user(client, users["admin"]).post(f"/alerts/rules/{rule.pk}/", data)
    assert "该规则已被他人修改" in response.content.decode()


def test_edit_a_rule_saves(client, users):
    rule = Rule.objects.filter(metric="start_overdue_months").first()
    data = {**EDIT, "code": rule.code, "version": rule.version, "yellow": "2", "red": "4", "red_after": "3"}
    response = as_user(client, users["admin"]).post(f"/alerts/rules/{rule.pk}/", data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.yellow_threshold, rule.red_threshold, rule.red_after) == (2, 4, 3)


def test_a_missing_rule_is_404(client, users):
    assert as_user(client, users["admin"]).get("/alerts/rules/999999/").status_code == 404


def test_import_dry_run_shows_the_changes_then_confirm_imports(client, users):
    data = rules_export()
    data["rules"][0]["name"] = "改过的名称"
    data["rules"][0]["red"] = 9
    new = dict(data["rules"][0], code="my-new-rule", name="本市新增规则")
    data["rules"].append(new)
    dropped = data["rules"].pop(1)
    before = snapshot()
    as_user(client, users["admin"])
    response = client.post("/alerts/rules/import/", {"file": upload(data)})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="import-preview"' in html and "确认导入" in html
    assert "本市新增规则（my-new-rule）" in html and f"（{dropped['code']}）" in html
    updated = dict((c, f) for c, _, f in response.context["updated"])
    assert set(updated[data["rules"][0]["code"]]) == {"规则名称", "红灯阈值"}
    assert snapshot() == before  # a dry run writes nothing
    text = response.context["confirm_form"].initial["text"]
    response = client.post("/alerts/rules/import/", {"text": text}, follow=True)
    assert "规则文件已导入：新增 1 条、修改 1 条、停用 1 条" in flash(response)
    assert Rule.objects.get(code="my-new-rule").name == "本市新增规则"
    assert not Rule.objects.get(code=dropped["code"]).is_active


def test_an_invalid_rule_file_lists_every_error_and_changes_nothing(client, users):
    data = rules_export()
    data["rules"][0]["metric"] = "no_such_metric"
    data["rules"][1]["yellow_after"] = "三"
    before = snapshot()
    response = as_user(client, users["admin"]).post("/alerts/rules/import/", {"file": upload(data)})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="import-errors"' in html and "未做任何修改" in html
    assert "第1条规则" in html and "未知指标“no_such_metric”" in html and "第2条规则" in html
    assert "确认导入" not in html
    assert snapshot() == before


@pytest.mark.parametrize(
    "content,message",
    [
        (b"{not json", "规则文件不是有效的 JSON（第 1 行"),
        ("规则".encode("gbk"), "规则文件应为 UTF-8 编码的 JSON 文本。"),
        (b'{"rules": []}', "不是预警规则文件"),
    ],
)
def test_a_file_that_is_no_rule_file(client, users, content, message):
    before = snapshot()
    response = as_user(client, users["admin"]).post("/alerts/rules/import/", {"file": upload(content)})
    assert response.status_code == 200 and message in response.content.decode()
    assert snapshot() == before


def test_import_page_and_missing_file(client, users):
    as_user(client, users["admin"])
    assert 'data-testid="rule-import-form"' in client.get("/alerts/rules/import/").content.decode()
    response = client.post("/alerts/rules/import/", {})
    assert response.status_code == 200 and "file" in response.context["form"].errors


def test_a_tampered_confirm_is_refused(client, users):
    before = snapshot()
    response = as_user(client, users["admin"]).post(
        "/alerts/rules/import/", {"text": '{"schema": "x", "rules": 1}'}
    )
    assert response.status_code == 200 and "不是预警规则文件" in response.content.decode()
    assert snapshot() == before


def test_restore_defaults_previews_then_applies(client, users):
    rule = Rule.objects.order_by("sort_order").first()
    Rule.objects.filter(pk=rule.pk).update(name="被改过的规则")
    as_user(client, users["admin"])
    preview = client.get("/alerts/rules/restore/")
    html = preview.content.decode()
    assert "确认恢复默认规则" in html and f"（{rule.code}）：规则名称" in html
    assert Rule.objects.get(pk=rule.pk).name == "被改过的规则"
    response = client.post("/alerts/rules/restore/apply/", follow=True)
    assert "已恢复默认规则：新增 0 条、修改 1 条" in flash(response)
    assert Rule.objects.get(pk=rule.pk).name == rule.name


def test_restore_defaults_when_nothing_changed(client, users):
    html = as_user(client, users["admin"]).get("/alerts/rules/restore/").content.decode()
    assert "与现有规则完全相同，没有变化。" in html and "确认恢复默认规则" not in html
