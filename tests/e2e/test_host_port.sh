#!/usr/bin/env bash
# e2e: --host-port (docs/host-access.md). Servers on the lab host node's
# loopback (HTTP on 127.0.0.1 only, HTTP on ::1 only, a range, a UDP echo
# server on 127.0.0.1, one more on 127.0.0.1:53) are reached from inside
# at 127.0.0.1, [::1] and the gateway address, each family falling back to
# the other; an unlisted port is refused at once and its server never sees
# the request; --offline and a deny-by-default policy do not affect listed
# ports (and still refuse the rest); the flow log and --analyse tag the
# flows "via host-port"; UDP 53 reaches the host's loopback at 127.0.0.1
# while the gateway's 53 stays the forced DNS; --dry-run shows the ports;
# bad values are usage errors. As root and as the user; under
# NETPEN_E2E_BACKEND=rootful the same with --root.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

P4=8281 P6=8282 PX=8283 R0=8290 R1=8291 U=5301
for tag in v4 v6 unlisted r0 r1; do
  if ! { mkdir -p "$LAB_TMP/www-$tag" && echo "hp-$tag" > "$LAB_TMP/www-$tag/index.html"; }; then
    e2e_die "cannot write $LAB_TMP/www-$tag"
  fi
  chmod -R a+rX "$LAB_TMP/www-$tag"
done
serve() { # serve TAG ADDR PORT: an HTTP server in the lab's host node
  lab_spawn "$E2E_LAB" host "hp-$1" python3 -m http.server --bind "$2" --directory "$LAB_TMP/www-$1" "$3"
}
serve v4 127.0.0.1 "$P4"
serve v6 ::1 "$P6"
serve unlisted 127.0.0.1 "$PX"
serve r0 127.0.0.1 "$R0"
serve r1 127.0.0.1 "$R1"
# UDP echo servers: "echo:" + the datagram back.
udp_echo_server='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(65535); s.sendto(b"echo:" + d, a)'
lab_spawn "$E2E_LAB" host hp-udp python3 -c "$udp_echo_server" "$U"
lab_spawn "$E2E_LAB" host hp-udp53 python3 -c "$udp_echo_server" 53

wait_http_up "http://127.0.0.1:$P4/" "http://[::1]:$P6/" "http://127.0.0.1:$PX/" "http://127.0.0.1:$R0/" "http://127.0.0.1:$R1/"

# python3 client: one datagram to ADDR:PORT; prints the reply or "none".
ASK=$LAB_TMP/udp_ask.py
cat > "$ASK" << 'PY' || e2e_die "cannot write $ASK"
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(3); s.connect((addr, port)); s.send(b"ping")
try:
    print(s.recv(100).decode())
except Exception:
    print("none")
PY
# python3 client: one datagram to ADDR:PORT; prints how the second read ended
# (ConnectionRefusedError once the ICMP error came back) and how fast.
REFUSED=$LAB_TMP/udp_refused.py
cat > "$REFUSED" << 'PY' || e2e_die "cannot write $REFUSED"
import socket, sys, time
addr, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(5); s.connect((addr, port))
t = time.time()
try:
    s.send(b"ping"); s.recv(100); print("answered")
except Exception as e:
    print(type(e).__name__, "fast" if time.time() - t < 2 else "slow")
PY
chmod a+r "$ASK"
# Inside the sandbox: GW4 and GW6, the default routes' gateways.
# shellcheck disable=SC2016 # expanded inside the sandbox
gateways='gw4=$(ip -4 route show default | sed -n "s/.* via \([0-9.]*\).*/\1/p")
gw6=$(ip -6 route show default | sed -n "s/.* via \([0-9a-f:]*\).*/\1/p")
[ -n "$gw4" ] && [ -n "$gw6" ] || exit 99'
elapsed_ok() { (($(date +%s) - $1 < $2)) && echo yes || echo no; }
# refused_fast DESC MARKER CMD...: CMD fails without MARKER in its output, within 3 s.
refused_fast() {
  local desc=$1 marker=$2 start took
  shift 2
  start=$(date +%s)
  run "$@"
  took=$(elapsed_ok "$start" 3)
  if ((RC != 0)) && [[ $RC != 99 && $OUT != *"$marker"* ]]; then ok "$desc"; else not_ok "$desc"; fi
  check_eq "$desc: at once (< 3 s, curl -m 10)" yes "$took"
}
# host_port_flows LOG: "EVENT PROTO DST VIA" of each flow event tagged host-port.
host_port_flows() {
  python3 -c "
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get('via') == 'host-port':
        print(e.get('event'), e.get('protocol'), e.get('dst'), e.get('policy', '-'))
" "$1" 2> /dev/null
}
requests_seen() { grep -c '"GET /' "$(lab_dir "$E2E_LAB")/logs/hp-$1.log" 2> /dev/null; }

for who in $(e2e_users); do
  hp=(--host-port "$P4,$P6" --host-port "$R0-8292" --host-port "udp/$U")
  check_output_eq "[$who] 127.0.0.1:PORT inside reaches the host's 127.0.0.1" hp-v4 \
    np --as "$who" "${hp[@]}" -- curl -fsS -m 10 "http://127.0.0.1:$P4/"
  check_output_eq "[$who] [::1]:PORT inside reaches the host's [::1]" hp-v6 \
    np --as "$who" "${hp[@]}" -- curl -fsS -m 10 "http://[::1]:$P6/"
  check_output_eq "[$who] [::1] falls back to a server on the host's 127.0.0.1 only" hp-v4 \
    np --as "$who" "${hp[@]}" -- curl -fsS -m 10 "http://[::1]:$P4/"
  check_output_eq "[$who] 127.0.0.1 falls back to a server on the host's ::1 only" hp-v6 \
    np --as "$who" "${hp[@]}" -- curl -fsS -m 10 "http://127.0.0.1:$P6/"
  # shellcheck disable=SC2016 # expanded inside the sandbox
  check_output_eq "[$who] the gateway address reaches the host's loopback (IPv4 and IPv6)" "hp-v4 hp-v6" \
    np --as "$who" "${hp[@]}" -- sh -c "$gateways"'
      a=$(curl -fsS -m 10 "http://$gw4:'"$P4"'/") && b=$(curl -fsS -m 10 "http://[$gw6]:'"$P6"'/") && echo "$a $b"'
  # shellcheck disable=SC2016
  check_output_eq "[$who] a range: every port of it, inside and at the gateway" "hp-r0 hp-r1" \
    np --as "$who" "${hp[@]}" -- sh -c "$gateways"'
      a=$(curl -fsS -m 10 "http://$gw4:'"$R0"'/") && b=$(curl -fsS -m 10 "http://127.0.0.1:'"$R1"'/") && echo "$a $b"'

  before=$(requests_seen unlisted)
  refused_fast "[$who] an unlisted port at 127.0.0.1 is refused" hp-unlisted \
    np --as "$who" "${hp[@]}" -- curl -sS -m 10 "http://127.0.0.1:$PX/"
  # shellcheck disable=SC2016
  refused_fast "[$who] an unlisted port at the gateway is refused" hp-unlisted \
    np --as "$who" "${hp[@]}" -- sh -c "$gateways"'; curl -sS -m 10 "http://$gw4:'"$PX"'/"'
  check_eq "[$who] ... and its server never saw a request" "$before" "$(requests_seen unlisted)"

  check_output_eq "[$who] UDP: 127.0.0.1:PORT reaches the host's UDP server" echo:ping \
    np --as "$who" "${hp[@]}" -- python3 "$ASK" 127.0.0.1 "$U"
  check_output_eq "[$who] UDP: [::1] falls back to the server on the host's 127.0.0.1" echo:ping \
    np --as "$who" "${hp[@]}" -- python3 "$ASK" ::1 "$U"
  # shellcheck disable=SC2016
  check_output_eq "[$who] UDP: the gateway address reaches it too" echo:ping \
    np --as "$who" "${hp[@]}" -- sh -c "$gateways"'; python3 '"$ASK"' "$gw4" '"$U"
  check_output_eq "[$who] UDP: a TCP-only listing does not open the UDP port" none \
    np --as "$who" --host-port "$U" -- python3 "$ASK" 127.0.0.1 "$U"
  # shellcheck disable=SC2016
  # Rootless answers port unreachable (nothing there); --root's host table
  # rejects it as prohibited: either way an error at once, never silence.
  run np --as "$who" "${hp[@]}" -- sh -c "$gateways"'; echo $(python3 '"$REFUSED"' "$gw4" '"$PX"') \
      $(python3 '"$REFUSED"' "$gw6" '"$PX"')'
  check_match "[$who] UDP to an unlisted gateway port is refused at once (IPv4 and IPv6)" \
    "^[A-Za-z]*Error fast [A-Za-z]*Error fast$" "$OUT"

  check_output_eq "[$who] udp/53: 127.0.0.1:53 reaches the host's loopback, the gateway's 53 stays DNS" \
    "echo:ping 203.0.113.10" np --as "$who" --host-port udp/53 -- sh -c \
    "python3 $ASK 127.0.0.1 53 | tr '\n' ' '; dig +short +time=5 +tries=1 web.lab.test"

  # --offline: exactly the listed ports.
  check_output_eq "[$who] --offline --host-port: the listed port is reached" hp-v4 \
    np --as "$who" --offline --host-port "$P4" -- curl -fsS -m 10 "http://127.0.0.1:$P4/"
  refused_fast "[$who] --offline --host-port: the host's other address stays refused" hp-v4 \
    np --as "$who" --offline --host-port "$P4" -- curl -sS -m 10 "http://$LAB_HOST4:$P4/"
  check_output_eq "[$who] --offline --host-port: DNS stays refused" "" \
    np --as "$who" --offline --host-port "$P4" -- sh -c 'dig +short +time=3 +tries=1 web.lab.test | grep -v "^;" || true'

  # A policy that denies everything else does not touch the listed ports.
  # shellcheck disable=SC2016
  check_output_eq "[$who] --deny and a deny default leave listed ports alone" "hp-v4 hp-v4" \
    np --as "$who" --default-policy deny --deny 10.0.0.0/8 --deny 127.0.0.0/8 --deny fd00::/8 --deny ::1 \
    --host-port "$P4" -- sh -c "$gateways"'
      a=$(curl -fsS -m 10 "http://$gw4:'"$P4"'/") && b=$(curl -fsS -m 10 "http://127.0.0.1:'"$P4"'/") && echo "$a $b"'

  # Events: the flow log and the live lines say "via host-port".
  if netpen_only "[$who] host-port flows are events"; then
    log=$LAB_TMP/hp-$who.jsonl
    rm -f "$log"
    # shellcheck disable=SC2016
    run np --as "$who" --analyse --log "$log" --host-port "$P4,udp/$U" -- sh -c "$gateways"'
      curl -fsS -m 10 "http://127.0.0.1:'"$P4"'/" && curl -fsS -m 10 "http://$gw4:'"$P4"'/" &&
      python3 '"$ASK 127.0.0.1 $U"
    check_eq "[$who] ... the run worked" "0" "$RC"
    flows=$(host_port_flows "$log")
    check_match "[$who] ... --log: a TCP flow to 127.0.0.1 opened via host-port, no policy" \
      "^flow_open tcp 127\.0\.0\.1:$P4 -\$" "$flows"
    check_match "[$who] ... --log: ... and closed" "^flow_close tcp 127\.0\.0\.1:$P4 -\$" "$flows"
    check_match "[$who] ... --log: the gateway's flow too" "^flow_open tcp 10\.[0-9.]+:$P4 -\$" "$flows"
    check_match "[$who] ... --log: the UDP flow" "^flow_open udp 127\.0\.0\.1:$U -\$" "$flows"
    check_match "[$who] ... --analyse: the live line says via host-port" "127\.0\.0\.1:$P4.*via host-port" "$ERR"
  fi
done

check_output_contains "--dry-run names the host ports" "host ports:  tcp $P4, 8290-8292; udp 53" \
  np --dry-run --host-port "$P4,8290-8292" --host-port udp/53 -- true
for bad in 0 70000 9010-9000 http sctp/80; do
  run np --host-port "$bad" -- true
  check_eq "--host-port $bad is a usage error (exit 2)" 2 "$RC"
  check_match "... with one netpen: error: line" "^netpen: error: --host-port: " "$ERR"
done
e2e_finish
