"""Funds pages: the overview, the allocation ledger, the at-risk list, the programmes' rules and
the project file's funds tab — who sees them, the hand-worked figures of the `ledger` fixture
(conftest.py), filters, exports read back with openpyxl, and query counts.

Ledger as of 2026-11-20: A1 project a 中央预算内 1200 (paid 450, behind: expected 600; at risk:
not started 6 months after issue and 3 months without payment), A2 project b 专项债 2000 (paid
1500, on pace), A3 zone 市级资金 500 (no window), A4 project b 中央预算内 800 (paid 0, behind:
expected 66.67). City: allocated 4500, paid 1950, rate 43.3%."""

import io
import json
import re

import openpyxl
import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from majorprojects.audit.models import Event
from majorprojects.funds.models import Programme
from majorprojects.funds.views import project_tab_context

pytestmark = pytest.mark.django_db


def get(client, user, url, **headers):
    client.force_login(user)
    return client.get(url, headers=headers)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


# --- overview -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "leader", "linchuan", "qingshan", "jtj", "owner_a"])
def test_overview_renders_for_every_reader(client, users, ledger, who):
    response = get(client, users[who], "/funds/")
    assert response.status_code == 200
    assert "资金总览" in text(response)


def test_overview_is_refused_to_the_auditor(client, users, ledger):
    assert get(client, users["auditor"], "/funds/").status_code == 403


def test_overview_figures_for_the_city(client, users, ledger):
    response = get(client, users["admin"], "/funds/")
    body = text(response)
    total = response.context["total"]
    assert str(total["allocated"]) == "4500.00" and str(total["paid"]) == "1950.00"
    assert str(total["rate"]) == "43.3"
    assert total["behind_count"] == 2  # A1 and A4
    assert response.context["risk_count"] == 1  # A1
    assert str(response.context["risk_unpaid"]) == "750.00"
    assert "43.3%" in body and "4,500.00" in body
    by_programme = {r["label"]: r for r in response.context["by_programme"]}
    assert str(by_programme["中央预算内投资"]["allocated"]) == "2000.00"
    assert str(by_programme["中央预算内投资"]["rate"]) == "22.5"  # 450 / 2000
    assert str(by_programme["地方政府专项债券"]["rate"]) == "75.0"
    regions = {r["label"]: r for r in response.context["groups"]}
    assert str(regions["临川区"]["allocated"]) == "1700.00"  # a 1200 + the zone's 500
    assert str(regions["青山县"]["paid"]) == "1500.00"


def test_overview_chart_data_comes_as_json(client, users, ledger):
    body = get(client, users["admin"], "/funds/").content.decode()
    data = json.loads(
        re.search(r'<script id="funds-programme-data" type="application/json">(.*?)</script>', body)[1]
    )
    assert data["unit"] == "万元"
    assert data["labels"][0] == "中央预算内投资"
    assert data["allocated"][0] == "2000.00" and data["paid"][0] == "450.00" and data["rate"][0] == "22.5"
    assert 'src="/static/js/funds.js"' in body and "<script>" not in body


def test_county_overview_counts_only_its_region(client, users, ledger):
    total = get(client, users["linchuan"], "/funds/").context["total"]
    assert str(total["allocated"]) == "1700.00" and str(total["rate"]) == "26.5"  # 450 / 1700


def test_overview_as_of_counts_movements_up_to_that_day(client, users, ledger):
    response = get(client, users["admin"], "/funds/?as_of=2026-07-01")
    total = response.context["total"]
    # A3 and A4 were issued later but are still listed (the allocation itself is not dated out);
    # only payments up to July 1st count: A1 300 + A2 1000.
    assert str(total["paid"]) == "1300.00"
    assert "截至 2026-07-01" in text(response)


def test_overview_bad_as_of_falls_back_to_today(client, users, ledger):
    response = get(client, users["admin"], "/funds/?as_of=2026-13-40")
    assert str(response.context["as_of"]) == "2026-11-20"
    assert "统计截止日期格式应为 YYYY-MM-DD。已改用今天。" in text(response)
    response = get(client, users["admin"], "/funds/?as_of=2030-01-01")
    assert "统计截止日期不能晚于今天，已改用今天。" in text(response)


def test_overview_department_tab_swaps_in_place(client, users, ledger):
    response = get(
        client, users["admin"], "/funds/?by=department", **{"HX-Request": "true", "HX-Target": "groups"}
    )
    assert response.templates[0].name == "funds/_groups.html"
    labels = [r["label"] for r in response.context["groups"]]
    assert "云江市交通运输局" in labels and "未明确主管部门" in labels


def test_overview_query_count_is_bounded(client, users, ledger, django_assert_max_num_queries):
    client.force_login(users["admin"])
    with django_assert_max_num_queries(10):
        assert client.get("/funds/").status_code == 200


def test_overview_export_has_programme_and_region_sheets(client, users, ledger):
    book = workbook(get(client, users["admin"], "/funds/export/?as_of=2026-11-20"))
    assert book.sheetnames == ["按资金渠道", "按区域"]
    rows = list(book["按资金渠道"].iter_rows(min_row=4, values_only=True))
    assert rows[-1][0] == "合计" and rows[-1][3] == 4500 and rows[-1][7] == 1950


def test_overview_export_is_scoped(client, users, ledger):
    book = workbook(get(client, users["qingshan"], "/funds/export/"))
    total = list(book["按资金渠道"].iter_rows(min_row=4, values_only=True))[-1]
    assert total[3] == 2800  # project b: A2 2000 + A4 800
    assert get(client, users["auditor"], "/funds/export/").status_code == 403


# --- allocations --------------------------------------------------------------------------------


def documents(response) -> list[str]:
    return [r["allocation"].document_no for r in response.context["page"]]


def test_allocation_ledger_rows_with_pace(client, users, ledger):
    response = get(client, users["admin"], "/funds/allocations/")
    assert response.status_code == 200
    assert len(documents(response)) == 4
    row = next(r for r in response.context["page"] if r["allocation"] == ledger["a1"])
    assert str(row["pace"]["expected_pct"]) == "50.0" and str(row["rate"]) == "37.5"
    assert str(row["pace"]["gap_pp"]) == "-12.5" and row["risk"] is not None
    body = text(response)
    assert "-12.5" in body and "落后序时" in body and "可能收回" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("behind=on", {"发改投资〔2026〕101号", "发改投资〔2026〕202号"}),
        ("at_risk=on", {"发改投资〔2026〕101号"}),
        ("behind=on&at_risk=on", {"发改投资〔2026〕101号"}),
        ("programme={special_bond}", {"湘财债〔2026〕8号"}),
        ("region={linchuan}", {"发改投资〔2026〕101号", "云财建〔2026〕30号"}),
        ("region={zone}", {"云财建〔2026〕30号"}),
    ],
)
def test_allocation_ledger_filters(client, users, ledger, progs, city, query, expected):
    query = query.format(
        special_bond=progs["special_bond"].pk, linchuan=city["linchuan"].pk, zone=city["zone"].pk
    )
    assert set(documents(get(client, users["admin"], f"/funds/allocations/?{query}"))) == expected


def test_allocation_ledger_is_scoped(client, users, ledger):
    assert set(documents(get(client, users["jtj"], "/funds/allocations/"))) == {
        "湘财债〔2026〕8号",
        "发改投资〔2026〕202号",
    }
    assert set(documents(get(client, users["owner_a"], "/funds/allocations/"))) == {
        "发改投资〔2026〕101号",
        "云财建〔2026〕30号",
    }
    assert get(client, users["auditor"], "/funds/allocations/").status_code == 403


def test_allocation_ledger_bad_filter_is_ignored_and_said(client, users, ledger):
    response = get(client, users["linchuan"], "/funds/allocations/?programme=99999&as_of=昨天")
    assert len(documents(response)) == 2
    assert "以下条件无效，已忽略" in text(response) and "没有这个资金渠道" in text(response)


def test_allocation_ledger_county_cannot_filter_another_region(client, users, ledger, city):
    response = get(client, users["linchuan"], f"/funds/allocations/?region={city['qingshan'].pk}")
    assert "没有这个区域或不在您的管辖范围内" in text(response)
    assert set(documents(response)) == {"发改投资〔2026〕101号", "云财建〔2026〕30号"}


def test_allocation_ledger_filters_in_place(client, users, ledger):
    response = get(
        client,
        users["admin"],
        "/funds/allocations/?behind=on",
        **{"HX-Request": "true", "HX-Target": "results"},
    )
    assert response.templates[0].name == "funds/_allocation_results.html"
    assert 'data-href="/funds/allocations/export/?behind=on"' in response.content.decode()


def test_allocation_ledger_is_paginated(client, users, ledger, monkeypatch):
    monkeypatch.setattr("majorprojects.funds.views.PAGE_SIZE", 3)
    first = get(client, users["admin"], "/funds/allocations/")
    assert len(documents(first)) == 3 and "第 1 / 2 页" in text(first)
    second = get(client, users["admin"], "/funds/allocations/?page=2")
    assert len(documents(second)) == 1
    assert str(second.context["total"]["allocated"]) == "4500.00"  # the footer counts every page


def test_allocation_ledger_query_count_does_not_grow(
    client, users, ledger, progs, projects, django_assert_max_num_queries
):
    from .conftest import allocate

    for i in range(20):
        allocate(
            users["admin"], projects["b"], progs["special_bond"], "10", ledger["a2"].issued_on, f"补{i}号"
        )
    client.force_login(users["linchuan"])
    # session, user, the user's region, allocations, the programme and region choices, the
    # session's expiry refresh (3) — whatever the number of rows
    with django_assert_max_num_queries(10):
        assert client.get("/funds/allocations/?behind=on").status_code == 200
    client.force_login(users["admin"])
    with django_assert_max_num_queries(10):
        assert client.get("/funds/allocations/").status_code == 200


def test_allocation_ledger_export_is_what_the_filters_show(client, users, ledger):
    book = workbook(get(client, users["admin"], "/funds/allocations/export/?behind=on"))
    sheet = book["资金下达台账"]
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0]]
    assert [r[5] for r in rows] == ["发改投资〔2026〕101号", "发改投资〔2026〕202号"]
    assert rows[0][11] == 37.5 and rows[0][15] == -12.5


# --- at risk ------------------------------------------------------------------------------------


def test_at_risk_list_with_reasons(client, users, ledger):
    response = get(client, users["admin"], "/funds/at-risk/")
    assert response.status_code == 200
    risks = response.context["risks"]
    assert [r["row"]["allocation"] for r in risks] == [ledger["a1"]]
    body = text(response)
    assert "下达后 6 个月（2026-11-10）仍未开工" in body
    assert "已连续 3 个月无支付（最近支付 2026-08-01）" in body
    assert str(response.context["unpaid"]) == "750.00"


def test_at_risk_list_is_scoped_and_filtered(client, users, ledger, progs):
    assert get(client, users["qingshan"], "/funds/at-risk/").context["risks"] == []
    assert get(client, users["admin"], f"/funds/at-risk/?programme={progs['city'].pk}").context["risks"] == []
    assert get(client, users["auditor"], "/funds/at-risk/").status_code == 403
    earlier = get(client, users["admin"], "/funds/at-risk/?as_of=2026-11-01").context["risks"]
    # Before the start deadline (11-10) only the idle months count: 08-01 → 11-01 is 3 months.
    assert [r["reasons"] for r in earlier] == [["已连续 3 个月无支付（最近支付 2026-08-01）"]]


def test_at_risk_export(client, users, ledger):
    sheet = workbook(get(client, users["linchuan"], "/funds/at-risk/export/"))["可能收回资金"]
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0]]
    assert len(rows) == 1
    assert rows[0][1] == "临川新材料产业园" and rows[0][9] == 750
    assert "仍未开工" in rows[0][11]


def test_at_risk_query_count(client, users, ledger, django_assert_max_num_queries):
    client.force_login(users["admin"])
    with django_assert_max_num_queries(10):
        assert client.get("/funds/at-risk/").status_code == 200


# --- programmes ---------------------------------------------------------------------------------


def programme_data(programme, **changes):
    data = {
        "name": programme.name,
        "kind": programme.kind,
        "level": programme.level,
        "funding_source": programme.funding_source,
        "window_months": programme.window_months or "",
        "straight_line": "on" if programme.straight_line else "",
        "idle_months": programme.idle_months or "",
        "start_deadline_months": programme.start_deadline_months or "",
        "sort_order": programme.sort_order,
        "is_active": "on" if programme.is_active else "",
        "version": programme.version,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_programme_rules_are_listed_for_readers_editable_by_the_city_admin(client, users, progs):
    body = text(get(client, users["linchuan"], "/funds/programmes/"))
    assert "中央预算内投资" in body and "编辑规则" not in body
    assert "编辑规则" in text(get(client, users["admin"], "/funds/programmes/"))
    assert get(client, users["auditor"], "/funds/programmes/").status_code == 403


@pytest.mark.parametrize("who", ["leader", "linchuan", "jtj", "owner_a", "auditor"])
def test_only_the_city_admin_edits_programmes(client, users, progs, who):
    programme = progs["central_budget"]
    assert get(client, users[who], f"/funds/programmes/{programme.pk}/").status_code == 403
    response = client.post(f"/funds/programmes/{programme.pk}/", programme_data(programme, window_months=6))
    assert response.status_code == 403
    assert get(client, users[who], "/funds/programmes/new/").status_code == 403
    programme.refresh_from_db()
    assert programme.window_months == 12


def test_city_admin_edits_a_programme_rule(client, users, progs):
    programme = progs["central_budget"]
    client.force_login(users["admin"])
    response = client.post(
        f"/funds/programmes/{programme.pk}/", programme_data(programme, window_months=18, idle_months=4)
    )
    assert response.status_code == 302 and response["Location"] == "/funds/programmes/"
    programme.refresh_from_db()
    assert (programme.window_months, programme.idle_months, programme.version) == (18, 4, 2)
    assert Event.objects.filter(verb="programme_update").count() == 1


def test_programme_edit_bad_input_and_conflict(client, users, progs):
    programme = progs["central_budget"]
    client.force_login(users["admin"])
    response = client.post(f"/funds/programmes/{programme.pk}/", programme_data(programme, window_months=0))
    assert response.status_code == 200
    assert response.context["form"].errors["window_months"] == ["使用期限应在 1 到 600 个月之间。"]
    response = client.post(
        f"/funds/programmes/{programme.pk}/", programme_data(programme, name="地方政府专项债券")
    )
    assert response.context["form"].errors["name"] == ["资金渠道“地方政府专项债券”已存在。"]
    stale = programme_data(programme, window_months=9)
    Programme.objects.filter(pk=programme.pk).update(version=5)
    response = client.post(f"/funds/programmes/{programme.pk}/", stale)
    assert "该记录已被他人修改，请刷新页面后重新编辑。" in text(response)
    programme.refresh_from_db()
    assert programme.window_months == 12


def test_city_admin_adds_a_programme(client, users, progs):
    client.force_login(users["admin"])
    data = {
        "code": "county_fund",
        "name": "县级配套资金",
        "kind": "other",
        "level": "county",
        "window_months": "6",
    }
    response = client.post("/funds/programmes/new/", data)
    assert response.status_code == 302
    assert Programme.objects.get(code="county_fund").window_months == 6
    response = client.post("/funds/programmes/new/", {**data, "name": "另一个"})
    assert response.context["form"].errors["code"] == ["代码“county_fund”已被使用。"]


def test_unknown_programme_is_404(client, users, progs):
    assert get(client, users["admin"], "/funds/programmes/99999/").status_code == 404


# --- the project file's funds tab ---------------------------------------------------------------


def tab(user, project):
    request = RequestFactory().get("/")
    request.user = user
    context = project_tab_context(request, project)
    return context, re.sub(
        r"\s+", " ", render_to_string("funds/project_tab.html", {**context, "project": project})
    )


def test_project_tab_summarises_the_project(users, projects, ledger):
    context, html = tab(users["owner_a"], projects["a"])
    assert str(context["funds"]["total"]["rate"]) == "37.5"
    assert context["funds_can_record"] is True and context["funds_behind"] == 1
    assert "发改投资〔2026〕101号" in html and "37.5%" in html and "1 笔可能收回" in html
    assert f'href="/funds/projects/{projects["a"].pk}/"' in html and "查看和登记资金" in html


def test_project_tab_for_a_reader_and_an_empty_project(users, projects, ledger):
    context, html = tab(users["leader"], projects["a"])
    assert context["funds_can_record"] is False and "查看资金明细" in html
    from majorprojects.factories import ProjectFactory

    empty = ProjectFactory(name="空项目")
    context, html = tab(users["admin"], empty)
    assert "尚未登记资金下达" in html and context["funds"]["total"]["rate"] is None


def test_project_tab_query_count(users, projects, ledger, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        tab(users["admin"], projects["b"])


def test_project_file_shows_the_funds_tab(client, users, projects, ledger):
    client.force_login(users["owner_a"])
    url = f"/projects/{projects['a'].pk}/tab/funds/"
    body = text(client.get(url))
    assert "资金" in body and "发改投资〔2026〕101号" in body and "37.5%" in body
    partial = client.get(url, headers={"HX-Request": "true", "HX-Target": "tab-body"})
    assert partial.templates[0].name == "funds/project_tab.html"
    client.force_login(users["qingshan"])
    assert client.get(url).status_code == 404
