"""The demo city's approvals, funds and problem ledgers (demo.approvals, demo.funds,
demo.problems): plausible, consistent with the services' rules and the dispatch history, read
correctly by the selectors, visible to every demo login, and the same on every build.

The city is built once for the module and deleted afterwards."""

import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from majorprojects.accounts.models import User
from majorprojects.accounts.scope import visible_problems, visible_projects
from majorprojects.approvals import selectors as approval_selectors
from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.audit.models import Event
from majorprojects.demo.builder import build_demo, clear_demo
from majorprojects.funds import selectors as fund_selectors
from majorprojects.funds.models import Allocation, Loan, LoanRelease, Movement, MovementKind
from majorprojects.problems import escalation
from majorprojects.problems import selectors as problem_selectors
from majorprojects.problems.models import (
    CloseKind,
    Confirmation,
    Coordination,
    Escalation,
    Problem,
    ProgressNote,
    Status,
)
from majorprojects.projects.models import Project, Stage
from majorprojects.reporting.models import COUNTED, Report, ReportFunds

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        started = time.monotonic()
        counts = build_demo()
        counts["build_seconds"] = time.monotonic() - started
        yield counts
        clear_demo()
        assert not Project.objects.exists()
        assert not Problem.objects.exists()


def admin():
    return User.objects.get(username="admin")


# --- approvals ------------------------------------------------------------------------------


def test_ledgers_for_preliminary_signed_and_started_key_projects(demo):
    made = demo["ledgers"]["approvals"]
    assert 150 <= made["projects"] <= 600
    assert ApprovalItem.objects.count() == made["items"]
    pending = Project.objects.filter(stage__in=(Stage.PREPARING, Stage.SIGNED), is_package=False)
    assert not pending.filter(approval_items__isnull=True).exists()
    started = ApprovalItem.objects.filter(project__stage__in=(Stage.CONSTRUCTION, Stage.COMPLETED))
    assert started.exists()
    assert set(ApprovalItem.objects.values_list("status", flat=True)) == set(ItemStatus.values)
    assert Event.objects.filter(verb="approval_ledger_apply").count() == made["projects"]


def test_items_are_what_the_template_makes_and_pass_the_service_rules():
    from majorprojects.approvals.models import TemplateItem

    templates = {}
    for entry in TemplateItem.objects.all():
        templates.setdefault(entry.regime, set()).add(entry.item_type_id)
    ledgers = {}
    for project_id, regime, type_id in ApprovalItem.objects.values_list(
        "project_id", "project__approval_regime", "item_type_id"
    ):
        ledgers.setdefault((project_id, regime), set()).add(type_id)
    for (_, regime), types in ledgers.items():
        assert types == templates[regime]
    for item in ApprovalItem.objects.select_related("item_type"):
        if item.status == ItemStatus.DONE:
            assert item.actual_date and item.document_number
        if item.status == ItemStatus.PROMISED:
            assert item.actual_date and item.promise_due_date >= item.actual_date
        if item.status in (ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS):
            assert item.actual_date is None
        if item.status == ItemStatus.NOT_APPLICABLE:
            assert item.not_applicable_reason
        if item.actual_date and item.submitted_date:
            assert item.submitted_date <= item.actual_date


def test_started_key_projects_have_full_histories_before_their_start():
    started = ApprovalItem.objects.filter(
        project__stage=Stage.CONSTRUCTION, status=ItemStatus.DONE
    ).select_related("project")
    assert started.count() > 500
    assert all(i.actual_date < i.project.actual_start_date for i in started)
    numbers = list(started.values_list("document_number", flat=True))
    assert any("云发改审批〔" in n for n in numbers)
    assert any(n.startswith("地字第431") for n in numbers)


def test_flags_include_overdue_promises_and_approvals_about_to_lapse():
    rows = approval_selectors.with_flags(ApprovalItem.objects.select_related("project", "item_type"))
    kinds = Counter(k for r in rows for k in r["flags"]["kinds"])
    assert kinds["overdue"] >= 3
    assert kinds["promise_overdue"] >= 3
    assert kinds["lapse_risk"] >= 3
    lapsing = {r["item"].item_type.code for r in rows if "lapse_risk" in r["flags"]["kinds"]}
    assert "feasibility" in lapsing
    permits = [r for r in rows if r["item"].item_type.code == "construction_permit" and r["flags"]["kinds"]]
    assert permits  # issued, the project not started: lapsing or lapsed
    promised = ApprovalItem.objects.filter(status=ItemStatus.PROMISED, papers_supplied_date__isnull=True)
    assert promised.exists()
    assert ApprovalItem.objects.filter(papers_supplied_date__isnull=False, status=ItemStatus.DONE).exists()
    flagged = approval_selectors.flagged_rows(ApprovalItem.objects.all())
    assert len(flagged) == sum(1 for r in rows if r["flags"]["kinds"])


# --- funds ----------------------------------------------------------------------------------


def test_allocations_come_in_batches_of_the_three_programmes(demo):
    made = demo["ledgers"]["funds"]
    assert 100 <= made["allocations"] <= 600
    assert Allocation.objects.count() == made["allocations"]
    programmes = Counter(Allocation.objects.values_list("programme__code", flat=True))
    assert set(programmes) == {"central_budget", "ultra_long_bond", "special_bond"}
    batches = Allocation.objects.values("batch", "document_no", "issued_on").distinct()
    assert 8 <= batches.count() <= 40
    shared = Counter(Allocation.objects.values_list("document_no", flat=True))
    assert shared.most_common(1)[0][1] >= 5  # one document allocates to many projects
    years = {a.year for a in Allocation.objects.values_list("issued_on", flat=True)}
    assert len(years) >= 2


def test_payments_never_exceed_allocations_and_follow_the_reports():
    rows = fund_selectors.allocation_rows(visible_projects(admin()))
    assert rows
    for row in rows:
        assert row["paid"] <= row["amount"]
        assert row["arrived"] <= row["amount"]
        assert not row["flags"]  # nothing paid or transferred beyond what arrived
    for allocation in Allocation.objects.prefetch_related("movements"):
        assert all(allocation.issued_on <= m.on_date for m in allocation.movements.all())
    confirmed = Movement.objects.filter(report__isnull=False)
    assert confirmed.count() > 100
    reported = {
        (f.report_id, f.source): f.paid
        for f in ReportFunds.objects.filter(
            report__status__in=COUNTED, report_id__in=confirmed.values("report_id")
        )
    }
    sums = Counter()
    for report_id, source, amount in confirmed.values_list("report_id", "report_source", "amount"):
        sums[(report_id, source)] += amount
    assert sums and all(sums[key] == reported[key] for key in sums)
    assert Event.objects.filter(verb="funds_confirm_reported").exists()


def test_most_on_pace_some_behind_and_some_at_risk():
    projects = visible_projects(admin())
    rows = fund_selectors.allocation_rows(projects)
    behind = [r for r in rows if r["pace"]["behind"]]
    assert 3 <= len(behind) < len(rows) / 2
    risks = fund_selectors.at_risk(projects)
    assert 3 <= len(risks) < len(rows) / 4
    assert any(r["not_started"] for r in risks)
    assert any(r["idle_months"] for r in risks)


def test_loans_with_releases_and_subsidies():
    assert 3 <= Loan.objects.count() <= 20
    for loan in Loan.objects.all():
        released = loan.releases.aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert released <= loan.amount_signed
        assert loan.subsidy_granted <= loan.subsidy_applied
        assert all(r.on_date >= loan.signed_on for r in loan.releases.all())
    assert Loan.objects.filter(subsidy_granted__gt=0).exists()
    assert LoanRelease.objects.exists()


# --- problems -------------------------------------------------------------------------------


def test_every_report_with_problems_has_its_item():
    sent = Report.objects.filter(status__in=COUNTED).exclude(problems="")
    assert sent.count() > 100
    items = Problem.objects.filter(report__isnull=False)
    assert items.count() == sent.count()
    assert set(items.values_list("category__code", flat=True)) == {"other"}


def test_about_two_hundred_problems_in_every_state_and_category():
    counted = Problem.objects.exclude(status__in=(Status.MERGED, Status.SPLIT))
    assert 150 <= counted.count() <= 450
    assert set(Problem.objects.values_list("status", flat=True)) == set(Status.values)
    categories = Counter(counted.values_list("category__code", flat=True))
    assert set(categories) == {
        "funds",
        "land",
        "forest",
        "eia_swc",
        "facilities",
        "site",
        "approval",
        "financing",
        "other",
    }
    assert categories.most_common(1)[0][0] == "land"
    assert Problem.objects.filter(status=Status.MERGED, merged_into__isnull=False).count() > 50
    assert Problem.objects.filter(parent__isnull=False).count() >= 2


def test_overdue_escalated_reopened_and_coordinated(demo):
    overdue = Problem.objects.filter(problem_selectors.overdue_q())
    assert overdue.count() >= 3
    assert Problem.objects.filter(escalation_level__gte=2).exists()
    assert Escalation.objects.filter(reason="overdue").count() == demo["ledgers"]["problems"]["notices"]
    assert Escalation.objects.filter(
        period__lt=escalation.month_start(escalation.timezone.localdate())
    ).exists()
    assert Problem.objects.filter(reopen_count__gt=0, status=Status.CLOSED).exists()
    assert Problem.objects.filter(status=Status.REOPENED).exists()
    assert Problem.objects.filter(close_kind=CloseKind.CITY).exists()
    assert Confirmation.objects.filter(satisfied=False).exists()
    coordination = Coordination.objects.select_related("leader").first()
    assert (
        coordination is not None
        and coordination.leader.is_leader
        and "副市长" in coordination.leader.position
    )
    assert coordination.minutes and coordination.tasks.count() >= 2
    assert escalation.escalate(escalation.timezone.localdate()) == {
        "notices": 0,
        "first_reply": 0,
        "progress": 0,
    }


def test_handling_data_is_consistent():
    for p in Problem.objects.filter(
        status__in=(Status.ASSIGNED, Status.REOPENED, Status.RESOLVED, Status.CLOSED)
    ):
        if p.close_kind == CloseKind.CITY and not p.lead_unit_id:
            continue
        assert p.lead_unit_id and p.leader_id and p.responsible_name and p.solution and p.deadline
        assert p.created_at <= p.assigned_at
    for note in ProgressNote.objects.select_related("author", "problem"):
        assert note.author.unit_id == note.unit_id
        assert note.created_at >= note.problem.assigned_at
    for c in Confirmation.objects.select_related("problem"):
        assert c.by_id == c.problem.raised_by_id


def test_timelines_read_from_events_tell_the_story():
    problem = Problem.objects.filter(status=Status.CLOSED, reopen_count__gt=0).first()
    verbs = [e["verb"] for e in problem_selectors.problem_timeline(problem)]
    assert verbs[0] == "problem_raise"
    assert verbs.count("problem_resolve") == 2 and verbs.count("problem_confirm") == 2
    assert verbs.index("problem_assign") < verbs.index("problem_resolve")
    times = [e["at"] for e in problem_selectors.problem_timeline(problem)]
    assert times == sorted(times)
    merged = Problem.objects.filter(status=Status.MERGED).first()
    assert [e["verb"] for e in problem_selectors.problem_timeline(merged)] == [
        "problem_raise",
        "problem_merge",
    ]


def test_metrics_agree_with_the_rows():
    qs = Problem.objects.all()
    figures = problem_selectors.metrics(qs, by="category")
    counted = qs.exclude(status__in=(Status.MERGED, Status.SPLIT))
    assert figures["total"]["total"] == counted.count()
    assert figures["total"]["closed"] == counted.filter(status=Status.CLOSED).count()
    assert figures["total"]["overdue"] == counted.filter(problem_selectors.overdue_q()).count()


@pytest.mark.parametrize(
    ("username", "part"),
    [
        ("admin", "analyse"),
        ("owner", "confirm"),
        ("leader", "raised"),
        ("jiaotong", "handle"),
        ("shuili", "handle"),
        ("gongxin", "handle"),
        ("zhujian", "handle"),
        ("tongji", "handle"),
        ("caizheng", "handle"),
        ("linchuan", "raised"),
        ("qingshan", "raised"),
    ],
)
def test_every_demo_login_has_problems_and_ledgers_in_scope(username, part):
    user = User.objects.get(username=username)
    assert problem_selectors.my_problems(user)[part].exists()
    projects = visible_projects(user)
    assert ApprovalItem.objects.filter(project__in=projects).exists()
    if username not in ("gongxin",):
        assert Allocation.objects.filter(project__in=projects).exists()


def test_the_auditor_sees_no_ledgers():
    auditor = User.objects.get(username="auditor")
    assert not visible_problems(auditor).exists()
    assert not visible_projects(auditor).exists()


# --- determinism and time -------------------------------------------------------------------


def _figures() -> list:
    return [
        sorted(
            ApprovalItem.objects.values_list(
                "project__name", "item_type__code", "status", "actual_date", "document_number"
            )
        ),
        sorted(Allocation.objects.values_list("project__name", "batch", "document_no", "amount")),
        sorted(Movement.objects.values_list("allocation__project__name", "kind", "on_date", "amount")),
        sorted(Problem.objects.values_list("project__name", "title", "status", "category__code", "deadline")),
        Escalation.objects.count(),
    ]


def test_two_builds_give_the_same_ledgers(demo, django_db_blocker):
    first = _figures()
    clear_demo()
    again = build_demo()
    assert _figures() == first
    assert again["ledgers"]["problems"]["problems"] == demo["ledgers"]["problems"]["problems"]
    print(f"\nbuild {demo['build_seconds']:.1f} s, ledgers {demo['ledgers']['seconds']:.1f} s")


def test_reported_payments_were_partly_confirmed_by_the_service():
    assert Event.objects.filter(verb="funds_confirm_reported", actor__username="admin").exists()
    assert Movement.objects.filter(kind=MovementKind.PAYMENT, report__isnull=True).exists()


# --- warnings -------------------------------------------------------------------------------


def test_warnings_scanned_for_three_months_and_partly_rectified(demo):
    from majorprojects.alerts.models import RegionTarget, Status, Warning
    from majorprojects.alerts.selectors import negative_list

    made = demo["ledgers"]["warnings"]
    latest = Warning.objects.order_by("-year", "-month").values_list("year", "month").first()
    months = set(Warning.objects.values_list("year", "month"))
    assert len(months) == 3 and RegionTarget.objects.exists()
    current = Warning.objects.filter(year=latest[0], month=latest[1])
    assert current.filter(light="red").exists() and current.filter(light="yellow").exists()
    assert current.filter(carried_from__isnull=False).exists()  # lights persist into the next month
    for status in (Status.NOTIFIED, Status.RECTIFYING, Status.RECTIFIED, Status.STRUCK_OFF, Status.EXEMPTED):
        assert current.filter(status=status).exists(), status
    assert made["red"] == current.filter(light="red").count()
    listed = negative_list(admin(), *latest)
    assert listed["rows"] and sum(s["red"] + s["yellow"] for s in listed["sections"]) > 0
