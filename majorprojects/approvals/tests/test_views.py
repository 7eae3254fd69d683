"""The approvals ledger pages: who sees which page (city admin, county, department, project unit,
leader, auditor), 404 outside scope and 403 for changes a reader may not make; editing an item
as owner, county, department, outsider and city admin, with bad input and a stale version; the
HTMX inline edit; applying templates; the overdue and readiness pages; query counts."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.approvals.services import item_update, ledger_apply_templates
from majorprojects.audit.models import Event
from majorprojects.factories import ProjectFactory
from majorprojects.projects.models import ApprovalRegime, FundingSource, ProjectFunding, Stage

from .conftest import TODAY, item

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(client, users):
    def login(name):
        client.force_login(users[name])
        return client

    return login


def edit_data(it, **changes) -> dict:
    data = {
        "status": it.status,
        "responsible_unit": it.responsible_unit_id or "",
        "responsible_person": it.responsible_person,
        "submitted_date": "",
        "planned_date": "",
        "actual_date": "",
        "approving_body": it.approving_body,
        "document_number": it.document_number,
        "promise_due_date": "",
        "papers_supplied_date": "",
        "not_applicable_reason": "",
        "note": "",
        "version": it.version,
    }
    data.update(changes)
    return data


DONE = {"status": "done", "actual_date": "2026-10-12", "document_number": "云环审〔2026〕31号"}


# --- who sees what --------------------------------------------------------------------------


LIST_PAGES = ["approvals:index", "approvals:items", "approvals:overdue", "approvals:readiness"]


@pytest.mark.parametrize("name", LIST_PAGES)
@pytest.mark.parametrize("role", ["admin", "leader", "linchuan", "jtj", "owner_a"])
def test_list_pages_render_for_every_reading_role(ledgers, as_user, name, role):
    response = as_user(role).get(reverse(name))
    assert response.status_code == 200
    assert "前期" in response.content.decode() or "条件" in response.content.decode()


@pytest.mark.parametrize("name", [*LIST_PAGES, "approvals:templates", "approvals:import"])
def test_auditor_gets_403_on_every_page(ledgers, as_user, name):
    assert as_user("auditor").get(reverse(name)).status_code == 403


def test_lists_are_scoped(ledgers, as_user):
    a, b = ledgers["a"], ledgers["b"]
    page = as_user("owner_a").get(reverse("approvals:items")).content.decode()
    assert a.name in page and b.name not in page
    page = as_user("jtj").get(reverse("approvals:items")).content.decode()
    assert b.name in page and a.name not in page
    page = as_user("qingshan").get(reverse("approvals:index")).content.decode()
    assert "环评批复" in page  # 青山县's 核准类 project b has an EIA item
    assert "项目建议书" not in page  # only project a (审批类) has the proposal


@pytest.mark.parametrize(
    "role, status", [("admin", 200), ("linchuan", 200), ("owner_a", 200), ("leader", 200)]
)
def test_project_ledger_in_scope(ledgers, as_user, role, status):
    response = as_user(role).get(reverse("approvals:project", args=[ledgers["a"].pk]))
    assert response.status_code == status
    page = response.content.decode()
    assert page.count('data-testid="node"') == 13
    can_edit = role != "leader"
    assert ('data-testid="edit-item"' in page) is can_edit


@pytest.mark.parametrize("role", ["qingshan", "jtj"])
def test_project_ledger_outside_scope_is_404(ledgers, as_user, role):
    assert as_user(role).get(reverse("approvals:project", args=[ledgers["a"].pk])).status_code == 404


def test_templates_page_is_for_the_city_admin(ledgers, as_user):
    assert as_user("admin").get(reverse("approvals:templates")).status_code == 200
    for role in ("leader", "linchuan", "jtj", "owner_a"):
        assert as_user(role).get(reverse("approvals:templates")).status_code == 403


# --- editing an item ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, project, code",
    [("owner_a", "a", "eia"), ("linchuan", "a", "eia"), ("jtj", "b", "eia"), ("admin", "b", "verification")],
)
def test_item_update_by_those_who_may_change_the_project(ledgers, as_user, role, project, code):
    it = item(ledgers[project], code)
    response = as_user(role).post(reverse("approvals:item", args=[it.pk]), edit_data(it, **DONE))
    assert response.status_code == 302
    assert response["Location"] == reverse("approvals:project", args=[ledgers[project].pk])
    saved = ApprovalItem.objects.get(pk=it.pk)
    assert saved.status == ItemStatus.DONE
    assert saved.actual_date == date(2026, 10, 12)
    assert saved.document_number == "云环审〔2026〕31号"
    assert saved.version == it.version + 1
    assert Event.objects.filter(verb="approval_item_update", project=ledgers[project]).count() == 1


@pytest.mark.parametrize("role", ["qingshan", "jtj"])
def test_item_update_outside_scope_is_404(ledgers, as_user, role):
    it = item(ledgers["a"], "eia")
    client = as_user(role)
    assert client.get(reverse("approvals:item", args=[it.pk])).status_code == 404
    assert client.post(reverse("approvals:item", args=[it.pk]), edit_data(it, **DONE)).status_code == 404
    assert ApprovalItem.objects.get(pk=it.pk).status == ItemStatus.NOT_STARTED


def test_leader_reads_but_may_not_edit(ledgers, as_user):
    it = item(ledgers["a"], "eia")
    client = as_user("leader")
    assert client.get(reverse("approvals:item", args=[it.pk])).status_code == 403
    assert client.post(reverse("approvals:item", args=[it.pk]), edit_data(it, **DONE)).status_code == 403
    assert ApprovalItem.objects.get(pk=it.pk).version == it.version


def test_item_edit_is_post_or_get_only(ledgers, as_user):
    it = item(ledgers["a"], "eia")
    assert as_user("owner_a").put(reverse("approvals:item", args=[it.pk])).status_code == 405


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"status": "done", "actual_date": "2026-10-12"}, "document_number", "已办结的事项须填写批复文号"),
        ({**DONE, "actual_date": "2026-11-24"}, "actual_date", "实际办结日期不能晚于今天"),
        ({"status": "not_applicable"}, "not_applicable_reason", "须填写原因"),
        ({"status": "promised", "actual_date": "2026-11-02"}, "promise_due_date", "须填写承诺补齐期限"),
        ({"status": "in_progress", "actual_date": "2026-11-02"}, "actual_date", "不应填写实际办结日期"),
        ({"status": "done", "actual_date": "十月"}, "actual_date", "有效的日期"),
    ],
)
def test_bad_input_is_shown_under_the_field_and_nothing_is_saved(ledgers, as_user, changes, field, message):
    it = item(ledgers["a"], "eia")
    response = as_user("owner_a").post(reverse("approvals:item", args=[it.pk]), edit_data(it, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field]), errors
    assert ApprovalItem.objects.get(pk=it.pk).version == it.version


def test_stale_version_gets_a_conflict_message_and_the_other_persons_values(ledgers, as_user, users):
    it = item(ledgers["a"], "eia")
    stale = edit_data(it, **DONE)
    item_update(
        actor=users["linchuan"],
        item=it,
        fields={"status": ItemStatus.IN_PROGRESS, "responsible_person": "王敏"},
        expected_version=it.version,
    )
    client = as_user("owner_a")
    response = client.post(reverse("approvals:item", args=[it.pk]), stale)
    assert response.status_code == 200
    page = response.content.decode()
    assert "该事项已被他人修改" in page
    assert "责任人：王敏" in page and "办理状态：办理中" in page
    current = ApprovalItem.objects.get(pk=it.pk)
    assert current.status == ItemStatus.IN_PROGRESS
    # The form now carries the current version: saving again applies what this user typed.
    assert response.context["form"].data["version"] == str(current.version)
    again = client.post(reverse("approvals:item", args=[it.pk]), dict(response.context["form"].data.items()))
    assert again.status_code == 302
    assert ApprovalItem.objects.get(pk=it.pk).status == ItemStatus.DONE


def test_inline_edit_redraws_the_ledger_with_the_new_summary(ledgers, as_user):
    a = ledgers["a"]
    it = item(a, "eia")
    client = as_user("owner_a")
    form = client.get(reverse("approvals:item", args=[it.pk]), **HTMX)
    assert form.status_code == 200 and 'data-testid="item-form"' in form.content.decode()
    assert "hx-post" in form.content.decode()
    response = client.post(
        reverse("approvals:item", args=[it.pk]),
        edit_data(it, **DONE),
        HTTP_HX_CURRENT_URL=f"http://testserver/projects/{a.pk}/approvals/",
        **HTMX,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.startswith('<div id="ledger"')
    assert "已保存“环评批复”" in page
    assert 'data-testid="summary-done">1<' in page
    assert "云环审〔2026〕31号" in page


def test_inline_edit_with_errors_retargets_the_form(ledgers, as_user):
    it = item(ledgers["a"], "eia")
    response = as_user("owner_a").post(
        reverse("approvals:item", args=[it.pk]), edit_data(it, status="done"), **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#edit-{it.pk}"
    assert "已办结的事项须填写实际办结日期" in response.content.decode()


def test_return_address_must_be_on_this_site(ledgers, as_user):
    it = item(ledgers["a"], "eia")
    response = as_user("owner_a").post(
        reverse("approvals:item", args=[it.pk]), {**edit_data(it, **DONE), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("approvals:project", args=[ledgers["a"].pk])
    it = item(ledgers["a"], "energy")
    back = f"/projects/{ledgers['a'].pk}/approvals/"
    response = as_user("owner_a").post(
        reverse("approvals:item", args=[it.pk]), {**edit_data(it, note="已报送"), "next": back}
    )
    assert response["Location"] == back


def test_attachment_upload(ledgers, as_user):
    it = item(ledgers["a"], "eia")
    client = as_user("owner_a")
    url = reverse("approvals:item_attach", args=[it.pk])
    bad = SimpleUploadedFile("批复.pdf", b"MZ\x90\x00", content_type="application/pdf")
    response = client.post(url, {"file": bad, "version": it.version}, follow=True)
    assert "文件内容与扩展名" in response.content.decode()
    good = SimpleUploadedFile(
        "环评批复.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", content_type="application/pdf"
    )
    response = client.post(url, {"file": good, "version": it.version}, follow=True)
    page = response.content.decode()
    assert "已上传" in page and "环评批复.pdf" in page
    saved = ApprovalItem.objects.select_related("attachment").get(pk=it.pk)
    assert saved.attachment.original_name == "环评批复.pdf"
    stale = SimpleUploadedFile("又一份.pdf", b"%PDF-1.4\n", content_type="application/pdf")
    response = client.post(url, {"file": stale, "version": it.version}, follow=True)
    assert "该事项已被他人修改" in response.content.decode()
    assert as_user("leader").post(url, {"version": 1}).status_code == 403
    assert as_user("qingshan").post(url, {"version": 1}).status_code == 404


# --- applying templates ---------------------------------------------------------------------


def test_apply_templates_when_the_project_has_no_ledger(ledgers, as_user):
    zone = ledgers["zone"]
    zone.approval_regime = ApprovalRegime.FILING
    zone.save()
    url = reverse("approvals:project", args=[zone.pk])
    assert 'data-testid="apply-templates"' not in as_user("leader").get(url).content.decode()
    assert as_user("leader").post(reverse("approvals:apply_templates", args=[zone.pk])).status_code == 403
    client = as_user("owner_a")
    assert 'data-testid="apply-templates"' in client.get(url).content.decode()
    response = client.post(reverse("approvals:apply_templates", args=[zone.pk]), {"next": url}, follow=True)
    assert "已按“备案类”模板建立台账，共 8 个事项" in response.content.decode()
    assert ApprovalItem.objects.filter(project=zone).count() == 8
    assert as_user("qingshan").post(reverse("approvals:apply_templates", args=[zone.pk])).status_code == 404
    assert as_user("owner_a").get(reverse("approvals:apply_templates", args=[zone.pk])).status_code == 405


# --- city-wide, overdue and readiness -------------------------------------------------------


def test_matrix_counts_link_to_the_filtered_list(ledgers, as_user, users):
    it = item(ledgers["a"], "eia")
    item_update(
        actor=users["owner_a"],
        item=it,
        fields={"planned_date": TODAY - timedelta(days=3)},
        expected_version=None,
    )
    client = as_user("admin")
    response = client.get(reverse("approvals:index"))
    matrix = response.context["matrix"]
    eia = next(r for r in matrix["rows"] if r["label"] == "环评批复")
    assert eia["total"] == 2 and eia["overdue"] == 1
    page = response.content.decode()
    link = f"{reverse('approvals:items')}?item_type={it.item_type_id}&amp;flag=overdue"
    assert link in page
    listed = client.get(link.replace("&amp;", "&"))
    assert [r["item"].pk for r in listed.context["rows"]] == [it.pk]
    by_region = client.get(reverse("approvals:index"), {"by": "region"}).context["matrix"]
    assert {r["label"]: r["total"] for r in by_region["rows"]} == {
        "临川区": 13,
        "青山县": ApprovalItem.objects.filter(project=ledgers["b"]).count(),
    }
    region = ledgers["a"].region
    exact = client.get(reverse("approvals:items"), {"region": region.pk, "exact": "on"})
    assert exact.context["page"].paginator.count == 13


def test_item_list_filters_and_htmx_partial(ledgers, as_user, users, city):
    it = item(ledgers["a"], "eia")
    item_update(
        actor=users["owner_a"],
        item=it,
        fields={**DONE, "actual_date": date(2026, 10, 12), "responsible_unit": city["owner_a"]},
        expected_version=None,
    )
    client = as_user("admin")
    response = client.get(reverse("approvals:items"), {"status": "done"}, **HTMX)
    assert response.templates[0].name == "approvals/_items.html"
    assert [r["item"].pk for r in response.context["rows"]] == [it.pk]
    response = client.get(reverse("approvals:items"), {"unit": "none", "status": "bogus"})
    assert response.context["page"].paginator.count == ApprovalItem.objects.count() - 1
    assert "以下筛选条件无效" in response.content.decode()
    assert "export.xlsx?unit=none" in response.content.decode()
    response = client.get(reverse("approvals:items"), {"unit": city["owner_a"].pk})
    assert [r["item"].pk for r in response.context["rows"]] == [it.pk]


def test_overdue_page_has_a_tab_per_flag(ledgers, as_user, users):
    a = ledgers["a"]
    late = item(a, "eia")
    item_update(
        actor=users["owner_a"], item=late, fields={"planned_date": date(2026, 11, 13)}, expected_version=None
    )
    promised = item(a, "energy")
    item_update(
        actor=users["owner_a"],
        item=promised,
        fields={
            "status": ItemStatus.PROMISED,
            "actual_date": date(2026, 9, 1),
            "promise_due_date": date(2026, 11, 1),
        },
        expected_version=None,
    )
    client = as_user("linchuan")
    response = client.get(reverse("approvals:overdue"))
    counts = {t["kind"]: t["count"] for t in response.context["tabs"]}
    assert counts == {"overdue": 1, "promise_overdue": 1, "lapse_risk": 0, "lapsed": 0}
    assert [r["item"].pk for r in response.context["rows"]] == [late.pk]
    assert "逾期10天" in response.content.decode()
    response = client.get(reverse("approvals:overdue"), {"kind": "promise_overdue"}, **HTMX)
    assert [r["item"].pk for r in response.context["rows"]] == [promised.pk]
    assert "承诺逾期22天" in response.content.decode()
    assert as_user("qingshan").get(reverse("approvals:overdue")).context["tabs"][0]["count"] == 0


def test_readiness_lists_what_is_missing(ledgers, as_user, users):
    a = ledgers["a"]
    ProjectFunding.objects.create(project=a, source=FundingSource.SPECIAL_BOND, amount=5000)
    for it in ApprovalItem.objects.filter(project=a).exclude(
        item_type__code__in=["construction_permit", "bidding"]
    ):
        item_update(
            actor=users["admin"],
            item=it,
            fields={"status": ItemStatus.NOT_APPLICABLE, "not_applicable_reason": "测试"},
            expected_version=None,
        )
    client = as_user("owner_a")
    start = client.get(reverse("approvals:readiness"))
    rows = {r["project"].pk: r for r in start.context["rows"]}
    assert not rows[a.pk]["ready"]
    assert [m["name"] for m in rows[a.pk]["missing"]] == ["招标"]
    bond = client.get(reverse("approvals:readiness"), {"programme": "special_bond", "ready": "0"})
    assert [r["project"].pk for r in bond.context["rows"]] == [a.pk]
    assert "专项债券储备项目须完成招标" in bond.content.decode()
    bidding = item(a, "bidding")
    item_update(
        actor=users["owner_a"],
        item=bidding,
        fields={**DONE, "actual_date": date(2026, 11, 2)},
        expected_version=None,
    )
    ready = client.get(reverse("approvals:readiness"), {"ready": "1"})
    assert [r["project"].pk for r in ready.context["rows"]] == [a.pk]
    assert ready.context["counts"]["ready"] == 1


# --- query counts ---------------------------------------------------------------------------


def _more_projects(city, n):
    for i in range(n):
        p = ProjectFactory(
            name=f"临川储备项目{i}",
            owner_unit=city["owner_a"],
            sector=city["industry"],
            stage=Stage.PREPARING,
        )
        ledger_apply_templates(p)


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_do_not_grow_queries_with_rows(
    ledgers, city, as_user, django_assert_max_num_queries, name
):
    client = as_user("linchuan")
    client.get(reverse(name))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(name))
    _more_projects(city, 6)
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse(name)).status_code == 200
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse(name), **HTMX).status_code == 200
    assert len(few) <= 16


def test_project_ledger_page_queries(ledgers, as_user, django_assert_max_num_queries):
    client = as_user("jtj")
    url = reverse("approvals:project", args=[ledgers["b"].pk])
    client.get(url)
    # session, user, scope (2), project, ledger (3), may change (2), readiness (6), session save
    with django_assert_max_num_queries(19):
        assert client.get(url).status_code == 200


# --- the project file's tab -----------------------------------------------------------------


def test_project_tab_renders_from_its_context(ledgers, users, rf):
    from django.template.loader import render_to_string

    from majorprojects.approvals.views import project_tab_context

    request = rf.get(f"/projects/{ledgers['a'].pk}/approvals/")
    request.user = users["leader"]
    context = project_tab_context(request, ledgers["a"])
    html = render_to_string("approvals/project_tab.html", context, request=request)
    assert html.count('data-testid="node"') == 13
    assert "在台账中打开" in html and 'data-testid="edit-item"' not in html
    request.user = users["owner_a"]
    html = render_to_string(
        "approvals/project_tab.html", project_tab_context(request, ledgers["a"]), request=request
    )
    assert 'data-testid="edit-item"' in html
    assert context["ledger_summary"]["total"] == 13 and not context["ledger_readiness"]["start"]["ready"]
