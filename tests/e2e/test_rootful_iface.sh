#!/usr/bin/env bash
# e2e, rootful backend only: -i/--iface forces the tree's direct egress
# through one host interface. The lab's host node gets a second uplink,
# alt0 (100.64.9.2/30, 2001:db8:9::2/64, to the router), whose default
# routes are worse than eth0's, so the host itself keeps using eth0. A server
# in the inet node answers each TCP connection and UDP datagram with the
# client address it saw.
#  - without --iface the tree leaves by eth0; with -i alt0 by alt0 (TCP and
#    UDP, IPv4 and IPv6), ping and DNS still work, and the host's own
#    traffic still leaves by eth0 meanwhile;
#  - the host's ruleset, rules, routes and sysctls are the same afterwards;
#  - --iface naming no interface, a down one or lo: exit 2 and one error
#    line, nothing set up;
#  - alt0 going down during a run: the tree's new connections fail, and
#    nothing leaves by eth0 instead (fail closed).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_BACKEND=rootful
e2e_setup

host_ns=$(lab_ns "$E2E_LAB" host)
router_ns=$(lab_ns "$E2E_LAB" router)
ip link add alt0 netns "$host_ns" type veth peer name eth-alt netns "$router_ns" || e2e_die "no alt0"
must lab_nsx "$E2E_LAB" host ip addr add 100.64.9.2/30 dev alt0
must lab_nsx "$E2E_LAB" host ip -6 addr add 2001:db8:9::2/64 dev alt0 nodad
must lab_nsx "$E2E_LAB" host ip link set alt0 up
must lab_nsx "$E2E_LAB" router ip addr add 100.64.9.1/30 dev eth-alt
must lab_nsx "$E2E_LAB" router ip -6 addr add 2001:db8:9::1/64 dev eth-alt nodad
must lab_nsx "$E2E_LAB" router ip link set eth-alt up
must lab_nsx "$E2E_LAB" host ip route add default via 100.64.9.1 dev alt0 metric 5000
must lab_nsx "$E2E_LAB" host ip -6 route add default via 2001:db8:9::1 dev alt0 metric 5000
must lab_nsx "$E2E_LAB" host ip link add alt1 type veth peer name alt1p  # both ends down

# The peer-address servers (socat sets SOCAT_PEERADDR for each client).
peer='SYSTEM:echo $SOCAT_PEERADDR'
lab_spawn "$E2E_LAB" inet peer-tcp4 socat TCP4-LISTEN:9100,bind=203.0.113.10,reuseaddr,fork "$peer"
lab_spawn "$E2E_LAB" inet peer-tcp6 socat TCP6-LISTEN:9100,bind=[2001:db8:2::10],reuseaddr,fork "$peer"
lab_spawn "$E2E_LAB" inet peer-udp4 socat UDP4-RECVFROM:9101,bind=203.0.113.10,fork "$peer"
tcp4='socat -T5 - TCP4:203.0.113.10:9100,connect-timeout=5 </dev/null'
tcp6='socat -T5 - TCP6:[2001:db8:2::10]:9100,connect-timeout=5 </dev/null'
udp4='echo x | socat -T2 - UDP4:203.0.113.10:9101'
peers_up() { in_host sh -c "$tcp4" > /dev/null 2>&1; }
wait_for 10 peers_up || e2e_die "the peer-address servers did not come up"

v6_alt='[2001:0db8:0009:0000:0000:0000:0000:0002]'
v6_eth='[2001:0db8:0001:0000:0000:0000:0000:0002]'
before=$(rootful_host_state) || e2e_die "cannot read the lab host's state"

check_output_eq "without --iface the tree leaves by eth0 (IPv4)" 198.51.100.2 np -- sh -c "$tcp4"
check_output_eq "... and IPv6" "$v6_eth" np -- sh -c "$tcp6"
check_output_eq "-i alt0: TCP over IPv4 leaves by alt0" 100.64.9.2 np -i alt0 -- sh -c "$tcp4"
check_output_eq "-i alt0: TCP over IPv6 leaves by alt0" "$v6_alt" np -i alt0 -- sh -c "$tcp6"
check_output_eq "-i alt0: UDP leaves by alt0" 100.64.9.2 np -i alt0 -- sh -c "$udp4"
check_output_eq "-i alt0: names resolve and HTTP works" netpen-lab-index-ok \
  np -i alt0 -- curl -fsS -m 20 http://web.lab.test/
check "-i alt0: ping works" np -i alt0 -- ping -c 1 -W 5 web.lab.test
check_output_eq "--iface as the sudo user" 100.64.9.2 np --as netpen-test --iface alt0 -- sh -c "$tcp4"
check_output_eq "the host's ruleset, rules, routes and sysctls are as before" "$before" rootful_host_state

# The host's own traffic during a run keeps its route.
in_host_argv "$E2E_NETPEN" --root -i alt0 -- sleep 30
"${E2E_ARGV[@]}" > /dev/null 2>&1 &
bg=$!
run_up() { in_host sh -c 'ip -br link | grep -q "^np"'; }
if wait_for 10 run_up; then ok "a run with -i alt0 is up"; else not_ok "a run with -i alt0 is up"; fi
check_output_eq "... the host itself still leaves by eth0" 198.51.100.2 in_host sh -c "$tcp4"
pkill -TERM -f "^$E2E_NETPEN --root -i alt0 -- sleep 30" 2> /dev/null
wait "$bg" 2> /dev/null

# Bad interfaces: refused before anything is set up.
for bad in "nope0:no such interface" "alt1:is down" "lo:loopback"; do
  name=${bad%%:*} why=${bad#*:}
  run np -i "$name" -- true
  check_eq "--iface $name: exit 2" 2 "$RC"
  check_match "... one error line: $why" "^netpen: error: --iface $name.*$why" "$ERR"
  check_eq "... and only that line" 1 "$(grep -c . <<< "$ERR")"
done
check_output_eq "... nothing was set up" "$before" rootful_host_state

# alt0 goes down during a run: nothing leaves by eth0 instead.
flag=$LAB_TMP/alt0-down
out=$LAB_TMP/iface-down.out
in_host_argv "$E2E_NETPEN" --root -i alt0 -- sh -c "$tcp4; i=0; while [ ! -e $flag ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i+1)); done; $tcp4; echo rc=\$?"
"${E2E_ARGV[@]}" > "$out" 2>&1 &
bg=$!
first_answer() { grep -q '^100\.64\.9\.2$' "$out"; }
if wait_for 10 first_answer; then ok "a run through alt0 is connected"; else not_ok "a run through alt0 is connected"; fi
must lab_nsx "$E2E_LAB" host ip link set alt0 down
touch "$flag"
wait "$bg" 2> /dev/null
check_match "... after alt0 went down, its next connection fails" '^rc=[1-9]' "$(cat "$out")"
check_no_match "... and it never left by eth0" '198\.51\.100\.2' cat "$out"
e2e_finish
