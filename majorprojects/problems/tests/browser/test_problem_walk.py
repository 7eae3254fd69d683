"""The problem ledger walked the way people do it, each in their own browser: a project unit
reports a land problem on its phone; the city accepts it and assigns it to the natural-resources
bureau with a deadline; the bureau reports progress and resolves it; the unit is not satisfied
and it is reopened; the bureau resolves it again; the unit confirms it and it is closed (销号).

"Today" is 2026-11-23 (the problems conftest pins timezone.localdate)."""

import re

import pytest
from playwright.sync_api import expect

from majorprojects.problems.models import Confirmation, Problem, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROJECT = "临川新材料产业园"
TITLE = "二期厂房用地指标未落实"


def field(page, label: str):
    """The input whose label is `label` (a trailing * marks a required field)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))


def test_land_problem_is_reported_assigned_resolved_reopened_and_closed(person, ledger, projects):
    # 1. The project unit reports a land problem from its phone.
    unit = person("owner_a", phone=True)
    phone = unit.page
    unit.go("/problems/mine/")
    phone.get_by_role("link", name="反映问题").click()
    field(phone, "项目").select_option(label=PROJECT)
    field(phone, "问题类别").select_option(label="用地")
    field(phone, "紧急程度").select_option(label="紧急")
    field(phone, "问题概述").fill(TITLE)
    field(phone, "问题描述").fill("园区二期 80 亩新增建设用地指标至今未落实，厂房无法开工。")
    field(phone, "诉求").fill("请协调市自然资源和规划局调剂用地指标")
    assert unit.horizontal_overflow() == 0, "the raise form is wider than the phone"
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_role("alert").filter(has_text="问题已反映")).to_be_visible()
    expect(phone.get_by_test_id("problem-title")).to_have_text(TITLE)
    expect(phone.get_by_test_id("status")).to_have_text("待研判")
    assert unit.horizontal_overflow() == 0, "the problem page is wider than the phone"
    problem = Problem.objects.get()

    # 2. The city finds it under 我的问题 → 待研判交办, accepts it and assigns it.
    city = person("admin")
    desk = city.page
    city.go("/problems/mine/")
    desk.get_by_test_id("mine-analyse").get_by_role("link", name=TITLE).click()
    actions = desk.get_by_test_id("actions")
    actions.get_by_role("button", name="受理").click()
    expect(desk.get_by_role("alert").filter(has_text="已受理")).to_be_visible()
    expect(desk.get_by_test_id("status")).to_have_text("待交办")
    step = desk.locator("[data-step=assign]")
    expect(step).to_have_attribute("open", "")
    field(step, "牵头单位").select_option(label="云江市自然资源和规划局")
    field(step, "责任领导").select_option(label="王副市长（副市长）")
    field(step, "责任人").fill("张科长")
    field(step, "责任人电话").fill("13800000000")
    field(step, "解决方案").fill("从年度计划中调剂 80 亩用地指标，优先保障。")
    field(step, "办理时限（日期）").fill("2026-12-31")
    step.get_by_role("button", name="交办").click()
    expect(desk.get_by_role("alert").filter(has_text="已交办")).to_be_visible()
    expect(desk.get_by_test_id("status")).to_have_text("办理中")
    expect(desk.get_by_test_id("lead-unit")).to_have_text("云江市自然资源和规划局")
    expect(desk.get_by_test_id("deadline")).to_contain_text("2026-12-31")

    # 3. The bureau finds it in its list, reports progress and resolves it.
    bureau = person("zrzyj")
    office = bureau.page
    bureau.go("/problems/mine/")
    office.get_by_test_id("mine-handle").get_by_role("link", name=TITLE).click()
    step = office.locator("[data-step=progress]")
    field(step, "进展情况").fill("已列入 12 月用地指标调剂方案。")
    step.get_by_role("button", name="报送进展").click()
    expect(office.get_by_test_id("notes")).to_contain_text("已列入 12 月用地指标调剂方案")
    office.locator("[data-step=resolve] summary").click()
    step = office.locator("[data-step=resolve]")
    field(step, "办理结果").fill("已调剂用地指标 50 亩。")
    step.get_by_role("button", name="办结，提交反映人确认").click()
    expect(office.get_by_test_id("status")).to_have_text("待确认")

    # 4. The unit is not satisfied: 50 of 80 mu. It goes back to the bureau.
    unit_desk = person("owner_a")
    page = unit_desk.page
    unit_desk.go("/problems/mine/")
    page.get_by_test_id("mine-confirm").get_by_role("link", name=TITLE).click()
    confirm = page.get_by_test_id("confirm-form")
    confirm.get_by_role("button", name="不满意，退回").click()
    expect(page.get_by_test_id("confirm-form").locator(".invalid-feedback")).to_have_text(
        "不满意时请说明理由。"
    )
    field(page.get_by_test_id("confirm-form"), "意见").fill("只调剂了 50 亩，仍缺 30 亩。")
    page.get_by_test_id("confirm-form").get_by_role("button", name="不满意，退回").click()
    expect(page.get_by_role("alert").filter(has_text="已退回牵头单位重新办理")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("重新办理")
    expect(page.get_by_test_id("result")).to_contain_text("只调剂了 50 亩，仍缺 30 亩。")

    # 5. The bureau resolves it again.
    bureau.go(f"/problems/{problem.pk}/")
    office.locator("[data-step=resolve] summary").click()
    step = office.locator("[data-step=resolve]")
    field(step, "办理结果").fill("再调剂 30 亩，80 亩指标已全部落实。")
    step.get_by_role("button", name="办结，提交反映人确认").click()
    expect(office.get_by_test_id("status")).to_have_text("待确认")

    # 6. The unit is satisfied: the problem is closed (销号), the whole story on its page.
    unit_desk.go(f"/problems/{problem.pk}/")
    page.get_by_test_id("confirm-form").get_by_role("button", name="满意，销号").click()
    expect(page.get_by_role("alert").filter(has_text="已确认满意，问题销号")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("已销号")
    expect(page.get_by_test_id("closed")).to_contain_text("满意销号")
    timeline = page.get_by_test_id("timeline")
    for step_label in ("反映问题", "受理", "交办（五到位）", "办理进展", "办结", "反映人确认"):
        expect(timeline).to_contain_text(step_label)
    problem.refresh_from_db()
    assert (problem.status, problem.reopen_count) == (Status.CLOSED, 1)
    assert list(Confirmation.objects.values_list("satisfied", flat=True)) == [False, True]
