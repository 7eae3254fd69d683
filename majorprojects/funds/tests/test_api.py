"""The funds API for owner, county, department, outsider, leader, auditor and city admin: reads
scoped like the pages, changes through the services (Chinese field errors, 409 on stale
versions, nothing written on refusal), figures as in test_selectors, exports readable."""

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook

from majorprojects.accounts.services import token_create
from majorprojects.funds.models import Allocation, Loan, Movement


class Caller:
    def __init__(self, client, key):
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/funds{path}", params or {}, **self.auth)

    def send(self, method, path, body=None):
        data = "" if body is None else json.dumps(body)
        return getattr(self.client, method)(
            f"/api/funds{path}", data=data, content_type="application/json", **self.auth
        )


@pytest.fixture
def api(client, users):
    def as_account(name):
        _, key = token_create(actor=users[name], name="对接")
        return Caller(client, key)

    return as_account


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def test_programmes_listed_and_edited_by_the_city_admin(api, progs):
    rows = ok(api("owner_a").get("/programmes"))
    assert [r["name"] for r in rows][:3] == ["中央预算内投资", "超长期特别国债", "地方政府专项债券"]
    special = next(r for r in rows if r["code"] == "special_bond")
    assert (special["funding_source"], special["window_months"], special["level_label"]) == (
        "special_bond",
        12,
        "省级",
    )
    path = f"/programmes/{special['id']}"
    assert api("linchuan").send("patch", path, {"version": 1, "window_months": 6}).status_code == 403
    body = ok(api("admin").send("patch", path, {"version": 1, "window_months": 6, "idle_months": None}))
    assert (body["window_months"], body["idle_months"], body["version"]) == (6, None, 2)
    assert api("admin").send("patch", path, {"version": 1, "window_months": 9}).status_code == 409
    assert api("auditor").get("/programmes").status_code == 403


def test_allocation_create_read_update(api, projects, progs):
    body = {
        "project_id": projects["a"].pk,
        "programme": "central_budget",
        "document_no": "发改投资〔2026〕101号",
        "issued_on": "2026-05-10",
        "amount": "1200",
        "batch": "2026年第一批",
    }
    created = ok(api("linchuan").send("post", "/allocations", body), 201)
    assert (created["amount"], created["rate"], created["programme"]["code"], created["movements"]) == (
        "1200.00",
        "0.0",
        "central_budget",
        [],
    )
    pk = created["id"]
    owner = api("owner_a")
    ok(
        owner.send(
            "post",
            f"/allocations/{pk}/movements",
            {"kind": "payment", "on_date": "2026-06-15", "amount": 300},
        ),
        201,
    )
    ok(
        owner.send(
            "post",
            f"/allocations/{pk}/movements",
            {"kind": "payment", "on_date": "2026-08-01", "amount": "150"},
        ),
        201,
    )
    detail = ok(owner.get(f"/allocations/{pk}"))
    assert (
        detail["paid"],
        detail["rate"],
        detail["pace"]["expected"],
        detail["pace"]["gap_pp"],
        detail["pace"]["behind"],
    ) == (
        "450.00",
        "37.5",
        "600.00",
        "-12.5",
        True,
    )
    assert [m["kind_label"] for m in detail["movements"]] == ["支付", "支付"]
    updated = ok(
        api("admin").send(
            "patch", f"/allocations/{pk}", {"version": 1, "batch": "第二批", "amount": "0.15亿"}
        )
    )
    assert (updated["batch"], updated["amount"], updated["version"]) == ("第二批", "1500.00", 2)
    stale = api("linchuan").send("patch", f"/allocations/{pk}", {"version": 1, "amount": "1300"})
    assert stale.status_code == 409
    assert stale.json() == {"detail": "该记录已被他人修改，请刷新页面后重新编辑。"}
    assert Allocation.objects.get(pk=pk).amount == 1500


def test_bad_input_gives_field_errors_and_writes_nothing(api, projects, progs):
    admin = api("admin")
    body = {
        "project_id": projects["a"].pk,
        "programme": "central_budget",
        "document_no": "X1",
        "issued_on": "2026-05-10",
        "amount": "-5",
    }
    response = admin.send("post", "/allocations", body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "amount"], "msg": "下达金额不能为负数。", "type": "invalid"}
    ]
    response = admin.send("post", "/allocations", {**body, "programme": "nope", "amount": "5"})
    assert response.json()["detail"][0]["msg"] == "没有代码为“nope”的资金渠道。"
    response = admin.send("post", "/allocations", {**body, "issued_on": "2026-13-01", "amount": "5"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "issued_on"]
    pk = ok(admin.send("post", "/allocations", {**body, "amount": "100"}), 201)["id"]
    duplicate = admin.send("post", "/allocations", {**body, "amount": "50"})
    assert duplicate.json()["detail"][0] == {
        "loc": ["body", "document_no"],
        "msg": "下达文号“X1”已在本项目的中央预算内投资中登记，不能重复登记。",
        "type": "invalid",
    }
    over = admin.send(
        "post",
        f"/allocations/{pk}/movements",
        {"kind": "payment", "on_date": "2026-06-01", "amount": "100.01"},
    )
    assert over.status_code == 422 and over.json()["detail"][0]["loc"] == ["body", "amount"]
    early = admin.send(
        "post", f"/allocations/{pk}/movements", {"kind": "arrival", "on_date": "2026-05-09", "amount": "1"}
    )
    assert early.json()["detail"][0]["msg"] == "到位日期不能早于下达日期 2026-05-10。"
    assert (Allocation.objects.count(), Movement.objects.count()) == (1, 0)


def test_allocation_scope_and_roles(api, ledger):
    a1 = ledger["a1"].pk
    assert api("qingshan").get(f"/allocations/{a1}").status_code == 404
    assert api("jtj").get(f"/allocations/{a1}").status_code == 404
    assert ok(api("leader").get(f"/allocations/{a1}"))["id"] == a1
    assert api("auditor").get(f"/allocations/{a1}").status_code == 403
    patch = {"version": 1, "batch": "x"}
    assert api("owner_a").send("patch", f"/allocations/{a1}", patch).status_code == 403
    assert api("leader").send("patch", f"/allocations/{a1}", patch).status_code == 403
    assert api("qingshan").send("patch", f"/allocations/{a1}", patch).status_code == 404
    move = {"kind": "payment", "on_date": "2026-11-01", "amount": "1"}
    assert api("leader").send("post", f"/allocations/{a1}/movements", move).status_code == 403
    assert api("qingshan").send("post", f"/allocations/{a1}/movements", move).status_code == 404
    listing = ok(api("qingshan").get("/allocations"))
    assert listing["count"] == 2 and {i["project"]["name"] for i in listing["items"]} == {"青山县环城公路"}
    assert ok(api("admin").get("/allocations", {"programme": "central_budget"}))["count"] == 2
    create = {
        "project_id": ledger["a1"].project_id,
        "programme": "city",
        "document_no": "Z",
        "issued_on": "2026-01-01",
        "amount": 1,
    }
    assert api("qingshan").send("post", "/allocations", create).status_code == 404
    assert api("owner_a").send("post", "/allocations", create).status_code == 403


def test_movement_delete(api, ledger):
    movement = Movement.objects.filter(allocation=ledger["a1"], kind="payment").first()
    assert api("qingshan").send("delete", f"/movements/{movement.pk}").status_code == 404
    assert api("leader").send("delete", f"/movements/{movement.pk}").status_code == 403
    # entered by the city admin: the project unit may not delete it, the county may
    assert api("owner_a").send("delete", f"/movements/{movement.pk}").status_code == 403
    assert api("linchuan").send("delete", f"/movements/{movement.pk}").status_code == 204
    assert not Movement.objects.filter(pk=movement.pk).exists()


def test_allocation_delete(api, ledger):
    a3 = ledger["a3"]
    assert api("owner_a").send("delete", f"/allocations/{a3.pk}?version=1").status_code == 403
    assert api("linchuan").send("delete", f"/allocations/{a3.pk}?version=1").status_code == 204
    assert api("admin").send("delete", f"/allocations/{ledger['a1'].pk}?version=1").status_code == 422


def test_overview_and_at_risk(api, ledger):
    """As in test_selectors: total 4500 / 1950 → 43.3%; 临川区 1700 / 450; a1 at risk."""
    body = ok(api("admin").get("/overview"))
    assert (body["total"]["allocated"], body["total"]["paid"], body["total"]["rate"]) == (
        "4500.00",
        "1950.00",
        "43.3",
    )
    assert [r["label"] for r in body["rows"]] == ["中央预算内投资", "地方政府专项债券", "市级资金"]
    assert body["rows"][0]["behind_gap"] == "216.67"
    regions = ok(api("admin").get("/overview", {"by": "region"}))["rows"]
    assert [(r["label"], r["rate"]) for r in regions] == [("临川区", "26.5"), ("青山县", "53.6")]
    assert ok(api("jtj").get("/overview", {"by": "department"}))["total"]["allocated"] == "2800.00"
    assert api("admin").get("/overview", {"by": "nope"}).status_code == 422
    risks = ok(api("linchuan").get("/at-risk"))
    assert [(r["allocation"]["id"], r["allocation"]["unpaid"], r["not_started"]) for r in risks] == [
        (ledger["a1"].pk, "750.00", True)
    ]
    assert ok(api("qingshan").get("/at-risk")) == []
    assert ok(api("admin").get("/at-risk", {"as_of": "2026-10-31"})) == []


def test_project_funds(api, ledger, projects):
    body = ok(api("owner_a").get(f"/projects/{projects['a'].pk}"))
    assert (body["project"]["name"], body["total"]["rate"], len(body["allocations"])) == (
        "临川新材料产业园",
        "37.5",
        1,
    )
    assert len(body["allocations"][0]["movements"]) == 4
    assert body["at_risk"][0]["reasons"][0] == "下达后 6 个月（2026-11-10）仍未开工"
    assert body["loans_total"]["loans"] == 0
    assert api("owner_a").get(f"/projects/{projects['b'].pk}").status_code == 404


def test_loans(api, projects, progs):
    owner = api("owner_a")
    body = {
        "project_id": projects["a"].pk,
        "programme": "mid_long_loan",
        "bank": "国家开发银行",
        "signed_on": "2026-04-01",
        "amount_signed": "3000",
        "subsidy_applied": "60",
    }
    loan = ok(owner.send("post", "/loans", body), 201)
    assert (loan["amount_signed"], loan["programme"]["code"], loan["released"]) == (
        "3000.00",
        "mid_long_loan",
        "0.00",
    )
    assert owner.send("post", "/loans", {**body, "subsidy_granted": "10"}).status_code == 403
    assert Loan.objects.count() == 1
    ok(owner.send("post", f"/loans/{loan['id']}/releases", {"on_date": "2026-04-10", "amount": 1200}), 201)
    over = owner.send("post", f"/loans/{loan['id']}/releases", {"on_date": "2026-04-11", "amount": 1800.01})
    assert over.status_code == 422
    granted = ok(
        api("linchuan").send("patch", f"/loans/{loan['id']}", {"version": 1, "subsidy_granted": "40"})
    )
    assert (granted["subsidy_granted"], granted["released"], granted["release_rate"]) == (
        "40.00",
        "1200.00",
        "40.0",
    )
    assert owner.send("patch", f"/loans/{loan['id']}", {"version": 1, "note": "x"}).status_code == 409
    assert [row["bank"] for row in ok(owner.get("/loans"))] == ["国家开发银行"]
    assert ok(api("qingshan").get("/loans")) == []
    assert (
        api("qingshan").send("patch", f"/loans/{loan['id']}", {"version": 2, "note": "x"}).status_code == 404
    )
    release_id = granted["releases"][0]["id"]
    assert api("leader").send("delete", f"/releases/{release_id}").status_code == 403
    assert owner.send("delete", f"/releases/{release_id}").status_code == 204


def test_confirm_reported_payments(api, users, projects, progs):
    from majorprojects.funds.services import allocation_create

    allocation_create(
        actor=users["admin"],
        project=projects["a"],
        programme=progs["central_budget"],
        document_no="X",
        issued_on=date(2026, 3, 1),
        amount="1000",
    )
    body = ok(
        api("owner_a").send(
            "post", f"/projects/{projects['a'].pk}/confirm-reported", {"programme": "central_budget"}
        )
    )
    assert body == {"created": [], "skipped": []}
    assert (
        api("leader")
        .send("post", f"/projects/{projects['a'].pk}/confirm-reported", {"programme": "central_budget"})
        .status_code
        == 403
    )


def _sheet(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def test_exports(api, ledger, projects):
    projects["a"].name = '=HYPERLINK("x")临川'
    projects["a"].save(update_fields=["name"])
    book = _sheet(api("admin").get("/export/overview.xlsx"))
    assert book.sheetnames == ["按资金渠道", "按区域"]
    rows = list(book["按资金渠道"].iter_rows(min_row=4, values_only=True))
    assert rows[0][:4] == ("中央预算内投资", 2, 2, 2000)
    assert rows[-1][0] == "合计" and rows[-1][3] == 4500 and rows[-1][8] == pytest.approx(43.3)
    ledger_book = _sheet(api("linchuan").get("/export/allocations.xlsx"))
    lines = list(ledger_book.active.iter_rows(min_row=4, values_only=True))
    assert len(lines) == 2  # the county sees a and zone only
    assert lines[0][1] == '\'=HYPERLINK("x")临川'  # never a formula
    assert lines[0][10] == 450 and lines[0][11] == pytest.approx(37.5)
    risk = _sheet(api("admin").get("/export/at-risk.xlsx"))
    risk_rows = list(risk.active.iter_rows(min_row=4, values_only=True))
    assert len(risk_rows) == 1 and risk_rows[0][-1].startswith("下达后 6 个月")
    assert api("auditor").get("/export/allocations.xlsx").status_code == 403


def test_list_pages_keep_their_query_counts(api, ledger, django_assert_max_num_queries):
    caller = api("linchuan")
    with django_assert_max_num_queries(10):
        assert ok(caller.get("/allocations"))["count"] == 2
    with django_assert_max_num_queries(10):
        ok(caller.get("/overview", {"by": "region"}))
    with django_assert_max_num_queries(10):
        ok(caller.get("/at-risk"))
