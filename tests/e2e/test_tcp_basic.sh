#!/usr/bin/env bash
# e2e: TCP through netpen to the lab's web server by name: curl over HTTP and
# HTTPS (lab CA), IPv4 and IPv6, python3 urllib, an echo round trip, and a
# refused port failing at once. As root and as the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

urllib_get() { # python3 one-liner fetching $1 (https with the lab CA)
  local url=$1
  echo "import ssl, urllib.request as u
ctx = ssl.create_default_context(cafile='$LAB_CA')
print(u.urlopen('$url', timeout=20, context=ctx).read().decode().strip())"
}

for who in $(e2e_users); do
  check_output_eq "[$who] curl http://web.lab.test/" netpen-lab-index-ok \
    np --as "$who" -- curl -fsS -m 30 http://web.lab.test/
  check_output_eq "[$who] curl https://web.lab.test/ (lab CA)" netpen-lab-index-ok \
    np --as "$who" -- curl -fsS -m 30 --cacert "$LAB_CA" https://web.lab.test/
  check_output_eq "[$who] curl -4 reaches 203.0.113.10" 203.0.113.10 \
    np --as "$who" -- curl -4 -fsS -m 30 http://web.lab.test/whoami
  check_output_eq "[$who] curl -6 https reaches 2001:db8:2::10" 2001:db8:2::10 \
    np --as "$who" -- curl -6 -fsS -m 30 --cacert "$LAB_CA" https://web.lab.test/whoami
  check_output_eq "[$who] python3 urllib http" netpen-lab-index-ok \
    np --as "$who" -- python3 -c "$(urllib_get http://web.lab.test/)"
  check_output_eq "[$who] python3 urllib https" netpen-lab-index-ok \
    np --as "$who" -- python3 -c "$(urllib_get https://web.lab.test/)"
  check_output_eq "[$who] echo server round trip (socat)" hello-echo \
    np --as "$who" -- sh -c 'echo hello-echo | socat -t 5 - TCP:web.lab.test:7'
  start=$SECONDS
  check_status "[$who] refused port: curl exit 7 (connection refused)" 7 \
    np --as "$who" -- curl -sS -m 20 http://203.0.113.10:81/
  check_eq "[$who] refused port fails at once (< 5 s)" yes "$( ((SECONDS - start < 5)) && echo yes || echo no)"
done
e2e_finish
