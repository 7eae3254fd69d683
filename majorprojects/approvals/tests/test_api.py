"""The approvals API: reading ledgers, templates and lists in scope; changing items (owner,
county, department, city admin) with version checks and Chinese field errors; 404 outside
scope, 403 for readers and for template edits by anyone but the city admin; export and import."""

import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from majorprojects.accounts.services import token_create
from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.projects.models import FundingSource, ProjectFunding

from .conftest import item

pytestmark = pytest.mark.django_db

BASE = "/api/approvals"


class Caller:
    def __init__(self, client, key):
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(BASE + path, params or {}, **self.auth)

    def send(self, method, path, body=None):
        data = "" if body is None else json.dumps(body)
        return getattr(self.client, method)(
            BASE + path, data=data, content_type="application/json", **self.auth
        )


@pytest.fixture
def api(client, users):
    def as_account(name):
        _, key = token_create(actor=users[name], name="对接")
        return Caller(client, key)

    return as_account


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def field_errors(response) -> dict:
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


def test_project_ledger(ledgers, api):
    body = ok(api("owner_a").get(f"/projects/{ledgers['a'].pk}"))
    assert body["summary"]["total"] == 13 and body["summary"]["done"] == 0
    assert body["rows"][0]["item"]["item_type"]["name"] == "项目建议书"
    assert body["rows"][0]["item"]["status_label"] == "未启动"
    assert api("qingshan").get(f"/projects/{ledgers['a'].pk}").status_code == 404
    assert api("auditor").get(f"/projects/{ledgers['a'].pk}").status_code == 403


def test_update_item(ledgers, api, city):
    it = item(ledgers["a"], "feasibility")
    body = ok(
        api("owner_a").send(
            "patch",
            f"/items/{it.pk}",
            {
                "version": 1,
                "status": "done",
                "actual_date": "2026-10-12",
                "document_number": "云发改审批〔2026〕88号",
                "responsible_unit_id": city["owner_a"].pk,
            },
        )
    )
    assert (
        body["status"] == "done"
        and body["version"] == 2
        and body["responsible_unit"]["name"] == "临川建设投资有限公司"
    )
    stale = api("linchuan").send("patch", f"/items/{it.pk}", {"version": 1, "note": "x"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]


def test_update_item_bad_input(ledgers, api):
    it = item(ledgers["a"], "feasibility")
    errors = field_errors(
        api("owner_a").send(
            "patch", f"/items/{it.pk}", {"version": 1, "status": "done", "actual_date": "2026-12-01"}
        )
    )
    assert errors == {
        "body.actual_date": "实际办结日期不能晚于今天。",
        "body.document_number": "已办结的事项须填写批复文号。",
    }
    errors = field_errors(api("owner_a").send("patch", f"/items/{it.pk}", {"version": 1, "status": "passed"}))
    assert "请选择以下之一" in errors["body.status"]
    errors = field_errors(
        api("owner_a").send("patch", f"/items/{it.pk}", {"version": 1, "responsible_unit_id": 99999})
    )
    assert errors == {"body.responsible_unit_id": "单位不存在。"}
    assert ApprovalItem.objects.get(pk=it.pk).version == 1


@pytest.mark.parametrize(
    ("who", "status"), [("qingshan", 404), ("leader", 403), ("auditor", 403), ("jtj", 404)]
)
def test_update_item_outside_scope_or_read_only(ledgers, api, who, status):
    it = item(ledgers["a"], "feasibility")
    response = api(who).send("patch", f"/items/{it.pk}", {"version": 1, "status": "in_progress"})
    assert response.status_code == status


def test_department_changes_what_it_governs(ledgers, api):
    it = item(ledgers["b"], "eia")
    assert ok(api("jtj").send("patch", f"/items/{it.pk}", {"version": 1, "status": "in_progress"}))[
        "status"
    ] == ("in_progress")


def test_not_applicable_promise_and_papers(ledgers, api):
    it = item(ledgers["a"], "proposal")
    errors = field_errors(
        api("owner_a").send("post", f"/items/{it.pk}/not-applicable", {"version": 1, "reason": ""})
    )
    assert errors == {"body.not_applicable_reason": "标记为“不涉及”须填写原因。"}
    assert ok(
        api("owner_a").send("post", f"/items/{it.pk}/not-applicable", {"version": 1, "reason": "已列入规划"})
    )["status"] == ("not_applicable")
    eia = item(ledgers["a"], "eia")
    body = ok(
        api("linchuan").send(
            "post",
            f"/items/{eia.pk}/promise",
            {"version": 1, "approved_on": "2026-09-25", "promise_workdays": 20},
        )
    )
    assert body["status"] == "promised" and body["promise_due_date"] == "2026-10-29"
    papers = {"version": 2, "on_date": "2026-10-20"}
    errors = field_errors(api("linchuan").send("post", f"/items/{eia.pk}/papers-supplied", papers))
    assert errors == {"body.document_number": "已办结的事项须填写批复文号。"}
    papers["document_number"] = "云环审〔2026〕9号"
    body = ok(api("linchuan").send("post", f"/items/{eia.pk}/papers-supplied", papers))
    assert body["status"] == "done" and body["papers_supplied_date"] == "2026-10-20"


def test_apply_templates(ledgers, api):
    ApprovalItem.objects.filter(project=ledgers["a"], item_type__code="eia").delete()
    body = ok(api("owner_a").send("post", f"/projects/{ledgers['a'].pk}/apply-templates"))
    assert body["summary"]["total"] == 13
    assert api("leader").send("post", f"/projects/{ledgers['a'].pk}/apply-templates").status_code == 403
    assert api("qingshan").send("post", f"/projects/{ledgers['a'].pk}/apply-templates").status_code == 404


def test_templates_and_item_types(ledgers, api):
    body = ok(api("owner_a").get("/templates"))
    assert [t["regime_label"] for t in body] == ["审批类", "核准类", "备案类"]
    types = {t["code"]: t for t in ok(api("leader").get("/item-types"))}
    assert types["construction_permit"]["validity_months"] == 3
    bidding = types["bidding"]["id"]
    assert (
        api("linchuan").send("post", "/templates/filing/items", {"item_type_id": bidding}).status_code == 403
    )
    body = ok(api("admin").send("post", "/templates/filing/items", {"item_type_id": bidding, "position": 1}))
    assert body["items"][0]["item_type"]["name"] == "招标"
    ids = [e["item_type"]["id"] for e in body["items"]]
    body = ok(api("admin").send("put", "/templates/filing/order", {"item_type_ids": ids[::-1]}))
    assert body["items"][-1]["item_type"]["name"] == "招标"
    body = ok(api("admin").send("delete", f"/templates/filing/items/{bidding}"))
    assert "招标" not in [e["item_type"]["name"] for e in body["items"]]
    assert api("admin").send("post", "/templates/nope/items", {"item_type_id": bidding}).status_code == 404
    eia = types["eia"]
    update = {
        k: eia[k] for k in ("code", "name", "approving_body", "used_when", "warn_days", "basis", "sort_order")
    }
    assert (
        api("jtj").send("put", f"/item-types/{eia['id']}", {**update, "validity_months": 48}).status_code
        == 403
    )
    assert (
        ok(api("admin").send("put", f"/item-types/{eia['id']}", {**update, "validity_months": 48}))[
            "validity_months"
        ]
        == 48
    )


def test_matrix_overdue_and_readiness(ledgers, api, city):
    a = ledgers["a"]
    ApprovalItem.objects.filter(project=a, item_type__code="eia").update(
        status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 11, 1)
    )
    matrix = ok(api("admin").get("/matrix", {"by": "item_type"}))
    assert matrix["totals"]["total"] == 24 and matrix["totals"]["overdue"] == 1
    assert ok(api("qingshan").get("/matrix", {"by": "region"}))["totals"]["total"] == 11
    assert ok(api("admin").get("/matrix", {"region_id": city["qingshan"].pk}))["totals"]["total"] == 11
    assert field_errors(api("admin").get("/matrix", {"region_id": 99999})) == {
        "query.region_id": "区域不存在。"
    }
    rows = ok(api("linchuan").get("/overdue"))
    assert [
        (r["project"]["name"], r["item"]["item_type"]["name"], r["flags"]["overdue_days"]) for r in rows
    ] == [("临川新材料产业园", "环评批复", 22)]
    assert ok(api("qingshan").get("/overdue")) == []
    start = ok(api("admin").get("/readiness/start"))
    assert start["rules"] == ["具备开工条件"] and start["ready"] == 0 and start["count"] == 3
    ProjectFunding.objects.create(project=a, source=FundingSource.SPECIAL_BOND, amount=Decimal("1000"))
    bond = ok(api("admin").get("/readiness/funding", {"programme": "special_bond"}))
    assert bond["rules"] == ["专项债券储备项目须完成招标"]
    assert bond["rows"][0]["missing"][0]["name"] == "招标"
    assert (
        "请选择以下之一"
        in field_errors(api("admin").get("/readiness/funding", {"programme": "gold"}))["query.programme"]
    )


def test_export_and_import(ledgers, api, client, users):
    response = api("owner_a").get("/export.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet.max_row == 2 + 13 + 0  # a only: the zone project has no ledger
    headers = [c.value for c in sheet[2]]
    for r in range(3, sheet.max_row + 1):
        if sheet.cell(r, headers.index("审批事项") + 1).value == "招标":
            sheet.cell(r, headers.index("办理状态") + 1).value = "办理中"
    buffer = io.BytesIO()
    book.save(buffer)
    caller = api("owner_a")
    upload = {"file": _file(buffer.getvalue())}
    body = ok(caller.client.post(BASE + "/import", upload, **caller.auth))
    assert body == {"updated": 1, "unchanged": 12}
    assert item(ledgers["a"], "bidding").status == ItemStatus.IN_PROGRESS
    bad = caller.client.post(BASE + "/import", {"file": _file(b"nope", "x.xlsx")}, **caller.auth)
    assert bad.status_code == 422 and "不是有效的 Excel" in bad.json()["detail"][0]["msg"]
    leader = api("leader")
    assert (
        leader.client.post(BASE + "/import", {"file": _file(buffer.getvalue())}, **leader.auth).status_code
        == 403
    )


def _file(content, name="台账.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
