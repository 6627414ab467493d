#!/usr/bin/env bash
# e2e: 50,000 TCP connections held open through one netpen at once, as each
# test user in turn. Each connection is checked with an echoed line when it
# opens and again after the others were opened; meanwhile 200 new
# connections (curl, Connection: close) still succeed, and netpen's resident
# memory stays within 500 MB. The echo server (tests/tools/flowhold.py serve)
# runs in the lab's inet node on several ports: a client has 28,232
# ephemeral ports per destination address and port (32768-60999), in the
# sandbox and for netpen's host sockets alike, so the connections are
# spread over ports, at most 12,500 to each, and every port has its own
# client and server process (a process's descriptors are capped by its hard
# RLIMIT_NOFILE). Rootless netpen holds one host socket per connection in
# one process: where the hard limit cannot be raised above the flows (root
# without CAP_SYS_RESOURCE, as in some containers), or the machine lacks the
# memory, the suite holds as many as it can and says why.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

FLOWS=${NETPEN_SCALE_FLOWS:-50000}
RSS_LIMIT_MB=500
PORT=7100
TOOL=$E2E_SRC/tests/tools/flowhold.py
# Memory a held connection takes on this machine, all sides together (the
# client's and the echo server's Python objects, four kernel sockets,
# netpen's flow): about 20 KB; 64 KB keeps room for the rest of the machine.
PER_FLOW_KB=64

netpen_rss_kb() { # netpen_rss_kb MARKER: VmRSS of the netpen whose argv has MARKER
  local pid kb best=""
  for pid in $(pgrep -x netpen); do
    tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF -- "$1" || continue
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2> /dev/null)
    [[ -n $kb ]] && { [[ -z $best ]] || ((kb > best)); } && best=$kb
  done
  [[ -n $best ]] && echo "$best"
}

# The lab's limits: one descriptor per connection in netpen (rootless; it and
# flowhold raise their soft limits to the hard one set here), and memory.
fds=$((FLOWS + 4096))
((fds >= 65536)) || fds=65536
ulimit -Hn "$fds" 2> /dev/null
ulimit -n "$(ulimit -Hn)" || e2e_die "cannot raise the soft open-file limit"
hard=$(ulimit -Hn)
if ! is_rootful && ((FLOWS + 500 > hard)); then
  echo "# the lab can hold only $((hard - 500)) of $FLOWS flows through rootless netpen: it holds a host socket"
  echo "# a flow in one process, whose open-file hard limit is $hard here (raising it needs CAP_SYS_RESOURCE)"
  FLOWS=$((hard - 500))
fi
avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
if ((FLOWS * PER_FLOW_KB > avail_kb)); then
  echo "# the lab can hold only $((avail_kb / PER_FLOW_KB)) of $FLOWS flows: $((avail_kb / 1024)) MB available, ~$PER_FLOW_KB KB a flow"
  FLOWS=$((avail_kb / PER_FLOW_KB))
fi
per_port=$((hard - 500))
((per_port <= 12500)) || per_port=12500
PORTS=$(((FLOWS + per_port - 1) / per_port))
((PORTS >= 4)) || PORTS=4

lab_spawn "$E2E_LAB" inet scale-echo python3 "$TOOL" serve 203.0.113.10 "$PORT" "$PORTS"
# shellcheck disable=SC2317 # called through wait_for
echo_listening() {
  [[ $(ip netns exec "$(lab_ns "$E2E_LAB" inet)" ss -Htln "sport >= :$PORT and sport < :$((PORT + PORTS))" | wc -l) == "$PORTS" ]]
}
if wait_for 10 echo_listening; then
  ok "the lab's echo server listens on $PORTS ports"
else
  not_ok "the lab's echo server listens on $PORTS ports"
fi

# shellcheck disable=SC2317 # called through wait_for
curl_done() { [[ $(grep -c '^200$' "$1" 2> /dev/null) == 200 ]]; }

# hold_as USER: FLOWS connections through one netpen run as USER, 200 curl
# requests while they are held, netpen's RSS meanwhile.
hold_as() {
  local who=$1 ready=$LAB_TMP/scale-$1.ready release=$LAB_TMP/scale-$1.release out=$LAB_TMP/scale-$1.out
  local curl=$LAB_TMP/scale-$1.curl start=$SECONDS rss np_pid rc
  # While the flows are held: 200 new connections, one per request.
  np_argv --as "$who" -- sh -c "python3 '$TOOL' hold web.lab.test $PORT $FLOWS --ports $PORTS --ready '$ready' \
      --release '$release' --timeout 120 &
    while [ ! -e '$ready' ]; do sleep 0.2; done
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Connection: close' 'http://web.lab.test/?[1-200]' > '$curl'
    wait \$!"
  timeout -k 5 280 "${E2E_ARGV[@]}" > "$out" 2>&1 < /dev/null &
  np_pid=$!
  if wait_for 150 test -e "$ready"; then
    echo "# $who: $FLOWS flows open after $((SECONDS - start)) s"
    ok "$who: all $FLOWS connections opened"
  else
    not_ok "$who: all $FLOWS connections opened (no ready file after 150 s)"
  fi
  # Idle rings give their memory back after 2 s; then read netpen's RSS.
  sleep 4
  rss=$(netpen_rss_kb "$ready")
  echo "# $who: netpen RSS with $FLOWS flows held: ${rss:-?} kB"
  if [[ -n $rss ]] && ((rss <= RSS_LIMIT_MB * 1024)); then
    ok "$who: netpen's RSS with $FLOWS flows held is at most $RSS_LIMIT_MB MB"
  else
    not_ok "$who: netpen's RSS with $FLOWS flows held is at most $RSS_LIMIT_MB MB (got ${rss:-nothing} kB)"
  fi
  if wait_for 60 curl_done "$curl"; then
    ok "$who: 200 new connections during the hold all got 200"
  else
    not_ok "$who: 200 new connections during the hold all got 200 ($(grep -c '^200$' "$curl" 2> /dev/null))"
  fi
  touch "$release"
  wait "$np_pid"
  rc=$?
  echo "# $who: took $((SECONDS - start)) s"
  check_eq "$who: netpen exits 0 after the hold" 0 "$rc"
  OUT=$(cat "$out")
  check_match "$who: every connection was established and echoed" "^established $FLOWS/$FLOWS " "$OUT"
  check_match "$who: every connection still worked after all were open" "^still $FLOWS/$FLOWS " "$OUT"
}

for user in $(e2e_users); do
  hold_as "$user"
done

e2e_finish
