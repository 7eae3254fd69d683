"""Fixes from the review of the warnings app: bounded rule parameters, a pending justification
keeps its warning through a rescan, approving a justification of a rule that no longer takes
them, streaks forgotten when a rule changes what it measures, rule codes and programme codes
checked strictly, the API's read-then-write round trip, nested JSON in the rule pages."""

import pytest
from django.core.exceptions import ValidationError

from majorprojects.alerts import services
from majorprojects.alerts.engine import scan
from majorprojects.alerts.models import Exemption, ExemptionStatus, Hit, Status, Warning
from majorprojects.alerts.rules import rule_clean, rules_export

from .test_services import AFTER, lit  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _rule(**changes):
    base = {
        "code": "approval-late",
        "name": "审批事项逾期",
        "subject": "project",
        "metric": "approval_overdue_items",
        "params": {"min_days": 30},
        "yellow": 1,
        "red": 3,
    }
    base.update(changes)
    return base


@pytest.mark.parametrize("value", [1_000_000, -1, 3651])
def test_integer_parameters_are_bounded(db, value):
    _, errors = rule_clean(_rule(params={"min_days": value}))
    assert any(e.field == "params.min_days" and "3650" in str(e) for e in errors), errors


def test_rule_codes_with_a_trailing_newline_are_refused(db):
    _, errors = rule_clean(_rule(code="a" * 50 + "\n"))
    assert any(e.field == "code" for e in errors)


def test_unknown_programme_codes_are_refused(db):
    _, errors = rule_clean(
        _rule(metric="fund_pace_gap_pp", params={"programme": "no-such"}, yellow=-10, red=-20)
    )
    assert any(e.field == "params.programme" and "不存在" in str(e) for e in errors), errors
    _, errors = rule_clean(
        _rule(metric="fund_pace_gap_pp", params={"programme": "special_bond"}, yellow=-10, red=-20)
    )
    assert not [e for e in errors if e.field.startswith("params")], errors


def test_a_rescan_keeps_an_issued_warning_with_a_pending_justification(lit, users, fake, projects):  # noqa: F811
    w = lit["a"]
    assert w.status == Status.ISSUED
    services.exemption_request(actor=users["owner_a"], warning=w, justification="受汛期影响停工")
    fake.set(2026, 5, {projects["b"].pk: 4})  # a's condition is gone
    scan(2026, 5, today=AFTER)
    kept = Warning.objects.get(pk=w.pk)
    assert kept.condition_cleared and kept.status == Status.ISSUED
    assert Exemption.objects.get().warning_id == w.pk


def test_a_justification_of_a_rule_that_no_longer_takes_them_cannot_be_approved(lit, users):  # noqa: F811
    exemption = services.exemption_request(actor=users["owner_a"], warning=lit["a"], justification="正当理由")
    lit["rule"].exemptable = False
    lit["rule"].save()
    with pytest.raises(ValidationError):
        services.exemption_decide(actor=users["admin"], exemption=exemption, approve=True)
    assert Exemption.objects.get().status == ExemptionStatus.REQUESTED
    services.exemption_decide(actor=users["admin"], exemption=exemption, approve=False, note="规则已调整")
    assert Exemption.objects.get().status == ExemptionStatus.REJECTED


def test_changing_what_a_rule_measures_forgets_its_streaks(lit, users, fake):  # noqa: F811
    rule = lit["rule"]
    assert Hit.objects.filter(rule=rule).exists()
    data = rules_export([rule])["rules"][0]
    data["name"] = "改名不影响连续期数"
    services.rule_save(actor=users["admin"], data=data, rule=rule)
    assert Hit.objects.filter(rule=rule).exists()
    rule.refresh_from_db()
    data["metric"], data["yellow"], data["red"] = "fake_low", -1, -3
    services.rule_save(actor=users["admin"], data=data, rule=rule)
    assert not Hit.objects.filter(rule=rule).exists()


def test_the_api_takes_back_what_it_gave(lit, users, client):  # noqa: F811
    from majorprojects.accounts.services import token_create

    _, key = token_create(actor=users["admin"], name="规则")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    rule = lit["rule"]
    got = client.get(f"/api/alerts/rules/{rule.pk}", **auth)
    assert got.status_code == 200, got.content
    body = got.json()
    sent = client.put(
        f"/api/alerts/rules/{rule.pk}",
        data={"rule": body, "version": body.get("version", rule.version)},
        content_type="application/json",
        **auth,
    )
    assert sent.status_code == 200, sent.content


def test_deeply_nested_json_is_a_message_not_a_crash():
    from django import forms

    from majorprojects.alerts.forms import _parse_rule_file

    with pytest.raises(forms.ValidationError) as caught:
        _parse_rule_file(b"[" * 100_000, "file")
    assert "JSON" in str(caught.value)


def test_a_rule_switched_off_stops_lighting_the_month_on_a_rescan(lit, users):  # noqa: F811
    worked = services.warning_notify(actor=users["admin"], warning=lit["b"], note="请整改")
    rule = lit["rule"]
    rule.is_active = False
    rule.save()
    result = scan(2026, 5, today=AFTER)
    assert not Warning.objects.filter(pk=lit["a"].pk).exists()  # untouched: gone
    kept = Warning.objects.get(pk=worked.pk)  # worked on: kept, marked cleared
    assert kept.condition_cleared and kept.status == Status.NOTIFIED
    assert result.cleared == 2
    again = scan(2026, 5, today=AFTER)
    assert (again.created, again.updated, again.cleared) == (0, 0, 0)


def test_a_rule_outside_its_years_stops_lighting_the_month(lit):  # noqa: F811
    rule = lit["rule"]
    rule.year_to = 2025
    rule.save()
    scan(2026, 5, today=AFTER)
    assert not Warning.objects.filter(rule=rule, status=Status.ISSUED).exists()


def test_a_package_shows_the_worst_light_of_its_sub_projects(fake, rule_factory, projects, city):
    from types import SimpleNamespace

    from majorprojects.alerts.selectors import light_q
    from majorprojects.alerts.templatetags.alerts_tags import project_list_lights
    from majorprojects.factories import ProjectFactory
    from majorprojects.projects.models import Project

    package = ProjectFactory(name="打包项目", region=city["linchuan"], is_package=True)
    child = ProjectFactory(name="子项目", region=city["linchuan"], parent=package)
    rule_factory()
    fake.set(2026, 5, {child.pk: 4})  # red
    services.scan_record(scan(2026, 5, today=AFTER))
    red = set(Project.objects.filter(light_q("red", 2026, 5)).values_list("pk", flat=True))
    assert {package.pk, child.pk} <= red
    green = set(Project.objects.filter(light_q("green", 2026, 5)).values_list("pk", flat=True))
    assert package.pk not in green and projects["a"].pk in green
    page = SimpleNamespace(
        object_list=[Project.objects.get(pk=package.pk), Project.objects.get(pk=projects["a"].pk)]
    )
    assert project_list_lights(page) == "2026年5月"
    assert [p.alert_light for p in page.object_list] == ["red", "green"]
    assert page.object_list[0].alert_rules
