"""A county clerk's walk through the project library, the way a person would do it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from majorprojects.factories import ListingFactory
from majorprojects.projects.models import Project

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def listed(projects):
    ListingFactory(project=projects["a"], year=2026, planned_investment=Decimal("12000.50"), key_level="city")
    return projects


def test_county_user_filters_opens_edits_and_exports(page, users, listed, password):
    sign_in(page, "linchuan", password)
    assert page.inner_text("[data-testid=home-count]") == "2"

    page.click("text=项目库")
    page.wait_for_selector("[data-testid=project-table]")
    assert page.inner_text("[data-testid=footer-count]") == "2"
    assert "青山县环城公路" not in page.content()

    # filter in place with HTMX: the URL follows, the page does not reload
    page.fill("#id_q", "标准厂房")
    expect(page.locator("[data-testid=footer-count]")).to_have_text("1")
    assert "q=" in page.url
    assert "%E6%A0%87%E5%87%86" in page.get_attribute("#export-link", "href")  # 标准 in the export link

    page.fill("#id_q", "")
    expect(page.locator("[data-testid=footer-count]")).to_have_text("2")
    page.click("text=临川新材料产业园")
    page.wait_for_selector("[data-testid=project-name]")

    # tabs switch with HTMX
    page.click("a[data-tab-link]:has-text('年度清单')")
    page.wait_for_selector("#tab-body :text('12,000.50')")
    assert "/tab/listings/" in page.url

    page.click("text=编辑")
    page.fill("#id_name", "临川新材料产业园（一期）")
    page.fill("#id_total_investment", "6亿")
    page.click("button:has-text('保存')")
    page.wait_for_selector("[data-testid=project-name]:has-text('（一期）')")
    project = Project.objects.get(pk=listed["a"].pk)
    assert project.total_investment == Decimal("60000.00") and project.version == 2

    page.click("a[data-tab-link]:has-text('变更记录')")
    page.wait_for_selector("[data-testid=timeline] :text('修改项目信息')")

    # a wrong amount gets a field-level Chinese message and nothing is saved
    page.click("text=编辑")
    page.fill("#id_total_investment", "约3亿")
    page.click("button:has-text('保存')")
    page.wait_for_selector(".invalid-feedback:has-text('无法识别的金额')")
    assert Project.objects.get(pk=project.pk).total_investment == Decimal("60000.00")

    page.goto(f"{page.base}/projects/?q=产业园")
    with page.expect_download() as download_info:
        page.click("#export-link")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    import openpyxl

    with open(download.path(), "rb") as fh:
        sheet = openpyxl.load_workbook(fh).active
    names = [row[1] for row in sheet.iter_rows(min_row=4, values_only=True) if isinstance(row[0], int)]
    assert names == ["临川新材料产业园（一期）"]
