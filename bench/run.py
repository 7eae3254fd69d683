"""Time the project library at province scale (50,000 projects), server side, DEBUG off.

    uv run python bench/run.py                                   # SQLite, var/bench.sqlite3
    scripts/with_postgres.sh uv run python bench/run.py --postgres

Builds the dataset first if it is missing (bench/generate.py). Each page is requested through
Django's test Client as a signed-in user (the city admin, and a county account); the figure is
the median of several runs after one warm-up. The export runs in a fresh subprocess so its
peak memory (ru_maxrss) is its own. Results are printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import unicodedata
import zipfile
from io import BytesIO
from pathlib import Path

from common import ROOT, backend_label, setup

TARGET_LIST_MS = 300
TARGET_EXPORT_S = 20
TARGET_EXPORT_MB = 500
USERS = {"admin": "市级管理员（全市）", "linchuan": "县区账号（临川区）"}


def pad(text: str, size: int) -> str:
    """Left-align in a fixed number of terminal columns (CJK characters take two)."""
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, size - width)


def start(postgres: bool) -> None:
    setup(postgres)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def login(username: str):
    from django.test import Client

    from majorprojects.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def scenarios(username: str) -> list[tuple[str, str]]:
    from majorprojects.organisation.models import Region
    from majorprojects.projects.filters import current_year

    year = current_year()
    region = Region.objects.get(code="431921" if username == "admin" else "431902")
    return [
        ("列表：无筛选", "/projects/"),
        (f"列表：区域={region.name}", f"/projects/?region={region.pk}"),
        ("列表：在建+年度+市重点", f"/projects/?stage=construction&year={year}&key_level=city"),
        ("列表：搜索“污水”", "/projects/?q=%E6%B1%A1%E6%B0%B4"),
        ("列表：按总投资排序", "/projects/?sort=investment"),
        ("列表：第 40 页", "/projects/?page=40"),
        ("首页（合计+阶段分布）", "/"),
    ]


def time_get(client, url: str, runs: int) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "max_ms": round(max(samples), 1),
        "queries": len(captured.captured_queries),
        "slowest_query_ms": round(float(slowest["time"]) * 1000, 1) if slowest else 0,
        "slowest_query": slowest["sql"][:300] if slowest else "",
    }


def time_totals(username: str, runs: int) -> dict:
    from majorprojects.accounts.models import User
    from majorprojects.accounts.scope import visible_projects
    from majorprojects.projects import selectors
    from majorprojects.projects.filters import ProjectFilterSet, current_year

    user = User.objects.get(username=username)
    qs = ProjectFilterSet(None, user=user).filter(visible_projects(user))
    selectors.project_totals(qs, current_year())
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        totals = selectors.project_totals(qs, current_year())
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 1), "count": totals["count"]}


def export_child(username: str, mode: str) -> None:
    """In a fresh process: export every visible project and report time and memory."""
    from majorprojects.accounts.models import User
    from majorprojects.accounts.scope import visible_projects
    from majorprojects.projects import exports, selectors
    from majorprojects.projects.filters import ProjectFilterSet, current_year

    client = login(username)
    client.get("/projects/?page=1")  # import templates and warm the connection like a live server
    baseline = rss_mb()
    if mode == "tracemalloc":
        tracemalloc.start()
    started = time.perf_counter()
    if mode == "direct":
        user = User.objects.get(username=username)
        qs = ProjectFilterSet(None, user=user).filter(visible_projects(user))
        year = current_year()
        content = exports.projects_xlsx(
            selectors.export_rows(qs, year),
            year=year,
            title="bench",
            totals=selectors.project_totals(qs, year),
        )
    else:
        response = client.get("/projects/export.xlsx")
        assert response.status_code == 200, response.status_code
        content = response.content
    seconds = time.perf_counter() - started
    result = {"seconds": round(seconds, 2), "baseline_mb": round(baseline), "peak_rss_mb": round(rss_mb())}
    if mode == "tracemalloc":
        result["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    with zipfile.ZipFile(BytesIO(content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    result["rows"] = len(re.findall(rb"<row ", sheet)) - 4  # title, unit, header, 合计
    result["bytes"] = len(content)
    print(json.dumps(result))


def run_export(args, username: str, mode: str) -> dict:
    command = [sys.executable, __file__, "--child-export", username, "--mode", mode]
    if args.postgres:
        command.append("--postgres")
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_dataset(args) -> dict:
    command = [sys.executable, str(Path(__file__).with_name("generate.py")), "--projects", str(args.projects)]
    if args.postgres:
        command.append("--postgres")
    if args.rebuild:
        command.append("--rebuild")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(done.stderr or done.stdout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "✓" if ok else "✗"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page (median is reported)")
    parser.add_argument("--postgres", action="store_true", help="use DATABASE_URL (PostgreSQL)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the SQLite dataset")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument(
        "--json", type=Path, default=None, help="write results here (default var/bench-<db>.json)"
    )
    parser.add_argument("--child-export", metavar="USERNAME", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="http", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_export:
        start(args.postgres)
        export_child(args.child_export, args.mode)
        return

    dataset = ensure_dataset(args)
    start(args.postgres)
    from django.conf import settings

    from majorprojects.projects.models import AnnualListing, Project

    assert not settings.DEBUG
    results = {
        "database": backend_label(),
        "projects": Project.objects.count(),
        "listings": AnnualListing.objects.count(),
        "dataset": dataset,
        "pages": [],
        "totals": {},
        "exports": [],
    }
    print(f"{results['database']}: {results['projects']:,} 个项目, {results['listings']:,} 条年度清单")
    for username, label in USERS.items():
        client = login(username)
        for name, url in scenarios(username):
            figures = time_get(client, url, args.runs)
            results["pages"].append({"user": username, "page": name, "url": url, **figures})
            ok = figures["median_ms"] <= TARGET_LIST_MS
            print(
                f"  {verdict(ok)} {pad(label, 20)} {pad(name, 24)} {figures['median_ms']:>8.1f} ms"
                f"  ({figures['queries']} 次查询，最慢 {figures['slowest_query_ms']} ms)"
            )
        totals = time_totals(username, args.runs)
        results["totals"][username] = totals
        print(
            f"    {pad(label, 20)} {pad('selectors.project_totals', 24)} {totals['median_ms']:>8.1f} ms"
            f"  ({totals['count']:,} 个)"
        )
    if not args.skip_export:
        for username in USERS:
            for mode in ("http", "tracemalloc"):
                figures = run_export(args, username, mode)
                results["exports"].append({"user": username, "mode": mode, **figures})
                ok = figures["seconds"] <= TARGET_EXPORT_S and figures["peak_rss_mb"] <= TARGET_EXPORT_MB
                extra = (
                    f"，Python 堆峰值 {figures['python_peak_mb']} MB" if "python_peak_mb" in figures else ""
                )
                print(
                    f"  {verdict(ok or mode == 'tracemalloc')} 导出 {pad(USERS[username], 20)} [{mode}] "
                    f"{figures['rows']:,} 行 {figures['seconds']:.1f} s，进程峰值 {figures['peak_rss_mb']} MB"
                    f"（导出前 {figures['baseline_mb']} MB）{extra}，文件 {figures['bytes'] / 2**20:.1f} MB"
                )
    name = f"bench-{'postgres' if args.postgres else 'sqlite'}.json"
    out = args.json or ROOT / "var" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(f"结果已写入 {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
