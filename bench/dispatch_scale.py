"""Time the dispatch overview aggregates at province scale: 50,000 projects × 60 months of reports.

    uv run python bench/dispatch_scale.py                                  # SQLite, var/bench-dispatch.sqlite3
    scripts/with_postgres.sh uv run python bench/dispatch_scale.py --postgres

Builds the dataset first if it is missing (the demo city with --projects projects, then one monthly
report per project and month for --months months ending --last, written in bulk; see
dispatch_data.py), then fills YearDone from the reports (--year-done orm: the code's own
totals.year_done_rebuild(); sql: one INSERT … SELECT) and checks it against year_done_rebuild on a
sample. A kept SQLite file whose schema misses a migration is rebuilt. Then, for the city admin (every project) and one county account (its scoped
queryset, accounts.scope.visible_projects), it times the calls the overview page makes —
reporting.selectors.month_summary, month_table by region, sector and list, and trend — for the
last month and a few earlier ones: warm (median of --runs after one warm-up, in one process) and
cold (median of --cold-runs first calls, each in a fresh process after the OS page cache is
dropped and, on PostgreSQL, the server restarted). Each is compared with the same figures
computed by ONE hand-written SQL query over the reports (the floor: the natural single query),
and for reference by one query over YearDone; both are checked against the selector's result.

--extra-sql applies statements (e.g. a proposed index) to the bench database before timing, to
measure a change without touching the code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from common import BENCH_DISPATCH_SQLITE, ROOT, backend_label, setup

TARGET_MS = 500
TARGET_RATIO = 2.0
USERS = {"admin": "市级管理员（全市）", "linchuan": "县区账号（临川区）"}
CALLS = ("summary", "region", "sector", "list", "trend")
CALL_LABELS = {
    "summary": "month_summary",
    "region": 'month_table "region"',
    "sector": 'month_table "sector"',
    "list": 'month_table "list"',
    "trend": "trend",
}


def parse_month(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


def start(args) -> None:
    setup(args.postgres, args.sqlite)


# --- dataset --------------------------------------------------------------------------------------


def generate(args) -> dict:
    """Build the dataset into an empty database (or report the one already there)."""
    start(args)
    import random

    import dispatch_data as data
    from django.core.management import call_command
    from django.db import connection, transaction

    from majorprojects.projects.models import AnnualListing, Project
    from majorprojects.reporting.models import Period, Report, YearDone

    stale = schema_is_stale()
    if not args.postgres and (args.rebuild or stale):
        # A kept SQLite dataset built by older code (a migration not applied, e.g. YearDone's) is
        # rebuilt rather than migrated: the generator's output may have changed with it.
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            args.sqlite.with_name(args.sqlite.name + suffix).unlink(missing_ok=True)
    elif stale:
        raise SystemExit("the dispatch benchmark database has unapplied migrations; use an empty one")
    call_command("migrate", verbosity=0)
    existing = Report.objects.count()
    if existing:
        if not YearDone.objects.exists():
            raise SystemExit("the dispatch benchmark database has no YearDone rows; rerun with --rebuild")
        return {
            "reused": True,
            "reports": existing,
            "year_done_rows": YearDone.objects.count(),
            "rebuilt_because_stale": False,
            **database_size(),
        }
    if Project.objects.exists():
        raise SystemExit(
            "the dispatch benchmark database holds projects but no reports; rerun with --rebuild"
        )
    months = data.month_list(args.last, args.months)
    timings = {}
    started = time.perf_counter()
    counts = data.build_city(args.projects)
    timings["projects_s"] = round(time.perf_counter() - started, 1)

    step = time.perf_counter()
    rng = random.Random(60)
    with transaction.atomic():
        schedule = data.monthly_schedule(date(*months[0], 1))
        periods = data.create_periods(schedule, months, open_months=1)
        facts = data.project_facts()
        listed_years = set(AnnualListing.objects.values_list("year", flat=True).distinct())
        years = sorted({y for y, _ in months} - listed_years)
        listings = data.extra_listings(facts, years, rng)
    timings["periods_listings_s"] = round(time.perf_counter() - step, 1)

    load = data.load_reports(data.report_rows(facts, periods, rng, postgres=args.postgres))
    timings.update({"reports_load_s": load["load_seconds"], "reports_index_s": load["index_seconds"]})
    # YearDone, the counted money per project and year that the month's figures read.
    year_done = data.fill_year_done(args.year_done)
    timings["year_done_s"] = year_done["seconds"]
    step = time.perf_counter()
    # Planner statistics, and on PostgreSQL the visibility map (index-only scans), as autovacuum
    # would have left them on a live database.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            cursor.execute("VACUUM ANALYZE")
    timings["analyze_s"] = round(time.perf_counter() - step, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    step = time.perf_counter()
    year_done_check = data.check_year_done()
    year_done_check["seconds"] = round(time.perf_counter() - step, 1)
    if year_done_check["sample_rows_differing"] or not year_done_check["totals_equal"]:
        raise SystemExit(f"YearDone differs from year_done_rebuild: {year_done_check}")
    return {
        "reused": False,
        "rebuilt_because_stale": stale,
        "year_done_method": year_done["method"],
        "year_done_rows": year_done["rows"],
        "year_done_check": year_done_check,
        "projects": counts["projects"],
        "reporting_projects": len(facts),
        "periods": len(periods),
        "reports": load["rows"],
        "extra_listings": len(listings),
        "listings": AnnualListing.objects.count(),
        "first_month": str(Period.objects.order_by("starts_on").first()),
        "last_month": str(Period.objects.order_by("starts_on").last()),
        **timings,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **database_size(),
    }


def schema_is_stale() -> bool:
    """True when the database holds tables but misses migrations of the current code."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if "reporting_report" not in connection.introspection.table_names():
        return False
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def database_size() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            total = pages * cursor.fetchone()[0]
            try:
                cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%report%'")
                reports = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%yeardone%' OR name = 'year_done_unique'"
                )
                year_done = cursor.fetchone()[0]
            except Exception:  # dbstat is an optional SQLite module
                reports = year_done = None
        else:
            cursor.execute(
                "SELECT pg_database_size(current_database()), pg_total_relation_size('reporting_report'),"
                " pg_total_relation_size('reporting_yeardone')"
            )
            total, reports, year_done = cursor.fetchone()
    return {
        "database_mb": round(total / 2**20),
        "report_table_and_indexes_mb": round(reports / 2**20) if reports else None,
        "year_done_table_and_indexes_mb": round(year_done / 2**20, 1) if year_done else None,
    }


def ensure_dataset(args) -> dict:
    command = [sys.executable, __file__, "--generate-only", *common_flags(args)]
    if args.rebuild:
        command.append("--rebuild")
    print("数据集：检查或生成中（首次生成需数分钟）…", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(done.stderr or done.stdout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def common_flags(args) -> list[str]:
    flags = [
        "--projects",
        str(args.projects),
        "--months",
        str(args.months),
        "--last",
        f"{args.last[0]}-{args.last[1]:02d}",
        "--sqlite",
        str(args.sqlite),
    ]
    if args.postgres:
        flags.append("--postgres")
    flags += ["--year-done", args.year_done]
    return flags


# --- the calls and their floors ------------------------------------------------------------------


def scoped(username: str):
    from majorprojects.accounts.models import User
    from majorprojects.accounts.scope import visible_projects

    user = User.objects.get(username=username)
    return user, visible_projects(user)


def selector_call(name: str, user, projects, year: int, month: int):
    from majorprojects.reporting import selectors

    if name == "summary":
        return selectors.month_summary(projects, year, month)
    if name == "trend":
        return selectors.trend(projects, year)
    return selectors.month_table(projects, year, month, name, user=user)


def _dates(year: int, month: int) -> dict:
    from majorprojects.reporting.selectors import month_end, previous_month

    py, pm = previous_month(year, month)
    return {
        "year": year,
        "year_start": date(year, 1, 1),
        "month_start": date(year, month, 1),
        "end": month_end(year, month),
        "prev_start": date(py, pm, 1),
        "prev_end": month_end(py, pm),
        "ly_start": date(year - 1, 1, 1),
        "ly_end": month_end(year - 1, month),
        "from": date(min(py, year - 1), 1, 1),
        "trend_end": date(year, 12, 31),
    }


COUNTED_SQL = "('submitted', 'approved', 'locked')"


def floor_sql(name: str, scope_path: str | None) -> str:
    """One SQL statement computing the same figures as the selector (grouped by the raw key; the
    selector's roll-up of regions to counties and categories to top-level ones is a dict lookup
    over a few dozen keys). Written the way one would by hand: no subquery over the project
    scope, one join, conditional sums."""
    scope_join = " JOIN organisation_region rg ON rg.id = p.region_id" if scope_path else ""
    scope = " AND rg.path LIKE %(scope)s" if scope_path else ""
    money_cols = """
        SUM(CASE WHEN r.period_end >= %(month_start)s THEN r.investment END) AS done_month,
        SUM(CASE WHEN r.period_end BETWEEN %(prev_start)s AND %(prev_end)s THEN r.investment END) AS done_prev_month,
        SUM(CASE WHEN r.period_end >= %(year_start)s THEN r.investment END) AS done_ytd,
        SUM(CASE WHEN r.period_end BETWEEN %(ly_start)s AND %(ly_end)s THEN r.investment END) AS done_ytd_last_year"""
    money_from = f"""
        FROM reporting_report r JOIN projects_project p ON p.id = r.project_id{scope_join}"""
    money_where = f"""
        WHERE p.is_package = FALSE AND r.status IN {COUNTED_SQL}
          AND r.period_end BETWEEN %(from)s AND %(end)s{scope}"""
    new_planned = "l.is_new_start AND COALESCE(l.planned_start, p.planned_start_date) <= %(end)s"
    continuing = (
        "NOT l.is_new_start AND l.list_kind = 'construction' AND p.actual_start_date < %(year_start)s"
    )
    done_planned = (
        "COALESCE(l.planned_completion, p.planned_completion_date) BETWEEN %(year_start)s AND %(end)s"
    )
    count_cols = f"""
        COUNT(*) AS projects,
        SUM(l.planned_investment) AS plan,
        SUM(CASE WHEN {new_planned} THEN 1 ELSE 0 END) AS new_planned,
        SUM(CASE WHEN {new_planned} AND p.actual_start_date <= %(end)s THEN 1 ELSE 0 END) AS new_started,
        SUM(CASE WHEN {continuing} THEN 1 ELSE 0 END) AS continuing,
        SUM(CASE WHEN {continuing} AND EXISTS (
            SELECT 1 FROM reporting_report r2 WHERE r2.project_id = p.id AND r2.status IN {COUNTED_SQL}
              AND r2.investment > 0 AND r2.period_end BETWEEN %(year_start)s AND %(end)s) THEN 1 ELSE 0 END) AS resumed,
        SUM(CASE WHEN {done_planned} THEN 1 ELSE 0 END) AS completion_planned,
        SUM(CASE WHEN {done_planned} AND p.actual_completion_date <= %(end)s THEN 1 ELSE 0 END) AS completed"""
    count_from = f"""
        FROM projects_annuallisting l JOIN projects_project p ON p.id = l.project_id{scope_join}
        WHERE l.year = %(year)s AND p.is_package = FALSE{scope}"""
    if name == "trend":
        return f"""
            SELECT r.period_end, SUM(r.investment) FROM reporting_report r
            WHERE r.project_id IN (SELECT p.id FROM projects_project p{scope_join} WHERE p.is_package = FALSE{scope})
              AND r.status IN {COUNTED_SQL} AND r.period_end BETWEEN %(ly_start)s AND %(trend_end)s
            GROUP BY r.period_end
            UNION ALL
            SELECT NULL, SUM(l.planned_investment) {count_from}"""
    if name == "summary":
        return f"""
            SELECT * FROM (SELECT {money_cols} {money_from} {money_where}) m
            CROSS JOIN (SELECT {count_cols} {count_from}) c"""
    money_key, count_key, listing_join = {
        "region": ("p.region_id", "p.region_id", ""),
        "sector": ("p.sector_id", "p.sector_id", ""),
        "list": (
            "yl.list_kind",
            "l.list_kind",
            " LEFT JOIN projects_annuallisting yl ON yl.project_id = p.id AND yl.year = %(year)s",
        ),
    }[name]
    zero_money = ", ".join(f"NULL AS {f}" for f in FIGURES[:4])
    zero_counts = ", ".join(f"{'NULL' if f == 'plan' else 0} AS {f}" for f in FIGURES[4:])
    return f"""
        SELECT k, SUM(done_month), SUM(done_prev_month), SUM(done_ytd), SUM(done_ytd_last_year),
               SUM(projects), SUM(plan), SUM(new_planned), SUM(new_started), SUM(continuing),
               SUM(resumed), SUM(completion_planned), SUM(completed)
        FROM (
            SELECT {money_key} AS k, {money_cols}, {zero_counts}
            {money_from}{listing_join} {money_where}
            GROUP BY {money_key}
            UNION ALL
            SELECT {count_key} AS k, {zero_money}, {count_cols}
            {count_from}
            GROUP BY {count_key}
        ) t
        GROUP BY k"""


def floor_year_done_sql(name: str, scope_path: str | None, month: int) -> str:
    """The same figures in one statement over YearDone (one row per project and year) instead
    of the reports: for reference, what the selector's own source costs at best."""
    scope_join = " JOIN organisation_region rg ON rg.id = p.region_id" if scope_path else ""
    scope = " AND rg.path LIKE %(scope)s" if scope_path else ""

    def upto(alias: str, last: int) -> str:
        return " + ".join(f"{alias}.m{m}" for m in range(1, last + 1))

    prev = (
        f"CASE WHEN d.year = %(year)s THEN d.m{month - 1} END"
        if month > 1
        else "CASE WHEN d.year = %(year)s - 1 THEN d.m12 END"
    )
    money_cols = f"""
        SUM(CASE WHEN d.year = %(year)s THEN d.m{month} END) AS done_month,
        SUM({prev}) AS done_prev_month,
        SUM(CASE WHEN d.year = %(year)s THEN {upto("d", month)} END) AS done_ytd,
        SUM(CASE WHEN d.year = %(year)s - 1 THEN {upto("d", month)} END) AS done_ytd_last_year"""
    money_from = f"""
        FROM reporting_yeardone d JOIN projects_project p ON p.id = d.project_id{scope_join}"""
    money_where = f"""
        WHERE p.is_package = FALSE AND d.year IN (%(year)s - 1, %(year)s){scope}"""
    new_planned = "l.is_new_start AND COALESCE(l.planned_start, p.planned_start_date) <= %(end)s"
    continuing = (
        "NOT l.is_new_start AND l.list_kind = 'construction' AND p.actual_start_date < %(year_start)s"
    )
    done_planned = (
        "COALESCE(l.planned_completion, p.planned_completion_date) BETWEEN %(year_start)s AND %(end)s"
    )
    count_cols = f"""
        COUNT(*) AS projects,
        SUM(l.planned_investment) AS plan,
        SUM(CASE WHEN {new_planned} THEN 1 ELSE 0 END) AS new_planned,
        SUM(CASE WHEN {new_planned} AND p.actual_start_date <= %(end)s THEN 1 ELSE 0 END) AS new_started,
        SUM(CASE WHEN {continuing} THEN 1 ELSE 0 END) AS continuing,
        SUM(CASE WHEN {continuing} AND EXISTS (
            SELECT 1 FROM reporting_yeardone d2 WHERE d2.project_id = p.id AND d2.year = %(year)s
              AND {upto("d2", month)} > 0) THEN 1 ELSE 0 END) AS resumed,
        SUM(CASE WHEN {done_planned} THEN 1 ELSE 0 END) AS completion_planned,
        SUM(CASE WHEN {done_planned} AND p.actual_completion_date <= %(end)s THEN 1 ELSE 0 END) AS completed"""
    count_from = f"""
        FROM projects_annuallisting l JOIN projects_project p ON p.id = l.project_id{scope_join}
        WHERE l.year = %(year)s AND p.is_package = FALSE{scope}"""
    if name == "trend":
        return f"""
            SELECT d.year, SUM({upto("d", 12)}) FROM reporting_yeardone d
            WHERE d.project_id IN (SELECT p.id FROM projects_project p{scope_join} WHERE p.is_package = FALSE{scope})
              AND d.year IN (%(year)s - 1, %(year)s)
            GROUP BY d.year
            UNION ALL
            SELECT NULL, SUM(l.planned_investment) {count_from}"""
    if name == "summary":
        return f"""
            SELECT * FROM (SELECT {money_cols} {money_from} {money_where}) m
            CROSS JOIN (SELECT {count_cols} {count_from}) c"""
    money_key, count_key, listing_join = {
        "region": ("p.region_id", "p.region_id", ""),
        "sector": ("p.sector_id", "p.sector_id", ""),
        "list": (
            "yl.list_kind",
            "l.list_kind",
            " LEFT JOIN projects_annuallisting yl ON yl.project_id = p.id AND yl.year = %(year)s",
        ),
    }[name]
    zero_money = ", ".join(f"NULL AS {f}" for f in FIGURES[:4])
    zero_counts = ", ".join(f"{'NULL' if f == 'plan' else 0} AS {f}" for f in FIGURES[4:])
    return f"""
        SELECT k, SUM(done_month), SUM(done_prev_month), SUM(done_ytd), SUM(done_ytd_last_year),
               SUM(projects), SUM(plan), SUM(new_planned), SUM(new_started), SUM(continuing),
               SUM(resumed), SUM(completion_planned), SUM(completed)
        FROM (
            SELECT {money_key} AS k, {money_cols}, {zero_counts}
            {money_from}{listing_join} {money_where}
            GROUP BY {money_key}
            UNION ALL
            SELECT {count_key} AS k, {zero_money}, {count_cols}
            {count_from}
            GROUP BY {count_key}
        ) t
        GROUP BY k"""


FIGURES = (
    "done_month",
    "done_prev_month",
    "done_ytd",
    "done_ytd_last_year",
    "projects",
    "plan",
    "new_planned",
    "new_started",
    "continuing",
    "resumed",
    "completion_planned",
    "completed",
)


def floor_call(
    name: str, scope_path: str | None, year: int, month: int, source: str = "reports"
) -> list[tuple]:
    """Run the floor over the reports (`reports`, the natural single query) or over YearDone
    (`year_done`)."""
    from django.db import connection

    params = _dates(year, month)
    if scope_path:
        params["scope"] = scope_path + "%"
    sql = floor_sql(name, scope_path) if source == "reports" else floor_year_done_sql(name, scope_path, month)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def floor_totals(name: str, rows: list[tuple]) -> dict:
    """The floor's figures summed over its groups (what the selector's rows must add up to)."""
    if name == "trend":
        return {
            "total": sum((Decimal(str(r[1] or 0)) for r in rows if r[0] is not None), Decimal(0)),
            "plan": sum((Decimal(str(r[1] or 0)) for r in rows if r[0] is None), Decimal(0)),
        }
    offset = 0 if name == "summary" else 1
    return {f: sum(Decimal(str(r[i + offset] or 0)) for r in rows) for i, f in enumerate(FIGURES)}


def selector_totals(name: str, result) -> dict:
    if name == "trend":
        return {"total": sum(result["this_year"]) + sum(result["last_year"]), "plan": result["plan"]}
    rows = [result] if name == "summary" else result
    return {f: sum(Decimal(str(r.get(f) or 0)) for r in rows) for f in FIGURES}


def compare(name: str, selector_result, floor_rows) -> list[str]:
    """Figures where the selector and the floor disagree (beyond float rounding on SQLite)."""
    ours, theirs = selector_totals(name, selector_result), floor_totals(name, floor_rows)
    return [
        f"{k}: selector {ours[k]} ≠ SQL {theirs[k]}"
        for k in ours
        if abs(Decimal(ours[k]) - Decimal(theirs[k])) > Decimal("0.5")
    ]


# --- timing ---------------------------------------------------------------------------------------


def timed(fn, runs: int) -> tuple[float, object]:
    result = fn()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def scope_path(user) -> str | None:
    from majorprojects.accounts.models import Role

    return user.region.path if user.role == Role.COUNTY else None


def warm(args, username: str, year: int, month: int) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, projects = scoped(username)
    path = scope_path(user)
    out = []
    for name in args.calls:
        ms, result = timed(lambda n=name: selector_call(n, user, projects, year, month), args.runs)
        with CaptureQueriesContext(connection) as captured:
            selector_call(name, user, projects, year, month)
        floor_ms, rows = timed(lambda n=name: floor_call(n, path, year, month), args.runs)
        yd_ms, yd_rows = timed(lambda n=name: floor_call(n, path, year, month, "year_done"), args.runs)
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
        out.append(
            {
                "user": username,
                "month": f"{year}-{month:02d}",
                "call": name,
                "warm_ms": round(ms, 1),
                "floor_ms": round(floor_ms, 1),
                "ratio": round(ms / floor_ms, 2) if floor_ms else None,
                "floor_year_done_ms": round(yd_ms, 1),
                "ratio_year_done": round(ms / yd_ms, 2) if yd_ms else None,
                "queries": len(captured.captured_queries),
                "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
                "slowest_query": slowest["sql"],
                "mismatch": compare(name, result, rows),
                "mismatch_year_done": compare(name, result, yd_rows),
            }
        )
    return out


def cold_child(args) -> None:
    """In a fresh process (caches dropped by the parent): time one first call."""
    start(args)
    username, name, kind = args.child_cold
    year, month = args.cold_month
    user, projects = scoped(username)
    from django.db import connection

    connection.ensure_connection()
    started = time.perf_counter()
    if kind == "floor":
        floor_call(name, scope_path(user), year, month)
    elif kind == "floor_year_done":
        floor_call(name, scope_path(user), year, month, "year_done")
    else:
        selector_call(name, user, projects, year, month)
    print(json.dumps({"ms": round((time.perf_counter() - started) * 1000, 1)}))


def drop_caches(args) -> list[str]:
    """Empty the OS page cache and, on PostgreSQL, restart the server (its shared buffers)."""
    done = []
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        done.append("OS page cache")
    except OSError:
        pass
    if args.postgres and args.pg_data:
        pg_ctl = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / "pg_ctl"
        command = [
            str(pg_ctl),
            "-D",
            args.pg_data,
            "-l",
            str(Path(args.pg_data).parent / "restart.log"),
            "-w",
        ]
        command += ["-m", "fast", "restart"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        if subprocess.run(command, capture_output=True).returncode == 0:
            done.append("PostgreSQL restarted")
    return done


def cold(args, username: str, name: str, kind: str) -> tuple[float, list[str]]:
    """Median of --cold-runs first calls, each in a fresh process after emptying the caches."""
    samples, dropped = [], []
    for _ in range(args.cold_runs):
        ms, dropped = cold_once(args, username, name, kind)
        samples.append(ms)
    return round(statistics.median(samples), 1), dropped


def cold_once(args, username: str, name: str, kind: str) -> tuple[float, list[str]]:
    dropped = drop_caches(args)
    command = [
        sys.executable,
        __file__,
        *common_flags(args),
        "--child-cold",
        username,
        name,
        kind,
        "--cold-month",
        f"{args.last[0]}-{args.last[1]:02d}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])["ms"], dropped


def explain(args, username: str, year: int, month: int) -> list[dict]:
    """EXPLAIN (QUERY PLAN) of every query the selectors run, for the record."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, projects = scoped(username)
    plans = []
    for name in args.calls:
        with CaptureQueriesContext(connection) as captured:
            selector_call(name, user, projects, year, month)
        for query in captured.captured_queries:
            if float(query["time"]) * 1000 < 20:
                continue
            prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
            with connection.cursor() as cursor:
                cursor.execute(prefix + query["sql"])
                rows = cursor.fetchall()
            lines = [
                " ".join(str(c) for c in r[-1:]) if connection.vendor == "sqlite" else r[0] for r in rows
            ]
            plans.append(
                {
                    "user": username,
                    "call": name,
                    "ms": round(float(query["time"]) * 1000, 1),
                    "sql": query["sql"],
                    "plan": lines,
                }
            )
    return plans


def pad(text: str, size: int) -> str:
    import unicodedata

    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, size - width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50000)
    parser.add_argument("--months", type=int, default=60, help="months of reports (default 60 = 5 years)")
    parser.add_argument("--last", type=parse_month, default=(2026, 10), help="last reported month, YYYY-MM")
    parser.add_argument(
        "--timed-months",
        default="2026-10,2026-03",
        help="months whose aggregates are timed (the first one also cold)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per call (median is reported)")
    parser.add_argument("--calls", default=",".join(CALLS), help=f"subset of {','.join(CALLS)}")
    parser.add_argument("--users", default=",".join(USERS))
    parser.add_argument("--postgres", action="store_true", help="use DATABASE_URL (PostgreSQL)")
    parser.add_argument("--sqlite", type=Path, default=BENCH_DISPATCH_SQLITE, help="SQLite file")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the SQLite dataset")
    parser.add_argument(
        "--year-done",
        choices=("orm", "sql"),
        default="orm",
        help="fill YearDone with totals.year_done_rebuild() (orm) or one INSERT … SELECT (sql)",
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold runs")
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="cold first calls per call and kind (median is reported)"
    )
    parser.add_argument("--explain", action="store_true", help="record the plans of queries over 20 ms")
    parser.add_argument(
        "--extra-sql", action="append", default=[], help="SQL run before timing (e.g. an index)"
    )
    parser.add_argument("--label", default="", help="name of this run in the JSON file")
    parser.add_argument(
        "--json", type=Path, default=None, help="default var/bench-dispatch-<db>[-label].json"
    )
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--child-cold", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--cold-month", type=parse_month, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.calls = [c for c in args.calls.split(",") if c]
    if args.child_cold:
        cold_child(args)
        return
    if args.generate_only:
        print(json.dumps(generate(args), default=str))
        return

    dataset = ensure_dataset(args)
    print(json.dumps(dataset, ensure_ascii=False, default=str))
    start(args)
    from django.conf import settings
    from django.db import connection

    from majorprojects.reporting.models import Report

    assert not settings.DEBUG
    if args.extra_sql:
        with connection.cursor() as cursor:
            for sql in args.extra_sql:
                print(f"额外 SQL：{sql}")
                cursor.execute(sql)
            cursor.execute("ANALYZE")
    args.pg_data = None
    if args.postgres:
        with connection.cursor() as cursor:
            try:
                cursor.execute("SHOW data_directory")
                args.pg_data = cursor.fetchone()[0]
            except Exception:
                args.pg_data = None
    results = {
        "database": backend_label(),
        "load_average_before": os.getloadavg(),
        "runs": args.runs,
        "cold_runs": args.cold_runs,
        "label": args.label,
        "reports": Report.objects.count(),
        "dataset": dataset,
        "extra_sql": args.extra_sql,
        "warm": [],
        "cold": [],
        "plans": [],
    }
    print(f"{results['database']}: {results['reports']:,} 份调度报表")
    months = [parse_month(m) for m in args.timed_months.split(",") if m]
    for username in args.users.split(","):
        for year, month in months:
            for row in warm(args, username, year, month):
                results["warm"].append(row)
                ok = row["warm_ms"] <= TARGET_MS and (row["ratio"] or 0) <= TARGET_RATIO
                flag = "✓" if ok else "✗"
                mismatch = row["mismatch"] + [f"YearDone {m}" for m in row["mismatch_year_done"]]
                print(
                    f"  {flag} {pad(USERS.get(username, username), 20)} {row['month']} {pad(CALL_LABELS[row['call']], 22)}"
                    f" 热 {row['warm_ms']:>8.1f} ms  单条SQL {row['floor_ms']:>7.1f} ms  比 {row['ratio']:>5}"
                    f"  YearDone单条SQL {row['floor_year_done_ms']:>6.1f} ms  比 {row['ratio_year_done']:>5}"
                    f"  ({row['queries']} 次查询，最慢 {row['slowest_query_ms']} ms)"
                    + (f"  不一致：{'; '.join(mismatch)}" if mismatch else ""),
                    flush=True,
                )
        if args.explain:
            results["plans"] += explain(args, username, *months[0])
    if not args.no_cold:
        for username in args.users.split(","):
            for name in args.calls:
                ms, dropped = cold(args, username, name, "selector")
                floor_ms, _ = cold(args, username, name, "floor")
                yd_ms, _ = cold(args, username, name, "floor_year_done")
                results["cold"].append(
                    {
                        "user": username,
                        "call": name,
                        "runs": args.cold_runs,
                        "cold_ms": ms,
                        "floor_cold_ms": floor_ms,
                        "floor_year_done_cold_ms": yd_ms,
                        "dropped": dropped,
                    }
                )
                print(
                    f"  冷 {pad(USERS.get(username, username), 20)} {pad(CALL_LABELS[name], 22)}"
                    f" {ms:>8.1f} ms  单条SQL {floor_ms:>8.1f} ms  YearDone单条SQL {yd_ms:>7.1f} ms"
                    f"  （已清空：{'、'.join(dropped) or '无'}）",
                    flush=True,
                )
    results["load_average_after"] = os.getloadavg()
    suffix = f"-{args.label}" if args.label else ""
    name = f"bench-dispatch-{'postgres' if args.postgres else 'sqlite'}{suffix}.json"
    out = args.json or ROOT / "var" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(f"结果已写入 {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
