"""Problem-ledger pages: who sees which page, the list's filters and exports, the figures, the
weekly list, raising with attachments, and every workflow step through the views with the
reporter (owner), the assigner and the assignee, and an outsider. Today is 2026-11-23."""

import io
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from majorprojects.problems import selectors, services
from majorprojects.problems.models import (
    Confirmation,
    Coordination,
    CoordinationTask,
    Extension,
    Problem,
    ProblemAttachment,
    Status,
)
from majorprojects.problems.views import project_tab_context

from .conftest import assign, raise_problem

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%test\n"


def as_user(client, user):
    client.force_login(user)
    return client


def alerts(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )


def sheet_rows(response) -> list[tuple]:
    return list(workbook(response).active.iter_rows(values_only=True))


def refresh(problem) -> Problem:
    return Problem.objects.get(pk=problem.pk)


# --- Who sees which page ------------------------------------------------------------------------


PAGES = ["/problems/", "/problems/mine/", "/problems/metrics/", "/problems/weekly/"]


@pytest.mark.parametrize("who", ["admin", "leader", "linchuan", "qingshan", "jtj", "owner_a"])
@pytest.mark.parametrize("url", PAGES)
def test_ledger_pages_open_for_every_working_account(client, users, raised, who, url):
    assert as_user(client, users[who]).get(url).status_code == 200


@pytest.mark.parametrize("url", [*PAGES, "/problems/new/", "/problems/export.xlsx"])
def test_auditor_gets_403_everywhere(client, users, raised, url):
    response = as_user(client, users["auditor"]).get(url)
    assert response.status_code == 403
    assert as_user(client, users["auditor"]).get(f"/problems/{raised.pk}/").status_code == 403


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", True),
        ("leader", True),
        ("linchuan", True),
        ("owner_a", True),
        ("qingshan", False),
        ("jtj", False),
    ],
)
def test_list_and_detail_follow_the_scope(client, users, raised, who, sees):
    client = as_user(client, users[who])
    page = client.get("/problems/").context["page"]
    assert (raised in list(page)) is sees
    assert client.get(f"/problems/{raised.pk}/").status_code == (200 if sees else 404)


def test_assigned_bureau_reads_the_problem_although_the_project_is_not_its(client, users, assigned, ledger):
    client = as_user(client, ledger["zrzyj_user"])
    response = client.get(f"/problems/{assigned.pk}/")
    assert response.status_code == 200
    assert response.context["project_readable"] is False  # no link to a project it cannot open
    assert f'href="/projects/{assigned.project_id}/"' not in response.content.decode()
    assert as_user(client, ledger["sthjj_user"]).get(f"/problems/{assigned.pk}/").status_code == 200


def test_unknown_problem_is_404(client, users):
    assert as_user(client, users["admin"]).get("/problems/999999/").status_code == 404


def test_leader_and_department_cannot_raise(client, users, projects):
    assert as_user(client, users["leader"]).get("/problems/new/").status_code == 403


# --- The list -----------------------------------------------------------------------------------


@pytest.fixture
def several(users, projects, ledger):
    """Four problems on a and b: land (assigned to 自然资源局, overdue since Nov 20), funds
    (reported), another land one on b closed by the city, and a folded (merged) one."""
    overdue = raise_problem(users, projects, ledger, description="用地报批卡在省厅")
    overdue = assign(overdue, users, ledger, deadline=date(2026, 11, 30))
    Problem.objects.filter(pk=overdue.pk).update(deadline=date(2026, 11, 20), escalation_level=1)
    funds = raise_problem(users, projects, ledger, category=ledger["funds"], description="专项债资金未拨付")
    closed = raise_problem(
        users, projects, ledger, actor=users["admin"], project=projects["b"], description="环城公路林地占用"
    )
    services.problem_close(actor=users["admin"], problem=closed, reason="已纳入省级统筹")
    dup = raise_problem(
        users, projects, ledger, category=ledger["funds"], description="专项债资金仍未拨付（重复）"
    )
    services.problem_merge(actor=users["admin"], problem=dup, into=funds)
    return {
        "overdue": refresh(overdue),
        "funds": refresh(funds),
        "closed": refresh(closed),
        "dup": refresh(dup),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"overdue", "funds", "closed"}),  # merged duplicates are not listed by default
        ({"status": "all"}, {"overdue", "funds", "closed", "dup"}),
        ({"status": "merged"}, {"dup"}),
        ({"status": "open"}, {"overdue", "funds"}),
        ({"status": "closed"}, {"closed"}),
        ({"category": "funds"}, {"funds"}),
        ({"category": "funds", "status": "all"}, {"funds", "dup"}),
        ({"unit": "zrzyj"}, {"overdue"}),
        ({"region": "qingshan"}, {"closed"}),
        ({"overdue": "1"}, {"overdue"}),
        ({"overdue": "0"}, {"funds", "closed"}),
        ({"level": "1"}, {"overdue"}),
        ({"q": "省厅"}, {"overdue"}),
        ({"q": "环城公路"}, {"closed"}),  # the project's name
    ],
)
def test_list_filters(client, users, city, ledger, several, params, expected):
    ids = {"funds": ledger["funds"].pk, "zrzyj": ledger["zrzyj"].pk, "qingshan": city["qingshan"].pk}
    query = {k: ids.get(v, v) for k, v in params.items()}
    page = as_user(client, users["admin"]).get("/problems/", query).context["page"]
    assert {p.pk for p in page} == {several[k].pk for k in expected}


def test_invalid_filter_is_ignored_and_named(client, users, several):
    response = as_user(client, users["admin"]).get("/problems/", {"status": "nonsense", "q": "省厅"})
    assert [p.pk for p in response.context["page"]] == [several["overdue"].pk]
    assert "以下筛选条件无效，已忽略：状态" in response.content.decode()


def test_list_shows_overdue_and_level_badges(client, users, several):
    html = as_user(client, users["admin"]).get("/problems/", {"overdue": "1"}).content.decode()
    assert 'data-testid="overdue"' in html and "督办1级" in html


def test_htmx_refresh_returns_only_the_results(client, users, several):
    response = as_user(client, users["admin"]).get(
        "/problems/", {"q": "省厅"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'data-testid="problem-table"' in html and 'id="filters"' not in html
    assert 'data-testid="result-count">1<' in html


def test_list_paginates_fifty_a_page(client, users, projects, ledger):
    for i in range(51):
        raise_problem(users, projects, ledger, description=f"问题{i}")
    client = as_user(client, users["admin"])
    assert len(client.get("/problems/").context["page"]) == 50
    assert len(client.get("/problems/", {"page": 2}).context["page"]) == 1


def test_list_query_count_does_not_grow_with_rows(
    client, users, projects, ledger, django_assert_max_num_queries
):
    for i in range(30):
        assign(raise_problem(users, projects, ledger, description=f"问题{i}"), users, ledger)
    client = as_user(client, users["linchuan"])
    # session and account (5, the session is saved on every request), count, page, three filter lists
    with django_assert_max_num_queries(11):
        response = client.get("/problems/", {"status": "open"})
    assert response.context["page"].paginator.count == 30


def test_export_is_what_the_list_shows(client, users, several):
    rows = sheet_rows(as_user(client, users["admin"]).get("/problems/export.xlsx", {"status": "open"}))
    assert rows[0][0] == "问题台账"
    assert rows[1][:3] == ("序号", "编号", "问题概述")
    assert {r[1] for r in rows[2:]} == {several["overdue"].pk, several["funds"].pk}
    overdue = next(r for r in rows[2:] if r[1] == several["overdue"].pk)
    assert overdue[13] == "云江市自然资源和规划局" and overdue[18] == "是"


def test_export_follows_the_scope(client, users, several):
    rows = sheet_rows(as_user(client, users["qingshan"]).get("/problems/export.xlsx"))
    assert [r[1] for r in rows[2:]] == [several["closed"].pk]


# --- Figures ------------------------------------------------------------------------------------


def test_metrics_page_by_unit_and_category(client, users, several):
    response = as_user(client, users["admin"]).get("/problems/metrics/")
    by_unit, by_category = response.context["by_unit"], response.context["by_category"]
    # Counted: overdue (zrzyj), funds (unassigned), closed (unassigned); the merged dup is not.
    assert by_unit["total"]["total"] == 3
    assert [(r["label"], r["total"], r["overdue"]) for r in by_unit["rows"]] == [
        ("云江市自然资源和规划局", 1, 1),
        ("未交办", 2, 0),
    ]
    land = next(r for r in by_category["rows"] if r["label"] == "用地")
    assert (land["total"], land["open"], land["closed"], str(land["closure_rate"])) == (2, 1, 1, "50.0")
    html = response.content.decode()
    assert 'data-testid="metrics-unit"' in html and 'data-testid="metrics-category"' in html


def test_metrics_export_opens(client, users, several):
    rows = sheet_rows(
        as_user(client, users["admin"]).get("/problems/metrics/export.xlsx", {"by": "category"})
    )
    assert rows[0][0] == "问题办理情况统计（按问题类别）"
    assert rows[1][0] == "问题类别"
    assert rows[-1][0] == "合计" and rows[-1][1] == 3
    assert (
        as_user(client, users["admin"]).get("/problems/metrics/export.xlsx", {"by": "x"}).status_code == 404
    )


# --- Weekly list --------------------------------------------------------------------------------


def test_weekly_list_sections(client, users, several):
    week = timezone.localtime(several["funds"].created_at).isocalendar()
    response = as_user(client, users["admin"]).get(
        "/problems/weekly/", {"year": week.year, "week": week.week}
    )
    sections = {key: {p.pk for p in rows} for key, _, rows in response.context["sections"]}
    assert sections["new"] == {several[k].pk for k in ("overdue", "funds", "closed")}
    assert sections["closed"] == {several["closed"].pk}
    assert f"{week.year}年第{week.week}周问题周报" in response.content.decode()


def test_weekly_defaults_to_this_week_and_ignores_a_bad_week(client, users):
    client = as_user(client, users["admin"])
    assert client.get("/problems/weekly/").context["data"]["week"] == 48  # 2026-11-23
    assert client.get("/problems/weekly/", {"year": 2025, "week": 53}).context["data"]["week"] == 48


def test_weekly_export_per_section(client, users, several):
    week = timezone.localtime(several["closed"].created_at).isocalendar()
    response = as_user(client, users["admin"]).get(
        "/problems/weekly/export.xlsx", {"year": week.year, "week": week.week, "section": "closed"}
    )
    rows = sheet_rows(response)
    assert "本周办结问题" in rows[0][0]
    assert [r[1] for r in rows[2:]] == [several["closed"].pk]
    assert (
        as_user(client, users["admin"]).get("/problems/weekly/export.xlsx", {"section": "x"}).status_code
        == 404
    )


# --- My problems --------------------------------------------------------------------------------


def test_my_problems_for_each_part(client, users, ledger, projects):
    handling = assign(raise_problem(users, projects, ledger, description="待办理"), users, ledger)
    waiting = raise_problem(users, projects, ledger, description="待研判")
    done = services.problem_resolve(
        actor=ledger["zrzyj_user"],
        problem=assign(raise_problem(users, projects, ledger, description="待确认"), users, ledger),
        resolution="已办",
    )
    services.problem_extension_request(
        actor=ledger["zrzyj_user"], problem=handling, until=date(2027, 1, 31), reason="需省厅批复"
    )
    bureau = as_user(client, ledger["zrzyj_user"]).get("/problems/mine/").context
    assert [p.pk for p in bureau["handle"]["rows"]] == [handling.pk]
    assert bureau["analyse"] is None and bureau["confirm"]["rows"] == []
    unit = as_user(client, users["owner_a"]).get("/problems/mine/")
    assert [p.pk for p in unit.context["confirm"]["rows"]] == [done.pk]
    assert unit.context["raised"]["count"] == 3
    assert unit.context["analyse"] is None
    city = as_user(client, users["admin"]).get("/problems/mine/").context
    assert [p.pk for p in city["analyse"]["rows"]] == [waiting.pk]
    assert [e.problem_id for e in city["extensions"]["rows"]] == [handling.pk]
    html = as_user(client, ledger["zrzyj_user"]).get("/problems/mine/").content.decode()
    assert "待我单位办理" in html and "2026-12-31" in html


def test_my_problems_for_a_leader_points_to_the_ledger(client, users, raised):
    html = as_user(client, users["leader"]).get("/problems/mine/").content.decode()
    assert "您的账号不承办问题" in html


# --- Raising ------------------------------------------------------------------------------------


def raise_data(projects, ledger, **changes):
    data = {
        "project": projects["a"].pk,
        "category": ledger["land"].pk,
        "urgency": "urgent",
        "description": "二期用地未报批",
        "request": "请协调省厅",
    }
    return {**data, **changes}


def test_project_unit_raises_with_attachments(client, users, projects, ledger):
    client = as_user(client, users["owner_a"])
    files = [SimpleUploadedFile("红线图.pdf", PDF), SimpleUploadedFile("说明.pdf", PDF + b"2")]
    response = client.post("/problems/new/", {**raise_data(projects, ledger), "attachments": files})
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/problems/{problem.pk}/"
    assert (problem.status, problem.source, problem.urgency) == (Status.REPORTED, "project_unit", "urgent")
    assert sorted(problem.attachments.values_list("original_name", flat=True)) == ["红线图.pdf", "说明.pdf"]


def test_raise_form_preselects_the_project_and_offers_only_the_units_projects(client, users, projects):
    form = (
        as_user(client, users["owner_a"]).get("/problems/new/", {"project": projects["a"].pk}).context["form"]
    )
    assert form.initial["project"] == projects["a"].pk
    assert set(form.fields["project"].queryset) == {projects["a"], projects["zone"]}
    assert "source" not in form.fields
    other = as_user(client, users["owner_a"]).get("/problems/new/", {"project": projects["b"].pk})
    assert "project" not in other.context["form"].initial


def test_raise_shows_errors_per_field(client, users, projects, ledger):
    client = as_user(client, users["owner_a"])
    response = client.post(
        "/problems/new/", raise_data(projects, ledger, description="  ", project=projects["b"].pk)
    )
    form = response.context["form"]
    assert response.status_code == 200 and not Problem.objects.exists()
    assert "description" in form.errors and "project" in form.errors


def test_raise_with_a_bad_file_writes_nothing(client, users, projects, ledger):
    client = as_user(client, users["owner_a"])
    bad = SimpleUploadedFile("病毒.exe", b"MZ....")
    response = client.post("/problems/new/", {**raise_data(projects, ledger), "attachments": [bad]})
    assert not Problem.objects.exists() and not ProblemAttachment.objects.exists()
    assert "病毒.exe：仅支持" in response.context["form"].errors["attachments"][0]


def test_county_raises_from_a_site_visit(client, users, projects, ledger):
    client = as_user(client, users["linchuan"])
    response = client.post("/problems/new/", raise_data(projects, ledger, source="visit"))
    assert response.status_code == 302
    assert Problem.objects.get().source == "visit"


# --- The problem's page -------------------------------------------------------------------------


def buttons(response) -> set:
    return {k for k, v in response.context["acts"].items() if v}


def test_actions_shown_follow_the_part_played(client, users, ledger, assigned):
    assert buttons(as_user(client, users["admin"]).get(f"/problems/{assigned.pk}/")) >= {
        "assign",
        "close",
        "escalate",
    }
    lead = as_user(client, ledger["zrzyj_user"]).get(f"/problems/{assigned.pk}/")
    assert buttons(lead) == {"progress", "extend", "resolve", "attach"}
    assert f'action="/problems/{assigned.pk}/resolve/"' in lead.content.decode()
    co = as_user(client, ledger["sthjj_user"]).get(f"/problems/{assigned.pk}/")
    assert buttons(co) == {"progress", "attach"}
    unit = as_user(client, users["owner_a"]).get(f"/problems/{assigned.pk}/")
    assert buttons(unit) == {"attach"}
    assert 'data-testid="actions"' not in unit.content.decode()
    leader = as_user(client, users["leader"]).get(f"/problems/{assigned.pk}/")
    assert buttons(leader) == set()


def test_detail_shows_five_in_place_and_timeline(client, users, ledger, assigned):
    html = as_user(client, users["owner_a"]).get(f"/problems/{assigned.pk}/").content.decode()
    for text in (
        "云江市自然资源和规划局",
        "云江市生态环境局",
        "王副市长",
        "张科长",
        "2026-12-31",
        "交办（五到位）",
        "反映问题",
    ):
        assert text in html


def test_detail_query_count_is_bounded(client, users, ledger, assigned, django_assert_max_num_queries):
    for i in range(5):
        services.problem_progress(actor=ledger["zrzyj_user"], problem=assigned, text=f"进展{i}")
        services.problem_attachment_add(
            actor=ledger["zrzyj_user"], problem=assigned, name=f"f{i}.pdf", content=PDF
        )
    coordination = services.problem_escalate(
        actor=users["admin"], problem=assigned, leader=ledger["vice_mayor"], reason="跨部门"
    )
    services.coordination_record(
        actor=users["admin"],
        coordination=coordination,
        meeting_date=date(2026, 11, 20),
        minutes="会议议定",
        tasks=[
            {"text": f"事项{i}", "unit": ledger["zrzyj"], "due_date": date(2026, 12, 10)} for i in range(4)
        ],
    )
    for who, limit in ((users["admin"], 32), (ledger["zrzyj_user"], 25), (users["owner_a"], 22)):
        client = as_user(client, who)
        with django_assert_max_num_queries(limit):
            assert client.get(f"/problems/{assigned.pk}/").status_code == 200


# --- Each step through the views ----------------------------------------------------------------


def post(client, user, problem, step, data):
    return as_user(client, user).post(f"/problems/{problem.pk}/{step}/", data)


def test_accept_by_the_city(client, users, raised):
    response = post(
        client, users["admin"], raised, "accept", {"accept-version": raised.version, "accept-note": "受理"}
    )
    assert response.status_code == 302
    assert refresh(raised).status == Status.ACCEPTED


def test_accept_by_the_county_of_the_region(client, users, raised):
    post(client, users["linchuan"], raised, "accept", {"accept-version": raised.version})
    assert refresh(raised).level == "county"


def test_accept_by_the_reporter_is_403_and_by_another_county_404(client, users, raised):
    assert post(client, users["owner_a"], raised, "accept", {"accept-version": 1}).status_code == 403
    assert post(client, users["qingshan"], raised, "accept", {"accept-version": 1}).status_code == 404
    assert refresh(raised).status == Status.REPORTED


def test_get_on_a_step_is_not_allowed(client, users, raised):
    assert as_user(client, users["admin"]).get(f"/problems/{raised.pk}/accept/").status_code == 405


def test_stale_version_shows_the_conflict_and_keeps_the_form(client, users, ledger, raised):
    services.problem_accept(actor=users["linchuan"], problem=raised)
    data = {
        "assign-version": raised.version,  # the version before the county accepted it
        "assign-lead_unit": ledger["zrzyj"].pk,
        "assign-leader": ledger["vice_mayor"].pk,
        "assign-responsible_name": "张科长",
        "assign-solution": "列入用地计划",
        "assign-deadline": "2026-12-31",
    }
    response = post(client, users["admin"], raised, "assign", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "该问题已被他人处理，请刷新页面后重试。" in html and 'data-testid="action-error"' in html
    form = response.context["forms"]["assign"]
    assert form.data["assign-version"] == str(refresh(raised).version)  # a second click applies it
    assert form["solution"].value() == "列入用地计划"
    assert refresh(raised).status == Status.ACCEPTED
    assert post(client, users["admin"], raised, "assign", form.data).status_code == 302
    assert refresh(raised).status == Status.ASSIGNED


def test_a_step_no_longer_possible_says_why(client, users, raised):
    services.problem_accept(actor=users["admin"], problem=raised)
    fresh = refresh(raised)
    response = post(client, users["admin"], raised, "accept", {"accept-version": fresh.version})
    assert "不能受理" in response.content.decode()


def assign_data(ledger, **changes):
    data = {
        "assign-version": 1,
        "assign-lead_unit": ledger["zrzyj"].pk,
        "assign-co_units": [ledger["sthjj"].pk],
        "assign-leader": ledger["vice_mayor"].pk,
        "assign-responsible_name": "张科长",
        "assign-responsible_phone": "13800000000",
        "assign-solution": "列入年度用地计划",
        "assign-deadline": "2026-12-31",
    }
    return {**data, **changes}


def test_assign_with_a_date(client, users, ledger, raised):
    response = post(client, users["admin"], raised, "assign", assign_data(ledger))
    assert response.status_code == 302
    problem = refresh(raised)
    assert (problem.status, problem.lead_unit, problem.deadline) == (
        Status.ASSIGNED,
        ledger["zrzyj"],
        date(2026, 12, 31),
    )
    assert list(problem.co_units.all()) == [ledger["sthjj"]]


def test_assign_in_working_days(client, users, ledger, raised):
    post(
        client,
        users["admin"],
        raised,
        "assign",
        assign_data(ledger, **{"assign-deadline": "", "assign-workdays": "10"}),
    )
    problem = refresh(raised)
    assert (
        problem.deadline == date(2026, 12, 7) and problem.deadline_workdays == 10
    )  # Mon 23 Nov + 10 working days


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"assign-deadline": ""}, "deadline", "请填写办理时限"),
        ({"assign-workdays": "5"}, "deadline", "其中之一"),
        ({"assign-deadline": "2026-11-01"}, "deadline", "不能早于今天"),
        ({"assign-solution": ""}, "solution", "必填"),
        ({"assign-deadline": "", "assign-workdays": "999"}, "workdays", "250"),
    ],
)
def test_assign_errors_show_under_the_field(client, users, ledger, raised, changes, field, message):
    response = post(client, users["admin"], raised, "assign", assign_data(ledger, **changes))
    form = response.context["forms"]["assign"]
    assert message in " ".join(form.errors[field])
    assert refresh(raised).status == Status.REPORTED
    assert "<details" in response.content.decode() and response.context["open_form"] == "assign"


def test_assign_by_the_reporter_is_403_and_by_the_transport_bureau_404(client, users, ledger, raised):
    assert post(client, users["owner_a"], raised, "assign", assign_data(ledger)).status_code == 403
    assert post(client, users["jtj"], raised, "assign", assign_data(ledger)).status_code == 404


def test_merge_into_another_problem(client, users, ledger, projects, raised):
    dup = raise_problem(users, projects, ledger, description="用地指标（重复反映）")
    form = as_user(client, users["admin"]).get(f"/problems/{dup.pk}/").context["forms"]["merge"]
    assert raised in form.fields["into"].queryset
    response = post(
        client,
        users["admin"],
        dup,
        "merge",
        {"merge-version": 1, "merge-into": raised.pk, "merge-reason": "重复"},
    )
    assert response.status_code == 302
    assert (refresh(dup).status, refresh(dup).merged_into_id) == (Status.MERGED, raised.pk)
    third = raise_problem(users, projects, ledger, description="第三次反映")
    data = {"merge-version": 1, "merge-into": raised.pk}
    assert post(client, users["owner_a"], third, "merge", data).status_code == 403


def split_data(version, *items):
    data = {"split-version": version, "items-TOTAL_FORMS": 4, "items-INITIAL_FORMS": 0}
    for i, (title, description) in enumerate(items):
        data[f"items-{i}-title"] = title
        data[f"items-{i}-description"] = description
    return data


def test_split_into_sub_items(client, users, raised):
    data = split_data(1, ("用地指标", "新增建设用地指标"), ("林地报批", "占用林地手续"))
    response = post(client, users["admin"], raised, "split", data)
    assert response.status_code == 302
    children = list(refresh(raised).sub_items.order_by("pk"))
    assert [c.title for c in children] == ["用地指标", "林地报批"]
    assert all(c.status == Status.ACCEPTED for c in children)
    assert refresh(raised).status == Status.SPLIT


def test_split_needs_two_items_and_a_description_each(client, users, raised):
    response = post(client, users["admin"], raised, "split", split_data(1, ("只有一个", "描述")))
    assert "至少分解为两个子事项" in response.content.decode()
    response = post(client, users["admin"], raised, "split", split_data(1, ("甲", "描述"), ("乙", "")))
    formset = response.context["forms"]["split_items"]
    assert "第 2 个子事项：请填写问题描述。" in formset.forms[1].errors["description"]
    assert refresh(raised).status == Status.REPORTED


def test_progress_by_lead_and_co_unit_not_by_the_reporter(client, users, ledger, assigned):
    assert (
        post(client, ledger["zrzyj_user"], assigned, "progress", {"progress-text": "已上报省厅"}).status_code
        == 302
    )
    assert (
        post(client, ledger["sthjj_user"], assigned, "progress", {"progress-text": "环评同步"}).status_code
        == 302
    )
    assert post(client, users["owner_a"], assigned, "progress", {"progress-text": "催办"}).status_code == 403
    assert list(assigned.notes.values_list("text", flat=True)) == ["已上报省厅", "环评同步"]
    response = post(client, ledger["zrzyj_user"], assigned, "progress", {"progress-text": ""})
    assert response.context["forms"]["progress"].errors["text"]


def test_extension_requested_by_the_lead_and_decided_by_the_city(client, users, ledger, assigned):
    data = {"extend-until": "2027-01-31", "extend-reason": "等待省厅批复"}
    assert post(client, ledger["sthjj_user"], assigned, "extension", data).status_code == 403
    assert post(client, ledger["zrzyj_user"], assigned, "extension", data).status_code == 302
    extension = Extension.objects.get()
    url = f"/problems/{assigned.pk}/extensions/{extension.pk}/decide/"
    page = as_user(client, users["admin"]).get(f"/problems/{assigned.pk}/")
    assert page.context["acts"]["decide"] and "同意延期" in page.content.decode()
    assert as_user(client, ledger["zrzyj_user"]).post(url, {"decide-decision": "approve"}).status_code == 403
    response = as_user(client, users["admin"]).post(url, {"decide-decision": "reject", "decide-note": ""})
    assert "不同意延期时请填写审批意见" in " ".join(response.context["forms"]["decide"].errors["note"])
    response = as_user(client, users["admin"]).post(url, {"decide-decision": "approve"})
    assert response.status_code == 302
    assert refresh(assigned).deadline == date(2027, 1, 31)


def test_extension_date_must_be_after_the_deadline(client, users, ledger, assigned):
    response = post(
        client,
        ledger["zrzyj_user"],
        assigned,
        "extension",
        {"extend-until": "2026-12-01", "extend-reason": "x"},
    )
    assert "须晚于现有时限" in response.context["forms"]["extend"].errors["until"][0]


def test_resolve_by_the_lead_only(client, users, ledger, assigned):
    assert (
        post(
            client,
            ledger["sthjj_user"],
            assigned,
            "resolve",
            {"resolve-version": 2, "resolve-resolution": "x"},
        ).status_code
        == 403
    )
    response = post(
        client, ledger["zrzyj_user"], assigned, "resolve", {"resolve-version": 2, "resolve-resolution": ""}
    )
    assert response.context["forms"]["resolve"].errors["resolution"]
    version = refresh(assigned).version
    data = {"resolve-version": version, "resolve-resolution": "已调剂指标 50 亩"}
    assert post(client, ledger["zrzyj_user"], assigned, "resolve", data).status_code == 302
    assert refresh(assigned).status == Status.RESOLVED


def test_reporter_not_satisfied_reopens_then_satisfied_closes(client, users, ledger, resolved):
    version = refresh(resolved).version
    bad = post(
        client,
        users["owner_a"],
        resolved,
        "confirm",
        {"confirm-version": version, "confirm-verdict": "unsatisfied"},
    )
    assert "不满意时请说明理由" in bad.context["forms"]["confirm"].errors["reason"][0]
    assert (
        post(
            client,
            ledger["zrzyj_user"],
            resolved,
            "confirm",
            {"confirm-version": version, "confirm-verdict": "satisfied"},
        ).status_code
        == 403
    )
    data = {"confirm-version": version, "confirm-verdict": "unsatisfied", "confirm-reason": "指标仍未下达"}
    response = post(client, users["owner_a"], resolved, "confirm", data)
    assert response.status_code == 302 and refresh(resolved).status == Status.REOPENED
    problem = services.problem_resolve(
        actor=ledger["zrzyj_user"], problem=refresh(resolved), resolution="指标已下达"
    )
    data = {"confirm-version": problem.version, "confirm-verdict": "satisfied"}
    follow = post(client, users["owner_a"], problem, "confirm", data)
    assert refresh(problem).status == Status.CLOSED
    assert list(Confirmation.objects.values_list("satisfied", flat=True)) == [False, True]
    assert "已确认满意，问题销号" in alerts(as_user(client, users["owner_a"]).get(follow["Location"]))


def test_city_closes_with_a_reason_county_cannot(client, users, assigned):
    version = refresh(assigned).version
    assert (
        post(
            client, users["linchuan"], assigned, "close", {"close-version": version, "close-reason": "x"}
        ).status_code
        == 403
    )
    response = post(client, users["admin"], assigned, "close", {"close-version": version, "close-reason": ""})
    assert response.context["forms"]["close"].errors["reason"]
    post(
        client,
        users["admin"],
        assigned,
        "close",
        {"close-version": version, "close-reason": "已纳入省级统筹解决"},
    )
    problem = refresh(assigned)
    assert (problem.status, problem.close_kind, problem.close_reason) == (
        Status.CLOSED,
        "city",
        "已纳入省级统筹解决",
    )


def test_escalate_record_minutes_and_mark_tasks(client, users, ledger, assigned):
    data = {"escalate-leader": ledger["clerk"].pk, "escalate-reason": "跨部门"}
    response = post(client, users["admin"], assigned, "escalate", data)
    assert response.context["forms"]["escalate"].errors["leader"]  # not a leader: not offered
    assert (
        post(
            client,
            ledger["zrzyj_user"],
            assigned,
            "escalate",
            {"escalate-leader": ledger["vice_mayor"].pk, "escalate-reason": "x"},
        ).status_code
        == 403
    )
    data = {"escalate-leader": ledger["vice_mayor"].pk, "escalate-reason": "涉及省级指标"}
    assert post(client, users["admin"], assigned, "escalate", data).status_code == 302
    coordination = Coordination.objects.get()
    prefix = f"c{coordination.pk}"
    minutes = {
        f"{prefix}-meeting_date": "2026-11-20",
        f"{prefix}-minutes": "王副市长主持召开协调会",
        f"{prefix}-tasks-TOTAL_FORMS": 3,
        f"{prefix}-tasks-INITIAL_FORMS": 0,
        f"{prefix}-tasks-0-text": "调剂用地指标",
        f"{prefix}-tasks-0-unit": ledger["zrzyj"].pk,
        f"{prefix}-tasks-0-due_date": "2026-12-10",
    }
    url = f"/problems/{assigned.pk}/coordinations/{coordination.pk}/"
    assert as_user(client, ledger["zrzyj_user"]).post(url, minutes).status_code == 403
    future = as_user(client, users["admin"]).post(url, {**minutes, f"{prefix}-meeting_date": "2026-12-01"})
    assert "不能晚于今天" in future.content.decode()
    half = as_user(client, users["admin"]).post(url, {**minutes, f"{prefix}-tasks-1-text": "只写了内容"})
    assert "第 2 项议定事项：请选择责任单位。" in half.content.decode()
    assert not CoordinationTask.objects.exists()
    assert as_user(client, users["admin"]).post(url, minutes).status_code == 302
    task = CoordinationTask.objects.get()
    done_url = f"/problems/{assigned.pk}/tasks/{task.pk}/done/"
    assert as_user(client, ledger["sthjj_user"]).post(done_url, {"done": "1"}).status_code == 403
    assert as_user(client, ledger["zrzyj_user"]).post(done_url, {"done": "1"}).status_code == 302
    assert CoordinationTask.objects.get().done
    html = as_user(client, users["owner_a"]).get(f"/problems/{assigned.pk}/").content.decode()
    assert "王副市长主持召开协调会" in html and "调剂用地指标" in html and "已完成" in html


def test_attachment_add_download_delete(client, users, ledger, assigned):
    upload = SimpleUploadedFile("批复.pdf", PDF)
    assert (
        post(client, ledger["zrzyj_user"], assigned, "attachments", {"attach-file": upload}).status_code
        == 302
    )
    attachment = ProblemAttachment.objects.get()
    url = f"/problems/{assigned.pk}/attachments/{attachment.pk}/"
    response = as_user(client, users["owner_a"]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert as_user(client, users["qingshan"]).get(url).status_code == 404
    assert as_user(client, users["owner_a"]).post(f"{url}delete/").status_code == 403
    bad = post(
        client,
        users["owner_a"],
        assigned,
        "attachments",
        {"attach-file": SimpleUploadedFile("a.pdf", b"nope")},
    )
    assert "文件内容与扩展名" in bad.context["forms"]["attach"].errors["file"][0]
    assert as_user(client, ledger["zrzyj_user"]).post(f"{url}delete/").status_code == 302
    assert not ProblemAttachment.objects.exists()


def test_outsider_attachment_upload_is_404(client, users, assigned):
    upload = SimpleUploadedFile("x.pdf", PDF)
    assert (
        post(client, users["qingshan"], assigned, "attachments", {"attach-file": upload}).status_code == 404
    )


# --- The project tab and the home card ----------------------------------------------------------


def test_project_tab_context_and_template(users, projects, ledger, raised):
    request = RequestFactory().get("/")
    request.user = users["owner_a"]
    context = project_tab_context(request, projects["a"])
    assert [p.pk for p in context["problems"]] == [raised.pk]
    assert (context["problems_total"], context["problems_open"], context["can_raise_problem"]) == (1, 1, True)
    html = render_to_string(
        "problems/project_tab.html", {**context, "project": projects["a"]}, request=request
    )
    assert raised.title in html and f"/problems/new/?project={projects['a'].pk}" in html
    request.user = users["leader"]
    assert project_tab_context(request, projects["a"])["can_raise_problem"] is False


def test_home_todo_card(users, ledger, assigned):
    user = ledger["zrzyj_user"]
    html = render_to_string(
        "problems/_home_todo.html", {"problem_todo": selectors.todo_items(user), "today": date(2026, 11, 23)}
    )
    assert f'href="/problems/{assigned.pk}/"' in html and "首次答复" in html
    assert render_to_string("problems/_home_todo.html", {"problem_todo": []}).strip() == ""


def test_project_file_problems_tab(client, users, projects, raised):
    response = as_user(client, users["owner_a"]).get(f"/projects/{projects['a'].pk}/tab/problems/")
    assert response.status_code == 200
    assert raised.title in response.content.decode()
    response = as_user(client, users["owner_a"]).get(
        f"/projects/{projects['a'].pk}/tab/problems/", headers={"HX-Request": "true", "HX-Target": "tab-body"}
    )
    assert 'data-testid="project-problems"' in response.content.decode()
