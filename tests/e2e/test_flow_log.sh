#!/usr/bin/env bash
# e2e: the flow log and live lines say what happened (issue 20, section 8).
# TCP closes carry the real end: a connection the server closes first
# (netpen's side goes through TIME_WAIT) ends after milliseconds, as
# "closed", also when the run ends a second later while the connection
# lingers; a connection the client closes first too. run_start keeps the
# command's argv and shows it shell-quoted, and lists "dns" only when --dns
# chose it. A refused name shows each question's type, the same rule once,
# and --fail-on-leak counts it once. Every DNS answer names the process its
# question named. A literal-address flow keeps its name (none) from OPEN to
# CLOSE. `netpen report` says the same DNS totals as text and Markdown. As
# root and as the unprivileged user; under --root too.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "flow log checks" "netpen-only"
  e2e_finish
fi

# tcp_close LOG: "END DURATION_MS" of the log's TCP flow_close to web (port 80).
tcp_close() {
  python3 -c "
import json, sys
c = [e for e in map(json.loads, open(sys.argv[1])) if e['event'] == 'flow_close' and e.get('dst') == '203.0.113.10:80']
print(' '.join('%s %d' % (e['end'], e['duration_ms']) for e in c) or 'none')" "$1"
}
# quick_close DESC LOG: one TCP close, "closed", in under 500 ms.
quick_close() {
  local got
  got=$(tcp_close "$2")
  if [[ $got =~ ^closed\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] < 500)); then ok "$1"
  else not_ok "$1" "expected one 'closed' close in under 500 ms, got: $got"; fi
}

for who in $(e2e_users); do
  # The server closes first (Connection: close): netpen's side of the
  # child's connection lingers in TIME_WAIT; the run goes on past it, or
  # ends while it lingers.
  for after in 2.5 1; do
    log=$LAB_TMP/close-$who-$after.jsonl
    rm -f "$log"
    run np --as "$who" --log "$log" -- sh -c \
      "curl -fsS -m 20 -H 'Connection: close' -o /dev/null http://web.lab.test/whoami; sleep $after"
    check_eq "[$who] server closes first, then sleep $after: the run succeeds" 0 "$RC"
    quick_close "[$who] ... flow_close says closed, with the connection's own duration" "$log"
  done
  log=$LAB_TMP/close-$who-client.jsonl
  rm -f "$log"
  run np --as "$who" --log "$log" -- sh -c "curl -fsS -m 20 -o /dev/null http://web.lab.test/whoami; sleep 1"
  quick_close "[$who] client closes first, then sleep 1: closed, its own duration" "$log"

  # run_start: the argv, the command shell-quoted, no dns without --dns.
  check_output_eq "[$who] run_start keeps the argv and quotes the command" \
    "['sh', '-c', 'curl -fsS -m 20 -o /dev/null http://web.lab.test/whoami; sleep 1'] | sh -c 'curl -fsS -m 20 -o /dev/null http://web.lab.test/whoami; sleep 1'" \
    python3 -c "
import json
s = json.loads(open('$log').readline())
print(s.get('argv'), '|', s['command'])"
  check_output_eq "[$who] run_start.controls: no dns without --dns" "[]" \
    python3 -c "import json; print(json.loads(open('$log').readline())['controls'])"
  log=$LAB_TMP/dns-$who.jsonl
  rm -f "$log"
  run np --as "$who" --dns 203.0.113.54 --log "$log" -- true
  check_output_eq "[$who] ... and dns with --dns" "['dns 203.0.113.54:53']" \
    python3 -c "import json; print(json.loads(open('$log').readline())['controls'])"

  # A refused name: its questions with their types, the rule once, one attempt.
  # curl stays silent: its error, written to the same stderr in several
  # pieces, can land inside netpen's line and break it up.
  run np --as "$who" --deny nothing.lab.test --fail-on-leak -- sh -c \
    'curl -s -m 10 -o /dev/null http://nothing.lab.test/; exit 0'
  check_eq "[$who] --fail-on-leak: a refused name fails the run" 1 "$RC"
  check_match "[$who] the denied line names the question's type" \
    '^netpen: denied: dns nothing\.lab\.test (A|AAAA): ' "$ERR"
  check_eq "[$who] ... and the rule once" "" "$(grep -E 'deny rule nothing\.lab\.test \(--deny\) \[deny-rule nothing' <<< "$ERR")"
  check_match "[$who] ... one attempt for one name" 'fail-on-leak: 1 attempt' "$ERR"

  # Every DNS answer names the process of its question; a literal-address
  # flow keeps the name it opened with, though the tree looks one up for
  # that address meanwhile.
  log=$LAB_TMP/names-$who.jsonl
  rm -f "$log"
  run np --as "$who" --analyse --log "$log" -- sh -c \
    'curl -fsS -m 20 -o /dev/null --limit-rate 1M -r 0-1999999 http://203.0.113.10/big.bin & sleep 0.5;
     curl -fsS -m 20 -o /dev/null http://web.lab.test/whoami; wait; sleep 0.3'
  check_eq "[$who] literal address and name: both curls succeed" 0 "$RC"
  live=$ERR
  check_output_eq "[$who] every DNS answer names the process its question named" "2 alike" python3 -c "
import json
ev = list(map(json.loads, open('$log')))
q = {(e['src'], e['query_type']): e.get('process') for e in ev if e['event'] == 'dns_query'}
a = [(e.get('process'), q.get((e['src'], e['query_type']), 'no question')) for e in ev if e['event'] == 'dns_answer']
print('%d alike' % len(a) if all(x == y for x, y in a) else 'differ: %s' % a)"
  check_output_eq "[$who] the literal-address flow: no name on open or close" "open - | close -" python3 -c "
import json
ev = [e for e in map(json.loads, open('$log')) if e.get('dst') == '203.0.113.10:80' and e['event'] in ('flow_open', 'flow_close')
      and e.get('bytes_in', 2000000) >= 1000000]
o = [e.get('name', '-') for e in ev if e['event'] == 'flow_open']
c = [e.get('name', '-') for e in ev if e['event'] == 'flow_close' and e['bytes_in'] >= 1000000]
print('open', o[0] if o else 'none', '| close', c[0] if c else 'none')"
  check_match "[$who] --analyse: its CLOSE line shows the address as OPEN did" \
    'CLOSE +tcp +[0-9.:]+ +-> 203\.0\.113\.10:80  (GET [^ ]+  )?closed' "$live"

  # report: the text and Markdown DNS totals agree.
  run "$E2E_NETPEN" report "$log"
  text_dns=$(sed -n 's/^dns: //p' <<< "$OUT")
  run "$E2E_NETPEN" report "$log" --format markdown
  md_dns=$(grep -A2 '^### DNS' <<< "$OUT" | sed -n '3s/\.$//p')
  if [[ -n $text_dns && $text_dns == "$md_dns" ]]; then ok "[$who] report: text and Markdown say the same DNS totals ($text_dns)"
  else not_ok "[$who] report: text and Markdown say the same DNS totals" "text: '$text_dns' markdown: '$md_dns'"; fi
done
e2e_finish
