"""The demo city's pre-construction approvals ledger (前期工作台账, docs/approvals.md).

Runs after the dispatch history (builder.build_demo), so projects carry their final stage and
start date, and keeps drawing from the city's random generator. Who gets a ledger is what
`approvals.services.ledger_apply_templates` would be run for: every project in 前期/签约 (what
`scan_approvals` covers) and every key project (省/市/县重点) that has started. Items are the
regime's template in order with the type's default approving body, exactly as the service makes
them, then filled the way the project units would have kept them:

- started key projects: most with the full history — every item 已办结 (or 不涉及 with a reason)
  in template order, dated before the start, with the demo city's document numbers; some started
  on a promise (容缺承诺), papers supplied later or still outstanding (a few overdue);
- projects in 前期/签约: part-way — the early items done, one 办理中 with a planned date (some
  overdue), the rest 未启动 with planned dates towards the planned start; a few promises; a few
  approvals about to lapse (可研 approved ~23 months ago, 施工许可 issued and no start).

Rows go in with bulk_create; events (one `approval_ledger_apply` per project by the system, one
`approval_item_update` per item that moved, by the project's filler, with the service's diff
details) are written at their dates (`write_events`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from majorprojects.accounts.models import Role, User
from majorprojects.approvals.models import GRANTED, ApprovalItem, ItemStatus, TemplateItem
from majorprojects.audit.models import Event
from majorprojects.organisation.models import RegionKind
from majorprojects.projects.models import Stage

from . import builder, dispatch

LEDGER_STAGES = (Stage.PREPARING, Stage.SIGNED)
STARTED = (Stage.CONSTRUCTION, Stage.COMPLETED, Stage.OPERATING)
# Typical calendar days an item takes once submitted, by item type code.
DURATION = {
    "proposal": 25,
    "land_prereview": 40,
    "social_risk": 30,
    "feasibility": 30,
    "verification": 28,
    "filing": 3,
    "energy": 25,
    "eia": 45,
    "soil_water": 30,
    "land_planning_permit": 20,
    "preliminary_design": 35,
    "works_planning_permit": 20,
    "drawing_review": 25,
    "bidding": 40,
    "construction_permit": 7,
}
# Items a project may not need, with the reason a project unit writes.
NOT_APPLICABLE = {
    "social_risk": "项目在已征收国有建设用地上建设，不涉及征地拆迁，经评估无需开展社会稳定风险评估",
    "energy": "项目年综合能源消费量不满1000吨标准煤，按规定不单独进行节能审查",
    "soil_water": "项目占地面积不足5公顷且挖填土石方总量不足5万立方米，实行水土保持承诺制备案",
    "land_prereview": "项目使用已依法出让的国有建设用地，不需办理用地预审",
    "bidding": "项目由企业自有资金建设，依法可不进行招标",
}
# Items commonly granted on a promise (容缺受理/告知承诺), with the papers still to come.
PROMISE_ITEMS = ("land_planning_permit", "works_planning_permit", "soil_water", "energy", "eia")
PROMISE_NOTES = {
    "land_planning_permit": "容缺受理：土地出让合同尚在签订，承诺期限内补齐",
    "works_planning_permit": "告知承诺：修建性详细规划批复待补",
    "soil_water": "告知承诺：水土保持方案报告书待专家评审后补齐",
    "energy": "容缺受理：节能报告评审意见待补齐",
    "eia": "告知承诺：环境影响报告书技术评估意见待补齐",
}
PERSONS = ("项目前期部", "工程技术部", "综合办公室", "规划发展部", "项目管理部")


def _county_prefix(region) -> str:
    return (builder._short(region) or region.name)[0]


def _bodies(city: builder.City, project, key_level: str) -> dict[str, tuple[str, str]]:
    """Approving body and document-number prefix per item type, for the project's level: province
    key projects' feasibility goes to the province, city-level and city/province key projects
    to the city bureaus, the rest to the county bureaus."""
    region = project.region
    county = region.code != city.city.code and key_level not in ("province", "city")
    c = _county_prefix(region)
    rn = region.name
    county_gov = f"{rn}管理委员会" if region.kind == RegionKind.ZONE else f"{rn}人民政府"
    drc = (f"{rn}发展和改革局", f"{c}发改") if county else ("云江市发展和改革委员会", "云发改")
    drc_high = ("湖南省发展和改革委员会", "湘发改") if key_level == "province" else drc
    return {
        "proposal": (drc_high[0], f"{drc_high[1]}审批"),
        "feasibility": (drc_high[0], f"{drc_high[1]}审批"),
        "verification": (drc_high[0], f"{drc_high[1]}核准"),
        "filing": (drc[0], f"{drc[1]}备"),
        "energy": (drc[0], f"{drc[1]}环资"),
        "preliminary_design": (drc_high[0], f"{drc_high[1]}设计"),
        "land_prereview": ("云江市自然资源和规划局", "用字第"),
        "land_planning_permit": ("云江市自然资源和规划局", "地字第"),
        "works_planning_permit": ("云江市自然资源和规划局", "建字第"),
        "social_risk": (county_gov if county else "云江市人民政府", f"{c if county else '云'}稳评"),
        "eia": ("云江市生态环境局", "云环评" if not county else f"云环评（{builder._short(region)}）"),
        "soil_water": ((f"{rn}水利局", f"{c}水许可") if county else ("云江市水利局", "云水许可")),
        "drawing_review": ("云江市施工图审查中心", "云审图"),
        "bidding": ("云江市公共资源交易中心", "云公资交中标"),
        "construction_permit": (
            (f"{rn}住房和城乡建设局", "施工许可") if county else ("云江市住房和城乡建设局", "施工许可")
        ),
    }


class Numbers:
    """Document numbers per prefix and year, handed out in date order (so a later approval of the
    same office carries a higher number)."""

    def __init__(self, rng):
        self.rng = rng
        self.next: dict[tuple[str, int], int] = {}

    def assign(self, items: list[tuple[ApprovalItem, str, str]]) -> None:
        for item, prefix, region_code in sorted(items, key=lambda t: (t[0].actual_date, t[1])):
            year = item.actual_date.year
            key = (prefix, year)
            n = self.next.get(key) or self.rng.randint(8, 60)
            self.next[key] = n + self.rng.randint(1, 6)
            if prefix.endswith("第"):
                item.document_number = f"{prefix}{region_code}{year}{n:05d}号"
            elif prefix == "施工许可":
                item.document_number = f"{region_code}{item.actual_date:%Y%m%d}{n % 100:02d}01"
            else:
                item.document_number = f"{prefix}〔{year}〕{n}号"


def filler(city: builder.City, project) -> User:
    """The account that keeps the project's records: its project unit's account (the demo has one,
    `owner`), else its county or zone, else the city admin — as dispatch fills reports."""
    accounts = {u.username: u for u in city.accounts}
    owner = accounts["owner"]
    if project.owner_unit_id == owner.unit_id:
        return owner
    for user in city.accounts:
        if user.role == Role.COUNTY and user.region_id == project.region_id:
            return user
    return accounts["admin"]


def _key_level(plan: builder.Plan) -> str:
    levels = [x.key_level for x in plan.listings.values() if x.key_level]
    return plan.key_level or (levels[0] if levels else "")


def ledger_plans(city: builder.City) -> list[builder.Plan]:
    """Projects that get a ledger: 前期/签约, and started key projects (no packages)."""
    chosen = []
    for plan in city.all_plans():
        p = plan.project
        if p.is_package:
            continue
        if p.stage in LEDGER_STAGES or (_key_level(plan) and p.stage in STARTED and p.actual_start_date):
            chosen.append(plan)
    return chosen


def _event(actor, verb, target_type, target_id, label, project, details, at) -> tuple:
    """An event row as `audit.services.event_record` writes it, dated `at` (see write_events)."""
    return (
        at,
        actor.pk if actor is not None else None,
        verb,
        target_type,
        str(target_id),
        label[:300],
        project.pk if project is not None else None,
        details,
    )


def write_events(events: list[tuple]) -> None:
    """Insert event rows with their own dates (`Event.at` is auto_now_add, which bulk_create would
    overwrite): one prepared INSERT run for every row, values prepared by their fields as the ORM
    prepares them (JSON details included), without building ten thousand model instances."""
    if not events:
        return
    names = ["at", "actor", "verb", "target_type", "target_id", "target_label", "project", "details"]
    fields = [Event._meta.get_field(name) for name in names]
    at, details = fields[0], fields[-1]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(Event._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    params = [
        [at.get_db_prep_value(row[0], connection), *row[1:7], details.get_db_prep_save(row[7], connection)]
        for row in events
    ]
    with connection.cursor() as cursor:
        for first in range(0, len(params), builder.BATCH):
            cursor.executemany(sql, params[first : first + builder.BATCH])


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def build_approvals(city: builder.City) -> dict:
    rng = city.rng
    today = timezone.localdate()
    templates: dict[str, list[TemplateItem]] = defaultdict(list)
    for entry in TemplateItem.objects.filter(item_type__is_active=True).select_related("item_type"):
        templates[entry.regime].append(entry)
    plans = ledger_plans(city)
    items: list[ApprovalItem] = []
    bodies: dict[int, dict[str, tuple[str, str]]] = {}
    opened: dict[int, date] = {}  # project pk → the day the ledger was set up
    for plan in plans:
        p = plan.project
        entries = templates.get(p.approval_regime) or []
        if not entries:
            continue
        bodies[p.pk] = _bodies(city, p, _key_level(plan))
        person = f"{rng.choice(PERSONS)} {builder._person_name(rng)}"
        rows = [
            ApprovalItem(
                project=p,
                item_type=e.item_type,
                position=e.position,
                approving_body=e.item_type.approving_body,
                responsible_unit_id=p.owner_unit_id,
                responsible_person=person,
            )
            for e in entries
        ]
        if p.stage in STARTED:
            start = _fill_started(rng, rows, p.actual_start_date, today)
        else:
            start = _fill_pending(rng, plan, rows, today)
        opened[p.pk] = start
        items += rows
    _special_cases(rng, plans, items, today)
    numbered = []
    for item in items:
        body, prefix = bodies[item.project_id][item.item_type.code]
        if item.status in (*GRANTED, ItemStatus.IN_PROGRESS):
            item.approving_body = body
        if item.status == ItemStatus.DONE:
            numbered.append((item, prefix, item.project.region.code))
    Numbers(rng).assign(numbered)
    by_project: dict[int, list[ApprovalItem]] = defaultdict(list)
    for item in items:
        item.updated_by = filler(city, item.project)
        by_project[item.project_id].append(item)
    ApprovalItem.objects.bulk_create(items, batch_size=builder.BATCH)
    events = []
    for plan in plans:
        p = plan.project
        rows = by_project.get(p.pk)
        if not rows:
            continue
        at = dispatch._at(rng, opened[p.pk])
        events.append(
            _event(
                None,
                "approval_ledger_apply",
                "project",
                p.pk,
                "前期工作台账",
                p,
                {"regime": p.get_approval_regime_display(), "items": [i.item_type.name for i in rows]},
                at,
            )
        )
        actor = filler(city, p)
        for item in rows:
            changes = {
                name: [default, _iso(getattr(item, name))]
                for name, default in (
                    ("status", ItemStatus.NOT_STARTED.value),
                    ("submitted_date", None),
                    ("planned_date", None),
                    ("actual_date", None),
                    ("approving_body", item.item_type.approving_body),
                    ("document_number", ""),
                    ("not_applicable_reason", ""),
                    ("promise_due_date", None),
                    ("papers_supplied_date", None),
                    ("note", ""),
                )
                if _iso(getattr(item, name)) != default
            }
            if not changes:
                continue
            day = item.papers_supplied_date or item.actual_date or item.submitted_date or opened[p.pk]
            events.append(
                _event(
                    actor,
                    "approval_item_update",
                    "approvalitem",
                    item.pk,
                    f"前期工作：{item.item_type.name}",
                    p,
                    changes,
                    dispatch._at(rng, min(day, today)),
                )
            )
    write_events(events)
    return {"projects": len(by_project), "items": len(items)}


def _fill_started(rng, rows: list[ApprovalItem], start: date, today: date) -> date:
    """Every item granted in order before the start; some not needed; a few on a promise."""
    span = rng.randint(240, 720)  # days from the first step to the permit
    first = start - timedelta(days=span)
    promise_project = rng.random() < 0.18
    step = span / max(1, len(rows))
    for index, item in enumerate(rows):
        code = item.item_type.code
        if code in NOT_APPLICABLE and code != "land_prereview" and rng.random() < 0.12:
            item.status = ItemStatus.NOT_APPLICABLE
            item.not_applicable_reason = NOT_APPLICABLE[code]
            continue
        done = first + timedelta(days=int(step * (index + 1) * rng.uniform(0.85, 1.0)))
        if code == "construction_permit":
            done = start - timedelta(days=rng.randint(3, 40))
        done = min(done, start - timedelta(days=2), today)
        submitted = done - timedelta(days=max(2, int(DURATION.get(code, 20) * rng.uniform(0.4, 1.2))))
        item.submitted_date, item.actual_date = submitted, done
        if promise_project and code in PROMISE_ITEMS and rng.random() < 0.5:
            item.status = ItemStatus.PROMISED
            item.promise_due_date = done + timedelta(days=rng.choice((60, 90, 120, 180)))
            item.note = PROMISE_NOTES[code]
            if item.promise_due_date < today - timedelta(days=20) and rng.random() < 0.75:
                item.papers_supplied_date = min(
                    item.promise_due_date - timedelta(days=rng.randint(0, 30)), today
                )
                item.status = ItemStatus.DONE  # the papers are in: the service makes it 已办结
            continue
        item.status = ItemStatus.DONE
    return first - timedelta(days=rng.randint(5, 30))


def _fill_pending(rng, plan: builder.Plan, rows: list[ApprovalItem], today: date) -> date:
    """Part-way: the early items done, one in hand (some overdue), the rest still to do with a
    schedule towards the planned start."""
    p = plan.project
    share = rng.uniform(0.55, 0.92) if p.stage == Stage.SIGNED else rng.uniform(0.1, 0.7)
    done_count = int(len(rows) * share)
    planned_start = p.planned_start_date if p.planned_start_date and p.planned_start_date > today else None
    target = planned_start or today + timedelta(days=rng.randint(90, 400))
    first = today - timedelta(days=rng.randint(120, 600))
    step = (today - first).days / max(1, done_count + 1)
    last_done = first
    for index, item in enumerate(rows):
        code = item.item_type.code
        if index < done_count:
            if code in NOT_APPLICABLE and rng.random() < 0.1:
                item.status = ItemStatus.NOT_APPLICABLE
                item.not_applicable_reason = NOT_APPLICABLE[code]
                continue
            done = min(first + timedelta(days=int(step * (index + 1))), today - timedelta(days=1))
            item.submitted_date = done - timedelta(
                days=max(2, int(DURATION.get(code, 20) * rng.uniform(0.5, 1.2)))
            )
            item.actual_date = done
            item.status = ItemStatus.DONE
            if code in PROMISE_ITEMS and rng.random() < 0.12:
                item.status = ItemStatus.PROMISED
                item.promise_due_date = done + timedelta(days=rng.choice((60, 90, 120)))
                item.note = PROMISE_NOTES[code]
            last_done = done
        elif index == done_count:
            item.status = ItemStatus.IN_PROGRESS
            item.submitted_date = max(last_done, today - timedelta(days=rng.randint(5, 120)))
            item.submitted_date = min(item.submitted_date, today)
            late = rng.random() < 0.3
            days = DURATION.get(code, 20)
            item.planned_date = (
                today - timedelta(days=rng.randint(3, 60))
                if late
                else today + timedelta(days=rng.randint(5, days + 30))
            )
            item.planned_date = max(item.planned_date, item.submitted_date + timedelta(days=1))
        else:
            remaining = len(rows) - index
            if rng.random() < 0.7:
                gap = max(7, (target - today).days // (remaining + 1))
                item.planned_date = today + timedelta(days=gap * (index - done_count) + rng.randint(0, 10))
    return first - timedelta(days=rng.randint(5, 30))


def _special_cases(rng, plans, items: list[ApprovalItem], today: date) -> None:
    """Approvals about to lapse: 可研 approved ~23 months ago and 施工许可 issued with no start."""
    by_project: dict[int, dict[str, ApprovalItem]] = defaultdict(dict)
    for item in items:
        by_project[item.project_id][item.item_type.code] = item
    pending = [pl.project for pl in plans if pl.project.stage in LEDGER_STAGES]
    feas = [p for p in pending if by_project[p.pk].get("feasibility")]
    for p in rng.sample(feas, min(4, len(feas))):
        item = by_project[p.pk]["feasibility"]
        approved = today - timedelta(days=rng.randint(670, 715))  # 22–23.5 months ago
        for code, other in by_project[p.pk].items():  # what came before it, done earlier
            if other.position < item.position and other.status != ItemStatus.NOT_APPLICABLE:
                other.status = ItemStatus.DONE
                other.actual_date = approved - timedelta(days=(item.position - other.position) * 25)
                other.submitted_date = other.actual_date - timedelta(days=DURATION.get(code, 20))
                other.planned_date = None
                other.promise_due_date = other.papers_supplied_date = None
                other.note = ""
        item.status = ItemStatus.DONE
        item.actual_date = approved
        item.submitted_date = approved - timedelta(days=DURATION["feasibility"])
        item.planned_date = None
        item.note = "可研批复后项目资金未落实，尚未开工，须在有效期届满前开工或申请延期"
    signed = [p for p in pending if p.stage == Stage.SIGNED and by_project[p.pk].get("construction_permit")]
    for n, p in enumerate(rng.sample(signed, min(3, len(signed)))):
        ledger = by_project[p.pk]
        issued = today - timedelta(days=rng.randint(100, 150) if n < 2 else rng.randint(65, 85))
        last = ledger["construction_permit"].position
        for code, other in ledger.items():
            if other.status == ItemStatus.NOT_APPLICABLE:
                continue
            other.status = ItemStatus.DONE
            other.actual_date = issued - timedelta(days=(last - other.position) * 21)
            other.submitted_date = other.actual_date - timedelta(days=DURATION.get(code, 20) // 2 + 2)
            other.planned_date = None
            other.promise_due_date = other.papers_supplied_date = None
            other.note = ""
        ledger["construction_permit"].note = "已取得施工许可证，因征拆扫尾尚未开工"
