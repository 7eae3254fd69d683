"""Funds fixtures: "today" is 2026-11-20, the seeded programmes, and a small hand-worked ledger
over the shared city's projects (numbers worked out in test_selectors.py)."""

from datetime import date

import pytest
from django.utils import timezone

from majorprojects.funds import services
from majorprojects.funds.models import Programme

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


@pytest.fixture
def progs(db):
    """The programmes seeded by migration 0002, by code."""
    return {p.code: p for p in Programme.objects.all()}


def allocate(actor, project, programme, amount, issued_on, document_no, batch="2026年第一批"):
    return services.allocation_create(
        actor=actor,
        project=project,
        programme=programme,
        document_no=document_no,
        issued_on=issued_on,
        amount=amount,
        batch=batch,
    )


def move(actor, allocation, kind, on_date, amount):
    return services.movement_add(
        actor=actor, allocation=allocation, kind=kind, on_date=on_date, amount=amount
    )


@pytest.fixture
def ledger(users, projects, progs):
    """A1: project a, 中央预算内 1200 issued 2026-05-10; arrived 1200, transferred 600, paid
    300 (06-15) + 150 (08-01). Project a has not started.
    A2: project b, 专项债 2000 issued 2026-02-01; arrived 2000, paid 1000 (03-15) + 500 (10-31).
    Project b started 2026-03-01.
    A3: zone, 市级资金 500 issued 2026-09-01; nothing paid.
    A4: project b, 中央预算内 800 issued 2026-10-15; nothing paid."""
    admin = users["admin"]
    b = projects["b"]
    b.actual_start_date = date(2026, 3, 1)
    b.stage = "construction"
    b.save(update_fields=["actual_start_date", "stage"])
    a1 = allocate(
        admin, projects["a"], progs["central_budget"], "1200", date(2026, 5, 10), "发改投资〔2026〕101号"
    )
    move(admin, a1, "arrival", date(2026, 5, 20), "1200")
    move(admin, a1, "transfer", date(2026, 6, 1), "600")
    move(admin, a1, "payment", date(2026, 6, 15), "300")
    move(admin, a1, "payment", date(2026, 8, 1), "150")
    a2 = allocate(admin, b, progs["special_bond"], "2000", date(2026, 2, 1), "湘财债〔2026〕8号")
    move(admin, a2, "arrival", date(2026, 2, 10), "2000")
    move(admin, a2, "payment", date(2026, 3, 15), "1000")
    move(admin, a2, "payment", date(2026, 10, 31), "500")
    a3 = allocate(admin, projects["zone"], progs["city"], "500", date(2026, 9, 1), "云财建〔2026〕30号")
    a4 = allocate(
        admin, b, progs["central_budget"], "800", date(2026, 10, 15), "发改投资〔2026〕202号", "2026年第二批"
    )
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4}


@pytest.fixture
def finance(users, city):
    """Cross-cutting departments (they read every project, govern no sector): 云江市财政局
    (caizheng, at the city: records every kind of funds entry on every project), 青山县财政局
    (qs_caizheng: only on projects in 青山县) and 云江市统计局 (tongji: reads, records nothing).
    A second account of owner_a's unit (owner_a2) and an account of project b's unit (owner_b).
    Added to `users`."""
    from majorprojects.accounts.models import Role
    from majorprojects.factories import UnitFactory, UserFactory
    from majorprojects.organisation.models import UnitKind

    def department(name, region):
        return UnitFactory(
            name=name,
            kind=UnitKind.DEPARTMENT,
            region=region,
            reads_all_projects=True,
            records_funds="财政" in name,
        )

    users["caizheng"] = UserFactory(
        username="caizheng", role=Role.DEPARTMENT, unit=department("云江市财政局", city["city"])
    )
    users["qs_caizheng"] = UserFactory(
        username="qs_caizheng", role=Role.DEPARTMENT, unit=department("青山县财政局", city["qingshan"])
    )
    users["tongji"] = UserFactory(
        username="tongji", role=Role.DEPARTMENT, unit=department("云江市统计局", city["city"])
    )
    users["owner_a2"] = UserFactory(username="owner_a2", role=Role.PROJECT_UNIT, unit=city["owner_a"])
    users["owner_b"] = UserFactory(username="owner_b", role=Role.PROJECT_UNIT, unit=city["owner_b"])
    return users
