#!/usr/bin/env bash
# e2e: the Unix-socket guard (--block-unix, on by itself under --offline and
# every default-deny policy; docs/policy.md). Real host-side servers on Unix
# sockets in a directory of the lab's tmp (a stream echo server, a datagram
# sink, an HTTP server) and real clients in the tree (python3, curl
# --unix-socket): refused under --offline, an allow-list and --block-unix;
# allowed by --allow-unix FILE or DIR with the reply coming back; the
# default mode still connects; IPC inside the tree works (a path the tree
# bound, socketpair, abstract, datagrams); a datagram to the host sink is
# refused and never arrives; attacks: a thread flipping the connect()
# address between an inside socket and the host one, a symlink flipped the
# same way, a forked child and a thread: none reaches the host server. The
# flow log has one denied event per refusal naming the process and path;
# `create --block-unix` + `exec` is guarded too. As root and netpen-test.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "unix guard checks" "netpen-only"
  e2e_finish
fi

D=$LAB_TMP/unixguard
CLIENT=$D/client.py
SERVERS_PID=
SANDBOX=
# shellcheck disable=SC2317 # the trap
cleanup_guard() {
  [[ -z $SANDBOX ]] || in_host "$E2E_NETPEN" destroy "$SANDBOX" > /dev/null 2>&1
  [[ -z $SERVERS_PID ]] || { kill "$SERVERS_PID" 2> /dev/null; wait "$SERVERS_PID" 2> /dev/null; }
  rm -rf "$D"
}
trap 'rc=$?; cleanup_guard; (exit $rc); e2e_teardown' EXIT

must mkdir -p "$D"
must chmod 0755 "$D"
must cp "$(dirname "${BASH_SOURCE[0]}")/unix_guard/client.py" "$CLIENT"
must chmod 0644 "$CLIENT"
timeout 900 python3 "$(dirname "${BASH_SOURCE[0]}")/unix_guard/servers.py" "$D" &
SERVERS_PID=$!
must wait_for 10 test -e "$D/ready"
HOST=$D/host.sock
accepted() { wc -l < "$D/host.log" 2> /dev/null || echo 0; }
must test "$(python3 "$CLIENT" connect "$HOST")" = "REPLY pong:hi"  # the server works without netpen

for who in $(e2e_users); do
  # A directory of the tree's own (the tree binds sockets in it).
  T=$D/tree-$who
  must mkdir -p "$T"
  must chown "$who" "$T"

  check_output_eq "[$who] default mode: the host socket is reachable (documented)" "REPLY pong:hi" \
    np --as "$who" -- python3 "$CLIENT" connect "$HOST"
  check_output_eq "[$who] --offline: connect refused (EACCES)" "ERR EACCES" \
    np --as "$who" --offline -- python3 "$CLIENT" connect "$HOST"
  check_match "[$who] ... and netpen says so, naming the path" "denied: unix .*$HOST" "$ERR"
  check_output_eq "[$who] an allow-list: connect refused" "ERR EACCES" \
    np --as "$who" --allow web.lab.test -- python3 "$CLIENT" connect "$HOST"
  check_output_eq "[$who] --block-unix: connect refused" "ERR EACCES" \
    np --as "$who" --block-unix -- python3 "$CLIENT" connect "$HOST"
  check_output_eq "[$who] --offline --allow-unix FILE: the reply comes back" "REPLY pong:hi" \
    np --as "$who" --offline --allow-unix "$HOST" -- python3 "$CLIENT" connect "$HOST"
  check_output_eq "[$who] --offline --allow-unix DIR: the reply comes back" "REPLY pong:hi" \
    np --as "$who" --offline --allow-unix "$D" -- python3 "$CLIENT" connect "$HOST"
  check_output_eq "[$who] --allow-unix another file: still refused" "ERR EACCES" \
    np --as "$who" --offline --allow-unix "$D/http.sock" -- python3 "$CLIENT" connect "$HOST"
  check_status "[$who] curl --unix-socket under --offline: refused (exit 7)" 7 \
    np --as "$who" --offline -- curl -sS -m 10 --unix-socket "$D/http.sock" http://localhost/
  check_output_eq "[$who] curl --unix-socket with --allow-unix: the page" "unix-http-ok" \
    np --as "$who" --offline --allow-unix "$D/http.sock" -- curl -sS -m 10 --unix-socket "$D/http.sock" http://localhost/

  check_output_eq "[$who] IPC inside the tree keeps working under --offline" \
    "path REPLY inside
socketpair pair
abstract abstract
dgram dgram" np --as "$who" --offline -- python3 "$CLIENT" ipc "$T"
  rm -f "$T"/*.sock

  : > "$D/dgram.log"
  check_output_eq "[$who] a datagram to the host sink: refused" "ERR EACCES" \
    np --as "$who" --offline -- python3 "$CLIENT" dgram "$D/dgram.sock"
  sleep 0.5
  check_eq "[$who] ... and the sink received nothing" "" "$(cat "$D/dgram.log")"
  check_output_eq "[$who] a datagram with --allow-unix arrives" "SENT" \
    np --as "$who" --offline --allow-unix "$D/dgram.sock" -- python3 "$CLIENT" dgram "$D/dgram.sock"
  must wait_for 5 grep -q from-tree "$D/dgram.log"
  ok "[$who] ... and the sink received it"

  before=$(accepted)
  run np --as "$who" --offline -- python3 "$CLIENT" race "$T" "$HOST" 600
  check_match "[$who] TOCTOU: a thread flipping the address never reaches the host" \
    "^inside [1-9][0-9]* refused [1-9][0-9]* host-replies 0$" "$OUT"
  check_eq "[$who] ... the host server accepted nothing" "$before" "$(accepted)"
  rm -f "$T"/*.sock
  run np --as "$who" --offline -- python3 "$CLIENT" symlink "$T" "$HOST" 300
  check_match "[$who] a symlink flipped between inside and host never reaches the host" \
    "^inside [0-9]+ refused [0-9]+ host-replies 0$" "$OUT"
  check_eq "[$who] ... the host server accepted nothing" "$before" "$(accepted)"
  rm -f "$T"/*

  check_output_eq "[$who] a forked child is guarded" "child ERR EACCES" \
    np --as "$who" --offline -- python3 "$CLIENT" fork "$HOST"
  check_output_eq "[$who] a second thread is guarded" "thread ERR EACCES" \
    np --as "$who" --offline -- python3 "$CLIENT" thread "$HOST"

  log=$T/flow.jsonl
  run np --as "$who" --offline --log "$log" -- sh -c \
    "python3 $CLIENT connect $HOST; python3 $CLIENT connect $HOST; curl -s -m 5 --unix-socket $D/http.sock http://x/ || true"
  check_eq "[$who] the flow log has one denied event per refusal (3)" 3 \
    "$(grep -c '"event":"denied".*"protocol":"unix"' "$log")"
  check_match "[$who] ... naming the process and the path" \
    "\"dst\":\"$HOST\".*\"process\":\\{\"pid\":[0-9]+,\"sandbox_pid\":[0-9]+,\"command\":\"python3 $CLIENT connect $HOST\"" \
    "$(cat "$log")"
  check_status "[$who] --fail-on-leak counts a refusal" 1 \
    np --as "$who" --offline --fail-on-leak -- python3 "$CLIENT" connect "$HOST"
done

check_status "--allow-unix without a guard: exit 2" 2 np --allow-unix "$HOST" -- true
check_match "... one clear error" "^netpen: error: --allow-unix requires" "$ERR"

# A persistent sandbox: create --block-unix, then exec into it.
SANDBOX=ug-$RANDOM
extra=()
is_rootful && extra=(--root)
check "create --block-unix" in_host "$E2E_NETPEN" create "$SANDBOX" --block-unix "${extra[@]}"
check_output_eq "exec in it: connect refused" "ERR EACCES" in_host "$E2E_NETPEN" exec "$SANDBOX" -- python3 "$CLIENT" connect "$HOST"
check_output_eq "exec in it: IPC inside works" "path REPLY inside
socketpair pair
abstract abstract
dgram dgram" in_host "$E2E_NETPEN" exec "$SANDBOX" -- python3 "$CLIENT" ipc "$D/tree-root"
check "destroy" in_host "$E2E_NETPEN" destroy "$SANDBOX"
SANDBOX=
e2e_finish
