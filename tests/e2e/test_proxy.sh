#!/usr/bin/env bash
# e2e: -p/--proxy against the lab's real proxies. The target hidden.lab.test
# resets every connection that does not come from a proxy, so each success
# below also shows that nothing went direct. Covered: tinyproxy CONNECT with
# and without Basic auth (flags, NETPEN_PROXY_PASSWORD, password file), an
# HTTPS proxy (stunnel) trusted through SSL_CERT_FILE, self-signed with
# --proxy-insecure, and a name mismatch that --proxy-insecure still refuses;
# dante SOCKS5 with and without username auth; socks5h:// and --proxy-only
# keeping DNS, UDP and ping in; the destination's name in the proxies' logs;
# curl, python3 urllib and busybox wget as clients; failures as an RST with a
# reason on stderr; the password in no output; bulk both ways (a half-close
# through SOCKS5). As root and as a user. With NETPEN_E2E_BACKEND=rootful
# the same cases run through --root's TPROXY path.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  check_status "hidden.lab.test refuses direct connections" 7 \
    in_host curl -sS -m 10 http://hidden.lab.test/whoami
  e2e_finish
fi

LOGS=$LAB_DIR/logs
HTTP=http://proxy.lab.test:3128
AUTH=http://proxy.lab.test:3129
SECRET=labpass
pwfile=$LAB_TMP/proxy-password
printf '%s\n' "$SECRET" > "$pwfile"
chmod 0644 "$pwfile"

# pnp USER [ENV=VALUE...] -- NETPEN ARGS...: netpen with an environment
# (for `run`, which calls pnp_argv).
pnp_argv() {
  local who=$1
  shift
  local -a envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  in_host_argv --as "$who" env "${envs[@]}" "$E2E_NETPEN" "$@"
}

# Lines a log gained since the mark: log_since FILE MARK (also for `run`).
# Without a mark (its stat failed) it fails, rather than show the whole log.
# shellcheck disable=SC2016 # expanded by the inner sh
log_since_argv() {
  if [[ $2 =~ ^[0-9]+$ ]]; then E2E_ARGV=(tail -c +"$(($2 + 1))" "$1")
  else E2E_ARGV=(sh -c 'echo "no mark for $0" >&2; exit 1' "$1"); fi
}
log_since() { log_since_argv "$@" && "${E2E_ARGV[@]}"; }
# check_log DESC EREGEX FILE MARK: a line the log gained since MARK matches;
# waits up to 5 s, since a proxy may log a request after answering it.
log_has() { log_since "$2" "$3" | grep -qE -- "$1"; }
check_log() {
  wait_for 5 log_has "$2" "$3" "$4" || true
  check_match "$1" "$2" "$(log_since "$3" "$4")"
}
mark() { stat -c %s "$1"; }

urllib="import urllib.request; print(urllib.request.urlopen('http://hidden.lab.test/whoami', timeout=20).read().decode().strip())"
whoami_re='^(203\.0\.113\.30|2001:db8:2::30)$'

for who in $(e2e_users); do
  check_status "[$who] without a proxy hidden.lab.test refuses (curl exit 7)" 7 \
    np --as "$who" -- curl -sS -m 10 http://hidden.lab.test/whoami

  # --- HTTP CONNECT (tinyproxy)
  m=$(mark "$LOGS/tinyproxy.log")
  run np --as "$who" -p "$HTTP" -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] curl over HTTP CONNECT" "$whoami_re" "$OUT"
  check_log "[$who] ... the proxy was asked for the name" 'CONNECT hidden\.lab\.test:80 HTTP' "$LOGS/tinyproxy.log" "$m"
  m=$(mark "$LOGS/tinyproxy.log")
  run np --as "$who" -p "$HTTP" -- curl -fsS -m 20 --cacert "$LAB_CA" https://hidden.lab.test/whoami
  check_match "[$who] HTTPS through the CONNECT tunnel" "$whoami_re" "$OUT"
  check_log "[$who] ... CONNECT hidden.lab.test:443" 'CONNECT hidden\.lab\.test:443 HTTP' "$LOGS/tinyproxy.log" "$m"
  run np --as "$who" -p "$HTTP" -- python3 -c "$urllib"
  check_match "[$who] python3 urllib through the proxy (no proxy variables)" "$whoami_re" "$OUT"
  run np --as "$who" -p "$HTTP" -- timeout 30 busybox wget -q -O - http://hidden.lab.test/whoami
  check_match "[$who] busybox wget through the proxy" "$whoami_re" "$OUT"
  run np --as "$who" -p "$HTTP" -- curl -6 -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] an IPv6 destination goes to the proxy by name" "$whoami_re" "$OUT"
  run np --as "$who" -p "http://[2001:db8:2::20]:3128" -- curl -4 -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] a proxy given as an IPv6 literal" "$whoami_re" "$OUT"
  run np --as "$who" -p "$HTTP" -- sh -c \
    "curl -fsS -m 60 -r 0-52428799 http://hidden.lab.test/big.bin | sha256sum | cut -d' ' -f1"
  check_eq "[$who] 50 MB through the proxy, sha256 matches" \
    "$(head -c 52428800 "$LAB_DIR/www/big.bin" | sha256sum | cut -d' ' -f1)" "$OUT"

  # --- Basic auth (tinyproxy on 3129)
  run np --as "$who" -p "$AUTH" -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] no credentials: the child's connect is reset (curl exit 7)" 7 "$RC"
  check_match "[$who] ... with the proxy's status on stderr" 'proxy failed: tcp .*hidden\.lab\.test.*407' "$ERR"
  m=$(mark "$LOGS/tinyproxy-auth.log")
  run np --as "$who" -p "$AUTH" -U labuser -P "$SECRET" -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] -U/-P: Basic auth accepted" "$whoami_re" "$OUT"
  check_match "[$who] ... a warning suggests the variable or file" 'NETPEN_PROXY_PASSWORD or --proxy-password-file' "$ERR"
  check_log "[$who] ... the authenticated CONNECT names the host" 'CONNECT hidden\.lab\.test:80' "$LOGS/tinyproxy-auth.log" "$m"
  run pnp "$who" NETPEN_PROXY_PASSWORD="$SECRET" -- -p "http://labuser@proxy.lab.test:3129" -- \
    curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] user in the URI, password from NETPEN_PROXY_PASSWORD" "$whoami_re" "$OUT"
  check_eq "[$who] ... no command-line warning then" "" "$ERR"
  run np --as "$who" -p "$AUTH" -U labuser --proxy-password-file "$pwfile" -- python3 -c "$urllib"
  check_match "[$who] --proxy-password-file" "$whoami_re" "$OUT"
  run np --as "$who" -v -p "http://labuser:wrong-$SECRET@proxy.lab.test:3129" -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] a wrong password: reset" 7 "$RC"
  check_match "[$who] ... the proxy's refusal is reported" 'proxy failed: .*(401|407)' "$ERR"
  check_eq "[$who] ... and the password appears nowhere" "" "$(grep -F "wrong-$SECRET" <<< "$OUT$ERR")"
  check_match "[$who] ... the proxy is shown redacted" 'labuser:\*\*\*@proxy\.lab\.test:3129' "$ERR"

  # --- HTTPS proxies (stunnel in front of tinyproxy)
  run pnp "$who" SSL_CERT_FILE="$LAB_CA" -- -p https://proxy.lab.test:3443 -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] HTTPS proxy with a trusted CA" "$whoami_re" "$OUT"
  run np --as "$who" -p https://proxy.lab.test:3443 -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] HTTPS proxy with an unknown CA: reset" 7 "$RC"
  check_match "[$who] ... TLS failure named" 'TLS with the proxy failed: .*(issuer|self.signed|verify)' "$ERR"
  run np --as "$who" -p https://proxy.lab.test:3444 --proxy-insecure -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] self-signed HTTPS proxy with --proxy-insecure" "$whoami_re" "$OUT"
  run np --as "$who" -p https://proxy.lab.test:3444 -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] self-signed without --proxy-insecure: reset" 7 "$RC"
  run pnp "$who" SSL_CERT_FILE="$LAB_CA" -- -p https://203.0.113.20:3443 -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] HTTPS proxy by IP address: the certificate's IP name matches" "$whoami_re" "$OUT"
  hosts=$LAB_TMP/hosts-alias
  { cat "$LAB_DIR/hosts"; echo "203.0.113.20 alias.lab.test"; } > "$hosts"
  chmod 0644 "$hosts"
  e2e_user_opt "$who"
  run "$E2E_SRC/scripts/lab" exec "$E2E_LAB" host "${E2E_UOPT[@]}" --hosts "$hosts" -- \
    "$E2E_NETPEN" -p https://alias.lab.test:3444 --proxy-insecure -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] --proxy-insecure still checks the name (alias.lab.test): reset" 7 "$RC"
  check_match "[$who] ... hostname mismatch reported" 'TLS with the proxy failed: .*[Hh]ostname mismatch' "$ERR"

  # --- SOCKS5 (dante)
  m=$(mark "$LOGS/danted.log")
  run np --as "$who" -p socks5://proxy.lab.test:1080 -- curl -fsS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] SOCKS5 without auth" "$whoami_re" "$OUT"
  check_log "[$who] ... ATYP domain with the name" 'ATYP: 3 address: hidden\.lab\.test\.80' "$LOGS/danted.log" "$m"
  run np --as "$who" -p socks5://proxy.lab.test:1080 -- sh -c \
    "head -c 30000000 '$LAB_DIR/www/big.bin' | socat -t 60 -T 120 - TCP:hidden.lab.test:9000"
  check_eq "[$who] 30 MB upload through SOCKS5, then a half-close: the sink's count and sha256" \
    "30000000 $(head -c 30000000 "$LAB_DIR/www/big.bin" | sha256sum | cut -d' ' -f1)" "$OUT"
  run np --as "$who" -p socks5://203.0.113.20:1080 -- curl -fsS -m 20 http://203.0.113.30/whoami
  check_match "[$who] SOCKS5 to an address the tree never looked up (ATYP IPv4)" "$whoami_re" "$OUT"
  m=$(mark "$LOGS/danted-auth.log")
  run pnp "$who" NETPEN_PROXY_PASSWORD=socks-secret -- -p socks5://proxy.lab.test:1081 -U netpen-socks -- \
    curl -fsS -m 20 --cacert "$LAB_CA" https://hidden.lab.test/whoami
  check_match "[$who] SOCKS5 with username/password (RFC 1929)" "$whoami_re" "$OUT"
  check_log "[$who] ... dante saw the user" 'username%netpen-socks@' "$LOGS/danted-auth.log" "$m"
  run pnp "$who" NETPEN_PROXY_PASSWORD=bad-secret -- -p socks5://proxy.lab.test:1081 -U netpen-socks -- \
    curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] SOCKS5 wrong password: reset" 7 "$RC"
  check_match "[$who] ... reason given" 'rejected the user name or password' "$ERR"
  run np --as "$who" -p socks5://proxy.lab.test:1081 -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_match "[$who] SOCKS5 proxy wanting auth, none given: reason given" 'authentication' "$ERR"

  # --- socks5h: names resolved only by the proxy
  m=$(mark "$LOGS/dns-a.log")
  run np --as "$who" -p socks5h://proxy.lab.test:1080 -- sh -c \
    'getent ahostsv4 hidden.lab.test | head -n1 | cut -d" " -f1; curl -fsS -m 20 http://hidden.lab.test/whoami'
  check_match "[$who] socks5h: the name gets a synthetic address" '^198\.1[89]\.' "$(head -n1 <<< "$OUT")"
  check_match "[$who] ... and the connection works by name" "$whoami_re" "$(tail -n1 <<< "$OUT")"
  check_no_match "[$who] ... no DNS query from the host side for hidden.lab.test" 'hidden.lab.test from 198.51.100.2' \
    log_since "$LOGS/dns-a.log" "$m"

  # --- --proxy-only
  run np --as "$who" -p "$HTTP" --proxy-only -- sh -c '
    curl -fsS -m 20 http://hidden.lab.test/whoami
    ping -c 1 -W 3 203.0.113.10 > /dev/null 2>&1; echo "ping=$?"
    dig +short +tries=1 +time=3 TXT resolver.lab.test; echo "dig=$?"
    python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.connect((\"203.0.113.10\", 7)); s.send(b\"x\")
try:
    s.recv(10); print(\"udp=answered\")
except OSError as e:
    print(\"udp=\" + type(e).__name__)"'
  check_match "[$who] --proxy-only: TCP through the proxy works" "$whoami_re" "$(head -n1 <<< "$OUT")"
  check_match "[$who] ... ping is refused" '^ping=1$' "$OUT"
  check_match "[$who] ... UDP is refused at once (admin-prohibited)" '^udp=OSError$' "$OUT"
  check_match "[$who] ... DNS does not leave (no TXT record)" '^dig=0$' "$OUT"
  check_match "[$who] ... denied ICMP reported" 'denied: icmp .*203\.0\.113\.10' "$ERR"
  check_match "[$who] ... denied UDP reported" 'denied: udp .*203\.0\.113\.10:7' "$ERR"

  # --- proxy failures
  run np --as "$who" -p http://proxy.lab.test:9 -- curl -sS -m 20 http://hidden.lab.test/whoami
  check_eq "[$who] proxy port closed: reset" 7 "$RC"
  check_match "[$who] ... cannot reach the proxy" 'cannot reach the proxy' "$ERR"
  run np --as "$who" -p http://no-such-proxy.lab.test:3128 -- touch "$LAB_TMP/ran-$who"
  check_eq "[$who] unresolvable proxy host: exit 1" 1 "$RC"
  check_match "[$who] ... one error line" '^netpen: error: cannot resolve the proxy host .no-such-proxy\.lab\.test.' "$ERR"
  check_eq "[$who] ... and the command never ran" no "$([[ -e $LAB_TMP/ran-$who ]] && echo yes || echo no)"
done
e2e_finish
