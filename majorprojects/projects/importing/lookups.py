"""What ledger rows are matched against, loaded once per plan: regions (name, short name, name
without 市/县/区, division code), categories and industries, units, people, work groups and the
packages the importing account may change."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from majorprojects.accounts.scope import allowed_regions, changeable_projects
from majorprojects.core.text import compact, normalize
from majorprojects.organisation.models import Person, Region, Sector, Unit, UnitKind, WorkGroup

from ..models import Project
from . import values


def sector_key(name: str) -> str:
    key = compact(name)
    for suffix in ("项目", "类", "领域"):
        key = key.removesuffix(suffix) or key
    return key


def region_loose(name: str) -> str:
    key = compact(name)
    return key[:-1] if len(key) > 2 and key[-1] in "市县区" else key


class Lookups:
    """Everything rows are matched against, loaded once per plan."""

    def __init__(self, actor):
        self.actor = actor
        regions = list(Region.objects.all())
        self.regions = {r.pk: r for r in regions}
        self.allowed = set(allowed_regions(actor).values_list("pk", flat=True))
        self.region_exact: dict[str, set[int]] = defaultdict(set)
        self.region_loose: dict[str, set[int]] = defaultdict(set)
        for r in regions:
            for key in (r.name, r.short_name, r.code):
                if key:
                    self.region_exact[compact(key)].add(r.pk)
            for key in (r.name, r.short_name):
                if key:
                    self.region_loose[region_loose(key)].add(r.pk)
        sectors = list(Sector.objects.select_related("parent"))
        self.sectors = defaultdict(list)
        self.industries = defaultdict(list)
        for s in sectors:
            (self.industries if s.parent_id else self.sectors)[sector_key(s.name)].append(s)
        self.units = defaultdict(list)
        for u in Unit.objects.select_related("region").order_by("-is_active", "pk"):
            self.units[compact(u.name)].append(u)
        self.people = defaultdict(list)
        for p in Person.objects.order_by("-is_leader", "pk"):
            self.people[compact(p.name)].append(p)
        self.groups = {compact(g.name): g for g in WorkGroup.objects.all()}
        self.packages = defaultdict(list)
        for p in Project.objects.filter(is_package=True, parent__isnull=True):
            self.packages[compact(p.name)].append(p)
        # A row may name a package outside the account's scope only if it is already the parent.
        self.changeable_packages = set(
            changeable_projects(actor).filter(is_package=True).values_list("pk", flat=True)
        )
        self._category: dict[str, dict] = {}

    def region(self, value) -> Region:
        key = compact(values.text(value))  # a code typed as a number arrives as 431902.0
        ids = self.region_exact.get(key) or self.region_loose.get(region_loose(key))
        if not ids:
            raise values.CellError(f"无法识别的区域“{normalize(value)}”")
        if len(ids) > 1:
            allowed = ids & self.allowed
            if len(allowed) != 1:
                raise values.CellError(f"“{normalize(value)}”对应多个区域，请填写全称或 6 位区划代码")
            ids = allowed
        region = self.regions[next(iter(ids))]
        if region.pk not in self.allowed:
            raise values.CellError(f"“{region.name}”不在您的管辖范围内")
        return region

    def sector(self, value) -> tuple[Sector, Sector | None]:
        """(category, industry): a category name, or an industry name standing for its category."""
        key = sector_key(values.text(value))
        if self.sectors.get(key):
            return self.sectors[key][0], None
        if self.industries.get(key):
            industry = self.industries[key][0]
            return industry.parent, industry
        raise values.CellError(f"无法识别的项目类别“{normalize(value)}”")

    def industry(self, value, sector: Sector | None) -> Sector:
        candidates = self.industries.get(sector_key(values.text(value)), [])
        if not candidates:
            raise values.CellError(f"无法识别的所属行业“{normalize(value)}”")
        for c in candidates:
            if sector is not None and c.parent_id == sector.pk:
                return c
        return candidates[0]

    def unit(self, value, region: Region | None) -> Unit | None:
        candidates = self.units.get(compact(value), [])
        for u in candidates:
            if region is not None and u.region_id == region.pk:
                return u
        return candidates[0] if candidates else None

    def department(self, value) -> Unit:
        for u in self.units.get(compact(value), []):
            if u.kind == UnitKind.DEPARTMENT:
                return u
        raise values.CellError(f"无法识别的责任部门“{normalize(value)}”，请先在组织机构中登记")

    def person(self, value) -> Person:
        people = self.people.get(compact(value))
        if not people:
            raise values.CellError(f"无法识别的包联领导“{normalize(value)}”，请先在组织机构中登记")
        return people[0]

    def group(self, value) -> WorkGroup:
        group = self.groups.get(compact(value))
        if group is None:
            raise values.CellError(f"无法识别的工作专班“{normalize(value)}”")
        return group

    def package(self, value) -> Project:
        packages = self.packages.get(compact(value))
        if not packages:
            raise values.CellError(f"没有找到您可修改的打包项目“{normalize(value)}”")
        if len(packages) > 1:
            changeable = [p for p in packages if p.pk in self.changeable_packages]
            if len(changeable) != 1:
                raise values.CellError(f"有多个打包项目名为“{normalize(value)}”")
            packages = changeable
        return packages[0]

    def category(self, label: str) -> dict:
        """Defaults a category row ("一、产业项目", "（一）交通", "二、青山县") gives the rows below it."""
        if label not in self._category:
            found: dict = {}
            key = sector_key(label)
            if self.sectors.get(key):
                found["sector"] = self.sectors[key][0]
            elif self.industries.get(key):
                industry = self.industries[key][0]
                found.update(sector=industry.parent, industry=industry)
            else:
                with contextlib.suppress(values.CellError):
                    found["region"] = self.region(label)
            self._category[label] = found
        return self._category[label]
