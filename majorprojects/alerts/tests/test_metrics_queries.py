"""Every metric runs in a fixed number of queries whatever the number of projects, and its
evidence is JSON. Two cities of different sizes are built with the same kinds of data (listing,
counted money both years, monthly report slots in every state, approval items, promises,
allocations with payments, problems) and each metric is counted on both."""

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from majorprojects.alerts.metrics import METRICS
from majorprojects.alerts.models import RegionTarget
from majorprojects.alerts.tests.test_metrics import scan, year_done
from majorprojects.approvals.models import ApprovalItem, ApprovalItemType, ItemStatus
from majorprojects.factories import ListingFactory, ProjectFactory
from majorprojects.funds.models import Allocation, Movement, MovementKind, Programme
from majorprojects.organisation.models import Region
from majorprojects.problems.models import Category, Problem, Source, Status
from majorprojects.projects.models import ListKind, Project, Stage
from majorprojects.reporting.models import Frequency, Report, Schedule
from majorprojects.reporting.models import Status as R
from majorprojects.reporting.periods import open_periods

D = date
MAX_QUERIES = 6
PARAMS = {"fund_pace_gap_pp": {"programme": "central_budget"}, "approval_overdue_items": {"min_days": 5}}


def populate(city, count: int) -> None:
    """`count` projects spread over the two counties, each with every kind of data."""
    types = list(ApprovalItemType.objects.order_by("sort_order")[:3])
    central = Programme.objects.get(code="central_budget")
    land = Category.objects.get(code="land")
    regions = [city["linchuan"], city["qingshan"], city["zone"]]
    for i in range(count):
        region = regions[i % 3]
        p = ProjectFactory(
            region=region,
            owner_unit=city["owner_a"],
            planned_start_date=D(2026, 3, 1),
            actual_start_date=D(2026, 4, 1) if i % 2 else None,
            stage=Stage.CONSTRUCTION if i % 2 else Stage.PREPARING,
        )
        ListingFactory(project=p, list_kind=ListKind.CONSTRUCTION, planned_investment=Decimal("1200"))
        year_done(p, 2026, m1="100", m5="300")
        year_done(p, 2025, m2="200")
        ApprovalItem.objects.create(project=p, item_type=types[0], planned_date=D(2026, 9, 1))
        ApprovalItem.objects.create(
            project=p,
            item_type=types[1],
            status=ItemStatus.PROMISED,
            actual_date=D(2026, 6, 1),
            promise_due_date=D(2026, 9, 1),
        )
        allocation = Allocation.objects.create(
            project=p, programme=central, document_no=f"文{i}", issued_on=D(2026, 2, 1), amount=Decimal("500")
        )
        Movement.objects.create(
            allocation=allocation, kind=MovementKind.PAYMENT, on_date=D(2026, 5, 1), amount=100
        )
        Problem.objects.create(
            project=p,
            region=region,
            title="用地",
            category=land,
            source=Source.COUNTY,
            description="用地",
            status=Status.ASSIGNED,
            deadline=D(2026, 9, 1),
        )
    open_periods(D(2026, 10, 5))
    # vary the slots: some sent on time, some late, some returned, the rest never sent
    slots = list(Report.objects.select_related("period").order_by("pk"))
    for n, report in enumerate(slots):
        state = n % 4
        if state == 3:
            continue
        report.status = R.RETURNED if state == 2 else R.SUBMITTED
        day = report.period.due_on if state != 1 else report.period.late_after + timedelta(days=1)
        report.submitted_at = timezone.make_aware(datetime.combine(day, time(9)))
        report.is_late = state == 1
        report.save(update_fields=["status", "submitted_at", "is_late"])
    for region in regions:
        RegionTarget.objects.get_or_create(region=region, year=2026, defaults={"growth_pct": Decimal("5")})


@pytest.fixture
def dispatch_schedule(db):
    Schedule.objects.all().delete()
    Schedule.objects.create(
        name="月调度",
        frequency=Frequency.MONTHLY,
        list_kinds=[ListKind.CONSTRUCTION],
        due_day=28,
        starts_on=D(2026, 1, 1),
    )


def counted(code, projects=None) -> tuple[int, dict]:
    regions = Region.objects.filter(kind__in=["district", "county", "zone"])
    with CaptureQueriesContext(connection) as ctx:
        readings = scan(code, projects=projects, regions=regions, **PARAMS.get(code, {}))
    return len(ctx.captured_queries), readings


@pytest.mark.parametrize("code", list(METRICS))
def test_queries_do_not_grow_with_the_number_of_projects(
    city, dispatch_schedule, django_assert_max_num_queries, code
):
    populate(city, 3)
    small, readings = counted(code)
    assert any(r.value is not None for r in readings.values()), code
    json.dumps({pk: r.evidence for pk, r in readings.items()})
    populate(city, 12)
    with django_assert_max_num_queries(MAX_QUERIES):
        large, readings = counted(code)
    assert large == small, code
    json.dumps({pk: r.evidence for pk, r in readings.items()})
    # a scoped rule (one county) costs the same
    scoped, _ = counted(code, projects=Project.objects.filter(region=city["qingshan"]))
    assert scoped == small, code
