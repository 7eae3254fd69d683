"""The ledger in Excel: export read back, a round trip that updates items, and uploads that are
refused whole (bad cells named by row and column, unknown projects or items, stale rows, rows
outside the account's scope, files that are not ledgers)."""

import io
from datetime import date, datetime

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from majorprojects.approvals import excel, selectors, services
from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.audit.models import Event

from .conftest import item

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in excel.COLUMNS]


def export(user, **filters) -> openpyxl.Workbook:
    rows = selectors.with_flags(selectors.ledger_items(user, **filters))
    return openpyxl.load_workbook(io.BytesIO(excel.ledger_xlsx(rows)))


def to_bytes(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row_of(sheet, code, item_name) -> int:
    col = {v: i + 1 for i, v in enumerate(HEADERS)}
    for r in range(3, sheet.max_row + 1):
        if sheet.cell(r, col["项目代码"]).value == code and sheet.cell(r, col["审批事项"]).value == item_name:
            return r
    raise LookupError(item_name)


def put(sheet, r, header, value):
    sheet.cell(r, HEADERS.index(header) + 1).value = value


def messages(exc) -> list[str]:
    return exc.value.messages


def test_export_reads_back(ledgers, users):
    a = ledgers["a"]
    ApprovalItem.objects.filter(project=a, item_type__code="eia").update(
        status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 11, 1), note='=HYPERLINK("x")'
    )
    sheet = export(users["admin"]).active
    assert sheet.title == "前期工作台账"
    assert [c.value for c in sheet[2]] == HEADERS
    assert sheet.max_row == 2 + 24
    r = row_of(sheet, a.code, "环评批复")
    values = {h: sheet.cell(r, i + 1).value for i, h in enumerate(HEADERS)}
    assert values["项目名称"] == "临川新材料产业园" and values["办理状态"] == "办理中"
    assert values["计划完成日期"] == datetime(2026, 11, 1)
    assert values["预警"] == "逾期未办结"
    assert values["备注"].startswith("'=")  # never a formula
    assert sheet.column_dimensions["T"].hidden  # 版本


def test_export_is_scoped(ledgers, users):
    assert export(users["qingshan"]).active.max_row == 2 + 11
    assert export(users["auditor"]).active.max_row == 2


def test_round_trip_updates_changed_rows_only(ledgers, users, city):
    a = ledgers["a"]
    book = export(users["linchuan"])
    sheet = book.active
    r = row_of(sheet, a.code, "可研批复")
    put(sheet, r, "办理状态", "已办结")
    put(sheet, r, "实际办结日期", datetime(2026, 10, 12))
    put(sheet, r, "批复文号", "云发改审批〔2026〕88号")
    put(sheet, r, "责任单位", "临川建设投资有限公司")
    r2 = row_of(sheet, a.code, "项目建议书")
    put(sheet, r2, "办理状态", "不涉及")
    put(sheet, r2, "不涉及原因", "已列入专项规划")
    r3 = row_of(sheet, a.code, "环评批复")
    put(sheet, r3, "办理状态", "办理中")
    put(sheet, r3, "受理日期", "2026年2月12日")
    result = services.ledger_import(actor=users["linchuan"], name="台账.xlsx", content=to_bytes(book))
    assert (result.updated, result.unchanged) == (3, 10)
    feas = item(a, "feasibility")
    assert (feas.status, feas.actual_date, feas.document_number) == (
        ItemStatus.DONE,
        date(2026, 10, 12),
        "云发改审批〔2026〕88号",
    )
    assert feas.responsible_unit == city["owner_a"] and feas.version == 2
    assert item(a, "proposal").not_applicable_reason == "已列入专项规划"
    assert item(a, "eia").submitted_date == date(2026, 2, 12)
    assert Event.objects.filter(verb="approval_item_import", project=a).count() == 3
    # The same file again: the rows now match (versions moved on, but nothing changes).
    again = services.ledger_import(actor=users["linchuan"], name="台账.xlsx", content=to_bytes(book))
    assert (again.updated, again.unchanged) == (0, 13)


def test_one_bad_row_writes_nothing_and_names_row_and_column(ledgers, users):
    a = ledgers["a"]
    book = export(users["admin"])
    sheet = book.active
    good = row_of(sheet, a.code, "可研批复")
    put(sheet, good, "办理状态", "办理中")
    bad = row_of(sheet, a.code, "环评批复")
    put(sheet, bad, "办理状态", "已审批")
    worse = row_of(sheet, a.code, "节能审查")
    put(sheet, worse, "办理状态", "已办结")
    put(sheet, worse, "实际办结日期", datetime(2027, 1, 5))
    nodate = row_of(sheet, a.code, "水土保持方案批复")
    put(sheet, nodate, "计划完成日期", "明年")
    na = row_of(sheet, a.code, "招标")
    put(sheet, na, "办理状态", "不涉及")
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["admin"], name="台账.xlsx", content=to_bytes(book))
    got = messages(exc)
    assert f"第{bad}行“办理状态”：应为未启动、办理中、已办结、容缺承诺或不涉及，而不是“已审批”" in got
    assert f"第{worse}行“实际办结日期”：实际办结日期不能晚于今天" in got
    assert f"第{worse}行“批复文号”：已办结的事项须填写批复文号" in got
    assert any(m.startswith(f"第{nodate}行“计划完成日期”：无法识别的日期") for m in got)
    assert f"第{na}行“不涉及原因”：标记为“不涉及”须填写原因" in got
    assert item(a, "feasibility").status == ItemStatus.NOT_STARTED
    assert not Event.objects.filter(verb="approval_item_import").exists()


def test_unknown_projects_unknown_items_and_duplicates_are_refused(ledgers, users):
    a = ledgers["a"]
    book = export(users["owner_a"])
    sheet = book.active
    unknown = row_of(sheet, a.code, "招标")
    put(sheet, unknown, "审批事项", "防洪评价")
    put(sheet, unknown, "办理状态", "办理中")
    missing = row_of(sheet, a.code, "施工许可")
    put(sheet, missing, "项目代码", "2026-431902-48-01-999999")
    put(sheet, missing, "办理状态", "办理中")
    dup = row_of(sheet, a.code, "施工图审查")
    put(sheet, dup, "审批事项", "可研批复")
    put(sheet, dup, "办理状态", "办理中")
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["owner_a"], name="台账.xlsx", content=to_bytes(book))
    got = messages(exc)
    assert f"第{unknown}行“审批事项”：该项目的台账中没有“防洪评价”事项" in got
    assert f"第{missing}行“项目代码”：找不到项目代码“2026-431902-48-01-999999”" in got
    feas = row_of(sheet, a.code, "可研批复")
    assert f"第{max(dup, feas)}行“审批事项”：与第{min(dup, feas)}行是同一事项" in got
    assert len(got) == 3


def test_rows_outside_the_accounts_scope_are_refused(ledgers, users):
    b = ledgers["b"]
    book = export(users["admin"], project=b)
    sheet = book.active
    r = row_of(sheet, b.code, "项目核准")
    put(sheet, r, "办理状态", "办理中")
    content = to_bytes(book)
    with pytest.raises(ValidationError) as exc:  # another county: existence is not revealed
        services.ledger_import(actor=users["linchuan"], name="台账.xlsx", content=content)
    assert f"第{r}行“项目代码”：找不到项目代码“{b.code}”" in messages(exc)
    with pytest.raises(ValidationError) as exc:  # the leader reads but changes nothing
        services.ledger_import(actor=users["leader"], name="台账.xlsx", content=content)
    assert f"第{r}行“项目代码”：无权修改该项目" in messages(exc)
    assert services.ledger_import(actor=users["jtj"], name="台账.xlsx", content=content).updated == 1


def test_row_changed_in_the_system_since_export_is_refused(ledgers, users):
    a = ledgers["a"]
    book = export(users["owner_a"])
    it = item(a, "eia")
    services.item_update(
        actor=users["linchuan"], item=it, fields={"responsible_person": "赵六"}, expected_version=1
    )
    sheet = book.active
    r = row_of(sheet, a.code, "环评批复")
    put(sheet, r, "办理状态", "办理中")
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["owner_a"], name="台账.xlsx", content=to_bytes(book))
    assert messages(exc) == [f"第{r}行“审批事项”：导出后该事项已在系统中被修改，请重新导出后再填写"]


def test_a_hand_made_sheet_matched_by_project_name(ledgers, users):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["临川区前期工作台账"])
    sheet.append(["项目名称", "事项", "状态", "文号", "批复日期"])
    sheet.append(["临川新材料产业园", "可研批复", "已完成", "云发改〔2026〕1号", "2026.10"])
    sheet.append(["填表人：张三"])
    result = services.ledger_import(actor=users["owner_a"], name="x.xlsx", content=to_bytes(book))
    assert result.updated == 1
    feas = item(ledgers["a"], "feasibility")
    assert (feas.status, feas.actual_date) == (ItemStatus.DONE, date(2026, 10, 1))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("台账.xlsx", b"", "文件为空"),
        ("台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xls"),
        ("台账.xlsx", b"not a zip at all", "不是有效的 Excel"),
        ("台账.xlsx", b"PK\x03\x04broken", "已损坏"),
    ],
)
def test_files_that_are_not_workbooks(ledgers, users, name, content, message):
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["admin"], name=name, content=content)
    assert message in messages(exc)[0]


def test_workbook_without_a_ledger_header(ledgers, users):
    book = openpyxl.Workbook()
    book.active.append(["序号", "名称", "金额"])
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["admin"], name="x.xlsx", content=to_bytes(book))
    assert "没有找到表头" in messages(exc)[0]
    book = openpyxl.Workbook()
    book.active.append(["审批事项", "办理状态"])
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["admin"], name="x.xlsx", content=to_bytes(book))
    assert "没有“项目代码”或“项目名称”列" in messages(exc)[0]


@pytest.mark.parametrize("value", ["inf", "1e400", "-3", "abc"])
def test_a_tampered_version_cell_is_a_cell_error_not_a_crash(ledgers, users, value):
    a = ledgers["a"]
    book = export(users["admin"])
    sheet = book.active
    r = row_of(sheet, a.code, "可研批复")
    put(sheet, r, "办理状态", "办理中")
    sheet.cell(r, HEADERS.index("版本") + 1).value = value
    with pytest.raises(ValidationError) as exc:
        services.ledger_import(actor=users["admin"], name="台账.xlsx", content=to_bytes(book))
    assert any(m.startswith(f"第{r}行“版本”：") for m in messages(exc)), messages(exc)
    assert item(a, "feasibility").status == ItemStatus.NOT_STARTED
