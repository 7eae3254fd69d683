"""Problem-ledger fixtures on the shared small city: two bureaus that handle problems (natural
resources, ecology and environment) with one account each, a vice-mayor, and problems at the
main steps of the workflow. "Today" is Monday 2026-11-23."""

from datetime import date

import pytest
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.factories import PersonFactory, UnitFactory, UserFactory
from majorprojects.organisation.models import UnitKind
from majorprojects.problems import services
from majorprojects.problems.models import Category

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


@pytest.fixture
def ledger(city, users, projects):
    zrzyj = UnitFactory(name="云江市自然资源和规划局", kind=UnitKind.DEPARTMENT, region=city["city"])
    sthjj = UnitFactory(name="云江市生态环境局", kind=UnitKind.DEPARTMENT, region=city["city"])
    return {
        "land": Category.objects.get(code="land"),
        "funds": Category.objects.get(code="funds"),
        "other": Category.objects.get(code="other"),
        "zrzyj": zrzyj,
        "sthjj": sthjj,
        "zrzyj_user": UserFactory(username="zrzyj", role=Role.DEPARTMENT, unit=zrzyj, email="zr@example.cn"),
        "sthjj_user": UserFactory(username="sthjj", role=Role.DEPARTMENT, unit=sthjj),
        "vice_mayor": PersonFactory(name="王副市长", position="副市长", is_leader=True),
        "clerk": PersonFactory(name="李科员", position="科员", is_leader=False),
    }


def raise_problem(users, projects, ledger, **kwargs):
    defaults = {
        "actor": users["owner_a"],
        "project": projects["a"],
        "category": ledger["land"],
        "description": "园区二期用地指标未落实，影响厂房开工",
        "request": "请协调解决新增建设用地指标",
    }
    return services.problem_raise(**{**defaults, **kwargs})


def assign(problem, users, ledger, **kwargs):
    defaults = {
        "actor": users["admin"],
        "problem": problem,
        "lead_unit": ledger["zrzyj"],
        "co_units": [ledger["sthjj"]],
        "leader": ledger["vice_mayor"],
        "responsible_name": "张科长",
        "responsible_phone": "13800000000",
        "solution": "列入年度用地计划，优先保障",
        "deadline": date(2026, 12, 31),
    }
    return services.problem_assign(**{**defaults, **kwargs})


@pytest.fixture
def raised(users, projects, ledger):
    return raise_problem(users, projects, ledger)


@pytest.fixture
def assigned(raised, users, ledger):
    return assign(raised, users, ledger)


@pytest.fixture
def resolved(assigned, ledger):
    return services.problem_resolve(
        actor=ledger["zrzyj_user"], problem=assigned, resolution="已调剂指标 50 亩"
    )
