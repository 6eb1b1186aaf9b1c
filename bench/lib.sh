# Helpers the benchmark scripts share; source it after setting SERVER (the
# samplan-server binary), out (the output directory) and pids=().

# register WHERE...: the benchmarks' agencies, in the store WHERE names
# (--db FILE or --postgres CONNINFO).
register() {
  local id sector role
  while read -r id sector role; do
    "$SERVER" register-agency "$@" --id "$id" --sector "$sector" --role "$role" --name "$id" >/dev/null
  done <<AGENCIES
school-1 SCHOOL AGENCY_SYSTEM
social-1 SOCIAL_SERVICES AGENCY_SYSTEM
bup-1 HEALTHCARE AGENCY_SYSTEM
other-1 SCHOOL AGENCY_SYSTEM
auditor-1 HEALTHCARE AUDITOR
admin-1 SOCIAL_SERVICES ADMINISTRATOR
AGENCIES
}

# start NAME CMD...: starts a server with its log in $out/NAME.log, waits
# until it logs its port; sets $port and $pid and adds the pid to pids.
start() {
  local name=$1; shift
  : >"$out/$name.log"
  "$@" 2>>"$out/$name.log" &
  pid=$!
  pids+=("$pid")
  port=""
  for _ in $(seq 1 300); do
    port=$(grep -o 'port [0-9]*)' "$out/$name.log" | head -1 | tr -dc 0-9 || true)
    [[ -n $port ]] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$(basename "$0"): $name did not start:" >&2
  cat "$out/$name.log" >&2
  exit 1
}
