"""Directory endpoints and /api/me: what every account working with projects may read."""

import pytest

from majorprojects.accounts.services import token_create
from majorprojects.factories import PersonFactory, UnitFactory, WorkGroupFactory
from majorprojects.organisation.models import UnitKind


@pytest.fixture
def get(client, users):
    def as_account(name, path, params=None):
        _, key = token_create(actor=users[name], name="目录同步")
        return client.get(path, params or {}, HTTP_AUTHORIZATION=f"Bearer {key}")

    return as_account


def test_regions_are_a_flat_tree_in_path_order(get, city):
    response = get("qingshan", "/api/regions")
    assert response.status_code == 200
    rows = response.json()
    assert [r["name"] for r in rows] == ["湖南省", "云江市", "临川区", "云江经济技术开发区", "青山县"]
    zone = rows[3]
    assert zone == {
        "id": city["zone"].pk,
        "code": "431971",
        "name": "云江经济技术开发区",
        "short_name": "",
        "kind": "zone",
        "kind_label": "功能区（经开区/高新区/管理区）",
        "parent_id": city["linchuan"].pk,
        "depth": 3,
        "path": "/430000/431900/431902/431971/",
    }


def test_sectors_list_categories_and_their_industries(get, city):
    rows = {r["code"]: r for r in get("owner_a", "/api/sectors").json()}
    assert rows["infra-transport"]["parent_id"] == city["infra"].pk
    assert rows["infra"]["parent_id"] is None


def test_units_filter_by_kind_region_subtree_and_text(get, city):
    UnitFactory(name="经开区投资发展有限公司", region=city["zone"])
    body = get("admin", "/api/units", {"region": city["linchuan"].pk}).json()
    assert sorted(u["name"] for u in body["items"]) == ["临川建设投资有限公司", "经开区投资发展有限公司"]
    body = get("admin", "/api/units", {"kind": UnitKind.DEPARTMENT}).json()
    assert [u["name"] for u in body["items"]] == ["云江市交通运输局"]
    assert body["items"][0]["sector_ids"] == [city["transport"].pk]
    body = get("admin", "/api/units", {"q": "青山"}).json()
    assert [u["name"] for u in body["items"]] == ["青山县城市发展集团有限公司"]


def test_units_are_paginated(get, city):
    body = get("admin", "/api/units", {"limit": 2, "offset": 0}).json()
    assert body["count"] == 3 and len(body["items"]) == 2
    body = get("admin", "/api/units", {"limit": 2, "offset": 2}).json()
    assert len(body["items"]) == 1
    response = get("admin", "/api/units", {"limit": 501})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["query", "limit"], "msg": "不能大于 500。", "type": "less_than_equal"}
    ]


def test_units_reject_an_unknown_kind_in_chinese(get, city):
    response = get("admin", "/api/units", {"kind": "club"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("请选择以下之一：department、government")


def test_people_can_be_limited_to_leaders(get, city):
    PersonFactory(name="王市长", position="市长", is_leader=True)
    PersonFactory(name="李科长", position="科长", is_leader=False, unit=city["jtj"])
    body = get("leader", "/api/people", {"leaders": 1}).json()
    assert [p["name"] for p in body["items"]] == ["王市长"]
    body = get("leader", "/api/people").json()
    assert body["count"] == 2
    body = get("leader", "/api/people", {"unit": city["jtj"].pk}).json()
    assert [p["name"] for p in body["items"]] == ["李科长"]


def test_work_groups_name_their_units(get, city):
    group = WorkGroupFactory(name="交通项目专班", lead_unit=city["jtj"])
    group.member_units.add(city["owner_b"])
    rows = get("jtj", "/api/work-groups").json()
    assert rows == [
        {
            "id": group.pk,
            "name": "交通项目专班",
            "kind": "project",
            "kind_label": "项目专班",
            "lead_unit_id": city["jtj"].pk,
            "member_unit_ids": [city["owner_b"].pk],
            "leader_id": None,
            "duties": "",
        }
    ]


@pytest.mark.parametrize(
    "path", ["/api/regions", "/api/units", "/api/sectors", "/api/people", "/api/work-groups"]
)
def test_directory_needs_an_account_that_works_with_projects(client, get, city, path):
    assert client.get(path).status_code == 401
    assert get("auditor", path).status_code == 403
    assert get("owner_a", path).status_code == 200


@pytest.mark.parametrize(
    ("account", "description", "visible", "changes"),
    [
        ("admin", "全部项目（可修改）", 3, True),
        ("leader", "全部项目（只读）", 3, False),
        ("linchuan", "临川区及其下辖区域的项目", 2, True),
        ("jtj", "云江市交通运输局负责的项目，及其主管类别/行业（交通）的项目", 1, True),
        ("owner_a", "临川建设投资有限公司的项目（含其打包项目的子项目）", 2, True),
        ("auditor", "不查看项目数据（管理账号、查阅审计日志）", 0, False),
    ],
)
def test_me_describes_the_account_and_its_scope(get, users, projects, account, description, visible, changes):
    body = get(account, "/api/me").json()
    user = users[account]
    assert body["username"] == user.username
    assert body["role"] == user.role
    assert body["authenticated_by"] == "token"
    assert body["scope"]["description"] == description
    assert body["scope"]["visible_projects"] == visible
    assert body["scope"]["changes_projects"] is changes
    assert body["scope"]["reads_projects"] is (account != "auditor")


def test_me_through_the_browser_session(client, users, city):
    client.force_login(users["linchuan"])
    body = client.get("/api/me").json()
    assert body["authenticated_by"] == "session"
    assert body["region"] == {"id": city["linchuan"].pk, "code": "431902", "name": "临川区"}
    assert body["unit"] is None
    assert body["scope"]["manages_listings"] is True
