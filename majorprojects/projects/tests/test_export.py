"""The exported ledger: read it back with openpyxl, and import it back without a single change."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from majorprojects.accounts.scope import visible_projects
from majorprojects.factories import (
    ListingFactory,
    PersonFactory,
    ProjectFactory,
    UnitFactory,
    WorkGroupFactory,
)
from majorprojects.organisation.models import UnitKind
from majorprojects.projects import exports, selectors
from majorprojects.projects.importing import build_plan, plan_apply, read_sheet
from majorprojects.projects.models import Project, Stage, Tag


@pytest.fixture
def ledger(city, projects):
    """The three fixture projects dressed like real ones, a package with two sub-projects, and two
    projects whose names look like spreadsheet formulas."""
    a, b = projects["a"], projects["b"]
    leader = PersonFactory(name="王副市长")
    group = WorkGroupFactory(name="交通专班", lead_unit=city["jtj"])
    a.code = "2024-431902-48-01-000001"
    a.content = "一、新建厂房 8 万平方米\n二、配套道路"
    a.planned_start_date = dt.date(2026, 3, 1)
    a.package_leader = leader
    a.is_private_investment = True
    a.save()
    a.tags.set([Tag.objects.create(name="数字经济"), Tag.objects.create(name="民生实事")])
    b.stage = Stage.CONSTRUCTION
    b.actual_start_date = dt.date(2025, 6, 1)
    b.responsible_department = city["jtj"]
    b.work_group = group
    b.save()
    ListingFactory(project=a, year=2026, planned_investment=Decimal("12000.50"), key_level="city")
    ListingFactory(
        project=b, year=2026, planned_investment=Decimal("30000"), key_level="province", is_new_start=True
    )
    package = ProjectFactory(
        name="临川城区老旧小区改造（打包）",
        owner_unit=city["owner_a"],
        sector=city["infra"],
        is_package=True,
        total_investment=Decimal("3000"),
    )
    for i, amount in enumerate(("1000", "2000")):
        ProjectFactory(
            name=f"老旧小区改造子项目{i + 1}",
            owner_unit=UnitFactory(
                name=f"临川街道{i + 1}", region=city["linchuan"], kind=UnitKind.GOVERNMENT
            ),
            sector=city["infra"],
            parent=package,
            total_investment=Decimal(amount),
        )
    ProjectFactory(
        name='=HYPERLINK("http://evil.example","点我")', owner_unit=city["owner_a"], sector=city["industry"]
    )
    ProjectFactory(
        name="-1+1", owner_unit=city["owner_a"], sector=city["industry"], total_investment=Decimal("0.5")
    )
    return projects


def export(year=2026, qs=None):
    qs = Project.objects.all() if qs is None else qs
    return exports.projects_xlsx(
        selectors.export_rows(qs, year),
        year=year,
        title=f"{year}年项目清单",
        totals=selectors.project_totals(qs, year),
    )


def test_export_command_reads_back(ledger, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    call_command("export_projects", "--out", str(out), "--year", "2026")
    assert "已导出 7 个项目" in capsys.readouterr().out  # the package counts as its two sub-projects
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "2026年项目清单"
    assert rows[1][0] == "单位：万元"
    assert list(rows[2]) == exports.headers(2026)
    assert "总投资（万元）" in rows[2] and "2026年计划投资（万元）" in rows[2]
    header = list(rows[2])
    total, plan = header.index("总投资（万元）"), header.index("2026年计划投资（万元）")
    data = rows[3:-1]
    assert len(data) == 8
    for row in data:
        assert isinstance(row[total], int | float)
        assert row[plan] is None or isinstance(row[plan], int | float)
    by_name = {row[1]: row for row in data}
    assert by_name["临川新材料产业园"][total] == 50000 and by_name["临川新材料产业园"][plan] == 12000.5
    assert '\'=HYPERLINK("http://evil.example","点我")' in by_name
    assert "'-1+1" in by_name
    assert rows[-1][1] == "合计（7个）"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.coordinate


def test_export_command_for_a_region_subtree(ledger, tmp_path):
    out = tmp_path / "linchuan.xlsx"
    call_command("export_projects", "--out", str(out), "--year", "2026", "--region", "431902")
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    names = {row[1] for row in rows[3:-1]}
    assert "青山县环城公路" not in names
    assert {"临川新材料产业园", "经开区标准厂房"} <= names  # the zone is inside 临川区
    assert rows[0][0] == "临川区2026年项目清单"
    with pytest.raises(CommandError, match="没有区划代码为 999999 的区域"):
        call_command("export_projects", "--out", str(out), "--region", "999999")


def test_exported_ledger_imports_back_unchanged(ledger, users):
    plan = build_plan(read_sheet(export(), name="项目清单.xlsx"), actor=users["admin"])
    assert plan.messages() == []
    assert plan.year == 2026
    assert [(r.name, r.status, r.changes) for r in plan.rows if r.status != "unchanged"] == []
    assert len(plan.rows) == Project.objects.count()
    plan_apply(actor=users["admin"], plan=plan)  # nothing to do, and nothing refuses


def test_county_export_imports_back_unchanged_for_the_county(ledger, users):
    user = users["linchuan"]
    plan = build_plan(read_sheet(export(qs=visible_projects(user))), actor=user)
    assert plan.messages() == []
    assert {r.status for r in plan.rows} == {"unchanged"}
