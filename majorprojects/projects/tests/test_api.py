"""The project API: authentication, the same scope as the pages for every role, the list page's
filters and totals, and changes through the services with Chinese field errors."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from majorprojects.accounts.services import token_create, token_revoke
from majorprojects.audit.models import Event
from majorprojects.factories import CampaignFactory, ListingFactory, ProjectFactory
from majorprojects.projects import services
from majorprojects.projects.filters import current_year
from majorprojects.projects.models import AnnualListing, Project

ALL = ["临川新材料产业园", "经开区标准厂房", "青山县环城公路"]


class Caller:
    """A client that sends one account's API token with every request."""

    def __init__(self, client, key, header="HTTP_AUTHORIZATION"):
        self.client = client
        self.auth = {header: f"Bearer {key}" if header == "HTTP_AUTHORIZATION" else key}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.auth)

    def send(self, method, path, body):
        return getattr(self.client, method)(
            path, data=json.dumps(body), content_type="application/json", **self.auth
        )


@pytest.fixture
def api(client, users):
    def as_account(name):
        _, key = token_create(actor=users[name], name="省平台对接")
        return Caller(client, key)

    return as_account


def names(response):
    assert response.status_code == 200, response.content
    return sorted(item["name"] for item in response.json()["items"])


def errors(response):
    """{"body.field": msg} from a 422 body."""
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


# --- Authentication -------------------------------------------------------------------------


def test_bearer_token_reads_as_its_account(api, projects):
    assert names(api("linchuan").get("/api/projects")) == ["临川新材料产业园", "经开区标准厂房"]


def test_x_api_key_header_is_accepted_and_marks_the_token_used(client, users, projects):
    token, key = token_create(actor=users["qingshan"], name="数据交换")
    response = Caller(client, key, header="HTTP_X_API_KEY").get("/api/projects")
    assert names(response) == ["青山县环城公路"]
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("method", ["get", "post"])
def test_missing_or_unknown_token_is_401(client, projects, method):
    path = "/api/projects"
    assert getattr(client, method)(path).status_code == 401
    response = getattr(client, method)(path, HTTP_AUTHORIZATION="Bearer not-a-key")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "未认证" in response.json()["detail"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_revoked_token_is_401(client, users, projects, method):
    token, key = token_create(actor=users["admin"], name="旧令牌")
    token_revoke(actor=users["admin"], token=token)
    response = getattr(Caller(client, key), "get" if method == "get" else "send")(
        *(["/api/projects"] if method == "get" else ["post", "/api/projects", {"name": "x"}])
    )
    assert response.status_code == 401
    assert Project.objects.count() == 3


def test_token_of_disabled_account_is_401(client, users, projects):
    _, key = token_create(actor=users["linchuan"], name="t")
    users["linchuan"].is_active = False
    users["linchuan"].save()
    assert Caller(client, key).get("/api/projects").status_code == 401


def test_session_reads_and_writes_need_csrf(users, projects):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["linchuan"])
    assert names(browser.get("/api/projects")) == ["临川新材料产业园", "经开区标准厂房"]
    a = projects["a"]
    body = json.dumps({"name": "改名", "version": a.version})
    response = browser.patch(f"/api/projects/{a.pk}", body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    browser.get("/projects/")  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.patch(
        f"/api/projects/{a.pk}", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "改名"


def test_change_through_token_is_audited_as_its_account(api, users, projects):
    a = projects["a"]
    response = api("owner_a").send(
        "patch", f"/api/projects/{a.pk}", {"name": "临川新材料产业园（一期）", "version": 1}
    )
    assert response.status_code == 200
    event = Event.objects.get(verb="project_update")
    assert event.actor == users["owner_a"]
    assert event.details["name"] == ["临川新材料产业园", "临川新材料产业园（一期）"]


# --- Scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("admin", ALL),
        ("leader", ALL),
        ("linchuan", ["临川新材料产业园", "经开区标准厂房"]),
        ("qingshan", ["青山县环城公路"]),
        ("jtj", ["青山县环城公路"]),
        ("owner_a", ["临川新材料产业园", "经开区标准厂房"]),
    ],
)
def test_each_role_lists_its_own_scope(api, projects, account, expected):
    assert names(api(account).get("/api/projects")) == expected


def test_auditor_gets_403_on_project_endpoints(api, city, projects):
    auditor = api("auditor")
    a = projects["a"]
    assert auditor.get("/api/projects").status_code == 403
    assert auditor.get(f"/api/projects/{a.pk}").status_code == 403
    assert auditor.send("post", "/api/projects", new_project(city)).status_code == 403
    assert auditor.send("patch", f"/api/projects/{a.pk}", {"version": 1}).status_code == 403
    assert Project.objects.count() == 3


@pytest.mark.parametrize(
    ("account", "project", "status"),
    [
        ("linchuan", "a", 200),  # reviewer: the county of the project
        ("owner_a", "a", 200),  # owner
        ("jtj", "b", 200),  # reviewer: the department governing its industry
        ("leader", "b", 200),
        ("qingshan", "a", 404),  # outsider: another county
        ("linchuan", "b", 404),
        ("owner_a", "b", 404),
        ("jtj", "a", 404),
    ],
)
def test_detail_is_404_outside_scope(api, projects, account, project, status):
    response = api(account).get(f"/api/projects/{projects[project].pk}")
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "项目不存在或无权访问"}


def test_unknown_project_is_404_like_an_out_of_scope_one(api, projects):
    assert api("admin").get("/api/projects/999999").json() == {"detail": "项目不存在或无权访问"}


@pytest.mark.parametrize(
    ("account", "status"),
    [("owner_a", 200), ("linchuan", 200), ("admin", 200), ("qingshan", 404), ("jtj", 404), ("leader", 403)],
)
def test_update_by_owner_reviewer_outsider_and_leader(api, projects, account, status):
    a = projects["a"]
    response = api(account).send("patch", f"/api/projects/{a.pk}", {"contact_name": "张工", "version": 1})
    assert response.status_code == status, response.content
    a.refresh_from_db()
    assert (a.contact_name == "张工") == (status == 200)


@pytest.mark.parametrize(
    ("account", "status"),
    [("owner_a", 200), ("linchuan", 200), ("qingshan", 404), ("jtj", 404), ("leader", 403), ("auditor", 403)],
)
def test_transition_by_owner_reviewer_outsider_and_leader(api, projects, account, status):
    a = projects["a"]
    body = {"stage": "construction", "on_date": "2026-03-02"}
    response = api(account).send("post", f"/api/projects/{a.pk}/transitions", body)
    assert response.status_code == status, response.content
    a.refresh_from_db()
    assert (a.stage == "construction") == (status == 200)
    if status == 200:
        assert response.json()["actual_start_date"] == "2026-03-02"
        assert response.json()["version"] == 2


def test_county_cannot_move_its_project_into_another_county(api, city, projects):
    a = projects["a"]
    response = api("linchuan").send(
        "patch", f"/api/projects/{a.pk}", {"region_id": city["qingshan"].pk, "version": 1}
    )
    assert "body.region_id" in errors(response)
    a.refresh_from_db()
    assert a.region == city["linchuan"]


# --- List: the page's filters and totals ----------------------------------------------------


@pytest.fixture
def varied(city, users, projects):
    year = current_year()
    ListingFactory(project=projects["a"], year=year, planned_investment=Decimal("3000.00"), key_level="city")
    ListingFactory(
        project=projects["b"], year=year, planned_investment=Decimal("20000.50"), is_new_start=True
    )
    projects["b"].stage = "construction"
    projects["b"].actual_start_date = dt.date(2026, 1, 5)
    projects["b"].save()
    campaign = CampaignFactory()
    services.membership_set(actor=users["admin"], project=projects["zone"], campaign=campaign, batch="start")
    return projects


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "青山"},
        {"q": "产业园 临川"},
        {"stage": ["preparing", "construction"]},
        {"stage": "construction"},
        {"list_kind": "listed"},
        {"key_level": "any", "sort": "name"},
        {"new_start": "1"},
        {"min_total": "10000", "sort": "-investment"},
        {"max_total": "50000", "sort": "name"},
        {"sector": "industry"},
        {"region": "linchuan"},
        {"campaign": "first"},
    ],
)
def test_list_filters_give_the_same_projects_as_the_page(client, api, users, city, varied, params):
    from majorprojects.projects.models import Campaign

    params = dict(params)
    if params.get("sector"):
        params["sector"] = city[params["sector"]].pk
    if params.get("region"):
        params["region"] = city[params["region"]].pk
    if params.get("campaign"):
        params["campaign"] = Campaign.objects.get().pk
    client.force_login(users["admin"])
    page = client.get("/projects/", params)
    expected = [p.pk for p in page.context["page"]]
    client.logout()
    response = api("admin").get("/api/projects", params)
    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["items"]] == expected
    totals = page.context["totals"]
    assert response.json()["totals"] == {
        "count": totals["count"],
        "total_investment": f"{totals['total_investment']:.2f}",
        "planned_investment": f"{totals['planned_investment']:.2f}",
    }


def test_invalid_filter_values_are_422_with_chinese_messages(api, city, projects):
    response = api("linchuan").get(
        "/api/projects",
        {"year": "去年", "stage": "finished", "region": city["qingshan"].pk, "start_from": "2026-13-01"},
    )
    found = errors(response)
    assert set(found) == {"query.year", "query.stage", "query.region", "query.start_from"}
    assert found["query.year"] == "输入整数。"
    assert "有效" in found["query.stage"] and "有效" in found["query.region"]


def test_limit_is_capped_at_500(api, projects):
    assert errors(api("admin").get("/api/projects", {"limit": 501})) == {"query.limit": "不能大于 500。"}


def test_pagination_keeps_count_and_totals_of_the_whole_result(api, projects):
    response = api("admin").get("/api/projects", {"limit": 1, "offset": 1, "sort": "name"})
    body = response.json()
    assert [i["name"] for i in body["items"]] == ["经开区标准厂房"]
    assert body["count"] == 3 and body["totals"]["count"] == 3
    assert body["totals"]["total_investment"] == "178000.00"


@pytest.fixture
def package(city, projects):
    """A package in 临川区 with two sub-projects: 10000.25 + 5000.00 = 15000.25 (plan 1000.00)."""
    year = current_year()
    package = ProjectFactory(
        name="临川区城市更新打包项目",
        owner_unit=city["owner_a"],
        sector=city["infra"],
        is_package=True,
        total_investment=Decimal("15000.25"),
    )
    first = ProjectFactory(
        name="老旧小区改造",
        owner_unit=city["owner_a"],
        sector=city["infra"],
        parent=package,
        total_investment=Decimal("10000.25"),
    )
    ProjectFactory(
        name="背街小巷整治",
        owner_unit=city["owner_a"],
        sector=city["infra"],
        parent=package,
        total_investment=Decimal("5000.00"),
    )
    ListingFactory(project=first, year=year, planned_investment=Decimal("1000.00"))
    ListingFactory(project=package, year=year, planned_investment=Decimal("1000.00"))
    ListingFactory(project=projects["a"], year=year, planned_investment=Decimal("3000.00"))
    ListingFactory(project=projects["b"], year=year, planned_investment=Decimal("20000.50"))
    return package


@pytest.mark.parametrize(
    ("params", "rows", "totals"),
    [
        # a 50000 + b 120000 + zone 8000 + package 15000.25; plan 3000 + 20000.50 + 1000
        ({}, 4, {"count": 4, "total_investment": "193000.25", "planned_investment": "24000.50"}),
        # sub-projects listed beside their package: the package is not counted twice
        (
            {"children": "1"},
            6,
            {"count": 5, "total_investment": "193000.25", "planned_investment": "24000.50"},
        ),
        # only this year's listed projects: a, b and the package
        (
            {"list_kind": "listed"},
            3,
            {"count": 3, "total_investment": "185000.25", "planned_investment": "24000.50"},
        ),
    ],
)
def test_totals_match_hand_worked_numbers(api, package, params, rows, totals):
    body = api("admin").get("/api/projects", params).json()
    assert body["count"] == rows
    assert body["totals"] == totals
    assert body["year"] == current_year()


def test_county_totals_cover_its_subtree_only(api, package):
    body = api("linchuan").get("/api/projects").json()
    # a 50000 + zone 8000 + package 15000.25; plan 3000 + 1000
    assert body["totals"] == {"count": 3, "total_investment": "73000.25", "planned_investment": "4000.00"}


def test_list_rows_carry_the_years_listing_and_amounts_as_strings(api, package, projects):
    items = {i["name"]: i for i in api("admin").get("/api/projects").json()["items"]}
    b = items["青山县环城公路"]
    assert b["total_investment"] == "120000.00"
    assert b["year_listing"] == {
        "list_kind": "construction",
        "key_level": "",
        "planned_investment": "20000.50",
        "is_new_start": False,
    }
    assert items["经开区标准厂房"]["year_listing"] is None
    assert b["industry"] == {"id": projects["b"].industry_id, "name": "交通"}


def test_list_query_count_does_not_grow_with_rows(api, city, package, django_assert_max_num_queries):
    caller = api("admin")
    for i in range(20):
        ProjectFactory(owner_unit=city["owner_b"], sector=city["industry"], name=f"批量项目{i}")
    with django_assert_max_num_queries(12):
        response = caller.get("/api/projects", {"limit": 100})
    assert response.json()["count"] == 24


# --- Detail ---------------------------------------------------------------------------------


def test_detail_has_listings_funding_tags_campaigns_and_version(api, users, projects):
    a = projects["a"]
    services.project_update(
        actor=users["admin"],
        project=a,
        fields={},
        tags=["数字经济", "省重点"],
        fundings={"bank_loan": Decimal("20000"), "self_raised": Decimal("30000")},
    )
    ListingFactory(project=a, year=2025, planned_investment=Decimal("5000.00"), list_kind="reserve")
    services.membership_set(
        actor=users["admin"], project=a, campaign=CampaignFactory(name="第一批"), batch="sign"
    )
    body = api("linchuan").get(f"/api/projects/{a.pk}").json()
    assert body["version"] == 2
    assert body["tags"] == ["数字经济", "省重点"]
    assert body["funding"] == {"bank_loan": "20000.00", "self_raised": "30000.00"}
    assert body["listings"][0]["year"] == 2025
    assert body["listings"][0]["list_kind_label"] == "储备项目"
    assert body["listings"][0]["planned_investment"] == "5000.00"
    assert body["campaigns"][0]["name"] == "第一批" and body["campaigns"][0]["batch"] == "sign"
    assert body["package"] is None
    assert body["stage_label"] == "前期"


def test_package_detail_lists_its_children_and_their_sums(api, package):
    body = api("owner_a").get(f"/api/projects/{package.pk}").json()
    rollup = body["package"]
    assert rollup["total_investment"] == "15000.25"
    assert rollup["planned_investment"] == "1000.00"
    assert sorted(c["name"] for c in rollup["children"]) == ["老旧小区改造", "背街小巷整治"]
    assert body["year_listing"]["planned_investment"] == "1000.00"


# --- Create ---------------------------------------------------------------------------------


def new_project(city, **extra):
    return {
        "name": "临川区智能制造产业园",
        "owner_unit_id": city["owner_a"].pk,
        "region_id": city["linchuan"].pk,
        "sector_id": city["industry"].pk,
        "total_investment": "3.5亿",
        **extra,
    }


def test_county_creates_a_project(api, users, city):
    body = new_project(
        city,
        code="2026-431902-48-01-000001",
        tags=["数字经济", " 数字经济 ", "制造业"],
        funding={"bank_loan": 10000, "self_raised": "2.5亿"},
        planned_start_date="2026-06-01",
        is_private_investment=True,
    )
    response = api("linchuan").send("post", "/api/projects", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total_investment"] == "35000.00"
    assert data["funding"] == {"bank_loan": "10000.00", "self_raised": "25000.00"}
    assert data["tags"] == ["制造业", "数字经济"]
    assert data["approval_regime"] == "filing" and data["is_private_investment"] is True
    assert data["version"] == 1
    project = Project.objects.get(pk=data["id"])
    assert project.created_by == users["linchuan"]
    assert Event.objects.filter(verb="project_create", project=project, actor=users["linchuan"]).exists()


def test_project_unit_creates_for_itself_without_naming_the_owner(api, city):
    body = new_project(city, total_investment=1234.56)
    del body["owner_unit_id"]
    response = api("owner_a").send("post", "/api/projects", body)
    assert response.status_code == 201, response.content
    assert response.json()["owner_unit"]["id"] == city["owner_a"].pk
    assert response.json()["total_investment"] == "1234.56"


def test_project_unit_cannot_create_for_another_owner(api, city):
    response = api("owner_a").send(
        "post", "/api/projects", new_project(city, owner_unit_id=city["owner_b"].pk)
    )
    assert "body.owner_unit_id" in errors(response)
    assert not Project.objects.exists()


@pytest.mark.parametrize("account", ["leader", "auditor"])
def test_readers_cannot_create(api, city, account):
    response = api(account).send("post", "/api/projects", new_project(city))
    assert response.status_code == 403
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        ({"name": None}, "body.name", "请填写文本。"),
        ({"name": "  "}, "body.name", "这个字段是必填项。"),
        ({"total_investment": "很多"}, "body.total_investment", "无法识别的金额“很多”"),
        ({"total_investment": "-5"}, "body.total_investment", "金额不能为负数"),
        ({"code": "2026-01"}, "body.code", "项目代码格式应为"),
        ({"start_year": 2027, "end_year": 2026}, "body.end_year", "建设截止年不能早于起始年。"),
        ({"funding": {"bank_loan": "4亿"}}, "body.total_investment", "资金来源合计 40000.00 万元超过总投资"),
        ({"funding": {"gold": 1}}, "body.funding.gold", "请选择以下之一：central_budget"),
        ({"sector_id": "交通"}, "body.sector_id", "请填写整数。"),
        ({"planned_start_date": "明年"}, "body.planned_start_date", "请填写有效日期，格式 YYYY-MM-DD。"),
        ({"owner_unit_id": 999999}, "body.owner_unit_id", "选择一个有效的选项"),
        ({"funding": {"bank_loan": "一些"}}, "body.funding.bank_loan", "无法识别的金额"),
        ({"total_investment": True}, "body.total_investment", "请填写金额（万元）。"),
        ({"tags": "数字经济"}, "body.tags", "请提供列表。"),
    ],
)
def test_create_field_errors_are_chinese_and_name_the_field(api, city, change, loc, message):
    body = {**new_project(city), **change}
    response = api("linchuan").send("post", "/api/projects", body)
    found = errors(response)
    assert loc in found, found
    assert message in found[loc]
    assert not Project.objects.exists()


def test_missing_required_fields_are_listed_together(api):
    found = errors(api("admin").send("post", "/api/projects", {}))
    assert found == {
        "body.name": "此项为必填项。",
        "body.region_id": "此项为必填项。",
        "body.sector_id": "此项为必填项。",
        "body.total_investment": "此项为必填项。",
    }


def test_malformed_json_is_400(api):
    caller = api("admin")
    response = caller.client.post("/api/projects", data="{", content_type="application/json", **caller.auth)
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体不是有效的 JSON。"}


# --- Update ---------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, projects):
    b = projects["b"]
    response = api("qingshan").send(
        "patch", f"/api/projects/{b.pk}", {"total_investment": "12.5亿", "version": 1}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["total_investment"] == "125000.00"
    assert data["name"] == "青山县环城公路"
    assert data["industry"]["name"] == "交通"
    assert data["version"] == 2
    event = Event.objects.get(verb="project_update")
    assert set(event.details) == {"total_investment"}


def test_patch_null_clears_an_optional_field_and_lists_replace(api, users, projects):
    b = projects["b"]
    services.project_update(actor=users["admin"], project=b, fields={}, tags=["旧标签"])
    body = {"contact_phone": None, "tags": ["交通强国"], "funding": {"special_bond": 50000}, "version": 2}
    data = api("qingshan").send("patch", f"/api/projects/{b.pk}", body).json()
    assert data["tags"] == ["交通强国"]
    assert data["funding"] == {"special_bond": "50000.00"}
    body = {"industry_id": None, "funding": {}, "version": 3}
    data = api("admin").send("patch", f"/api/projects/{b.pk}", body).json()
    assert data["industry"] is None and data["funding"] == {}


def test_stale_version_is_409_and_changes_nothing(api, projects):
    a = projects["a"]
    caller = api("linchuan")
    assert caller.send("patch", f"/api/projects/{a.pk}", {"name": "第一次", "version": 1}).status_code == 200
    response = caller.send("patch", f"/api/projects/{a.pk}", {"name": "第二次", "version": 1})
    assert response.status_code == 409
    assert response.json() == {"detail": "该记录已被他人修改，请刷新页面后重新编辑。"}
    a.refresh_from_db()
    assert a.name == "第一次" and a.version == 2


def test_patch_without_version_is_422(api, projects):
    found = errors(api("admin").send("patch", f"/api/projects/{projects['a'].pk}", {"name": "x"}))
    assert found == {"body.version": "此项为必填项。"}


def test_failed_patch_does_not_spend_the_version(api, projects):
    a = projects["a"]
    caller = api("admin")
    errors(
        caller.send("patch", f"/api/projects/{a.pk}", {"start_year": 2030, "end_year": 2020, "version": 1})
    )
    a.refresh_from_db()
    assert a.version == 1
    assert (
        caller.send("patch", f"/api/projects/{a.pk}", {"name": "可以保存", "version": 1}).status_code == 200
    )


# --- Transitions and listings ---------------------------------------------------------------


def test_transition_rules_come_back_as_field_errors(api, projects):
    a = projects["a"]
    caller = api("linchuan")
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    found = errors(
        caller.send(
            "post", f"/api/projects/{a.pk}/transitions", {"stage": "construction", "on_date": tomorrow}
        )
    )
    assert found == {"body.on_date": "日期不能晚于今天。"}
    found = errors(caller.send("post", f"/api/projects/{a.pk}/transitions", {"stage": "completed"}))
    assert found == {"body.stage": "项目尚未开工，不能直接标记为竣工或投产。"}
    found = errors(caller.send("post", f"/api/projects/{a.pk}/transitions", {"stage": "started"}))
    assert found["body.stage"].startswith("请选择以下之一：conceived、reserved")


def test_only_the_city_admin_moves_a_project_back(api, projects):
    a = projects["a"]
    response = api("linchuan").send("post", f"/api/projects/{a.pk}/transitions", {"stage": "reserved"})
    assert response.status_code == 403
    assert response.json() == {"detail": "阶段回退须由市级管理员操作。"}
    admin = api("admin")
    found = errors(admin.send("post", f"/api/projects/{a.pk}/transitions", {"stage": "reserved"}))
    assert found == {"body.note": "阶段回退须填写原因。"}
    response = admin.send("post", f"/api/projects/{a.pk}/transitions", {"stage": "reserved", "note": "误报"})
    assert response.json()["stage"] == "reserved"


def test_county_puts_a_project_on_a_years_list(api, projects):
    a = projects["a"]
    body = {
        "list_kind": "construction",
        "key_level": "city",
        "planned_investment": "1.2亿",
        "planned_start": "2026-04-01",
        "is_new_start": True,
    }
    response = api("linchuan").send("put", f"/api/projects/{a.pk}/listings/2026", body)
    assert response.status_code == 200, response.content
    assert response.json()["planned_investment"] == "12000.00"
    assert response.json()["key_level_label"] == "市重点"
    body = {"list_kind": "reserve", "planned_investment": 0}
    response = api("linchuan").send("put", f"/api/projects/{a.pk}/listings/2026", body)
    listing = AnnualListing.objects.get(project=a, year=2026)
    assert (listing.list_kind, listing.key_level, listing.is_new_start) == ("reserve", "", False)


@pytest.mark.parametrize(
    ("account", "status"), [("owner_a", 403), ("leader", 403), ("qingshan", 404), ("jtj", 404)]
)
def test_listing_is_for_government_accounts_in_scope(api, projects, account, status):
    a = projects["a"]
    body = {"list_kind": "construction", "planned_investment": "100"}
    assert api(account).send("put", f"/api/projects/{a.pk}/listings/2026", body).status_code == status
    assert not AnnualListing.objects.exists()


def test_listing_errors(api, projects):
    a = projects["a"]
    caller = api("admin")
    found = errors(
        caller.send(
            "put",
            f"/api/projects/{a.pk}/listings/2026",
            {"list_kind": "construction", "planned_investment": "6亿"},
        )
    )
    assert found == {"body.planned_investment": "年度计划投资不能超过项目总投资。"}
    found = errors(
        caller.send(
            "put", f"/api/projects/{a.pk}/listings/1999", {"list_kind": "reserve", "planned_investment": 1}
        )
    )
    assert found == {"path.year": "不能小于 2000。"}
    found = errors(
        caller.send(
            "put",
            f"/api/projects/{a.pk}/listings/2026",
            {"list_kind": "reserve", "planned_investment": "若干"},
        )
    )
    assert "无法识别的金额“若干”" in found["body.planned_investment"]
    found = errors(
        caller.send(
            "put", f"/api/projects/{a.pk}/listings/2026", {"list_kind": "annual", "planned_investment": 1}
        )
    )
    assert found == {"body.list_kind": "请选择以下之一：reserve、construction。"}


# --- Schema and docs ------------------------------------------------------------------------


def test_openapi_schema_lists_the_endpoints(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/projects",
        "/api/projects/{project_id}",
        "/api/projects/{project_id}/transitions",
        "/api/projects/{project_id}/listings/{year}",
        "/api/regions",
        "/api/units",
        "/api/sectors",
        "/api/people",
        "/api/work-groups",
        "/api/me",
    } <= set(paths)
    assert set(paths["/api/projects/{project_id}"]) == {"get", "patch"}
    params = {p["name"] for p in paths["/api/projects"]["get"]["parameters"]}
    assert {"q", "year", "stage", "region", "min_total", "sort", "limit", "offset"} <= params
    schemes = response.json()["components"]["securitySchemes"]
    assert {"BearerToken", "HeaderToken", "SessionAuth"} <= set(schemes)


def test_docs_page_renders(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "swagger-ui-bundle.js" in response.content.decode()


def test_docs_page_loads_no_third_party_assets(client):
    html = client.get("/api/docs").content.decode()
    assert "cdn.jsdelivr.net" not in html and "django-ninja.dev" not in html
    assert "/static/ninja/swagger-ui-bundle" in html


def test_errors_without_a_field_point_at_the_whole_body():
    from django.core.exceptions import ValidationError

    from majorprojects.api import django_validation_errors

    assert django_validation_errors(ValidationError("保存后该项目将超出您的管辖范围")) == [
        {"loc": ["body"], "msg": "保存后该项目将超出您的管辖范围", "type": "invalid"}
    ]
    found = django_validation_errors(ValidationError({"__all__": "整体", "funding.other": "分项"}), "body")
    assert found == [
        {"loc": ["body"], "msg": "整体", "type": "invalid"},
        {"loc": ["body", "funding", "other"], "msg": "分项", "type": "invalid"},
    ]
