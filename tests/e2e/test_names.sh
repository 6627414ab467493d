#!/usr/bin/env bash
# e2e: names, not addresses (issue 19). With a name rule, a connection is
# judged by the name its own first bytes claim (TLS SNI, HTTP Host, QUIC
# Initial SNI), and every output shows that name, also without a policy.
# Real clients against the lab, whose servers log what reached them
# (nginx-web.log, udplog.log, the resolvers' query logs):
#   - fronting: an allowed name's address with the TLS SNI or HTTP Host of
#     a name not allowed is refused (RST, sni-/host-not-allowed) and nginx
#     sees nothing; a deny rule by name wins at an allowed address;
#   - pinned: curl --resolve to the allowed name's real address (v4 and
#     v6), no DNS query by the tree, is allowed (allowed-name, sni logged);
#   - mismatch: an allowed name sent to an address it does not resolve to
#     is refused (host-mismatch, sni-mismatch);
#   - visibility: a Python client whose argv names nothing (it reads its
#     targets from a file and connects by address) shows its SNI, ALPN and
#     HTTP method/Host/path in --analyse, the log, --summary and report,
#     and the query string appears nowhere;
#   - QUIC: a v1 Initial's SNI is logged; under a name rule one naming a
#     name not allowed is refused before the server sees a datagram;
#   - server speaks first (an SSH-like banner) through an allowed name
#     completes fast (the claim wait is 250 ms); bytes that claim nothing
#     keep the address rule;
#   - encrypted DNS: SNI dns.google under --allow '*.google' is refused
#     (encrypted-dns), allowed when named exactly (the lab serves it);
#   - DNS queries for names outside the policy never reach the lab's
#     resolver; --fail-on-leak counts a fronting refusal.
# As root and as the unprivileged user; under NETPEN_E2E_BACKEND=rootful
# the same checks with --root.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "claimed-name checks" "netpen-only"
  e2e_finish
fi

WEB_LOG=$LAB_DIR/logs/nginx-web.log
UDP_LOG=$LAB_DIR/logs/udplog.log
DNS_LOGS=("$LAB_DIR/logs/dns-a.log" "$LAB_DIR/logs/dns-b.log")
CA=$LAB_CA
W4=$LAB_WEB4 W6=$LAB_WEB6 ALT4=$LAB_ALT4

# The QUIC client (tests/tools/quic_client.cpp, target netpen_quic_client),
# built next to the netpen under test: netpen_quic_client HOST PORT SNI
# sends one v1 Initial (ALPN h3) and waits up to 1 s for an answer.
QUIC_SRC=$(dirname "$NETPEN_BIN")/netpen_quic_client
QUIC=""
if [[ -x $QUIC_SRC && -f $QUIC_SRC ]] && cp "$QUIC_SRC" "$LAB_DIR/bin/quic_client" &&
  chmod 0755 "$LAB_DIR/bin/quic_client"; then
  QUIC=$LAB_DIR/bin/quic_client
fi

# lines FILE: its line count (also for `run`).
# shellcheck disable=SC2016 # expanded by the inner sh
lines_argv() { E2E_ARGV=(sh -c 'wc -l < "$0"' "$1"); }
lines() { lines_argv "$@" && "${E2E_ARGV[@]}"; }
# hidden_queries: how many queries for hidden.lab.test the lab's resolvers
# logged (also for `run`).
# shellcheck disable=SC2016 # expanded by the inner sh
hidden_queries_argv() {
  E2E_ARGV=(sh -c 'logs=$(cat "$@") || exit 1
printf "%s\n" "$logs" | grep -c "query\[.*\] hidden\.lab\.test"; exit 0' hidden_queries "${DNS_LOGS[@]}")
}
hidden_queries() { hidden_queries_argv && "${E2E_ARGV[@]}"; }
# check_line DESC TEXT NEEDLE...: a line of TEXT contains every NEEDLE.
check_line() {
  local d=$1 text=$2 n
  shift 2
  for n in "$@"; do text=$(grep -F -- "$n" <<< "$text"); done
  if [[ -n $text ]]; then ok "$d"; else not_ok "$d" "no line has all of: $*"; fi
}

# The flow log's flow events (and DNS queries), one a line:
#   EVENT PROTO DST policy=.. sni=.. alpn=a,b method=.. host=.. path=.. end=.. rule=...
cat > "$LAB_TMP/flows.py" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    ev = e.get("event")
    if ev == "dns_query":
        print("dns_query", e.get("query", ""), e.get("query_type", ""))
        continue
    if ev not in ("flow_open", "flow_close", "denied") or e.get("protocol") not in ("tcp", "udp"):
        continue
    alpn = e.get("alpn", "")
    if isinstance(alpn, list):
        alpn = ",".join(alpn)
    print(ev, e["protocol"], e.get("dst", ""), "policy=" + e.get("policy", ""), "sni=" + e.get("sni", ""),
          "alpn=" + alpn, "method=" + e.get("http_method", ""), "host=" + e.get("http_host", ""),
          "path=" + e.get("http_path", ""), "end=" + e.get("end", ""), "rule=" + e.get("rule", ""))
EOF
flows() { python3 "$LAB_TMP/flows.py" "$1" 2>&1; }

# The visibility client: names and addresses come from a file, so no
# argv (and no DNS query) names them. An HTTPS GET with SNI NAME (ALPN h2,
# http/1.1) to ADDR:443, then a plain HTTP GET of PATH with Host NAME to
# ADDR:80; prints "tls <status line>" and "http <status line>".
cat > "$LAB_TMP/visit.py" <<'EOF'
import socket, ssl, sys
name, addr, path, cafile = open(sys.argv[1]).read().split()

def get(sock, target):
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data.split(b"\r\n", 1)[0].decode(), data

ctx = ssl.create_default_context(cafile=cafile)
ctx.set_alpn_protocols(["h2", "http/1.1"])
with socket.create_connection((addr, 443), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=name) as tls:
    status, body = get(tls, "/")
    print("tls", status, "body-ok" if b"netpen-lab-index-ok" in body else "body-missing")
with socket.create_connection((addr, 80), timeout=10) as plain:
    print("http", get(plain, path)[0])
EOF

# The banner client: resolves HOST (the tree's resolver), connects to PORT,
# waits for the server's banner line, sends a line, reads its echo; prints
# "banner=<line> echo=<line> ms=<connect to echo>". With a third argument
# "claimless" it connects to ADDR:PORT instead, sends a line that is
# neither TLS nor HTTP first, and prints "echo=..." or "refused=<error>".
cat > "$LAB_TMP/banner.py" <<'EOF'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
if len(sys.argv) > 3:
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"SSH-2.0-netpen-e2e-client\r\n")
            print("echo=" + s.makefile("rb").readline().decode().strip())
    except OSError as e:
        print("refused=" + type(e).__name__)
    sys.exit(0)
t0 = time.monotonic()
with socket.create_connection((host, port), timeout=5) as s:
    f = s.makefile("rwb")
    banner = f.readline().decode().strip()
    f.write(b"hello-after-banner\n"); f.flush()
    echo = f.readline().decode().strip()
print(f"banner={banner} echo={echo} ms={int((time.monotonic() - t0) * 1000)}")
EOF
chmod 0644 "$LAB_TMP"/*.py

must wait_for 5 test -e "$WEB_LOG"
must wait_for 5 test -e "$UDP_LOG"

# tls_front NAME: in the tree, resolve web.lab.test and open TLS to its
# address with SNI NAME (curl --resolve); prints "addr=A" and "rc=N".
front_tls() {
  echo "a=\$(dig +short +time=5 +tries=1 web.lab.test A); echo addr=\$a;" \
    "curl -sS -m 10 --cacert $CA --resolve $1:443:\$a https://$1/; echo rc=\$?"
}
# front_http NAME: the same with plain HTTP and Host: NAME.
front_http() {
  echo "a=\$(dig +short +time=5 +tries=1 web.lab.test A); echo addr=\$a;" \
    "curl -sS -m 10 -H 'Host: $1' http://\$a/whoami; echo rc=\$?"
}
# elapsed CMD...: runs CMD (via `run`), sets MS to its wall time.
elapsed() {
  local t0
  t0=$(date +%s%N)
  run "$@"
  MS=$((($(date +%s%N) - t0) / 1000000))
}

for who in $(e2e_users); do
  hidden_before=$(hidden_queries) || e2e_die "cannot read the lab's resolver logs"

  # --- fronting by TLS SNI: refused (RST), the server sees nothing
  log=$LAB_TMP/front-tls-$who.jsonl
  before=$(lines "$WEB_LOG") || e2e_die "cannot count $WEB_LOG"
  elapsed np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
    "$(front_tls hidden.lab.test); dig +time=5 +tries=1 hidden.lab.test A | grep -o 'status: [A-Z]*'"
  res=$OUT
  check_match "[$who] fronting (SNI): the tree resolved web.lab.test" "^addr=$W4\$" "$res"
  check_match "[$who] ... TLS with SNI hidden.lab.test to its address fails" '^rc=(35|56)$' "$res"
  check_match "[$who] ... reset (RST), not closed or timed out" 'reset by peer' "$ERR"
  check "[$who] ... at once (under 5 s)" test "$MS" -lt 5000
  check_match "[$who] ... denied sni-not-allowed, the SNI logged" \
    "^denied tcp $W4:443 policy=sni-not-allowed sni=hidden\.lab\.test " "$(flows "$log")"
  check_output_eq "[$who] ... nginx saw nothing" "$before" lines "$WEB_LOG"
  check_match "[$who] ... (and the name itself does not resolve)" '^status: NXDOMAIN$' "$res"

  # --- fronting by HTTP Host
  log=$LAB_TMP/front-http-$who.jsonl
  run np --as "$who" --allow web.lab.test --log "$log" -- sh -c "$(front_http hidden.lab.test)"
  check_match "[$who] fronting (Host): the tree resolved web.lab.test" "^addr=$W4\$" "$OUT"
  check_match "[$who] ... HTTP with Host hidden.lab.test to its address fails" '^rc=56$' "$OUT"
  check_match "[$who] ... reset (RST)" 'reset by peer' "$ERR"
  check_match "[$who] ... denied host-not-allowed, the Host logged" \
    "^denied tcp $W4:80 policy=host-not-allowed .*method=GET host=hidden\.lab\.test path=/whoami " "$(flows "$log")"
  check_output_eq "[$who] ... nginx saw nothing" "$before" lines "$WEB_LOG"

  # --- a deny rule by name wins at an allowed address
  log=$LAB_TMP/front-deny-$who.jsonl
  run np --as "$who" --allow web.lab.test --deny hidden.lab.test --log "$log" -- sh -c "$(front_tls hidden.lab.test)"
  check_match "[$who] --deny NAME: fronting with that SNI is refused" '^rc=(35|56)$' "$OUT"
  check_match "[$who] ... by the deny rule" \
    "^denied tcp $W4:443 policy=deny-rule sni=hidden\.lab\.test .*rule=hidden\.lab\.test.*--deny" "$(flows "$log")"
  check_output_eq "[$who] ... nginx saw nothing" "$before" lines "$WEB_LOG"

  # --- pinned: curl --resolve to the allowed name's real address, no DNS
  log=$LAB_TMP/pinned-$who.jsonl
  run np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
    "curl -fsS -m 10 --cacert $CA --resolve web.lab.test:443:$W4 https://web.lab.test/ &&
     curl -fsS -m 10 --cacert $CA --resolve web.lab.test:443:[$W6] https://web.lab.test/"
  check_output_eq "[$who] pinned (v4 and v6, no DNS): both fetches allowed, bodies received" \
    "netpen-lab-index-ok
netpen-lab-index-ok" printf '%s' "$OUT"
  pinned=$(flows "$log")
  check_match "[$who] ... flow_open allowed-name with sni web.lab.test (v4)" \
    "^flow_open tcp $W4:443 policy=allowed-name sni=web\.lab\.test " "$pinned"
  check_match "[$who] ... and v6" \
    "^flow_open tcp \[$W6\]:443 policy=allowed-name sni=web\.lab\.test " "$pinned"
  check_no_match "[$who] ... the tree asked no DNS question" '^dns_query' printf '%s\n' "$pinned"
  check_output_eq "[$who] ... nginx served both, with that SNI" "2" \
    sh -c "tail -n +$((before + 1)) '$WEB_LOG' | grep -c 'sni=web\.lab\.test'"
  before=$(lines "$WEB_LOG") || e2e_die "cannot count $WEB_LOG"

  # --- mismatch: an allowed name at an address it does not resolve to
  log=$LAB_TMP/mismatch-$who.jsonl
  run np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
    "curl -sS -m 10 -H 'Host: web.lab.test' http://$ALT4/whoami; echo rc=\$?;
     curl -sS -m 10 --cacert $CA --resolve web.lab.test:443:$ALT4 https://web.lab.test/; echo rc=\$?"
  check_match "[$who] mismatch: Host web.lab.test to $ALT4 fails" '^rc=56$' "$(sed -n 1p <<< "$OUT")"
  check_match "[$who] ... SNI web.lab.test to $ALT4 fails" '^rc=(35|56)$' "$(tail -n 1 <<< "$OUT")"
  mismatch=$(flows "$log")
  check_match "[$who] ... denied host-mismatch" "^denied tcp $ALT4:80 policy=host-mismatch .*host=web\.lab\.test " "$mismatch"
  check_match "[$who] ... denied sni-mismatch" "^denied tcp $ALT4:443 policy=sni-mismatch sni=web\.lab\.test " "$mismatch"
  check_output_eq "[$who] ... nginx saw nothing" "$before" lines "$WEB_LOG"

  # --- encrypted DNS by name: the lab serves dns.google (cert, resolver)
  log=$LAB_TMP/doh-$who.jsonl
  run np --as "$who" --allow '*.google' --log "$log" -- sh -c \
    "curl -sS -m 10 --cacert $CA --resolve dns.google:443:$W4 https://dns.google/; echo rc=\$?"
  check_match "[$who] --allow '*.google': TLS with SNI dns.google is refused" '^rc=(35|56)$' "$OUT"
  check_match "[$who] ... as encrypted DNS" "^denied tcp $W4:443 policy=encrypted-dns sni=dns\.google " "$(flows "$log")"
  check_output_eq "[$who] ... nginx saw nothing" "$before" lines "$WEB_LOG"
  run np --as "$who" --allow dns.google -- \
    curl -fsS -m 10 --cacert "$CA" --resolve "dns.google:443:$W4" https://dns.google/
  check_eq "[$who] --allow dns.google (named exactly): allowed" netpen-lab-index-ok "$OUT"
  check_output_eq "[$who] ... nginx served it" "1" \
    sh -c "tail -n +$((before + 1)) '$WEB_LOG' | grep -c 'sni=dns\.google'"
  before=$(lines "$WEB_LOG") || e2e_die "cannot count $WEB_LOG"

  # --- server speaks first, through an allowed name; claimless bytes
  log=$LAB_TMP/banner-$who.jsonl
  run np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
    "python3 $LAB_TMP/banner.py web.lab.test $LAB_BANNER_PORT;
     python3 $LAB_TMP/banner.py web.lab.test $LAB_ECHO_PORT claimless;
     python3 $LAB_TMP/banner.py $ALT4 $LAB_ECHO_PORT claimless"
  res=$OUT
  check_match "[$who] server speaks first: banner and echo through --allow web.lab.test" \
    "^banner=$LAB_BANNER echo=hello-after-banner ms=" "$(sed -n 1p <<< "$res")"
  ms=$(sed -n 1p <<< "$res" | sed -n 's/.* ms=\([0-9]*\)$/\1/p')
  check "[$who] ... within 2 s (it took ${ms:-?} ms)" test "${ms:-99999}" -lt 2000
  check_eq "[$who] client bytes that claim no name: the allowed address still works" \
    "echo=SSH-2.0-netpen-e2e-client" "$(sed -n 2p <<< "$res")"
  check_match "[$who] ... an address no allowed name gave is still refused" '^refused=' "$(sed -n 3p <<< "$res")"
  banner=$(flows "$log")
  check_match "[$who] ... the banner flow allowed by the name's address" \
    "^flow_open tcp ($W4|\\[$W6\\]):$LAB_BANNER_PORT policy=allowed-name " "$banner"
  check_match "[$who] ... the claimless flow to $ALT4 denied not-allowed" \
    "^denied tcp $ALT4:$LAB_ECHO_PORT policy=not-allowed " "$banner"

  # --- --fail-on-leak counts a fronting refusal
  run np --as "$who" --allow web.lab.test --fail-on-leak -- sh -c "{ $(front_tls hidden.lab.test); } > /dev/null 2>&1; exit 0"
  check_eq "[$who] --fail-on-leak: a fronting refusal makes the status 1" 1 "$RC"
  check_match "[$who] ... and says why" '^netpen: error: --fail-on-leak' "$ERR"
  run np --as "$who" --allow web.lab.test --fail-on-leak -- \
    curl -fsS -m 10 -o /dev/null --cacert "$CA" --resolve "web.lab.test:443:$W4" https://web.lab.test/
  check_eq "[$who] --fail-on-leak: a pinned allowed fetch, status 0" 0 "$RC"
  before=$(lines "$WEB_LOG") || e2e_die "cannot count $WEB_LOG"

  # --- visibility without policy: names in no argv and no DNS query
  log=$LAB_TMP/visit-$who.jsonl
  printf 'web.lab.test %s /some/path?secret=1 %s\n' "$W4" "$CA" > "$LAB_TMP/targets-$who.txt"
  chmod 0644 "$LAB_TMP/targets-$who.txt"
  run np --as "$who" --analyse --summary --log "$log" -- python3 "$LAB_TMP/visit.py" "$LAB_TMP/targets-$who.txt"
  err=$ERR
  check_output_eq "[$who] visibility: the Python client's HTTPS and HTTP GETs work" \
    "tls HTTP/1.1 200 OK body-ok
http HTTP/1.1 404 Not Found" printf '%s' "$OUT"
  check_match "[$who] ... nginx got the query string (so it was there to leak)" \
    "^$W4:80 host=web\.lab\.test sni=- \"GET /some/path\?secret=1 " "$(tail -n +$((before + 1)) "$WEB_LOG")"
  visit=$(flows "$log")
  check_match "[$who] ... the log: flow_close with sni and alpn" \
    "^flow_close tcp $W4:443 policy= sni=web\.lab\.test alpn=h2,http/1\.1 " "$visit"
  check_match "[$who] ... the log: flow_close with method, Host and path" \
    "^flow_close tcp $W4:80 .*method=GET host=web\.lab\.test path=/some/path " "$visit"
  check_no_match "[$who] ... no DNS query (the names came from the bytes)" '^dns_query' printf '%s\n' "$visit"
  live=$(sed '/run summary/,$d' <<< "$err")
  check_line "[$who] ... --analyse: the TLS flow's line shows the SNI and ALPN" "$live" \
    "$W4:443" web.lab.test http/1.1
  check_line "[$who] ... --analyse: the HTTP flow's line shows method, Host and path" "$live" \
    "$W4:80" GET web.lab.test /some/path
  check_match "[$who] ... --summary names web.lab.test" 'web\.lab\.test' "$(sed -n '/run summary/,$p' <<< "$err")"
  check_output_contains "[$who] ... so does netpen report" web.lab.test "$E2E_NETPEN" report "$log"
  check_no_match "[$who] ... the query string is nowhere in the log" secret cat "$log"
  check_no_match "[$who] ... nor in the live lines and summary" secret printf '%s\n' "$err"
  before=$(lines "$WEB_LOG") || e2e_die "cannot count $WEB_LOG"

  # --- QUIC: the Initial's SNI logged; judged under a name rule
  if [[ -z $QUIC ]]; then
    not_ok "[$who] QUIC: the client $QUIC_SRC is there (build target netpen_quic_client)"
  else
    log=$LAB_TMP/quic-$who.jsonl
    udp_before=$(lines "$UDP_LOG") || e2e_die "cannot count $UDP_LOG"
    run np --as "$who" --log "$log" -- "$QUIC" "$W4" 443 web.lab.test
    check_match "[$who] QUIC Initial (no policy): a udp flow with sni web.lab.test" \
      "^flow_(open|close) udp $W4:443 .*sni=web\.lab\.test alpn=h3 " "$(flows "$log")"
    udp_after=$(lines "$UDP_LOG")
    check "[$who] ... the server got it" test "$udp_after" -gt "$udp_before"
    log=$LAB_TMP/quic-deny-$who.jsonl
    run np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
      "dig +short +time=5 +tries=1 web.lab.test A; $QUIC $W4 443 hidden.lab.test"
    check_match "[$who] QUIC Initial with SNI hidden.lab.test under --allow web.lab.test: denied sni-not-allowed" \
      "^denied udp $W4:443 policy=sni-not-allowed sni=hidden\.lab\.test " "$(flows "$log")"
    check_output_eq "[$who] ... the server got nothing" "$udp_after" lines "$UDP_LOG"
    run np --as "$who" --allow web.lab.test --log "$log" -- sh -c \
      "dig +short +time=5 +tries=1 web.lab.test A; $QUIC $W4 443 web.lab.test"
    check "[$who] ... one with SNI web.lab.test reaches the server" test "$(lines "$UDP_LOG")" -gt "$udp_after"
  fi

  # --- DNS for names outside the policy never reached the lab's resolvers
  check_output_eq "[$who] no query for hidden.lab.test reached the lab's resolvers" "$hidden_before" hidden_queries
done

e2e_finish
