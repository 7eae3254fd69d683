"""Hypothesis properties of the engine: a rerun changes nothing, and lights are monotone in the
metric value (a worse value never gives a lower light, whatever the history)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from majorprojects.alerts.engine import light_for, scan
from majorprojects.alerts.models import LIGHT_RANK, Hit, Rule, Warning

AFTER = date(2026, 11, 23)
FIXTURES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

values = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


@st.composite
def rule_forms(draw):
    yellow = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=3)))
    red = draw(st.one_of(st.none(), st.integers(min_value=(yellow or 0) + 1, max_value=6)))
    if yellow is None and red is None:
        yellow = 1
    yellow_after = draw(st.integers(min_value=1, max_value=3))
    red_after = draw(st.one_of(st.none(), st.integers(min_value=yellow_after + 1, max_value=4)))
    return {
        "yellow_threshold": yellow,
        "red_threshold": red,
        "yellow_after": yellow_after,
        "red_after": red_after,
    }


def _rule(rule_factory, form):
    Warning.objects.all().delete()
    Hit.objects.all().delete()
    Rule.objects.filter(code__startswith="rule-").delete()
    return rule_factory(**form)


@FIXTURES
@given(form=rule_forms(), history=st.lists(st.lists(values, min_size=3, max_size=3), min_size=1, max_size=4))
def test_a_rerun_is_a_no_op(fake, rule_factory, projects, form, history):
    _rule(rule_factory, form)
    ids = [p.pk for p in projects.values()]
    for month, row in enumerate(history, start=1):
        fake.set(2026, month, dict(zip(ids, row, strict=True)))
        scan(2026, month, today=AFTER)
    before = list(Warning.objects.order_by("pk").values())
    hits = list(Hit.objects.order_by("pk").values())
    for month in range(1, len(history) + 1):
        again = scan(2026, month, today=AFTER)
        assert (again.created, again.updated, again.cleared) == (0, 0, 0)
    assert list(Warning.objects.order_by("pk").values()) == before
    assert list(Hit.objects.order_by("pk").values()) == hits


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(
    yellow=st.one_of(st.none(), st.decimals(min_value=-50, max_value=50, places=1)),
    gap=st.decimals(min_value=Decimal("0.1"), max_value=50, places=1),
    worse_high=st.booleans(),
    yellow_after=st.integers(min_value=1, max_value=4),
    red_after=st.one_of(st.none(), st.integers(min_value=2, max_value=6)),
    prior=st.integers(min_value=0, max_value=6),
    a=st.decimals(min_value=-120, max_value=120, places=2),
    b=st.decimals(min_value=-120, max_value=120, places=2),
)
def test_light_is_monotone_in_the_value(yellow, gap, worse_high, yellow_after, red_after, prior, a, b):
    """With the same history (`prior` hits in a row before), a worse value gives a light at least
    as high: the hit, the streak and the red threshold are all monotone."""
    from majorprojects.alerts import metrics

    red = None if yellow is None else (yellow + gap if worse_high else yellow - gap)
    if yellow is None:
        red = gap if worse_high else -gap
    rule = Rule(
        code="p",
        metric="mono",
        yellow_threshold=yellow,
        red_threshold=red,
        yellow_after=yellow_after,
        red_after=red_after if red_after and red_after > yellow_after else None,
    )
    metric = metrics.Metric("mono", "单调", "project", "个", worse_high, {}, lambda ctx: {})
    metrics.METRICS["mono"] = metric
    try:
        base = yellow if yellow is not None else red

        def light(v):
            hit = v >= base if worse_high else v <= base
            return LIGHT_RANK[light_for(rule, v, prior + 1 if hit else 0)]

        better, worse = (min(a, b), max(a, b)) if worse_high else (max(a, b), min(a, b))
        assert light(better) <= light(worse)
    finally:
        del metrics.METRICS["mono"]


@FIXTURES
@given(form=rule_forms(), history=st.lists(values, min_size=0, max_size=3), v1=values, v2=values)
def test_scan_lights_are_monotone(fake, rule_factory, projects, form, history, v1, v2):
    """End to end: scanning the same month with a worse value never gives a lower light."""
    rule = _rule(rule_factory, form)
    pk = projects["a"].pk
    for month, value in enumerate(history, start=1):
        fake.set(2026, month, {pk: value})
        scan(2026, month, rules=[rule], today=AFTER)
    month = len(history) + 1
    if v1 is None or v2 is None:
        return
    got = {}
    for value in sorted({v1, v2}):
        fake.set(2026, month, {pk: value})
        scan(2026, month, rules=[rule], today=AFTER)
        warning = Warning.objects.filter(project_id=pk, year=2026, month=month).first()
        got[value] = LIGHT_RANK[warning.light] if warning else 0
    low, high = min(v1, v2), max(v1, v2)
    assert got[low] <= got[high]
