#!/usr/bin/env bash
# Read throughput against the same server's GET /healthz (docs/performance.md).
# Starts the release server on a seeded database and runs wrk, one path
# after the other, with the same connections and threads:
#   GET /api/v1/healthz              (the baseline: one trivial query, no token)
#   GET /api/v1/nothing-here         (404 from the default service: no DB)
#   GET /api/v1/requests/{unknown}   (404 after the token check and one lookup)
#   GET /api/v1/requests/{id}        (one request, as a manager / a volunteer)
#   GET /api/v1/requests?limit=20    (first page, as a manager / a volunteer)
#   GET /api/v1/me                   (the volunteer's account and hours)
#   GET /api/v1/me/recommended-requests (as the volunteer)
# twice: with the read cache (the default) and without it (READ_CACHE_MB=0),
# every path as a ratio of /healthz measured by the same server in the same
# run (and /healthz again at the end, to show the run's drift).
#
#   bench/reads.sh                                    # SQLite under target/bench/
#   bench/reads.sh postgres://postgres@127.0.0.1:5432 # database $PGDB there
#
# Env: RECORDS (100000: seeded once; SKIP_SEED=1 reuses), DURATION (10s),
# CONNECTIONS (32), THREADS (1), PORT (18090), PGDB (vs_reads), SKIP_BUILD,
# SUITES ("on off": which cache settings to run), WRITING (1: also read
# while another caller writes).
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${RECORDS:-100000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PORT=${PORT:-18090}
PGDB=${PGDB:-vs_reads}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$TARGET/bench
PASSWORD=bench-password
BIN=$TARGET/release/volunteer-service
mkdir -p "$WORK"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

if [[ ${1:-} == postgres* ]]; then
  KIND=postgres; BASE=${1%/}; URL="$BASE/$PGDB"
else
  KIND=sqlite; DB="$WORK/reads.db"; URL="sqlite://$(realpath -m "$DB")?mode=rwc"
fi
[[ ${SKIP_BUILD:-0} == 1 ]] || cargo build --release
if [[ ${SKIP_SEED:-0} != 1 ]]; then
  if [[ $KIND == postgres ]]; then
    psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB"
  else
    rm -f "$DB" "$DB-wal" "$DB-shm"
  fi
  DATABASE_URL=$URL RUST_LOG=warn JWT_SECRET=unused-while-seeding-unused-while-seeding "$BIN" seed --records "$RECORDS" --password "$PASSWORD"
fi

API=http://127.0.0.1:$PORT/api/v1
SERVER=
trap '[[ -z $SERVER ]] || kill $SERVER 2>/dev/null || true' EXIT

start_server() { # extra env assignments…
  env DATABASE_URL="$URL" BIND_ADDR=127.0.0.1:$PORT JWT_SECRET=bench-secret-bench-secret-bench-secret METRICS_TOKEN=bench-metrics RUST_LOG=warn "$@" \
    "$BIN" >>"$WORK/reads-server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; exit 1
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }

token() {
  curl -sf -H 'content-type: application/json' -d "{\"phone\":\"$1\",\"password\":\"$PASSWORD\"}" \
    "$API/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
rps() { # token path → requests/s
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "authorization: Bearer $1" "$API$2" |
    awk '/Requests\/sec/ {printf "%.0f", $2}'
}
check() { # token path expected-status
  local got; got=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $1" "$API$2")
  [[ $got == "$3" ]] || { echo "$2 answered $got, expected $3" >&2; exit 1; }
}

suite() { # title, then the server's extra env
  local title=$1; shift
  start_server "$@"
  local manager volunteer request base r again
  manager=$(token 13700000000)
  volunteer=$(token 13800000001)
  # A request the volunteer may read: the first of their recommended ones.
  request=$(curl -sf -H "authorization: Bearer $volunteer" "$API/me/recommended-requests" |
    sed -n 's/^{"items":\[{"id":"\([^"]*\)".*/\1/p')
  [[ -n $request ]] || { echo "no request found for the volunteer" >&2; exit 1; }
  check "$volunteer" /nothing-here 404
  check "$volunteer" "/requests/$request" 200
  check "$volunteer" "/requests?limit=20" 200
  check "$manager" "/requests?limit=20" 200

  check "$volunteer" /me 200
  check "$volunteer" /me/recommended-requests 200
  check "$volunteer" /healthz 200

  echo
  echo "$KIND, $title: $(nproc) cores, $RECORDS records seeded, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
  printf '%-44s %10s %10s\n' path "req/s" "vs healthz"
  base=$(rps "$volunteer" /healthz)
  printf '%-44s %10s %10s\n' "GET /healthz" "$base" 1.00
  for case in "$volunteer /nothing-here 404" \
    "$manager /requests/00000000-0000-7000-8000-000000000000 manager,404" \
    "$volunteer /requests/$request volunteer" "$manager /requests/$request manager" \
    "$volunteer /requests?limit=20 volunteer" "$manager /requests?limit=20 manager" \
    "$volunteer /me volunteer" "$volunteer /me/recommended-requests volunteer"; do
    set -- $case
    r=$(rps "$1" "$2")
    printf '%-44s %10s %10s\n' "GET $(sed -e "s/$request/{id}/" -e 's/0000.*0000/{unknown}/' <<<"$2") ($3)" "$r" \
      "$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
  done
  again=$(rps "$volunteer" /healthz)
  printf '%-44s %10s %10s\n' "GET /healthz (again)" "$again" \
    "$(awk -v a="$again" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
  curl -s -H "Authorization: Bearer bench-metrics" "http://127.0.0.1:$PORT/metrics" | grep '^read_cache_lookups_total' || true
  if [[ ${WRITING:-1} != 1 ]]; then
    stop_server
    return
  fi

  # The same detail read while another caller writes without pause: a
  # manager signs the volunteer up and … the volunteer withdraws, over and
  # over; every write retires every remembered answer.
  local metrics_before writes=0 stop=$WORK/reads-writer.stop
  metrics_before=$(curl -s -H "Authorization: Bearer bench-metrics" "http://127.0.0.1:$PORT/metrics" | grep '^read_cache_lookups_total')
  rm -f "$stop"
  (
    n=0
    while [[ ! -e $stop ]]; do
      curl -sf -o /dev/null -X POST -H "authorization: Bearer $volunteer" "$API/requests/$request/signups" && n=$((n + 1))
      curl -sf -o /dev/null -X DELETE -H "authorization: Bearer $volunteer" "$API/requests/$request/signups/me" && n=$((n + 1))
    done
    echo "$n" >"$stop.count"
  ) &
  local writer=$!
  r=$(rps "$volunteer" "/requests/$request")
  touch "$stop"; wait "$writer"; writes=$(cat "$stop.count")
  printf '%-44s %10s %8s   (%s writes meanwhile)\n' "GET /requests/{id} (volunteer), while writing" "$r" \
    "$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a / b}')" "$writes"
  curl -s -H "Authorization: Bearer bench-metrics" "http://127.0.0.1:$PORT/metrics" | grep '^read_cache_lookups_total' |
    awk -v before="$metrics_before" 'BEGIN { n = split(before, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); was[f[1]] = f[2] } }
      { printf "  during it: %s %d\n", $1, $2 - was[$1] }'
  stop_server
}

: >"$WORK/reads-server.log"
for which in ${SUITES:-on off}; do
  case $which in
    on) suite "read cache on (default)" ;;
    off) suite "read cache off" READ_CACHE_MB=0 ;;
  esac
done
