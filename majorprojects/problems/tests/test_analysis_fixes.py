"""The analyst corrects a category at acceptance (a report's problem arrives as 其他), and a
project's merged or split items go with it when the project is deleted."""

import pytest
from django.core.exceptions import ValidationError

from majorprojects.audit.models import Event
from majorprojects.problems import services
from majorprojects.problems.models import Problem, Status

from .conftest import raise_problem
from .test_api import api, errors, ok  # noqa: F401  (fixture and helpers)

pytestmark = pytest.mark.django_db


def test_accept_corrects_the_category_and_records_it(users, projects, ledger):
    problem = raise_problem(users, projects, ledger, category=ledger["other"])
    services.problem_accept(actor=users["admin"], problem=problem, category=ledger["land"])
    problem.refresh_from_db()
    assert problem.status == Status.ACCEPTED and problem.category == ledger["land"]
    event = Event.objects.filter(verb="problem_accept").latest("pk")
    assert event.details["category"] == [ledger["other"].name, ledger["land"].name]


def test_accept_without_category_keeps_it(users, projects, ledger):
    problem = raise_problem(users, projects, ledger, category=ledger["funds"])
    services.problem_accept(actor=users["admin"], problem=problem)
    problem.refresh_from_db()
    assert problem.category == ledger["funds"]
    assert "category" not in Event.objects.filter(verb="problem_accept").latest("pk").details


def test_accept_refuses_an_inactive_category(users, projects, ledger):
    problem = raise_problem(users, projects, ledger, category=ledger["other"])
    ledger["land"].is_active = False
    ledger["land"].save()
    with pytest.raises(ValidationError) as caught:
        services.problem_accept(actor=users["admin"], problem=problem, category=ledger["land"])
    assert "停用" in caught.value.message_dict["category"][0]
    problem.refresh_from_db()
    assert problem.status == Status.REPORTED and problem.category == ledger["other"]


def test_accept_through_the_api_and_the_page(api, client, users, projects, ledger):  # noqa: F811
    first = raise_problem(users, projects, ledger, category=ledger["other"])
    body = ok(api("admin").post(f"/{first.pk}/accept", {"category_id": ledger["land"].pk, "version": 1}))
    assert body["status"] == Status.ACCEPTED
    assert Problem.objects.get(pk=first.pk).category == ledger["land"]
    assert "body.category_id" in errors(
        api("admin").post(f"/{first.pk}/accept", {"category_id": 999999, "version": 2})
    )

    second = raise_problem(users, projects, ledger, category=ledger["other"])
    client.force_login(users["admin"])
    response = client.post(
        f"/problems/{second.pk}/accept/",
        {"accept-category": ledger["funds"].pk, "accept-note": "", "accept-version": second.version},
    )
    assert response.status_code in (200, 302)
    assert Problem.objects.get(pk=second.pk).category == ledger["funds"]


def test_deleting_a_project_takes_its_merged_and_split_items(users, projects, ledger):
    kept = raise_problem(users, projects, ledger)
    duplicate = raise_problem(users, projects, ledger, description="同一地块的用地报批")
    services.problem_merge(actor=users["admin"], problem=duplicate, into=kept)
    services.problem_accept(actor=users["admin"], problem=kept)
    kept.refresh_from_db()
    services.problem_split(
        actor=users["admin"], problem=kept, items=[{"description": "征地补偿"}, {"description": "用地指标"}]
    )
    assert Problem.objects.filter(project=projects["a"]).count() == 4
    projects["a"].delete()
    assert not Problem.objects.filter(pk__in=[kept.pk, duplicate.pk]).exists()
    assert not Problem.objects.filter(parent_id=kept.pk).exists()
