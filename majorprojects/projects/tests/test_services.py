"""Project services: create, update with version check, stage transitions, listings, packages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.factories import ListingFactory, ProjectFactory
from majorprojects.projects import services
from majorprojects.projects.models import Project, Stage


def fields(city, **extra):
    base = {
        "name": "临川智能制造产业园",
        "owner_unit": city["owner_a"],
        "region": city["linchuan"],
        "sector": city["industry"],
        "total_investment": Decimal("35000.00"),
        "code": "2026-431902-39-01-000123",
    }
    return {**base, **extra}


def test_county_creates_project_in_its_region_with_event(users, city):
    project = services.project_create(
        actor=users["linchuan"],
        fields=fields(city),
        tags=["数字经济", "数字经济 "],
        fundings={"central_budget": Decimal("5000")},
    )
    assert project.pk and project.created_by == users["linchuan"]
    assert [t.name for t in project.tags.all()] == ["数字经济"]
    assert project.funding.get().amount == Decimal("5000.00")
    event = Event.objects.get(project=project)
    assert event.verb == "project_create" and event.actor == users["linchuan"]


def test_county_cannot_place_project_in_another_county(users, city):
    with pytest.raises(ValidationError) as exc:
        services.project_create(actor=users["linchuan"], fields=fields(city, region=city["qingshan"]))
    assert exc.value.message_dict["region"] == ["所选区域不在您的管辖范围内。"]
    assert not Project.objects.exists()


def test_project_code_format_and_uniqueness(users, city):
    with pytest.raises(ValidationError) as exc:
        services.project_create(actor=users["admin"], fields=fields(city, code="2026-4319-01"))
    assert "YYYY-RRRRRR-DD-TT-NNNNNN" in exc.value.message_dict["code"][0]
    services.project_create(actor=users["admin"], fields=fields(city))
    with pytest.raises(ValidationError) as exc:
        services.project_create(actor=users["admin"], fields=fields(city, name="另一个"))
    assert "code" in exc.value.message_dict


def test_funding_cannot_exceed_total(users, city):
    with pytest.raises(ValidationError) as exc:
        services.project_create(
            actor=users["admin"], fields=fields(city), fundings={"special_bond": Decimal("40000")}
        )
    assert "超过总投资" in exc.value.message_dict["total_investment"][0]
    assert not Project.objects.exists()


def test_leader_and_auditor_cannot_create(users, city):
    for name in ("leader", "auditor"):
        with pytest.raises(PermissionDenied):
            services.project_create(actor=users[name], fields=fields(city))


def test_project_unit_creates_only_own_projects(users, city):
    with pytest.raises(ValidationError) as exc:
        services.project_create(actor=users["owner_a"], fields=fields(city, owner_unit=city["owner_b"]))
    assert exc.value.message_dict["owner_unit"] == ["项目单位只能登记本单位的项目。"]


def test_update_records_diff_and_bumps_version(users, projects):
    project = projects["a"]
    services.project_update(
        actor=users["linchuan"],
        project=project,
        fields={"name": "临川新材料产业园（一期）"},
        expected_version=1,
    )
    project.refresh_from_db()
    assert project.version == 2
    event = Event.objects.filter(project=project, verb="project_update").get()
    assert event.details["name"] == ["临川新材料产业园", "临川新材料产业园（一期）"]


def test_stale_version_is_refused_and_nothing_changes(users, projects):
    project = projects["a"]
    services.project_update(
        actor=users["admin"], project=project, fields={"address": "甲"}, expected_version=1
    )
    with pytest.raises(ConflictError):
        services.project_update(
            actor=users["linchuan"], project=project, fields={"address": "乙"}, expected_version=1
        )
    project.refresh_from_db()
    assert project.address == "甲" and project.version == 2


def test_update_cannot_move_project_out_of_scope(users, projects, city):
    with pytest.raises(ValidationError):
        services.project_update(
            actor=users["linchuan"], project=projects["a"], fields={"region": city["qingshan"]}
        )
    projects["a"].refresh_from_db()
    assert projects["a"].region == city["linchuan"] and projects["a"].version == 1


def test_outsider_cannot_update(users, projects):
    with pytest.raises(PermissionDenied):
        services.project_update(actor=users["qingshan"], project=projects["a"], fields={"name": "x"})


def test_start_then_complete_records_actual_dates(users, projects):
    p = services.project_transition(
        actor=users["linchuan"], project=projects["a"], stage=Stage.CONSTRUCTION, on_date=dt.date(2026, 3, 1)
    )
    assert p.stage == Stage.CONSTRUCTION and p.actual_start_date == dt.date(2026, 3, 1)
    with pytest.raises(ValidationError) as exc:
        services.project_transition(
            actor=users["linchuan"], project=p, stage=Stage.COMPLETED, on_date=dt.date(2026, 2, 1)
        )
    assert exc.value.message_dict["on_date"] == ["竣工日期不能早于实际开工日期。"]
    p = services.project_transition(
        actor=users["linchuan"], project=p, stage=Stage.COMPLETED, on_date=dt.date(2026, 9, 30)
    )
    assert p.actual_completion_date == dt.date(2026, 9, 30)
    verbs = list(Event.objects.filter(project=p, verb="stage_change").values_list("details__to", flat=True))
    assert sorted(verbs) == ["completed", "construction"]


def test_start_needs_a_date_not_in_future(users, projects):
    with pytest.raises(ValidationError) as exc:
        services.project_transition(actor=users["admin"], project=projects["a"], stage=Stage.CONSTRUCTION)
    assert exc.value.message_dict["on_date"] == ["请填写实际开工日期。"]
    with pytest.raises(ValidationError):
        services.project_transition(
            actor=users["admin"], project=projects["a"], stage=Stage.CONSTRUCTION, on_date=dt.date(2999, 1, 1)
        )


def test_cannot_complete_before_start_or_operate_before_completion(users, projects):
    with pytest.raises(ValidationError) as exc:
        services.project_transition(
            actor=users["admin"], project=projects["a"], stage=Stage.COMPLETED, on_date=dt.date(2026, 1, 1)
        )
    assert exc.value.message_dict["stage"] == ["项目尚未开工，不能直接标记为竣工或投产。"]


def test_going_back_is_city_admin_only_with_reason(users, projects):
    p = services.project_transition(
        actor=users["linchuan"], project=projects["a"], stage=Stage.CONSTRUCTION, on_date=dt.date(2026, 3, 1)
    )
    with pytest.raises(PermissionDenied):
        services.project_transition(actor=users["linchuan"], project=p, stage=Stage.PREPARING, note="误报")
    with pytest.raises(ValidationError):
        services.project_transition(actor=users["admin"], project=p, stage=Stage.PREPARING)
    p = services.project_transition(actor=users["admin"], project=p, stage=Stage.PREPARING, note="误报开工")
    assert p.stage == Stage.PREPARING and p.actual_start_date is None


def test_listing_save_creates_then_updates_same_year(users, projects):
    p = projects["a"]
    services.listing_save(
        actor=users["linchuan"],
        project=p,
        year=2026,
        list_kind="construction",
        key_level="city",
        planned_investment=Decimal("12000"),
        is_new_start=True,
    )
    services.listing_save(
        actor=users["linchuan"],
        project=p,
        year=2026,
        list_kind="construction",
        key_level="province",
        planned_investment=Decimal("15000"),
        is_new_start=True,
    )
    listing = p.listings.get()
    assert listing.key_level == "province" and listing.planned_investment == Decimal("15000.00")
    verbs = list(Event.objects.filter(project=p).values_list("verb", flat=True))
    assert sorted(verbs) == ["listing_create", "listing_update"]


def test_listing_plan_cannot_exceed_total_and_project_unit_cannot_list(users, projects):
    with pytest.raises(ValidationError):
        services.listing_save(
            actor=users["admin"],
            project=projects["a"],
            year=2026,
            list_kind="construction",
            planned_investment=Decimal("60000"),
        )
    with pytest.raises(PermissionDenied):
        services.listing_save(
            actor=users["owner_a"],
            project=projects["a"],
            year=2026,
            list_kind="reserve",
            planned_investment=Decimal("1"),
        )


def test_package_totals_roll_up_from_sub_projects(users, city):
    package = ProjectFactory(
        name="临川区城市更新打包项目",
        owner_unit=city["owner_a"],
        is_package=True,
        total_investment=Decimal("0"),
    )
    ListingFactory(project=package, year=2026, planned_investment=Decimal("0"))
    for amount, plan in (("12000", "3000"), ("8000.50", "2000.25")):
        child = services.project_create(
            actor=users["linchuan"],
            fields={
                "name": f"子项目{amount}",
                "owner_unit": city["owner_a"],
                "region": city["linchuan"],
                "sector": city["industry"],
                "total_investment": Decimal(amount),
                "parent": package,
            },
        )
        services.listing_save(
            actor=users["linchuan"],
            project=child,
            year=2026,
            list_kind="construction",
            planned_investment=Decimal(plan),
        )
    package.refresh_from_db()
    assert package.total_investment == Decimal("20000.50")
    assert package.listings.get(year=2026).planned_investment == Decimal("5000.25")


def test_sub_project_cannot_nest(users, city):
    package = ProjectFactory(owner_unit=city["owner_a"], is_package=True)
    child = ProjectFactory(owner_unit=city["owner_a"], parent=package)
    with pytest.raises(ValidationError) as exc:
        services.project_create(actor=users["admin"], fields=fields(city, code=None, parent=child))
    assert exc.value.message_dict["parent"] == ["子项目不能再作为打包项目。"]


def test_new_project_may_start_at_any_stage_before_construction(users, city):
    project = services.project_create(actor=users["linchuan"], fields=fields(city, stage=Stage.CONCEIVED))
    assert project.stage == Stage.CONCEIVED
    with pytest.raises(ValidationError) as exc:
        services.project_create(
            actor=users["linchuan"], fields=fields(city, code=None, stage=Stage.CONSTRUCTION)
        )
    assert "阶段变更" in exc.value.message_dict["stage"][0]


@pytest.fixture
def package(users, city):
    """A package in 临川区 with one sub-project there and one in 青山县 (hand-worked sums below)."""
    package = ProjectFactory(name="云江城区管网打包项目", owner_unit=city["owner_a"], is_package=True)
    a = ProjectFactory(
        name="临川管网", owner_unit=city["owner_a"], parent=package, total_investment=Decimal("6000")
    )
    b = ProjectFactory(
        name="青山管网", owner_unit=city["owner_b"], parent=package, total_investment=Decimal("4000")
    )
    services.listing_save(
        actor=users["admin"],
        project=a,
        year=2026,
        list_kind="construction",
        planned_investment=Decimal("1500"),
    )
    services.listing_save(
        actor=users["admin"],
        project=b,
        year=2026,
        list_kind="construction",
        planned_investment=Decimal("500"),
    )
    package.refresh_from_db()
    return package, a, b


def test_package_listing_is_created_from_sub_projects_and_follows_deletes(users, package):
    package, _a, b = package
    assert package.total_investment == Decimal("10000.00")
    assert package.listings.get(year=2026).planned_investment == Decimal("2000.00")
    services.listing_delete(actor=users["admin"], listing=b.listings.get(year=2026))
    assert package.listings.get(year=2026).planned_investment == Decimal("1500.00")


def test_package_total_cannot_drift_from_its_sub_projects(users, package):
    package, _a, _b = package
    services.project_update(actor=users["admin"], project=package, fields={"total_investment": Decimal("1")})
    package.refresh_from_db()
    assert package.total_investment == Decimal("10000.00")


def test_package_rollup_hides_sub_projects_outside_scope(users, package):
    from majorprojects.projects.selectors import package_rollup

    package, _a, _b = package
    rollup = package_rollup(package, 2026, user=users["linchuan"])
    assert [c.name for c in rollup["children"]] == ["临川管网"]
    assert rollup["hidden_count"] == 1
    assert rollup["total_investment"] == Decimal("10000.00") and rollup["planned_investment"] == Decimal(
        "2000.00"
    )
