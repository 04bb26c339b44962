#!/usr/bin/env bash
# Export benchmark (results in docs/performance.md).
# Seeds ROWS approved service records, then times GET /api/v1/exports/service-hours
# (CSV, then XLSX) on the release server — a fresh server per run, peak RSS from
# VmHWM — against `sqlite3 -csv` / `psql \copy` of the same rows and join.
#
#   bench/export.sh                                   # SQLite file under target/bench/
#   bench/export.sh postgres://postgres@127.0.0.1:5432  # fresh database $PGDB there
#
# Env: ROWS (1000000), RUNS per measurement (3, median reported), XLSX (1 = also
# time XLSX), SKIP_SEED (1 = reuse the seeded database), SKIP_BUILD, PORT (18080),
# CARGO_TARGET_DIR (target), PGDB (vs_bench: dropped and re-created).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
XLSX=${XLSX:-1}
PORT=${PORT:-18080}
PGDB=${PGDB:-vs_bench}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$TARGET/bench
PHONE=13700000000
PASSWORD=bench-password
mkdir -p "$WORK"

if [[ ${1:-} == postgres* ]]; then
  KIND=postgres
  BASE=${1%/}
  URL="$BASE/$PGDB"
else
  KIND=sqlite
  DB="$WORK/export.db"
  URL="sqlite://$(realpath -m "$DB")?mode=rwc"
fi

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  cargo build --release
fi

if [[ ${SKIP_SEED:-0} != 1 ]]; then
  if [[ $KIND == postgres ]]; then
    psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB"
  else
    rm -f "$DB" "$DB-wal" "$DB-shm"
  fi
  DATABASE_URL=$URL RUST_LOG=warn JWT_SECRET=unused-while-seeding-unused-while-seeding /usr/bin/time -f 'seed: %e s, peak RSS %M KB' \
    "$TARGET"/release/volunteer-service seed --records "$ROWS" --password "$PASSWORD"
fi

# The export's query and columns, in each dialect: approved records that no
# approved correction replaced, joined like api/src/service/reports.rs. The
# labels repeat entity/src/vocab.rs; '+8 hours' is Asia/Shanghai (no DST).
FROM="FROM service_records sr
 JOIN help_requests h ON h.id = sr.request_id
 JOIN residents r ON r.id = h.resident_id
 JOIN users u ON u.id = sr.volunteer_id
 JOIN teams t ON t.id = sr.team_id
 WHERE sr.status = 'approved' AND sr.id NOT IN
  (SELECT supersedes_id FROM service_records WHERE status = 'approved' AND supersedes_id IS NOT NULL)
 ORDER BY sr.id"
RAW="SELECT u.name, u.phone, t.name, r.category, h.category, sr.started_at, sr.ended_at, sr.minutes $FROM"
label() { # CASE mapping a category code to the export's Chinese label
  echo "CASE $1 WHEN 'elderly_alone' THEN '空巢老人' WHEN 'disabled' THEN '残疾人'
   WHEN 'left_behind_child' THEN '留守儿童' WHEN 'home_visit' THEN '上门探访'
   WHEN 'companionship' THEN '陪伴' WHEN 'housekeeping' THEN '家政服务' WHEN 'meal_delivery' THEN '送餐'
   WHEN 'medical_escort' THEN '陪同就医' WHEN 'shopping' THEN '代购' WHEN 'repair' THEN '维修'
   WHEN 'tutoring' THEN '课业辅导' WHEN 'psychological_support' THEN '心理疏导'
   WHEN 'legal_aid' THEN '法律援助' WHEN 'other' THEN '其他' ELSE '未知' END"
}
if [[ $KIND == sqlite ]]; then
  t() { echo "strftime('%Y-%m-%d %H:%M', $1, 'unixepoch', '+8 hours')"; }
  HOURS="printf('%.2f', COALESCE(sr.minutes, 0) / 60.0)"
else
  t() { echo "to_char(to_timestamp($1) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')"; }
  HOURS="to_char(COALESCE(sr.minutes, 0) / 60.0, 'FM999990.00')"
fi
FORMATTED="SELECT u.name, left(u.phone, 3) || '****' || right(u.phone, 4), t.name,
 $(label r.category), $(label h.category), $(t sr.started_at),
 $(t 'COALESCE(sr.ended_at, sr.started_at)'), $HOURS $FROM"
[[ $KIND == sqlite ]] && FORMATTED=${FORMATTED//left(u.phone, 3)/substr(u.phone, 1, 3)} &&
  FORMATTED=${FORMATTED//right(u.phone, 4)/substr(u.phone, -4)}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One export from a fresh server: prints "seconds peak_rss_kb bytes lifetime_peak_kb".
# The peak is reset after login (argon2 alone takes ~19 MB), so it is the
# export's; the lifetime peak includes the login.
export_once() {
  local format=$1 pid token out login_hwm hwm
  DATABASE_URL=$URL BIND_ADDR=127.0.0.1:$PORT JWT_SECRET=bench-secret-bench-secret-bench-secret \
    RUST_LOG=warn "$TARGET"/release/volunteer-service >"$WORK/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  token=$(curl -sf -H 'content-type: application/json' \
    -d "{\"phone\":\"$PHONE\",\"password\":\"$PASSWORD\"}" \
    "http://127.0.0.1:$PORT/api/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  login_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo 5 >"/proc/$pid/clear_refs" || true # resets VmHWM
  out=$(curl -sf -o /dev/null -w '%{time_total} %{size_download}' -H "authorization: Bearer $token" \
    "http://127.0.0.1:$PORT/api/v1/exports/service-hours?format=$format") ||
    { kill "$pid"; echo "export failed, see $WORK/server.log" >&2; return 1; }
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  set -- $out
  echo "$1 $hwm $2 $((hwm > login_hwm ? hwm : login_hwm))"
}

# A native dump under /usr/bin/time: prints "seconds peak_rss_kb".
native_once() {
  local query=$1
  if [[ $KIND == sqlite ]]; then
    /usr/bin/time -o "$WORK/time" -f '%e %M' sqlite3 -csv -header "$DB" "$query" >/dev/null
  else
    /usr/bin/time -o "$WORK/time" -f '%e %M' \
      psql -q "$URL" -c "\\copy ($(tr '\n' ' ' <<<"$query")) TO '/dev/null' CSV HEADER"
  fi
  cat "$WORK/time"
}

measure() { # name, command...: median seconds, max peak RSS over RUNS
  local name=$1 secs=() rss=0 life=0 size="" s m b l
  shift
  for _ in $(seq "$RUNS"); do
    read -r s m b l < <("$@")
    secs+=("$s"); ((m > rss)) && rss=$m
    [[ -n ${l:-} ]] && ((l > life)) && life=$l
    [[ -n ${b:-} ]] && size="$((b / 1048576)) MB"
  done
  local med
  med=$(printf '%s\n' "${secs[@]}" | median)
  printf '%-28s %8s %8s %9s %8s %10s %8s\n' "$name" "$ROWS" "$med" \
    "$(awk -v n="$ROWS" -v s="$med" 'BEGIN {printf "%.0f", n / s}')" "$((rss / 1024))" \
    "$( ((life)) && echo $((life / 1024)) || echo -)" "${size:--}"
}

exported=$(if [[ $KIND == sqlite ]]; then sqlite3 "$DB" "SELECT count(*) FROM ($RAW)";
  else psql -qtA "$URL" -c "SELECT count(*) FROM ($RAW) x"; fi)
echo "$KIND, $(nproc) cores, rows the export returns: $exported, runs per line: $RUNS (median)"
printf '%-28s %8s %8s %9s %8s %10s %8s\n' what rows seconds rows/s "peak MB" "+login MB" file
measure "our CSV" export_once csv
[[ $XLSX == 1 ]] && measure "our XLSX" export_once xlsx
if [[ $KIND == sqlite ]]; then native="sqlite3 -csv"; else native="psql \\copy"; fi
measure "$native (same columns)" native_once "$FORMATTED"
measure "$native (raw columns)" native_once "$RAW"
