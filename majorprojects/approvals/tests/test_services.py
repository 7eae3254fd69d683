"""Changing ledger items: who may (owner, county, department, city admin; not the leader, another
county, another owner, the auditor), what is refused (with the field named, nothing written),
stale versions, promise-based approvals, attachments, and working-day deadlines across the
Spring Festival and National Day holidays including their make-up working days (调休)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from majorprojects.approvals import services
from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.projects.models import Attachment

from .conftest import item

pytestmark = pytest.mark.django_db

DONE = {
    "status": ItemStatus.DONE,
    "actual_date": date(2026, 10, 12),
    "document_number": "云发改审批〔2026〕88号",
}


def update(actor, it, **fields):
    return services.item_update(actor=actor, item=it, fields=fields, expected_version=it.version)


def errors_of(exc) -> dict:
    return {k: " ".join(v) for k, v in exc.value.message_dict.items()}


@pytest.mark.parametrize("who", ["owner_a", "linchuan", "admin"])
def test_owner_county_and_city_admin_update_an_item(ledgers, users, who):
    it = item(ledgers["a"], "feasibility")
    saved = update(users[who], it, **DONE, responsible_person="李四")
    assert saved.status == ItemStatus.DONE and saved.version == it.version + 1
    event = Event.objects.get(verb="approval_item_update", target_id=str(it.pk))
    assert event.project_id == ledgers["a"].pk and event.actor == users[who]
    assert event.details["status"] == ["not_started", "done"]
    assert event.target_label == "前期工作：可研批复"


def test_department_updates_the_projects_it_governs(ledgers, users):
    it = item(ledgers["b"], "eia")
    assert update(users["jtj"], it, status=ItemStatus.IN_PROGRESS).status == ItemStatus.IN_PROGRESS
    with pytest.raises(PermissionDenied):
        update(users["jtj"], item(ledgers["a"], "eia"), status=ItemStatus.IN_PROGRESS)


@pytest.mark.parametrize("who", ["qingshan", "leader", "auditor", "jtj"])
def test_outsiders_and_readers_cannot_update(ledgers, users, who):
    it = item(ledgers["a"], "feasibility")
    with pytest.raises(PermissionDenied):
        update(users[who], it, status=ItemStatus.IN_PROGRESS)
    assert ApprovalItem.objects.get(pk=it.pk).version == it.version


def test_project_unit_cannot_touch_another_owners_ledger(ledgers, users):
    with pytest.raises(PermissionDenied):
        update(users["owner_a"], item(ledgers["b"], "eia"), status=ItemStatus.IN_PROGRESS)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({**DONE, "actual_date": date(2026, 11, 24)}, "actual_date", "不能晚于今天"),
        ({**DONE, "document_number": ""}, "document_number", "须填写批复文号"),
        ({"status": ItemStatus.DONE, "document_number": "X"}, "actual_date", "须填写实际办结日期"),
        ({"status": ItemStatus.NOT_APPLICABLE}, "not_applicable_reason", "须填写原因"),
        (
            {"status": ItemStatus.IN_PROGRESS, "actual_date": date(2026, 10, 1)},
            "actual_date",
            "不应填写实际办结日期",
        ),
        ({**DONE, "submitted_date": date(2026, 10, 20)}, "actual_date", "不能早于受理日期"),
        ({"submitted_date": date(2026, 12, 1)}, "submitted_date", "不能晚于今天"),
        (
            {"status": ItemStatus.PROMISED, "actual_date": date(2026, 10, 1)},
            "promise_due_date",
            "承诺补齐期限",
        ),
        (
            {
                "status": ItemStatus.PROMISED,
                "actual_date": date(2026, 10, 1),
                "promise_due_date": date(2026, 9, 1),
            },
            "promise_due_date",
            "不能早于",
        ),
        ({**DONE, "papers_supplied_date": date(2026, 10, 20)}, "papers_supplied_date", "只有容缺承诺"),
        ({"status": "approved"}, "status", "请选择办理状态"),
        ({"note": "长" * 501}, "note", "最多 500 个字"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(ledgers, users, fields, field, message):
    it = item(ledgers["a"], "feasibility")
    with pytest.raises(ValidationError) as exc:
        update(users["owner_a"], it, **fields)
    assert message in errors_of(exc)[field]
    fresh = ApprovalItem.objects.get(pk=it.pk)
    assert (fresh.status, fresh.version) == (ItemStatus.NOT_STARTED, it.version)
    assert not Event.objects.filter(verb="approval_item_update").exists()


def test_stale_version_is_a_conflict(ledgers, users):
    it = item(ledgers["a"], "feasibility")
    stale = it.version
    update(users["owner_a"], it, responsible_person="张三")
    with pytest.raises(ConflictError) as exc:
        services.item_update(
            actor=users["linchuan"], item=it, fields={"responsible_person": "王五"}, expected_version=stale
        )
    assert "已被他人修改" in exc.value.message
    assert ApprovalItem.objects.get(pk=it.pk).responsible_person == "张三"


def test_not_applicable_needs_a_reason_and_clears_dates(ledgers, users):
    it = item(ledgers["a"], "proposal")
    with pytest.raises(ValidationError) as exc:
        services.item_mark_not_applicable(
            actor=users["owner_a"], item=it, reason="  ", expected_version=it.version
        )
    assert "须填写原因" in errors_of(exc)["not_applicable_reason"]
    saved = services.item_mark_not_applicable(
        actor=users["owner_a"], item=it, reason="已纳入规划，免于编报项目建议书", expected_version=it.version
    )
    assert saved.status == ItemStatus.NOT_APPLICABLE and saved.not_applicable_reason.startswith("已纳入规划")
    again = update(users["owner_a"], saved, status=ItemStatus.IN_PROGRESS)
    assert again.not_applicable_reason == ""


def test_promise_then_papers_supplied(ledgers, users):
    it = item(ledgers["a"], "eia")
    promised = services.item_record_promise(
        actor=users["owner_a"],
        item=it,
        approved_on=date(2026, 9, 18),
        promise_workdays=3,
        document_number="云环审〔2026〕12号",
        expected_version=it.version,
    )
    # Fri 18 Sep + 3 statutory working days: Sun 20 Sep is a make-up working day (调休) → 22 Sep.
    assert promised.promise_due_date == date(2026, 9, 22)
    assert promised.status == ItemStatus.PROMISED
    with pytest.raises(ValidationError) as exc:
        services.item_papers_supplied(
            actor=users["owner_a"], item=promised, on_date=date(2026, 9, 1), expected_version=promised.version
        )
    assert "不能早于" in errors_of(exc)["papers_supplied_date"]
    done = services.item_papers_supplied(
        actor=users["owner_a"], item=promised, on_date=date(2026, 10, 9), expected_version=promised.version
    )
    assert done.status == ItemStatus.DONE and done.papers_supplied_date == date(2026, 10, 9)
    assert list(Event.objects.filter(target_id=str(it.pk)).values_list("verb", flat=True).order_by("id")) == [
        "approval_item_promise",
        "approval_item_papers_supplied",
    ]
    with pytest.raises(ValidationError):
        services.item_papers_supplied(
            actor=users["owner_a"], item=done, on_date=date(2026, 10, 9), expected_version=done.version
        )


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        # Thu 12 Feb 2026: 13, Sat 14 (调休), then 15–23 Feb Spring Festival, 24 Feb … → 18 Mar.
        (date(2026, 2, 12), date(2026, 3, 18)),
        # Fri 25 Sep 2026: 28–30 Sep, 1–7 Oct National Day, 8, 9, Sat 10 Oct (调休) … → 29 Oct.
        (date(2026, 9, 25), date(2026, 10, 29)),
    ],
)
def test_planned_date_from_statutory_working_days(ledgers, users, submitted, expected):
    it = item(ledgers["b"], "verification")  # 项目核准: 20 working days from acceptance
    saved = update(users["qingshan"], it, status=ItemStatus.IN_PROGRESS, submitted_date=submitted)
    assert saved.planned_date == expected
    explicit = update(users["qingshan"], saved, planned_date=date(2026, 12, 31))
    assert explicit.planned_date == date(2026, 12, 31)


def test_promise_due_in_working_days_across_spring_festival(ledgers, users):
    it = item(ledgers["a"], "energy")
    saved = services.item_record_promise(
        actor=users["admin"],
        item=it,
        approved_on=date(2026, 2, 12),
        promise_workdays=5,
        expected_version=it.version,
    )
    # 13 Feb, Sat 14 Feb (调休), 24, 25, 26 Feb: the holiday week does not count.
    assert saved.promise_due_date == date(2026, 2, 26)


def test_attachment_is_checked_and_kept_as_the_projects_approval_file(ledgers, users):
    it = item(ledgers["a"], "feasibility")
    with pytest.raises(ValidationError) as exc:
        services.item_attach(
            actor=users["owner_a"],
            item=it,
            name="批复.pdf",
            content=b"MZ\x90\x00",
            expected_version=it.version,
        )
    assert "文件内容与扩展名" in str(exc.value)
    assert ApprovalItem.objects.get(pk=it.pk).version == it.version
    saved = services.item_attach(
        actor=users["owner_a"],
        item=it,
        name="可研批复.pdf",
        content=b"%PDF-1.7 test",
        expected_version=it.version,
    )
    attachment = Attachment.objects.get(pk=saved.attachment_id)
    assert attachment.project_id == ledgers["a"].pk and attachment.kind == "approval"
    assert Event.objects.filter(verb="approval_item_attach", target_id=str(it.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.item_attach(
            actor=users["qingshan"],
            item=saved,
            name="x.pdf",
            content=b"%PDF-1.7",
            expected_version=saved.version,
        )
