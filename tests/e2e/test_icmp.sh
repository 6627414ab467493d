#!/usr/bin/env bash
# e2e: ICMP echo through netpen: ping and ping -6 to lab hosts (through the
# router), the gateway answering pings itself, two pings at once kept apart
# by identifier, and an address with nobody behind it staying silent. As root
# and as the unprivileged user (the lab host allows ping sockets, as most
# distributions do).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

received() { # ping output -> the number of replies
  sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

for who in $(e2e_users); do
  run np --as "$who" -- ping -c 4 -i 0.2 -W 3 203.0.113.10
  check_eq "[$who] ping 203.0.113.10: 4 of 4 replies" 4 "$(received <<< "$OUT")"
  run np --as "$who" -- ping -6 -c 4 -i 0.2 -W 3 2001:db8:2::10
  check_eq "[$who] ping -6 2001:db8:2::10: 4 of 4 replies" 4 "$(received <<< "$OUT")"
  run np --as "$who" -- ping -c 2 -i 0.2 -W 3 web.lab.test
  check_eq "[$who] ping by name" 2 "$(received <<< "$OUT")"
  if netpen_only "[$who] the gateway answers pings"; then
    # The tree's gateway: 10.248.0.1 rootless, the run's own /30 with --root.
    run np --as "$who" -- sh -c 'ping -c 2 -i 0.2 -W 3 "$(ip -4 route show default | cut -d" " -f3)"' 
    check_eq "[$who] the gateway answers pings" 2 "$(received <<< "$OUT")"
  fi
  run np --as "$who" -- sh -c 'ping -c 5 -i 0.2 -W 3 203.0.113.10 > "$0.a" & ping -c 5 -i 0.2 -W 3 203.0.113.53 > "$0.b"; wait; cat "$0.a" "$0.b"; rm -f "$0.a" "$0.b"' "$LAB_TMP/two-pings.$who"
  check_eq "[$who] two pings at once: 5 + 5 replies" "5 5" "$(received <<< "$OUT" | tr '\n' ' ' | sed 's/ $//')"
  run np --as "$who" -- ping -c 1 -W 2 203.0.113.99
  check_eq "[$who] nobody at 203.0.113.99: no reply" 0 "$(received <<< "$OUT")"
done
e2e_finish
