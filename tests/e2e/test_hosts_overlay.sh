#!/usr/bin/env bash
# e2e: --hosts-file overlays an /etc/hosts-format file for the tree: libc
# (getent) and the DNS forwarder (dig) see its names, curl reaches them, the
# host's names still resolve, and neither the real /etc/hosts nor the lab
# host's one changes. As root and as the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

overlay=$LAB_TMP/overlay.hosts
cat > "$overlay" <<'HOSTS'
# netpen e2e overlay
203.0.113.10    custom.lab.test custom-alias
2001:db8:2::10  custom6.lab.test
HOSTS
chmod 0644 "$overlay"
real_before=$(sha256sum < /etc/hosts) || e2e_die "cannot hash /etc/hosts"
lab_before=$(sha256sum < "$LAB_DIR/hosts") || e2e_die "cannot hash the lab's hosts file"

for who in $(e2e_users); do
  check_output_eq "[$who] getent hosts custom.lab.test" "203.0.113.10    custom.lab.test custom-alias" \
    np --as "$who" --hosts-file "$overlay" -- getent hosts custom.lab.test
  check_output_contains "[$who] getent hosts custom-alias" 203.0.113.10 \
    np --as "$who" --hosts-file "$overlay" -- getent hosts custom-alias
  check_output_eq "[$who] getent hosts custom6.lab.test (IPv6 line)" "2001:db8:2::10  custom6.lab.test" \
    np --as "$who" --hosts-file "$overlay" -- getent hosts custom6.lab.test
  check_output_contains "[$who] host's own entries still there (localhost)" 127.0.0.1 \
    np --as "$who" --hosts-file "$overlay" -- getent ahostsv4 localhost
  check_output_contains "[$who] DNS names still resolve (web.lab.test)" 203.0.113.10 \
    np --as "$who" --hosts-file "$overlay" -- getent ahostsv4 web.lab.test
  check_output_eq "[$who] curl http://custom.lab.test/" netpen-lab-index-ok \
    np --as "$who" --hosts-file "$overlay" -- curl -fsS -m 20 http://custom.lab.test/
  check_output_eq "[$who] curl http://custom6.lab.test/whoami over IPv6" 2001:db8:2::10 \
    np --as "$who" --hosts-file "$overlay" -- curl -fsS -m 20 http://custom6.lab.test/whoami
  if netpen_only "[$who] dig sees the overlay (forwarder answers A/AAAA)"; then
    check_output_eq "[$who] dig custom.lab.test A answered from the overlay" 203.0.113.10 \
      np --as "$who" --hosts-file "$overlay" -- dig +short +time=3 +tries=2 custom.lab.test A
    check_output_eq "[$who] dig +tcp custom6.lab.test AAAA answered from the overlay" 2001:db8:2::10 \
      np --as "$who" --hosts-file "$overlay" -- dig +short +time=3 +tries=2 +tcp custom6.lab.test AAAA
    check_output_eq "[$who] overlay wins over --dns too" 203.0.113.10 \
      np --as "$who" --dns 203.0.113.54 --hosts-file "$overlay" -- dig +short +time=3 +tries=2 custom.lab.test A
    check_status "[$who] missing --hosts-file is a usage error (exit 2)" 2 \
      np --as "$who" --hosts-file "$LAB_TMP/no-such-file" -- true
    check_match "[$who] ... with a 'netpen: error:' line" '^netpen: error:' "$ERR"
  fi
  check_output_eq "[$who] the real /etc/hosts is unchanged" "$real_before" sh -c 'sha256sum < /etc/hosts'
  check_output_eq "[$who] the lab host's /etc/hosts is unchanged" "$lab_before" \
    in_host sh -c 'sha256sum < /etc/hosts'
  # shellcheck disable=SC2016 # expanded by the inner sh
  check_output_eq "[$who] the lab host's hosts file is unchanged" "$lab_before" sh -c 'sha256sum < "$0"' "$LAB_DIR/hosts"
done
e2e_finish
