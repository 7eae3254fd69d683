"""Item types and templates as data: the seeded list, applying a regime's template to a project
(idempotent, adding only what is missing) and the city admin's template edits."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from majorprojects.approvals import selectors, services
from majorprojects.approvals.models import ApprovalItem, ApprovalItemType, TemplateItem, UsedWhen
from majorprojects.audit.models import Event
from majorprojects.projects.models import ApprovalRegime

from .conftest import item_type

pytestmark = pytest.mark.django_db

APPROVAL_ORDER = [
    "项目建议书",
    "用地预审与选址意见书",
    "社会稳定风险评估",
    "可研批复",
    "节能审查",
    "环评批复",
    "水土保持方案批复",
    "建设用地规划许可",
    "初步设计及概算批复",
    "建设工程规划许可",
    "施工图审查",
    "招标",
    "施工许可",
]


def names(project):
    return list(
        ApprovalItem.objects.filter(project=project)
        .order_by("position", "id")
        .values_list("item_type__name", flat=True)
    )


def test_seeded_item_types_carry_validity_clocks():
    clocks = {t.code: (t.validity_months, t.used_when) for t in ApprovalItemType.objects.all()}
    assert clocks["feasibility"] == (24, UsedWhen.START)
    assert clocks["verification"] == (24, UsedWhen.START)
    assert clocks["land_prereview"] == (36, UsedWhen.ITEM)
    assert item_type("land_prereview").used_by.code == "land_planning_permit"
    assert clocks["eia"] == (60, UsedWhen.START)
    assert clocks["construction_permit"] == (3, UsedWhen.START)
    assert clocks["bidding"] == (None, UsedWhen.START)
    assert item_type("verification").deadline_workdays == 20


def test_each_regime_gets_its_own_items_in_template_order(ledgers):
    assert names(ledgers["a"]) == APPROVAL_ORDER
    b = names(ledgers["b"])
    assert b[:3] == ["用地预审与选址意见书", "社会稳定风险评估", "项目核准"]
    assert "项目建议书" not in b and "可研批复" not in b and "初步设计及概算批复" not in b
    filing = [t.item_type.name for t in selectors.templates()[ApprovalRegime.FILING]]
    assert filing[0] == "项目备案" and filing[-1] == "施工许可"


def test_applying_again_changes_nothing_and_adds_only_missing(ledgers, users):
    a = ledgers["a"]
    assert services.ledger_apply_templates(a, users["owner_a"]) == []
    ApprovalItem.objects.filter(project=a, item_type__code="eia").delete()
    kept = ApprovalItem.objects.get(project=a, item_type__code="bidding")
    kept.responsible_person = "王工"
    kept.save()
    created = services.ledger_apply_templates(a, users["owner_a"])
    assert [i.item_type.code for i in created] == ["eia"]
    assert ApprovalItem.objects.filter(project=a).count() == len(APPROVAL_ORDER)
    assert ApprovalItem.objects.get(pk=kept.pk).responsible_person == "王工"
    assert Event.objects.filter(project=a, verb="approval_ledger_apply").count() == 2


def test_regime_change_adds_the_new_regimes_items_and_keeps_the_old(ledgers):
    a = ledgers["a"]
    a.approval_regime = ApprovalRegime.VERIFICATION
    a.save()
    created = services.ledger_apply_templates(a)
    assert [i.item_type.code for i in created] == ["verification"]
    assert ApprovalItem.objects.filter(project=a, item_type__code="feasibility").exists()


def test_outsider_cannot_apply_templates(ledgers, users):
    with pytest.raises(PermissionDenied):
        services.ledger_apply_templates(ledgers["b"], users["owner_a"])
    with pytest.raises(PermissionDenied):
        services.ledger_apply_templates(ledgers["a"], users["leader"])


def test_city_admin_adds_removes_and_reorders_template_items(users):
    admin = users["admin"]
    bidding = item_type("bidding")
    entry = services.template_item_add(
        actor=admin, regime=ApprovalRegime.FILING, item_type=bidding, position=2
    )
    assert entry.position == 2
    order = [t.item_type.code for t in selectors.templates()[ApprovalRegime.FILING]]
    assert order[:3] == ["filing", "bidding", "energy"]
    with pytest.raises(ValidationError) as exc:
        services.template_item_add(actor=admin, regime=ApprovalRegime.FILING, item_type=bidding)
    assert "已在备案类模板中" in str(exc.value)
    services.template_item_remove(actor=admin, regime=ApprovalRegime.FILING, item_type=item_type("filing"))
    positions = list(
        TemplateItem.objects.filter(regime=ApprovalRegime.FILING)
        .order_by("position")
        .values_list("position", flat=True)
    )
    assert positions == list(range(1, len(positions) + 1))
    ids = [t.item_type_id for t in selectors.templates()[ApprovalRegime.FILING]]
    reordered = services.template_reorder(actor=admin, regime=ApprovalRegime.FILING, item_type_ids=ids[::-1])
    assert [t.item_type_id for t in reordered] == ids[::-1]
    with pytest.raises(ValidationError):
        services.template_reorder(actor=admin, regime=ApprovalRegime.FILING, item_type_ids=ids[:-1])
    assert Event.objects.filter(verb__startswith="approval_template_").count() == 3


@pytest.mark.parametrize("who", ["owner_a", "linchuan", "jtj", "leader", "auditor"])
def test_only_the_city_admin_edits_templates_and_types(users, who):
    with pytest.raises(PermissionDenied):
        services.template_item_add(
            actor=users[who], regime=ApprovalRegime.FILING, item_type=item_type("bidding")
        )
    with pytest.raises(PermissionDenied):
        services.item_type_save(actor=users[who], item_type=item_type("eia"), fields={"validity_months": 48})


def test_item_type_validity_is_configurable(users):
    eia = services.item_type_save(
        actor=users["admin"], item_type=item_type("eia"), fields={"validity_months": 48}
    )
    assert eia.validity_months == 48
    with pytest.raises(ValidationError) as exc:
        services.item_type_save(
            actor=users["admin"],
            item_type=item_type("eia"),
            fields={"used_when": UsedWhen.ITEM, "used_by": None},
        )
    assert "后续事项" in str(exc.value)
    new = services.item_type_save(
        actor=users["admin"],
        fields={"code": "flood", "name": "防洪评价", "validity_months": 12, "warn_days": 30},
    )
    assert new.pk and Event.objects.filter(verb="approval_type_create").exists()
