"""Funds walked the way people do it, each in their own browser: the county records an
allocation for a project (first with a negative amount, which is refused on the field), the
finance bureau records its arrival, the project unit — offered payments only — records a payment
on its phone (first one above the allocation, refused with the most it may pay) and may delete
only its own entry, and the payment rate moves on the project page and on the county's overview.

"Today" is 2026-11-20 for the live server too (the funds conftest fixes timezone.localdate)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from majorprojects.funds.models import Allocation, Movement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def field(scope, label: str):
    """The input labelled `label` (a trailing * marks a required field)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))


def test_allocation_then_payment_moves_the_payment_rate(person, finance, users, projects, progs):
    a = projects["a"]

    # 1. The county (临川区) opens the project's funds and records the allocation.
    county = person("linchuan")
    desk = county.page
    county.go(f"/funds/projects/{a.pk}/")
    expect(desk.get_by_test_id("project-name")).to_contain_text("临川新材料产业园")
    expect(desk.get_by_test_id("no-allocations")).to_be_visible()
    desk.get_by_role("link", name="登记资金下达").click()
    form = desk.get_by_test_id("allocation-form")
    field(form, "资金渠道").select_option(label="中央预算内投资")
    field(form, "批次").fill("2026年第三批")
    field(form, "下达文号").fill("发改投资〔2026〕301号")
    field(form, "下达日期").fill("2026-11-02")
    field(form, "下达金额（万元）").fill("-1000")
    form.get_by_role("button", name="保存").click()
    expect(desk.get_by_text("下达金额不能为负数。")).to_be_visible()
    expect(field(desk.get_by_test_id("allocation-form"), "下达文号")).to_have_value("发改投资〔2026〕301号")
    assert not Allocation.objects.exists()
    field(desk.get_by_test_id("allocation-form"), "下达金额（万元）").fill("0.1亿")
    desk.get_by_role("button", name="保存").click()
    expect(
        desk.get_by_role("alert").filter(has_text="已登记中央预算内投资下达 1,000.00 万元")
    ).to_be_visible()
    expect(desk.get_by_test_id("project-allocated")).to_contain_text("1,000.00")
    expect(desk.get_by_test_id("project-rate")).to_have_text("0.0%")

    # 1b. The finance bureau (财政局 reads every project) records the money arriving.
    bureau = person("caizheng")
    ledger = bureau.page
    bureau.go(f"/funds/projects/{a.pk}/")
    card = ledger.get_by_test_id("allocation")
    card.get_by_text("登记到位 / 拨付 / 支付").click()
    movement = card.get_by_test_id("movement-form")
    field(movement, "类型").select_option(label="到位")
    field(movement, "日期").fill("2026-11-05")
    field(movement, "金额（万元）").fill("1000")
    movement.get_by_role("button", name="登记").click()
    expect(ledger.get_by_role("alert").filter(has_text="已登记到位 1,000.00 万元")).to_be_visible()

    # The county's overview: 1000 allocated, nothing paid yet.
    county.go("/funds/")
    expect(desk.get_by_test_id("card-rate")).to_have_text("0.0%")
    expect(desk.get_by_test_id("programme-table")).to_contain_text("中央预算内投资")

    # 2. The project unit, on its phone, records a payment against the allocation.
    unit = person("owner_a", phone=True)
    page = unit.page
    unit.go(f"/funds/projects/{a.pk}/")
    card = page.get_by_test_id("allocation")
    expect(card).to_contain_text("发改投资〔2026〕301号")
    expect(page.get_by_role("link", name="登记资金下达")).to_have_count(0)
    expect(card.get_by_text("登记到位 / 拨付 / 支付")).to_have_count(0)  # arrivals: government's
    expect(card.get_by_test_id("movement-delete")).to_have_count(0)  # the bureau's arrival
    card.get_by_test_id("movement-summary").click()
    movement = card.get_by_test_id("movement-form")
    expect(field(movement, "类型").locator("option")).to_have_text(["支付"])
    field(movement, "类型").select_option(label="支付")
    field(movement, "日期").fill("2026-11-18")
    field(movement, "金额（万元）").fill("1200")
    movement.get_by_role("button", name="登记").click()
    expect(page.get_by_text("累计支付 1200.00 万元将超过下达金额 1000.00 万元")).to_contain_text(
        "本次最多 1000.00 万元"
    )
    assert not Movement.objects.filter(kind="payment").exists()
    movement = page.get_by_test_id("allocation").get_by_test_id("movement-form")
    field(movement, "金额（万元）").fill("250")
    field(movement, "说明").fill("支付土建进度款")
    movement.get_by_role("button", name="登记").click()
    expect(page.get_by_role("alert").filter(has_text="已登记支付 250.00 万元")).to_be_visible()
    expect(page.get_by_test_id("project-rate")).to_have_text("25.0%")
    expect(page.get_by_test_id("allocation").get_by_test_id("movements")).to_contain_text("支付土建进度款")
    expect(page.get_by_test_id("allocation").get_by_test_id("movement-delete")).to_have_count(1)  # its own
    assert unit.horizontal_overflow() == 0, "the project funds page is wider than the phone"

    # 3. The county sees the rate move on its overview and in the ledger.
    county.go("/funds/")
    expect(desk.get_by_test_id("card-rate")).to_have_text("25.0%")
    expect(desk.get_by_test_id("programme-total").locator("[data-col=rate]")).to_have_text("25.0%")
    expect(desk.get_by_test_id("programme-chart").locator("canvas")).to_have_count(1)
    desk.get_by_test_id("funds-nav").get_by_role("link", name="下达台账").click()
    expect(desk.get_by_test_id("allocation-row")).to_have_count(1)
    expect(desk.get_by_test_id("allocation-row").locator("[data-col=rate]")).to_have_text("25.0%")

    payment = Movement.objects.get(kind="payment")
    assert payment.amount == Decimal("250.00") and payment.created_by == users["owner_a"]
    assert Movement.objects.get(kind="arrival").created_by == users["caizheng"]
