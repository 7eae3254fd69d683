"""Lights, the negative list, the project tab and the region board against hand-worked data."""

from datetime import date

import pytest

from majorprojects.alerts import selectors
from majorprojects.alerts.engine import scan
from majorprojects.alerts.exports import negative_list_xlsx
from majorprojects.alerts.models import ScanRun, Status, Warning
from majorprojects.factories import ListingFactory
from majorprojects.projects.models import Project

AFTER = date(2026, 11, 23)


@pytest.fixture
def months(fake, rule_factory, projects, city):
    """April: a yellow (overdue), b red (overdue). May: a red (overdue) and yellow (gap), zone
    yellow (overdue), b gone; a region red in May."""
    a, b, z = projects["a"].pk, projects["b"].pk, projects["zone"].pk
    overdue = rule_factory(code="overdue", name="逾期未开工", sort_order=10)
    gap = rule_factory(
        code="gap", name="进度滞后", metric="fake_low", yellow_threshold=-10, red_threshold=-20, sort_order=20
    )
    region = rule_factory(code="growth", name="增速低于目标", subject="region", metric="fake_region",
                          yellow_threshold=-5, red_threshold=-10, sort_order=30)  # fmt: skip
    fake.set(2026, 4, {a: 1, b: 3})
    scan(2026, 4, rules=[overdue], today=AFTER)
    fake.set(2026, 5, {a: 3, z: 1, b: 0})
    scan(2026, 5, rules=[overdue], today=AFTER)
    fake.set(2026, 5, {a: -12, city["qingshan"].pk: -11})
    scan(2026, 5, rules=[gap, region], today=AFTER)
    ScanRun.objects.create(year=2026, month=5)
    return {"overdue": overdue, "gap": gap, "region": region}


def test_negative_list_for_the_city(months, users, projects, city):
    data = selectors.negative_list(users["admin"], 2026, 5)
    assert data["counts"] == {
        "projects": 2, "red": 1, "yellow": 1, "warnings": 3, "red_warnings": 1, "yellow_warnings": 2,
    }  # fmt: skip
    [linchuan] = data["sections"]
    assert (linchuan["region_name"], linchuan["red"], linchuan["yellow"], linchuan["projects"]) == (
        "临川区",
        1,
        1,
        2,
    )
    assert [(r["project_name"], r["rule_code"], r["light"]) for r in linchuan["rows"]] == [
        ("临川新材料产业园", "overdue", "red"),
        ("临川新材料产业园", "gap", "yellow"),
        ("经开区标准厂房", "overdue", "yellow"),
    ]
    first = linchuan["rows"][0]
    assert first["escalated"] and first["carried"] and not first["new"]
    assert first["responsible_unit"] == "临川建设投资有限公司"
    assert data["by_rule"] == [
        {"rule_code": "overdue", "rule_name": "逾期未开工", "red": 1, "yellow": 1},
        {"rule_code": "gap", "rule_name": "进度滞后", "red": 0, "yellow": 1},
    ]
    comparison = data["comparison"]
    assert (comparison["new"], comparison["persisting"], comparison["cleared"]) == (1, 1, 1)
    assert [p["project_name"] for p in comparison["cleared_projects"]] == ["青山县环城公路"]


def test_negative_list_is_scoped(months, users):
    assert selectors.negative_list(users["qingshan"], 2026, 5)["counts"]["projects"] == 0
    assert selectors.negative_list(users["qingshan"], 2026, 4)["counts"]["red"] == 1
    data = selectors.negative_list(users["linchuan"], 2026, 5)
    assert [(s["region_name"], len(s["rows"])) for s in data["sections"]] == [
        ("云江经济技术开发区", 1),
        ("临川区（本级）", 2),
    ]
    assert selectors.negative_list(users["owner_a"], 2026, 5)["counts"]["warnings"] == 3
    assert selectors.negative_list(users["jtj"], 2026, 4)["counts"]["warnings"] == 1  # b is transport


def test_exempted_and_cleared_warnings_do_not_light(months, users, projects):
    Warning.objects.filter(project=projects["zone"]).update(status=Status.EXEMPTED)
    Warning.objects.filter(project=projects["a"], rule__code="gap").update(condition_cleared=True)
    data = selectors.negative_list(users["admin"], 2026, 5)
    assert data["counts"]["warnings"] == 1
    lights = selectors.project_lights([p.pk for p in projects.values()], 2026, 5)
    assert lights == {projects["a"].pk: "red", projects["b"].pk: "green", projects["zone"].pk: "green"}


def test_project_lights_and_filter(months, projects, django_assert_num_queries):
    ids = [p.pk for p in projects.values()]
    with django_assert_num_queries(1):
        lights = selectors.project_lights(ids, 2026, 5)
    assert lights == {projects["a"].pk: "red", projects["b"].pk: "green", projects["zone"].pk: "yellow"}
    for light, expected in (("red", {"a"}), ("yellow", {"zone"}), ("green", {"b"})):
        names = set(Project.objects.filter(selectors.light_q(light, 2026, 5)).values_list("pk", flat=True))
        assert names == {projects[k].pk for k in expected}


def test_project_warnings_tab(months, projects):
    tab = selectors.project_warnings(projects["a"])
    assert (tab["period"], tab["light"]) == ("2026-05", "red")
    assert [r["rule_code"] for r in tab["current"]] == ["overdue", "gap"]
    assert [r["period"] for r in tab["history"]] == ["2026-05", "2026-05", "2026-04"]
    assert tab["trend"][-2:] == [
        {"period": "2026-04", "light": "yellow"},
        {"period": "2026-05", "light": "red"},
    ]
    assert len(tab["trend"]) == 12


def test_region_board(months, users, projects, city):
    ListingFactory(project=projects["b"], year=2026)
    board = {row["region_name"]: row for row in selectors.region_board(users["admin"], 2026, 5)}
    assert list(board) == ["临川区", "云江经济技术开发区", "青山县"]
    assert board["青山县"]["light"] == "red"
    assert [w["rule_code"] for w in board["青山县"]["warnings"]] == ["growth"]
    assert board["青山县"]["projects"] == {"red": 0, "yellow": 0, "green": 1, "total": 1}
    assert board["临川区"]["projects"] == {"red": 1, "yellow": 1, "green": 0, "total": 2}
    assert board["云江经济技术开发区"]["projects"] == {"red": 0, "yellow": 1, "green": 0, "total": 1}
    county = selectors.region_board(users["qingshan"], 2026, 5)
    assert [r["region_name"] for r in county] == ["青山县"]


def test_negative_list_query_count(months, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        selectors.negative_list(users["admin"], 2026, 5)


def test_excel_export(months, users):
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(negative_list_xlsx(selectors.negative_list(users["admin"], 2026, 5))))
    ws = wb["负面清单"]
    assert ws["A1"].value == "2026年5月重点项目负面清单"
    assert ws["A2"].value == "共 2 个项目：红灯 1 个，黄灯 1 个（预警 3 条）"
    assert ws["A4"].value == "临川区（红灯 1 个，黄灯 1 个）"
    assert [c.value for c in ws[5]][:6] == [1, "临川新材料产业园", "临川区", "逾期未开工", "红灯", 3]
    summary = wb["统计"]
    assert [c.value for c in summary[2]] == ["逾期未开工", 1, 1]
    assert [c.value for c in summary[4]] == ["合计", 1, 2]
