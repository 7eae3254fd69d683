"""Warnings walked the way people do it, each in their own browser (the issue's walk): a rule
"计划开工逾期" lights project a (临川区, planned to start in July, still not started) red in the
October scan; the county user of 临川区 sees the red light on the board and on the negative list,
opens the warning, files a rectification plan (first with a deadline in the past, refused on the
field) and marks it rectified; the city admin finds it under "待核验销号" and strikes it off (销号).

"Today" is 2026-11-23 for the live server too (timezone.localdate is fixed)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from majorprojects.alerts import services
from majorprojects.alerts.engine import scan
from majorprojects.alerts.models import Rule, Status, Warning
from majorprojects.projects.models import Stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TODAY = date(2026, 11, 23)


def field(scope, label: str):
    """The input labelled `label` (a trailing * marks a required field)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))


@pytest.fixture
def red_light(projects, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    a = projects["a"]
    a.planned_start_date, a.actual_start_date, a.stage = date(2026, 7, 15), None, Stage.PREPARING
    a.save()
    rule = Rule.objects.create(
        code="walk-start-overdue",
        name="计划开工逾期（演示）",
        metric="start_overdue_months",
        yellow_threshold=Decimal(1),
        red_threshold=Decimal(3),
        sort_order=1,
    )
    services.scan_record(scan(2026, 10, rules=[rule], today=TODAY))
    warning = Warning.objects.get(rule=rule, project=a)
    assert warning.light == "red" and warning.value == 4  # July to October, both counted
    return warning


def test_county_rectifies_a_red_light_and_the_city_strikes_it_off(person, users, red_light):
    # 1. The county (临川区) sees the red light on its board.
    county = person("linchuan")
    desk = county.page
    county.go("/alerts/")
    expect(desk.get_by_role("heading", level=1)).to_contain_text("2026年10月")
    row = desk.get_by_test_id("region-board").locator("tr[data-region='临川区']")
    expect(row.get_by_role("link", name="1")).to_have_class(re.compile("text-danger"))
    expect(desk.get_by_test_id("count-red")).to_have_text("1")
    expect(desk.get_by_role("button", name="立即扫描")).to_have_count(0)

    # 2. … and on the negative list, with the responsible unit.
    desk.get_by_test_id("alerts-nav").get_by_role("link", name="负面清单").click()
    section = desk.get_by_test_id("negative-section").filter(has_text="临川区")
    line = section.get_by_test_id("negative-row").filter(has_text="临川新材料产业园")
    expect(line.locator("[data-light='red']")).to_have_text("红灯")
    expect(line).to_contain_text("临川建设投资有限公司")
    expect(desk.get_by_test_id("cmp-new")).to_have_text("1")

    # 3. It opens the warning: why it is lit.
    line.get_by_role("link", name="计划开工逾期（演示）").click()
    expect(desk.get_by_test_id("warning-title")).to_contain_text("临川新材料产业园")
    expect(desk.get_by_test_id("metric-value")).to_have_text("4 个月")
    expect(desk.get_by_test_id("evidence")).to_contain_text("2026-07-15")

    # 4. It files the rectification plan: a past deadline is refused on the field.
    steps = desk.get_by_test_id("steps")
    steps.get_by_text("填报整改措施和时限").click()
    plan = steps.locator("[data-step='plan']")
    field(plan, "整改措施").fill("倒排工期，完成用地报批后12月中旬开工")
    field(plan, "整改时限").fill("2026-11-01")
    plan.get_by_role("button", name="提交整改措施").click()
    plan = desk.get_by_test_id("steps").locator("[data-step='plan']")
    expect(plan.get_by_text("整改时限不能早于今天。")).to_be_visible()
    expect(field(plan, "整改措施")).to_have_value("倒排工期，完成用地报批后12月中旬开工")
    field(plan, "整改时限").fill("2026-12-20")
    plan.get_by_role("button", name="提交整改措施").click()
    expect(desk.get_by_role("alert").filter(has_text="整改措施已提交")).to_be_visible()
    expect(desk.get_by_test_id("plan")).to_contain_text("倒排工期")
    assert Warning.objects.get(pk=red_light.pk).status == Status.RECTIFYING

    # 5. … and reports it rectified.
    done = desk.get_by_test_id("steps").locator("[data-step='rectified'][open]")
    field(done, "整改情况").fill("已于11月20日取得施工许可并开工")
    done.get_by_role("button", name="报送整改完成").click()
    expect(desk.get_by_role("alert").filter(has_text="等待市级核验销号")).to_be_visible()
    expect(desk.locator("[data-status='rectified']").first).to_have_text("已整改待销号")

    # 6. The city admin finds it waiting for verification and strikes it off.
    city = person("admin")
    page = city.page
    city.go("/alerts/mine/")
    waiting = page.get_by_test_id("mine-strike-off")
    waiting.get_by_role("link", name="临川新材料产业园").click()
    expect(page.get_by_test_id("rectification")).to_contain_text("已于11月20日取得施工许可并开工")
    strike = page.get_by_test_id("steps").locator("[data-step='strike_off'][open]")
    field(strike, "销号意见").fill("经核验已开工，同意销号")
    strike.get_by_role("button", name="确认销号").click()
    expect(page.get_by_role("alert").filter(has_text="已核验销号。")).to_be_visible()
    expect(page.locator("[data-status='struck_off']").first).to_have_text("已销号")
    expect(page.get_by_test_id("timeline")).to_contain_text("核验销号")
    assert Warning.objects.get(pk=red_light.pk).status == Status.STRUCK_OFF

    # The county's list shows it struck off.
    county.go("/alerts/warnings/?status=struck_off")
    expect(desk.get_by_test_id("warning-table")).to_contain_text("临川新材料产业园")
