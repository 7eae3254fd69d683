"""A county clerk uploads the ledger the county circulates, sees the preview errors, fixes the
column mapping, imports, and finds the projects in the library."""

from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from majorprojects.projects.models import Project

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def county_ledger(path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "临川区"
    sheet.append(["临川区2026年重大项目计划表"])
    sheet.merge_cells("A1:G1")
    sheet.append(["单位：亿元"])
    sheet.append(["序号", "项目名称", "业主单位", "所属地区", "项目类别", "概算投资", "2026年计划投资"])
    sheet.append(["一、产业项目（2个）"])
    sheet.append([1, "临川锂电池隔膜生产线", "临川建设投资有限公司", "临川区", "产业项目", 4.2, 1.5])
    sheet.append(
        [2, "经开区智能装备产业园", "临川建设投资有限公司", "云江经济技术开发区", "产业项目", "12.5", "3"]
    )
    sheet.append(["", "合计", "", "", "", 16.7, 4.5])
    book.save(path)
    return path


def test_county_user_imports_a_ledger_after_fixing_the_mapping(page, users, projects, password, tmp_path):
    sign_in(page, "linchuan", password)
    page.click("text=导入台账")
    page.set_input_files("input[type=file]", str(county_ledger(tmp_path / "临川区重大项目.xlsx")))
    page.click("button:has-text('上传并预览')")

    # "概算投资" is not a header the platform knows: every row lacks its total investment
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("总投资")
    assert page.locator("button:has-text('确认导入')").count() == 0
    assert not Project.objects.filter(name="临川锂电池隔膜生产线").exists()

    # the clerk tells the preview that column F is the total investment; HTMX re-validates
    page.select_option("select[name=col_F]", "total_investment")
    expect(page.locator("#import-errors")).to_have_count(0)
    expect(page.locator("#import-counts")).to_contain_text("2")
    page.click("button:has-text('确认导入')")
    expect(page.locator(".alert-success")).to_contain_text("新建 2 个")

    made = Project.objects.get(name="经开区智能装备产业园")
    assert made.total_investment == Decimal("125000.00") and made.region.name == "云江经济技术开发区"
    assert made.listings.get(year=2026).planned_investment == Decimal("30000.00")

    page.goto(f"{page.base}/projects/?q=临川锂电池")
    expect(page.locator("[data-testid=footer-total]")).to_have_text("42,000.00")
