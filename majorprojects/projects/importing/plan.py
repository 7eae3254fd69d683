"""Turn a read sheet into a plan: per data row, the project to create or update (or why not).

Nothing here writes. Every row is validated the way the services will validate it (scope, model
rules, listings, stage transitions), so the preview shows every error before anything is saved,
and apply.plan_apply only has to call the services in order."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import can_manage_listings, changeable_projects
from majorprojects.core.text import compact
from majorprojects.organisation.models import Region

from .. import exports, services
from ..models import (
    STAGE_ORDER,
    AnnualListing,
    ApprovalRegime,
    KeyLevel,
    ListKind,
    Project,
    Stage,
)
from . import values
from .fields import BY_KEY, LISTING_FIELDS, match_header
from .lookups import Lookups
from .reader import Column, Record, Sheet, category_label

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
STATUS_LABELS = {CREATE: "新建", UPDATE: "更新", UNCHANGED: "无变化", ERROR: "错误"}
PREVIEW_ROWS = 2000

# Sheet fields that are plain values on Project, with their parser.
PLAIN = {
    "name": ("name", values.text),
    "code": ("code", values.project_code),
    "content": ("content", values.text),
    "address": ("address", values.text),
    "approval_regime": ("approval_regime", values.approval_regime),
    "start_year": ("start_year", values.year),
    "end_year": ("end_year", values.year),
    "planned_start_date": ("planned_start_date", values.date),
    "planned_completion_date": ("planned_completion_date", values.date),
    "contact_name": ("contact_name", values.text),
    "contact_phone": ("contact_phone", values.text),
    "private": ("is_private_investment", values.boolean),
    "high_tech": ("is_high_tech", values.boolean),
}
LISTING_PARSERS = {
    "list_kind": values.list_kind,
    "key_level": values.key_level,
    "new_start": values.new_start,
    "target": values.text,
}
# Project/listing attribute → the sheet field whose column an error should name.
ERROR_COLUMN = {
    "name": "name",
    "code": "code",
    "region": "region",
    "owner_unit": "owner_unit",
    "sector": "sector",
    "industry": "industry",
    "content": "content",
    "address": "address",
    "start_year": "years",
    "end_year": "years",
    "total_investment": "total_investment",
    "planned_start_date": "planned_start_date",
    "planned_completion_date": "planned_completion_date",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "parent": "parent",
    "planned_investment": "planned_investment",
    "is_private_investment": "private",
    "is_high_tech": "high_tech",
}
FK_FIELDS = [*services.PROJECT_FK_FIELDS, "created_by"]
_CHOICE_LABELS = {
    "approval_regime": dict(ApprovalRegime.choices),
    "list_kind": dict(ListKind.choices),
    "key_level": dict(KeyLevel.choices),
    "stage": dict(Stage.choices),
}


@dataclass
class RowPlan:
    row: int
    name: str = ""
    status: str = ERROR
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    project: Project | None = None
    version: int | None = None
    fields: dict = field(default_factory=dict)
    tags: list[str] | None = None
    listing: dict | None = None
    transitions: list[tuple[str, dt.date | None]] = field(default_factory=list)
    backwards: bool = False
    new_unit: tuple[str, int] | None = None
    region: str = ""
    owner: str = ""
    total: Decimal | None = None

    def summary(self) -> dict:
        return {
            "row": self.row,
            "name": self.name,
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "errors": self.errors,
            "changes": self.changes,
            "region": self.region,
            "owner": self.owner,
            "total": None if self.total is None else str(self.total),
            "project": self.project.pk if self.project else None,
        }


@dataclass
class Plan:
    year: int
    sheet: Sheet
    rows: list[RowPlan]
    problems: list[str]
    notices: list[str]
    new_units: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.errors for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUS_LABELS}
        for r in self.rows:
            counts[r.status] += 1
        counts["skipped"] = self.sheet.skipped
        return counts

    def messages(self) -> list[str]:
        return [*self.problems, *(e for r in self.rows for e in r.errors)]

    def summary(self) -> dict:
        """What the preview shows, kept in ImportBatch.result (JSON)."""
        sheet = self.sheet
        return {
            "year": self.year,
            "sheet": sheet.name,
            "sheets": sheet.sheet_names,
            "title": sheet.title,
            "unit": sheet.unit_label,
            "header_row": sheet.header_row,
            "header_rows": sheet.header_rows,
            "columns": [
                {
                    "letter": c.letter,
                    "header": c.header,
                    "field": c.field or "",
                    "detected": c.detected or "",
                    "label": BY_KEY[c.field].label if c.field else "",
                }
                for c in sheet.columns
            ],
            "ok": self.ok,
            "counts": self.counts,
            "problems": self.problems,
            "errors": self.messages(),
            "notices": self.notices,
            "new_units": self.new_units,
            "rows": [r.summary() for r in self.rows[:PREVIEW_ROWS]],
            "rows_total": len(self.rows),
        }


def _missing(record: Record, column: Column | None, label: str) -> str:
    if column is None:
        return f"第 {record.row} 行：缺少「{label}」"
    return f"第 {record.row} 行「{column.header}」：不能为空"


def _cell_error(record: Record, column: Column | None, message: str) -> str:
    if column is None:
        return f"第 {record.row} 行：{message}"
    return f"第 {record.row} 行「{column.header}」：{message}"


def _show(name: str, value) -> str:
    if value is None or value == "":
        return "（空）"
    if name in _CHOICE_LABELS:
        return _CHOICE_LABELS[name].get(value, str(value)) or "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(value) or "（空）"
    text = str(value)
    return text if len(text) <= 30 else text[:30] + "…"


def _same(old, new) -> bool:
    if isinstance(old, Model) or isinstance(new, Model):
        return getattr(old, "pk", None) == getattr(new, "pk", None)
    return old == new


@dataclass
class _Parsed:
    record: Record
    row: RowPlan
    mapped: dict[str, Column]
    want: dict = field(default_factory=dict)
    listing: dict = field(default_factory=dict)
    stage: str | None = None
    actual_start: dt.date | None = None
    actual_completion: dt.date | None = None
    years_text: str | None = None
    owner_name: str = ""
    # From the category rows above ("一、产业项目", "（一）交通", "二、青山县"): new projects only.
    defaults: dict = field(default_factory=dict)


def resolve_year(sheet: Sheet, requested: int | None) -> tuple[int, list[str]]:
    """The listing year: asked for, else written in the header or the title, else this year."""
    problems = []
    if sheet.header_year and requested and sheet.header_year != requested:
        column = next(c for c in sheet.columns if c.field and match_header(c.header).year)
        problems.append(
            f"表头「{column.header}」是 {sheet.header_year} 年的数据，与导入年度 {requested} 年不一致，"
            f"请把年度改为 {sheet.header_year} 年。"
        )
    return requested or sheet.header_year or sheet.title_year or timezone.localdate().year, problems


def build_plan(sheet: Sheet, *, actor, year: int | None = None) -> Plan:
    year, problems = resolve_year(sheet, year)
    problems = [*sheet.problems, *problems]
    lookups = Lookups(actor)
    notices = _notices(sheet, actor)
    manage_listings = can_manage_listings(actor)
    parsed = [_parse(record, sheet, lookups, manage_listings) for record in sheet.records]
    if actor.role == Role.PROJECT_UNIT and actor.unit_id:
        for p in parsed:  # a project unit's ledger is about its own projects
            p.owner_name = p.owner_name or actor.unit.name
    existing = _existing(parsed, year, lookups)
    changeable = set(
        changeable_projects(actor)
        .filter(pk__in=[p.pk for p in existing.values()])
        .values_list("pk", flat=True)
    )
    by_code = {p.code: p for p in existing.values() if p.code}
    by_owner_name = {(compact(p.owner_unit.name), compact(p.name)): p for p in existing.values()}
    seen: dict[tuple, int] = {}
    new_units: dict[tuple[str, int], str] = {}
    default_kind = (
        ListKind.RESERVE if "储备" in sheet.title and "建设" not in sheet.title else ListKind.CONSTRUCTION
    )
    for p in parsed:
        if not _match(p, by_code, by_owner_name, changeable, seen):
            continue
        _compare(p, year, actor, lookups, default_kind, by_code)
        if p.row.new_unit and not p.row.errors:
            new_units[p.row.new_unit] = f"{p.row.new_unit[0]}（{lookups.regions[p.row.new_unit[1]].name}）"
    rows = [p.row for p in parsed]
    for r in rows:
        if r.errors:
            r.status = ERROR
    if new_units:
        notices.append("将新建单位：" + "、".join(new_units.values()))
    if not sheet.records and not problems:
        problems.append("表中没有可导入的项目行。")
    return Plan(
        year=year,
        sheet=sheet,
        rows=rows,
        problems=problems,
        notices=notices,
        new_units=list(new_units.values()),
    )


def _notices(sheet: Sheet, actor) -> list[str]:
    notices = []
    ignored = [c.header for c in sheet.columns if not c.field]
    if ignored:
        notices.append("以下列不导入：" + "、".join(f"「{h}」" for h in ignored))
    if sheet.unit_label == "亿元":
        notices.append("表中注明“单位：亿元”，未写单位的金额按亿元换算为万元。")
    listing_columns = [c.header for k, c in sheet.mapped.items() if k in LISTING_FIELDS]
    if listing_columns and not can_manage_listings(actor):
        notices.append(
            "年度清单由县市区、行业部门或市级管理员维护，您的账号导入时不处理这些列："
            + "、".join(f"「{h}」" for h in listing_columns)
        )
    return notices


def _parse(record: Record, sheet: Sheet, lookups: Lookups, manage_listings: bool) -> _Parsed:
    """Read each cell of one row; reference columns are resolved against the lookups."""
    row = RowPlan(row=record.row)
    p = _Parsed(record=record, row=row, mapped=sheet.mapped)
    cells = record.cells

    def read(key, parser, *args):
        value, column = cells[key]
        try:
            return parser(value, *args)
        except values.CellError as exc:
            row.errors.append(_cell_error(record, column, exc.message))
            return None

    for key, (attr, parser) in PLAIN.items():
        if key in cells:
            value = read(key, parser)
            if value not in (None, ""):
                p.want[attr] = value
    row.name = p.want.get("name", "")
    if "years" in cells:
        years = read("years", values.year_range)
        if years:
            p.want.setdefault("start_year", years[0])
            p.want.setdefault("end_year", years[1])
            p.years_text = values.text(cells["years"][0])
    if "total_investment" in cells:
        total = read("total_investment", values.amount, cells["total_investment"][1].unit or sheet.unit)
        if total is not None:
            p.want["total_investment"] = total
    if "tags" in cells:
        p.want["tags"] = values.tags(cells["tags"][0])
    if "stage" in cells:
        p.stage = read("stage", values.stage)
    if "actual_start_date" in cells:
        p.actual_start = read("actual_start_date", values.date)
    if "actual_completion_date" in cells:
        p.actual_completion = read("actual_completion_date", values.date)
    if manage_listings:
        if "planned_investment" in cells:
            column = cells["planned_investment"][1]
            plan = read("planned_investment", values.amount, column.unit or sheet.unit)
            if plan is not None:
                p.listing["planned_investment"] = plan
        for key, parser in LISTING_PARSERS.items():
            if key in cells:
                value = read(key, parser)
                if value is not None:
                    p.listing[{"new_start": "is_new_start"}.get(key, key)] = value
    if not row.name and "name" in sheet.mapped and "name" not in cells:
        row.errors.append(_missing(record, sheet.mapped["name"], "项目名称"))
    _references(p, sheet, lookups)
    return p


def _references(p: _Parsed, sheet: Sheet, lookups: Lookups) -> None:
    record, row, cells = p.record, p.row, p.record.cells
    defaults: dict = {}
    for label in record.category:
        defaults.update(lookups.category(category_label(label)))

    def resolve(key, fn, *args):
        value, column = cells[key]
        try:
            return fn(value, *args)
        except values.CellError as exc:
            row.errors.append(_cell_error(record, column, exc.message))
            return None

    if "region" in cells:
        region = resolve("region", lookups.region)
        if region:
            p.want["region"] = region
    elif defaults.get("region"):
        p.defaults["region"] = defaults["region"]
    sector = industry = None
    if "sector" in cells:
        found = resolve("sector", lookups.sector)
        if found:
            sector, industry = found
    if "industry" in cells:
        industry = resolve("industry", lookups.industry, sector) or industry
    if sector is None and industry is None:
        p.defaults.update({k: defaults[k] for k in ("sector", "industry") if k in defaults})
    if industry is not None and sector is None:
        sector = industry.parent
    if industry is not None and sector is not None and industry.parent_id != sector.pk:
        column = cells.get("industry", (None, sheet.mapped.get("industry")))[1]
        row.errors.append(
            _cell_error(record, column, f"所属行业“{industry.name}”不属于项目类别“{sector.name}”")
        )
    if sector is not None:
        p.want["sector"] = sector
    if industry is not None:
        p.want["industry"] = industry
    if "owner_unit" in cells:
        p.owner_name = values.text(cells["owner_unit"][0])
        if len(p.owner_name) > 100:
            row.errors.append(_cell_error(record, cells["owner_unit"][1], "单位名称超过 100 个字"))
    for key, fn, attr in (
        ("responsible_department", lookups.department, "responsible_department"),
        ("package_leader", lookups.person, "package_leader"),
        ("work_group", lookups.group, "work_group"),
        ("parent", lookups.package, "parent"),
    ):
        if key in cells:
            found = resolve(key, fn)
            if found is not None:
                p.want[attr] = found


def _existing(parsed: list[_Parsed], year: int, lookups: Lookups) -> dict[int, Project]:
    """Projects a row could be about: same code, or owned by a unit named in the file. Each carries
    its listing for the year as `import_listing`."""
    codes = {p.want["code"] for p in parsed if p.want.get("code")}
    unit_ids = {u.pk for p in parsed if p.owner_name for u in lookups.units.get(compact(p.owner_name), [])}
    if not codes and not unit_ids:
        return {}
    projects = (
        Project.objects.filter(Q(code__in=codes) | Q(owner_unit_id__in=unit_ids))
        .select_related("owner_unit", "region", "sector", "industry", "parent")
        .prefetch_related("tags")
    )
    found = {p.pk: p for p in projects}
    for p in found.values():
        p.import_listing = None
    for listing in AnnualListing.objects.filter(project_id__in=found, year=year):
        found[listing.project_id].import_listing = listing
    return found


def _match(p: _Parsed, by_code, by_owner_name, changeable: set[int], seen: dict) -> bool:
    """Find the project the row is about (code first, then name + owner). False for a row that
    repeats an earlier one or is about a project the account may not change."""
    row, record = p.row, p.record
    code = p.want.get("code")
    owner_key = compact(p.owner_name)
    project = by_code.get(code) if code else None
    if project is None and owner_key:
        project = by_owner_name.get((owner_key, compact(row.name)))
    keys = []
    if code:
        keys.append(("code", code))
    keys.append(("name", compact(row.name), owner_key or (project.owner_unit_id if project else "")))
    for key in keys:
        if key in seen:
            why = "项目代码相同" if key[0] == "code" else "项目名称和项目单位相同"
            row.errors.append(f"第 {record.row} 行：与第 {seen[key]} 行是同一个项目（{why}），请合并为一行")
            return False
    for key in keys:
        seen[key] = record.row
    if project is not None:
        if project.pk not in changeable:
            # the other project's name is not shown: it may be outside what this account may read
            row.errors.append(f"第 {record.row} 行：该项目已登记，但不在您可修改的范围内，请联系市级管理员")
            return False
        row.project = project
        row.version = project.version
    return True


def _compare(p: _Parsed, year: int, actor, lookups: Lookups, default_kind: str, by_code) -> None:
    """Work out the fields to save and what changes; validate like the services will."""
    row, record, want = p.row, p.record, dict(p.want)
    project = row.project
    sheet_column = _column_finder(record, p.mapped)
    tags = want.pop("tags", None)
    if (
        project is not None
        and p.years_text is not None
        and p.years_text == exports._years({"start_year": project.start_year, "end_year": project.end_year})
    ):
        want.pop("start_year", None)
        want.pop("end_year", None)
    if project is None:
        for attr, value in p.defaults.items():
            want.setdefault(attr, value)
    region = want.get("region") or (project.region if project else None)
    if region is None:
        region = _default_region(actor, lookups, p)
        if region is not None:
            want["region"] = region
    owner = None
    if p.owner_name:
        owner = lookups.unit(p.owner_name, region)
        if owner is None and region is not None:
            row.new_unit = (p.owner_name, region.pk)
    if owner is not None:
        want["owner_unit"] = owner
    if actor.role == Role.PROJECT_UNIT:  # as services._check_placement: own projects, or under own package
        parent = want.get("parent") or (project.parent if project else None)
        own = owner is not None and owner.pk == actor.unit_id
        if not own and not (parent is not None and parent.owner_unit_id == actor.unit_id):
            row.errors.append(_cell_error(record, sheet_column("owner_unit"), "项目单位只能登记本单位的项目"))
    if project is None:  # required for a new project; a cell that failed to parse is reported already
        for attr, label, keys in (
            ("region", "所在区域", ("region",)),
            ("sector", "项目类别", ("sector", "industry")),
            ("total_investment", "总投资", ("total_investment",)),
            ("owner_unit", "项目单位", ("owner_unit",)),
        ):
            if attr not in want and not any(k in record.cells for k in keys):
                row.errors.append(_missing(record, sheet_column(attr), label))
    parent = want.get("parent")
    if (
        parent is not None
        and parent.pk not in lookups.changeable_packages
        and (project is None or project.parent_id != parent.pk)
    ):
        message = f"没有找到您可修改的打包项目“{parent.name}”"
        row.errors.append(_cell_error(record, sheet_column("parent"), message))
    code = want.get("code")
    if code and code in by_code and by_code[code] != project:
        row.errors.append(_cell_error(record, sheet_column("code"), f"项目代码“{code}”已被其他项目使用"))
    candidate = copy.copy(project) if project is not None else Project()
    changes = []
    fields = {}
    for attr, value in want.items():
        old = getattr(candidate, attr, None) if project is not None else None
        if project is None or not _same(old, value):
            fields[attr] = value
            if project is not None:
                changes.append(f"{_label(attr)}：{_show(attr, old)} → {_show(attr, value)}")
        setattr(candidate, attr, value)
    if row.new_unit and project is not None:
        changes.append(f"项目单位：{project.owner_unit} → {p.owner_name}（新建）")
    _validate_model(candidate, row, record, sheet_column)
    if tags is not None:
        old_tags = sorted(t.name for t in project.tags.all()) if project else []
        if project is None or old_tags != tags:
            row.tags = tags
            if project is not None:
                changes.append(f"标签：{_show('tags', old_tags)} → {_show('tags', tags)}")
    changes += _plan_listing(p, candidate, year, default_kind, sheet_column)
    changes += _plan_stage(p, candidate, actor, sheet_column)
    row.fields = fields
    row.region = str(region or "")
    row.owner = p.owner_name or str(want.get("owner_unit") or (project.owner_unit if project else ""))
    row.total = candidate.total_investment
    if project is None:
        row.status = CREATE
    elif changes or row.new_unit:
        row.status = UPDATE
        row.changes = changes
    else:
        row.status = UNCHANGED


def _column_finder(record: Record, mapped: dict[str, Column]):
    """The column an error about a project or listing attribute should name (None: no such column)."""

    def find(attr: str) -> Column | None:
        key = ERROR_COLUMN.get(attr, attr)
        for k in (key, "start_year", "end_year") if key == "years" else (key,):
            if k in record.cells:
                return record.cells[k][1]
            if k in mapped:
                return mapped[k]
        return None

    return find


def _default_region(actor, lookups: Lookups, p: _Parsed) -> Region | None:
    if p.owner_name:
        unit = lookups.unit(p.owner_name, None)
        if unit is not None and unit.region_id in lookups.allowed:
            return unit.region
    if actor.role == Role.COUNTY and actor.region_id:
        return lookups.regions.get(actor.region_id)
    if actor.role == Role.PROJECT_UNIT and actor.unit_id:
        return lookups.regions.get(actor.unit.region_id)
    return None


def _label(attr: str) -> str:
    if attr == "tags":
        return "标签"
    return str(Project._meta.get_field(attr).verbose_name)


def _validate_model(candidate: Project, row: RowPlan, record: Record, sheet_column) -> None:
    exclude = list(FK_FIELDS)
    if not candidate.name:
        exclude.append("name")  # reported once, as 「项目名称」：不能为空
    if candidate.total_investment is None:
        exclude.append("total_investment")
    try:
        candidate.clean_fields(exclude=exclude)
        candidate.clean()
    except ValidationError as exc:
        for attr, messages in exc.message_dict.items():
            for message in messages:
                row.errors.append(_cell_error(record, sheet_column(attr), message.rstrip("。")))


def _plan_listing(p: _Parsed, candidate: Project, year: int, default_kind: str, sheet_column) -> list[str]:
    row, record = p.row, p.record
    wanted = dict(p.listing)
    if not wanted:
        return []
    listing = getattr(row.project, "import_listing", None) if row.project else None
    changes = []
    if listing is None:
        wanted.setdefault("list_kind", default_kind)
        wanted.setdefault("planned_investment", Decimal(0))
        wanted["planned_start"] = candidate.planned_start_date
        wanted["planned_completion"] = candidate.planned_completion_date
        if row.project is not None:
            changes.append(f"列入{year}年度清单（{ListKind(wanted['list_kind']).label}）")
        row.listing = wanted
    else:
        save = {}
        for attr, value in wanted.items():
            old = getattr(listing, attr)
            if old != value:
                save[attr] = value
                label = AnnualListing._meta.get_field(attr).verbose_name
                changes.append(f"{year}年{label}：{_show(attr, old)} → {_show(attr, value)}")
        row.listing = save or None
    plan = wanted.get("planned_investment", listing.planned_investment if listing else Decimal(0))
    if candidate.total_investment is not None and plan > candidate.total_investment:
        row.errors.append(
            _cell_error(
                record,
                sheet_column("planned_investment"),
                f"年度计划投资 {plan:,.2f} 万元超过总投资 {candidate.total_investment:,.2f} 万元",
            )
        )
    return changes


def _plan_stage(p: _Parsed, candidate: Project, actor, sheet_column) -> list[str]:
    """Stage moves go through project_transition, one step at a time, with the actual dates."""
    row, record = p.row, p.record
    target = p.stage
    current = candidate.stage if row.project else Stage.RESERVED
    if not target or target == current:
        return []
    if row.project is None and target in services.PRE_START_STAGES:
        row.fields["stage"] = target  # a new project is registered at any stage before the start
        return []
    stage_column = sheet_column("stage")
    label = Stage(target).label
    order = STAGE_ORDER
    ci, ti = order.index(current), order.index(target)
    c_idx, d_idx = order.index(Stage.CONSTRUCTION), order.index(Stage.COMPLETED)
    if ti < ci:
        if actor.role != Role.CITY_ADMIN:
            if row.project is None:
                message = f"新登记的项目从“储备”阶段开始，登记为“{label}”须由市级管理员操作"
            else:
                message = f"不能由“{Stage(current).label}”退回“{label}”：阶段回退须由市级管理员操作"
            row.errors.append(_cell_error(record, stage_column, message))
            return []
        row.transitions = [(target, None)]
        row.backwards = True
        return [f"阶段：{Stage(current).label} → {label}"]
    steps: list[tuple[str, dt.date | None]] = []
    today = timezone.localdate()

    def needs(attr: str, value: dt.date | None, what: str) -> None:
        if value is None:
            if attr not in record.cells:  # (a cell that failed to parse is reported already)
                row.errors.append(_cell_error(record, stage_column, f"项目阶段为“{label}”时须填写「{what}」"))
        elif value > today:
            row.errors.append(_cell_error(record, sheet_column(attr), f"{what}不能晚于今天"))

    has_start = bool(row.project and row.project.actual_start_date)
    if ti < c_idx:
        steps.append((target, None))
    else:
        if not has_start:
            needs("actual_start_date", p.actual_start, "实际开工日期")
            steps.append((Stage.CONSTRUCTION, p.actual_start))
        elif target == Stage.CONSTRUCTION:
            steps.append((Stage.CONSTRUCTION, None))
        if ti >= d_idx and ci < d_idx:
            needs("actual_completion_date", p.actual_completion, "实际竣工日期")
            start = p.actual_start or (row.project.actual_start_date if has_start else None)
            if start and p.actual_completion and p.actual_completion < start:
                message = "实际竣工日期不能早于实际开工日期"
                row.errors.append(_cell_error(record, sheet_column("actual_completion_date"), message))
            steps.append((Stage.COMPLETED, p.actual_completion))
        if target == Stage.OPERATING:
            steps.append((Stage.OPERATING, None))
    row.transitions = steps
    return [f"阶段：{Stage(current).label} → {label}"] if row.project else []
