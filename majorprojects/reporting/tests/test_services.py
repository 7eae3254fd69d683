"""The report workflow: save, derived totals, safe retries and edit conflicts, submit (on time or
late), return and resubmit, approve (moving the project's lifecycle), period lock, corrections of
locked reports and progress photos — each with its permissions (owner, reviewer, outsider) and
one event row per state change.

Accounts (root conftest): owner_a owns project a (临川区); linchuan is a's county; jtj governs
b's transport industry; qingshan, leader and auditor are outsiders for a."""

import struct
import zlib
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.projects.models import Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Correction, Frequency, Period, Report, ReportFunds, Status
from majorprojects.reporting.periods import open_periods

D = date
TODAY = D(2026, 10, 20)
FILLED = {"investment": "800", "progress": "主体施工", "percent_complete": "40", "next_plan": "继续施工"}


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


def set_today(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *a: day)


def month(project, number, year=2026) -> Report:
    return Report.objects.get(project=project, period__year=year, period__number=number)


def events(report, verb=None):
    qs = Event.objects.filter(target_type="report", target_id=str(report.pk))
    return qs.filter(verb=verb) if verb else qs


def totals(project) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (r.period.label, r.year_to_date, r.since_start)
        for r in Report.objects.filter(project=project).select_related("period").order_by("period_end")
    ]


def save(user, report, **data):
    return services.report_save(actor=user, report=report, data=data)


@pytest.fixture
def started(listed):
    """Project a under construction since 1 March 2026 (so reports need money and progress)."""
    Project.objects.filter(pk=listed["a"].pk).update(
        stage=Stage.CONSTRUCTION, actual_start_date=D(2026, 3, 1)
    )
    listed["a"].refresh_from_db()
    return listed["a"]


@pytest.fixture
def submitted(slot, users, started):
    report = services.report_save(actor=users["owner_a"], report=slot, data=FILLED)
    return services.report_submit(actor=users["owner_a"], report=report)


# --- save ----------------------------------------------------------------------------------------


def test_save_turns_the_slot_into_a_draft(slot, users):
    report = services.report_save(
        actor=users["owner_a"],
        report=slot,
        data={"investment": "1,500", "progress": " 主体施工 ", "stats_included": "否"},
        funds={"special_bond": ("100", "80"), "fiscal": ("0", "0")},
        expected_version=1,
        key="k1",
    )
    assert (report.status, report.version, report.filled_by) == (Status.DRAFT, 2, users["owner_a"])
    assert (report.investment, report.progress, report.stats_included) == (
        Decimal("1500.00"),
        "主体施工",
        False,
    )
    assert report.year_to_date == report.since_start == Decimal("1500.00")
    # empty sources are not stored
    assert list(ReportFunds.objects.filter(report=report).values_list("source", "arrived", "paid")) == [
        ("special_bond", Decimal("100.00"), Decimal("80.00"))
    ]
    (event,) = events(report)
    assert event.verb == "report_save" and event.actor == users["owner_a"] and event.project == slot.project
    assert event.details["investment"] == [None, "1500.00"]
    assert event.details["funds"] == [{}, {"special_bond": ["100.00", "80.00"]}]


def test_resending_the_same_funds_is_a_no_op(slot, users):
    funds = {"special_bond": ("100", "80.0")}
    report = services.report_save(actor=users["owner_a"], report=slot, data={}, funds=funds)
    again = services.report_save(
        actor=users["owner_a"], report=report, data={}, funds={"special_bond": (Decimal("100.00"), 80)}
    )
    assert again.version == report.version == 2 and events(report).count() == 1
    # sending no funds at all keeps them; an empty mapping clears them
    services.report_save(actor=users["owner_a"], report=report, data={"progress": "x"})
    assert report.funds.count() == 1
    services.report_save(actor=users["owner_a"], report=report, data={}, funds={})
    assert not report.funds.exists()


def test_saving_nothing_new_is_a_no_op(slot, users):
    report = save(users["owner_a"], slot, progress="主体施工")
    again = save(users["owner_a"], report, progress="主体施工")
    assert again.version == report.version == 2
    assert events(report).count() == 1


def test_typing_errors_are_named_all_at_once_and_nothing_is_written(slot, users):
    with pytest.raises(ValidationError) as exc:
        save(
            users["owner_a"],
            slot,
            investment="一千",
            percent_complete="120",
            started_on="2026/13/40",
            stats_included="也许",
            progress="写了也不存",
        )
    assert {k: v[0] for k, v in exc.value.message_dict.items()} == {
        "investment": "本期完成投资：无法识别的金额“一千”。",
        "percent_complete": "工程完成比例应为数值，应在 0 到 100 之间。",
        "started_on": "开工日期应为日期（如 2026-10-15）。",
        "stats_included": "是否入统请填“是”或“否”。",
    }
    slot.refresh_from_db()
    assert (slot.status, slot.version, slot.progress) == (Status.PENDING, 1, "")
    assert not events(slot).exists()


@pytest.mark.parametrize(
    ("funds", "message"),
    [
        ({"gold": ("1", "1")}, "未知的资金来源“gold”。"),
        ({"special_bond": ("-1", "0")}, "地方政府专项债券的到位和支付金额不能为负数。"),
        ({"special_bond": ("一百", "0")}, "地方政府专项债券的到位和支付金额应为以万元计的数值。"),
        ({"fiscal": ("1", "Infinity")}, "省市县财政资金的到位和支付金额应为以万元计的数值。"),
        ({"fiscal": ("1",)}, "省市县财政资金的到位和支付金额应为以万元计的数值。"),
        ({"fiscal": ("1e13", "0")}, "省市县财政资金的到位和支付金额应为以万元计的数值。"),
    ],
)
def test_bad_funds_are_refused(slot, users, funds, message):
    with pytest.raises(ValidationError) as exc:
        services.report_save(actor=users["owner_a"], report=slot, data={"progress": "x"}, funds=funds)
    assert exc.value.message_dict == {"funds": [message]}
    slot.refresh_from_db()
    assert slot.status == Status.PENDING and not slot.funds.exists()


# --- derived totals --------------------------------------------------------------------------------


def test_totals_are_running_sums(october, listed, users):
    # January 1,500, February 2,000, March 500:
    #   year to date 1,500 → 3,500 → 4,000; since start the same plus 10,000 done before the
    #   platform: 11,500 → 13,500 → 14,000; later months without money carry the totals on
    a = listed["a"]
    Project.objects.filter(pk=a.pk).update(prior_investment=Decimal("10000"))
    for number, amount in ((1, "1500"), (2, "2000"), (3, "500")):
        save(users["owner_a"], month(a, number), investment=amount)
    got = totals(a)
    assert got[:4] == [
        ("2026年1月", Decimal("1500"), Decimal("11500")),
        ("2026年2月", Decimal("3500"), Decimal("13500")),
        ("2026年3月", Decimal("4000"), Decimal("14000")),
        ("2026年4月", Decimal("4000"), Decimal("14000")),
    ]
    assert got[-1] == ("2026年10月", Decimal("4000"), Decimal("14000"))


def test_year_to_date_restarts_in_january_while_since_start_continues(october, listed, users, monthly):
    # November 2025 3,000, December 2025 1,000, January 2026 500:
    #   year to date 3,000 → 4,000 → 500 (new year); since start 3,000 → 4,000 → 4,500
    a = listed["a"]
    for number in (11, 12):
        period = Period.objects.create(
            schedule=monthly,
            frequency=Frequency.MONTHLY,
            year=2025,
            number=number,
            label=f"2025年{number}月",
            starts_on=D(2025, number, 1),
            ends_on=D(2025, number, 30 if number == 11 else 31),
            due_on=D(2025, number, 25),
            late_after=D(2025, number, 25),
        )
        Report.objects.create(period=period, project=a, period_end=period.ends_on)
    save(users["owner_a"], month(a, 11, 2025), investment="3000")
    save(users["owner_a"], month(a, 12, 2025), investment="1000")
    save(users["owner_a"], month(a, 1), investment="500")
    assert totals(a)[:3] == [
        ("2025年11月", Decimal("3000"), Decimal("3000")),
        ("2025年12月", Decimal("4000"), Decimal("4000")),
        ("2026年1月", Decimal("500"), Decimal("4500")),
    ]


def test_a_report_without_money_still_carries_the_totals(monthly, listed, users):
    # 5,000 done before the platform; September 1,000 saved before October's slot existed:
    # October, saved with progress only, shows 1,000 this year and 6,000 since the start
    a = listed["a"]
    Project.objects.filter(pk=a.pk).update(prior_investment=Decimal("5000"))
    open_periods(D(2026, 9, 5))
    september = save(users["owner_a"], month(a, 9), investment="1000")
    assert (september.year_to_date, september.since_start) == (Decimal("1000"), Decimal("6000"))
    open_periods(D(2026, 10, 5))
    october = save(users["owner_a"], month(a, 10), progress="用地报批中")
    assert (october.year_to_date, october.since_start) == (Decimal("1000"), Decimal("6000"))
    october.refresh_from_db()
    assert (october.year_to_date, october.since_start) == (Decimal("1000"), Decimal("6000"))


def test_correcting_an_earlier_month_changes_the_later_totals(october, listed, users):
    a = listed["a"]
    for number, amount in ((1, "1500"), (2, "2000"), (3, "500")):
        save(users["owner_a"], month(a, number), investment=amount)
    # January 1,500 → 1,000: February 3,000, March 3,500
    save(users["owner_a"], month(a, 1), investment="1000")
    assert [t[1] for t in totals(a)[:3]] == [Decimal("1000"), Decimal("3000"), Decimal("3500")]
    assert [t[2] for t in totals(a)[:3]] == [Decimal("1000"), Decimal("3000"), Decimal("3500")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amounts=st.lists(st.integers(0, 4000), min_size=10, max_size=10),
    order=st.permutations(list(range(1, 11))),
)
def test_totals_do_not_depend_on_the_order_of_entry(october, listed, users, amounts, order):
    a = listed["a"]
    Report.objects.filter(project=a).update(investment=None, year_to_date=0, since_start=0, last_key="")
    for number in order:
        services.report_save(
            actor=users["owner_a"],
            report=month(a, number),
            data={"investment": str(amounts[number - 1]), "note": "按月填报"},
        )
    running = Decimal(0)
    for number, (_label, ytd, since) in enumerate(totals(a), start=1):
        running += amounts[number - 1]
        assert ytd == since == running
    assert all(x <= y for (_, x, _), (_, y, _) in zip(totals(a), totals(a)[1:], strict=False))


# --- retries and conflicts -------------------------------------------------------------------------


def test_same_key_retry_is_a_no_op(slot, users):
    first = services.report_save(
        actor=users["owner_a"],
        report=slot,
        data={"investment": "1500", "progress": "前期", "next_plan": "开工"},
        expected_version=1,
        key="k1",
    )
    # the resent form (same key, even with other values or the stale version) changes nothing
    retry = services.report_save(
        actor=users["owner_a"], report=slot, data={"investment": "999"}, expected_version=1, key="k1"
    )
    assert (retry.pk, retry.version, retry.investment) == (first.pk, 2, Decimal("1500.00"))
    assert events(slot).count() == 1
    submitted = services.report_submit(actor=users["owner_a"], report=retry, expected_version=2, key="k2")
    again = services.report_submit(actor=users["owner_a"], report=retry, expected_version=2, key="k2")
    assert submitted.version == again.version == 3
    assert events(slot, "report_submit").count() == 1
    assert Report.objects.filter(period=slot.period, project=slot.project).count() == 1


def test_stale_version_is_refused_with_a_clear_message(slot, users):
    users["owner_a"].full_name = "王填报"
    users["owner_a"].save()
    services.report_save(actor=users["owner_a"], report=slot, data={"investment": "1500"}, expected_version=1)
    with pytest.raises(ConflictError) as exc:
        services.report_save(
            actor=users["linchuan"], report=slot, data={"investment": "1800"}, expected_version=1, key="other"
        )
    assert exc.value.message == (
        "这份报表已被王填报修改（现为第 2 版，您编辑的是第 1 版）。您的内容未保存，请刷新后核对再填。"
    )
    slot.refresh_from_db()
    assert (slot.investment, slot.version) == (Decimal("1500.00"), 2)
    with pytest.raises(ConflictError):
        services.report_submit(actor=users["owner_a"], report=slot, expected_version=1)


# --- submit, return, approve ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "grace_until", "late"),
    [
        (D(2026, 10, 20), None, False),
        (D(2026, 10, 28), None, False),  # on the deadline itself
        (D(2026, 10, 29), None, True),
        (D(2026, 10, 30), D(2026, 10, 30), False),  # within the grace days
        (D(2026, 10, 31), D(2026, 10, 30), True),
    ],
)
def test_submit_records_time_and_lateness(monkeypatch, slot, users, started, today, grace_until, late):
    if grace_until:
        Period.objects.filter(pk=slot.period_id).update(late_after=grace_until)
    report = services.report_save(actor=users["owner_a"], report=slot, data=FILLED)
    set_today(monkeypatch, today)
    report = services.report_submit(actor=users["owner_a"], report=report)
    assert report.status == Status.SUBMITTED and report.submitted_at is not None
    assert report.is_late is late
    (event,) = events(report, "report_submit")
    assert event.details == {"investment": "800.00", "late": late}


def test_return_needs_a_reason_and_resubmission_keeps_the_first_time(monkeypatch, submitted, users):
    first_sent = submitted.submitted_at
    with pytest.raises(ValidationError) as exc:
        services.report_return(actor=users["linchuan"], report=submitted, reason="  ")
    assert exc.value.message_dict == {"reason": ["请填写退回原因，告诉填报人需要修改什么。"]}
    returned = services.report_return(actor=users["linchuan"], report=submitted, reason="请补充形象进度照片")
    assert (returned.status, returned.return_reason, returned.reviewed_by) == (
        Status.RETURNED,
        "请补充形象进度照片",
        users["linchuan"],
    )
    # the filler edits the returned report: it stays returned until sent again
    edited = save(users["owner_a"], returned, progress="主体施工，已补照片")
    assert edited.status == Status.RETURNED
    set_today(monkeypatch, D(2026, 11, 3))
    again = services.report_submit(actor=users["owner_a"], report=edited)
    assert again.status == Status.SUBMITTED
    # timeliness is judged on the first submission
    assert again.submitted_at == first_sent and again.is_late is False
    assert [e.verb for e in events(again).order_by("id")] == [
        "report_save",
        "report_submit",
        "report_return",
        "report_save",
        "report_resubmit",
    ]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DRAFT, "return"),
        (Status.DRAFT, "approve"),
        (Status.RETURNED, "approve"),
        (Status.APPROVED, "return"),
        (Status.SUBMITTED, "submit"),
        (Status.APPROVED, "submit"),
        (Status.SUBMITTED, "save"),
        (Status.APPROVED, "save"),
    ],
)
def test_transitions_out_of_order_are_refused(slot, users, status, action):
    Report.objects.filter(pk=slot.pk).update(status=status)
    calls = {
        "return": lambda: services.report_return(actor=users["linchuan"], report=slot, reason="x"),
        "approve": lambda: services.report_approve(actor=users["linchuan"], report=slot),
        "submit": lambda: services.report_submit(actor=users["owner_a"], report=slot),
        "save": lambda: save(users["owner_a"], slot, progress="x"),
    }
    with pytest.raises(ValidationError) as exc:
        calls[action]()
    assert "__all__" in exc.value.message_dict
    assert Report.objects.get(pk=slot.pk).status == status
    assert not events(slot).exists()


def test_approving_twice_is_harmless(submitted, users):
    services.report_approve(actor=users["linchuan"], report=submitted)
    again = services.report_approve(actor=users["linchuan"], report=submitted)
    assert again.status == Status.APPROVED
    assert events(submitted, "report_approve").count() == 1


def test_approval_moves_the_project_lifecycle(slot, users, listed):
    # a preparing project reports its start (8 Oct), main structure, completion (15 Oct) and
    # statistics inclusion (16 Oct) in one report
    project = listed["a"]
    report = services.report_save(
        actor=users["owner_a"],
        report=slot,
        data={
            **FILLED,
            "started_on": "2026-10-08",
            "structure_done_on": "2026-10-12",
            "completed_on": "2026-10-15",
            "stats_included": "是",
            "stats_date": "2026-10-16",
        },
    )
    report = services.report_submit(actor=users["owner_a"], report=report)
    project.refresh_from_db()
    assert (project.stage, project.actual_start_date, project.stats_included) == (
        Stage.PREPARING,
        None,
        False,
    )
    services.report_approve(actor=users["linchuan"], report=report)
    project.refresh_from_db()
    assert project.stage == Stage.COMPLETED
    assert (project.actual_start_date, project.main_structure_date, project.actual_completion_date) == (
        D(2026, 10, 8),
        D(2026, 10, 12),
        D(2026, 10, 15),
    )
    assert (project.stats_included, project.stats_included_date) == (True, D(2026, 10, 16))
    stage_changes = Event.objects.filter(project=project, verb="stage_change").order_by("id")
    assert [e.details["to"] for e in stage_changes] == ["construction", "completed"]
    (approve,) = events(report, "report_approve")
    assert approve.details["applied"] == [
        "started",
        "completed",
        "main_structure_date",
        "stats_included",
        "stats_included_date",
    ]


def test_approval_of_a_start_only(slot, users, listed):
    report = services.report_save(
        actor=users["owner_a"], report=slot, data={**FILLED, "started_on": "2026-10-09"}
    )
    report = services.report_submit(actor=users["owner_a"], report=report)
    services.report_approve(actor=users["linchuan"], report=report)
    listed["a"].refresh_from_db()
    assert (listed["a"].stage, listed["a"].actual_start_date) == (Stage.CONSTRUCTION, D(2026, 10, 9))


def test_operating_after_completion(slot, users, listed):
    Project.objects.filter(pk=listed["a"].pk).update(
        stage=Stage.COMPLETED, actual_start_date=D(2024, 1, 1), actual_completion_date=D(2026, 10, 2)
    )
    report = services.report_save(
        actor=users["owner_a"], report=slot, data={**FILLED, "operating_on": "2026-10-18"}
    )
    services.report_approve(
        actor=users["linchuan"], report=services.report_submit(actor=users["owner_a"], report=report)
    )
    listed["a"].refresh_from_db()
    assert listed["a"].stage == Stage.OPERATING


# --- permissions -----------------------------------------------------------------------------------

OUTSIDERS_A = ["qingshan", "leader", "auditor", "jtj"]


@pytest.mark.parametrize("user", OUTSIDERS_A)
def test_outsiders_can_do_nothing_with_a_report(submitted, slot, users, user):
    actor = users[user]
    calls = [
        lambda: save(actor, slot, progress="x"),
        lambda: services.report_submit(actor=actor, report=slot),
        lambda: services.report_return(actor=actor, report=submitted, reason="x"),
        lambda: services.report_approve(actor=actor, report=submitted),
        lambda: services.report_photo_add(actor=actor, report=slot, name="a.png", content=png()),
        lambda: services.period_lock(actor=actor, period=slot.period),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_owner_fills_but_does_not_review(submitted, users):
    with pytest.raises(PermissionDenied) as exc:
        services.report_approve(actor=users["owner_a"], report=submitted)
    assert str(exc.value) == "您无权审核该项目的调度表。"
    with pytest.raises(PermissionDenied):
        services.report_return(actor=users["owner_a"], report=submitted, reason="自己退回")


@pytest.mark.parametrize("reviewer", ["linchuan", "admin"])
def test_county_and_city_review_project_a(submitted, users, reviewer):
    assert services.report_approve(actor=users[reviewer], report=submitted).status == Status.APPROVED


def test_the_department_reviews_the_projects_of_its_industry(october, listed, users):
    b = month(listed["b"], 10)
    b = services.report_save(actor=users["jtj"], report=b, data={"progress": "征地拆迁", "next_plan": "开工"})
    b = services.report_submit(actor=users["jtj"], report=b)
    with pytest.raises(PermissionDenied):
        services.report_approve(actor=users["linchuan"], report=b)
    assert services.report_approve(actor=users["jtj"], report=b).status == Status.APPROVED


def test_county_fills_on_behalf_of_its_project_unit(slot, users):
    report = save(users["linchuan"], slot, progress="代填")
    assert report.filled_by == users["linchuan"]


# --- lock -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["linchuan", "jtj", "owner_a", "leader", "auditor"])
def test_only_the_city_locks(october, users, user):
    with pytest.raises(PermissionDenied) as exc:
        services.period_lock(actor=users[user], period=october)
    assert str(exc.value) == "只有市级管理员可以锁定调度期次。"
    october.refresh_from_db()
    assert not october.is_locked


def test_lock_freezes_sent_reports_and_leaves_unsent_ones_missing(submitted, october, listed, users):
    b = month(listed["b"], 10)
    save(users["jtj"], b, progress="草稿")
    counts = services.period_lock(actor=users["admin"], period=october)
    assert counts == {"locked": 1, "missing": 1, "milestones_applied": 0}
    submitted.refresh_from_db()
    b.refresh_from_db()
    assert (submitted.status, b.status) == (Status.LOCKED, Status.DRAFT)
    october.refresh_from_db()
    assert october.is_locked and october.locked_by == users["admin"]
    (event,) = Event.objects.filter(verb="period_lock")
    assert event.details == counts and event.target_id == str(october.pk)
    # nothing changes any more, except through a correction
    for call in (
        lambda: save(users["jtj"], b, progress="再改"),
        lambda: services.report_submit(actor=users["jtj"], report=b),
        lambda: save(users["owner_a"], submitted, progress="再改"),
    ):
        with pytest.raises(ValidationError) as exc:
            call()
        assert exc.value.message_dict["__all__"][0].startswith("2026年10月已锁定")
    b.refresh_from_db()
    assert (b.status, b.progress) == (Status.DRAFT, "草稿")
    with pytest.raises(ValidationError) as exc:
        services.report_photo_add(actor=users["jtj"], report=b, name="a.png", content=png())
    assert exc.value.message_dict == {"photo": ["报表已报送或已锁定，不能再上传照片。"]}
    with pytest.raises(ValidationError) as exc:
        services.period_lock(actor=users["admin"], period=october)
    assert "已于" in exc.value.message_dict["__all__"][0] and "锁定" in exc.value.message_dict["__all__"][0]


def test_lock_also_freezes_approved_reports(submitted, october, users):
    services.report_approve(actor=users["linchuan"], report=submitted)
    assert services.period_lock(actor=users["admin"], period=october)["locked"] == 1
    submitted.refresh_from_db()
    assert submitted.status == Status.LOCKED


# --- corrections ------------------------------------------------------------------------------------


@pytest.fixture
def locked(october, listed, users, started):
    """September 1,000 and October 800 (the `FILLED` figure) sent and locked; November's totals
    follow. Returns the locked October report."""
    september = month(listed["a"], 9)
    services.report_save(actor=users["owner_a"], report=september, data={**FILLED, "investment": "1000"})
    services.report_submit(actor=users["owner_a"], report=september)
    october_report = services.report_save(actor=users["owner_a"], report=month(listed["a"], 10), data=FILLED)
    services.report_submit(actor=users["owner_a"], report=october_report)
    services.period_lock(actor=users["admin"], period=october)
    return Report.objects.get(pk=october_report.pk)


def test_correction_approved_replaces_values_and_keeps_the_original(monkeypatch, locked, users, listed):
    # the later November report (a draft) must follow the corrected October total
    november = Period.objects.create(
        schedule=locked.period.schedule,
        frequency=Frequency.MONTHLY,
        year=2026,
        number=11,
        label="2026年11月",
        starts_on=D(2026, 11, 1),
        ends_on=D(2026, 11, 30),
        due_on=D(2026, 11, 30),
        late_after=D(2026, 11, 30),
    )
    nov = Report.objects.create(period=november, project=listed["a"], period_end=november.ends_on)
    set_today(monkeypatch, D(2026, 11, 5))
    save(users["owner_a"], nov, investment="700")
    nov.refresh_from_db()
    # 1,000 + 800 + 700
    assert nov.year_to_date == Decimal("2500")
    correction = services.correction_request(
        actor=users["owner_a"],
        report=locked,
        data={"investment": "900", "progress": "主体施工（更正）"},
        reason="统计口径核对后更正",
    )
    assert correction.changes == {
        "investment": ["800.00", "900.00"],
        "progress": ["主体施工", "主体施工（更正）"],
    }
    locked.refresh_from_db()
    assert locked.investment == Decimal("800.00")  # nothing changes before the city decides
    services.correction_decide(actor=users["admin"], correction=correction, approve=True, note="同意")
    locked.refresh_from_db()
    nov.refresh_from_db()
    assert (locked.investment, locked.progress, locked.status) == (
        Decimal("900"),
        "主体施工（更正）",
        Status.LOCKED,
    )
    # October 1,000 + 900 = 1,900; November 1,900 + 700 = 2,600
    assert (locked.year_to_date, nov.year_to_date, nov.since_start) == (
        Decimal("1900"),
        Decimal("2600"),
        Decimal("2600"),
    )
    correction.refresh_from_db()
    assert (correction.state, correction.decided_by, correction.decision_note) == (
        Correction.State.APPROVED,
        users["admin"],
        "同意",
    )
    verbs = list(events(locked).order_by("id").values_list("verb", "details"))
    assert verbs[-2][0] == "correction_request" and verbs[-2][1]["investment"] == ["800.00", "900.00"]
    assert verbs[-1][0] == "correction_approve" and verbs[-1][1]["investment"] == ["800.00", "900.00"]


def test_correction_of_statistics_status_moves_the_project(locked, users, listed):
    correction = services.correction_request(
        actor=users["linchuan"],
        report=locked,
        data={"stats_included": True, "stats_date": "2026-10-12"},
        reason="统计局已确认入统",
    )
    services.correction_decide(actor=users["admin"], correction=correction, approve=True)
    listed["a"].refresh_from_db()
    assert (listed["a"].stats_included, listed["a"].stats_included_date) == (True, D(2026, 10, 12))


def test_correction_rejected_needs_a_reason(locked, users):
    correction = services.correction_request(
        actor=users["owner_a"], report=locked, data={"investment": "900"}, reason="更正"
    )
    with pytest.raises(ValidationError) as exc:
        services.correction_decide(actor=users["admin"], correction=correction, approve=False)
    assert exc.value.message_dict == {"note": ["驳回更正申请须填写理由。"]}
    services.correction_decide(actor=users["admin"], correction=correction, approve=False, note="无依据")
    locked.refresh_from_db()
    correction.refresh_from_db()
    assert locked.investment == Decimal("800.00")
    assert (correction.state, correction.decision_note) == (Correction.State.REJECTED, "无依据")
    assert events(locked, "correction_reject").get().details == {"note": "无依据"}
    with pytest.raises(ValidationError) as exc:
        services.correction_decide(actor=users["admin"], correction=correction, approve=True)
    assert exc.value.message_dict == {"__all__": ["该更正申请已驳回。"]}


def test_one_pending_correction_per_report(locked, users):
    services.correction_request(
        actor=users["owner_a"], report=locked, data={"investment": "900"}, reason="更正"
    )
    with pytest.raises(ValidationError) as exc:
        services.correction_request(
            actor=users["owner_a"], report=locked, data={"investment": "950"}, reason="再更正"
        )
    assert exc.value.message_dict == {"__all__": ["该报表已有一份待审批的更正申请，请等待市级审批。"]}
    assert Correction.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "reason", "field", "message"),
    [
        ({"investment": "900"}, " ", "reason", "请填写更正理由。"),
        ({"investment": "800"}, "更正", "__all__", "更正内容与原值相同。"),
        ({"investment": "60000"}, "更正", "investment", None),
        ({"percent_complete": "30"}, "更正", "percent_complete", "工程完成比例不能低于上期（40%）。"),
    ],
)
def test_bad_correction_requests(locked, users, data, reason, field, message):
    with pytest.raises(ValidationError) as exc:
        services.correction_request(actor=users["owner_a"], report=locked, data=data, reason=reason)
    assert field in exc.value.message_dict
    if message:
        assert exc.value.message_dict[field] == [message]
    assert not Correction.objects.exists()


def test_corrections_only_for_locked_reports_and_decided_by_the_city(locked, users):
    # September was sent but its period is still open: the reviewer returns it instead
    with pytest.raises(ValidationError) as exc:
        services.correction_request(
            actor=users["owner_a"], report=month(locked.project, 9), data={"investment": "1"}, reason="x"
        )
    assert "只有已锁定的报表需要走更正申请" in exc.value.message_dict["__all__"][0]
    with pytest.raises(PermissionDenied):
        services.correction_request(
            actor=users["qingshan"], report=locked, data={"investment": "1"}, reason="x"
        )
    correction = services.correction_request(
        actor=users["owner_a"], report=locked, data={"investment": "900"}, reason="更正"
    )
    for user in ("owner_a", "linchuan", "jtj", "leader", "auditor"):
        with pytest.raises(PermissionDenied):
            services.correction_decide(actor=users[user], correction=correction, approve=True)


# --- photos -----------------------------------------------------------------------------------------


def png(shade: int = 0x80) -> bytes:
    """A valid 1×1 grey PNG (`shade` makes different photos)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes([0, shade])))
        + chunk(b"IEND", b"")
    )


def test_photos_are_stored_as_project_attachments(slot, users):
    photo = services.report_photo_add(actor=users["owner_a"], report=slot, name="工地.png", content=png())
    assert photo.report == slot and photo.attachment.project == slot.project
    assert (photo.attachment.kind, photo.attachment.description) == ("photo", "2026年10月形象进度")
    assert Event.objects.filter(verb="attachment_add", project=slot.project).count() == 1


def test_the_same_photo_sent_twice_is_kept_once(slot, users):
    first = services.report_photo_add(actor=users["owner_a"], report=slot, name="a.png", content=png())
    again = services.report_photo_add(actor=users["owner_a"], report=slot, name="a(1).png", content=png())
    assert again == first and slot.photos.count() == 1


def test_at_most_nine_photos(slot, users):
    for n in range(services.MAX_PHOTOS):
        services.report_photo_add(actor=users["owner_a"], report=slot, name=f"{n}.png", content=png(n))
    with pytest.raises(ValidationError) as exc:
        services.report_photo_add(actor=users["owner_a"], report=slot, name="10.png", content=png(99))
    assert exc.value.message_dict == {"photo": ["每期最多上传 9 张形象进度照片。"]}
    assert slot.photos.count() == 9


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("假照片.jpg", b"not an image", "文件内容与扩展名 .jpg 不符，请上传真实的JPG文件。"),
        ("说明.pdf", b"%PDF-1.4", "形象进度照片须为 JPG 或 PNG 图片。"),
    ],
)
def test_photos_must_be_images(slot, users, name, content, message):
    with pytest.raises(ValidationError) as exc:
        services.report_photo_add(actor=users["owner_a"], report=slot, name=name, content=content)
    assert exc.value.message_dict == {"file": [message]}
    assert not slot.photos.exists()


def test_no_photos_once_sent(submitted, users):
    with pytest.raises(ValidationError) as exc:
        services.report_photo_add(actor=users["owner_a"], report=submitted, name="a.png", content=png())
    assert exc.value.message_dict == {"photo": ["报表已报送或已锁定，不能再上传照片。"]}


# --- one event row per state change ------------------------------------------------------------------


def test_one_event_row_per_state_change(slot, users, started):
    steps = [
        ("report_save", lambda r: save(users["owner_a"], r, **FILLED)),
        ("report_submit", lambda r: services.report_submit(actor=users["owner_a"], report=r)),
        ("report_return", lambda r: services.report_return(actor=users["linchuan"], report=r, reason="补充")),
        ("report_save", lambda r: save(users["owner_a"], r, progress="已补充")),
        ("report_resubmit", lambda r: services.report_submit(actor=users["owner_a"], report=r)),
        ("report_approve", lambda r: services.report_approve(actor=users["linchuan"], report=r)),
    ]
    report = slot
    for n, (verb, step) in enumerate(steps, start=1):
        before = report.version
        report = step(report)
        assert events(report).count() == n
        assert events(report).order_by("-id").first().verb == verb
        assert report.version == before + 1


# --- YearDone (the counted money the figures read) --------------------------------------------------


def _year_done_rows():
    from majorprojects.reporting.models import YearDone

    return sorted(
        (row["project_id"], row["year"], *(row[f"m{m}"] for m in range(1, 13)))
        for row in YearDone.objects.values()
    )


def test_year_done_follows_every_change_of_what_counts(october, listed, users):
    """Submit adds, return removes, resubmit adds again, a correction changes the month; after each
    step the kept rows equal a rebuild from the reports."""
    from majorprojects.reporting.totals import year_done_rebuild

    def consistent():
        kept = _year_done_rows()
        year_done_rebuild()
        assert _year_done_rows() == kept
        return kept

    a = Report.objects.get(period=october, project=listed["a"])
    september = Report.objects.get(period__number=9, period__schedule=october.schedule, project=listed["a"])
    fields = {"progress": "主体施工", "percent_complete": "40", "next_plan": "继续"}
    services.report_save_submit(
        actor=users["owner_a"], report=september, data={"investment": "700", **fields}
    )
    a = services.report_save_submit(actor=users["owner_a"], report=a, data={"investment": "1500", **fields})
    rows = consistent()
    assert rows[0][1:] == (2026, *[Decimal(0)] * 8, Decimal("700"), Decimal("1500"), Decimal(0), Decimal(0))
    a = services.report_return(actor=users["linchuan"], report=a, reason="请核实")
    assert consistent()[0][11:12] == (Decimal(0),)  # October no longer counts
    a = services.report_save_submit(actor=users["owner_a"], report=a, data={"investment": "1200"})
    assert consistent()[0][11:12] == (Decimal("1200"),)
    services.report_approve(actor=users["linchuan"], report=a)
    services.period_lock(actor=users["admin"], period=october)
    a.refresh_from_db()
    correction = services.correction_request(
        actor=users["owner_a"], report=a, data={"investment": "1250"}, reason="监理复核"
    )
    services.correction_decide(actor=users["admin"], correction=correction, approve=True)
    assert consistent()[0][11:12] == (Decimal("1250"),)
