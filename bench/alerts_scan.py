"""Time the warning scan (预警扫描, issue 5) at province scale: 50,000 projects, the default rules.

    uv run python bench/alerts_scan.py                                  # SQLite, var/bench-alerts.sqlite3
    scripts/with_postgres.sh uv run python bench/alerts_scan.py --postgres

Dataset: the dispatch province dataset (dispatch_data.py: 50,000 projects, 60 months of reports,
listings, YearDone). On SQLite `var/bench-dispatch.sqlite3` is copied to `var/bench-alerts.sqlite3`
(the scan writes; the dispatch file is never touched; it is built first by dispatch_scale.py if
missing); on PostgreSQL dispatch_scale.py builds it in the cluster. Then `migrate` (the alerts,
approvals, funds and problems apps) and alerts_data.py adds the ledgers the rules read.

Steps, each in a fresh process (a cold Python process, as `manage.py scan_warnings` runs):
1. rules   — warnings, hits, scan records, justifications and rules deleted; the default rule set
             applied (`services.rules_restore_defaults`, timed); the justifications put back;
2. scan    — `engine.scan(2026, 10)` (today = 2026-11-23) and `services.scan_record`: the first scan;
3. rerun   — the same again: must change nothing (created = updated = cleared = 0, the warnings
             and hits tables identical row for row);
4. next    — a tenth of October's project warnings moved on in the workflow (notified /
             rectifying, untimed), then `scan(2026, 11)`: carry-over and escalation;
5. rerun-next — November again: must change nothing.
For every scan: wall time, SQL statements (an executemany counts once) and the time spent inside
them, peak RSS of the process, and per rule the metric's compute and the engine's apply
(instrumented by wrapping `alerts.metrics.METRICS[*].compute`, `engine.rule_projects` and
`engine._apply`; the wrappers cost nothing measurable). `--profile` adds a cProfile of the
first scan. `BENCH_CODE=<dir>` measures a scratch copy of the code against the same data.

Writes var/bench-alerts-<db>[-label].json with the load average before and after every step.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from common import BENCH_DISPATCH_SQLITE, ROOT, backend_label, setup

BENCH_ALERTS_SQLITE = ROOT / "var" / "bench-alerts.sqlite3"
TARGET_S = 30.0
TODAY = date(2026, 11, 23)
MONTH = (2026, 10)
NEXT = (2026, 11)
STEPS = ("rules", "scan", "rerun", "next", "rerun-next")


def start(args) -> None:
    setup(args.postgres, args.sqlite)


def rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


# --- dataset --------------------------------------------------------------------------------------


def _dispatch_flags(args) -> list[str]:
    flags = ["--generate-only"]
    return [*flags, "--postgres"] if args.postgres else [*flags, "--sqlite", str(BENCH_DISPATCH_SQLITE)]


def _copy_dispatch(args) -> float:
    """A fresh copy of the dispatch SQLite file (built first if missing)."""
    if not BENCH_DISPATCH_SQLITE.exists():
        _run_dispatch_generator(args)
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        args.sqlite.with_name(args.sqlite.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(BENCH_DISPATCH_SQLITE, args.sqlite)
    return round(time.perf_counter() - started, 1)


def _run_dispatch_generator(args) -> dict:
    command = [sys.executable, str(ROOT / "bench" / "dispatch_scale.py"), *_dispatch_flags(args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(done.stderr or done.stdout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(args) -> dict:
    """In a child process: the dispatch dataset, migrations, then the ledgers (once)."""
    out = {}
    if args.postgres:
        out["dispatch"] = _run_dispatch_generator(args)
    elif args.rebuild or not args.sqlite.exists():
        out["copy_s"] = _copy_dispatch(args)
    start(args)
    from django.core.management import call_command
    from django.db import connection

    step = time.perf_counter()
    try:
        call_command("migrate", verbosity=0)
    except Exception:
        if args.postgres:
            raise
        # The kept copy's migration history no longer fits the code (an app's migrations were
        # regenerated): start again from the dispatch file.
        connection.close()
        out["copy_s"] = _copy_dispatch(args)
        call_command("migrate", verbosity=0)
    out["migrate_s"] = round(time.perf_counter() - step, 1)
    import alerts_data

    from majorprojects.approvals.models import ApprovalItem
    from majorprojects.reporting.models import Report

    if not Report.objects.exists():
        raise SystemExit("the dataset has no dispatch reports: rerun with --rebuild")
    if ApprovalItem.objects.exists():
        return {**out, "reused": True, **counts()}
    out["ledgers"] = alerts_data.build()
    return {**out, "reused": False, **counts(), "max_rss_mb": rss_mb()}


def counts() -> dict:
    from majorprojects.approvals.models import ApprovalItem
    from majorprojects.funds.models import Allocation, Movement
    from majorprojects.problems.models import Problem
    from majorprojects.projects.models import Project
    from majorprojects.reporting.models import Report, YearDone

    return {
        "projects": Project.objects.filter(is_package=False).count(),
        "reports": Report.objects.count(),
        "year_done": YearDone.objects.count(),
        "approval_items": ApprovalItem.objects.count(),
        "allocations": Allocation.objects.count(),
        "movements": Movement.objects.count(),
        "problems": Problem.objects.count(),
    }


# --- instrumentation ------------------------------------------------------------------------------


class Meter:
    """Per-phase wall time, statements and time inside them. Phases: "<rule>:metric",
    "<rule>:apply", "other" (rules query, scope, the light counts)."""

    def __init__(self):
        self.phase = "other"
        self.rule = ""
        self.stats = defaultdict(lambda: {"seconds": 0.0, "queries": 0, "sql_seconds": 0.0})
        self.readings = {}

    def sql(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            row = self.stats[self.phase]
            row["queries"] += 1
            row["sql_seconds"] += time.perf_counter() - started

    def timed(self, phase: str, fn, *a, **kw):
        previous, self.phase = self.phase, phase
        started = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            self.stats[phase]["seconds"] += time.perf_counter() - started
            self.phase = previous

    def install(self) -> None:
        import dataclasses

        from majorprojects.alerts import engine, metrics

        original_scope, original_apply = engine.rule_projects, engine._apply

        def rule_projects(rule, year):
            self.rule = rule.code
            return original_scope(rule, year)

        def apply(rule, metric, year, month, readings, subjects, result):
            return self.timed(
                f"{rule.code}:apply", original_apply, rule, metric, year, month, readings, subjects, result
            )

        engine.rule_projects, engine._apply = rule_projects, apply
        for code, m in list(metrics.METRICS.items()):

            def compute(ctx, _m=m):
                readings = self.timed(f"{self.rule}:metric", _m.compute, ctx)
                self.readings[self.rule] = {
                    "subjects": len(readings),
                    "with_value": sum(1 for r in readings.values() if r.value is not None),
                }
                return readings

            metrics.METRICS[code] = dataclasses.replace(m, compute=compute)


def fingerprint() -> dict:
    """Row count and a digest of every stored column of the warnings and the hits."""
    from majorprojects.alerts.models import Hit, Warning

    out = {}
    for name, qs in (
        ("warnings", Warning.objects.order_by("pk").values_list()),
        ("hits", Hit.objects.order_by("pk").values_list()),
    ):
        digest, n = hashlib.sha256(), 0
        for row in qs.iterator(chunk_size=5000):
            digest.update(repr(row).encode())
            n += 1
        out[name] = {"rows": n, "sha256": digest.hexdigest()[:16]}
    return out


def lights(year: int, month: int) -> dict:
    """Warnings of the month per rule and light (condition_cleared and exempted apart)."""
    from django.db.models import Count

    from majorprojects.alerts.models import Warning

    out = defaultdict(dict)
    for code, light, status, cleared, n in (
        Warning.objects.filter(year=year, month=month)
        .values_list("rule__code", "light", "status", "condition_cleared")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = "cleared" if cleared else "exempted" if status == "exempted" else light
        out[code][key] = out[code].get(key, 0) + n
    return dict(out)


def content_digest(year: int, month: int) -> str:
    """A digest of what the month's warnings say (not their ids or times): equal for two runs of
    different code that light the same subjects the same way with the same evidence."""
    from majorprojects.alerts.models import Warning

    rows = Warning.objects.filter(year=year, month=month).values_list(
        "rule__code", "project_id", "region_id", "light", "value", "evidence", "streak", "status",
        "escalated", "condition_cleared", "carried_from__year", "carried_from__month",
        "responsible_unit_id", "leader_id",
    )  # fmt: skip
    digest = hashlib.sha256()
    for row in sorted(repr(r) for r in rows.iterator(chunk_size=5000)):
        digest.update(row.encode())
    return digest.hexdigest()[:16]


def month_state(year: int, month: int) -> dict:
    from django.db.models import Count

    from majorprojects.alerts.models import Warning

    qs = Warning.objects.filter(year=year, month=month)
    return {
        "warnings": qs.count(),
        "carried_over": qs.filter(carried_from__isnull=False).count(),
        "escalated": qs.filter(escalated=True).count(),
        "by_status": dict(qs.values_list("status").annotate(n=Count("pk")).order_by()),
        "streak_max": max(qs.values_list("streak", flat=True), default=0),
    }


# --- the steps (each in its own process) ----------------------------------------------------------


def step_rules(args) -> dict:
    """Clear the alerts tables, then apply the default rule set (timed)."""
    import alerts_data
    from django.db import connection, transaction

    from majorprojects.accounts.models import User
    from majorprojects.alerts.models import Exemption, Hit, Rule, ScanRun, Warning
    from majorprojects.alerts.services import rules_restore_defaults

    with transaction.atomic(), connection.cursor() as cursor:
        for model in (Exemption, Hit, Warning, ScanRun, Rule):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    admin = User.objects.get(username="admin")
    meter = Meter()
    started = time.perf_counter()
    with connection.execute_wrapper(meter.sql):
        report = rules_restore_defaults(actor=admin)
    seconds = time.perf_counter() - started
    import random

    with transaction.atomic():
        exempted = alerts_data.exemptions(alerts_data.project_facts(), random.Random(5))
    return {
        "seconds": round(seconds, 3),
        "queries": meter.stats["other"]["queries"],
        "created": len(report.created),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
        "errors": [str(e) for e in report.errors],
        "rules": Rule.objects.filter(is_active=True).count(),
        "exemptions_restored": exempted,
        "max_rss_mb": rss_mb(),
    }


def run_scan(args, year: int, month: int, *, profile: bool = False) -> dict:
    from django.db import connection

    from majorprojects.alerts import engine
    from majorprojects.alerts.services import scan_record

    meter = Meter()
    meter.install()
    connection.ensure_connection()
    rss_before = rss_mb()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(meter.sql):
        if profiler:
            profiler.enable()
        result = engine.scan(year, month, today=TODAY)
        if profiler:
            profiler.disable()
        scan_seconds = time.perf_counter() - started
        record = meter.timed("scan_record", scan_record, result)
    total = time.perf_counter() - started
    rules = []
    codes = list(dict.fromkeys(k.split(":")[0] for k in meter.stats if ":" in k))
    for code in codes:
        m, a = meter.stats.get(f"{code}:metric"), meter.stats.get(f"{code}:apply")
        rules.append(
            {
                "rule": code,
                **meter.readings.get(code, {}),
                "metric_s": round(m["seconds"], 3) if m else None,
                "metric_queries": m["queries"] if m else 0,
                "metric_sql_s": round(m["sql_seconds"], 3) if m else None,
                "apply_s": round(a["seconds"], 3) if a else None,
                "apply_queries": a["queries"] if a else 0,
                "apply_sql_s": round(a["sql_seconds"], 3) if a else None,
            }
        )
    queries = sum(s["queries"] for s in meter.stats.values())
    sql_seconds = sum(s["sql_seconds"] for s in meter.stats.values())
    out = {
        "period": f"{year}-{month:02d}",
        "seconds": round(scan_seconds, 2),
        "seconds_with_record": round(total, 2),
        "engine_seconds": round(result.seconds, 2),
        "queries": queries,
        "sql_seconds": round(sql_seconds, 2),
        "rss_before_mb": rss_before,
        "max_rss_mb": rss_mb(),
        "result": result.as_dict(),
        "scan_run": record.pk,
        "rules": rules,
        "other_s": round(scan_seconds - sum(s["seconds"] for k, s in meter.stats.items() if ":" in k), 2),
        "lights": lights(year, month),
        "state": month_state(year, month),
        "content_sha256": content_digest(year, month),
    }
    if profiler:
        import io
        import pstats

        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(40)
        out["profile"] = buffer.getvalue()
    return out


def step_scan(args) -> dict:
    return run_scan(args, *MONTH, profile=args.profile)


def _rerun(args, year: int, month: int) -> dict:
    before = fingerprint()
    out = run_scan(args, year, month)
    after = fingerprint()
    r = out["result"]
    # The scan record (ScanRun and its event) is the only write a rerun may make.
    out["no_change"] = r["created"] == r["updated"] == r["cleared"] == 0 and before == after
    out["fingerprint_before"], out["fingerprint_after"] = before, after
    return out


def step_rerun(args) -> dict:
    return _rerun(args, *MONTH)


def step_rerun_next(args) -> dict:
    return _rerun(args, *NEXT)


def _workflow(year: int, month: int) -> dict:
    """Move a tenth of the month's project warnings on in the workflow, as the counties would
    have (plain UPDATEs, untimed): half notified, half rectifying with a plan and a deadline."""
    import random
    from datetime import datetime

    from django.db import transaction
    from django.utils import timezone

    from majorprojects.alerts.models import Status, Warning

    ids = list(
        Warning.objects.filter(year=year, month=month, project__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    picked = sorted(random.Random(11).sample(ids, len(ids) // 10))
    half = len(picked) // 2
    moment = timezone.make_aware(datetime(2026, 11, 10, 10, 0))
    with transaction.atomic():
        for start in range(0, half, 500):
            Warning.objects.filter(pk__in=picked[start : min(start + 500, half)]).update(
                status=Status.NOTIFIED, notified_at=moment
            )
        for start in range(half, len(picked), 500):
            Warning.objects.filter(pk__in=picked[start : start + 500]).update(
                status=Status.RECTIFYING,
                notified_at=moment,
                plan="已制定整改方案，明确责任人和时间节点。",
                deadline=date(2026, 12, 31),
            )
    return {"notified": half, "rectifying": len(picked) - half}


STEP_FUNCTIONS = {
    "rules": step_rules,
    "scan": step_scan,
    "rerun": step_rerun,
    "rerun-next": step_rerun_next,
}


def child(args) -> None:
    start(args)
    if args.step == "next":
        moved = _workflow(*MONTH)
        out = {"workflow": moved, **run_scan(args, *NEXT)}
    else:
        out = STEP_FUNCTIONS[args.step](args)
    print(json.dumps(out, ensure_ascii=False, default=str))


# --- the parent -----------------------------------------------------------------------------------


def common_flags(args) -> list[str]:
    flags = ["--sqlite", str(args.sqlite)]
    return [*flags, "--postgres"] if args.postgres else flags


def run_child(args, *flags) -> dict:
    command = [sys.executable, __file__, *common_flags(args), *flags]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(done.stderr or done.stdout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_scan(name: str, row: dict) -> None:
    r = row["result"]
    ok = "✓" if row["seconds"] <= TARGET_S else "✗"
    print(
        f"  {ok} {name:<10} {row['period']}  {row['seconds']:>7.2f} s（含扫描记录 {row['seconds_with_record']:.2f} s）"
        f"  {row['queries']} 次查询（SQL 内 {row['sql_seconds']:.2f} s）  峰值内存 {row['max_rss_mb']} MB"
        f"  新增 {r['created']} 更新 {r['updated']} 未变 {r['unchanged']} 消除 {r['cleared']}"
        f"  红 {r['by_light']['red']} 黄 {r['by_light']['yellow']}",
        flush=True,
    )
    for rule in row["rules"]:
        print(
            f"      {rule['rule']:<22} 对象 {rule.get('subjects', 0):>6} 有值 {rule.get('with_value', 0):>6}"
            f"  指标 {rule['metric_s'] or 0:>6.2f} s ({rule['metric_queries']} 查询)"
            f"  写入 {rule['apply_s'] or 0:>6.2f} s ({rule['apply_queries']} 查询)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="use DATABASE_URL (PostgreSQL)")
    parser.add_argument("--sqlite", type=Path, default=BENCH_ALERTS_SQLITE, help="SQLite file (a copy)")
    parser.add_argument("--rebuild", action="store_true", help="copy the dispatch dataset again")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    parser.add_argument("--profile", action="store_true", help="cProfile the first scan")
    parser.add_argument("--label", default="", help="name of this run in the JSON file")
    parser.add_argument("--json", type=Path, default=None, help="default var/bench-alerts-<db>[-label].json")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        child(args)
        return
    if args.generate_only:
        print(json.dumps(generate(args), ensure_ascii=False, default=str))
        return

    results = {
        "load_average_before": os.getloadavg(),
        "label": args.label,
        "code": os.environ.get("BENCH_CODE", ""),
    }
    print("数据集：检查或生成中（首次生成需数分钟）…", flush=True)
    flags = ["--generate-only"] + (["--rebuild"] if args.rebuild else [])
    started = time.perf_counter()
    results["dataset"] = run_child(args, *flags)
    results["dataset"]["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results["dataset"], ensure_ascii=False, default=str), flush=True)
    start(args)
    results["database"] = backend_label()
    print(f"{results['database']}：{results['dataset'].get('projects', 0):,} 个项目", flush=True)
    for name in [s for s in args.steps.split(",") if s]:
        load = os.getloadavg()
        flags = ["--step", name] + (["--profile"] if args.profile and name == "scan" else [])
        row = run_child(args, *flags)
        row["load_average_before"], row["load_average_after"] = load, os.getloadavg()
        results[name] = row
        if name == "rules":
            print(
                f"  默认规则：{row['seconds']:.2f} s，{row['queries']} 次查询，新建 {row['created']} 条"
                f"（启用 {row['rules']} 条），恢复正当理由 {row['exemptions_restored']} 条",
                flush=True,
            )
        else:
            print_scan(name, row)
            if "no_change" in row:
                print(
                    f"      重跑无变化：{'是' if row['no_change'] else '否 ✗'}  {row['fingerprint_after']}",
                    flush=True,
                )
            if row.get("profile"):
                print(row["profile"])
    results["load_average_after"] = os.getloadavg()
    suffix = f"-{args.label}" if args.label else ""
    out = args.json or ROOT / "var" / f"bench-alerts-{'postgres' if args.postgres else 'sqlite'}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(f"结果已写入 {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
