"""A fake metric for the engine's tests: the test sets each subject's value by hand, so a rule
form (thresholds, consecutive periods, grace, exemption) is tested apart from the real metrics.
Import the fixtures into a test module: `from .fakes import fake, rule_factory  # noqa: F401`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from majorprojects.alerts import metrics
from majorprojects.alerts.metrics import Metric, Reading
from majorprojects.alerts.models import Rule


class FakeValues:
    """subject pk → value per (year, month); a subject absent in a month reads None."""

    def __init__(self):
        self.by_period: dict[tuple[int, int], dict[int, object]] = {}
        self.calls = 0

    def set(self, year: int, month: int, values: dict) -> None:
        self.by_period[(year, month)] = dict(values)

    def compute_projects(self, ctx) -> dict:
        self.calls += 1
        values = self.by_period.get((ctx.year, ctx.month), {})
        ids = ctx.projects.values_list("pk", flat=True)
        return {pk: Reading(values.get(pk), {"fake": str(values.get(pk))}) for pk in ids}

    def compute_regions(self, ctx) -> dict:
        self.calls += 1
        values = self.by_period.get((ctx.year, ctx.month), {})
        ids = ctx.regions.values_list("pk", flat=True)
        return {pk: Reading(values.get(pk), {"fake": str(values.get(pk))}) for pk in ids}


@pytest.fixture
def fake(monkeypatch):
    """Registers fake_high (project, higher is worse), fake_low (project, lower is worse) and
    fake_region (region, lower is worse), all reading the same FakeValues."""
    values = FakeValues()
    for code, subject, worse_high, compute in (
        ("fake_high", "project", True, values.compute_projects),
        ("fake_low", "project", False, values.compute_projects),
        ("fake_region", "region", False, values.compute_regions),
    ):
        monkeypatch.setitem(
            metrics.METRICS,
            code,
            Metric(
                code=code,
                label=f"测试指标{code}",
                subject=subject,
                unit="个",
                higher_is_worse=worse_high,
                params={"flag": (str, False, "测试参数", ("a", "b"))},
                compute=compute,
            ),
        )
    return values


@pytest.fixture
def rule_factory(db):
    counter = {"n": 0}

    def make(**kwargs) -> Rule:
        counter["n"] += 1
        defaults = {
            "code": f"rule-{counter['n']}",
            "name": f"测试规则{counter['n']}",
            "metric": "fake_high",
            "subject": "project",
            "yellow_threshold": Decimal(1),
            "red_threshold": Decimal(3),
        }
        defaults.update(kwargs)
        for key in ("yellow_threshold", "red_threshold"):
            if defaults[key] is not None:
                defaults[key] = Decimal(str(defaults[key]))
        return Rule.objects.create(**defaults)

    return make
