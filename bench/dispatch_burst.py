"""Month-end burst: many clients submitting monthly reports over the HTTP API at once, against
the production server (gunicorn) and PostgreSQL on this machine; then check that nothing was
duplicated or double-counted.

    scripts/with_postgres.sh uv run python bench/dispatch_burst.py --postgres

Set-up (in the empty database DATABASE_URL points at): the demo city with --projects projects,
ten locked months of history (January–October) for every project and the open November period
with one pending slot per project (due the 28th, moved to the next working day), and one API
token per county account. Each county's projects are split among the client threads; a client
sends one request per report:

    POST /api/reports/{id}/submit   Authorization: Bearer <token>   Idempotency-Key: <uuid4>
    {"version": 1, "investment": "…", "progress": "…", "percent_complete": "…", "next_plan": "…"}

and about --resend of them a second time with the same key and body (a retry after a lost
response), counted separately. Clients are threads using the standard library (http.client), on
the same two cores as the server and the database. After --duration seconds (or when every
report is sent) the database is checked: no (period, project) twice, every acknowledged report
submitted exactly once (one "report_submit" event), reports never sent untouched, the sum of
investment equal to the sum the clients sent, and year-to-date totals re-derived correctly.

Before the burst one request is run in-process under Django's query capture and cProfile, to
show where a request's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import queue
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from common import ROOT, backend_label, setup

TARGET_RATE = 100
TARGET_P95_MS = 500
PROGRESS = ("主体结构施工中，本月完成两层。", "设备安装调试中。", "管网铺设完成过半，路面施工展开。")
NEXT_PLAN = ("加快主体施工，完成月度投资计划。", "推进设备采购和安装。")


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def process_cpu(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn processes (master and workers) and by PostgreSQL
    (every `postgres` process, with the children the postmaster has reaped), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"gunicorn": 0.0, "postgres": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        used = sum(int(x) for x in fields[11:15]) / tick  # utime, stime, cutime, cstime
        if pid == server_pid or ppid == server_pid:
            out["gunicorn"] += used
        elif comm == "postgres":
            out["postgres"] += used
    return out


# --- set-up -------------------------------------------------------------------------------------


def build(args) -> dict:
    import dispatch_data as data
    from django.core.management import call_command
    from django.db import connection, transaction

    from majorprojects.accounts.models import User
    from majorprojects.accounts.services import token_create
    from majorprojects.demo import data as demo_data
    from majorprojects.projects.models import Project

    call_command("migrate", verbosity=0)
    if Project.objects.exists():
        raise SystemExit("the burst needs an empty database (scripts/with_postgres.sh gives a new one)")
    started = time.perf_counter()
    data.build_city(args.projects)
    months = data.month_list(args.open_month, args.history + 1)
    rng = random.Random(11)
    with transaction.atomic():
        schedule = data.monthly_schedule(date(*months[0], 1))
        periods = data.create_periods(schedule, months, open_months=1)
        facts = data.project_facts()
    load = data.load_reports(
        data.report_rows(
            facts, periods, rng, postgres=connection.vendor == "postgresql", open_mix=(("pending", 1),)
        )
    )
    # YearDone as the services would have left it (the submissions then update these rows).
    year_done = data.fill_year_done("orm")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    tokens = {}
    for username in [c[4] for c in demo_data.COUNTIES][: args.counties]:
        user = User.objects.get(username=username)
        tokens[username] = token_create(actor=user, name="月末压测")[1]
    return {
        "projects": len(facts),
        "reports": load["rows"],
        "year_done_rows": year_done["rows"],
        "year_done_s": year_done["seconds"],
        "open_period": str(periods[-1]),
        "open_period_id": periods[-1].pk,
        "due_on": periods[-1].due_on.isoformat(),
        "tokens": tokens,
        "setup_s": round(time.perf_counter() - started, 1),
    }


def plan(period_id: int, tokens: dict[str, str], seed: int) -> list[dict]:
    """One submission per open slot of each county's projects, with figures the validation
    accepts: near the project's monthly average, within what remains of its total investment,
    percent complete not below last month's."""
    from django.db.models import Count, Max, Q, Sum

    from majorprojects.accounts.models import User
    from majorprojects.reporting.models import Report

    rng = random.Random(seed)
    jobs = []
    for username, token in tokens.items():
        user = User.objects.select_related("region").get(username=username)
        slots = Report.objects.filter(
            period_id=period_id, status="pending", project__region__path__startswith=user.region.path
        ).values_list(
            "pk",
            "project_id",
            "version",
            "project__total_investment",
            "project__prior_investment",
            "project__actual_start_date",
        )
        slots = list(slots)
        history = {
            row["project_id"]: row
            for row in Report.objects.filter(project_id__in=[s[1] for s in slots])
            .exclude(period_id=period_id)
            .values("project_id")
            .annotate(
                before=Sum("investment"),
                months=Count("pk", filter=Q(investment__gt=0)),
                last_percent=Max("percent_complete"),
            )
        }
        for pk, project_id, version, total, prior, started in slots:
            past = history.get(project_id, {})
            before = past.get("before") or Decimal(0)
            months = past.get("months") or 0
            remaining = total - (prior or 0) - before
            amount = Decimal(0)
            if started and remaining > 0:
                if months:
                    amount = min(
                        before / months * Decimal(str(rng.uniform(0.5, 1.5))), remaining * Decimal("0.4")
                    )
                else:
                    amount = min(remaining * Decimal("0.05"), Decimal(500))
            amount = amount.quantize(Decimal("0.01"))
            last_percent = past.get("last_percent") or Decimal(0)
            percent = min(Decimal(100), last_percent + rng.choice((0, 1, 2, 3)))
            jobs.append(
                {
                    "id": pk,
                    "user": username,
                    "token": token,
                    "body": {
                        "version": version,
                        "investment": str(amount),
                        "progress": rng.choice(PROGRESS),
                        "percent_complete": str(percent),
                        "next_plan": rng.choice(NEXT_PLAN),
                    },
                }
            )
    rng.shuffle(jobs)
    return jobs


# --- one request in-process: queries and profile ------------------------------------------------


def profile_one(jobs: list[dict]) -> dict:
    """Run a few submissions through Django's test client (the same middleware and API as under
    gunicorn): query count, the queries by kind, and the functions that take the time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def send(job):
        return client.post(
            f"/api/reports/{job['id']}/submit",
            data=json.dumps(job["body"]),
            content_type="application/json",
            headers={"Authorization": f"Bearer {job['token']}", "Idempotency-Key": str(uuid.uuid4())},
        )

    send(jobs[0])  # warm-up (imports, first connection)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = send(jobs[1])
        elapsed = (time.perf_counter() - started) * 1000
        # Read the log now: a later reconnect clears it.
        queries = list(captured.captured_queries)
    assert response.status_code == 200, response.content
    kinds = Counter()
    for query in queries:
        sql = query["sql"]
        verb = sql.split()[0].upper()
        table = re.search(r'(?:FROM|UPDATE|INTO)\s+"(\w+)"', sql)
        kinds[f"{verb} {table.group(1) if table else ''}".strip()] += 1
    db_ms = sum(float(q["time"]) for q in queries) * 1000
    timed = jobs[2:22]
    started = time.perf_counter()
    for job in timed:
        send(job)
    mean_ms = (time.perf_counter() - started) * 1000 / max(len(timed), 1)
    profiler = cProfile.Profile()
    profiler.enable()
    for job in jobs[22:42]:
        send(job)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(60)
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(20)
    return {
        "queries": len(queries),
        "by_kind": dict(kinds.most_common()),
        "request_ms": round(elapsed, 1),
        "mean_request_ms": round(mean_ms, 1),
        "db_ms": round(db_ms, 1),
        "sql": [q["sql"][:400] for q in queries],
        "profile": stream.getvalue(),
    }


# --- the server -----------------------------------------------------------------------------------


def start_server(args, database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECURE": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    # BENCH_CODE: serve a scratch copy of the code (a proposed change) instead of the checkout.
    code = os.environ.get("BENCH_CODE", str(ROOT))
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        code,
        "majorprojects.wsgi:application",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        *(["--threads", str(args.threads)] if args.threads else []),
        "--backlog",
        "2048",
    ]
    server = subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                sys.exit(server.stderr.read().decode())
            time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# --- the clients ----------------------------------------------------------------------------------


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = None

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run_clients(args, jobs: list[dict], server_pid: int) -> dict:
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    results: list[dict] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + args.duration
    rng_seed = random.Random(5)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(args.port)
        local = []
        while time.perf_counter() < stop_at:
            try:
                job = work.get_nowait()
            except queue.Empty:
                break
            body = json.dumps(job["body"]).encode()
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {job['token']}",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            sends = 2 if rng.random() < args.resend else 1
            for attempt in range(sends):
                began = time.perf_counter()
                try:
                    status, data = client.post(f"/api/reports/{job['id']}/submit", body, headers)
                except OSError as exc:
                    status, data = 0, str(exc).encode()
                ended = time.perf_counter()
                row = {
                    "id": job["id"],
                    "resend": attempt == 1,
                    "status": status,
                    "start": began,
                    "end": ended,
                    "ms": (ended - began) * 1000,
                    "investment": job["body"]["investment"],
                }
                if status != 200:
                    row["error"] = data[:300].decode(errors="replace")
                else:
                    sent = json.loads(data)
                    row["returned_investment"] = sent.get("investment")
                    row["returned_status"] = sent.get("status")
                local.append(row)
                if status != 200:
                    break
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=worker, args=(rng_seed.random(),)) for _ in range(args.clients)]
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = cpu_times()
    processes_before = process_cpu(server_pid)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu_after = cpu_times()
    processes_after = process_cpu(server_pid)
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    return {
        "results": results,
        "wall_s": wall,
        "began": began,
        "machine_busy_pct": round(
            100 * (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1]), 1
        ),
        "client_cpu_s": round(client_cpu, 1),
        "server_cpu_s": {k: round(processes_after[k] - processes_before[k], 1) for k in processes_after},
        # CPU of everything else on the machine (another job's load shows here).
        "other_cpu_s": round(
            (cpu_after[0] - cpu_before[0]) / os.sysconf("SC_CLK_TCK")
            - client_cpu
            - sum(processes_after[k] - processes_before[k] for k in processes_after),
            1,
        ),
    }


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(run: dict) -> dict:
    results = run["results"]
    first = [r for r in results if not r["resend"]]
    resends = [r for r in results if r["resend"]]
    ok = [r for r in first if r["status"] == 200]
    latencies = [r["ms"] for r in ok]
    # Submissions per second, second by second, from the first request to the last response.
    began = run["began"]
    seconds = Counter(int(r["end"] - began) for r in ok)
    span = int(max((r["end"] for r in ok), default=began) - began) + 1
    per_second = [seconds.get(s, 0) for s in range(span)]
    steady = per_second[2:-2] if len(per_second) > 6 else per_second
    windows = [sum(per_second[i : i + 5]) / 5 for i in range(0, max(1, len(per_second) - 4))]
    return {
        "submissions_ok": len(ok),
        "errors": len(first) - len(ok),
        "error_samples": Counter(
            f"{r['status']} {r.get('error', '')[:120]}" for r in first if r["status"] != 200
        ).most_common(5),
        "wall_s": round(run["wall_s"], 1),
        "rate_per_s": round(len(ok) / run["wall_s"], 1) if run["wall_s"] else 0,
        "steady_rate_per_s": round(statistics.mean(steady), 1) if steady else 0,
        "min_5s_rate_per_s": round(min(windows), 1) if windows else 0,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies, default=0), 1),
        "resends": len(resends),
        "resends_ok": sum(1 for r in resends if r["status"] == 200),
        "resend_statuses": dict(Counter(r["status"] for r in resends)),
        "resend_p50_ms": round(percentile([r["ms"] for r in resends], 0.5), 1),
        "machine_busy_pct": run["machine_busy_pct"],
        "client_cpu_s": run["client_cpu_s"],
        "other_cpu_s": run["other_cpu_s"],
        "gunicorn_cpu_s": run["server_cpu_s"]["gunicorn"],
        "postgres_cpu_s": run["server_cpu_s"]["postgres"],
        "gunicorn_cpu_ms_per_request": round(
            1000 * run["server_cpu_s"]["gunicorn"] / max(1, len(results)), 1
        ),
        "postgres_cpu_ms_per_request": round(
            1000 * run["server_cpu_s"]["postgres"] / max(1, len(results)), 1
        ),
        "per_second": per_second,
    }


# --- checks ---------------------------------------------------------------------------------------


def verify(period_id: int, run: dict, jobs: list[dict], profiled: list[int]) -> dict:
    from django.db import connection
    from django.db.models import Count, Sum

    from majorprojects.audit.models import Event
    from majorprojects.reporting.models import Report

    results = run["results"]
    acked = {r["id"]: r for r in results if not r["resend"] and r["status"] == 200}
    attempted = {r["id"] for r in results}
    failed = attempted - set(acked)
    untouched = {j["id"] for j in jobs} - attempted
    duplicates = (
        Report.objects.values("period_id", "project_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    )
    rows = {
        r["pk"]: r
        for r in Report.objects.filter(period_id=period_id).values("pk", "status", "investment", "version")
    }
    submit_events = Counter(
        int(t)
        for t in Event.objects.filter(
            verb__in=("report_submit", "report_resubmit"), target_type="report"
        ).values_list("target_id", flat=True)
    )
    not_submitted = [pk for pk in acked if rows[pk]["status"] != "submitted"]
    wrong_amount = [pk for pk, r in acked.items() if rows[pk]["investment"] != Decimal(r["investment"])]
    events_not_one = [pk for pk in acked if submit_events.get(pk) != 1]
    touched_untouched = [
        pk for pk in untouched if rows[pk]["status"] != "pending" or rows[pk]["version"] != 1
    ]
    sent_sum = sum((Decimal(r["investment"]) for r in acked.values()), Decimal(0))
    failed_submitted = [pk for pk in failed if rows[pk]["status"] == "submitted"]
    db_sum = Report.objects.filter(period_id=period_id, status="submitted").exclude(
        pk__in=profiled
    ).aggregate(s=Sum("investment"))["s"] or Decimal(0)
    # Year-to-date of every submitted report = the project's amounts this year up to this month.
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COUNT(*) FROM reporting_report r
               WHERE r.period_id = %s AND r.status = 'submitted' AND r.year_to_date <> (
                   SELECT COALESCE(SUM(o.investment), 0) FROM reporting_report o
                   WHERE o.project_id = r.project_id AND o.period_end <= r.period_end
                     AND o.period_end >= %s)""",
            [period_id, date(2026, 1, 1)],
        )
        ytd_wrong = cursor.fetchone()[0]
    resend_events_extra = sum(1 for r in results if r["resend"] and submit_events.get(r["id"], 0) != 1)
    # YearDone kept by the submissions: the open month's column equals the submitted amounts, and
    # a sample of projects equals what year_done_rebuild derives from the reports.
    import dispatch_data as data

    from majorprojects.reporting.models import Period, YearDone

    period = Period.objects.get(pk=period_id)
    year_done_month = YearDone.objects.filter(year=period.ends_on.year).aggregate(
        s=Sum(f"m{period.ends_on.month}")
    )["s"] or Decimal(0)
    submitted_all = Report.objects.filter(period_id=period_id, status="submitted").aggregate(
        s=Sum("investment")
    )["s"] or Decimal(0)
    year_done_check = data.check_year_done(sample=1000)
    return {
        "duplicates": duplicates,
        "acknowledged": len(acked),
        "acknowledged_not_submitted": len(not_submitted),
        "acknowledged_wrong_amount": len(wrong_amount),
        "acknowledged_submit_events_not_1": len(events_not_one),
        "failed_requests": len(failed),
        "failed_but_submitted": len(failed_submitted),
        "never_sent": len(untouched),
        "never_sent_but_changed": len(touched_untouched),
        "sum_sent": str(sent_sum),
        "sum_in_database": str(db_sum),
        "sums_equal": (sent_sum == db_sum) if not failed_submitted else None,
        "ytd_wrong": ytd_wrong,
        "resends_with_extra_events": resend_events_extra,
        "year_done_open_month": str(year_done_month),
        "submitted_in_open_month": str(submitted_all),
        "year_done_month_equal": year_done_month == submitted_all,
        "year_done_sample_rows_differing": year_done_check["sample_rows_differing"],
        "year_done_totals_equal": year_done_check["totals_equal"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="use DATABASE_URL (PostgreSQL; required)")
    parser.add_argument("--projects", type=int, default=10000, help="projects in the city (≈ open slots)")
    parser.add_argument("--history", type=int, default=10, help="locked months before the open one")
    parser.add_argument(
        "--open-month", type=lambda s: tuple(int(x) for x in s.split("-")), default=(2026, 11), help="YYYY-MM"
    )
    parser.add_argument(
        "--counties", type=int, default=10, help="county accounts sending (each its projects)"
    )
    parser.add_argument("--clients", type=int, default=24, help="concurrent client threads")
    parser.add_argument("--duration", type=float, default=45, help="seconds of sending (at most)")
    parser.add_argument("--resend", type=float, default=0.05, help="share of requests sent twice (same key)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-dispatch-burst.json")
    args = parser.parse_args()
    if not args.postgres:
        sys.exit(
            "the month-end burst runs on PostgreSQL: scripts/with_postgres.sh … dispatch_burst.py --postgres"
        )
    load_before = os.getloadavg()
    url = setup(True)
    from django.conf import settings

    assert not settings.DEBUG
    print("准备数据（演示城市、10 个月历史、本月待报）…", flush=True)
    built = build(args)
    tokens = built.pop("tokens")
    jobs = plan(built["open_period_id"], tokens, seed=3)
    print(json.dumps({**built, "targeted": len(jobs)}, ensure_ascii=False), flush=True)
    profile, profiled = None, []
    if not args.no_profile:
        profiled = [job["id"] for job in jobs[:42]]
        profile = profile_one(jobs[:42])
        jobs = jobs[42:]
        print(
            f"单次报送（进程内）：{profile['request_ms']} ms（20 次平均 {profile['mean_request_ms']} ms），{profile['queries']} 次查询（数据库 {profile['db_ms']} ms）",
            flush=True,
        )
        print("  " + "，".join(f"{k} ×{v}" for k, v in profile["by_kind"].items()), flush=True)
    from django.db import connections

    connections.close_all()
    server = start_server(args, url)
    try:
        # Warm the workers (imports, database connections) without touching the slots.
        for _ in range(args.workers * 3):
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            conn.request(
                "GET", "/api/periods?limit=1", headers={"Authorization": f"Bearer {jobs[0]['token']}"}
            )
            conn.getresponse().read()
            conn.close()
        print(
            f"gunicorn {args.workers} 个 {args.worker_class} 工作进程；{args.clients} 个并发客户端，"
            f"最长 {args.duration:.0f} s，{len(jobs):,} 份待报…",
            flush=True,
        )
        run = run_clients(args, jobs, server.pid)
    finally:
        stop_server(server)
    figures = summarise(run)
    checks = verify(built["open_period_id"], run, jobs, profiled)
    ok = (
        figures["steady_rate_per_s"] >= TARGET_RATE
        and figures["p95_ms"] <= TARGET_P95_MS
        and checks["duplicates"] == 0
        and checks["sums_equal"]
        and checks["year_done_month_equal"]
    )
    print(
        f"{'✓' if ok else '✗'} {figures['submissions_ok']:,} 份报送 / {figures['wall_s']} s = {figures['rate_per_s']}/s"
        f"（稳定段 {figures['steady_rate_per_s']}/s，最低 5 秒 {figures['min_5s_rate_per_s']}/s），"
        f"p50 {figures['p50_ms']} ms，p95 {figures['p95_ms']} ms，p99 {figures['p99_ms']} ms，错误 {figures['errors']}"
    )
    print(
        f"  重发 {figures['resends']} 次（同一 Idempotency-Key），状态 {figures['resend_statuses']}；"
        f"整机 CPU {figures['machine_busy_pct']}%，客户端自身 {figures['client_cpu_s']} CPU·s；"
        f"每次请求 gunicorn {figures['gunicorn_cpu_ms_per_request']} ms、"
        f"PostgreSQL {figures['postgres_cpu_ms_per_request']} ms CPU；其他进程 {figures['other_cpu_s']} CPU·s"
    )
    print("  核对：" + json.dumps(checks, ensure_ascii=False))
    result = {
        "database": backend_label(),
        "code": os.environ.get("BENCH_CODE", str(ROOT)),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "setup": built,
        "targeted": len(jobs),
        "args": {k: v for k, v in vars(args).items() if k != "json"},
        "figures": figures,
        "checks": checks,
        "profile": profile,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    print(f"结果已写入 {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")


if __name__ == "__main__":
    main()
