#!/usr/bin/env bash
# e2e: 300 TCP connections through netpen at once, all succeed (counted
# exactly): python3 threads holding 300 connections open together before
# each sends its request, and one curl making 300 new connections 50 at a
# time. As root and as the
# unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

read -r -d '' PARALLEL_PY <<'PY'
import socket, threading
N = 300
barrier = threading.Barrier(N, timeout=90)
results = [None] * N

def worker(i):
    s = None
    try:
        s = socket.create_connection(("web.lab.test", 80), timeout=60)
    except OSError as e:
        results[i] = "connect: %s" % e
    try:
        barrier.wait()  # all 300 connections are open at this point
    except threading.BrokenBarrierError:
        pass
    if s is None:
        return
    try:
        s.sendall(b"GET /whoami HTTP/1.1\r\nHost: web.lab.test\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        ok = data.startswith(b"HTTP/1.1 200") and data.rstrip().endswith((b"203.0.113.10", b"2001:db8:2::10"))
        results[i] = "ok" if ok else "bad reply %r" % data[:80]
    except OSError as e:
        results[i] = "request: %s" % e
    finally:
        s.close()

threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = [r for r in results if r != "ok"]
print("ok=%d failed=%d" % (N - len(bad), len(bad)))
for r in sorted(set(map(str, bad)))[:5]:
    print("  e.g.", r)
PY

for who in $(e2e_users); do
  start=$SECONDS
  check_output_eq "[$who] 300 simultaneous connections (python3 threads) all succeed" "ok=300 failed=0" \
    np --as "$who" -- python3 -c "$PARALLEL_PY"
  echo "# [$who] took $((SECONDS - start)) s"
  start=$SECONDS
  check_output_eq "[$who] curl --parallel: 300 new connections, 50 at a time, all get 200" 300 \
    np --as "$who" -- sh -c "seq 300 | sed 's|.*|url = \"http://web.lab.test/whoami?&\"\\noutput = \"/dev/null\"|' |
      curl -4 -sS --no-progress-meter -Z --parallel-max 50 -H 'Connection: close' -m 60 -K - -w '%{http_code} %{num_connects}\\n' |
      grep -c '^200 1\$'"
  echo "# [$who] took $((SECONDS - start)) s"
done
e2e_finish
