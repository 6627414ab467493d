#!/usr/bin/env bash
# e2e: faults that stay in the suite (issue 21 item 4). Under the backend
# the suite runs with (rootless, or --root with NETPEN_E2E_BACKEND=rootful),
# as root and as the test user:
#   - netpen SIGKILLed NETPEN_E2E_FAULT_KILLS times (default 12) per user:
#     half at random moments of its TEAR-DOWN (0 to the measured tear-down
#     time after the command's last step), half at random moments of its
#     whole life (0 to a whole run's time after the start). After each kill: no process of netpen or of
#     the tree is left, `netpen cleanup` exits 0, the lab host's links,
#     nftables, rules, routes and forwarding sysctls are as before, no
#     record is left under /run/netpen or /run/user/UID/netpen, no netpen
#     file in /tmp, and the next run works (a real curl to the lab's web).
#   - a full disk (a small tmpfs the test mounts and always unmounts): the
#     flow log (--log) and the capture (-o) overflow it; each says one
#     `netpen: error:` line naming the file and ENOSPC, the run goes on to
#     its end (no hang), and netpen exits 1 instead of 0 (the record is
#     incomplete), the command's own failure status unchanged.
#   - an unwritable output path (--log, -o, --learn): one `netpen: error:`
#     line, exit 2, and the command never runs.
#   - a proxy that dies mid-stream (-p through the lab's tinyproxy, killed
#     during a large download): the client gets an error once the bytes
#     already buffered on the way have arrived (bounded: 20 s), netpen ends
#     with the client's status (no hang, no crash), the flow log closes the
#     flow with the bytes that came, and a run through the restarted proxy
#     works. (The dying proxy's kernel ends the tunnel with a FIN, as a
#     proxy that closes it normally would: the log says "closed"; the
#     client's own protocol tells the cut: curl's exit 18.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "faults" "netpen-only checks, NETPEN_E2E_DIRECT=1"
  e2e_finish
fi

KILLS=${NETPEN_E2E_FAULT_KILLS:-12}
TOKEN=faults-tree-$$
MOUNTS=()
cleanup_faults() {
  local m
  for m in "${MOUNTS[@]}"; do umount -l "$m" 2> /dev/null; done
  MOUNTS=()
}
trap 'rc=$?; cleanup_faults; (exit $rc); e2e_teardown' EXIT

# -------------------------------------------------------------- baselines

leftovers() {
  find /tmp /var/tmp /dev/shm /run -maxdepth 2 -iname '*netpen*' -not -path '/run/netpen-lab*' 2> /dev/null | sort
  grep -v -e ' /run/netns/' -e ' /run/netpen-lab' /proc/self/mountinfo | cut -d' ' -f4,5 | sort
}
# records: the rootful runs' records and every user's rootless ones.
records() {
  ls -1 /run/netpen 2> /dev/null | sed 's|^|/run/netpen/|'
  find /run/user -mindepth 2 -maxdepth 4 -path '*/netpen*' 2> /dev/null
}
# (commands for `run`: it calls NAME_argv)
records_argv() { E2E_ARGV=(bash -c "$(declare -f records); records | sort"); }
leftovers_argv() { E2E_ARGV=(bash -c "$(declare -f leftovers); leftovers"); }
tree_left() { pgrep -f "$TOKEN" > /dev/null || pgrep -f "^$E2E_NETPEN( |\$)" > /dev/null; }
# shellcheck disable=SC2317 # called through wait_for
nothing_runs() { ! tree_left; }

host_before=$(rootful_host_state) || e2e_die "cannot read the lab host's state"
records_before=$(records | sort)
files_before=$(leftovers) || e2e_die "cannot list leftovers"
must wait_http_up http://web.lab.test/index.html

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_bg WHO OUT ERR NETPEN-ARGS...: netpen in the background (BG is
# netpen's own pid: `scripts/lab exec` becomes it).
start_bg() {
  local who=$1 out=$2 err=$3
  shift 3
  np_argv --as "$who" "$@"
  "${E2E_ARGV[@]}" > "$out" 2> "$err" < /dev/null &
  BG=$!
}

# the tree's command: a real request, the mark file, a short pause; the
# TOKEN in its argv finds any process of it left behind.
# shellcheck disable=SC2016 # expanded by the tree's sh
tree_cmd() { TREE=(sh -c 'curl -fsS -m 10 -o /dev/null http://web.lab.test/index.html; : > "$1"; sleep 0.05' "$TOKEN" "$1"); }

# calibrate WHO: TEARDOWN_MS (the mark to netpen's exit) and LIFE_MS (start
# to exit) of one whole run.
calibrate() {
  local who=$1 mark=$LAB_TMP/calib-mark t0 tm te
  rm -f "$mark"
  t0=$(now_ms)
  tree_cmd "$mark"
  start_bg "$who" /dev/null /dev/null -- "${TREE[@]}"
  wait_for 20 test -e "$mark" || { kill -KILL "$BG"; wait "$BG"; return 1; }
  tm=$(now_ms)
  wait "$BG" 2> /dev/null
  te=$(now_ms)
  TEARDOWN_MS=$((te - tm + 20)) LIFE_MS=$((te - t0 + 20))
}

# after_kill WHO: cleanup as WHO, then every leftover check; counts into FAILS.
after_kill() {
  local who=$1 why=""
  wait_for 10 nothing_runs || why+="processes left: $(pgrep -af "$TOKEN|^$E2E_NETPEN( |\$)" | tr '\n' ';') "
  if is_rootful; then run in_host "$E2E_NETPEN" cleanup; else run in_host --as "$who" "$E2E_NETPEN" cleanup; fi
  ((RC == 0)) || why+="cleanup exit $RC: $ERR "
  if grep -qE 'left alone|kept|failed' <<< "$OUT"; then why+="cleanup: $OUT "; fi
  run rootful_host_state
  ((RC == 0)) && [[ $OUT == "$host_before" ]] || why+="the lab host's state changed "
  run records
  ((RC == 0)) && [[ $OUT == "$records_before" ]] ||
    why+="records left: $(comm -13 <(sort <<< "$records_before") <(sort <<< "$OUT") | tr '\n' ' ') "
  run leftovers
  ((RC == 0)) && [[ $OUT == "$files_before" ]] ||
    why+="files or mounts left: $(comm -13 <(sort <<< "$files_before") <(sort <<< "$OUT") | tr '\n' ' ') "
  run np --as "$who" -- curl -fsS -m 10 http://web.lab.test/index.html
  ((RC == 0)) && [[ $OUT == netpen-lab-index-ok ]] || why+="the next run failed (exit $RC: $ERR) "
  [[ -z $why ]] || FAILS+=("$why")
}

# kill_runs WHO: KILLS runs: half killed in their tear-down, half at any moment.
kill_runs() {
  local who=$1 i delay mark phase n
  if ! calibrate "$who"; then
    not_ok "[$who] a whole run to time its tear-down"
    return
  fi
  ok "[$who] a whole run takes ${LIFE_MS} ms, its tear-down (after the command's last step) ${TEARDOWN_MS} ms"
  for phase in teardown life; do
    FAILS=()
    n=$((KILLS - KILLS / 2))
    [[ $phase == teardown ]] && n=$((KILLS / 2))
    for ((i = 0; i < n; i++)); do
      mark=$LAB_TMP/mark-$i
      rm -f "$mark"
      tree_cmd "$mark"
      start_bg "$who" /dev/null /dev/null -- "${TREE[@]}"
      if [[ $phase == teardown ]]; then
        delay=$((RANDOM % TEARDOWN_MS))
        wait_for 20 test -e "$mark" || FAILS+=("run $i: the command never reached its end")
      else
        delay=$((RANDOM % LIFE_MS))
      fi
      sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
      kill -KILL "$BG" 2> /dev/null
      wait "$BG" 2> /dev/null
      after_kill "$who"
    done
    if ((${#FAILS[@]} == 0)); then
      ok "[$who] $n runs SIGKILLed in their $phase: after each, cleanup exits 0, nothing is left, the next run works"
    else
      not_ok "[$who] $n runs SIGKILLed in their $phase: after each, cleanup exits 0, nothing is left, the next run works" \
        "$(printf '%s\n' "${FAILS[@]}")"
    fi
  done
}

for who in $(e2e_users); do kill_runs "$who"; done

# -------------------------------------------------------------- full disk

# small_fs SIZE: a fresh tmpfs of SIZE everyone may write, in FS.
small_fs() {
  FS=$(mktemp -d -p "$LAB_TMP" fs.XXXXXX) || e2e_die "mktemp"
  must mount -t tmpfs -o "size=$1,mode=1777" faults-tmpfs "$FS"
  MOUNTS+=("$FS")
}
# fill_fs LEAVE_KIB: fills FS until about LEAVE_KIB are free.
fill_fs() {
  local free
  free=$(df -k --output=avail "$FS" | tail -n 1)
  ((free > $1)) || return 0
  must dd if=/dev/zero of="$FS/filler" bs=1k count=$((free - $1)) status=none
}
one_error_line() { # one_error_line REGEX TEXT: exactly one line matches, it is an error line
  local n
  n=$(grep -cE -- "$1" <<< "$2")
  [[ $n == 1 ]] && grep -E -- "$1" <<< "$2" | grep -q '^netpen: error: '
}

for who in $(e2e_users); do
  small_fs 256k
  fill_fs 24
  log=$FS/flows.jsonl
  run np --as "$who" --log "$log" -- sh -c \
    'for i in $(seq 40); do curl -fsS -m 10 -o /dev/null http://web.lab.test/index.html || exit 9; done; echo curls-ok'
  check_eq "[$who] --log on a full disk: the run goes on to its end, netpen exits 1 (not 0)" "1 curls-ok" "$RC $OUT"
  if one_error_line "flow log '$log': No space left on device" "$ERR"; then
    ok "[$who] ... one 'netpen: error:' line names the log and ENOSPC"
  else not_ok "[$who] ... one 'netpen: error:' line names the log and ENOSPC"; fi
  check "[$who] ... the log holds what fitted (its first line is the run's start)" \
    grep -q '"event": *"run_start"' "$log"
  run np --as "$who" --log "$log" -- sh -c 'curl -fsS -m 10 -o /dev/null http://web.lab.test/index.html; exit 3'
  check_eq "[$who] --log on a full disk, the command fails with 3: netpen exits 3" 3 "$RC"
  rm -f "$log"

  # The capture: about 1 MiB free, a 6 MB download.
  cap=$FS/cap.pcapng
  fill_fs 1024
  run np --as "$who" -o "$cap" -- curl -fsS -m 30 -r 0-5999999 -o /dev/null -w '%{size_download}\n' \
    http://web.lab.test/big.bin
  check_eq "[$who] -o on a full disk: the download completes, netpen exits 1 (not 0)" "1 6000000" "$RC $OUT"
  if one_error_line "capture file $cap: No space left on device" "$ERR"; then
    ok "[$who] ... one 'netpen: error:' line names the capture and ENOSPC"
  else not_ok "[$who] ... one 'netpen: error:' line names the capture and ENOSPC"; fi
  umount "$FS" # (the trap's umount of it then does nothing)
done

# ------------------------------------------------------- unwritable paths

ro_dir=$LAB_TMP/ro-dir
must mkdir -p "$ro_dir"
must chmod 0555 "$ro_dir"
small_fs 64k
must mount -o remount,ro "$FS"
ro_fs=$FS
for who in $(e2e_users); do
  dirs=("$ro_fs")
  # an ordinary user cannot write a root-owned 0555 directory (root can);
  # under --root netpen runs as root for the user.
  [[ $who == root ]] || is_rootful || dirs+=("$ro_dir")
  for dir in "${dirs[@]}"; do
    for flag in --log -o --learn; do
      marker=$LAB_TMP/never-$RANDOM
      run np --as "$who" "$flag" "$dir/out.file" -- touch "$marker"
      if ((RC == 2)) && [[ $(wc -l <<< "$ERR") == 1 && $ERR == "netpen: error: "*"$dir/out.file"* ]] &&
        [[ ! -e $marker ]]; then
        ok "[$who] $flag into $(basename "$dir") (not writable): one error line, exit 2, the command never ran"
      else
        not_ok "[$who] $flag into $(basename "$dir") (not writable): one error line, exit 2, the command never ran"
      fi
    done
  done
done

# ------------------------------------------------ a proxy dies mid-stream

PIDS=$LAB_DIR/pids
proxy_pids() { # tinyproxy :3128's processes (the one the lab recorded and its children)
  local main
  main=$(cat "$PIDS/tinyproxy.pid" 2> /dev/null) || return 1
  echo "$main"
  pgrep -P "$main" 2> /dev/null
}
proxy_up() { in_host curl -fsS -m 2 -o /dev/null -x http://proxy.lab.test:3128 http://web.lab.test/index.html; }
log=$LAB_TMP/proxy-dies.jsonl
out=$LAB_TMP/proxy-dies.out err=$LAB_TMP/proxy-dies.err
start_bg root "$out" "$err" -p http://proxy.lab.test:3128 --log "$log" -- \
  curl -sS -m 120 --limit-rate 16M -o /dev/null -w '%{size_download}\n' http://web.lab.test/big.bin
# shellcheck disable=SC2317 # called through wait_for
downloading() { grep -q '"event": *"flow_open".*"203.0.113.10:80"\|"dst": *"203.0.113.10:80".*"flow_open"' "$log" 2> /dev/null; }
wait_for 20 downloading || not_ok "the download through the proxy started"
sleep 2
killed_at=$(now_ms)
disown "$(cat "$PIDS/tinyproxy.pid")" 2> /dev/null # (a job of this shell: no "Killed" note)
# shellcheck disable=SC2046
kill -KILL $(proxy_pids) 2> /dev/null
ended=0
for ((i = 0; i < 200; i++)); do
  kill -0 "$BG" 2> /dev/null || { ended=1; break; }
  sleep 0.1
done
if ((ended)); then
  wait "$BG"
  rc=$?
  took=$(($(now_ms) - killed_at))
  ok "the proxy killed mid-download: the run ends ${took} ms later (bound 20 s)"
  size=$(cat "$out")
  check "... the client got an error (curl exit 18 or 56, not 0), netpen passed it on (exit $rc, $size bytes)" \
    test "$rc" -eq 18 -o "$rc" -eq 56
  check "... and the download was cut short (not all 200 MB)" test "${size:-0}" -lt $((LAB_BIG_MB * 1024 * 1024))
  check_no_match "... netpen neither crashed nor failed (no 'netpen: error:' line)" '^netpen: error: ' cat "$err"
  run python3 -c "
import json
c = [e for e in map(json.loads, open('$log')) if e['event'] == 'flow_close' and e.get('dst') == '203.0.113.10:80']
print(*((c[-1]['end'], c[-1]['bytes_in']) if c else ('none', 0)))"
  read -r end_how bytes_in <<< "$OUT"
  check "... the flow log closes the flow to web:80 (end '$end_how') with the bytes that came ($bytes_in)" \
    test "${bytes_in:-0}" -gt 0 -a "${bytes_in:-0}" -lt $((LAB_BIG_MB * 1024 * 1024))
else
  not_ok "the proxy killed mid-download: the run ends within 20 s"
  kill -KILL "$BG" 2> /dev/null
  wait "$BG" 2> /dev/null
fi
lab_spawn_labdns "$E2E_LAB" inet tinyproxy tinyproxy -d -c "$LAB_DIR/proxy/tinyproxy.conf"
wait_for 10 proxy_up || e2e_die "tinyproxy did not come back"
run np -p http://proxy.lab.test:3128 -- curl -fsS -m 10 http://web.lab.test/index.html
check_eq "a run through the restarted proxy works" "0 netpen-lab-index-ok" "$RC $OUT"

e2e_finish
