#!/usr/bin/env bash
# A Monday morning (docs/performance.md): two release server processes on
# one PostgreSQL database seeded with VOLUNTEERS volunteers; every one of
# them logs in (a token each), then for SECONDS the volunteers open the app
# (/me, recommended requests, one request; a tenth sign up or withdraw)
# while caseworkers post, assign and approve (api/examples/monday_morning.rs).
# Twice, on fresh copies of the same seeded database: with the read cache
# (the default) and with READ_CACHE_MB=0. Fails if any answer was one the
# mix should not get (5xx, or a 4xx other than a lost race for a place).
#
#   bench/monday.sh [postgres://postgres@127.0.0.1:5432]
#
# Env: VOLUNTEERS (600), RECORDS (200000: ~800 records waiting for approval),
# SECONDS_EACH (60), SESSIONS (32 at once), CASEWORKERS (6), PAUSE_MS (250,
# each caseworker's pace), PORTS ("18101 18102"), PGDB (vs_monday; also
# ${PGDB}_seed, kept as the template; SKIP_SEED=1 reuses it), SKIP_BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-postgres://postgres@127.0.0.1:5432}
BASE=${BASE%/}
PGDB=${PGDB:-vs_monday}
VOLUNTEERS=${VOLUNTEERS:-600}
PORTS=(${PORTS:-18101 18102})
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$TARGET/bench
BIN=$TARGET/release/volunteer-service
PASSWORD=monday-password
JWT=monday-secret-monday-secret-monday-secret
METRICS=monday-metrics
mkdir -p "$WORK"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  cargo build --release
  cargo build --release -p api --example monday_morning
fi
if [[ ${SKIP_SEED:-0} != 1 ]]; then
  psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS ${PGDB}_seed WITH (FORCE)" -c "CREATE DATABASE ${PGDB}_seed"
  DATABASE_URL="$BASE/${PGDB}_seed" JWT_SECRET=$JWT RUST_LOG=warn \
    "$BIN" seed --records "${RECORDS:-200000}" --volunteers "$VOLUNTEERS" --password "$PASSWORD"
fi

PIDS=()
stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_servers EXIT

morning() { # title, then the servers' extra env
  local title=$1; shift
  psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" \
    -c "CREATE DATABASE $PGDB TEMPLATE ${PGDB}_seed"
  local servers="" port log
  for port in "${PORTS[@]}"; do
    log=$WORK/monday-$port.log
    : >"$log"
    env DATABASE_URL="$BASE/$PGDB" BIND_ADDR=127.0.0.1:$port JWT_SECRET=$JWT METRICS_TOKEN=$METRICS \
      LOGIN_ATTEMPTS_PER_MINUTE=1000000 RUST_LOG=warn "$@" "$BIN" >"$log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    servers+="${servers:+,}http://127.0.0.1:$port"
  done
  echo
  echo "== $title: $(nproc) cores, $VOLUNTEERS volunteers, ${SECONDS_EACH:-60} s, ${SESSIONS:-32} sessions at once"
  MONDAY_SERVERS=$servers MONDAY_VOLUNTEERS=$VOLUNTEERS MONDAY_PASSWORD=$PASSWORD METRICS_TOKEN=$METRICS \
    MONDAY_SECONDS=${SECONDS_EACH:-60} MONDAY_SESSIONS=${SESSIONS:-32} \
    MONDAY_CASEWORKERS=${CASEWORKERS:-6} MONDAY_CASEWORKER_PAUSE_MS=${PAUSE_MS:-250} \
    "$TARGET"/release/examples/monday_morning || FAILED+=("$title")
  stop_servers
  echo "server log lines at error level: $(cat "$WORK"/monday-*.log | grep -c -w 'ERROR' || true)"
}

FAILED=()
morning "read cache on (default)"
morning "read cache off" READ_CACHE_MB=0
if ((${#FAILED[@]})); then
  echo "unexpected answers in: ${FAILED[*]}" >&2
  exit 1
fi
