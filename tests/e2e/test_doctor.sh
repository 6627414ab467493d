#!/usr/bin/env bash
# e2e: `netpen doctor` on the lab host: ready as root and as the test user
# (exit 0), the JSON form (docs/doctor.md) parses and has its fields; with
# /dev/net/tun at mode 0600 the test user's doctor exits 1 naming the device
# and its fix (the mode is restored by a trap, even on failure); `doctor
# --root` is ready as root and names root as the test user (exit 1); usage
# errors exit 2. The chmod affects every lab on the machine: like every e2e
# test, run it under the shared lock (flock /tmp/netpen-e2e.lock).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "doctor" "netpen-only checks, NETPEN_E2E_DIRECT=1"
  e2e_finish
fi

doctor() { # doctor [--as USER] ARGS...: netpen doctor in the lab's host node
  local -a as=()
  if [[ ${1:-} == --as ]]; then as=(--as "$2"); shift 2; fi
  in_host "${as[@]}" "$E2E_NETPEN" doctor "$@"
}
doctor_argv() {
  local -a as=()
  if [[ ${1:-} == --as ]]; then as=(--as "$2"); shift 2; fi
  in_host_argv "${as[@]}" "$E2E_NETPEN" doctor "$@"
}

# json_checks: the JSON on stdin has backend, ready and checks with name, ok,
# level, detail and fix of the right types; prints "READY NAME=OK ...".
json_checks() {
  python3 -c '
import json, sys
j = json.load(sys.stdin)
assert isinstance(j["backend"], str) and isinstance(j["ready"], bool), j
assert j["checks"], "no checks"
for c in j["checks"]:
    assert set(c) == {"name", "ok", "level", "detail", "fix"}, c
    assert isinstance(c["ok"], bool) and c["level"] in ("required", "recommended", "info"), c
    assert isinstance(c["detail"], str) and c["detail"] and isinstance(c["fix"], str), c
    assert c["ok"] or c["level"] == "info" or c["fix"], ("a failed check without a fix", c)
print(j["backend"], j["ready"], " ".join("%s=%s" % (c["name"], c["ok"]) for c in j["checks"]))
'
}

for who in $(e2e_users); do
  check "[$who] doctor: the rootless backend is ready (exit 0)" doctor --as "$who"
  check_match "[$who] doctor: one line per check, tun among them" '^ok +tun +/dev/net/tun is mode 0666' "$OUT"
  check_match "[$who] doctor: says it is ready" '^ready: the rootless backend can run' "$OUT"
  run doctor --as "$who" --format json
  check_eq "[$who] doctor --format json exits 0" 0 "$RC"
  summary=$(printf '%s\n' "$OUT" | json_checks 2>&1)
  check_match "[$who] doctor --format json parses and has name, ok, level, detail, fix" \
    '^rootless True .*user-namespaces=True tun=True' "$summary"
done

# /dev/net/tun at 0600: the test user cannot open it; root still can.
tun_mode=$(stat -c %a /dev/net/tun) || e2e_die "cannot stat /dev/net/tun"
restore_tun() { chmod "$tun_mode" /dev/net/tun; }
trap 'rc=$?; restore_tun; (exit $rc); e2e_teardown' EXIT
must chmod 0600 /dev/net/tun
run doctor --as netpen-test
check_eq "[netpen-test] doctor with /dev/net/tun 0600 exits 1" 1 "$RC"
check_match "[netpen-test] doctor names /dev/net/tun and its mode" '^FAIL +tun +/dev/net/tun is mode 0600' "$OUT"
check_match "[netpen-test] doctor gives the chmod fix" 'fix: sudo chmod 0666 /dev/net/tun' "$OUT"
check_match "[netpen-test] doctor gives the udev rule" 'KERNEL=="tun", MODE="0666"' "$OUT"
check_match "[netpen-test] doctor says what is not ready" '^not ready: .*until tun is fixed' "$OUT"
run doctor --as netpen-test --format json
check_eq "[netpen-test] doctor --format json with tun 0600 exits 1" 1 "$RC"
summary=$(printf '%s\n' "$OUT" | json_checks 2>&1)
check_match "[netpen-test] JSON: ready false, tun not ok" '^rootless False .*tun=False' "$summary"
check "[root] doctor with /dev/net/tun 0600 still exits 0 (root opens it)" doctor
restore_tun
check_eq "/dev/net/tun's mode is restored" "$tun_mode" "$(stat -c %a /dev/net/tun)"

# --root: the rootful backend's checks.
check "[root] doctor --root: the rootful backend is ready (exit 0)" doctor --root
check_match "[root] doctor --root checks nftables" '^ok +nftables ' "$OUT"
check_match "[root] doctor --root checks the NFQUEUE gate" '^ok +nfqueue ' "$OUT"
check_match "[root] doctor --root says it is ready" '^ready: the rootful backend can run' "$OUT"
run doctor --root --format json
summary=$(printf '%s\n' "$OUT" | json_checks 2>&1)
check_match "[root] doctor --root --format json: rootful, ready" '^rootful True .*root=True mounts=True nftables=True nfqueue=True' "$summary"
check_no_match "[root] doctor --root leaves no nftables table behind" 'netpen_doctor' in_host nft list tables
run doctor --as netpen-test --root
check_eq "[netpen-test] doctor --root exits 1" 1 "$RC"
check_match "[netpen-test] doctor --root names root" '^FAIL +root +not root' "$OUT"
check_match "[netpen-test] doctor --root says how (sudo)" 'fix: run it with sudo' "$OUT"

check_status "doctor --format xml is a usage error (exit 2)" 2 doctor --format xml
check_match "... with one netpen: error: line" "^netpen: error: doctor: --format: 'xml' is not text or json$" "$ERR"
check_status "doctor --root --root is a usage error (exit 2)" 2 doctor --root --root
check "doctor --help exits 0" doctor --help
check_match "doctor --help is doctor's own" '^Usage: netpen doctor ' "$OUT"

e2e_finish
