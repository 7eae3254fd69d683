"""The dispatch-report join: payments reported per source in counted reports are shown beside the
ledger and confirmed into it without double counting (idempotent, hand-entered months skipped,
oldest allocation first, all-or-nothing per report)."""

from datetime import date
from decimal import Decimal as D

import pytest

from majorprojects.audit.models import Event
from majorprojects.funds import selectors, services
from majorprojects.funds.models import Movement
from majorprojects.reporting.models import Report, ReportFunds, Status
from majorprojects.reporting.tests.conftest import listed, monthly, october  # noqa: F401

from .conftest import allocate, move


def reported(project, month, source, paid, arrived="0", status=Status.SUBMITTED):
    report = Report.objects.get(
        project=project, period__year=2026, period__number=month, period__frequency="monthly"
    )
    Report.objects.filter(pk=report.pk).update(status=status)
    ReportFunds.objects.create(report=report, source=source, paid=D(paid), arrived=D(arrived))
    return report


@pytest.fixture
def scene(october, users, projects, progs):  # noqa: F811
    """Project a: 中央预算内 X1 1000 issued 03-01 and X2 500 issued 07-01; a hand-entered payment
    of 100 on X1 on 05-20. Reports: April 300, May 100 (the month entered by hand), June 50 in a
    draft (not counted), July 80 under 财政资金 (another source), August 900, September 400."""
    admin, a = users["admin"], projects["a"]
    x1 = allocate(admin, a, progs["central_budget"], "1000", date(2026, 3, 1), "发改投资〔2026〕11号")
    x2 = allocate(admin, a, progs["central_budget"], "500", date(2026, 7, 1), "发改投资〔2026〕12号")
    move(admin, x1, "payment", date(2026, 5, 20), "100")
    reported(a, 4, "central_budget", "300", arrived="1000")
    reported(a, 5, "central_budget", "100")
    reported(a, 6, "central_budget", "50", status=Status.DRAFT)
    reported(a, 7, "fiscal", "80")
    august = reported(a, 8, "central_budget", "900", status=Status.APPROVED)
    reported(a, 9, "central_budget", "400", status=Status.LOCKED)
    return {"x1": x1, "x2": x2, "august": august}


def test_confirming_reported_payments(scene, users, projects, progs):
    """X1 has 1000 − 100 = 900 unpaid. April 300 → X1 (X2 was not yet issued): 600 left. May is
    skipped: paid by hand that month. August 900 → X1 600 + X2 300: X2 has 200 left. September
    400 > 200 → skipped, nothing of it written. The draft June and the 财政资金 July are not
    offered."""
    result = services.payments_from_reports(
        actor=users["owner_a"], project=projects["a"], programme=progs["central_budget"]
    )
    made = [(m.allocation_id, m.on_date, m.amount) for m in result["created"]]
    assert made == [
        (scene["x1"].pk, date(2026, 4, 30), D("300.00")),
        (scene["x1"].pk, date(2026, 8, 31), D("600.00")),
        (scene["x2"].pk, date(2026, 8, 31), D("300.00")),
    ]
    assert [(s["period_label"], s["reason"]) for s in result["skipped"]] == [
        ("2026年5月", "本期已有手工登记的支付"),
        ("2026年9月", "填报支付 400.00 万元超过可支付余额 200.00 万元"),
    ]
    assert Movement.objects.get(amount=D("300"), allocation=scene["x1"]).note == "据2026年4月调度表确认"
    event = Event.objects.get(verb="funds_confirm_reported")
    assert (event.project_id, event.actor_id, len(event.details["created"])) == (
        projects["a"].pk,
        users["owner_a"].pk,
        3,
    )
    rows = {
        r["allocation"].pk: r
        for r in selectors.allocation_rows(projects["a"].__class__.objects.filter(pk=projects["a"].pk))
    }
    assert (rows[scene["x1"].pk]["paid"], rows[scene["x2"].pk]["paid"]) == (D("1000.00"), D("300.00"))


def test_confirming_twice_writes_nothing_more(scene, users, projects, progs):
    kwargs = {"actor": users["admin"], "project": projects["a"], "programme": progs["central_budget"]}
    services.payments_from_reports(**kwargs)
    count, events = Movement.objects.count(), Event.objects.count()
    again = services.payments_from_reports(**kwargs)
    assert again["created"] == []
    assert [s["period_label"] for s in again["skipped"]] == ["2026年5月", "2026年9月"]
    assert Movement.objects.count() == count
    assert Event.objects.count() == events + 1  # the skipped reports are recorded, nothing else


def test_a_report_confirmed_into_one_programme_is_not_confirmed_into_another(october, users, projects, progs):  # noqa: F811
    """省级资金 and 市级资金 share the dispatch source 财政资金: the July 80 goes to whichever is
    confirmed first, once."""
    admin, a = users["admin"], projects["a"]
    allocate(admin, a, progs["provincial"], "100", date(2026, 1, 5), "湘财〔2026〕1号")
    allocate(admin, a, progs["city"], "100", date(2026, 1, 5), "云财〔2026〕1号")
    reported(a, 7, "fiscal", "80")
    first = services.payments_from_reports(actor=admin, project=a, programme=progs["city"])
    second = services.payments_from_reports(actor=admin, project=a, programme=progs["provincial"])
    assert [m.amount for m in first["created"]] == [D("80.00")]
    assert second == {"created": [], "skipped": []}


def test_reported_payments_beside_the_ledger(scene, users, projects, progs):
    services.payments_from_reports(
        actor=users["admin"], project=projects["a"], programme=progs["central_budget"]
    )
    ReportFunds.objects.filter(report=scene["august"]).update(paid=D("950"))  # changed after confirmation
    rows = selectors.reported_payments(projects["a"])
    assert [(r["period_label"], r["source_label"], r["paid"], r["confirmed"], r["status"]) for r in rows] == [
        ("2026年4月", "中央预算内投资", D("300.00"), D("300.00"), "已确认"),
        ("2026年5月", "中央预算内投资", D("100.00"), D("0.00"), "未确认"),
        ("2026年7月", "省市县财政资金", D("80.00"), D("0.00"), "未确认"),
        ("2026年8月", "中央预算内投资", D("950.00"), D("900.00"), "金额不一致"),
        ("2026年9月", "中央预算内投资", D("400.00"), D("0.00"), "未确认"),
    ]
    assert rows[0]["arrived"] == D("1000.00")
    assert rows[2]["programmes"] == ["贷款贴息", "省级资金", "市级资金"]
    assert selectors.project_funds(projects["a"])["reported"] == rows


def test_confirmation_needs_a_dispatch_source_and_scope(scene, users, projects, progs):
    from django.core.exceptions import PermissionDenied, ValidationError

    progs["other"].funding_source = ""
    progs["other"].save()
    with pytest.raises(ValidationError):
        services.payments_from_reports(actor=users["admin"], project=projects["a"], programme=progs["other"])
    for who in ("qingshan", "leader", "jtj"):
        with pytest.raises(PermissionDenied):
            services.payments_from_reports(
                actor=users[who], project=projects["a"], programme=progs["central_budget"]
            )
    assert not Movement.objects.filter(report__isnull=False).exists()
