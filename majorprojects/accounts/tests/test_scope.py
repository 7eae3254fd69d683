"""One scoping module decides what each account sees: prove it across URL, export and search."""

import io

import openpyxl
import pytest

from majorprojects.accounts.scope import changeable_projects, visible_projects


def names(qs):
    return sorted(qs.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("admin", ["临川新材料产业园", "经开区标准厂房", "青山县环城公路"]),
        ("leader", ["临川新材料产业园", "经开区标准厂房", "青山县环城公路"]),
        ("linchuan", ["临川新材料产业园", "经开区标准厂房"]),  # the zone sits under 临川区
        ("qingshan", ["青山县环城公路"]),
        ("jtj", ["青山县环城公路"]),  # transport industry is governed by the transport bureau
        ("owner_a", ["临川新材料产业园", "经开区标准厂房"]),
        ("auditor", []),
    ],
)
def test_each_role_sees_its_own_scope(users, projects, account, expected):
    assert names(visible_projects(users[account])) == expected


def test_leader_reads_but_cannot_change(users, projects):
    assert names(changeable_projects(users["leader"])) == []


def test_disabled_account_sees_nothing(users, projects):
    user = users["linchuan"]
    user.is_active = False
    assert names(visible_projects(user)) == []


def test_county_cannot_open_other_county_project_by_url(client, users, projects):
    client.force_login(users["linchuan"])
    b = projects["b"]
    for url in (f"/projects/{b.pk}/", f"/projects/{b.pk}/tab/timeline/", f"/projects/{b.pk}/edit/"):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/projects/{b.pk}/edit/", {"name": "改名"})
    assert response.status_code == 404
    response = client.post(
        f"/projects/{b.pk}/transition/", {"stage": "construction", "on_date": "2026-01-05"}
    )
    assert response.status_code == 404
    b.refresh_from_db()
    assert b.name == "青山县环城公路" and b.stage == "preparing"


def test_county_search_and_export_never_show_other_county(client, users, projects):
    client.force_login(users["linchuan"])
    response = client.get("/projects/", {"q": "青山"})
    assert "青山县环城公路" not in response.content.decode()
    response = client.get("/projects/export.xlsx", {"q": "青山"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "青山县环城公路" not in values
    response = client.get("/projects/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    exported = {row[1] for row in sheet.iter_rows(min_row=4, values_only=True) if isinstance(row[0], int)}
    assert exported == {"临川新材料产业园", "经开区标准厂房"}


def test_county_region_filter_cannot_widen_scope(client, users, projects, city):
    client.force_login(users["linchuan"])
    response = client.get("/projects/", {"region": city["qingshan"].pk})
    assert "青山县环城公路" not in response.content.decode()


def test_auditor_gets_no_project_pages(client, users, projects):
    client.force_login(users["auditor"])
    assert client.get("/projects/").status_code == 403
    assert client.get(f"/projects/{projects['a'].pk}/").status_code == 403
    assert client.get("/audit/").status_code == 200


def test_business_admin_cannot_read_audit_or_manage_accounts(client, users):
    client.force_login(users["admin"])
    assert client.get("/audit/").status_code == 403
    assert client.get("/accounts/").status_code == 403


def test_cross_cutting_department_reads_all_but_changes_only_its_own(users, projects, city):
    from majorprojects.factories import UnitFactory, UserFactory
    from majorprojects.organisation.models import UnitKind

    tongji = UnitFactory(
        name="云江市统计局", kind=UnitKind.DEPARTMENT, region=city["city"], reads_all_projects=True
    )
    user = UserFactory(username="tongji", role="department", unit=tongji)
    assert names(visible_projects(user)) == ["临川新材料产业园", "经开区标准厂房", "青山县环城公路"]
    assert names(changeable_projects(user)) == []
