#!/usr/bin/env bash
# e2e: bulk transfers through netpen checked byte for byte: a 200 MB
# download (HTTP over IPv4, HTTPS over IPv6) and a 50 MB upload to the lab's
# sink with half-close (python3 and socat clients). As root and as the
# unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

big_sha=$(cat "$LAB_DIR/big.sha256")
big_bytes=$(stat -c %s "$LAB_DIR/www/big.bin")
up=$LAB_TMP/upload.bin
head -c $((50 * 1024 * 1024)) /dev/urandom > "$up" && chmod 0644 "$up"
up_expect="$(stat -c %s "$up") $(sha256sum < "$up" | cut -d' ' -f1)"

# A client that sends the file, half-closes (SHUT_WR), then reads the reply.
read -r -d '' UPLOAD_PY <<PY
import socket, sys
s = socket.create_connection(("sink.lab.test", 9000), timeout=60)
with open("$up", "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        s.sendall(b)
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    reply += b
print(reply.decode().strip())
PY

for who in $(e2e_users); do
  start=$SECONDS
  # (python3 prints size and digest: a short read shows as a short size)
  check_output_eq "[$who] 200 MB download over HTTP/IPv4, sha256 matches" "$big_bytes $big_sha" \
    np --as "$who" -- sh -c 'curl -4 -fsS -m 120 -o - http://web.lab.test/big.bin | python3 -c "
import hashlib, sys
h, n = hashlib.sha256(), 0
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())"'
  echo "# [$who] download took $((SECONDS - start)) s"
  check_output_eq "[$who] 200 MB download over HTTPS/IPv6, sha256 matches" "$big_sha  -" \
    np --as "$who" -- sh -c "curl -6 -fsS -m 120 --cacert '$LAB_CA' https://web.lab.test/big.bin | sha256sum"
  start=$SECONDS
  check_output_eq "[$who] 50 MB upload, half-close (python3), sink's sha256 matches" "$up_expect" \
    np --as "$who" -- python3 -c "$UPLOAD_PY"
  echo "# [$who] upload took $((SECONDS - start)) s"
  check_output_eq "[$who] 50 MB upload, half-close (socat, IPv6), sink's sha256 matches" "$up_expect" \
    np --as "$who" -- sh -c "socat -t 60 -T 120 - 'TCP6:[2001:db8:2::10]:9000' < '$up'"
done
e2e_finish
