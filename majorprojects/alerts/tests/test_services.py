"""The rectification workflow, justifications, scan runs and rule edits: states, permissions by
role (owner, county, department, outsider, city admin), versions, events."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from majorprojects.alerts import services
from majorprojects.alerts.engine import scan
from majorprojects.alerts.models import Exemption, ExemptionStatus, ScanRun, Status, Warning
from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError

AFTER = date(2026, 11, 23)
PDF = b"%PDF-1.4 test"


@pytest.fixture
def lit(fake, rule_factory, projects, monkeypatch):
    """A rule lighting projects a (临川区, owner_a) and b (青山县, transport) in May 2026."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: AFTER)
    rule = rule_factory(code="start-overdue-test")
    fake.set(2026, 5, {projects["a"].pk: 1, projects["b"].pk: 4})
    scan(2026, 5, today=AFTER)
    return {
        "rule": rule,
        "a": Warning.objects.get(project=projects["a"]),
        "b": Warning.objects.get(project=projects["b"]),
    }


def test_the_whole_way_to_struck_off(lit, users):
    w = lit["a"]
    w = services.warning_notify(actor=users["linchuan"], warning=w, note="请于月底前整改", expected_version=1)
    assert w.status == Status.NOTIFIED and w.notified_at
    w = services.warning_plan(
        actor=users["owner_a"], warning=w, plan="加快征地", deadline=date(2026, 12, 31), expected_version=2
    )
    assert w.status == Status.RECTIFYING
    w = services.warning_mark_rectified(
        actor=users["owner_a"], warning=w, rectification="已开工", file_name="开工报告.pdf", file_content=PDF
    )
    assert w.status == Status.RECTIFIED and w.attachment.original_name == "开工报告.pdf"
    w = services.warning_strike_off(actor=users["admin"], warning=w, note="核验属实")
    assert w.status == Status.STRUCK_OFF and w.closed_at and w.version == 5
    verbs = list(
        Event.objects.filter(target_type="warning", target_id=str(w.pk))
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["warning_notify", "warning_plan", "warning_rectified", "warning_strike_off"]
    assert Event.objects.filter(verb="warning_plan", project=w.project).exists()


NOTIFY = [("admin", True), ("linchuan", True), ("qingshan", False), ("owner_a", False), ("jtj", False),
          ("leader", False), ("auditor", False)]  # fmt: skip


@pytest.mark.parametrize("who,allowed", NOTIFY)
def test_who_notifies(lit, users, who, allowed):
    _check(allowed, lambda: services.warning_notify(actor=users[who], warning=lit["a"]))


PLAN_A = [("owner_a", True), ("linchuan", True), ("admin", True), ("qingshan", False), ("jtj", False),
          ("leader", False), ("auditor", False)]  # fmt: skip


@pytest.mark.parametrize("who,allowed", PLAN_A)
def test_who_files_the_plan_for_a(lit, users, who, allowed):
    _check(
        allowed,
        lambda: services.warning_plan(
            actor=users[who], warning=lit["a"], plan="措施", deadline=date(2026, 12, 1)
        ),
    )


@pytest.mark.parametrize(
    "who,allowed", [("jtj", True), ("qingshan", True), ("owner_a", False), ("linchuan", False)]
)
def test_who_files_the_plan_for_b(lit, users, who, allowed):
    _check(
        allowed,
        lambda: services.warning_plan(
            actor=users[who], warning=lit["b"], plan="措施", deadline=date(2026, 12, 1)
        ),
    )


@pytest.mark.parametrize(
    "who,allowed", [("admin", True), ("linchuan", False), ("owner_a", False), ("leader", False)]
)
def test_only_the_city_strikes_off(lit, users, who, allowed):
    w = services.warning_plan(
        actor=users["owner_a"], warning=lit["a"], plan="措施", deadline=date(2026, 12, 1)
    )
    w = services.warning_mark_rectified(actor=users["owner_a"], warning=w, rectification="完成")
    _check(allowed, lambda: services.warning_strike_off(actor=users[who], warning=w))


def _check(allowed, action):
    if allowed:
        action()
    else:
        with pytest.raises(PermissionDenied):
            action()


def test_states_and_versions(lit, users):
    w = lit["a"]
    with pytest.raises(ValidationError, match="不能报送整改完成"):
        services.warning_mark_rectified(actor=users["owner_a"], warning=w, rectification="完成")
    with pytest.raises(ValidationError, match="须先报送整改完成"):
        services.warning_strike_off(actor=users["admin"], warning=w)
    with pytest.raises(ConflictError):
        services.warning_notify(actor=users["admin"], warning=w, expected_version=7)
    with pytest.raises(ValidationError) as exc:
        services.warning_plan(actor=users["owner_a"], warning=w, plan=" ", deadline=date(2026, 12, 1))
    assert exc.value.message_dict == {"plan": ["请填写整改措施。"]}
    with pytest.raises(ValidationError) as exc:
        services.warning_plan(actor=users["owner_a"], warning=w, plan="x", deadline=date(2026, 1, 1))
    assert exc.value.message_dict == {"deadline": ["整改时限不能早于今天。"]}
    assert Warning.objects.get(pk=w.pk).version == 1


def test_reopen_and_strike_off_of_a_cleared_condition(lit, users, fake, projects):
    w = services.warning_plan(
        actor=users["owner_a"], warning=lit["a"], plan="措施", deadline=date(2026, 12, 1)
    )
    w = services.warning_mark_rectified(actor=users["owner_a"], warning=w, rectification="完成")
    with pytest.raises(PermissionDenied):
        services.warning_reopen(actor=users["linchuan"], warning=w, reason="不实")
    w = services.warning_reopen(actor=users["admin"], warning=w, reason="现场核查未开工")
    assert w.status == Status.RECTIFYING and w.note == "现场核查未开工"
    fake.set(2026, 5, {projects["b"].pk: 4})
    scan(2026, 5, today=AFTER)
    w.refresh_from_db()
    assert w.condition_cleared
    w = services.warning_strike_off(actor=users["admin"], warning=w)
    assert w.status == Status.STRUCK_OFF


def test_exemption_approved_by_the_city(lit, users, fake, projects):
    w = lit["a"]
    exemption = services.exemption_request(
        actor=users["owner_a"], warning=w, justification="受省级用地指标调整影响", until=(2026, 7)
    )
    assert (exemption.period_from, exemption.period_to) == (2026 * 12 + 4, 2026 * 12 + 6)
    with pytest.raises(ValidationError, match="已有待审批"):
        services.exemption_request(actor=users["owner_a"], warning=w, justification="再次")
    with pytest.raises(PermissionDenied):
        services.exemption_decide(actor=users["linchuan"], exemption=exemption, approve=True)
    services.exemption_decide(actor=users["admin"], exemption=exemption, approve=True, note="同意")
    w.refresh_from_db()
    assert w.status == Status.EXEMPTED
    fake.set(2026, 6, {projects["a"].pk: 2, projects["b"].pk: 2})
    scan(2026, 6, today=AFTER)
    assert list(Warning.objects.filter(month=6).values_list("project_id", flat=True)) == [projects["b"].pk]
    fake.set(2026, 8, {projects["a"].pk: 2})
    scan(2026, 8, today=AFTER)
    assert Warning.objects.filter(month=8, project=projects["a"]).exists()  # the range is over
    assert Event.objects.filter(verb="warning_exemption_approve", target_id=str(w.pk)).exists()


@pytest.mark.parametrize(
    "who,allowed", [("linchuan", True), ("admin", True), ("qingshan", False), ("owner_a", False)]
)
def test_exemption_approved_by_the_county_when_the_rule_says_so(lit, users, who, allowed):
    lit["rule"].exemption_approver = "county"
    lit["rule"].save()
    exemption = services.exemption_request(actor=users["owner_a"], warning=lit["a"], justification="正当理由")
    _check(allowed, lambda: services.exemption_decide(actor=users[who], exemption=exemption, approve=True))


def test_exemption_rejected_and_refused(lit, users):
    exemption = services.exemption_request(actor=users["linchuan"], warning=lit["a"], justification="理由")
    with pytest.raises(ValidationError, match="请填写审批意见"):
        services.exemption_decide(actor=users["admin"], exemption=exemption, approve=False)
    services.exemption_decide(actor=users["admin"], exemption=exemption, approve=False, note="理由不充分")
    exemption.refresh_from_db()
    assert exemption.status == ExemptionStatus.REJECTED
    assert Warning.objects.get(pk=lit["a"].pk).status == Status.ISSUED
    with pytest.raises(ValidationError, match="最长适用 12 个月"):
        services.exemption_request(
            actor=users["owner_a"], warning=lit["a"], justification="x", until=(2027, 5)
        )
    with pytest.raises(PermissionDenied):
        services.exemption_request(actor=users["qingshan"], warning=lit["a"], justification="x")
    lit["rule"].exemptable = False
    lit["rule"].save()
    with pytest.raises(ValidationError, match="不接受正当理由"):
        services.exemption_request(actor=users["owner_a"], warning=lit["a"], justification="x")
    assert Exemption.objects.count() == 1


def test_scan_run(fake, rule_factory, projects, users, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: AFTER)
    rule_factory()
    fake.set(2026, 10, {projects["a"].pk: 2})
    with pytest.raises(PermissionDenied):
        services.scan_run(actor=users["linchuan"], year=2026, month=10)
    with pytest.raises(ValidationError, match="尚未开始"):
        services.scan_run(actor=users["admin"], year=2026, month=12)
    result = services.scan_run(actor=users["admin"], year=2026, month=10)
    assert result.created == 1
    run = ScanRun.objects.get()
    assert (run.year, run.month, run.actor, run.result["created"]) == (2026, 10, users["admin"], 1)
    assert Event.objects.filter(verb="alert_scan", actor=users["admin"]).exists()


def test_rule_save(fake, users, rule_factory):
    data = {"code": "new-rule", "name": "新规则", "metric": "fake_high", "yellow": 2, "red": 5}
    with pytest.raises(PermissionDenied):
        services.rule_save(actor=users["linchuan"], data=data)
    rule = services.rule_save(actor=users["admin"], data=data)
    assert rule.yellow_threshold == 2 and rule.scope_lists == []
    with pytest.raises(ValidationError) as exc:
        services.rule_save(actor=users["admin"], data={**data, "red": 1}, rule=rule)
    assert "红灯阈值应大于黄灯阈值" in exc.value.message_dict["red"][0]
    with pytest.raises(ConflictError):
        services.rule_save(actor=users["admin"], data=data, rule=rule, expected_version=9)
    other = rule_factory()
    with pytest.raises(ValidationError, match="已被其他规则使用"):
        services.rule_save(actor=users["admin"], data={**data, "code": other.code}, rule=rule)
    rule = services.rule_save(actor=users["admin"], data={**data, "red": 6}, rule=rule, expected_version=1)
    assert rule.red_threshold == 6 and rule.version == 2
    event = Event.objects.get(verb="alert_rule_update")
    assert event.details["red_threshold"] == ["5.0000", "6"]
