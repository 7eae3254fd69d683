"""Reporting periods: the span and deadline of a period (statutory calendar, December earlier,
grace days), and open_periods creating periods and report slots for exactly the projects that owe
them, idempotently.

2026 calendar facts used below (chinese-calendar 1.11): Spring Festival 15–23 Feb, make-up
Saturdays 14 and 28 Feb; Mid-autumn 25–27 Sep; National Day 1–7 Oct, make-up Sunday 20 Sep and
Saturday 10 Oct. 2027 is not in the package yet, so Monday–Friday stands in."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from majorprojects.audit.models import Event
from majorprojects.core.workdays import is_workday
from majorprojects.factories import ListingFactory, ProjectFactory
from majorprojects.projects.models import AnnualListing, ListKind, Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Frequency, Period, Report, Schedule, Status
from majorprojects.reporting.periods import Span, open_periods, period_refresh_slots, span_for, spans_until

D = date
TODAY = D(2026, 10, 5)
# a 1×1 PNG: signature, IHDR, IDAT, IEND
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b55"
    "0000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
)


def schedule(frequency=Frequency.MONTHLY, **fields) -> Schedule:
    """An unsaved schedule: span_for is pure."""
    base = {"name": "测试", "due_day": 28, "starts_on": D(2026, 1, 1)}
    return Schedule(frequency=frequency, **(base | fields))


# --- span_for ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "day", "expected"),
    [
        # an ordinary month: Wed 28 Oct is a working day
        (
            {},
            D(2026, 10, 15),
            Span(2026, 10, "2026年10月", D(2026, 10, 1), D(2026, 10, 31), D(2026, 10, 28), D(2026, 10, 28)),
        ),
        # the first and the last day of the month belong to it
        (
            {},
            D(2026, 10, 31),
            Span(2026, 10, "2026年10月", D(2026, 10, 1), D(2026, 10, 31), D(2026, 10, 28), D(2026, 10, 28)),
        ),
        # Sat 28 Feb 2026 is a make-up working day (调休): the deadline stays
        (
            {},
            D(2026, 2, 1),
            Span(2026, 2, "2026年2月", D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 28), D(2026, 2, 28)),
        ),
        # Sat 28 Mar 2026 is an ordinary weekend: Monday 30 Mar
        (
            {},
            D(2026, 3, 9),
            Span(2026, 3, "2026年3月", D(2026, 3, 1), D(2026, 3, 31), D(2026, 3, 30), D(2026, 3, 30)),
        ),
        # December closes earlier: the 25th (a Friday)
        (
            {"december_due_day": 25},
            D(2026, 12, 2),
            Span(2026, 12, "2026年12月", D(2026, 12, 1), D(2026, 12, 31), D(2026, 12, 25), D(2026, 12, 25)),
        ),
        # without a December day, December is due on the usual day (Mon 28 Dec)
        (
            {},
            D(2026, 12, 2),
            Span(2026, 12, "2026年12月", D(2026, 12, 1), D(2026, 12, 31), D(2026, 12, 28), D(2026, 12, 28)),
        ),
        # due on the 31st: February clamps to the 28th (a make-up Saturday), April to Thu 30th
        (
            {"due_day": 31},
            D(2026, 2, 10),
            Span(2026, 2, "2026年2月", D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 28), D(2026, 2, 28)),
        ),
        (
            {"due_day": 31},
            D(2026, 4, 10),
            Span(2026, 4, "2026年4月", D(2026, 4, 1), D(2026, 4, 30), D(2026, 4, 30), D(2026, 4, 30)),
        ),
        # Spring Festival: a deadline on 20 Feb moves to Tue 24 Feb
        (
            {"due_day": 20},
            D(2026, 2, 10),
            Span(2026, 2, "2026年2月", D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 24), D(2026, 2, 24)),
        ),
        # grace days count from the shifted deadline: 24 Feb + 3 = 27 Feb
        (
            {"due_day": 20, "grace_days": 3},
            D(2026, 2, 10),
            Span(2026, 2, "2026年2月", D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 24), D(2026, 2, 27)),
        ),
        # shift_holidays=False keeps the nominal date, holiday or not
        (
            {"due_day": 20, "shift_holidays": False},
            D(2026, 2, 10),
            Span(2026, 2, "2026年2月", D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 20), D(2026, 2, 20)),
        ),
        (
            {"shift_holidays": False, "grace_days": 2},
            D(2026, 3, 9),
            Span(2026, 3, "2026年3月", D(2026, 3, 1), D(2026, 3, 31), D(2026, 3, 28), D(2026, 3, 30)),
        ),
        # quarterly: the quarter, due on the 25th of its last month; Fri 25 Sep is Mid-autumn
        # (holiday through Sun 27 Sep) → Mon 28 Sep
        (
            {"due_day": 25},
            D(2026, 8, 1),
            Span(2026, 3, "2026年第3季度", D(2026, 7, 1), D(2026, 9, 30), D(2026, 9, 28), D(2026, 9, 28)),
        ),
        # Q4 takes the December day: Sun 20 Dec → Mon 21 Dec
        (
            {"due_day": 25, "december_due_day": 20},
            D(2026, 10, 1),
            Span(2026, 4, "2026年第4季度", D(2026, 10, 1), D(2026, 12, 31), D(2026, 12, 21), D(2026, 12, 21)),
        ),
        # Q1 due Wed 25 Mar 2026
        (
            {"due_day": 25, "december_due_day": 20},
            D(2026, 1, 1),
            Span(2026, 1, "2026年第1季度", D(2026, 1, 1), D(2026, 3, 31), D(2026, 3, 25), D(2026, 3, 25)),
        ),
        # a year chinese-calendar does not know: Mon–Fri. Sun 28 Feb 2027 → Mon 1 Mar 2027
        (
            {},
            D(2027, 2, 3),
            Span(2027, 2, "2027年2月", D(2027, 2, 1), D(2027, 2, 28), D(2027, 3, 1), D(2027, 3, 1)),
        ),
        # … and its National Day is not known either: Fri 1 Oct 2027 stays
        (
            {"due_day": 1},
            D(2027, 10, 9),
            Span(2027, 10, "2027年10月", D(2027, 10, 1), D(2027, 10, 31), D(2027, 10, 1), D(2027, 10, 1)),
        ),
    ],
)
def test_monthly_and_quarterly_spans(fields, day, expected):
    frequency = Frequency.QUARTERLY if "季度" in expected.label else Frequency.MONTHLY
    assert span_for(schedule(frequency, **fields), day) == expected


@pytest.mark.parametrize("due_day", range(1, 8))
def test_national_day_deadline_moves_to_the_first_working_day_after_the_holiday(due_day):
    # 1–7 Oct 2026 are all holidays; Thu 8 Oct is the first working day
    span = span_for(schedule(due_day=due_day), D(2026, 10, 20))
    assert span.due_on == D(2026, 10, 8)


@pytest.mark.parametrize("due_day", range(15, 24))
def test_spring_festival_deadline_moves_to_24_february(due_day):
    assert span_for(schedule(due_day=due_day), D(2026, 2, 1)).due_on == D(2026, 2, 24)


@pytest.mark.parametrize(
    ("day", "weekday", "expected"),
    [
        # the week of National Day: Mon 28 Sep – Sun 4 Oct, ISO week 40; Friday 2 Oct is a holiday
        # → Thu 8 Oct (after the week itself has ended)
        (D(2026, 10, 1), 5, (2026, 40, "2026年第40周", D(2026, 9, 28), D(2026, 10, 4), D(2026, 10, 8))),
        # an ordinary week: Mon 19 – Sun 25 Oct, due Fri 23 Oct
        (D(2026, 10, 25), 5, (2026, 43, "2026年第43周", D(2026, 10, 19), D(2026, 10, 25), D(2026, 10, 23))),
        # due on Saturday: Sat 10 Oct is a make-up working day and stays
        (D(2026, 10, 5), 6, (2026, 41, "2026年第41周", D(2026, 10, 5), D(2026, 10, 11), D(2026, 10, 10))),
        # due on Sunday 11 Oct → Mon 12 Oct
        (D(2026, 10, 5), 7, (2026, 41, "2026年第41周", D(2026, 10, 5), D(2026, 10, 11), D(2026, 10, 12))),
        # across New Year: Fri 1 Jan 2027 belongs to ISO week 53 of 2026; 2027 is unknown to the
        # calendar, so Friday 1 Jan counts as a working day (the documented fallback)
        (D(2027, 1, 1), 5, (2026, 53, "2026年第53周", D(2026, 12, 28), D(2027, 1, 3), D(2027, 1, 1))),
    ],
)
def test_weekly_spans(day, weekday, expected):
    span = span_for(schedule(Frequency.WEEKLY, due_weekday=weekday), day)
    assert (span.year, span.number, span.label, span.starts_on, span.ends_on, span.due_on) == expected


def test_weekly_grace_days():
    span = span_for(schedule(Frequency.WEEKLY, due_weekday=5, grace_days=2), D(2026, 10, 1))
    assert (span.due_on, span.late_after) == (D(2026, 10, 8), D(2026, 10, 10))


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31)),
    frequency=st.sampled_from(Frequency.values),
    due_day=st.integers(1, 31),
    december=st.one_of(st.none(), st.integers(1, 31)),
    weekday=st.integers(1, 7),
    grace=st.integers(0, 10),
    shift=st.booleans(),
)
def test_span_properties(day, frequency, due_day, december, weekday, grace, shift):
    sched = schedule(
        frequency,
        due_day=due_day,
        december_due_day=december,
        due_weekday=weekday,
        grace_days=grace,
        shift_holidays=shift,
    )
    span = span_for(sched, day)
    assert span.starts_on <= day <= span.ends_on
    # every day of the span gives the same span; the next one starts the day after
    assert span_for(sched, span.starts_on) == span == span_for(sched, span.ends_on)
    assert span_for(sched, span.ends_on + timedelta(days=1)).starts_on == span.ends_on + timedelta(days=1)
    assert span.late_after - span.due_on == timedelta(days=grace)
    nominal = span_for(schedule(frequency, **{**_fields(sched), "shift_holidays": False}), day).due_on
    if shift:
        # the first working day on or after the nominal deadline
        assert span.due_on >= nominal and is_workday(span.due_on)
        assert all(not is_workday(nominal + timedelta(days=n)) for n in range((span.due_on - nominal).days))
    else:
        assert span.due_on == nominal
    if frequency == Frequency.WEEKLY:
        assert span.starts_on.weekday() == 0 and (span.ends_on - span.starts_on).days == 6
    else:
        assert span.starts_on.day == 1 and (span.ends_on + timedelta(days=1)).day == 1
        assert nominal.month == span.ends_on.month  # due within the period's last month


def _fields(sched: Schedule) -> dict:
    return {
        name: getattr(sched, name)
        for name in ("due_day", "december_due_day", "due_weekday", "grace_days", "shift_holidays")
    }


def test_spans_until_runs_from_the_schedule_start_to_today():
    sched = schedule(starts_on=D(2026, 3, 1))
    assert [s.label for s in spans_until(sched, TODAY)] == [f"2026年{m}月" for m in range(3, 11)]
    assert spans_until(schedule(starts_on=D(2026, 11, 1)), TODAY) == []


# --- open_periods --------------------------------------------------------------------------------


@pytest.fixture
def schedules(db):
    """The three usual schedules: the annual-construction list monthly; reserve and unlisted
    projects before construction quarterly; started-but-not-counted projects weekly (from 1 Sep
    so the tests stay small)."""
    Schedule.objects.all().delete()
    return {
        "monthly": Schedule.objects.create(
            name="月调度",
            frequency=Frequency.MONTHLY,
            list_kinds=[ListKind.CONSTRUCTION],
            due_day=28,
            december_due_day=25,
            order=10,
            starts_on=D(2026, 1, 1),
        ),
        "quarterly": Schedule.objects.create(
            name="季调度",
            frequency=Frequency.QUARTERLY,
            list_kinds=[ListKind.RESERVE, "unlisted"],
            stages=[Stage.CONCEIVED, Stage.RESERVED, Stage.PREPARING, Stage.SIGNED],
            due_day=25,
            december_due_day=20,
            order=20,
            starts_on=D(2026, 1, 1),
        ),
        "weekly": Schedule.objects.create(
            name="周调度",
            frequency=Frequency.WEEKLY,
            stats_pending_only=True,
            due_weekday=5,
            order=30,
            starts_on=D(2026, 9, 1),
        ),
    }


@pytest.fixture
def world(schedules, listed, city):
    """Besides a and b (construction list, preparing) and zone (reserve list, preparing):
    unlisted — not in any 2026 list, preparing → quarterly;
    building — construction list, under construction, not counted in statistics → monthly + weekly;
    pending_stats — not listed, under construction, not counted → weekly only;
    counted — construction list, under construction, counted → monthly only;
    package — a package in the construction list → nothing (its sub-projects report);
    finished — construction list, completed on 20 May 2026 → monthly January–May only;
    listed_2025 — listed for 2025 only, under construction and counted → nothing in 2026."""
    owner = city["owner_a"]

    def make(name, listing=None, **fields):
        project = ProjectFactory(name=name, owner_unit=owner, sector=city["industry"], **fields)
        if listing:
            AnnualListing.objects.create(project=project, year=2026, list_kind=listing)
        return project

    started = {"stage": Stage.CONSTRUCTION, "actual_start_date": D(2025, 6, 1)}
    out = dict(listed)
    out["unlisted"] = make("未入库前期项目")
    out["building"] = make("在建未入统项目", ListKind.CONSTRUCTION, **started)
    out["pending_stats"] = make("未列入清单的在建项目", **started)
    out["counted"] = make("已入统项目", ListKind.CONSTRUCTION, stats_included=True, **started)
    out["package"] = make("打包项目", ListKind.CONSTRUCTION, is_package=True)
    out["finished"] = make(
        "已竣工项目",
        ListKind.CONSTRUCTION,
        stats_included=True,
        stage=Stage.COMPLETED,
        actual_start_date=D(2024, 3, 1),
        actual_completion_date=D(2026, 5, 20),
    )
    out["listed_2025"] = make(
        "2025年清单项目", stage=Stage.CONSTRUCTION, actual_start_date=D(2024, 1, 1), stats_included=True
    )
    AnnualListing.objects.create(project=out["listed_2025"], year=2025, list_kind=ListKind.CONSTRUCTION)
    return out


def slots(schedule=None) -> set[tuple[str, str]]:
    """{(period label, project name)} of every report slot (of one schedule)."""
    qs = Report.objects.all()
    if schedule is not None:
        qs = qs.filter(period__schedule=schedule)
    return set(qs.values_list("period__label", "project__name"))


def names(schedule, label) -> set[str]:
    return {name for lab, name in slots(schedule) if lab == label}


def test_open_periods_creates_periods_up_to_today(world, schedules):
    open_periods(TODAY)
    monthly = Period.objects.filter(schedule=schedules["monthly"]).order_by("starts_on")
    assert [p.label for p in monthly] == [f"2026年{m}月" for m in range(1, 11)]
    october = monthly.last()
    assert (october.due_on, october.late_after, october.ends_on) == (D(2026, 10, 28),) * 2 + (
        D(2026, 10, 31),
    )
    quarters = Period.objects.filter(schedule=schedules["quarterly"]).order_by("starts_on")
    assert [p.label for p in quarters] == [f"2026年第{q}季度" for q in range(1, 5)]
    weeks = Period.objects.filter(schedule=schedules["weekly"]).order_by("starts_on")
    # 1 Sep 2026 is a Tuesday: its week began Mon 31 Aug (ISO week 36); 5 Oct is in week 41
    assert [p.number for p in weeks] == [36, 37, 38, 39, 40, 41]
    assert weeks.first().starts_on == D(2026, 8, 31)
    assert all(p.frequency == p.schedule.frequency for p in Period.objects.all())
    # nothing opens for a schedule that is switched off or has not started yet
    Schedule.objects.create(
        name="停用", frequency=Frequency.MONTHLY, is_active=False, starts_on=D(2026, 1, 1)
    )
    Schedule.objects.create(name="未来", frequency=Frequency.MONTHLY, starts_on=D(2026, 11, 1))
    open_periods(TODAY)
    assert not Period.objects.filter(schedule__name__in=["停用", "未来"]).exists()


def test_slots_only_for_projects_that_owe_the_report(world, schedules):
    open_periods(TODAY)
    # the construction list, minus the package; the finished project reports up to its
    # completion month (completed 20 May: May still owed, June not)
    everyone = {"临川新材料产业园", "青山县环城公路", "在建未入统项目", "已入统项目"}
    assert names(schedules["monthly"], "2026年5月") == everyone | {"已竣工项目"}
    assert names(schedules["monthly"], "2026年6月") == everyone
    assert names(schedules["monthly"], "2026年10月") == everyone
    # reserve list and unlisted projects before construction
    assert names(schedules["quarterly"], "2026年第4季度") == {"经开区标准厂房", "未入库前期项目"}
    # started but not counted in statistics, listed or not
    assert names(schedules["weekly"], "2026年第41周") == {"在建未入统项目", "未列入清单的在建项目"}
    # slots copy the period's end for the money index and start empty
    report = Report.objects.filter(period__label="2026年10月").first()
    assert report.period_end == D(2026, 10, 31)
    assert (report.status, report.version, report.investment) == (Status.PENDING, 1, None)


@pytest.mark.parametrize(
    ("list_kinds", "stages", "stats_pending", "expected"),
    [
        (
            [],
            [],
            False,
            {"a", "b", "zone", "unlisted", "building", "pending_stats", "counted", "listed_2025"},
        ),
        (["unlisted"], [], False, {"unlisted", "pending_stats", "listed_2025"}),
        ([ListKind.RESERVE], [], False, {"zone"}),
        ([ListKind.CONSTRUCTION], [Stage.CONSTRUCTION], False, {"building", "counted"}),
        ([], [], True, {"building", "pending_stats"}),
        ([ListKind.CONSTRUCTION], [], True, {"building"}),
    ],
)
def test_matching_rules(world, schedules, list_kinds, stages, stats_pending, expected):
    Schedule.objects.all().delete()
    Schedule.objects.create(
        name="规则",
        frequency=Frequency.MONTHLY,
        list_kinds=list_kinds,
        stages=stages,
        stats_pending_only=stats_pending,
        starts_on=D(2026, 10, 1),
    )
    open_periods(TODAY)
    by_name = {p.name: key for key, p in world.items()}
    assert {by_name[name] for _, name in slots()} == expected


def test_rerun_creates_nothing(world, schedules):
    first = open_periods(TODAY)
    before, events = slots(), Event.objects.filter(verb="period_open").count()
    assert events == Period.objects.count() == 10 + 4 + 6
    assert sum(r["added"] for r in first) == len(before)
    again = open_periods(TODAY)
    assert slots() == before
    assert Event.objects.filter(verb="period_open").count() == events
    assert not any(r["created"] or r["added"] or r["removed"] for r in again)


def test_project_listed_later_gets_the_current_slot_but_no_arrears(world, schedules):
    open_periods(TODAY)
    late = ProjectFactory(name="十月新增项目", owner_unit=world["a"].owner_unit, sector=world["a"].sector)
    ListingFactory(project=late, list_kind=ListKind.CONSTRUCTION)
    open_periods(TODAY)
    # only the period not yet ended gets the new slot: a project listed in October does not owe
    # August and September the moment it is listed
    months = {lab for lab, name in slots(schedules["monthly"]) if name == late.name}
    assert months == {"2026年10月"}


def test_untouched_slot_removed_when_project_stops_matching_but_filled_one_kept(world, schedules, users):
    open_periods(TODAY)
    september = Report.objects.get(period__label="2026年9月", project=world["b"])
    services.report_save(actor=users["admin"], report=september, data={"progress": "路基施工"})
    AnnualListing.objects.filter(project=world["b"]).delete()  # taken off the list
    results = open_periods(TODAY)
    assert "青山县环城公路" not in names(schedules["monthly"], "2026年10月")
    assert "青山县环城公路" in names(schedules["monthly"], "2026年9月")  # a draft is kept
    assert "青山县环城公路" in names(schedules["monthly"], "2026年8月")  # ended: left alone
    assert sum(r["removed"] for r in results) == 1  # October, the period still running
    # b is now unlisted and preparing: quarterly, but Q3 overlaps its kept September draft
    assert "青山县环城公路" in names(schedules["quarterly"], "2026年第4季度")
    assert "青山县环城公路" not in names(schedules["quarterly"], "2026年第3季度")


def test_a_slot_with_a_photo_counts_as_touched(world, schedules, users):
    open_periods(TODAY)
    october = Report.objects.get(period__label="2026年10月", project=world["b"])
    services.report_photo_add(actor=users["admin"], report=october, name="现场.png", content=PNG)
    AnnualListing.objects.filter(project=world["b"]).delete()
    open_periods(TODAY)
    assert "青山县环城公路" in names(schedules["monthly"], "2026年10月")
    assert october.photos.count() == 1


def test_project_moving_from_quarterly_to_monthly_gets_its_monthly_slot_in_one_rerun(world, schedules):
    open_periods(TODAY)
    assert "经开区标准厂房" in names(schedules["quarterly"], "2026年第4季度")
    AnnualListing.objects.filter(project=world["zone"]).update(list_kind=ListKind.CONSTRUCTION)
    open_periods(TODAY)
    # the untouched quarterly slots go, and in the same run the monthly ones come
    assert "经开区标准厂房" not in names(schedules["quarterly"], "2026年第4季度")
    assert "经开区标准厂房" in names(schedules["quarterly"], "2026年第3季度")  # ended: left alone
    assert {lab for lab, n in slots(schedules["monthly"]) if n == "经开区标准厂房"} == {"2026年10月"}
    again = open_periods(TODAY)
    assert not any(r["added"] or r["removed"] for r in again)


def test_locked_period_is_left_alone(world, schedules, users):
    open_periods(TODAY)
    september = Period.objects.get(schedule=schedules["monthly"], number=9)
    services.period_lock(actor=users["admin"], period=september)
    late = ProjectFactory(name="十月新增项目", owner_unit=world["a"].owner_unit, sector=world["a"].sector)
    ListingFactory(project=late, list_kind=ListKind.CONSTRUCTION)
    AnnualListing.objects.filter(project=world["b"]).delete()
    open_periods(TODAY)
    assert late.name not in names(schedules["monthly"], "2026年9月")
    assert "青山县环城公路" in names(schedules["monthly"], "2026年9月")
    assert late.name in names(schedules["monthly"], "2026年10月")
    assert period_refresh_slots(september) == (0, 0)


def test_no_two_money_slots_for_overlapping_periods(schedules, world):
    """A project matching both a monthly and a quarterly schedule reports money once: here the
    monthly schedule (first by order) takes it, the quarterly one leaves it out."""
    schedules["monthly"].list_kinds, schedules["monthly"].stages = [], [Stage.CONSTRUCTION]
    schedules["monthly"].save()
    schedules["quarterly"].stages = []
    schedules["quarterly"].save()
    Project.objects.filter(pk=world["zone"].pk).update(
        stage=Stage.CONSTRUCTION, actual_start_date=D(2026, 2, 1)
    )
    open_periods(TODAY)
    assert "经开区标准厂房" in names(schedules["monthly"], "2026年10月")
    assert not {lab for lab, n in slots(schedules["quarterly"]) if n == "经开区标准厂房"}
    assert_no_overlapping_money_slots()


def test_weekly_slots_carry_no_money(world, schedules):
    open_periods(TODAY)
    week = Period.objects.get(schedule=schedules["weekly"], number=41)
    assert not week.carries_investment and not week.schedule.carries_investment
    assert Period.objects.get(schedule=schedules["monthly"], number=10).carries_investment
    # the weekly slot sits beside the monthly one without taking its place
    assert "在建未入统项目" in names(schedules["monthly"], "2026年10月")
    assert "在建未入统项目" in names(schedules["weekly"], "2026年第41周")


def assert_no_overlapping_money_slots():
    money = list(
        Report.objects.exclude(period__frequency=Frequency.WEEKLY).values_list(
            "project_id", "period__starts_on", "period__ends_on"
        )
    )
    for i, (project, start, end) in enumerate(money):
        for other, start2, end2 in money[i + 1 :]:
            assert not (project == other and start <= end2 and start2 <= end), (
                project,
                start,
                end,
                start2,
                end2,
            )


# --- properties over random project sets ------------------------------------------------------------

project_specs = st.lists(
    st.fixed_dictionaries(
        {
            "list_kind": st.sampled_from([None, ListKind.CONSTRUCTION, ListKind.RESERVE]),
            "stage": st.sampled_from([Stage.PREPARING, Stage.CONSTRUCTION, Stage.COMPLETED]),
            "stats_included": st.booleans(),
            "is_package": st.booleans(),
            "completed_month": st.integers(1, 12),
        }
    ),
    min_size=1,
    max_size=6,
)


def _make_projects(owner, sector, specs):
    # from July only: the properties do not need the whole year, and each example stays quick
    Schedule.objects.exclude(frequency=Frequency.WEEKLY).update(starts_on=D(2026, 7, 1))
    for n, spec in enumerate(specs):
        fields = {"stage": spec["stage"], "stats_included": spec["stats_included"]}
        if spec["stage"] != Stage.PREPARING:
            fields["actual_start_date"] = D(2025, 5, 1)
        if spec["stage"] == Stage.COMPLETED:
            fields["actual_completion_date"] = D(2026, spec["completed_month"], 10)
        project = ProjectFactory(
            name=f"随机项目{n}", owner_unit=owner, sector=sector, is_package=spec["is_package"], **fields
        )
        if spec["list_kind"]:
            AnnualListing.objects.create(project=project, year=2026, list_kind=spec["list_kind"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=project_specs, reruns=st.integers(1, 3))
def test_any_number_of_reruns_equals_one_run(schedules, city, specs, reruns):
    with transaction.atomic():
        _make_projects(city["owner_a"], city["industry"], specs)
        open_periods(TODAY)
        once = slots()
        periods = Period.objects.count()
        for _ in range(reruns):
            results = open_periods(TODAY)
            assert not any(r["created"] or r["added"] or r["removed"] for r in results)
        assert slots() == once and Period.objects.count() == periods
        assert_no_overlapping_money_slots()
        assert not Report.objects.filter(project__is_package=True).exists()
        transaction.set_rollback(True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=project_specs, days=st.lists(st.integers(0, 60), min_size=1, max_size=3))
def test_opening_day_by_day_equals_opening_at_once(schedules, city, specs, days):
    """Running the scheduler on several days up to the last gives the same slots as one run on
    the last day (nothing changed in between)."""
    dates = sorted(TODAY + timedelta(days=d) for d in days)
    states = []
    for run in ([*dates], [dates[-1]]):
        with transaction.atomic():
            _make_projects(city["owner_a"], city["industry"], specs)
            for day in run:
                open_periods(day)
            states.append(slots())
            transaction.set_rollback(True)
    assert states[0] == states[1]


def test_open_periods_writes_one_event_per_new_period(world, schedules, users):
    open_periods(D(2026, 1, 5), actor=users["admin"])
    events = Event.objects.filter(verb="period_open")
    # January: one month, Q1 and no week yet (weekly starts in September)
    assert events.count() == 2
    january = events.get(target_type="period", target_label="2026年1月")
    assert january.actor == users["admin"]
    assert january.details == {"schedule": "月调度", "due_on": "2026-01-28", "slots": 5}


def test_opening_with_money_already_reported_keeps_amounts(world, schedules, users):
    """A rerun never touches a filled slot's figures."""
    open_periods(TODAY)
    report = Report.objects.get(period__label="2026年10月", project=world["a"])
    services.report_save(actor=users["admin"], report=report, data={"investment": "1200"})
    open_periods(TODAY)
    report.refresh_from_db()
    assert report.investment == Decimal("1200.00") and report.status == Status.DRAFT
