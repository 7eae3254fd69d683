"""The demo city's dispatch history: 24 complete months ending with the current one, shaped like a
real city's reporting, and consistent with every rule of the reporting app.

A smaller city (200 projects) is built once for the module and deleted afterwards; tests that
rebuild do so inside their own transaction, which is rolled back."""

import io
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F, Q, Sum
from django.utils import timezone

from majorprojects.accounts.models import User
from majorprojects.accounts.scope import can_fill_report, can_review_report
from majorprojects.audit.models import Event
from majorprojects.core.workdays import is_workday
from majorprojects.demo import dispatch
from majorprojects.demo.builder import build_demo, clear_demo
from majorprojects.projects.models import AnnualListing, Project, ProjectFunding, Stage
from majorprojects.reporting import totals, validation
from majorprojects.reporting.models import (
    COUNTED,
    Correction,
    Frequency,
    Period,
    Report,
    ReportFunds,
    Schedule,
    Status,
    YearDone,
)
from majorprojects.reporting.periods import matching_projects, open_periods, span_for
from majorprojects.reporting.services import recompute_totals

pytestmark = pytest.mark.django_db
DEFAULTS = [s["name"] for s in dispatch.DEFAULT_SCHEDULES]


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        counts = build_demo(projects=200)
        yield counts
        clear_demo()
        assert not Period.objects.filter(schedule__name__in=DEFAULTS).exists()
        assert not Report.objects.exists()
        month = timezone.localdate().replace(day=1)
        assert set(Schedule.objects.filter(name__in=DEFAULTS).values_list("starts_on", flat=True)) == {month}


def months_back(months: int) -> date:
    first = timezone.localdate().replace(day=1)
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def monthly_periods():
    return list(Period.objects.filter(frequency=Frequency.MONTHLY).order_by("starts_on"))


def review_period() -> Period:
    return Period.objects.get(frequency=Frequency.MONTHLY, starts_on=months_back(1))


def current_period() -> Period:
    return Period.objects.get(frequency=Frequency.MONTHLY, starts_on=months_back(0))


def sent_monthly():
    return Report.objects.filter(period__frequency=Frequency.MONTHLY, submitted_at__isnull=False)


# --- periods ------------------------------------------------------------------------------


def test_history_spans_24_complete_months_and_the_current_one(demo):
    months = monthly_periods()
    assert len(months) == 25
    assert months[0].starts_on == months_back(24)
    assert months[-1].starts_on == months_back(0) and months[-1].ends_on >= timezone.localdate()
    assert all(p.is_locked for p in months[:-2])
    assert not months[-2].is_locked and not months[-1].is_locked
    assert all(p.reports.exists() for p in months)
    made = demo["dispatch"]
    assert (made["months"], made["first"], made["last"]) == (24, months[0].label, months[-2].label)
    assert made["current_label"] == months[-1].label
    quarters = Period.objects.filter(frequency=Frequency.QUARTERLY).order_by("starts_on")
    assert quarters.first().starts_on <= months_back(24) <= quarters.first().ends_on
    assert quarters.last().ends_on >= timezone.localdate() >= quarters.last().starts_on
    assert Period.objects.filter(frequency=Frequency.WEEKLY).count() == dispatch.WEEKS + 1
    starts = dict(Schedule.objects.filter(name__in=DEFAULTS).values_list("frequency", "starts_on"))
    assert starts[Frequency.MONTHLY] == starts[Frequency.QUARTERLY] == months_back(24)


def test_deadlines_follow_the_schedule_and_the_statutory_calendar():
    for period in Period.objects.select_related("schedule"):
        span = span_for(period.schedule, period.starts_on)
        assert (period.ends_on, period.due_on, period.late_after) == (
            span.ends_on,
            span.due_on,
            span.late_after,
        )
        assert is_workday(period.due_on), period
    december = Period.objects.filter(frequency=Frequency.MONTHLY, number=12).first()
    assert december.due_on >= date(december.year, 12, 25)
    assert december.due_on < date(december.year, 12, 28) or not is_workday(date(december.year, 12, 25))


def test_closed_periods_were_locked_by_the_city_admin_after_their_deadline():
    admin = User.objects.get(username="admin")
    locked = Period.objects.filter(locked_at__isnull=False)
    assert locked.count() >= 23 + 7 + 6
    for period in locked:
        assert period.locked_by == admin
        assert timezone.localtime(period.locked_at).date() > period.late_after
        assert period.locked_at <= timezone.now()
        statuses = set(period.reports.values_list("status", flat=True))
        assert statuses <= {Status.LOCKED, Status.PENDING, Status.DRAFT}, period
        assert not period.reports.filter(submitted_at__gt=period.locked_at).exists()
    assert Event.objects.filter(verb="period_lock").count() == locked.count()


# --- money --------------------------------------------------------------------------------


def test_investment_follows_the_seasons():
    year = timezone.localdate().year - 1
    done = defaultdict(Decimal)
    rows = Report.objects.filter(
        period__frequency=Frequency.MONTHLY, period__year=year, status__in=COUNTED
    ).values_list("period__number", "investment")
    for month, amount in rows:
        done[month] += amount or 0
    total = sum(done.values())
    share = {m: done[m] / total for m in range(1, 13)}
    early = share[1] + share[2]
    second = share[4] + share[5] + share[6]
    fourth = share[10] + share[11] + share[12]
    assert early < second / 2 and early < fourth / 2
    assert share[12] == max(share.values())  # the December rush
    assert share[6] > share[7] and share[6] > share[3]  # the second-quarter peak


def test_year_totals_land_near_the_annual_plan():
    year = timezone.localdate().year - 1
    ratios = []
    listings = AnnualListing.objects.filter(
        year=year, list_kind="construction", planned_investment__gt=0, project__is_package=False
    ).select_related("project")
    for listing in listings:
        p = listing.project
        if not p.actual_start_date or p.actual_start_date.year >= year:
            continue  # a new start does part of a year
        if p.actual_completion_date and p.actual_completion_date.year <= year:
            continue
        done = Report.objects.filter(project=p, period__year=year, period__frequency=Frequency.MONTHLY)
        ratios.append(float((done.aggregate(s=Sum("investment"))["s"] or 0) / listing.planned_investment))
    assert len(ratios) >= 10
    assert 0.7 <= statistics.median(ratios) <= 1.0
    assert max(ratios) - min(ratios) >= 0.3
    assert sum(0.7 <= r <= 0.95 for r in ratios) >= len(ratios) / 4
    city_plan = AnnualListing.objects.filter(year=year, list_kind="construction", project__is_package=False)
    plan = city_plan.aggregate(s=Sum("planned_investment"))["s"]
    done = Report.objects.filter(period__frequency=Frequency.MONTHLY, period__year=year, status__in=COUNTED)
    assert 0.6 <= done.aggregate(s=Sum("investment"))["s"] / plan <= 1.05


def test_totals_are_what_recompute_totals_derives():
    before = dict(Report.objects.values_list("pk", "year_to_date"))
    before_start = dict(Report.objects.values_list("pk", "since_start"))
    for pk in set(Report.objects.values_list("project_id", flat=True)):
        recompute_totals(pk)
    assert dict(Report.objects.values_list("pk", "year_to_date")) == before
    assert dict(Report.objects.values_list("pk", "since_start")) == before_start


def test_year_done_holds_the_counted_money_of_the_reports():
    before = sorted(YearDone.objects.values_list("project_id", "year", *totals.MONTHS))
    assert before
    totals.year_done_rebuild()
    assert sorted(YearDone.objects.values_list("project_id", "year", *totals.MONTHS)) == before


def test_totals_never_exceed_the_total_investment():
    assert Report.objects.exists()
    assert not Report.objects.filter(since_start__gt=F("project__total_investment")).exists()
    assert not Report.objects.filter(year_to_date__gt=F("since_start")).exists()
    assert not Report.objects.filter(investment__lt=0).exists()


def test_projects_started_before_the_window_carry_what_they_did_before():
    start = months_back(24)
    reporting = Project.objects.filter(reports__period__frequency=Frequency.MONTHLY).distinct()
    earlier = reporting.filter(actual_start_date__lt=start)
    assert earlier.exists()
    assert not earlier.filter(prior_investment=0).exists()
    assert not earlier.filter(prior_investment__gt=F("total_investment")).exists()
    assert (
        not reporting.filter(Q(actual_start_date__gte=start) | Q(actual_start_date=None))
        .exclude(prior_investment=0)
        .exists()
    )
    for package in Project.objects.filter(is_package=True):
        children = package.children.aggregate(s=Sum("prior_investment"))["s"]
        assert package.prior_investment == children


def test_a_report_never_sent_is_caught_up_by_the_next_one():
    caught_up = Report.objects.filter(note=dispatch.NOTE_CATCH_UP)
    assert caught_up.exists()
    for report in caught_up[:20]:
        earlier = Report.objects.filter(
            project=report.project,
            period__frequency=report.period.frequency,
            period_end__lt=report.period_end,
        ).order_by("-period_end")
        assert earlier.first().investment is None


# --- statuses -----------------------------------------------------------------------------


def test_some_closed_month_reports_were_late_and_some_never_sent():
    closed = Report.objects.filter(period__frequency=Frequency.MONTHLY, period__locked_at__isnull=False)
    count = closed.count()
    late = closed.filter(is_late=True)
    missing = closed.filter(submitted_at__isnull=True)
    assert 0.02 * count <= late.count() <= 0.09 * count
    assert 0.005 * count <= missing.count() <= 0.05 * count
    for report in late.select_related("period"):
        assert timezone.localtime(report.submitted_at).date() > report.period.late_after
    for report in closed.filter(is_late=False, submitted_at__isnull=False).select_related("period")[:300]:
        sent = timezone.localtime(report.submitted_at).date()
        assert report.period.starts_on <= sent <= report.period.late_after
    assert set(missing.values_list("status", flat=True)) <= {Status.PENDING, Status.DRAFT}
    assert not missing.exclude(investment=None).exists()


def test_some_reports_were_returned_then_resent():
    returned = Event.objects.filter(verb="report_return")
    resent = Event.objects.filter(verb="report_resubmit")
    assert resent.exists() and returned.count() > resent.count()
    for event in resent:
        report = Report.objects.get(pk=event.target_id)
        assert report.status == Status.LOCKED and report.return_reason == ""
        trail = list(Event.objects.filter(target_type="report", target_id=event.target_id).order_by("at"))
        assert [e.verb for e in trail] == [
            "report_submit",
            "report_return",
            "report_resubmit",
            "report_approve",
        ]
        assert trail[1].details["reason"]
        assert trail[-1].at == report.reviewed_at


def test_the_last_complete_month_is_under_review():
    period = review_period()
    statuses = Counter(period.reports.values_list("status", flat=True))
    assert statuses[Status.APPROVED] > statuses[Status.SUBMITTED] > statuses[Status.RETURNED] >= 2
    assert statuses[Status.PENDING] + statuses[Status.DRAFT] >= 2
    assert not statuses[Status.LOCKED]
    for report in period.reports.filter(status=Status.RETURNED):
        assert report.return_reason in dispatch.RETURN_REASONS
        assert report.reviewed_at > report.submitted_at
    for report in period.reports.filter(status=Status.SUBMITTED):
        assert report.reviewed_by is None
        assert report.submitted_at <= timezone.now()


def test_fillers_and_reviewers_are_accounts_allowed_to_do_so():
    reports = Report.objects.filter(reviewed_by__isnull=False).select_related("reviewed_by", "filled_by")
    for report in reports.order_by("?")[:60]:
        assert can_review_report(report.reviewed_by, report), report
        assert can_fill_report(report.filled_by, report), report
    owner = User.objects.get(username="owner")
    assert Report.objects.filter(filled_by=owner).exists()


def test_the_current_month_is_open_with_slots():
    today = timezone.localdate()
    period = current_period()
    assert not period.is_locked
    wanted = set(matching_projects(period.schedule, period).values_list("pk", flat=True))
    assert set(period.reports.values_list("project_id", flat=True)) == wanted
    statuses = Counter(period.reports.values_list("status", flat=True))
    if today <= period.due_on - timedelta(days=3):
        assert statuses[Status.PENDING] > sum(statuses.values()) / 2
    assert not period.reports.filter(submitted_at__gt=timezone.now()).exists()
    assert not period.reports.filter(status__in=(Status.LOCKED,)).exists()
    assert not Report.objects.filter(period__starts_on__gt=today).exists()


def test_rerunning_open_periods_changes_nothing():
    results = open_periods(timezone.localdate())
    assert results
    assert not [r for r in results if r["created"] or r["added"] or r["removed"]]


# --- lifecycle ----------------------------------------------------------------------------


def test_projects_start_and_complete_over_the_window():
    window = months_back(24)
    started = Project.objects.filter(actual_start_date__gte=window, is_package=False)
    completed = Project.objects.filter(actual_completion_date__gte=window, is_package=False)
    assert len({(p.actual_start_date.year, p.actual_start_date.month) for p in started}) >= 10
    assert len({(p.actual_completion_date.year, p.actual_completion_date.month) for p in completed}) >= 5
    for project in started:
        report = Report.objects.select_related("period").get(project=project, started_on__isnull=False)
        assert report.started_on == project.actual_start_date
        assert report.period.frequency == Frequency.MONTHLY
        assert report.period.starts_on <= report.started_on <= report.period.ends_on
        assert report.submitted_at and report.status in (Status.LOCKED, Status.APPROVED)
    for project in completed:
        report = Report.objects.select_related("period").get(project=project, completed_on__isnull=False)
        assert report.completed_on == project.actual_completion_date
        assert report.period.starts_on <= report.completed_on <= report.period.ends_on
        assert report.percent_complete == 100
        assert not Report.objects.filter(project=project, period__starts_on__gt=report.completed_on).exists()


def test_this_years_planned_new_starts_start_after_the_first_quarter():
    today = timezone.localdate()
    if today.month < 6:
        pytest.skip("the builder's own starts cover January–March; later ones come after May")
    later = Project.objects.filter(actual_start_date__gte=date(today.year, 4, 1))
    assert later.exists()
    for project in later:
        listing = project.listings.get(year=today.year)
        assert listing.list_kind == "construction" and listing.is_new_start
        assert project.stage in (Stage.CONSTRUCTION, Stage.COMPLETED)


def test_lifecycle_dates_stay_consistent_and_in_the_past():
    cutoff = months_back(0) - timedelta(days=1)
    for p in Project.objects.all():
        if p.stage == Stage.CONSTRUCTION:
            assert p.actual_start_date and not p.actual_completion_date, p.name
        elif p.stage in (Stage.COMPLETED, Stage.OPERATING):
            assert p.actual_start_date < p.actual_completion_date <= cutoff, p.name
        else:
            assert not p.actual_start_date and not p.actual_completion_date, p.name
        if p.actual_start_date:
            assert p.actual_start_date <= cutoff
        if p.stats_included:
            assert p.actual_start_date <= p.stats_included_date <= cutoff
        if p.main_structure_date:
            assert p.actual_start_date <= p.main_structure_date <= (p.actual_completion_date or cutoff)
    plans = AnnualListing.objects.values("project").annotate(s=Sum("planned_investment"))
    totals = dict(Project.objects.values_list("pk", "total_investment"))
    assert all(row["s"] <= totals[row["project"]] for row in plans)


def test_started_projects_not_yet_counted_report_weekly():
    pending = Project.objects.filter(stage=Stage.CONSTRUCTION, stats_included=False, is_package=False)
    assert pending.exists()
    assert Project.objects.filter(stage=Stage.CONSTRUCTION, stats_included=True).count() > pending.count()
    week = Period.objects.filter(frequency=Frequency.WEEKLY).order_by("-starts_on").first()
    assert set(week.reports.values_list("project_id", flat=True)) == set(pending.values_list("pk", flat=True))
    weekly = Report.objects.filter(period__frequency=Frequency.WEEKLY)
    assert not weekly.exclude(investment=None).exists()
    counted = Report.objects.filter(stats_date__isnull=False).select_related("project")
    assert counted.exists()
    for report in counted:
        assert report.stats_included and report.stats_date == report.project.stats_included_date
    monthly = Report.objects.filter(period__frequency=Frequency.MONTHLY, stats_included=True)
    assert not monthly.filter(project__stats_included=False).exists()


def test_percent_complete_only_rises():
    last: dict[int, Decimal] = {}
    rows = Report.objects.exclude(percent_complete=None).order_by("project_id", "period_end", "id")
    for project, percent in rows.values_list("project_id", "percent_complete"):
        assert percent >= last.get(project, 0)
        last[project] = percent
    assert max(last.values()) == 100


def test_sent_reports_pass_the_reporting_validation():
    today = timezone.localdate()
    sent = Report.objects.filter(submitted_at__isnull=False).select_related("period__schedule", "project")
    for report in sent.order_by("?")[:300]:
        errors = validation.check_values(report, today=today)
        assert errors == {}, report
        assert validation.check_complete(report) == {}, report
    noted = sent.exclude(note="").exclude(note=dispatch.NOTE_CATCH_UP)
    assert noted.exists()  # big months explain themselves
    for report in noted[:50]:
        report.note = ""
        assert "note" in validation.check_values(report, today=today), report


# --- texts, funds, corrections ------------------------------------------------------------


def test_texts_are_varied_realistic_chinese():
    sent = sent_monthly()
    progress = list(sent.values_list("progress", flat=True))
    assert all(progress) and len(set(progress)) > len(progress) / 3
    text = "".join(Report.objects.filter(submitted_at__isnull=False).values_list("progress", flat=True))
    for word in ("主体结构", "路基", "设备", "开工", "竣工验收", "可行性研究报告", "施工许可"):
        assert word in text, word
    assert not sent.filter(next_plan="").exists()
    problems = sent.exclude(problems="")
    assert 0.02 * sent.count() < problems.count() < 0.3 * sent.count()
    assert {"征收", "资金", "用地"} <= {
        w for w in ("征收", "资金", "用地") if problems.filter(problems__contains=w)
    }
    assert not re.search(r"[{}]", text + "".join(sent.values_list("next_plan", flat=True)))


def test_funds_paid_never_run_ahead_of_what_arrived():
    rows = ReportFunds.objects.order_by("report__period_end", "report_id").values_list(
        "report__project_id", "source", "arrived", "paid"
    )
    assert rows.exists()
    running = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for project, source, arrived, paid in rows:
        running[project, source][0] += arrived
        running[project, source][1] += paid
        assert running[project, source][1] <= running[project, source][0]
    funding = {(f.project_id, f.source): f.amount for f in ProjectFunding.objects.all()}
    for key, (arrived, _paid) in running.items():
        assert arrived <= funding[key]
    sources = {source for _, source in running}
    assert {"special_bond", "bank_loan"} <= sources
    assert not ReportFunds.objects.exclude(report__investment__gt=0).exists()


def test_corrections_one_waiting_one_approved_one_rejected():
    corrections = {c.state: c for c in Correction.objects.select_related("report__period", "requested_by")}
    assert set(corrections) == {
        Correction.State.PENDING,
        Correction.State.APPROVED,
        Correction.State.REJECTED,
    }
    for state, correction in corrections.items():
        report = correction.report
        assert report.status == Status.LOCKED
        assert correction.requested_at > report.period.locked_at
        assert can_fill_report(correction.requested_by, report)
        old, new = correction.changes["investment"]
        if state == Correction.State.APPROVED:
            assert Decimal(new) == report.investment != Decimal(old)
        else:
            assert Decimal(old) == report.investment != Decimal(new)
        if state == Correction.State.PENDING:
            assert correction.decided_by is None
        else:
            assert correction.decided_by.username == "admin" and correction.decision_note
            assert correction.decided_at > correction.requested_at
    events = Event.objects.filter(verb__startswith="correction_").values_list("verb", flat=True)
    assert Counter(events) == {"correction_request": 3, "correction_approve": 1, "correction_reject": 1}


# --- building it --------------------------------------------------------------------------


def test_load_demo_builds_the_history_on_a_clean_database():
    clear_demo()
    assert not Period.objects.filter(schedule__name__in=DEFAULTS).exists()
    out = io.StringIO()
    call_command("load_demo", "--projects", "60", stdout=out)
    text = out.getvalue()
    assert re.search(r"已载入演示数据（\d+\.\d 秒）", text)
    assert re.search(r"调度历史（其中用时 \d+\.\d 秒）：\d{4}年\d+月至\d{4}年\d+月共 24 个月", text)
    assert Report.objects.filter(project__in=Project.objects.all()).count() == Report.objects.count() > 0
    clear_demo()
    assert not Report.objects.exists() and not Period.objects.filter(schedule__name__in=DEFAULTS).exists()


def test_the_history_is_optional():
    clear_demo()
    counts = build_demo(projects=60, history=False)
    assert "dispatch" not in counts
    assert not Period.objects.filter(schedule__name__in=DEFAULTS).exists()
    assert not Project.objects.exclude(prior_investment=0).exists()


def test_early_in_january_nothing_happens_after_last_december(monkeypatch):
    today = date(2026, 1, 6)
    now = timezone.make_aware(datetime(2026, 1, 6, 10, 30))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
    monkeypatch.setattr(timezone, "now", lambda: now)
    clear_demo()
    build_demo(projects=80)
    cutoff = date(2025, 12, 31)
    assert not Project.objects.filter(
        Q(actual_start_date__gt=cutoff)
        | Q(actual_completion_date__gt=cutoff)
        | Q(stats_included_date__gt=cutoff)
    ).exists()
    for name in ("started_on", "completed_on", "structure_done_on", "operating_on", "stats_date"):
        assert not Report.objects.filter(**{f"{name}__gt": cutoff}).exists(), name
    assert not Report.objects.filter(submitted_at__gt=now).exists()
    months = monthly_periods()
    assert (months[0].starts_on, months[-2].label, months[-1].label) == (
        date(2024, 1, 1),
        "2025年12月",
        "2026年1月",
    )
    assert not months[-2].is_locked and months[-3].is_locked
    assert AnnualListing.objects.filter(year=2024, list_kind="construction").exists()
