"""The batch-entry grid: scope (owner, county, other county, department, leader, auditor), row
saves over HTMX with per-cell Chinese errors, idempotent retries, edit conflicts, row and page
submission, read-only rows and periods, weekly periods, and the page's query count.

Roles for project a (临川区, owned by owner_a): owner_a and linchuan fill it; qingshan (another
county), jtj (transport department) are outsiders; the leader and the auditor fill nothing."""

import re
import threading
import uuid
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone

from majorprojects.audit.models import Event
from majorprojects.factories import ProjectFactory
from majorprojects.projects.models import Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Frequency, Period, Report, Schedule, Status

TODAY = date(2026, 10, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


@pytest.fixture
def building(listed):
    """Project a is under construction since 2025."""
    Project.objects.filter(pk=listed["a"].pk).update(
        stage=Stage.CONSTRUCTION, actual_start_date=date(2025, 3, 1)
    )
    return listed


@pytest.fixture
def report(slot, building):
    slot.refresh_from_db()
    return slot


@pytest.fixture
def zone_report(october, listed):
    """The development-zone project (under 临川区) owes October too, in these tests."""
    return Report.objects.create(period=october, project=listed["zone"], period_end=october.ends_on)


def grid_url(period):
    return f"/dispatch/periods/{period.pk}/grid/"


def row_url(report):
    return f"/dispatch/periods/{report.period_id}/grid/{report.pk}/"


def row_data(report, key=None, **values):
    """What one grid row posts: its inputs, the version it was rendered at, a fresh key."""
    data = {
        "version": report.version,
        "key": key or str(uuid.uuid4()),
        "investment": "",
        "percent_complete": "",
        "progress": "",
        "next_plan": "",
        "stats_included": "",
        "stats_date": "",
        "started_on": "",
        "completed_on": "",
        "note": "",
    }
    data.update(values)
    return data


FULL = {
    "investment": "1,500",
    "percent_complete": "40",
    "progress": "主体结构施工至三层",
    "next_plan": "完成主体封顶",
}


def login(client, users, name):
    client.force_login(users[name])
    return client


def post_row(client, report, **data):
    return client.post(row_url(report), row_data(report, **data), HTTP_HX_REQUEST="true")


def cell_error(html, name):
    match = re.search(rf'data-testid="error-{name}">([^<]*)<', html)
    return match.group(1) if match else None


# --- scope ---------------------------------------------------------------------------------------


def test_owner_sees_only_its_own_projects_rows(client, users, report, zone_report):
    other = ProjectFactory(name="别家企业项目", region=report.project.region)
    Report.objects.create(period=report.period, project=other, period_end=report.period_end)
    response = login(client, users, "owner_a").get(grid_url(report.period))
    assert response.status_code == 200
    names = {row.report.project.name for row in response.context["rows"]}
    assert names == {"临川新材料产业园", "经开区标准厂房"}


def test_county_sees_its_subtree_and_another_county_sees_none_of_it(client, users, report, zone_report):
    rows = login(client, users, "linchuan").get(grid_url(report.period)).context["rows"]
    assert {r.report.pk for r in rows} == {report.pk, zone_report.pk}
    rows = login(client, users, "qingshan").get(grid_url(report.period)).context["rows"]
    assert {r.report.project.name for r in rows} == {"青山县环城公路"}
    rows = login(client, users, "jtj").get(grid_url(report.period)).context["rows"]
    assert {r.report.project.name for r in rows} == {"青山县环城公路"}


def test_grid_filters_by_region_search_and_status(client, users, report, zone_report, city):
    login(client, users, "linchuan")
    rows = client.get(grid_url(report.period), {"region": city["zone"].pk}).context["rows"]
    assert [r.report.pk for r in rows] == [zone_report.pk]
    rows = client.get(grid_url(report.period), {"q": "新材料"}).context["rows"]
    assert [r.report.pk for r in rows] == [report.pk]
    post_row(client, report, **FULL)
    rows = client.get(grid_url(report.period), {"status": "draft"}).context["rows"]
    assert [r.report.pk for r in rows] == [report.pk]
    rows = client.get(grid_url(report.period), {"status": "bogus"}).context["rows"]
    assert len(rows) == 2  # an invalid filter is ignored


@pytest.mark.parametrize("name", ["qingshan", "jtj"])
def test_outsiders_get_404_on_another_areas_row(client, users, report, name):
    login(client, users, name)
    assert post_row(client, report, **FULL).status_code == 404
    assert client.get(row_url(report), HTTP_HX_REQUEST="true").status_code == 404
    report.refresh_from_db()
    assert report.status == Status.PENDING and report.version == 1


def test_owner_gets_404_on_another_owners_row(client, users, october, listed):
    other = Report.objects.get(period=october, project=listed["b"])
    assert post_row(login(client, users, "owner_a"), other, **FULL).status_code == 404


def test_a_report_of_another_period_is_404_through_this_periods_url(client, users, report, october):
    september = Report.objects.get(project=report.project, period__number=9, period__year=2026)
    login(client, users, "owner_a")
    response = client.post(
        f"/dispatch/periods/{october.pk}/grid/{september.pk}/", row_data(september, **FULL)
    )
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["leader", "auditor"])
def test_accounts_that_fill_nothing_are_refused(client, users, report, name):
    login(client, users, name)
    assert client.get(grid_url(report.period)).status_code == 403
    assert post_row(client, report, **FULL).status_code == 403
    assert client.get(f"/dispatch/periods/{report.period_id}/template.xlsx").status_code == 403
    assert client.get(f"/dispatch/periods/{report.period_id}/upload/").status_code == 403


def test_unknown_period_is_404(client, users, report):
    assert login(client, users, "linchuan").get("/dispatch/periods/999999/grid/").status_code == 404


# --- the page ------------------------------------------------------------------------------------


def test_grid_page_has_keyboard_script_sticky_header_and_row_inputs(client, users, report):
    html = login(client, users, "linchuan").get(grid_url(report.period)).content.decode()
    assert "js/grid.js" in html and "sticky-top" in html and "table-sm" in html
    assert 'hx-trigger="grid:save"' in html and 'hx-include="this"' in html
    assert 'data-col="investment"' in html and 'data-col="progress"' in html
    assert 'name="version" value="1"' in html and 'name="key"' in html
    assert "onclick" not in html and "<script>" not in html
    assert "本年累计" in html and "开工累计" in html


def test_grid_page_query_count_does_not_grow_with_rows(
    client, users, report, city, django_assert_max_num_queries
):
    for i in range(60):
        project = ProjectFactory(name=f"批量项目{i:02d}", owner_unit=city["owner_a"])
        Report.objects.create(period=report.period, project=project, period_end=report.period_end)
    login(client, users, "linchuan")
    with django_assert_max_num_queries(12):
        response = client.get(grid_url(report.period))
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count == 61
    assert len(client.get(grid_url(report.period), {"page": 2}).context["rows"]) == 11


def test_weekly_period_hides_money(client, users, report, listed):
    weekly = Schedule.objects.create(
        name="周调度", frequency=Frequency.WEEKLY, stats_pending_only=True, starts_on=date(2026, 1, 1)
    )
    period = Period.objects.create(
        schedule=weekly,
        frequency=Frequency.WEEKLY,
        year=2026,
        number=42,
        label="2026年第42周",
        starts_on=date(2026, 10, 12),
        ends_on=date(2026, 10, 18),
        due_on=date(2026, 10, 16),
        late_after=date(2026, 10, 16),
    )
    weekly_report = Report.objects.create(period=period, project=listed["a"], period_end=period.ends_on)
    login(client, users, "owner_a")
    html = client.get(grid_url(period)).content.decode()
    assert 'data-col="progress"' in html
    assert 'data-col="investment"' not in html and "本年累计" not in html
    response = post_row(client, weekly_report, progress="钢结构吊装", stats_included="否")
    weekly_report.refresh_from_db()
    assert weekly_report.progress == "钢结构吊装" and weekly_report.stats_included is False
    assert 'data-col="investment"' not in response.content.decode()


# --- saving a row --------------------------------------------------------------------------------


def test_row_save_returns_the_row_with_new_version_totals_and_saved_mark(client, users, report):
    login(client, users, "linchuan")
    response = post_row(client, report, **FULL, stats_included="是", stats_date="2026年10月8日")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已保存" in html and 'name="version" value="2"' in html
    assert 'data-testid="year_to_date">1,500.00<' in html and "is-invalid" not in html
    assert html.lstrip().startswith("<tr") and "<html" not in html
    report.refresh_from_db()
    assert report.status == Status.DRAFT and report.investment == Decimal("1500.00")
    assert report.year_to_date == Decimal("1500.00") and report.since_start == Decimal("1500.00")
    assert report.percent_complete == Decimal("40") and report.progress == "主体结构施工至三层"
    assert report.stats_included is True and report.stats_date == date(2026, 10, 8)
    assert report.filled_by == users["linchuan"]
    assert Event.objects.filter(verb="report_save", target_id=str(report.pk)).count() == 1


def test_row_save_accepts_yi_and_clearing_a_cell(client, users, report):
    login(client, users, "owner_a")
    post_row(client, report, **(FULL | {"investment": "0.15亿"}))
    report.refresh_from_db()
    assert report.investment == Decimal("1500.00")
    post_row(client, report, **(FULL | {"percent_complete": ""}))
    report.refresh_from_db()
    assert report.percent_complete is None and report.investment == Decimal("1500.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("investment", "-5", "本期完成投资：金额不能为负数。"),
        ("investment", "很多", "本期完成投资：无法识别的金额“很多”。"),
        (
            "investment",
            "60000",
            "本年累计完成 60,000.00 万元将超过项目总投资 50,000.00 万元，请核实本期完成投资。",
        ),
        ("percent_complete", "120", "工程完成比例：应为 0 到 100 之间的数值。"),
        ("started_on", "2026-13-45", "开工日期：无效的日期“2026-13-45”。"),
        ("stats_date", "下个月", "入统日期：无法识别的日期“下个月”，应写作“2025-03-15”或“2025年3月”。"),
        ("completed_on", "2026-11-30", "竣工日期不能晚于今天。"),
    ],
)
def test_bad_cell_is_marked_and_typed_values_stay(client, users, report, field, value, message):
    login(client, users, "linchuan")
    response = post_row(client, report, **(FULL | {field: value}))
    html = response.content.decode()
    assert cell_error(html, field) == message
    assert re.search(
        rf'data-col="{field}"[^>]*is-invalid[^>]*title="{re.escape(message)}"', html.replace("\n", " ")
    )
    assert 'value="1,500"' in html or field == "investment"  # what was typed stays
    assert "主体结构施工至三层" in html and 'data-unsaved="1"' in html
    assert 'name="version" value="1"' in html
    report.refresh_from_db()
    assert report.status == Status.PENDING and report.version == 1 and report.investment is None


def test_completion_without_start_is_refused_on_its_cell(client, users, slot):
    login(client, users, "owner_a")
    html = post_row(client, slot, progress="前期手续办理中", completed_on="2026-10-10").content.decode()
    assert cell_error(html, "completed_on") == "填写竣工日期前须先有开工日期。"
    slot.refresh_from_db()
    assert slot.completed_on is None and slot.version == 1


def test_several_bad_cells_are_all_reported_at_once(client, users, report):
    login(client, users, "owner_a")
    html = post_row(
        client, report, investment="-1", percent_complete="abc", stats_date="昨天"
    ).content.decode()
    assert cell_error(html, "investment") and cell_error(html, "percent_complete")
    assert cell_error(html, "stats_date")
    assert html.count("is-invalid") == 3


def test_resent_row_with_the_same_key_saves_once(client, users, report):
    login(client, users, "owner_a")
    data = row_data(report, **FULL)
    first = client.post(row_url(report), data)
    second = client.post(row_url(report), data)
    assert first.status_code == second.status_code == 200
    assert "已保存" in second.content.decode()
    report.refresh_from_db()
    assert report.version == 2
    assert Event.objects.filter(verb="report_save", target_id=str(report.pk)).count() == 1


def test_stale_row_is_refused_with_the_conflict_message_and_keeps_typed_values(client, users, report):
    services.report_save(
        actor=users["owner_a"], report=report, data={"investment": "800", "progress": "基础施工"}
    )
    login(client, users, "linchuan")
    html = post_row(client, report, **FULL).content.decode()  # rendered at version 1
    assert "已被" in html and "修改" in html and "第 2 版" in html
    assert "对方保存的内容" in html and "800.00 万元" in html
    assert "主体结构施工至三层" in html and 'value="1,500"' in html
    assert 'data-testid="reload"' in html
    report.refresh_from_db()
    assert report.investment == Decimal("800.00") and report.version == 2
    # The row now carries the current version: saving again (after checking) wins, on purpose.
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match.group(1) == "2"
    reload = client.get(row_url(report), HTTP_HX_REQUEST="true").content.decode()
    assert 'value="800"' in reload and "基础施工" in reload


def test_the_row_alone_outside_htmx_redirects_to_the_grid(client, users, report):
    response = login(client, users, "owner_a").get(row_url(report))
    assert response.status_code == 302 and response["Location"] == grid_url(report.period)


def test_expired_row_without_key_is_refused(client, users, report):
    login(client, users, "owner_a")
    html = client.post(row_url(report), row_data(report, key="not a key", **FULL)).content.decode()
    assert "页面已过期" in html
    report.refresh_from_db()
    assert report.version == 1


# --- submitting ----------------------------------------------------------------------------------


def test_row_submit_saves_then_submits(client, users, report):
    login(client, users, "owner_a")
    html = post_row(client, report, **FULL, action="submit").content.decode()
    assert "已报送" in html and 'data-col="investment"' not in html  # now read-only
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and report.investment == Decimal("1500.00")
    assert not report.is_late


def test_row_submit_of_an_incomplete_row_keeps_the_draft_and_names_the_cells(client, users, report):
    login(client, users, "owner_a")
    html = post_row(client, report, investment="300", action="submit").content.decode()
    assert "已保存为草稿，但还不能报送" in html
    assert cell_error(html, "progress") == "请填写形象进度。"
    assert cell_error(html, "next_plan") == "请填写下期计划。"
    report.refresh_from_db()
    assert report.status == Status.DRAFT and report.investment == Decimal("300.00")
    assert f'name="version" value="{report.version}"' in html


def test_submitted_row_cannot_be_changed_through_the_grid(client, users, report):
    login(client, users, "owner_a")
    post_row(client, report, **FULL, action="submit")
    report.refresh_from_db()
    html = post_row(client, report, **(FULL | {"investment": "10"})).content.decode()
    assert "报表已报送，不能再修改。" in html
    report.refresh_from_db()
    assert report.investment == Decimal("1500.00")


def test_submit_all_sends_the_drafts_that_pass_and_reports_the_others(client, users, report, zone_report):
    login(client, users, "linchuan")
    post_row(client, report, **FULL)
    post_row(client, zone_report, investment="100")  # a draft without progress and next plan
    period = report.period
    response = client.post(grid_url(period), {"report": [report.pk, zone_report.pk]})
    assert response.status_code == 200
    report.refresh_from_db()
    zone_report.refresh_from_db()
    assert report.status == Status.SUBMITTED and zone_report.status == Status.DRAFT
    html = response.content.decode()
    assert "已报送 1 份报表" in html and "1 份未能报送（经开区标准厂房）" in html
    rows = {r.report.pk: r for r in response.context["rows"]}
    assert rows[zone_report.pk].message.startswith("未能报送")
    assert any(c["error"] == "请填写形象进度。" for c in rows[zone_report.pk].cells)
    assert not rows[report.pk].editable


def test_submit_all_when_everything_passes_redirects_and_retry_is_harmless(client, users, report):
    login(client, users, "owner_a")
    post_row(client, report, **FULL)
    url = grid_url(report.period) + "?q=" + quote("新材料")
    response = client.post(url, {"report": [report.pk]})
    assert response.status_code == 302 and response["Location"] == url
    assert client.post(url, {"report": [report.pk]}).status_code == 302  # resent: nothing to do
    assert Event.objects.filter(verb="report_submit", target_id=str(report.pk)).count() == 1


def test_submit_all_ignores_reports_outside_scope(client, users, report, october, listed):
    other = Report.objects.get(period=october, project=listed["b"])
    services.report_save(
        actor=users["admin"], report=other, data={"progress": "前期", "next_plan": "开工准备"}
    )
    login(client, users, "owner_a")
    client.post(grid_url(october), {"report": [other.pk]})
    other.refresh_from_db()
    assert other.status == Status.DRAFT


# --- locked and read-only ------------------------------------------------------------------------


def test_locked_period_renders_read_only_and_refuses_saves(client, users, report):
    login(client, users, "owner_a")
    post_row(client, report, **FULL, action="submit")
    services.period_lock(actor=users["admin"], period=report.period)
    html = client.get(grid_url(report.period)).content.decode()
    assert 'data-testid="locked"' in html and "已锁定" in html
    assert "data-col=" not in html and "hx-post" not in html and 'data-testid="submit-all"' not in html
    assert "1,500.00" in html
    report.refresh_from_db()
    response = post_row(client, report, **(FULL | {"investment": "1"}))
    assert "已锁定" in response.content.decode()
    report.refresh_from_db()
    assert report.investment == Decimal("1500.00") and report.status == Status.LOCKED


def test_submitted_rows_are_read_only_among_editable_ones(client, users, report, zone_report):
    login(client, users, "linchuan")
    post_row(client, report, **FULL, action="submit")
    rows = {r.report.pk: r for r in client.get(grid_url(report.period)).context["rows"]}
    assert not rows[report.pk].editable and rows[zone_report.pk].editable


# --- in the browser ------------------------------------------------------------------------------


def in_browser(base_url: str, walk) -> None:
    """Run `walk(page)` in Chromium on a thread of its own (an event loop left running in this
    thread by other tests would stop Playwright's sync API), failing on any browser error."""
    from playwright.sync_api import sync_playwright

    from majorprojects.projects.tests.browser import conftest as browser_conftest

    outcome = {}

    def run():
        try:
            with sync_playwright() as p:
                chromium = p.chromium.launch(
                    executable_path=browser_conftest.CHROMIUM, args=browser_conftest.ARGS
                )
                context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
                context.set_default_timeout(15000)
                page = context.new_page()
                errors = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
                page.on("dialog", lambda dialog: dialog.accept())
                page.base = base_url
                try:
                    walk(page)
                finally:
                    context.close()
                    chromium.close()
                assert not errors, f"browser errors: {errors}"
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(180)
    assert not thread.is_alive(), "the browser walk did not finish"
    if "error" in outcome:
        raise outcome["error"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_clerk_fills_the_grid_with_the_keyboard(live_server, users, password, report, zone_report):
    """A county clerk types down a column with Enter and the arrows; each row saves when the
    cursor leaves it, a bad figure is marked in its cell, a row is submitted, then the page's
    remaining drafts are submitted together."""
    from playwright.sync_api import expect

    from majorprojects.projects.tests.browser.conftest import sign_in

    a, z = f"#row-{report.pk}", f"#row-{zone_report.pk}"
    url = grid_url(report.period)  # no database calls from the browser's thread

    def walk(page):
        sign_in(page, "linchuan", password)
        page.goto(f"{page.base}{url}")
        page.locator(f"{a} [data-col=investment]").click()
        page.keyboard.type("1500")
        page.keyboard.press("Enter")  # down to the same column of the next row; row a saves
        expect(page.locator(f"{z} [data-col=investment]")).to_be_focused()
        expect(page.locator(f"{a} [data-testid=saved]")).to_be_visible()
        expect(page.locator(f"{a} [data-testid=year_to_date]")).to_have_text("1,500.00")

        page.keyboard.type("-5")
        page.keyboard.press("ArrowUp")  # back up; the zone row saves and shows its error in place
        expect(page.locator(f"{a} [data-col=investment]")).to_be_focused()
        expect(page.locator(f"{z} [data-testid=error-investment]")).to_have_text(
            "本期完成投资：金额不能为负数。"
        )
        expect(page.locator(f"{z} [data-col=investment]")).to_have_class(re.compile("is-invalid"))
        expect(page.locator(f"{z} [data-col=investment]")).to_have_value("-5")

        page.locator(f"{a} [data-col=progress]").click()
        page.keyboard.type("主体施工")
        page.keyboard.press("Shift+Enter")  # a new line inside the cell
        page.keyboard.type("三层")
        page.keyboard.press("ArrowDown")  # from the last line: down to the next row
        expect(page.locator(f"{z} [data-col=progress]")).to_be_focused()
        expect(page.locator(f"{a} input[name=version]")).to_have_value("3")

        page.locator(f"{a} [data-col=percent_complete]").fill("40")
        page.locator(f"{a} [data-col=next_plan]").fill("封顶")
        page.locator(f"{a} [data-testid=submit]").click()
        expect(page.locator(f"{a} [data-testid=saved]")).to_have_text("✓ 已报送")
        expect(page.locator(f"{a} [data-col=investment]")).to_have_count(0)  # read-only now

        page.locator(f"{z} [data-col=investment]").fill("50")
        page.locator(f"{z} [data-col=progress]").fill("场地平整")
        page.locator(f"{z} [data-col=next_plan]").fill("开工准备")
        page.locator("[data-testid=submit-all]").click()  # the zone row saves first, then all go
        expect(page.locator(".alert-success")).to_contain_text("已报送 1 份报表")

    in_browser(live_server.url, walk)
    report.refresh_from_db()
    zone_report.refresh_from_db()
    assert report.status == Status.SUBMITTED and report.investment == Decimal("1500.00")
    assert report.progress == "主体施工\n三层" and report.percent_complete == Decimal("40")
    assert zone_report.status == Status.SUBMITTED and zone_report.investment == Decimal("50.00")
    assert zone_report.progress == "场地平整"
