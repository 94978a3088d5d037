#!/usr/bin/env bash
# End-to-end: lsauth against a real Label Studio 1.23.2 installed from PyPI, once on SQLite
# and once on PostgreSQL, through the stories an operator lives:
#   a fresh install rejects its own legacy token; doctor says why; enable-legacy fixes it
#   (the same token works against the live server); rollback brings the failure back;
#   migrate-env turns a realistic .env into a working PAT; doctor goes green; PATs switched
#   off are caught and rolled back.
#
#   scripts/e2e.sh [sqlite|postgres|all]
#
# Label Studio is installed once into $LSAUTH_E2E_CACHE (default ~/.cache/lsauth-e2e) and
# reused. Nothing is skipped: if Label Studio cannot be installed or started, this fails
# and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LS_VERSION=1.23.2
CACHE=${LSAUTH_E2E_CACHE:-$HOME/.cache/lsauth-e2e}
VENV=$CACHE/venv-$LS_VERSION
WORK=$(mktemp -d /tmp/lsauth-e2e.XXXXXX)
chmod 755 "$WORK"
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD='S3cret-pass!'
LSAUTH=${CARGO_TARGET_DIR:-$ROOT/target}/debug/lsauth
PIDS=()
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PGDIR=$WORK/pg
failures=0
steps=0

die() { echo "e2e: FAILED: $*" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -- "-$pid" 2>/dev/null || true; done
  [ -d "$PGDIR/data" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# install_label_studio [VERSION]: one cached venv per release
install_label_studio() {
  local version=${1:-$LS_VERSION} venv=$CACHE/venv-${1:-$LS_VERSION}
  if [ -x "$venv/bin/label-studio" ]; then return; fi
  echo "e2e: installing label-studio==$version into $venv (once, a few minutes)"
  mkdir -p "$CACHE"
  python3 -m venv "$venv" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$venv/bin/pip" install -q "label-studio==$version" || die "pip install label-studio==$version failed"
  [ -x "$venv/bin/label-studio" ] || die "label-studio $version was not installed"
}

start_postgres() {
  [ -n "$PGBIN" ] || die "no PostgreSQL server binaries (apt-get install postgresql)"
  PGPORT=$(free_port)
  mkdir -p "$PGDIR"; [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  as_pg "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null || die "initdb failed"
  as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1" start >/dev/null || die "PostgreSQL did not start"
}

# start_label_studio NAME sqlite|postgres [VERSION] [keep]: sets LS_URL LS_DB LS_DATA LS_TOKEN.
# With "keep", the data directory (and PostgreSQL database) of an earlier start of NAME is
# kept and migrated by the new release, and the same legacy token is used: an upgrade in
# place, as an operator does it.
start_label_studio() {
  local name=$1 db=$2 version=${3:-$LS_VERSION} keep=${4:-} port; port=$(free_port)
  LS_DATA=$WORK/$name; mkdir -p "$LS_DATA"
  [ -n "$keep" ] || LS_TOKEN=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
  local -a env=(LABEL_STUDIO_BASE_DATA_DIR="$LS_DATA" SENTRY_DSN= FRONTEND_SENTRY_DSN=
                LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=false)
  LS_DB="sqlite://$LS_DATA/label_studio.sqlite3"
  if [ "$db" = postgres ]; then
    [ -n "$keep" ] || psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c "CREATE DATABASE ls_$name" >/dev/null
    env+=(DJANGO_DB=default POSTGRE_NAME="ls_$name" POSTGRE_USER=postgres POSTGRE_PASSWORD=unused
          POSTGRE_HOST=127.0.0.1 POSTGRE_PORT="$PGPORT")
    LS_DB="postgres://postgres@127.0.0.1:$PGPORT/ls_$name?sslmode=disable"
  fi
  LS_ENV=("${env[@]}")
  env "${env[@]}" setsid "$CACHE/venv-$version/bin/label-studio" start --no-browser --host 127.0.0.1 --port "$port" \
    --internal-host 127.0.0.1 --username "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" \
    --user-token "$LS_TOKEN" >>"$WORK/$name.log" 2>&1 &
  LS_PID=$!; PIDS+=("$LS_PID")
  LS_URL=http://127.0.0.1:$port
  echo "e2e: starting Label Studio $version ($db) on $LS_URL${keep:+ (upgrading the data of $name)}"
  for _ in $(seq 1 300); do
    curl -fs -m 2 "$LS_URL/health" >/dev/null 2>&1 && return
    kill -0 "$LS_PID" 2>/dev/null || { tail -30 "$WORK/$name.log" >&2; die "Label Studio exited"; }
    sleep 1
  done
  tail -30 "$WORK/$name.log" >&2; die "Label Studio did not answer on $LS_URL"
}

# stop_label_studio: stop the instance started last, and wait until it is gone.
stop_label_studio() {
  kill -- "-$LS_PID" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$LS_PID" 2>/dev/null || return 0; sleep 1; done
  kill -9 -- "-$LS_PID" 2>/dev/null || true
}

# expect CODE DESCRIPTION -- lsauth ARGS... : run lsauth, check its exit code, keep its output.
OUT=$WORK/last.out
ERR=$WORK/last.err
expect() {
  local code=$1 what=$2; shift 3
  steps=$((steps + 1))
  # stdout and stderr apart: --json's one document is on stdout, whatever stderr says.
  set +e; "$LSAUTH" "$@" >"$OUT" 2>"$ERR" <"${STDIN:-/dev/null}"; local got=$?; set -e
  if grep -qF "$LS_TOKEN" "$OUT" "$ERR" || { [ -n "${PAT_SEEN:-}" ] && grep -qF "$PAT_SEEN" "$OUT" "$ERR"; }; then
    echo "  FAIL $what: a full token was printed"; failures=$((failures + 1)); return
  fi
  if [ "$got" = "$code" ]; then echo "  ok   $what (exit $got)"; else
    echo "  FAIL $what: exit $got, expected $code"; sed 's/^/       /' "$OUT" "$ERR"; failures=$((failures + 1))
  fi
}

# json_is PATH VALUE: a field of the last JSON output; PATH parts are separated by '/',
# and in a list a part picks the element whose "id" it is (doctor's check ids).
json_is() {
  steps=$((steps + 1))
  local got; got=$(python3 - "$OUT" "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
value = doc
for part in sys.argv[2].split("/"):
    if isinstance(value, list):
        value = next((c for c in value if c.get("id") == part), None) if not part.isdigit() else value[int(part)]
    else:
        value = value.get(part) if value is not None else None
print(value if not isinstance(value, bool) else str(value).lower())
PY
) 2>/dev/null || got="(no JSON)"
  if [ "$got" = "$2" ]; then echo "  ok   $1 = $2"; else echo "  FAIL $1 = $got, expected $2"; failures=$((failures + 1)); fi
}

# json_get PATH: a field of the last JSON output (as json_is reads it).
json_get() {
  python3 - "$OUT" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("/"):
    if isinstance(value, list):
        value = next((c for c in value if c.get("id") == part), None) if not part.isdigit() else value[int(part)]
    else:
        value = value.get(part) if value is not None else None
print(value)
PY
}

# pasted LINE: a command line lsauth printed, run by sh from another directory with the
# lsauth under test first on PATH, as a user pastes it; it must succeed.
pasted() {
  steps=$((steps + 1))
  local bin=$WORK/bin; mkdir -p "$bin"; ln -sf "$LSAUTH" "$bin/lsauth"
  set +e; (cd "$WORK" && PATH="$bin:$PATH" sh -c "$1") >"$OUT" 2>"$ERR" </dev/null; local got=$?; set -e
  if [ "$got" = 0 ]; then echo "  ok   pasted: $1"; else
    echo "  FAIL pasted: $1 (exit $got)"; sed 's/^/       /' "$OUT" "$ERR"; failures=$((failures + 1)); fi
}

# stderr_has TEXT: the last run's stderr says TEXT.
stderr_has() {
  steps=$((steps + 1))
  if grep -qF -- "$1" "$ERR"; then echo "  ok   says: $1"; else
    echo "  FAIL stderr does not say: $1"; sed 's/^/       /' "$ERR"; failures=$((failures + 1)); fi
}

story() {
  local db=$1
  echo "e2e: --- Label Studio on $db ---"
  start_label_studio "e2e_$db" "$db"
  export LSAUTH_BACKUP_DIR=$WORK/backups-$db
  local tokenfile=$WORK/token-$db; printf '%s' "$LS_TOKEN" >"$tokenfile"

  echo "story: a fresh install rejects its own legacy token"
  STDIN=$tokenfile expect 1 "token test" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled
  STDIN=$tokenfile expect 1 "token test with the database names the organization" -- --db "$LS_DB" token test --url "$LS_URL" --token-stdin --json
  check "the fix names the organization and carries --db" grep -q '"fix": "lsauth --db [^"]* enable-legacy --org 1"' "$OUT"

  echo "story: doctor says why"
  expect 1 "doctor" -- --db "$LS_DB" doctor --url "$LS_URL" --ls-data-dir "$LS_DATA" --json
  json_is checks/orgs.legacy_disabled/status fail
  json_is checks/api.reachable/status pass
  json_is checks/config.secret_key/status pass

  echo "story: doctor for people; its printed fix and undo, pasted as they are, work"
  expect 1 "doctor (for people)" -- --db "$LS_DB" doctor --url "$LS_URL" --ls-data-dir "$LS_DATA"
  check "the verdict is the first line" sh -c "head -1 '$OUT' | grep -q '^FAIL 1 problem found'"
  local fixline; fixline=$(sed -n 's/^    fix: \(lsauth --db .* enable-legacy .*\)$/\1/p' "$OUT" | head -1)
  check "the fix carries --db" test -n "$fixline"
  pasted "$fixline --yes"
  local undo; undo=$(sed -n 's/^Undo:   //p' "$OUT")
  STDIN=$tokenfile expect 0 "the token works after the pasted fix" -- token test --url "$LS_URL" --token-stdin --json
  pasted "$undo --yes"
  STDIN=$tokenfile expect 1 "and is rejected again after the pasted undo" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled

  echo "story: enable-legacy fixes it, on the live server, no restart"
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes
  STDIN=$tokenfile expect 0 "the same token now works" -- token test --url "$LS_URL" --token-stdin --json
  json_is user/email "$ADMIN_EMAIL"

  echo "story: rollback brings the failure back"
  expect 0 "rollback --latest" -- --db "$LS_DB" rollback --latest --yes
  STDIN=$tokenfile expect 1 "the token is rejected again" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled

  echo "story: migrate-env moves a realistic .env (a recent ML backend's) to a PAT"
  expect 0 "enable-legacy again (to mint with the legacy token)" -- --db "$LS_DB" enable-legacy --all --yes
  local envdir=$WORK/ml-backend-$db; mkdir -p "$envdir"
  printf '# ML backend\r\nexport LABEL_STUDIO_URL=%s\r\nLABEL_STUDIO_API_KEY="%s"  # admin\r\n\r\nMODEL_DIR=/data/models' \
    "$LS_URL" "$LS_TOKEN" >"$envdir/.env"
  cp "$envdir/.env" "$WORK/original-$db.env"
  # An ML backend's .env (MODEL_DIR): refused unless the backend refreshes PATs itself.
  expect 1 "migrate-env refuses an ML backend's .env" -- migrate-env --env-file "$envdir/.env" --dry-run
  expect 0 "migrate-env --dry-run --pat-capable" -- migrate-env --env-file "$envdir/.env" --dry-run --pat-capable
  cmp -s "$envdir/.env" "$WORK/original-$db.env" || { echo "  FAIL dry run changed the file"; failures=$((failures + 1)); }
  expect 0 "migrate-env --pat-capable" -- migrate-env --env-file "$envdir/.env" --yes --revoke-existing --pat-capable --json
  json_is verified true
  json_is credential minted_with_legacy_token
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY="\(.*\)".*/\1/p' "$envdir/.env" | tr -d '\r')
  [ -n "$PAT_SEEN" ] || { echo "  FAIL no PAT in the rewritten file"; failures=$((failures + 1)); }
  expect 0 "the PAT works (token test --env-file)" -- token test --env-file "$envdir/.env" --json
  json_is kind pat
  expect 0 "token inspect: signed by this instance" -- token inspect --env-file "$envdir/.env" --ls-data-dir "$LS_DATA" --db "$LS_DB" --json
  json_is signature/state valid
  json_is database/jti/state outstanding

  echo "story: doctor goes green"
  expect 0 "doctor with the migrated .env" -- --db "$LS_DB" doctor --env-file "$envdir/.env" --ls-data-dir "$LS_DATA" --json
  json_is counts/fail 0
  json_is checks/token.live/status pass

  echo "story: doctor --project: task URLs on another host than the backend's LABEL_STUDIO_URL"
  local project port=${LS_URL##*:}
  project=$(curl -fs -m 10 -X POST -H "Authorization: Token $LS_TOKEN" -H 'Content-Type: application/json' \
    -d '{"title": "urls"}' "$LS_URL/api/projects" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  # Tasks imported with Label Studio's own address as localhost; the backend's .env says 127.0.0.1.
  check "a task with an absolute upload URL is imported" curl -fs -m 10 -o /dev/null -X POST \
    -H "Authorization: Token $LS_TOKEN" -H 'Content-Type: application/json' \
    -d "[{\"image\": \"http://localhost:$port/data/upload/$project/a.png\"}, {\"image\": \"/data/upload/$project/b.png\"}]" \
    "$LS_URL/api/projects/$project/import"
  expect 0 "doctor --project" -- --db "$LS_DB" doctor --env-file "$envdir/.env" --ls-data-dir "$LS_DATA" \
    --project "$project" --json
  json_is checks/project.task_urls/status warn
  json_is checks/project.ml_backends/status skip
  json_is checks/project.ml_backend_key/status pass

  echo "story: PATs switched off are caught, and rolled back"
  expect 0 "disable-pat --all" -- --db "$LS_DB" disable-pat --all --yes
  expect 1 "the PAT is refused" -- token test --env-file "$envdir/.env" --json
  json_is cause api_tokens_disabled
  expect 0 "rollback --latest" -- --db "$LS_DB" rollback --latest --yes
  expect 0 "the PAT works again" -- token test --env-file "$envdir/.env" --json

  EXISTING_PAT=$PAT_SEEN
  echo "story: the .env migration is undone byte for byte"
  expect 0 "rollback --env-file --latest" -- rollback --env-file "$envdir/.env" --latest --yes
  cmp -s "$envdir/.env" "$WORK/original-$db.env" && echo "  ok   restored byte for byte" \
    || { echo "  FAIL the .env differs from the original"; failures=$((failures + 1)); }
  unset PAT_SEEN
  story_trust "$db"
  story_ml_backends "$db"
}

# session_login: a web-login session for Label Studio's own requests (the Data Manager's
# actions), which works whatever the token settings; its cookies in $JAR.
session_login() {
  JAR=$WORK/jar-$RANDOM
  curl -fs -m 10 -c "$JAR" -b "$JAR" -o /dev/null "$LS_URL/user/login/" || return 1
  local csrf; csrf=$(awk '/csrftoken/ {print $7}' "$JAR")
  curl -s -m 20 -c "$JAR" -b "$JAR" -o /dev/null -X POST -H "Referer: $LS_URL/user/login/" \
    --data-urlencode "csrfmiddlewaretoken=$csrf" --data-urlencode "email=$ADMIN_EMAIL" \
    --data-urlencode "password=$ADMIN_PASSWORD" "$LS_URL/user/login/"
  # A failed login answers 200 with the form again: only a session cookie says it worked.
  grep -q sessionid "$JAR"
}

# predictions_asked PROJECT: Label Studio itself asks the project's ML backend for
# predictions (the Data Manager's "retrieve predictions", after deleting the old ones, or
# it asks for none), in the web-login session.
predictions_asked() {
  local csrf action; csrf=$(awk '/csrftoken/ {print $7}' "$JAR")
  for action in delete_tasks_predictions retrieve_tasks_predictions; do
    curl -fs -m 120 -o /dev/null -b "$JAR" -c "$JAR" -X POST -H "X-CSRFToken: $csrf" -H "Referer: $LS_URL/" \
      -H 'Content-Type: application/json' -d '{"selectedItems": {"all": true, "excluded": []}}' \
      "$LS_URL/api/dm/actions?id=$action&project=$1" || return 1
  done
}

# connect_backend PROJECT URL TITLE: POST /api/ml as the admin; prints the HTTP status, the
# answer in $WORK/connect.
connect_backend() {
  curl -s -m 60 -o "$WORK/connect" -w '%{http_code}' -X POST -H "Authorization: Token $LS_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"url\": \"$2\", \"project\": $1, \"title\": \"$3\"}" "$LS_URL/api/ml"
}

# image_project TITLE: a project with one uploaded image; sets PROJECT and TASK (its id).
image_project() {
  PROJECT=$(curl -fs -m 10 -X POST -H "Authorization: Token $LS_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"title\": \"$1\", \"label_config\": \"<View><Image name=\\\"image\\\" value=\\\"\$image\\\"/><Choices name=\\\"c\\\" toName=\\\"image\\\"><Choice value=\\\"a\\\"/></Choices></View>\"}" \
    "$LS_URL/api/projects" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  check "an image is uploaded as a task of project $PROJECT" curl -fs -m 30 -o /dev/null -X POST \
    -H "Authorization: Token $LS_TOKEN" -F "file=@$WORK/cat.png" "$LS_URL/api/projects/$PROJECT/import"
  TASK=$(curl -fs -m 10 -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/tasks?project=$PROJECT" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); t = d["tasks"] if isinstance(d, dict) else d; print(t[0]["id"])')
}

# backend_download GENERATION TASK: Label Studio asks the project's backend
# (scripts/e2e-backend.py serve) for predictions; the status its download of TASK's image
# got, with the key of $BACKEND/.env resolved as GENERATION resolves it.
backend_download() {
  echo "$1" >"$BACKEND/generation"; : >"$BACKEND/record"
  predictions_asked "$PROJECT" || { echo "no predictions asked"; return; }
  sed -n "s/^$2 //p" "$BACKEND/record" | tail -1
}

# predicted_and_got WHAT GENERATION TASK STATUS LSAUTH_EXIT [--client C]: the ML backend's
# real download gets STATUS, and lsauth's token test of the same .env predicts it (exit
# LSAUTH_EXIT: 0 for a key that works for that backend, 1 when it does not).
predicted_and_got() {
  local what=$1 generation=$2 task=$3 status=$4 code=$5; shift 5
  check "$what: the $generation backend's download gets $status" test "$(backend_download "$generation" "$task")" = "$status"
  expect "$code" "$what: token test predicts it" -- token test --env-file "$BACKEND/.env" "$@" --json
}

# Real ML backends of three generations, connected by Label Studio and asked by it for
# predictions, each downloading an uploaded image (AUTH-FACTS "ML backends, measured"):
# each answer against lsauth's prediction, and lsauth's fixes applied and confirmed.
story_ml_backends() {
  local db=$1 port
  BACKEND=$WORK/backend-$db
  echo "story: ML backends connected and asked for predictions by Label Studio; lsauth predicts each answer"
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes
  expect 0 "enable-pat --all" -- --db "$LS_DB" enable-pat --all --yes
  mkdir -p "$BACKEND/xdg/data" "$BACKEND/xdg/cache"
  echo 'from label_studio_ml.model import LabelStudioMLBase' >"$BACKEND/model.py"
  python3 -c 'import base64,sys; open(sys.argv[1],"wb").write(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))' "$WORK/cat.png"
  image_project backend
  local project=$PROJECT task=$TASK

  # The backend, current generation to begin with (it reads $BACKEND/generation and .env
  # at each request), with empty XDG directories so that the SDK downloads.
  port=$(free_port); local backend=http://127.0.0.1:$port
  echo current >"$BACKEND/generation"
  env -i PATH="$PATH" HOME="$BACKEND/xdg" XDG_DATA_HOME="$BACKEND/xdg/data" XDG_CACHE_HOME="$BACKEND/xdg/cache" \
    setsid "$CACHE/venv-$LS_VERSION/bin/python" "$ROOT/scripts/e2e-backend.py" serve "$BACKEND/generation" \
    "$BACKEND/.env" "$port" "$BACKEND/record" >>"$WORK/backend-$db.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 30); do curl -fs -m 2 "$backend/health" >/dev/null 2>&1 && break; sleep 1; done

  # 1.23.2's default (ML_BLOCK_LOCAL_IP): a backend on loopback is refused and not saved.
  check "1.23.2 refuses a backend on loopback: 403 reserved network address" \
    sh -c "test \"\$1\" = 403 && grep -q 'reserved network address' '$WORK/connect'" _ "$(connect_backend "$project" "$backend" current)"
  expect 0 "doctor --project: no backend was saved" -- --db "$LS_DB" doctor --project "$project" --ls-data-dir "$LS_DATA" --json
  json_is checks/project.ml_backends/status skip
  # The fix lsauth names: ML_BLOCK_LOCAL_IP=false. The connect still answers 403 (for the
  # backend's webhook, SSRF_PROTECTION_ENABLED), and the backend is saved all the same,
  # Disconnected until Label Studio asks it for predictions.
  stop_label_studio
  ML_BLOCK_LOCAL_IP=false start_label_studio "e2e_$db" "$db" "$LS_VERSION" keep
  check "with ML_BLOCK_LOCAL_IP=false the connect answers 403 for the webhook" \
    test "$(connect_backend "$project" "$backend" current)" = 403
  expect 0 "doctor --project: the backend is saved, Disconnected" -- --db "$LS_DB" doctor --project "$project" \
    --ls-data-dir "$LS_DATA" --json
  json_is checks/project.ml_backends/status warn
  check "the fix is to ask for predictions" sh -c "grep -q '\"fix\": \"ask for predictions' '$OUT'"
  check "a web-login session for Label Studio's own requests" session_login

  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\n' "$LS_URL" "$LS_TOKEN" >"$BACKEND/.env"
  predicted_and_got "legacy key, legacy on" current "$task" 200 0
  json_is integration/client ml_backend
  expect 0 "doctor --project: the backend is connected now" -- --db "$LS_DB" doctor --project "$project" \
    --ls-data-dir "$LS_DATA" --json
  json_is checks/project.ml_backends/status pass
  expect 0 "disable-legacy --all (the field report)" -- --db "$LS_DB" disable-legacy --all --yes
  predicted_and_got "legacy key, legacy off" current "$task" 401 1
  json_is cause legacy_disabled
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes

  # A PAT where the current backend refreshes it.
  expect 0 "migrate-env --pat-capable" -- migrate-env --env-file "$BACKEND/.env" --pat-capable --revoke-existing --yes --json
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$BACKEND/.env")
  predicted_and_got "PAT in LABEL_STUDIO_API_KEY" current "$task" 200 0
  predicted_and_got "the same PAT, a backend before the fix" before-fix "$task" 401 1 --client ml-backend-before-fix
  json_is cause client_refused

  # The SAM example's variable: the current backend sends the PAT unrefreshed.
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_ACCESS_TOKEN=%s\n' "$LS_URL" "$PAT_SEEN" >"$BACKEND/.env"
  predicted_and_got "PAT in LABEL_STUDIO_ACCESS_TOKEN" current "$task" 401 1
  json_is cause client_refused
  # lsauth migrated this file: its backup holds the legacy key, and the rollback is the fix.
  check "the fix is the legacy key back (lsauth's rollback of the file), not enable-legacy" \
    sh -c "grep -q '\"fix\": \"lsauth rollback --env-file [^\"]* --latest' '$OUT' && ! grep -q '\"fix\": \"[^\"]*enable-legacy' '$OUT'"
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_ACCESS_TOKEN=%s\n' "$LS_URL" "$LS_TOKEN" >"$BACKEND/.env"
  predicted_and_got "the fix applied: the legacy key back" current "$task" 200 0

  # Task URLs on another host name than LABEL_STUDIO_URL's: no key is sent.
  port=${LS_URL##*:}
  local path; path=$(curl -fs -m 10 -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/tasks/$task" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["image"])')
  check "the task's image is a Label Studio upload ($path)" test "${path#/data/upload/}" != "$path"
  check "a task with the image under localhost is imported" curl -fs -m 10 -o /dev/null -X POST \
    -H "Authorization: Token $LS_TOKEN" -H 'Content-Type: application/json' -d "[{\"image\": \"http://localhost:$port$path\"}]" \
    "$LS_URL/api/projects/$project/import"
  local other; other=$(curl -fs -m 10 -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/tasks?project=$project" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); t = d["tasks"] if isinstance(d, dict) else d; print([x["id"] for x in t if x["data"]["image"].startswith("http://localhost")][0])')
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\n' "$LS_URL" "$LS_TOKEN" >"$BACKEND/.env"
  check "a download from localhost with LABEL_STUDIO_URL on 127.0.0.1 gets 401" \
    test "$(backend_download current "$other")" = 401
  expect 0 "doctor --project names the host mismatch" -- --db "$LS_DB" doctor --env-file "$BACKEND/.env" \
    --ls-data-dir "$LS_DATA" --project "$project" --json
  json_is checks/project.task_urls/status warn
  local fix; fix=$(json_get checks/project.task_urls/fix)
  local host; host=$(printf '%s' "$fix" | sed -n 's/^set LABEL_STUDIO_URL in the backend.s .env to \([^ ]*\) .*/\1/p')
  check "the fix names the tasks' host" test "$host" = "http://localhost:$port"
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\n' "$host" "$LS_TOKEN" >"$BACKEND/.env"
  check "the fix applied: the download gets 200" test "$(backend_download current "$other")" = 200
  # The backend's process does not see the database: on SQLite only, to keep CI short
  # (lsauth's reading of ml_mlbackend is the integration tests' on both).
  [ "$db" != sqlite ] || story_ml_v1 "$db"
  unset PAT_SEEN
}

# backend_got RECORD STATUS: what the v1 backend's last download got ("200 Token").
backend_got() { test "$(tail -1 "$1")" = "$2"; }

# A label-studio-ml 1.0.9 backend (PyPI, the v1 API) that Label Studio connects and asks for
# predictions: it downloads with the project creator's legacy key, which Label Studio sends
# to /setup, never with its .env's key (a PAT here). lsauth's doctor --project predicts
# each answer, and its fix is applied.
story_ml_v1() {
  local db=$1 record=$WORK/v1-record xdg=$WORK/xdg-v1 port; port=$(free_port)
  echo "story: a label-studio-ml 1.0.9 backend, connected and asked for predictions by Label Studio"
  image_project backend-v1
  mkdir -p "$xdg/data" "$xdg/cache"
  env -i PATH="$PATH" HOME="$xdg" XDG_DATA_HOME="$xdg/data" XDG_CACHE_HOME="$xdg/cache" \
    LABEL_STUDIO_URL="$LS_URL" LABEL_STUDIO_API_KEY="$PAT_SEEN" setsid "$CACHE/venv-label-studio-ml-1.0.9/bin/python" \
    "$ROOT/scripts/e2e-backend-v1.py" "$port" "$record" >>"$WORK/v1-backend.log" 2>&1 &
  PIDS+=("$!")
  local backend=http://127.0.0.1:$port
  for _ in $(seq 1 30); do curl -fs -m 2 "$backend/health" >/dev/null 2>&1 && break; sleep 1; done
  check "connected (403 for the webhook, as with ML_BLOCK_LOCAL_IP=false)" \
    test "$(connect_backend "$PROJECT" "$backend" v1)" = 403
  check "Label Studio asks for predictions" predictions_asked "$PROJECT"
  check "the v1 backend downloads with the key from /setup: 200 Token" backend_got "$record" "200 Token"
  expect 0 "doctor --project: connected, the creator's key works" -- --db "$LS_DB" doctor --project "$PROJECT" \
    --ls-data-dir "$LS_DATA" --json
  json_is checks/project.ml_backends/status pass
  json_is checks/project.ml_backend_key/status pass

  expect 0 "disable-legacy --all (the field report)" -- --db "$LS_DB" disable-legacy --all --yes
  expect 1 "doctor --project predicts the v1 backend's 401" -- --db "$LS_DB" doctor --project "$PROJECT" \
    --ls-data-dir "$LS_DATA" --json
  json_is checks/project.ml_backend_key/status fail
  json_is checks/project.ml_backend_key/explained_by orgs.legacy_disabled
  local fix; fix=$(json_get checks/project.ml_backend_key/fix)
  check "Label Studio asks for predictions" predictions_asked "$PROJECT"
  check "the v1 backend's download gets 401 (its .env's PAT unused)" backend_got "$record" "401 Token"
  pasted "$fix --yes"
  check "Label Studio asks for predictions" predictions_asked "$PROJECT"
  check "the fix applied: the v1 backend's download gets 200" backend_got "$record" "200 Token"
}

# ------------------------------------------------------------------ the field (issue 11)

# field_fresh DB VERSION: a fresh install of VERSION (1.17.0 and 1.22.0, where the behaviour
# changes) rejects its own legacy token from the start; doctor says why, and what the next
# organization will do: 1.17.0 has no setting for it, 1.18 and later do.
field_fresh() {
  local db=$1 version=$2 name=fresh_${2//./_}_$1
  echo "field: a fresh $version ($db)"
  start_label_studio "$name" "$db" "$version"
  local tokenfile=$WORK/token-$name; printf '%s' "$LS_TOKEN" >"$tokenfile"
  STDIN=$tokenfile expect 1 "$version rejects its own legacy token" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled
  expect 1 "doctor names it" -- --db "$LS_DB" doctor --url "$LS_URL" --ls-data-dir "$LS_DATA" --json
  json_is checks/orgs.legacy_disabled/status fail
  json_is checks/api.release/status pass
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes
  STDIN=$tokenfile expect 0 "the token works" -- token test --url "$LS_URL" --token-stdin --json
  expect 0 "doctor: the next organization would reject legacy tokens" -- --db "$LS_DB" doctor --url "$LS_URL" \
    --ls-data-dir "$LS_DATA" --json
  json_is checks/database.enable_legacy_env/status warn
  case $version in
    1.17.0) check "1.17.0: no such setting, enable-legacy each new organization" grep -q '1.17.0 has no such setting' "$OUT" ;;
    *) check "$version: the setting is the fix" grep -q '"fix": "set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true' "$OUT" ;;
  esac
  stop_label_studio
}

# sdk_whoami ENV_FILE: the official SDK (the version installed with Label Studio 1.23.2)
# reads the .env as integrations do and asks whoami; prints the email.
sdk_whoami() {
  "$CACHE/venv-$LS_VERSION/bin/python" - "$1" <<'PY'
import sys
from label_studio_sdk.client import LabelStudio
env = dict(l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l and not l.startswith("#"))
key = env.get("LABEL_STUDIO_API_KEY") or env.get("LABEL_STUDIO_API_TOKEN")
print(LabelStudio(base_url=env["LABEL_STUDIO_URL"], api_key=key).users.whoami().email)
PY
}

# sdk_download_status ENV_FILE: the status the SDK's task-data download (get_local_path)
# gets with the file's key: its own header builder, sent to a URL on the Label Studio host.
sdk_download_status() {
  "$CACHE/venv-$LS_VERSION/bin/python" - "$1" <<'PY'
import sys, requests
from label_studio_sdk._extensions.label_studio_tools.core.utils.io import _build_headers
env = dict(l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l and not l.startswith("#"))
url = env["LABEL_STUDIO_URL"].rstrip("/") + "/api/current-user/whoami"
headers = _build_headers(url, env["LABEL_STUDIO_URL"], env["LABEL_STUDIO_API_KEY"])
print(requests.get(url, headers=headers, timeout=10).status_code)
PY
}

# check WHAT CONDITION...: a shell check counted like the others.
check() {
  local what=$1; shift
  steps=$((steps + 1))
  if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}

# script_env DIR: a script's .env (no ML backend variables) holding the legacy token.
script_env() {
  mkdir -p "$1"; printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\n' "$LS_URL" "$LS_TOKEN" >"$1/.env"
}

# field_begin NAME DB VERSION TITLE: the start every field story shares: its own backup
# directory, Label Studio VERSION started fresh, and the legacy token in a file, whose path
# goes into the caller's `tokenfile`.
field_begin() {
  local name=$1 db=$2 version=$3 title=$4
  echo "e2e: --- field: $title ($db) ---"
  export LSAUTH_BACKUP_DIR=$WORK/backups-$name
  start_label_studio "$name" "$db" "$version"
  tokenfile=$WORK/token-$name; printf '%s' "$LS_TOKEN" >"$tokenfile"
}

# field_end TOKENFILE: the database rolled back with the last backup, the story's legacy token
# refused again as at its start (legacy tokens off), and the server stopped.
field_end() {
  expect 0 "rollback --latest (the database)" -- --db "$LS_DB" rollback --latest --yes
  STDIN=$1 expect 1 "the failure is back" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled
  unset PAT_SEEN
  stop_label_studio
}

# field_fix NAME: legacy tokens off in organization 1, found and fixed as an operator would:
# doctor names it, enable-legacy --org 1 makes the story's token work again, and migrate-env
# moves a script's .env to a PAT (kept in PAT_SEEN for the leak checks).
field_fix() {
  local env=$WORK/env-$1/.env
  script_env "$WORK/env-$1"
  expect 1 "doctor names it" -- --db "$LS_DB" doctor --env-file "$env" --ls-data-dir "$LS_DATA" --json
  json_is checks/orgs.legacy_disabled/status fail
  json_is checks/api.release/status pass
  expect 0 "enable-legacy --org 1" -- --db "$LS_DB" enable-legacy --org 1 --yes
  STDIN=$tokenfile expect 0 "the token works again" -- token test --url "$LS_URL" --token-stdin --json
  expect 0 "migrate-env (a script's .env)" -- migrate-env --env-file "$env" --yes --json
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$env")
}

# 1.16.0 (no jwt_auth) upgraded to 1.23.2: the organization has no row until the first
# token request creates it with 1.23's defaults: the legacy token is refused at once.
field_upgrade_from_1_16() {
  local db=$1 name=up16_$1 tokenfile
  field_begin "$name" "$db" 1.16.0 "1.16.0 -> 1.23.2"
  STDIN=$tokenfile expect 0 "1.16.0: the legacy token works" -- token test --url "$LS_URL" --token-stdin --json
  expect 2 "1.16.0: no jwt_auth table, nothing to fix" -- --db "$LS_DB" orgs --json
  printf '%s\n' "$ADMIN_PASSWORD" >"$WORK/password-$name"
  STDIN=$WORK/password-$name expect 1 "1.16.0: --via-api finds no settings endpoint" -- enable-legacy --via-api \
    --url "$LS_URL" --login "$ADMIN_EMAIL" --password-stdin --yes
  stderr_has "no token settings endpoint"
  stop_label_studio
  start_label_studio "$name" "$db" 1.23.2 keep
  expect 0 "after the upgrade: orgs" -- --db "$LS_DB" orgs --json
  json_is organizations/0/has_settings_row false
  STDIN=$tokenfile expect 1 "after the upgrade: the same token is refused" -- --db "$LS_DB" token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled
  field_fix "$name"
  check "the official SDK reads the migrated .env (users.whoami)" \
    test "$(sdk_whoami "$WORK/env-$name/.env" 2>/dev/null)" = "$ADMIN_EMAIL"
  field_end "$tokenfile"
}

# 1.16.0 -> 1.21.0 (the token used there) -> 1.23.2: the row was created under 1.21 with
# jwt_auth 0001's defaults (PATs off, legacy on) and 1.23.2 leaves it so.
field_upgrade_through_1_21() {
  local db=$1 name=up21_$1 tokenfile
  field_begin "$name" "$db" 1.16.0 "1.16.0 -> 1.21.0 -> 1.23.2"
  stop_label_studio
  start_label_studio "$name" "$db" 1.21.0 keep
  STDIN=$tokenfile expect 0 "1.21.0: the legacy token still works" -- token test --url "$LS_URL" --token-stdin --json
  stop_label_studio
  start_label_studio "$name" "$db" 1.23.2 keep
  STDIN=$tokenfile expect 0 "1.23.2: the legacy token works" -- token test --url "$LS_URL" --token-stdin --json
  expect 0 "orgs: the 1.21 row" -- --db "$LS_DB" orgs --json
  json_is organizations/0/api_tokens_enabled false
  json_is organizations/0/legacy_api_tokens_enabled true
  script_env "$WORK/env-$name"
  expect 0 "doctor: PATs off, explained by the release that made the row" -- --db "$LS_DB" doctor \
    --env-file "$WORK/env-$name/.env" --ls-data-dir "$LS_DATA" --json
  json_is checks/orgs.pat_disabled/status warn
  steps=$((steps + 1))
  if grep -q "1.17-1.21's defaults" "$OUT"; then echo "  ok   doctor names the 1.17-1.21 defaults"; else
    echo "  FAIL doctor does not name the 1.17-1.21 defaults"; failures=$((failures + 1)); fi
  expect 1 "migrate-env refuses: PATs off, nothing minted" -- migrate-env --env-file "$WORK/env-$name/.env" --yes --json
  json_is summary "Nothing was changed."
  expect 0 "enable-pat --org 1" -- --db "$LS_DB" enable-pat --org 1 --yes
  local mldir=$WORK/ml-$name; mkdir -p "$mldir"
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\nMODEL_DIR=/data/models\n' "$LS_URL" "$LS_TOKEN" >"$mldir/.env"
  expect 1 "migrate-env refuses an ML backend's .env" -- migrate-env --env-file "$mldir/.env" --yes --json
  json_is client ml_backend
  expect 0 "migrate-env --pat-capable" -- migrate-env --env-file "$mldir/.env" --yes --pat-capable --json
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$mldir/.env")
  expect 0 "token test: the client table" -- token test --env-file "$mldir/.env" --json
  json_is clients/sdk/ok true
  json_is clients/bearer_direct/ok false
  json_is clients/token_header/ok false
  check "the SDK's own download headers get 401 with the PAT, as predicted" \
    test "$(sdk_download_status "$mldir/.env" 2>/dev/null)" = 401
  check "the official SDK client works with the PAT" test "$(sdk_whoami "$mldir/.env" 2>/dev/null)" = "$ADMIN_EMAIL"
  expect 0 "rollback --latest (PATs off again)" -- --db "$LS_DB" rollback --latest --yes
  expect 1 "the PAT is refused again" -- token test --env-file "$mldir/.env" --json
  json_is cause api_tokens_disabled
  unset PAT_SEEN
  stop_label_studio
}

# delete_settings_rows NAME DB: the organizations' rows removed behind Label Studio's back,
# as an instance upgraded from before 1.17 has them until its first token request.
delete_settings_rows() {
  if [ "$2" = postgres ]; then
    psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d "ls_$1" -c "DELETE FROM jwt_auth_jwtsettings" >/dev/null
  else
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM jwt_auth_jwtsettings"); c.commit()' \
      "$LS_DATA/label_studio.sqlite3"
  fi
}

# Issue 30: 1.21.0 with an organization without a row whose user holds a legacy token.
# upgrade-check predicts the 401 of 1.23.2, pin prevents it, the upgraded server agrees, and
# the pin rolled back gives the predicted 401.
field_pin_1_21() {
  local db=$1 name=pin21_$1 tokenfile
  field_begin "$name" "$db" 1.21.0 "1.21.0, an organization without a row, pinned, -> 1.23.2"
  delete_settings_rows "$name" "$db"
  expect 1 "upgrade-check --to 1.23.2 predicts the legacy token's 401" -- --db "$LS_DB" upgrade-check --to 1.23.2 --json
  json_is organizations/0/has_settings_row false
  json_is organizations/0/rejected_legacy_tokens_now 0
  json_is organizations/0/rejected_legacy_tokens_after 1
  check "the fix it names is lsauth pin --org 1" grep -q '"command": "lsauth --db [^"]* pin --org 1"' "$OUT"
  expect 0 "upgrade-check --to 1.20.0: nothing changes within 1.17-1.21" -- --db "$LS_DB" upgrade-check --to 1.20.0
  expect 0 "pin --org 1" -- --db "$LS_DB" pin --org 1 --yes
  expect 0 "upgrade-check --to 1.23.2 now rejects nothing" -- --db "$LS_DB" upgrade-check --to 1.23.2 --json
  json_is organizations/0/after/legacy_api_tokens_enabled true
  STDIN=$tokenfile expect 0 "1.21.0: the legacy token works" -- token test --url "$LS_URL" --token-stdin --json
  # A PAT of the user, minted with the legacy token: the pinned row keeps PATs off, before and
  # after the upgrade, as predicted (rejected_pats_now = rejected_pats_after = 1).
  local patfile=$WORK/pat-$name
  curl -fs -m 10 -X POST -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/token/" |
    python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["token"])' >"$patfile"
  PAT_SEEN=$(cat "$patfile")
  expect 0 "upgrade-check counts the live PAT, refused now and after" -- --db "$LS_DB" upgrade-check --to 1.23.2 --json
  json_is organizations/0/rejected_pats_now 1
  json_is organizations/0/rejected_pats_after 1
  STDIN=$patfile expect 1 "1.21.0: the PAT is refused (PATs off), as predicted" -- token test --url "$LS_URL" \
    --token-stdin --json
  json_is cause api_tokens_disabled
  stop_label_studio
  start_label_studio "$name" "$db" 1.23.2 keep
  STDIN=$tokenfile expect 0 "1.23.2: the legacy token works, no further command (as predicted)" -- token test \
    --url "$LS_URL" --token-stdin --json
  STDIN=$patfile expect 1 "1.23.2: the PAT is still refused, as predicted" -- token test --url "$LS_URL" \
    --token-stdin --json
  json_is cause api_tokens_disabled
  unset PAT_SEEN
  expect 0 "rollback --latest --dry-run names the legacy tokens it turns off" -- --db "$LS_DB" rollback --latest \
    --dry-run --json
  json_is legacy_rejected/0 1
  stderr_has "this rollback turns legacy tokens off for 1 organization"
  expect 0 "rollback --latest (the pin)" -- --db "$LS_DB" rollback --latest --yes
  STDIN=$tokenfile expect 1 "unpinned, the legacy token gets the predicted 401" -- token test --url "$LS_URL" \
    --token-stdin --json
  json_is cause legacy_disabled
  stop_label_studio
}

# Issue 30: 1.16.0 (no jwt_auth) to 1.23.2 the safe way: upgrade-check predicts the 401
# and names the steps; the new release's migrations run without serving (label-studio
# version), enable-legacy --all writes the rows, and the upgraded server takes the token.
field_safe_upgrade_from_1_16() {
  local db=$1 name=safe16_$1 tokenfile
  field_begin "$name" "$db" 1.16.0 "1.16.0 -> 1.23.2, as upgrade-check says"
  expect 1 "upgrade-check --to 1.23.2 predicts every legacy token's 401" -- --db "$LS_DB" upgrade-check --to 1.23.2 --json
  json_is now_generation before_jwt
  json_is organizations/0/rejected_legacy_tokens_after 1
  json_is fix/1/command "label-studio version"
  expect 0 "upgrade-check --to 1.20.0 keeps them" -- --db "$LS_DB" upgrade-check --to 1.20.0
  stop_label_studio
  steps=$((steps + 1))
  if env "${LS_ENV[@]}" "$CACHE/venv-1.23.2/bin/label-studio" version >>"$WORK/$name.log" 2>&1; then
    echo "  ok   label-studio version (1.23.2) applied the migrations without serving"; else
    echo "  FAIL label-studio version failed"; failures=$((failures + 1)); fi
  expect 0 "orgs: the table is there, no row yet" -- --db "$LS_DB" orgs --json
  json_is organizations/0/has_settings_row false
  expect 0 "enable-legacy --all, before anything connects" -- --db "$LS_DB" enable-legacy --all --yes
  start_label_studio "$name" "$db" 1.23.2 keep
  STDIN=$tokenfile expect 0 "1.23.2: the legacy token works, no further command" -- token test --url "$LS_URL" \
    --token-stdin --json
  stop_label_studio
}

# A running 1.21.0: its own organization already rejects its legacy token.
field_running_1_21() {
  local db=$1 name=run21_$1 tokenfile
  field_begin "$name" "$db" 1.21.0 "running 1.21.0"
  STDIN=$tokenfile expect 1 "1.21.0 refuses its own legacy token" -- --db "$LS_DB" token test --url "$LS_URL" --token-stdin --json
  json_is cause legacy_disabled
  expect 0 "orgs" -- --db "$LS_DB" orgs --json
  json_is organizations/0/legacy_api_tokens_enabled false
  field_fix "$name"
  expect 0 "the PAT works on 1.21.0" -- token test --env-file "$WORK/env-$name/.env" --json
  field_end "$tokenfile"
}

# pats_listed: the user's PATs as Label Studio lists them (truncated, not secret), one per line.
pats_listed() {
  curl -fs -m 10 -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/token/" |
    python3 -c 'import json,sys; print("\n".join(sorted(t["token"] for t in json.load(sys.stdin))))'
}

# The opening scenario of issue 10, on the real server: legacy tokens on, PATs off (an
# instance upgraded through 1.17-1.21). Label Studio would mint a PAT that can never work;
# lsauth must refuse before minting or revoking anything, and say "Nothing was changed."
story_trust() {
  local db=$1
  echo "story: legacy on, PATs off: migrate-env refuses before any server change"
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes
  expect 0 "disable-pat --all" -- --db "$LS_DB" disable-pat --all --yes
  local envdir=$WORK/script-$db; mkdir -p "$envdir"
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\n' "$LS_URL" "$LS_TOKEN" >"$envdir/.env"
  cp "$envdir/.env" "$WORK/script-original-$db.env"
  local listed_before; listed_before=$(pats_listed)
  [ -n "$listed_before" ] || { echo "  FAIL the user should have a PAT from the story before"; failures=$((failures + 1)); }
  expect 1 "migrate-env (no database at hand)" -- migrate-env --env-file "$envdir/.env" --yes --json
  json_is result failed
  json_is summary "Nothing was changed."
  json_is preflight/source api
  json_is preflight/api_tokens_enabled false
  expect 1 "migrate-env --revoke-existing" -- migrate-env --env-file "$envdir/.env" --yes --revoke-existing --json
  json_is changed false
  steps=$((steps + 1))
  if [ "$(pats_listed)" = "$listed_before" ]; then echo "  ok   no PAT minted or revoked on the server"; else
    echo "  FAIL the server's PATs changed"; failures=$((failures + 1)); fi
  steps=$((steps + 1))
  if cmp -s "$envdir/.env" "$WORK/script-original-$db.env"; then echo "  ok   the .env is untouched"; else
    echo "  FAIL the .env changed"; failures=$((failures + 1)); fi
  PAT_SEEN=$EXISTING_PAT
  local patfile=$WORK/existing-pat-$db; printf '%s' "$EXISTING_PAT" >"$patfile"
  STDIN=$patfile expect 1 "the existing PAT is refused while PATs are off" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause api_tokens_disabled

  echo "story: --enable-pat fixes the organization in the same run; the PAT written works"
  expect 0 "migrate-env --enable-pat --revoke-existing" -- --db "$LS_DB" migrate-env --env-file "$envdir/.env" \
    --enable-pat --revoke-existing --yes --json
  json_is result migrated
  json_is server_changes/0/action pats_enabled
  json_is server_changes/1/action existing_pat_revoked
  json_is server_changes/2/action pat_created
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$envdir/.env")
  expect 0 "the new PAT works" -- token test --env-file "$envdir/.env" --json
  STDIN=$patfile expect 1 "the revoked PAT is refused" -- token test --url "$LS_URL" --token-stdin --json
  json_is cause pat_blacklisted
  expect 0 "rollback --latest undoes --enable-pat" -- --db "$LS_DB" rollback --latest --yes
  expect 1 "PATs off again: the new PAT is refused" -- token test --env-file "$envdir/.env" --json
  json_is cause api_tokens_disabled
  expect 0 "enable-pat --all" -- --db "$LS_DB" enable-pat --all --yes
  unset PAT_SEEN EXISTING_PAT
  story_flag_off "$db"
  story_via_api "$db"
  story_installed_wheel "$db"
  story_hostile "$db"
  # The local failures are the file system's, the same whatever database Label Studio uses.
  [ "$db" = sqlite ] && story_never_worse_off "$db"
  return 0
}

# run_sh DESCRIPTION CODE SCRIPT: sh -c SCRIPT in a mount namespace of its own (its tmpfs
# and bind mounts vanish with it), output kept like expect's; its exit code must be CODE.
run_sh() {
  local what=$1 code=$2 script=$3
  steps=$((steps + 1))
  set +e; LSAUTH="$LSAUTH" unshare --mount --map-root-user sh -c "$script" >"$OUT" 2>"$ERR" </dev/null; local got=$?; set -e
  if grep -qF "$LS_TOKEN" "$OUT" "$ERR" || { [ -n "${PAT_SEEN:-}" ] && grep -qF "$PAT_SEEN" "$OUT" "$ERR"; }; then
    echo "  FAIL $what: a full token was printed"; failures=$((failures + 1)); return
  fi
  if [ "$got" = "$code" ]; then echo "  ok   $what (exit $got)"; else
    echo "  FAIL $what: exit $got, expected $code"; sed 's/^/       /' "$OUT" "$ERR"; failures=$((failures + 1)); fi
}

# wait_for FILE: up to 60 s.
wait_for() { local i=0; while [ ! -e "$1" ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i + 1)); done; [ -e "$1" ]; }

# Issue 36 on the real server: with the user's PAT to revoke (--revoke-existing), a
# backup directory that takes no file and a full disk are refused before the server
# changes; a SIGTERM, and a disk that fills, while the new PAT's mint answer is held by
# a proxy (scripts/e2e-hold-proxy.py) after the old PAT was revoked leave a working PAT:
# written, or saved in the backup directory and named.
story_never_worse_off() {
  local db=$1 dir=$WORK/worse-$1 before
  echo "story: never worse off: a local failure, a signal or a full disk never leaves the user without a key"
  mkdir -p "$dir"
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes
  expect 0 "enable-pat --all" -- --db "$LS_DB" enable-pat --all --yes
  # The user has a PAT: a mint meets a 409, so --revoke-existing revokes it first.
  curl -s -o /dev/null -m 10 -X POST -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/token/" || true
  before=$(pats_listed)
  check "the user has one PAT" test "$(printf '%s\n' "$before" | grep -c .)" = 1
  printf 'LABEL_STUDIO_URL=%s\nLABEL_STUDIO_API_KEY=%s\n# %s\n' "$LS_URL" "$LS_TOKEN" \
    "$(head -c 3900 /dev/zero | tr '\0' n)" >"$dir/original.env"
  cp "$dir/original.env" "$dir/.env"
  expect 2 "--backup-dir /proc/self: exit 2 before any request that changes the server" -- migrate-env \
    --env-file "$dir/.env" --yes --revoke-existing --backup-dir /proc/self
  stderr_has "/proc/self takes no new files"
  check "no PAT minted or revoked" test "$(pats_listed)" = "$before"
  check "the .env is untouched" cmp -s "$dir/.env" "$dir/original.env"
  mkdir -p "$dir/full"
  run_sh "the .env's disk full: exit 2 before any request that changes the server" 2 \
    "mount -t tmpfs -o size=64k tmpfs '$dir/full' && cp '$dir/original.env' '$dir/full/.env' && \
     { head -c 1M /dev/zero > '$dir/full/fill' 2>/dev/null; true; } && \
     \"\$LSAUTH\" migrate-env --env-file '$dir/full/.env' --yes --revoke-existing; code=\$?; \
     cp '$dir/full/.env' '$dir/full-after.env'; exit \$code"
  stderr_has "bytes free"
  check "no PAT minted or revoked" test "$(pats_listed)" = "$before"
  check "the .env is untouched" cmp -s "$dir/full-after.env" "$dir/original.env"

  # The proxy holds the answer to the mint that follows the revoke.
  local pport; pport=$(free_port)
  setsid python3 "$ROOT/scripts/e2e-hold-proxy.py" "$pport" "$LS_URL" "$dir/ready" "$dir/release" \
    >>"$WORK/proxy.log" 2>&1 &
  PIDS+=($!)
  local i=0; until curl -s -o /dev/null "http://127.0.0.1:$pport/api/version"; do
    i=$((i + 1)); [ $i -lt 100 ] || die "the holding proxy did not start"; sleep 0.1; done
  sed "s#^LABEL_STUDIO_URL=.*#LABEL_STUDIO_URL=http://127.0.0.1:$pport#" "$dir/original.env" >"$dir/proxied.env"
  cp "$dir/proxied.env" "$dir/sig.env"
  steps=$((steps + 1))
  set +e
  "$LSAUTH" migrate-env --env-file "$dir/sig.env" --yes --revoke-existing >"$OUT" 2>"$ERR" </dev/null &
  local lp=$!
  wait_for "$dir/ready"; kill -TERM "$lp"; sleep 0.3; touch "$dir/release"; wait "$lp"; local got=$?
  set -e
  if [ "$got" = 143 ]; then echo "  ok   SIGTERM while the new PAT is in flight: finished, then exit 143"; else
    echo "  FAIL SIGTERM mid-mint: exit $got, expected 143"; sed 's/^/       /' "$OUT" "$ERR"; failures=$((failures + 1)); fi
  stderr_has "stopped by SIGTERM, after finishing the change above"
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$dir/sig.env")
  check "the new PAT is in the file" test -n "$PAT_SEEN"
  expect 0 "the PAT written works" -- token test --env-file "$dir/sig.env" --json
  check "the old PAT was revoked, the new one is the user's only PAT" test "$(pats_listed | grep -c .)" = 1
  check "and it is not the old one" test "$(pats_listed)" != "$before"
  before=$(pats_listed)

  # The disk fills while the mint is held: the bind-mounted .env cannot take the new PAT.
  rm -f "$dir/ready" "$dir/release"
  mkdir -p "$dir/disk" "$dir/app"; : >"$dir/app/.env"
  run_sh "the disk fills mid-mint: exit 1, the file whole, the new PAT saved" 1 \
    "mount -t tmpfs -o size=256k tmpfs '$dir/disk' && cp '$dir/proxied.env' '$dir/disk/.env' && \
     cp '$dir/disk/.env' '$dir/disk-before.env' && mount --bind '$dir/disk/.env' '$dir/app/.env' || exit 9; \
     ( i=0; while [ ! -e '$dir/ready' ] && [ \$i -lt 3000 ]; do sleep 0.02; i=\$((i+1)); done; \
       head -c 1M /dev/zero > '$dir/disk/fill' 2>/dev/null; touch '$dir/release' ) >/dev/null 2>&1 & \
     \"\$LSAUTH\" migrate-env --env-file '$dir/app/.env' --yes --revoke-existing --json; code=\$?; \
     cp '$dir/disk/.env' '$dir/disk-after.env'; exit \$code"
  json_is in_place true
  json_is file_written false
  json_is server_changes/2/action pat_saved
  check "the file is byte for byte as it was" cmp -s "$dir/disk-after.env" "$dir/disk-before.env"
  local saved; saved=$(json_get saved_pat_file)
  check "the saved PAT is mode 600" test "$(stat -c %a "$saved" 2>/dev/null)" = 600
  PAT_SEEN=$(head -1 "$saved" 2>/dev/null || true)
  STDIN=$saved expect 0 "the saved PAT works (the user still has a key)" -- token test --url "$LS_URL" --token-stdin --json
  check "it is live and the user's only PAT" test "$(pats_listed | grep -c .)" = 1
  unset PAT_SEEN
}

no_raw_esc() { ! grep -q $'\x1b' "$1"; }

# in_mount_namespace SRC DST ARGS...: lsauth with DST a bind mount of SRC, as `docker run
# -v SRC:DST` makes it, in a mount namespace of its own (nothing stays mounted).
in_mount_namespace() {
  local src=$1 dst=$2; shift 2
  steps=$((steps + 1))
  set +e
  unshare --mount --map-root-user sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$src" "$dst" "$LSAUTH" "$@" \
    >"$OUT" 2>"$ERR" </dev/null
  local got=$?; set -e
  if grep -qF "$LS_TOKEN" "$OUT" "$ERR"; then echo "  FAIL a full token was printed"; failures=$((failures + 1)); return; fi
  if [ "$got" = 0 ]; then echo "  ok   lsauth $1 on a bind-mounted file (exit 0)"; else
    echo "  FAIL lsauth $1 on a bind-mounted file: exit $got"; sed 's/^/       /' "$OUT" "$ERR"; failures=$((failures + 1)); fi
}

# Issue 25 on the real server: a title a member set with an escape sequence and a newline,
# a password in --url, a bind-mounted .env rewritten (with --revoke-existing) in place.
story_hostile() {
  local db=$1 dir=$WORK/hostile-$db pwfile=$WORK/password-$db
  mkdir -p "$dir/app"
  echo "story: hostile strings from the real server are shown escaped"
  expect 0 "enable-legacy --all" -- --db "$LS_DB" enable-legacy --all --yes
  local title
  title=$(curl -fs -m 10 -H "Authorization: Token $LS_TOKEN" "$LS_URL/api/organizations/1" |
    python3 -c 'import json,sys; print(json.dumps({"title": json.load(sys.stdin)["title"]}))')
  check "a member retitles the organization with an escape sequence (PATCH)" curl -fs -m 10 -o /dev/null -X PATCH \
    -H "Authorization: Token $LS_TOKEN" -H 'Content-Type: application/json' \
    -d '{"title": "Acme\u001b[2J\u001b[H\nforged | row"}' "$LS_URL/api/organizations/1"
  expect 0 "orgs" -- --db "$LS_DB" orgs
  check "orgs shows the title escaped" grep -qF 'Acme\x1b[2J\x1b[H\nforged' "$OUT"
  check "no raw ESC in orgs" no_raw_esc "$OUT"
  STDIN=$pwfile expect 0 "the --via-api plan" -- disable-legacy --via-api --url "$LS_URL" --login "$ADMIN_EMAIL" \
    --password-stdin --dry-run
  check "the --via-api plan shows the title escaped" grep -qF 'Acme\x1b[2J' "$OUT"
  check "no raw ESC in the plan" no_raw_esc "$OUT"
  check "the title is set back" curl -fs -m 10 -o /dev/null -X PATCH -H "Authorization: Token $LS_TOKEN" \
    -H 'Content-Type: application/json' -d "$title" "$LS_URL/api/organizations/1"

  echo "story: a password in --url is never shown"
  set +e; "$LSAUTH" doctor --url "http://bot:Hunter2Secret@${LS_URL#http://}" >"$OUT" 2>"$ERR"; set -e
  check "doctor does not show it" sh -c "! grep -q Hunter2Secret '$OUT' '$ERR'"

  echo "story: a bind-mounted .env is written in place, after a real --revoke-existing"
  script_env "$dir/host"; : >"$dir/app/.env"; cp "$dir/host/.env" "$dir/original.env"
  in_mount_namespace "$dir/host/.env" "$dir/app/.env" migrate-env --env-file "$dir/app/.env" --yes --revoke-existing
  check "it says the write was in place" grep -qF "written in place, not atomically" "$OUT"
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$dir/host/.env")
  check "the mounted file holds the new PAT" test -n "$PAT_SEEN"
  expect 0 "the PAT works" -- token test --env-file "$dir/host/.env" --json
  in_mount_namespace "$dir/host/.env" "$dir/app/.env" rollback --env-file "$dir/app/.env" --latest --yes
  check "rolled back in place, byte for byte" cmp -s "$dir/host/.env" "$dir/original.env"
  unset PAT_SEEN
}

# Issue 15: `pip install lsauth` next to Label Studio, in its own venv, then `lsauth doctor`
# with Label Studio's environment only: no --db, no --url; it finds the database (and
# SECRET_KEY) the way Label Studio does.
story_installed_wheel() {
  local db=$1 venv=$CACHE/venv-$LS_VERSION nohome=$WORK/nohome-wheel-$db
  mkdir -p "$nohome"
  echo "story: pip install lsauth into Label Studio's venv; doctor with Label Studio's environment only"
  check "pip install the wheel into Label Studio's venv" "$venv/bin/pip" install -q --force-reinstall --no-deps "$WHEEL"
  steps=$((steps + 1))
  set +e
  env -i PATH="$venv/bin:/usr/bin:/bin" HOME="$nohome" "${LS_ENV[@]}" lsauth doctor --json >"$OUT" 2>"$ERR"
  local got=$?; set -e
  if [ "$got" = 0 ] || [ "$got" = 1 ]; then echo "  ok   lsauth doctor (installed, zero configuration) (exit $got)"; else
    echo "  FAIL lsauth doctor (installed): exit $got"; sed 's/^/       /' "$OUT" "$ERR"; failures=$((failures + 1)); fi
  json_is checks/database.connection/status pass
  json_is checks/config.secret_key/status pass
  check "uninstall it again (the cached venv stays Label Studio's)" "$venv/bin/pip" uninstall -q -y lsauth
}

# Issue 12: only a URL and a login, as in Docker or Kubernetes. lsauth runs with a HOME of
# its own and no --db: it cannot see the database, and fixes and rolls back through the
# API, signed in with the web login and with a PAT. The database is only read to confirm.
story_via_api() {
  local db=$1 nohome=$WORK/nohome-$db pwfile=$WORK/password-$db
  mkdir -p "$nohome"; printf '%s\n' "$ADMIN_PASSWORD" >"$pwfile"
  local patenv=$WORK/script-$db/.env mlenv=$WORK/via-api-$db
  PAT_SEEN=$(sed -n 's/^LABEL_STUDIO_API_KEY=\(eyJ.*\)$/\1/p' "$patenv")
  local patfile=$WORK/via-api-pat-$db; printf '%s' "$PAT_SEEN" >"$patfile"
  script_env "$mlenv"
  echo "story: no database at hand: fix and roll back through the API"
  expect 0 "disable-legacy --all (a fresh install's state)" -- --db "$LS_DB" disable-legacy --all --yes
  HOME=$nohome LABEL_STUDIO_URL=$LS_URL expect 2 "without a database, enable-legacy --all" -- enable-legacy --all --yes
  stderr_has "lsauth enable-legacy --via-api --url $LS_URL/ --login EMAIL"
  HOME=$nohome STDIN=$pwfile expect 1 "doctor --login without a database" -- doctor --env-file "$mlenv/.env" \
    --login "$ADMIN_EMAIL" --password-stdin --json
  json_is checks/api.jwt_settings/status fail
  json_is checks/api.jwt_settings/fix "lsauth enable-legacy --via-api --url $LS_URL/ --login $ADMIN_EMAIL"
  HOME=$nohome STDIN=$pwfile expect 0 "enable-legacy --via-api --dry-run" -- enable-legacy --via-api --url "$LS_URL" \
    --login "$ADMIN_EMAIL" --password-stdin --dry-run --json
  json_is changed 0
  expect 1 "the dry run changed nothing: the key is still refused" -- token test --env-file "$mlenv/.env" --json
  HOME=$nohome STDIN=$pwfile expect 0 "enable-legacy --via-api --login (the .env's key tested live)" -- enable-legacy \
    --via-api --env-file "$mlenv/.env" --login "$ADMIN_EMAIL" --password-stdin --yes --json
  json_is changed 1
  json_is target/credential web_login
  json_is target/organization_id 1
  json_is read_back/legacy_api_tokens_enabled true
  json_is live_check/passes true
  expect 0 "the database agrees" -- --db "$LS_DB" orgs --json
  json_is organizations/0/legacy_api_tokens_enabled true
  HOME=$nohome STDIN=$pwfile expect 0 "rollback --latest --url --login" -- rollback --latest --url "$LS_URL" \
    --login "$ADMIN_EMAIL" --password-stdin --yes --json
  json_is restored 1
  expect 1 "the key is refused again" -- token test --env-file "$mlenv/.env" --json
  json_is cause legacy_disabled

  HOME=$nohome STDIN=$patfile expect 0 "enable-legacy --via-api, signed in with a PAT" -- enable-legacy --via-api \
    --url "$LS_URL" --token-stdin --yes --json
  json_is target/credential pat
  local enabled_with_pat; enabled_with_pat=$(json_get backup/id)
  expect 0 "the key works" -- token test --env-file "$mlenv/.env" --json
  HOME=$nohome STDIN=$patfile expect 0 "disable-pat --via-api with that PAT itself" -- disable-pat --via-api \
    --url "$LS_URL" --token-stdin --yes --json
  json_is read_back None
  expect 1 "the PAT is refused now" -- token test --env-file "$patenv" --json
  json_is cause api_tokens_disabled
  HOME=$nohome STDIN=$patfile expect 1 "rollback with the switched-off PAT is refused" -- rollback --latest \
    --url "$LS_URL" --token-stdin --yes
  stderr_has "--login"
  HOME=$nohome STDIN=$pwfile expect 0 "rollback --latest with the login" -- rollback --latest --url "$LS_URL" \
    --login "$ADMIN_EMAIL" --password-stdin --yes
  expect 0 "the PAT works again" -- token test --env-file "$patenv" --json
  HOME=$nohome STDIN=$patfile expect 0 "rollback of the first change, by id, with the PAT" -- rollback \
    "$enabled_with_pat" --token-stdin --yes --json
  json_is restored 1
  expect 0 "the database agrees: legacy off again" -- --db "$LS_DB" orgs --json
  json_is organizations/0/legacy_api_tokens_enabled false
  unset PAT_SEEN
}

# A failure after a PAT was minted, on the real server: Label Studio started with the JWT
# feature flag off accepts the legacy token, reports PATs on, mints (201) and refreshes,
# then refuses the access token. migrate-env must revoke the PAT it minted, say so, and name
# the flag.
story_flag_off() {
  local db=$1 saved_url=$LS_URL saved_db=$LS_DB saved_token=$LS_TOKEN saved_pid=$LS_PID
  echo "story: the JWT feature flag off on the server: the minted PAT is revoked again"
  fflag__feature_develop__prompts__dia_1829_jwt_token_auth=false start_label_studio "flagoff_$db" "$db"
  local envdir=$WORK/flagoff-$db; script_env "$envdir"; cp "$envdir/.env" "$envdir/original.env"
  expect 1 "migrate-env: verification fails after the mint" -- migrate-env --env-file "$envdir/.env" --yes --json
  json_is result failed
  json_is server_changes/0/action pat_created
  json_is server_changes/1/action pat_revoked_again
  steps=$((steps + 1))
  if grep -q jwt_flag_off "$OUT"; then echo "  ok   the flag is named"; else
    echo "  FAIL the flag is not named"; failures=$((failures + 1)); fi
  check "no PAT left on the server" test -z "$(pats_listed)"
  check "the .env is untouched" cmp -s "$envdir/.env" "$envdir/original.env"
  stop_label_studio
  LS_URL=$saved_url LS_DB=$saved_db LS_TOKEN=$saved_token LS_PID=$saved_pid
}

which=${1:-all}
command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
command -v python3 >/dev/null || die "python3 is missing"
cargo build --quiet || die "cargo build failed"
[ -x "$LSAUTH" ] || die "no lsauth binary at $LSAUTH"
# label-studio-ml 1.0.9 (the v1 API) imports rq without declaring it.
install_ml_v1() {
  local venv=$CACHE/venv-label-studio-ml-1.0.9
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import label_studio_ml.api, rq' 2>/dev/null; then return; fi
  echo "e2e: installing label-studio-ml==1.0.9 into $venv (once)"
  python3 -m venv "$venv" && "$venv/bin/pip" install -q label-studio-ml==1.0.9 rq \
    || die "pip install label-studio-ml==1.0.9 rq failed"
}
# install_all VERSION...: every release (and label-studio-ml 1.0.9 for sqlite and all) at
# once. Each install is mostly waiting on downloads and unpacking, so on a fresh machine six
# in parallel take about as long as the slowest one instead of the sum (~3 min each).
install_all() {
  local -a jobs=() what=() v i
  for v in "$LS_VERSION" "$@"; do install_label_studio "$v" >"$WORK/install-$v.log" 2>&1 & jobs+=($!); what+=("$v"); done
  case "$which" in sqlite|all) install_ml_v1 >"$WORK/install-ml-v1.log" 2>&1 & jobs+=($!); what+=(ml-v1) ;; esac
  for i in "${!jobs[@]}"; do
    if ! wait "${jobs[$i]}"; then cat "$WORK/install-${what[$i]}.log" >&2; die "installing ${what[$i]} failed"; fi
    grep -h '^e2e:' "$WORK/install-${what[$i]}.log" || true
  done
}
# The wheel story needs the PyPI wheel: the one scripts/test.sh built, else build it now.
WHEEL=${LSAUTH_WHEEL:-}
case "$which" in sqlite|postgres|all)
  if [ -z "$WHEEL" ]; then WHEEL=$(scripts/build-wheel.sh | tail -1) || die "scripts/build-wheel.sh failed"; fi
  [ -f "$WHEEL" ] || die "no wheel at $WHEEL" ;;
esac
field_stories() {
  field_upgrade_from_1_16 "$1"; field_upgrade_through_1_21 "$1"; field_running_1_21 "$1"
  field_pin_1_21 "$1"; field_safe_upgrade_from_1_16 "$1"
  field_fresh "$1" 1.17.0; field_fresh "$1" 1.22.0
}
case "$which" in
  sqlite) install_all; story sqlite ;;
  worse) install_all; start_label_studio worse sqlite; export LSAUTH_BACKUP_DIR=$WORK/backups-worse
         story_never_worse_off sqlite; stop_label_studio ;;
  postgres) install_all; start_postgres; story postgres ;;
  field) install_all 1.16.0 1.17.0 1.21.0 1.22.0
         field_stories sqlite; start_postgres; field_stories postgres ;;
  all) install_all 1.16.0 1.17.0 1.21.0 1.22.0
       story sqlite; field_stories sqlite; start_postgres; story postgres; field_stories postgres ;;
  fresh) install_all 1.17.0 1.22.0
         field_fresh sqlite 1.17.0; field_fresh sqlite 1.22.0 ;;
  *) die "usage: scripts/e2e.sh [sqlite|postgres|field|fresh|worse|all]" ;;
esac
echo "e2e: $((steps - failures)) passed, $failures failed"
[ "$failures" = 0 ]
