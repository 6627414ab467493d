#!/usr/bin/env bash
# e2e: the capture points other than the tap. `-C egress` holds the tree's
# flows (TCP, UDP, ping) with the host's addresses and none of the sandbox's,
# the bytes on the wire (over an https:// proxy: TLS to the proxy), each
# packet of curl's flow commented with curl; `-C both` writes
# BASE.child.pcapng and BASE.egress.pcapng; `-C wire-egress` (root) holds
# the real packets from the host's interface, only the tree's flows even
# while the host talks to the same server, and is refused to a user who is
# not root. tshark reads every file without a warning and capinfos counts
# what tshark reads. Under --root (NETPEN_E2E_BACKEND=rootful) the kernel
# forwards the tree's flows: `egress` and `wire-egress` are both the packets
# crossing the host's interfaces after the masquerade (NFLOG), and the same
# checks hold (the host's address, never the tree's 10.249.x.x, nothing of a
# host flow made meanwhile, every TCP stream from its SYN).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "capture point checks" "netpen-only"
  e2e_finish
fi

# tshark_clean DESC FILE: tshark reads FILE without an error or warnings;
# capinfos agrees on the count.
tshark_clean() {
  run tshark -n -r "$2" -q
  # shellcheck disable=SC2143 # ERR may be empty: nothing to grep -q
  if ((RC == 0)) && [[ -z $(grep -v 'Running as user' <<< "$ERR") ]]; then ok "$1: tshark reads it without warnings"
  else not_ok "$1: tshark reads it without warnings"; fi
  local packets
  packets=$(capinfos -M -c "$2" 2> /dev/null | awk -F': *' '/Number of packets/ {print $2}')
  check_eq "$1: capinfos counts as many packets as tshark reads" \
    "$(tshark -n -r "$2" 2> /dev/null | wc -l)" "$packets"
}
# fields FILE FILTER -e FIELD...: the fields of the matching packets (also for `run`).
fields_argv() { E2E_ARGV=(tshark -n -r "$1" -Y "$2" -T fields -E separator=/s "${@:3}"); }
fields() { fields_argv "$@" && "${E2E_ARGV[@]}" 2> /dev/null; }
# check_streams_from_syn DESC FILE: as many TCP streams with a SYN (no ACK)
# as tshark finds TCP conversations: every stream starts with its SYN.
check_streams_from_syn() {
  local convs syns
  if ! convs=$(tshark -n -r "$2" -q -z conv,tcp 2> /dev/null) ||
    ! syns=$(fields "$2" 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -e tcp.stream); then
    not_ok "$1" "tshark cannot read $2"
    return
  fi
  check_eq "$1" "$(grep -c '<->' <<< "$convs")" "$(sort -u <<< "$syns" | grep -c .)"
}

# A curl that lives long enough for its process to be looked up: 4 MB.
CURL='curl -fsS -m 60 -o /dev/null -r 0-4194303 http://web.lab.test/big.bin'
# The tree's own addresses: the rootless tap's /30, the rootful veths' range.
if is_rootful; then TREE_NET=10.249.0.0/16; else TREE_NET=10.248.0.0/30; fi
# host_noise MARKER: the host talks to the same server during a run (in the
# background, HOST_NOISE is its pid); none of it may be in the capture.
host_noise() {
  in_host sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null http://web.lab.test/$1; sleep 0.1; done" &
  HOST_NOISE=$!
}

for who in $(e2e_users); do
  # --- egress: rebuilt from the relay's host sockets (no privilege needed)
  cap=$LAB_TMP/egress-$who.pcapng
  rm -f "$cap"
  host_noise host-egress-marker
  run np --as "$who" -C egress -o "$cap" -- sh -c \
    "curl -fsS -m 20 http://web.lab.test/whoami?egress-marker; $CURL; echo datagram | nc -u -w1 203.0.113.10 7; ping -c 2 -i 0.2 -W 2 203.0.113.10"
  wait "$HOST_NOISE"
  check_eq "[$who] -C egress: the command succeeds" 0 "$RC"
  check "[$who] -C egress: the capture exists" test -s "$cap"
  check_eq "[$who] -C egress: owned by the user who ran netpen" "$who" "$(stat -c %U "$cap")"
  tshark_clean "[$who] -C egress" "$cap"
  check_output_contains "[$who] -C egress: the HTTP request, from the host's address" "198.51.100.2 /whoami?egress-marker" \
    fields "$cap" http.request -e ip.src -e http.request.uri
  check_output_contains "[$who] -C egress: the UDP datagram both ways" "2" \
    sh -c "tshark -n -r '$cap' -Y 'udp.port == 7 && udp.payload == 64:61:74:61:67:72:61:6d:0a' 2> /dev/null | wc -l"
  check_eq "[$who] -C egress: two echo requests and two replies" "2 2" \
    "$(fields "$cap" 'icmp.type == 8' -e ip.src | grep -c 198.51.100.2) $(fields "$cap" 'icmp.type == 0' -e ip.dst | grep -c 198.51.100.2)"
  check_output_eq "[$who] -C egress: no sandbox address anywhere" "" fields "$cap" "ip.addr == $TREE_NET" -e frame.number
  check_no_match "[$who] -C egress: the host's own requests are not in it" host-egress-marker \
    fields "$cap" http.request -e http.request.uri
  check_output_contains "[$who] -C egress: curl's packets name curl" "curl" \
    sh -c "tshark -n -r '$cap' -Y 'frame.comment contains \"curl\"' -T fields -e frame.comment 2> /dev/null | head -n 1"
  check_streams_from_syn "[$who] -C egress: every TCP stream starts with a SYN" "$cap"

  # --- egress over an https:// proxy: the TLS records to the proxy
  cap=$LAB_TMP/egress-tls-$who.pcapng
  rm -f "$cap"
  run in_host --as "$who" env SSL_CERT_FILE="$LAB_CA" "$E2E_NETPEN" -C egress -o "$cap" \
    -p https://proxy.lab.test:3443 -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] -C egress over an https:// proxy: the command succeeds" 0 "$RC"
  tshark_clean "[$who] -C egress over an https:// proxy" "$cap"
  check_output_contains "[$who] ... a TLS ClientHello to the proxy, naming it" "proxy.lab.test" \
    fields "$cap" 'tls.handshake.type == 1 && tcp.dstport == 3443' -e tls.handshake.extensions_server_name
  check_output_eq "[$who] ... and no plaintext HTTP" "" fields "$cap" http -e frame.number

  # --- both: BASE.child.pcapng and BASE.egress.pcapng
  base=$LAB_TMP/both-$who
  rm -f "$base".pcapng "$base".child.pcapng "$base".egress.pcapng
  run np --as "$who" -C both -o "$base.pcapng" -- curl -fsS -m 20 -o /dev/null http://web.lab.test/whoami?both-marker
  check_eq "[$who] -C both: the command succeeds" 0 "$RC"
  check "[$who] -C both: no file at the path itself" test ! -e "$base.pcapng"
  tshark_clean "[$who] -C both: the child file" "$base.child.pcapng"
  tshark_clean "[$who] -C both: the egress file" "$base.egress.pcapng"
  check_output_contains "[$who] -C both: the child file has the sandbox's side" "/whoami?both-marker" \
    fields "$base.child.pcapng" "http.request && ip.src == $TREE_NET" -e http.request.uri
  check_output_contains "[$who] -C both: the egress file has the host's side" "198.51.100.2 /whoami?both-marker" \
    fields "$base.egress.pcapng" http.request -e ip.src -e http.request.uri
  check_output_contains "[$who] -C both: the child file has the DNS query" "web.lab.test" \
    fields "$base.child.pcapng" 'dns.flags.response == 0' -e dns.qry.name
done

# --- wire-egress: AF_PACKET on the host, kernel-filtered to the tree's flows
cap=$LAB_TMP/wire.pcapng
rm -f "$cap"
# The host talks to the same server during the run: none of it may appear.
host_noise host-side-marker
run np -C wire-egress -o "$cap" -- sh -c \
  "curl -fsS -m 20 http://web.lab.test/whoami?wire-marker; $CURL; ping -c 2 -i 0.2 -W 2 203.0.113.10 > /dev/null"
wait "$HOST_NOISE"
check_eq "-C wire-egress: the command succeeds" 0 "$RC"
tshark_clean "-C wire-egress" "$cap"
check_output_contains "-C wire-egress: the tree's HTTP request, from the host's address" "198.51.100.2 /whoami?wire-marker" \
  fields "$cap" http.request -e ip.src -e http.request.uri
check_no_match "-C wire-egress: the host's own requests are not in it" host-side-marker \
  fields "$cap" http.request -e http.request.uri
check_output_contains "-C wire-egress: real kernel segments (TCP timestamps, which netpen never writes)" "1" \
  sh -c "tshark -n -r '$cap' -Y 'tcp.options.timestamp.tsval' -T fields -e tcp.flags.syn 2> /dev/null | head -n 1"
check_eq "-C wire-egress: the echo requests and replies" "2 2" \
  "$(fields "$cap" 'icmp.type == 8' -e ip.src | grep -c 198.51.100.2) $(fields "$cap" 'icmp.type == 0' -e ip.dst | grep -c 198.51.100.2)"
check_output_eq "-C wire-egress: no sandbox address anywhere" "" fields "$cap" "ip.addr == $TREE_NET" -e frame.number
check_streams_from_syn "-C wire-egress: every TCP stream starts with a SYN" "$cap"

if [[ " $(e2e_users) " == *" netpen-test "* ]] && rootless_only "[netpen-test] -C wire-egress without root"; then
  rm -f "$LAB_TMP/wire-user.pcapng" "$LAB_TMP/ran"
  run np --as netpen-test -C wire-egress -o "$LAB_TMP/wire-user.pcapng" -- touch "$LAB_TMP/ran"
  check_eq "[netpen-test] -C wire-egress without root: usage error" 2 "$RC"
  check_match "[netpen-test] ... one clear error line" '^netpen: error: --capture-point wire-egress needs root' "$ERR"
  check "[netpen-test] ... the command never ran, no file was made" test ! -e "$LAB_TMP/ran" -a ! -e "$LAB_TMP/wire-user.pcapng"
fi

e2e_finish
