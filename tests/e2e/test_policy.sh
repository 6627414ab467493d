#!/usr/bin/env bash
# e2e: the policy flags against the lab. --offline: nothing leaves, DNS
# included, and every client fails fast; --block-private and
# --block-metadata: the lab's private-range and metadata servers (which log
# every request) see nothing while the rest works; --allow by domain,
# wildcard and CIDR lets exactly that through (a direct IP no allowed name
# produced is refused, a name not allowed gets NXDOMAIN); a deny rule beats
# an allow rule; --fail-on-leak turns a denial into exit status 1; the flow
# log carries each decision's reason code and rule; a flow to an
# encrypted-DNS port gets a warning.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "policy checks" "netpen-only"
  e2e_finish
fi

PRIVATE_LOG=$LAB_DIR/logs/nginx-private.log
# lines FILE: its line count (also for `run`).
# shellcheck disable=SC2016 # expanded by the inner sh
lines_argv() { E2E_ARGV=(sh -c 'wc -l < "$0"' "$1"); }
lines() { lines_argv "$@" && "${E2E_ARGV[@]}"; }
# elapsed_ms CMD...: runs CMD (via `run`), sets MS to its wall time.
elapsed() {
  local t0
  t0=$(date +%s%N)
  run "$@"
  MS=$((($(date +%s%N) - t0) / 1000000))
}

for who in $(e2e_users); do
  # --- --offline
  elapsed np --as "$who" --offline -- curl -sS -m 20 http://web.lab.test/whoami
  check_eq "[$who] --offline: curl by name cannot resolve (exit 6)" 6 "$RC"
  check "[$who] ... at once (under 3 s, not a timeout)" test "$MS" -lt 3000
  run np --as "$who" --offline -- dig +time=5 +tries=1 web.lab.test A
  check_match "[$who] --offline: DNS answers NXDOMAIN" 'status: NXDOMAIN' "$OUT"
  elapsed np --as "$who" --offline -- curl -sS -m 20 http://203.0.113.10/whoami
  check_eq "[$who] --offline: curl by address is refused (exit 7)" 7 "$RC"
  check "[$who] ... at once" test "$MS" -lt 3000
  run np --as "$who" --offline -- ping -c 1 -W 5 203.0.113.10
  check_match "[$who] --offline: ping is filtered" 'Packet filtered|100% packet loss' "$OUT"

  # --- --block-private / --block-metadata
  before=$(lines "$PRIVATE_LOG") || e2e_die "cannot count $PRIVATE_LOG"
  run np --as "$who" --block-private -- sh -c \
    "curl -sS -m 10 http://10.77.0.10/whoami; echo rc=\$?; curl -sS -m 10 -g http://[fd77::10]/whoami; echo rc=\$?; curl -fsS -m 10 http://web.lab.test/whoami"
  check_match "[$who] --block-private: 10.77.0.10 refused" '^rc=7$' "$(sed -n 1p <<< "$OUT")"
  check_match "[$who] --block-private: fd77::10 refused" '^rc=7$' "$(sed -n 2p <<< "$OUT")"
  check_match "[$who] --block-private: web.lab.test still works" '^203\.0\.113\.10$' "$(sed -n 3p <<< "$OUT")"
  check_output_eq "[$who] --block-private: the private server saw nothing" "$before" lines "$PRIVATE_LOG"
  run np --as "$who" --block-metadata -- sh -c \
    "curl -sS -m 10 http://169.254.169.254/whoami; echo rc=\$?; curl -sS -m 10 -g http://[fd00:ec2::254]/whoami; echo rc=\$?; curl -fsS -m 10 http://10.77.0.10/whoami"
  check_match "[$who] --block-metadata: 169.254.169.254 refused" '^rc=7$' "$(sed -n 1p <<< "$OUT")"
  check_match "[$who] --block-metadata: fd00:ec2::254 refused" '^rc=7$' "$(sed -n 2p <<< "$OUT")"
  check_match "[$who] --block-metadata: a private address still works" '^10\.77\.0\.10$' "$(sed -n 3p <<< "$OUT")"
  check_output_eq "[$who] --block-metadata: the metadata endpoint saw nothing (one request: 10.77.0.10)" \
    "$((before + 1))" lines "$PRIVATE_LOG"

  # --- --allow by domain
  log=$LAB_TMP/policy-$who.jsonl
  run np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
    "curl -fsS -m 10 http://web.lab.test/whoami; curl -sS -m 10 http://203.0.113.11/whoami; echo rc=\$?; dig +short +time=5 +tries=1 hidden.lab.test; echo dig=\$?; echo x | nc -u -w 2 203.0.113.11 7; echo nc=\$?"
  check_match "[$who] --allow web.lab.test: web.lab.test works" '^203\.0\.113\.10$' "$(sed -n 1p <<< "$OUT")"
  # Under a name rule a TCP flow is judged after its first bytes (the name
  # they claim; a bare address claims none): the refusal is a reset after
  # the handshake, curl's 56, and nothing reaches the server.
  check_match "[$who] ... an address no allowed name gave is refused (reset after the handshake)" '^rc=56$' "$(sed -n 2p <<< "$OUT")"
  check_match "[$who] ... another name does not resolve" '^dig=0$' "$(sed -n 3p <<< "$OUT")"
  check_eq "[$who] ... UDP to it gets nothing back" "" "$(grep -x x <<< "$OUT")"
  check_output_eq "[$who] ... the flow log: the allowed flow and the denials with their codes" \
    "flow_open allowed-name web.lab.test (--allow)
denied not-allowed 
denied not-allowed " \
    python3 -c "
import json, sys
for line in open('$log'):
    e = json.loads(line)
    if e['event'] in ('flow_open', 'denied') and e.get('protocol') in ('tcp', 'udp') :
        print(e['event'], e.get('policy', ''), e.get('rule', ''))
"
  check_match "[$who] ... the DNS refusal is logged" '"event":"denied".*"protocol":"dns".*"policy":"not-allowed"' "$(cat "$log")"

  # --- wildcard, CIDR, deny beats allow
  run np --as "$who" --allow '*.lab.test' -- sh -c \
    "curl -fsS -m 10 http://web.lab.test/whoami; curl -sS -m 10 http://203.0.113.11/whoami; echo rc=\$?"
  check_match "[$who] --allow '*.lab.test': a subdomain works" '^203\.0\.113\.10$' "$(sed -n 1p <<< "$OUT")"
  check_match "[$who] ... a bare address is refused (reset after the handshake)" '^rc=56$' "$(sed -n 2p <<< "$OUT")"
  run np --as "$who" --allow 203.0.113.10/32 -- sh -c \
    "curl -fsS -m 10 http://web.lab.test/whoami; curl -sS -m 10 http://203.0.113.11/whoami; echo rc=\$?"
  check_match "[$who] --allow 203.0.113.10/32: names still resolve, the address is reached" '^203\.0\.113\.10$' "$(sed -n 1p <<< "$OUT")"
  check_match "[$who] ... another address is refused" '^rc=7$' "$(sed -n 2p <<< "$OUT")"
  run np --as "$who" --allow '*.lab.test' --deny web.lab.test -- sh -c \
    "curl -sS -m 10 http://web.lab.test/whoami; echo rc=\$?; curl -fsS -m 10 --resolve alt.lab.test:80:203.0.113.11 http://alt.lab.test/whoami; echo rc=\$?"
  check_match "[$who] --deny beats --allow: the denied name does not resolve (exit 6)" '^rc=6$' "$(sed -n 1p <<< "$OUT")"

  # --- --fail-on-leak
  run np --as "$who" --allow web.lab.test --fail-on-leak -- sh -c \
    "curl -fsS -m 10 -o /dev/null http://web.lab.test/whoami; curl -sS -m 10 http://203.0.113.11/ 2> /dev/null; exit 0"
  check_eq "[$who] --fail-on-leak: a denial makes the status 1" 1 "$RC"
  check_match "[$who] ... and says why" '^netpen: error: --fail-on-leak' "$ERR"
  run np --as "$who" --allow web.lab.test --fail-on-leak -- curl -fsS -m 10 -o /dev/null http://web.lab.test/whoami
  check_eq "[$who] --fail-on-leak: no denial, status 0" 0 "$RC"
done

# Encrypted DNS (here DNS over TLS: port 853) bypasses name policy: a warning.
# (curl's own error goes elsewhere: two writers on one stderr can interleave.)
run np --default-policy allow -- sh -c 'curl -sS -m 5 http://web.lab.test:853/ 2> /dev/null'
check_match "a flow to port 853 under a policy: a warning about DNS over TLS" \
  '^netpen: warning: tcp .*\(203\.0\.113\.10:853\): DNS over TLS' "$ERR"

# A bad entry in an allow file: one error line with file and line, nothing runs.
printf 'web.lab.test\nbad entry!\n' > "$LAB_TMP/allow.txt"
rm -f "$LAB_TMP/ran"
run np --allow-file "$LAB_TMP/allow.txt" -- touch "$LAB_TMP/ran"
check_eq "--allow-file with a bad entry: usage error" 2 "$RC"
check_match "... naming the file and line" "allow\.txt:2" "$ERR"
check "... the command never ran" test ! -e "$LAB_TMP/ran"

e2e_finish
