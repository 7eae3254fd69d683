"""Every transition of the ledger with the owner (reporter), the assigner, the assignee and an
outsider; the satisfaction gate; city close with a reason; extensions; working-day deadlines;
version conflicts; attachments and mail."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import get_problem, visible_problems
from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.factories import UserFactory
from majorprojects.problems import services
from majorprojects.problems.models import (
    CloseKind,
    Confirmation,
    Extension,
    Level,
    Problem,
    Source,
    Status,
)

from .conftest import assign, raise_problem

PDF = b"%PDF-1.4 test"


def errors_of(exc) -> set:
    return set(exc.value.message_dict)


# --- Raising and scope ------------------------------------------------------------------------


def test_project_unit_raises_a_problem_on_its_own_project(raised, users, projects):
    assert raised.status == Status.REPORTED
    assert raised.source == Source.PROJECT_UNIT
    assert raised.raising_unit == users["owner_a"].unit
    assert raised.region == projects["a"].region
    assert raised.title == "园区二期用地指标未落实，影响厂房开工"
    event = Event.objects.get(verb="problem_raise")
    assert event.project == projects["a"] and event.target_id == str(raised.pk)


@pytest.mark.parametrize("who", ["qingshan", "leader", "auditor", "jtj"])
def test_outsiders_cannot_raise_on_a_project_outside_their_scope(who, users, projects, ledger):
    with pytest.raises(PermissionDenied):
        raise_problem(users, projects, ledger, actor=users[who])
    assert not Problem.objects.exists()


def test_project_unit_cannot_raise_on_another_units_project(users, projects, ledger):
    with pytest.raises(PermissionDenied):
        raise_problem(users, projects, ledger, project=projects["b"])


def test_county_raises_from_a_site_visit(users, projects, ledger):
    problem = raise_problem(users, projects, ledger, actor=users["linchuan"], source=Source.VISIT)
    assert problem.source == Source.VISIT
    county = raise_problem(users, projects, ledger, actor=users["linchuan"])
    assert county.source == Source.COUNTY


def test_raise_refuses_missing_fields_and_foreign_sources(users, projects, ledger):
    with pytest.raises(ValidationError) as exc:
        raise_problem(users, projects, ledger, description="  ", category=None, urgency="x")
    assert errors_of(exc) == {"description", "category", "urgency"}
    with pytest.raises(ValidationError) as exc:
        raise_problem(users, projects, ledger, source=Source.VISIT)
    assert errors_of(exc) == {"source"}
    with pytest.raises(ValidationError) as exc:
        raise_problem(users, projects, ledger, actor=users["admin"], source=Source.REPORT)
    assert errors_of(exc) == {"source"}
    assert not Problem.objects.exists()


def test_raise_with_the_same_key_raises_once(users, projects, ledger):
    first = raise_problem(users, projects, ledger, key="k-1")
    again = raise_problem(users, projects, ledger, key="k-1")
    assert first.pk == again.pk and Problem.objects.count() == 1


def test_raise_refuses_other_projects_outside_scope(users, projects, ledger):
    with pytest.raises(ValidationError) as exc:
        raise_problem(users, projects, ledger, other_projects=[projects["b"]])
    assert errors_of(exc) == {"other_projects"}
    problem = raise_problem(users, projects, ledger, other_projects=[projects["zone"]])
    assert list(problem.other_projects.all()) == [projects["zone"]]


def test_who_sees_a_problem(assigned, users, ledger):
    seen = {
        name
        for name, user in {**users, **ledger}.items()
        if hasattr(user, "role") and visible_problems(user).filter(pk=assigned.pk).exists()
    }
    # city and leader all; county over the project; the reporter; the lead and the co-unit
    assert seen == {"admin", "leader", "linchuan", "owner_a", "zrzyj_user", "sthjj_user"}
    from django.http import Http404

    with pytest.raises(Http404):
        get_problem(users["qingshan"], assigned.pk)


def test_a_bureau_sees_a_problem_only_once_it_is_assigned(raised, users, ledger):
    assert not visible_problems(ledger["zrzyj_user"]).exists()
    assign(raised, users, ledger)
    assert visible_problems(ledger["zrzyj_user"]).count() == 1


# --- Analysis ---------------------------------------------------------------------------------


def test_city_accepts(raised, users):
    problem = services.problem_accept(actor=users["admin"], problem=raised, expected_version=1)
    assert (problem.status, problem.level, problem.version) == (Status.ACCEPTED, Level.CITY, 2)
    assert Event.objects.filter(verb="problem_accept").count() == 1


def test_county_accepts_within_its_region_and_then_the_other_county_cannot(raised, users):
    with pytest.raises(PermissionDenied):
        services.problem_accept(actor=users["qingshan"], problem=raised)
    problem = services.problem_accept(actor=users["linchuan"], problem=raised)
    assert problem.level == Level.COUNTY


@pytest.mark.parametrize("who", ["owner_a", "leader", "jtj"])
def test_owner_and_outsiders_cannot_accept(raised, users, who):
    with pytest.raises(PermissionDenied):
        services.problem_accept(actor=users[who], problem=raised)


def test_a_problem_the_city_took_is_no_longer_the_countys(raised, users, ledger):
    services.problem_accept(actor=users["admin"], problem=raised)
    with pytest.raises(PermissionDenied):
        assign(raised, users, ledger, actor=users["linchuan"])


def test_accept_twice_and_stale_version(raised, users):
    with pytest.raises(ConflictError):
        services.problem_accept(actor=users["admin"], problem=raised, expected_version=7)
    services.problem_accept(actor=users["admin"], problem=raised)
    with pytest.raises(ValidationError, match="待交办"):
        services.problem_accept(actor=users["admin"], problem=raised)


def test_merge_duplicate_into_the_kept_item(raised, users, projects, ledger):
    duplicate = raise_problem(users, projects, ledger, project=projects["zone"], description="二期用地指标")
    with pytest.raises(PermissionDenied):
        services.problem_merge(actor=users["owner_a"], problem=duplicate, into=raised)
    kept = services.problem_merge(actor=users["admin"], problem=duplicate, into=raised, reason="同一事项")
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == kept
    assert list(kept.other_projects.all()) == [projects["zone"]]
    assert set(Event.objects.values_list("verb", flat=True)) >= {"problem_merge", "problem_merged_in"}


def test_merge_refuses_self_and_closed_targets(raised, users, projects, ledger):
    with pytest.raises(ValidationError):
        services.problem_merge(actor=users["admin"], problem=raised, into=raised)
    other = raise_problem(users, projects, ledger)
    services.problem_close(actor=users["admin"], problem=other, reason="已另行解决")
    with pytest.raises(ValidationError) as exc:
        services.problem_merge(actor=users["admin"], problem=raised, into=other)
    assert errors_of(exc) == {"into"}


def test_split_into_sub_items(raised, users, ledger):
    with pytest.raises(PermissionDenied):
        services.problem_split(actor=users["owner_a"], problem=raised, items=[{"description": "a"}] * 2)
    children = services.problem_split(
        actor=users["admin"],
        problem=raised,
        items=[{"description": "用地指标"}, {"description": "环评批复", "category": ledger["other"]}],
    )
    raised.refresh_from_db()
    assert raised.status == Status.SPLIT
    assert [c.status for c in children] == [Status.ACCEPTED, Status.ACCEPTED]
    assert [c.category for c in children] == [ledger["land"], ledger["other"]]
    assert all(c.parent == raised and c.raising_unit == raised.raising_unit for c in children)
    with pytest.raises(ValidationError):
        services.problem_split(actor=users["admin"], problem=children[0], items=[{"description": "x"}] * 2)


def test_split_needs_two_described_items(raised, users):
    with pytest.raises(ValidationError) as exc:
        services.problem_split(actor=users["admin"], problem=raised, items=[{"description": "x"}])
    assert errors_of(exc) == {"items"}
    with pytest.raises(ValidationError) as exc:
        services.problem_split(
            actor=users["admin"], problem=raised, items=[{"description": "x"}, {"description": ""}]
        )
    assert errors_of(exc) == {"items.1.description"}
    raised.refresh_from_db()
    assert raised.status == Status.REPORTED and Problem.objects.count() == 1


# --- Assignment -------------------------------------------------------------------------------


def test_assign_with_the_five_in_place(assigned, ledger):
    assert assigned.status == Status.ASSIGNED
    assert assigned.lead_unit == ledger["zrzyj"]
    assert list(assigned.co_units.all()) == [ledger["sthjj"]]
    assert assigned.deadline == date(2026, 12, 31) and assigned.deadline_workdays is None
    assert assigned.first_reply_due == date(2026, 11, 30)  # 7 calendar days by default
    assert assigned.level == Level.CITY and assigned.accepted_at is not None


def test_assign_refuses_missing_five_in_place(raised, users, ledger):
    with pytest.raises(ValidationError) as exc:
        assign(
            raised,
            users,
            ledger,
            lead_unit=None,
            leader=None,
            responsible_name="",
            solution=" ",
            deadline=None,
        )
    assert errors_of(exc) == {"lead_unit", "leader", "responsible_name", "solution", "deadline"}


def test_assign_refuses_a_deadline_before_today_and_two_deadlines(raised, users, ledger):
    with pytest.raises(ValidationError, match="不能早于今天") as exc:
        assign(raised, users, ledger, deadline=date(2026, 11, 22))
    assert errors_of(exc) == {"deadline"}
    with pytest.raises(ValidationError) as exc:
        assign(raised, users, ledger, workdays=5)
    assert errors_of(exc) == {"deadline"}
    with pytest.raises(ValidationError) as exc:
        assign(raised, users, ledger, deadline=None, workdays=0)
    assert errors_of(exc) == {"workdays"}


@pytest.mark.parametrize(
    ("today", "workdays", "deadline"),
    [
        # Spring Festival 2026: Sat 14 Feb is a make-up working day, 15–23 Feb are off.
        (date(2026, 2, 12), 5, date(2026, 2, 26)),
        # National Day 2026: 1–7 Oct off, Sat 10 Oct is a make-up working day.
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        # An ordinary week: Monday + 5 working days is next Monday.
        (date(2026, 11, 23), 5, date(2026, 11, 30)),
    ],
)
def test_deadline_in_working_days_skips_statutory_holidays(
    monkeypatch, raised, users, ledger, today, workdays, deadline
):
    monkeypatch.setattr(timezone, "localdate", lambda *a: today)
    problem = assign(raised, users, ledger, deadline=None, workdays=workdays)
    assert (problem.deadline, problem.deadline_workdays) == (deadline, workdays)


def test_first_reply_in_working_days_when_configured(settings, raised, users, ledger):
    settings.PROBLEMS = {"first_reply_days": 5, "first_reply_workdays": True}
    problem = assign(raised, users, ledger)
    assert problem.first_reply_due == date(2026, 11, 30)


@pytest.mark.parametrize("who", ["owner_a", "leader", "qingshan", "jtj"])
def test_only_the_assigner_assigns(raised, users, ledger, who):
    with pytest.raises(PermissionDenied):
        assign(raised, users, ledger, actor=users[who])


def test_lead_unit_cannot_assign_itself(assigned, users, ledger):
    with pytest.raises(PermissionDenied):
        assign(assigned, users, ledger, actor=ledger["zrzyj_user"])


def test_county_assigns_a_problem_in_its_power(raised, users, ledger):
    problem = assign(raised, users, ledger, actor=users["linchuan"])
    assert problem.level == Level.COUNTY and problem.assigned_by == users["linchuan"]


def test_reassigning_to_another_lead_restarts_the_first_reply(assigned, users, ledger):
    services.problem_progress(actor=ledger["zrzyj_user"], problem=assigned, text="已接收")
    problem = assign(assigned, users, ledger, lead_unit=ledger["sthjj"], co_units=[ledger["sthjj"]])
    assert problem.first_reply_at is None and problem.first_reply_due == date(2026, 11, 30)
    assert list(problem.co_units.all()) == []  # the lead is not its own co-unit


# --- Handling ---------------------------------------------------------------------------------


def test_lead_units_first_note_is_the_first_reply(assigned, ledger):
    version = assigned.version
    note = services.problem_progress(actor=ledger["zrzyj_user"], problem=assigned, text="已赴现场核实")
    assigned.refresh_from_db()
    assert note.is_lead and assigned.first_reply_at == note.created_at
    assert assigned.version == version  # notes never make an open form stale


def test_co_unit_posts_progress_without_counting_as_first_reply(assigned, ledger):
    note = services.problem_progress(actor=ledger["sthjj_user"], problem=assigned, text="环评材料已受理")
    assigned.refresh_from_db()
    assert not note.is_lead and assigned.first_reply_at is None and assigned.last_progress_at


@pytest.mark.parametrize("who", ["owner_a", "admin", "linchuan", "jtj"])
def test_only_lead_and_co_units_post_progress(assigned, users, who):
    with pytest.raises(PermissionDenied):
        services.problem_progress(actor=users[who], problem=assigned, text="x")


def test_progress_needs_text_and_handling(raised, assigned, ledger):
    with pytest.raises(ValidationError) as exc:
        services.problem_progress(actor=ledger["zrzyj_user"], problem=assigned, text=" ")
    assert errors_of(exc) == {"text"}
    services.problem_resolve(actor=ledger["zrzyj_user"], problem=assigned, resolution="已解决")
    with pytest.raises(ValidationError, match="待确认"):
        services.problem_progress(actor=ledger["zrzyj_user"], problem=assigned, text="补充")


# --- Extensions -------------------------------------------------------------------------------


def test_extension_requested_by_lead_and_approved_by_assigner(assigned, users, ledger):
    ext = services.problem_extension_request(
        actor=ledger["zrzyj_user"], problem=assigned, until=date(2027, 1, 31), reason="待省厅批复"
    )
    assigned.refresh_from_db()
    assert assigned.deadline == date(2026, 12, 31)  # unchanged until decided
    with pytest.raises(PermissionDenied):
        services.problem_extension_decide(actor=ledger["zrzyj_user"], extension=ext, approve=True)
    with pytest.raises(PermissionDenied):
        services.problem_extension_decide(actor=users["owner_a"], extension=ext, approve=True)
    services.problem_extension_decide(actor=users["admin"], extension=ext, approve=True)
    assigned.refresh_from_db()
    ext.refresh_from_db()
    assert assigned.deadline == date(2027, 1, 31) and ext.state == Extension.State.APPROVED
    assert ext.previous_deadline == date(2026, 12, 31)
    with pytest.raises(ValidationError, match="已审批"):
        services.problem_extension_decide(actor=users["admin"], extension=ext, approve=False, note="x")


def test_extension_rejected_keeps_the_deadline_and_needs_a_note(assigned, users, ledger):
    ext = services.problem_extension_request(
        actor=ledger["zrzyj_user"], problem=assigned, until=date(2027, 1, 31), reason="待批复"
    )
    with pytest.raises(ValidationError) as exc:
        services.problem_extension_decide(actor=users["admin"], extension=ext, approve=False)
    assert errors_of(exc) == {"note"}
    services.problem_extension_decide(actor=users["admin"], extension=ext, approve=False, note="时限内可完成")
    assigned.refresh_from_db()
    assert assigned.deadline == date(2026, 12, 31)


def test_extension_request_checks(assigned, users, ledger):
    with pytest.raises(PermissionDenied):
        services.problem_extension_request(
            actor=ledger["sthjj_user"], problem=assigned, until=date(2027, 1, 31), reason="x"
        )
    with pytest.raises(ValidationError) as exc:
        services.problem_extension_request(
            actor=ledger["zrzyj_user"], problem=assigned, until=date(2026, 12, 1), reason=""
        )
    assert errors_of(exc) == {"until", "reason"}
    services.problem_extension_request(
        actor=ledger["zrzyj_user"], problem=assigned, until=date(2027, 1, 31), reason="x"
    )
    with pytest.raises(ValidationError, match="待审批"):
        services.problem_extension_request(
            actor=ledger["zrzyj_user"], problem=assigned, until=date(2027, 2, 28), reason="y"
        )


# --- Resolution and the satisfaction gate -------------------------------------------------------


@pytest.mark.parametrize("who", ["sthjj_user", "owner_a", "admin"])
def test_only_the_lead_unit_resolves(assigned, users, ledger, who):
    actor = {**users, **ledger}[who]
    with pytest.raises(PermissionDenied):
        services.problem_resolve(actor=actor, problem=assigned, resolution="x")


def test_resolve_needs_what_was_done_and_the_current_version(assigned, ledger):
    with pytest.raises(ValidationError) as exc:
        services.problem_resolve(actor=ledger["zrzyj_user"], problem=assigned, resolution="")
    assert errors_of(exc) == {"resolution"}
    with pytest.raises(ConflictError):
        services.problem_resolve(
            actor=ledger["zrzyj_user"],
            problem=assigned,
            resolution="x",
            expected_version=assigned.version - 1,
        )


def test_satisfied_reporter_closes(resolved, users):
    problem = services.problem_confirm(actor=users["owner_a"], problem=resolved, satisfied=True)
    assert problem.status == Status.CLOSED and problem.close_kind == CloseKind.SATISFIED
    assert problem.closed_at is not None
    assert Confirmation.objects.get().satisfied


def test_a_colleague_of_the_raising_unit_may_confirm(resolved, city):
    colleague = UserFactory(role=Role.PROJECT_UNIT, unit=city["owner_a"])
    assert services.problem_confirm(actor=colleague, problem=resolved, satisfied=True).status == Status.CLOSED


@pytest.mark.parametrize("who", ["admin", "linchuan", "zrzyj_user", "leader"])
def test_nobody_but_the_reporter_confirms(resolved, users, ledger, who):
    actor = {**users, **ledger}[who]
    with pytest.raises(PermissionDenied):
        services.problem_confirm(actor=actor, problem=resolved, satisfied=True)
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


def test_unsatisfied_reporter_reopens_with_a_reason_and_the_loop_closes(resolved, users, ledger):
    with pytest.raises(ValidationError) as exc:
        services.problem_confirm(actor=users["owner_a"], problem=resolved, satisfied=False)
    assert errors_of(exc) == {"reason"}
    problem = services.problem_confirm(
        actor=users["owner_a"], problem=resolved, satisfied=False, reason="指标仍未下达"
    )
    assert (problem.status, problem.reopen_count, problem.resolved_at) == (Status.REOPENED, 1, None)
    services.problem_progress(actor=ledger["zrzyj_user"], problem=problem, text="已报省厅")
    services.problem_resolve(actor=ledger["zrzyj_user"], problem=problem, resolution="指标已下达")
    problem = services.problem_confirm(actor=users["owner_a"], problem=problem, satisfied=True)
    assert problem.status == Status.CLOSED
    assert list(Confirmation.objects.values_list("satisfied", flat=True)) == [False, True]


def test_confirm_only_a_resolved_item(assigned, users):
    with pytest.raises(ValidationError, match="办理中"):
        services.problem_confirm(actor=users["owner_a"], problem=assigned, satisfied=True)


def test_city_closes_with_a_recorded_reason(assigned, users):
    with pytest.raises(ValidationError) as exc:
        services.problem_close(actor=users["admin"], problem=assigned, reason=" ")
    assert errors_of(exc) == {"reason"}
    problem = services.problem_close(
        actor=users["admin"], problem=assigned, reason="项目已终止，问题不再存在"
    )
    assert (problem.status, problem.close_kind) == (Status.CLOSED, CloseKind.CITY)
    assert problem.close_reason == "项目已终止，问题不再存在"
    with pytest.raises(ValidationError):
        services.problem_close(actor=users["admin"], problem=problem, reason="again")


@pytest.mark.parametrize("who", ["linchuan", "owner_a", "zrzyj_user", "leader"])
def test_only_the_city_closes_without_satisfaction(resolved, users, ledger, who):
    with pytest.raises(PermissionDenied):
        services.problem_close(actor={**users, **ledger}[who], problem=resolved, reason="x")


# --- Escalation by hand -----------------------------------------------------------------------


def test_escalate_to_a_vice_mayor_and_record_the_meeting(assigned, users, ledger):
    with pytest.raises(PermissionDenied):
        services.problem_escalate(
            actor=users["owner_a"], problem=assigned, leader=ledger["vice_mayor"], reason="x"
        )
    with pytest.raises(ValidationError) as exc:
        services.problem_escalate(actor=users["admin"], problem=assigned, leader=ledger["clerk"], reason="")
    assert errors_of(exc) == {"leader", "reason"}
    coordination = services.problem_escalate(
        actor=users["admin"], problem=assigned, leader=ledger["vice_mayor"], reason="涉及省级指标"
    )
    assigned.refresh_from_db()
    assert assigned.escalated_to == ledger["vice_mayor"]
    with pytest.raises(ValidationError) as exc:
        services.coordination_record(
            actor=users["admin"],
            coordination=coordination,
            meeting_date=date(2026, 11, 24),
            minutes="",
            tasks=[{"text": "", "unit": None, "due_date": None}],
        )
    assert errors_of(exc) == {"meeting_date", "minutes", "tasks.0.text", "tasks.0.unit", "tasks.0.due_date"}
    services.coordination_record(
        actor=users["admin"],
        coordination=coordination,
        meeting_date=date(2026, 11, 20),
        minutes="会议议定由自然资源局向省厅争取指标",
        tasks=[{"text": "报送指标申请", "unit": ledger["zrzyj"], "due_date": date(2026, 12, 5)}],
    )
    task = coordination.tasks.get()
    with pytest.raises(PermissionDenied):
        services.coordination_task_done(actor=ledger["sthjj_user"], task=task)
    services.coordination_task_done(actor=ledger["zrzyj_user"], task=task)
    task.refresh_from_db()
    assert task.done and task.done_at
    with pytest.raises(PermissionDenied):
        services.coordination_record(
            actor=ledger["zrzyj_user"],
            coordination=coordination,
            meeting_date=date(2026, 11, 20),
            minutes="x",
        )


# --- Attachments ------------------------------------------------------------------------------


def test_attachment_checked_like_project_attachments(raised, users, ledger, settings):
    attachment = services.problem_attachment_add(
        actor=users["owner_a"], problem=raised, name="现场.pdf", content=PDF
    )
    assert attachment.size == len(PDF) and attachment.content_type == "application/pdf"
    with pytest.raises(ValidationError, match="内容与扩展名"):
        services.problem_attachment_add(actor=users["owner_a"], problem=raised, name="x.pdf", content=b"MZ..")
    with pytest.raises(ValidationError, match="仅支持"):
        services.problem_attachment_add(actor=users["owner_a"], problem=raised, name="x.exe", content=b"MZ")
    settings.ATTACHMENT_MAX_BYTES = 4
    with pytest.raises(ValidationError, match="上限"):
        services.problem_attachment_add(actor=users["owner_a"], problem=raised, name="y.pdf", content=PDF)
    with pytest.raises(PermissionDenied):
        services.problem_attachment_add(actor=ledger["sthjj_user"], problem=raised, name="z.pdf", content=PDF)
    with pytest.raises(PermissionDenied):
        services.problem_attachment_delete(actor=users["linchuan"], attachment=attachment)
    services.problem_attachment_delete(actor=users["owner_a"], attachment=attachment)
    assert not raised.attachments.exists()


# --- Mail -------------------------------------------------------------------------------------


def test_mail_on_assignment_when_enabled(settings, raised, users, ledger, django_capture_on_commit_callbacks):
    settings.PROBLEMS = {"email": True}
    with django_capture_on_commit_callbacks(execute=True):
        assign(raised, users, ledger)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zr@example.cn"] and "新交办问题" in mail.outbox[0].subject


def test_no_mail_by_default(raised, users, ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assign(raised, users, ledger)
    assert mail.outbox == []


def test_mail_failure_never_fails_the_service(
    settings, monkeypatch, raised, users, ledger, django_capture_on_commit_callbacks
):
    settings.PROBLEMS = {"email": True}

    def broken(*args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr("majorprojects.problems.notify.send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        problem = assign(raised, users, ledger)
    assert problem.status == Status.ASSIGNED


def test_reporter_is_mailed_when_resolved(
    settings, assigned, users, ledger, django_capture_on_commit_callbacks
):
    settings.PROBLEMS = {"email": True}
    users["owner_a"].email = "owner@example.cn"
    users["owner_a"].save()
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_resolve(actor=ledger["zrzyj_user"], problem=assigned, resolution="已解决")
    assert [m.to for m in mail.outbox] == [["owner@example.cn"]]


# --- Configuration ----------------------------------------------------------------------------


def test_categories_are_configured_by_the_city(users):
    with pytest.raises(PermissionDenied):
        services.category_save(actor=users["linchuan"], code="power", name="用电")
    with pytest.raises(ValidationError) as exc:
        services.category_save(actor=users["admin"], code="land", name="用地")
    assert errors_of(exc) == {"code", "name"}
    category = services.category_save(actor=users["admin"], code="power", name="用能用电", sort_order=95)
    assert category.pk and Event.objects.filter(verb="problem_category_add").exists()
