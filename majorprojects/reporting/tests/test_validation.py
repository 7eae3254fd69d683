"""Statistics-style checks on a report: every rule, the field it names and its Chinese message.

Project a (临川新材料产业园) has a total investment of 50,000 万元; its 2026 monthly slots come
from the shared `october` fixture. Earlier months' amounts are written straight into the slots:
the checks read every other report of the project, whatever its status."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from majorprojects.projects.models import Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Frequency, Period, Report, Schedule, Status
from majorprojects.reporting.validation import check_complete, check_values, situation

D = date
TODAY = D(2026, 10, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


def month(project, number, year=2026) -> Report:
    return Report.objects.select_related("period__schedule", "project").get(
        project=project, period__year=year, period__number=number, period__frequency=Frequency.MONTHLY
    )


def history(project, **amounts):
    """Set earlier months' amounts: history(a, m8="1000", m9="2000")."""
    for key, value in amounts.items():
        Report.objects.filter(project=project, period__number=int(key[1:]), period__year=2026).update(
            investment=Decimal(value)
        )


def set_project(project, **fields):
    Project.objects.filter(pk=project.pk).update(**fields)
    project.refresh_from_db()


def errors_for(report, **values) -> dict[str, str]:
    for name, value in values.items():
        setattr(report, name, value)
    return check_values(report, today=TODAY)


# --- money -----------------------------------------------------------------------------------------


def test_negative_amount(october, listed):
    report = month(listed["a"], 10)
    assert errors_for(report, investment=Decimal("-1")) == {
        "investment": "本期完成投资不能为负数：累计完成投资不能倒退。"
    }


def test_negative_amount_refused_when_typed(slot, users):
    with pytest.raises(ValidationError) as exc:
        services.report_save(actor=users["owner_a"], report=slot, data={"investment": "-5"})
    assert exc.value.message_dict == {"investment": ["本期完成投资：金额不能为负数。"]}
    slot.refresh_from_db()
    assert slot.investment is None and slot.status == Status.PENDING


def test_year_to_date_over_total(october, listed):
    # total 50,000; September 30,000 + October 25,000 = 55,000 this year
    history(listed["a"], m9="30000")
    report = month(listed["a"], 10)
    assert errors_for(report, investment=Decimal("25000"), note="大额设备款") == {
        "investment": "本年累计完成 55,000.00 万元将超过项目总投资 50,000.00 万元，请核实本期完成投资。"
    }
    # exactly the total is allowed (and with the note the jump rule is satisfied)
    assert errors_for(report, investment=Decimal("20000")) == {}


def test_since_start_over_total_counts_prior_investment(october, listed):
    # 40,000 done before the platform + 15,000 this month = 55,000 > 50,000, while the year's
    # own total (15,000) is well within it
    set_project(listed["a"], prior_investment=Decimal("40000"))
    report = month(listed["a"], 10)
    assert errors_for(report, investment=Decimal("15000"), note="说明") == {
        "investment": "开工累计完成 55,000.00 万元将超过项目总投资 50,000.00 万元，请核实本期完成投资。"
    }


def test_since_start_counts_later_reports_too(october, listed):
    # correcting September to 10,000 when October already holds 45,000: 55,000 in all
    history(listed["a"], m10="45000")
    report = month(listed["a"], 9)
    assert errors_for(report, investment=Decimal("10000"), note="说明")["investment"].startswith(
        "开工累计完成 55,000.00 万元"
    )


def test_since_start_counts_last_years_reports(october, listed, monthly):
    # a 2025 report of 30,000 is in the since-start total but not in this year's
    period = Period.objects.create(
        schedule=monthly,
        frequency=Frequency.MONTHLY,
        year=2025,
        number=12,
        label="2025年12月",
        starts_on=D(2025, 12, 1),
        ends_on=D(2025, 12, 31),
        due_on=D(2025, 12, 25),
        late_after=D(2025, 12, 25),
    )
    Report.objects.create(
        period=period, project=listed["a"], period_end=D(2025, 12, 31), investment=Decimal("30000")
    )
    report = month(listed["a"], 1)
    message = errors_for(report, investment=Decimal("25000"), note="说明")["investment"]
    assert message.startswith("开工累计完成 55,000.00 万元")


JUMP = (
    "本期完成投资 4,600.00 万元超过该项目此前各期平均值（1,500.00 万元）的 3 倍，请在“情况说明”中说明原因。"
)


@pytest.mark.parametrize(
    ("amount", "note", "expected"),
    [
        # August 1,000 and September 2,000: average 1,500; × 3 = 4,500
        ("4500", "", {}),
        ("4600", "", {"note": JUMP}),
        ("4600", "设备集中到货", {}),
        ("4600", "   ", {"note": JUMP}),  # a blank note is no note
        ("0", "", {}),
    ],
)
def test_jump_over_average_needs_a_note(october, listed, amount, note, expected):
    history(listed["a"], m8="1000", m9="2000")
    assert errors_for(month(listed["a"], 10), investment=Decimal(amount), note=note) == expected


def test_jump_multiple_is_configurable_and_printed_plainly(october, listed, monthly):
    # a multiple of 10 used to print as "1E+1"
    Schedule.objects.filter(pk=monthly.pk).update(jump_multiple=Decimal("10"))
    history(listed["a"], m9="1000")
    errors = errors_for(month(listed["a"], 10), investment=Decimal("10001"))
    assert errors == {
        "note": "本期完成投资 10,001.00 万元超过该项目此前各期平均值（1,000.00 万元）的 10 倍，"
        "请在“情况说明”中说明原因。"
    }


def test_months_without_money_do_not_lower_the_average(october, listed):
    # January–July zero, August 1,000, September 2,000: the average is still 1,500
    history(listed["a"], **{f"m{m}": "0" for m in range(1, 8)}, m8="1000", m9="2000")
    assert errors_for(month(listed["a"], 10), investment=Decimal("4500")) == {}


@pytest.mark.parametrize(
    ("amount", "note", "expected"),
    [
        # prior 40,000 + September 2,000: 8,000 remain; 50% = 4,000. The jump limit (2,000 × 3 =
        # 6,000) is not reached, the remaining-share one is.
        (
            "4500",
            "",
            {
                "note": "本期完成投资 4,500.00 万元超过剩余未完成投资（8,000.00 万元）的 50%，"
                "请在“情况说明”中说明原因。"
            },
        ),
        ("4000", "", {}),
        ("4500", "主体结构封顶", {}),
    ],
)
def test_large_share_of_the_remaining_investment_needs_a_note(october, listed, amount, note, expected):
    set_project(listed["a"], prior_investment=Decimal("40000"))
    history(listed["a"], m9="2000")
    assert errors_for(month(listed["a"], 10), investment=Decimal(amount), note=note) == expected


def test_first_report_is_not_held_to_the_jump_rules(october, listed):
    # no earlier money: neither an average nor the remaining-share rule applies
    assert errors_for(month(listed["a"], 1), investment=Decimal("30000")) == {}


def test_weekly_report_with_money(october, listed, users):
    weekly = Schedule.objects.create(
        name="周调度", frequency=Frequency.WEEKLY, stats_pending_only=True, starts_on=D(2026, 10, 12)
    )
    period = Period.objects.create(
        schedule=weekly,
        frequency=Frequency.WEEKLY,
        year=2026,
        number=43,
        label="2026年第43周",
        starts_on=D(2026, 10, 19),
        ends_on=D(2026, 10, 25),
        due_on=D(2026, 10, 23),
        late_after=D(2026, 10, 23),
    )
    report = Report.objects.create(period=period, project=listed["a"], period_end=period.ends_on)
    assert errors_for(report, investment=Decimal("100")) == {
        "investment": "周调度不填报完成投资，请在月（季）调度中填报。"
    }
    assert errors_for(report, investment=None) == {}


# --- progress and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("35", {"percent_complete": "工程完成比例不能低于上期（40%）。"}),
        ("40", {}),
        ("55.5", {}),
    ],
)
def test_percent_complete_never_lower_than_last_report(october, listed, value, expected):
    Report.objects.filter(project=listed["a"], period__number=9).update(percent_complete=Decimal("40.00"))
    # an earlier, higher figure does not count: only the latest before this report
    Report.objects.filter(project=listed["a"], period__number=7).update(percent_complete=Decimal("45.50"))
    assert errors_for(month(listed["a"], 10), percent_complete=Decimal(value)) == expected


STARTED = {"stage": Stage.CONSTRUCTION, "actual_start_date": D(2026, 3, 1)}
COMPLETED = {**STARTED, "stage": Stage.COMPLETED, "actual_completion_date": D(2026, 9, 10)}


@pytest.mark.parametrize(
    ("project", "values", "expected"),
    [
        # dates in the future
        ({}, {"started_on": D(2026, 10, 21)}, {"started_on": "开工日期不能晚于今天。"}),
        (STARTED, {"structure_done_on": D(2026, 11, 1)}, {"structure_done_on": "主体完工日期不能晚于今天。"}),
        (STARTED, {"completed_on": D(2026, 10, 21)}, {"completed_on": "竣工日期不能晚于今天。"}),
        (COMPLETED, {"operating_on": D(2026, 12, 1)}, {"operating_on": "投产日期不能晚于今天。"}),
        (
            STARTED,
            {"stats_included": True, "stats_date": D(2026, 10, 21)},
            {"stats_date": "入统日期不能晚于今天。"},
        ),
        ({}, {"started_on": TODAY}, {}),  # today itself is fine
        # milestones need a start
        ({}, {"completed_on": D(2026, 9, 1)}, {"completed_on": "填写竣工日期前须先有开工日期。"}),
        (
            {},
            {"structure_done_on": D(2026, 9, 1)},
            {"structure_done_on": "填写主体完工日期前须先有开工日期。"},
        ),
        # … from the project or from this same report
        ({}, {"started_on": D(2026, 2, 1), "completed_on": D(2026, 9, 1)}, {}),
        (
            STARTED,
            {"completed_on": D(2026, 2, 1)},
            {"completed_on": "竣工日期不能早于开工日期（2026-03-01）。"},
        ),
        (
            {},
            {"started_on": D(2026, 5, 1), "structure_done_on": D(2026, 4, 1)},
            {"structure_done_on": "主体完工日期不能早于开工日期（2026-05-01）。"},
        ),
        # a project that started already does not start again
        (
            STARTED,
            {"started_on": D(2026, 4, 1)},
            {"started_on": "项目已于 2026-03-01 开工，无需再填开工日期。"},
        ),
        (STARTED, {"started_on": D(2026, 3, 1)}, {}),
        # operating needs completion, and not before it
        (STARTED, {"operating_on": D(2026, 10, 1)}, {"operating_on": "填写投产日期前须先有竣工日期。"}),
        (
            COMPLETED,
            {"operating_on": D(2026, 9, 1)},
            {"operating_on": "投产日期不能早于竣工日期（2026-09-10）。"},
        ),
        (COMPLETED, {"operating_on": D(2026, 10, 1)}, {}),
        (STARTED, {"completed_on": D(2026, 9, 1), "operating_on": D(2026, 10, 1)}, {}),
        # statistics
        (STARTED, {"stats_included": True}, {"stats_date": "已入统的项目须填写入统日期。"}),
        (
            {},
            {"stats_included": True, "stats_date": D(2026, 9, 1)},
            {"stats_included": "项目尚未开工，不能入统。"},
        ),
        (
            STARTED,
            {"stats_included": True, "stats_date": D(2026, 2, 1)},
            {"stats_date": "入统日期不能早于开工日期（2026-03-01）。"},
        ),
        (STARTED, {"stats_included": True, "stats_date": D(2026, 4, 1)}, {}),
        # the project's own statistics date stands in for the report's
        ({**STARTED, "stats_included_date": D(2026, 4, 1)}, {"stats_included": True}, {}),
        (STARTED, {"stats_included": False}, {}),
    ],
)
def test_date_rules(october, listed, project, values, expected):
    set_project(listed["a"], **project)
    report = month(listed["a"], 10)
    assert errors_for(report, **values) == expected


# --- required fields at submission ------------------------------------------------------------------

BUILDING = {"investment": "800", "progress": "主体施工", "percent_complete": "40", "next_plan": "继续施工"}


@pytest.mark.parametrize(
    ("project", "data", "expected_situation", "missing"),
    [
        (
            STARTED,
            {},
            "building",
            {
                "investment": "请填写本期完成投资。",
                "progress": "请填写形象进度。",
                "percent_complete": "请填写工程完成比例。",
                "next_plan": "请填写下期计划。",
            },
        ),
        (STARTED, {**BUILDING, "progress": "  "}, "building", {"progress": "请填写形象进度。"}),
        (STARTED, {**BUILDING, "investment": "0"}, "building", {}),  # zero is an answer
        ({}, {}, "preparing", {"progress": "请填写形象进度。", "next_plan": "请填写下期计划。"}),
        ({}, {"progress": "用地报批", "next_plan": "取得施工许可"}, "preparing", {}),
        # a preparing project that reports its start this month is building
        (
            {},
            {"started_on": "2026-10-08", "progress": "开工"},
            "building",
            {
                "investment": "请填写本期完成投资。",
                "percent_complete": "请填写工程完成比例。",
                "next_plan": "请填写下期计划。",
            },
        ),
        # completed before the period: money (possibly 0, e.g. final payments) and progress only
        (
            {**COMPLETED, "actual_completion_date": D(2026, 8, 31)},
            {},
            "finished",
            {"investment": "请填写本期完成投资。", "progress": "请填写形象进度。"},
        ),
        # completed during the period: still building for this report
        ({**COMPLETED, "actual_completion_date": D(2026, 10, 10)}, {}, "building", None),
    ],
)
def test_required_fields_per_situation(slot, users, project, data, expected_situation, missing):
    set_project(slot.project, **project)
    if data:
        slot = services.report_save(actor=users["owner_a"], report=slot, data=data)
    slot = Report.objects.select_related("period__schedule", "project").get(pk=slot.pk)
    assert situation(slot) == expected_situation
    if missing is None:
        return
    assert check_complete(slot) == missing
    if missing:
        with pytest.raises(ValidationError) as exc:
            services.report_submit(actor=users["owner_a"], report=slot)
        assert {k: v[0] for k, v in exc.value.message_dict.items()} == missing
        slot.refresh_from_db()
        assert slot.status != Status.SUBMITTED and slot.submitted_at is None
    else:
        assert services.report_submit(actor=users["owner_a"], report=slot).status == Status.SUBMITTED


def test_weekly_required_fields(listed):
    schedule = Schedule.objects.create(
        name="周调度", frequency=Frequency.WEEKLY, stats_pending_only=True, starts_on=D(2026, 10, 12)
    )
    period = Period.objects.create(
        schedule=schedule,
        frequency=Frequency.WEEKLY,
        year=2026,
        number=43,
        label="2026年第43周",
        starts_on=D(2026, 10, 19),
        ends_on=D(2026, 10, 25),
        due_on=D(2026, 10, 23),
        late_after=D(2026, 10, 23),
    )
    report = Report.objects.create(period=period, project=listed["a"], period_end=period.ends_on)
    assert situation(report) == "weekly"
    assert check_complete(report) == {"progress": "请填写形象进度。", "stats_included": "请填写是否入统。"}
    report.progress, report.stats_included = "设备安装", False
    assert check_complete(report) == {}


def test_submission_shows_completeness_and_value_errors_together(slot, users):
    set_project(slot.project, **STARTED)
    Report.objects.filter(pk=slot.pk).update(investment=Decimal("60000"))
    with pytest.raises(ValidationError) as exc:
        services.report_submit(actor=users["owner_a"], report=slot)
    errors = exc.value.message_dict
    assert set(errors) == {"investment", "progress", "percent_complete", "next_plan"}
    assert "总投资" in errors["investment"][0]


# --- properties -------------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=30000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(earlier=st.lists(amounts, min_size=0, max_size=9), amount=amounts, prior=amounts)
def test_money_rules_as_properties(october, listed, earlier, amount, prior):
    """The investment error appears exactly when the since-start total would pass the total
    investment; a note never adds an error and always clears the note error; every message is
    Chinese and names a known field."""
    project = listed["a"]
    set_project(project, prior_investment=prior)
    Report.objects.filter(project=project).update(investment=None)
    history(project, **{f"m{n}": str(value) for n, value in enumerate(earlier, start=1)})
    report = month(project, 10)
    bare = errors_for(report, investment=amount, note="")
    noted = errors_for(report, investment=amount, note="已核实")
    since_start = prior + sum(earlier, Decimal(0)) + amount
    assert ("investment" in bare) == (since_start > project.total_investment)
    assert "note" not in noted
    assert set(noted) <= set(bare)
    for message in bare.values():
        assert message.endswith("。") and any("\u4e00" <= ch <= "\u9fff" for ch in message)
    if "note" in bare:
        assert amount > 0 and "investment" not in bare
