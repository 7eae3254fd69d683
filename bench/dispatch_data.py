"""Dispatch history for the benchmarks, written in bulk: monthly periods of one schedule, one
report per project and month with plausible amounts and derived totals, and the annual listings
of the years the demo builder does not list.

Rows go in with one multi-row statement stream per backend (PostgreSQL `COPY`, SQLite
`executemany` in one transaction), with the table's secondary indexes dropped during the load
and rebuilt afterwards (the unique constraint stays, so a duplicate still fails the load).
Amounts and totals follow the services' rules: year-to-date and since-start are running sums of
the period amounts (services.recompute_totals), since-start never exceeds the total investment.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Share of a year's investment done in each month (slow January–February, peaks in the second and
# fourth quarters), in percent.
SEASON = (4, 4, 8, 9, 10, 12, 8, 8, 10, 9, 9, 9)

PROGRESS = {
    "preparing": (
        "前期手续办理中，用地预审已受理。",
        "正在开展可研编制和方案比选。",
        "环评、水保报告已报审。",
    ),
    "early": ("完成场地平整和临建设施，桩基施工进行中。", "土方开挖完成约六成，基础施工已展开。"),
    "middle": (
        "主体结构施工中，已完成至第八层。",
        "主要设备基础完成，钢结构吊装进行中。",
        "管网铺设完成过半。",
    ),
    "late": ("主体结构已封顶，二次结构和机电安装进行中。", "设备安装调试中，室外配套工程同步推进。"),
    "done": ("已竣工验收，正在办理结算。", "已投入运营，运行平稳。"),
}
NEXT_PLAN = (
    "加快推进主体施工，确保完成月度投资计划。",
    "协调解决用地和资金问题，加快办理施工许可。",
    "抓好安全生产和质量管理，推进设备采购。",
    "完成年度形象进度目标，做好入统准备。",
)
# The open (last) month of the scale dataset: approved mostly, some still under review.
LAST_MONTH_MIX = (("approved", 80), ("submitted", 8), ("returned", 2), ("draft", 3), ("pending", 7))
MISSING_SHARE = 0.03  # closed months: reports never sent
LATE_SHARE = 0.08

COLUMNS = (
    "period_id",
    "project_id",
    "period_end",
    "status",
    "investment",
    "year_to_date",
    "since_start",
    "progress",
    "percent_complete",
    "problems",
    "next_plan",
    "note",
    "return_reason",
    "version",
    "last_key",
    "submitted_at",
    "is_late",
    "reviewed_at",
    "updated_at",
)


def build_city(projects: int) -> dict:
    """The demo city with `projects` projects, without the demo's own dispatch history (this
    module writes the benchmark's)."""

    from majorprojects.demo.builder import build_demo

    return build_demo(projects=projects, history=False)


def month_list(last: tuple[int, int], count: int) -> list[tuple[int, int]]:
    """`count` consecutive (year, month) pairs ending with `last`."""
    year, month = last
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def monthly_schedule(first: date):
    """The default monthly schedule (migration 0002), starting early enough for the history."""
    from majorprojects.reporting.models import Frequency, Schedule

    schedule = Schedule.objects.filter(frequency=Frequency.MONTHLY).order_by("order").first()
    schedule.starts_on = min(schedule.starts_on, first)
    schedule.save(update_fields=["starts_on"])
    return schedule


def create_periods(schedule, months: list[tuple[int, int]], *, open_months: int = 1) -> list:
    """One period per month; all but the last `open_months` locked a few days after they fell due."""
    from django.utils import timezone

    from majorprojects.reporting.models import Period
    from majorprojects.reporting.periods import span_for

    periods = []
    for index, (year, month) in enumerate(months):
        span = span_for(schedule, date(year, month, 1))
        locked = index < len(months) - open_months
        periods.append(
            Period(
                schedule=schedule,
                frequency=schedule.frequency,
                year=span.year,
                number=span.number,
                label=span.label,
                starts_on=span.starts_on,
                ends_on=span.ends_on,
                due_on=span.due_on,
                late_after=span.late_after,
                locked_at=timezone.make_aware(
                    datetime.combine(span.late_after + timedelta(days=5), datetime.min.time())
                )
                if locked
                else None,
            )
        )
    Period.objects.bulk_create(periods)
    return list(
        Period.objects.filter(schedule=schedule, starts_on__gte=periods[0].starts_on).order_by("starts_on")
    )


@dataclass
class ProjectFacts:
    pk: int
    total: int  # cents
    prior: int  # cents
    start: date | None
    done: date | None
    planned_done: date | None
    plans: dict[int, tuple[int, str, str]]  # year → (planned investment in cents, list kind, key level)


def project_facts(project_ids: Iterable[int] | None = None) -> list[ProjectFacts]:
    """What the generator needs of every non-package project (or of the given ones)."""
    from majorprojects.projects.models import AnnualListing, Project

    qs = Project.objects.filter(is_package=False)
    if project_ids is not None:
        qs = qs.filter(pk__in=list(project_ids))
    plans: dict[int, dict] = {}
    for pid, year, planned, kind, key in AnnualListing.objects.filter(
        project__in=qs.values("pk")
    ).values_list("project_id", "year", "planned_investment", "list_kind", "key_level"):
        plans.setdefault(pid, {})[year] = (int(planned * 100), kind, key)
    rows = qs.order_by("pk").values_list(
        "pk",
        "total_investment",
        "prior_investment",
        "actual_start_date",
        "actual_completion_date",
        "planned_completion_date",
    )
    return [
        ProjectFacts(
            pk, int(total * 100), int((prior or 0) * 100), start, done, planned_done, plans.get(pk, {})
        )
        for pk, total, prior, start, done, planned_done in rows
    ]


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


def _building(p: ProjectFacts, year: int, month: int) -> bool:
    return (
        bool(p.start)
        and p.start <= _month_end(year, month)
        and (p.done is None or p.done >= date(year, month, 1))
    )


def _year_targets(p: ProjectFacts, years: list[int], rng: random.Random) -> dict[int, int]:
    """Investment (cents) the project does in each year it builds: near the year's listed plan
    when there is one, else an even share of its remaining investment over its building years."""
    if not p.start:
        return {}
    last = (p.done or p.planned_done or date(max(years), 12, 31)).year
    span_years = max(1, last - p.start.year + 1)
    remaining = max(0, p.total - p.prior)
    out = {}
    for year in years:
        if not (p.start.year <= year <= max(last, p.start.year)):
            continue
        plan = p.plans.get(year)
        if plan and plan[1] == "construction" and plan[0] > 0:
            out[year] = int(plan[0] * rng.uniform(0.75, 1.05))
        else:
            out[year] = int(remaining / span_years * rng.uniform(0.8, 1.1))
    return out


def _fmt_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _stage_text(percent: int | None) -> str:
    if percent is None:
        return "preparing"
    if percent >= 100:
        return "done"
    return "early" if percent < 30 else "middle" if percent < 75 else "late"


def report_rows(
    facts: list[ProjectFacts],
    periods: list,
    rng: random.Random,
    *,
    postgres: bool,
    open_mix=LAST_MONTH_MIX,
) -> Iterator[tuple]:
    """One row (in COLUMNS order) per project and period. The last period is "open": its reports
    follow `open_mix`; earlier ones are locked except the few never sent (pending)."""
    months = [(p.ends_on.year, p.ends_on.month) for p in periods]
    years = sorted({y for y, _ in months})
    weights = [w for _, w in open_mix]
    kinds = [k for k, _ in open_mix]
    tz = "+00" if postgres else ""
    for p in facts:
        targets = _year_targets(p, years, rng)
        building_months = {y: [m for m in range(1, 13) if _building(p, y, m)] for y in targets}
        cap = int(max(0, p.total - p.prior) * 0.97)
        since_start = p.prior
        year, year_total = None, 0
        first_build = p.start
        last_build = p.done or p.planned_done
        for index, period in enumerate(periods):
            y, m = months[index]
            if y != year:
                year, year_total = y, 0
            last = index == len(periods) - 1
            status = (
                rng.choices(kinds, weights)[0]
                if last
                else ("pending" if rng.random() < MISSING_SHARE else "locked")
            )
            building = _building(p, y, m)
            amount = 0
            if building and y in targets:
                share = sum(SEASON[b - 1] for b in building_months[y]) or 1
                amount = int(targets[y] * SEASON[m - 1] / share * rng.uniform(0.85, 1.15))
                amount = max(0, min(amount, cap - (since_start - p.prior)))
            if status == "pending":
                investment = None
                amount = 0
            else:
                investment = amount
            since_start += amount
            year_total += amount
            if first_build and first_build <= period.ends_on:
                end = (
                    last_build
                    if last_build and last_build > first_build
                    else first_build + timedelta(days=730)
                )
                whole = max(1, (end - first_build).days)
                percent = min(100, max(1, (period.ends_on - first_build).days * 100 // whole))
            else:
                percent = None
            sent = status != "pending"
            submitted = None
            reviewed = None
            late = False
            if sent and status != "draft":
                late = rng.random() < LATE_SHARE
                day = (
                    period.late_after + timedelta(days=rng.randint(1, 6))
                    if late
                    else period.due_on - timedelta(days=rng.randint(0, 8))
                )
                submitted = f"{day.isoformat()} 0{rng.randint(1, 9)}:{rng.randint(10, 59)}:00{tz}"
                if status in ("locked", "approved", "returned"):
                    reviewed = f"{(day + timedelta(days=rng.randint(1, 3))).isoformat()} 08:00:00{tz}"
            progress = rng.choice(PROGRESS[_stage_text(percent)]) if sent else ""
            yield (
                period.pk,
                p.pk,
                period.ends_on.isoformat(),
                status,
                None if investment is None else _fmt_cents(investment),
                _fmt_cents(year_total),
                _fmt_cents(since_start),
                progress,
                None if percent is None or not sent else f"{percent}.00",
                "",
                rng.choice(NEXT_PLAN) if sent else "",
                "",
                "请补充形象进度照片。" if status == "returned" else "",
                3 if sent else 1,
                "",
                submitted,
                late,
                reviewed,
                reviewed or submitted or f"{period.starts_on.isoformat()} 00:00:00{tz}",
            )


def extra_listings(facts: list[ProjectFacts], years: list[int], rng: random.Random) -> list:
    """Construction listings for the years the demo does not list (it lists last year and this
    year), for projects building in that year, with a plan near what they then did."""
    from decimal import Decimal

    from majorprojects.projects.models import AnnualListing, ListKind

    rows = []
    for p in facts:
        for year, cents in _year_targets(p, years, rng).items():
            if year in p.plans:
                continue
            new_start = p.start.year == year
            rows.append(
                AnnualListing(
                    project_id=p.pk,
                    year=year,
                    list_kind=ListKind.CONSTRUCTION,
                    planned_investment=Decimal(_fmt_cents(int(cents * rng.uniform(0.95, 1.25)))),
                    planned_start=p.start if new_start else None,
                    is_new_start=new_start,
                    target="完成年度投资计划和形象进度目标。",
                )
            )
            p.plans[year] = (cents, ListKind.CONSTRUCTION, "")
    AnnualListing.objects.bulk_create(rows, batch_size=5000)
    return rows


# --- bulk load ------------------------------------------------------------------------------------


def _secondary_indexes(cursor, vendor: str, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's plain indexes (not the primary key or constraints)."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [table],
        )
        return list(cursor.fetchall())
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = %s AND i.indexname NOT IN (
               SELECT c.conname FROM pg_constraint c WHERE c.conrelid = %s::regclass)""",
        [table, table],
    )
    return list(cursor.fetchall())


def load_reports(rows: Iterator[tuple], *, chunk: int = 50000) -> dict:
    """Insert report rows as fast as the backend allows; returns counts and seconds."""
    from django.db import connection, transaction

    table = "reporting_report"
    started = time.perf_counter()
    count = 0
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, connection.vendor, table)
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # The rows reference periods and projects just read from the database: skip the
            # per-row foreign-key triggers for this load only (superuser on the bench cluster).
            cursor.execute("SET LOCAL session_replication_role = replica")
            copy_sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
    else:
        placeholders = ", ".join("?" for _ in COLUMNS)
        sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        raw = connection.connection if connection.connection else None
        if raw is None:
            connection.ensure_connection()
            raw = connection.connection
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB page cache for the load
        with transaction.atomic():
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    raw.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                raw.executemany(sql, batch)
                count += len(batch)
    loaded = time.perf_counter()
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
    return {
        "rows": count,
        "load_seconds": round(loaded - started, 1),
        "index_seconds": round(time.perf_counter() - loaded, 1),
    }


# --- YearDone (the counted money per project, year and month the figures read) -------------------


def _year_done_insert_sql(vendor: str) -> str:
    """The whole of YearDone in one INSERT … SELECT: the same grouping as
    totals._counted_by_month (counted statuses, non-null amounts, by project and period_end's
    year, one sum per month, 0 for a month without money)."""
    from majorprojects.reporting.models import COUNTED

    statuses = ", ".join(f"'{s}'" for s in COUNTED)
    if vendor == "postgresql":
        year = "EXTRACT(YEAR FROM period_end)::int"
        month = "EXTRACT(MONTH FROM period_end)::int"
        wrap = "{}"
    else:  # SQLite keeps dates as 'YYYY-MM-DD' text; round the float sums as Django's converter does
        year = "CAST(substr(period_end, 1, 4) AS INTEGER)"
        month = "CAST(substr(period_end, 6, 2) AS INTEGER)"
        wrap = "ROUND({}, 2)"
    months = ",\n               ".join(
        "COALESCE(" + wrap.format(f"SUM(CASE WHEN {month} = {m} THEN investment END)") + ", 0)"
        for m in range(1, 13)
    )
    columns = ", ".join(f"m{m}" for m in range(1, 13))
    return f"""
        INSERT INTO reporting_yeardone (project_id, year, {columns})
        SELECT project_id, {year}, {months}
        FROM reporting_report
        WHERE status IN ({statuses}) AND investment IS NOT NULL
        GROUP BY project_id, {year}"""


def fill_year_done(method: str = "orm") -> dict:
    """Fill YearDone from the loaded reports: `orm` = totals.year_done_rebuild() (what
    `manage.py rebuild_dispatch_totals` runs), `sql` = one INSERT … SELECT. Either way the
    result is then checked against year_done_rebuild on a sample (check_year_done)."""
    from django.db import connection, transaction

    from majorprojects.reporting.models import YearDone
    from majorprojects.reporting.totals import year_done_rebuild

    started = time.perf_counter()
    with transaction.atomic():
        if method == "orm":
            rows = year_done_rebuild()
        elif method == "sql":
            YearDone.objects.all().delete()
            with connection.cursor() as cursor:
                cursor.execute(_year_done_insert_sql(connection.vendor))
                rows = cursor.rowcount
        else:
            raise ValueError(method)
    return {"method": method, "rows": rows, "seconds": round(time.perf_counter() - started, 1)}


def _year_done_rows(project_ids: list[int]) -> dict[tuple[int, int], tuple]:
    from decimal import Decimal

    from majorprojects.reporting.models import YearDone

    months = [f"m{m}" for m in range(1, 13)]
    return {
        (row[0], row[1]): tuple(Decimal(v).quantize(Decimal("0.01")) for v in row[2:])
        for row in YearDone.objects.filter(project_id__in=project_ids).values_list(
            "project_id", "year", *months
        )
    }


def check_year_done(sample: int = 500, seed: int = 7) -> dict:
    """Compare YearDone with what year_done_rebuild writes, on a sample of projects (rebuilt in a
    transaction that is rolled back), and its grand total with the counted reports'."""
    from decimal import Decimal

    from django.db import connection, transaction
    from django.db.models import Sum

    from majorprojects.projects.models import Project
    from majorprojects.reporting.models import COUNTED, Report
    from majorprojects.reporting.totals import year_done_rebuild

    ids = list(Project.objects.values_list("pk", flat=True))
    picked = sorted(random.Random(seed).sample(ids, min(sample, len(ids))))
    loaded = _year_done_rows(picked)
    with transaction.atomic():
        year_done_rebuild(picked)
        rebuilt = _year_done_rows(picked)
        transaction.set_rollback(True)
    differing = [k for k in set(loaded) | set(rebuilt) if loaded.get(k) != rebuilt.get(k)]
    months = " + ".join(f"m{m}" for m in range(1, 13))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM({months}) FROM reporting_yeardone")
        year_done_total = Decimal(str(cursor.fetchone()[0] or 0)).quantize(Decimal("0.01"))
    reports_total = Decimal(
        str(Report.objects.filter(status__in=COUNTED).aggregate(s=Sum("investment"))["s"] or 0)
    ).quantize(Decimal("0.01"))
    return {
        "sample_projects": len(picked),
        "sample_rows": len(rebuilt),
        "sample_rows_differing": len(differing),
        "differing_examples": [str(k) for k in differing[:5]],
        "total_year_done": str(year_done_total),
        "total_counted_reports": str(reports_total),
        "totals_difference": str(year_done_total - reports_total),
        # SQLite sums decimals as floats: a few cents of rounding over millions of rows.
        "totals_equal": abs(year_done_total - reports_total) <= Decimal("0.10"),
    }
