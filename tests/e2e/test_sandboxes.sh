#!/usr/bin/env bash
# e2e: persistent named sandboxes (create, exec, list, destroy, cleanup), as
# root and as the unprivileged user, rootless and (NETPEN_E2E_BACKEND=rootful)
# with --root. Two execs share one network namespace (a server one starts in
# the background is reached by another on 127.0.0.1), exit statuses and
# stdin/stdout pass through, the policy applies to every exec, one flow log
# holds both execs' events with their process names, list shows the sandbox
# live, destroy leaves no process, link, nftables table or file; an unknown
# name, an existing name and exec into a destroyed sandbox are one clear
# error each; a sandbox whose daemon was killed is listed dead and `netpen
# cleanup` removes it, leaving nothing. --host-port and --publish work in a
# sandbox as in a run. As root: --exec-group lets a member
# exec as itself and refuses a non-member. On a terminal (tmux): bash in a
# sandbox is interactive with job control; with `create --interactive` a
# process's question is asked on its exec's terminal (and denied at once for
# an exec without one).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "sandbox checks" "netpen-only"
  e2e_finish
fi

# The owner of a user's sandboxes: rootful sandboxes are root's (made under sudo).
owner_of() { if is_rootful; then echo root; else echo "$1"; fi; }

# field WHO NAME KEY: a key of NAME's entry in `netpen list --format json`.
field() {
  sbx --as "$1" list --format json 2> /dev/null |
    python3 -c "import json,sys; l=[s for s in json.load(sys.stdin) if s['name']=='$2']; print(l[0]['$3'] if l else '')"
}
# shellcheck disable=SC2317 # called through wait_for
gone() { ! kill -0 "$1" 2> /dev/null; }
# check_gone DESC PID: the process ends (within 10 s).
check_gone() { if [[ -n $2 ]] && wait_for 10 gone "$2"; then ok "$1"; else not_ok "$1" "pid '${2}' still runs"; fi; }
# Host state a rootful sandbox changes: links named np*, nftables netpen tables.
host_links_argv() { in_host_argv sh -c "ip -br link | grep -o '^np[0-9a-f]*' || true; nft list tables | grep netpen || true"; }
host_links() { host_links_argv && "${E2E_ARGV[@]}"; }
# elapsed CMD...: runs CMD (via `run`), sets MS to its wall time.
elapsed() {
  local t0
  t0=$(date +%s%N)
  run "$@"
  MS=$((($(date +%s%N) - t0) / 1000000))
}

CREATED=()
# shellcheck disable=SC2317 # the trap
cleanup_all() {
  local entry
  for entry in "${CREATED[@]}"; do sbx --as "${entry%%:*}" destroy "${entry#*:}" > /dev/null 2>&1; done
  [[ -z ${GROUP:-} ]] || { gpasswd -d netpen-test "$GROUP" > /dev/null 2>&1; groupdel "$GROUP" 2> /dev/null; }
  [[ -z ${T_SOCK:-} ]] || in_host --as "$T_WHO" tmux -S "$T_SOCK" kill-server 2> /dev/null
}
# Ours first, then the lab's own tear-down (with the test's exit status).
trap 'rc=$?; cleanup_all; (exit $rc); e2e_teardown' EXIT

lifecycle_test() {
  local who=$1 name=sb-$1-$RANDOM log=$LAB_TMP/sbx-$1.jsonl daemon init links_before
  rm -f "$log"
  links_before=$(host_links)
  CREATED+=("$who:$name")
  run sbx --as "$who" create "$name" --deny 203.0.113.10 --log "$log"
  check_eq "[$who] create returns 0 once the sandbox is ready" 0 "$RC"
  check_eq "[$who] ... and prints nothing" "" "$ERR"
  daemon=$(field "$who" "$name" daemon_pid) init=$(field "$who" "$name" init_pid)
  check "[$who] its daemon and init run" kill -0 "${daemon:-0}" "${init:-0}"

  run sbx --as "$who" create "$name"
  check_eq "[$who] create of an existing name: exit 1" 1 "$RC"
  check_match "[$who] ... one clear error" "^netpen: error: a sandbox named '$name' already exists$" "$ERR"

  # Two execs share one namespace: a server started in the background by one
  # is reached by another on 127.0.0.1.
  run sbx --as "$who" exec "$name" -- sh -c \
    "socat TCP4-LISTEN:9555,bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo pong-from-sandbox' </dev/null >/dev/null 2>&1 &"
  check_eq "[$who] exec starts a server in the background" 0 "$RC"
  run sbx --as "$who" exec "$name" -- sh -c \
    'for i in $(seq 50); do out=$(socat -T2 - TCP4:127.0.0.1:9555 2>/dev/null) && [ -n "$out" ] && echo "$out" && exit 0; sleep 0.1; done; exit 1'
  check_eq "[$who] another exec reaches it on 127.0.0.1" "pong-from-sandbox" "$OUT"
  check_no_match "[$who] ... the host's loopback does not" "pong-from-sandbox" in_host sh -c "socat -T2 - TCP4:127.0.0.1:9555 2>&1; true"

  run sbx --as "$who" exec "$name" -- sh -c 'exit 7'
  check_eq "[$who] exit status passes through (7)" 7 "$RC"
  run sbx --as "$who" exec "$name" -- sh -c 'kill -TERM $$'
  check_eq "[$who] death by SIGTERM -> 143" 143 "$RC"
  run sbx --as "$who" exec "$name" -- sh -c 'echo to-stderr >&2; echo to-stdout'
  check_eq "[$who] stdout passes through" "to-stdout" "$OUT"
  check_eq "[$who] stderr passes through" "to-stderr" "$ERR"
  sbx_argv --as "$who" exec "$name" -- cat
  run sh -c 'echo piped-in | "$@"' sh "${E2E_ARGV[@]}"
  check_eq "[$who] stdin passes through (echo | exec cat)" "piped-in" "$OUT"
  run sbx --as "$who" exec "$name" -- id -un
  check_eq "[$who] the command runs as a run's would: as the user (least privilege)" "$who" "$OUT"
  # A signal to exec reaches the command (its trap runs; exec ends with its status).
  sbx_argv --as "$who" exec "$name" -- sh -c 'trap "echo got-term; exit 5" TERM; echo ready; sleep 30 & wait'
  run sh -c '"$@" > "$0" & p=$!; for i in $(seq 100); do grep -q ready "$0" 2>/dev/null && break; sleep 0.1; done
    kill -TERM $p; wait $p; echo "rc=$?"; cat "$0"' "$LAB_TMP/sbx-sig-$who" "${E2E_ARGV[@]}"
  check_eq "[$who] SIGTERM to exec reaches the command (trap ran, its status 5)" "rc=5
ready
got-term" "$OUT"
  run sbx --as "$who" exec "$name" -- nonexistent-command-xyz
  check_eq "[$who] a command that does not exist: 127" 127 "$RC"

  # The policy applies; events of both execs go to one log.
  elapsed sbx --as "$who" exec "$name" -- curl -sS -m 20 http://203.0.113.10/whoami
  check_eq "[$who] the denied lab server is refused (curl exit 7)" 7 "$RC"
  check "[$who] ... fast (under 3 s)" test "$MS" -lt 3000
  run sbx --as "$who" exec "$name" -- sh -c 'curl -fsS -m 20 http://10.77.0.10/whoami'
  check_eq "[$who] another server is reached" "10.77.0.10" "$OUT"
  run sbx --as "$who" exec "$name" -- python3 -c \
    "import urllib.request; print(urllib.request.urlopen('http://10.77.0.10/whoami', timeout=20).read().decode().strip())"
  check_eq "[$who] ... from a second exec too" "10.77.0.10" "$OUT"

  run sbx --as "$who" list
  check_match "[$who] list: the sandbox, live" "^$name +live +$(is_rootful && echo rootful || echo rootless) +$(owner_of "$who") " "$OUT"
  check_match "[$who] list: its policy in one line" "deny 203\.0\.113\.10$" "$OUT"
  check_eq "[$who] list --format json: live" live "$(field "$who" "$name" state)"
  check_eq "[$who] list --format json: one process left (the server)" 1 "$(field "$who" "$name" processes)"

  run sbx --as "$who" destroy "$name"
  check_eq "[$who] destroy: exit 0" 0 "$RC"
  check_gone "[$who] destroy: the daemon is gone" "$daemon"
  check_gone "[$who] destroy: the init (and the server) are gone" "$init"
  check_no_match "[$who] destroy: list no longer shows it" "^$name " sbx --as "$who" list
  check_output_eq "[$who] destroy: no link or nftables table left" "$links_before" host_links
  run sbx --as "$who" exec "$name" -- true
  check_eq "[$who] exec into a destroyed sandbox: exit 1" 1 "$RC"
  check_match "[$who] ... one clear error" "^netpen: error: exec: no sandbox named '$name'$" "$ERR"

  check_output_eq "[$who] one log: run_start first, run_end last; the denial; curl's and python3's flows named" \
    "run_start run_end denied:yes flows:curl,python3" python3 -c "
import json
ev = [json.loads(l) for l in open('$log')]
denied = 'yes' if any(e['event'] == 'denied' and e.get('dst') == '203.0.113.10:80' for e in ev) else 'no'
flows = sorted({e['process']['command'].split()[0].split('/')[-1] for e in ev
                if e['event'] == 'flow_close' and e.get('dst') == '10.77.0.10:80' and 'process' in e})
print(ev[0]['event'], ev[-1]['event'], 'denied:' + denied, 'flows:' + ','.join(flows))"
}

dead_test() {
  local who=$1 name=dead-$1-$RANDOM daemon init links_before
  links_before=$(host_links)
  CREATED+=("$who:$name")
  must sbx --as "$who" create "$name"
  daemon=$(field "$who" "$name" daemon_pid) init=$(field "$who" "$name" init_pid)
  must sbx --as "$who" exec "$name" -- sh -c 'sleep 317 </dev/null >/dev/null 2>&1 &'
  if [[ -z $daemon ]] || ! kill -9 "$daemon"; then
    not_ok "[$who] kill -9 the daemon" "no daemon pid"
    return
  fi
  wait_for 10 gone "$daemon"
  check_gone "[$who] killed daemon: its init died with it" "$init"
  check_eq "[$who] killed daemon: list shows it dead" dead "$(field "$who" "$name" state)"
  run sbx --as "$who" exec "$name" -- true
  check_eq "[$who] exec into a dead sandbox: exit 1" 1 "$RC"
  check_match "[$who] ... one clear error" "^netpen: error: exec: sandbox '$name' is dead" "$ERR"
  run sbx --as "$who" cleanup
  check_eq "[$who] cleanup: exit 0" 0 "$RC"
  check_match "[$who] cleanup names it" "sandbox $name \(daemon pid $daemon, gone\): removed" "$OUT"
  check_no_match "[$who] cleanup: list no longer shows it" "^$name " sbx --as "$who" list
  check_output_eq "[$who] cleanup: no link or nftables table left" "$links_before" host_links
  run in_host pgrep -f "sleep 31[7]"
  check_eq "[$who] cleanup: no process of it left" 1 "$RC"
}

errors_test() {
  local who=$1
  run sbx --as "$who" exec no-such-box -- true
  check_eq "[$who] exec into an unknown sandbox: exit 1" 1 "$RC"
  check_match "[$who] ... one clear error" "^netpen: error: exec: no sandbox named 'no-such-box'$" "$ERR"
  run sbx --as "$who" destroy no-such-box
  check_eq "[$who] destroy of an unknown sandbox: exit 1" 1 "$RC"
  run sbx --as "$who" create Bad.Name
  check_eq "[$who] a bad name: exit 2" 2 "$RC"
  check_match "[$who] ... one clear error" "^netpen: error: create: 'Bad.Name' is not a sandbox name" "$ERR"
}

# --exec-group (root only): a member execs as itself, others are refused.
exec_group_test() {
  local name=shared-$RANDOM out
  GROUP=npsbx$RANDOM
  if ! groupadd "$GROUP" || ! usermod -aG "$GROUP" netpen-test; then
    not_ok "[exec-group] make a group with netpen-test in it"
    return
  fi
  CREATED+=("root:$name")
  run sbx create "$name" --exec-group "$GROUP"
  check_eq "[exec-group] root creates a shared sandbox" 0 "$RC"
  run in_host --as netpen-test "$E2E_NETPEN" exec "$name" -- sh -c 'id -un; curl -fsS -m 20 http://10.77.0.10/whoami'
  check_eq "[exec-group] a member execs, as itself, with the sandbox's network" "netpen-test
10.77.0.10" "$OUT"
  run in_host setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --reset-env "$E2E_NETPEN" exec "$name" -- id -un
  check_eq "[exec-group] a non-member is refused: exit 1" 1 "$RC"
  check_match "[exec-group] ... with one clear error" "^netpen: error: exec: " "$ERR"
  check_eq "[exec-group] ... and ran nothing" "" "$OUT"
  run in_host --as netpen-test "$E2E_NETPEN" destroy "$name"
  check_eq "[exec-group] a member may not destroy it" 1 "$RC"
  run sbx destroy "$name"
  check_eq "[exec-group] root destroys it" 0 "$RC"
  gpasswd -d netpen-test "$GROUP" > /dev/null 2>&1
  groupdel "$GROUP"
  GROUP=""
}

T_WHO="" T_SOCK=""
tm() { in_host --as "$T_WHO" tmux -S "$T_SOCK" "$@"; }
pane() { tm capture-pane -p -J -S -200 -t sb 2> /dev/null; }
# shellcheck disable=SC2317 # called through wait_for
pane_has_line() { pane | grep -qxE -- "$1"; }
keys() { tm send-keys -t sb "$@"; }

terminal_test() {
  local who=$1 name=tty-$1-$RANDOM status=$LAB_TMP/sbx-status.$1 exec_cmd
  T_WHO=$who T_SOCK=$LAB_TMP/tmux-sbx.$who.sock
  rm -f "$status"
  CREATED+=("$who:$name")
  must sbx --as "$who" create "$name"
  sbx_argv --as "$who" exec "$name" -- bash --norc --noprofile -i
  # tmux runs as T_WHO already: only the netpen part of the command.
  if is_rootful; then exec_cmd="$(printf '%q ' "${E2E_ARGV[@]:5}")"; else exec_cmd="'$E2E_NETPEN' exec $name -- bash --norc --noprofile -i"; fi
  if is_rootful; then T_WHO=root; fi
  if ! tm new-session -d -s sb -x 120 -y 40 "$exec_cmd; echo \$? > '$status'; sleep 1"; then
    not_ok "[$who] tmux session starts"
    return
  fi
  keys 'echo $((6*7))' Enter
  if wait_for 15 pane_has_line 42; then ok "[$who] bash in the sandbox answers on the terminal"
  else not_ok "[$who] bash in the sandbox answers on the terminal" "$(pane)"; fi
  keys "sleep 100" Enter
  sleep 1
  keys C-z
  if wait_for 10 pane_has_line '\[1\]\+ +Stopped +sleep 100'; then ok "[$who] Ctrl-Z stops a job (job control)"
  else not_ok "[$who] Ctrl-Z stops a job (job control)" "$(pane)"; fi
  # `fg` brings the job back and Ctrl-C reaches it through the terminal, so
  # nothing is stopped when `exit` comes (bash refuses to exit with a stopped job).
  keys "fg" Enter
  wait_for 10 pane_has_line 'sleep 100' || true
  sleep 0.5
  keys C-c
  keys 'echo "back-$?"' Enter
  if wait_for 10 pane_has_line 'back-130'; then ok "[$who] fg resumes the job and Ctrl-C interrupts it"
  else not_ok "[$who] fg resumes the job and Ctrl-C interrupts it" "$(pane)"; fi
  keys "exit 3" Enter
  if wait_for 20 test -s "$status"; then
    check_eq "[$who] 'exit 3' ends the exec with status 3" 3 "$(cat "$status")"
  else
    not_ok "[$who] 'exit 3' ends the exec with status 3" "no status recorded; pane:
$(pane)"
  fi
  tm kill-server 2> /dev/null

  # Job control from the outside: when the command stops (SIGSTOP), exec
  # stops as a job of the user's shell; fg continues both. (Ctrl-Z on the
  # command itself is discarded by the kernel: it leads its own session,
  # an orphaned process group, as under `docker exec -t`; docs/sandboxes.md.)
  exec_cmd=${exec_cmd/bash --norc --noprofile -i/sleep 133}
  if ! tm new-session -d -s sb -x 120 -y 40 "bash --norc --noprofile -i"; then
    not_ok "[$who] tmux session (outer shell) starts"
    return
  fi
  keys "$exec_cmd" Enter
  if wait_for 10 in_host pkill -STOP -f "^sleep 13[3]"; then
    if wait_for 10 pane_has_line '\[1\]\+ +Stopped +.*exec.*sleep 133.*'; then ok "[$who] the command stopped: exec stops as a job of the shell"
    else not_ok "[$who] the command stopped: exec stops as a job of the shell" "$(pane)"; fi
  else
    not_ok "[$who] the command stopped: exec stops as a job of the shell" "no 'sleep 133' to stop"
  fi
  keys "fg" Enter
  sleep 1
  keys C-c
  keys 'echo "rc=$?"' Enter
  if wait_for 10 pane_has_line 'rc=130'; then ok "[$who] fg continues it; Ctrl-C then ends it (130)"
  else not_ok "[$who] fg continues it; Ctrl-C then ends it (130)" "$(pane)"; fi
  tm kill-server 2> /dev/null
  T_SOCK=""
  must sbx --as "$who" destroy "$name"
}

# A sandbox takes --host-port and --publish like a run: an exec reaches a
# server on the host's loopback at its own 127.0.0.1, and a server an exec
# starts inside is reached from the host through the published port.
ports_test() {
  local who=$1 name=sb-ports-$1-$RANDOM hp=$2 inside=$3 published=$4
  CREATED+=("$who:$name")
  run sbx --as "$who" create "$name" --offline --host-port "$hp" --publish "$published:$inside"
  check_eq "[$who] create with --host-port and --publish: exit 0" 0 "$RC"
  run sbx --as "$who" exec "$name" -- socat -T5 - "TCP4:127.0.0.1:$hp"
  check_eq "[$who] an exec reaches the host's loopback port (--offline allows exactly it)" "host-side" "$OUT"
  run sbx --as "$who" exec "$name" -- sh -c \
    "socat TCP-LISTEN:$inside,reuseaddr,fork SYSTEM:'echo sandbox-side' </dev/null >/dev/null 2>&1 &"
  check_eq "[$who] an exec starts a server inside" 0 "$RC"
  run in_host sh -c "for i in \$(seq 50); do out=\$(socat -T2 - TCP4:127.0.0.1:$published 2>/dev/null) && [ -n \"\$out\" ] && echo \"\$out\" && exit 0; sleep 0.1; done; exit 1"
  check_eq "[$who] the host reaches it on the published port" "sandbox-side" "$OUT"
  must sbx --as "$who" destroy "$name"
  run in_host socat -T2 - "TCP4:127.0.0.1:$published"
  check "[$who] destroy closed the published port" test "$RC" -ne 0
}

lab_spawn "$E2E_LAB" host sb-hostside socat TCP4-LISTEN:9601,bind=127.0.0.1,reuseaddr,fork "SYSTEM:echo host-side"
port_base=9610
# create --interactive: an exec without a terminal is denied at once (the
# event says why); bash in a tmux pane gets the question about its curl in
# that pane: y lets it through, n refuses the next one.
interactive_test() {
  local who=$1 name=ask-$1-$RANDOM status=$LAB_TMP/sbx-ask-status.$1 log=$LAB_TMP/sbx-ask-$1.jsonl exec_cmd
  T_WHO=$who T_SOCK=$LAB_TMP/tmux-sbx-ask.$who.sock
  rm -f "$status" "$log"
  CREATED+=("$who:$name")
  must sbx --as "$who" create "$name" --interactive --prompt-timeout 30 --log "$log"
  elapsed sbx --as "$who" exec "$name" -- curl -sS -m 20 -o /dev/null http://203.0.113.10/whoami
  check_eq "[$who] interactive: an exec without a terminal is refused (curl exit 7)" 7 "$RC"
  check "[$who] ... at once (under 3 s)" test "$MS" -lt 3000
  if wait_for 10 grep -q interactive-unasked "$log"; then ok "[$who] ... and its denied event says nobody could be asked"
  else not_ok "[$who] ... and its denied event says nobody could be asked" "$(cat "$log" 2> /dev/null)"; fi

  sbx_argv --as "$who" exec "$name" -- bash --norc --noprofile -i
  if is_rootful; then exec_cmd="$(printf '%q ' "${E2E_ARGV[@]:5}")"; else exec_cmd="'$E2E_NETPEN' exec $name -- bash --norc --noprofile -i"; fi
  if is_rootful; then T_WHO=root; fi
  if ! tm new-session -d -s sb -x 200 -y 50 "$exec_cmd; echo \$? > '$status'; sleep 1"; then
    not_ok "[$who] interactive: tmux session starts"
    return
  fi
  keys 'curl -sS -m 60 -o /dev/null http://203.0.113.10/whoami; echo "step1 rc=$?"' Enter
  if wait_for 20 pane_has_line 'netpen: tcp to 203\.0\.113\.10:80 by .*curl.*'; then
    ok "[$who] interactive: the question shows on the exec's terminal, naming the process"
  else
    not_ok "[$who] interactive: the question shows on the exec's terminal, naming the process" "$(pane)"
  fi
  keys y
  if wait_for 20 pane_has_line 'step1 rc=0'; then ok "[$who] interactive: y lets the request through"
  else not_ok "[$who] interactive: y lets the request through" "$(pane)"; fi
  keys 'curl -sS -m 60 -o /dev/null http://203.0.113.10/whoami?2; echo "step2 rc=$?"' Enter
  if wait_for 20 pane_has_line 'netpen: allowed once' && wait_for 20 pane_has_line '.*allow \[y\] once.*'; then
    ok "[$who] interactive: allow once: the next request asks again"
  else
    not_ok "[$who] interactive: allow once: the next request asks again" "$(pane)"
  fi
  keys n
  if wait_for 20 pane_has_line 'step2 rc=7'; then ok "[$who] interactive: n refuses it (curl exit 7)"
  else not_ok "[$who] interactive: n refuses it (curl exit 7)" "$(pane)"; fi
  keys "exit 0" Enter
  wait_for 20 test -s "$status" || true
  tm kill-server 2> /dev/null
  T_SOCK=""
  must sbx --as "$who" destroy "$name"
}

for who in $(e2e_users); do
  lifecycle_test "$who"
  ports_test "$who" 9601 $((port_base + 1)) $((port_base + 2))
  port_base=$((port_base + 10))
  dead_test "$who"
  errors_test "$who"
  terminal_test "$who"
  interactive_test "$who"
done
if [[ $(id -u) == 0 ]]; then exec_group_test; else skip "[exec-group] checks" "needs root"; fi
e2e_finish
