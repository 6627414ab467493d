#!/usr/bin/env bash
# e2e: traceroute through netpen shows the real hops: the child's TTL is
# copied onto the host socket and the router's Time Exceeded comes back from
# the router's own address. UDP, ICMP (-I) and TCP SYN (-T) modes, IPv4 and IPv6; the
# first hop is the lab router, the last the destination. As root and as the
# unprivileged user. With --root the tree is routed by the host, so netpen's
# gateway is a real first hop (checked, then dropped from the comparison),
# and ICMP probes go one at a time (-N 1). TCP mode needs a raw socket:
# rootless, the test asks for it with --map-root (the default tree holds no
# capability).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

hops() { # traceroute output -> "hop1 hop2 ..." (addresses, * for none)
  awk 'NR > 1 { print $2 }' | tr '\n' ' ' | sed 's/ $//'
}
# past_gateway DESC HOPS: under --root, checks the first hop is the run's
# gateway and prints the rest; otherwise prints HOPS.
past_gateway() {
  if ! is_rootful; then echo "$2"; return; fi
  [[ ${2%% *} =~ ^(10\.249\.|fd6e:7065:6e01:) ]] || echo "(first hop ${2%% *} is not netpen's gateway)"
  echo "${2#* }"
}

for who in $(e2e_users); do
  for mode in udp icmp tcp; do
    if [[ $mode == tcp && $who != root ]] && is_rootful; then
      # --root runs the command as the user itself: no raw sockets, as on the host
      skip "[$who] traceroute (tcp) with --root" "needs CAP_NET_RAW, which the sudo user does not have"
      continue
    fi
    flag=""
    [[ $mode == icmp ]] && flag="-I"
    # --root: one probe at a time. Probes sent together share one ICMP
    # conntrack tuple, and all but the first are dropped when the kernel
    # confirms it (docs/rootful.md, known limits).
    [[ $mode == icmp ]] && is_rootful && flag="-I -N 1"
    # Rootless without --map-root: no raw socket, so traceroute -I uses a
    # ping socket. An ICMP error that comes back before the next probe is
    # sent is pending on that socket and fails that send (the kernel drops
    # the probe; traceroute shows '*'): the gateway answers in well under a
    # millisecond, so probes sent together lose one now and then. One probe
    # at a time, as a user of an unprivileged traceroute would (README).
    [[ $mode == icmp ]] && ! is_rootful && ! is_map_root && flag="-I -N 1"
    [[ $mode == tcp ]] && flag="-T -p 80"
    opts=()
    [[ $mode == tcp ]] && ! is_rootful && opts=(--map-root)
    if [[ $mode == tcp ]] && ! is_rootful && ! is_map_root; then
      run np --as "$who" -- traceroute $flag -n -w 2 -q 1 -m 6 203.0.113.10
      check_match "[$who] traceroute (tcp) without --map-root: no raw socket" 'Operation not permitted' "$OUT$ERR"
    fi
    is_map_root && opts=() # np adds it
    run np --as "$who" "${opts[@]}" -- traceroute $flag -n -w 2 -q 1 -m 6 203.0.113.10
    check_eq "[$who] traceroute ($mode, IPv4): router, then destination" "198.51.100.1 203.0.113.10" "$(past_gateway "$mode" "$(hops <<< "$OUT")")"
    run np --as "$who" "${opts[@]}" -- traceroute -6 $flag -n -w 2 -q 1 -m 6 2001:db8:2::10
    check_eq "[$who] traceroute ($mode, IPv6): router, then destination" "2001:db8:1::1 2001:db8:2::10" "$(past_gateway "$mode" "$(hops <<< "$OUT")")"
  done
done
e2e_finish
