"""Fixtures shared by every test: a small city with two counties and one account per role."""

from decimal import Decimal

import pytest

from majorprojects.accounts.models import Role
from majorprojects.factories import (
    TEST_PASSWORD,
    ProjectFactory,
    RegionFactory,
    SectorFactory,
    UnitFactory,
    UserFactory,
)
from majorprojects.organisation.models import RegionKind, UnitKind


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's set-up, plus: the database contents serialized after the migrations (the
    seeded schedules, categories, programmes, rules) are kept on the connection class, not only
    on the connection object. Playwright's sync API runs in greenlets, and inside one Django's
    per-context connection is a new object without them, so a transactional test after a
    browser test would start from an empty database instead of the migrated one."""
    from django.db import connections

    for connection in connections.all():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is not None:
            type(connection)._test_serialized_contents = contents
    yield


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser():
    """Chromium for every browser test in the session (Playwright's sync API allows one instance
    per thread, so all suites share this one)."""
    import os

    from playwright.sync_api import expect, sync_playwright

    from majorprojects.projects.tests.browser.conftest import ARGS, CHROMIUM

    expect.set_options(timeout=15_000)  # a loaded CI machine: waits end as soon as the page is ready

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # (fixtures, assertions) are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def city(db):
    """云江市 with 临川区 and 青山县, two sectors, a department for transport, two enterprises."""
    province = RegionFactory(code="430000", name="湖南省", kind=RegionKind.PROVINCE)
    city = RegionFactory(code="431900", name="云江市", kind=RegionKind.CITY, parent=province)
    linchuan = RegionFactory(code="431902", name="临川区", kind=RegionKind.DISTRICT, parent=city)
    qingshan = RegionFactory(code="431921", name="青山县", kind=RegionKind.COUNTY, parent=city)
    zone = RegionFactory(code="431971", name="云江经济技术开发区", kind=RegionKind.ZONE, parent=linchuan)
    infra = SectorFactory(code="infra", name="基础设施")
    industry = SectorFactory(code="industry", name="产业项目")
    transport = SectorFactory(code="infra-transport", name="交通", parent=infra)
    jtj = UnitFactory(name="云江市交通运输局", kind=UnitKind.DEPARTMENT, region=city)
    jtj.sectors.add(transport)
    owner_a = UnitFactory(name="临川建设投资有限公司", region=linchuan)
    owner_b = UnitFactory(name="青山县城市发展集团有限公司", region=qingshan)
    return {
        "province": province,
        "city": city,
        "linchuan": linchuan,
        "qingshan": qingshan,
        "zone": zone,
        "infra": infra,
        "industry": industry,
        "transport": transport,
        "jtj": jtj,
        "owner_a": owner_a,
        "owner_b": owner_b,
    }


@pytest.fixture
def users(city):
    return {
        "admin": UserFactory(username="admin", role=Role.CITY_ADMIN, region=city["city"]),
        "leader": UserFactory(username="leader", role=Role.LEADER, region=city["city"]),
        "linchuan": UserFactory(username="linchuan", role=Role.COUNTY, region=city["linchuan"]),
        "qingshan": UserFactory(username="qingshan", role=Role.COUNTY, region=city["qingshan"]),
        "jtj": UserFactory(username="jtj", role=Role.DEPARTMENT, unit=city["jtj"]),
        "owner_a": UserFactory(username="owner_a", role=Role.PROJECT_UNIT, unit=city["owner_a"]),
        "auditor": UserFactory(username="auditor", role=Role.AUDITOR),
    }


@pytest.fixture
def projects(city):
    """One project in 临川区 (industry), one in 青山县 (transport, so the transport bureau sees it),
    one in the development zone under 临川区."""
    return {
        "a": ProjectFactory(
            name="临川新材料产业园",
            owner_unit=city["owner_a"],
            sector=city["industry"],
            total_investment=Decimal("50000.00"),
        ),
        "b": ProjectFactory(
            name="青山县环城公路",
            owner_unit=city["owner_b"],
            sector=city["infra"],
            industry=city["transport"],
            total_investment=Decimal("120000.00"),
        ),
        "zone": ProjectFactory(
            name="经开区标准厂房",
            owner_unit=city["owner_a"],
            region=city["zone"],
            sector=city["industry"],
            total_investment=Decimal("8000.00"),
        ),
    }


def login(client, user):
    client.force_login(user)
    return client
