"""The rule engine: `scan(year, month)` lights projects and regions for one month.

For every active rule that applies in the year and is past its grace:
1. the metric computes a value per subject in the rule's scope (alerts.metrics, bulk);
2. a subject whose value meets the base threshold (yellow, or red when there is no yellow) has
   a *hit*; hits are kept in `Hit` rows with the number of consecutive months (the streak), so
   "for K months in a row" needs only last month's hits;
3. the light: red when the value meets the red threshold, or when the streak has reached
   `red_after`; else yellow when the streak has reached `yellow_after`; else none (green);
4. a subject with an approved justification (正当理由) covering the month gets no warning;
5. warnings are created, updated or cleared so that a rerun changes nothing:
   - a new warning links to last month's warning of the same rule and subject (`carried_from`);
     if that one was still being worked on (notified / rectifying / rectified) the new one starts
     in the same state with the same plan and deadline; yellow last month and red now is
     `escalated`;
   - an existing warning keeps its workflow state; its light, value and evidence follow the
     data (the light reflects the month's data, so it may also go down);
   - a warning whose condition no longer holds is deleted while still `issued`, otherwise kept
     and marked `condition_cleared` (条件已消除).

Queries are per rule, never per subject: bulk reads, bulk_create, bulk_update (docs/alerts.md)."""

from __future__ import annotations

import calendar
import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from majorprojects.organisation.models import Region, RegionKind, Unit, UnitKind
from majorprojects.projects.models import AnnualListing, Project, ProjectFunding

from .models import (
    CARRIED_STATUSES,
    GREEN,
    LIGHT_RANK,
    Exemption,
    ExemptionStatus,
    Hit,
    Light,
    Rule,
    Status,
    Subject,
    Warning,
    period_index,
)
from .rules import registry

BATCH = 2000
VALUE_PLACES = Decimal("0.0001")
BOARD_REGION_KINDS = (RegionKind.DISTRICT, RegionKind.COUNTY, RegionKind.COUNTY_CITY, RegionKind.ZONE)
LOADED_FIELDS = ["pk", "project_id", "region_id", "status", "light", "value", "evidence", "streak",
                 "escalated", "condition_cleared", "carried_from_id", "responsible_unit_id", "leader_id"]  # fmt: skip
INSERT_FIELDS = ["rule", "subject", "project", "region", "year", "month", "light", "value", "evidence", "streak",
                 "responsible_unit", "leader", "status", "condition_cleared", "carried_from", "escalated", "plan",
                 "deadline", "rectification", "note", "notified_at", "created_at", "updated_at", "version"]  # fmt: skip
UPDATE_FIELDS = ["light", "value", "evidence", "streak", "escalated", "condition_cleared", "carried_from",
                 "responsible_unit", "leader", "region"]  # fmt: skip


@dataclass
class ScanResult:
    year: int
    month: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cleared: int = 0
    by_light: dict = field(default_factory=lambda: {Light.RED.value: 0, Light.YELLOW.value: 0})
    skipped: dict = field(default_factory=dict)  # rule code → reason (grace, unknown metric)
    rules: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "period": f"{self.year}-{self.month:02d}",
            "rules": self.rules,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "cleared": self.cleared,
            "by_light": dict(self.by_light),
            "skipped": dict(self.skipped),
            "seconds": round(self.seconds, 2),
        }

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.cleared)


def period_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def light_for(rule: Rule, value, streak: int) -> str:
    """The light for a value that is a hit with `streak` consecutive months (this one included);
    GREEN when the value is no hit (streak 0) or has not lasted long enough."""
    if value is None or streak <= 0:
        return GREEN
    if rule.red_threshold is not None and meets(rule, value, rule.red_threshold):
        return Light.RED
    if rule.red_after and streak >= rule.red_after:
        return Light.RED
    if streak >= rule.yellow_after:
        return Light.YELLOW
    return GREEN


def meets(rule_or_metric, value, threshold: Decimal) -> bool:
    worse_high = _higher_is_worse(rule_or_metric)
    return value >= threshold if worse_high else value <= threshold


def _higher_is_worse(rule_or_metric) -> bool:
    if isinstance(rule_or_metric, Rule):
        metric = registry().get(rule_or_metric.metric)
        return True if metric is None else metric.higher_is_worse
    return rule_or_metric.higher_is_worse


def base_threshold(rule: Rule) -> Decimal:
    return rule.yellow_threshold if rule.yellow_threshold is not None else rule.red_threshold


def _value(raw) -> Decimal | None:
    if raw is None:
        return None
    return Decimal(str(raw)).quantize(VALUE_PLACES)


def _json(data) -> dict:
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, sort_keys=True))


def _number(value: Decimal | None):
    return None if value is None else str(value.normalize())


# --- Scope ----------------------------------------------------------------------------------


def rule_projects(rule: Rule, year: int):
    """The rule's projects for a year: lists/levels via that year's annual listing, programmes
    via the funding breakdown, regions by subtree, stages; packages are never lit themselves."""
    qs = Project.objects.filter(is_package=False)
    if rule.scope_lists or rule.scope_levels:
        listings = AnnualListing.objects.filter(year=year)
        if rule.scope_lists:
            listings = listings.filter(list_kind__in=rule.scope_lists)
        if rule.scope_levels:
            listings = listings.filter(key_level__in=rule.scope_levels)
        qs = qs.filter(pk__in=listings.values("project_id"))
    if rule.scope_programmes:
        funded = ProjectFunding.objects.filter(source__in=rule.scope_programmes, amount__gt=0)
        qs = qs.filter(pk__in=funded.values("project_id"))
    if rule.scope_regions:
        qs = qs.filter(_region_q(rule.scope_regions, "region__"))
    if rule.scope_stages:
        qs = qs.filter(stage__in=rule.scope_stages)
    return qs


def rule_regions(rule: Rule):
    """Regions lit by a region rule: the county-level divisions and zones (in the rule's regions)."""
    qs = Region.objects.filter(kind__in=BOARD_REGION_KINDS)
    if rule.scope_regions:
        qs = qs.filter(_region_q(rule.scope_regions, ""))
    return qs


def _region_q(codes: list[str], prefix: str) -> Q:
    paths = Region.objects.filter(code__in=codes).values_list("path", flat=True)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


# --- Bulk writes ----------------------------------------------------------------------------


def fast_insert(model, objs: list[dict], fields: list[str]) -> None:
    """INSERT rows (dicts by attname: "rule_id", "value" …) with one executemany per batch. The ORM's bulk_create
    prepares every value through the field and rebuilds the statement per batch (SQLite allows
    only ~999 parameters a statement, so a batch is a few dozen rows): most of a large first
    scan's time. Values are adapted as the ORM does — JSON, dates and times through the field,
    the rest (ints, text, booleans, Decimals, None) as they are."""
    if not objs:
        return
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    special = {
        i
        for i, f in enumerate(columns)
        if f.get_internal_type() in ("JSONField", "DateTimeField", "DateField")
    }
    # Table and column names come from the model's meta, quoted; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        qn(model._meta.db_table), ", ".join(qn(f.column) for f in columns), ", ".join(["%s"] * len(columns))
    )
    attnames = [f.attname for f in columns]
    prepared: dict = {}  # (column, value) → prepared value, for the hashable ones (dates, times, None)
    rows = []
    for obj in objs:
        row = [obj[name] for name in attnames]
        for i in special:
            value = row[i]
            if isinstance(value, dict | list):
                row[i] = columns[i].get_db_prep_save(value, conn)
                continue
            key = (i, value)
            if key not in prepared:
                prepared[key] = columns[i].get_db_prep_save(value, conn)
            row[i] = prepared[key]
        rows.append(row)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            copy_sql = "COPY {} ({}) FROM STDIN".format(
                qn(model._meta.db_table), ", ".join(qn(f.column) for f in columns)
            )
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


# --- The scan -------------------------------------------------------------------------------


class _Subjects:
    """Region, responsible unit and leader of every subject, read once per scan."""

    def __init__(self):
        self._projects = None
        self._regions = None

    def project(self, pk):
        if self._projects is None:
            self._projects = {
                row[0]: row[1:]
                for row in Project.objects.filter(is_package=False).values_list(
                    "pk", "region_id", "owner_unit_id", "package_leader_id"
                )
            }
        return self._projects.get(pk)

    def region(self, pk):
        if self._regions is None:
            governments = {}
            for unit_id, region_id in (
                Unit.objects.filter(kind=UnitKind.GOVERNMENT, is_active=True)
                .order_by("-pk")
                .values_list("pk", "region_id")
            ):
                governments[region_id] = unit_id  # the oldest government unit of the region wins
            self._regions = governments
        return (pk, self._regions.get(pk), None)


def _applies(rule: Rule, year: int, month: int, today: date) -> str:
    """'' when the rule applies to the month, else the reason it is skipped."""
    if not rule.applies_in(year):
        return "不在适用年度"
    if month <= rule.grace_months:
        return f"每年前{rule.grace_months}个月不亮灯"
    if rule.grace_days and today < period_end(year, month) + timedelta(days=rule.grace_days):
        return f"期末后{rule.grace_days}天宽限期未满"
    if rule.metric not in registry():
        return f"未知指标“{rule.metric}”"
    return ""


def scan(year: int, month: int, *, rules=None, today: date | None = None) -> ScanResult:
    """Evaluate the active rules (or the given ones) for a month. Idempotent."""
    from .metrics import ScanContext

    started = time.monotonic()
    today = today or timezone.localdate()
    end = period_end(year, month)
    result = ScanResult(year=year, month=month)
    cache: dict = {}  # shared by the rules' metrics for this scan only (e.g. the region money)
    every_rule = rules is None
    if rules is None:
        rules = Rule.objects.filter(is_active=True).order_by("sort_order", "code")
    subjects = _Subjects()
    for rule in rules:
        reason = _applies(rule, year, month, today)
        if reason:
            result.skipped[rule.code] = reason
            if not (rule.grace_days and reason.startswith("期末后")):  # not "not yet": "not at all"
                _clear(rule, year, month, subjects, result)
            continue
        metric = registry()[rule.metric]
        ctx = ScanContext(
            year=year,
            month=month,
            period_end=end,
            today=min(today, end),
            projects=rule_projects(rule, year),
            regions=rule_regions(rule),
            params=dict(rule.params or {}),
            cache=cache,
        )
        readings = metric.compute(ctx)
        with transaction.atomic():
            # One scan of a rule at a time (the daily job and the button, or two admins): the
            # second waits here and then finds the first one's rows instead of inserting twice.
            Rule.objects.select_for_update().filter(pk=rule.pk).exists()
            _apply(rule, metric, year, month, readings, subjects, result)
        result.rules += 1
    if every_rule:  # a rule switched off since the last scan of the month stops lighting it
        for rule in Rule.objects.filter(
            is_active=False, warnings__year=year, warnings__month=month
        ).distinct():
            _clear(rule, year, month, subjects, result)
    result.by_light = _light_counts(year, month)
    result.seconds = time.monotonic() - started
    return result


def _clear(rule: Rule, year: int, month: int, subjects, result: ScanResult) -> None:
    """The month's warnings of a rule that no longer applies to it (switched off, outside its
    years or in its grace months) go as when their condition clears: untouched ones are deleted,
    worked ones kept and marked 条件已消除."""
    metric = registry().get(rule.metric)
    if metric is None or not Warning.objects.filter(rule=rule, year=year, month=month).exists():
        return
    with transaction.atomic():
        Rule.objects.select_for_update().filter(pk=rule.pk).exists()
        _apply(rule, metric, year, month, {}, subjects, result)


def _light_counts(year: int, month: int) -> dict:
    counts = {Light.RED.value: 0, Light.YELLOW.value: 0}
    rows = (
        Warning.objects.filter(year=year, month=month, condition_cleared=False)
        .exclude(status=Status.EXEMPTED)
        .values_list("light", flat=True)
    )
    for light in rows.iterator(chunk_size=BATCH):
        counts[light] += 1
    return counts


def _exempted(rule: Rule, period: int) -> set[int]:
    if not rule.exemptable:
        return set()
    field_name = "project_id" if rule.subject == Subject.PROJECT else "region_id"
    return set(
        Exemption.objects.filter(
            rule=rule, status=ExemptionStatus.APPROVED, period_from__lte=period, period_to__gte=period
        ).values_list(field_name, flat=True)
    )


def _sync_hits(rule: Rule, period: int, hits: dict[int, Decimal]) -> dict[int, int]:
    """Store this month's hits with their streaks; return subject → streak."""
    previous = dict(Hit.objects.filter(rule=rule, period=period - 1).values_list("subject_id", "streak"))
    streaks = {pk: previous.get(pk, 0) + 1 for pk in hits}
    existing = {
        row[1]: row
        for row in Hit.objects.filter(rule=rule, period=period).values_list(
            "pk", "subject_id", "value", "streak"
        )
    }
    gone = [row[0] for pk, row in existing.items() if pk not in hits]
    for start in range(0, len(gone), BATCH):
        Hit.objects.filter(pk__in=gone[start : start + BATCH]).delete()
    create, update = [], []
    for pk, value in hits.items():
        row = existing.get(pk)
        if row is None:
            create.append(
                {
                    "rule_id": rule.pk,
                    "subject_id": pk,
                    "period": period,
                    "value": value,
                    "streak": streaks[pk],
                }
            )
        elif row[2] != value or row[3] != streaks[pk]:
            update.append(Hit(pk=row[0], value=value, streak=streaks[pk]))
    fast_insert(Hit, create, ["rule", "subject_id", "period", "value", "streak"])
    Hit.objects.bulk_update(update, ["value", "streak"], batch_size=BATCH)
    return streaks


def _apply(rule, metric, year, month, readings, subjects, result) -> None:
    period = period_index(year, month)
    is_project = rule.subject == Subject.PROJECT
    base = base_threshold(rule)
    hits: dict[int, Decimal] = {}
    evidence_of: dict[int, dict] = {}
    for pk, reading in readings.items():
        value = _value(reading.value)
        if value is None or not meets(metric, value, base):
            continue
        hits[pk] = value
        evidence_of[pk] = reading.evidence
    streaks = _sync_hits(rule, period, hits)
    exempted = _exempted(rule, period)
    thresholds = {
        "metric": rule.metric,
        "unit": metric.unit,
        "yellow": _number(rule.yellow_threshold),
        "red": _number(rule.red_threshold),
        "yellow_after": rule.yellow_after,
        "red_after": rule.red_after,
    }
    lit: dict[int, str] = {}
    for pk, value in hits.items():
        if pk in exempted:
            continue
        light = light_for(rule, value, streaks[pk])
        if light != GREEN:
            lit[pk] = light

    key = "project_id" if is_project else "region_id"
    scope = Warning.objects.filter(rule=rule, year=year, month=month, project__isnull=not is_project)
    existing = {}
    for row in scope.values_list(*LOADED_FIELDS):
        loaded = dict(zip(LOADED_FIELDS, row, strict=True))
        existing[loaded[key]] = loaded
    prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    previous = {
        row[0]: row[1:]
        for row in Warning.objects.filter(
            rule=rule, year=prev_year, month=prev_month, project__isnull=not is_project
        ).values_list(key, "pk", "status", "light", "plan", "deadline", "rectification", "notified_at")
    }

    now = timezone.now()
    fresh = {"rule_id": rule.pk, "subject": rule.subject, "year": year, "month": month, "status": Status.ISSUED,
             "plan": "", "deadline": None, "rectification": "", "note": "", "notified_at": None,
             "created_at": now, "updated_at": now, "version": 1}  # fmt: skip
    create, update = [], []
    for pk, light in lit.items():
        info = subjects.project(pk) if is_project else subjects.region(pk)
        if info is None:
            continue
        region_id, unit_id, leader_id = info
        prev = previous.get(pk)
        evidence = _json({"reading": evidence_of[pk], "streak": streaks[pk], **thresholds})
        values = {
            "light": light,
            "value": hits[pk],
            "evidence": evidence,
            "streak": streaks[pk],
            "escalated": bool(prev and prev[2] == Light.YELLOW and light == Light.RED),
            "condition_cleared": False,
            "carried_from_id": prev[0] if prev else None,
            "responsible_unit_id": unit_id,
            "leader_id": leader_id,
            "region_id": region_id,
        }
        loaded = existing.get(pk)
        if loaded is None:
            row = {**fresh, **values, "project_id": pk if is_project else None}
            if prev and prev[1] in CARRIED_STATUSES:
                row["status"] = prev[1]
                row["plan"], row["deadline"], row["rectification"], row["notified_at"] = prev[3:]
            create.append(row)
            continue
        if all(loaded[name] == value for name, value in values.items()):
            result.unchanged += 1
            continue
        update.append(Warning(pk=loaded["pk"], **values))

    remove, cleared = [], []
    for pk, loaded in existing.items():
        if pk in lit:
            continue
        if loaded["status"] == Status.ISSUED:
            remove.append(loaded["pk"])
        elif loaded["status"] in CARRIED_STATUSES and not loaded["condition_cleared"]:
            cleared.append(Warning(pk=loaded["pk"], condition_cleared=True))
        else:
            result.unchanged += 1
    # Only a warning nobody has touched goes: still issued (a concurrent step may have moved it
    # since it was read) and without a justification request; the others are marked cleared.
    kept = (
        set(
            Warning.objects.filter(pk__in=remove)
            .exclude(status=Status.ISSUED, exemptions__isnull=True)
            .values_list("pk", flat=True)
        )
        if remove
        else set()
    )
    if kept:
        cleared += [Warning(pk=pk, condition_cleared=True) for pk in kept]
        remove = [pk for pk in remove if pk not in kept]
    for start in range(0, len(remove), BATCH):
        Warning.objects.filter(carried_from_id__in=remove[start : start + BATCH]).update(carried_from=None)
        Warning.objects.filter(
            pk__in=remove[start : start + BATCH], status=Status.ISSUED, exemptions__isnull=True
        ).delete()
    fast_insert(Warning, create, INSERT_FIELDS)
    Warning.objects.bulk_update(update, UPDATE_FIELDS, batch_size=BATCH)
    Warning.objects.bulk_update(cleared, ["condition_cleared"], batch_size=BATCH)
    result.created += len(create)
    result.updated += len(update)
    result.cleared += len(remove) + len(cleared)


def light_rank(light: str) -> int:
    return LIGHT_RANK[light]
