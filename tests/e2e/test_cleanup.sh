#!/usr/bin/env bash
# e2e: `netpen cleanup` after runs SIGKILLed at random moments of their
# set-up (0 to 300 ms after start): rootless runs as root and as the test
# user, and --root runs (the rootful backend's records under /run/netpen,
# host table, veths, routes, rules, sysctls). Afterwards cleanup exits 0
# and nothing is left: the lab host node's netfilter, routing and links are
# as before, no new record in /run/netpen, no netpen temp files or mounts,
# no netpen process. A record directory holding only state.json.tmp (a run
# killed while writing its first record) is cleaned with exit 0. An
# ordinary user's cleanup with nothing to do says so and exits 0; root's
# removes other users' dead sandboxes (under /run/user/UID) as well.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "cleanup" "netpen-only checks, NETPEN_E2E_DIRECT=1"
  e2e_finish
fi

KILLS=${NETPEN_E2E_CLEANUP_KILLS:-15}

# leftovers: netpen-named temp files and mounts on the real host.
leftovers() {
  find /tmp /var/tmp /dev/shm /run -maxdepth 2 -iname '*netpen*' -not -path '/run/netpen-lab*' 2>/dev/null | sort
  grep -v -e ' /run/netns/' -e ' /run/netpen-lab' /proc/self/mountinfo | cut -d' ' -f4,5 | sort
}
records() { ls -1 /run/netpen 2> /dev/null | sort; }

# kill_during_setup WHO [--root]: starts `netpen [--root] -- sleep 30` as WHO
# and SIGKILLs netpen after 0..300 ms, KILLS times. scripts/lab exec
# becomes netpen (LAB_EXEC_REPLACE), so the background pid is netpen's.
kill_during_setup() {
  local who=$1 mode=${2:-} i delay bg
  local -a argv
  for ((i = 0; i < KILLS; i++)); do
    delay=$((RANDOM % 301))
    if [[ $mode == --root ]]; then
      argv=("$E2E_SRC/scripts/lab" exec "$E2E_LAB" host -- "$E2E_NETPEN" --root -- sleep 30)
    else
      in_host_argv --as "$who" "$E2E_NETPEN" -- sleep 30
      argv=("${E2E_ARGV[@]}")
    fi
    LAB_EXEC_REPLACE=1 "${argv[@]}" > /dev/null 2>&1 < /dev/null &
    bg=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -KILL "$bg" 2> /dev/null
    wait "$bg" 2> /dev/null
  done
  ok "[$who${mode:+ $mode}] $KILLS runs SIGKILLed 0-300 ms into their set-up"
}

# no_netpen_left: no process runs the lab's netpen copy or our 'sleep 30'.
# shellcheck disable=SC2317 # called through wait_for
no_netpen_left() { ! pgrep -f "^$E2E_NETPEN( |\$)" > /dev/null; }

records_before=$(records)
files_before=$(leftovers) || e2e_die "cannot list leftovers"
host_before=$(rootful_host_state) || e2e_die "cannot read the lab host's state"

for who in $(e2e_users); do kill_during_setup "$who"; done
kill_during_setup root --root

if wait_for 10 no_netpen_left; then ok "no netpen process survives the SIGKILLs"
else not_ok "no netpen process survives the SIGKILLs" "$(pgrep -af "^$E2E_NETPEN( |\$)")"; fi

run in_host "$E2E_NETPEN" cleanup
check_eq "[root] netpen cleanup after the SIGKILLs exits 0" 0 "$RC"
check_no_match "[root] ... and leaves nothing alone" 'left alone|kept|failed' printf '%s\n' "$OUT"
# Not vacuous: some --root runs got far enough to leave a record.
check_match "[root] ... undid or removed what killed --root runs left" '^run [0-9a-f]+ \((pid [0-9]+ is gone|killed before)' "$OUT"
check_output_eq "[root] ... the lab host's nftables, sysctls, rules, routes and links are as before" \
  "$host_before" rootful_host_state
records_after=$(records)
check_eq "[root] ... no record of a killed run is left in /run/netpen" "" \
  "$(comm -13 <(printf '%s\n' "$records_before") <(printf '%s\n' "$records_after") | grep . || true)"
check_eq "[root] ... no netpen temp file or mount is left" "$files_before" "$(leftovers)"
run in_host nft list tables
check_no_match "[root] ... no nftables table of a killed run in the lab host" 'netpen' printf '%s\n' "$OUT"

run in_host "$E2E_NETPEN" cleanup
check_eq "[root] a second cleanup exits 0" 0 "$RC"

# A run killed while writing its first record: state.json.tmp, no state.json.
id=cafe$((RANDOM % 90 + 10))
must mkdir -m 0700 -p /run/netpen
must mkdir -m 0700 "/run/netpen/$id"
printf '{"schema_version": 1, "id": "%s", "pid": 4' "$id" > "/run/netpen/$id/state.json.tmp"
chmod 0600 "/run/netpen/$id/state.json.tmp"
run in_host "$E2E_NETPEN" cleanup --dry-run
check_eq "[root] cleanup --dry-run with a state.json.tmp-only record exits 0" 0 "$RC"
check_match "[root] ... says it would remove it" "^run $id \(killed before its first record was written\)" "$OUT"
check "[root] ... and keeps it" test -d "/run/netpen/$id"
run in_host "$E2E_NETPEN" cleanup
check_eq "[root] cleanup of a state.json.tmp-only record exits 0" 0 "$RC"
check_match "[root] ... says it removed it (nothing to undo)" "removed /run/netpen/$id \(nothing to undo\)" "$OUT"
check "[root] ... its directory is gone" test ! -e "/run/netpen/$id"
run in_host "$E2E_NETPEN" cleanup
check_eq "[root] the cleanup after it exits 0 too" 0 "$RC"

# Root's cleanup removes other users' dead sandboxes too (those under
# /run/user/UID), as that user. A /run/user/UID is made for the test user
# if there is none (removed again by the trap).
uid=$(id -u netpen-test)
made_run_user="" made_run_dir=""
[[ -e /run/user ]] || made_run_dir=/run/user
if [[ ! -e /run/user/$uid ]]; then
  must mkdir -p /run/user
  must install -d -m 0700 -o netpen-test -g "$(id -g netpen-test)" "/run/user/$uid"
  made_run_user=/run/user/$uid
fi
forget_run_user() {
  [[ -z $made_run_user ]] || rm -rf "$made_run_user"
  [[ -z $made_run_dir ]] || rmdir "$made_run_dir" 2> /dev/null
  made_run_user="" made_run_dir=""
}
trap 'rc=$?; forget_run_user; (exit $rc); e2e_teardown' EXIT
box=cl-$RANDOM
run in_host --as netpen-test "$E2E_NETPEN" create "$box"
check_eq "[netpen-test] create $box (for root's cleanup) exits 0" 0 "$RC"
daemon=$(in_host --as netpen-test "$E2E_NETPEN" list --format json 2> /dev/null |
  python3 -c "import json,sys; l=[s for s in json.load(sys.stdin) if s['name']=='$box']; print(l[0]['daemon_pid'] if l else '')")
check "[netpen-test] ... its directory is under /run/user/$uid" test -d "/run/user/$uid/netpen/sandboxes/$box"
if [[ -n $daemon ]]; then
  kill -KILL "$daemon"
  # shellcheck disable=SC2317 # called through wait_for
  daemon_gone() { ! kill -0 "$daemon" 2> /dev/null; }
  wait_for 10 daemon_gone || not_ok "the sandbox daemon $daemon ends after SIGKILL"
fi
run in_host "$E2E_NETPEN" cleanup
check_eq "[root] cleanup with another user's dead sandbox exits 0" 0 "$RC"
check_match "[root] ... removes it" "^sandbox $box \(daemon pid $daemon, gone\): removed" "$OUT"
check "[root] ... its directory is gone" test ! -e "/run/user/$uid/netpen/sandboxes/$box"
forget_run_user

# An ordinary user: nothing of theirs is left, and cleanup says so.
run in_host --as netpen-test "$E2E_NETPEN" cleanup
check_eq "[netpen-test] netpen cleanup exits 0" 0 "$RC"
check_match "[netpen-test] ... says nothing was left" '^nothing to clean up' "$OUT"
check_eq "[netpen-test] ... with nothing on stderr" "" "$ERR"
check "cleanup --help exits 0" in_host "$E2E_NETPEN" cleanup --help
check_match "cleanup --help is cleanup's own" '^Usage: netpen cleanup \[--dry-run\]' "$OUT"

e2e_finish
