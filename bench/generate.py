"""Build the benchmark dataset: the demo city with 50,000 projects (and their listings, funding,
tags and campaigns) in its own database.

    uv run python bench/generate.py                       # var/bench.sqlite3
    scripts/with_postgres.sh uv run python bench/generate.py --postgres
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from common import BENCH_SQLITE, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50000)
    parser.add_argument("--postgres", action="store_true", help="use DATABASE_URL (PostgreSQL)")
    parser.add_argument("--rebuild", action="store_true", help="delete the SQLite file first")
    args = parser.parse_args()
    if args.rebuild and not args.postgres:
        for suffix in ("", "-wal", "-shm"):
            BENCH_SQLITE.with_name(BENCH_SQLITE.name + suffix).unlink(missing_ok=True)
    setup(args.postgres)

    from django.core.management import call_command
    from django.db import connection

    from majorprojects.demo.builder import build_demo
    from majorprojects.projects.models import Project

    call_command("migrate", verbosity=0)
    existing = Project.objects.count()
    if existing:
        if existing != args.projects:
            raise SystemExit(f"the benchmark database holds {existing} projects; rerun with --rebuild")
        print(json.dumps({"projects": existing, "reused": True}))
        return
    started = time.perf_counter()
    counts = build_demo(projects=args.projects, history=False)
    seconds = time.perf_counter() - started
    # Production databases have planner statistics (PostgreSQL autovacuum; SQLite `PRAGMA
    # optimize`); a freshly loaded one does not, so gather them once.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        json.dumps(
            {
                "projects": counts["projects"],
                "listings": counts["listings"],
                "memberships": counts["memberships"],
                "units": counts["units"],
                "seconds": round(seconds, 1),
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
