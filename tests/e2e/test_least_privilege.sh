#!/usr/bin/env bash
# e2e: least privilege inside the rootless sandbox. By default the command
# runs as the invoking user's own uid and gid (root stays uid 0) with every
# capability set empty (CapInh/CapPrm/CapEff/CapBnd/CapAmb), also through a
# set-user-ID-root copy and a file-capability copy of a program; it cannot
# change the sandbox's routes, links or sysctls, open raw sockets, unmount or
# write /etc/resolv.conf, nor do any of that from a user namespace of its own
# (its mounts there are locked); ping (ICMP datagram sockets) and a server on
# port 80 still work, and files it makes on the host are the invoking user's.
# A persistent sandbox's execs get the same (create, and create --exec-group
# as root for a member). --map-root gives uid 0 with capabilities over the
# sandbox (ip route works). With --root (NETPEN_E2E_BACKEND=rootful) only
# what applies there: the command runs as the invoking user, and --map-root
# is refused (exit 2). As root and as the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_MAP_ROOT=0 # this suite is about the default; it adds --map-root itself
e2e_setup

if is_direct; then
  skip "least-privilege checks" "netpen-only"
  e2e_finish
fi

caps_of() { grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' <<< "$1" | awk '{print $2}' | sort -u | tr '\n' ' '; }
zero_caps="0000000000000000 "

# --root: the command is the invoking user, --map-root is a usage error.
if is_rootful; then
  for who in $(e2e_users); do
    run np --as "$who" -- id -u
    check_eq "[$who] --root: the command runs as the invoking user" "$(id -u "$who")" "$OUT"
    run np --as "$who" --map-root -- true
    check_eq "[$who] --root --map-root is refused with exit 2" 2 "$RC"
    check_match "[$who] ... with one netpen: error: line" '^netpen: error: .*--map-root' "$ERR"
  done
  e2e_finish
fi

# Copies of cat that would gain privilege on the host: set-user-ID root, and
# file capabilities marked effective. Each is shown to work outside first
# (a host whose lab directory is mounted nosuid skips the check).
probe_dir=$LAB_DIR/lp-bin
must mkdir -p "$probe_dir"
must chmod 0755 "$probe_dir"
must install -m 4755 -o root "$(command -v cat)" "$probe_dir/suid-cat"
have_fcaps=0
if command -v setcap > /dev/null; then
  must install -m 0755 "$(command -v cat)" "$probe_dir/fcap-cat"
  must setcap cap_net_raw,cap_net_admin,cap_sys_admin+ep "$probe_dir/fcap-cat"
  have_fcaps=1
fi

# Python probes run inside the tree.
# shellcheck disable=SC2016
raw_socket_py='
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print("raw: ok")
except OSError as e:
    print("raw:", e.strerror)'
umount_py='
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.umount2(b"/etc/resolv.conf", 2)
print("umount:", "ok" if rc == 0 else os.strerror(ctypes.get_errno()))'
# A user namespace and mount namespace of the tree's own: full capabilities
# there, but the sandbox's mounts are locked (cannot be unmounted, stay
# read-only).
nested_mounts_py='
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def res(rc): return "ok" if rc == 0 else os.strerror(ctypes.get_errno())
if libc.unshare(0x10000000 | 0x00020000) != 0: raise SystemExit("unshare: " + res(-1))
print("nested CapEff:", [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0])
print("umount:", res(libc.umount2(b"/etc/resolv.conf", 2)))
print("remount rw:", res(libc.mount(None, b"/etc/resolv.conf", None, 0x20 | 0x1000, None)))
try:
    open("/etc/resolv.conf", "a").write("nameserver 192.0.2.1\n"); print("write: ok")
except OSError as e:
    print("write:", e.strerror)'

# nested_caps_py SCRIPT: runs SCRIPT (sh) in a new user namespace with every
# capability there raised into the ambient set (so it survives the exec).
nested_caps_py='
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0: raise SystemExit("unshare: " + os.strerror(ctypes.get_errno()))
class Header(ctypes.Structure): _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure): _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
if libc.capget(ctypes.byref(header), data) != 0: raise SystemExit("capget failed")
for d in data: d.inheritable = d.permitted
if libc.capset(ctypes.byref(header), data) != 0: raise SystemExit("capset: " + os.strerror(ctypes.get_errno()))
cap = 0
while libc.prctl(47, 2, ctypes.c_ulong(cap), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0: cap += 1
os.execvp("sh", ["sh", "-c", sys.argv[1]])'

for who in $(e2e_users); do
  uid=$(id -u "$who") gid=$(id -g "$who")

  # --- who the command is
  run np --as "$who" -- sh -c 'id -u; id -g; grep ^Cap /proc/self/status'
  check_eq "[$who] the command runs as the invoking uid and gid" "$uid $gid" "$(head -n 2 <<< "$OUT" | tr '\n' ' ' | sed 's/ $//')"
  check_eq "[$who] CapInh, CapPrm, CapEff, CapBnd, CapAmb are all 0" "$zero_caps" "$(caps_of "$OUT")"
  check_eq "[$who] ... all five lines were read" 5 "$(grep -c '^Cap' <<< "$OUT")"

  run in_host --as "$who" "$probe_dir/suid-cat" /proc/self/status
  if [[ $RC -eq 0 && $(awk '/^Uid:/{print $3}' <<< "$OUT") == 0 ]]; then
    run np --as "$who" -- "$probe_dir/suid-cat" /proc/self/status
    check_eq "[$who] a set-user-ID-root program gains no capability" "$zero_caps" "$(caps_of "$OUT")"
    if [[ $who != root ]]; then
      check_eq "[$who] ... nor uid 0 (effective uid stays $uid)" "$uid" "$(awk '/^Uid:/{print $3}' <<< "$OUT")"
    fi
  else
    skip "[$who] a set-user-ID-root program gains no capability" "set-user-ID does not work in $probe_dir here"
  fi
  if ((have_fcaps)); then
    run in_host --as "$who" "$probe_dir/fcap-cat" /proc/self/status
    if [[ $RC -eq 0 && $(caps_of "$OUT") != "$zero_caps" ]]; then
      run np --as "$who" -- "$probe_dir/fcap-cat" /proc/self/status
      check_eq "[$who] a program with file capabilities (+ep) starts and gains none" "$zero_caps" "$(caps_of "$OUT")"
    else
      skip "[$who] a program with file capabilities gains none" "file capabilities do not work in $probe_dir here"
    fi
  else
    skip "[$who] a program with file capabilities gains none" "no setcap (libcap2-bin)"
  fi

  # --- what it cannot do to the sandbox
  run np --as "$who" -- sh -c 'ip route add 192.0.2.0/24 dev tap0; echo "rc=$?"; ip route'
  check_match "[$who] ip route add fails (EPERM)" 'Operation not permitted' "$ERR"
  check_no_match "[$who] ... and the route is not there" '192\.0\.2\.0/24' printf '%s\n' "$OUT"
  run np --as "$who" -- sh -c 'ip link set lo down; echo "rc=$?"; ip -br link show lo'
  check_match "[$who] ip link set lo down fails" '^rc=[1-9]' "$OUT"
  check_match "[$who] ... and lo stays up" '^lo +UNKNOWN' "$OUT"
  run np --as "$who" -- sh -c 'sysctl -w net.ipv4.ip_unprivileged_port_start=1024; echo "rc=$?"; cat /proc/sys/net/ipv4/ip_unprivileged_port_start'
  check_match "[$who] sysctl -w fails" '^rc=[1-9]' "$OUT"
  check_eq "[$who] ... and the sandbox's value stays 0" 0 "$(tail -n 1 <<< "$OUT")"
  # (writes back the value it read: harmless should it ever succeed)
  run np --as "$who" -- sh -c 'v=$(cat /proc/sys/kernel/core_pattern) && printf "%s\n" "$v" > /proc/sys/kernel/core_pattern; echo "rc=$?"'
  check_match "[$who] a host kernel sysctl (kernel.core_pattern) cannot be written" '^rc=[1-9]' "$OUT"
  if [[ $who == root ]]; then # uid 0 is the host's root: /sys is read-only for it
    run np --as "$who" -- grep -E '^[0-9]+ [0-9]+ [0-9:]+ / /sys ' /proc/self/mountinfo
    check_match "[$who] /sys is read-only" ' /sys ro,' "$(tail -n 1 <<< "$OUT")"
  fi
  run np --as "$who" -- python3 -c "$raw_socket_py"
  check_eq "[$who] a raw socket is refused" "raw: Operation not permitted" "$OUT"

  run np --as "$who" -- sh -c 'cp /etc/resolv.conf "$0.before"; umount /etc/resolv.conf; echo "rc=$?"; python3 -c "$1"
    echo "nameserver 192.0.2.1" > /etc/resolv.conf; echo "write rc=$?"; cmp -s /etc/resolv.conf "$0.before" && echo unchanged; rm -f "$0.before"' \
    "$LAB_TMP/lp-resolv.$who" "$umount_py"
  check_match "[$who] umount /etc/resolv.conf fails" '^rc=[1-9]' "$OUT"
  check_match "[$who] ... the kernel refuses it (EPERM)" '^umount: Operation not permitted' "$OUT"
  check_match "[$who] writing /etc/resolv.conf fails" '^write rc=[1-9]' "$OUT"
  check_match "[$who] ... read-only" 'Read-only file system' "$ERR"
  check_match "[$who] ... and it is unchanged" '^unchanged$' "$OUT"

  run np --as "$who" -- sh -c 'cp /etc/resolv.conf "$0.before"; python3 -c "$1"; cmp -s /etc/resolv.conf "$0.before" && echo unchanged; rm -f "$0.before"' \
    "$LAB_TMP/lp-nested.$who" "$nested_mounts_py"
  check_no_match "[$who] a nested user namespace holds capabilities (the checks below are real)" \
    '^nested CapEff: 0000000000000000$' printf '%s\n' "$OUT"
  check_match "[$who] ... it cannot unmount the locked /etc/resolv.conf" '^umount: Invalid argument' "$OUT"
  check_match "[$who] ... nor remount it read-write" '^remount rw: Operation not permitted' "$OUT"
  check_match "[$who] ... nor write it" '^write: Read-only file system' "$OUT"
  check_match "[$who] ... and the sandbox's resolv.conf is unchanged" '^unchanged$' "$OUT"

  run np --as "$who" -- sh -c 'python3 -c "$0" "grep CapEff /proc/self/status; ip route add 192.0.2.0/24 dev tap0"; echo "rc=$?"; ip route' "$nested_caps_py"
  check_match "[$who] a nested user namespace's process holds capabilities" '^CapEff:[[:space:]]+0*[1-9a-f][0-9a-f]*$' "$OUT"
  check_match "[$who] ... but cannot add a route to the sandbox's (EPERM)" 'Operation not permitted' "$ERR"
  check_no_match "[$who] ... the route is not there" '192\.0\.2\.0/24' printf '%s\n' "$OUT"
  if [[ $who != root ]]; then # root's tree may not map uid 0 in a nested namespace (no CAP_SETFCAP)
    run np --as "$who" -- sh -c 'unshare -Ur sh -c "id -u; ip route add 192.0.2.0/24 dev tap0"; ip route'
    check_match "[$who] unshare -Ur: uid 0 in a nested namespace" '^0$' "$OUT"
    check_match "[$who] ... ip route add still fails" 'Operation not permitted' "$ERR"
    check_no_match "[$who] ... the route is not there" '192\.0\.2\.0/24' printf '%s\n' "$OUT"
  fi

  # --- what still works
  run np --as "$who" -- ping -c 2 -i 0.2 -W 3 203.0.113.10
  check_match "[$who] ping (ICMP datagram socket) still works" ' 2 received' "$OUT"
  run np --as "$who" -- sh -c 'python3 -m http.server 80 --bind 127.0.0.1 --directory / > /dev/null 2>&1 &
    for i in $(seq 50); do curl -s -o /dev/null -m 1 http://127.0.0.1:80/ && break; sleep 0.1; done
    curl -s -o /dev/null -w "%{http_code}\n" -m 5 http://127.0.0.1:80/'
  check_output_eq "[$who] a server binds port 80 inside" 200 printf '%s' "$OUT"
  rm -f "$LAB_TMP/lp-owned.$who"
  run np --as "$who" -- touch "$LAB_TMP/lp-owned.$who"
  check_eq "[$who] a file the tree creates on the host is the invoking user's" "$uid:$gid" \
    "$(stat -c %u:%g "$LAB_TMP/lp-owned.$who" 2> /dev/null)"
  rm -f "$LAB_TMP/lp-owned.$who"

  # --- --map-root: today's uid 0 with capabilities over the sandbox
  run np --as "$who" --map-root -- sh -c 'id -u; grep -E "^Cap(Eff|Bnd):" /proc/self/status; ip route add 192.0.2.0/24 dev tap0 && ip route'
  check_eq "[$who] --map-root: uid 0 inside" 0 "$(head -n 1 <<< "$OUT")"
  eff=$(awk '/^CapEff:/{print $2}' <<< "$OUT") bnd=$(awk '/^CapBnd:/{print $2}' <<< "$OUT")
  if [[ -n $eff && $eff != 0000000000000000 && $eff == "$bnd" ]]; then ok "[$who] ... with every capability (CapEff $eff)"
  else not_ok "[$who] ... with every capability" "CapEff '$eff', CapBnd '$bnd'"; fi
  check_match "[$who] ... ip route add works" '^192\.0\.2\.0/24 dev tap0' "$OUT"
  rm -f "$LAB_TMP/lp-mapped.$who"
  run np --as "$who" --map-root -- touch "$LAB_TMP/lp-mapped.$who"
  check_eq "[$who] ... its files on the host are still the invoking user's" "$uid:$gid" \
    "$(stat -c %u:%g "$LAB_TMP/lp-mapped.$who" 2> /dev/null)"
  rm -f "$LAB_TMP/lp-mapped.$who"

  # --- persistent sandboxes: create (and create --map-root), exec
  for mode in default map-root; do
    box=lp-$mode-$$
    opts=()
    [[ $mode == map-root ]] && opts=(--map-root)
    run in_host --as "$who" "$E2E_NETPEN" create "$box" "${opts[@]}"
    if ((RC != 0)); then
      not_ok "[$who] create $box ${opts[*]}"
      continue
    fi
    run in_host --as "$who" "$E2E_NETPEN" exec "$box" -- sh -c 'id -u; grep ^CapEff /proc/self/status; ip route add 192.0.2.0/24 dev tap0; echo "rc=$?"'
    if [[ $mode == default ]]; then
      check_eq "[$who] exec: runs as the invoking uid" "$uid" "$(head -n 1 <<< "$OUT")"
      check_match "[$who] exec: no capabilities" '^CapEff:[[:space:]]+0000000000000000$' "$OUT"
      check_match "[$who] exec: ip route add fails" '^rc=[1-9]' "$OUT"
    else
      check_eq "[$who] exec (create --map-root): uid 0" 0 "$(head -n 1 <<< "$OUT")"
      check_no_match "[$who] exec (create --map-root): capabilities" '^CapEff:[[:space:]]+0+$' printf '%s\n' "$OUT"
      check_match "[$who] exec (create --map-root): ip route add works" '^rc=0$' "$OUT"
    fi
    run in_host --as "$who" timeout 60 "$E2E_NETPEN" destroy "$box"
    check "[$who] destroy $box" test "$RC" -eq 0
  done
done

# Root's sandbox shared with a group (every host id mapped): a member's exec
# runs as the member with nothing, and set-user-ID root gains it nothing.
exec_group_test() {
  local box=lp-group-$$ group=nplp$RANDOM
  if ! groupadd "$group" || ! usermod -aG "$group" netpen-test; then
    not_ok "[exec-group] make a group with netpen-test in it"
    return
  fi
  run in_host "$E2E_NETPEN" create "$box" --exec-group "$group"
  if ((RC == 0)); then
    run in_host --as netpen-test "$E2E_NETPEN" exec "$box" -- sh -c 'id -u; grep ^CapEff /proc/self/status; "$0" /proc/self/status' "$probe_dir/suid-cat"
    check_eq "[exec-group] a member's exec runs as the member" "$(id -u netpen-test)" "$(head -n 1 <<< "$OUT")"
    check_eq "[exec-group] ... with no capability, also through set-user-ID root" "$zero_caps" "$(caps_of "$OUT")"
    check_eq "[exec-group] ... whose effective uid stays the member's" "$(id -u netpen-test)" "$(awk '/^Uid:/{print $3}' <<< "$OUT")"
    run in_host "$E2E_NETPEN" exec "$box" -- sh -c 'id -u; grep ^CapEff /proc/self/status'
    check_eq "[exec-group] the owner's exec: uid 0 without capabilities" "0 CapEff: 0000000000000000" \
      "$(tr '\n\t' '  ' <<< "$OUT" | sed 's/ *$//')"
    run in_host timeout 60 "$E2E_NETPEN" destroy "$box"
    check "[exec-group] destroy" test "$RC" -eq 0
  else
    not_ok "[exec-group] root creates a sandbox shared with a group"
  fi
  gpasswd -d netpen-test "$group" > /dev/null 2>&1
  groupdel "$group"
}
[[ " $(e2e_users) " == *" root "* && " $(e2e_users) " == *" netpen-test "* ]] && exec_group_test
e2e_finish
