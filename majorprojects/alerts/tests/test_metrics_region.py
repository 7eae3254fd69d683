"""The region metrics on two counties with last year's base, worked by hand.

Regions lit: 临川区 (its subtree holds the development zone), the zone itself, 青山县 and 白水县
(an empty county). Projects and counted money (万元, YearDone):

| project | region | 2026 plan | 2026 by month | 2025 by month |
| a | 临川区 | 12,000 | Jan–Jun 1,000 each, Jul 5,000 | Jan–Jun 1,000 each, Dec 9,000 |
| zone | 经开区 | 4,000 | Mar 1,000, Jun 1,000 | — |
| b | 青山县 | 24,000 | Feb 2,000, Apr 3,000, Jun 1,000 | Jan–Jun 1,000 each |
| d | 青山县 | not listed | Jun 500 | — |
| c | 云江市 (city level) | not listed | — | Feb 3,000 |

Targets 2026: 临川区 growth 10 %, investment 24,000; 青山县 growth 5 % (no amount).

June 2026 (time progress 50.0), January–June:
- 临川区 8,000 (a 6,000 + zone 2,000) against 6,000 → growth 33.3 %; 青山县 6,500 against 6,000 →
  8.3 %; the zone 2,000 against nothing → no growth; the city 14,500 against 15,000 → −3.3 %.
- listed plans: 临川区 16,000, done 8,000 → 50.0 %; 青山县 24,000, done (b only) 6,000 → 25.0 %;
  the zone 4,000, done 2,000 → 50.0 %."""

from datetime import date
from decimal import Decimal

import pytest

from majorprojects.alerts.models import RegionTarget
from majorprojects.alerts.tests.test_metrics import scan, year_done
from majorprojects.factories import ListingFactory, ProjectFactory, RegionFactory
from majorprojects.organisation.models import Region, RegionKind
from majorprojects.projects.models import Project

D = date


@pytest.fixture
def area(city, projects):
    a, b, zone = projects["a"], projects["b"], projects["zone"]
    baishui = RegionFactory(code="431922", name="白水县", kind=RegionKind.COUNTY, parent=city["city"])
    d = ProjectFactory(region=city["qingshan"], owner_unit=b.owner_unit)
    c = ProjectFactory(region=city["city"], owner_unit=b.owner_unit)
    ListingFactory(project=a, planned_investment=Decimal("12000"))
    ListingFactory(project=zone, planned_investment=Decimal("4000"))
    ListingFactory(project=b, planned_investment=Decimal("24000"))
    year_done(a, 2026, **{f"m{m}": "1000" for m in range(1, 7)}, m7="5000")
    year_done(a, 2025, **{f"m{m}": "1000" for m in range(1, 7)}, m12="9000")
    year_done(zone, 2026, m3="1000", m6="1000")
    year_done(b, 2026, m2="2000", m4="3000", m6="1000")
    year_done(b, 2025, **{f"m{m}": "1000" for m in range(1, 7)})
    year_done(d, 2026, m6="500")
    year_done(c, 2025, m2="3000")
    RegionTarget.objects.create(
        region=city["linchuan"], year=2026, growth_pct=Decimal("10"), investment=Decimal("24000")
    )
    RegionTarget.objects.create(region=city["qingshan"], year=2026, growth_pct=Decimal("5"))
    RegionTarget.objects.create(region=baishui, year=2026, growth_pct=Decimal("3"))
    regions = {
        "linchuan": city["linchuan"],
        "zone": city["zone"],
        "qingshan": city["qingshan"],
        "baishui": baishui,
    }
    return regions


def region_values(area, code, month=6, projects=None):
    readings = scan(
        code,
        month=month,
        projects=projects,
        regions=Region.objects.filter(pk__in=[r.pk for r in area.values()]),
    )
    assert set(readings) == {r.pk for r in area.values()}
    return {name: readings[r.pk].value for name, r in area.items()}


def dec(*values):
    return [None if v is None else Decimal(v) for v in values]


@pytest.mark.parametrize(
    ("code", "month", "expected"),
    [
        # 33.3 − 10; zone: no base; 8.3 − 5; 白水县 has a target but no base
        ("region_growth_vs_target_pp", 6, dec("23.3", None, "3.3", None)),
        # against the city's −3.3 %
        ("region_growth_vs_city_pp", 6, dec("36.6", None, "11.6", None)),
        # 50.0 − 50.0; 50.0 − 50.0; 25.0 − 50.0; no plan
        ("region_plan_gap_pp", 6, dec("0.0", "0.0", "-25.0", None)),
        # May (41.7): 临川区 (5,000 + 1,000) / 16,000 = 37.5; zone 1,000 / 4,000 = 25.0; 青山县 5,000 / 24,000 = 20.8
        ("region_plan_gap_pp", 5, dec("-4.2", "-16.7", "-20.9", None)),
        # June: 临川区 and the zone are on time progress; 青山县 behind every month (0, 8.3, 8.3,
        # 20.8, 20.8, 25.0 against 8.3, 16.7, 25.0, 33.3, 41.7, 50.0)
        ("region_behind_months", 6, [0, 0, 6, None]),
        # May: 临川区 behind in May (37.5/41.7) and April (31.3/33.3), not March (25.0/25.0);
        # the zone in May and April (25.0), not March (25.0/25.0)
        ("region_behind_months", 5, [2, 2, 5, None]),
        # 临川区: task 24,000 / 12 = 2,000 (target), June done 2,000 (a + zone) → 100.0;
        # zone: plan 4,000 → 333.33 a month, June 1,000 → 300.0;
        # 青山县: plan 24,000 → 2,000, June done by listed projects 1,000 (b; d not listed) → 50.0
        ("region_month_task_pct", 6, dec("100.0", "300.0", "50.0", None)),
        # July: 临川区 5,000 / 2,000 → 250.0; zone and 青山县 nothing
        ("region_month_task_pct", 7, dec("250.0", "0.0", "0.0", None)),
    ],
)
def test_region_metrics(area, code, month, expected):
    values = region_values(area, code, month)
    assert [values[name] for name in ("linchuan", "zone", "qingshan", "baishui")] == expected


def test_the_rules_projects_are_the_regions_money(area):
    """A rule over listed projects only: 青山县 loses d (500) → 6,000 against 6,000 = 0.0 %,
    and the city 14,000 against 12,000 (c not listed) = 16.7 %."""
    listed = Project.objects.filter(listings__year=2026)
    assert region_values(area, "region_growth_vs_target_pp", projects=listed)["qingshan"] == Decimal("-5.0")
    assert region_values(area, "region_growth_vs_city_pp", projects=listed)["qingshan"] == Decimal("-16.7")


def test_region_evidence(area):
    regions = Region.objects.filter(pk__in=[area["linchuan"].pk])
    pk = area["linchuan"].pk
    assert scan("region_growth_vs_target_pp", month=6, regions=regions)[pk].evidence == {
        "months": "1-6月",
        "done_ytd": "8000.00",
        "last_year_ytd": "6000.00",
        "growth_pct": "33.3",
        "target_pct": "10.00",
        "gap_pp": "23.30",
    }
    assert (
        scan("region_growth_vs_city_pp", month=6, regions=regions)[pk].evidence["city_growth_pct"] == "-3.3"
    )
    assert scan("region_month_task_pct", month=6, regions=regions)[pk].evidence == {
        "basis": "target",
        "annual_task": "24000.00",
        "month_task": "2000.00",
        "done_month": "2000.00",
        "month": 6,
        "task_pct": "100.0",
    }
    behind = scan("region_behind_months", month=5, regions=regions)[pk].evidence
    assert behind["behind_months"] == 2
    assert [(m["month"], m["plan_pct"], m["time_pct"]) for m in behind["months"]] == [
        (5, "37.5", "41.7"),
        (4, "31.3", "33.3"),
    ]
