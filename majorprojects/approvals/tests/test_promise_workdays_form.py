"""The item form's "promise due in N working days" (承诺补齐时限（工作日）): the due date is counted
in statutory working days from the approval date, across the 2026 Spring Festival (holiday
15–23 February, make-up working Saturdays 14 and 28 February), exactly as
services.item_record_promise counts it; wrong combinations are refused under the field and
nothing is saved; only those who may change the project can use it."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from majorprojects.approvals.forms import ItemForm
from majorprojects.approvals.models import ItemStatus
from majorprojects.approvals.services import item_record_promise
from majorprojects.audit.models import Event

from .conftest import item

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def mon_to_fri(start: date, days: int) -> date:
    """The naive count (Monday to Friday, no holidays), to show the statutory one differs."""
    day = start
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


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
        "promise_workdays": "",
        "papers_supplied_date": "",
        "not_applicable_reason": "",
        "note": "",
        "version": it.version,
    }
    data.update(changes)
    return data


def promise(approved: str, workdays, **changes) -> dict:
    return {"status": "promised", "actual_date": approved, "promise_workdays": workdays, **changes}


# Hand-counted against the State Council's 2026 holiday arrangement:
# 12 Feb (Thu) + 10: 13 Fri ①, 14 Sat make-up ②, 15–23 holiday, 24 ③ 25 ④ 26 ⑤ 27 ⑥,
# 28 Sat make-up ⑦, 2 Mar ⑧ 3 ⑨ 4 ⑩.
SPRING_FESTIVAL = [
    ("2026-02-12", 10, date(2026, 3, 4), date(2026, 2, 26)),
    ("2026-02-13", 1, date(2026, 2, 14), date(2026, 2, 16)),  # the make-up Saturday counts
    ("2026-02-13", 3, date(2026, 2, 25), date(2026, 2, 18)),  # 14 Feb ①, 24 ②, 25 ③
    ("2026-02-17", 1, date(2026, 2, 24), date(2026, 2, 18)),  # approved in the holiday
    ("2026-02-17", 5, date(2026, 2, 28), date(2026, 2, 24)),  # ends on the make-up Saturday
    ("2026-02-27", 1, date(2026, 2, 28), date(2026, 3, 2)),
]


@pytest.mark.parametrize("approved, workdays, due, naive", SPRING_FESTIVAL)
def test_due_date_counts_statutory_working_days(ledgers, approved, workdays, due, naive):
    it = item(ledgers["a"], "soil_water")
    form = ItemForm(edit_data(it, **promise(approved, workdays)), item=it)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["promise_due_date"] == due
    assert mon_to_fri(date.fromisoformat(approved), workdays) == naive != due


def test_the_form_and_the_service_agree(ledgers, users):
    a = ledgers["a"]
    by_form = item(a, "soil_water")
    form = ItemForm(edit_data(by_form, **promise("2026-02-12", 10)), item=by_form)
    assert form.is_valid()
    by_service = item_record_promise(
        actor=users["owner_a"],
        item=item(a, "energy"),
        approved_on=date(2026, 2, 12),
        promise_workdays=10,
        expected_version=1,
    )
    assert form.cleaned_data["promise_due_date"] == by_service.promise_due_date == date(2026, 3, 4)


@pytest.mark.parametrize("role", ["owner_a", "linchuan", "admin"])
def test_saving_the_form_stores_the_counted_date(ledgers, client, users, role):
    it = item(ledgers["a"], "soil_water")
    client.force_login(users[role])
    response = client.post(
        reverse("approvals:item", args=[it.pk]),
        edit_data(it, **promise("2026-02-12", 10, document_number="云水保承诺〔2026〕3号")),
        follow=True,
    )
    assert response.status_code == 200
    assert "承诺补齐期限按 10 个工作日计算为 2026-03-04" in response.content.decode()
    it.refresh_from_db()
    assert (it.status, it.actual_date, it.promise_due_date) == (
        ItemStatus.PROMISED,
        date(2026, 2, 12),
        date(2026, 3, 4),
    )
    event = Event.objects.get(verb="approval_item_update", target_id=str(it.pk))
    assert event.details["promise_due_date"] == [None, "2026-03-04"]
    assert event.actor == users[role] and event.project_id == ledgers["a"].pk


def test_working_days_replace_a_date_typed_before(ledgers, client, users):
    it = item(ledgers["a"], "soil_water")
    client.force_login(users["owner_a"])
    client.post(
        reverse("approvals:item", args=[it.pk]),
        edit_data(it, **promise("2026-02-13", 3, promise_due_date="2026-02-20")),
    )
    it.refresh_from_db()
    assert it.promise_due_date == date(2026, 2, 25)


def test_inline_edit_shows_the_counted_date_in_the_ledger(ledgers, client, users):
    it = item(ledgers["a"], "soil_water")
    client.force_login(users["owner_a"])
    form = client.get(reverse("approvals:item", args=[it.pk]), **HTMX).content.decode()
    assert 'name="promise_workdays"' in form and "承诺补齐时限（工作日）" in form
    response = client.post(
        reverse("approvals:item", args=[it.pk]), edit_data(it, **promise("2026-02-17", 5)), **HTMX
    )
    page = response.content.decode()
    assert "承诺补齐期限按 5 个工作日计算为 2026-02-28" in page
    it.refresh_from_db()
    assert it.promise_due_date == date(2026, 2, 28)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"status": "in_progress", "promise_workdays": 10}, "promise_workdays", "只有办理状态为“容缺承诺”"),
        ({"status": "done", "promise_workdays": 10}, "promise_workdays", "只有办理状态为“容缺承诺”"),
        (promise("", 10), "actual_date", "按工作日计算承诺补齐期限须填写批复（受理）日期"),
        (promise("2026-02-12", 0), "promise_workdays", "补齐时限应为 1 到 365 个工作日"),
        (promise("2026-02-12", 366), "promise_workdays", "补齐时限应为 1 到 365 个工作日"),
        (promise("2026-02-12", "十"), "promise_workdays", "请填写工作日数（整数）"),
        (promise("2026-12-01", 10), "actual_date", "实际办结日期不能晚于今天"),  # from the service
    ],
)
def test_bad_input_is_refused_under_the_field(ledgers, client, users, changes, field, message):
    it = item(ledgers["a"], "soil_water")
    client.force_login(users["owner_a"])
    response = client.post(reverse("approvals:item", args=[it.pk]), edit_data(it, **changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    it.refresh_from_db()
    assert (it.status, it.promise_due_date, it.version) == (ItemStatus.NOT_STARTED, None, 1)
    assert not Event.objects.filter(verb="approval_item_update").exists()


def test_outsiders_cannot_use_it(ledgers, client, users):
    it = item(ledgers["a"], "soil_water")
    data = edit_data(it, **promise("2026-02-12", 10))
    url = reverse("approvals:item", args=[it.pk])
    for role, status in (("qingshan", 404), ("jtj", 404), ("leader", 403), ("auditor", 403)):
        client.force_login(users[role])
        assert client.post(url, data).status_code == status, role
    it.refresh_from_db()
    assert it.promise_due_date is None and it.version == 1
