"""Review findings on the problem ledger: reporters of merged duplicates follow them (and who
confirms then), upload sizes checked before reading and no orphan files, extensions only while in
handling, assignment inputs (leader, deadline bound, handling units), the API's required version,
the region filter for leaders, related problems one may not open, and merged duplicates left out
of the default list."""

import io
import json
from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import (
    is_problem_confirmer,
    is_problem_reporter,
    problem_filter_regions,
    visible_problems,
)
from majorprojects.accounts.services import token_create
from majorprojects.audit.models import Event
from majorprojects.factories import ProjectFactory, UserFactory
from majorprojects.organisation.models import Region
from majorprojects.problems import selectors, services
from majorprojects.problems.forms import AssignForm, ProblemFilterForm
from majorprojects.problems.models import Extension, Problem, ProblemAttachment, Status

from .conftest import assign, raise_problem

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%test\n"


def as_user(client, user):
    client.force_login(user)
    return client


def refresh(problem) -> Problem:
    return Problem.objects.get(pk=problem.pk)


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def second(city, projects):
    """Another enterprise (青山县城市发展集团) with an account, and a project of its in 临川区 —
    the same region as project a, so duplicates of a's problems may be raised on it."""
    user = UserFactory(username="owner_b", role=Role.PROJECT_UNIT, unit=city["owner_b"], email="b@example.cn")
    project = ProjectFactory(
        name="临川物流园", owner_unit=city["owner_b"], region=city["linchuan"], sector=city["industry"]
    )
    return {"user": user, "project": project}


def merged_pair(users, projects, ledger, second, *, target_by="owner_a"):
    """A substation delay raised on project a (by `target_by`) and again by the second enterprise
    on its own project; the city merges the second into the first."""
    actor = users[target_by]
    target = raise_problem(users, projects, ledger, actor=actor, description="变电站迟迟未建成，无法通电")
    dup = raise_problem(
        users,
        projects,
        ledger,
        actor=second["user"],
        project=second["project"],
        description="园区变电站延期，影响试生产",
    )
    services.problem_merge(actor=users["admin"], problem=dup, into=target)
    return refresh(target), refresh(dup)


# --- 1. Reporters of merged duplicates ---------------------------------------------------------


def test_reporter_of_a_merged_duplicate_reads_the_target(users, projects, ledger, second):
    target, dup = merged_pair(users, projects, ledger, second)
    b = second["user"]
    assert set(visible_problems(b).values_list("pk", flat=True)) == {target.pk, dup.pk}
    assert is_problem_reporter(b, target)
    # Another enterprise with nothing merged reads neither.
    assert not visible_problems(users["owner_a"]).filter(pk=dup.pk).exists()


def test_enterprise_target_the_own_reporter_confirms(users, projects, ledger, second):
    target, _ = merged_pair(users, projects, ledger, second)
    target = assign(target, users, ledger)
    target = services.problem_resolve(actor=ledger["zrzyj_user"], problem=target, resolution="变电站已送电")
    b = second["user"]
    assert not is_problem_confirmer(b, target) and is_problem_confirmer(users["owner_a"], target)
    assert not selectors.actions(b, target)["confirm"]
    assert not selectors.my_problems(b)["confirm"].exists()
    with pytest.raises(PermissionDenied):
        services.problem_confirm(actor=b, problem=target, satisfied=True)
    closed = services.problem_confirm(actor=users["owner_a"], problem=target, satisfied=True)
    assert closed.status == Status.CLOSED


def test_city_raised_target_any_merged_reporter_confirms(users, projects, ledger, second):
    target, _ = merged_pair(users, projects, ledger, second, target_by="admin")
    target = assign(target, users, ledger)
    target = services.problem_resolve(actor=ledger["zrzyj_user"], problem=target, resolution="变电站已送电")
    b = second["user"]
    assert is_problem_confirmer(b, target) and selectors.actions(b, target)["confirm"]
    assert list(selectors.my_problems(b)["confirm"]) == [target]
    assert not is_problem_confirmer(users["owner_a"], target)  # owner_a has no part in it
    reopened = services.problem_confirm(actor=b, problem=target, satisfied=False, reason="仍未通电")
    assert reopened.status == Status.REOPENED


def test_resolution_mail_reaches_confirmers_and_followers(
    settings, users, projects, ledger, second, django_capture_on_commit_callbacks
):
    settings.PROBLEMS = {"email": True}
    users["owner_a"].email = "a@example.cn"
    users["owner_a"].save()
    target, _ = merged_pair(users, projects, ledger, second)
    target = assign(target, users, ledger)
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_resolve(actor=ledger["zrzyj_user"], problem=target, resolution="变电站已送电")
    sent = {m.to[0]: m.subject for m in mail.outbox}
    assert "请确认" in sent["a@example.cn"]
    assert "请确认" not in sent["b@example.cn"] and "已办结" in sent["b@example.cn"]


def test_merged_reporter_list_stays_one_query(
    client, users, projects, ledger, second, django_assert_max_num_queries
):
    for _ in range(20):
        merged_pair(users, projects, ledger, second)
    client = as_user(client, second["user"])
    # session and account (5), count, page, unit and region choices, category choices
    with django_assert_max_num_queries(11):
        response = client.get("/problems/", {"status": "all"})
    assert response.context["page"].paginator.count == 40


def test_merged_reporter_sees_the_target_page(client, users, projects, ledger, second):
    target, dup = merged_pair(users, projects, ledger, second)
    html = as_user(client, second["user"]).get(f"/problems/{dup.pk}/").content.decode()
    assert f'href="/problems/{target.pk}/"' in html and target.title in html
    assert as_user(client, second["user"]).get(f"/problems/{target.pk}/").status_code == 200


# --- 2. Uploads --------------------------------------------------------------------------------


def upload(name: str, content: bytes) -> io.BytesIO:
    """A file for the test client (not an UploadedFile, so patching those doesn't touch it)."""
    f = io.BytesIO(content)
    f.name = name
    return f


@pytest.fixture
def unreadable_uploads(monkeypatch):
    """Uploads the server receives fail if anything reads them."""

    def read(self, *args, **kwargs):
        raise AssertionError("an oversized upload was read")

    monkeypatch.setattr(UploadedFile, "read", read, raising=False)


def test_attachment_over_the_limit_is_refused_before_reading(
    client, settings, users, projects, ledger, unreadable_uploads
):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    problem = raise_problem(users, projects, ledger)
    big = upload("现场照片.pdf", PDF + b"x" * (1024 * 1024))
    response = as_user(client, users["owner_a"]).post(
        f"/problems/{problem.pk}/attachments/", {"attach-file": big}
    )
    assert response.status_code == 200
    assert "文件超过 1 MB 的上限" in response.content.decode()
    assert not ProblemAttachment.objects.exists()


def test_raise_with_an_oversized_file_creates_nothing(
    client, settings, users, projects, ledger, unreadable_uploads
):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    data = {
        "project": projects["a"].pk,
        "category": ledger["land"].pk,
        "urgency": "normal",
        "description": "用地指标未落实",
        "attachments": [
            upload("a.pdf", PDF),
            upload("大文件.pdf", PDF + b"x" * (1024 * 1024)),
        ],
    }
    response = as_user(client, users["owner_a"]).post("/problems/new/", data)
    assert "大文件.pdf：文件超过 1 MB 的上限" in response.content.decode()
    assert not Problem.objects.exists() and stored_files(settings) == []


def test_raise_checks_every_file_before_writing_any(client, settings, users, projects, ledger):
    data = {
        "project": projects["a"].pk,
        "category": ledger["land"].pk,
        "urgency": "normal",
        "description": "用地指标未落实",
        "attachments": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("假的.pdf", b"not a pdf")],
    }
    response = as_user(client, users["owner_a"]).post("/problems/new/", data)
    assert "假的.pdf：文件内容与扩展名" in response.content.decode()
    assert not Problem.objects.exists() and stored_files(settings) == []


def test_raise_removes_written_files_when_a_later_one_fails(
    client, settings, monkeypatch, users, projects, ledger
):
    real = services.problem_attachment_add
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise ValidationError({"file": "存储失败。"})
        return real(**kwargs)

    monkeypatch.setattr(services, "problem_attachment_add", second_fails)
    data = {
        "project": projects["a"].pk,
        "category": ledger["land"].pk,
        "urgency": "normal",
        "description": "用地指标未落实",
        "attachments": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", PDF + b"2")],
    }
    response = as_user(client, users["owner_a"]).post("/problems/new/", data)
    assert response.status_code == 200 and calls == ["a.pdf", "b.pdf"]
    assert not Problem.objects.exists() and stored_files(settings) == []


def test_raise_with_good_files_keeps_them(client, settings, users, projects, ledger):
    data = {
        "project": projects["a"].pk,
        "category": ledger["land"].pk,
        "urgency": "normal",
        "description": "用地指标未落实",
        "attachments": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", PDF + b"2")],
    }
    response = as_user(client, users["owner_a"]).post("/problems/new/", data)
    assert response.status_code == 302
    assert ProblemAttachment.objects.count() == 2 and len(stored_files(settings)) == 2


# --- 3. Extensions only while in handling -------------------------------------------------------


def request_extension(problem, ledger):
    return services.problem_extension_request(
        actor=ledger["zrzyj_user"], problem=problem, until=date(2027, 2, 1), reason="待省厅批复"
    )


@pytest.mark.parametrize("step", ["resolve", "close"])
def test_resolving_or_closing_cancels_a_pending_extension(users, ledger, assigned, step):
    extension = request_extension(assigned, ledger)
    if step == "resolve":
        services.problem_resolve(actor=ledger["zrzyj_user"], problem=assigned, resolution="已办")
    else:
        services.problem_close(actor=users["admin"], problem=assigned, reason="省级统筹")
    extension.refresh_from_db()
    assert extension.state == Extension.State.CANCELLED and "作废" in extension.decision_note
    event = Event.objects.filter(verb="problem_extension_cancel").get()
    assert event.target_id == str(assigned.pk)
    assert selectors.problem_timeline(assigned)[-1]["label"] == "延期申请作废"
    with pytest.raises(ValidationError, match="已作废"):
        services.problem_extension_decide(actor=users["admin"], extension=extension, approve=True)
    assert refresh(assigned).deadline == date(2026, 12, 31)


def test_a_pending_request_on_a_resolved_problem_cannot_be_approved(users, ledger, assigned):
    resolved = services.problem_resolve(actor=ledger["zrzyj_user"], problem=assigned, resolution="已办")
    # A request left pending by older data (before cancellation existed).
    extension = Extension.objects.create(
        problem=resolved,
        previous_deadline=date(2026, 12, 31),
        requested_date=date(2027, 2, 1),
        reason="旧申请",
        requested_by=ledger["zrzyj_user"],
    )
    with pytest.raises(ValidationError, match="不能审批延期"):
        services.problem_extension_decide(actor=users["admin"], extension=extension, approve=True)
    extension.refresh_from_db()
    assert extension.state == Extension.State.PENDING and refresh(resolved).deadline == date(2026, 12, 31)


def test_decide_form_only_while_handling(client, users, ledger, assigned):
    request_extension(assigned, ledger)
    page = as_user(client, users["admin"]).get(f"/problems/{assigned.pk}/")
    assert page.context["acts"]["decide"] and "同意延期" in page.content.decode()
    resolved = services.problem_resolve(actor=ledger["zrzyj_user"], problem=assigned, resolution="已办")
    Extension.objects.filter(problem=resolved).update(state=Extension.State.PENDING)
    page = as_user(client, users["admin"]).get(f"/problems/{assigned.pk}/")
    assert not page.context["acts"]["decide"] and "同意延期" not in page.content.decode()


# --- 4. Assignment inputs ----------------------------------------------------------------------


def assign_errors(problem, users, ledger, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        assign(problem, users, ledger, **kwargs)
    return caught.value.message_dict


def test_the_responsible_leader_must_be_a_leader(users, ledger, raised):
    errors = assign_errors(raised, users, ledger, leader=ledger["clerk"])
    assert errors == {"leader": ["李科员不是领导，责任领导须从市/县领导中选择。"]}
    form = AssignForm(problem=raised)
    assert list(form.fields["leader"].queryset) == [ledger["vice_mayor"]]


def test_the_deadline_is_within_two_years(users, ledger, raised):
    errors = assign_errors(raised, users, ledger, deadline=date(2028, 11, 24))
    assert errors == {"deadline": ["办理时限不能晚于 2028-11-23（两年内），请核对日期。"]}
    assert assign(raised, users, ledger, deadline=date(2028, 11, 23)).deadline == date(2028, 11, 23)
    assert services.latest_deadline(date(2028, 2, 29)) == date(2030, 2, 28)


def test_lead_and_co_units_must_handle_problems(city, users, ledger, raised):
    errors = assign_errors(raised, users, ledger, lead_unit=city["owner_a"])
    assert "不能是项目单位" in errors["lead_unit"][0]
    errors = assign_errors(raised, users, ledger, co_units=[ledger["sthjj"], city["owner_b"]])
    assert errors == {
        "co_units": ["配合单位须为在用的办理单位（不能是项目单位）：青山县城市发展集团有限公司。"]
    }
    assert refresh(raised).status == Status.REPORTED


@pytest.fixture
def api(client, users, ledger):
    def as_account(user):
        _, key = token_create(actor=user, name="对接")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        def post(path, body):
            return client.post(
                f"/api/problems{path}", data=json.dumps(body), content_type="application/json", **auth
            )

        return post

    return as_account


def api_errors(response) -> dict:
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


def test_the_api_applies_the_same_assignment_rules(api, city, users, ledger, raised):
    post = api(users["admin"])
    body = {
        "lead_unit_id": ledger["zrzyj"].pk,
        "leader_id": ledger["vice_mayor"].pk,
        "responsible_name": "张科长",
        "solution": "方案",
        "deadline": "2026-12-31",
        "version": raised.version,
    }
    url = f"/{raised.pk}/assign"
    assert (
        "不能是项目单位"
        in api_errors(post(url, {**body, "lead_unit_id": city["owner_a"].pk}))["body.lead_unit_id"]
    )
    assert (
        "不能是项目单位"
        in api_errors(post(url, {**body, "co_unit_ids": [city["owner_b"].pk]}))["body.co_unit_ids"]
    )
    assert api_errors(post(url, {**body, "leader_id": ledger["clerk"].pk})) == {
        "body.leader_id": "李科员不是领导，责任领导须从市/县领导中选择。"
    }
    assert api_errors(post(url, {**body, "deadline": "2030-01-01"})) == {
        "body.deadline": "办理时限不能晚于 2028-11-23（两年内），请核对日期。"
    }
    assert post(url, body).status_code == 200


# --- 5. The API requires the version for state changes ------------------------------------------


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("accept", {}),
        ("merge", {"into_id": 1}),
        ("split", {"items": [{"description": "一"}, {"description": "二"}]}),
        ("assign", {"lead_unit_id": 1, "leader_id": 1, "responsible_name": "张", "solution": "方案"}),
        ("resolve", {"resolution": "已办"}),
        ("confirm", {"satisfied": True}),
        ("reopen", {"reason": "未解决"}),
        ("close", {"reason": "已另行解决"}),
    ],
)
def test_state_changes_require_the_version(api, users, raised, step, body):
    response = api(users["admin"])(f"/{raised.pk}/{step}", body)
    assert api_errors(response) == {"body.version": "此项为必填项。"}
    assert refresh(raised).version == raised.version


def test_progress_and_extension_requests_need_no_version(api, ledger, assigned):
    post = api(ledger["zrzyj_user"])
    assert post(f"/{assigned.pk}/progress", {"text": "已赴现场"}).status_code == 200
    assert post(f"/{assigned.pk}/extensions", {"until": "2027-01-15", "reason": "待批复"}).status_code == 200


# --- 6. The region filter ----------------------------------------------------------------------


def test_leaders_get_every_region_and_counties_their_own(client, city, users, ledger, raised):
    assert set(problem_filter_regions(users["leader"])) == set(Region.objects.all())
    assert set(problem_filter_regions(users["linchuan"])) == {city["linchuan"], city["zone"]}
    assert not problem_filter_regions(users["auditor"]).exists()
    response = as_user(client, users["leader"]).get("/problems/", {"region": city["linchuan"].pk})
    assert not response.context["form"].errors
    assert [p.pk for p in response.context["page"]] == [raised.pk]
    response = as_user(client, users["leader"]).get("/problems/", {"region": city["qingshan"].pk})
    assert response.context["page"].paginator.count == 0


# --- 7. Related problems one may not open; the unit filter ----------------------------------------


def test_merged_items_one_may_not_open_show_only_their_number(client, users, projects, ledger, second):
    target, dup = merged_pair(users, projects, ledger, second)
    html = as_user(client, users["owner_a"]).get(f"/problems/{target.pk}/").content.decode()
    assert f"#{dup.pk}（无权查看）" in html and dup.title not in html  # facts and timeline
    texts = [e["text"] for e in selectors.problem_timeline(target, users["owner_a"])]
    assert f"并入 #{dup.pk} （无权查看）" in texts
    texts = [e["text"] for e in selectors.problem_timeline(target, users["admin"])]
    assert f"并入 #{dup.pk} {dup.title}" in texts
    html = as_user(client, users["admin"]).get(f"/problems/{target.pk}/").content.decode()
    assert f'href="/problems/{dup.pk}/"' in html and dup.title in html


def test_a_parent_one_may_not_open_shows_only_its_number(client, users, ledger, raised):
    children = services.problem_split(
        actor=users["admin"],
        problem=raised,
        items=[{"description": "新增建设用地指标", "title": "用地指标"}, {"description": "环评批复"}],
    )
    child = assign(children[0], users, ledger, co_units=[])
    html = as_user(client, ledger["zrzyj_user"]).get(f"/problems/{child.pk}/").content.decode()
    assert f"#{raised.pk}（无权查看）" in html and raised.title not in html
    html = as_user(client, users["owner_a"]).get(f"/problems/{child.pk}/").content.decode()
    assert f'href="/problems/{raised.pk}/"' in html
    html = as_user(client, users["owner_a"]).get(f"/problems/{raised.pk}/").content.decode()
    assert f'href="/problems/{child.pk}/"' in html


def test_unit_filter_offers_only_units_on_readable_problems(users, projects, ledger, raised):
    assign(raised, users, ledger, co_units=[])
    other = raise_problem(users, projects, ledger, actor=users["admin"], project=projects["b"])
    assign(other, users, ledger, lead_unit=ledger["sthjj"], co_units=[])
    units = set(ProblemFilterForm(user=users["owner_a"]).fields["unit"].queryset)
    assert units == {ledger["zrzyj"]}
    assert set(ProblemFilterForm(user=users["admin"]).fields["unit"].queryset) == {
        ledger["zrzyj"],
        ledger["sthjj"],
    }


# --- 8. Merged duplicates and split parents are not in the default list ---------------------------


def test_default_list_leaves_folded_items_out(client, users, projects, ledger, second):
    target, dup = merged_pair(users, projects, ledger, second)
    big = raise_problem(users, projects, ledger, description="大问题")
    children = services.problem_split(
        actor=users["admin"], problem=big, items=[{"description": "子一"}, {"description": "子二"}]
    )
    admin = as_user(client, users["admin"])
    response = admin.get("/problems/")
    listed = {p.pk for p in response.context["page"]}
    assert listed == {target.pk, *(c.pk for c in children)}
    assert "已合并的重复问题、已分解的原问题未列出" in response.content.decode()
    response = admin.get("/problems/", {"status": "all"})
    assert {p.pk for p in response.context["page"]} == listed | {dup.pk, big.pk}
    assert 'data-testid="folded-hidden"' not in response.content.decode()
    response = admin.get("/problems/", {"status": "merged"})
    assert [p.pk for p in response.context["page"]] == [dup.pk]
    # The figures count the same items as the default list.
    metrics = admin.get("/problems/metrics/").context["by_unit"]
    assert metrics["total"]["total"] == len(listed)
