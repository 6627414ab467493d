#!/usr/bin/env bash
# e2e: 10,000 TCP connections held open through one netpen at once. Each is
# checked with an echoed line when it opens and again after the others were
# opened; meanwhile 200 new connections (curl, Connection: close) still
# succeed, and netpen's resident memory stays within 200 MB. The echo
# server (tests/tools/flowhold.py serve) runs in the lab's inet node.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

FLOWS=${NETPEN_SCALE_FLOWS:-10000}
RSS_LIMIT_KB=$((200 * 1024))
PORT=7100
TOOL=$E2E_SRC/tests/tools/flowhold.py

netpen_rss_kb() { # netpen_rss_kb MARKER: VmRSS of the netpen whose argv has MARKER
  local pid
  for pid in $(pgrep -x netpen); do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF -- "$1"; then
      awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"
      return 0
    fi
  done
  return 1
}

# Room for 10,000 sockets on each side (netpen raises its soft limit to
# this; the client raises its own).
ulimit -Hn 65536 2> /dev/null && ulimit -n 65536

curl_done() { [[ $(grep -c '^200$' "$LAB_TMP/scale.curl" 2> /dev/null) == 200 ]]; }

lab_spawn "$E2E_LAB" inet scale-echo python3 "$TOOL" serve 203.0.113.10 "$PORT"
echo_listening() { ip netns exec "$(lab_ns "$E2E_LAB" inet)" ss -Htln "sport = :$PORT" | grep -q .; }
if wait_for 10 echo_listening; then ok "the lab's echo server listens"; else not_ok "the lab's echo server listens"; fi

ready=$LAB_TMP/scale.ready
release=$LAB_TMP/scale.release
out=$LAB_TMP/scale.out
start=$SECONDS
# While the flows are held: 200 new connections, one per request.
np_argv -- sh -c "python3 '$TOOL' hold web.lab.test $PORT $FLOWS --ready '$ready' --release '$release' --timeout 90 &
  while [ ! -e '$ready' ]; do sleep 0.2; done
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Connection: close' 'http://web.lab.test/?[1-200]' > '$LAB_TMP/scale.curl'
  wait \$!"
timeout -k 5 240 "${E2E_ARGV[@]}" > "$out" 2>&1 < /dev/null &
np_pid=$!

if wait_for 120 test -e "$ready"; then
  echo "# $FLOWS flows open after $((SECONDS - start)) s"
  ok "all $FLOWS connections opened"
else
  not_ok "all $FLOWS connections opened (no ready file after 120 s)"
fi
# Idle rings give their memory back after 2 s; then read netpen's RSS.
sleep 4
rss=$(netpen_rss_kb "$ready")
echo "# netpen RSS with $FLOWS flows held: ${rss:-?} kB"
if [[ -n $rss ]] && ((rss <= RSS_LIMIT_KB)); then
  ok "netpen's RSS with $FLOWS flows held is at most 200 MB"
else
  not_ok "netpen's RSS with $FLOWS flows held is at most 200 MB (got ${rss:-nothing} kB)"
fi
if wait_for 60 curl_done; then
  ok "200 new connections during the hold all got 200"
else
  not_ok "200 new connections during the hold all got 200 ($(grep -c '^200$' "$LAB_TMP/scale.curl" 2> /dev/null))"
fi
touch "$release"
wait "$np_pid"
rc=$?
echo "# took $((SECONDS - start)) s"
check_eq "netpen exits 0 after the hold" 0 "$rc"
OUT=$(cat "$out")
check_match "every connection was established and echoed" "^established $FLOWS/$FLOWS " "$OUT"
check_match "every connection still worked after all were open" "^still $FLOWS/$FLOWS$" "$OUT"

e2e_finish
