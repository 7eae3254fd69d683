"""Dispatch pages: one report (fill, save, submit, review, photos, corrections), my reports,
periods with completeness and the missing list, locking, schedules, corrections, the home
to-do, the navigation and the project file's dispatch tab.

Roles for project a (临川区, owned by owner_a): owner_a fills, linchuan (county) fills and
reviews, the leader reads only, qingshan (another county) and the auditor are outsiders."""

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from majorprojects.audit.models import Event
from majorprojects.factories import ProjectFactory
from majorprojects.projects.models import Project, Stage
from majorprojects.reporting import services
from majorprojects.reporting.models import Correction, Frequency, Period, Report, Schedule, Status

TODAY = date(2026, 10, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


@pytest.fixture
def building(listed):
    """Project a is under construction since 2025 (so a report needs investment, progress,
    percent complete and next month's plan), with a contact to chase."""
    Project.objects.filter(pk=listed["a"].pk).update(
        stage=Stage.CONSTRUCTION,
        actual_start_date=date(2025, 3, 1),
        contact_name="张建国",
        contact_phone="13807310001",
    )
    return listed


@pytest.fixture
def report(slot, building):
    slot.refresh_from_db()
    return slot


def url(report, action=""):
    return f"/dispatch/reports/{report.pk}/{action + '/' if action else ''}"


def form_data(report, key=None, **values):
    """What the report form posts: the typed fields, the version it was opened at, a key."""
    data = {
        "version": report.version,
        "key": key or str(uuid.uuid4()),
        "investment": "",
        "progress": "",
        "percent_complete": "",
        "started_on": "",
        "structure_done_on": "",
        "completed_on": "",
        "operating_on": "",
        "stats_included": "unknown",
        "stats_date": "",
        "problems": "",
        "next_plan": "",
        "note": "",
    }
    data.update(values)
    return data


FULL = {
    "investment": "1,500",
    "progress": "主体结构施工至三层",
    "percent_complete": "40",
    "next_plan": "完成主体封顶",
    "arrived_special_bond": "100",
    "paid_special_bond": "80",
}


def login(client, users, name):
    client.force_login(users[name])
    return client


# --- reading the report ----------------------------------------------------------------------


def test_owner_sees_the_phone_form_with_version_key_and_decimal_inputs(client, users, report):
    html = login(client, users, "owner_a").get(url(report)).content.decode()
    assert 'name="version"' in html and 'name="key"' in html
    assert 'inputmode="decimal"' in html and "form-control-lg" in html
    assert "保存草稿" in html and "报送" in html
    assert "本年累计" in html and "开工累计" in html
    assert 'name="arrived_special_bond"' in html
    assert 'data-testid="review"' not in html


def test_county_reviewer_may_fill_on_behalf_and_leader_only_reads(client, users, report):
    assert 'name="key"' in login(client, users, "linchuan").get(url(report)).content.decode()
    response = login(client, users, "leader").get(url(report))
    assert response.status_code == 200
    assert response.context["form"] is None and "保存草稿" not in response.content.decode()
    assert client.post(url(report), form_data(report, **FULL)).status_code == 403
    assert client.post(url(report, "submit"), form_data(report, **FULL)).status_code == 403


@pytest.mark.parametrize("action", ["", "submit", "approve", "return", "photos", "correction"])
def test_outsiders_get_404_or_403(client, users, report, action):
    login(client, users, "qingshan")
    method = client.get if action == "" else client.post
    assert method(url(report, action), form_data(report, **FULL)).status_code == 404
    login(client, users, "auditor")
    assert method(url(report, action), form_data(report, **FULL)).status_code == 403
    report.refresh_from_db()
    assert report.status == Status.PENDING and report.version == 1


def test_unknown_report_is_404(client, users, report):
    assert login(client, users, "admin").get("/dispatch/reports/999999/").status_code == 404


# --- saving and submitting -------------------------------------------------------------------


def test_save_draft_derives_totals_and_stores_funds(client, users, report):
    login(client, users, "owner_a")
    response = client.post(url(report), form_data(report, **FULL))
    assert response.status_code == 302 and response["Location"] == url(report)
    report.refresh_from_db()
    assert report.status == Status.DRAFT and report.investment == Decimal("1500.00")
    assert report.year_to_date == Decimal("1500.00") and report.version == 2
    assert {(f.source, f.arrived, f.paid) for f in report.funds.all()} == {
        ("special_bond", Decimal("100.00"), Decimal("80.00"))
    }
    html = client.get(url(report)).content.decode()
    assert "1,500.00" in html and "草稿已保存" in html
    assert "保存调度表" in html  # the history at the bottom, in words
    assert "本期资金：无 → 地方政府专项债券 到位100.00 支付80.00" in html
    assert "本期完成投资（万元）：空 → 1500.00" in html


def test_double_click_on_save_saves_once(client, users, report):
    login(client, users, "owner_a")
    data = form_data(report, **FULL)
    assert client.post(url(report), data).status_code == 302
    assert client.post(url(report), data).status_code == 302
    report.refresh_from_db()
    assert report.version == 2
    assert Event.objects.filter(verb="report_save", target_id=str(report.pk)).count() == 1


def test_double_submit_with_the_same_key_submits_once(client, users, report):
    login(client, users, "owner_a")
    data = form_data(report, **FULL)
    first = client.post(url(report, "submit"), data)
    second = client.post(url(report, "submit"), data)
    assert first.status_code == second.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and not report.is_late
    assert Event.objects.filter(verb="report_submit", target_id=str(report.pk)).count() == 1
    assert Event.objects.filter(verb="report_save", target_id=str(report.pk)).count() == 1
    assert Report.objects.filter(period=report.period, project=report.project).count() == 1
    assert report.investment == Decimal("1500.00") and report.year_to_date == Decimal("1500.00")


def test_submit_with_missing_fields_keeps_a_draft_and_names_the_fields(client, users, report):
    login(client, users, "owner_a")
    response = client.post(url(report, "submit"), form_data(report, investment="300"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["progress"] == ["请填写形象进度。"]
    assert form.errors["next_plan"] == ["请填写下期计划。"]
    assert "已保存为草稿" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.DRAFT and report.investment == Decimal("300.00")
    # The page carries the new version and a fresh key: completing the form now submits.
    again = {k: v for k, v in form.data.items()} | {
        "progress": "基础施工",
        "percent_complete": "10",
        "next_plan": "主体施工",
    }
    assert again["version"] == str(report.version) and again["key"] != form.cleaned_data["key"]
    assert client.post(url(report, "submit"), again).status_code == 302
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


def test_late_submission_is_marked(client, users, report, october, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 10, 30))
    login(client, users, "owner_a")
    client.post(url(report, "submit"), form_data(report, **FULL))
    report.refresh_from_db()
    assert report.is_late
    assert "计为迟报" in client.get(url(report)).content.decode()


def test_service_errors_appear_under_their_fields_and_keep_typed_values(client, users, report):
    login(client, users, "owner_a")
    response = client.post(url(report), form_data(report, **(FULL | {"investment": "60000"})))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "总投资" in errors["investment"][0]
    html = response.content.decode()
    assert "60000" in html and "主体结构施工至三层" in html
    report.refresh_from_db()
    assert report.status == Status.PENDING and report.version == 1


def test_unreadable_input_is_refused_by_field(client, users, report):
    login(client, users, "owner_a")
    response = client.post(
        url(report), form_data(report, investment="一千五", started_on="昨天", percent_complete="四十")
    )
    errors = response.context["form"].errors
    assert "无法识别的金额" in errors["investment"][0]
    assert errors["started_on"] == ["开工日期应为日期（如 2026-10-15）。"]
    assert errors["percent_complete"] == ["工程完成比例（%）应为 0 到 100 之间的数值。"]
    response = client.post(url(report), form_data(report, percent_complete="140"))
    assert "0 到 100" in response.context["form"].errors["percent_complete"][0]


def test_missing_version_or_key_asks_to_reload(client, users, report):
    login(client, users, "owner_a")
    data = form_data(report, **FULL)
    del data["key"]
    response = client.post(url(report), data)
    assert response.context["form"].errors["key"] == ["表单已过期，请刷新页面后重新填写。"]


def test_version_conflict_keeps_what_was_typed_and_shows_the_other_save(client, users, report):
    login(client, users, "linchuan")
    assert client.post(url(report), form_data(report, progress="县里代填：基础完工")).status_code == 302
    login(client, users, "owner_a")
    mine = form_data(report, **FULL)  # opened at version 1, before the county saved
    response = client.post(url(report), mine)
    assert response.status_code == 200
    html = response.content.decode()
    assert "这份报表已被" in html and "您填写的内容仍在表单中" in html
    assert "主体结构施工至三层" in html and "1,500" in html  # the typed values
    theirs = response.context["theirs"]
    assert {"label": "形象进度", "value": "县里代填：基础完工"} in theirs
    report.refresh_from_db()
    assert report.progress == "县里代填：基础完工" and report.version == 2
    # Saving again from that page is a deliberate choice and goes through.
    form = response.context["form"]
    assert form.data["version"] == "2" and 'name="version" value="2"' in html
    assert f'name="key" value="{mine["key"]}"' not in html  # a fresh key for the next attempt
    assert client.post(url(report), dict(form.data.items())).status_code == 302
    report.refresh_from_db()
    assert report.progress == "主体结构施工至三层" and report.version == 3


# --- review -----------------------------------------------------------------------------------


def _submitted(client, users, report):
    login(client, users, "owner_a")
    client.post(url(report, "submit"), form_data(report, **FULL))
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED
    return report


def test_returned_report_is_fixed_resubmitted_and_approved(client, users, report):
    _submitted(client, users, report)
    assert login(client, users, "owner_a").post(url(report, "approve")).status_code == 403
    assert login(client, users, "leader").post(url(report, "approve")).status_code == 403
    login(client, users, "linchuan")
    html = client.get(url(report)).content.decode()
    assert "审核通过" in html and "退回修改" in html and 'name="key"' not in html
    response = client.post(url(report, "return"), {"reason": ""})
    assert response.status_code == 200
    assert response.context["return_form"].errors["reason"] == ["请填写退回原因，告诉填报人需要修改什么。"]
    assert client.post(url(report, "return"), {"reason": "请补充形象进度照片"}).status_code == 302
    report.refresh_from_db()
    assert report.status == Status.RETURNED

    login(client, users, "owner_a")
    html = client.get(url(report)).content.decode()
    assert "请补充形象进度照片" in html and 'name="key"' in html
    client.post(url(report, "submit"), form_data(report, **(FULL | {"progress": "三层完工，已补照片"})))
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED
    assert Event.objects.filter(verb="report_resubmit", target_id=str(report.pk)).count() == 1

    login(client, users, "linchuan")
    assert client.post(url(report, "approve")).status_code == 302
    assert client.post(url(report, "approve")).status_code == 302  # a second click is harmless
    report.refresh_from_db()
    assert report.status == Status.APPROVED and report.reviewed_by == users["linchuan"]
    html = client.get(url(report)).content.decode()
    for label in ("报送调度表", "退回调度表", "重新报送调度表", "审核通过调度表", "原因：请补充形象进度照片"):
        assert label in html
    assert "同步到项目：无" in html and "迟报：否" in html


def test_returning_twice_says_why(client, users, report):
    _submitted(client, users, report)
    login(client, users, "linchuan")
    client.post(url(report, "return"), {"reason": "数据有误"})
    response = client.post(url(report, "return"), {"reason": "数据有误"}, follow=True)
    assert "只有已报送的报表可以退回" in response.content.decode()


# --- photos -----------------------------------------------------------------------------------


def test_photo_upload_by_htmx_returns_the_photos_block(client, users, report):
    login(client, users, "owner_a")
    response = client.post(
        url(report, "photos"),
        {"photo": SimpleUploadedFile("site.png", PNG, content_type="image/png")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<img" in html
    photo = report.photos.get()
    assert f"/projects/{report.project_id}/attachments/{photo.attachment_id}/" in html
    assert client.get(f"/projects/{report.project_id}/attachments/{photo.attachment_id}/").status_code == 200
    response = client.post(
        url(report, "photos"),
        {"photo": SimpleUploadedFile("notes.pdf", b"%PDF-1.4\n", content_type="application/pdf")},
        headers={"HX-Request": "true"},
    )
    assert "JPG 或 PNG" in response.content.decode()
    assert report.photos.count() == 1


def test_photo_upload_without_htmx_redirects_with_a_message(client, users, report):
    login(client, users, "owner_a")
    response = client.post(url(report, "photos"), {}, follow=True)
    assert "请选择要上传的照片" in response.content.decode()


def test_leader_cannot_upload_photos(client, users, report):
    login(client, users, "leader")
    photo = SimpleUploadedFile("site.png", PNG, content_type="image/png")
    assert client.post(url(report, "photos"), {"photo": photo}).status_code == 403


# --- lock and corrections ---------------------------------------------------------------------


def test_lock_then_correction_request_and_decision(client, users, report, october):
    _submitted(client, users, report)
    assert login(client, users, "linchuan").post(f"/dispatch/periods/{october.pk}/lock/").status_code == 403
    assert login(client, users, "owner_a").post(f"/dispatch/periods/{october.pk}/lock/").status_code == 403
    login(client, users, "admin")
    html = client.get(f"/dispatch/periods/{october.pk}/").content.decode()
    assert "锁定本期" in html and "data-confirm" in html
    response = client.post(f"/dispatch/periods/{october.pk}/lock/", follow=True)
    assert "1 份报表锁定，1 份未报送" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.LOCKED
    response = client.post(f"/dispatch/periods/{october.pk}/lock/", follow=True)
    assert "已于" in response.content.decode()  # locking twice says when it was locked

    login(client, users, "owner_a")
    response = client.get(url(report))
    html = response.content.decode()
    assert "提交更正申请" in html and 'name="key"' not in html
    # What the correction form posts: the locked values as shown, one of them changed.
    data = dict(response.context["correction_form"].initial) | {"investment": "1600", "reason": ""}
    data = {k: "" if v is None else v for k, v in data.items()} | {"stats_included": "unknown"}
    response = client.post(url(report, "correction"), data)
    assert response.context["correction_form"].errors["reason"] == ["请填写更正理由。"]
    assert login(client, users, "qingshan").post(url(report, "correction"), data).status_code == 404
    login(client, users, "owner_a")
    assert client.post(url(report, "correction"), data | {"reason": "统计口径更正"}).status_code == 302
    correction = Correction.objects.get()
    assert correction.changes == {"investment": ["1500.00", "1600.00"]}
    html = client.get(url(report)).content.decode()
    assert "待审批" in html and "本期完成投资（万元）：1500.00 → 1600.00" in html
    assert "提交更正申请" not in html  # one pending request at a time

    decide = f"/dispatch/corrections/{correction.pk}/decide/"
    assert login(client, users, "linchuan").post(decide, {"decision": "approve"}).status_code == 403
    login(client, users, "admin")
    response = client.post(decide, {"decision": "reject", "note": ""}, follow=True)
    assert "驳回更正申请须填写理由" in response.content.decode()
    assert client.post(decide, {"decision": "approve", "note": "同意"}).status_code == 302
    report.refresh_from_db()
    correction.refresh_from_db()
    assert correction.state == Correction.State.APPROVED
    assert report.investment == Decimal("1600.00") and report.year_to_date == Decimal("1600.00")
    assert "批准更正" in client.get(url(report)).content.decode()


def test_correction_list_scopes_and_decisions(client, users, report, october):
    _submitted(client, users, report)
    services.period_lock(actor=users["admin"], period=october)
    services.correction_request(
        actor=users["owner_a"], report=report, data={"progress": "更正"}, reason="笔误"
    )
    response = login(client, users, "admin").get("/dispatch/corrections/")
    assert len(response.context["rows"]) == 1 and "批准更正" in response.content.decode()
    response = login(client, users, "owner_a").get("/dispatch/corrections/")
    assert len(response.context["rows"]) == 1 and "批准更正" not in response.content.decode()
    assert len(login(client, users, "qingshan").get("/dispatch/corrections/").context["rows"]) == 0
    assert login(client, users, "auditor").get("/dispatch/corrections/").status_code == 403
    login(client, users, "admin")
    correction = Correction.objects.get()
    client.post(f"/dispatch/corrections/{correction.pk}/decide/", {"decision": "reject", "note": "无依据"})
    assert len(client.get("/dispatch/corrections/").context["rows"]) == 0
    assert len(client.get("/dispatch/corrections/?state=rejected").context["rows"]) == 1
    assert client.post("/dispatch/corrections/999/decide/", {"decision": "approve"}).status_code == 404


# --- my reports -------------------------------------------------------------------------------


def test_owner_lands_on_what_to_fill_with_overdue_marks(client, users, report):
    response = login(client, users, "owner_a").get("/dispatch/reports/")
    assert response.context["view"] == "fill"
    page = response.context["page"]
    assert page.paginator.count == 10  # January to October, project a
    assert {r.project_id for r in page} == {report.project_id}
    html = response.content.decode()
    assert "逾期" in html and 'data-testid="count-fill">10<' in html
    assert "count-review" not in html


def test_reviewer_lands_on_what_to_review(client, users, report):
    _submitted(client, users, report)
    response = login(client, users, "linchuan").get("/dispatch/reports/")
    assert response.context["view"] == "review"
    assert [r.pk for r in response.context["page"]] == [report.pk]
    assert login(client, users, "qingshan").get("/dispatch/reports/").context["page"].paginator.count == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"view": "all"}, 20),
        ({"view": "all", "status": "submitted"}, 1),
        ({"view": "all", "status": "pending"}, 19),
        ({"view": "all", "q": "环城"}, 10),
        ({"view": "all", "q": "ＮＯＴＨＩＮＧ"}, 0),
        ({"view": "fill"}, 19),
        ({"view": "review"}, 1),
    ],
)
def test_report_list_filters(client, users, report, params, expected):
    _submitted(client, users, report)
    response = login(client, users, "admin").get("/dispatch/reports/", params)
    assert response.context["page"].paginator.count == expected


def test_report_list_filters_by_period_and_region(client, users, report, october, city):
    login(client, users, "admin")
    page = client.get("/dispatch/reports/", {"view": "all", "period": october.pk}).context["page"]
    assert page.paginator.count == 2
    params = {"view": "all", "period": october.pk, "region": city["qingshan"].pk}
    assert [r.project.name for r in client.get("/dispatch/reports/", params).context["page"]] == [
        "青山县环城公路"
    ]
    response = client.get("/dispatch/reports/", {"view": "all", "period": "abc"})
    assert response.context["page"].paginator.count == 20 and "已忽略" in response.content.decode()


def test_report_list_htmx_returns_results_only(client, users, report):
    response = login(client, users, "admin").get(
        "/dispatch/reports/", {"view": "all", "q": "新材料"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and "临川新材料产业园" in html and "青山县环城公路" not in html


def test_report_list_query_count_does_not_grow_with_rows(
    client, users, report, october, city, django_assert_max_num_queries
):
    for i in range(60):
        project = ProjectFactory(name=f"批量项目{i}", owner_unit=city["owner_a"])
        Report.objects.create(period=october, project=project, period_end=october.ends_on)
    login(client, users, "admin")
    with django_assert_max_num_queries(12):
        response = client.get("/dispatch/reports/", {"view": "all"})
    assert len(response.context["page"]) == 50


def test_auditor_has_no_dispatch_pages(client, users, report, october):
    login(client, users, "auditor")
    for path in ("/dispatch/reports/", "/dispatch/periods/", f"/dispatch/periods/{october.pk}/"):
        assert client.get(path).status_code == 403, path


# --- periods ----------------------------------------------------------------------------------


def test_period_list_shows_completeness_in_the_users_scope(client, users, report, october):
    _submitted(client, users, report)
    response = login(client, users, "admin").get("/dispatch/periods/")
    rows = {row["period"].pk: row for row in response.context["rows"]}
    assert rows[october.pk]["figures"]["due"] == 2 and rows[october.pk]["figures"]["submitted"] == 1
    assert rows[october.pk]["figures"]["timely_pct"] == Decimal("50.0")
    september = Period.objects.get(year=2026, number=9)
    assert rows[september.pk]["closing"] and not rows[october.pk]["closing"]
    assert "调度安排" in response.content.decode()
    response = login(client, users, "owner_a").get("/dispatch/periods/")
    rows = {row["period"].pk: row for row in response.context["rows"]}
    assert rows[october.pk]["figures"]["due"] == 1 and rows[october.pk]["figures"]["timely_pct"] == Decimal(
        "100.0"
    )
    assert "调度安排" not in response.content.decode()


def test_period_list_filters_and_query_count(client, users, report, django_assert_max_num_queries):
    login(client, users, "admin")
    assert len(client.get("/dispatch/periods/", {"frequency": "weekly"}).context["rows"]) == 0
    assert len(client.get("/dispatch/periods/", {"year": "2026"}).context["rows"]) == 10
    weekly = Schedule.objects.create(name="周调度", frequency=Frequency.WEEKLY, starts_on=date(2026, 8, 3))
    for week in range(8):
        start = date(2026, 8, 3) + timedelta(weeks=week)
        Period.objects.create(
            schedule=weekly,
            frequency=Frequency.WEEKLY,
            year=2026,
            number=32 + week,
            label=f"2026年第{32 + week}周",
            starts_on=start,
            ends_on=start + timedelta(days=6),
            due_on=start + timedelta(days=4),
            late_after=start + timedelta(days=4),
        )
    # Session, user and region, years, count, the page of periods, session update (3): 9; then
    # one completeness aggregate per period shown, at most PERIOD_PAGE_SIZE (12) a page.
    with django_assert_max_num_queries(9 + 12):
        response = client.get("/dispatch/periods/")
    assert len(response.context["rows"]) == 12


def test_period_detail_completeness_and_missing_list(client, users, report, october):
    _submitted(client, users, report)
    login(client, users, "admin")
    response = client.get(f"/dispatch/periods/{october.pk}/")
    assert response.context["totals"]["missing"] == 1
    assert {r["label"] for r in response.context["rows"]} == {"临川区", "青山县"}
    missing = list(response.context["page"])
    assert [r.project.name for r in missing] == ["青山县环城公路"]
    html = response.content.decode()
    assert (
        f"/dispatch/periods/{october.pk}/grid/" in html
        and f"/dispatch/periods/{october.pk}/template.xlsx" in html
    )
    assert f"/dispatch/periods/{october.pk}/missing.xlsx" in html
    for by, labels in (("department", {"未明确责任部门"}), ("list", {"年度建设项目"})):
        response = client.get(f"/dispatch/periods/{october.pk}/", {"by": by})
        assert {r["label"] for r in response.context["rows"]} == labels
    response = client.get(
        f"/dispatch/periods/{october.pk}/",
        {"by": "list"},
        headers={"HX-Request": "true", "HX-Target": "completeness"},
    )
    assert "<html" not in response.content.decode() and "按清单" in response.content.decode()


def test_period_detail_query_count_does_not_grow_with_missing_reports(
    client, users, report, october, city, django_assert_max_num_queries
):
    for i in range(60):
        project = ProjectFactory(name=f"批量项目{i}", owner_unit=city["owner_a"], contact_name=f"联系人{i}")
        Report.objects.create(period=october, project=project, period_end=october.ends_on)
    login(client, users, "admin")
    with django_assert_max_num_queries(14):
        response = client.get(f"/dispatch/periods/{october.pk}/")
    assert response.context["page"].paginator.count == 62 and len(response.context["page"]) == 50


def test_missing_list_gives_contacts_in_scope(client, users, report, october):
    html = login(client, users, "linchuan").get(f"/dispatch/periods/{october.pk}/").content.decode()
    assert "张建国" in html and "13807310001" in html and "青山县环城公路" not in html
    response = login(client, users, "leader").get(f"/dispatch/periods/{october.pk}/")
    assert response.context["page"].paginator.count == 2
    html = response.content.decode()
    assert "批量填报" not in html and "锁定本期" not in html


def test_missing_export_is_the_missing_list_in_scope(client, users, report, october):
    response = login(client, users, "linchuan").get(f"/dispatch/periods/{october.pk}/missing.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = {str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None}
    assert "临川新材料产业园" in cells and "青山县环城公路" not in cells
    assert (
        login(client, users, "auditor").get(f"/dispatch/periods/{october.pk}/missing.xlsx").status_code == 403
    )


# --- schedules --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["linchuan", "jtj", "owner_a", "leader", "auditor"])
def test_schedules_are_for_the_city_admin_only(client, users, monthly, name):
    login(client, users, name)
    assert client.get("/dispatch/schedules/").status_code == 403
    assert client.get("/dispatch/schedules/new/").status_code == 403
    assert client.post(f"/dispatch/schedules/{monthly.pk}/", {"name": "x"}).status_code == 403
    monthly.refresh_from_db()
    assert monthly.name == "月调度"


SCHEDULE = {
    "name": "已开工未入统周调度",
    "frequency": "weekly",
    "stages": ["construction"],
    "stats_pending_only": "on",
    "due_day": "28",
    "due_weekday": "5",
    "shift_holidays": "on",
    "grace_days": "1",
    "jump_multiple": "3",
    "remaining_share": "0.5",
    "order": "30",
    "is_active": "on",
    "starts_on": "2026-11-01",
}


def test_admin_creates_and_edits_a_schedule_with_an_event(client, users, monthly):
    login(client, users, "admin")
    html = client.get("/dispatch/schedules/").content.decode()
    assert "月调度" in html and "年度建设项目" in html
    response = client.post("/dispatch/schedules/new/", SCHEDULE | {"december_due_day": "25"})
    assert response.context["form"].errors["december_due_day"] == ["周调度按星期截止，不设12月截止日。"]
    response = client.post("/dispatch/schedules/new/", SCHEDULE)
    schedule = Schedule.objects.get(name=SCHEDULE["name"])
    assert response.status_code == 302 and response["Location"] == f"/dispatch/schedules/{schedule.pk}/"
    assert schedule.stages == ["construction"] and schedule.stats_pending_only and schedule.grace_days == 1
    assert Event.objects.filter(verb="schedule_save", target_id=str(schedule.pk)).count() == 1

    data = SCHEDULE | {"list_kinds": ["reserve", "unlisted"], "grace_days": "2"}
    assert client.post(f"/dispatch/schedules/{schedule.pk}/", data).status_code == 302
    schedule.refresh_from_db()
    assert schedule.list_kinds == ["reserve", "unlisted"] and schedule.grace_days == 2
    event = Event.objects.filter(verb="schedule_save").first()
    assert event.details == {"list_kinds": [[], ["reserve", "unlisted"]], "grace_days": [1, 2]}
    response = client.post("/dispatch/schedules/new/", SCHEDULE)
    assert "名称" in response.context["form"].errors["name"][0]  # names are unique
    assert client.get("/dispatch/schedules/999/").status_code == 404


def test_schedule_page_shows_the_next_deadlines_with_holiday_shift(client, users, monthly):
    response = login(client, users, "admin").get(f"/dispatch/schedules/{monthly.pk}/")
    deadlines = response.context["deadlines"]
    assert [d["label"] for d in deadlines] == ["2026年10月", "2026年11月", "2026年12月"]
    november = deadlines[1]
    # 28 November 2026 is a Saturday: the deadline moves to Monday the 30th.
    assert november["nominal_due"] == date(2026, 11, 28) and november["due_on"] == date(2026, 11, 30)
    assert november["shifted"] and "原定 2026-11-28，遇节假日顺延" in response.content.decode()
    assert deadlines[2]["nominal_due"] == date(2026, 12, 25)


def test_schedule_changes_need_the_city_admin_in_the_service(users, monthly):
    from django.core.exceptions import PermissionDenied

    from majorprojects.reporting.schedules import schedule_save

    with pytest.raises(PermissionDenied):
        schedule_save(actor=users["linchuan"], schedule=monthly, data={"due_day": 25})
    assert schedule_save(actor=users["admin"], schedule=monthly, data={"due_day": 28}) == monthly
    assert not Event.objects.filter(verb="schedule_save").exists()  # nothing changed, nothing recorded


# --- home, navigation, project file -----------------------------------------------------------


def test_home_todo_for_the_filler(client, users, report):
    response = login(client, users, "owner_a").get("/")
    todo = response.context["todo"]
    assert todo["to_fill_count"] == 10 and todo["to_fill_overdue"] == 9
    html = response.content.decode()
    assert "调度待办" in html and url(report) in html and "已逾期" in html
    assert "todo-review" not in html and "todo-lock" not in html


def test_home_todo_for_reviewer_and_city_admin(client, users, report, october):
    _submitted(client, users, report)
    html = login(client, users, "linchuan").get("/").content.decode()
    assert "todo-review" in html and url(report) in html
    services.period_lock(actor=users["admin"], period=october)
    services.correction_request(
        actor=users["owner_a"], report=report, data={"progress": "更正"}, reason="笔误"
    )
    response = login(client, users, "admin").get("/")
    html = response.content.decode()
    assert "todo-lock" in html and "2026年9月" in html
    assert "todo-corrections" in html and "/dispatch/corrections/" in html


def test_home_has_no_todo_for_leader_and_auditor(client, users, report):
    assert "todo" not in login(client, users, "leader").get("/").context
    assert "todo" not in login(client, users, "auditor").get("/").context


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("owner_a", True),
        ("linchuan", True),
        ("leader", True),
        ("admin", True),
        ("auditor", False),
    ],
)
def test_nav_entries_per_role(client, users, monthly, name, expected):
    nav = login(client, users, name).get("/dispatch/reports/" if expected else "/").context["NAV"]
    labels = [item["label"] for item in nav]
    for label in ("调度总览", "我的调度", "调度期次"):
        assert (label in labels) is expected
    if expected:
        assert [item["label"] for item in nav if item["active"]] == ["我的调度"]


def test_nav_marks_periods_on_schedule_and_correction_pages(client, users, monthly):
    login(client, users, "admin")
    for path in ("/dispatch/schedules/", "/dispatch/corrections/", "/dispatch/periods/"):
        nav = client.get(path).context["NAV"]
        assert [item["label"] for item in nav if item["active"]] == ["调度期次"], path


def test_project_file_has_a_dispatch_tab(client, users, report):
    _submitted(client, users, report)
    pk = report.project_id
    response = login(client, users, "owner_a").get(f"/projects/{pk}/tab/dispatch/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "调度" in html and url(report) in html and "1,500.00" in html
    assert "open-slots" in html  # January to September are still to fill
    response = client.get(
        f"/projects/{pk}/tab/dispatch/", headers={"HX-Request": "true", "HX-Target": "tab-body"}
    )
    assert "<html" not in response.content.decode()
    html = login(client, users, "leader").get(f"/projects/{pk}/tab/dispatch/").content.decode()
    assert url(report) in html and "open-slots" not in html
    assert login(client, users, "qingshan").get(f"/projects/{pk}/tab/dispatch/").status_code == 404


def test_weekly_report_form_has_no_money(client, users, building):
    schedule = Schedule.objects.create(
        name="周调度", frequency=Frequency.WEEKLY, due_weekday=5, starts_on=date(2026, 10, 1)
    )
    period = Period.objects.create(
        schedule=schedule,
        frequency=Frequency.WEEKLY,
        year=2026,
        number=43,
        label="2026年第43周",
        starts_on=date(2026, 10, 19),
        ends_on=date(2026, 10, 25),
        due_on=date(2026, 10, 23),
        late_after=date(2026, 10, 23),
    )
    weekly = Report.objects.create(period=period, project=building["a"], period_end=period.ends_on)
    login(client, users, "owner_a")
    html = client.get(url(weekly)).content.decode()
    assert 'name="investment"' not in html and 'name="arrived_special_bond"' not in html
    data = form_data(weekly, progress="主体施工", stats_included="false")
    del data["investment"]
    assert client.post(url(weekly, "submit"), data).status_code == 302
    weekly.refresh_from_db()
    assert weekly.status == Status.SUBMITTED and weekly.stats_included is False and weekly.investment is None
