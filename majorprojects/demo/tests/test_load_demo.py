"""The demo city: complete, plausible, deterministic, and scoped like a real deployment.

The city is built once for the module (about a second) and deleted afterwards; tests that
rebuild it do so inside their own transaction, which is rolled back."""

import io
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.conf import global_settings
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db.models import Sum

from majorprojects.accounts.models import Role, User
from majorprojects.accounts.scope import visible_projects
from majorprojects.demo import data
from majorprojects.demo.builder import build_demo, clear_demo, current_year, demo_accounts
from majorprojects.organisation.models import Region, RegionKind, Unit, UnitKind, WorkGroup
from majorprojects.projects.models import (
    PROJECT_CODE,
    AnnualListing,
    ApprovalRegime,
    BatchKind,
    Campaign,
    CampaignKind,
    CampaignMembership,
    KeyLevel,
    ListKind,
    Project,
    ProjectFunding,
    Stage,
)

pytestmark = pytest.mark.django_db
YI = Decimal(10000)


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        counts = build_demo()
        yield counts
        clear_demo()
        assert not Project.objects.exists()
        assert not Region.objects.exists()


def snapshot() -> list[tuple]:
    rows = Project.objects.values_list(
        "name", "code", "region__code", "owner_unit__name", "stage", "total_investment", "actual_start_date"
    )
    listings = AnnualListing.objects.values_list(
        "project__name", "year", "list_kind", "key_level", "planned_investment", "is_new_start"
    )
    members = CampaignMembership.objects.values_list("campaign__name", "project__name", "batch")
    return sorted(rows, key=str) + sorted(listings, key=str) + sorted(members, key=str)


def test_city_has_counties_zones_departments_and_work_groups():
    city = Region.objects.get(code="431900")
    children = Counter(city.children.values_list("kind", flat=True))
    assert sum(children.values()) == 10
    assert children[RegionKind.ZONE] == 2
    assert city.parent.code == "430000"
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT).count() == 25
    assert Unit.objects.filter(kind=UnitKind.BANK).exists()
    assert Unit.objects.filter(kind=UnitKind.ENTERPRISE).count() >= 150
    kinds = Counter(WorkGroup.objects.values_list("kind", flat=True))
    assert (kinds["general"], kinds["support"], kinds["project"]) == (1, 3, 8)
    assert WorkGroup.objects.get(kind="general").lead_unit.short_name == "市发改委"


def test_projects_cover_every_stage_list_key_level_and_campaign(demo):
    year = current_year()
    assert Project.objects.count() == demo["projects"] >= 600
    assert set(Project.objects.values_list("stage", flat=True)) == set(Stage.values)
    for y in (year - 1, year):
        listed = AnnualListing.objects.filter(year=y)
        assert set(listed.values_list("list_kind", flat=True)) == set(ListKind.values)
        assert set(listed.values_list("key_level", flat=True)) == set(KeyLevel.values)
        assert listed.filter(is_new_start=True).exists() and listed.filter(is_new_start=False).exists()
    assert set(Campaign.objects.values_list("kind", flat=True)) == set(CampaignKind.values) - {"other"}
    assert set(CampaignMembership.objects.values_list("batch", flat=True)) == set(BatchKind.values)
    assert Campaign.objects.filter(kind=CampaignKind.THREE_BATCHES, year=year - 1).count() >= 3
    assert Project.objects.filter(is_package=True).count() >= 3
    assert Project.objects.filter(is_private_investment=True).exists()
    assert Project.objects.filter(is_high_tech=True).exists()
    assert Project.objects.filter(package_leader__isnull=False).exists()
    assert Project.objects.filter(work_group__isnull=False).exists()
    assert Project.objects.filter(tags__isnull=False).exists()


def test_city_totals_look_like_a_real_list(demo):
    totals = [p.total_investment for p in Project.objects.filter(is_package=False)]
    assert Decimal(2000) * YI <= demo["total_investment"] <= Decimal(3500) * YI
    assert Decimal(450) * YI <= demo["planned_investment"] <= Decimal(800) * YI
    assert sum(1 for t in totals if 10000 <= t <= 100000) > len(totals) / 2
    assert any(t < 5000 for t in totals)
    assert sum(1 for t in totals if t >= 500000) >= 3


def test_every_role_has_an_account_with_the_demo_password(settings):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the module's city used the default
    accounts = list(demo_accounts())
    assert {u.role for u in accounts} == set(Role.values)
    counties = Region.objects.get(code="431900").children.count()
    assert sum(u.role == Role.COUNTY for u in accounts) == counties
    for user in accounts:
        validate_password(data.DEMO_PASSWORD, user)
    assert accounts[0].check_password(data.DEMO_PASSWORD)
    assert len({u.password for u in accounts}) == 1
    assert len(settings.AUTH_PASSWORD_VALIDATORS) >= 3


def test_two_builds_are_identical():
    first = snapshot()
    out = io.StringIO()
    call_command("load_demo", "--reset", stdout=out)
    assert "已载入演示数据" in out.getvalue()
    assert snapshot() == first


def test_a_different_seed_gives_a_different_city():
    first = snapshot()
    clear_demo()
    build_demo(projects=120, seed=7)
    assert Project.objects.count() == 120
    assert snapshot() != first


def test_project_codes_are_valid_unique_and_match_the_project():
    year = current_year()
    regime_codes = {
        ApprovalRegime.APPROVAL: "01",
        ApprovalRegime.VERIFICATION: "02",
        ApprovalRegime.FILING: "03",
    }
    coded = Project.objects.exclude(code=None).select_related("region")
    assert coded.count() > Project.objects.count() * 0.7
    assert len(set(coded.values_list("code", flat=True))) == coded.count()
    assert not Project.objects.filter(stage=Stage.CONCEIVED).exclude(code=None).exists()
    for p in coded:
        assert PROJECT_CODE.match(p.code), p.code
        code_year, region, _dd, tt, _n = p.code.split("-")
        assert int(code_year) <= year
        assert region == p.region.code
        assert tt == regime_codes[p.approval_regime]
        p.full_clean(validate_unique=False, exclude=["owner_unit", "region", "sector"])


def test_dates_follow_the_stage():
    for p in Project.objects.all():
        if p.stage == Stage.CONSTRUCTION:
            assert p.actual_start_date and not p.actual_completion_date, p.name
        elif p.stage in (Stage.COMPLETED, Stage.OPERATING):
            assert p.actual_start_date < p.actual_completion_date, p.name
        else:
            assert not p.actual_start_date and not p.actual_completion_date, p.name
        if p.start_year and p.end_year:
            assert p.start_year <= p.end_year


def test_money_never_exceeds_the_total():
    totals = dict(Project.objects.values_list("pk", "total_investment"))
    funded = ProjectFunding.objects.values("project").annotate(s=Sum("amount"))
    planned = AnnualListing.objects.values("project").annotate(s=Sum("planned_investment"))
    for row in [*funded, *planned]:
        assert row["s"] <= totals[row["project"]], row
    assert funded.count() > len(totals) * 0.9


def test_package_totals_equal_their_sub_projects():
    packages = Project.objects.filter(is_package=True)
    for package in packages:
        children = package.children.all()
        assert 3 <= children.count() <= 6
        assert package.code is None
        assert package.total_investment == children.aggregate(s=Sum("total_investment"))["s"]
        for listing in package.listings.all():
            plans = AnnualListing.objects.filter(project__parent=package, year=listing.year)
            assert listing.planned_investment == plans.aggregate(s=Sum("planned_investment"))["s"]
        assert len({c.owner_unit_id for c in children}) == children.count()


def test_each_county_account_sees_only_its_subtree():
    for user in demo_accounts().filter(role=Role.COUNTY).select_related("region"):
        visible = set(visible_projects(user).values_list("pk", flat=True))
        own = set(
            Project.objects.filter(region__path__startswith=user.region.path).values_list("pk", flat=True)
        )
        assert visible == own
        assert visible, user.username


def test_department_and_owner_accounts_see_their_projects():
    jiaotong = User.objects.get(username="jiaotong")
    seen = visible_projects(jiaotong)
    assert seen.exists()
    assert (
        not seen.exclude(industry__code="infra-transport")
        .exclude(responsible_department=jiaotong.unit)
        .exists()
    )
    owner = User.objects.get(username="owner")
    own = visible_projects(owner)
    assert own.count() >= 5
    assert own.filter(parent__isnull=False).exists()  # sub-projects of its packages


def test_load_demo_refuses_to_mix_with_existing_data():
    with pytest.raises(CommandError, match="--reset"):
        call_command("load_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert "未载入" in out.getvalue()


def test_load_demo_if_empty_fills_an_empty_database():
    clear_demo()
    call_command("load_demo", "--if-empty", "--projects", "80", stdout=io.StringIO())
    assert Project.objects.count() == 80


def test_demo_logins_prints_every_account():
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    for user in demo_accounts():
        assert re.search(rf"^{user.username}\s", text, re.MULTILINE), user.username
    assert data.DEMO_PASSWORD in text
    assert "临川区的项目" in text
