"""Project pages: the list with filters and footer totals, the project file, forms, attachments."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from majorprojects.factories import CampaignFactory, ListingFactory, ProjectFactory
from majorprojects.projects.models import Attachment, Project

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture
def listed(projects):
    """Hand-worked figures for 2026: a 50000 (plan 12000.50), b 120000 (plan 30000), zone 8000 (no listing)."""
    ListingFactory(project=projects["a"], year=2026, planned_investment=Decimal("12000.50"), key_level="city")
    ListingFactory(
        project=projects["b"],
        year=2026,
        planned_investment=Decimal("30000.00"),
        key_level="province",
        is_new_start=True,
    )
    ListingFactory(project=projects["b"], year=2025, planned_investment=Decimal("9999.00"))
    return projects


def test_footer_totals_match_hand_worked_numbers(client, users, listed):
    client.force_login(users["admin"])
    response = client.get("/projects/", {"year": 2026, "sort": "name"})
    totals = response.context["totals"]
    assert totals == {
        "count": 3,
        "total_investment": Decimal("178000.00"),
        "planned_investment": Decimal("42000.50"),
    }
    html = response.content.decode()
    assert "178,000.00" in html and "42,000.50" in html
    response = client.get("/projects/", {"year": 2025, "list_kind": "listed"})
    assert response.context["totals"] == {
        "count": 1,
        "total_investment": Decimal("120000.00"),
        "planned_investment": Decimal("9999.00"),
    }


def test_county_footer_counts_only_its_subtree(client, users, listed):
    client.force_login(users["linchuan"])
    totals = client.get("/projects/", {"year": 2026, "sort": "name"}).context["totals"]
    assert totals == {
        "count": 2,
        "total_investment": Decimal("58000.00"),
        "planned_investment": Decimal("12000.50"),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"key_level": "province", "year": 2026}, {"青山县环城公路"}),
        ({"key_level": "any", "year": 2026}, {"青山县环城公路", "临川新材料产业园"}),
        ({"new_start": "0", "year": 2026}, {"临川新材料产业园"}),
        ({"min_total": "50000"}, {"青山县环城公路", "临川新材料产业园"}),
        ({"q": "环城"}, {"青山县环城公路"}),
        ({"q": "ＰＡＲＫ 厂房"}, set()),
        ({"stage": ["preparing", "construction"]}, {"青山县环城公路", "临川新材料产业园", "经开区标准厂房"}),
        ({"list_kind": "construction", "year": 2025}, {"青山县环城公路"}),
        ({"list_kind": "listed", "year": 2026}, {"青山县环城公路", "临川新材料产业园"}),
    ],
)
def test_list_filters(client, users, listed, params, expected):
    client.force_login(users["admin"])
    page = client.get("/projects/", params).context["page"]
    assert {p.name for p in page} == expected


def test_region_filter_includes_zone_under_district(client, users, listed, city):
    client.force_login(users["admin"])
    page = client.get("/projects/", {"region": city["linchuan"].pk}).context["page"]
    assert {p.name for p in page} == {"临川新材料产业园", "经开区标准厂房"}


def test_htmx_request_returns_results_fragment_only(client, users, listed):
    client.force_login(users["admin"])
    response = client.get("/projects/", {"q": "环城"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "青山县环城公路" in html and 'id="export-href"' in html


def test_list_query_count_does_not_grow_with_rows(client, users, city, django_assert_max_num_queries):
    """Session, user, filter choices (8), count, two totals, one page of rows: constant per page."""
    for i in range(60):
        ProjectFactory(name=f"批量项目{i}", owner_unit=city["owner_a"])
    client.force_login(users["admin"])
    with django_assert_max_num_queries(18):
        client.get("/projects/")


def test_packages_do_not_count_twice(client, users, city):
    package = ProjectFactory(
        name="打包项目", owner_unit=city["owner_a"], is_package=True, total_investment=Decimal("30000")
    )
    ProjectFactory(
        name="子项目一", owner_unit=city["owner_a"], parent=package, total_investment=Decimal("10000")
    )
    ProjectFactory(
        name="子项目二", owner_unit=city["owner_a"], parent=package, total_investment=Decimal("20000")
    )
    client.force_login(users["admin"])
    response = client.get("/projects/")
    assert {p.name for p in response.context["page"]} == {"打包项目"}
    assert response.context["totals"]["total_investment"] == Decimal("30000.00")
    response = client.get("/projects/", {"children": "on"})
    assert {p.name for p in response.context["page"]} == {"打包项目", "子项目一", "子项目二"}
    assert response.context["totals"]["total_investment"] == Decimal("30000.00")
    assert response.context["totals"]["count"] == 2


def test_export_is_what_the_list_shows(client, users, listed):
    client.force_login(users["admin"])
    response = client.get("/projects/export.xlsx", {"key_level": "any", "year": 2026})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == "单位：万元"
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["序号", "项目名称", "项目代码"] and "2026年计划投资（万元）" in header
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert {r[1] for r in rows} == {"青山县环城公路", "临川新材料产业园"}
    total_col = header.index("总投资（万元）")
    assert all(isinstance(r[total_col], float | int) for r in rows)
    last = list(sheet.iter_rows(values_only=True))[-1]
    assert last[1] == "合计（2个）" and last[total_col] == 170000


def test_detail_tabs_render_and_htmx_returns_tab_only(client, users, listed):
    client.force_login(users["linchuan"])
    pk = listed["a"].pk
    for tab in ("basics", "listings", "campaigns", "attachments", "timeline"):
        response = client.get(f"/projects/{pk}/tab/{tab}/")
        assert response.status_code == 200, tab
    response = client.get(
        f"/projects/{pk}/tab/listings/", headers={"HX-Request": "true", "HX-Target": "tab-body"}
    )
    html = response.content.decode()
    assert "<html" not in html and "12,000.50" in html
    assert client.get(f"/projects/{pk}/tab/nope/").status_code == 404


def test_create_form_shows_chinese_field_errors(client, users, city):
    client.force_login(users["linchuan"])
    response = client.post(
        "/projects/new/",
        {"name": "", "total_investment": "约3亿", "region": city["linchuan"].pk, "code": "2026-1"},
    )
    form = response.context["form"]
    assert "这个字段是必填项。" in form.errors["name"]
    assert form.errors["total_investment"][0].startswith("无法识别的金额“约3亿”")
    assert not Project.objects.exists()


def test_create_with_yi_amount_and_tags(client, users, city):
    client.force_login(users["linchuan"])
    response = client.post(
        "/projects/new/",
        {
            "name": "临川物流园",
            "owner_unit": city["owner_a"].pk,
            "region": city["linchuan"].pk,
            "sector": city["industry"].pk,
            "approval_regime": "filing",
            "total_investment": "3.5亿",
            "tags_text": "物流，省重点、 三早",
            "fund_self_raised": "20000",
            "stage": "reserved",
        },
    )
    project = Project.objects.get(name="临川物流园")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert project.total_investment == Decimal("35000.00")
    assert sorted(t.name for t in project.tags.all()) == ["三早", "物流", "省重点"]


def test_edit_with_stale_version_shows_conflict(client, users, projects, city):
    project = projects["a"]
    client.force_login(users["linchuan"])
    data = {
        "name": "新名称",
        "owner_unit": city["owner_a"].pk,
        "region": city["linchuan"].pk,
        "sector": city["industry"].pk,
        "approval_regime": "filing",
        "total_investment": "50000",
        "version": 1,
    }
    Project.objects.filter(pk=project.pk).update(version=2)  # someone saved meanwhile
    response = client.post(f"/projects/{project.pk}/edit/", data)
    assert "该记录已被他人修改" in response.content.decode()
    project.refresh_from_db()
    assert project.name == "临川新材料产业园"


def test_transition_from_detail_page(client, users, projects):
    client.force_login(users["linchuan"])
    response = client.post(
        f"/projects/{projects['a'].pk}/transition/", {"stage": "construction", "on_date": "2026-03-02"}
    )
    assert response.status_code == 302
    projects["a"].refresh_from_db()
    assert projects["a"].stage == "construction" and projects["a"].actual_start_date == dt.date(2026, 3, 2)
    timeline = client.get(f"/projects/{projects['a'].pk}/tab/timeline/").content.decode()
    assert "变更阶段" in timeline and "在建" in timeline


def test_leader_reads_but_gets_no_edit(client, users, projects):
    client.force_login(users["leader"])
    pk = projects["a"].pk
    assert client.get(f"/projects/{pk}/").status_code == 200
    assert client.get(f"/projects/{pk}/edit/").status_code == 404
    assert client.post(f"/projects/{pk}/transition/", {"stage": "signed"}).status_code == 404


def test_listing_and_campaign_tabs_save(client, users, projects):
    campaign = CampaignFactory()
    client.force_login(users["linchuan"])
    pk = projects["a"].pk
    client.post(
        f"/projects/{pk}/listings/",
        {
            "year": 2026,
            "list_kind": "construction",
            "key_level": "county",
            "planned_investment": "1.2亿",
            "is_new_start": "on",
        },
    )
    listing = projects["a"].listings.get()
    assert listing.planned_investment == Decimal("12000.00") and listing.is_new_start
    client.post(f"/projects/{pk}/campaigns/", {"campaign": campaign.pk, "batch": "start"})
    assert projects["a"].memberships.get().batch == "start"


def test_attachment_upload_checks_type_and_serves_only_in_scope(client, users, projects):
    pk = projects["a"].pk
    client.force_login(users["owner_a"])
    fake = SimpleUploadedFile("进度.png", b"not really a png", content_type="image/png")
    client.post(f"/projects/{pk}/attachments/", {"kind": "photo", "file": fake})
    assert not Attachment.objects.exists()
    exe = SimpleUploadedFile("a.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    client.post(f"/projects/{pk}/attachments/", {"kind": "other", "file": exe})
    assert not Attachment.objects.exists()
    photo = SimpleUploadedFile("../../进度照片.png", PNG, content_type="image/png")
    client.post(f"/projects/{pk}/attachments/", {"kind": "photo", "file": photo, "description": "三月"})
    attachment = Attachment.objects.get()
    assert attachment.original_name == "进度照片.png" and attachment.size == len(PNG)
    response = client.get(f"/projects/{pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    client.force_login(users["qingshan"])
    assert client.get(f"/projects/{pk}/attachments/{attachment.pk}/").status_code == 404


def test_photo_kind_rejects_pdf(client, users, projects):
    client.force_login(users["owner_a"])
    pdf = SimpleUploadedFile("批复.pdf", PDF, content_type="application/pdf")
    client.post(f"/projects/{projects['a'].pk}/attachments/", {"kind": "photo", "file": pdf})
    assert not Attachment.objects.exists()
    pdf = SimpleUploadedFile("批复.pdf", PDF, content_type="application/pdf")
    client.post(f"/projects/{projects['a'].pk}/attachments/", {"kind": "approval", "file": pdf})
    assert Attachment.objects.get().content_type == "application/pdf"


def test_oversize_attachment_refused(client, users, projects, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    client.force_login(users["owner_a"])
    big = SimpleUploadedFile("大.pdf", PDF + b"0" * 200, content_type="application/pdf")
    response = client.post(
        f"/projects/{projects['a'].pk}/attachments/", {"kind": "approval", "file": big}, follow=True
    )
    assert not Attachment.objects.exists()
    assert "上限" in response.content.decode()


def test_saved_filters_belong_to_their_owner(client, users, listed):
    from majorprojects.projects.models import SavedFilter

    client.force_login(users["linchuan"])
    response = client.post(
        "/projects/filters/", {"name": "我的市重点清单", "query": "key_level=city&year=2026"}
    )
    assert response["Location"] == "/projects/?key_level=city&year=2026"
    saved = SavedFilter.objects.get(user=users["linchuan"])
    assert "我的市重点清单" in client.get("/projects/").content.decode()
    client.force_login(users["qingshan"])
    assert "我的市重点清单" not in client.get("/projects/").content.decode()
    assert client.post(f"/projects/filters/{saved.pk}/delete/").status_code == 404
    client.force_login(users["linchuan"])
    client.post(f"/projects/filters/{saved.pk}/delete/")
    assert not SavedFilter.objects.exists()


def test_missing_attachment_file_is_404_not_500(client, users, projects):
    client.force_login(users["owner_a"])
    pdf = SimpleUploadedFile("批复.pdf", PDF, content_type="application/pdf")
    client.post(f"/projects/{projects['a'].pk}/attachments/", {"kind": "approval", "file": pdf})
    attachment = Attachment.objects.get()
    attachment.file.storage.delete(attachment.file.name)
    assert client.get(f"/projects/{projects['a'].pk}/attachments/{attachment.pk}/").status_code == 404


def test_edit_without_version_is_refused(client, users, projects, city):
    client.force_login(users["linchuan"])
    data = {
        "name": "新名称",
        "owner_unit": city["owner_a"].pk,
        "region": city["linchuan"].pk,
        "sector": city["industry"].pk,
        "approval_regime": "filing",
        "total_investment": "50000",
    }
    response = client.post(f"/projects/{projects['a'].pk}/edit/", data)
    assert "表单已过期" in response.content.decode()
    projects["a"].refresh_from_db()
    assert projects["a"].name == "临川新材料产业园"


def test_one_bad_filter_value_keeps_the_others(client, users, listed):
    client.force_login(users["admin"])
    response = client.get("/projects/", {"q": "环城", "year": "abc"})
    assert {p.name for p in response.context["page"]} == {"青山县环城公路"}
    assert "已忽略" in response.content.decode()
