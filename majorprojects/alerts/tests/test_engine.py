"""The engine, rule form by rule form, against the fake metric (table-driven)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from majorprojects.alerts.engine import light_for, scan
from majorprojects.alerts.models import (
    Exemption,
    ExemptionStatus,
    Hit,
    Light,
    Status,
    Warning,
    period_index,
)
from majorprojects.factories import ListingFactory, PersonFactory, ProjectFactory, UnitFactory
from majorprojects.organisation.models import UnitKind
from majorprojects.projects.models import FundingSource, KeyLevel, ProjectFunding, Stage

AFTER = date(2026, 11, 23)


def lights(year, month):
    return {
        (w.project_id or w.region_id): w.light
        for w in Warning.objects.filter(year=year, month=month).exclude(status=Status.EXEMPTED)
    }


@pytest.mark.parametrize(
    "metric,yellow,red,value,expected",
    [
        ("fake_high", 1, 3, 0, None),
        ("fake_high", 1, 3, 1, "yellow"),
        ("fake_high", 1, 3, 2, "yellow"),
        ("fake_high", 1, 3, 3, "red"),
        ("fake_high", 1, 3, 7, "red"),
        ("fake_high", 1, 3, None, None),
        ("fake_high", None, 3, 2, None),
        ("fake_high", None, 3, 3, "red"),
        ("fake_high", 1, None, 100, "yellow"),
        ("fake_low", -10, -20, Decimal("-9.99"), None),
        ("fake_low", -10, -20, -10, "yellow"),
        ("fake_low", -10, -20, Decimal("-19.99"), "yellow"),
        ("fake_low", -10, -20, -20, "red"),
        ("fake_low", -10, -20, Decimal("-35.5"), "red"),
    ],
)
def test_thresholds(fake, rule_factory, projects, metric, yellow, red, value, expected):
    rule_factory(metric=metric, yellow_threshold=yellow, red_threshold=red)
    fake.set(2026, 5, {projects["a"].pk: value})
    scan(2026, 5, today=AFTER)
    assert lights(2026, 5).get(projects["a"].pk) == expected


@pytest.mark.parametrize(
    "yellow_after,red_after,red,values,expected",
    [
        # yellow when due but not started, red when that lasts 3 months
        (1, 3, None, [1, 1, 1, 1], ["yellow", "yellow", "red", "red"]),
        # a month without a hit breaks the streak
        (1, 3, None, [1, 1, 0, 1, 1], ["yellow", "yellow", None, "yellow", "yellow"]),
        # yellow only from the second month in a row
        (2, 3, None, [1, 1, 1, 0, 1], [None, "yellow", "red", None, None]),
        # the red threshold lights red at once, whatever the streak
        (2, None, 3, [3, 1, 1], ["red", "yellow", "yellow"]),
        (1, 2, 5, [1, 1, 5, 1], ["yellow", "red", "red", "red"]),
    ],
)
def test_consecutive_periods(fake, rule_factory, projects, yellow_after, red_after, red, values, expected):
    rule_factory(yellow_threshold=1, red_threshold=red, yellow_after=yellow_after, red_after=red_after)
    pk = projects["a"].pk
    got = []
    for month, value in enumerate(values, start=3):
        fake.set(2026, month, {pk: value})
        scan(2026, month, today=AFTER)
        got.append(lights(2026, month).get(pk))
    assert got == expected
    assert Warning.objects.filter(project_id=pk).count() == sum(1 for e in expected if e)


def test_streak_runs_across_the_year_end(fake, rule_factory, projects):
    rule_factory(yellow_threshold=1, red_threshold=None, red_after=2)
    pk = projects["a"].pk
    fake.set(2025, 12, {pk: 1})
    fake.set(2026, 1, {pk: 1})
    scan(2025, 12, today=AFTER)
    scan(2026, 1, today=AFTER)
    warning = Warning.objects.get(year=2026, month=1)
    assert (warning.light, warning.streak, warning.escalated) == ("red", 2, True)
    assert warning.carried_from == Warning.objects.get(year=2025, month=12)


@pytest.mark.parametrize(
    "grace_days,today,lit",
    [
        (0, date(2026, 3, 31), True),
        (10, date(2026, 4, 9), False),
        (10, date(2026, 4, 10), True),
        (0, date(2026, 3, 20), True),  # the running month: judged on today's data
    ],
)
def test_grace_days(fake, rule_factory, projects, grace_days, today, lit):
    rule = rule_factory(grace_days=grace_days)
    fake.set(2026, 3, {projects["a"].pk: 2})
    result = scan(2026, 3, today=today)
    assert (projects["a"].pk in lights(2026, 3)) is lit
    assert (rule.code in result.skipped) is not lit


@pytest.mark.parametrize("month,lit", [(1, False), (2, False), (3, True), (12, True)])
def test_grace_months_skip_the_start_of_the_year(fake, rule_factory, projects, month, lit):
    rule_factory(grace_months=2)
    fake.set(2026, month, {projects["a"].pk: 2})
    scan(2026, month, today=AFTER)
    assert (projects["a"].pk in lights(2026, month)) is lit


@pytest.mark.parametrize(
    "year_from,year_to,active,lit",
    [(None, None, True, True), (2027, None, True, False), (None, 2025, True, False), (2026, 2026, True, True),
     (None, None, False, False)],
)  # fmt: skip
def test_active_years_and_switch(fake, rule_factory, projects, year_from, year_to, active, lit):
    rule_factory(year_from=year_from, year_to=year_to, is_active=active)
    fake.set(2026, 6, {projects["a"].pk: 2})
    scan(2026, 6, today=AFTER)
    assert (projects["a"].pk in lights(2026, 6)) is lit


@pytest.mark.parametrize(
    "exemptable,status,start,end,lit",
    [
        (True, ExemptionStatus.APPROVED, (2026, 4), (2026, 6), False),
        (True, ExemptionStatus.APPROVED, (2026, 5), (2026, 5), False),
        (True, ExemptionStatus.APPROVED, (2026, 1), (2026, 4), True),  # range over
        (True, ExemptionStatus.REQUESTED, (2026, 4), (2026, 6), True),  # not yet approved
        (True, ExemptionStatus.REJECTED, (2026, 4), (2026, 6), True),
        (False, ExemptionStatus.APPROVED, (2026, 4), (2026, 6), True),  # rule takes no excuses
    ],
)
def test_exemption(fake, rule_factory, projects, city, exemptable, status, start, end, lit):
    rule = rule_factory(exemptable=exemptable)
    Exemption.objects.create(
        rule=rule,
        project=projects["a"],
        region=projects["a"].region,
        period_from=period_index(*start),
        period_to=period_index(*end),
        justification="征地拆迁受司法程序影响",
        status=status,
    )
    fake.set(2026, 5, {projects["a"].pk: 5, projects["b"].pk: 5})
    scan(2026, 5, today=AFTER)
    got = lights(2026, 5)
    assert (projects["a"].pk in got) is lit
    assert got[projects["b"].pk] == "red"  # another subject is not covered


def test_rerun_is_a_no_op_and_keeps_the_workflow(fake, rule_factory, projects):
    rule_factory()
    fake.set(2026, 5, {projects["a"].pk: 1, projects["b"].pk: 4})
    first = scan(2026, 5, today=AFTER)
    assert (first.created, first.by_light) == (2, {"red": 1, "yellow": 1})
    Warning.objects.filter(project=projects["a"]).update(status=Status.RECTIFYING, plan="加快办理")
    before = list(Warning.objects.order_by("pk").values())
    again = scan(2026, 5, today=AFTER)
    assert (again.created, again.updated, again.cleared, again.unchanged) == (0, 0, 0, 2)
    assert list(Warning.objects.order_by("pk").values()) == before


def test_rerun_follows_changed_data(fake, rule_factory, projects):
    rule_factory()
    a, b, z = projects["a"].pk, projects["b"].pk, projects["zone"].pk
    fake.set(2026, 5, {a: 1, b: 4, z: 2})
    scan(2026, 5, today=AFTER)
    Warning.objects.filter(project_id=z).update(status=Status.NOTIFIED)
    # a goes up to red, b goes down to yellow, z's condition clears (kept: notified), a new one appears
    fake.set(2026, 5, {a: 3, b: 1, z: 0})
    result = scan(2026, 5, today=AFTER)
    assert (result.updated, result.cleared) == (2, 1)
    assert lights(2026, 5) == {a: "red", b: "yellow", z: "yellow"}
    zone = Warning.objects.get(project_id=z)
    assert zone.condition_cleared and zone.status == Status.NOTIFIED
    # when nothing holds any more, an untouched (issued) warning goes, a worked one stays
    fake.set(2026, 5, {})
    result = scan(2026, 5, today=AFTER)
    assert result.cleared == 2
    assert list(Warning.objects.values_list("project_id", flat=True)) == [z]
    # the condition comes back
    fake.set(2026, 5, {z: 2})
    scan(2026, 5, today=AFTER)
    assert not Warning.objects.get(project_id=z).condition_cleared


@pytest.mark.parametrize(
    "previous_status,carried_status",
    [
        (Status.ISSUED, Status.ISSUED),
        (Status.NOTIFIED, Status.NOTIFIED),
        (Status.RECTIFYING, Status.RECTIFYING),
        (Status.RECTIFIED, Status.RECTIFIED),
        (Status.STRUCK_OFF, Status.ISSUED),
        (Status.EXEMPTED, Status.ISSUED),
    ],
)
def test_carry_over(fake, rule_factory, projects, previous_status, carried_status):
    rule_factory()
    pk = projects["a"].pk
    fake.set(2026, 4, {pk: 1})
    scan(2026, 4, today=AFTER)
    april = Warning.objects.get(month=4)
    april.status, april.plan, april.deadline = previous_status, "倒排工期", date(2026, 6, 30)
    april.save()
    fake.set(2026, 5, {pk: 3})
    scan(2026, 5, today=AFTER)
    may = Warning.objects.get(month=5)
    assert may.carried_from == april
    assert may.status == carried_status
    assert may.escalated and may.light == Light.RED
    assert (may.plan == "倒排工期") is (carried_status != Status.ISSUED)


def test_evidence_responsible_unit_and_leader(fake, rule_factory, projects):
    leader = PersonFactory(name="王副市长")
    projects["a"].package_leader = leader
    projects["a"].save()
    rule_factory(yellow_after=1, red_after=4)
    fake.set(2026, 5, {projects["a"].pk: Decimal("2.5")})
    scan(2026, 5, today=AFTER)
    warning = Warning.objects.get()
    assert warning.responsible_unit == projects["a"].owner_unit
    assert warning.leader == leader
    assert warning.region == projects["a"].region
    assert warning.value == Decimal("2.5")
    assert warning.evidence == {
        "reading": {"fake": "2.5"},
        "metric": "fake_high",
        "unit": "个",
        "yellow": "1",
        "red": "3",
        "yellow_after": 1,
        "red_after": 4,
        "streak": 1,
    }
    assert Hit.objects.get().streak == 1


def test_scope(fake, rule_factory, city, projects):
    a, b, z = projects["a"], projects["b"], projects["zone"]
    ListingFactory(project=a, year=2026, list_kind="construction", key_level=KeyLevel.CITY)
    ListingFactory(project=b, year=2026, list_kind="construction", key_level=KeyLevel.PROVINCE)
    ListingFactory(project=z, year=2025, list_kind="construction", key_level=KeyLevel.CITY)
    ProjectFunding.objects.create(project=b, source=FundingSource.SPECIAL_BOND, amount=Decimal(100))
    ProjectFunding.objects.create(project=a, source=FundingSource.SPECIAL_BOND, amount=Decimal(0))
    a.stage = Stage.CONSTRUCTION
    a.save()
    package = ProjectFactory(is_package=True, region=city["linchuan"])
    fake.set(2026, 5, {p.pk: 2 for p in (a, b, z, package)})
    cases = [
        ({}, {a.pk, b.pk, z.pk}),
        ({"scope_lists": ["construction"]}, {a.pk, b.pk}),
        ({"scope_levels": ["city"]}, {a.pk}),
        ({"scope_programmes": ["special_bond"]}, {b.pk}),
        ({"scope_regions": ["431902"]}, {a.pk, z.pk}),  # 临川区 with the zone under it
        ({"scope_regions": ["431971", "431921"]}, {b.pk, z.pk}),
        ({"scope_stages": ["construction"]}, {a.pk}),
        ({"scope_lists": ["construction"], "scope_regions": ["431921"]}, {b.pk}),
    ]
    for scope, expected in cases:
        Warning.objects.all().delete()
        rule = rule_factory(**scope)
        scan(2026, 5, rules=[rule], today=AFTER)
        assert set(lights(2026, 5)) == expected, scope


def test_region_rule(fake, rule_factory, city):
    government = UnitFactory(name="临川区人民政府", kind=UnitKind.GOVERNMENT, region=city["linchuan"])
    rule_factory(subject="region", metric="fake_region", yellow_threshold=-5, red_threshold=-10)
    fake.set(
        2026, 5, {city["linchuan"].pk: -6, city["qingshan"].pk: -12, city["zone"].pk: 0, city["city"].pk: -50}
    )
    scan(2026, 5, today=AFTER)
    assert lights(2026, 5) == {city["linchuan"].pk: "yellow", city["qingshan"].pk: "red"}
    warning = Warning.objects.get(region=city["linchuan"])
    assert warning.project is None and warning.subject == "region"
    assert warning.responsible_unit == government


def test_queries_do_not_grow_with_projects(fake, rule_factory, city, projects):
    rule_factory()
    rule_factory(metric="fake_low", yellow_threshold=-10, red_threshold=-20)

    def run(month):
        fake.set(2026, month, {pk: 5 for pk in fake_ids()})
        with CaptureQueriesContext(connection) as ctx:
            scan(2026, month, today=AFTER)
        return len(ctx.captured_queries)

    def fake_ids():
        from majorprojects.projects.models import Project

        return list(Project.objects.values_list("pk", flat=True))

    small = run(3)
    for _ in range(40):
        ProjectFactory(owner_unit=city["owner_a"])
    large = run(4)
    assert large <= small + 2  # bulk writes may take one more batch, never a query per project


def test_light_for_is_green_without_a_hit(rule_factory, fake):
    rule = rule_factory()
    assert light_for(rule, None, 0) == "green"
    assert light_for(rule, Decimal(1), 0) == "green"


def test_default_rules_with_the_real_metrics(projects, city):
    """Integration: the seeded default rules scan the fixture city with the real metrics; a
    project overdue to start is lit; a rerun changes nothing."""
    from majorprojects.alerts.models import RegionTarget

    a = projects["a"]
    ListingFactory(project=a, year=2026, list_kind="construction", planned_start=date(2026, 6, 10))
    a.planned_start_date = date(2026, 6, 10)
    a.save()
    RegionTarget.objects.create(region=city["linchuan"], year=2026, growth_pct=Decimal(8))
    first = scan(2026, 9, today=AFTER)
    assert first.rules >= 10 and not {k for k, v in first.skipped.items() if "未知指标" in v}
    warning = Warning.objects.get(project=a, rule__code="start-overdue")
    assert warning.light == "red" and warning.value >= 3
    again = scan(2026, 9, today=AFTER)
    assert (again.created, again.updated, again.cleared) == (0, 0, 0)


def test_scan_warnings_command(fake, rule_factory, projects, monkeypatch):
    from django.core.management import CommandError, call_command

    from majorprojects.alerts.models import ScanRun

    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: date(2026, 11, 3))
    rule_factory()
    fake.set(2026, 10, {projects["a"].pk: 2})
    call_command("scan_warnings")  # the previous month
    assert Warning.objects.get().month == 10
    call_command("scan_warnings", "--period", "2026-10")
    assert Warning.objects.count() == 1 and ScanRun.objects.count() == 2
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("scan_warnings", "--period", "2026/10")
    with pytest.raises(CommandError, match="尚未开始"):
        call_command("scan_warnings", "--period", "2026-12")
