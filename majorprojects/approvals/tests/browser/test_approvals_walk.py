"""The approvals ledger walked the way people use it: the project unit opens its project's ledger,
records the EIA approval (first forgetting the document number, which the form names), sees the
summary change in place; then the county finds the approval on the city-wide ledger and in the
item list.

"Today" is 2026-11-23 (the approvals conftest fixes it for the live server too, which runs in
this process)."""

import re

import pytest
from playwright.sync_api import expect

from majorprojects.approvals.models import ApprovalItem, ItemStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROJECT = "临川新材料产业园"
DOCUMENT = "云环审〔2026〕31号"


def field(scope, label: str):
    """The input whose label is `label` (a trailing * marks a required field)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))


def test_project_unit_records_an_approval_and_the_county_sees_it(person, users, ledgers):
    a = ledgers["a"]

    # 1. The project unit finds its project in the ledger's item list and opens its ledger.
    unit = person("owner_a")
    page = unit.page
    unit.go("/approvals/items/")
    expect(page.get_by_test_id("result-count")).to_have_text("13")
    page.get_by_test_id("item-table").get_by_role("link", name=PROJECT).first.click()
    expect(page.get_by_test_id("project-name")).to_have_text(PROJECT)
    expect(page.get_by_test_id("summary-done")).to_have_text("0")
    expect(page.get_by_test_id("summary-applicable")).to_have_text("13")
    expect(page.get_by_test_id("node")).to_have_count(13)

    # 2. It opens the EIA item in place and marks it done, forgetting the document number.
    node = page.locator('[data-testid="node"][data-item="环评批复"]')
    node.get_by_test_id("edit-item").click()
    form = node.get_by_test_id("item-form")
    expect(form).to_be_visible()
    field(form, "办理状态").select_option(label="已办结")
    field(form, "实际办结日期").fill("2026-11-20")
    field(form, "审批部门").fill("云江市生态环境局")
    form.get_by_role("button", name="保存").click()
    expect(node.get_by_text("已办结的事项须填写批复文号")).to_be_visible()
    expect(page.get_by_test_id("summary-done")).to_have_text("0")

    # 3. It adds the number and saves: the ledger is redrawn with the new summary.
    form = node.get_by_test_id("item-form")
    field(form, "批复文号").fill(DOCUMENT)
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已保存“环评批复”")).to_be_visible()
    expect(page.get_by_test_id("summary-done")).to_have_text("1")
    node = page.locator('[data-testid="node"][data-item="环评批复"]')
    expect(node.get_by_test_id("item-status")).to_have_text("已办结")
    expect(node.get_by_test_id("document-number")).to_contain_text(DOCUMENT)
    expect(node.get_by_test_id("item-form")).to_have_count(0)
    saved = ApprovalItem.objects.get(project=a, item_type__code="eia")
    assert saved.status == ItemStatus.DONE and saved.document_number == DOCUMENT

    # 4. The county sees it on the city-wide ledger and follows the count into the list.
    county = person("linchuan")
    desk = county.page
    county.go("/approvals/")
    row = desk.get_by_test_id("matrix-row").filter(has=desk.get_by_role("cell", name="环评批复", exact=True))
    expect(row).to_have_count(1)
    row.get_by_role("link", name="1").first.click()
    table = desk.get_by_test_id("item-table")
    expect(desk.get_by_test_id("result-count")).to_have_text("1")
    expect(table).to_contain_text(PROJECT)
    expect(table).to_contain_text(DOCUMENT)
    expect(table.get_by_test_id("item-status")).to_have_text("已办结")
