"""factory_boy factories shared by every app's tests. A small fictional region tree:
云江市 (431900) with 临川区 (431902) and 青山县 (431921)."""

from decimal import Decimal

import factory

from majorprojects.accounts.models import Role, User
from majorprojects.organisation.models import Person, Region, RegionKind, Sector, Unit, UnitKind, WorkGroup
from majorprojects.projects.models import AnnualListing, Campaign, CampaignKind, ListKind, Project, Stage

TEST_PASSWORD = "Yunjiang#2026"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{431901 + n:06d}")
    name = factory.Sequence(lambda n: f"测试区{n}")
    kind = RegionKind.COUNTY


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sector
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"类别{n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n}有限公司")
    kind = UnitKind.ENTERPRISE
    region = factory.SubFactory(RegionFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"人员{n}")
    position = "副市长"
    is_leader = True


class WorkGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkGroup

    name = factory.Sequence(lambda n: f"专班{n}")
    kind = "project"
    lead_unit = factory.SubFactory(UnitFactory, kind=UnitKind.DEPARTMENT)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.CITY_ADMIN
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"测试项目{n}")
    owner_unit = factory.SubFactory(UnitFactory)
    region = factory.LazyAttribute(lambda o: o.owner_unit.region)
    sector = factory.SubFactory(SectorFactory)
    total_investment = Decimal("10000.00")
    stage = Stage.PREPARING
    start_year = 2026
    end_year = 2027


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualListing

    project = factory.SubFactory(ProjectFactory)
    year = 2026
    list_kind = ListKind.CONSTRUCTION
    planned_investment = Decimal("3000.00")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    kind = CampaignKind.THREE_BATCHES
    name = factory.Sequence(lambda n: f"2026年第{n + 1}期“三个一批”")
    year = 2026
    issue_no = factory.Sequence(lambda n: n + 1)
