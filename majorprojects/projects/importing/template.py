"""The import template: the export's own layout (so an export is also a valid import file), one
example row marked 示例 (skipped on import), and a sheet of notes on what each column takes."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import xlsxwriter

from majorprojects.accounts.scope import allowed_regions
from majorprojects.organisation.models import RegionKind, Sector

from .. import exports
from .fields import BY_KEY, FIELDS

NOTES = {
    "index": "可不填；写“示例”的行不导入。",
    "name": "必填。与已有项目按“项目代码”匹配，无代码时按“项目名称 + 项目单位”匹配，匹配到则更新。",
    "code": "全国投资项目在线审批监管平台赋码，格式 2024-431921-48-01-123456。",
    "region": "县市区名称、简称（如“临川”）或 6 位区划代码；须在您的管辖范围内。",
    "owner_unit": "单位全称；系统中没有的单位将作为企业新建在该区域。",
    "sector": "项目类别名称（与系统“项目类别”一致）。",
    "industry": "所属行业名称（项目类别下的行业）。",
    "approval_regime": "审批类 / 核准类 / 备案类。",
    "years": "如 2024-2026、2024—2026年、2024年-2026年；单个年份表示当年开工当年建成。",
    "total_investment": "万元；也可写“3.5亿”。表头注明“单位：亿元”时，未写单位的数字按亿元计。",
    "planned_investment": "万元；表头中的年份即导入年度。",
    "list_kind": "储备项目 / 年度建设项目；不填时新列入年度建设项目。",
    "key_level": "省重点 / 市重点 / 县重点 / 非重点。",
    "new_start": "新开工 / 续建。",
    "planned_start_date": "日期，如 2025-03-15、2025年3月（按当月1日）、2025.3。",
    "planned_completion_date": "日期，写法同上。",
    "stage": "谋划 / 储备 / 前期 / 签约 / 在建 / 竣工 / 投产达效；改为在建、竣工时须填实际日期。",
    "actual_start_date": "阶段改为“在建”及以后时填写。",
    "actual_completion_date": "阶段改为“竣工”“投产达效”时填写。",
    "responsible_department": "系统中已登记的行业主管部门名称。",
    "package_leader": "系统中已登记的领导姓名。",
    "work_group": "系统中已登记的工作专班名称。",
    "private": "是 / 否。",
    "high_tech": "是 / 否。",
    "tags": "多个标签用顿号或逗号分隔。",
    "parent": "已登记的打包项目名称（子项目填写）。",
}


def _example(actor, year: int) -> dict:
    regions = allowed_regions(actor).order_by("path")
    counties = regions.filter(kind__in=[RegionKind.DISTRICT, RegionKind.COUNTY, RegionKind.COUNTY_CITY])
    region = counties.first() or regions.first()
    industry = Sector.objects.filter(parent__isnull=False).select_related("parent").first()
    sector = industry.parent if industry else Sector.objects.filter(parent__isnull=True).first()
    return {
        "name": "示例：某某产业园基础设施建设项目",
        "code": f"{year}-{region.code if region else '431921'}-48-01-000001",
        "region__name": region.name if region else "",
        "owner_unit__name": "某某建设投资有限公司",
        "sector__name": sector.name if sector else "",
        "industry__name": industry.name if industry else "",
        "content": "新建标准厂房 10 万平方米及配套道路、管网。",
        "address": "某某大道以东",
        "approval_regime": "filing",
        "start_year": year,
        "end_year": year + 2,
        "total_investment": Decimal("35000"),
        "year_plan": Decimal("12000"),
        "year_list_kind": "construction",
        "year_key_level": "city",
        "year_new_start": True,
        "planned_start_date": dt.date(year, 3, 1),
        "planned_completion_date": dt.date(year + 2, 12, 1),
        "stage": "preparing",
        "contact_name": "张三",
        "contact_phone": "0731-00000000",
        "is_private_investment": False,
        "is_high_tech": False,
        "tags": "",
    }


def template_xlsx(*, actor, year: int) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet("项目清单")
    title_fmt = book.add_format(exports.TITLE_FORMAT)
    head_fmt = book.add_format(exports.HEAD_FORMAT)
    example_fmt = book.add_format({"font_color": "#7F7F7F", "italic": True})
    money_fmt = book.add_format({"num_format": "#,##0.00", "font_color": "#7F7F7F", "italic": True})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd", "font_color": "#7F7F7F", "italic": True})
    columns = exports.COLUMNS
    for i, column in enumerate(columns):
        sheet.set_column(i, i, column.width)
    sheet.merge_range(0, 0, 0, len(columns) - 1, f"{year}年项目清单", title_fmt)
    sheet.write_string(1, 0, "单位：万元")
    sheet.write_row(2, 0, exports.headers(year), head_fmt)
    sheet.freeze_panes(3, 2)
    values = exports.row_values(1, _example(actor, year))
    for c, (column, value) in enumerate(zip(columns, values, strict=True)):
        if c == 0:
            sheet.write_string(3, 0, "示例", example_fmt)
        elif value in (None, ""):
            continue
        elif column.kind == "money":
            sheet.write_number(3, c, float(value), money_fmt)
        elif column.kind == "date":
            sheet.write_datetime(3, c, dt.datetime.combine(value, dt.time()), date_fmt)
        else:
            sheet.write_string(3, c, str(value), example_fmt)
    _notes(book, year)
    book.close()
    return buffer.getvalue()


def _notes(book, year: int) -> None:
    sheet = book.add_worksheet("填写说明")
    bold = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 2, 60)
    sheet.write_row(0, 0, ["列名", "填写要求", "也可识别的表头"], bold)
    r = 1
    # The export's column keys are the import's field keys.
    for column, header in zip(exports.COLUMNS, exports.headers(year), strict=True):
        field = BY_KEY[column.key]
        synonyms = "、".join(s for s in field.synonyms if s != header)
        sheet.write_row(r, 0, [header, NOTES.get(column.key, ""), synonyms], wrap)
        r += 1
    r += 1
    for line in (
        "填写说明：",
        "1. 只读取第一个可见的工作表；表头可在标题行、“单位：万元”行之下，可为一行或两行（合并单元格）。",
        "2. 以“一、”“（一）”开头的分类行，合计、小计、总计行和空行会自动跳过；分类行的类别或区域作为其下项目的默认值。",
        "3. 金额默认以万元计，可写“3.5亿”；全角数字、空格均可识别。",
        "4. 空白单元格不会清空系统中已有的内容。",
        "5. 导入前先预览：有任何错误时不会写入任何数据；同一文件重复导入只会更新，不会重复登记。",
        f"6. “{year}年计划投资”等年度列写入 {year} 年度清单。",
    ):
        sheet.write_string(r, 0, line)
        r += 1
    r += 1
    sheet.write_string(r, 0, "其他可识别的列：")
    used = {c.key for c in exports.COLUMNS}
    for field in FIELDS:
        if field.key not in used:
            r += 1
            sheet.write_row(r, 0, [field.label, "", "、".join(field.synonyms)], wrap)
