"""Editing the readiness rules (开工与资金条件规则): services (create, change, switch off, delete,
Chinese field errors with nothing written, the version check, the last start rule kept), the
rules pages and the /rules API for the city admin, county, department, project unit, leader and
auditor, and that a rule change changes the "ready to start" / "ready for funding" lists."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from majorprojects.accounts.services import token_create
from majorprojects.approvals import selectors, services
from majorprojects.approvals.models import (
    ApprovalItem,
    ItemStatus,
    ReadinessRequirement,
    ReadinessRule,
    ReadinessTarget,
)
from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.projects.models import FundingSource, ProjectFunding

from .conftest import item_type

pytestmark = pytest.mark.django_db

OUTSIDERS = ["leader", "linchuan", "jtj", "owner_a", "auditor"]
START = "具备开工条件"
BOND = "专项债券储备项目须完成招标"
CENTRAL = "中央预算内和超长期特别国债项目须完成初步设计及概算批复"


def rule(name) -> ReadinessRule:
    return ReadinessRule.objects.get(name=name)


def version(name) -> str:
    return services.readiness_rule_version(rule(name))


def granted(project, code, day=date(2026, 6, 1)):
    ApprovalItem.objects.filter(project=project, item_type__code=code).update(
        status=ItemStatus.DONE, actual_date=day, document_number="文号"
    )


def fund(project, source, amount="10000"):
    ProjectFunding.objects.create(project=project, source=source, amount=Decimal(amount))


def ready(user, programme=None) -> dict[int, bool]:
    rows = selectors.ready_for_funding(user, programme) if programme else selectors.ready_to_start(user)
    return {r["project"].pk: r["ready"] for r in rows}


def new_rule(**changes) -> dict:
    fields = {
        "name": "政策性金融工具项目须完成环评",
        "target": ReadinessTarget.FUNDING,
        "programmes": [FundingSource.POLICY_FINANCE],
        "requirements": [{"item_type": item_type("eia"), "statuses": [ItemStatus.DONE]}],
        "basis": "示例依据",
    }
    fields.update(changes)
    return fields


# --- services ----------------------------------------------------------------------------------


def test_a_new_funding_rule_applies_at_once(ledgers, users):
    a = ledgers["a"]
    fund(a, FundingSource.POLICY_FINANCE)
    assert ready(users["admin"], FundingSource.POLICY_FINANCE) == {a.pk: True}  # no rule yet
    created = services.readiness_rule_save(actor=users["admin"], fields=new_rule())
    assert created.programmes == ["policy_finance"] and created.is_active
    assert [r.item_type.code for r in created.requirements.all()] == ["eia"]
    rows = selectors.ready_for_funding(users["admin"], FundingSource.POLICY_FINANCE)
    assert [(r["project"].pk, r["ready"]) for r in rows] == [(a.pk, False)]
    assert [(m["name"], m["wanted"], m["rule"]) for m in rows[0]["missing"]] == [
        ("环评批复", ["已办结"], "政策性金融工具项目须完成环评")
    ]
    granted(a, "eia")
    assert ready(users["admin"], FundingSource.POLICY_FINANCE) == {a.pk: True}
    event = Event.objects.get(verb="approval_rule_create")
    assert event.actor == users["admin"] and event.target_id == str(created.pk)
    assert event.details["requirements"] == {"环评批复": ["已办结"]}
    assert event.details["programmes"] == ["policy_finance"]


def test_changing_a_rule_changes_the_funding_list(ledgers, users):
    a = ledgers["a"]
    fund(a, FundingSource.SPECIAL_BOND)
    granted(a, "bidding")
    assert ready(users["admin"], FundingSource.SPECIAL_BOND) == {a.pk: True}
    bond = rule(BOND)
    services.readiness_rule_save(
        actor=users["admin"],
        rule=bond,
        fields={
            "requirements": [
                {"item_type": item_type("bidding"), "statuses": [ItemStatus.DONE]},
                {
                    "item_type": item_type("drawing_review"),
                    "statuses": [ItemStatus.DONE, ItemStatus.PROMISED],
                },
            ]
        },
        expected_version=version(BOND),
    )
    rows = selectors.ready_for_funding(users["admin"], FundingSource.SPECIAL_BOND)
    assert [(m["name"], m["wanted"]) for m in rows[0]["missing"]] == [("施工图审查", ["已办结", "容缺承诺"])]
    event = Event.objects.get(verb="approval_rule_update")
    assert event.details == {
        "requirements": [{"招标": ["已办结"]}, {"招标": ["已办结"], "施工图审查": ["已办结", "容缺承诺"]}]
    }
    # Switched off: the programme has no rule left, every such project is ready.
    services.readiness_rule_save(actor=users["admin"], rule=bond, fields={"is_active": False})
    assert ready(users["admin"], FundingSource.SPECIAL_BOND) == {a.pk: True}
    assert selectors.project_readiness(a)["funding"][0]["ready"]


def test_changing_the_start_rule_changes_the_start_list(ledgers, users):
    b = ledgers["b"]
    for it in ApprovalItem.objects.filter(project=b).exclude(
        item_type__code__in=("bidding", "construction_permit")
    ):
        granted(b, it.item_type.code)
    assert ready(users["admin"])[b.pk] is False  # 招标 未启动
    start = rule(START)
    services.readiness_rule_save(
        actor=users["admin"],
        rule=start,
        fields={"except_types": [item_type("construction_permit"), item_type("bidding")]},
        expected_version=version(START),
    )
    assert ready(users["admin"])[b.pk] is True
    assert [t.code for t in rule(START).except_types.order_by("sort_order")] == [
        "bidding",
        "construction_permit",
    ]


def test_delete_a_rule(ledgers, users):
    a = ledgers["a"]
    fund(a, FundingSource.CENTRAL_BUDGET)
    assert ready(users["admin"], FundingSource.CENTRAL_BUDGET) == {a.pk: False}
    central = rule(CENTRAL)
    services.readiness_rule_delete(actor=users["admin"], rule=central, expected_version=version(CENTRAL))
    assert not ReadinessRule.objects.filter(name=CENTRAL).exists()
    assert not ReadinessRequirement.objects.filter(rule_id=central.pk).exists()
    assert ready(users["admin"], FundingSource.CENTRAL_BUDGET) == {a.pk: True}
    event = Event.objects.get(verb="approval_rule_delete")
    assert event.target_label == f"开工与资金条件规则：{CENTRAL}"
    assert event.details["programmes"] == ["central_budget", "ultra_long_bond"]


def test_values_are_normalised(ledgers, users):
    saved = services.readiness_rule_save(
        actor=users["admin"],
        fields=new_rule(
            name="  重复渠道与状态  ",
            programmes=["ultra_long_bond", "central_budget", "ultra_long_bond"],
            requirements=[{"item_type": item_type("eia"), "statuses": ["promised", "done", "done"]}],
            all_statuses=["done"],  # no "all items": dropped
            except_types=[item_type("eia")],
        ),
    )
    assert saved.name == "重复渠道与状态"
    assert saved.programmes == ["central_budget", "ultra_long_bond"]
    assert saved.requirements.get().statuses == ["done", "promised"]
    assert saved.all_statuses == [] and not saved.except_types.exists()
    start = services.readiness_rule_save(
        actor=users["admin"],
        fields=new_rule(name="开工另需环评", target=ReadinessTarget.START, programmes=["special_bond"]),
    )
    assert start.programmes == []  # start rules apply to every candidate


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"programmes": ["special_bonds"]}, "programmes", "资金渠道代码“special_bonds”不存在"),
        ({"programmes": []}, "programmes", "须选择至少一个资金渠道"),
        ({"requirements": []}, "requirements", "请至少选择一个须满足的审批事项"),
        ({"name": BOND}, "name", f"已有名为“{BOND}”的规则"),
        ({"name": "  "}, "name", "请填写规则名称"),
        ({"name": "规" * 101}, "name", "最多 100 个字"),
        ({"target": "build"}, "target", "请选择用途"),
        ({"all_items": True}, "all_statuses", "须选择这些事项须处于的状态"),
        ({"all_items": True, "all_statuses": ["finished"]}, "all_statuses", "办理状态“finished”不存在"),
        (
            {"requirements": [{"item_type": "eia", "statuses": []}]},
            "requirements",
            "请为“环评批复”选择至少一个须处于的状态",
        ),
        (
            {"requirements": [{"item_type": "eia", "statuses": ["ok"]}]},
            "requirements",
            "“环评批复”的状态“ok”不存在",
        ),
        (
            {"requirements": [{"item_type": "eia", "statuses": ["done"]}] * 2},
            "requirements",
            "“环评批复”重复列出",
        ),
        ({"basis": "据" * 201}, "basis", "依据最多 200 个字"),
        ({"sort_order": -1}, "sort_order", "排序应为不小于 0 的整数"),
        ({"version": 3}, "version", "不能修改此字段"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(ledgers, users, changes, field, message):
    for entry in changes.get("requirements", []):
        if isinstance(entry["item_type"], str):
            entry["item_type"] = item_type(entry["item_type"])
    rules_before = list(ReadinessRule.objects.values_list("name", flat=True))
    with pytest.raises(ValidationError) as caught:
        services.readiness_rule_save(actor=users["admin"], fields=new_rule(**changes))
    assert message in " ".join(caught.value.message_dict[field])
    bond = rule(BOND)
    with pytest.raises(ValidationError):
        services.readiness_rule_save(actor=users["admin"], rule=bond, fields={"requirements": [], **changes})
    assert list(ReadinessRule.objects.values_list("name", flat=True)) == rules_before
    assert rule(BOND).requirements.get().item_type.code == "bidding"
    assert not Event.objects.filter(verb__startswith="approval_rule").exists()


def test_a_stale_version_is_refused(ledgers, users):
    bond = rule(BOND)
    stale = version(BOND)
    services.readiness_rule_save(
        actor=users["admin"], rule=bond, fields={"basis": "新依据"}, expected_version=stale
    )
    assert version(BOND) != stale
    with pytest.raises(ConflictError) as caught:
        services.readiness_rule_save(
            actor=users["admin"], rule=bond, fields={"name": "别的名称"}, expected_version=stale
        )
    assert caught.value.message == "该规则已被他人修改，请刷新页面后重新编辑。"
    with pytest.raises(ConflictError):
        services.readiness_rule_delete(actor=users["admin"], rule=bond, expected_version=stale)
    assert rule(BOND).basis == "新依据"
    services.readiness_rule_delete(actor=users["admin"], rule=bond, expected_version=version(BOND))
    with pytest.raises(ConflictError) as caught:
        services.readiness_rule_save(actor=users["admin"], rule=bond, fields={"basis": "x"})
    assert caught.value.message == "该规则已被他人删除，请刷新页面。"


def test_a_save_that_changes_nothing_writes_no_event(ledgers, users):
    bond = rule(BOND)
    before = version(BOND)
    services.readiness_rule_save(
        actor=users["admin"], rule=bond, fields={"name": BOND}, expected_version=before
    )
    assert version(BOND) == before
    assert not Event.objects.filter(verb="approval_rule_update").exists()


def test_the_last_active_start_rule_is_kept(ledgers, users):
    start = rule(START)
    admin = users["admin"]
    for fields, field in (
        ({"is_active": False}, "is_active"),
        ({"target": "funding", "programmes": ["fiscal"]}, "target"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.readiness_rule_save(actor=admin, rule=start, fields=fields)
        assert "至少须保留一条启用的开工条件规则" in caught.value.message_dict[field][0]
    with pytest.raises(ValidationError) as caught:
        services.readiness_rule_delete(actor=admin, rule=start)
    assert "至少须保留一条启用的开工条件规则" in caught.value.message_dict["rule"][0]
    services.readiness_rule_save(actor=admin, fields=new_rule(name="新开工条件", target="start"))
    services.readiness_rule_delete(actor=admin, rule=start)  # replaced: now allowed
    assert [r.name for r in selectors.readiness_rules("start")] == ["新开工条件"]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_only_the_city_admin_changes_rules(ledgers, users, role):
    with pytest.raises(PermissionDenied):
        services.readiness_rule_save(actor=users[role], fields=new_rule())
    with pytest.raises(PermissionDenied):
        services.readiness_rule_save(actor=users[role], rule=rule(BOND), fields={"basis": "x"})
    with pytest.raises(PermissionDenied):
        services.readiness_rule_delete(actor=users[role], rule=rule(BOND))
    assert ReadinessRule.objects.count() == 3 and rule(BOND).basis != "x"


# --- pages -------------------------------------------------------------------------------------


@pytest.fixture
def as_user(client, users):
    def login(name):
        client.force_login(users[name])
        return client

    return login


def form_data(r: ReadinessRule | None = None, **changes) -> dict:
    """What the rule form posts: the rule as it is (or empty) with `changes`; `req` maps item
    type codes to statuses and `exc` lists excepted codes (they replace the rule's)."""
    data = {"name": "", "target": "funding", "sort_order": 0, "is_active": "on", "basis": "", "version": ""}
    req, exc = {}, []
    if r is not None:
        data.update({"name": r.name, "target": r.target, "sort_order": r.sort_order, "basis": r.basis})
        data.update({"programmes": r.programmes, "all_statuses": r.all_statuses})
        data["version"] = services.readiness_rule_version(r)
        if r.all_items:
            data["all_items"] = "on"
        req = {q.item_type.code: q.statuses for q in r.requirements.all()}
        exc = [t.code for t in r.except_types.all()]
    req = changes.pop("req", req)
    exc = changes.pop("exc", exc)
    for code, statuses in req.items():
        data[f"req_{item_type(code).pk}"] = statuses
    for code in exc:
        data[f"exc_{item_type(code).pk}"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", ["admin", "leader", "linchuan", "jtj", "owner_a"])
def test_rules_page_is_read_by_every_reader_and_editable_by_the_admin(ledgers, as_user, role):
    response = as_user(role).get(reverse("approvals:rules"))
    page = response.content.decode()
    assert response.status_code == 200
    assert START in page and BOND in page and "招标须为已办结" in page
    assert "台账全部事项（施工许可除外）须为已办结、容缺承诺、不涉及" in page
    assert ('data-testid="rule-new"' in page) is (role == "admin")
    assert (reverse("approvals:rule_edit", args=[rule(BOND).pk]) in page) is (role == "admin")


def test_rules_page_is_linked_from_the_readiness_and_templates_pages(ledgers, as_user):
    url = reverse("approvals:rules")
    assert url in as_user("linchuan").get(reverse("approvals:readiness")).content.decode()
    assert url in as_user("admin").get(reverse("approvals:templates")).content.decode()


@pytest.mark.parametrize("role", OUTSIDERS)
def test_rule_pages_refuse_everyone_but_the_admin(ledgers, as_user, role):
    client = as_user(role)
    bond = rule(BOND)
    if role == "auditor":
        assert client.get(reverse("approvals:rules")).status_code == 403
    assert client.get(reverse("approvals:rule_new")).status_code == 403
    assert (
        client.post(reverse("approvals:rule_new"), form_data(name="x", req={"eia": ["done"]})).status_code
        == 403
    )
    assert client.get(reverse("approvals:rule_edit", args=[bond.pk])).status_code == 403
    assert (
        client.post(reverse("approvals:rule_edit", args=[bond.pk]), form_data(bond, basis="改")).status_code
        == 403
    )
    assert (
        client.post(reverse("approvals:rule_delete", args=[bond.pk]), {"version": version(BOND)}).status_code
        == 403
    )
    assert ReadinessRule.objects.count() == 3 and rule(BOND).basis != "改"


def test_admin_creates_a_rule_and_the_readiness_page_follows(ledgers, as_user):
    a = ledgers["a"]
    fund(a, FundingSource.POLICY_FINANCE)
    client = as_user("admin")
    readiness = reverse("approvals:readiness") + "?programme=policy_finance"
    assert client.get(readiness).context["counts"] == {"all": 1, "ready": 1, "not_ready": 0}
    assert client.get(reverse("approvals:rule_new")).status_code == 200
    response = client.post(
        reverse("approvals:rule_new"),
        form_data(
            name="政策性金融工具项目须完成环评和水保",
            programmes=["policy_finance"],
            req={"eia": ["done"], "soil_water": ["done", "promised"]},
            basis="示例",
        ),
    )
    created = rule("政策性金融工具项目须完成环评和水保")
    assert response.status_code == 302 and response["Location"].endswith(f"#rule-{created.pk}")
    page = client.get(readiness)
    assert page.context["counts"] == {"all": 1, "ready": 0, "not_ready": 1}
    html = page.content.decode()
    assert "政策性金融工具项目须完成环评和水保" in html and "水土保持方案批复" in html
    assert Event.objects.filter(verb="approval_rule_create", actor__username="admin").count() == 1


def test_admin_edits_the_start_rule_in_the_form(ledgers, as_user, users):
    b = ledgers["b"]
    for it in ApprovalItem.objects.filter(project=b).exclude(
        item_type__code__in=("bidding", "construction_permit")
    ):
        granted(b, it.item_type.code)
    client = as_user("admin")
    start = rule(START)
    url = reverse("approvals:rule_edit", args=[start.pk])
    form = client.get(url).content.decode()
    assert 'data-testid="rule-matrix"' in form and f'name="exc_{item_type("construction_permit").pk}"' in form
    response = client.post(url, form_data(start, exc=["construction_permit", "bidding"]))
    assert response.status_code == 302
    assert ready(users["admin"])[b.pk] is True
    rows = client.get(reverse("approvals:readiness") + "?ready=1").context["rows"]
    assert b.pk in {r["project"].pk for r in rows}


def test_form_errors_are_shown_and_nothing_is_saved(ledgers, as_user):
    client = as_user("admin")
    bond = rule(BOND)
    url = reverse("approvals:rule_edit", args=[bond.pk])
    response = client.post(url, form_data(bond, name=CENTRAL))
    assert response.status_code == 200
    assert f"已有名为“{CENTRAL}”的规则" in " ".join(response.context["form"].errors["name"])
    response = client.post(url, form_data(bond, req={}))
    assert "请至少选择一个须满足的审批事项" in response.content.decode()
    response = client.post(url, form_data(bond, programmes=[]))
    assert "须选择至少一个资金渠道" in " ".join(response.context["form"].errors["programmes"])
    response = client.post(url, form_data(bond, programmes=["nonsense"]))
    assert response.context["form"].errors["programmes"]  # not a choice
    assert rule(BOND).name == BOND and rule(BOND).requirements.count() == 1
    assert not Event.objects.filter(verb__startswith="approval_rule").exists()
    assert client.get(reverse("approvals:rule_edit", args=[99999])).status_code == 404
    assert client.post(reverse("approvals:rule_delete", args=[99999])).status_code == 404
    assert client.get(reverse("approvals:rule_delete", args=[bond.pk])).status_code == 405


def test_a_stale_form_keeps_what_was_typed_and_saves_on_the_second_try(ledgers, as_user, users):
    client = as_user("admin")
    bond = rule(BOND)
    url = reverse("approvals:rule_edit", args=[bond.pk])
    stale = form_data(bond, basis="我的依据")
    services.readiness_rule_save(actor=users["admin"], rule=bond, fields={"basis": "他人的依据"})
    response = client.post(url, stale)
    assert response.status_code == 200
    assert "该规则已被他人修改" in response.content.decode()
    assert rule(BOND).basis == "他人的依据"
    again = dict(response.context["form"].data.lists())
    assert again["basis"] == ["我的依据"] and again["version"] == [version(BOND)]
    assert client.post(url, again).status_code == 302
    assert rule(BOND).basis == "我的依据"


def test_delete_from_the_page(ledgers, as_user):
    client = as_user("admin")
    central = rule(CENTRAL)
    url = reverse("approvals:rule_delete", args=[central.pk])
    response = client.post(url, {"version": "stale"}, follow=True)
    assert (
        "该规则已被他人修改" in response.content.decode()
        and ReadinessRule.objects.filter(pk=central.pk).exists()
    )
    response = client.post(url, {"version": version(CENTRAL)}, follow=True)
    assert f"已删除规则“{CENTRAL}”" in response.content.decode()
    assert not ReadinessRule.objects.filter(pk=central.pk).exists()
    start = rule(START)
    response = client.post(
        reverse("approvals:rule_delete", args=[start.pk]), {"version": version(START)}, follow=True
    )
    assert "至少须保留一条启用的开工条件规则" in response.content.decode()
    assert ReadinessRule.objects.filter(pk=start.pk).exists()


def test_rules_page_queries_do_not_grow_with_rules(ledgers, as_user, users, django_assert_max_num_queries):
    client = as_user("admin")
    client.get(reverse("approvals:rules"))  # warm the session
    for n in range(6):
        services.readiness_rule_save(actor=users["admin"], fields=new_rule(name=f"规则{n}"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("approvals:rules"))
    assert response.content.decode().count('data-testid="rule-row"') == 9


# --- API ---------------------------------------------------------------------------------------

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


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def field_errors(response) -> dict:
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


@pytest.mark.parametrize("role", ["admin", "leader", "linchuan", "jtj", "owner_a"])
def test_api_lists_rules_for_readers(ledgers, api, role):
    body = ok(api(role).get("/rules"))
    by_name = {r["name"]: r for r in body}
    assert set(by_name) == {START, BOND, CENTRAL}
    start = by_name[START]
    assert start["all_items"] and start["all_statuses"] == ["done", "promised", "not_applicable"]
    assert [t["name"] for t in start["except_types"]] == ["施工许可"]
    assert by_name[BOND]["requirements"][0]["item_type"]["name"] == "招标"
    assert by_name[BOND]["requirements"][0]["status_labels"] == ["已办结"]
    assert by_name[CENTRAL]["programme_labels"] == ["中央预算内投资", "超长期特别国债"]
    assert by_name[BOND]["version"] == version(BOND)
    assert [r["name"] for r in ok(api(role).get("/rules", {"target": "start"}))] == [START]
    assert ok(api(role).get(f"/rules/{rule(BOND).pk}"))["name"] == BOND


def test_api_auditor_and_bad_queries(ledgers, api):
    assert api("auditor").get("/rules").status_code == 403
    assert "用途应为 start" in field_errors(api("admin").get("/rules", {"target": "x"}))["query.target"]
    assert api("admin").get("/rules/99999").status_code == 404


def test_api_create_change_and_delete(ledgers, api, users):
    a = ledgers["a"]
    fund(a, FundingSource.POLICY_FINANCE)
    admin = api("admin")
    body = ok(
        admin.send(
            "post",
            "/rules",
            {
                "name": "政策性金融工具项目须完成环评",
                "target": "funding",
                "programmes": ["policy_finance"],
                "requirements": [{"item_type_id": item_type("eia").pk, "statuses": ["done"]}],
            },
        )
    )
    assert body["requirements"][0]["item_type"]["name"] == "环评批复"
    listing = ok(admin.get("/readiness/funding", {"programme": "policy_finance"}))
    assert listing["rules"] == ["政策性金融工具项目须完成环评"] and listing["ready"] == 0
    changed = ok(
        admin.send(
            "patch", f"/rules/{body['id']}", {"version": body["version"], "is_active": False, "basis": "停用"}
        )
    )
    assert changed["is_active"] is False and changed["basis"] == "停用" and changed["requirements"]
    assert ok(admin.get("/readiness/funding", {"programme": "policy_finance"}))["ready"] == 1
    stale = admin.send("patch", f"/rules/{body['id']}", {"version": body["version"], "basis": "x"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    assert admin.send("delete", f"/rules/{body['id']}?version={body['version']}").status_code == 409
    ok(admin.send("delete", f"/rules/{body['id']}?version={changed['version']}"), 204)
    assert not ReadinessRule.objects.filter(pk=body["id"]).exists()
    verbs = list(Event.objects.filter(verb__startswith="approval_rule").values_list("verb", flat=True))
    assert sorted(verbs) == ["approval_rule_create", "approval_rule_delete", "approval_rule_update"]


def test_api_bad_input(ledgers, api):
    admin = api("admin")
    good = {
        "name": "新规则",
        "target": "funding",
        "programmes": ["policy_finance"],
        "requirements": [{"item_type_id": item_type("eia").pk, "statuses": ["done"]}],
    }
    errors = field_errors(admin.send("post", "/rules", {**good, "programmes": ["psl"]}))
    assert "资金渠道代码“psl”不存在" in errors["body.programmes"]
    errors = field_errors(admin.send("post", "/rules", {**good, "requirements": []}))
    assert "请至少选择一个须满足的审批事项" in errors["body.requirements"]
    errors = field_errors(admin.send("post", "/rules", {**good, "name": BOND}))
    assert "已有名为" in errors["body.name"]
    errors = field_errors(
        admin.send(
            "post", "/rules", {**good, "requirements": [{"item_type_id": 99999, "statuses": ["done"]}]}
        )
    )
    assert errors["body.requirements"] == "审批事项不存在。"
    errors = field_errors(
        admin.send(
            "post",
            "/rules",
            {**good, "all_items": True, "all_statuses": ["done"], "except_type_ids": [99999]},
        )
    )
    assert errors["body.except_type_ids"] == "审批事项不存在。"
    bond = rule(BOND)
    errors = field_errors(
        admin.send("patch", f"/rules/{bond.pk}", {"version": version(BOND), "is_active": None})
    )
    assert "不能为空" in errors["body.is_active"]
    errors = field_errors(
        admin.send("patch", f"/rules/{bond.pk}", {"version": version(BOND), "target": "start2"})
    )
    assert "请选择用途" in errors["body.target"]
    assert "body.version" in field_errors(admin.send("patch", f"/rules/{bond.pk}", {"basis": "x"}))
    start = rule(START)
    errors = field_errors(admin.send("delete", f"/rules/{start.pk}?version={version(START)}"))
    assert "至少须保留一条启用的开工条件规则" in errors["body.rule"]
    assert ReadinessRule.objects.count() == 3
    assert not Event.objects.filter(verb__startswith="approval_rule").exists()


@pytest.mark.parametrize("role", ["leader", "linchuan", "jtj", "owner_a", "auditor"])
def test_api_changes_are_for_the_city_admin(ledgers, api, role):
    caller = api(role)
    bond = rule(BOND)
    body = {"name": "x", "target": "start", "all_items": True, "all_statuses": ["done"]}
    assert caller.send("post", "/rules", body).status_code == 403
    assert (
        caller.send("patch", f"/rules/{bond.pk}", {"version": version(BOND), "basis": "x"}).status_code == 403
    )
    assert caller.send("delete", f"/rules/{bond.pk}?version={version(BOND)}").status_code == 403
    assert ReadinessRule.objects.count() == 3 and rule(BOND).basis != "x"
