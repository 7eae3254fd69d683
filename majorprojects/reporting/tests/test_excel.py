"""The period's Excel template: cell parsers, the workbook as written (pre-filled values, hidden
and locked key columns, drop-downs, no formula injection), and the upload: round trip, mapping by
report id / code / name within scope, all-or-nothing with row- and column-named errors, edit
conflicts after download, "submit after import", and hostile or oversized files."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from majorprojects.audit.models import Event
from majorprojects.factories import ProjectFactory
from majorprojects.projects.importing.reader import ImportFileError
from majorprojects.projects.importing.values import CellError
from majorprojects.projects.models import Project, Stage
from majorprojects.reporting import excel, services
from majorprojects.reporting.models import Frequency, Period, Report, Schedule, Status

TODAY = date(2026, 10, 20)
HEADER_ROW = 3  # Excel row of the header; data from row 4


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


@pytest.fixture
def building(listed):
    Project.objects.filter(pk=listed["a"].pk).update(
        stage=Stage.CONSTRUCTION, actual_start_date=date(2025, 3, 1), code="2025-431902-48-01-000001"
    )
    return listed


@pytest.fixture
def report(slot, building):
    slot.refresh_from_db()
    return slot


@pytest.fixture
def zone_report(october, listed):
    return Report.objects.create(period=october, project=listed["zone"], period_end=october.ends_on)


def login(client, users, name):
    client.force_login(users[name])
    return client


def download(client, period) -> openpyxl.Workbook:
    response = client.get(f"/dispatch/periods/{period.pk}/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def headers(ws) -> dict[str, int]:
    return {
        ws.cell(HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(HEADER_ROW, c).value
    }


def row_of(ws, name: str) -> int:
    col = headers(ws)["项目名称"]
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(r, col).value == name:
            return r
    raise AssertionError(name)


def fill(ws, name: str, **values) -> int:
    """Type values into a project's row by column header; returns the Excel row number."""
    cols = headers(ws)
    r = row_of(ws, name)
    for header, value in values.items():
        ws.cell(r, cols[header]).value = value
    return r


def to_bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client, period, content: bytes, name="调度表.xlsx", submit=False):
    data = {"file": SimpleUploadedFile(name, content)}
    if submit:
        data["submit"] = "on"
    return client.post(f"/dispatch/periods/{period.pk}/upload/", data)


MONEY = "本期完成投资（万元）"
FILLED = {
    MONEY: 1500,
    "工程完成比例（%）": 40,
    "形象进度": "主体结构施工至三层",
    "下期计划": "完成主体封顶",
}


# --- cell parsers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("investment", "1,500", Decimal("1500.00")),
        ("investment", 1500.5, Decimal("1500.50")),
        ("investment", "0.15亿", Decimal("1500.00")),
        ("investment", "", None),
        ("percent_complete", "45.5%", Decimal("45.50")),
        ("percent_complete", 100, Decimal("100.00")),
        ("percent_complete", None, None),
        ("started_on", "2026年10月8日", date(2026, 10, 8)),
        ("started_on", datetime(2026, 10, 8), date(2026, 10, 8)),
        ("started_on", "2026.10", date(2026, 10, 1)),
        ("stats_included", "是", True),
        ("stats_included", "否", False),
        ("stats_included", "", None),
        ("progress", "  '=SUM(A1)  ", "=SUM(A1)"),  # our own formula guard comes off again
        ("note", None, ""),
    ],
)
def test_parse_value_reads_what_people_type(name, raw, value):
    assert excel.parse_value(name, raw) == value


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("investment", "-5", "金额不能为负数"),
        ("investment", "很多", "无法识别的金额“很多”"),
        ("percent_complete", "120", "应为 0 到 100 之间的数值"),
        ("percent_complete", "一半", "应为 0 到 100 之间的数值，而不是“一半”"),
        ("started_on", "明天", "无法识别的日期“明天”，应写作“2025-03-15”或“2025年3月”"),
        ("stats_included", "也许", "应填“是”或“否”，而不是“也许”"),
        ("progress", "字" * 4001, "不能超过 4000 字"),
    ],
)
def test_parse_value_refuses_with_a_chinese_message(name, raw, message):
    with pytest.raises(CellError) as exc:
        excel.parse_value(name, raw)
    assert exc.value.message == message


def test_canonical_and_digest_ignore_spelling():
    assert excel.canonical(Decimal("45.50")) == excel.canonical(45.5) == "45.5"
    assert excel.canonical(Decimal("1500.00")) == excel.canonical(1500) == "1500"
    assert excel.canonical(datetime(2026, 10, 8, 0, 0)) == excel.canonical(date(2026, 10, 8))
    fields = ["investment", "progress"]
    assert excel.digest({"investment": Decimal("1500.00"), "progress": "a"}, fields) == excel.digest(
        {"investment": 1500, "progress": "a "}, fields
    )
    assert excel.digest({"investment": 1}, fields) != excel.digest({"investment": 2}, fields)


# --- the template --------------------------------------------------------------------------------


def test_template_is_prefilled_with_the_users_reports(client, users, report, zone_report):
    services.report_save(
        actor=users["owner_a"],
        report=report,
        data={
            "investment": "800",
            "progress": "基础施工",
            "percent_complete": "12.5",
            "stats_included": "否",
        },
    )
    wb = download(login(client, users, "linchuan"), report.period)
    ws = wb.worksheets[0]
    assert ws.title == "调度表" and ws["A1"].value == "2026年10月调度表"
    assert "单位：万元" in ws["A2"].value
    cols = headers(ws)
    assert list(cols)[:5] == ["序号", "项目名称", "项目代码", "所在区域", "填报状态"]
    for header in (
        MONEY,
        "本年累计（万元，系统计算）",
        "开工累计（万元，系统计算）",
        "工程完成比例（%）",
        "形象进度",
        "开工日期",
        "主体完工日期",
        "竣工日期",
        "投产日期",
        "是否入统",
        "入统日期",
        "存在问题",
        "下期计划",
        "情况说明",
        "报表编号",
        "版本",
    ):
        assert header in cols
    r = row_of(ws, "临川新材料产业园")
    assert ws.cell(r, cols[MONEY]).value == 800
    assert ws.cell(r, cols["本年累计（万元，系统计算）"]).value == 800
    assert ws.cell(r, cols["工程完成比例（%）"]).value == 12.5
    assert ws.cell(r, cols["形象进度"]).value == "基础施工"
    assert ws.cell(r, cols["是否入统"]).value == "否"
    assert ws.cell(r, cols["报表编号"]).value == report.pk
    assert ws.cell(r, cols["版本"]).value == 2
    assert ws.cell(r, cols["填报状态"]).value == "草稿"
    assert ws.cell(r, cols["项目代码"]).value == "2025-431902-48-01-000001"
    # Only the county's own reports: 临川 and its development zone, not 青山.
    names = {ws.cell(r, cols["项目名称"]).value for r in range(HEADER_ROW + 1, ws.max_row + 1)}
    assert names == {"临川新材料产业园", "经开区标准厂房"}
    assert wb.sheetnames == ["调度表", "填写说明"]


def test_template_hides_and_locks_keys_unlocks_inputs_and_offers_a_drop_down(client, users, report):
    wb = download(login(client, users, "owner_a"), report.period)
    ws = wb.worksheets[0]
    cols = headers(ws)
    r = row_of(ws, "临川新材料产业园")
    assert ws.protection.sheet
    for header in ("报表编号", "版本", "校验码"):
        letter = openpyxl.utils.get_column_letter(cols[header])
        assert ws.column_dimensions[letter].hidden
        assert ws.cell(r, cols[header]).protection.locked
    assert not ws.cell(r, cols[MONEY]).protection.locked
    assert not ws.cell(r, cols["形象进度"]).protection.locked
    assert ws.cell(r, cols["本年累计（万元，系统计算）"]).protection.locked
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and lists[0].formula1 == '"是,否"'
    assert openpyxl.utils.get_column_letter(cols["是否入统"]) in str(lists[0].sqref)
    comments = {ws.cell(HEADER_ROW, c).comment.text for c in cols.values() if ws.cell(HEADER_ROW, c).comment}
    assert any("万元" in text for text in comments)


def test_template_locks_the_inputs_of_submitted_reports(client, users, report):
    services.report_save(
        actor=users["owner_a"],
        report=report,
        data={"investment": "800", "progress": "a", "percent_complete": "10", "next_plan": "b"},
    )
    services.report_submit(actor=users["owner_a"], report=report)
    ws = download(login(client, users, "owner_a"), report.period).worksheets[0]
    r = row_of(ws, "临川新材料产业园")
    assert ws.cell(r, headers(ws)[MONEY]).protection.locked


def test_template_writes_formula_like_text_safely(client, users, report, city):
    hostile = ProjectFactory(name='=HYPERLINK("http://evil.example","点我")', owner_unit=city["owner_a"])
    slot = Report.objects.create(period=report.period, project=hostile, period_end=report.period_end)
    services.report_save(
        actor=users["owner_a"], report=slot, data={"progress": "+86 电话", "next_plan": "@all", "note": "-1"}
    )
    content = (
        login(client, users, "owner_a").get(f"/dispatch/periods/{report.period_id}/template.xlsx").content
    )
    ws = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    r = row_of(ws, "'" + hostile.name)
    assert ws.cell(r, headers(ws)["项目名称"]).data_type == "s"
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_weekly_template_has_no_money_columns(client, users, listed):
    weekly = Schedule.objects.create(name="周调度", frequency=Frequency.WEEKLY, starts_on=date(2026, 1, 1))
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
    ws = download(client, period).worksheets[0]
    cols = headers(ws)
    assert MONEY not in cols and "本年累计（万元，系统计算）" not in cols
    fill(ws, "临川新材料产业园", 形象进度="钢结构吊装", 是否入统="否")
    response = upload(client, period, to_bytes(ws.parent))
    assert response.status_code == 200 and response.context["result"].errors == []
    weekly_report.refresh_from_db()
    assert weekly_report.progress == "钢结构吊装" and weekly_report.stats_included is False


# --- uploading -----------------------------------------------------------------------------------


def test_round_trip_updates_the_reports(client, users, report, zone_report):
    login(client, users, "linchuan")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    fill(ws, "临川新材料产业园", **FILLED, 是否入统="是", 入统日期=datetime(2026, 10, 9))
    response = upload(client, report.period, to_bytes(wb))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="upload-result"' in html
    result = response.context["result"]
    assert (len(result.saved), result.submitted, result.unchanged) == (1, 0, 1)
    report.refresh_from_db()
    assert report.status == Status.DRAFT and report.investment == Decimal("1500.00")
    assert report.year_to_date == Decimal("1500.00") and report.percent_complete == Decimal("40")
    assert report.progress == "主体结构施工至三层" and report.next_plan == "完成主体封顶"
    assert report.stats_included is True and report.stats_date == date(2026, 10, 9)
    assert report.filled_by == users["linchuan"]
    zone_report.refresh_from_db()
    assert zone_report.status == Status.PENDING and zone_report.version == 1  # untouched row skipped
    assert Event.objects.filter(verb="report_save").count() == 1
    # The same file again: nothing changes, nothing conflicts.
    again = upload(client, report.period, to_bytes(wb)).context["result"]
    assert (len(again.saved), again.unchanged, again.errors) == (0, 2, [])


def test_upload_with_submit_saves_and_submits_in_one_go(client, users, report):
    login(client, users, "owner_a")
    wb = download(client, report.period)
    fill(wb.worksheets[0], "临川新材料产业园", **FILLED)
    response = upload(client, report.period, to_bytes(wb), submit=True)
    result = response.context["result"]
    assert (len(result.saved), result.submitted) == (1, 1)
    assert "已报送" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and report.submitted_at and not report.is_late


def test_upload_with_submit_of_an_incomplete_row_writes_nothing(client, users, report):
    login(client, users, "owner_a")
    wb = download(client, report.period)
    r = fill(wb.worksheets[0], "临川新材料产业园", **{MONEY: 300})
    response = upload(client, report.period, to_bytes(wb), submit=True)
    errors = response.context["errors"]
    assert f"第 {r} 行「形象进度」：请填写形象进度。" in errors
    assert f"第 {r} 行「下期计划」：请填写下期计划。" in errors
    assert "未写入任何数据" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.PENDING and report.investment is None and report.version == 1


def test_one_bad_row_writes_nothing_and_names_row_and_column(client, users, report, zone_report):
    login(client, users, "linchuan")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    fill(ws, "临川新材料产业园", **FILLED)
    bad = fill(ws, "经开区标准厂房", **{MONEY: -5, "工程完成比例（%）": 150, "竣工日期": "2026-10-01"})
    response = upload(client, report.period, to_bytes(wb))
    assert response.status_code == 200
    errors = response.context["errors"]
    assert errors == [
        f"第 {bad} 行「本期完成投资（万元）」：金额不能为负数。",
        f"第 {bad} 行「工程完成比例（%）」：应为 0 到 100 之间的数值。",
    ]
    html = response.content.decode()
    assert "未写入任何数据" in html and f"第 {bad} 行「本期完成投资（万元）」" in html
    report.refresh_from_db()
    zone_report.refresh_from_db()
    assert report.investment is None and report.version == 1 and report.status == Status.PENDING
    assert zone_report.version == 1
    assert not Event.objects.filter(verb="report_save").exists()


def test_rule_errors_from_the_services_are_named_too_and_roll_back_earlier_rows(
    client, users, report, zone_report
):
    login(client, users, "linchuan")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    fill(ws, "临川新材料产业园", **FILLED)
    bad = fill(ws, "经开区标准厂房", **{MONEY: 9000, "竣工日期": "2026-10-01", "形象进度": "a"})
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert errors == [
        f"第 {bad} 行「本期完成投资（万元）」：本年累计完成 9,000.00 万元将超过项目总投资 8,000.00 万元，请核实本期完成投资。",
        f"第 {bad} 行「竣工日期」：填写竣工日期前须先有开工日期。",
    ]
    report.refresh_from_db()
    assert report.investment is None and report.version == 1  # the good row was rolled back
    assert not Event.objects.filter(verb="report_save").exists()


def test_row_changed_online_after_download_is_a_conflict(client, users, report, zone_report):
    login(client, users, "linchuan")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    r = fill(ws, "临川新材料产业园", **FILLED)
    fill(ws, "经开区标准厂房", 形象进度="场平")
    services.report_save(actor=users["owner_a"], report=report, data={"investment": "700"})
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert len(errors) == 1
    assert errors[0].startswith(f"第 {r} 行（临川新材料产业园）：下载模板后该报表又被修改过。")
    assert "第 2 版" in errors[0] and "请重新下载模板" in errors[0]
    report.refresh_from_db()
    zone_report.refresh_from_db()
    assert report.investment == Decimal("700.00") and zone_report.progress == ""


def test_untouched_row_leaves_a_report_changed_online_alone(client, users, report, zone_report):
    login(client, users, "linchuan")
    wb = download(client, report.period)
    fill(wb.worksheets[0], "经开区标准厂房", 形象进度="场平")
    services.report_save(actor=users["owner_a"], report=report, data={"investment": "700"})
    result = upload(client, report.period, to_bytes(wb)).context["result"]
    assert result.errors == [] and len(result.saved) == 1 and result.unchanged == 1
    report.refresh_from_db()
    assert report.investment == Decimal("700.00")


def test_rows_of_other_scopes_and_periods_are_errors_naming_the_row(client, users, report, october, listed):
    login(client, users, "owner_a")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    cols = headers(ws)
    r = row_of(ws, "临川新材料产业园")
    foreign = Report.objects.get(period=october, project=listed["b"])
    september = Report.objects.get(project=listed["a"], period__number=9, period__year=2026)
    ws.cell(r, cols["报表编号"]).value = foreign.pk
    ws.cell(r, cols["项目名称"]).value = None
    ws.cell(r, cols["项目代码"]).value = None
    ws.cell(r, cols[MONEY]).value = 10
    for offset, (name, report_id) in enumerate([("临川新材料产业园", september.pk)], start=1):
        ws.cell(r + offset, cols["项目名称"]).value = name
        ws.cell(r + offset, cols["报表编号"]).value = report_id
        ws.cell(r + offset, cols[MONEY]).value = 10
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert errors[0].startswith(f"第 {r} 行：报表编号 {foreign.pk} 不是2026年10月您可填报的报表")
    assert errors[1].startswith(f"第 {r + 1} 行：报表编号 {september.pk} 不是2026年10月您可填报的报表")
    foreign.refresh_from_db()
    assert foreign.investment is None


def test_rows_without_report_id_match_by_code_then_name(client, users, report, zone_report):
    """A county's own sheet: no hidden columns, just names, codes and the figures."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026年10月调度表"])
    ws.append(["项目名称", "项目代码", "本期完成投资（万元）", "形象进度"])
    ws.append(["随便写的名字", "2025-431902-48-01-000001", "0.12亿", "主体施工"])
    ws.append(["经开区标准厂房", None, 50, "场平"])
    ws.append(["青山县环城公路", None, 50, "路基"])
    ws.append([None, None, None, None])
    ws.append(["填表人：张三"])
    login(client, users, "linchuan")
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert errors == ["第 5 行：项目“青山县环城公路”不在2026年10月您可填报的项目中。"]
    ws.delete_rows(5)
    result = upload(client, report.period, to_bytes(wb)).context["result"]
    assert result.errors == [] and len(result.saved) == 2
    report.refresh_from_db()
    zone_report.refresh_from_db()
    assert report.investment == Decimal("1200.00") and zone_report.progress == "场平"


def test_duplicate_rows_and_mismatched_names_are_refused(client, users, report, zone_report):
    login(client, users, "linchuan")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    cols = headers(ws)
    a = row_of(ws, "临川新材料产业园")
    z = row_of(ws, "经开区标准厂房")
    ws.cell(z, cols["报表编号"]).value = report.pk  # someone copied the row's hidden id
    ws.cell(z, cols["项目代码"]).value = "2025-431902-48-01-000001"
    ws.cell(a, cols[MONEY]).value = 10
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert errors == [f"第 {z} 行：与第 {a} 行是同一项目（临川新材料产业园），请只保留一行。"]
    ws.cell(z, cols["项目代码"]).value = None
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert errors == [
        f"第 {z} 行：项目名称“经开区标准厂房”与报表编号对应的项目“临川新材料产业园”不一致，请勿改动项目名称和隐藏列。"
    ]


def test_formula_guarded_name_reads_back_and_round_trips(client, users, report, city):
    hostile = ProjectFactory(name="=1+2 工程", owner_unit=city["owner_a"])
    slot = Report.objects.create(period=report.period, project=hostile, period_end=report.period_end)
    login(client, users, "owner_a")
    wb = download(client, report.period)
    fill(wb.worksheets[0], "'=1+2 工程", 形象进度="-开工准备")
    result = upload(client, report.period, to_bytes(wb)).context["result"]
    assert result.errors == []
    slot.refresh_from_db()
    assert slot.progress == "-开工准备"


def test_locked_period_refuses_uploads(client, users, report):
    login(client, users, "owner_a")
    content = to_bytes(download(client, report.period))
    services.period_lock(actor=users["admin"], period=report.period)
    response = upload(client, report.period, content)
    assert "已锁定" in response.content.decode()
    assert client.get(f"/dispatch/periods/{report.period_id}/upload/").status_code == 200


# --- hostile and wrong files ---------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("调度表.xlsx", b"just some text", "文件内容不是有效的 Excel（.xlsx）文件"),
        ("调度表.csv", b"a,b\n1,2", "仅支持 Excel（.xlsx）文件。"),
        ("调度表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "暂不支持 .xls"),
        ("调度表.xlsx", b"PK\x03\x04broken", "文件已损坏"),
        ("调度表.xlsx", _zip({"hello.txt": b"hi"}), "文件内容不是有效的 Excel（.xlsx）文件"),
        ("调度表.xlsx", _zip({"xl/workbook.xml": b"\x00" * (60 * 1024 * 1024)}), "文件解压后异常巨大"),
        (
            "调度表.xlsx",
            _zip(
                {
                    "[Content_Types].xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
                    "xl/workbook.xml": b"<workbook/>",
                }
            ),
            "文件已损坏或包含不安全的内容",
        ),
    ],
)
def test_malformed_and_hostile_files_are_refused(client, users, report, name, content, message):
    login(client, users, "owner_a")
    response = upload(client, report.period, content, name=name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    report.refresh_from_db()
    assert report.version == 1


def test_oversized_file_is_refused_before_reading(client, users, report, settings):
    login(client, users, "owner_a")
    content = to_bytes(download(client, report.period))
    settings.IMPORT_MAX_BYTES = 1024
    response = upload(client, report.period, content)
    assert response.context["form"].errors["file"] == ["文件超过 1 KB 的上限，请拆分后导入。"]


def test_a_sheet_without_a_header_is_refused():
    wb = openpyxl.Workbook()
    wb.active.append(["随便", "什么"])
    with pytest.raises(ImportFileError) as exc:
        excel.read_upload(name="x.xlsx", content=to_bytes(wb), carries_investment=True)
    assert "没有找到表头" in exc.value.message


def test_upload_page_is_for_fillers(client, users, report):
    html = (
        login(client, users, "linchuan").get(f"/dispatch/periods/{report.period_id}/upload/").content.decode()
    )
    assert 'type="file"' in html and "导入后直接报送" in html and "下载本期填报模板" in html
    assert (
        login(client, users, "leader").get(f"/dispatch/periods/{report.period_id}/upload/").status_code == 403
    )


def test_all_errors_come_back_at_once_in_row_order(client, users, report, zone_report):
    """A rule error (found by the services) and an unreadable cell (found by the reader) in
    different rows are both listed, so one round of corrections is enough."""
    login(client, users, "linchuan")
    wb = download(client, report.period)
    ws = wb.worksheets[0]
    a = fill(ws, "临川新材料产业园", **(FILLED | {MONEY: 60000}))
    z = fill(ws, "经开区标准厂房", 入统日期="上个月")
    assert a < z
    errors = upload(client, report.period, to_bytes(wb)).context["errors"]
    assert errors == [
        f"第 {a} 行「本期完成投资（万元）」：本年累计完成 60,000.00 万元将超过项目总投资 50,000.00 万元，请核实本期完成投资。",
        f"第 {z} 行「入统日期」：无法识别的日期“上个月”，应写作“2025-03-15”或“2025年3月”。",
    ]
    report.refresh_from_db()
    assert report.version == 1
