#!/usr/bin/env bash
# e2e: what netpen shows of a run. A pcapng capture (-o) of a curl run holds
# its HTTP request, DNS and names (NRB), tshark and capinfos read it without
# complaint, and host traffic made at the same time outside the tree is not
# in it; packets carry the owning process; the file belongs to the invoking
# user. The JSON flow log (--log) starts with run_start, ends with run_end,
# and names curl's pid and command (also for one-shot curls); --analyse
# prints live lines; --summary appears only when asked and ends with the
# exit status; `netpen report` summarises a saved log. As root and as the
# unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "observability checks" "netpen-only"
  e2e_finish
fi

# A curl that lives long enough for its process to be looked up: 8 MB.
CURL='curl -fsS -m 60 -o /dev/null -r 0-8388607 http://web.lab.test/big.bin'

for who in $(e2e_users); do
  cap=$LAB_TMP/run-$who.pcapng log=$LAB_TMP/run-$who.jsonl
  rm -f "$cap" "$log"
  # Host-side traffic during the run, outside the tree: must not be captured.
  in_host curl -s -o /dev/null "http://web.lab.test/host-side-marker-$who" &
  noise=$!
  run np --as "$who" -o "$cap" --log "$log" --analyse -- sh -c \
    "curl -fsS -m 20 http://web.lab.test/whoami; $CURL; sleep 0.2; exit 3"
  wait "$noise"
  check_eq "[$who] the command's status passes through" 3 "$RC"
  check_match "[$who] --analyse: a live line for the TCP flow" 'OPEN +tcp .*web\.lab\.test \(203\.0\.113\.10:80\)' "$ERR"
  check_match "[$who] --analyse: DNS answers" 'DNS .*web\.lab\.test A NOERROR: 203\.0\.113\.10' "$ERR"
  check_eq "[$who] no summary unless asked" "" "$(grep 'run summary' <<< "$ERR")"

  # The capture.
  check "[$who] the capture exists" test -s "$cap"
  check_eq "[$who] ... owned by the user who ran netpen" "$who" "$(stat -c %U "$cap")"
  run tshark -n -r "$cap" -q
  # shellcheck disable=SC2143 # ERR may be empty: nothing to grep -q
  if ((RC == 0)) && [[ -z $(grep -v 'Running as user' <<< "$ERR") ]]; then ok "[$who] tshark reads it without warnings"
  else not_ok "[$who] tshark reads it without warnings"; fi
  packets=$(capinfos -M -c "$cap" 2> /dev/null | awk -F': *' '/Number of packets/ {print $2}')
  check_eq "[$who] capinfos counts as many packets as tshark reads" \
    "$(tshark -n -r "$cap" 2> /dev/null | wc -l)" "$packets"
  check_output_contains "[$who] the HTTP request is in the capture" "/whoami" \
    tshark -n -r "$cap" -Y 'http.request' -T fields -e http.request.uri
  check_output_contains "[$who] the DNS query is in the capture" "web.lab.test" \
    tshark -n -r "$cap" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name
  check_output_contains "[$who] the NRB names 203.0.113.10 web.lab.test" "web.lab.test" \
    sh -c "tshark -n -r '$cap' -q -z hosts 2> /dev/null | grep -F 203.0.113.10"
  check_no_match "[$who] host traffic outside the tree is not captured" host-side-marker \
    tshark -n -r "$cap" -Y http.request -T fields -e http.request.uri
  check_output_contains "[$who] packets name curl in a comment" "curl" \
    sh -c "tshark -n -r '$cap' -Y 'frame.comment contains \"curl\"' -T fields -e frame.comment 2> /dev/null | head -n 1"
  check_output_contains "[$who] the section comment names the command" "exit 3" \
    sh -c "capinfos -k '$cap' 2> /dev/null"

  # The flow log.
  check_output_eq "[$who] the flow log: run_start first, run_end (status 3) last" "run_start run_end 3" \
    python3 -c "
import json, sys
lines = [json.loads(l) for l in open('$log')]
assert all(l['schema_version'] == 2 for l in lines)
print(lines[0]['event'], lines[-1]['event'], lines[-1]['exit_status'])"
  check_output_eq "[$who] the flow log names curl's pid and command for its TCP flow" "curl yes" \
    python3 -c "
import json
ev = [json.loads(l) for l in open('$log')]
c = [e for e in ev if e['event'] == 'flow_close' and e.get('dst') == '203.0.113.10:80' and 'process' in e
     and e['process']['command'].startswith('curl') and e['bytes_in'] > 8000000]
print(c[0]['process']['command'].split()[0] if c else 'none', 'yes' if c and c[0]['process']['pid'] > 1 else 'no')"

  # --summary, and report.
  run np --as "$who" --summary -- sh -c 'curl -fsS -m 20 -o /dev/null http://web.lab.test/whoami; exit 4'
  check_match "[$who] --summary: printed when asked" 'run summary' "$ERR"
  check_match "[$who] ... with the destination" 'web\.lab\.test +80 +tcp' "$ERR"
  check_eq "[$who] ... ending with the exit status" "exit status: 4" "$(tail -n 1 <<< "$ERR")"
  run np --as "$who" --summary-format json -- true
  check_output_eq "[$who] --summary-format json is JSON" ok \
    python3 -c "import json,sys; json.loads(sys.argv[1]); print('ok')" "$ERR"
  run "$E2E_NETPEN" report "$log" --format markdown
  check_match "[$who] netpen report: markdown summary of the saved log" 'web\.lab\.test' "$OUT"
  check_match "[$who] ... with the exit status" 'exit status.* 3' "$OUT"
done

# Run as root for a user (sudo): the files belong to that user.
uid=$(id -u netpen-test) gid=$(id -g netpen-test)
cap=$LAB_TMP/sudo.pcapng log=$LAB_TMP/sudo.jsonl
run in_host env SUDO_UID="$uid" SUDO_GID="$gid" "$E2E_NETPEN" -o "$cap" --log "$log" -- true
check_eq "under sudo: the capture belongs to the invoking user" netpen-test "$(stat -c %U "$cap" 2> /dev/null)"
check_eq "under sudo: the flow log too" netpen-test "$(stat -c %U "$log" 2> /dev/null)"
check_status "a capture in a missing directory: usage error before anything runs" 2 \
  np -o /nonexistent/dir/x.pcapng -- touch "$LAB_TMP/never"
check_eq "... and the command never ran" no "$([[ -e $LAB_TMP/never ]] && echo yes || echo no)"

# Short-lived clients are named too: a TCP flow's SYN-ACK waits for the lookup.
log=$LAB_TMP/oneshot.jsonl
run np --log "$log" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do curl -fsS -o /dev/null http://web.lab.test/whoami; done'
check_output_eq "ten one-shot curls: each TCP flow names its curl" "10 of 10" python3 -c "
import json
flows = [e for e in map(json.loads, open('$log')) if e['event'] == 'flow_open' and e.get('protocol') == 'tcp']
named = [e for e in flows if e.get('process', {}).get('command', '').startswith('curl ')]
print(len(named), 'of', len(flows))
"
e2e_finish
