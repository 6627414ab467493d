#!/usr/bin/env bash
# e2e: UDP relayed as real flows: datagrams both ways to the lab's UDP echo
# server over IPv4 and IPv6 (many, large, and a flow kept busy for seconds),
# nc -u to a closed port failing at once (ICMP port unreachable reaches the
# child), dig over UDP, and a new TCP connection opening at once while the
# tree floods UDP. As root and as the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

# python3 client: N datagrams of SIZE bytes to ADDR:7, one every GAP seconds;
# prints how many came back intact.
udp_echo() {
  local addr=$1 n=$2 size=$3 gap=$4
  echo "import socket, time
fam = socket.AF_INET6 if ':' in '$addr' else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(5); s.connect(('$addr', 7))
ok = 0
for i in range($n):
    msg = (b'%06d' % i) * ($size // 6)
    s.send(msg)
    if s.recv(65535) == msg: ok += 1
    time.sleep($gap)
print(ok)"
}

# python3 client: a datagram to a closed port; prints the error and seconds.
udp_closed() {
  echo "import socket, time
fam = socket.AF_INET6 if ':' in '$1' else socket.AF_INET
c = socket.socket(fam, socket.SOCK_DGRAM); c.settimeout(10); c.connect(('$1', 9)); c.send(b'x')
t = time.time()
try:
    c.recv(10); print('data')
except Exception as e:
    print(type(e).__name__, 'fast' if time.time() - t < 2 else 'slow')"
}

# python3 client: floods 203.0.113.10:7 with 1400-byte datagrams from a
# thread (for at most 12 s) and meanwhile fetches the lab's web page over 5
# new TCP connections, one after another; prints the HTTP statuses and
# whether the slowest fetch took under a second (a SYN lost in the tap's
# ring costs the child's first retransmission, a second).
udp_flood_then_tcp() {
  echo "import socket, threading, time, urllib.request
stop = time.time() + 12
def flood():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('203.0.113.10', 7)); s.setblocking(False)
    msg = b'f' * 1400
    while time.time() < stop:
        for _ in range(200):
            try: s.send(msg)
            except OSError: pass
threading.Thread(target=flood, daemon=True).start()
time.sleep(1)
codes, slowest = [], 0.0
for i in range(5):
    t = time.time()
    try:
        codes.append(str(urllib.request.urlopen('http://203.0.113.10/', timeout=2).status))
    except Exception as e:
        codes.append(type(e).__name__)
    slowest = max(slowest, time.time() - t)
    time.sleep(0.2)
print(' '.join(codes), 'fast' if slowest < 1 else 'slow %.1f s' % slowest)"
}

for who in $(e2e_users); do
  check_output_eq "[$who] 50 datagrams echoed over IPv4" 50 \
    np --as "$who" -- python3 -c "$(udp_echo 203.0.113.10 50 60 0)"
  check_output_eq "[$who] 50 datagrams echoed over IPv6" 50 \
    np --as "$who" -- python3 -c "$(udp_echo 2001:db8:2::10 50 60 0)"
  check_output_eq "[$who] 60000-byte datagrams echoed (IPv4 and IPv6)" "3 3" \
    np --as "$who" -- sh -c "python3 -c \"$(udp_echo 203.0.113.10 3 60000 0)\" | tr '\n' ' '; python3 -c \"$(udp_echo 2001:db8:2::10 3 60000 0)\""
  check_output_eq "[$who] a flow kept busy for 6 s (one datagram every 0.3 s)" 20 \
    np --as "$who" -- python3 -c "$(udp_echo 203.0.113.10 20 100 0.3)"
  check_output_eq "[$who] nc -u round trip" hello-udp \
    np --as "$who" -- sh -c 'echo hello-udp | nc -u -w 3 203.0.113.10 7'
  check_output_eq "[$who] closed UDP port (IPv4): refused at once" "ConnectionRefusedError fast" \
    np --as "$who" -- python3 -c "$(udp_closed 203.0.113.10)"
  check_output_eq "[$who] closed UDP port (IPv6): refused at once" "ConnectionRefusedError fast" \
    np --as "$who" -- python3 -c "$(udp_closed 2001:db8:2::10)"
  start=$SECONDS
  check "[$who] nc -u to a closed port ends" np --as "$who" -- sh -c 'echo x | nc -u -w 8 203.0.113.10 9'
  check_eq "[$who] ... at once (< 4 s)" yes "$( ((SECONDS - start < 4)) && echo yes || echo no)"
  check_output_eq "[$who] dig over UDP" 203.0.113.10 \
    np --as "$who" -- dig +short +notcp +tries=1 +time=5 web.lab.test A
  # The tap reader must not keep the relay to itself while a sender never
  # lets the tap run dry, and the flood's excess is shed by the relay, not
  # by the tap's ring: new connections still open at once (datagram_shedding.hpp).
  check_output_eq "[$who] new TCP connections during a UDP flood from the tree" "200 200 200 200 200 fast" \
    np --as "$who" -- python3 -c "$(udp_flood_then_tcp)"
done
e2e_finish
