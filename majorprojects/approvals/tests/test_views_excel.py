"""The ledger's Excel pages: export of what the list shows (filters, scope, one project) read back
with openpyxl, and the import page: a round trip that updates an item, a file refused whole with
its errors named by row and column, size and type checks, and who may import."""

import io
from datetime import date, datetime

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from majorprojects.approvals import excel
from majorprojects.approvals.models import ApprovalItem, ItemStatus

from .conftest import item

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in excel.COLUMNS]


@pytest.fixture
def as_user(client, users):
    def login(name):
        client.force_login(users[name])
        return client

    return login


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def column(sheet, header) -> list:
    c = HEADERS.index(header) + 1
    return [sheet.cell(r, c).value for r in range(3, sheet.max_row + 1)]


def row_of(sheet, item_name) -> int:
    c = HEADERS.index("审批事项") + 1
    return next(r for r in range(3, sheet.max_row + 1) if sheet.cell(r, c).value == item_name)


def put(sheet, r, header, value):
    sheet.cell(r, HEADERS.index(header) + 1).value = value


def upload(book, name="前期工作台账.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def test_export_is_what_the_list_shows(ledgers, as_user):
    client = as_user("owner_a")
    sheet = workbook(client.get(reverse("approvals:export"))).active
    assert [c.value for c in sheet[2]] == HEADERS
    assert set(column(sheet, "项目名称")) == {"临川新材料产业园"}  # its own project only
    assert sheet.max_row == 2 + 13
    sheet = workbook(
        client.get(reverse("approvals:export"), {"item_type": item(ledgers["a"], "eia").item_type_id})
    ).active
    assert column(sheet, "审批事项") == ["环评批复"]
    admin = as_user("admin")
    sheet = workbook(admin.get(reverse("approvals:export"), {"project": ledgers["b"].pk})).active
    assert set(column(sheet, "项目名称")) == {"青山县环城公路"}
    assert "青山县环城公路 前期工作台账" in sheet.cell(1, 1).value


def test_export_with_the_flag_filter(ledgers, as_user, users):
    a = ledgers["a"]
    ApprovalItem.objects.filter(project=a, item_type__code="eia").update(planned_date=date(2026, 11, 1))
    sheet = workbook(as_user("admin").get(reverse("approvals:export"), {"flag": "overdue"})).active
    assert column(sheet, "审批事项") == ["环评批复"]
    assert column(sheet, "预警") == ["逾期未办结"]


def test_export_scope(ledgers, as_user):
    assert (
        as_user("owner_a").get(reverse("approvals:export"), {"project": ledgers["b"].pk}).status_code == 404
    )
    assert as_user("auditor").get(reverse("approvals:export")).status_code == 403
    assert as_user("owner_a").post(reverse("approvals:export")).status_code == 405


def test_import_round_trip(ledgers, as_user):
    client = as_user("owner_a")
    book = workbook(client.get(reverse("approvals:export")))
    sheet = book.active
    r = row_of(sheet, "环评批复")
    put(sheet, r, "办理状态", "已办结")
    put(sheet, r, "实际办结日期", datetime(2026, 10, 12))
    put(sheet, r, "批复文号", "云环审〔2026〕31号")
    response = client.post(reverse("approvals:import"), {"file": upload(book)}, follow=True)
    page = response.content.decode()
    assert "已导入：更新 1 个事项，未改动 12 个" in page
    assert response.redirect_chain[-1][0] == reverse("approvals:items")
    saved = item(ledgers["a"], "eia")
    assert saved.status == ItemStatus.DONE
    assert saved.actual_date == date(2026, 10, 12)
    assert saved.document_number == "云环审〔2026〕31号"
    # The same file again: the row is stale now (版本), and nothing else changed.
    again = client.post(reverse("approvals:import"), {"file": upload(book)}, follow=True)
    assert "已导入：更新 0 个事项，未改动 13 个" in again.content.decode()


def test_import_with_errors_writes_nothing_and_names_row_and_column(ledgers, as_user):
    client = as_user("owner_a")
    book = workbook(client.get(reverse("approvals:export")))
    sheet = book.active
    good, bad, worse = row_of(sheet, "环评批复"), row_of(sheet, "节能审查"), row_of(sheet, "招标")
    put(sheet, good, "办理状态", "办理中")
    put(sheet, bad, "办理状态", "办好了")
    put(sheet, worse, "办理状态", "已办结")
    put(sheet, worse, "实际办结日期", datetime(2026, 11, 2))
    response = client.post(reverse("approvals:import"), {"file": upload(book)})
    assert response.status_code == 200
    errors = response.context["errors"]
    assert any(e.startswith(f"第{bad}行“办理状态”") for e in errors), errors
    assert any(e.startswith(f"第{worse}行“批复文号”") and "须填写批复文号" in e for e in errors), errors
    assert "未写入任何数据" in response.content.decode()
    assert item(ledgers["a"], "eia").status == ItemStatus.NOT_STARTED


def test_import_checks_the_file(ledgers, as_user, settings):
    client = as_user("owner_a")
    response = client.post(
        reverse("approvals:import"), {"file": SimpleUploadedFile("台账.xlsx", b"not a workbook at all")}
    )
    assert response.status_code == 200
    assert response.context["errors"] or response.context["form"].errors
    assert "xlsx" in response.content.decode().lower()
    settings.IMPORT_MAX_BYTES = 10
    response = client.post(reverse("approvals:import"), {"file": SimpleUploadedFile("台账.xlsx", b"x" * 11)})
    assert "文件超过" in " ".join(response.context["form"].errors["file"])
    response = client.post(reverse("approvals:import"), {})
    assert response.context["form"].errors["file"]


def test_import_is_for_accounts_that_may_change_projects(ledgers, as_user):
    assert as_user("leader").get(reverse("approvals:import")).status_code == 403
    assert as_user("auditor").get(reverse("approvals:import")).status_code == 403
    assert as_user("owner_a").get(reverse("approvals:import")).status_code == 200


def test_import_refuses_rows_of_projects_the_user_may_not_change(ledgers, as_user):
    book = workbook(as_user("admin").get(reverse("approvals:export"), {"project": ledgers["b"].pk}))
    sheet = book.active
    put(sheet, row_of(sheet, "环评批复"), "办理状态", "办理中")
    response = as_user("owner_a").post(reverse("approvals:import"), {"file": upload(book)})
    assert any("找不到项目代码" in e for e in response.context["errors"])
    assert item(ledgers["b"], "eia").status == ItemStatus.NOT_STARTED
