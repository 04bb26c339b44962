#!/usr/bin/env bash
# Fuzzes the API with schemathesis against its own OpenAPI document.
#
# Meant to run after `cargo build --release` (from .ci/run or by hand):
#   bash fuzz/schemathesis.sh
# Environment:
#   BIN                 server binary (default: target/release/volunteer-service)
#   ST_VENV             venv holding schemathesis (default: target/schemathesis-venv);
#                       created, with the pinned version, when `st` is missing there
#   FUZZ_MAX_EXAMPLES   examples per operation and phase (default 25)
#   FUZZ_SEED           hypothesis seed (default 20260601)
#   FUZZ_PHASES         schemathesis phases (default examples,coverage,fuzzing; add
#                       ",stateful" for multi-step runs that follow inferred links)
#   FUZZ_OUT            where reports and the server log go (default target/fuzz-report)
#   FUZZ_NETNS          auto (default) | 0: run server and fuzzer in a private
#                       network namespace (loopback only) when `unshare -n` works
#   FUZZ_EXTRA_ARGS     extra arguments for both `st run`s (e.g. "--checks all")
# Exit status: 0 when both runs (admin token, volunteer token) pass, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCHEMATHESIS_VERSION="4.32.5"

abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }
BIN="$(abs "${BIN:-target/release/volunteer-service}")"
ST_VENV="$(abs "${ST_VENV:-target/schemathesis-venv}")"
FUZZ_OUT="$(abs "${FUZZ_OUT:-target/fuzz-report}")"
FUZZ_MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-25}"
FUZZ_SEED="${FUZZ_SEED:-20260601}"
FUZZ_PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing}"
FUZZ_NETNS="${FUZZ_NETNS:-auto}"
export BIN ST_VENV FUZZ_OUT FUZZ_MAX_EXAMPLES FUZZ_SEED FUZZ_PHASES FUZZ_NETNS

# ---- 1. schemathesis (needs the package registry: done before any netns) ----
if [ -z "${FUZZ_INSIDE_NETNS:-}" ]; then
  [ -x "$BIN" ] || { echo "fuzz: no server binary at $BIN (run cargo build --release first)" >&2; exit 2; }
  if [ ! -x "$ST_VENV/bin/st" ]; then
    echo "== fuzz: installing schemathesis==$SCHEMATHESIS_VERSION into $ST_VENV =="
    python3 -m venv "$ST_VENV"
    "$ST_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  echo "== fuzz: $("$ST_VENV/bin/st" --version) =="

  # ---- 2. a network namespace with only loopback, when we can make one ----
  # The server sends webhooks to whatever URL a fuzzed POST /webhooks names;
  # inside the namespace nothing can leave the machine.
  if [ "$FUZZ_NETNS" != 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
    userns=(); [ "$(id -u)" = 0 ] || userns=(-r)
    if unshare "${userns[@]}" -n true 2>/dev/null; then
      exec unshare "${userns[@]}" -n env FUZZ_INSIDE_NETNS=1 \
        bash -c 'ip link set lo up && exec bash "$0"' "${BASH_SOURCE[0]}"
    fi
  fi
  echo "fuzz: no private network namespace: the /webhooks operations are left out of the runs" >&2
fi

# ---- 3. the server on a fresh SQLite file ----
WORK="$(mktemp -d -t vs-fuzz.XXXXXX)"
mkdir -p "$FUZZ_OUT"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  cp "$WORK/server.log" "$FUZZ_OUT/server.log" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
ADMIN_PHONE=13900000000
ADMIN_PASSWORD="fuzz-admin-$RANDOM$RANDOM"
ALLOW_PRIVATE=false
[ -n "${FUZZ_INSIDE_NETNS:-}" ] && ALLOW_PRIVATE=true   # only loopback exists in there

# Run from the temp dir so that no .env of the checkout is read.
(
  cd "$WORK"
  exec env DATABASE_URL="sqlite://$WORK/fuzz.db?mode=rwc" BIND_ADDR="127.0.0.1:$PORT" \
    JWT_SECRET="fuzz-jwt-secret-$RANDOM$RANDOM$RANDOM-fuzz-jwt-secret" \
    BOOTSTRAP_ADMIN_PHONE="$ADMIN_PHONE" BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    WEBHOOK_ALLOW_PRIVATE_TARGETS="$ALLOW_PRIVATE" WEBHOOK_RETRY_BASE_MS=600000 \
    RUST_LOG=warn "$BIN"
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz" || true)" = 200 ]; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "fuzz: server exited:" >&2; cat "$WORK/server.log" >&2; exit 2; }
  sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz" || true)" = 200 ] \
  || { echo "fuzz: server not healthy after 60 s" >&2; cat "$WORK/server.log" >&2; exit 2; }

# ---- 4. tokens and seed data ----
seed_args=("$BASE" "$WORK" "$ADMIN_PHONE" "$ADMIN_PASSWORD")
[ -n "${FUZZ_INSIDE_NETNS:-}" ] && seed_args+=(--with-webhook)
"$ST_VENV/bin/python" "$ROOT/fuzz/seed.py" "${seed_args[@]}"
cp "$WORK/seed.json" "$FUZZ_OUT/seed.json"
# shellcheck disable=SC1091
. "$WORK/tokens.env"

# ---- 5. two runs: as the admin and as a volunteer ----
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"
filters=()
# Outside the namespace no webhook may be registered (its deliveries would
# leave the machine), so every webhook operation is left out.
[ -n "${FUZZ_INSIDE_NETNS:-}" ] || filters=(--exclude-path-regex '/webhooks')

run() {
  local who="$1" token="$2" start rc
  echo
  echo "== fuzz: st run as $who (max-examples $FUZZ_MAX_EXAMPLES, seed $FUZZ_SEED) =="
  start=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  (cd "$WORK" && "$ST_VENV/bin/st" --config-file "$WORK/schemathesis.toml" run \
    "$BASE/api-docs/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$CHECKS" \
    --phases "$FUZZ_PHASES" \
    --max-examples "$FUZZ_MAX_EXAMPLES" --seed "$FUZZ_SEED" \
    --generation-database none --workers 1 \
    --request-timeout 20 --no-color --output-truncate false \
    --report junit,ndjson --report-dir "$FUZZ_OUT/$who" \
    "${filters[@]}" ${FUZZ_EXTRA_ARGS:-})
  rc=$?
  set -e
  echo "== fuzz: $who run: exit $rc in $(( $(date +%s) - start )) s =="
  return "$rc"
}

status=0
# The volunteer goes first: the admin run may reset the volunteer's
# password (POST /users/{id}/password with an id it read from a listing),
# which rightly ends the volunteer's token, and a run after that would
# test nothing but 401s.
run volunteer "$VOLUNTEER_TOKEN" || status=1
run admin "$ADMIN_TOKEN" || status=1

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "fuzz: the server died during the runs" >&2
  status=1
fi
if grep -q 'panicked' "$WORK/server.log"; then
  echo "fuzz: the server log shows a panic:" >&2
  grep -m5 -A3 'panicked' "$WORK/server.log" >&2
  status=1
fi
echo
echo "== fuzz: reports in $FUZZ_OUT; $([ $status = 0 ] && echo 'no failures' || echo 'FAILURES found') =="
exit "$status"
