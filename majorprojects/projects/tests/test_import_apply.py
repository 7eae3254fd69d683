"""From a read ledger to saved projects: the plan validates every row, the commit is all or nothing,
re-imports update instead of duplicating, and scope decides what an account may import."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from majorprojects.audit.models import Event
from majorprojects.factories import ListingFactory
from majorprojects.organisation.models import Unit, UnitKind
from majorprojects.projects.importing import ImportRejected, build_plan, plan_apply, read_sheet
from majorprojects.projects.models import AnnualListing, Project

from .test_import_reader import workbook

HEADER = [
    "序号",
    "项 目 名 称",
    "项目业主",
    "所属地区",
    "建设规模及内容",
    "建设起止年限",
    "总投资",
    None,
    "2026年计划投资",
    "计划开工时间",
    "项目编码",
    "重点级别",
    "新开工/续建",
]
LEDGER = [
    ["云江市2026年重大项目计划表"],
    ["单位：亿元"],
    HEADER,
    [None] * 6 + ["合计", "其中：中央资金"] + [None] * 5,
    ["合计", None, None, None, None, None, 20.5, 2, 5.5, None, None, None, None],
    ["一、产业项目（2个）"],
    [
        1,
        "临川新材料产业园",
        "临川建设投资有限公司",
        "临川区",
        "新建新材料生产线",
        "2024-2026",
        5,
        None,
        "１２００万",
        "2025年3月",
        "2024-431902-48-01-000001",
        "市重点",
        "续建",
    ],
    [
        2,
        "云江 智能装备 产业园",
        "云江智造有限公司",
        "临川",
        "标准厂房",
        "2026—2027年",
        "3.5亿",
        None,
        0.8,
        "2026.5",
        None,
        "县重点",
        "新开工",
    ],
    [None] * 13,
    ["二、基础设施（1个）"],
    ["（一）交通"],
    [
        3,
        "青山县环城公路",
        "青山县城市发展集团有限公司",
        431921.0,  # a division code typed as a number
        None,
        "2025年-2027年",
        12,
        2,
        3,
        None,
        None,
        "省重点",
        "续建",
    ],
    ["小计", None, None, None, None, None, 12, 2, 3, None, None, None, None],
]
MERGES = [f"{c}3:{c}4" for c in "ABCDEF"] + ["G3:H3"] + [f"{c}3:{c}4" for c in "IJKLM"]


def plan_for(user, rows=LEDGER, merges=MERGES, year=None):
    return build_plan(read_sheet(workbook(rows, merges)), actor=user, year=year)


def test_messy_ledger_is_imported(users, projects):
    plan = plan_for(users["admin"])
    assert plan.messages() == []
    assert plan.year == 2026  # from the header 2026年计划投资
    assert plan.counts == {"create": 1, "update": 2, "unchanged": 0, "error": 0, "skipped": 6}
    assert "将新建单位：云江智造有限公司（临川区）" in plan.notices
    a, _new, b = plan.rows
    assert a.changes == [
        "项目代码：（空） → 2024-431902-48-01-000001",
        "建设内容及规模：（空） → 新建新材料生产线",
        "计划开工日期：（空） → 2025-03-01",
        "建设起始年：2026 → 2024",
        "建设截止年：2027 → 2026",
        "列入2026年度清单（年度建设项目）",
    ]
    assert b.changes == ["建设起始年：2026 → 2025", "列入2026年度清单（年度建设项目）"]

    counts = plan_apply(actor=users["admin"], plan=plan)
    assert counts == {"create": 1, "update": 2, "unchanged": 0}
    project = Project.objects.get(name="云江 智能装备 产业园")
    assert project.total_investment == Decimal("35000.00")
    assert project.region == projects["a"].region
    assert project.sector.name == "产业项目"  # from the category row above it
    assert (project.start_year, project.end_year) == (2026, 2027)
    assert project.planned_start_date == dt.date(2026, 5, 1)
    assert project.owner_unit.name == "云江智造有限公司"
    assert project.owner_unit.kind == UnitKind.ENTERPRISE
    listing = project.listings.get(year=2026)
    assert (listing.planned_investment, listing.key_level, listing.is_new_start) == (
        Decimal("8000.00"),
        "county",
        True,
    )
    assert listing.list_kind == "construction" and listing.planned_start == dt.date(2026, 5, 1)

    a = Project.objects.get(pk=projects["a"].pk)
    assert a.code == "2024-431902-48-01-000001" and a.total_investment == Decimal("50000.00")
    assert a.listings.get(year=2026).planned_investment == Decimal("1200.00")
    b = Project.objects.get(pk=projects["b"].pk)
    assert b.industry.name == "交通" and b.total_investment == Decimal("120000.00")
    assert b.listings.get(year=2026).key_level == "province"
    verbs = sorted(Event.objects.filter(actor=users["admin"]).values_list("verb", flat=True))
    assert verbs == [
        "listing_create",
        "listing_create",
        "listing_create",
        "project_create",
        "project_update",
        "project_update",
        "unit_create",
    ]


def test_reimporting_the_same_file_changes_nothing_and_duplicates_nothing(users, projects):
    plan_apply(actor=users["admin"], plan=plan_for(users["admin"]))
    before = (
        Project.objects.count(),
        Unit.objects.count(),
        AnnualListing.objects.count(),
        Event.objects.count(),
    )
    again = plan_for(users["admin"])
    assert [r.status for r in again.rows] == ["unchanged", "unchanged", "unchanged"]
    plan_apply(actor=users["admin"], plan=again)
    after = (
        Project.objects.count(),
        Unit.objects.count(),
        AnnualListing.objects.count(),
        Event.objects.count(),
    )
    assert after == before


def test_reimport_with_changes_updates_the_same_projects(users, projects):
    plan_apply(actor=users["admin"], plan=plan_for(users["admin"]))
    created = Project.objects.get(name="云江 智能装备 产业园")
    rows = [list(r) for r in LEDGER]
    rows[7][1] = "云江智能装备产业园"  # spaces differ: still the same project (name + owner)
    rows[7][6] = "4亿"
    rows[7][12] = "续建"
    plan = plan_for(users["admin"], rows)
    assert [r.status for r in plan.rows] == ["unchanged", "update", "unchanged"]
    assert plan.rows[1].changes == [
        "项目名称：云江 智能装备 产业园 → 云江智能装备产业园",
        "总投资（万元）：35,000.00 → 40,000.00",
        "2026年新开工（否则续建）：是 → 否",
    ]
    plan_apply(actor=users["admin"], plan=plan)
    created.refresh_from_db()
    assert created.name == "云江智能装备产业园" and created.total_investment == Decimal("40000.00")
    assert created.listings.get(year=2026).is_new_start is False
    assert Project.objects.filter(owner_unit__name="云江智造有限公司").count() == 1


def test_a_file_with_errors_writes_nothing(users, projects):
    header = ["项目名称", "项目单位", "所在区域", "项目类别", "总投资", "建设起止年限", "计划开工时间"]
    rows = [
        [*header, "计划竣工时间", "项目代码", "项目阶段"],
        ["甲项目", "甲公司", "临川区", "产业项目", "约3亿", "2024-2026", "2025-03-01", None, None, None],
        ["乙项目", "乙公司", "火星区", "产业项目", 100, "2026-2024", None, None, None, None],
        ["丙项目", "丙公司", "临川区", "航天", -5, None, None, None, None, None],
        [None, "丁公司", "临川区", "产业项目", 100, None, None, None, None, None],
        ["戊项目", "戊公司", "临川区", "产业项目", 100, None, "明年春", None, "2024-4319", "快完了"],
        ["甲项目", "甲公司", "临川区", "产业项目", 100, None, None, None, None, None],
        ["己项目", "己公司", "临川区", None, None, None, None, None, None, "在建"],
        ["庚项目", "庚公司", "临川区", "产业项目", 100, None, "2027-05-01", "2026-05-01", None, None],
    ]
    before = (Project.objects.count(), Unit.objects.count(), Event.objects.count())
    plan = plan_for(users["admin"], rows, merges=())
    assert plan.messages() == [
        "第 2 行「总投资」：无法识别的金额“约3亿”",
        "第 3 行「建设起止年限」：截止年份早于起始年份“2026-2024”",
        "第 3 行「所在区域」：无法识别的区域“火星区”",
        "第 4 行「总投资」：金额不能为负数",
        "第 4 行「项目类别」：无法识别的项目类别“航天”",
        "第 5 行「项目名称」：不能为空",
        "第 6 行「项目代码」：项目代码“2024-4319”格式不正确，应为 YYYY-RRRRRR-DD-TT-NNNNNN",
        "第 6 行「计划开工时间」：无法识别的日期“明年春”，应写作“2025-03-15”或“2025年3月”",
        "第 6 行「项目阶段」：无法识别的项目阶段“快完了”",
        "第 7 行：与第 2 行是同一个项目（项目名称和项目单位相同），请合并为一行",
        "第 8 行「项目类别」：不能为空",
        "第 8 行「总投资」：不能为空",
        "第 8 行「项目阶段」：项目阶段为“在建”时须填写「实际开工日期」",
        "第 9 行「计划竣工时间」：计划竣工日期不能早于计划开工日期",
    ]
    assert not plan.ok
    with pytest.raises(ImportRejected):
        plan_apply(actor=users["admin"], plan=plan)
    assert (Project.objects.count(), Unit.objects.count(), Event.objects.count()) == before


def test_county_cannot_import_another_countys_rows(users, projects):
    rows = [
        ["项目名称", "项目单位", "所在区域", "项目类别", "总投资", "项目代码"],
        ["临川新项目", "临川建设投资有限公司", "临川区", "产业项目", 100, None],
        ["越界项目", "青山县城市发展集团有限公司", "青山县", "产业项目", 100, None],
        ["青山县环城公路", "青山县城市发展集团有限公司", None, "基础设施", 120000, None],
    ]
    plan = plan_for(users["linchuan"], rows, merges=())
    assert plan.messages() == [
        "第 3 行「所在区域」：“青山县”不在您的管辖范围内",
        "第 4 行：该项目已登记，但不在您可修改的范围内，请联系市级管理员",
    ]
    with pytest.raises(ImportRejected):
        plan_apply(actor=users["linchuan"], plan=plan)
    assert not Project.objects.filter(name="临川新项目").exists()


def test_county_defaults_to_its_own_region_and_may_import_it(users, projects):
    rows = [["项目名称", "项目单位", "项目类别", "总投资"], ["临川新项目", "新的公司", "产业项目", "1200"]]
    plan = plan_for(users["linchuan"], rows, merges=())
    assert plan.ok
    plan_apply(actor=users["linchuan"], plan=plan)
    project = Project.objects.get(name="临川新项目")
    assert project.region.name == "临川区" and project.owner_unit.region.name == "临川区"


def test_project_unit_imports_only_its_own_projects_and_no_listings(users, projects):
    rows = [
        ["项目名称", "项目单位", "所在区域", "项目类别", "总投资", "2026年计划投资"],
        ["本单位新项目", None, "临川区", "产业项目", 300, 100],
        ["别人的项目", "青山县城市发展集团有限公司", "临川区", "产业项目", 300, 100],
    ]
    plan = plan_for(users["owner_a"], rows, merges=())
    assert plan.messages() == ["第 3 行「项目单位」：项目单位只能登记本单位的项目"]
    assert any("您的账号导入时不处理这些列：「2026年计划投资」" in n for n in plan.notices)
    plan = plan_for(users["owner_a"], rows[:2], merges=())
    plan_apply(actor=users["owner_a"], plan=plan)
    project = Project.objects.get(name="本单位新项目")
    assert project.owner_unit == users["owner_a"].unit and not project.listings.exists()
    again = plan_for(users["owner_a"], rows[:2], merges=())
    assert [r.status for r in again.rows] == ["unchanged"]  # matched by name + its own unit


def test_stage_moves_through_transitions_with_actual_dates(users, projects):
    rows = [
        [
            "项目名称",
            "项目单位",
            "所在区域",
            "项目类别",
            "总投资",
            "项目阶段",
            "实际开工日期",
            "实际竣工日期",
        ],
        ["新建即在建", "甲公司", "临川区", "产业项目", 300, "在建", "2025-04-01", None],
        [
            "临川新材料产业园",
            "临川建设投资有限公司",
            "临川区",
            "产业项目",
            50000,
            "竣工",
            "2024-01-01",
            "2025-12-30",
        ],
    ]
    plan = plan_for(users["admin"], rows, merges=())
    assert plan.ok, plan.messages()
    assert plan.rows[1].changes == ["阶段：前期 → 竣工"]
    plan_apply(actor=users["admin"], plan=plan)
    new = Project.objects.get(name="新建即在建")
    assert (new.stage, new.actual_start_date) == ("construction", dt.date(2025, 4, 1))
    a = Project.objects.get(pk=projects["a"].pk)
    assert (a.stage, a.actual_start_date, a.actual_completion_date) == (
        "completed",
        dt.date(2024, 1, 1),
        dt.date(2025, 12, 30),
    )
    assert Event.objects.filter(project=a, verb="stage_change").count() == 2


def test_going_back_a_stage_is_for_the_city_admin(users, projects):
    rows = [["项目名称", "项目单位", "项目阶段"], ["临川新材料产业园", "临川建设投资有限公司", "谋划"]]
    plan = plan_for(users["linchuan"], rows, merges=())
    assert plan.messages() == ["第 2 行「项目阶段」：不能由“前期”退回“谋划”：阶段回退须由市级管理员操作"]
    plan = plan_for(users["admin"], rows, merges=())
    plan_apply(actor=users["admin"], plan=plan)
    assert Project.objects.get(pk=projects["a"].pk).stage == "conceived"


def test_header_year_must_agree_with_the_year_asked_for(users, projects):
    plan = plan_for(users["admin"], year=2025)
    assert plan.problems == [
        "表头「2026年计划投资」是 2026 年的数据，与导入年度 2025 年不一致，请把年度改为 2026 年。"
    ]


def test_listing_plan_cannot_exceed_total(users, projects):
    ListingFactory(project=projects["a"], year=2026, planned_investment=Decimal("1000"))
    rows = [["项目名称", "项目单位", "年度计划投资"], ["临川新材料产业园", "临川建设投资有限公司", "6亿"]]
    plan = plan_for(users["admin"], rows, merges=(), year=2026)
    assert plan.messages() == [
        "第 2 行「年度计划投资」：年度计划投资 60,000.00 万元超过总投资 50,000.00 万元"
    ]


def test_command_dry_run_writes_nothing_then_imports(users, projects, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(workbook(LEDGER, MERGES))
    before = (Project.objects.count(), Event.objects.count())
    call_command("import_projects", str(path), "--dry-run", "--user", "admin")
    out = capsys.readouterr().out
    assert "校验通过（试运行，未写入）：新建 1 个，更新 2 个，无变化 0 个，跳过 6 行。" in out
    assert (Project.objects.count(), Event.objects.count()) == before
    call_command("import_projects", str(path), "--year", "2026")
    assert "已导入：新建 1 个，更新 2 个" in capsys.readouterr().out
    assert Project.objects.count() == before[0] + 1


def test_command_reports_errors_and_refuses(users, projects, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook([["项目名称", "项目单位", "总投资"], ["甲", "甲公司", "约3亿"]]))
    with pytest.raises(CommandError, match=r"发现 \d+ 处错误，未写入任何数据"):
        call_command("import_projects", str(path), "--user", "linchuan")
    assert "第 2 行「总投资」：无法识别的金额“约3亿”" in capsys.readouterr().err
    csv = tmp_path / "x.csv"
    csv.write_text("项目名称,项目单位\n甲,乙\n")
    with pytest.raises(CommandError, match="仅支持 Excel"):
        call_command("import_projects", str(csv))
    with pytest.raises(CommandError, match="没有启用的账号“nobody”"):
        call_command("import_projects", str(path), "--user", "nobody")


def test_category_rows_give_region_and_category_to_new_projects(users, projects):
    rows = [
        ["序号", "项目名称", "项目单位", "总投资"],
        ["一、临川区", None, None, None],
        ["（一）产业项目", None, None, None],
        [1, "临川新厂", "新厂公司", 100],
        ["二、青山县（1个）", None, None, None],
        ["（一）交通", None, None, None],
        [1, "青山新路", "新路公司", 200],
        [2, "青山县环城公路", "青山县城市发展集团有限公司", 120000],
    ]
    plan = plan_for(users["admin"], rows, merges=())
    assert plan.ok, plan.messages()
    assert [r.status for r in plan.rows] == ["create", "create", "unchanged"]
    plan_apply(actor=users["admin"], plan=plan)
    factory = Project.objects.get(name="临川新厂")
    assert (factory.region.name, factory.sector.name) == ("临川区", "产业项目")
    road = Project.objects.get(name="青山新路")
    assert (road.region.name, road.sector.name, road.industry.name) == ("青山县", "基础设施", "交通")
