"""The warnings API: rules (read, export, import with a dry run, create, edit), the scan, the
warning workflow through HTTP, scope (404/403), errors (409, 422 naming the field), the negative
list (JSON and Excel), lights and the board."""

import json
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from majorprojects.accounts.services import token_create
from majorprojects.alerts.engine import scan
from majorprojects.alerts.models import Rule, ScanRun, Warning

AFTER = date(2026, 11, 23)


class Caller:
    def __init__(self, client, key):
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/alerts{path}", params or {}, **self.auth)

    def post(self, path, body=None, params=""):
        return self.client.post(
            f"/api/alerts{path}{params}",
            data=json.dumps(body or {}),
            content_type="application/json",
            **self.auth,
        )

    def put(self, path, body):
        return self.client.put(
            f"/api/alerts{path}", data=json.dumps(body), content_type="application/json", **self.auth
        )


@pytest.fixture
def api(client, users):
    def as_account(name):
        _, key = token_create(actor=users[name], name="对接")
        return Caller(client, key)

    return as_account


@pytest.fixture
def lit(fake, rule_factory, projects, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: AFTER)
    rule = rule_factory(code="overdue", name="逾期未开工")
    fake.set(2026, 5, {projects["a"].pk: 1, projects["b"].pk: 4})
    scan(2026, 5, rules=[rule], today=AFTER)
    ScanRun.objects.create(year=2026, month=5)
    return {
        "rule": rule,
        "a": Warning.objects.get(project=projects["a"]),
        "b": Warning.objects.get(project=projects["b"]),
    }


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def errors(response):
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


def test_the_workflow_through_the_api(api, lit):
    county, owner, admin = api("linchuan"), api("owner_a"), api("admin")
    wid = lit["a"].pk
    detail = ok(owner.get(f"/warnings/{wid}"))
    assert detail["light"] == "yellow" and detail["evidence"]["yellow"] == "1"
    assert detail["actions"] == {
        "notify": False, "plan": True, "rectified": False, "strike_off": False, "reopen": False,
        "request_exemption": True, "decide_exemption": False,
    }  # fmt: skip
    detail = ok(county.post(f"/warnings/{wid}/notify", {"note": "请整改", "version": 1}))
    assert detail["status"] == "notified"
    assert (
        owner.post(f"/warnings/{wid}/plan", {"plan": "x", "deadline": "2026-12-31", "version": 1}).status_code
        == 409
    )
    detail = ok(
        owner.post(f"/warnings/{wid}/plan", {"plan": "加快手续", "deadline": "2026-12-31", "version": 2})
    )
    assert detail["status"] == "rectifying" and detail["deadline"] == "2026-12-31"
    detail = ok(owner.post(f"/warnings/{wid}/rectified", {"rectification": "已开工"}))
    assert owner.post(f"/warnings/{wid}/strike-off", {}).status_code == 403
    detail = ok(admin.post(f"/warnings/{wid}/strike-off", {"note": "核验属实"}))
    assert detail["status"] == "struck_off"
    assert [e["verb"] for e in detail["timeline"]] == [
        "warning_notify", "warning_plan", "warning_rectified", "warning_strike_off",
    ]  # fmt: skip
    detail = ok(admin.post(f"/warnings/{wid}/reopen", {"reason": "复查未开工"}))
    assert detail["status"] == "rectifying"


def test_exemption_through_the_api(api, lit):
    owner, admin = api("owner_a"), api("admin")
    wid = lit["a"].pk
    assert "body.until" in errors(
        owner.post(f"/warnings/{wid}/exemption", {"justification": "x", "until": "26-1"})
    )
    assert errors(owner.post(f"/warnings/{wid}/exemption", {"justification": "x", "until": "2026-13"})) == {
        "body.until": "月份格式应为 YYYY-MM，如 2026-10。"
    }
    detail = ok(owner.post(f"/warnings/{wid}/exemption", {"justification": "司法查封", "until": "2026-06"}))
    [exemption] = detail["exemptions"]
    assert (exemption["period_from"], exemption["period_to"], exemption["status"]) == (
        "2026-05",
        "2026-06",
        "requested",
    )
    assert api("qingshan").post(f"/exemptions/{exemption['id']}/decide", {"approve": True}).status_code == 404
    assert api("linchuan").post(f"/exemptions/{exemption['id']}/decide", {"approve": True}).status_code == 403
    assert ok(admin.post(f"/exemptions/{exemption['id']}/decide", {"approve": True}))["status"] == "approved"
    assert ok(owner.get(f"/warnings/{wid}"))["status"] == "exempted"


def test_scope_and_errors(api, lit):
    wid = lit["a"].pk
    assert api("qingshan").get(f"/warnings/{wid}").status_code == 404
    assert (
        api("jtj").post(f"/warnings/{wid}/plan", {"plan": "x", "deadline": "2026-12-31"}).status_code == 404
    )
    assert api("auditor").get("/warnings").status_code == 403
    assert api("leader").post(f"/warnings/{wid}/notify", {}).status_code == 403
    assert errors(api("owner_a").post(f"/warnings/{wid}/plan", {"plan": " ", "deadline": "2026-12-31"})) == {
        "body.plan": "请填写整改措施。"
    }
    assert errors(api("admin").get("/negative-list", {"period": "2026-5"})) == {
        "query.period": "月份格式应为 YYYY-MM，如 2026-10。"
    }
    assert errors(api("admin").get("/warnings", {"status": "lost"})) == {"query.status": "状态无效。"}


def test_warning_list_filters(api, lit, projects):
    admin = api("admin")
    assert ok(admin.get("/warnings"))["count"] == 2
    page = ok(admin.get("/warnings", {"period": "2026-05", "light": "red"}))
    assert [w["project_name"] for w in page["items"]] == ["青山县环城公路"]
    assert ok(admin.get("/warnings", {"region_id": projects["a"].region_id}))["count"] == 1
    assert ok(admin.get("/warnings", {"rule": "overdue", "status": "open"}))["count"] == 2
    assert ok(admin.get("/warnings", {"period": "2026-04"}))["count"] == 0
    assert ok(api("owner_a").get("/warnings"))["count"] == 1
    item = ok(admin.get("/warnings", {"light": "red"}))["items"][0]
    assert item["value"] == "4" and item["unit"] == "个"


def test_negative_list_lights_and_board(api, lit, projects):
    admin = api("admin")
    data = ok(admin.get("/negative-list"))
    assert data["period"] == "2026-05" and data["counts"]["projects"] == 2
    assert [s["region_name"] for s in data["sections"]] == ["临川区", "青山县"]
    response = admin.get("/negative-list.xlsx", {"period": "2026-05"})
    assert response.status_code == 200
    assert load_workbook(BytesIO(response.content))["负面清单"]["A1"].value == "2026年5月重点项目负面清单"
    ids = ",".join(str(p.pk) for p in projects.values())
    lights = ok(api("linchuan").get("/lights", {"project_ids": ids}))
    assert lights == {
        str(projects["a"].pk): "yellow",
        str(projects["zone"].pk): "green",
    }  # b is not linchuan's
    assert errors(admin.get("/lights", {"project_ids": "1,x"})) == {
        "query.project_ids": "项目 id 应为逗号分隔的整数。"
    }
    board = ok(admin.get("/board", {"period": "2026-05"}))
    assert {r["region_name"]: r["projects"]["red"] for r in board}["青山县"] == 1


def test_rules_through_the_api(api, fake, lit):
    admin, county = api("admin"), api("linchuan")
    rules = ok(county.get("/rules"))
    assert "overdue" in [r["code"] for r in rules]
    exported = ok(county.get("/rules/export"))
    assert exported["schema"] == "majorprojects.alerts/rules"
    assert county.post("/rules/import", exported).status_code == 403
    bad = {**exported, "rules": [{**exported["rules"][0], "red": "x"}]}
    report = ok(admin.post("/rules/import", bad))
    assert not report["ok"] and report["errors"][0]["field"] == "red"
    changed = {
        **exported,
        "rules": [{**r, "red": 9} if r["code"] == "overdue" else r for r in exported["rules"]],
    }
    report = ok(admin.post("/rules/import", changed, params="?dry_run=true"))
    assert report["ok"] and report["updated"] == ["overdue"] and report["dry_run"]
    assert Rule.objects.get(code="overdue").red_threshold == 3
    ok(admin.post("/rules/import", changed))
    assert Rule.objects.get(code="overdue").red_threshold == 9
    created = ok(
        admin.post("/rules", {"rule": {"code": "x1", "name": "新", "metric": "fake_high", "yellow": 1}})
    )
    assert created["version"] == 1
    assert (
        admin.put(f"/rules/{created['id']}", {"rule": {**created, "red": 4}, "version": 7}).status_code == 409
    )
    body = {k: v for k, v in created.items() if k not in ("id", "version")}
    assert ok(admin.put(f"/rules/{created['id']}", {"rule": {**body, "red": 4}, "version": 1}))["red"] == 4
    assert errors(
        admin.post("/rules", {"rule": {"code": "x2", "name": "新", "metric": "nope", "yellow": 1}})
    ) == {"body.metric": "规则（x2）“指标”：未知指标“nope”。"}
    metrics = {m["code"]: m for m in ok(county.get("/metrics"))}
    assert metrics["start_overdue_months"]["unit"] == "个月"


def test_scan_through_the_api(api, lit, fake, projects):
    assert api("linchuan").post("/scans", {"period": "2026-06"}).status_code == 403
    fake.set(2026, 6, {projects["a"].pk: 3})
    result = ok(api("admin").post("/scans", {"period": "2026-06"}))
    assert result["period"] == "2026-06" and result["created"] >= 1
    assert errors(api("admin").post("/scans", {"period": "2027-01"})) == {
        "body.period": "不能扫描尚未开始的月份。"
    }
