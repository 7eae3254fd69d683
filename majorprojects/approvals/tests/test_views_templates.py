"""The city admin's templates page: items per regime in order, add, remove and move up/down, and
item types' validity and deadline settings; everyone else gets 403, unknown regimes 404."""

import pytest
from django.urls import reverse

from majorprojects.approvals import selectors
from majorprojects.approvals.models import ApprovalItemType, TemplateItem, UsedWhen
from majorprojects.audit.models import Event

from .conftest import item_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, users):
    client.force_login(users["admin"])
    return client


def order(regime) -> list[str]:
    return [e.item_type.name for e in selectors.templates()[regime]]


def test_page_lists_each_regime_in_order(db, admin):
    response = admin.get(reverse("approvals:templates"))
    page = response.content.decode()
    assert response.status_code == 200
    for regime in ("approval", "verification", "filing"):
        assert f'data-testid="template-{regime}"' in page
    assert page.index("项目建议书") < page.index("施工许可")
    assert "《建筑法》第九条" in page


def test_add_remove_and_move(db, admin):
    bidding = item_type("bidding")
    assert "招标" not in order("filing")
    response = admin.post(
        reverse("approvals:template_add", args=["filing"]),
        {"item_type": bidding.pk, "position": 2},
        follow=True,
    )
    assert "已将“招标”加入备案类模板第 2 项" in response.content.decode()
    assert order("filing")[1] == "招标"
    admin.post(reverse("approvals:template_move", args=["filing", bidding.pk]), {"direction": "up"})
    assert order("filing")[0] == "招标"
    admin.post(reverse("approvals:template_move", args=["filing", bidding.pk]), {"direction": "up"})
    assert order("filing")[0] == "招标"  # already first: nothing moves
    admin.post(reverse("approvals:template_move", args=["filing", bidding.pk]), {"direction": "down"})
    assert order("filing")[:2] == ["项目备案", "招标"]
    response = admin.post(reverse("approvals:template_remove", args=["filing", bidding.pk]), follow=True)
    assert "已从备案类模板移除“招标”" in response.content.decode()
    assert "招标" not in order("filing")
    verbs = list(Event.objects.filter(verb__startswith="approval_template").values_list("verb", flat=True))
    assert verbs.count("approval_template_reorder") == 2  # the no-op move writes nothing


def test_bad_template_requests(db, admin):
    eia = item_type("eia")
    response = admin.post(
        reverse("approvals:template_add", args=["filing"]), {"item_type": eia.pk}, follow=True
    )
    assert "请选择要加入模板的事项" in response.content.decode()  # already in it: not offered
    assert (
        admin.post(reverse("approvals:template_add", args=["nonsense"]), {"item_type": eia.pk}).status_code
        == 404
    )
    assert (
        admin.post(reverse("approvals:template_move", args=["filing", item_type("bidding").pk])).status_code
        == 404
    )
    assert admin.post(reverse("approvals:template_remove", args=["filing", 99999])).status_code == 404
    assert admin.get(reverse("approvals:template_remove", args=["filing", eia.pk])).status_code == 405
    assert TemplateItem.objects.filter(regime="filing", item_type=eia).exists()


@pytest.mark.parametrize("role", ["leader", "linchuan", "jtj", "owner_a", "auditor"])
def test_only_the_city_admin(db, client, users, role):
    client.force_login(users[role])
    eia = item_type("eia")
    assert client.get(reverse("approvals:templates")).status_code == 403
    assert client.post(reverse("approvals:template_remove", args=["filing", eia.pk])).status_code == 403
    assert (
        client.post(reverse("approvals:template_add", args=["filing"]), {"item_type": eia.pk}).status_code
        == 403
    )
    assert client.get(reverse("approvals:item_type_edit", args=[eia.pk])).status_code == 403
    assert client.post(reverse("approvals:item_type_new"), {"name": "x"}).status_code == 403
    assert "环评批复" in order("filing")


def _type_data(t: ApprovalItemType, **changes) -> dict:
    data = {
        "code": t.code,
        "name": t.name,
        "approving_body": t.approving_body,
        "validity_months": t.validity_months or "",
        "used_when": t.used_when,
        "used_by": t.used_by_id or "",
        "warn_days": t.warn_days,
        "deadline_workdays": t.deadline_workdays or "",
        "basis": t.basis,
        "sort_order": t.sort_order,
        "is_active": "on" if t.is_active else "",
    }
    data.update(changes)
    return data


def test_edit_item_type_settings(db, admin):
    eia = item_type("eia")
    url = reverse("approvals:item_type_edit", args=[eia.pk])
    assert admin.get(url).status_code == 200
    response = admin.post(url, _type_data(eia, validity_months=48, warn_days=120, deadline_workdays=30))
    assert response.status_code == 302
    eia.refresh_from_db()
    assert (eia.validity_months, eia.warn_days, eia.deadline_workdays) == (48, 120, 30)
    assert Event.objects.filter(verb="approval_type_update").count() == 1


def test_item_type_errors_are_shown_under_the_field(db, admin):
    eia = item_type("eia")
    url = reverse("approvals:item_type_edit", args=[eia.pk])
    response = admin.post(url, _type_data(eia, used_when=UsedWhen.ITEM, used_by=""))
    assert response.status_code == 200
    assert "须选择后续事项" in " ".join(response.context["form"].errors["used_by"])
    response = admin.post(url, _type_data(eia, validity_months=0))
    assert response.context["form"].errors["validity_months"]
    eia.refresh_from_db()
    assert eia.validity_months == 60
    assert admin.get(reverse("approvals:item_type_edit", args=[99999])).status_code == 404


def test_create_item_type(db, admin):
    response = admin.post(
        reverse("approvals:item_type_new"),
        {
            "code": "flood",
            "name": "洪水影响评价",
            "approving_body": "水行政主管部门",
            "used_when": "start",
            "warn_days": 90,
            "deadline_workdays": 20,
            "sort_order": 200,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert ApprovalItemType.objects.get(code="flood").deadline_workdays == 20
    page = admin.get(reverse("approvals:templates")).content.decode()
    assert "洪水影响评价" in page
