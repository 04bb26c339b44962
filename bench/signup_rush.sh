#!/usr/bin/env bash
# The Monday-morning rush (docs/performance.md): two release server
# processes on one fresh PostgreSQL database, and VOLUNTEERS sign-ups at
# once for PLACES places, alternating between the two processes.
#
#   bench/signup_rush.sh [postgres://postgres@127.0.0.1:5432]
#
# Env: VOLUNTEERS (1000), PLACES (50), PGDB (vs_rush: dropped and re-created),
# PORTS ("18081 18082"), SKIP_BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-postgres://postgres@127.0.0.1:5432}
BASE=${BASE%/}
PGDB=${PGDB:-vs_rush}
PORTS=(${PORTS:-18081 18082})
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$TARGET/bench
ADMIN_PHONE=13900000000
ADMIN_PASSWORD=rush-admin-password
mkdir -p "$WORK"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  cargo build --release
  cargo build --release -p api --example signup_rush
fi
psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" -c "CREATE DATABASE $PGDB"

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null || true' EXIT
SERVERS=""
for port in "${PORTS[@]}"; do
  DATABASE_URL="$BASE/$PGDB" BIND_ADDR=127.0.0.1:$port JWT_SECRET=rush-secret-rush-secret-rush-secret \
    BOOTSTRAP_ADMIN_PHONE=$ADMIN_PHONE BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD RUST_LOG=warn \
    "$TARGET"/release/volunteer-service >"$WORK/rush-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  SERVERS+="${SERVERS:+,}http://127.0.0.1:$port"
done

RUSH_SERVERS=$SERVERS RUSH_VOLUNTEERS=${VOLUNTEERS:-1000} RUSH_PLACES=${PLACES:-50} \
  ADMIN_PHONE=$ADMIN_PHONE ADMIN_PASSWORD=$ADMIN_PASSWORD \
  "$TARGET"/release/examples/signup_rush
echo "server errors logged: $(cat "$WORK"/rush-*.log | grep -c -i 'error' || true)"
