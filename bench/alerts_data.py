"""The ledgers the warning rules read, written in bulk over the dispatch province dataset
(dispatch_data.py: 50,000 projects, 60 months of reports, listings, YearDone), so that every
default rule's metric (alerts.defaults) has real work at scale:

- approvals ledgers (前期工作台账): every project in 前期/签约 (part-way: early items done, some
  open items past their planned date, some promises) and every started key project of this
  year's listing (all items done before the start; some on a promise, a few promises overdue) —
  the regime's template items in order, as `approvals.services.ledger_apply_templates` makes them;
- funds: allocations (下达) of the programmes with a usage window (中央预算内, 超长期特别国债,
  专项债, 政策性金融工具) to the started or signed projects that list that source, one or two
  batches, with arrival, transfer and monthly payments — most on pace, some behind, a few far
  behind — plus a few allocations without a window (省级/市级资金: no pace, no reading);
- problems (问题台账): about one in eight projects past 储备 has 1–3 problems — reported,
  in handling (some past their deadline), reopened, resolved (some after their deadline), closed;
- the statistics inclusion of started projects (入统, which the history-free province builder
  leaves unset): 12–80 days after the start, 7 % of recent starts still pending;
- the counties' 2026 investment targets (growth %, for half of them an amount) and a few approved
  justifications (正当理由) under the start-overdue rule.

Everything is dated as of TODAY (2026-11-23, the day the benchmark was written) and drawn from a
seeded generator: the same rows on SQLite and PostgreSQL. Rows go in with one `executemany` per
table and batch (values prepared by the model fields, as the ORM would), not row by row.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

TODAY = date(2026, 11, 23)
YEAR = 2026
STARTED = ("construction", "completed", "operating")
PRELIMINARY = ("preparing", "signed")
KEY_LEVELS = ("province", "city", "county")
WINDOW_PROGRAMMES = ("central_budget", "ultra_long_bond", "special_bond", "policy_finance")
PROMISE_ITEMS = ("land_planning_permit", "works_planning_permit", "soil_water", "energy", "eia")
OPTIONAL_ITEMS = ("social_risk", "energy", "soil_water", "land_prereview", "bidding")
BATCH = 5000
CENT = Decimal("0.01")


def _wan(value: float) -> Decimal:
    return Decimal(str(round(max(value, 0.01), 2))).quantize(CENT)


def _moment(day: date, hour: int = 9) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, dtime(hour, 0)))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, 28))


# --- bulk insert ------------------------------------------------------------------------------


def _defaults(model) -> dict:
    """attname → the value the ORM would write when a field is not given."""
    from django.db import models
    from django.utils import timezone

    now = timezone.now()
    out = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            out[f.attname] = now
        elif f.has_default():
            out[f.attname] = f.get_default()
        elif f.null:
            out[f.attname] = None
        elif isinstance(f, models.CharField | models.TextField):
            out[f.attname] = ""
    return out


def insert(model, rows: list[dict]) -> int:
    """INSERT rows (dicts by attname) in batches of executemany, values prepared by the fields."""
    from django.db import connection

    if not rows:
        return 0
    base = _defaults(model)
    names = list({**base, **rows[0]})
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[n] for n in names]
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # names from the model's meta
        qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = []
            for row in rows[start : start + BATCH]:
                full = {**base, **row}
                batch.append(
                    [f.get_db_prep_save(full[n], connection) for f, n in zip(fields, names, strict=True)]
                )
            cursor.executemany(sql, batch)
    return len(rows)


# --- the projects -----------------------------------------------------------------------------


@dataclass
class Facts:
    pk: int
    stage: str
    regime: str
    region_id: int
    owner_id: int
    planned_start: date | None
    start: date | None
    done: date | None
    key_level: str
    listed: bool


def project_facts() -> list[Facts]:
    from majorprojects.projects.models import AnnualListing, Project

    listing = {
        pid: key
        for pid, key in AnnualListing.objects.filter(year=YEAR).values_list("project_id", "key_level")
    }
    rows = (
        Project.objects.filter(is_package=False)
        .order_by("pk")
        .values_list(
            "pk",
            "stage",
            "approval_regime",
            "region_id",
            "owner_unit_id",
            "planned_start_date",
            "actual_start_date",
            "actual_completion_date",
        )
    )
    return [
        Facts(
            pk,
            stage,
            regime or "filing",
            region,
            owner,
            planned,
            start,
            done,
            listing.get(pk, ""),
            pk in listing,
        )
        for pk, stage, regime, region, owner, planned, start, done in rows
    ]


# --- statistics inclusion ---------------------------------------------------------------------


def stats_inclusion(facts: list[Facts], rng: random.Random) -> dict:
    """入统 12–80 days after the start (by the completion at the latest); 7 % of the projects
    started in the last two years and still building are not included yet."""
    from django.db import connection

    rows = []
    pending = 0
    for p in facts:
        if not p.start or p.start > TODAY:
            continue
        included = p.start + timedelta(days=rng.randint(12, 80))
        if p.done:
            included = min(included, p.done)
        if (
            not p.done and p.start >= TODAY - timedelta(days=730) and rng.random() < 0.07
        ) or included > TODAY:
            pending += 1
            continue
        rows.append((True, included.isoformat() if connection.vendor == "sqlite" else included, p.pk))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(
                "UPDATE projects_project SET stats_included = %s, stats_included_date = %s WHERE id = %s",
                rows[start : start + BATCH],
            )
    return {"included": len(rows), "started_not_included": pending}


# --- approvals --------------------------------------------------------------------------------


def approvals(facts: list[Facts], rng: random.Random) -> dict:
    from majorprojects.approvals.models import ApprovalItem, ApprovalItemType, ItemStatus, TemplateItem

    templates = defaultdict(list)
    for regime, type_id, position, code in TemplateItem.objects.order_by("regime", "position").values_list(
        "regime", "item_type_id", "position", "item_type__code"
    ):
        templates[regime].append((type_id, position, code))
    bodies = dict(ApprovalItemType.objects.values_list("pk", "approving_body"))
    rows = []
    ledgers = {"preliminary": 0, "started_key": 0}
    for p in facts:
        items = templates.get(p.regime) or templates["filing"]
        if p.stage in PRELIMINARY:
            ledgers["preliminary"] += 1
            rows += _preliminary_ledger(p, items, bodies, rng)
        elif p.stage in STARTED and p.key_level in KEY_LEVELS and p.start:
            ledgers["started_key"] += 1
            rows += _started_ledger(p, items, bodies, rng)
    insert(ApprovalItem, rows)
    statuses = defaultdict(int)
    for row in rows:
        statuses[row["status"]] += 1
    overdue = sum(
        1
        for r in rows
        if r["status"] in (ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS)
        and r["planned_date"]
        and r["planned_date"] < date(2026, 10, 31)
    )
    promises_overdue = sum(
        1 for r in rows if r["status"] == ItemStatus.PROMISED and r["promise_due_date"] < date(2026, 10, 31)
    )
    return {
        "ledgers": ledgers,
        "items": len(rows),
        "by_status": dict(statuses),
        "open_items_past_planned_date_at_2026_10_31": overdue,
        "promises_outstanding_past_due_at_2026_10_31": promises_overdue,
    }


def _not_applicable(p, type_id, position, bodies) -> dict:
    return _item(
        p, type_id, position, bodies, status="not_applicable", not_applicable_reason="经评估项目不涉及该事项"
    )


def _item(p: Facts, type_id, position, bodies, **values) -> dict:
    return {
        "project_id": p.pk,
        "item_type_id": type_id,
        "position": position,
        "approving_body": bodies.get(type_id, ""),
        "responsible_person": "项目前期部",
        **values,
    }


def _preliminary_ledger(p: Facts, items, bodies, rng) -> list[dict]:
    """Part-way: planned dates spread towards the planned start; the items due by TODAY are done
    except the last `lag` of them (0 for 55 % of the projects, 1 for 30 %, 2–4 for 15 %)."""
    start = p.planned_start or TODAY + timedelta(days=rng.randint(60, 300))
    first = start - timedelta(days=rng.randint(300, 540))
    step = max(5, (start - first).days // (len(items) + 1))
    lag = 0 if (r := rng.random()) < 0.55 else 1 if r < 0.85 else rng.randint(2, 4)
    planned = [first + timedelta(days=step * (i + 1)) for i in range(len(items))]
    due = sum(1 for d in planned if d <= TODAY)
    done_count = max(0, due - lag)
    promise = rng.random() < 0.10
    out = []
    for i, ((type_id, position, code), plan) in enumerate(zip(items, planned, strict=True)):
        if code in OPTIONAL_ITEMS and rng.random() < 0.06:
            out.append(_not_applicable(p, type_id, position, bodies))
            continue
        if i < done_count:
            actual = min(plan + timedelta(days=rng.randint(-15, 10)), TODAY - timedelta(days=1))
            values = {"status": "done", "submitted_date": actual - timedelta(days=20), "planned_date": plan, "actual_date": actual,
                      "document_number": f"前期〔{actual.year}〕{rng.randint(10, 999)}号"}  # fmt: skip
            if promise and code in PROMISE_ITEMS:
                promise = False
                values["status"] = "promised"
                values["promise_due_date"] = actual + timedelta(days=rng.randint(60, 150))
                if values["promise_due_date"] < TODAY and rng.random() < 0.5:
                    values["status"] = "done"
                    values["papers_supplied_date"] = values["promise_due_date"] - timedelta(
                        days=rng.randint(0, 30)
                    )
            out.append(_item(p, type_id, position, bodies, **values))
        elif i == done_count:
            out.append(
                _item(
                    p,
                    type_id,
                    position,
                    bodies,
                    status="in_progress",
                    submitted_date=min(plan, TODAY) - timedelta(days=20),
                    planned_date=plan,
                )
            )
        else:
            out.append(_item(p, type_id, position, bodies, status="not_started", planned_date=plan))
    return out


def _started_ledger(p: Facts, items, bodies, rng) -> list[dict]:
    """Complete before the start; 7 % started on a promise, papers supplied for about half of
    those whose due date has passed."""
    span = rng.randint(240, 720)
    first = p.start - timedelta(days=span)
    step = max(3, span // (len(items) + 1))
    promise = rng.random() < 0.07
    out = []
    for i, (type_id, position, code) in enumerate(items):
        if code in OPTIONAL_ITEMS and rng.random() < 0.08:
            out.append(_not_applicable(p, type_id, position, bodies))
            continue
        actual = first + timedelta(days=step * (i + 1))
        values = {"status": "done", "submitted_date": actual - timedelta(days=20), "planned_date": actual + timedelta(days=rng.randint(-10, 20)),
                  "actual_date": actual, "document_number": f"前期〔{actual.year}〕{rng.randint(10, 999)}号"}  # fmt: skip
        if promise and code in PROMISE_ITEMS:
            promise = False
            due = max(actual, p.start) + timedelta(days=rng.randint(90, 240))
            values["status"], values["promise_due_date"] = "promised", due
            if due < TODAY and rng.random() < 0.5:
                values["status"] = "done"
                values["papers_supplied_date"] = due - timedelta(days=rng.randint(0, 40))
        out.append(_item(p, type_id, position, bodies, **values))
    return out


# --- funds ------------------------------------------------------------------------------------


def funds(facts: list[Facts], rng: random.Random) -> dict:
    """Allocations of the windowed programmes to started or signed projects funded from them,
    with arrival, transfer and monthly payments (pace factor: 60 % 0.9–1.2, 25 % 0.55–0.85,
    15 % 0.1–0.5 of the straight line), and a few non-windowed ones (省级/市级资金)."""
    from majorprojects.funds.models import Allocation, Movement, Programme
    from majorprojects.projects.models import ProjectFunding

    programmes = {
        code: (pk, window)
        for code, pk, window in Programme.objects.values_list("code", "pk", "window_months")
    }
    eligible = {p.pk: p for p in facts if p.stage in (*STARTED, "signed")}
    funding = defaultdict(dict)
    for pid, source, amount in ProjectFunding.objects.filter(amount__gt=0).values_list(
        "project_id", "source", "amount"
    ):
        if pid in eligible:
            funding[pid][source] = amount
    allocations, plans = [], []
    for pid in sorted(funding):
        sources = funding[pid]
        for code in WINDOW_PROGRAMMES:
            if code not in sources:
                continue
            batches = 2 if rng.random() < 0.3 else 1
            total = float(sources[code]) * rng.uniform(0.4, 1.0)
            for b in range(batches):
                issued = date(2025, 1, 1) + timedelta(days=rng.randint(0, 660))  # 2025-01 … 2026-10
                allocations.append({"project_id": pid, "programme_id": programmes[code][0], "batch": f"{issued.year}年第{b + 1}批",
                                    "document_no": f"{code}-{pid}-{b + 1}", "issued_on": issued, "amount": _wan(total / batches)})  # fmt: skip
                plans.append(programmes[code][1])
        if "fiscal" in sources and rng.random() < 0.10:
            code = "provincial" if rng.random() < 0.5 else "city"
            issued = date(2025, 3, 1) + timedelta(days=rng.randint(0, 600))
            allocations.append({"project_id": pid, "programme_id": programmes[code][0], "batch": "", "document_no": f"{code}-{pid}",
                                "issued_on": issued, "amount": _wan(float(sources["fiscal"]) * rng.uniform(0.1, 0.5))})  # fmt: skip
            plans.append(None)
    insert(Allocation, allocations)
    ids = {
        (project_id, document_no): pk
        for project_id, document_no, pk in Allocation.objects.values_list("project_id", "document_no", "pk")
    }
    movements = []
    paces = defaultdict(int)
    for alloc, window in zip(allocations, plans, strict=True):
        pk = ids[(alloc["project_id"], alloc["document_no"])]
        amount = float(alloc["amount"])
        arrived = alloc["issued_on"] + timedelta(days=rng.randint(5, 20))
        if arrived > TODAY:
            continue
        movements.append(
            {
                "allocation_id": pk,
                "kind": "arrival",
                "on_date": arrived,
                "amount": alloc["amount"],
                "note": "",
            }
        )
        transferred = arrived + timedelta(days=rng.randint(5, 30))
        if transferred <= TODAY:
            movements.append(
                {
                    "allocation_id": pk,
                    "kind": "transfer",
                    "on_date": transferred,
                    "amount": alloc["amount"],
                    "note": "",
                }
            )
        r = rng.random()
        factor, label = (
            (rng.uniform(0.9, 1.2), "on_pace") if r < 0.6 else (rng.uniform(0.55, 0.85), "behind") if r < 0.85 else (rng.uniform(0.1, 0.5), "far_behind")
        )  # fmt: skip
        paces[label] += 1
        months = window or 12
        paid, month = 0.0, 1
        while True:
            day = _add_months(alloc["issued_on"], month) + timedelta(days=rng.randint(-5, 5))
            if day > TODAY - timedelta(days=3) or paid >= amount - 0.01:
                break
            step = min(amount - paid, amount * factor / months * rng.uniform(0.6, 1.4))
            if step >= 0.01:
                movements.append(
                    {"allocation_id": pk, "kind": "payment", "on_date": day, "amount": _wan(step), "note": ""}
                )
                paid += float(_wan(step))
            month += 1
    insert(Movement, movements)
    return {
        "allocations": len(allocations),
        "allocations_windowed": sum(1 for w in plans if w),
        "projects": len({a["project_id"] for a in allocations}),
        "movements": len(movements),
        "pace": dict(paces),
    }


# --- problems ---------------------------------------------------------------------------------

TITLES = {
    "land": "用地报批进度滞后，影响开工",
    "funds": "中央预算内资金拨付不及时",
    "approval": "施工许可办理材料需协调",
    "site": "施工周边群众阻工",
    "facilities": "水电气配套接入未落实",
    "financing": "项目融资贷款审批进度慢",
    "eia_swc": "环评批复待省厅审查",
    "forest": "使用林地审核同意书未批复",
    "other": "其他需协调事项",
}


def problems(facts: list[Facts], rng: random.Random) -> dict:
    from majorprojects.organisation.models import Unit
    from majorprojects.problems.models import Category, Problem

    categories = dict(Category.objects.values_list("code", "pk"))
    leads = list(Unit.objects.filter(kind__in=("department", "government")).values_list("pk", flat=True))
    rows = []
    statuses = defaultdict(int)
    overdue = 0
    for p in facts:
        if p.stage in ("conceived", "reserved") or rng.random() >= 0.125:
            continue
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            code = rng.choice(list(TITLES))
            raised = date(2025, 6, 1) + timedelta(days=rng.randint(0, 500))  # 2025-06 … 2026-10
            row = {"project_id": p.pk, "title": TITLES[code], "category_id": categories[code], "source": rng.choice(("report", "project_unit", "county", "department")),
                   "description": f"{TITLES[code]}，请协调解决。", "region_id": p.region_id, "raising_unit_id": p.owner_id,
                   "raise_key": f"bench-{p.pk}-{n}", "created_at": _moment(raised), "updated_at": _moment(raised)}  # fmt: skip
            r = rng.random()
            if r < 0.10:
                status = "reported"
            else:
                assigned = raised + timedelta(days=rng.randint(1, 10))
                deadline = assigned + timedelta(days=rng.randint(15, 120))
                row.update(level=rng.choice(("city", "county")), lead_unit_id=rng.choice(leads), assigned_at=_moment(assigned), accepted_at=_moment(assigned),
                           deadline=deadline, responsible_name="张伟", solution="明确牵头单位限期办理。")  # fmt: skip
                if r < 0.55:
                    status = "assigned"
                elif r < 0.58:
                    status = "reopened"
                    row["reopen_count"] = 1
                else:
                    resolved = assigned + timedelta(days=rng.randint(5, 160))
                    if resolved >= TODAY:
                        status = "assigned"
                    else:
                        row.update(resolved_at=_moment(resolved, 16), resolution="已协调解决。")
                        status = "resolved" if r < 0.70 else "closed"
                        if status == "closed":
                            row.update(
                                closed_at=_moment(resolved + timedelta(days=3), 16), close_kind="satisfied"
                            )
                if status in ("assigned", "reopened") and deadline < date(2026, 10, 31):
                    overdue += 1
            row["status"] = status
            statuses[status] += 1
            rows.append(row)
    insert(Problem, rows)
    return {
        "problems": len(rows),
        "by_status": dict(statuses),
        "in_handling_past_deadline_at_2026_10_31": overdue,
    }


# --- region targets, justifications -------------------------------------------------------------


def region_targets(rng: random.Random) -> int:
    from django.db.models import Sum

    from majorprojects.alerts.engine import BOARD_REGION_KINDS
    from majorprojects.alerts.models import RegionTarget
    from majorprojects.organisation.models import Region
    from majorprojects.projects.models import AnnualListing

    rows = []
    for pk, path in Region.objects.filter(kind__in=BOARD_REGION_KINDS).values_list("pk", "path"):
        plan = AnnualListing.objects.filter(year=YEAR, project__region__path__startswith=path).aggregate(
            s=Sum("planned_investment")
        )["s"]
        investment = _wan(float(plan) * rng.uniform(0.9, 1.15)) if plan and rng.random() < 0.5 else None
        rows.append({"region_id": pk, "year": YEAR, "growth_pct": Decimal(rng.choice(("6.00", "8.00", "10.00", "12.00"))),
                     "investment": investment, "note": "2026年全市重大项目建设攻坚行动方案"})  # fmt: skip
    return insert(RegionTarget, rows)


def exemptions(facts: list[Facts], rng: random.Random, count: int = 40) -> int:
    """Approved justifications under the start-overdue rule, September–December 2026, for
    projects in 前期/签约 whose planned start has passed."""
    from majorprojects.accounts.models import User
    from majorprojects.alerts.models import Exemption, Rule, period_index

    rule = Rule.objects.filter(code="start-overdue").first()
    if rule is None:
        return 0
    admin = User.objects.filter(username="admin").values_list("pk", flat=True).first()
    picked = [
        p
        for p in facts
        if p.stage in PRELIMINARY and p.listed and p.planned_start and p.planned_start < date(2026, 9, 1)
    ]
    rows = [
        {
            "rule_id": rule.pk,
            "project_id": p.pk,
            "region_id": p.region_id,
            "period_from": period_index(2026, 9),
            "period_to": period_index(2026, 12),
            "justification": "受上级规划调整影响，项目选址需重新论证，已报市政府同意延期开工。",
            "status": "approved",
            "requested_by_id": admin,
            "requested_at": _moment(date(2026, 9, 5)),
            "decided_by_id": admin,
            "decided_at": _moment(date(2026, 9, 8)),
            "decision_note": "同意。",
        }
        for p in rng.sample(picked, min(count, len(picked)))
    ]
    return insert(Exemption, rows)


# --- all of it --------------------------------------------------------------------------------


def build(seed: int = 5) -> dict:
    """Write everything into a database holding the dispatch dataset and no ledgers yet."""
    from django.db import connection, transaction

    rng = random.Random(seed)
    timings = {}
    out = {}
    started = time.perf_counter()
    facts = project_facts()
    with transaction.atomic():
        for name, step in (
            ("stats_inclusion", lambda: stats_inclusion(facts, rng)),
            ("approvals", lambda: approvals(facts, rng)),
            ("funds", lambda: funds(facts, rng)),
            ("problems", lambda: problems(facts, rng)),
            ("region_targets", lambda: region_targets(rng)),
            ("exemptions", lambda: exemptions(facts, rng)),
        ):
            t = time.perf_counter()
            out[name] = step()
            timings[f"{name}_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["analyze_s"] = round(time.perf_counter() - t, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return {**out, "seconds": timings}
