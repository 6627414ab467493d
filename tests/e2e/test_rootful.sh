#!/usr/bin/env bash
# e2e, rootful backend only: what --root changes on the host and undoes.
#  - the host's nftables ruleset, forwarding sysctls, policy rules and
#    routes are the same before and after a run (also in proxy mode, which
#    adds TPROXY, an fwmark rule and a local-route table); no netpen link
#    or run record is left;
#  - the gate's verdict cache (the tree table's allowed set) is used only
#    when nothing watches single flows, and never for a denial;
#  - --dry-run prints the plan (veth, addresses, both tables) and changes
#    nothing;
#  - the command runs as the invoking user behind sudo (SUDO_UID/SUDO_GID),
#    with that user's HOME/USER and no SUDO_*, and its flow log belongs to
#    that user; --run-as-root keeps root;
#  - after netpen is killed with SIGKILL, its table and sysctls stay behind;
#    `netpen cleanup` removes them while a second run is alive, and leaves
#    that run alone; afterwards nothing of either run remains;
#  - two concurrent runs: the first turns eth0's forwarding on, and ends
#    while the second runs; it hands the undo over, so the second's traffic
#    is still forwarded, and eth0 is off again once both have ended.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_BACKEND=rootful
e2e_setup

# The run records in /run/netpen (none when it does not exist); fails when
# it exists but cannot be listed.
run_ids() { [[ ! -e /run/netpen ]] || ls /run/netpen | sort; }
# check_run_ids DESC: the records are those of the start; check_no_new_run
# DESC: none of them is new (cleanup may remove older ones of dead runs).
check_run_ids() {
  local ids
  if ids=$(run_ids); then check_eq "$1" "$ids_before" "$ids"; else not_ok "$1" "cannot list /run/netpen"; fi
}
check_no_new_run() {
  local ids
  if ids=$(run_ids); then check_eq "$1" "" "$(comm -13 <(echo "$ids_before") <(echo "$ids"))"
  else not_ok "$1" "cannot list /run/netpen"; fi
}

before=$(rootful_host_state) || e2e_die "cannot read the lab host's state"
ids_before=$(run_ids) || e2e_die "cannot list /run/netpen"
check_output_eq "a run reaches the web server" netpen-lab-index-ok np -- curl -fsS -m 20 http://web.lab.test/
check_output_eq "ruleset, sysctls and links are the same after the run" "$before" rootful_host_state
check_run_ids "no run record is left in /run/netpen"
check_output_eq "proxy mode: a run through SOCKS5 reaches the hidden server" netpen-lab-index-ok \
  np -p socks5://proxy.lab.test:1080 -- curl -fsS -m 20 http://hidden.lab.test/
check_output_eq "... its fwmark rules and local-route tables are gone afterwards" "$before" rootful_host_state
# The gate's verdict cache: with nothing watching single flows, a
# destination the default allowed is put in the tree's allowed set, and its
# next flows skip the queue; with --analyse every flow is judged and shown.
twice='curl -fsS -m 10 -o /dev/null http://web.lab.test/ && curl -fsS -m 10 -o /dev/null http://web.lab.test/ && nft list chain inet netpen output'
run np --run-as-root -- sh -c "$twice"
check_match "verdict cache: the second flow to web skips the gate" '@allowed4 counter packets [1-9]' "$OUT"
run np --run-as-root --analyse -- sh -c "$twice"
check_match "... with --analyse nothing is cached" '@allowed4 counter packets 0 ' "$OUT"
check_eq "... and both flows are shown" 2 "$(grep -c 'OPEN  tcp' <<< "$ERR")"
run np --run-as-root --block-private -- sh -c "curl -sS -m 5 http://10.77.0.10/; curl -sS -m 5 http://10.77.0.10/; nft list chain inet netpen output"
check_match "... a denied destination is never cached: each attempt is denied again" '^netpen: denied: .*10\.77\.0\.10:80' "$ERR"
check_eq "... (two denials)" 2 "$(grep -c '^netpen: denied: ' <<< "$ERR")"
run np --dry-run -p socks5://proxy.lab.test:1080 -- true
check_match "--dry-run in proxy mode shows the TPROXY rule" 'tproxy ip to 10\.249\.[0-9.]+:1080 meta mark set' "$OUT"
check_match "... and the fwmark rule with its table" '^  routing: +fwmark 0x4e54[0-9a-f]{4} lookup [0-9]+' "$OUT"

run np --dry-run -- true
check_eq "--dry-run exits 0" 0 "$RC"
check_match "--dry-run shows the veth" '^  link: +veth np[0-9a-f]{6} ' "$OUT"
check_match "--dry-run shows the host table" '^table inet netpen_[0-9a-f]{6} \{' "$OUT"
check_match "--dry-run shows the tree's table" '^table inet netpen \{' "$OUT"
# IPv6 forwarding as the run sets it: per interface where the kernel has
# force_forwarding (6.17+), else the global switch.
if [[ -e /proc/sys/net/ipv6/conf/default/force_forwarding ]]; then
  check_match "--dry-run names the veth's IPv6 force_forwarding" '^  sysctls: .*net\.ipv6\.conf\.np[0-9a-f]{6}\.force_forwarding=1' "$OUT"
else
  check_match "--dry-run names the global IPv6 forwarding" '^  sysctls: .*net\.ipv6\.conf\.all\.forwarding=1' "$OUT"
fi
check_output_eq "--dry-run changes nothing" "$before" rootful_host_state

check_output_eq "the command runs as the sudo user" "netpen-test /home/netpen-test netpen-test" \
  np --as netpen-test -- sh -c 'echo "$(id -un) $HOME $USER"'
check_output_eq "SUDO_* is not passed on" "" np --as netpen-test -- sh -c 'env | grep ^SUDO_ || true'
check_output_eq "--run-as-root keeps root" root np --as netpen-test --run-as-root -- id -un
log=$LAB_TMP/rootful-flows.jsonl
run np --as netpen-test --log "$log" -- curl -fsS -m 20 -o /dev/null http://web.lab.test/
check_eq "a run as the sudo user succeeds" 0 "$RC"
check_eq "its flow log belongs to the sudo user" netpen-test "$(stat -c %U "$log" 2>/dev/null)"
check_match "the flow log has the flow with its bytes" '"event":"flow_close".*"bytes_in":[1-9]' "$(cat "$log")"

# SIGKILL: the tree dies with netpen (its veth with it); the table, the
# sysctls and the record stay until `netpen cleanup`.
in_host_argv "$E2E_NETPEN" --root -- sleep 60
"${E2E_ARGV[@]}" > /dev/null 2>&1 &
victim_shell=$!
victim_link() { in_host sh -c 'ip -br link | grep -q "^np"'; }
if wait_for 10 victim_link; then ok "a run to kill is up"; else not_ok "a run to kill is up"; fi
victim=$(pgrep -f "^$E2E_NETPEN --root -- sleep 60" | head -n 1)
kill -9 "$victim" 2> /dev/null
wait "$victim_shell" 2> /dev/null
victim_id=$(comm -13 <(echo "$ids_before") <(run_ids) | head -n 1)
check "the killed run left its record" test -n "$victim_id"
check "the killed run left its table" in_host nft list table inet "netpen_$victim_id"

# A second run, alive while cleanup runs.
in_host_argv "$E2E_NETPEN" --root -- sleep 30
"${E2E_ARGV[@]}" > /dev/null 2>&1 &
live_shell=$!
live_up() { [[ $(comm -13 <(echo "$ids_before") <(run_ids) | grep -vc "^$victim_id$") -ge 1 ]]; }
if wait_for 10 live_up; then ok "a second run is up"; else not_ok "a second run is up"; fi
live_id=$(comm -13 <(echo "$ids_before") <(run_ids) | grep -v "^$victim_id$" | head -n 1)

run in_host "$E2E_NETPEN" cleanup --dry-run
check_match "cleanup --dry-run lists the dead run's table" "netpen_$victim_id" "$OUT"
check "cleanup --dry-run removes nothing" in_host nft list table inet "netpen_$victim_id"
run in_host "$E2E_NETPEN" cleanup
check_eq "cleanup exits 0" 0 "$RC"
check_status "cleanup removed the dead run's table" 1 in_host nft list table inet "netpen_$victim_id"
check_match "... nft finds no such table (not another error)" 'No such file or directory' "$ERR"
check "cleanup removed the dead run's record" test ! -e "/run/netpen/$victim_id"
check "cleanup left the live run's record" test -e "/run/netpen/$live_id"
check "cleanup left the live run's table" in_host nft list table inet "netpen_$live_id"

pkill -TERM -f "^$E2E_NETPEN --root -- sleep 30" 2> /dev/null
wait "$live_shell" 2> /dev/null
check_output_eq "after both runs: ruleset, sysctls and links as before" "$before" rootful_host_state
# (cleanup also removed records of dead runs from before this test: only new ones count)
check_no_new_run "after both runs: no record of either run is left"

# Two runs that both need eth0's forwarding. The first turns it on; the
# second finds it on and records nothing. The first ends (SIGTERM) while
# the second sleeps: it must not turn forwarding off under the second, but
# hand the undo over to it. (Runs are found by their command: other labs'
# runs may be in /run/netpen too.)
eth0_forwarding() { in_host sysctl -n net.ipv4.conf.eth0.forwarding; }
run_with() { grep -lF "\"command\": \"$1\"" /run/netpen/*/state.json 2> /dev/null | head -n 1; }
check_eq "the lab host's eth0 does not forward" 0 "$(eth0_forwarding)"
in_host_argv "$E2E_NETPEN" --root -- sleep 31
"${E2E_ARGV[@]}" > /dev/null 2>&1 &
first_shell=$!
first_up() { [[ $(eth0_forwarding) == 1 ]] && grep -q netpen_ "$(run_with "sleep 31")" 2> /dev/null; }
if wait_for 10 first_up; then ok "the first run turned eth0's forwarding on"; else not_ok "the first run turned eth0's forwarding on"; fi
second_command='sleep 3; curl -fsS -m 10 http://web.lab.test/'
np_argv -- sh -c "$second_command"
"${E2E_ARGV[@]}" > "$LAB_TMP/second.out" 2> "$LAB_TMP/second.err" < /dev/null &
second_shell=$!
second_up() { grep -q netpen_ "$(run_with "sh -c '$second_command'")" 2> /dev/null; }
if wait_for 10 second_up; then ok "a second run is up"; else not_ok "a second run is up"; fi
second_record=$(run_with "sh -c '$second_command'")
check_no_match "... it did not record eth0's forwarding itself" 'conf/eth0/forwarding' cat "$second_record"
second_id=$(basename "$(dirname "$second_record")")
check_match "... but guards it like the first: its table drops what eth0 would forward elsewhere" \
  'iifname "eth0" oifname != "np\*" .*drop' "$(in_host nft list table inet "netpen_$second_id")"
pkill -TERM -f "^$E2E_NETPEN --root -- sleep 31" 2> /dev/null
wait "$first_shell" 2> /dev/null
check_eq "the first run ended: eth0 still forwards" 1 "$(eth0_forwarding)"
check "... the second run's record has eth0's forwarding, handed over" grep -q 'conf/eth0/forwarding' "$second_record"
wait "$second_shell"
second_rc=$?
check_eq "the second run's curl, after the first ended, still succeeds" "0 netpen-lab-index-ok" \
  "$second_rc $(cat "$LAB_TMP/second.out")"
check_eq "after both runs: eth0's forwarding is off again" 0 "$(eth0_forwarding)"
check_output_eq "after both runs: ruleset, sysctls and links as before" "$before" rootful_host_state
check_no_new_run "after both runs: no record of either run is left"
e2e_finish
