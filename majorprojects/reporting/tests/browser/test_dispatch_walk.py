"""The monthly dispatch walked the way people do it, each in their own browser: the project unit
fills and submits October on a phone, the county returns it with a reason, the unit fixes and
resubmits, the county approves, the city sees completeness and locks the period, after which the
unit can only ask for a correction. And a county clerk's short walk through the batch grid.

The live server runs on the real clock (2026-11-23 on this machine, after October's deadline):
the data is built so the walk holds on any later day too (October is simply late)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from majorprojects.projects.models import Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Correction, Period, Report, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROJECT = "临川新材料产业园"
# Project a's approved January–September figures (万元): a slow start, then the working season.
EARLIER = [300, 400, 800, 1000, 1100, 1200, 900, 1000, 1100]
PRIOR = Decimal("6000")  # completed before the platform


@pytest.fixture
def history(october, listed, users):
    """Project a is under construction; January–September were reported, approved and locked,
    so October is the one report left to fill. Project b never reported (it shows as missing)."""
    a = listed["a"]
    Project.objects.filter(pk=a.pk).update(
        stage=Stage.CONSTRUCTION, actual_start_date=date(2025, 3, 1), prior_investment=PRIOR
    )
    earlier = Report.objects.filter(project=a, period__year=2026, period__number__lt=10).select_related(
        "period", "project"
    )
    for report, amount in zip(earlier.order_by("period_end"), EARLIER, strict=True):
        month = report.period.number
        saved = services.report_save(
            actor=users["owner_a"],
            report=report,
            data={
                "investment": Decimal(amount),
                "progress": f"{month}月按计划施工",
                "percent_complete": Decimal(4 * month),
                "next_plan": "继续施工",
            },
        )
        sent = services.report_submit(actor=users["owner_a"], report=saved, expected_version=saved.version)
        services.report_approve(actor=users["linchuan"], report=sent)
    for period in Period.objects.filter(year=2026, number__lt=10):
        services.period_lock(actor=users["admin"], period=period)
    return Report.objects.get(period=october, project=a)


def field(page, label: str):
    """The report form's input whose label is `label` (a trailing * marks what submission needs)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))


def test_report_is_filled_on_a_phone_returned_fixed_approved_and_locked(person, history, october):
    report = history
    year_before = sum(EARLIER)  # 7,800.00

    # 1. The project unit, on its phone, finds October in its to-do and fills it.
    unit = person("owner_a", phone=True)
    page = unit.page
    todo = page.get_by_test_id("todo-fill")
    expect(todo).to_contain_text("2026年10月")
    expect(todo).to_contain_text("已逾期")
    assert unit.horizontal_overflow() == 0, "the home page is wider than the phone"
    todo.get_by_role("link", name=PROJECT).click()
    expect(page.get_by_test_id("report-title")).to_have_text(PROJECT)
    expect(page.get_by_test_id("status")).to_have_text("待填报")
    field(page, "本期完成投资（万元）").fill("1250")
    field(page, "形象进度").fill("主体结构施工至五层，钢结构厂房完成吊装")
    field(page, "工程完成比例（%）").fill("42")
    field(page, "下期计划").fill("完成主体封顶，启动设备安装")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("alert").filter(has_text="草稿已保存")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("草稿")
    expect(page.get_by_test_id("year-to-date")).to_have_text(f"{year_before + 1250:,.2f}")
    expect(page.get_by_test_id("since-start")).to_have_text(f"{PRIOR + year_before + 1250:,.2f}")
    expect(field(page, "形象进度")).to_have_value("主体结构施工至五层，钢结构厂房完成吊装")
    assert unit.horizontal_overflow() == 0, "the report page is wider than the phone"

    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="已报送")).to_contain_text("计为迟报")
    expect(page.get_by_test_id("status")).to_have_text("已报送")
    expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    assert unit.horizontal_overflow() == 0

    # 2. The county reviewer, at a desk, finds it under 我的调度 → 待审核 and returns it.
    county = person("linchuan")
    desk = county.page
    desk.get_by_role("navigation").get_by_role("link", name="我的调度").click()
    expect(desk.get_by_role("link", name=re.compile("待审核"))).to_have_class(re.compile("active"))
    expect(desk.get_by_test_id("count-review")).to_have_text("1")
    desk.get_by_test_id("report-table").get_by_role("link", name=PROJECT).click()
    review = desk.get_by_test_id("review")
    reason = "本期完成投资与形象进度不符，请按监理月报核实为 1300 万元。"
    review.get_by_label("退回原因").fill(reason)
    review.get_by_role("button", name="退回修改").click()
    expect(desk.get_by_role("alert").filter(has_text="已退回填报人修改")).to_be_visible()
    expect(desk.get_by_test_id("status")).to_have_text("已退回")
    expect(desk.get_by_test_id("review")).to_have_count(0)

    # 3. The project unit sees why, fixes the figure and sends it again.
    unit.go("/")
    todo = page.get_by_test_id("todo-fill")
    expect(todo).to_contain_text("被退回")
    todo.get_by_role("link", name=PROJECT).click()
    expect(page.get_by_test_id("return-reason")).to_contain_text(reason)
    expect(field(page, "本期完成投资（万元）")).to_have_value(re.compile(r"^1,?250(\.00)?$"))
    field(page, "本期完成投资（万元）").fill("1300")
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("已报送")
    expect(page.get_by_test_id("return-reason")).to_have_count(0)
    expect(page.get_by_test_id("year-to-date")).to_have_text(f"{year_before + 1300:,.2f}")
    expect(page.get_by_test_id("history")).to_contain_text(reason)

    # 4. The county approves it from its home to-do.
    county.go("/")
    desk.get_by_test_id("todo-review").get_by_role("link", name=PROJECT).click()
    desk.get_by_test_id("review").get_by_role("button", name="审核通过").click()
    expect(desk.get_by_role("alert").filter(has_text="已审核通过")).to_contain_text(PROJECT)
    expect(desk.get_by_test_id("status")).to_have_text("已审核")

    # 5. The city sees who has not reported, locks October, and the report is locked.
    city = person("admin")
    admin = city.page
    admin.get_by_role("navigation").get_by_role("link", name="调度期次").click()
    admin.get_by_test_id("period-table").get_by_role("link", name="2026年10月").click()
    expect(admin.get_by_test_id("period-title")).to_contain_text("2026年10月")
    totals = admin.get_by_test_id("completeness-table").locator("tfoot td")
    # 合计 | 应报 已报送 按期 迟报 未报 已审核 退回 | 及时率
    expect(totals).to_have_text(["合计", "2", "1", "0", "1", "1", "1", "0", re.compile(".+")])
    missing = admin.get_by_test_id("missing-table")
    expect(missing.locator("tbody tr")).to_have_count(1)
    expect(missing).to_contain_text("青山县环城公路")
    admin.get_by_role("button", name="锁定本期").click()
    expect(admin.get_by_role("alert").filter(has_text="已锁定")).to_contain_text(
        "1 份报表锁定，1 份未报送记为缺报"
    )
    expect(admin.get_by_test_id("locked")).to_have_text("已锁定")
    assert city.dialogs == [
        "锁定后，已报送的报表不能再修改（只能走更正申请），未报送的记为缺报。确定锁定2026年10月？"
    ]
    expect(admin.get_by_role("button", name="锁定本期")).to_have_count(0)
    city.go(f"/dispatch/reports/{report.pk}/")
    expect(admin.get_by_test_id("status")).to_have_text("已锁定")

    # The unit can no longer edit; a change now goes through a correction request.
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("已锁定")
    expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    expect(page.get_by_role("button", name="报送", exact=True)).to_have_count(0)
    corrections = page.locator("#corrections")
    expect(corrections.get_by_role("button", name="提交更正申请")).to_be_visible()
    assert unit.horizontal_overflow() == 0, "the locked report is wider than the phone"
    corrections.get_by_label("本期完成投资（万元）").fill("1350")
    corrections.get_by_label("更正理由").fill("监理月报复核后调增 50 万元")
    corrections.get_by_role("button", name="提交更正申请").click()
    expect(page.get_by_role("alert").filter(has_text="更正申请已提交")).to_be_visible()
    expect(page.get_by_test_id("correction")).to_contain_text("监理月报复核后调增 50 万元")

    report.refresh_from_db()
    assert report.status == Status.LOCKED and report.investment == Decimal("1300.00")
    assert report.year_to_date == Decimal(year_before + 1300) and report.is_late
    assert Report.objects.filter(period=october).count() == 2
    correction = Correction.objects.get(report=report)
    assert correction.state == Correction.State.PENDING


def test_county_clerk_saves_a_row_of_the_grid_from_the_keyboard(person, history, october):
    report = history
    county = person("linchuan")
    page = county.page
    county.go(f"/dispatch/periods/{october.pk}/")
    page.get_by_role("link", name="批量填报").click()
    expect(page.get_by_test_id("grid-title")).to_contain_text("2026年10月 批量填报")

    row = page.locator(f"#row-{report.pk}")
    amount = row.get_by_label(f"{PROJECT} 本期完成投资（万元）")
    amount.fill("1,200")
    amount.press("Enter")  # leaves the cell; the row saves over HTMX
    expect(page.locator(f"#row-{report.pk} [data-testid=saved]")).to_have_text("✓ 已保存")
    expect(page.locator(f"#row-{report.pk} [data-testid=year_to_date]")).to_have_text(
        f"{sum(EARLIER) + 1200:,.2f}"
    )

    amount = page.locator(f"#row-{report.pk}").get_by_label(f"{PROJECT} 本期完成投资（万元）")
    amount.fill("约一千")
    amount.press("Enter")
    error = page.locator(f"#row-{report.pk} [data-testid=error-investment]")
    expect(error).to_contain_text("无法识别的金额")
    expect(page.locator(f"#row-{report.pk} [data-col=investment]")).to_have_class(re.compile("is-invalid"))
    expect(page.locator(f"#row-{report.pk} [data-col=investment]")).to_have_value("约一千")

    report.refresh_from_db()
    assert report.investment == Decimal("1200.00") and report.status == Status.DRAFT
