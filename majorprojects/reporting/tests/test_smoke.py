from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from majorprojects.reporting import selectors, services
from majorprojects.reporting.models import Report, Status


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 10, 20))


def test_walk(slot, users, october, listed):
    assert Report.objects.filter(period=october).count() == 2
    r = services.report_save(
        actor=users["owner_a"],
        report=slot,
        data={"investment": "1500", "progress": "主体施工", "percent_complete": "40", "next_plan": "继续"},
        funds={"special_bond": ("100", "80")},
        expected_version=1,
        key="k1",
    )
    assert r.status == Status.DRAFT and r.year_to_date == Decimal("1500")
    r2 = services.report_save(
        actor=users["owner_a"], report=slot, data={"investment": "999"}, expected_version=1, key="k1"
    )
    assert r2.investment == Decimal("1500")
    r = services.report_submit(actor=users["owner_a"], report=r, key="k2")
    assert r.status == Status.SUBMITTED and not r.is_late
    r = services.report_return(actor=users["linchuan"], report=r, reason="请补充照片")
    r = services.report_submit(actor=users["owner_a"], report=r, key="k3")
    r = services.report_approve(actor=users["linchuan"], report=r)
    s = selectors.month_summary(listed["a"].__class__.objects.all(), 2026, 10)
    assert s["done_ytd"] == Decimal("1500")
    assert s["plan"] == Decimal("36000")
    t = selectors.month_table(listed["a"].__class__.objects.all(), 2026, 10, "region", user=users["admin"])
    assert t[0]["done_ytd"] == Decimal("1500"), t
    for dim in selectors.DIMENSIONS:
        selectors.month_table(listed["a"].__class__.objects.all(), 2026, 10, dim, user=users["admin"])
    c = selectors.period_completeness(october, Report.objects.all())
    assert c["due"] == 2 and c["submitted"] == 1
    for dim in selectors.COMPLETENESS_GROUPS:
        selectors.period_completeness_by(october, Report.objects.all(), dim, user=users["admin"])
    selectors.trend(listed["a"].__class__.objects.all(), 2026)
    assert selectors.todo(users["owner_a"])["to_fill_count"] >= 1
    counts = services.period_lock(actor=users["admin"], period=october)
    assert counts == {"locked": 1, "missing": 1}
    c = services.correction_request(
        actor=users["owner_a"], report=r, data={"investment": "1600"}, reason="统计口径更正"
    )
    services.correction_decide(actor=users["admin"], correction=c, approve=True)
    r.refresh_from_db()
    assert r.investment == Decimal("1600") and r.year_to_date == Decimal("1600")


def test_over_total(slot, users):
    with pytest.raises(ValidationError) as e:
        services.report_save(actor=users["owner_a"], report=slot, data={"investment": "60000"})
    assert "总投资" in str(e.value)
