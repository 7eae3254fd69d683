#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster, run the given command with DATABASE_URL pointing
# at it, then stop and delete the cluster whatever the command's outcome.
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")}"
PORT="${PG_TEST_PORT:-54329}"
# Another cluster (a benchmark, a second test run) may hold the port: take the next free one.
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
DIR="$(mktemp -d /tmp/majorprojects-pg.XXXXXX)"

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT

if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
as_owner "$PG_BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres majorprojects

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/majorprojects"
echo "PostgreSQL 15 test cluster on port $PORT ($DIR)"
"$@"
