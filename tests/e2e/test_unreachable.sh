#!/usr/bin/env bash
# e2e: destinations that cannot be reached fail at once inside the sandbox,
# never through a long timeout: an address the lab router has no route for
# (its ICMP Net Unreachable reaches the child's TCP, from the router), and a
# host with no IPv6 route at all (the tree then has no IPv6 default route,
# so TCP, UDP and ping fail immediately). As root and as the user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

udp6_probe="import socket, time
t = time.time()
try:
    c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c.settimeout(10)
    c.connect(('2001:db8:2::10', 7)); c.send(b'x'); c.recv(10); print('data')
except OSError as e:
    print('error', 'fast' if time.time() - t < 2 else 'slow')"

elapsed_ok() { # elapsed_ok START LIMIT: "yes" when fewer than LIMIT seconds passed
  (($(date +%s) - $1 < $2)) && echo yes || echo no
}

for who in $(e2e_users); do
  start=$(date +%s)
  check_status "[$who] TCP to an unroutable address: curl exit 7" 7 np --as "$who" -- curl -sS -m 30 http://192.0.2.99/
  check_eq "[$who] ... fails at once (< 4 s)" yes "$(elapsed_ok "$start" 4)"
done

# The lab host loses its IPv6 default route for the rest of this test.
if netpen_only "no IPv6 route on the host"; then
  must in_host ip -6 route del default
  for who in $(e2e_users); do
    start=$(date +%s)
    check_status "[$who] no host IPv6 route: curl -6 exit 7" 7 np --as "$who" -- curl -sS -m 30 "http://[2001:db8:2::10]/"
    check_eq "[$who] ... fails at once (< 3 s)" yes "$(elapsed_ok "$start" 3)"
    check_output_eq "[$who] no host IPv6 route: UDP fails at once" "error fast" np --as "$who" -- python3 -c "$udp6_probe"
    start=$(date +%s)
    check_status "[$who] no host IPv6 route: ping -6 fails" 2 np --as "$who" -- ping -6 -c 1 -W 10 2001:db8:2::10
    check_eq "[$who] ... at once (< 3 s)" yes "$(elapsed_ok "$start" 3)"
    check_output_eq "[$who] IPv4 still works" netpen-lab-index-ok np --as "$who" -- curl -fsS -m 20 http://203.0.113.10/
  done
  must in_host ip -6 route add default via 2001:db8:1::1
fi
e2e_finish
