#!/usr/bin/env bash
# samplan quickstart: builds samplan, makes a development PKI and a config,
# registers sample agencies, starts samplan-server on localhost with its
# embedded SQLite store, and runs a narrated demo with samplanctl: the story
# of one coordinated individual plan (SIP) and its consents.
#
#   ./deploy/quickstart.sh            demo, then keep serving until Ctrl-C
#   ./deploy/quickstart.sh --demo     demo, then stop (exit 0 on success)
#
# Options:
#   --demo        run the demo and exit
#   --var DIR     where the PKI, config, database and logs go (default: var)
#   --port N      the API port (default 7443; with --demo, a free port)
#   --rest-port N the REST/JSON port (default 7445; with --demo, a free port)
#   --no-build    use the binaries already in build/default
#   -h, --help    this text
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

demo_only=0
var=var
port=""
rest_port=""
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo_only=1 ;;
    --var) var=${2:?--var needs a directory}; shift ;;
    --port) port=${2:?--port needs a number}; shift ;;
    --rest-port) rest_port=${2:?--rest-port needs a number}; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z $port ]]; then
  if [[ $demo_only -eq 1 ]]; then port=0; else port=7443; fi
fi
if ! [[ $port =~ ^[0-9]+$ ]] || (( port > 65535 )); then
  echo "quickstart: --port must be 0-65535" >&2
  exit 2
fi
if [[ -z $rest_port ]]; then
  if [[ $demo_only -eq 1 ]]; then rest_port=0; else rest_port=7445; fi
fi
if ! [[ $rest_port =~ ^[0-9]+$ ]] || (( rest_port > 65535 )); then
  echo "quickstart: --rest-port must be 0-65535" >&2
  exit 2
fi

if [[ -t 1 ]]; then
  say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
  say() { printf '\n%s\n' "$*"; }
fi
note() { printf '   %s\n' "$*"; }

if [[ $build -eq 1 ]]; then
  say "Installing dependencies and building (first time: a few minutes)"
  ./deploy/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default --target samplan-server samplanctl
fi
SERVER_BIN=$ROOT/build/default/server/samplan-server
CTL_BIN=$ROOT/build/default/client/samplanctl
for b in "$SERVER_BIN" "$CTL_BIN"; do
  [[ -x $b ]] || { echo "quickstart: $b is missing; run without --no-build" >&2; exit 1; }
done

mkdir -p "$var"
var=$(cd "$var" && pwd)
say "Development PKI in $var/pki (CA, server, one certificate per agency)"
./deploy/dev-pki.sh "$var/pki" school-1 social-1 bup-1 auditor-1 admin-1 | tail -1

config=$var/samplan.textproto
cat >"$config" <<CONF
# Written by deploy/quickstart.sh; see deploy/samplan.textproto for every field.
api { address: "127.0.0.1:$port" }
rest { address: "127.0.0.1:$rest_port" }
tls {
  ca_file: "$var/pki/ca.pem"
  cert_file: "$var/pki/server.pem"
  key_file: "$var/pki/server.key"
}
storage { sqlite_path: "$var/samplan.db" }
audit {
  origin: "samplan.localhost/audit"
  signing_key_file: "$var/audit-key.pem"
}
CONF
if [[ ! -f $var/audit-key.pem ]]; then
  say "The audit log's signing key (Ed25519): $var/audit-key.pem"
  "$SERVER_BIN" keygen --out "$var/audit-key.pem" --origin samplan.localhost/audit | sed 's/^/   /'
fi
"$SERVER_BIN" check-config --config "$config" >/dev/null

say "Registering the sample agencies"
while read -r id sector role name; do
  "$SERVER_BIN" register-agency --db "$var/samplan.db" --id "$id" \
    --sector "$sector" --role "$role" --name "$name" | sed 's/^/   /'
done <<AGENCIES
school-1 SCHOOL AGENCY_SYSTEM Ekbackens skola
social-1 SOCIAL_SERVICES AGENCY_SYSTEM Socialtjansten Norr
bup-1 HEALTHCARE AGENCY_SYSTEM BUP Centrum
auditor-1 HEALTHCARE AUDITOR Regionens logguppfoljning
admin-1 SOCIAL_SERVICES ADMINISTRATOR Samplan-forvaltning
AGENCIES

say "Starting samplan-server (log: $var/server.log)"
: >"$var/server.log"
"$SERVER_BIN" --config "$config" 2>>"$var/server.log" &
server_pid=$!
stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
}
trap stop_server EXIT
listening=""
for _ in $(seq 1 100); do
  listening=$(grep -o 'port [0-9]*)' "$var/server.log" | head -1 | tr -dc 0-9 || true)
  [[ -n $listening ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $listening ]]; then
  echo "quickstart: the server did not start:" >&2
  cat "$var/server.log" >&2
  exit 1
fi
rest_listening=$(grep -o 'rest port [0-9]*' "$var/server.log" | head -1 | tr -dc 0-9 || true)
note "listening on localhost:$listening (gRPC) and localhost:$rest_listening (REST/JSON), mutual TLS"

export SAMPLAN_SERVER=localhost:$listening SAMPLAN_PKI=$var/pki
ctl() {  # ctl AGENCY ACTOR args...: samplanctl as that agency and staff member
  local agency=$1 actor=$2
  shift 2
  "$CTL_BIN" --agency "$agency" --actor "$actor" "$@"
}
indent() { sed 's/^/   | /'; }
first() { grep -o "$1/[a-z0-9]*" | head -1; }

# A valid identity number for a birth date YYYYMMDD and serial NNN.
pnr() {
  local digits="${1:2}$2" sum=0 i d
  for ((i = 0; i < 9; i++)); do
    d=${digits:i:1}
    if ((i % 2 == 0)); then d=$((d * 2)); ((d > 9)) && d=$((d - 9)); fi
    sum=$((sum + d))
  done
  echo "${1}-${2}$(((10 - sum % 10) % 10))"
}

today=$(TZ=Europe/Stockholm date +%F)
next_year=$(TZ=Europe/Stockholm date -d "$today +1 year" +%F)
child=$(pnr 20160510 238)      # Alva, 10 years old (demo data)
mother=$(pnr 19850301 111)     # her guardians, joint custody
father=$(pnr 19870712 222)

say "1. Ekbackens skola (school-1) creates a SIP for Alva and invites BUP"
plan_out=$(ctl school-1 anna.lind plan create --subject "$child" \
  --coordinator-name "Anna Lind" --coordinator-phone "070-123 45 67" \
  --invite-agency bup-1 --review "follow-up:$(date -d "$today +3 months" +%F):How school works")
echo "$plan_out" | indent
plan=$(echo "$plan_out" | first plans)

say "2. The school records who has custody: both guardians (joint custody)"
for g in "$mother" "$father"; do
  ctl school-1 anna.lind custody create --subject "$child" --guardian "$g" \
    --from 2016-05-10 --evidence register-extract:folkbokforing | head -1 | indent
done

say "3. At the SIP meeting both guardians approve the plan"
ctl school-1 anna.lind plan approve --plan "$plan" --guardian "$mother" \
  --guardian "$father" --evidence signed-form:sip-meeting | head -2 | indent

mkdir -p "$var/family"
say "4. Both guardians consent: BUP (health care) may share needs and interventions with the school for 12 months"
grant_out=""
for g in "$mother" "$father"; do
  receipt=()  # the answer carries the receipt; the father's is saved
  [[ $g == "$father" ]] && receipt=(--receipt-out "$var/family/consent-receipt.json")
  grant_out=$(ctl school-1 anna.lind grant create --subject "$child" --grantor-role guardian \
    --grantor "$g" --disclosing-sector healthcare --receiving-sector school \
    --category needs,interventions --from "$today" --until "$next_year" \
    --evidence signed-form:consent-form "${receipt[@]}")
  echo "$grant_out" | head -3 | indent
done
grant_father=$(echo "$grant_out" | first grants)  # the last one: the father's
note "The father's signed receipt of his consent, checked offline with the server's key,"
note "and the same receipt in words for him to read and print:"
"$CTL_BIN" receipt verify "$var/family/consent-receipt.json" \
  --public-key "$var/audit-key.pem.vkey" | indent
ctl school-1 anna.lind receipt render --grant "$grant_father" \
  --out "$var/family/consent-receipt.html" | head -1 | indent

say "5. BUP writes two entries: an intervention and a health note"
ctl bup-1 erik.berg entry create --plan "$plan" --category interventions \
  --kind intervention --text "Weekly sessions with a BUP counsellor" \
  --responsible-agency bup-1 --order 1 | head -2 | indent
ctl bup-1 erik.berg entry create --plan "$plan" --category health \
  --kind note --text "Sleep problems; medication reviewed monthly" | head -2 | indent
note "Each change is a new revision; the guardians approve it at the follow-up:"
ctl school-1 anna.lind plan approve --plan "$plan" --guardian "$mother" \
  --guardian "$father" --evidence signed-form:follow-up | head -1 | indent

say "6. The school reads the plan: the intervention is covered by consent, the health note is not"
ctl school-1 anna.lind plan get --plan "$plan" | indent
note "The same read over REST/JSON with curl (GET /v1/$plan), the same decisions:"
curl -sS --fail-with-body --cacert "$var/pki/ca.pem" --cert "$var/pki/school-1.pem" \
  --key "$var/pki/school-1.key" -H 'x-samplan-actor: anna.lind' \
  "https://localhost:$rest_listening/v1/$plan" |
  python3 -c 'import json, sys
r = json.load(sys.stdin)
for e in r.get("entries", []):
    print("entry:", e["ownerAgency"], e["category"], json.dumps(e["text"]))
for w in r.get("withheldEntries", []):
    print("withheld:", w["ownerAgency"], w["category"], w["reason"])' | indent

note "The family's copy: the plan in plain Swedish, as the school may show it, as a web"
note "page and as a PDF (the health note appears only as one sentence):"
ctl school-1 anna.lind plan render --plan "$plan" --out "$var/family/alva-sip.html" | head -1 | indent
ctl school-1 anna.lind plan render --plan "$plan" --format pdf \
  --out "$var/family/alva-sip.pdf" | head -1 | indent

say "7. Social services, not invited, asks for the plan: refused, as if it did not exist"
set +e
ctl social-1 sara.ek plan get --plan "$plan" 2>&1 | indent
rc=${PIPESTATUS[0]}
set -e
note "(exit code $rc: refused; the audit log records NOT_PARTICIPANT)"

say "8. Alva's father withdraws his consent; the school's next read is refused"
ctl school-1 anna.lind grant withdraw --grant "$grant_father" --withdrawer-role guardian \
  --withdrawer "$father" --evidence signed-form:withdrawal \
  --receipt-out "$var/family/withdrawal-receipt.json" | head -2 | indent
note "His receipt of the withdrawal:"
"$CTL_BIN" receipt verify "$var/family/withdrawal-receipt.json" \
  --public-key "$var/audit-key.pem.vkey" | indent
ctl school-1 anna.lind plan get --plan "$plan" | grep -E "withheld|Entries|entry" | indent

say "9. Turning 15: from then on the child's own consent is needed"
teen_birth=$(date -d "$today -15 years +30 days" +%Y%m%d)
birthday=$(date -d "$teen_birth +15 years" +%F)
eve=$(date -d "$birthday -1 day" +%F)
teen=$(pnr "$teen_birth" 456)
note "Demo data: Noah turns 15 on $birthday; the school starts his plan and his guardians consent today."
ctl school-1 anna.lind plan create --subject "$teen" --coordinator-name "Anna Lind" \
  --invite-agency bup-1 >/dev/null
for g in "$mother" "$father"; do
  ctl school-1 anna.lind custody create --subject "$teen" --guardian "$g" \
    --from "${teen_birth:0:4}-${teen_birth:4:2}-${teen_birth:6:2}" \
    --evidence register-extract:folkbokforing >/dev/null
  ctl school-1 anna.lind grant create --subject "$teen" --grantor-role guardian \
    --grantor "$g" --disclosing-sector healthcare --receiving-sector school \
    --category needs --from "$today" --until "$(date -d "$today +11 months" +%F)" \
    --evidence signed-form:consent-form >/dev/null
done
note "The day before the birthday ($eve):"
ctl school-1 anna.lind access check --subject "$teen" --owner bup-1 --reader school-1 \
  --category needs --at "${eve}T12:00:00+02:00" | indent
note "On the birthday ($birthday): the guardians' consents stop counting by themselves"
ctl school-1 anna.lind access check --subject "$teen" --owner bup-1 --reader school-1 \
  --category needs --at "${birthday}T12:00:00+02:00" | indent
note "From then on Noah grants (or refuses) consent himself: 'samplanctl grant create --grantor-role subject'."

say "10. An administrator revokes the mother's consent at her request; the next read is refused"
grant_mother=$(ctl school-1 anna.lind grant search --subject "$child" --state active | first grants)
ctl admin-1 lena.admin admin grant revoke --grant "$grant_mother" \
  --reason "the guardian asked the administration by phone" | head -2 | indent
ctl school-1 anna.lind plan get --plan "$plan" | grep -E "withheld" | indent

say "11. The access extract (logutdrag): who read about Alva, when, and on what ground"
note "(the auditor's query is itself logged)"
ctl auditor-1 maja.revisor audit extract --subject "$child" | indent

say "12. The auditor exports the whole audit log and verifies it offline"
ctl auditor-1 maja.revisor audit export --out "$var/audit-export.jsonl" 2>&1 | indent
note "Offline: only the export, its signed checkpoint and the server's public key"
"$CTL_BIN" audit verify --public-key "$var/audit-key.pem.vkey" \
  --export "$var/audit-export.jsonl" | indent
note "Verify by hand: docs/audit.md"

if [[ $demo_only -eq 1 ]]; then
  say "Demo complete. Stopping the server."
  stop_server
  trap - EXIT
  exit 0
fi

say "samplan-server keeps running on localhost:$listening. Try:"
note "export SAMPLAN_SERVER=localhost:$listening SAMPLAN_PKI=$var/pki"
note "$CTL_BIN --agency school-1 --actor anna.lind plan list"
note "The same over REST/JSON:"
note "curl --cacert $var/pki/ca.pem --cert $var/pki/school-1.pem --key $var/pki/school-1.key -H 'x-samplan-actor: anna.lind' https://localhost:$rest_listening/v1/plans"
note "Ctrl-C stops the server (in-flight calls finish, the database closes)."
trap 'stop_server; exit 0' INT TERM
wait "$server_pid"
