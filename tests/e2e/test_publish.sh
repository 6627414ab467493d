#!/usr/bin/env bash
# e2e: --publish [ADDR:][HOST_PORT:]PORT[/udp] makes a server inside the
# sandbox reachable from the host (docs/host-access.md). Real servers run
# under netpen in the lab's host node, in the background, until the test
# touches their stop file; real clients on the host node (and on the lab's
# router, the "other machine"). Checked, as root and as the user (and under
# --root with NETPEN_E2E_BACKEND=rootful):
#   - a server on 0.0.0.0, on 127.0.0.1 and on :: answers on the host's
#     127.0.0.1:HOST_PORT (the last two under --offline: the policy does
#     not apply to inbound flows); on the child's address the server sees
#     the gateway as its client (through the tap, or routed under --root);
#   - a few MB arrive intact (sha256);
#   - a UDP echo server published with /udp answers: on 0.0.0.0 to the
#     gateway, on 127.0.0.1 or ::1 over the sandbox's loopback (the first
#     datagram refused by ICMP, then sent again there);
#   - the flow log holds the inbound flow (direction, host client, port);
#   - by default only the host's loopback listens (the router cannot
#     connect), an explicit ADDR exposes the port there;
#   - rootless: a SYN the sandbox rejects with an ICMP error (an nft rule
#     the command adds) is refused at once and the server is reached over
#     the sandbox's loopback without waiting out the SYN's retries;
#   - --root: the tree's table accepts new connections only to published
#     ports (another port of the tree is refused from the host at once);
#   - a host port already taken: exit 1 before the command ran;
#   - bad syntax: exit 2.
# Every wait is bounded: the servers stop by themselves after 60 s, the
# listener is polled for at most 15 s, netpen's exit waited for 15 s.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ${NETPEN_E2E_DIRECT:-0} == 1 ]]; then
  echo "# SKIP: --publish is netpen's own (nothing to compare in direct mode)"
  exit 77
fi
e2e_setup

PORT_IN=8000 PORT_UDP=5353
HOST_PORT=18080 HOST_PORT_ADDR=18081 HOST_PORT_UDP=15353 HOST_PORT_TAKEN=18099
WWW=$LAB_TMP/www-publish

if ! { mkdir -p "$WWW" && echo publish-index > "$WWW/index.html" &&
  head -c 4000000 /dev/urandom > "$WWW/bulk.bin" && chmod -R a+rX "$WWW"; }; then
  e2e_die "cannot write $WWW"
fi
BULK_SHA=$(sha256sum "$WWW/bulk.bin" | cut -d' ' -f1)

# until-stop.sh STOP CMD...: runs CMD until the file STOP exists (at most 60 s).
cat > "$LAB_TMP/until-stop.sh" << 'EOF'
#!/bin/sh
stop=$1
shift
"$@" &
server=$!
i=0
while [ ! -e "$stop" ] && [ "$i" -lt 600 ] && kill -0 "$server" 2> /dev/null; do
  sleep 0.1
  i=$((i + 1))
done
kill "$server" 2> /dev/null
wait "$server"
exit 0
EOF
# udp-echo.py ADDR PORT: answers each datagram with "echo:" + it, and prints
# the sender's address on stderr.
cat > "$LAB_TMP/udp-echo.py" << 'EOF'
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(65535)
    print("from", peer[0], file=sys.stderr, flush=True)
    s.sendto(b"echo:" + data, peer)
EOF
chmod a+rx "$LAB_TMP/until-stop.sh" "$LAB_TMP/udp-echo.py" || e2e_die "cannot write the helper scripts"
# A host port someone else has (on the host node's loopback).
lab_spawn "$E2E_LAB" host taken python3 -m http.server --bind 127.0.0.1 "$HOST_PORT_TAKEN"
wait_for 10 in_host curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$HOST_PORT_TAKEN/" 2> /dev/null ||
  e2e_die "the lab server on 127.0.0.1:$HOST_PORT_TAKEN did not come up"

# The gateway as the server sees it: rootless 10.248.0.1, --root the run's
# veth address in 10.249.0.0/16 (IPv4-mapped on a :: socket).
GATEWAY_RE='^(::ffff:)?10\.24[89]\.[0-9]+\.[0-9]+$'

# serve_start WHO TAG NETPEN-OPTIONS... -- CMD...: netpen in the background
# (as WHO) running CMD until serve_stop TAG; its stdout and stderr in
# $LAB_TMP/TAG.out and TAG.err.
serve_start() {
  local who=$1 tag=$2
  shift 2
  local -a opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  rm -f "$LAB_TMP/stop-$tag"
  np_argv --as "$who" "${opts[@]}" -- "$LAB_TMP/until-stop.sh" "$LAB_TMP/stop-$tag" "$@"
  timeout -k 5 90 "${E2E_ARGV[@]}" > "$LAB_TMP/$tag.out" 2> "$LAB_TMP/$tag.err" < /dev/null &
  SERVE_PID=$!
}
# serve_stop TAG: the server stops, netpen exits (bounded); SERVE_RC its status.
serve_stop() {
  touch "$LAB_TMP/stop-$1"
  wait_for 15 eval "! kill -0 $SERVE_PID 2> /dev/null" || kill -KILL "$SERVE_PID" 2> /dev/null
  wait "$SERVE_PID"
  SERVE_RC=$?
}
# http_up URL: the published server answers (polled for at most 15 s).
http_up() { wait_for 15 in_host curl -fsS -m 1 -o /dev/null "$1" 2> /dev/null; }
# clients TAG: the client addresses in the http.server's log lines (also
# a command for `run` and the checks).
# shellcheck disable=SC2016 # expanded by the inner sh
clients_argv() { E2E_ARGV=(sh -c 'sed -n "s/^\([0-9a-f.:]*\) - - \[.*/\1/p" "$1" | sort -u' clients "$LAB_TMP/$1.err"); }
clients() { clients_argv "$@" && "${E2E_ARGV[@]}"; }
# udp_ask TEXT: one datagram to the published UDP port, its answer (1 s).
# shellcheck disable=SC2317 # called by `run` and wait_for
udp_ask_argv() {
  in_host_argv python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(sys.argv[1].encode(), ('127.0.0.1', int(sys.argv[2])))
print(s.recvfrom(65535)[0].decode())
" "$1" "$HOST_PORT_UDP"
}
# shellcheck disable=SC2317 # called by wait_for
udp_ask() { udp_ask_argv "$@" && "${E2E_ARGV[@]}" 2> /dev/null; }
# inbound_events LOG: "OPEN|CLOSE SRC_ADDR -> PORT" for each inbound flow event.
inbound_events() {
  python3 -c "
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get('direction') == 'inbound' and e.get('event') in ('flow_open', 'flow_close'):
        print(e['event'], e.get('protocol'), e.get('src', '').rsplit(':', 1)[0], '->', e.get('dst', '').rsplit(':', 1)[1])
" "$1" 2> /dev/null
}

for who in $(e2e_users); do
  # --- TCP, a server on every address --------------------------------
  tag=pub-any-$who log=$LAB_TMP/$tag.jsonl
  rm -f "$log"
  serve_start "$who" "$tag" --publish "$HOST_PORT:$PORT_IN" --log "$log" -- \
    python3 -m http.server "$PORT_IN" --bind 0.0.0.0 --directory "$WWW"
  if http_up "http://127.0.0.1:$HOST_PORT/"; then ok "[$who] 0.0.0.0: the published server listens"
  else not_ok "[$who] 0.0.0.0: the published server listens" "$(cat "$LAB_TMP/$tag.err")"; fi
  check_output_eq "[$who] 0.0.0.0: curl on the host's 127.0.0.1:$HOST_PORT gets the file" publish-index \
    in_host curl -fsS -m 10 "http://127.0.0.1:$HOST_PORT/index.html"
  run in_host sh -c "curl -fsS -m 30 http://127.0.0.1:$HOST_PORT/bulk.bin | sha256sum"
  check_eq "[$who] 0.0.0.0: 4 MB arrive intact (sha256)" "$BULK_SHA  -" "$OUT"
  run in_host curl -sS -m 5 "http://198.51.100.2:$HOST_PORT/"
  if ((RC != 0)) && [[ $OUT != *publish-index* ]]; then ok "[$who] by default only the host's loopback listens"
  else not_ok "[$who] by default only the host's loopback listens"; fi
  run "$E2E_SRC/scripts/lab" exec "$E2E_LAB" router -- curl -sS -m 5 "http://198.51.100.2:$HOST_PORT/"
  if ((RC != 0)) && [[ $OUT != *publish-index* ]]; then ok "[$who] ... the lab's other node cannot connect"
  else not_ok "[$who] ... the lab's other node cannot connect"; fi
  serve_stop "$tag"
  check_eq "[$who] 0.0.0.0: netpen ends with the server" 0 "$SERVE_RC"
  check_match "[$who] 0.0.0.0: the server sees the gateway as its client" "$GATEWAY_RE" "$(clients "$tag")"
  check_no_match "[$who] 0.0.0.0: ... never the host's 127.0.0.1" '^127\.0\.0\.1$' clients "$tag"
  if netpen_only "[$who] the flow log holds the inbound flow"; then
    check_match "[$who] the flow log holds the inbound flow (open)" \
      "^flow_open tcp 127\.0\.0\.1 -> $PORT_IN\$" "$(inbound_events "$log")"
    check_match "[$who] ... and its close" "^flow_close tcp 127\.0\.0\.1 -> $PORT_IN\$" "$(inbound_events "$log")"
  fi

  # --- TCP, a server on loopback only, and on :: ----------------------
  for bind in 127.0.0.1 ::; do
    tag=pub-$bind-$who
    tag=${tag//:/6}
    # (under --offline: the policy does not apply to inbound flows)
    serve_start "$who" "$tag" --offline --publish "$HOST_PORT:$PORT_IN" -- \
      python3 -m http.server "$PORT_IN" --bind "$bind" --directory "$WWW"
    if http_up "http://127.0.0.1:$HOST_PORT/"; then ok "[$who] $bind: the published server listens"
    else not_ok "[$who] $bind: the published server listens" "$(cat "$LAB_TMP/$tag.err")"; fi
    check_output_eq "[$who] $bind: curl on the host's 127.0.0.1:$HOST_PORT gets the file" publish-index \
      in_host curl -fsS -m 10 "http://127.0.0.1:$HOST_PORT/index.html"
    serve_stop "$tag"
    if [[ $bind == 127.0.0.1 ]]; then
      check_match "[$who] $bind: reached over the sandbox's own loopback" '^127\.0\.0\.1$' "$(clients "$tag")"
    else
      check_match "[$who] $bind: the server sees the gateway as its client" "$GATEWAY_RE" "$(clients "$tag")"
    fi
  done

  # --- rootless: a SYN the sandbox rejects with ICMP falls back at once -----
  # (the command, root in its user namespace with --map-root, adds a reject
  # rule for the tap; the server on 0.0.0.0 is then reached over the sandbox's loopback
  # without waiting out the SYN's retries. --root: the kernel's own socket
  # sees the ICMP error, nothing of netpen's to check; and the user's
  # command there has no CAP_NET_ADMIN.)
  if ! is_rootful; then
    tag=pub-reject-$who
    map_root=(--map-root)
    is_map_root && map_root=() # np adds it
    serve_start "$who" "$tag" "${map_root[@]}" --publish "$HOST_PORT:$PORT_IN" -- sh -c "
      nft add table inet np_reject && nft add chain inet np_reject in '{ type filter hook input priority 0; }' &&
        nft add rule inet np_reject in iifname tap0 tcp dport $PORT_IN reject with icmpx type admin-prohibited ||
        { echo 'nft failed' >&2; exit 1; }
      exec python3 -m http.server $PORT_IN --bind 0.0.0.0 --directory $WWW"
    if http_up "http://127.0.0.1:$HOST_PORT/"; then ok "[$who] rejected SYN: the published server listens"
    else not_ok "[$who] rejected SYN: the published server listens" "$(cat "$LAB_TMP/$tag.err")"; fi
    start=$(date +%s%N)
    check_output_eq "[$who] rejected SYN: curl on the host gets the file" publish-index \
      in_host curl -fsS -m 10 "http://127.0.0.1:$HOST_PORT/index.html"
    took_ms=$((($(date +%s%N) - start) / 1000000))
    if ((took_ms < 2000)); then ok "[$who] rejected SYN: ... at once (${took_ms} ms), not after the SYN's retries"
    else not_ok "[$who] rejected SYN: ... at once, not after the SYN's retries" "took ${took_ms} ms"; fi
    serve_stop "$tag"
    check_match "[$who] rejected SYN: reached over the sandbox's own loopback" '^127\.0\.0\.1$' "$(clients "$tag")"
  fi

  # --- an explicit ADDR exposes the port there --------------------------
  tag=pub-addr-$who
  serve_start "$who" "$tag" --publish "198.51.100.2:$HOST_PORT_ADDR:$PORT_IN" -- \
    python3 -m http.server "$PORT_IN" --bind 0.0.0.0 --directory "$WWW"
  if http_up "http://198.51.100.2:$HOST_PORT_ADDR/"; then ok "[$who] ADDR: the published server listens there"
  else not_ok "[$who] ADDR: the published server listens there" "$(cat "$LAB_TMP/$tag.err")"; fi
  check_output_eq "[$who] ADDR: the lab's other node reaches it" publish-index \
    "$E2E_SRC/scripts/lab" exec "$E2E_LAB" router -- curl -fsS -m 10 "http://198.51.100.2:$HOST_PORT_ADDR/index.html"
  serve_stop "$tag"

  # --- UDP, a server on every address, on 127.0.0.1 and on ::1 -------------
  # (on loopback only: the sandbox refuses the first datagram with an ICMP
  # port unreachable, the flow moves to its loopback and sends it again)
  for bind in 0.0.0.0 127.0.0.1 ::1; do
    tag=pub-udp-$bind-$who
    tag=${tag//:/6}
    serve_start "$who" "$tag" --publish "$HOST_PORT_UDP:$PORT_UDP/udp" -- \
      python3 "$LAB_TMP/udp-echo.py" "$bind" "$PORT_UDP"
    if wait_for 15 udp_ask probe > /dev/null; then ok "[$who] udp $bind: the published echo server answers"
    else not_ok "[$who] udp $bind: the published echo server answers" "$(cat "$LAB_TMP/$tag.err")"; fi
    check_output_eq "[$who] udp $bind: a datagram from the host's client gets its echo" echo:hello-udp \
      udp_ask hello-udp
    serve_stop "$tag"
    case $bind in
      0.0.0.0) want=$GATEWAY_RE what="the server sees the gateway" ;;
      127.0.0.1) want='^127\.0\.0\.1$' what="reached over the sandbox's own loopback" ;;
      *) want='^::1$' what="reached over the sandbox's own ::1" ;;
    esac
    check_match "[$who] udp $bind: $what" "$want" "$(sed -n 's/^from //p' "$LAB_TMP/$tag.err" | sort -u)"
  done

  # --- --root: the tree accepts new connections only to published ports ---
  if is_rootful; then
    tag=pub-tree-$who
    # (the tree writes its address for the test; two servers, one published)
    serve_start "$who" "$tag" --publish "$HOST_PORT:$PORT_IN" -- sh -c "
      ip -4 -o addr show dev eth0 | sed -n 's|.* inet \\([0-9.]*\\)/.*|\\1|p' > $LAB_TMP/$tag.addr
      python3 -m http.server $((PORT_IN + 1)) --bind 0.0.0.0 --directory $WWW &
      exec python3 -m http.server $PORT_IN --bind 0.0.0.0 --directory $WWW"
    http_up "http://127.0.0.1:$HOST_PORT/" || not_ok "[$who] --root: the published server listens"
    tree=$(cat "$LAB_TMP/$tag.addr" 2> /dev/null)
    if [[ $tree =~ ^10\.249\. ]]; then
      start=$(date +%s)
      run in_host curl -sS -m 10 "http://$tree:$((PORT_IN + 1))/"
      if ((RC != 0)) && [[ $OUT != *publish-index* ]] && (($(date +%s) - start < 3)); then
        ok "[$who] --root: an unpublished port of the tree is refused from the host, at once"
      else not_ok "[$who] --root: an unpublished port of the tree is refused from the host, at once"; fi
    else
      not_ok "[$who] --root: the tree's address was written" "got '$tree'"
    fi
    check_output_eq "[$who] --root: the published one still answers" publish-index \
      in_host curl -fsS -m 10 "http://127.0.0.1:$HOST_PORT/index.html"
    serve_stop "$tag"
  fi

  # --- a taken host port, bad syntax --------------------------------------
  rm -f "$LAB_TMP/ran-$who"
  check_status "[$who] a host port already taken: exit 1" 1 \
    np --as "$who" --publish "$HOST_PORT_TAKEN:$PORT_IN" -- touch "$LAB_TMP/ran-$who"
  check_match "[$who] ... with a clear error" '^netpen: error: .*already in use \[publish-port-taken\]$' "$ERR"
  if [[ -e $LAB_TMP/ran-$who ]]; then not_ok "[$who] ... before the command ran"
  else ok "[$who] ... before the command ran"; fi
  check_status "[$who] bad --publish syntax: exit 2" 2 np --as "$who" --publish 80/sctp -- true
done
e2e_finish
