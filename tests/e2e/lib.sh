# shellcheck shell=bash
# Shared helpers of the e2e tests: bring up a private lab (scripts/lab), run
# commands through netpen in its host node (np), TAP-like assertions (check,
# check_eq, check_no_match, ...) that make the test fail at the end
# (e2e_finish), and `must` for the steps the checks rely on.
#
# Environment: NETPEN_BIN (the binary under test, required), NETPEN_SOURCE_DIR,
# NETPEN_E2E_USERS (default "root netpen-test"), NETPEN_E2E_DIRECT=1 (debug
# the lab: run the commands directly in the host node, without netpen;
# netpen-only checks are skipped), NETPEN_E2E_KEEP=1 (leave the lab up),
# NETPEN_E2E_TIMEOUT (seconds per command, default 120), NETPEN_E2E_BACKEND
# (rootless, the default, or rootful: every run gets --root; a run "as" a
# user is netpen as root with that user's SUDO_UID/SUDO_GID/SUDO_USER, as
# sudo sets them, so the command runs as that user), NETPEN_E2E_MAP_ROOT=1
# (rootless: every `np` run gets --map-root, the command runs as uid 0 with
# capabilities inside, as before least privilege became the default).
# One test by hand, as root:  NETPEN_BIN=build/app/netpen bash tests/e2e/test_dns.sh
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_SRC=${NETPEN_SOURCE_DIR:-$(cd "$E2E_DIR/../.." && pwd)}
# shellcheck source=scripts/lab
source "$E2E_SRC/scripts/lab"
# shellcheck disable=SC2034 # read by scripts/lab
LAB_QUIET=1

E2E_DIRECT=${NETPEN_E2E_DIRECT:-0}
E2E_BACKEND=${NETPEN_E2E_BACKEND:-rootless}
E2E_MAP_ROOT=${NETPEN_E2E_MAP_ROOT:-0}
E2E_NAME=$(basename "$0" .sh)
E2E_NAME=${E2E_NAME#test_}
E2E_PASS=0
E2E_FAIL=0
E2E_SKIP=0
E2E_FAILED_NAMES=()
E2E_LAB=""
E2E_NETPEN=""
E2E_TIMEOUT=${NETPEN_E2E_TIMEOUT:-120}
# Results of the last `run`.
RC=0 OUT="" ERR="" E2E_LAST=""

# ------------------------------------------------------------ assertions

e2e_show_last() {
  [[ -n $E2E_LAST ]] || return 0
  printf '#   command: %s\n#   exit status: %s\n' "$E2E_LAST" "$RC"
  [[ -z $OUT ]] || printf '%s\n' "$OUT" | tail -n 30 | sed 's/^/#   stdout: /'
  [[ -z $ERR ]] || printf '%s\n' "$ERR" | tail -n 30 | sed 's/^/#   stderr: /'
}

ok() { echo "ok - $1"; ((E2E_PASS++)); }
not_ok() {
  echo "not ok - $1"
  [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/#   /'
  e2e_show_last
  ((E2E_FAIL++))
  E2E_FAILED_NAMES+=("$1")
}
skip() { echo "ok - $1 # SKIP ${2:-}"; ((E2E_SKIP++)); }

# run CMD...: run a command (bounded), keep RC, OUT, ERR for the checks.
run() {
  local o e
  o=$(mktemp) e=$(mktemp)
  E2E_LAST=$(printf '%q ' "$@")
  if declare -F "$1_argv" > /dev/null; then # np, in_host, or a test's own NAME_argv
    "$1_argv" "${@:2}"
  else
    E2E_ARGV=("$@")
  fi
  # (the outer redirection hides bash's "Killed" notes for signal statuses)
  { timeout -k 5 "$E2E_TIMEOUT" "${E2E_ARGV[@]}" > "$o" 2> "$e" < /dev/null; } 2> /dev/null
  RC=$?
  OUT=$(cat "$o") ERR=$(cat "$e")
  rm -f "$o" "$e"
  return 0
}

# The condition checks: each takes a description first.
check() { # check DESC CMD...: CMD exits 0
  local d=$1; shift
  run "$@"
  if ((RC == 0)); then ok "$d"; else not_ok "$d"; fi
}
check_status() { # check_status DESC N CMD...: CMD exits N
  local d=$1 want=$2; shift 2
  run "$@"
  if ((RC == want)); then ok "$d"; else not_ok "$d" "expected exit status $want, got $RC"; fi
}
check_eq() { # check_eq DESC EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then ok "$1"; else not_ok "$1" "expected: '$2'
actual:   '$3'"; fi
}
check_match() { # check_match DESC EREGEX TEXT: a line of TEXT matches
  # (a here-string, not printf | grep -q: grep -q leaves at the first match,
  # printf may then die of SIGPIPE, and pipefail failed a check that matched)
  if grep -qE -- "$2" <<< "$3"; then ok "$1"; else not_ok "$1" "no line matches /$2/ in:
$3"; fi
}
check_output_eq() { # check_output_eq DESC EXPECTED CMD...: exit 0, stdout == EXPECTED
  local d=$1 want=$2; shift 2
  run "$@"
  if ((RC == 0)) && [[ $OUT == "$want" ]]; then ok "$d"; else not_ok "$d" "expected stdout: '$want'"; fi
}
check_output_contains() { # check_output_contains DESC NEEDLE CMD...: exit 0, NEEDLE in stdout
  local d=$1 want=$2; shift 2
  run "$@"
  if ((RC == 0)) && [[ $OUT == *"$want"* ]]; then ok "$d"; else not_ok "$d" "expected in stdout: '$want'"; fi
}
# check_no_match DESC EREGEX CMD...: CMD exits 0 and no line of its stdout
# matches. (Not `check_eq DESC "" "$(CMD | grep RE)"`, which passes when
# CMD itself fails and prints nothing.)
check_no_match() {
  local d=$1 re=$2 hits status; shift 2
  run "$@"
  if ((RC != 0)); then not_ok "$d" "the command failed (exit status $RC)"; return; fi
  hits=$(printf '%s\n' "$OUT" | grep -E -- "$re")
  status=$?
  if ((status == 1)); then ok "$d"
  elif ((status == 0)); then not_ok "$d" "lines matching /$re/:
$hits"
  else not_ok "$d" "bad regex /$re/"; fi
}

# must CMD...: a step the checks rely on (setting up the lab, taking a
# baseline); the test is aborted when it fails, rather than left to checks
# that might pass without it.
must() {
  "$@" && return 0
  e2e_die "a needed step failed (exit status $?): $*"
}

is_direct() { [[ $E2E_DIRECT == 1 ]]; }
is_rootful() { [[ $E2E_BACKEND == rootful ]]; }
# The command runs as uid 0 with capabilities inside (--root --run-as-root
# aside): rootless with NETPEN_E2E_MAP_ROOT=1.
is_map_root() { [[ $E2E_MAP_ROOT == 1 ]] && ! is_rootful; }
# rootless_only DESC: false (and a skip line) under the rootful backend, for
# checks of what only the rootless relay does.
rootless_only() {
  is_rootful || return 0
  skip "$1" "rootless-only check"
  return 1
}
# netpen_only DESC: false (and a skip line) in direct mode.
netpen_only() {
  is_direct || return 0
  skip "$1" "netpen-only check, NETPEN_E2E_DIRECT=1"
  return 1
}

e2e_finish() {
  local total=$((E2E_PASS + E2E_FAIL))
  echo "# $E2E_NAME: $E2E_PASS passed, $E2E_FAIL failed, $E2E_SKIP skipped (direct=$E2E_DIRECT, backend=$E2E_BACKEND$(is_map_root && echo ", map-root"))"
  if ((E2E_FAIL > 0)); then
    printf '# failed: %s\n' "${E2E_FAILED_NAMES[@]}"
    exit 1
  fi
  if ((total == 0)); then
    echo "# no check ran"
    exit 1
  fi
  exit 0
}

# -------------------------------------------------------------- the lab

e2e_die() { echo "not ok - $*"; echo "# $E2E_NAME: aborted"; exit 1; }

e2e_teardown() {
  local rc=$?
  if [[ -n $E2E_LAB ]]; then
    if [[ ${NETPEN_E2E_KEEP:-0} == 1 ]]; then
      echo "# lab $E2E_LAB kept (scripts/lab down $E2E_LAB)"
    else
      lab_down "$E2E_LAB" > /dev/null 2>&1
    fi
  fi
  exit "$rc"
}

# e2e_setup: skip unless root, find netpen, bring up this test's lab.
e2e_setup() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "# SKIP: e2e tests need root (they build network namespaces)"
    exit 77
  fi
  if ! is_direct; then
    [[ -n ${NETPEN_BIN:-} ]] || e2e_die "NETPEN_BIN is not set (the netpen binary under test)"
    [[ -x $NETPEN_BIN && -f $NETPEN_BIN ]] || e2e_die "NETPEN_BIN=$NETPEN_BIN is not an executable file"
  fi
  E2E_LAB="e2e-${E2E_NAME:0:12}-$$"
  trap e2e_teardown EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo "# lab $E2E_LAB (direct=$E2E_DIRECT)"
  lab_up "$E2E_LAB" --unprivileged || e2e_die "lab did not come up"
  # shellcheck disable=SC2034 # for the tests
  LAB_DIR=$(lab_dir "$E2E_LAB") LAB_TMP=$LAB_DIR/tmp LAB_CA=$LAB_DIR/certs/ca.pem
  if ! is_direct; then
    # A copy every test user can execute, whatever the build dir's modes.
    if ! { mkdir -p "$LAB_DIR/bin" && cp "$NETPEN_BIN" "$LAB_DIR/bin/netpen" && chmod 0755 "$LAB_DIR/bin/netpen"; }; then
      e2e_die "cannot copy $NETPEN_BIN"
    fi
    E2E_NETPEN=$LAB_DIR/bin/netpen
  fi
}

e2e_users() { echo "${NETPEN_E2E_USERS:-root netpen-test}"; }

# in_host [--as USER] CMD...: run a command in the lab's host node, no netpen.
# np [--as USER] [NETPEN OPTIONS...] -- CMD...: run CMD through netpen in
# the host node (as USER). In direct mode CMD runs without netpen; --dns and
# --hosts-file are emulated with the lab's resolv.conf/hosts overlays.
# Both are commands `run` and the checks accept (they build E2E_ARGV).
in_host() { in_host_argv "$@" && "${E2E_ARGV[@]}"; }
# What a rootful run may change in the lab's host node: the nftables ruleset,
# forwarding sysctls, policy rules, routes of every table and netpen links.
# Fails when any of them cannot be read (a state that reads as empty twice
# would compare equal). A command for `run` and the checks too:
#   before=$(rootful_host_state) || e2e_die ...
#   check_output_eq DESC "$before" rootful_host_state
rootful_host_state_argv() {
  in_host_argv sh -c 'set -e
    nft list ruleset
    sysctls=$(sysctl -a 2>/dev/null || true)
    forwarding=$(printf "%s\n" "$sysctls" | grep -E "\.(forwarding|force_forwarding) ")
    printf "%s\n" "$forwarding" | sort
    ip rule; ip -6 rule; ip route show table all
    routes6=$(ip -6 route show table all)
    printf "%s\n" "$routes6" | grep -v "^multicast\|^local fe80" || true
    links=$(ip -br link)
    printf "%s\n" "$links" | grep -o "^np[0-9a-f]*" || true'
}
rootful_host_state() { rootful_host_state_argv && "${E2E_ARGV[@]}"; }
np() { np_argv "$@" && "${E2E_ARGV[@]}"; }

e2e_user_opt() { # sets E2E_UOPT from "--as USER"
  E2E_UOPT=()
  [[ $1 == root ]] || E2E_UOPT=(--user "$1")
}

in_host_argv() {
  E2E_UOPT=()
  if [[ ${1:-} == --as ]]; then e2e_user_opt "$2"; shift 2; fi
  E2E_ARGV=("$E2E_SRC/scripts/lab" exec "$E2E_LAB" host "${E2E_UOPT[@]}" -- "$@")
}

# sbx [--as WHO] SUBCOMMAND ARGS...: `netpen SUBCOMMAND ARGS` in the lab's
# host node as WHO; under the rootful backend netpen runs as root with WHO's
# SUDO_* ids (as sudo sets them) and create gets --root.
sbx_argv() {
  local who=root
  if [[ $1 == --as ]]; then who=$2; shift 2; fi
  local sub=$1
  shift
  local -a extra=() sudo_env=()
  if is_rootful; then
    [[ $sub == create ]] && extra=(--root)
    [[ $who == root ]] || sudo_env=(env "SUDO_UID=$(id -u "$who")" "SUDO_GID=$(id -g "$who")" "SUDO_USER=$who")
    E2E_ARGV=("$E2E_SRC/scripts/lab" exec "$E2E_LAB" host -- "${sudo_env[@]}" "$E2E_NETPEN" "$sub" "$@" "${extra[@]}")
  else
    in_host_argv --as "$who" "$E2E_NETPEN" "$sub" "$@" "${extra[@]}"
  fi
}
sbx() { sbx_argv "$@" && "${E2E_ARGV[@]}"; }

np_argv() {
  E2E_UOPT=()
  if [[ ${1:-} == --as ]]; then e2e_user_opt "$2"; shift 2; fi
  if ! is_direct; then
    if is_rootful; then
      local -a sudo_env=()
      if ((${#E2E_UOPT[@]})); then
        local u=${E2E_UOPT[1]}
        sudo_env=(env "SUDO_UID=$(id -u "$u")" "SUDO_GID=$(id -g "$u")" "SUDO_USER=$u")
      fi
      E2E_ARGV=("$E2E_SRC/scripts/lab" exec "$E2E_LAB" host -- "${sudo_env[@]}" "$E2E_NETPEN" --root "$@")
      return 0
    fi
    local -a map_root=()
    ! is_map_root || map_root=(--map-root)
    E2E_ARGV=("$E2E_SRC/scripts/lab" exec "$E2E_LAB" host "${E2E_UOPT[@]}" -- "$E2E_NETPEN" "${map_root[@]}" "$@")
    return 0
  fi
  local -a ov=()
  local f ip
  while (($#)) && [[ $1 != -- ]]; do
    case $1 in
      -d | --dns)
        f=$(mktemp -p "$LAB_TMP" resolv.XXXXXX)
        ip=$2
        if [[ $ip == \[* ]]; then
          ip=${ip#[}
          ip=${ip%%]*}
        elif [[ $ip != *:*:* ]]; then
          ip=${ip%%:*}
        fi
        echo "nameserver $ip" > "$f"
        chmod 0644 "$f"
        ov+=(--resolv "$f")
        shift 2 ;;
      --hosts-file)
        f=$(mktemp -p "$LAB_TMP" hosts.XXXXXX)
        cat "$LAB_DIR/hosts" "$2" > "$f"
        chmod 0644 "$f"
        ov+=(--hosts "$f")
        shift 2 ;;
      *) shift ;;
    esac
  done
  (($#)) && shift
  E2E_ARGV=("$E2E_SRC/scripts/lab" exec "$E2E_LAB" host "${E2E_UOPT[@]}" "${ov[@]}" -- "$@")
}

# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds (bounded).
wait_for() {
  local n=$(($1 * 10)) i
  shift
  for ((i = 0; i < n; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# http_up URL: the lab's host node gets an answer from URL.
http_up() { in_host curl -fsS -m 1 -o /dev/null "$1" 2> /dev/null; }
# wait_http_up URL...: every URL answers in the host node within 10 s, or the
# test dies (its servers are what the checks rely on).
wait_http_up() {
  local url
  for url in "$@"; do
    wait_for 10 http_up "$url" || e2e_die "the lab server $url did not come up"
  done
}
