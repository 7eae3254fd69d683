"""Shared set-up for the benchmark scripts: which database, production-like settings, Django."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_SQLITE = ROOT / "var" / "bench.sqlite3"
# The dispatch benchmark (bench/dispatch_scale.py) keeps its 3 million reports in a file of its own.
BENCH_DISPATCH_SQLITE = ROOT / "var" / "bench-dispatch.sqlite3"


def database_url(postgres: bool, sqlite_path: Path = BENCH_SQLITE) -> str:
    """The benchmark never writes into the development database: SQLite goes to its own file;
    PostgreSQL must be asked for explicitly (scripts/with_postgres.sh exports DATABASE_URL)."""
    if postgres:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            sys.exit("--postgres needs DATABASE_URL (run under scripts/with_postgres.sh)")
        return url
    return f"sqlite:///{sqlite_path}"


def setup(postgres: bool, sqlite_path: Path = BENCH_SQLITE) -> str:
    """Configure the environment like production (DEBUG off) and start Django."""
    url = database_url(postgres, sqlite_path)
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ["SECURE"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majorprojects.settings")
    # BENCH_CODE: measure a scratch copy of the code (a proposed change) against the same data.
    code = os.environ.get("BENCH_CODE", str(ROOT))
    if code not in sys.path:
        sys.path.insert(0, code)
    import django
    from django.conf import settings

    django.setup()
    # Plain static storage: the hashed-manifest lookup is not what is measured, and this way the
    # benchmark does not need `collectstatic` to have run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return url


def backend_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"
