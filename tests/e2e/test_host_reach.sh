#!/usr/bin/env bash
# e2e: the tree reaches the host the way another machine does, the same on
# both backends (design/product.md, "Reaching the host"): a server on the
# host node's own address is reached; a server on a metadata address on the
# host node's lo is reached without a policy, and refused at once (with a
# `denied` event) under --block-metadata or a deny rule naming it; the
# host's 127.0.0.1 is never reached (the tree's loopback is its own), and
# the refusal is fast. As root and as the user; NETPEN_E2E_BACKEND=rootful
# runs the same checks under --root. The servers and the lo address live in
# the lab's host node, so they go with the lab (lab_down), even on failure.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

META=169.254.169.254
PORT_HOST=8181 PORT_META=8182 PORT_LO=8183

# One directory per server, whose index says which server answered.
for tag in host meta lo; do
  if ! { mkdir -p "$LAB_TMP/www-$tag" && echo "host-reach-$tag" > "$LAB_TMP/www-$tag/index.html"; }; then
    e2e_die "cannot write $LAB_TMP/www-$tag"
  fi
  chmod -R a+rX "$LAB_TMP/www-$tag"
done
in_host ip addr add "$META/32" dev lo || e2e_die "cannot add $META to the host node's lo"
# (the host's server listens on every address, IPv4 and IPv6, as host services often do)
lab_spawn "$E2E_LAB" host reach-host python3 -m http.server --bind :: --directory "$LAB_TMP/www-host" "$PORT_HOST"
lab_spawn "$E2E_LAB" host reach-meta python3 -m http.server --bind "$META" --directory "$LAB_TMP/www-meta" "$PORT_META"
lab_spawn "$E2E_LAB" host reach-lo python3 -m http.server --bind 127.0.0.1 --directory "$LAB_TMP/www-lo" "$PORT_LO"

# Every server answers in the host node itself (at most 10 s).
wait_http_up "http://$LAB_HOST4:$PORT_HOST/" "http://[$LAB_HOST6]:$PORT_HOST/" "http://$META:$PORT_META/" "http://127.0.0.1:$PORT_LO/"

elapsed_ok() { # elapsed_ok START LIMIT: "yes" when fewer than LIMIT seconds passed
  (($(date +%s) - $1 < $2)) && echo yes || echo no
}

# denied_events LOG: "denied POLICY DST PORT" for each TCP/UDP denial.
# refused_fast DESC MARKER SETUP_RC CMD...: runs CMD (with `run`); ok when it
# failed (with a status other than SETUP_RC, the command's own set-up failure,
# if given) without MARKER in its output, and the refusal came within 3 s.
refused_fast() {
  local desc=$1 marker=$2 setup_rc=$3 start took
  shift 3
  start=$(date +%s)
  run "$@"
  took=$(elapsed_ok "$start" 3)
  if ((RC != 0)) && [[ $RC != "$setup_rc" && $OUT != *"$marker"* ]]; then ok "$desc"; else not_ok "$desc"; fi
  check_eq "$desc: at once (< 3 s, curl -m 10)" yes "$took"
}
denied_events() {
  python3 -c "
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get('event') == 'denied' and e.get('protocol') in ('tcp', 'udp'):
        print('denied', e.get('policy', ''), e.get('dst', ''))
" "$1" 2> /dev/null
}

for who in $(e2e_users); do
  check_output_eq "[$who] a server on the host's own address is reached" host-reach-host \
    np --as "$who" -- curl -fsS -m 10 "http://$LAB_HOST4:$PORT_HOST/"
  check_output_eq "[$who] ... and on its own IPv6 address" host-reach-host \
    np --as "$who" -- curl -fsS -m 10 "http://[$LAB_HOST6]:$PORT_HOST/"
  check_output_eq "[$who] a server on a metadata address on the host's lo is reached without a policy" \
    host-reach-meta np --as "$who" -- curl -fsS -m 10 "http://$META:$PORT_META/"
  check_output_eq "[$who] the tree's DNS still works" 203.0.113.10 \
    np --as "$who" -- dig +short +time=5 +tries=1 web.lab.test

  for how in block-metadata deny; do
    if [[ $how == deny ]]; then opts=(--deny "$META"); else opts=(--block-metadata); fi
    how=${opts[*]}
    log=$LAB_TMP/reach-$who-${opts[0]#--}.jsonl
    rm -f "$log"
    refused_fast "[$who] $how: the host-lo metadata server is refused" host-reach-meta "" \
      np --as "$who" "${opts[@]}" --log "$log" -- curl -sS -m 10 "http://$META:$PORT_META/"
    if netpen_only "[$who] ... a denied event"; then
      check_match "[$who] ... a denied event names it" "^denied [a-z-]+ $META:$PORT_META\$" "$(denied_events "$log")"
    fi
    check_output_eq "[$who] $how: the host's own address is still reached" host-reach-host \
      np --as "$who" "${opts[@]}" -- curl -fsS -m 10 "http://$LAB_HOST4:$PORT_HOST/"
  done

  refused_fast "[$who] the host's 127.0.0.1 is not reached" host-reach-lo "" \
    np --as "$who" -- curl -sS -m 10 "http://127.0.0.1:$PORT_LO/"

  # The gateway answers DNS only: the host's server listening on every
  # address is not reached through it, and the refusal is at once.
  # shellcheck disable=SC2016 # expanded inside the sandbox
  refused_fast "[$who] the gateway's other ports are refused" host-reach-host 99 \
    np --as "$who" -- sh -c 'gw=$(ip -4 route show default | sed -n "s/.* via \([0-9.]*\).*/\1/p")
    [ -n "$gw" ] || exit 99; curl -sS -m 10 "http://$gw:'"$PORT_HOST"'/"'
done
e2e_finish
