"""Warnings pages: who sees which page (city admin, leader, county, department, project unit,
auditor), the board, the negative list and its Excel, the warning list's filters, my to-do and
the home card, the project file's tab, the project list's light column and filter, and query
counts. The workflow steps: test_views_workflow.py; the rule pages: test_views_rules.py.

Data: a fake metric (tests/fakes.py) lights project a (临川区) yellow in September and October
2026, project b (青山县) red in October, and the region 临川区 red in October. Today is
2026-11-23."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.test import RequestFactory

from majorprojects.alerts import services
from majorprojects.alerts.engine import scan
from majorprojects.alerts.models import ScanRun, Status, Warning
from majorprojects.alerts.views import project_tab_context, todo_items
from majorprojects.factories import ProjectFactory

from .fakes import fake, rule_factory  # noqa: F401

pytestmark = pytest.mark.django_db

AFTER = date(2026, 11, 23)
ROLES = ["admin", "leader", "linchuan", "qingshan", "jtj", "owner_a"]


def as_user(client, user):
    client.force_login(user)
    return client


def flash(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def run_scan(rules, year, month):
    services.scan_record(scan(year, month, rules=rules, today=AFTER))


@pytest.fixture
def lit(fake, rule_factory, projects, city, monkeypatch):  # noqa: F811
    """Rule "start-test" (project, yellow ≥ 1, red ≥ 3) and "region-test" (region, lower is
    worse: yellow ≤ -1, red ≤ -5). September: a = 1. October: a = 1, b = 4, 临川区 = -6."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: AFTER)
    rule = rule_factory(code="start-test", name="计划开工逾期（测试）", sort_order=1)
    region_rule = rule_factory(
        code="region-test",
        name="区域投资落后（测试）",
        metric="fake_region",
        subject="region",
        yellow_threshold=-1,
        red_threshold=-5,
        sort_order=2,
    )
    a, b = projects["a"], projects["b"]
    fake.set(2026, 9, {a.pk: 1})
    run_scan([rule], 2026, 9)
    fake.set(2026, 10, {a.pk: 1, b.pk: 4})
    run_scan([rule], 2026, 10)
    fake.set(2026, 10, {city["linchuan"].pk: -6})
    run_scan([region_rule], 2026, 10)
    return {
        "rule": rule,
        "region_rule": region_rule,
        "a": Warning.objects.get(project=a, year=2026, month=10),
        "a_sep": Warning.objects.get(project=a, year=2026, month=9),
        "b": Warning.objects.get(project=b, year=2026, month=10),
        "region": Warning.objects.get(project__isnull=True, region=city["linchuan"], year=2026, month=10),
    }


# --- Who sees which page --------------------------------------------------------------------

PAGES = ["/alerts/", "/alerts/negative/", "/alerts/warnings/", "/alerts/mine/", "/alerts/rules/",
         "/alerts/negative/export.xlsx", "/alerts/rules/export.json"]  # fmt: skip


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", PAGES)
def test_every_reader_opens_every_page(client, users, lit, who, url):
    assert as_user(client, users[who]).get(url).status_code == 200


@pytest.mark.parametrize("url", [*PAGES, "/alerts/rules/new/", "/alerts/rules/import/"])
def test_auditor_gets_403_everywhere(client, users, lit, url):
    assert as_user(client, users["auditor"]).get(url).status_code == 403


def test_auditor_gets_403_on_a_warning_and_its_steps(client, users, lit):
    as_user(client, users["auditor"])
    assert client.get(f"/alerts/warnings/{lit['a'].pk}/").status_code == 403
    assert client.post(f"/alerts/warnings/{lit['a'].pk}/notify/", {"notify-version": 1}).status_code == 403


def test_anonymous_is_sent_to_login(client, lit):
    response = client.get("/alerts/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "who,warning,status",
    [
        ("admin", "a", 200), ("leader", "b", 200), ("linchuan", "a", 200), ("linchuan", "region", 200),
        ("linchuan", "b", 404), ("qingshan", "a", 404), ("qingshan", "region", 404), ("qingshan", "b", 200),
        ("owner_a", "a", 200), ("owner_a", "b", 404), ("owner_a", "region", 404), ("jtj", "b", 200),
        ("jtj", "a", 404),
    ],
)  # fmt: skip
def test_a_warning_outside_the_scope_is_404(client, users, lit, who, warning, status):
    assert as_user(client, users[who]).get(f"/alerts/warnings/{lit[warning].pk}/").status_code == status


def test_a_missing_warning_is_404(client, users, lit):
    assert as_user(client, users["admin"]).get("/alerts/warnings/999999/").status_code == 404


# --- The board ------------------------------------------------------------------------------


def test_board_defaults_to_the_latest_scanned_month(client, users, lit):
    response = as_user(client, users["admin"]).get("/alerts/")
    html = response.content.decode()
    assert response.context["period"] == "2026-10"
    assert response.context["counts"]["red"] == 1 and response.context["counts"]["yellow"] == 1
    board = {r["region_name"]: r for r in response.context["board"]}
    assert board["临川区"]["light"] == "red" and board["青山县"]["light"] == "green"
    assert board["临川区"]["projects"]["yellow"] == 1 and board["青山县"]["projects"]["red"] == 1
    assert response.context["region_lights"] == {"red": 1, "yellow": 0, "green": 2}
    assert "立即扫描" in html and 'data-testid="region-board"' in html and "区域投资落后（测试）" in html


def test_board_of_a_county_shows_its_own_regions_and_no_scan_button(client, users, lit):
    response = as_user(client, users["linchuan"]).get("/alerts/")
    names = [r["region_name"] for r in response.context["board"]]
    assert names == ["临川区", "云江经济技术开发区"]
    assert response.context["counts"] == {**response.context["counts"], "red": 0, "yellow": 1}
    assert "立即扫描" not in response.content.decode()


def test_board_of_an_older_month_and_of_an_unscanned_one(client, users, lit):
    as_user(client, users["admin"])
    september = client.get("/alerts/", {"period": "2026-09"})
    assert september.context["counts"]["yellow"] == 1 and september.context["counts"]["red"] == 0
    june = client.get("/alerts/", {"period": "2026-06"})
    assert not june.context["scanned"] and 'data-testid="not-scanned"' in june.content.decode()
    garbage = client.get("/alerts/", {"period": "2026-13"})
    assert garbage.context["period"] == "2026-10"


def test_scan_button_runs_the_month_for_the_city_admin(client, users, lit):
    before = ScanRun.objects.count()
    response = as_user(client, users["admin"]).post("/alerts/scan/", {"period": "2026-10"}, follow=True)
    assert ScanRun.objects.count() == before + 1
    assert "已扫描2026年10月：新增" in flash(response) and "消除" in flash(response)
    assert response.redirect_chain[-1][0] == "/alerts/?period=2026-10"


def test_scan_refuses_a_future_month_and_nonsense(client, users, lit):
    as_user(client, users["admin"])
    response = client.post("/alerts/scan/", {"period": "2026-12"}, follow=True)
    assert "不能扫描尚未开始的月份" in flash(response)
    response = client.post("/alerts/scan/", {"period": "十月"}, follow=True)
    assert "请选择要扫描的月份" in flash(response)


@pytest.mark.parametrize("who", ["linchuan", "owner_a", "leader", "jtj"])
def test_scan_is_the_city_admins(client, users, lit, who):
    assert as_user(client, users[who]).post("/alerts/scan/", {"period": "2026-10"}).status_code == 403


def test_scan_is_post_only(client, users, lit):
    assert as_user(client, users["admin"]).get("/alerts/scan/").status_code == 405


# --- The negative list ----------------------------------------------------------------------


def test_negative_list_by_region_with_the_comparison(client, users, lit):
    response = as_user(client, users["admin"]).get("/alerts/negative/")
    data = response.context["data"]
    assert [s["region_name"] for s in data["sections"]] == ["临川区", "青山县"]
    assert data["comparison"]["new"] == 1 and data["comparison"]["persisting"] == 1
    html = response.content.decode()
    assert "2026年10月重点项目负面清单" in html and "新列入" in html and "持续在列" in html
    assert "临川新材料产业园" in html and "青山县环城公路" in html and "data-print" in html
    assert "临川建设投资有限公司" in html  # the responsible unit


def test_negative_list_of_a_county_is_its_own(client, users, lit):
    html = as_user(client, users["qingshan"]).get("/alerts/negative/").content.decode()
    assert "青山县环城公路" in html and "临川新材料产业园" not in html


def test_negative_list_of_a_month_without_lights(client, users, lit):
    response = as_user(client, users["admin"]).get("/alerts/negative/", {"period": "2026-08"})
    assert 'data-testid="negative-empty"' in response.content.decode()


def test_negative_list_export_opens_in_excel(client, users, lit):
    response = as_user(client, users["admin"]).get("/alerts/negative/export.xlsx", {"period": "2026-10"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book["负面清单"].iter_rows(values_only=True))
    assert rows[0][0] == "2026年10月重点项目负面清单"
    names = [r[1] for r in rows[3:] if isinstance(r[0], int)]
    assert names == ["临川新材料产业园", "青山县环城公路"]
    assert any(r[0] == "新列入" and r[1] == 1 for r in book["统计"].iter_rows(values_only=True))


def test_negative_list_export_of_an_outsider_has_none_of_the_others(client, users, lit):
    response = as_user(client, users["owner_a"]).get("/alerts/negative/export.xlsx")
    text = str(
        list(openpyxl.load_workbook(io.BytesIO(response.content))["负面清单"].iter_rows(values_only=True))
    )
    assert "临川新材料产业园" in text and "青山县环城公路" not in text


# --- The warning list -----------------------------------------------------------------------


def test_list_opens_on_the_latest_month(client, users, lit):
    response = as_user(client, users["admin"]).get("/alerts/warnings/")
    assert {r["id"] for r in response.context["rows"]} == {lit["a"].pk, lit["b"].pk, lit["region"].pk}


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"light": "red"}, {"b", "region"}),
        ({"light": "yellow"}, {"a"}),
        ({"rule": "region-test"}, {"region"}),
        ({"subject": "project"}, {"a", "b"}),
        ({"status": "open"}, {"a", "b", "region"}),
        ({"status": "struck_off"}, set()),
        ({"q": "环城"}, {"b"}),
        ({"period": "2026-09"}, {"a_sep"}),
        ({"period": ""}, {"a", "a_sep", "b", "region"}),
    ],
)
def test_list_filters(client, users, lit, params, expected):
    response = as_user(client, users["admin"]).get("/alerts/warnings/", params)
    assert {r["id"] for r in response.context["rows"]} == {lit[k].pk for k in expected}


def test_list_filters_by_region_subtree_and_project(client, users, lit, city):
    as_user(client, users["admin"])
    response = client.get("/alerts/warnings/", {"region": city["linchuan"].pk})
    assert {r["id"] for r in response.context["rows"]} == {lit["a"].pk, lit["region"].pk}
    response = client.get("/alerts/warnings/", {"project": lit["a"].project_id, "period": ""})
    assert {r["id"] for r in response.context["rows"]} == {lit["a"].pk, lit["a_sep"].pk}


def test_list_is_scoped_and_ignores_a_bad_filter(client, users, lit):
    response = as_user(client, users["owner_a"]).get("/alerts/warnings/", {"light": "purple"})
    assert {r["id"] for r in response.context["rows"]} == {lit["a"].pk}
    assert "以下筛选条件无效" in response.content.decode()


def test_list_htmx_returns_the_results_only(client, users, lit):
    response = as_user(client, users["admin"]).get(
        "/alerts/warnings/", {"light": "red"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="warning-table"' in html and "青山县环城公路" in html


def test_list_pages_by_fifty(client, users, lit, fake, city):  # noqa: F811
    many = [ProjectFactory(name=f"批量项目{i}", owner_unit=city["owner_a"]) for i in range(55)]
    fake.set(2026, 10, {p.pk: 2 for p in many})
    run_scan([lit["rule"]], 2026, 10)
    as_user(client, users["admin"])
    first = client.get("/alerts/warnings/", {"subject": "project"})
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.count == 55
    second = client.get("/alerts/warnings/", {"subject": "project", "page": 2})
    assert len(second.context["rows"]) == 5


# --- Query counts ---------------------------------------------------------------------------


@pytest.fixture
def crowd(lit, fake, city):  # noqa: F811
    """Sixty more lit projects across both counties (red and yellow)."""
    many = [
        ProjectFactory(name=f"批量项目{i}", owner_unit=city["owner_a"] if i % 2 else city["owner_b"],
                       region=city["linchuan"] if i % 2 else city["qingshan"])
        for i in range(60)
    ]  # fmt: skip
    fake.set(2026, 10, {p.pk: 1 + (i % 4) for i, p in enumerate(many)})
    run_scan([lit["rule"]], 2026, 10)
    return many


@pytest.mark.parametrize(
    "url,limit",
    [("/alerts/", 20), ("/alerts/negative/", 16), ("/alerts/warnings/", 16), ("/alerts/mine/", 14)],
)
def test_query_counts_do_not_grow_with_rows(client, users, crowd, url, limit, django_assert_max_num_queries):
    as_user(client, users["admin"])
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def test_project_list_with_lights_keeps_its_query_budget(client, users, crowd, django_assert_max_num_queries):
    as_user(client, users["admin"])
    with django_assert_max_num_queries(18):
        assert client.get("/projects/").status_code == 200


# --- The project list's light column and filter --------------------------------------------


def test_project_list_shows_the_light_with_the_rule_names(client, users, lit):
    html = as_user(client, users["admin"]).get("/projects/").content.decode()
    assert 'data-light="red"' in html and 'data-light="yellow"' in html and 'data-light="green"' in html
    assert 'title="2026年10月：计划开工逾期（测试）"' in html and 'title="2026年10月：绿灯"' in html


def test_project_list_without_a_scan_shows_no_light(client, users, projects):
    html = as_user(client, users["admin"]).get("/projects/").content.decode()
    assert 'data-testid="light-cell"><span class="text-muted small">—</span>' in html


@pytest.mark.parametrize(
    "light,expected",
    [("red", {"青山县环城公路"}), ("yellow", {"临川新材料产业园"}), ("green", {"经开区标准厂房"}),
     ("any", {"青山县环城公路", "临川新材料产业园"})],
)  # fmt: skip
def test_project_list_light_filter(client, users, lit, light, expected):
    response = as_user(client, users["admin"]).get("/projects/", {"light": light})
    assert {p.name for p in response.context["page"]} == expected


def test_project_list_light_filter_before_any_scan(client, users, projects):
    as_user(client, users["admin"])
    assert client.get("/projects/", {"light": "red"}).context["totals"]["count"] == 0
    assert client.get("/projects/", {"light": "green"}).context["totals"]["count"] == 3


# --- My to-do, the home card, the project tab -----------------------------------------------


def test_mine_of_the_project_unit_lists_its_warnings_to_rectify(client, users, lit):
    response = as_user(client, users["owner_a"]).get("/alerts/mine/")
    assert [w.pk for w in response.context["rectify"]["rows"]] == [lit["a"].pk, lit["a_sep"].pk]
    assert response.context["notify"] is None and response.context["strike_off"] is None


def test_mine_of_the_county_has_its_region_warning_and_the_ones_to_notify(client, users, lit):
    response = as_user(client, users["linchuan"]).get("/alerts/mine/")
    assert {w.pk for w in response.context["rectify"]["rows"]} == {
        lit["a"].pk,
        lit["a_sep"].pk,
        lit["region"].pk,
    }
    assert {w.pk for w in response.context["notify"]["rows"]} == {
        lit["a"].pk,
        lit["a_sep"].pk,
        lit["region"].pk,
    }


def test_mine_of_the_city_admin_lists_rectified_and_exemptions(client, users, lit):
    w = services.warning_plan(
        actor=users["owner_a"], warning=lit["a"], plan="加快征地", deadline=date(2026, 12, 31)
    )
    services.warning_mark_rectified(actor=users["owner_a"], warning=w, rectification="已开工")
    services.exemption_request(
        actor=users["qingshan"], warning=lit["b"], justification="征地受国家政策调整影响"
    )
    response = as_user(client, users["admin"]).get("/alerts/mine/")
    assert [w.pk for w in response.context["strike_off"]["rows"]] == [lit["a"].pk]
    assert [e.warning_id for e in response.context["exemptions"]["rows"]] == [lit["b"].pk]
    assert response.context["rectify"] is None


def test_mine_of_the_leader_has_nothing_to_do(client, users, lit):
    html = as_user(client, users["leader"]).get("/alerts/mine/").content.decode()
    assert 'data-testid="mine-none"' in html


def test_home_todo_items(users, lit):
    services.warning_plan(
        actor=users["owner_a"], warning=lit["a"], plan="加快征地", deadline=date(2026, 12, 31)
    )
    items = todo_items(users["owner_a"])
    assert items[0]["label"] == "报送整改完成：临川新材料产业园 · 计划开工逾期（测试）"
    assert items[0]["due"] == date(2026, 12, 31) and items[0]["args"] == [lit["a"].pk]
    assert todo_items(users["auditor"]) == [] and todo_items(users["leader"]) == []


def test_home_todo_card_renders(users, lit):
    from django.template.loader import render_to_string

    html = render_to_string(
        "alerts/_home_todo.html", {"alert_todo": todo_items(users["owner_a"]), "today": AFTER}
    )
    assert 'data-testid="alert-todo"' in html and f"/alerts/warnings/{lit['a'].pk}/" in html
    assert render_to_string("alerts/_home_todo.html", {"alert_todo": []}).strip() == ""


def test_project_tab_shows_the_current_light_and_the_history(client, users, lit):
    a = lit["a"].project
    response = as_user(client, users["owner_a"]).get(f"/projects/{a.pk}/tab/alerts/")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="project-alerts"' in html
    tab = response.context["alerts_tab"]
    assert tab["light"] == "yellow" and [r["id"] for r in tab["current"]] == [lit["a"].pk]
    assert [r["id"] for r in tab["history"]] == [lit["a"].pk, lit["a_sep"].pk]
    assert "2026-10 当前灯色" in html


def test_project_tab_context_of_a_green_project(users, lit, projects):
    request = RequestFactory().get("/")
    request.user = users["admin"]
    context = project_tab_context(request, projects["zone"])
    assert context["alerts_tab"]["light"] == "green" and context["alerts_tab"]["history"] == []


def test_project_tab_is_404_outside_the_scope(client, users, lit):
    assert (
        as_user(client, users["qingshan"]).get(f"/projects/{lit['a'].project_id}/tab/alerts/").status_code
        == 404
    )


def test_evidence_values_render_as_a_table(client, users, lit):
    Warning.objects.filter(pk=lit["b"].pk).update(
        evidence={
            "planned_start": "2026-07-15",
            "planned_start_source": "listing",
            "months_overdue": 4,
            "flagged_items": [{"item": "用地预审", "date": "2026-08-01", "days": 30}],
            "late": False,
        },
        value=Decimal("4.0000"),
    )
    response = as_user(client, users["admin"]).get(f"/alerts/warnings/{lit['b'].pk}/")
    html = response.content.decode()
    assert "计划开工日期" in html and "年度清单" in html and "逾期事项" in html and "用地预审" in html
    assert response.context["why"]["value"] == "4" and response.context["why"]["red"] == "≥ 3 个"
    assert Status.ISSUED.label in html
