"""Review fixes of the funds app.

1. Who records which kind of funds entry (scope.can_record_funds), for every role × kind:
   government (the city admin, the county or department over the project, the finance department)
   records allocations, arrivals, transfers, payments, loans and the subsidy granted; the project
   unit payments and loans only; the statistics bureau (cross-cutting, not finance), leaders, the
   auditor and outsiders nothing. Deleting: the project unit only the entries its own unit made,
   government any except payments confirmed from dispatch reports, which only the city admin
   deletes. Through the services, the pages and the API.
2. A reported payment cannot be confirmed twice: "already confirmed" is keyed on the movement's
   own report and report_source, and an allocation with movements keeps its programme.

Project a (临川区, owned by owner_a): linchuan is its county, caizheng the city's finance bureau;
jtj (transport) and qingshan are outsiders, qs_caizheng (青山县财政局) too. Project b (青山县,
transport): jtj, qingshan and qs_caizheng are over it. Today is 2026-11-20."""

import json
import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from majorprojects.accounts.scope import can_record_funds
from majorprojects.accounts.services import token_create
from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.funds import selectors, services
from majorprojects.funds.models import Allocation, Loan, LoanRelease, Movement
from majorprojects.projects.models import Project
from majorprojects.reporting.models import Status
from majorprojects.reporting.tests.conftest import listed, monthly, october  # noqa: F401

from .conftest import allocate, move
from .test_reports import reported

pytestmark = pytest.mark.django_db

KINDS = ["allocation", "arrival", "transfer", "payment", "loan", "subsidy"]
EVERYTHING = set(KINDS)
PROJECT_UNIT = {"payment", "loan"}

# (account, project, kinds it may record there)
MATRIX = [
    ("admin", "a", EVERYTHING),
    ("linchuan", "a", EVERYTHING),  # the county over project a
    ("linchuan", "zone", EVERYTHING),  # the zone sits under 临川区
    ("jtj", "b", EVERYTHING),  # the department governing b's industry
    ("caizheng", "a", EVERYTHING),  # the city's finance bureau: every project
    ("caizheng", "b", EVERYTHING),
    ("qs_caizheng", "b", EVERYTHING),  # a county finance bureau: projects of its county
    ("qs_caizheng", "a", set()),
    ("owner_a", "a", PROJECT_UNIT),  # the project unit: payments and loans
    ("owner_a2", "zone", PROJECT_UNIT),  # any account of the unit, on any of its projects
    ("owner_b", "a", set()),  # another project unit
    ("tongji", "a", set()),  # cross-cutting but not finance: reads only
    ("jtj", "a", set()),
    ("qingshan", "a", set()),
    ("leader", "a", set()),
    ("auditor", "a", set()),
]


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def base(finance, projects, progs):
    """On each project: an allocation of 中央预算内 1000 issued 2026-03-01 and a loan of 5000
    signed 2026-03-01 with 100 of subsidy applied for, both entered by the city admin."""
    admin = finance["admin"]
    made = {}
    for key, project in projects.items():
        made[key] = {
            "allocation": allocate(
                admin, project, progs["central_budget"], "1000", date(2026, 3, 1), f"发改投资〔2026〕{key}号"
            ),
            "loan": services.loan_create(
                actor=admin,
                project=project,
                fields={
                    "bank": "国家开发银行",
                    "signed_on": date(2026, 3, 1),
                    "amount_signed": "5000",
                    "subsidy_applied": "100",
                },
            ),
        }
    return made


def record(kind, actor, project, base, progs):
    """Record one entry of `kind` on `project` as `actor` through the service."""
    allocation, loan = base["allocation"], base["loan"]
    if kind == "allocation":
        return allocate(actor, project, progs["special_bond"], "10", date(2026, 4, 1), "新文号")
    if kind in ("arrival", "transfer", "payment"):
        return move(actor, allocation, kind, date(2026, 4, 1), "10")
    if kind == "loan":
        return services.loan_release_add(actor=actor, loan=loan, on_date=date(2026, 4, 1), amount="10")
    return services.loan_update(actor=actor, loan=loan, fields={"subsidy_granted": "60"})


def snapshot():
    return (
        Allocation.objects.count(),
        Movement.objects.count(),
        LoanRelease.objects.count(),
        list(Loan.objects.values_list("subsidy_granted", "version").order_by("pk")),
        Event.objects.count(),
    )


# --- 1. who records which kind ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("who", "project", "allowed"), MATRIX)
def test_every_role_and_kind(finance, projects, progs, base, who, project, allowed, kind):
    actor, target = finance[who], projects[project]
    assert can_record_funds(actor, Project.objects.get(pk=target.pk), kind) is (kind in allowed)
    assert services.can_record(actor, target, kind) is (kind in allowed)
    if kind in allowed:
        events = Event.objects.filter(actor=actor, project=target).count()
        record(kind, actor, target, base[project], progs)
        assert Event.objects.filter(actor=actor, project=target).count() == events + 1
        return
    before = snapshot()
    with pytest.raises(PermissionDenied):
        record(kind, actor, target, base[project], progs)
    assert snapshot() == before


def test_refusals_name_who_records_the_kind(finance, projects, progs, base):
    owner = finance["owner_a"]
    for kind, label in [
        ("allocation", "资金下达"),
        ("arrival", "资金到位"),
        ("transfer", "资金拨付"),
        ("subsidy", "获批贴息"),
    ]:
        with pytest.raises(PermissionDenied) as exc:
            record(kind, owner, projects["a"], base["a"], progs)
        assert str(exc.value) == f"{label}由市级管理员、县市区、行业主管部门或财政部门登记。"
    with pytest.raises(PermissionDenied) as exc:
        record("payment", finance["tongji"], projects["a"], base["a"], progs)
    assert str(exc.value) == "项目不存在或无权访问。"


def test_an_unknown_kind_is_a_field_error_for_recorders_only(finance, base):
    allocation = base["a"]["allocation"]
    with pytest.raises(ValidationError) as exc:
        move(finance["owner_a"], allocation, "refund", date(2026, 4, 1), "10")
    assert exc.value.message_dict == {"kind": ["请选择类型：到位、拨付或支付。"]}
    with pytest.raises(PermissionDenied):
        move(finance["tongji"], allocation, "refund", date(2026, 4, 1), "10")


def test_finance_confirms_reported_payments(october, finance, projects, progs, base):  # noqa: F811
    reported(projects["a"], 4, "central_budget", "300")
    result = services.payments_from_reports(
        actor=finance["caizheng"], project=projects["a"], programme=progs["central_budget"]
    )
    assert [m.amount for m in result["created"]] == [D("300.00")]
    with pytest.raises(PermissionDenied):
        services.payments_from_reports(
            actor=finance["tongji"], project=projects["a"], programme=progs["central_budget"]
        )


# --- 1. who deletes what ------------------------------------------------------------------------


@pytest.fixture
def entries(october, finance, projects, progs, base):  # noqa: F811
    """Movements on project a's allocation: a payment and an arrival by the city admin, a payment
    by owner_a, one by its colleague owner_a2, one by the county, and the April report's 300
    confirmed (by owner_a) from the dispatch report. Releases of a's loan by owner_a and by the
    county."""
    allocation, loan = base["a"]["allocation"], base["a"]["loan"]
    reported(projects["a"], 4, "central_budget", "300")
    confirmed = services.payments_from_reports(
        actor=finance["owner_a"], project=projects["a"], programme=progs["central_budget"]
    )["created"][0]
    return {
        "admin_payment": move(finance["admin"], allocation, "payment", date(2026, 5, 1), "10"),
        "admin_arrival": move(finance["admin"], allocation, "arrival", date(2026, 5, 1), "500"),
        "own_payment": move(finance["owner_a"], allocation, "payment", date(2026, 6, 1), "20"),
        "colleague_payment": move(finance["owner_a2"], allocation, "payment", date(2026, 6, 2), "30"),
        "county_payment": move(finance["linchuan"], allocation, "payment", date(2026, 6, 3), "40"),
        "confirmed": confirmed,
        "own_release": services.loan_release_add(
            actor=finance["owner_a"], loan=loan, on_date=date(2026, 4, 1), amount="100"
        ),
        "county_release": services.loan_release_add(
            actor=finance["linchuan"], loan=loan, on_date=date(2026, 4, 2), amount="200"
        ),
    }


ALL_ENTRIES = {
    "admin_payment",
    "admin_arrival",
    "own_payment",
    "colleague_payment",
    "county_payment",
    "confirmed",
    "own_release",
    "county_release",
}
NOT_CONFIRMED = ALL_ENTRIES - {"confirmed"}


@pytest.mark.parametrize(
    ("who", "deletable"),
    [
        ("admin", ALL_ENTRIES),
        ("linchuan", NOT_CONFIRMED),
        ("caizheng", NOT_CONFIRMED),
        ("owner_a", {"own_payment", "colleague_payment", "own_release"}),
        ("owner_a2", {"own_payment", "colleague_payment", "own_release"}),
        ("tongji", set()),
        ("jtj", set()),
        ("leader", set()),
    ],
)
def test_who_may_delete_which_entry(finance, projects, entries, who, deletable):
    actor, project = finance[who], projects["a"]
    for name, entry in entries.items():
        assert services.can_delete_entry(actor, project, entry) is (name in deletable), name
        delete = services.movement_delete if isinstance(entry, Movement) else services.loan_release_delete
        keyword = "movement" if isinstance(entry, Movement) else "release"
        if name in deletable:
            delete(actor=actor, **{keyword: entry})
            assert not type(entry).objects.filter(pk=entry.pk).exists(), name
        else:
            with pytest.raises(PermissionDenied):
                delete(actor=actor, **{keyword: entry})
            assert type(entry).objects.filter(pk=entry.pk).exists(), name


def test_delete_refusals_say_why(finance, entries):
    cases = [
        ("linchuan", "confirmed", "据调度表确认的支付只能由市级管理员删除。"),
        ("owner_a", "confirmed", "据调度表确认的支付只能由市级管理员删除。"),
        ("owner_a", "admin_arrival", "资金到位由市级管理员、县市区、行业主管部门或财政部门登记和删除。"),
        ("owner_a", "admin_payment", "项目单位只能删除本单位登记的记录。"),
        ("owner_a", "county_release", "项目单位只能删除本单位登记的记录。"),
        ("tongji", "admin_payment", "项目不存在或无权访问。"),
    ]
    for who, name, message in cases:
        entry = entries[name]
        delete = services.movement_delete if isinstance(entry, Movement) else services.loan_release_delete
        keyword = "movement" if isinstance(entry, Movement) else "release"
        with pytest.raises(PermissionDenied) as exc:
            delete(actor=finance[who], **{keyword: entry})
        assert str(exc.value) == message, (who, name)


def test_deleting_the_confirmed_payment_makes_the_report_confirmable_again(finance, projects, progs, entries):
    services.movement_delete(actor=finance["admin"], movement=entries["confirmed"])
    again = services.payments_from_reports(
        actor=finance["admin"], project=projects["a"], programme=progs["central_budget"]
    )
    assert [m.amount for m in again["created"]] == [D("300.00")]


# --- 1. the pages -------------------------------------------------------------------------------


def page(client, user, project):
    client.force_login(user)
    return client.get(f"/funds/projects/{project.pk}/")


def test_page_offers_finance_every_kind(client, finance, projects, base):
    response = page(client, finance["caizheng"], projects["a"])
    body = text(response)
    assert "登记资金下达" in body and "登记贷款" in body
    assert "登记到位 / 拨付 / 支付</summary>" in body
    form = response.context["funds"]["allocations"][0]["form"]
    assert [k for k, _ in form.fields["kind"].choices] == ["arrival", "transfer", "payment"]


def test_page_offers_the_project_unit_payments_only(client, finance, projects, entries):
    response = page(client, finance["owner_a"], projects["a"])
    body = text(response)
    assert "登记资金下达" not in body
    assert "登记支付</summary>" in body and "到位 / 拨付" not in body
    assert "资金下达、到位和拨付由市级管理员、县市区、行业主管部门或财政部门登记。" in body
    row = response.context["funds"]["allocations"][0]
    assert [k for k, _ in row["form"].fields["kind"].choices] == ["payment"]
    deletable = {item["m"].pk for item in row["movements"] if item["deletable"]}
    assert deletable == {entries["own_payment"].pk, entries["colleague_payment"].pk}
    assert body.count('data-testid="movement-delete"') == 2
    releases = response.context["funds"]["loans"][0]["releases"]
    assert {item["r"].pk for item in releases if item["deletable"]} == {entries["own_release"].pk}
    assert "据2026年4月调度表确认" in body


def test_page_offers_the_county_no_delete_on_confirmed(client, finance, projects, entries):
    response = page(client, finance["linchuan"], projects["a"])
    row = response.context["funds"]["allocations"][0]
    hidden = {item["m"].pk for item in row["movements"] if not item["deletable"]}
    assert hidden == {entries["confirmed"].pk}


def test_page_for_the_statistics_bureau_is_read_only(client, finance, projects, entries):
    response = page(client, finance["tongji"], projects["a"])
    assert response.status_code == 200
    body = text(response)
    assert "登记资金下达" not in body and "登记贷款" not in body and 'data-testid="movement-form"' not in body
    assert 'data-testid="movement-delete"' not in body


def test_project_unit_cannot_post_an_arrival(client, finance, base):
    allocation = base["a"]["allocation"]
    client.force_login(finance["owner_a"])
    data = {"kind": "arrival", "on_date": "2026-11-18", "amount": "10", "note": ""}
    before = snapshot()
    response = client.post(f"/funds/allocations/{allocation.pk}/movements/", data)
    assert response.status_code == 403
    assert snapshot() == before
    assert (
        client.post(f"/funds/allocations/{allocation.pk}/movements/", {**data, "kind": "payment"}).status_code
        == 302
    )


def test_finance_records_an_arrival_and_an_allocation_on_the_pages(client, finance, projects, progs, base):
    allocation = base["a"]["allocation"]
    client.force_login(finance["caizheng"])
    data = {"kind": "arrival", "on_date": "2026-11-18", "amount": "1000", "note": "国库集中支付"}
    assert client.post(f"/funds/allocations/{allocation.pk}/movements/", data).status_code == 302
    assert Movement.objects.get(kind="arrival").created_by == finance["caizheng"]
    new = {
        "programme": progs["city"].pk,
        "batch": "",
        "document_no": "云财建〔2026〕88号",
        "issued_on": "2026-11-02",
        "amount": "300",
        "note": "",
    }
    assert client.post(f"/funds/projects/{projects['a'].pk}/allocations/new/", new).status_code == 302
    assert Allocation.objects.filter(
        document_no="云财建〔2026〕88号", created_by=finance["caizheng"]
    ).exists()
    loan_page = text(client.get(f"/funds/projects/{projects['a'].pk}/loans/new/"))
    assert "获批贴息" in loan_page


def test_delete_buttons_through_the_views(client, finance, entries):
    client.force_login(finance["owner_a"])
    assert client.post(f"/funds/movements/{entries['admin_payment'].pk}/delete/").status_code == 403
    assert client.post(f"/funds/movements/{entries['confirmed'].pk}/delete/").status_code == 403
    assert client.post(f"/funds/releases/{entries['county_release'].pk}/delete/").status_code == 403
    assert client.post(f"/funds/movements/{entries['own_payment'].pk}/delete/").status_code == 302
    assert client.post(f"/funds/releases/{entries['own_release'].pk}/delete/").status_code == 302
    assert not Movement.objects.filter(pk=entries["own_payment"].pk).exists()
    assert not LoanRelease.objects.filter(pk=entries["own_release"].pk).exists()


def test_deleting_an_entry_deleted_meanwhile_is_a_conflict(finance, entries):
    gone = entries["admin_payment"]
    Movement.objects.filter(pk=gone.pk).delete()
    events = Event.objects.count()
    with pytest.raises(ConflictError) as exc:
        services.movement_delete(actor=finance["admin"], movement=gone)
    assert exc.value.message == "该记录已被删除，请刷新页面。"
    assert Event.objects.count() == events


def test_project_page_queries_do_not_grow_with_entries(
    client, finance, projects, base, django_assert_max_num_queries
):
    allocation = base["a"]["allocation"]
    for day in range(1, 13):
        move(finance["owner_a"], allocation, "payment", date(2026, 4, day), "1")
        move(finance["admin"], allocation, "payment", date(2026, 5, day), "1")
    client.force_login(finance["owner_a"])
    with django_assert_max_num_queries(15):
        assert client.get(f"/funds/projects/{projects['a'].pk}/").status_code == 200


# --- 1. the API ---------------------------------------------------------------------------------


def call(client, user, method, path, body=None):
    _, key = token_create(actor=user, name="对接")
    data = "" if body is None else json.dumps(body)
    return getattr(client, method)(
        f"/api/funds{path}", data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def test_api_kinds_and_deletes(client, finance, projects, entries, base):
    allocation = base["a"]["allocation"]
    arrival = {"kind": "arrival", "on_date": "2026-11-18", "amount": "10"}
    assert (
        call(
            client, finance["owner_a"], "post", f"/allocations/{allocation.pk}/movements", arrival
        ).status_code
        == 403
    )
    response = call(client, finance["caizheng"], "post", f"/allocations/{allocation.pk}/movements", arrival)
    assert response.status_code == 201 and response.json()["kind"] == "arrival"
    assert (
        call(
            client, finance["tongji"], "post", f"/allocations/{allocation.pk}/movements", arrival
        ).status_code
        == 403
    )

    body = call(client, finance["owner_a"], "get", f"/projects/{projects['a'].pk}").json()
    assert body["may_record"] == ["payment", "loan"]
    movements = {m["id"]: m for m in body["allocations"][0]["movements"]}
    assert movements[entries["confirmed"].pk]["confirmed"] is True
    assert movements[entries["own_payment"].pk]["may_delete"] is True
    assert movements[entries["admin_payment"].pk]["may_delete"] is False
    body = call(client, finance["caizheng"], "get", f"/projects/{projects['a'].pk}").json()
    assert body["may_record"] == KINDS
    assert call(client, finance["tongji"], "get", f"/projects/{projects['a'].pk}").json()["may_record"] == []

    confirmed = entries["confirmed"].pk
    assert call(client, finance["caizheng"], "delete", f"/movements/{confirmed}").status_code == 403
    assert (
        call(client, finance["owner_a"], "delete", f"/movements/{entries['admin_payment'].pk}").status_code
        == 403
    )
    assert call(client, finance["admin"], "delete", f"/movements/{confirmed}").status_code == 204
    assert not Movement.objects.filter(pk=confirmed).exists()


# --- 2. no double counting after a change of programme ------------------------------------------


def paid_total(project) -> D:
    return selectors.summarise(selectors.allocation_rows(Project.objects.filter(pk=project.pk)))["paid"]


@pytest.fixture
def confirmed_into_a(october, users, projects, progs):  # noqa: F811
    """Allocation A (中央预算内 1000, project a) took the April report's 300 by confirmation."""
    a = projects["a"]
    first = allocate(
        users["admin"], a, progs["central_budget"], "1000", date(2026, 3, 1), "发改投资〔2026〕1号"
    )
    reported(a, 4, "central_budget", "300", status=Status.APPROVED)
    created = services.payments_from_reports(
        actor=users["admin"], project=a, programme=progs["central_budget"]
    )
    assert [m.amount for m in created["created"]] == [D("300.00")]
    return first


def test_programme_of_an_allocation_with_movements_cannot_change(users, progs, confirmed_into_a):
    events = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.allocation_update(
            actor=users["admin"], allocation=confirmed_into_a, fields={"programme": progs["special_bond"]}
        )
    assert exc.value.message_dict == {
        "programme": ["该下达已有到位/拨付/支付记录，不能更改资金渠道；如确需更改，请先删除这些记录。"]
    }
    confirmed_into_a.refresh_from_db()
    assert (confirmed_into_a.programme, confirmed_into_a.version) == (progs["central_budget"], 1)
    assert Event.objects.count() == events
    # the same programme, or other fields, are still fine
    services.allocation_update(
        actor=users["admin"],
        allocation=confirmed_into_a,
        fields={"programme": progs["central_budget"], "batch": "第二批"},
    )
    # without movements the programme may change
    Movement.objects.all().delete()
    services.allocation_update(
        actor=users["admin"],
        allocation=Allocation.objects.get(pk=confirmed_into_a.pk),
        fields={"programme": progs["special_bond"]},
    )
    assert Allocation.objects.get(pk=confirmed_into_a.pk).programme == progs["special_bond"]


def test_programme_change_refused_through_the_api_and_locked_on_the_form(
    client, users, progs, confirmed_into_a
):
    response = call(
        client,
        users["admin"],
        "patch",
        f"/allocations/{confirmed_into_a.pk}",
        {"version": 1, "programme": "special_bond"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "programme"]
    assert "不能更改资金渠道" in response.json()["detail"][0]["msg"]
    client.force_login(users["admin"])
    url = f"/funds/allocations/{confirmed_into_a.pk}/edit/"
    form = client.get(url).context["form"]
    assert form.fields["programme"].disabled
    assert "不能更改资金渠道" in text(client.get(url))
    data = {
        "programme": progs["special_bond"].pk,  # ignored: the field is disabled
        "batch": "第二批",
        "document_no": confirmed_into_a.document_no,
        "issued_on": "2026-03-01",
        "amount": "1000",
        "note": "",
        "version": 1,
    }
    assert client.post(url, data).status_code == 302
    confirmed_into_a.refresh_from_db()
    assert (confirmed_into_a.programme, confirmed_into_a.batch) == (progs["central_budget"], "第二批")


def test_a_moved_confirmed_payment_is_not_confirmed_twice(users, projects, progs, confirmed_into_a):
    """Data from before the rule (the programme changed by other means): the report's payment
    sits under an allocation of another programme now. Confirming into 中央预算内 again, with a
    second allocation that has room, still skips the report: it is keyed on the movement's own
    report and report_source, not on the programme its allocation has now."""
    a = projects["a"]
    Allocation.objects.filter(pk=confirmed_into_a.pk).update(programme=progs["special_bond"])
    allocate(users["admin"], a, progs["central_budget"], "1000", date(2026, 3, 2), "发改投资〔2026〕2号")
    candidates = selectors.payment_candidates(a, progs["central_budget"])
    assert [(c["period_label"], c["skip"]) for c in candidates] == [("2026年4月", "已确认")]
    again = services.payments_from_reports(actor=users["admin"], project=a, programme=progs["central_budget"])
    assert again == {"created": [], "skipped": []}
    assert paid_total(a) == D("300.00")
    rows = selectors.reported_payments(a)
    assert [(r["paid"], r["confirmed"], r["status"]) for r in rows] == [(D("300.00"), D("300.00"), "已确认")]
