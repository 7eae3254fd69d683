"""Dispatch fixtures: the shared small city, its three projects listed for 2026 (a and b in the
annual construction list, zone in the reserve list), the monthly schedule and October 2026 open."""

from datetime import date
from decimal import Decimal

import pytest

from majorprojects.projects.models import AnnualListing, ListKind
from majorprojects.reporting.models import Frequency, Period, Report, Schedule
from majorprojects.reporting.periods import open_periods


@pytest.fixture
def monthly(db):
    Schedule.objects.all().delete()
    return Schedule.objects.create(
        name="月调度",
        frequency=Frequency.MONTHLY,
        list_kinds=[ListKind.CONSTRUCTION],
        due_day=28,
        december_due_day=25,
        starts_on=date(2026, 1, 1),
    )


@pytest.fixture
def listed(projects):
    AnnualListing.objects.create(
        project=projects["a"],
        year=2026,
        list_kind=ListKind.CONSTRUCTION,
        planned_investment=Decimal("12000"),
        is_new_start=False,
    )
    AnnualListing.objects.create(
        project=projects["b"],
        year=2026,
        list_kind=ListKind.CONSTRUCTION,
        planned_investment=Decimal("24000"),
        is_new_start=True,
        planned_start=date(2026, 3, 15),
    )
    AnnualListing.objects.create(project=projects["zone"], year=2026, list_kind=ListKind.RESERVE)
    return projects


@pytest.fixture
def october(monthly, listed, users):
    """Periods January–October 2026 opened on 2026-10-05; returns the October period."""
    open_periods(date(2026, 10, 5))
    return Period.objects.get(schedule=monthly, number=10, year=2026)


@pytest.fixture
def slot(october, listed):
    """Project a's October report slot."""
    return Report.objects.get(period=october, project=listed["a"])
