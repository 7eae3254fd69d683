"""Reading the ledgers governments circulate: header detection, column mapping, cell values."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from majorprojects.projects.importing import ImportFileError, read_sheet, values
from majorprojects.projects.importing.fields import match_header
from majorprojects.projects.importing.reader import category_label


def workbook(rows, merges=(), title="Sheet1", hidden_first=False, more_sheets=()) -> bytes:
    """An .xlsx built from rows of cell values (None for empty), with merged ranges."""
    book = openpyxl.Workbook()
    sheet = book.active
    if hidden_first:
        sheet.title = "隐藏"
        sheet.append(["项目名称", "项目单位", "总投资"])
        sheet.append(["不应读到的项目", "某公司", 1])
        sheet.sheet_state = "hidden"
        sheet = book.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    for name, extra_rows in more_sheets:
        extra = book.create_sheet(name)
        for row in extra_rows:
            extra.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fields_of(sheet):
    return {c.header: c.field for c in sheet.columns}


def cells_of(record):
    return {key: value for key, (value, _) in record.cells.items()}


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field", "year"),
    [
        ("项目名称", "name", None),
        ("项 目 名 称", "name", None),
        ("项目单位（业主）", "owner_unit", None),
        ("建设单位", "owner_unit", None),
        ("项目业主", "owner_unit", None),
        ("业主单位", "owner_unit", None),
        ("项目法人", "owner_unit", None),
        ("年度计划投资", "planned_investment", None),
        ("本年计划投资", "planned_investment", None),
        ("2025年计划投资（万元）", "planned_investment", 2025),
        ("2025年度投资计划", "planned_investment", 2025),
        ("建设内容", "content", None),
        ("建设规模及内容", "content", None),
        ("所在地", "region", None),
        ("县（市、区）", "region", None),
        ("所属地区", "region", None),
        ("项目类型", "sector", None),
        ("类别", "sector", None),
        ("行业", "industry", None),
        ("计划开工时间", "planned_start_date", None),
        ("项目编码", "code", None),
        ("备案代码", "code", None),
        ("总投资（亿元）", "total_investment", None),
        ("新开工/续建", "new_start", None),
        ("建设起止年限", "years", None),
        ("备注", None, None),
        ("统一社会信用代码", None, None),
        ("2024年完成投资", None, None),
    ],
)
def test_header_synonyms(header, field, year):
    found = match_header(header)
    assert (found.field, found.year) == (field, year)


def test_unit_written_in_the_header():
    assert match_header("总投资（亿元）").unit == Decimal(10000)
    assert match_header("总投资(万元)").unit == Decimal(1)
    assert match_header("总投资").unit is None


# --- layout --------------------------------------------------------------------------------

MESSY = [
    ["2025年云江市重点项目计划表"],
    [None, None, None, None, None, None, None, None, "单位：亿元"],
    ["序 号", "项 目 名 称", "建设单位", "所在地", "建设起止年限", "总投资", None, "2025年计划投资", "备注"],
    [None, None, None, None, None, "合计", "其中：中央资金", None, None],
    ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
    ["合  计", None, None, None, None, 13, None, 3, None],
    ["一、产业项目（2个）", None, None, None, None, 8, None, 2, None],
    ["（一）交通", None, None, None, None, 8, None, 2, None],
    [1, "临川新材料产业园", "临川建设投资有限公司", "临川区", "2024—2026年", 5, 1, "1200万", None],
    [None] * 9,
    [2, "临川物流园", "新公司", "临川", "2025", "3.5亿", None, 0.5, "新项目"],
    ["小计", None, None, None, None, 8, None, 2, None],
    ["二", "基础设施", None, None, None, 5, None, 1, None],
    ["３", "环城公路", "某集团", "４３１９０２", "2024年-2026年", "１２００", None, None, None],
    ["注：本表由各县市区填报。"],
]
MESSY_MERGES = ["A1:I1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:G3", "H3:H4", "I3:I4"]


def test_title_unit_two_row_merged_header_and_skipped_rows():
    sheet = read_sheet(workbook(MESSY, MESSY_MERGES))
    assert (sheet.header_row, sheet.header_rows) == (3, 2)
    assert sheet.unit == Decimal(10000) and sheet.unit_label == "亿元"
    assert sheet.title == "2025年云江市重点项目计划表"
    assert sheet.header_year == 2025 and sheet.title_year == 2025
    assert fields_of(sheet) == {
        "序 号": "index",
        "项 目 名 称": "name",
        "建设单位": "owner_unit",
        "所在地": "region",
        "建设起止年限": "years",
        "总投资": "total_investment",
        "总投资/其中：中央资金": None,
        "2025年计划投资": "planned_investment",
        "备注": None,
    }
    assert [r.row for r in sheet.records] == [9, 11, 14]
    # column numbers, 合计, two category rows, a blank row, 小计, another category, the note
    assert sheet.skipped == 8
    first, second, third = sheet.records
    assert cells_of(first)["name"] == "临川新材料产业园"
    assert first.category == ["产业项目", "交通"]
    assert second.category == ["产业项目", "交通"]
    assert third.category == ["基础设施"]
    assert cells_of(third)["total_investment"] == "１２００"


def test_years_merged_over_start_and_end_columns():
    rows = [
        ["序号", "项目名称", "项目单位", "建设起止年限", None, "总投资（万元）"],
        [None, None, None, "开工", "竣工", None],
        [1, "甲项目", "甲公司", 2024, 2026, 100],
    ]
    sheet = read_sheet(workbook(rows, ["A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:F2"]))
    assert sheet.header_rows == 2
    assert fields_of(sheet) == {
        "序号": "index",
        "项目名称": "name",
        "项目单位": "owner_unit",
        "建设起止年限/开工": "start_year",
        "建设起止年限/竣工": "end_year",
        "总投资（万元）": "total_investment",
    }
    assert sheet.mapped["total_investment"].unit == Decimal(1)


def test_group_header_above_known_headers():
    rows = [
        ["项目名称", "项目单位", "投资情况（亿元）", None],
        [None, None, "总投资", "2026年计划"],
        ["乙项目", "乙公司", 2, 1],
    ]
    sheet = read_sheet(workbook(rows, ["A1:A2", "B1:B2", "C1:D1"]))
    assert fields_of(sheet) == {
        "项目名称": "name",
        "项目单位": "owner_unit",
        "总投资": "total_investment",
        "2026年计划": "planned_investment",
    }
    assert sheet.mapped["total_investment"].unit == Decimal(10000)
    assert sheet.header_year == 2026


def test_first_visible_sheet_unless_one_is_chosen():
    rows = [["项目名称", "项目单位"], ["可见的项目", "某公司"]]
    other = [["标题"], ["项目名称", "建设单位"], ["第二张表的项目", "某公司"]]
    content = workbook(rows, title="清单", hidden_first=True, more_sheets=[("续表", other)])
    sheet = read_sheet(content)
    assert sheet.name == "清单" and sheet.sheet_names == ["隐藏", "清单", "续表"]
    assert [cells_of(r)["name"] for r in sheet.records] == ["可见的项目"]
    chosen = read_sheet(content, sheet="续表")
    assert [cells_of(r)["name"] for r in chosen.records] == ["第二张表的项目"]
    with pytest.raises(ImportFileError, match="没有名为“不存在”的工作表"):
        read_sheet(content, sheet="不存在")


def test_mapping_overrides_the_headers():
    rows = [["项目名称", "单位", "投资额"], ["丙项目", "丙公司", 10]]
    sheet = read_sheet(workbook(rows))
    assert fields_of(sheet) == {"项目名称": "name", "单位": None, "投资额": None}
    sheet = read_sheet(workbook(rows), mapping={"B": "owner_unit", "C": "total_investment"})
    assert fields_of(sheet) == {"项目名称": "name", "单位": "owner_unit", "投资额": "total_investment"}
    assert sheet.problems == []


def test_two_columns_mapped_to_one_field_is_a_problem():
    rows = [["项目名称", "项目单位", "建设单位"], ["丁项目", "丁公司", "丁公司"]]
    sheet = read_sheet(workbook(rows))
    assert fields_of(sheet)["建设单位"] is None  # the first lookalike wins
    sheet = read_sheet(workbook(rows), mapping={"C": "owner_unit"})
    assert sheet.problems == ["「项目单位」（B列）和「建设单位」（C列）对应同一字段，请只保留一列。"]


def test_no_header_is_a_clear_error():
    with pytest.raises(ImportFileError, match="没有找到表头"):
        read_sheet(workbook([["甲", "乙"], [1, 2]]))


@pytest.mark.parametrize(
    ("text", "label"),
    [("一、产业项目（45个）", "产业项目"), ("（一）交通", "交通"), ("二、基础设施类(共3项)", "基础设施类")],
)
def test_category_labels(text, label):
    assert category_label(text) == label


# --- refusing files ------------------------------------------------------------------------


def test_not_xlsx_is_refused():
    with pytest.raises(ImportFileError, match=r"仅支持 Excel（\.xlsx）文件"):
        read_sheet(b"a,b\n1,2\n", name="ledger.csv")
    with pytest.raises(ImportFileError, match=r"\.xls（Excel 97-2003）"):
        read_sheet(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, name="ledger.xls")
    with pytest.raises(ImportFileError, match="不是有效的 Excel"):
        read_sheet(b"just text renamed", name="ledger.xlsx")
    with pytest.raises(ImportFileError, match="文件为空"):
        read_sheet(b"", name="ledger.xlsx")


def test_corrupt_and_oversize_files_are_refused(settings):
    content = workbook([["项目名称", "项目单位"], ["甲", "乙"]])
    with pytest.raises(ImportFileError, match="已损坏"):
        read_sheet(content[: len(content) // 2])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(ImportFileError, match="不是有效的 Excel"):
        read_sheet(buffer.getvalue())
    settings.IMPORT_MAX_BYTES = 1024
    with pytest.raises(ImportFileError, match="文件超过 1 KB 的上限"):
        read_sheet(content)


def _with_sheet_xml(content: bytes, xml: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = xml.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item, data)
    return buffer.getvalue()


def test_hostile_xml_is_refused():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
    )
    content = _with_sheet_xml(workbook([["项目名称", "项目单位"]]), laughs)
    with pytest.raises(ImportFileError, match="不安全"):
        read_sheet(content)


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1200, Decimal(1), Decimal("1200.00")),
        ("１２００", Decimal(1), Decimal("1200.00")),
        ("1,200.5", Decimal(1), Decimal("1200.50")),
        ("3.5亿", Decimal(1), Decimal("35000.00")),
        ("3.5亿元", Decimal(1), Decimal("35000.00")),
        (3.5, Decimal(10000), Decimal("35000.00")),
        ("1200万元", Decimal(10000), Decimal("1200.00")),
        ("-", Decimal(1), None),
    ],
)
def test_amounts(value, unit, expected):
    assert values.amount(value, unit) == expected


@pytest.mark.parametrize(("value", "message"), [("约3亿", "无法识别的金额“约3亿”"), (-5, "金额不能为负数")])
def test_bad_amounts(value, message):
    with pytest.raises(values.CellError) as exc:
        values.amount(value)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-2026", (2024, 2026)),
        ("2024—2026年", (2024, 2026)),
        ("2024~2026", (2024, 2026)),
        ("2024～2026", (2024, 2026)),
        ("2024年-2026年", (2024, 2026)),
        ("2024至2026年", (2024, 2026)),
        ("２０２４－２０２６", (2024, 2026)),
        ("2024.03-2026.12", (2024, 2026)),
        ("2024-26", (2024, 2026)),
        ("2025", (2025, 2025)),
        (2025, (2025, 2025)),
        ("", None),
    ],
)
def test_year_ranges(value, expected):
    assert values.year_range(value) == expected


@pytest.mark.parametrize("value", ["三年", "2026-2024", "2024-2025-2026"])
def test_bad_year_ranges(value):
    with pytest.raises(values.CellError):
        values.year_range(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2025, 3, 15), dt.date(2025, 3, 15)),
        ("2025-03-15", dt.date(2025, 3, 15)),
        ("2025年3月", dt.date(2025, 3, 1)),
        ("2025年3月15日", dt.date(2025, 3, 15)),
        ("2025.3", dt.date(2025, 3, 1)),
        (2025.3, dt.date(2025, 3, 1)),
        ("2025/3/15", dt.date(2025, 3, 15)),
        ("２０２５年３月底", dt.date(2025, 3, 1)),
        (45731, dt.date(2025, 3, 15)),
        (None, None),
    ],
)
def test_dates(value, expected):
    assert values.date(value) == expected


@pytest.mark.parametrize("value", ["2025年", "明年春", "2025-13-01", "2025-02-30"])
def test_bad_dates(value):
    with pytest.raises(values.CellError):
        values.date(value)


@pytest.mark.parametrize(
    ("value", "expected"), [("是", True), ("√", True), ("否", False), ("×", False), ("", None), (None, None)]
)
def test_booleans(value, expected):
    assert values.boolean(value) is expected


def test_labels_become_choices():
    assert values.stage("在建") == "construction"
    assert values.stage("开工") == "construction"
    assert values.stage("投产") == "operating"
    assert values.list_kind("储备") == "reserve"
    assert values.list_kind("年度建设项目") == "construction"
    assert values.key_level("省重点") == "province"
    assert values.key_level("市重点项目") == "city"
    assert values.key_level("非重点") == ""
    assert values.new_start("新开工") is True
    assert values.new_start("续建") is False
    assert values.approval_regime("核准") == "verification"
    with pytest.raises(values.CellError, match="无法识别的项目阶段“快完了”"):
        values.stage("快完了")


def test_project_code_format():
    assert (
        values.project_code("２０２４－４３１９２１－４８－０１－１２３４５６") == "2024-431921-48-01-123456"
    )
    assert values.project_code("2024—431921—48—01—123456") == "2024-431921-48-01-123456"
    with pytest.raises(values.CellError) as exc:
        values.project_code("2024-4319")
    assert exc.value.message == "项目代码“2024-4319”格式不正确，应为 YYYY-RRRRRR-DD-TT-NNNNNN"


def test_text_takes_off_the_exports_formula_guard():
    assert values.text('\'=HYPERLINK("x")') == '=HYPERLINK("x")'
    assert values.text("'-1+1") == "-1+1"
    assert values.text("'普通文字") == "'普通文字"
    assert values.text("  临川（一期）  ") == "临川（一期）"
