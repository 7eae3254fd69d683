"""One project's funds page and its forms, through the views: allocations, arrivals and transfers
(government: city admin, the county or department over the project), payments and loans (the
project unit too; the full role × kind matrix is in test_review_fixes.py), confirming reported
payments, bad input shown on the field, stale versions, 404 out of scope and 403 for readers who
may not change. Data: the `ledger` fixture (conftest.py); today is 2026-11-20.

Project a (临川区, owned by owner_a): linchuan is its county; qingshan and jtj (transport) are
outsiders. Project b (青山县, transport): qingshan and jtj are over it."""

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.test import Client

from majorprojects.audit.models import Event
from majorprojects.funds.models import Allocation, Loan, LoanRelease, Movement
from majorprojects.reporting.tests.conftest import listed, monthly, october  # noqa: F401

from .test_reports import reported

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def as_user(client, user):
    client.force_login(user)
    return client


def allocation_data(programme, **changes):
    data = {
        "programme": programme.pk,
        "batch": "2026年第三批",
        "document_no": "发改投资〔2026〕301号",
        "issued_on": "2026-11-02",
        "amount": "600",
        "note": "",
    }
    data.update(changes)
    return data


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "leader", "linchuan", "owner_a"])
def test_project_page_renders_for_readers(client, users, projects, ledger, who):
    response = as_user(client, users[who]).get(f"/funds/projects/{projects['a'].pk}/")
    assert response.status_code == 200
    body = text(response)
    assert "发改投资〔2026〕101号" in body and "37.5%" in body
    assert "序时进度 50.0%" in body and "比序时 -12.5 个百分点（落后 150.00 万元）" in body
    assert "下达后 6 个月（2026-11-10）仍未开工" in body


@pytest.mark.parametrize("who", ["qingshan", "jtj"])
def test_project_page_is_404_out_of_scope(client, users, projects, ledger, who):
    assert as_user(client, users[who]).get(f"/funds/projects/{projects['a'].pk}/").status_code == 404


def test_project_page_is_403_for_the_auditor(client, users, projects, ledger):
    assert as_user(client, users["auditor"]).get(f"/funds/projects/{projects['a'].pk}/").status_code == 403


@pytest.mark.parametrize(
    ("who", "allocate", "record"),
    [("admin", True, True), ("linchuan", True, True), ("owner_a", False, True), ("leader", False, False)],
)
def test_project_page_offers_what_the_user_may_do(client, users, projects, ledger, who, allocate, record):
    body = text(as_user(client, users[who]).get(f"/funds/projects/{projects['a'].pk}/"))
    assert ("登记资金下达" in body) is allocate
    # arrivals and transfers are government acts: the project unit is offered payments only
    assert ("登记到位 / 拨付 / 支付" in body) is allocate
    assert ("登记支付</summary>" in body) is (record and not allocate)
    assert (f'href="/funds/projects/{projects["a"].pk}/loans/new/"' in body) is record


def test_project_page_query_count(client, users, projects, ledger, progs, django_assert_max_num_queries):
    from .conftest import allocate, move

    for i in range(6):
        extra = allocate(
            users["admin"], projects["b"], progs["special_bond"], "100", date(2026, 3, 1), f"补{i}号"
        )
        move(users["admin"], extra, "payment", date(2026, 4, 1), "10")
    client.force_login(users["admin"])
    with django_assert_max_num_queries(16):
        assert client.get(f"/funds/projects/{projects['b'].pk}/").status_code == 200


# --- allocations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "project"), [("admin", "a"), ("linchuan", "a"), ("jtj", "b"), ("qingshan", "b")]
)
def test_government_accounts_record_an_allocation(client, users, projects, progs, who, project):
    project = projects[project]
    client = as_user(client, users[who])
    assert client.get(f"/funds/projects/{project.pk}/allocations/new/").status_code == 200
    response = client.post(
        f"/funds/projects/{project.pk}/allocations/new/", allocation_data(progs["central_budget"])
    )
    allocation = Allocation.objects.get(project=project)
    assert response.status_code == 302
    assert response["Location"] == f"/funds/projects/{project.pk}/#alloc-{allocation.pk}"
    assert allocation.amount == D("600.00") and allocation.created_by == users[who]
    assert Event.objects.filter(verb="allocation_create", actor=users[who]).count() == 1


@pytest.mark.parametrize(
    ("who", "status"), [("owner_a", 403), ("leader", 403), ("qingshan", 404), ("jtj", 404)]
)
def test_others_cannot_record_an_allocation(client, users, projects, progs, who, status):
    client = as_user(client, users[who])
    url = f"/funds/projects/{projects['a'].pk}/allocations/new/"
    assert client.get(url).status_code == status
    assert client.post(url, allocation_data(progs["central_budget"])).status_code == status
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "下达金额不能为负数。"),
        ({"amount": "0"}, "amount", "下达金额须大于 0 万元。"),
        ({"amount": "很多"}, "amount", "下达金额：无法识别的金额“很多”。"),
        ({"amount": ""}, "amount", "请填写下达金额（万元）。"),
        ({"issued_on": "2026-12-01"}, "issued_on", "下达日期不能晚于今天。"),
        ({"issued_on": "2026-02-30"}, "issued_on", "下达日期格式应为 YYYY-MM-DD。"),
        ({"document_no": " "}, "document_no", "请填写下达文号。"),
        (
            {"document_no": "发改投资〔2026〕101号"},
            "document_no",
            "下达文号“发改投资〔2026〕101号”已在本项目的中央预算内投资中登记，不能重复登记。",
        ),
    ],
)
def test_bad_allocation_input_is_shown_on_the_field(
    client, users, projects, progs, ledger, changes, field, message
):
    before = Allocation.objects.count()
    response = as_user(client, users["admin"]).post(
        f"/funds/projects/{projects['a'].pk}/allocations/new/",
        allocation_data(progs["central_budget"], **changes),
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert 'class="invalid-feedback d-block">' + message in response.content.decode()
    assert Allocation.objects.count() == before


def test_amount_in_yi_is_accepted(client, users, projects, progs):
    as_user(client, users["admin"]).post(
        f"/funds/projects/{projects['a'].pk}/allocations/new/",
        allocation_data(progs["central_budget"], amount="0.5亿"),
    )
    assert Allocation.objects.get().amount == D("5000.00")


def edit_data(allocation, **changes):
    return {
        "programme": allocation.programme_id,
        "batch": allocation.batch,
        "document_no": allocation.document_no,
        "issued_on": allocation.issued_on.isoformat(),
        "amount": str(allocation.amount),
        "note": allocation.note,
        "version": allocation.version,
        **changes,
    }


def test_allocation_edit(client, users, ledger):
    a1 = ledger["a1"]
    client = as_user(client, users["linchuan"])
    response = client.get(f"/funds/allocations/{a1.pk}/edit/")
    assert response.status_code == 200 and 'value="1200.00"' in response.content.decode()
    response = client.post(f"/funds/allocations/{a1.pk}/edit/", edit_data(a1, amount="1300"))
    assert response.status_code == 302
    a1.refresh_from_db()
    assert a1.amount == D("1300.00") and a1.version == 2


def test_allocation_edit_refuses_what_the_movements_forbid(client, users, ledger):
    a1 = ledger["a1"]
    client = as_user(client, users["admin"])
    response = client.post(f"/funds/allocations/{a1.pk}/edit/", edit_data(a1, amount="400"))
    assert response.context["form"].errors["amount"] == ["下达金额不能少于已支付的 450.00 万元。"]
    response = client.post(f"/funds/allocations/{a1.pk}/edit/", edit_data(a1, issued_on="2026-06-01"))
    assert response.context["form"].errors["issued_on"] == [
        "下达日期不能晚于已登记的到位/拨付/支付日期 2026-05-20。"
    ]
    a1.refresh_from_db()
    assert a1.amount == D("1200.00") and a1.issued_on == date(2026, 5, 10) and a1.version == 1


def test_concurrent_allocation_edit_is_refused(client, users, ledger):
    a1 = ledger["a1"]
    first, second = Client(), Client()
    first.force_login(users["admin"])
    second.force_login(users["linchuan"])
    opened = edit_data(a1)  # both opened the form at version 1
    assert first.post(f"/funds/allocations/{a1.pk}/edit/", {**opened, "note": "第一人"}).status_code == 302
    response = second.post(f"/funds/allocations/{a1.pk}/edit/", {**opened, "note": "第二人"})
    assert response.status_code == 200
    assert "该记录已被他人修改，请刷新页面后重新编辑。" in text(response)
    a1.refresh_from_db()
    assert a1.note == "第一人" and a1.version == 2


@pytest.mark.parametrize(("who", "status"), [("owner_a", 403), ("leader", 403), ("qingshan", 404)])
def test_others_cannot_edit_an_allocation(client, users, ledger, who, status):
    a1 = ledger["a1"]
    client = as_user(client, users[who])
    assert client.get(f"/funds/allocations/{a1.pk}/edit/").status_code == status
    assert (
        client.post(f"/funds/allocations/{a1.pk}/edit/", edit_data(a1, amount="1300")).status_code == status
    )
    a1.refresh_from_db()
    assert a1.amount == D("1200.00")


def test_allocation_delete(client, users, ledger):
    a1, a3 = ledger["a1"], ledger["a3"]
    client = as_user(client, users["linchuan"])
    response = client.post(f"/funds/allocations/{a1.pk}/delete/", {"version": a1.version}, follow=True)
    assert "该下达已有到位/拨付/支付记录，请先删除这些记录。" in text(response)
    assert Allocation.objects.filter(pk=a1.pk).exists()
    response = client.post(f"/funds/allocations/{a3.pk}/delete/", {"version": 9}, follow=True)
    assert "该记录已被他人修改" in text(response) and Allocation.objects.filter(pk=a3.pk).exists()
    response = client.post(f"/funds/allocations/{a3.pk}/delete/", {"version": a3.version}, follow=True)
    assert "已删除资金下达（云财建〔2026〕30号）" in text(response)
    assert not Allocation.objects.filter(pk=a3.pk).exists()


@pytest.mark.parametrize(("who", "status"), [("owner_a", 403), ("leader", 403), ("qingshan", 404)])
def test_others_cannot_delete_an_allocation(client, users, ledger, who, status):
    a3 = ledger["a3"]
    assert (
        as_user(client, users[who]).post(f"/funds/allocations/{a3.pk}/delete/", {"version": 1}).status_code
        == status
    )
    assert Allocation.objects.filter(pk=a3.pk).exists()


def test_actions_are_post_only_and_need_the_csrf_token(users, ledger):
    a3 = ledger["a3"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    assert client.get(f"/funds/allocations/{a3.pk}/delete/").status_code == 405
    assert client.get(f"/funds/allocations/{a3.pk}/movements/").status_code == 405
    assert client.post(f"/funds/allocations/{a3.pk}/delete/", {"version": 1}).status_code == 403
    assert Allocation.objects.filter(pk=a3.pk).exists()


# --- movements ----------------------------------------------------------------------------------


def payment(amount, on_date="2026-11-18", kind="payment", note=""):
    return {"kind": kind, "on_date": on_date, "amount": amount, "note": note}


@pytest.mark.parametrize("who", ["owner_a", "linchuan", "admin"])
def test_recording_a_payment_changes_the_rate(client, users, projects, ledger, who):
    a1 = ledger["a1"]
    events = Event.objects.filter(verb="funds_payment", actor=users[who]).count()
    client = as_user(client, users[who])
    response = client.post(f"/funds/allocations/{a1.pk}/movements/", payment("150", note="进度款"))
    assert response.status_code == 302 and response["Location"].endswith(f"#alloc-{a1.pk}")
    page = client.get(response["Location"])
    assert "已登记支付 150.00 万元（发改投资〔2026〕101号）" in text(page)
    assert str(page.context["funds"]["total"]["rate"]) == "50.0"  # (450 + 150) / 1200
    assert Movement.objects.filter(allocation=a1, kind="payment", note="进度款").count() == 1
    assert Event.objects.filter(verb="funds_payment", actor=users[who]).count() == events + 1


@pytest.mark.parametrize(("who", "status"), [("leader", 403), ("qingshan", 404), ("jtj", 404)])
def test_others_cannot_record_a_payment(client, users, ledger, who, status):
    a1 = ledger["a1"]
    before = Movement.objects.count()
    response = as_user(client, users[who]).post(f"/funds/allocations/{a1.pk}/movements/", payment("10"))
    assert response.status_code == status
    response = client.post(f"/funds/allocations/{a1.pk}/movements/", payment("-10"))  # bad input too
    assert response.status_code == status
    assert Movement.objects.count() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            payment("800"),
            "amount",
            "累计支付 1250.00 万元将超过下达金额 1200.00 万元（已支付 450.00 万元，本次最多 750.00 万元）。",
        ),
        (payment("10", on_date="2026-05-01"), "on_date", "支付日期不能早于下达日期 2026-05-10。"),
        (payment("10", on_date="2026-11-21"), "on_date", "支付日期不能晚于今天。"),
        (payment("-10"), "amount", "支付金额不能为负数。"),
        (payment("0"), "amount", "支付金额须大于 0 万元。"),
        (payment(""), "amount", "请填写金额（万元）。"),
        (payment("10", kind="refund"), "kind", "请选择类型：到位、拨付或支付。"),
    ],
)
def test_bad_payment_is_shown_on_the_field_of_the_allocation(
    client, users, projects, ledger, data, field, message
):
    a1 = ledger["a1"]
    before = Movement.objects.count()
    response = as_user(client, users["owner_a"]).post(f"/funds/allocations/{a1.pk}/movements/", data)
    assert response.status_code == 200
    row = next(r for r in response.context["funds"]["allocations"] if r["allocation"].pk == a1.pk)
    assert row["form"].errors[field] == [message]
    body = response.content.decode()
    assert message in body and f'id="id_m{a1.pk}_{field}"' in body
    assert Movement.objects.count() == before


def test_movement_delete(client, users, ledger):
    a1 = ledger["a1"]
    last = Movement.objects.filter(allocation=a1, kind="payment").last()
    client = as_user(client, users["linchuan"])  # the ledger was entered by the city admin
    response = client.post(f"/funds/movements/{last.pk}/delete/", follow=True)
    assert "已删除支付记录 2026-08-01 150.00 万元。" in text(response)
    assert str(response.context["funds"]["total"]["rate"]) == "25.0"
    assert Event.objects.filter(verb="funds_movement_delete").count() == 1


@pytest.mark.parametrize(("who", "status"), [("leader", 403), ("qingshan", 404), ("jtj", 404)])
def test_others_cannot_delete_a_movement(client, users, ledger, who, status):
    movement = Movement.objects.filter(allocation=ledger["a1"]).first()
    assert as_user(client, users[who]).post(f"/funds/movements/{movement.pk}/delete/").status_code == status
    assert Movement.objects.filter(pk=movement.pk).exists()


# --- reported payments --------------------------------------------------------------------------


@pytest.fixture
def reports(october, users, projects, ledger):  # noqa: F811
    """Project a reported 中央预算内 payments: September 200 (fits A1's 750 unpaid) and October 900
    (more than what is left after September: skipped); August was entered by hand (08-01)."""
    reported(projects["a"], 8, "central_budget", "150")
    reported(projects["a"], 9, "central_budget", "200")
    reported(projects["a"], 10, "central_budget", "900")


def test_reported_payments_beside_the_ledger_and_the_preview(client, users, projects, progs, reports):
    client = as_user(client, users["owner_a"])
    page = client.get(f"/funds/projects/{projects['a'].pk}/")
    body = text(page)
    assert "2026年9月" in body and "未确认" in body
    confirm_url = f"/funds/projects/{projects['a'].pk}/confirm/{progs['central_budget'].pk}/"
    assert f'href="{confirm_url}"' in body and "3 期待确认" in body
    preview = client.get(confirm_url)
    assert preview.status_code == 200
    rows = {c["period_label"]: c for c in preview.context["candidates"]}
    assert rows["2026年8月"]["skip"] == "本期已有手工登记的支付"
    assert rows["2026年9月"]["skip"] == "" and rows["2026年9月"]["split"][0][1] == D("200.00")
    assert rows["2026年10月"]["skip"] == "填报支付 900.00 万元超过可支付余额 550.00 万元"
    assert "确认记入台账（1 期，200.00 万元）" in text(preview)
    assert Movement.objects.filter(report__isnull=False).count() == 0  # the preview writes nothing


def test_confirming_reported_payments_into_the_ledger(client, users, projects, progs, reports):
    client = as_user(client, users["owner_a"])
    url = f"/funds/projects/{projects['a'].pk}/confirm/{progs['central_budget'].pk}/"
    response = client.post(url, follow=True)
    body = text(response)
    assert "已将 1 笔调度表支付（共 200.00 万元）记入中央预算内投资台账。" in body
    assert "2026年8月未确认：本期已有手工登记的支付。" in body
    assert str(response.context["funds"]["total"]["paid"]) == "650.00"
    again = text(client.post(url, follow=True))  # idempotent
    assert "已将" not in again
    assert Movement.objects.filter(report__isnull=False).count() == 1


@pytest.mark.parametrize(("who", "status"), [("leader", 403), ("qingshan", 404)])
def test_others_cannot_confirm_reported_payments(client, users, projects, progs, reports, who, status):
    url = f"/funds/projects/{projects['a'].pk}/confirm/{progs['central_budget'].pk}/"
    client = as_user(client, users[who])
    assert client.get(url).status_code == status
    assert client.post(url).status_code == status
    assert Movement.objects.filter(report__isnull=False).count() == 0


def test_confirming_into_a_programme_without_dispatch_source(client, users, projects, progs, reports):
    from majorprojects.funds.models import Programme

    Programme.objects.filter(pk=progs["other"].pk).update(funding_source="")
    response = as_user(client, users["admin"]).post(
        f"/funds/projects/{projects['a'].pk}/confirm/{progs['other'].pk}/", follow=True
    )
    assert "资金渠道“其他”未对应调度表资金来源，无法从调度表确认支付。" in text(response)
    assert Movement.objects.filter(report__isnull=False).count() == 0


# --- loans --------------------------------------------------------------------------------------


def loan_data(**changes):
    data = {
        "programme": "",
        "bank": "国家开发银行湖南省分行",
        "contract_no": "国开贷〔2026〕17号",
        "signed_on": "2026-06-01",
        "amount_signed": "3000",
        "term_months": "120",
        "subsidy_applied": "60",
        "note": "",
    }
    data.update(changes)
    return data


def test_project_unit_records_a_loan_without_the_granted_subsidy(client, users, projects):
    client = as_user(client, users["owner_a"])
    page = client.get(f"/funds/projects/{projects['a'].pk}/loans/new/")
    assert "subsidy_granted" not in page.context["form"].fields
    response = client.post(
        f"/funds/projects/{projects['a'].pk}/loans/new/", loan_data(subsidy_granted="60")
    )  # a granted subsidy sent anyway is ignored
    loan = Loan.objects.get()
    assert response.status_code == 302
    assert loan.subsidy_applied == D("60.00") and loan.subsidy_granted == D("0.00")


def test_county_grants_the_subsidy_and_bad_values_are_refused(client, users, projects):
    client = as_user(client, users["linchuan"])
    url = f"/funds/projects/{projects['a'].pk}/loans/new/"
    response = client.post(url, loan_data(subsidy_granted="80"))
    assert response.context["form"].errors["subsidy_granted"] == [
        "获批贴息 80.00 万元不能超过申请贴息 60.00 万元。"
    ]
    response = client.post(url, loan_data(amount_signed="-1"))
    assert response.context["form"].errors["amount_signed"] == ["签约金额不能为负数。"]
    response = client.post(url, loan_data(bank=" "))
    assert response.context["form"].errors["bank"] == ["请填写贷款银行。"]
    response = client.post(url, loan_data(signed_on="2026-12-01"))
    assert response.context["form"].errors["signed_on"] == ["签约日期不能晚于今天。"]
    assert not Loan.objects.exists()
    assert client.post(url, loan_data(subsidy_granted="50")).status_code == 302
    assert Loan.objects.get().subsidy_granted == D("50.00")


@pytest.fixture
def loan(users, projects):
    from majorprojects.funds import services

    return services.loan_create(
        actor=users["owner_a"],
        project=projects["a"],
        fields={"bank": "农业发展银行", "signed_on": date(2026, 6, 1), "amount_signed": "1000"},
    )


def test_loan_edit_and_conflict(client, users, loan):
    client = as_user(client, users["owner_a"])
    data = loan_data(bank="农业发展银行", amount_signed="1200", version=loan.version)
    assert client.post(f"/funds/loans/{loan.pk}/edit/", data).status_code == 302
    response = client.post(f"/funds/loans/{loan.pk}/edit/", {**data, "amount_signed": "1500"})
    assert "该记录已被他人修改，请刷新页面后重新编辑。" in text(response)
    loan.refresh_from_db()
    assert loan.amount_signed == D("1200.00")


@pytest.mark.parametrize(("who", "status"), [("leader", 403), ("qingshan", 404), ("jtj", 404)])
def test_others_cannot_touch_loans(client, users, projects, loan, who, status):
    client = as_user(client, users[who])
    assert client.get(f"/funds/projects/{projects['a'].pk}/loans/new/").status_code == status
    assert client.get(f"/funds/loans/{loan.pk}/edit/").status_code == status
    assert client.post(f"/funds/loans/{loan.pk}/releases/", payment("10")).status_code == status
    assert not LoanRelease.objects.exists()


def test_loan_releases(client, users, projects, loan):
    client = as_user(client, users["owner_a"])
    url = f"/funds/loans/{loan.pk}/releases/"
    response = client.post(url, {"on_date": "2026-07-01", "amount": "400"})
    assert response.status_code == 302 and response["Location"].endswith(f"#loan-{loan.pk}")
    response = client.post(url, {"on_date": "2026-08-01", "amount": "700"})
    row = response.context["funds"]["loans"][0]
    assert row["form"].errors["amount"] == [
        "累计投放 1100.00 万元将超过签约金额 1000.00 万元（已投放 400.00 万元，本次最多 600.00 万元）。"
    ]
    response = client.post(url, {"on_date": "2026-05-01", "amount": "10"})
    assert response.context["funds"]["loans"][0]["form"].errors["on_date"] == [
        "投放日期不能早于签约日期 2026-06-01。"
    ]
    page = client.get(f"/funds/projects/{projects['a'].pk}/")
    assert "已投放 400.00 万元（40.0%）" in text(page)
    release = LoanRelease.objects.get()
    response = client.post(f"/funds/releases/{release.pk}/delete/", follow=True)
    assert "已删除投放记录 2026-07-01 400.00 万元。" in text(response)
    assert not LoanRelease.objects.exists()
