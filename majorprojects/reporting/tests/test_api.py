"""The dispatch API: periods and completeness, reports (read, save, submit, approve, return)
for owner, reviewer and outsider, safe retries, edit conflicts, Chinese field errors, and the
month's aggregates against hand-worked numbers."""

import json
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from majorprojects.accounts.services import token_create
from majorprojects.audit.models import Event
from majorprojects.factories import ProjectFactory
from majorprojects.projects.models import AnnualListing, ListKind
from majorprojects.reporting.models import Period, Report, ReportFunds, Status

TODAY = date(2026, 10, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


class Caller:
    """A client that sends one account's API token with every request."""

    def __init__(self, client, key):
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.auth)

    def send(self, method, path, body=None, key=None):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        data = "" if body is None else json.dumps(body)
        return getattr(self.client, method)(
            path, data=data, content_type="application/json", **self.auth, **extra
        )


@pytest.fixture
def api(client, users):
    def as_account(name):
        _, key = token_create(actor=users[name], name="省平台对接")
        return Caller(client, key)

    return as_account


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def errors(response):
    """{"body.field": msg} from a 422 body."""
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


def slot_of(project, month):
    return Report.objects.get(project=project, period__year=2026, period__number=month)


# Enough for a project in preparation (progress and next month's plan are required to submit).
COMPLETE = {"progress": "主体施工", "next_plan": "继续施工"}


@pytest.fixture
def b_slot(october, listed):
    return Report.objects.get(period=october, project=listed["b"])


@pytest.fixture
def submitted(api, slot):
    ok(api("owner_a").send("post", f"/api/reports/{slot.pk}/submit", {"investment": 1500, **COMPLETE}))
    slot.refresh_from_db()
    return slot


# --- Access ---------------------------------------------------------------------------------


def test_auditor_gets_403_on_every_dispatch_endpoint(api, slot, october, listed):
    auditor = api("auditor")
    reads = [
        "/api/periods",
        f"/api/periods/{october.pk}",
        f"/api/periods/{october.pk}/completeness",
        f"/api/periods/{october.pk}/missing",
        "/api/reports",
        f"/api/reports/{slot.pk}",
        "/api/dispatch/summary",
        "/api/dispatch/table",
        "/api/dispatch/trend",
    ]
    for path in reads:
        response = auditor.get(path)
        assert response.status_code == 403, path
        assert response.json() == {"detail": "您的账号不查看调度数据。"}
    writes = [
        ("put", f"/api/reports/{slot.pk}", {"version": 1, "investment": 1}),
        ("post", "/api/reports", {"period_id": october.pk, "project_id": listed["a"].pk, "investment": 1}),
        ("post", f"/api/reports/{slot.pk}/submit", COMPLETE),
        ("post", f"/api/reports/{slot.pk}/approve", None),
        ("post", f"/api/reports/{slot.pk}/return", {"reason": "x"}),
    ]
    for method, path, body in writes:
        assert auditor.send(method, path, body).status_code == 403, path
    slot.refresh_from_db()
    assert (slot.status, slot.version, slot.investment) == (Status.PENDING, 1, None)


def test_no_token_is_401(client, slot):
    assert client.get("/api/reports").status_code == 401
    assert client.put(f"/api/reports/{slot.pk}", "{}", content_type="application/json").status_code == 401


def test_session_reads_and_writes_need_csrf(users, slot):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["owner_a"])
    assert ok(browser.get(f"/api/reports/{slot.pk}"))["version"] == 1
    body = json.dumps({"version": 1, "investment": 10})
    response = browser.put(f"/api/reports/{slot.pk}", body, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    browser.get("/projects/")  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.put(
        f"/api/reports/{slot.pk}", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert ok(response)["investment"] == "10.00"


@pytest.mark.parametrize(
    ("account", "project", "status"),
    [
        ("owner_a", "a", 200),  # owner
        ("linchuan", "a", 200),  # reviewer: the project's county
        ("jtj", "b", 200),  # reviewer: the department governing b's industry
        ("leader", "a", 200),
        ("qingshan", "a", 404),  # outsider
        ("owner_a", "b", 404),
        ("jtj", "a", 404),
    ],
)
def test_report_detail_is_404_outside_scope(api, october, listed, account, project, status):
    report = Report.objects.get(period=october, project=listed[project])
    response = api(account).get(f"/api/reports/{report.pk}")
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "报表不存在或无权访问"}


def test_unknown_report_is_404_like_an_out_of_scope_one(api, slot):
    assert api("admin").get("/api/reports/999999").json() == {"detail": "报表不存在或无权访问"}


@pytest.mark.parametrize(
    ("account", "status"),
    [("owner_a", 200), ("linchuan", 200), ("admin", 200), ("qingshan", 404), ("jtj", 404), ("leader", 403)],
)
def test_save_by_owner_reviewer_outsider_and_leader(api, slot, account, status):
    response = api(account).send("put", f"/api/reports/{slot.pk}", {"version": 1, "investment": "800"})
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json() == {"detail": "您的账号无权填报该项目的调度表。"}
    slot.refresh_from_db()
    assert (slot.investment == Decimal("800")) == (status == 200)


@pytest.mark.parametrize(
    ("account", "status"), [("owner_a", 200), ("linchuan", 200), ("qingshan", 404), ("leader", 403)]
)
def test_submit_by_owner_reviewer_outsider_and_leader(api, slot, account, status):
    response = api(account).send("post", f"/api/reports/{slot.pk}/submit", {"investment": 1, **COMPLETE})
    assert response.status_code == status, response.content
    slot.refresh_from_db()
    assert (slot.status == Status.SUBMITTED) == (status == 200)


@pytest.mark.parametrize(
    ("account", "status", "detail"),
    [
        ("linchuan", 200, None),
        ("admin", 200, None),
        ("owner_a", 403, "您无权审核该项目的调度表。"),
        ("leader", 403, "您无权审核该项目的调度表。"),
        ("qingshan", 404, "报表不存在或无权访问"),
        ("jtj", 404, "报表不存在或无权访问"),
    ],
)
def test_approve_by_reviewer_owner_and_outsider(api, submitted, account, status, detail):
    response = api(account).send("post", f"/api/reports/{submitted.pk}/approve")
    assert response.status_code == status, response.content
    submitted.refresh_from_db()
    if status == 200:
        assert response.json()["status"] == "approved" and submitted.status == Status.APPROVED
    else:
        assert response.json() == {"detail": detail}
        assert submitted.status == Status.SUBMITTED


@pytest.mark.parametrize(("account", "status"), [("linchuan", 200), ("owner_a", 403), ("qingshan", 404)])
def test_return_by_reviewer_owner_and_outsider(api, submitted, account, status):
    response = api(account).send(
        "post", f"/api/reports/{submitted.pk}/return", {"reason": "请补充形象进度照片"}
    )
    assert response.status_code == status, response.content
    submitted.refresh_from_db()
    assert (submitted.status == Status.RETURNED) == (status == 200)
    if status == 200:
        assert response.json()["return_reason"] == "请补充形象进度照片"


def test_department_reviews_the_projects_of_its_sector(api, b_slot):
    body = {"investment": 4500, "percent_complete": 10, **COMPLETE}
    ok(api("qingshan").send("post", f"/api/reports/{b_slot.pk}/submit", body))
    assert ok(api("jtj").send("post", f"/api/reports/{b_slot.pk}/approve"))["status"] == "approved"


# --- Periods --------------------------------------------------------------------------------


def test_periods_newest_first_with_filters_and_pages(api, october, users):
    caller = api("linchuan")
    body = ok(caller.get("/api/periods"))
    assert body["count"] == 10
    assert [p["label"] for p in body["items"][:2]] == ["2026年10月", "2026年9月"]
    first = body["items"][0]
    assert first["schedule"] == {"id": october.schedule_id, "name": "月调度"}
    assert first["frequency"] == "monthly" and first["frequency_label"] == "月调度"
    assert (first["year"], first["number"]) == (2026, 10)
    assert first["starts_on"] == "2026-10-01" and first["ends_on"] == "2026-10-31"
    assert first["due_on"] == october.due_on.isoformat() and first["locked_at"] is None

    page = ok(caller.get("/api/periods", {"limit": 3, "page": 2}))
    assert [p["number"] for p in page["items"]] == [7, 6, 5]
    assert page["offset"] == 3 and page["count"] == 10
    assert errors(caller.get("/api/periods", {"page": 2, "offset": 3})) == {
        "query.page": "page 与 offset 只能给出其中一个。"
    }

    assert ok(caller.get("/api/periods", {"year": 2025}))["count"] == 0
    assert ok(caller.get("/api/periods", {"frequency": "weekly"}))["count"] == 0
    Period.objects.filter(number=1).update(locked_at=timezone.now())
    assert [p["number"] for p in ok(caller.get("/api/periods", {"locked": "true"}))["items"]] == [1]
    assert ok(caller.get("/api/periods", {"locked": "false"}))["count"] == 9
    assert errors(caller.get("/api/periods", {"frequency": "daily"})) == {
        "query.frequency": "请选择以下之一：monthly、quarterly、weekly。"
    }


def test_unknown_period_is_404(api, october):
    response = api("admin").get("/api/periods/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "调度期次不存在。"}


# --- Aggregates: a small fixture worked by hand ---------------------------------------------


@pytest.fixture
def sent(api, october, listed):
    """Project a (临川区, plan 12000): September 3000 and October 1500 submitted on 2026-10-20
    (September late), an August draft of 999 that does not count. Project b (青山县, plan
    24000, new start planned 2026-03-15): October 4500, started 2026-03-20, approved by the
    transport bureau. b's September report is missing. Zone (reserve, plan 0) has no slot."""
    owner, county = api("owner_a"), api("qingshan")
    a, b = listed["a"], listed["b"]
    ok(owner.send("post", f"/api/reports/{slot_of(a, 9).pk}/submit", {"investment": "3000", **COMPLETE}))
    ok(owner.send("post", f"/api/reports/{slot_of(a, 10).pk}/submit", {"investment": 1500, **COMPLETE}))
    ok(owner.send("put", f"/api/reports/{slot_of(a, 8).pk}", {"investment": 999, "version": 1}))
    body = {"investment": "4500.00", "started_on": "2026-03-20", "percent_complete": "10", **COMPLETE}
    ok(county.send("post", f"/api/reports/{slot_of(b, 10).pk}/submit", body))
    ok(api("jtj").send("post", f"/api/reports/{slot_of(b, 10).pk}/approve"))
    return listed


def test_summary_for_the_city_matches_hand_worked_numbers(api, sent):
    body = ok(api("admin").get("/api/dispatch/summary", {"year": 2026, "month": 10}))
    assert body == {
        "year": 2026,
        "month": 10,
        "projects": 3,
        "plan": "36000.00",
        "done_month": "6000.00",  # a 1500 + b 4500
        "done_prev_month": "3000.00",
        "done_ytd": "9000.00",  # the August draft does not count
        "done_ytd_last_year": "0.00",
        "plan_pct": "25.0",  # 9000 / 36000
        "time_pct": "83.3",  # 10 / 12
        "gap_pp": "-58.3",
        "gap_text": "落后时间进度 58.3 个百分点",
        "mom_pct": "100.0",  # 6000 against 3000
        "yoy_pct": None,
        "new_planned": 1,  # b, planned for 2026-03-15
        "new_started": 1,  # started 2026-03-20 (applied when approved)
        "new_start_pct": "100.0",
        "continuing": 0,
        "resumed": 0,
        "start_resume_pct": "100.0",
        "completion_planned": 0,
        "completed": 0,
        "completion_pct": None,
    }


def test_summary_for_a_county_covers_its_projects_only(api, sent):
    body = ok(api("linchuan").get("/api/dispatch/summary", {"year": 2026, "month": 10}))
    assert (body["projects"], body["plan"], body["done_ytd"]) == (2, "12000.00", "4500.00")
    assert (body["done_month"], body["mom_pct"]) == ("1500.00", "-50.0")
    assert body["plan_pct"] == "37.5"  # 4500 / 12000
    assert body["gap_text"] == "落后时间进度 45.8 个百分点"
    assert body["new_start_pct"] is None


def test_summary_defaults_to_this_month(api, sent):
    body = ok(api("admin").get("/api/dispatch/summary"))
    assert (body["year"], body["month"], body["done_ytd"]) == (2026, 10, "9000.00")
    body = ok(api("admin").get("/api/dispatch/summary", {"year": 2025}))
    assert (body["year"], body["month"]) == (2025, 12)
    body = ok(api("admin").get("/api/dispatch/summary", {"month": 9}))
    assert (body["month"], body["done_ytd"], body["done_month"]) == (9, "3000.00", "3000.00")


def test_table_by_region_rolls_up_to_counties(api, city, sent):
    body = ok(api("admin").get("/api/dispatch/table", {"year": 2026, "month": 10, "by": "region"}))
    assert (body["by"], body["by_label"]) == ("region", "区域")
    rows = [
        (r["key"], r["label"], r["projects"], r["plan"], r["done_ytd"], r["plan_pct"]) for r in body["rows"]
    ]
    assert rows == [
        (city["linchuan"].pk, "临川区", 2, "12000.00", "4500.00", "37.5"),  # a and the zone project
        (city["qingshan"].pk, "青山县", 1, "24000.00", "4500.00", "18.8"),  # 18.75 rounded half up
    ]


def test_table_by_list(api, sent):
    body = ok(api("admin").get("/api/dispatch/table", {"year": 2026, "month": 10, "by": "list"}))
    rows = {r["key"]: (r["projects"], r["plan"], r["done_ytd"]) for r in body["rows"]}
    assert rows == {"reserve": (1, "0.00", "0.00"), "construction": (2, "36000.00", "9000.00")}


@pytest.mark.parametrize("by", ["sector", "key_level", "programme", "leader", "work_group", "department"])
def test_table_by_every_dimension_adds_up_to_the_summary(api, sent, by):
    caller = api("admin")
    rows = ok(caller.get("/api/dispatch/table", {"year": 2026, "month": 10, "by": by}))["rows"]
    assert sum(Decimal(r["done_ytd"]) for r in rows) == Decimal("9000.00")


def test_table_refuses_an_unknown_dimension(api, sent):
    found = errors(api("admin").get("/api/dispatch/table", {"by": "colour"}))
    assert found["query.by"].startswith("请选择以下之一：region、sector、list")
    assert errors(api("admin").get("/api/dispatch/summary", {"month": 13})) == {
        "query.month": "不能大于 12。"
    }


def test_trend(api, sent):
    body = ok(api("admin").get("/api/dispatch/trend", {"year": 2026}))
    assert body["year"] == 2026 and body["months"][0] == "1月" and len(body["months"]) == 12
    assert body["this_year"][7:10] == ["0.00", "3000.00", "6000.00"]
    assert body["cumulative"][9] == "9000.00" and body["cumulative"][11] == "9000.00"
    assert body["last_year"] == ["0.00"] * 12
    assert body["plan"] == "36000.00"
    assert body["plan_pct"][8:10] == ["8.3", "25.0"]
    assert body["time_pct"][0] == "8.3" and body["time_pct"][11] == "100.0"


def test_period_detail_completeness_in_the_callers_scope(api, sent):
    september = slot_of(sent["a"], 9).period
    body = ok(api("admin").get(f"/api/periods/{september.pk}"))
    assert body["label"] == "2026年9月"
    # a sent on 2026-10-20, after September's deadline; b never sent
    assert body["completeness"] == {
        "due": 2,
        "submitted": 1,
        "on_time": 0,
        "late": 1,
        "missing": 1,
        "approved": 0,
        "returned": 0,
        "timely_pct": "0.0",
    }
    october = slot_of(sent["a"], 10).period
    body = ok(api("admin").get(f"/api/periods/{october.pk}"))["completeness"]
    assert (body["due"], body["on_time"], body["approved"], body["timely_pct"]) == (2, 2, 1, "100.0")
    body = ok(api("qingshan").get(f"/api/periods/{september.pk}"))["completeness"]
    assert (body["due"], body["submitted"], body["missing"]) == (1, 0, 1)


def test_completeness_by_region_and_list(api, city, sent):
    september = slot_of(sent["a"], 9).period
    body = ok(api("admin").get(f"/api/periods/{september.pk}/completeness", {"by": "region"}))
    assert body["period"]["id"] == september.pk and body["by_label"] == "区域"
    rows = [(r["key"], r["label"], r["due"], r["late"], r["missing"]) for r in body["rows"]]
    assert rows == [(city["linchuan"].pk, "临川区", 1, 1, 0), (city["qingshan"].pk, "青山县", 1, 0, 1)]
    body = ok(api("admin").get(f"/api/periods/{september.pk}/completeness", {"by": "list"}))
    assert [(r["key"], r["label"], r["due"]) for r in body["rows"]] == [("construction", "年度建设项目", 2)]
    body = ok(api("admin").get(f"/api/periods/{september.pk}/completeness", {"by": "department"}))
    assert sum(r["due"] for r in body["rows"]) == 2
    found = errors(api("admin").get(f"/api/periods/{september.pk}/completeness", {"by": "sector"}))
    assert found == {"query.by": "请选择以下之一：region、department、list。"}


def test_missing_lists_who_has_not_reported_with_contacts(api, city, sent):
    b = sent["b"]
    b.contact_name, b.contact_phone = "王工", "13800000000"
    b.save(update_fields=["contact_name", "contact_phone"])
    september = slot_of(sent["a"], 9).period
    body = ok(api("admin").get(f"/api/periods/{september.pk}/missing"))
    assert body["count"] == 1 and body["period"]["label"] == "2026年9月"
    assert body["items"] == [
        {
            "report_id": slot_of(b, 9).pk,
            "status": "pending",
            "status_label": "待填报",
            "project": {"id": b.pk, "name": "青山县环城公路", "code": None},
            "region": {"id": city["qingshan"].pk, "code": "431921", "name": "青山县"},
            "owner_unit": {"id": city["owner_b"].pk, "name": "青山县城市发展集团有限公司"},
            "responsible_department": None,
            "contact_name": "王工",
            "contact_phone": "13800000000",
        }
    ]
    assert ok(api("linchuan").get(f"/api/periods/{september.pk}/missing"))["count"] == 0


def test_missing_query_count_does_not_grow_with_rows(api, city, october, django_assert_max_num_queries):
    caller = api("admin")
    period_id = october.pk
    for i in range(15):
        project = ProjectFactory(owner_unit=city["owner_b"], sector=city["industry"], name=f"批量{i}")
        Report.objects.create(period=october, project=project, period_end=october.ends_on)
    with django_assert_max_num_queries(8):
        body = ok(caller.get(f"/api/periods/{period_id}/missing", {"limit": 100}))
    assert body["count"] == 17


# --- Report list and detail -----------------------------------------------------------------


def test_report_list_is_scoped_and_filtered(api, sent, october):
    a, b = sent["a"], sent["b"]
    body = ok(api("linchuan").get("/api/reports"))
    assert body["count"] == 10  # a's January–October; b is in another county
    assert {row["project"]["id"] for row in body["items"]} == {a.pk}
    assert body["items"][0]["period"]["label"] == "2026年10月"
    body = ok(api("admin").get("/api/reports", {"period_id": october.pk}))
    assert sorted(r["project"]["name"] for r in body["items"]) == ["临川新材料产业园", "青山县环城公路"]
    body = ok(api("admin").get("/api/reports", {"status": "submitted"}))
    assert [(r["project"]["id"], r["period"]["number"]) for r in body["items"]] == [(a.pk, 10), (a.pk, 9)]
    row = body["items"][0]
    # a report's own totals add up every amount typed so far, the August draft too; only the
    # aggregates leave drafts out
    assert row["investment"] == "1500.00" and row["year_to_date"] == "5499.00"
    assert row["status_label"] == "已报送" and row["is_late"] is False
    body = ok(api("admin").get("/api/reports", {"project_id": b.pk, "status": "approved"}))
    assert body["count"] == 1 and body["items"][0]["period"]["number"] == 10
    body = ok(api("owner_a").get("/api/reports", {"limit": 4, "page": 3}))
    assert [r["period"]["number"] for r in body["items"]] == [2, 1]
    assert errors(api("admin").get("/api/reports", {"status": "lost"}))["query.status"].startswith(
        "请选择以下之一：pending"
    )


def test_report_list_query_count_does_not_grow_with_rows(api, october, listed, django_assert_max_num_queries):
    caller = api("jtj")  # a department: its scope costs a query of its own
    with django_assert_max_num_queries(8):
        body = ok(caller.get("/api/reports", {"limit": 100}))
    assert body["count"] == 10


def test_report_detail_has_every_field(api, users, slot):
    body = {
        "version": 1,
        "investment": "1500.5",
        "progress": "厂房主体封顶",
        "percent_complete": 45,
        "problems": "用地指标待落实",
        "next_plan": "设备安装",
        "note": "",
        "funds": [
            {"source": "special_bond", "arrived": 1000, "paid": "800"},
            {"source": "self_raised", "arrived": "0.05亿"},
        ],
    }
    ok(api("owner_a").send("put", f"/api/reports/{slot.pk}", body))
    data = ok(api("linchuan").get(f"/api/reports/{slot.pk}"))
    assert data["project"] == {"id": slot.project_id, "name": "临川新材料产业园", "code": None}
    assert data["period"]["label"] == "2026年10月" and data["period"]["frequency"] == "monthly"
    assert data["status"] == "draft" and data["status_label"] == "草稿" and data["version"] == 2
    assert data["investment"] == "1500.50"
    assert data["year_to_date"] == "1500.50" and data["since_start"] == "1500.50"
    assert data["percent_complete"] == "45.00"
    assert data["progress"] == "厂房主体封顶" and data["problems"] == "用地指标待落实"
    assert data["funds"] == [
        {
            "source": "special_bond",
            "source_label": "地方政府专项债券",
            "arrived": "1000.00",
            "paid": "800.00",
        },
        {"source": "self_raised", "source_label": "企业自筹", "arrived": "500.00", "paid": "0.00"},
    ]
    for name in (
        "started_on",
        "structure_done_on",
        "completed_on",
        "operating_on",
        "stats_included",
        "stats_date",
        "submitted_at",
        "reviewed_at",
    ):
        assert data[name] is None, name
    assert data["is_late"] is False and data["return_reason"] == "" and data["note"] == ""
    event = Event.objects.get(verb="report_save")
    assert event.actor == users["owner_a"]


# --- Saving ---------------------------------------------------------------------------------


def test_put_changes_only_the_fields_sent(api, slot):
    caller = api("owner_a")
    ok(
        caller.send(
            "put", f"/api/reports/{slot.pk}", {"version": 1, "investment": 1200, "progress": "基础施工"}
        )
    )
    data = ok(caller.send("put", f"/api/reports/{slot.pk}", {"version": 2, "next_plan": "主体施工"}))
    assert (data["investment"], data["progress"], data["next_plan"]) == ("1200.00", "基础施工", "主体施工")
    data = ok(
        caller.send("put", f"/api/reports/{slot.pk}", {"version": 3, "investment": None, "progress": None})
    )
    assert (data["investment"], data["progress"], data["version"]) == (None, "", 4)


def test_funds_are_replaced_when_sent_and_kept_when_not(api, slot):
    caller = api("owner_a")
    funds = [{"source": "special_bond", "arrived": 100, "paid": 80}]
    ok(caller.send("put", f"/api/reports/{slot.pk}", {"version": 1, "funds": funds}))
    ok(caller.send("put", f"/api/reports/{slot.pk}", {"version": 2, "progress": "施工"}))
    assert list(ReportFunds.objects.values_list("source", "arrived", "paid")) == [
        ("special_bond", Decimal("100.00"), Decimal("80.00"))
    ]
    data = ok(caller.send("put", f"/api/reports/{slot.pk}", {"version": 3, "funds": []}))
    assert data["funds"] == [] and not ReportFunds.objects.exists()


def test_totals_are_the_sums_of_what_was_sent(api, listed, october):
    """Several saves, in any order and repeated: year-to-date and since-start are always the sums
    of the amounts last sent, never typed and never double-counted."""
    a = listed["a"]
    caller = api("owner_a")
    sent = {1: "100", 2: 250.5, 3: "1,000", 5: "0.03亿", 4: 400}
    note = "设备集中到货"  # large months need an explanation
    for month, amount in sent.items():
        report = slot_of(a, month)
        body = {"version": report.version, "investment": amount, "note": note}
        ok(caller.send("put", f"/api/reports/{report.pk}", body))
    report = slot_of(a, 3)
    ok(caller.send("put", f"/api/reports/{report.pk}", {"version": report.version, "investment": "900"}))
    ok(caller.send("put", f"/api/reports/{report.pk}", {"version": report.version + 1, "investment": "900"}))
    expected = [Decimal("100"), Decimal("250.50"), Decimal("900"), Decimal("400"), Decimal("300")]
    running = Decimal(0)
    for month, amount in enumerate(expected, start=1):
        running += amount
        data = ok(caller.get(f"/api/reports/{slot_of(a, month).pk}"))
        assert Decimal(data["investment"]) == amount
        assert Decimal(data["year_to_date"]) == running, month
        assert Decimal(data["since_start"]) == running, month
    october_data = ok(caller.get(f"/api/reports/{slot_of(a, 10).pk}"))
    assert october_data["year_to_date"] == "1950.50"  # months without a report carry the total on


def test_concurrent_edit_is_409_and_the_later_save_changes_nothing(api, users, slot):
    first, second = api("owner_a"), api("linchuan")
    version = ok(first.get(f"/api/reports/{slot.pk}"))["version"]
    assert ok(second.get(f"/api/reports/{slot.pk}"))["version"] == version
    ok(first.send("put", f"/api/reports/{slot.pk}", {"version": version, "investment": 1000}))
    response = second.send("put", f"/api/reports/{slot.pk}", {"version": version, "investment": 2000})
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert users["owner_a"].display_name in detail and "您的内容未保存" in detail
    slot.refresh_from_db()
    assert (slot.investment, slot.version) == (Decimal("1000.00"), 2)
    response = second.send("post", f"/api/reports/{slot.pk}/submit", {"version": version, **COMPLETE})
    assert response.status_code == 409
    slot.refresh_from_db()
    assert (slot.status, slot.progress) == (Status.DRAFT, "")


def test_put_without_version_is_422(api, slot):
    assert errors(api("owner_a").send("put", f"/api/reports/{slot.pk}", {"investment": 1})) == {
        "body.version": "此项为必填项。"
    }


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        ({"investment": "很多"}, "body.investment", "本期完成投资：无法识别的金额“很多”。"),
        ({"investment": "-5"}, "body.investment", "本期完成投资：金额不能为负数。"),
        ({"investment": True}, "body.investment", "请填写金额（万元）。"),
        ({"investment": "6亿"}, "body.investment", "本年累计完成 60,000.00 万元将超过项目总投资"),
        ({"percent_complete": 150}, "body.percent_complete", "工程完成比例应为数值，应在 0 到 100 之间。"),
        ({"percent_complete": "大半"}, "body.percent_complete", "工程完成比例应为数值"),
        ({"started_on": "明天"}, "body.started_on", "开工日期应为日期（如 2026-10-15）。"),
        ({"started_on": "2026-10-21"}, "body.started_on", "开工日期不能晚于今天。"),
        ({"completed_on": "2026-09-01"}, "body.completed_on", "填写竣工日期前须先有开工日期。"),
        ({"stats_included": "也许"}, "body.stats_included", "是否入统请填“是”或“否”。"),
        ({"progress": 5}, "body.progress", "请填写文本。"),
        (
            {"funds": [{"source": "gold", "arrived": 1}]},
            "body.funds.0.source",
            "请选择以下之一：central_budget",
        ),
        ({"funds": [{"source": "fiscal", "paid": "若干"}]}, "body.funds.0.paid", "无法识别的金额“若干”。"),
        ({"funds": [{"source": "fiscal", "arrived": -1}]}, "body.funds.0.arrived", "金额不能为负数。"),
        (
            {"funds": [{"source": "fiscal", "arrived": 1}, {"source": "fiscal", "paid": 1}]},
            "body.funds",
            "资金来源“省市县财政资金”重复，每个来源只填一行。",
        ),
        ({"funds": {"fiscal": 1}}, "body.funds", "请提供列表。"),
    ],
)
def test_field_errors_are_chinese_and_name_the_field(api, slot, change, loc, message):
    response = api("owner_a").send(
        "put", f"/api/reports/{slot.pk}", {"version": 1, "progress": "施工", **change}
    )
    found = errors(response)
    assert loc in found, found
    assert message in found[loc]
    slot.refresh_from_db()
    assert (slot.version, slot.status, slot.progress) == (1, Status.PENDING, "")
    assert not ReportFunds.objects.exists()


def test_all_conversion_errors_come_back_together(api, slot):
    body = {"version": 1, "investment": "很多", "percent_complete": "大半", "stats_date": "十月"}
    found = errors(api("owner_a").send("put", f"/api/reports/{slot.pk}", body))
    assert set(found) == {"body.investment", "body.percent_complete", "body.stats_date"}
    assert found["body.stats_date"] == "入统日期应为日期（如 2026-10-15）。"


def test_malformed_json_is_400(api, slot):
    caller = api("owner_a")
    response = caller.client.put(
        f"/api/reports/{slot.pk}", data="{", content_type="application/json", **caller.auth
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体不是有效的 JSON。"}


def test_put_retry_with_the_same_key_is_applied_once(api, slot):
    caller = api("owner_a")
    body = {"version": 1, "investment": "1500"}
    first = ok(caller.send("put", f"/api/reports/{slot.pk}", body, key="save-1"))
    again = ok(caller.send("put", f"/api/reports/{slot.pk}", body, key="save-1"))
    assert again == first and again["version"] == 2
    assert Event.objects.filter(verb="report_save").count() == 1
    response = caller.send("put", f"/api/reports/{slot.pk}", body, key="save-2")
    assert response.status_code == 409  # a new request with an old version is a conflict


def test_idempotency_key_longer_than_64_is_refused(api, slot):
    response = api("owner_a").send("put", f"/api/reports/{slot.pk}", {"version": 1}, key="k" * 65)
    assert errors(response) == {"header.Idempotency-Key": "最多 64 个字符。"}


def test_locked_period_refuses_changes(api, users, submitted):
    from majorprojects.reporting import services

    services.period_lock(actor=users["admin"], period=submitted.period)
    response = api("owner_a").send("put", f"/api/reports/{submitted.pk}", {"version": 3, "investment": 1})
    assert errors(response) == {"body": "2026年10月已锁定，如需修改请提交更正申请。"}


# --- Submitting -----------------------------------------------------------------------------


def test_submit_with_fields_saves_and_submits_in_one_request(api, users, slot):
    body = {"investment": "1500", "funds": [{"source": "fiscal", "arrived": 200, "paid": 150}], **COMPLETE}
    data = ok(api("owner_a").send("post", f"/api/reports/{slot.pk}/submit", body, key="month-end-1"))
    assert data["status"] == "submitted" and data["investment"] == "1500.00"
    assert data["submitted_at"] and data["is_late"] is False
    assert data["funds"][0]["arrived"] == "200.00"
    assert data["version"] == 2  # saved and submitted in one step, one event with the changes
    assert Event.objects.filter(verb="report_save").count() == 0
    event = Event.objects.get(verb="report_submit", actor=users["owner_a"])
    assert event.details["investment"] == "1500.00" and event.details["progress"][1] == COMPLETE["progress"]


def test_submit_retry_with_the_same_key_is_one_submission(api, slot):
    caller = api("owner_a")
    body = {"investment": "1500", **COMPLETE}
    first = ok(caller.send("post", f"/api/reports/{slot.pk}/submit", body, key="k-20261020-1"))
    for _ in range(3):
        again = ok(caller.send("post", f"/api/reports/{slot.pk}/submit", body, key="k-20261020-1"))
        assert again == first
    assert Event.objects.filter(verb="report_submit").count() == 1
    assert Event.objects.filter(verb="report_save").count() == 0
    report = Report.objects.get(pk=slot.pk)
    assert (report.investment, report.year_to_date, report.version) == (
        Decimal("1500.00"),
        Decimal("1500.00"),
        2,
    )


def test_submit_retry_without_fields_is_one_submission(api, slot):
    caller = api("owner_a")
    ok(caller.send("put", f"/api/reports/{slot.pk}", {"version": 1, "investment": 10, **COMPLETE}))
    first = ok(caller.send("post", f"/api/reports/{slot.pk}/submit", key="send-1"))
    assert ok(caller.send("post", f"/api/reports/{slot.pk}/submit", key="send-1")) == first
    assert Event.objects.filter(verb="report_submit").count() == 1


def test_submitting_again_without_the_key_is_422(api, submitted):
    response = api("owner_a").send("post", f"/api/reports/{submitted.pk}/submit")
    assert errors(response) == {"body": "报表已报送，无需重复报送。"}
    response = api("owner_a").send("post", f"/api/reports/{submitted.pk}/submit", {"investment": 2})
    assert errors(response) == {"body": "报表已报送，无需重复报送。"}
    submitted.refresh_from_db()
    assert submitted.investment == Decimal("1500.00")
    assert Event.objects.filter(verb="report_submit").count() == 1


def test_failed_submit_writes_nothing(api, slot):
    """Fields that save but do not complete the report: the save is rolled back with the submit."""
    response = api("owner_a").send("post", f"/api/reports/{slot.pk}/submit", {"investment": 1500}, key="k1")
    assert errors(response) == {"body.progress": "请填写形象进度。", "body.next_plan": "请填写下期计划。"}
    slot.refresh_from_db()
    assert (slot.status, slot.investment, slot.version, slot.last_key) == (Status.PENDING, None, 1, "")
    assert not Event.objects.filter(verb__startswith="report_").exists()
    data = ok(
        api("owner_a").send(
            "post", f"/api/reports/{slot.pk}/submit", {"investment": 1500, **COMPLETE}, key="k1"
        )
    )
    assert data["status"] == "submitted"


def test_returned_report_is_fixed_and_resubmitted(api, submitted):
    reviewer, owner = api("linchuan"), api("owner_a")
    assert errors(reviewer.send("post", f"/api/reports/{submitted.pk}/return", {"reason": "  "})) == {
        "body.reason": "请填写退回原因，告诉填报人需要修改什么。"
    }
    assert errors(reviewer.send("post", f"/api/reports/{submitted.pk}/return", {})) == {
        "body.reason": "此项为必填项。"
    }
    data = ok(
        reviewer.send("post", f"/api/reports/{submitted.pk}/return", {"reason": "投资额与统计口径不符"})
    )
    assert data["status"] == "returned" and data["status_label"] == "已退回"
    body = {"version": data["version"], "investment": "1400", "note": "按统计口径调整"}
    data = ok(owner.send("post", f"/api/reports/{submitted.pk}/submit", body, key="resend"))
    assert (data["status"], data["investment"]) == ("submitted", "1400.00")
    assert Event.objects.filter(verb="report_resubmit").count() == 1
    data = ok(reviewer.send("post", f"/api/reports/{submitted.pk}/approve"))
    assert data["status"] == "approved" and data["return_reason"] == "" and data["reviewed_at"]
    assert ok(reviewer.send("post", f"/api/reports/{submitted.pk}/approve"))["version"] == data["version"]


def test_approving_a_draft_is_422(api, slot):
    response = api("linchuan").send("post", f"/api/reports/{slot.pk}/approve")
    assert errors(response) == {"body": "只有已报送的报表可以审核通过（当前：待填报）。"}


# --- Upsert by period and project -----------------------------------------------------------


def test_upsert_finds_the_slot_of_the_project_in_the_period(api, october, listed, slot):
    body = {"period_id": october.pk, "project_id": listed["a"].pk, "investment": "1500", **COMPLETE}
    data = ok(api("owner_a").send("post", "/api/reports", body, key="push-1"))
    assert data["id"] == slot.pk and data["investment"] == "1500.00" and data["status"] == "draft"
    assert ok(api("owner_a").send("post", "/api/reports", body, key="push-1")) == data
    response = api("owner_a").send("post", "/api/reports", {**body, "version": 1})
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("account", "project", "status"),
    [
        ("linchuan", "a", 200),
        ("qingshan", "a", 404),  # outsider
        ("owner_a", "b", 404),
        ("owner_a", "zone", 404),  # reserve list: no monthly slot
        ("leader", "a", 403),
    ],
)
def test_upsert_scope(api, october, listed, account, project, status):
    body = {"period_id": october.pk, "project_id": listed[project].pk, "progress": "施工"}
    response = api(account).send("post", "/api/reports", body)
    assert response.status_code == status, response.content
    if status == 404:
        assert response.json() == {"detail": "该项目在该期次没有调度表，或无权访问。"}


def test_upsert_needs_period_and_project(api, october):
    assert errors(api("owner_a").send("post", "/api/reports", {"investment": 1})) == {
        "body.period_id": "此项为必填项。",
        "body.project_id": "此项为必填项。",
    }


# --- Schema ---------------------------------------------------------------------------------


def test_openapi_schema_lists_the_dispatch_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/periods",
        "/api/periods/{period_id}",
        "/api/periods/{period_id}/completeness",
        "/api/periods/{period_id}/missing",
        "/api/reports",
        "/api/reports/{report_id}",
        "/api/reports/{report_id}/submit",
        "/api/reports/{report_id}/approve",
        "/api/reports/{report_id}/return",
        "/api/dispatch/summary",
        "/api/dispatch/table",
        "/api/dispatch/trend",
    } <= set(paths)
    assert set(paths["/api/reports/{report_id}"]) == {"get", "put"}
    assert set(paths["/api/reports"]) == {"get", "post"}
    headers = {
        p["name"]
        for p in paths["/api/reports/{report_id}/submit"]["post"]["parameters"]
        if p["in"] == "header"
    }
    assert headers == {"Idempotency-Key"}
    assert paths["/api/reports/{report_id}"]["put"]["tags"] == ["调度"]


def test_unlisted_project_has_no_slot(api, city, october):
    """A project added after the period opened has no report until open_periods runs again."""
    project = ProjectFactory(owner_unit=city["owner_a"], sector=city["industry"])
    AnnualListing.objects.create(project=project, year=2026, list_kind=ListKind.CONSTRUCTION)
    body = {"period_id": october.pk, "project_id": project.pk, "progress": "施工"}
    assert api("owner_a").send("post", "/api/reports", body).status_code == 404


# --- Real concurrency (PostgreSQL: row locks across connections) ------------------------------


def _at_once(*calls):
    """Run the calls in parallel threads, each with its own database connection."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers: row-lock races need PostgreSQL"
)


def _own_client(users, name):
    """A caller with a Client of its own: test clients are not shared between threads."""
    _, key = token_create(actor=users[name], name="并发")
    return Caller(Client(), key)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_duplicates_make_one_submission(users, slot):
    callers = [_own_client(users, "owner_a"), _own_client(users, "owner_a")]
    body = {"version": 1, "investment": "1500", **COMPLETE}
    path = f"/api/reports/{slot.pk}/submit"
    first, second = _at_once(*(lambda c=c: c.send("post", path, body, key="burst-1") for c in callers))
    assert ok(first) == ok(second)
    assert Event.objects.filter(verb="report_submit").count() == 1
    assert Report.objects.get(pk=slot.pk).version == 2  # one save-and-submit pass bumps once


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_edits_of_one_version_keep_one(users, slot):
    owner, county = _own_client(users, "owner_a"), _own_client(users, "linchuan")
    path = f"/api/reports/{slot.pk}"
    results = _at_once(
        lambda: owner.send("put", path, {"version": 1, "investment": "1000"}),
        lambda: county.send("put", path, {"version": 1, "investment": "2000"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    winner = next(r for r in results if r.status_code == 200).json()
    report = Report.objects.get(pk=slot.pk)
    assert (str(report.investment), report.version) == (winner["investment"], 2)
