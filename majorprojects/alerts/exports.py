"""The negative list as .xlsx (data in from alerts.selectors.negative_list, bytes out): one sheet
with the rows by region (a heading row per region with its counts), one with the counts by rule
and the comparison with the previous month. Text goes through core.xlsx.cell_value."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from majorprojects.core.xlsx import cell_value

HEAD = ["序号", "项目名称", "所在区域", "预警规则", "灯色", "指标值", "单位", "连续期数", "升级", "延续上期",
        "责任单位", "包联领导", "状态", "整改时限"]  # fmt: skip
WIDTHS = [6, 36, 14, 22, 8, 10, 10, 9, 6, 8, 28, 12, 12, 12]
FILLS = {"red": PatternFill("solid", fgColor="F8D7DA"), "yellow": PatternFill("solid", fgColor="FFF3CD")}
BOLD = Font(bold=True)


def negative_list_xlsx(data: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "负面清单"
    title = f"{data['year']}年{data['month']}月重点项目负面清单"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    counts = data["counts"]
    ws.append(
        [
            f"共 {counts['projects']} 个项目：红灯 {counts['red']} 个，黄灯 {counts['yellow']} 个"
            f"（预警 {counts['warnings']} 条）"
        ]
    )
    ws.append(HEAD)
    for cell in ws[3]:
        cell.font = BOLD
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    index = 0
    for section in data["sections"]:
        ws.append(
            [cell_value(f"{section['region_name']}（红灯 {section['red']} 个，黄灯 {section['yellow']} 个）")]
        )
        ws.cell(ws.max_row, 1).font = BOLD
        for row in section["rows"]:
            index += 1
            ws.append(
                [
                    index,
                    cell_value(row["project_name"]),
                    cell_value(row["region_name"]),
                    cell_value(row["rule_name"]),
                    cell_value(row["light_label"]),
                    cell_value(row["value"]),
                    cell_value(row["unit"]),
                    row["streak"],
                    "是" if row["escalated"] else "",
                    "是" if row["carried"] else "",
                    cell_value(row["responsible_unit"]),
                    cell_value(row["leader"]),
                    cell_value(row["status_label"]),
                    row["deadline"],
                ]
            )
            ws.cell(ws.max_row, 5).fill = FILLS[row["light"]]
            ws.cell(ws.max_row, 14).number_format = "yyyy-mm-dd"
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[ws.cell(3, i).column_letter].width = width
    ws.freeze_panes = "A4"

    summary = wb.create_sheet("统计")
    summary.append(["预警规则", "红灯（条）", "黄灯（条）"])
    for entry in data["by_rule"]:
        summary.append([cell_value(entry["rule_name"]), entry["red"], entry["yellow"]])
    summary.append(["合计", counts["red_warnings"], counts["yellow_warnings"]])
    comparison = data["comparison"]
    summary.append([])
    summary.append([f"与上期（{comparison['previous_period']}）比较", "项目数（个）"])
    summary.append(["新列入", comparison["new"]])
    summary.append(["持续在列", comparison["persisting"]])
    summary.append(["已退出", comparison["cleared"]])
    for p in comparison["cleared_projects"]:
        summary.append([cell_value(f"  退出：{p['project_name']}")])
    for cell in summary[1]:
        cell.font = BOLD
    summary.column_dimensions["A"].width = 36
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
