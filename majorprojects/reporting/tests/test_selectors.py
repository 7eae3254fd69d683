"""Dispatch aggregates against hand-worked numbers.

The fixture `dispatch` is a small city with its 2025 and 2026 reports. Every figure asserted
below is worked out by hand in the comments next to it, from this table (万元; "—" no report;
only submitted, approved and locked reports count):

project (region; list 2026, key level, plan)      2026 counted reports           2025 counted
a   临川新材料产业园 (临川区; construction, 市重点,   Jan 500, Feb 500, Mar–Aug 1,000  Mar 4,000, Jun 3,000,
    12,000; continuing, started 2025-03-01)       each, Sep 1,500, Oct 1,500 =     Sep 3,000, Nov 5,000,
                                                  10,000                           Dec 2,000
b   青山县环城公路 (青山县; construction, 省重点,     Apr–Sep 2,000 each = 12,000;     —
    24,000; new start planned 03-15, started      Oct 3,000 is a DRAFT (no)
    04-10)
zone 经开区标准厂房 (经开区 under 临川区; reserve,   — (a pending Q3 quarterly slot)  —
    plan 0)
water 临川污水处理厂 (临川区; construction, 县重点,  — (pending October slot)         —
    6,000; new start, project planned start
    08-01, not started)
hospital 青山县人民医院 (青山县; construction,       Jan–Jul 1,000 each, Aug 500,     Apr 6,000, Oct 9,000;
    非重点, 8,000; continuing since 2024-06-01;   Sep 500 = 8,000; Oct 200 was     Jul 7,777 is a DRAFT
    planned completion 09-30, completed 09-20)    RETURNED (no)                    (no)
logistics 青山物流园 (青山县; construction, 市重点,  Mar 0 (money 0: not resumed)     —
    3,000; continuing since 2025-10-01; planned
    completion 06-30, not completed)
renewal 临川城市更新打包项目 (临川区; package,      — (packages never count)         —
    plan 10,000)
phase1 城市更新一期 (经开区; child of the package;  Mar 400, Oct 600 = 1,000         —
    construction, 非重点, 4,000; new start
    planned 02-01, started 02-20)
old 2025年续建项目 (青山县; listed 2025 only)       Q1 quarterly report 300          Aug 1,000
                                                  (counts in March)

2026 by month (counted): Jan 500+1,000 = 1,500; Feb 1,500; Mar 1,000+1,000+400+300+0 = 2,700;
Apr–Jul 1,000+2,000+1,000 = 4,000 each; Aug 1,000+2,000+500 = 3,500; Sep 1,500+2,000+500 =
4,000; Oct 1,500+600 = 2,100. Year to date October: 31,300 (= 10,000+12,000+8,000+1,000+300).
2025 January–October: a 10,000 + hospital 15,000 + old 1,000 = 26,000.
Plan 2026 (no package): 12,000+24,000+0+6,000+8,000+3,000+4,000 = 57,000.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from majorprojects.accounts.scope import visible_projects, visible_reports
from majorprojects.factories import (
    PersonFactory,
    ProjectFactory,
    SectorFactory,
    UnitFactory,
    WorkGroupFactory,
)
from majorprojects.organisation.models import UnitKind
from majorprojects.projects.models import (
    AnnualListing,
    FundingSource,
    KeyLevel,
    ListKind,
    Project,
    ProjectFunding,
    Stage,
)
from majorprojects.reporting import selectors
from majorprojects.reporting.models import Correction, Frequency, Period, Report, Schedule, Status
from majorprojects.reporting.periods import span_for
from majorprojects.reporting.totals import year_done_rebuild

D = date
TODAY = D(2026, 10, 20)
S = Status


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10))


@pytest.fixture
def dispatch(projects, city, users):
    Schedule.objects.all().delete()
    monthly = Schedule.objects.create(
        name="月调度",
        frequency=Frequency.MONTHLY,
        list_kinds=["construction"],
        due_day=28,
        starts_on=D(2025, 1, 1),
    )
    quarterly = Schedule.objects.create(
        name="季调度", frequency=Frequency.QUARTERLY, due_day=25, order=20, starts_on=D(2025, 1, 1)
    )

    def period(schedule, day, locked=False):
        span = span_for(schedule, day)
        return Period.objects.create(
            schedule=schedule,
            frequency=schedule.frequency,
            year=span.year,
            number=span.number,
            label=span.label,
            starts_on=span.starts_on,
            ends_on=span.ends_on,
            due_on=span.due_on,
            late_after=span.late_after,
            locked_at=at(span.late_after) if locked else None,
        )

    # 2025 and January–August 2026 are locked; September and October 2026 are open
    months = {
        (y, m): period(monthly, D(y, m, 1), locked=(y, m) < (2026, 9))
        for y in (2025, 2026)
        for m in range(1, 13)
        if (y, m) <= (2026, 10)
    }
    quarters = {q: period(quarterly, D(2026, q * 3, 1), locked=q < 3) for q in (1, 2, 3)}

    infra, industry = city["infra"], city["industry"]
    infra.sort_order, industry.sort_order = 1, 2
    infra.save()
    industry.save()
    social = SectorFactory(code="social", name="社会民生", sort_order=3)
    water = SectorFactory(code="infra-water", name="水利", parent=infra)
    gxj = UnitFactory(name="云江市工业和信息化局", kind=UnitKind.DEPARTMENT, region=city["city"])
    zhang = PersonFactory(name="张明", position="副市长", sort_order=1)
    li = PersonFactory(name="李华", position="副市长", sort_order=2)
    transport_group = WorkGroupFactory(name="交通项目专班", sort_order=1)
    industry_group = WorkGroupFactory(name="产业项目专班", sort_order=2)
    owner_w = UnitFactory(name="临川水务有限公司", region=city["linchuan"])
    owner_h = UnitFactory(name="青山县卫生健康局", region=city["qingshan"])

    a, b, zone = projects["a"], projects["b"], projects["zone"]
    Project.objects.filter(pk=a.pk).update(
        stage=Stage.CONSTRUCTION,
        actual_start_date=D(2025, 3, 1),
        package_leader=zhang,
        work_group=industry_group,
        responsible_department=gxj,
    )
    Project.objects.filter(pk=b.pk).update(
        stage=Stage.CONSTRUCTION,
        actual_start_date=D(2026, 4, 10),
        package_leader=li,
        work_group=transport_group,
        responsible_department=city["jtj"],
    )
    water_p = ProjectFactory(
        name="临川污水处理厂",
        owner_unit=owner_w,
        sector=water,
        package_leader=zhang,
        planned_start_date=D(2026, 8, 1),
        total_investment=Decimal("20000"),
    )
    hospital = ProjectFactory(
        name="青山县人民医院",
        owner_unit=owner_h,
        sector=social,
        stage=Stage.COMPLETED,
        actual_start_date=D(2024, 6, 1),
        actual_completion_date=D(2026, 9, 20),
        total_investment=Decimal("40000"),
    )
    logistics = ProjectFactory(
        name="青山物流园",
        owner_unit=city["owner_b"],
        sector=infra,
        stage=Stage.CONSTRUCTION,
        actual_start_date=D(2025, 10, 1),
        package_leader=li,
        work_group=transport_group,
        responsible_department=city["jtj"],
        total_investment=Decimal("9000"),
    )
    renewal = ProjectFactory(
        name="临川城市更新打包项目",
        owner_unit=city["owner_a"],
        sector=industry,
        is_package=True,
        total_investment=Decimal("30000"),
    )
    phase1 = ProjectFactory(
        name="城市更新一期",
        owner_unit=city["owner_a"],
        region=city["zone"],
        sector=industry,
        parent=renewal,
        stage=Stage.CONSTRUCTION,
        actual_start_date=D(2026, 2, 20),
        total_investment=Decimal("12000"),
    )
    old = ProjectFactory(
        name="2025年续建项目",
        owner_unit=city["owner_b"],
        sector=city["transport"],
        stage=Stage.CONSTRUCTION,
        actual_start_date=D(2024, 5, 1),
        total_investment=Decimal("6000"),
    )
    ProjectFunding.objects.create(project=a, source=FundingSource.SELF_RAISED, amount=Decimal("50000"))
    ProjectFunding.objects.create(project=b, source=FundingSource.SPECIAL_BOND, amount=Decimal("60000"))
    ProjectFunding.objects.create(project=b, source=FundingSource.CENTRAL_BUDGET, amount=Decimal("20000"))

    def listing(project, kind, plan, key=KeyLevel.NONE, year=2026, **extra):
        AnnualListing.objects.create(
            project=project,
            year=year,
            list_kind=kind,
            key_level=key,
            planned_investment=Decimal(plan),
            **extra,
        )

    C, R = ListKind.CONSTRUCTION, ListKind.RESERVE
    listing(a, C, "12000", KeyLevel.CITY)
    listing(b, C, "24000", KeyLevel.PROVINCE, is_new_start=True, planned_start=D(2026, 3, 15))
    listing(zone, R, "0")
    listing(water_p, C, "6000", KeyLevel.COUNTY, is_new_start=True, planned_completion=D(2026, 12, 31))
    listing(hospital, C, "8000", planned_completion=D(2026, 9, 30))
    listing(logistics, C, "3000", KeyLevel.CITY, planned_completion=D(2026, 6, 30))
    listing(renewal, C, "10000", KeyLevel.CITY, is_new_start=True, planned_start=D(2026, 1, 10))
    listing(phase1, C, "4000", is_new_start=True, planned_start=D(2026, 2, 1))
    listing(old, C, "5000", KeyLevel.CITY, year=2025)
    listing(a, C, "15000", KeyLevel.CITY, year=2025)

    def report(project, per, amount, status, sent=None, late=False):
        return Report.objects.create(
            period=per,
            project=project,
            period_end=per.ends_on,
            investment=None if amount is None else Decimal(amount),
            status=status,
            submitted_at=at(sent)
            if sent
            else (at(per.due_on) if status != S.PENDING and status != S.DRAFT else None),
            is_late=late,
        )

    for m, amount in {1: "500", 2: "500", **{m: "1000" for m in range(3, 9)}}.items():
        report(a, months[(2026, m)], amount, S.LOCKED)
    report(a, months[(2026, 9)], "1500", S.APPROVED)
    report(a, months[(2026, 10)], "1500", S.SUBMITTED, sent=D(2026, 10, 20))
    for m, amount in {3: "4000", 6: "3000", 9: "3000", 11: "5000", 12: "2000"}.items():
        report(a, months[(2025, m)], amount, S.LOCKED)
    for m in range(4, 9):
        report(b, months[(2026, m)], "2000", S.LOCKED)
    report(b, months[(2026, 9)], "2000", S.APPROVED)
    report(b, months[(2026, 10)], "3000", S.DRAFT)
    for m in range(1, 8):
        report(hospital, months[(2026, m)], "1000", S.LOCKED)
    report(hospital, months[(2026, 8)], "500", S.LOCKED)
    report(hospital, months[(2026, 9)], "500", S.SUBMITTED)
    report(hospital, months[(2026, 10)], "200", S.RETURNED, sent=D(2026, 10, 15))
    report(hospital, months[(2025, 4)], "6000", S.LOCKED)
    report(hospital, months[(2025, 7)], "7777", S.DRAFT)
    report(hospital, months[(2025, 10)], "9000", S.LOCKED)
    report(logistics, months[(2026, 3)], "0", S.LOCKED)
    report(logistics, months[(2026, 10)], None, S.PENDING)
    report(water_p, months[(2026, 10)], None, S.PENDING)
    report(phase1, months[(2026, 3)], "400", S.LOCKED)
    report(phase1, months[(2026, 10)], "600", S.APPROVED, sent=D(2026, 10, 29), late=True)
    report(old, quarters[1], "300", S.LOCKED)
    report(old, months[(2025, 8)], "1000", S.LOCKED)
    report(zone, quarters[3], None, S.PENDING)
    for p in (a, b):
        p.refresh_from_db()
    year_done_rebuild()  # the reports above were written directly, not through the services
    return {
        "a": a,
        "b": b,
        "zone": zone,
        "water": water_p,
        "hospital": hospital,
        "logistics": logistics,
        "renewal": renewal,
        "phase1": phase1,
        "old": old,
        "months": months,
        "quarters": quarters,
        "october": months[(2026, 10)],
        "zhang": zhang,
        "li": li,
        "gxj": gxj,
        "transport_group": transport_group,
        "industry_group": industry_group,
    }


ALL = Project.objects.all


def pick(row, *names):
    return {n: row[n] for n in names}


MONEY = ("plan", "done_month", "done_prev_month", "done_ytd", "done_ytd_last_year")


# --- the month's summary --------------------------------------------------------------------------


def test_october_summary(dispatch):
    row = selectors.month_summary(ALL(), 2026, 10)
    assert row == {
        # seven listed projects (the package left out)
        "projects": 7,
        "plan": Decimal("57000"),
        "done_month": Decimal("2100"),  # a 1,500 + phase1 600 (b's draft and hospital's returned no)
        "done_prev_month": Decimal("4000"),  # September: a 1,500 + b 2,000 + hospital 500
        "done_ytd": Decimal("31300"),
        "done_ytd_last_year": Decimal("26000"),  # a's November/December 2025 come after October
        "plan_pct": Decimal("54.9"),  # 31,300 / 57,000 = 54.91%
        "time_pct": Decimal("83.3"),  # 10 / 12
        "gap_pp": Decimal("-28.4"),  # 54.9 − 83.3
        "gap_text": "落后时间进度 28.4 个百分点",
        "mom_pct": Decimal("-47.5"),  # (2,100 − 4,000) / 4,000
        "yoy_pct": Decimal("20.4"),  # (31,300 − 26,000) / 26,000 = 20.38%
        # planned new starts by 31 Oct: b (03-15), water (project's planned start 08-01), phase1
        # (02-01); started by then: b and phase1
        "new_planned": 3,
        "new_started": 2,
        "new_start_pct": Decimal("66.7"),
        # continuing (construction list, started before 2026): a, hospital, logistics; resumed
        # with money this year: a and hospital (logistics reported 0)
        "continuing": 3,
        "resumed": 2,
        "start_resume_pct": Decimal("66.7"),  # (2 + 2) / (3 + 3)
        # planned to complete by 31 Oct: hospital (09-30) and logistics (06-30); hospital done
        "completion_planned": 2,
        "completed": 1,
        "completion_pct": Decimal("50.0"),
    }


def test_march_summary(dispatch):
    row = selectors.month_summary(ALL(), 2026, 3)
    # March: a 1,000 + hospital 1,000 + phase1 400 + old's Q1 quarterly report 300 + logistics 0
    assert pick(row, *MONEY) == {
        "plan": Decimal("57000"),
        "done_month": Decimal("2700"),
        "done_prev_month": Decimal("1500"),
        "done_ytd": Decimal("5700"),  # 1,500 + 1,500 + 2,700
        "done_ytd_last_year": Decimal("4000"),  # a's March 2025
    }
    assert (row["time_pct"], row["plan_pct"], row["gap_pp"]) == (
        Decimal("25.0"),
        Decimal("10.0"),
        Decimal("-15.0"),
    )
    assert (row["mom_pct"], row["yoy_pct"]) == (Decimal("80.0"), Decimal("42.5"))  # 1,200/1,500; 1,700/4,000
    # new starts planned by 31 March: b (03-15) and phase1 (02-01); only phase1 started (b on 04-10)
    assert (row["new_planned"], row["new_started"], row["new_start_pct"]) == (2, 1, Decimal("50.0"))
    # continuing 3, resumed by March: a and hospital → (1 + 2) / (2 + 3) = 60%
    assert row["start_resume_pct"] == Decimal("60.0")
    # nothing planned to complete by March
    assert (row["completion_planned"], row["completion_pct"]) == (0, None)


def test_january_compares_with_december_and_has_no_last_year(dispatch):
    row = selectors.month_summary(ALL(), 2026, 1)
    # January 1,500 against December 2025's 2,000 (a); nothing in January 2025
    assert (row["done_month"], row["done_prev_month"], row["mom_pct"]) == (
        Decimal("1500"),
        Decimal("2000"),
        Decimal("-25.0"),
    )
    assert (row["done_ytd_last_year"], row["yoy_pct"]) == (Decimal("0.00"), None)


def test_ahead_of_and_behind_time_progress(dispatch):
    # b alone in June: 2,000 × 3 = 6,000 / 24,000 = 25.0% against 50.0 → 25 points behind;
    # in September 12,000 / 24,000 = 50.0% against 75.0
    only_b = Project.objects.filter(pk=dispatch["b"].pk)
    assert selectors.month_summary(only_b, 2026, 6)["gap_text"] == "落后时间进度 25.0 个百分点"
    # hospital: 7,000 by July of 8,000 = 87.5% against 58.3 → 29.2 points ahead
    only_h = Project.objects.filter(pk=dispatch["hospital"].pk)
    row = selectors.month_summary(only_h, 2026, 7)
    assert (row["plan_pct"], row["time_pct"], row["gap_pp"]) == (
        Decimal("87.5"),
        Decimal("58.3"),
        Decimal("29.2"),
    )
    assert row["gap_text"] == "超过时间进度 29.2 个百分点"


def test_packages_are_left_out_their_children_count(dispatch):
    # even a (wrongly) sent package report does not count; its listing plan neither
    Report.objects.create(
        period=dispatch["october"],
        project=dispatch["renewal"],
        period_end=dispatch["october"].ends_on,
        investment=Decimal("9999"),
        status=S.APPROVED,
    )
    row = selectors.month_summary(ALL(), 2026, 10)
    assert (row["plan"], row["done_month"], row["done_ytd"], row["projects"]) == (
        Decimal("57000"),
        Decimal("2100"),
        Decimal("31300"),
        7,
    )
    only_package = Project.objects.filter(pk=dispatch["renewal"].pk)
    assert selectors.month_summary(only_package, 2026, 10)["done_ytd"] == Decimal("0")
    assert selectors.trend(ALL(), 2026)["this_year"][9] == Decimal("2100")


@pytest.mark.parametrize(
    ("basis", "month", "expected"),
    [
        ("month", 2, Decimal("16.7")),  # 2 / 12
        ("day", 2, Decimal("16.2")),  # 28 Feb is day 59 of 365
        ("month", 6, Decimal("50.0")),
        ("day", 6, Decimal("49.6")),  # 181 / 365
        ("day", 10, Decimal("83.3")),  # 304 / 365 = 83.29
        ("day", 12, Decimal("100.0")),
    ],
)
def test_time_progress_basis(settings, basis, month, expected):
    settings.TIME_PROGRESS_BASIS = basis
    assert selectors.time_progress(2026, month) == expected


def test_day_basis_in_a_leap_year(settings):
    settings.TIME_PROGRESS_BASIS = "day"
    assert selectors.time_progress(2028, 2) == Decimal("16.4")  # 60 / 366


def test_day_basis_changes_the_gap(dispatch, settings):
    settings.TIME_PROGRESS_BASIS = "day"
    row = selectors.month_summary(ALL(), 2026, 6)
    # June year to date: 1,500 + 1,500 + 2,700 + 4,000 × 3 = 17,700 / 57,000 = 31.05% → 31.1;
    # time 49.6 → 18.5 points behind
    assert (row["plan_pct"], row["time_pct"], row["gap_text"]) == (
        Decimal("31.1"),
        Decimal("49.6"),
        "落后时间进度 18.5 个百分点",
    )


@pytest.mark.parametrize(
    ("gap", "text"),
    [
        (Decimal("3.2"), "超过时间进度 3.2 个百分点"),
        (Decimal("-5.0"), "落后时间进度 5.0 个百分点"),
        (Decimal("0.0"), "与时间进度持平"),
        (None, "—"),
    ],
)
def test_progress_phrase(gap, text):
    assert selectors.progress_phrase(gap) == text


def test_empty_set_gives_zeros_and_no_rates(db):
    row = selectors.month_summary(Project.objects.none(), 2026, 10)
    assert row["plan"] == row["done_ytd"] == Decimal("0")
    assert (row["plan_pct"], row["gap_text"], row["mom_pct"], row["new_start_pct"]) == (None, "—", None, None)


# --- by dimension -----------------------------------------------------------------------------------


def table(dimension, projects=None, user=None, month=10):
    rows = selectors.month_table(
        projects if projects is not None else ALL(), 2026, month, dimension, user=user
    )
    return [(r["label"], r["plan"], r["done_ytd"]) for r in rows], rows


def assert_sums_to_summary(rows, projects=None, month=10):
    summary = selectors.month_summary(projects if projects is not None else ALL(), 2026, month)
    for name in (*MONEY, "projects", "new_planned", "new_started", "continuing", "resumed", "completed"):
        assert sum(r[name] for r in rows) == summary[name], name


def test_by_region_rolls_zones_into_their_county(dispatch, users):
    got, rows = table("region", user=users["admin"])
    # 临川区 = a 12,000/10,000 + water 6,000/0 + (经开区) zone 0/0 + phase1 4,000/1,000
    # 青山县 = b 24,000/12,000 + hospital 8,000/8,000 + logistics 3,000/0 + old 0/300
    assert got == [
        ("临川区", Decimal("22000"), Decimal("11000")),
        ("青山县", Decimal("35000"), Decimal("20300")),
    ]
    linchuan, qingshan = rows
    assert (linchuan["plan_pct"], linchuan["gap_text"]) == (Decimal("50.0"), "落后时间进度 33.3 个百分点")
    assert (qingshan["plan_pct"], qingshan["gap_text"]) == (Decimal("58.0"), "落后时间进度 25.3 个百分点")
    # October: 临川 a 1,500 + phase1 600; 青山 nothing counted (b draft, hospital returned);
    # September: 临川 1,500; 青山 2,000 + 500
    assert (linchuan["done_month"], linchuan["done_prev_month"], linchuan["mom_pct"]) == (
        Decimal("2100"),
        Decimal("1500"),
        Decimal("40.0"),
    )
    assert (qingshan["done_month"], qingshan["done_prev_month"], qingshan["mom_pct"]) == (
        Decimal("0"),
        Decimal("2500"),
        Decimal("-100.0"),
    )
    # last year: 临川 a 10,000; 青山 hospital 15,000 + old 1,000
    assert (linchuan["done_ytd_last_year"], qingshan["done_ytd_last_year"]) == (
        Decimal("10000"),
        Decimal("16000"),
    )
    # counts: 临川 new starts water and phase1 (phase1 started), continuing a (resumed);
    # 青山 new start b (started), continuing hospital (resumed) and logistics; completions planned
    # hospital and logistics, hospital completed
    assert pick(linchuan, "new_planned", "new_started", "continuing", "resumed", "completion_planned") == {
        "new_planned": 2,
        "new_started": 1,
        "continuing": 1,
        "resumed": 1,
        "completion_planned": 0,
    }
    assert pick(qingshan, "new_planned", "new_started", "continuing", "resumed", "completion_pct") == {
        "new_planned": 1,
        "new_started": 1,
        "continuing": 2,
        "resumed": 1,
        "completion_pct": Decimal("50.0"),
    }
    assert qingshan["start_resume_pct"] == Decimal("66.7")  # (1 + 1) / (1 + 2)
    assert_sums_to_summary(rows)


def test_projects_placed_on_the_city_itself_count_as_its_own_level(dispatch, users, city):
    ProjectFactory(name="市本级项目", owner_unit=city["jtj"], region=city["city"], sector=city["infra"])
    AnnualListing.objects.create(
        project=Project.objects.get(name="市本级项目"),
        year=2026,
        list_kind=ListKind.CONSTRUCTION,
        planned_investment=Decimal("1000"),
    )
    got, _ = table("region", user=users["admin"])
    assert got[0] == ("云江市（本级）", Decimal("1000"), Decimal("0"))


def test_a_county_sees_its_own_subtree_by_region(dispatch, users):
    scoped = visible_projects(users["linchuan"])
    got, rows = table("region", projects=scoped, user=users["linchuan"])
    # 临川区 itself: a and water; its development zone: zone and phase1 (the package is left out)
    assert got == [
        ("临川区（本级）", Decimal("18000"), Decimal("10000")),
        ("云江经济技术开发区", Decimal("4000"), Decimal("1000")),
    ]
    summary = selectors.month_summary(scoped, 2026, 10)
    assert (summary["plan"], summary["done_ytd"], summary["projects"]) == (
        Decimal("22000"),
        Decimal("11000"),
        4,
    )
    assert_sums_to_summary(rows, projects=scoped)


def test_by_sector_rolls_up_to_the_top_level_category(dispatch):
    got, rows = table("sector")
    # 基础设施 = b 24,000/12,000 + water (水利) 6,000 + logistics 3,000 + old (交通) 0/300
    # 产业项目 = a 12,000/10,000 + zone 0 + phase1 4,000/1,000; 社会民生 = hospital 8,000/8,000
    assert got == [
        ("基础设施", Decimal("33000"), Decimal("12300")),
        ("产业项目", Decimal("16000"), Decimal("11000")),
        ("社会民生", Decimal("8000"), Decimal("8000")),
    ]
    assert_sums_to_summary(rows)


def test_by_list(dispatch):
    got, rows = table("list")
    # the reserve list holds zone only; old is in no 2026 list but its 300 still counts
    assert got == [
        ("储备项目", Decimal("0"), Decimal("0")),
        ("年度建设项目", Decimal("57000"), Decimal("31000")),
        ("未列入年度清单", Decimal("0"), Decimal("300")),
    ]
    assert [r["projects"] for r in rows] == [1, 6, 0]
    assert_sums_to_summary(rows)


def test_by_key_level(dispatch):
    got, rows = table("key_level")
    # 省重点 b; 市重点 a + logistics; 县重点 water; 非重点 zone + hospital + phase1; old unlisted
    assert got == [
        ("省重点", Decimal("24000"), Decimal("12000")),
        ("市重点", Decimal("15000"), Decimal("10000")),
        ("县重点", Decimal("6000"), Decimal("0")),
        ("非重点", Decimal("12000"), Decimal("9000")),
        ("未列入年度清单", Decimal("0"), Decimal("300")),
    ]
    assert_sums_to_summary(rows)


def test_by_programme_counts_a_project_under_each_of_its_sources(dispatch):
    got, rows = table("programme")
    # b is funded by the central budget and special bonds: it appears under both, so these
    # rows add up to more than the summary (by b's 24,000 plan and 12,000 done)
    assert got == [
        ("中央预算内投资", Decimal("24000"), Decimal("12000")),
        ("地方政府专项债券", Decimal("24000"), Decimal("12000")),
        ("企业自筹", Decimal("12000"), Decimal("10000")),
        ("未填资金来源", Decimal("21000"), Decimal("9300")),
    ]
    assert sum(r["plan"] for r in rows) == Decimal("57000") + Decimal("24000")


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        # leaders: 张明 a + water; 李华 b + logistics; none: zone, hospital, phase1, old
        (
            "leader",
            [
                ("张明（副市长）", Decimal("18000"), Decimal("10000")),
                ("李华（副市长）", Decimal("27000"), Decimal("12000")),
                ("未明确包联领导", Decimal("12000"), Decimal("9300")),
            ],
        ),
        # work groups: transport b + logistics; industry a; none: the rest
        (
            "work_group",
            [
                ("交通项目专班", Decimal("27000"), Decimal("12000")),
                ("产业项目专班", Decimal("12000"), Decimal("10000")),
                ("未纳入专班", Decimal("18000"), Decimal("9300")),
            ],
        ),
        # departments: transport bureau b + logistics; industry bureau a; none: the rest
        (
            "department",
            [
                ("云江市交通运输局", Decimal("27000"), Decimal("12000")),
                ("云江市工业和信息化局", Decimal("12000"), Decimal("10000")),
                ("未明确责任部门", Decimal("18000"), Decimal("9300")),
            ],
        ),
    ],
)
def test_by_leader_work_group_and_department(dispatch, dimension, expected):
    got, rows = table(dimension)
    assert sorted(got) == sorted(expected)
    assert got[-1] == expected[-1]  # "none" comes last
    assert_sums_to_summary(rows)


def test_every_dimension_in_few_queries(dispatch, users, django_assert_max_num_queries):
    for dimension in selectors.DIMENSIONS:
        with django_assert_max_num_queries(6):
            selectors.month_table(ALL(), 2026, 10, dimension, user=users["admin"])


def test_unknown_dimension(db):
    with pytest.raises(ValueError):
        selectors.month_table(Project.objects.all(), 2026, 10, "colour")


# --- trend ------------------------------------------------------------------------------------------


def test_trend(dispatch):
    t = selectors.trend(ALL(), 2026)
    w = Decimal
    assert t["months"][0] == "1月" and len(t["months"]) == 12
    assert t["this_year"] == [
        w(x) for x in (1500, 1500, 2700, 4000, 4000, 4000, 4000, 3500, 4000, 2100, 0, 0)
    ]
    # 2025: a Mar 4,000, Jun 3,000, Sep 3,000, Nov 5,000, Dec 2,000; hospital Apr 6,000, Oct
    # 9,000 (its July draft no); old Aug 1,000
    assert t["last_year"] == [w(x) for x in (0, 0, 4000, 6000, 0, 3000, 0, 1000, 3000, 9000, 5000, 2000)]
    assert t["cumulative"][9] == w(31300) and t["cumulative"][11] == w(31300)
    assert t["plan"] == w(57000)
    assert t["plan_pct"][9] == w("54.9") and t["plan_pct"][0] == w("2.6")  # 1,500 / 57,000
    assert t["time_pct"][9] == w("83.3") and t["time_pct"][11] == w("100.0")


# --- completeness and timeliness -------------------------------------------------------------------


def test_period_completeness(dispatch):
    # October slots: a sent on time; b draft; hospital sent 10-15 then returned (nothing standing:
    # missing until resent); phase1 sent late and approved; water and logistics never touched
    got = selectors.period_completeness(dispatch["october"], Report.objects.all())
    assert got == {
        "due": 6,
        "submitted": 2,
        "on_time": 1,
        "late": 1,
        "missing": 4,  # b, hospital (returned), water, logistics
        "approved": 1,
        "returned": 1,
        "timely_pct": Decimal("16.7"),  # 1 / 6
    }
    assert got["due"] == got["submitted"] + got["missing"]


def test_period_completeness_scoped_to_a_county(dispatch, users):
    got = selectors.period_completeness(dispatch["october"], visible_reports(users["linchuan"]))
    # a (on time), water (missing), phase1 (late, approved)
    assert pick(got, "due", "submitted", "on_time", "late", "missing", "approved", "timely_pct") == {
        "due": 3,
        "submitted": 2,
        "on_time": 1,
        "late": 1,
        "missing": 1,
        "approved": 1,
        "timely_pct": Decimal("33.3"),
    }


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        (
            "region",
            [
                # 临川区: a, water, phase1 (in the zone); 青山县: b, hospital, logistics
                ("临川区", 3, 2, 1, 1, 1, 1, 0, Decimal("33.3")),
                ("青山县", 3, 0, 0, 0, 3, 0, 1, Decimal("0.0")),
            ],
        ),
        (
            "department",
            [
                ("云江市交通运输局", 2, 0, 0, 0, 2, 0, 0, Decimal("0.0")),
                ("云江市工业和信息化局", 1, 1, 1, 0, 0, 0, 0, Decimal("100.0")),
                ("未明确责任部门", 3, 1, 0, 1, 2, 1, 1, Decimal("0.0")),
            ],
        ),
        ("list", [("年度建设项目", 6, 2, 1, 1, 4, 1, 1, Decimal("16.7"))]),
    ],
)
def test_period_completeness_by(dispatch, users, dimension, expected):
    rows = selectors.period_completeness_by(
        dispatch["october"], Report.objects.all(), dimension, user=users["admin"]
    )
    got = [
        (
            r["label"],
            r["due"],
            r["submitted"],
            r["on_time"],
            r["late"],
            r["missing"],
            r["approved"],
            r["returned"],
            r["timely_pct"],
        )
        for r in rows
    ]
    assert sorted(got) == sorted(expected)
    total = selectors.period_completeness(dispatch["october"], Report.objects.all())
    assert sum(r["due"] for r in rows) == total["due"]


def test_who_has_not_reported(dispatch, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        rows = list(selectors.missing_reports(dispatch["october"], Report.objects.all()))
        contacts = [(r.project.name, r.project.region.name, r.project.owner_unit.name) for r in rows]
    # by region (临川区 before 青山县), then by name
    assert contacts == [
        ("临川污水处理厂", "临川区", "临川水务有限公司"),
        ("青山县人民医院", "青山县", "青山县卫生健康局"),  # returned, not resent
        ("青山县环城公路", "青山县", "青山县城市发展集团有限公司"),
        ("青山物流园", "青山县", "青山县城市发展集团有限公司"),
    ]


# --- to-do -----------------------------------------------------------------------------------------


def labels(reports):
    return [(r.project.name, r.period.label) for r in reports]


def test_todo_of_a_project_unit(dispatch, users):
    got = selectors.todo(users["owner_a"])
    # owner_a owns a, zone and (through the package) phase1: only zone's Q3 slot is open, and
    # overdue (due 25 Sep, moved past Mid-autumn to 28 Sep)
    assert labels(got["to_fill"]) == [("经开区标准厂房", "2026年第3季度")]
    assert (got["to_fill_count"], got["to_fill_overdue"], got["to_review_count"]) == (1, 1, 0)
    assert got["periods_to_lock"] == [] and got["corrections"] == []


def test_todo_of_a_county(dispatch, users):
    got = selectors.todo(users["linchuan"])
    # to fill in 临川区: zone's Q3 (due 28 Sep) before water's October (due 28 Oct)
    assert labels(got["to_fill"]) == [("经开区标准厂房", "2026年第3季度"), ("临川污水处理厂", "2026年10月")]
    assert (got["to_fill_count"], got["to_fill_overdue"]) == (2, 1)
    # to review: a's October (phase1's is approved already)
    assert labels(got["to_review"]) == [("临川新材料产业园", "2026年10月")]
    other = selectors.todo(users["qingshan"])
    # 青山县: b's draft, hospital's returned report and logistics' slot; hospital's September is sent
    assert sorted(labels(other["to_fill"])) == sorted(
        [("青山县环城公路", "2026年10月"), ("青山县人民医院", "2026年10月"), ("青山物流园", "2026年10月")]
    )
    assert labels(other["to_review"]) == [("青山县人民医院", "2026年9月")]


def test_todo_of_a_department(dispatch, users):
    got = selectors.todo(users["jtj"])
    # the transport bureau: b (its industry) and logistics (its responsibility)
    assert sorted(labels(got["to_fill"])) == sorted(
        [("青山物流园", "2026年10月"), ("青山县环城公路", "2026年10月")]
    )
    assert got["to_review_count"] == 0


def test_todo_of_the_city(dispatch, users):
    correction = Correction.objects.create(
        report=Report.objects.get(project=dispatch["a"], period=dispatch["months"][(2026, 8)]),
        changes={"investment": ["1000.00", "1100.00"]},
        reason="更正",
        requested_by=users["owner_a"],
    )
    got = selectors.todo(users["admin"], limit=3)
    assert got["to_fill_count"] == 5 and len(got["to_fill"]) == 3
    assert got["to_review_count"] == 2  # a's October, hospital's September
    # September and Q3 are past their deadlines (28 Sep) and not locked; October is not due yet
    assert {p.label for p in got["periods_to_lock"]} == {"2026年9月", "2026年第3季度"}
    assert got["corrections"] == [correction]
    assert got["today"] == TODAY


@pytest.mark.parametrize("user", ["leader", "auditor"])
def test_readers_have_nothing_to_do(dispatch, users, user):
    got = selectors.todo(users[user])
    assert (got["to_fill_count"], got["to_review_count"], got["periods_to_lock"]) == (0, 0, [])


def test_todo_ignores_periods_not_started(dispatch, users):
    # a November slot opened in advance is not to be filled yet on 20 October
    november = Period.objects.create(
        schedule=dispatch["october"].schedule,
        frequency=Frequency.MONTHLY,
        year=2026,
        number=11,
        label="2026年11月",
        starts_on=D(2026, 11, 1),
        ends_on=D(2026, 11, 30),
        due_on=D(2026, 11, 30),
        late_after=D(2026, 11, 30),
    )
    Report.objects.create(period=november, project=dispatch["zone"], period_end=november.ends_on)
    assert selectors.todo(users["owner_a"])["to_fill_count"] == 1


# --- a project's reports and funds -------------------------------------------------------------------


def test_project_reports_hide_open_untouched_slots(dispatch):
    water = list(selectors.project_reports(dispatch["water"].pk))
    assert water == []  # its October slot is untouched
    a = list(selectors.project_reports(dispatch["a"].pk))
    assert a[0].period.label == "2026年10月" and len(a) == 15


def test_funds_by_source(dispatch):
    from majorprojects.reporting.models import ReportFunds

    sent = Report.objects.get(project=dispatch["a"], period=dispatch["months"][(2026, 9)])
    draft = Report.objects.get(project=dispatch["b"], period=dispatch["october"])
    ReportFunds.objects.create(
        report=sent, source="special_bond", arrived=Decimal("300"), paid=Decimal("200")
    )
    ReportFunds.objects.create(report=sent, source="self_raised", arrived=Decimal("100"), paid=Decimal("100"))
    ReportFunds.objects.create(
        report=draft, source="special_bond", arrived=Decimal("999"), paid=Decimal("999")
    )
    rows = selectors.funds_by_source(ALL(), 2026, 10)
    # in the programmes' own order (FundingSource), not by code
    assert [(r["label"], r["arrived"], r["paid"]) for r in rows] == [
        ("地方政府专项债券", Decimal("300"), Decimal("200")),
        ("企业自筹", Decimal("100"), Decimal("100")),
    ]


def test_a_province_deployment_rows_are_its_cities(dispatch, users):
    """With two cities the region rows are the cities (each named), not one city's counties."""
    from majorprojects.factories import RegionFactory
    from majorprojects.organisation.models import RegionKind

    RegionFactory(
        code="431000", name="东湖市", kind=RegionKind.CITY, parent=dispatch["a"].region.parent.parent
    )
    rows = selectors.month_table(ALL(), 2026, 10, "region", user=users["admin"])
    assert [r["label"] for r in rows] == ["云江市"]  # 东湖市 has no projects, so no row
    assert sum(r["done_ytd"] for r in rows) == selectors.month_summary(ALL(), 2026, 10)["done_ytd"]
