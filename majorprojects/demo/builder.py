"""Builds the demo city 云江市 from demo.data: regions, categories, units, people, work groups,
projects with listings, funding, tags and campaigns, and one account per role.

Deterministic: one `random.Random(seed)` drives every choice, in a fixed order, and dates hang off
the current year only. Rows go in with bulk_create (regions use save(), which sets their path);
no audit events are written for the city itself (the dispatch history in demo.dispatch writes a
few: locks, returns, corrections). Each part is its own function taking the `City` context, so
later parts (problems, warnings) can be added after the existing ones.
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from majorprojects.accounts.models import Role, User
from majorprojects.organisation.models import (
    Person,
    Region,
    RegionKind,
    Sector,
    Unit,
    UnitKind,
    WorkGroup,
)
from majorprojects.projects.models import (
    AnnualListing,
    ApprovalRegime,
    BatchKind,
    Campaign,
    CampaignKind,
    CampaignMembership,
    FundingSource,
    KeyLevel,
    ListKind,
    Project,
    ProjectFunding,
    Stage,
    Tag,
)

from . import data, dispatch

ZERO = Decimal(0)
BATCH = 2000
CAMPAIGN_PREFIX = "云江市"
CN_DIGITS = "零一二三四五六七八九十"
PUBLIC_OWNERS = ("platform", "institution")


@dataclass
class Plan:
    """A project being built, with what is decided before its rows are written."""

    project: Project
    industry: str
    owner_kind: str
    key_level: str = ""
    funding: dict[str, Decimal] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    children: list[Plan] = field(default_factory=list)
    listings: dict[int, AnnualListing] = field(default_factory=dict)


@dataclass
class City:
    rng: random.Random
    year: int
    regions: dict[str, Region] = field(default_factory=dict)
    towns: dict[str, list[str]] = field(default_factory=dict)
    sectors: dict[str, Sector] = field(default_factory=dict)
    industry_codes: dict[str, str] = field(default_factory=dict)
    category_of: dict[str, str] = field(default_factory=dict)
    departments: dict[str, Unit] = field(default_factory=dict)
    governments: dict[str, Unit] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    brands: dict[str, str] = field(default_factory=dict)
    private_pool: dict[tuple[str, str], list[Unit]] = field(default_factory=dict)
    new_units: list[Unit] = field(default_factory=list)
    leaders: dict[str, Person] = field(default_factory=dict)
    county_heads: dict[str, Person] = field(default_factory=dict)
    liaisons: dict[str, Person] = field(default_factory=dict)
    work_groups: dict[str, WorkGroup] = field(default_factory=dict)
    industry_group: dict[str, str] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    plans: list[Plan] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    accounts: list[User] = field(default_factory=list)
    used_names: set[str] = field(default_factory=set)
    used_codes: set[str] = field(default_factory=set)

    @property
    def city(self) -> Region:
        return self.regions[data.CITY["code"]]

    def all_plans(self):
        for plan in self.plans:
            yield plan
            yield from plan.children


# --- helpers ------------------------------------------------------------------------------


def _person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(data.GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(data.SURNAMES) + given


def _phone(rng: random.Random) -> str:
    # 1x0-0000-xxxx: shaped like a mobile number, in a block not issued to subscribers.
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}0000{rng.randint(0, 9999):04d}"


def _day(rng: random.Random, year: int, first_month: int = 1, last_month: int = 12) -> date:
    return date(year, rng.randint(first_month, last_month), rng.randint(1, 28))


def _wan(value: float) -> Decimal:
    """An amount in 万元 rounded the way ledgers show it (tens below 1亿, hundreds above)."""
    step = 10 if value < 10000 else 100
    return Decimal(max(step, round(value / step) * step))


def _short(region: Region) -> str:
    if region.short_name:
        return region.short_name
    return re.sub(r"(区|县|市)$", "", region.name)


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _cn(n: int) -> str:
    return CN_DIGITS[n] if n <= 10 else f"十{CN_DIGITS[n - 10]}"


# --- organisation -------------------------------------------------------------------------


def build_regions(city: City) -> None:
    province = Region.objects.filter(code=data.PROVINCE["code"]).first()
    if province is None:
        province = Region(kind=RegionKind.PROVINCE, **data.PROVINCE)
        province.save()
    root = Region(
        code=data.CITY["code"],
        name=data.CITY["name"],
        short_name=data.CITY["short_name"],
        kind=RegionKind.CITY,
        parent=province,
    )
    root.save()
    city.regions[root.code] = root
    for order, (code, name, short, kind, _login, _lonlat, towns) in enumerate(data.COUNTIES, start=1):
        region = Region(code=code, name=name, short_name=short, kind=kind, parent=root, sort_order=order)
        region.save()
        city.regions[code] = region
        city.towns[code] = towns
    city.towns[root.code] = [t for towns in city.towns.values() for t in towns[:2]]


def build_sectors(city: City) -> None:
    for order, (code, name, children) in enumerate(data.SECTORS, start=1):
        category, _ = Sector.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        city.sectors[code] = category
        for child_order, (child_code, child_name, dd) in enumerate(children, start=1):
            industry, _ = Sector.objects.get_or_create(
                code=child_code,
                defaults={"name": child_name, "parent": category, "sort_order": order * 100 + child_order},
            )
            city.sectors[child_code] = industry
            city.industry_codes[child_code] = dd
            city.category_of[child_code] = code


def _unit(city: City, name: str, kind: str, region: Region, short: str = "", **extra) -> Unit:
    unit = Unit(name=name, short_name=short, kind=kind, region=region, **extra)
    city.units[name] = unit
    city.new_units.append(unit)
    return unit


def build_units(city: City) -> None:
    """Departments, governments, state platforms, institutions, energy companies and banks.
    Private enterprises are added while projects are drawn (see _private_owner)."""
    root = city.city
    for short, name, _sectors, _title in data.DEPARTMENTS:
        city.departments[short] = _unit(
            city,
            name,
            UnitKind.DEPARTMENT,
            root,
            short,
            address=f"云江市{city.rng.choice(data.ROADS)}",
            reads_all_projects=short in data.CROSS_CUTTING_DEPARTMENTS,
            records_funds=short == "市财政局",
        )
    city.governments[root.code] = _unit(city, "云江市人民政府", UnitKind.GOVERNMENT, root, "市政府")
    for code, name, short, kind, *_rest in data.COUNTIES:
        region = city.regions[code]
        label = f"{name}管理委员会" if kind == RegionKind.ZONE else f"{name}人民政府"
        city.governments[code] = _unit(city, label, UnitKind.GOVERNMENT, region, short or name)
    for name, short in data.CITY_PLATFORMS:
        _unit(city, name, UnitKind.ENTERPRISE, root, short)
    for name in data.ENERGY_COMPANIES:
        _unit(city, name, UnitKind.ENTERPRISE, root)
    for name in data.CITY_INSTITUTIONS:
        _unit(city, name, UnitKind.OTHER, root)
    for name in data.BANKS:
        _unit(city, name, UnitKind.BANK, root)
    for code, name, short, kind, *_rest in data.COUNTIES:
        region = city.regions[code]
        if kind == RegionKind.ZONE:
            for pattern in data.ZONE_PLATFORMS:
                _unit(city, pattern.format(s=short), UnitKind.ENTERPRISE, region)
            continue
        for pattern in data.COUNTY_PLATFORMS:
            _unit(city, pattern.format(r=name), UnitKind.ENTERPRISE, region)
        for pattern in data.COUNTY_INSTITUTIONS:
            _unit(city, pattern.format(r=name), UnitKind.OTHER, region)
    save_units(city)
    through = Unit.sectors.through
    through.objects.bulk_create(
        [
            through(unit_id=city.departments[short].pk, sector_id=city.sectors[code].pk)
            for short, _name, sectors, _title in data.DEPARTMENTS
            for code in sectors
        ]
    )


def save_units(city: City) -> None:
    if city.new_units:
        Unit.objects.bulk_create(city.new_units, batch_size=BATCH)
        city.new_units = []


def build_people(city: City) -> None:
    rng = city.rng
    people: list[Person] = []
    government = city.governments[city.city.code]
    for order, (key, position, portfolio, _depts) in enumerate(data.LEADERS, start=1):
        person = Person(
            name=_person_name(rng),
            phone=_phone(rng),
            position=position,
            unit=government,
            is_leader=True,
            portfolio=portfolio,
            sort_order=order,
        )
        city.leaders[key] = person
        people.append(person)
    for order, (position, portfolio) in enumerate(data.OTHER_CITY_PEOPLE, start=20):
        people.append(
            Person(
                name=_person_name(rng),
                phone=_phone(rng),
                position=position,
                unit=government,
                portfolio=portfolio,
                sort_order=order,
            )
        )
    for order, (code, name, short, kind, *_rest) in enumerate(data.COUNTIES, start=30):
        if kind == RegionKind.ZONE:
            title = f"{short}党工委副书记、管委会主任"
        else:
            title = f"{name}委副书记、{name[-1]}长"
        unit = city.governments[code]
        head = Person(
            name=_person_name(rng),
            phone=_phone(rng),
            position=title,
            unit=unit,
            is_leader=True,
            portfolio=f"主持{short or name}政府全面工作",
            sort_order=order,
        )
        city.county_heads[code] = head
        liaison = Person(
            name=_person_name(rng),
            phone=_phone(rng),
            position="发展和改革局项目股股长",
            unit=unit,
            is_liaison=True,
            sort_order=order,
        )
        city.liaisons[code] = liaison
        people += [head, liaison]
    for order, (short, _name, _sectors, title) in enumerate(data.DEPARTMENTS, start=100):
        unit = city.departments[short]
        people.append(
            Person(name=_person_name(rng), phone=_phone(rng), position=title, unit=unit, sort_order=order)
        )
        liaison = Person(
            name=_person_name(rng),
            phone=_phone(rng),
            position=rng.choice(data.LIAISON_TITLES),
            unit=unit,
            is_liaison=True,
            sort_order=order,
        )
        city.liaisons[short] = liaison
        people.append(liaison)
    Person.objects.bulk_create(people)


def build_work_groups(city: City) -> None:
    groups = []
    for order, (key, name, kind, lead, _members, leader, duties, industries) in enumerate(
        data.WORK_GROUPS, start=1
    ):
        group = WorkGroup(
            name=name,
            kind=kind,
            lead_unit=city.departments[lead],
            leader=city.leaders[leader],
            duties=duties,
            sort_order=order,
        )
        city.work_groups[key] = group
        groups.append(group)
        for industry in industries:
            city.industry_group[industry] = key
    WorkGroup.objects.bulk_create(groups)
    through = WorkGroup.member_units.through
    through.objects.bulk_create(
        [
            through(workgroup_id=city.work_groups[key].pk, unit_id=city.departments[member].pk)
            for key, _name, _kind, _lead, members, *_rest in data.WORK_GROUPS
            for member in members
        ]
    )


def build_tags(city: City) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=data.TAGS)}
    Tag.objects.bulk_create([Tag(name=name) for name in data.TAGS if name not in existing])
    city.tags = {t.name: t for t in Tag.objects.filter(name__in=data.TAGS)}


# --- owners -------------------------------------------------------------------------------


def _platform_owner(city: City, region: Region, platform: str) -> Unit:
    if region.code == city.city.code:
        names = {
            "交通": "云江交通建设投资集团有限公司",
            "水利": "云江水务投资集团有限公司",
            "文旅": "云江文化旅游投资集团有限公司",
            "产业": "云江产业投资集团有限公司",
            "农业": "云江农业发展投资集团有限公司",
        }
        return city.units[names.get(platform, "云江城市建设投资集团有限公司")]
    if region.kind == RegionKind.ZONE:
        return city.units[city.rng.choice(data.ZONE_PLATFORMS).format(s=region.short_name)]
    patterns = {"交通": 1, "水利": 2, "文旅": 3}
    return city.units[data.COUNTY_PLATFORMS[patterns.get(platform, 0)].format(r=region.name)]


def _institution_owner(city: City, region: Region, industry: str, platform: str) -> Unit:
    if region.kind == RegionKind.ZONE:
        return _platform_owner(city, region, platform)
    if region.code == city.city.code:
        choices = {
            "social-health": data.CITY_INSTITUTIONS[:3],
            "social-education": data.CITY_INSTITUTIONS[3:5],
            "social-elderly": data.CITY_INSTITUTIONS[5:],
        }[industry]
        return city.units[city.rng.choice(choices)]
    if industry == "social-elderly":
        return _platform_owner(city, region, platform)
    patterns = data.COUNTY_INSTITUTIONS[:2] if industry == "social-health" else data.COUNTY_INSTITUTIONS[2:]
    return city.units[city.rng.choice(patterns).format(r=region.name)]


def _private_owner(city: City, region: Region, trade: str) -> Unit:
    rng = city.rng
    pool = city.private_pool.setdefault((region.code, trade), [])
    if pool and rng.random() > (0.4 if len(pool) < 25 else 0.1):
        return rng.choice(pool)
    for _ in range(50):
        brand = rng.choice(data.BRANDS)
        prefix = rng.choice(("湖南", "湖南", "云江", _short(region)))
        name = f"{prefix}{brand}{rng.choice(data.TRADES[trade])}有限公司"
        if name not in city.units:
            break
    else:
        name = f"{prefix}{brand}{rng.choice(data.TRADES[trade])}{len(city.units)}有限公司"
    unit = _unit(
        city, name, UnitKind.ENTERPRISE, region, address=f"{region.name}{rng.choice(city.towns[region.code])}"
    )
    city.brands[name] = brand
    pool.append(unit)
    return unit


def _owner(city: City, region: Region, industry: str, spec: dict) -> tuple[Unit, str]:
    kind = _weighted(city.rng, spec["owners"])
    platform = spec.get("platform", "城投")
    if kind == "platform":
        return _platform_owner(city, region, platform), kind
    if kind == "institution":
        return _institution_owner(city, region, industry, platform), kind
    if kind == "energy" and city.rng.random() < 0.7:
        return city.units[
            city.rng.choice(
                [*data.ENERGY_COMPANIES[:2], data.ENERGY_COMPANIES[3], "云江能源投资集团有限公司"]
            )
        ], kind
    return _private_owner(city, region, spec.get("trade", "mfg")), "private"


# --- projects -----------------------------------------------------------------------------


def _pick_region(city: City) -> Region:
    return city.regions[_weighted(city.rng, data.REGION_WEIGHTS)]


def _region_kind_index(region: Region) -> int:
    return {
        RegionKind.CITY: 0,
        RegionKind.DISTRICT: 1,
        RegionKind.COUNTY: 2,
        RegionKind.COUNTY_CITY: 2,
        RegionKind.ZONE: 3,
    }[region.kind]


def _pick_industry(city: City, region: Region) -> str:
    i = _region_kind_index(region)
    return _weighted(city.rng, {code: spec["weights"][i] for code, spec in data.INDUSTRIES.items()})


def _total(city: City, industry: str) -> Decimal:
    """Log-normal around the industry's median: most 1–10亿, some under 5000万, a long tail."""
    value = data.INDUSTRIES[industry]["median"] * math.exp(city.rng.gauss(0, 1.0))
    return _wan(min(max(value, 600), 450000))


def _park(region: Region) -> str:
    if region.kind == RegionKind.ZONE:
        return region.short_name
    if region.kind == RegionKind.CITY:
        return "云江经开区"
    return f"{_short(region)}工业园"


def _quantity(value: float, field_name: str) -> str:
    """A scale figure as a ledger writes it: kilometres to one decimal, counts to 2–3 digits."""
    if field_name == "km":
        return f"{max(value, 0.5):.1f}"
    value = max(1, value)
    digits = max(0, int(math.log10(value)) - 2)
    return str(int(round(value, -digits)))


def _describe(
    city: City, region: Region, industry: str, owner: Unit, owner_kind: str, total: Decimal, item=None
) -> tuple[str, str, str]:
    """(name, content, town) from the industry's templates (or the given item), with quantities
    that fit the money."""
    rng = city.rng
    spec = data.INDUSTRIES[industry]
    if item is not None:
        items = [item]
    elif owner_kind == "institution" and spec.get("institution_items"):
        items = spec["institution_items"]
    else:
        items = spec["items"]
        if owner.name not in city.brands:
            items = [i for i in items if "{co}" not in i[0]] or items
    if region.kind == RegionKind.CITY:
        items = [i for i in items if "{t}" not in i[0]] or items
    towns = city.towns[region.code]
    others = [r for code, r in city.regions.items() if code not in (region.code, data.CITY["code"])]
    for attempt in range(12):
        title, content, costs = rng.choice(items)
        t, t2 = rng.sample(towns, 2)
        values = {
            "r": region.label if region.kind == RegionKind.ZONE else region.name,
            "rs": _short(region),
            "rs2": _short(rng.choice(others)),
            "t": t,
            "t2": t2,
            "o": owner.name,
            "river": rng.choice(data.RIVERS),
            "road": rng.choice(data.ROADS),
            "scenic": rng.choice(data.SCENIC),
            "p": _park(region),
            "g": rng.choice((207, 320, 536, 241)),
            "s": rng.randint(201, 339),
            "ph": rng.choice(("", "", "（一期）", "（二期）")),
            "co": city.brands.get(owner.name, ""),
            "x": rng.choice(spec.get("xs", [""])),
            "m": rng.choice(spec.get("ms", [""])),
            "e": rng.choice(spec.get("es", [""])),
            "f": rng.choice(spec.get("fs", [""])),
            "d": rng.choice(spec.get("ds", [""])),
            "k": _cn(rng.randint(2, 9)),
            "y": city.year,
            "b": rng.randint(2, 12),
        }
        values |= {key: _quantity(float(total) / cost, key) for key, cost in costs.items()}
        name = title.format(**values)
        if attempt > 6:
            name += f"（{_cn(attempt - 4)}期）"
        if name not in city.used_names:
            break
    city.used_names.add(name)
    return name, content.format(**values), values["t"]


def _address(city: City, region: Region, industry: str, town: str) -> str:
    rng = city.rng
    if region.code == city.city.code and not industry.startswith(("infra", "eco")):
        return f"云江市中心城区{rng.choice(data.ROADS)}"
    if region.code == city.city.code:
        counties = rng.sample(
            [r.name for r in city.regions.values() if r.kind not in (RegionKind.CITY, RegionKind.ZONE)], 2
        )
        return f"云江市{'、'.join(counties)}境内"
    return f"{region.name}{town}"


def _coordinates(city: City, region: Region) -> tuple[Decimal, Decimal]:
    centres = {code: lonlat for code, _n, _s, _k, _l, lonlat, _t in data.COUNTIES}
    lon, lat = centres.get(region.code, data.CITY["lonlat"])
    q = Decimal("0.000001")
    return (
        Decimal(lon + city.rng.uniform(-0.08, 0.08)).quantize(q),
        Decimal(lat + city.rng.uniform(-0.06, 0.06)).quantize(q),
    )


def _schedule(city: City, p: Project, stage: str) -> None:
    """Dates consistent with the stage: construction has an actual start; completed and
    operating have both; earlier stages only plans. Actual dates this year fall in Jan–Mar."""
    rng, y = city.rng, city.year
    total = float(p.total_investment)
    duration = 1 if total < 10000 else 2 if total < 50000 else 3 if total < 200000 else 4
    duration = max(1, duration + rng.choice((-1, 0, 0, 1)))
    p.stage = stage
    if stage == Stage.CONSTRUCTION:
        start_year = rng.choices((y, y - 1, y - 2, y - 3), weights=(30, 35, 22, 13))[0]
        if duration == 1:
            start_year = max(start_year, y - 1)
        p.actual_start_date = _day(rng, start_year, 1, 3 if start_year == y else 12)
        p.planned_start_date = p.actual_start_date - timedelta(days=rng.choice((0, 0, 15, 30, 60)))
        p.start_year = start_year
        p.end_year = max(start_year + duration - 1, y)
        p.planned_completion_date = _day(rng, p.end_year, 6 if p.end_year == y else 1, 12)
    elif stage in (Stage.COMPLETED, Stage.OPERATING):
        if stage == Stage.COMPLETED:
            done_year = rng.choices((y - 1, y), weights=(65, 35))[0]
        else:
            done_year = rng.choice((y - 2, y - 1))
        p.actual_completion_date = _day(rng, done_year, 1, 3 if done_year == y else 12)
        p.actual_start_date = p.actual_completion_date - timedelta(days=rng.randint(240, 365 * duration + 60))
        p.planned_start_date = p.actual_start_date - timedelta(days=rng.choice((0, 10, 30)))
        p.planned_completion_date = p.actual_completion_date - timedelta(days=rng.choice((0, 0, 30, 60)))
        p.start_year = p.actual_start_date.year
        p.end_year = p.actual_completion_date.year
    else:
        offsets = {
            Stage.SIGNED: (0, 0, 0, 1),
            Stage.PREPARING: (0, 0, 0, 1, 1),
            Stage.RESERVED: (1, 1, 1, 2),
            Stage.CONCEIVED: (1, 2, 3),
        }[stage]
        start_year = y + rng.choice(offsets)
        p.start_year = start_year
        p.end_year = start_year + duration - 1
        if stage == Stage.CONCEIVED and rng.random() < 0.5:
            return
        p.planned_start_date = _day(rng, start_year, 3 if start_year == y else 1, 11)
        p.planned_completion_date = p.planned_start_date + timedelta(
            days=max(300, 365 * duration - rng.randint(0, 120))
        )


def _key_level(city: City, total: Decimal) -> str:
    rng, t = city.rng, float(total)
    if t >= 300000:
        weights = {KeyLevel.PROVINCE: 80, KeyLevel.CITY: 20}
    elif t >= 100000:
        weights = {KeyLevel.PROVINCE: 25, KeyLevel.CITY: 60, KeyLevel.COUNTY: 15}
    elif t >= 30000:
        weights = {KeyLevel.PROVINCE: 4, KeyLevel.CITY: 45, KeyLevel.COUNTY: 40, KeyLevel.NONE: 11}
    elif t >= 5000:
        weights = {KeyLevel.CITY: 12, KeyLevel.COUNTY: 50, KeyLevel.NONE: 38}
    else:
        weights = {KeyLevel.COUNTY: 30, KeyLevel.NONE: 70}
    return _weighted(rng, weights)


def _funding(city: City, total: Decimal, owner_kind: str, industry: str) -> dict[str, Decimal]:
    """Sources of the total investment; most projects fully identified, some partly."""
    rng = city.rng
    shares: dict[str, float] = {}
    if owner_kind in PUBLIC_OWNERS:
        if industry.startswith(("infra", "social", "eco")) and rng.random() < 0.35:
            shares[FundingSource.CENTRAL_BUDGET] = rng.uniform(0.05, 0.2)
        if industry in ("infra-transport", "infra-water", "urban-renewal") and rng.random() < 0.3:
            shares[FundingSource.ULTRA_LONG_BOND] = rng.uniform(0.1, 0.3)
        if rng.random() < 0.45:
            shares[FundingSource.SPECIAL_BOND] = rng.uniform(0.2, 0.5)
        if rng.random() < 0.06:
            shares[FundingSource.POLICY_FINANCE] = rng.uniform(0.1, 0.25)
        if rng.random() < 0.4:
            shares[FundingSource.BANK_LOAN] = rng.uniform(0.15, 0.4)
        used = sum(shares.values())
        if used > 0.9:
            shares = {k: v * 0.9 / used for k, v in shares.items()}
        shares[FundingSource.FISCAL] = 1 - sum(shares.values())
    else:
        own = rng.uniform(0.3, 0.7) if rng.random() < 0.75 else 1.0
        shares[FundingSource.SELF_RAISED] = own
        if own < 1:
            if rng.random() < 0.08:
                shares[FundingSource.POLICY_FINANCE] = (1 - own) * 0.4
            shares[FundingSource.BANK_LOAN] = 1 - sum(shares.values())
    covered = total if rng.random() < 0.88 else _wan(float(total) * rng.uniform(0.6, 0.95))
    out: dict[str, Decimal] = {}
    remaining = covered
    items = list(shares.items())
    for source, share in items[:-1]:
        amount = min(remaining, Decimal(int(float(covered) * share)))
        if amount > 0:
            out[source] = amount
            remaining -= amount
    if remaining > 0:
        out[items[-1][0]] = remaining
    return out


def _tags(city: City, plan: Plan) -> set[str]:
    rng = city.rng
    spec = data.INDUSTRIES[plan.industry]
    tags = {t for t in spec.get("tags", []) if rng.random() < 0.6}
    names = {
        FundingSource.CENTRAL_BUDGET: "中央预算内投资项目",
        FundingSource.ULTRA_LONG_BOND: "超长期特别国债项目",
        FundingSource.SPECIAL_BOND: "专项债券项目",
    }
    tags |= {names[s] for s in plan.funding if s in names}
    if FundingSource.ULTRA_LONG_BOND in plan.funding:
        tags.add("“两重”项目")
    if "设备更新" in tags:
        tags.add("“两新”项目")
    if (
        plan.industry in ("infra-water", "industry-agri")
        and plan.owner_kind == "platform"
        and rng.random() < 0.15
    ):
        tags.add("以工代赈")
    return tags


def _regime(city: City, industry: str, owner_kind: str) -> str:
    """Government-funded projects are 审批类; enterprises' are 核准类 or 备案类 by industry."""
    if owner_kind in PUBLIC_OWNERS:
        return ApprovalRegime.APPROVAL
    _approval, verification, filing = data.INDUSTRIES[industry]["regime"]
    if verification + filing == 0:
        return ApprovalRegime.FILING
    return city.rng.choices(
        (ApprovalRegime.VERIFICATION, ApprovalRegime.FILING), weights=(verification, filing)
    )[0]


def _code(city: City, p: Project) -> str | None:
    """National project code YYYY-RRRRRR-DD-TT-NNNNNN for projects registered on the online
    approval platform (most beyond 谋划)."""
    rng = city.rng
    chance = {Stage.CONCEIVED: 0.0, Stage.RESERVED: 0.5}.get(p.stage, 0.96)
    if rng.random() >= chance:
        return None
    first = p.actual_start_date.year if p.actual_start_date else p.start_year or city.year
    year = min(first, city.year) - rng.choice((0, 0, 1))
    dd = city.industry_codes[p.industry.code]
    tt = {ApprovalRegime.APPROVAL: "01", ApprovalRegime.VERIFICATION: "02", ApprovalRegime.FILING: "03"}[
        p.approval_regime
    ]
    while True:
        code = f"{year}-{p.region.code}-{dd}-{tt}-{rng.randint(1, 999999):06d}"
        if code not in city.used_codes:
            city.used_codes.add(code)
            return code


def _package_leader(city: City, plan: Plan) -> Person | None:
    rng = city.rng
    p = plan.project
    if plan.key_level in (KeyLevel.PROVINCE, KeyLevel.CITY) and rng.random() < 0.9:
        if p.total_investment >= 500000:
            return city.leaders[rng.choice(("mayor", "executive"))]
        dept = p.responsible_department.short_name
        for key, _pos, _portfolio, depts in data.LEADERS:
            if dept in depts:
                return city.leaders[key]
        return city.leaders["executive"]
    if plan.key_level == KeyLevel.COUNTY and p.region.code in city.county_heads and rng.random() < 0.6:
        return city.county_heads[p.region.code]
    return None


def _responsible(city: City, industry: str) -> Unit:
    for short, _name, sectors, _title in data.DEPARTMENTS:
        if industry in sectors:
            return city.departments[short]
    return city.departments["市发改委"]


def _project(
    city: City,
    *,
    region: Region,
    industry: str,
    stage: str,
    total: Decimal | None = None,
    owner: Unit | None = None,
    item: tuple | None = None,
) -> Plan:
    rng = city.rng
    spec = data.INDUSTRIES[industry]
    if owner is None:
        owner, owner_kind = _owner(city, region, industry, spec)
    else:
        owner_kind = "energy" if owner.name in data.ENERGY_COMPANIES else "platform"
    total = total if total is not None else _total(city, industry)
    sector = city.sectors[industry]
    lon, lat = _coordinates(city, region)
    title, content, town = _describe(city, region, industry, owner, owner_kind, total, item)
    p = Project(
        name=title,
        owner_unit=owner,
        region=region,
        address=_address(city, region, industry, town),
        longitude=lon,
        latitude=lat,
        sector=city.sectors[city.category_of[industry]],
        industry=sector,
        content=content,
        approval_regime=_regime(city, industry, owner_kind),
        total_investment=total,
        is_private_investment=owner_kind == "private",
        is_high_tech=rng.random() < spec.get("high_tech", 0),
        responsible_department=_responsible(city, industry),
        contact_name=_person_name(rng),
        contact_phone=_phone(rng),
    )
    _schedule(city, p, stage)
    plan = Plan(project=p, industry=industry, owner_kind=owner_kind, key_level=_key_level(city, total))
    p.code = _code(city, p)
    p.package_leader = _package_leader(city, plan)
    group = city.industry_group.get(industry)
    if group and (plan.key_level in (KeyLevel.PROVINCE, KeyLevel.CITY) or rng.random() < 0.25):
        p.work_group = city.work_groups[group]
    plan.funding = _funding(city, total, owner_kind, industry)
    plan.tags = _tags(city, plan)
    return plan


def _flagships(city: City) -> list[Plan]:
    y = city.year
    stages = [
        Stage.CONSTRUCTION,
        Stage.CONSTRUCTION,
        Stage.CONSTRUCTION,
        Stage.PREPARING,
        Stage.CONSTRUCTION,
        Stage.SIGNED,
    ]
    plans = []
    for (name, industry, code, total, owner, content), stage in zip(data.FLAGSHIPS, stages, strict=True):
        plan = _project(
            city,
            region=city.regions[code],
            industry=industry,
            stage=stage,
            total=Decimal(total),
            owner=city.units[owner],
            item=(name, content, {}),
        )
        p = plan.project
        plan.key_level = KeyLevel.PROVINCE
        p.package_leader = city.leaders["mayor" if total > 800000 else "executive"]
        p.work_group = city.work_groups[city.industry_group.get(industry, "general")]
        if stage == Stage.CONSTRUCTION and p.end_year < y + 1:
            p.end_year = y + 2
            p.planned_completion_date = date(y + 2, 12, 31)
        plans.append(plan)
    return plans


def _package(city: City, spec: tuple, children_count: int) -> Plan:
    """A city-level package whose sub-projects are carried out by counties; its total and each
    year's plan are the sums of theirs."""
    rng = city.rng
    name, industry, owner_name, item = spec
    counties = [city.regions[c[0]] for c in data.COUNTIES if c[3] != RegionKind.ZONE]
    children = []
    for region in rng.sample(counties, children_count):
        stage = rng.choice((Stage.CONSTRUCTION, Stage.CONSTRUCTION, Stage.CONSTRUCTION, Stage.PREPARING))
        child = _project(
            city,
            region=region,
            industry=industry,
            stage=stage,
            owner=_platform_owner(city, region, data.INDUSTRIES[industry].get("platform", "城投")),
            item=item,
            total=_wan(data.INDUSTRIES[industry]["median"] * rng.uniform(0.4, 1.2)),
        )
        child.key_level = KeyLevel.COUNTY
        children.append(child)
    if not any(c.project.actual_start_date for c in children):
        _schedule(city, children[0].project, Stage.CONSTRUCTION)
    total = sum((c.project.total_investment for c in children), ZERO)
    plan = _project(
        city,
        region=city.city,
        industry=industry,
        stage=Stage.CONSTRUCTION,
        total=total,
        owner=city.units[owner_name],
        item=(name, f"打包实施，含{len(children)}个子项目，分别由各县市区组织实施。", {}),
    )
    p = plan.project
    p.is_package = True
    p.code = None
    p.actual_start_date = min(c.project.actual_start_date for c in children if c.project.actual_start_date)
    p.planned_start_date = min(c.project.planned_start_date or p.actual_start_date for c in children)
    p.start_year = min(c.project.start_year for c in children)
    p.end_year = max(c.project.end_year for c in children)
    p.planned_completion_date = max(
        c.project.planned_completion_date or date(p.end_year, 12, 31) for c in children
    )
    plan.key_level = KeyLevel.CITY
    plan.funding = {}
    plan.tags = set()
    plan.children = children
    return plan


def build_projects(city: City, count: int) -> None:
    """Flagships, packaged projects and ordinary projects until there are `count` rows."""
    rng = city.rng
    plans: list[Plan] = []
    if count >= 60:
        plans += _flagships(city)
    packages = min(len(data.PACKAGES), count // 100)
    for spec in data.PACKAGES[:packages]:
        plans.append(_package(city, spec, rng.randint(3, 6)))
    rows = sum(1 + len(p.children) for p in plans)
    while rows < count:
        region = _pick_region(city)
        industry = _pick_industry(city, region)
        plans.append(
            _project(city, region=region, industry=industry, stage=_weighted(rng, data.STAGE_WEIGHTS))
        )
        rows += 1
    city.plans = plans
    save_units(city)
    Project.objects.bulk_create([p.project for p in plans], batch_size=BATCH)
    for plan in plans:
        for child in plan.children:
            child.project.parent = plan.project
    Project.objects.bulk_create([c.project for p in plans for c in p.children], batch_size=BATCH)
    ProjectFunding.objects.bulk_create(
        [
            ProjectFunding(project=plan.project, source=source, amount=amount)
            for plan in city.all_plans()
            for source, amount in plan.funding.items()
        ],
        batch_size=BATCH,
    )
    through = Project.tags.through
    through.objects.bulk_create(
        [
            through(project_id=plan.project.pk, tag_id=city.tags[name].pk)
            for plan in city.all_plans()
            for name in sorted(plan.tags)
        ],
        batch_size=BATCH,
    )


# --- annual listings ----------------------------------------------------------------------


def _target(city: City, p: Project, year: int, new_start: bool) -> str:
    if new_start:
        return f"{year}年{city.rng.randint(3, 9)}月底前开工建设，完成场地平整及基础工程。"
    if p.end_year == year:
        return f"{year}年底前完成全部建设内容并竣工验收。"
    return f"完成主体工程{city.rng.choice((30, 40, 50, 60, 70, 80))}%，完成年度投资计划。"


def _listing(city: City, plan: Plan, year: int) -> AnnualListing | None:
    """This project's place in `year`'s lists, from its dates and stage; None if not listed."""
    rng = city.rng
    p = plan.project
    total = float(p.total_investment)
    started, done = p.actual_start_date, p.actual_completion_date
    planned = p.planned_start_date
    building = started and started.year <= year and (done is None or done.year >= year)
    if building:
        new_start = started.year == year
        if done and done.year == year:
            share = rng.uniform(0.04, 0.15) if year == city.year else rng.uniform(0.1, 0.35)
        elif new_start:
            share = rng.uniform(0.18, 0.38)
        else:
            share = rng.uniform(0.3, 0.55)
        kind = ListKind.CONSTRUCTION
    elif not started and planned and planned.year == year and p.stage in (Stage.SIGNED, Stage.PREPARING):
        new_start, share, kind = True, rng.uniform(0.1, 0.3), ListKind.CONSTRUCTION
    elif (started and started.year > year) or (not started and p.start_year and p.start_year > year):
        if p.stage == Stage.CONCEIVED and rng.random() < 0.4:
            return None
        if year < city.year and rng.random() < 0.4:
            return None
        new_start, share, kind = False, rng.uniform(0, 0.02), ListKind.RESERVE
    else:
        return None
    if kind == ListKind.CONSTRUCTION:
        key = plan.key_level
    else:
        key = (
            plan.key_level
            if plan.key_level in (KeyLevel.PROVINCE, KeyLevel.CITY) and rng.random() < 0.5
            else ""
        )
    return AnnualListing(
        project=p,
        year=year,
        list_kind=kind,
        key_level=key,
        planned_investment=_wan(total * share) if share > 0.001 else ZERO,
        planned_start=planned if new_start else None,
        planned_completion=p.planned_completion_date if p.end_year == year else None,
        is_new_start=new_start,
        target=_target(city, p, year, new_start)
        if kind == ListKind.CONSTRUCTION
        else "完善前期手续，争取纳入年度建设计划。",
    )


def _cap(listings: dict[int, AnnualListing], total: Decimal) -> None:
    """Plans over the years never exceed the total investment."""
    spent = ZERO
    for year in sorted(listings):
        listing = listings[year]
        listing.planned_investment = min(listing.planned_investment, max(total - spent, ZERO))
        spent += listing.planned_investment


def build_listings(city: City) -> None:
    """Last year's and this year's lists: reserve vs annual construction, key levels, plans."""
    rows: list[AnnualListing] = []
    for plan in city.plans:
        for child in plan.children:
            for year in (city.year - 1, city.year):
                listing = _listing(city, child, year)
                if listing:
                    child.listings[year] = listing
            _cap(child.listings, child.project.total_investment)
        if plan.children:
            _package_listings(city, plan)
        else:
            for year in (city.year - 1, city.year):
                listing = _listing(city, plan, year)
                if listing:
                    plan.listings[year] = listing
            _cap(plan.listings, plan.project.total_investment)
        for p in (plan, *plan.children):
            rows += p.listings.values()
    AnnualListing.objects.bulk_create(rows, batch_size=BATCH)


def _package_listings(city: City, plan: Plan) -> None:
    """A package's listing for a year sums its sub-projects' listings that year."""
    for year in (city.year - 1, city.year):
        parts = [c.listings[year] for c in plan.children if year in c.listings]
        if not parts:
            continue
        construction = [x for x in parts if x.list_kind == ListKind.CONSTRUCTION]
        plan.listings[year] = AnnualListing(
            project=plan.project,
            year=year,
            list_kind=ListKind.CONSTRUCTION if construction else ListKind.RESERVE,
            key_level=KeyLevel.CITY,
            planned_investment=sum((x.planned_investment for x in parts), ZERO),
            planned_start=min((x.planned_start for x in parts if x.planned_start), default=None),
            planned_completion=max(
                (x.planned_completion for x in parts if x.planned_completion), default=None
            ),
            is_new_start=all(x.is_new_start for x in parts),
            target="各子项目按年度计划推进。",
        )


# --- campaigns ----------------------------------------------------------------------------


def _campaign(city: City, kind: str, name: str, year: int, on: date, issue: int | None = None) -> Campaign:
    campaign = Campaign(kind=kind, name=f"{CAMPAIGN_PREFIX}{name}", year=year, issue_no=issue, event_date=on)
    city.campaigns.append(campaign)
    return campaign


def build_campaigns(city: City) -> None:
    """三个一批 (several 期 a year, sign/start/produce), 三早, 集中开工, 冬季不停工, whitelists."""
    rng, y = city.rng, city.year
    members: list[tuple[Campaign, Project, str]] = []
    issue_dates = {y - 1: [(3, 28), (6, 26), (9, 25), (12, 20)], y: [(2, 26), (5, 28)]}
    for year, dates in issue_dates.items():
        issues = [
            _campaign(
                city,
                CampaignKind.THREE_BATCHES,
                f"{year}年第{_cn(i)}期“三个一批”项目",
                year,
                date(year, m, d),
                i,
            )
            for i, (m, d) in enumerate(dates, start=1)
        ]

        def issue_for(day: date, issues=issues) -> Campaign:
            for campaign in issues:
                if day <= campaign.event_date:
                    return campaign
            return issues[-1]

        for plan in city.plans:
            p = plan.project
            industrial = plan.industry.startswith("industry") or plan.owner_kind == "private"
            if p.actual_start_date and p.actual_start_date.year == year and rng.random() < 0.55:
                members.append((issue_for(p.actual_start_date), p, BatchKind.START))
            elif p.actual_completion_date and p.actual_completion_date.year == year and industrial:
                if rng.random() < 0.6:
                    members.append((issue_for(p.actual_completion_date), p, BatchKind.PRODUCE))
            elif (
                industrial
                and rng.random() < 0.6
                and (
                    (year == y and p.stage == Stage.SIGNED)
                    or (year == y - 1 and p.actual_start_date and p.actual_start_date.year == y)
                )
            ):
                members.append((rng.choice(issues), p, BatchKind.SIGN))
    early = _campaign(
        city, CampaignKind.THREE_EARLY, f"{y}年“三早”项目（早开工、早投产、早见效）", y, date(y, 1, 20)
    )
    spring = _campaign(
        city, CampaignKind.CONCENTRATED_START, f"{y - 1}年春季重大项目集中开工活动", y - 1, date(y - 1, 3, 18)
    )
    autumn = _campaign(
        city, CampaignKind.CONCENTRATED_START, f"{y - 1}年秋季重大项目集中开工活动", y - 1, date(y - 1, 9, 16)
    )
    first = _campaign(
        city, CampaignKind.CONCENTRATED_START, f"{y}年第一季度重大项目集中开工活动", y, date(y, 2, 26)
    )
    winter = _campaign(city, CampaignKind.WINTER, f"{y - 1}—{y}年冬季不停工项目", y - 1, date(y - 1, 11, 15))
    finance = _campaign(city, CampaignKind.WHITELIST_FINANCE, f"{y}年重点项目融资白名单", y, date(y, 3, 10))
    four = _campaign(city, CampaignKind.WHITELIST_FOUR, f"{y}年“四保”白名单项目", y, date(y, 3, 10))
    for plan in city.plans:
        p = plan.project
        start = p.actual_start_date
        this_year = plan.listings.get(y)
        if this_year and this_year.is_new_start and rng.random() < 0.5:
            members.append((early, p, ""))
        if start and start.year == y - 1 and rng.random() < 0.5:
            members.append((spring if start.month <= 6 else autumn, p, ""))
        if start and start.year == y and rng.random() < 0.7:
            members.append((first, p, ""))
        if start and start < date(y - 1, 11, 1) and p.stage == Stage.CONSTRUCTION and rng.random() < 0.4:
            members.append((winter, p, ""))
        if (
            FundingSource.BANK_LOAN in plan.funding
            and p.stage in (Stage.PREPARING, Stage.SIGNED, Stage.CONSTRUCTION)
            and rng.random() < 0.4
        ):
            members.append((finance, p, ""))
        if this_year and this_year.key_level and p.stage == Stage.CONSTRUCTION and rng.random() < 0.3:
            members.append((four, p, ""))
    Campaign.objects.bulk_create(city.campaigns)
    seen = set()
    rows = []
    for campaign, project, batch in members:
        if (campaign.name, project.pk) in seen:
            continue
        seen.add((campaign.name, project.pk))
        rows.append(CampaignMembership(campaign=campaign, project=project, batch=batch))
    CampaignMembership.objects.bulk_create(rows, batch_size=BATCH)


# --- accounts -----------------------------------------------------------------------------


def build_accounts(city: City) -> None:
    """One account per role (several departments, every county and zone), all with the demo
    password. The password is hashed once: hashing is deliberately slow."""
    password = make_password(data.DEMO_PASSWORD)
    root = city.city
    rng = city.rng

    def account(username, role, *, unit=None, region=None, person=None, full_name=""):
        user = User(
            username=username,
            role=role,
            unit=unit,
            region=region,
            person=person,
            full_name=full_name or (person.name if person else ""),
            phone=person.phone if person else _phone(rng),
            password=password,
        )
        city.accounts.append(user)

    fgw = city.departments["市发改委"]
    account("admin", Role.CITY_ADMIN, unit=fgw, region=root, person=city.liaisons["市发改委"])
    account(
        "leader",
        Role.LEADER,
        unit=city.governments[root.code],
        region=root,
        person=city.leaders["mayor"],
    )
    for username, short in data.DEPARTMENT_ACCOUNTS:
        account(
            username, Role.DEPARTMENT, unit=city.departments[short], region=root, person=city.liaisons[short]
        )
    for code, _name, _short, _kind, login, *_rest in data.COUNTIES:
        account(
            login,
            Role.COUNTY,
            unit=city.governments[code],
            region=city.regions[code],
            person=city.liaisons[code],
        )
    owner = city.units[data.OWNER_ACCOUNT_UNIT]
    account("owner", Role.PROJECT_UNIT, unit=owner, region=owner.region, full_name=_person_name(rng))
    account("auditor", Role.AUDITOR, unit=fgw, region=root, full_name=_person_name(rng))
    User.objects.bulk_create(city.accounts)


# --- the whole city -----------------------------------------------------------------------


def current_year() -> int:
    return timezone.localdate().year


@transaction.atomic
def build_demo(projects: int = 640, seed: int = 2026, year: int | None = None, history: bool = True) -> dict:
    """Build the demo city into an empty database and return what was made. With `history`, also
    its last 24 months of dispatch reports (demo.dispatch; summarised under "dispatch")."""
    city = City(rng=random.Random(seed), year=year or current_year())
    build_regions(city)
    build_sectors(city)
    build_units(city)
    build_people(city)
    build_work_groups(city)
    build_tags(city)
    build_projects(city, projects)
    build_listings(city)
    build_campaigns(city)
    build_accounts(city)
    made = dispatch.build_dispatch(city) if history else None
    ledgers = build_ledgers(city) if history else None
    counts = summary(city.year)
    if made:
        counts["dispatch"] = made
    if ledgers:
        counts["ledgers"] = ledgers
    return counts


def build_ledgers(city: City) -> dict:
    """The approvals, funds and problem ledgers (demo.approvals, demo.funds, demo.problems),
    which read the dispatch history. Returns their counts and the seconds they took."""
    from . import alerts, approvals, funds, problems

    started = time.monotonic()
    made = {
        "approvals": approvals.build_approvals(city),
        "funds": funds.build_funds(city),
        "problems": problems.build_problems(city),
    }
    made["warnings"] = alerts.build_warnings(city)  # the lights read all of the above
    made["seconds"] = time.monotonic() - started
    return made


def summary(year: int) -> dict:
    """Counts and money (万元) of the demo city as it is in the database."""
    root = Region.objects.get(code=data.CITY["code"])
    projects = Project.objects.filter(region__path__startswith=root.path)
    countable = projects.filter(is_package=False)
    listings = AnnualListing.objects.filter(project__in=countable)
    return {
        "year": year,
        "regions": root.children.count(),
        "departments": Unit.objects.filter(kind=UnitKind.DEPARTMENT, region=root).count(),
        "units": Unit.objects.filter(region__path__startswith=root.path).count(),
        "owners": Unit.objects.filter(owned_projects__in=projects).distinct().count(),
        "people": Person.objects.filter(unit__region__path__startswith=root.path).count(),
        "work_groups": WorkGroup.objects.filter(lead_unit__region=root).count(),
        "projects": projects.count(),
        "packages": projects.filter(is_package=True).count(),
        "sub_projects": projects.filter(parent__isnull=False).count(),
        "listings": AnnualListing.objects.filter(project__in=projects).count(),
        "campaigns": Campaign.objects.filter(name__startswith=CAMPAIGN_PREFIX).count(),
        "memberships": CampaignMembership.objects.filter(project__in=projects).count(),
        "accounts": demo_accounts().count(),
        "total_investment": countable.aggregate(s=Sum("total_investment"))["s"] or ZERO,
        "planned_investment": listings.filter(year=year).aggregate(s=Sum("planned_investment"))["s"] or ZERO,
        "planned_investment_last_year": listings.filter(year=year - 1).aggregate(s=Sum("planned_investment"))[
            "s"
        ]
        or ZERO,
    }


def demo_usernames() -> list[str]:
    return [
        "admin",
        "leader",
        *[u for u, _ in data.DEPARTMENT_ACCOUNTS],
        *[c[4] for c in data.COUNTIES],
        "owner",
        "auditor",
    ]


def demo_accounts():
    return User.objects.filter(username__in=demo_usernames())


def demo_exists() -> bool:
    return Region.objects.filter(code=data.CITY["code"]).exists()


@transaction.atomic
def clear_demo() -> None:
    """Delete the demo city: its projects (with everything hanging off them), campaigns, accounts,
    work groups, people, units and regions; categories and tags only where nothing else uses them."""
    root = Region.objects.filter(code=data.CITY["code"]).first()
    if root is None:
        return
    regions = Region.objects.filter(path__startswith=root.path)
    units = Unit.objects.filter(region__in=regions)
    projects = Project.objects.filter(Q(region__in=regions) | Q(owner_unit__in=units))
    from .alerts import clear_warnings
    from .problems import clear_problems

    clear_warnings(regions)
    clear_problems(projects)
    projects.filter(parent__isnull=False).delete()
    projects.delete()
    dispatch.clear_dispatch()
    Campaign.objects.filter(name__startswith=CAMPAIGN_PREFIX, memberships__isnull=True).delete()
    User.objects.filter(Q(unit__in=units) | Q(region__in=regions) | Q(username__in=demo_usernames())).delete()
    WorkGroup.objects.filter(lead_unit__in=units).delete()
    Person.objects.filter(unit__in=units).delete()
    units.delete()
    for region in sorted(regions, key=lambda r: -r.depth):
        region.delete()
    province = Region.objects.filter(code=data.PROVINCE["code"]).first()
    if (
        province
        and not province.children.exists()
        and not province.units.exists()
        and not province.projects.exists()
    ):
        province.delete()
    Tag.objects.filter(name__in=data.TAGS, projects__isnull=True).delete()
    industry_codes = [code for _c, _n, children in data.SECTORS for code, *_ in children]
    Sector.objects.filter(
        code__in=industry_codes, projects__isnull=True, industry_projects__isnull=True
    ).delete()
    Sector.objects.filter(
        code__in=[c for c, _n, _ch in data.SECTORS],
        projects__isnull=True,
        industry_projects__isnull=True,
        children__isnull=True,
    ).delete()
