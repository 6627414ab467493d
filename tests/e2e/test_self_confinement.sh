#!/usr/bin/env bash
# e2e: netpen confines itself once the sandbox is up (app/confine/), as root
# and as the test user, rootless and (NETPEN_E2E_BACKEND=rootful) with
# --root. While a command runs, every thread of netpen shows "Seccomp: 2"
# and "NoNewPrivs: 1"; the tree does not inherit netpen's filter (it can
# still execve, which netpen cannot, and its own Seccomp field is 0);
# NETPEN_DEBUG=1 lists the allowed calls. The test-only hook
# NETPEN_TEST_FORBIDDEN_SYSCALL=SECONDS makes netpen make a forbidden call
# (a personality query) that long after set-up: netpen stops with one
# clear line naming the call and status 159, a long-running tree (sleep) is
# gone within 10 s, `netpen cleanup` exits 0 and leaves nothing (records,
# links, nftables tables, sysctls), and the next run works. The same for
# `create`'s daemon: confined on every thread while it serves, execs and
# destroy work under the filter, and the hook stops it and its sandbox
# (its daemon.log names the call; cleanup removes what is left).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "self-confinement" "netpen-only checks, NETPEN_E2E_DIRECT=1"
  e2e_finish
fi

if ! in_host env NETPEN_DEBUG=1 "$E2E_NETPEN" -- true 2>&1 | grep -q 'self-confinement: [0-9]* system calls allowed'; then
  if in_host env NETPEN_DEBUG=1 "$E2E_NETPEN" -- true 2>&1 | grep -q 'self-confinement: off'; then
    skip "self-confinement" "this build does not confine itself (sanitizers)"
    e2e_finish
  fi
fi

# with_env VAR=VALUE... -- (after np_argv/sbx_argv): netpen gets VAR=VALUE
# (scripts/lab exec does not pass the caller's environment on).
with_env() {
  local -a out=() vars=()
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  local a
  for a in "${E2E_ARGV[@]}"; do
    if [[ $a == "$E2E_NETPEN" ]]; then out+=(env "${vars[@]}" "$a"); else out+=("$a"); fi
  done
  E2E_ARGV=("${out[@]}")
}

field() {
  sbx --as "$1" list --format json 2> /dev/null |
    python3 -c "import json,sys; l=[s for s in json.load(sys.stdin) if s['name']=='$2']; print(l[0]['$3'] if l else '')"
}

# shellcheck disable=SC2317 # called through wait_for
confined() { grep -q '^Seccomp:[[:space:]]*2$' "/proc/$1/status" 2> /dev/null; }
# shellcheck disable=SC2317
gone() { ! kill -0 "$1" 2> /dev/null; }
# every_thread_confined PID: "Seccomp: 2" and "NoNewPrivs: 1" in each task's status; prints the offenders.
every_thread_confined() {
  local t bad=0 n=0
  for t in /proc/"$1"/task/*; do
    ((n++))
    if ! grep -q '^Seccomp:[[:space:]]*2$' "$t/status" || ! grep -q '^NoNewPrivs:[[:space:]]*1$' "$t/status"; then
      echo "task ${t##*/}: $(grep -E '^(Seccomp|NoNewPrivs):' "$t/status" | tr '\n' ' ')"
      bad=1
    fi
  done
  ((n > 1)) || { echo "only $n task(s): the relay's threads are missing"; bad=1; }
  return "$bad"
}
tree_sleep_left() { pgrep -f "^sleep $1\$" > /dev/null; }
records() { ls -1 /run/netpen 2> /dev/null | sort; }
host_links() { in_host sh -c "ip -br link | grep -o '^np[0-9a-f]*' || true; nft list tables | grep netpen || true"; }
# cleanup_argv WHO: `netpen cleanup` as WHO (rootful: as root, whose runs they are).
cleanup_argv() { if is_rootful; then in_host_argv "$E2E_NETPEN" cleanup; else in_host_argv --as "$1" "$E2E_NETPEN" cleanup; fi; }

run_test() {
  local who=$1 bg detail status marker=$((300 + RANDOM % 600))
  np_argv --as "$who" -- sleep "$marker"
  LAB_EXEC_REPLACE=1 "${E2E_ARGV[@]}" > /dev/null 2>&1 < /dev/null &
  bg=$!
  if wait_for 20 confined "$bg"; then
    if detail=$(every_thread_confined "$bg"); then ok "[$who] a running netpen: every thread has Seccomp 2 and NoNewPrivs 1"
    else not_ok "[$who] a running netpen: every thread has Seccomp 2 and NoNewPrivs 1" "$detail"; fi
  else
    not_ok "[$who] a running netpen confines itself within 20 s" "$(grep -E '^(Seccomp|NoNewPrivs):' "/proc/$bg/status" 2>&1)"
  fi
  kill -TERM "$bg" 2> /dev/null
  wait "$bg" 2> /dev/null

  run np --as "$who" -- sh -c 'exec grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
  check_eq "[$who] the tree can still execve (netpen cannot): exit 0" 0 "$RC"
  check_match "[$who] ... and does not carry netpen's filter (Seccomp 0)" '^Seccomp:[[:space:]]*0$' "$OUT"

  np_argv --as "$who" -- true
  with_env NETPEN_DEBUG=1 --
  run "${E2E_ARGV[@]}"
  check_match "[$who] NETPEN_DEBUG=1 lists the allowed calls" \
    'netpen: debug: self-confinement: [0-9]+ system calls allowed.*: brk, mmap \(never PROT_WRITE\|PROT_EXEC\)' "$ERR"
  check_no_match "[$who] ... not execve" '[ :]execve[ ,(]' printf '%s\n' "$ERR"

  # The hook: a forbidden call 2 s after set-up, while `sleep` runs.
  local records_before links_before
  records_before=$(records) links_before=$(host_links)
  np_argv --as "$who" -- sleep "$marker"
  with_env NETPEN_TEST_FORBIDDEN_SYSCALL=2 --
  run "${E2E_ARGV[@]}"
  check_eq "[$who] a forbidden call stops netpen: status 159" 159 "$RC"
  check_match "[$who] ... with one clear line naming the call" \
    "^netpen: error: self-confinement: netpen made the forbidden system call personality; netpen and its tree are stopped" "$ERR"
  if wait_for 10 sh -c "! pgrep -f '^sleep $marker\$' > /dev/null"; then ok "[$who] ... the tree (sleep) is gone within 10 s"
  else not_ok "[$who] ... the tree (sleep) is gone within 10 s" "$(pgrep -af "^sleep $marker\$")"; fi
  cleanup_argv "$who"
  run "${E2E_ARGV[@]}"
  check_eq "[$who] netpen cleanup afterwards: exit 0" 0 "$RC"
  check_no_match "[$who] ... leaves nothing alone" 'left alone|kept|failed' printf '%s\n' "$OUT"
  check_eq "[$who] ... no record left in /run/netpen" "$records_before" "$(records)"
  check_eq "[$who] ... no link or nftables table left" "$links_before" "$(host_links)"
  run np --as "$who" -- sh -c 'curl -fsS -m 20 http://10.77.0.10/whoami'
  check_eq "[$who] the next run works" "10.77.0.10" "$OUT"
}

daemon_log() { # daemon_log WHO NAME: the sandbox's daemon.log, wherever its state dir is
  local home uid
  home=$(getent passwd "$1" | cut -d: -f6) uid=$(id -u "$1")
  is_rootful && { home=/root uid=0; }
  cat /run/netpen-sandboxes/"$2"/daemon.log /run/user/"$uid"/netpen/sandboxes/"$2"/daemon.log \
    "$home"/.local/state/netpen/sandboxes/"$2"/daemon.log 2> /dev/null
}

daemon_test() {
  local who=$1 name=conf-$1-$RANDOM daemon init detail links_before
  links_before=$(host_links)
  run sbx --as "$who" create "$name"
  check_eq "[$who] create: exit 0" 0 "$RC"
  daemon=$(field "$who" "$name" daemon_pid) init=$(field "$who" "$name" init_pid)
  if [[ -n $daemon ]] && wait_for 10 confined "$daemon" && detail=$(every_thread_confined "$daemon"); then
    ok "[$who] create's daemon: every thread has Seccomp 2 and NoNewPrivs 1"
  else
    not_ok "[$who] create's daemon: every thread has Seccomp 2 and NoNewPrivs 1" "pid '$daemon': ${detail:-}"
  fi
  run sbx --as "$who" exec "$name" -- sh -c 'exec curl -fsS -m 20 http://10.77.0.10/whoami'
  check_eq "[$who] an exec under the confined daemon reaches a server" "10.77.0.10" "$OUT"
  run sbx --as "$who" list
  check_match "[$who] list shows it live" "^$name +live " "$OUT"
  run sbx --as "$who" destroy "$name"
  check_eq "[$who] destroy under the filter: exit 0" 0 "$RC"
  if [[ -n $daemon ]] && wait_for 10 gone "$daemon" && wait_for 10 gone "${init:-0}"; then ok "[$who] ... daemon and init gone"
  else not_ok "[$who] ... daemon and init gone" "daemon $daemon init $init"; fi
  check_eq "[$who] ... no link or nftables table left" "$links_before" "$(host_links)"

  # The hook in the daemon: it stops itself and its sandbox 2 s after it is ready.
  name=hook-$1-$RANDOM
  local marker=$((300 + RANDOM % 600))
  sbx_argv --as "$who" create "$name"
  with_env NETPEN_TEST_FORBIDDEN_SYSCALL=3 --
  run "${E2E_ARGV[@]}"
  check_eq "[$who] create with the hook: exit 0 (ready first)" 0 "$RC"
  daemon=$(field "$who" "$name" daemon_pid) init=$(field "$who" "$name" init_pid)
  sbx --as "$who" exec "$name" -- sh -c "sleep $marker </dev/null >/dev/null 2>&1 &" > /dev/null 2>&1
  if [[ -n $daemon ]] && wait_for 15 gone "$daemon"; then ok "[$who] the hook stops the daemon"
  else not_ok "[$who] the hook stops the daemon" "daemon '$daemon' runs"; fi
  if wait_for 10 gone "${init:-0}" && wait_for 10 sh -c "! pgrep -f '^sleep $marker\$' > /dev/null"; then
    ok "[$who] ... its init and processes are gone within 10 s"
  else not_ok "[$who] ... its init and processes are gone within 10 s" "init $init: $(pgrep -af "^sleep $marker\$")"; fi
  check_match "[$who] ... its daemon.log names the call" \
    "^netpen: error: self-confinement: netpen made the forbidden system call personality" "$(daemon_log "$who" "$name")"
  run sbx --as "$who" cleanup
  check_eq "[$who] cleanup: exit 0" 0 "$RC"
  check_match "[$who] ... removes the sandbox" "sandbox $name \(daemon pid $daemon, gone\): removed" "$OUT"
  check_eq "[$who] ... no link or nftables table left" "$links_before" "$(host_links)"
}

for who in $(e2e_users); do
  run_test "$who"
  daemon_test "$who"
done

e2e_finish
