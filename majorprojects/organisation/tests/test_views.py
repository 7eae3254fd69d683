"""The organisation directory: everyone working with projects reads it; the city admin edits it."""

import pytest

from majorprojects.audit.models import Event
from majorprojects.organisation.models import Region


@pytest.mark.parametrize("section", ["regions", "units", "people", "workgroups", "sectors"])
def test_directory_pages_render(client, users, section):
    client.force_login(users["linchuan"])
    response = client.get(f"/org/{section}/")
    assert response.status_code == 200
    assert "编辑" not in response.content.decode()


def test_admin_adds_zone_and_subtree_paths_follow(client, users, city):
    client.force_login(users["admin"])
    response = client.post(
        "/org/regions/new/",
        {
            "code": "431972",
            "name": "云江高新技术产业开发区",
            "kind": "zone",
            "parent": city["city"].pk,
            "sort_order": 0,
        },
    )
    assert response.status_code == 302
    zone = Region.objects.get(code="431972")
    assert zone.path == "/430000/431900/431972/" and zone.depth == 2
    assert Event.objects.filter(verb="region_create").exists()
    # moving 临川区 under 青山县 re-paths its zone
    linchuan = city["linchuan"]
    client.post(
        f"/org/regions/{linchuan.pk}/edit/",
        {
            "code": linchuan.code,
            "name": linchuan.name,
            "kind": "district",
            "parent": city["qingshan"].pk,
            "sort_order": 0,
        },
    )
    city["zone"].refresh_from_db()
    assert city["zone"].path == "/430000/431900/431921/431902/431971/"


def test_region_code_must_be_six_digits(client, users, city):
    client.force_login(users["admin"])
    response = client.post(
        "/org/regions/new/", {"code": "4319", "name": "坏", "kind": "zone", "sort_order": 0}
    )
    assert "区划代码应为 6 位数字" in response.content.decode()


def test_region_cannot_be_moved_under_itself(client, users, city):
    client.force_login(users["admin"])
    linchuan = city["linchuan"]
    response = client.post(
        f"/org/regions/{linchuan.pk}/edit/",
        {
            "code": linchuan.code,
            "name": linchuan.name,
            "kind": "district",
            "parent": city["zone"].pk,
            "sort_order": 0,
        },
    )
    assert "上级区域不能是本区域或其下级" in response.content.decode()


def test_only_city_admin_edits(client, users):
    client.force_login(users["linchuan"])
    assert client.get("/org/units/new/").status_code == 403
    client.force_login(users["auditor"])
    assert client.get("/org/units/").status_code == 403
