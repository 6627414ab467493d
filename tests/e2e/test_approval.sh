#!/usr/bin/env bash
# e2e: --interactive on a terminal (tmux). The lab's private-range server
# logs every request, so it shows exactly what the answers let through:
# y (allow once) lets one request through and the next one to the same
# address asks again; n denies it; a (always this address) lets it and
# every later request through without asking; no answer within
# --prompt-timeout denies. The command's status is netpen's. Without a
# terminal --interactive is a usage error. Answers given as slowly as a
# person's (slow_answer_test, also under --root) decide the very flow they
# were about, and the prompts keep the terminal readable. As root and as
# the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "interactive approval" "netpen-only"
  e2e_finish
fi

PRIVATE_LOG=$LAB_DIR/logs/nginx-private.log
T_WHO="" T_SOCK=""
tm() { in_host --as "$T_WHO" tmux -S "$T_SOCK" "$@"; }
pane() { tm capture-pane -p -J -S -300 -t np 2> /dev/null; }
# shellcheck disable=SC2317 # called through wait_for
pane_has() { pane | grep -qE -- "$1"; }
# shellcheck disable=SC2317
count_in_pane() { [[ $(pane | grep -cE -- "$1") -ge $2 ]]; }
keys() { tm send-keys -t np "$@"; }

approval_test() {
  local who=$1 status=$LAB_TMP/approval-status.$1 script=$LAB_TMP/approval.$1.sh mark
  T_WHO=$who T_SOCK=$LAB_TMP/tmux-approval.$who.sock
  rm -f "$status"
  cat > "$script" <<'SCRIPT'
r() { curl -gsS -m 60 -o /dev/null "$2"; echo "$1 rc=$?"; }
r step1 "http://10.77.0.10/whoami?$TAG-y1"
r step2 "http://10.77.0.10/whoami?$TAG-n1"
r step3 "http://169.254.169.254/whoami?$TAG-a1"
r step4 "http://169.254.169.254/whoami?$TAG-a2"
r step5 "http://[fd77::10]/whoami?$TAG-t1"
exit 4
SCRIPT
  chmod 0755 "$script"
  mark=$(wc -l < "$PRIVATE_LOG")
  if ! tm new-session -d -s np -x 200 -y 50 \
    "TAG=$who '$E2E_NETPEN' --interactive --prompt-timeout 4 -- sh '$script'; echo \$? > '$status'; sleep 1"; then
    not_ok "[$who] tmux session starts"
    return
  fi
  if wait_for 20 pane_has 'netpen: tcp to 10\.77\.0\.10:80'; then ok "[$who] a prompt names the destination"
  else not_ok "[$who] a prompt names the destination" "$(pane)"; tm kill-server; return; fi
  check_match "[$who] ... and the process" 'curl -gsS -m 60' "$(pane)"
  keys y
  if wait_for 20 pane_has '^step1 rc=0$'; then ok "[$who] y: the request goes through"
  else not_ok "[$who] y: the request goes through" "$(pane)"; fi
  if wait_for 20 count_in_pane 'netpen: tcp to 10\.77\.0\.10:80' 2; then ok "[$who] allow once: the next request asks again"
  else not_ok "[$who] allow once: the next request asks again" "$(pane)"; fi
  keys n
  if wait_for 20 pane_has '^step2 rc=7$'; then ok "[$who] n: refused at once (curl exit 7)"
  else not_ok "[$who] n: refused at once (curl exit 7)" "$(pane)"; fi
  if wait_for 20 pane_has 'netpen: tcp to 169\.254\.169\.254:80'; then ok "[$who] the next destination asks"
  else not_ok "[$who] the next destination asks" "$(pane)"; fi
  keys a
  if wait_for 20 pane_has '^step4 rc=0$'; then ok "[$who] a: this and the next request go through"
  else not_ok "[$who] a: this and the next request go through" "$(pane)"; fi
  check_eq "[$who] ... the second without a prompt" 1 "$(pane | grep -c 'netpen: tcp to 169\.254\.169\.254:80')"
  if wait_for 20 pane_has 'netpen: tcp to \[fd77::10\]:80'; then ok "[$who] an IPv6 destination asks"
  else not_ok "[$who] an IPv6 destination asks" "$(pane)"; fi
  if wait_for 20 pane_has '^step5 rc=7$'; then ok "[$who] no answer: denied after --prompt-timeout"
  else not_ok "[$who] no answer: denied after --prompt-timeout" "$(pane)"; fi
  if wait_for 20 test -s "$status"; then check_eq "[$who] the command's status passes through" 4 "$(cat "$status")"
  else not_ok "[$who] the command's status passes through" "no status; pane:
$(pane)"; fi
  check_eq "[$who] the servers saw exactly the allowed requests" "$who-y1 $who-a1 $who-a2" \
    "$(tail -n +"$((mark + 1))" "$PRIVATE_LOG" | grep -oE "\?$who-[a-z0-9]+" | tr -d '?' | tr '\n' ' ' | sed 's/ $//')"
  tm kill-server 2> /dev/null
}

# The netpen command line a tmux session runs for `who` (under --root: as
# root, with the user's SUDO_* as sudo sets them; the command runs as them).
netpen_line() {
  local who=$1
  if ! is_rootful; then printf "'%s'" "$E2E_NETPEN"; return; fi
  printf "env SUDO_UID=%s SUDO_GID=%s SUDO_USER=%s '%s' --root" "$(id -u "$who")" "$(id -g "$who")" "$who" "$E2E_NETPEN"
}

# Answers as a person does (after a second and more, when the child has
# retransmitted its SYN), and the terminal stays readable: d allows the
# very connection it was asked about (web.lab.test's DNS records have a TTL
# of 0, so the name's binding expired meanwhile) and the next one without
# asking; a prompt starts on a fresh line after the command's own output
# (curl -w prints code=200 without a newline) and never erases it; a flow
# refused just now says so (not "denied earlier in this run"), its denied
# line comes after the prompt, not inside it; a timeout's rule is
# "(no answer)".
slow_answer_test() {
  local who=$1 status=$LAB_TMP/slow-status.$1 script=$LAB_TMP/slow.$1.sh tm_who=$1 pane_text
  T_WHO=$who T_SOCK=$LAB_TMP/tmux-slow.$who.sock
  if is_rootful; then T_WHO=root; fi
  rm -f "$status"
  cat > "$script" <<'SCRIPT'
curl -4 -sS -m 30 -o /dev/null "http://web.lab.test/whoami?$TAG-d1"; echo "stepd1 rc=$?"
curl -4 -sS -m 30 -o /dev/null "http://web.lab.test/whoami?$TAG-d2"; echo "stepd2 rc=$?"
curl -sS -m 30 -o /dev/null -w 'code=%{http_code}' "http://10.77.0.10/whoami?$TAG-w1"
curl -sS -m 30 -o /dev/null "http://169.254.169.254/whoami?$TAG-n1"; echo "stepn1 rc=$?"
curl -gsS -m 30 -o /dev/null "http://[fd77::10]/whoami?$TAG-t1"; echo "stept1 rc=$?"
exit 0
SCRIPT
  chmod 0755 "$script"
  if ! tm new-session -d -s np -x 250 -y 60 \
    "TAG=$tm_who $(netpen_line "$who") --interactive --prompt-timeout 3 -- sh '$script'; echo \$? > '$status'; sleep 60"; then
    not_ok "[$who] tmux session starts (slow answers)"
    return
  fi
  if ! wait_for 20 pane_has 'netpen: tcp to web\.lab\.test \(203\.0\.113\.10:80\)'; then
    not_ok "[$who] a prompt names web.lab.test" "$(pane)"
    tm kill-server
    return
  fi
  sleep 1.5  # a person reads the question; curl retransmits its SYN
  keys d
  if wait_for 20 pane_has '^stepd1 rc=0$'; then ok "[$who] d after 1.5 s: the connection asked about goes through"
  else not_ok "[$who] d after 1.5 s: the connection asked about goes through" "$(pane)"; fi
  if wait_for 20 pane_has '^stepd2 rc=0$'; then ok "[$who] ... and the next one to the name, without a prompt"
  else not_ok "[$who] ... and the next one to the name, without a prompt" "$(pane)"; fi
  check_eq "[$who] ... one prompt for the name" 1 "$(pane | grep -c 'netpen: tcp to web\.lab\.test')"
  if wait_for 20 pane_has 'netpen: tcp to 10\.77\.0\.10:80'; then keys y
  else not_ok "[$who] the private server asks" "$(pane)"; fi
  if wait_for 20 pane_has 'netpen: tcp to 169\.254\.169\.254:80'; then ok "[$who] the next prompt shows"
  else not_ok "[$who] the next prompt shows" "$(pane)"; fi
  sleep 1.5
  keys n
  if wait_for 20 pane_has '^stepn1 rc=7$'; then ok "[$who] n after 1.5 s: refused"
  else not_ok "[$who] n after 1.5 s: refused" "$(pane)"; fi
  if wait_for 20 pane_has '^stept1 rc=7$'; then ok "[$who] no answer: refused after --prompt-timeout"
  else not_ok "[$who] no answer: refused after --prompt-timeout" "$(pane)"; fi
  wait_for 20 test -s "$status" || not_ok "[$who] the run ends" "$(pane)"
  sleep 0.5
  pane_text=$(pane)
  check_match "[$who] the command's output without a newline stays on screen" '^code=200$' "$pane_text"
  check_match "[$who] ... and the prompt after it starts on a line of its own" '^netpen: tcp to 169\.254\.169\.254:80' \
    "$pane_text"
  check_match "[$who] a refusal made just now says so" \
    'netpen: denied: tcp .*169\.254\.169\.254:80: denied at the prompt \[interactive-deny 169\.254\.169\.254 \(interactive\)\]$' \
    "$pane_text"
  check_match "[$who] a timeout's rule is (no answer)" \
    'netpen: denied: tcp .*: no answer within --prompt-timeout \[interactive-deny fd77::10 \(no answer\)\]$' "$pane_text"
  if grep -q 'denied earlier in this run' <<< "$pane_text"; then
    not_ok "[$who] nothing is 'denied earlier' in this run" "$pane_text"
  else ok "[$who] nothing is 'denied earlier' in this run"; fi
  if grep -E 'netpen: denied:.*(allow \[y\]|netpen: tcp to)|(allow \[y\]|netpen: tcp to).*netpen: denied:' <<< "$pane_text" > /dev/null; then
    not_ok "[$who] no denied line inside a prompt" "$pane_text"
  else ok "[$who] no denied line inside a prompt"; fi
  tm kill-server 2> /dev/null
}

for who in $(e2e_users); do
  approval_test "$who"
  slow_answer_test "$who"
done

rm -f "$LAB_TMP/ran"
run np --interactive -- touch "$LAB_TMP/ran"
check_eq "--interactive without a terminal: usage error" 2 "$RC"
check_match "... one clear error line" '^netpen: error: --interactive needs a terminal' "$ERR"
check "... the command never ran" test ! -e "$LAB_TMP/ran"
e2e_finish
