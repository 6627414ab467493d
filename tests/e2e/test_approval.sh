#!/usr/bin/env bash
# e2e: --interactive on a terminal (tmux). The lab's private-range server
# logs every request, so it shows exactly what the answers let through:
# y (allow once) lets one request through and the next one to the same
# address asks again; n denies it; a (always this address) lets it and
# every later request through without asking; no answer within
# --prompt-timeout denies. The command's status is netpen's. Without a
# terminal --interactive is a usage error. As root and as the unprivileged
# user.
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

for who in $(e2e_users); do
  approval_test "$who"
done

rm -f "$LAB_TMP/ran"
run np --interactive -- touch "$LAB_TMP/ran"
check_eq "--interactive without a terminal: usage error" 2 "$RC"
check_match "... one clear error line" '^netpen: error: --interactive needs a terminal' "$ERR"
check "... the command never ran" test ! -e "$LAB_TMP/ran"
e2e_finish
