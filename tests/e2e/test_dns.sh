#!/usr/bin/env bash
# e2e: DNS inside netpen: dig over UDP and TCP through the default resolver
# (the host's resolv.conf: 203.0.113.53) and a forced one (--dns
# 203.0.113.54 answers web.lab.test with 203.0.113.11), IPv6 resolver forms,
# DNS to an address without any server forced to the resolver, and curl by
# name using the forced resolver. As root and as the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

DIG=(dig +short +time=3 +tries=2)

for who in $(e2e_users); do
  check_output_eq "[$who] dig web.lab.test (UDP, default resolver)" 203.0.113.10 \
    np --as "$who" -- "${DIG[@]}" web.lab.test A
  check_output_eq "[$who] dig +tcp web.lab.test (default resolver)" 203.0.113.10 \
    np --as "$who" -- "${DIG[@]}" +tcp web.lab.test A
  check_output_eq "[$who] dig AAAA web.lab.test" 2001:db8:2::10 \
    np --as "$who" -- "${DIG[@]}" web.lab.test AAAA
  check_output_eq "[$who] dig TXT resolver.lab.test says A" '"A"' \
    np --as "$who" -- "${DIG[@]}" resolver.lab.test TXT

  check_output_eq "[$who] --dns 203.0.113.54: dig (UDP) gets 203.0.113.11" 203.0.113.11 \
    np --as "$who" --dns 203.0.113.54 -- "${DIG[@]}" web.lab.test A
  check_output_eq "[$who] --dns 203.0.113.54: dig +tcp gets 203.0.113.11" 203.0.113.11 \
    np --as "$who" --dns 203.0.113.54 -- "${DIG[@]}" +tcp web.lab.test A
  check_output_eq "[$who] -d 203.0.113.54:53: TXT says B" '"B"' \
    np --as "$who" -d 203.0.113.54:53 -- "${DIG[@]}" resolver.lab.test TXT
  check_output_eq "[$who] --dns [2001:db8:2::53]:53 works" 203.0.113.10 \
    np --as "$who" --dns '[2001:db8:2::53]:53' -- "${DIG[@]}" web.lab.test A
  check_output_eq "[$who] --dns [2001:db8:2::54]:53 is the one used" 203.0.113.11 \
    np --as "$who" --dns '[2001:db8:2::54]:53' -- "${DIG[@]}" +tcp web.lab.test A
  check_output_eq "[$who] --dns 2001:db8:2::54 (bare IPv6) is the one used" 203.0.113.11 \
    np --as "$who" --dns 2001:db8:2::54 -- "${DIG[@]}" web.lab.test A

  check_output_eq "[$who] curl by name uses the default resolver" 203.0.113.10 \
    np --as "$who" -- curl -4 -fsS -m 20 http://web.lab.test/whoami
  check_output_eq "[$who] --dns 203.0.113.54: curl by name uses it" 203.0.113.11 \
    np --as "$who" --dns 203.0.113.54 -- curl -4 -fsS -m 20 http://web.lab.test/whoami
  check_output_contains "[$who] --dns 203.0.113.54: getent (libc) uses it" "203.0.113.11    STREAM web.lab.test" \
    np --as "$who" --dns 203.0.113.54 -- getent ahostsv4 web.lab.test

  if netpen_only "[$who] dig @192.0.2.99 (no server there) is forced to the resolver"; then
    check_output_eq "[$who] dig @192.0.2.99 (no server there) is forced to the resolver" 203.0.113.10 \
      np --as "$who" -- "${DIG[@]}" @192.0.2.99 web.lab.test A
    check_output_eq "[$who] dig +tcp @192.0.2.99 is forced to the resolver" 203.0.113.10 \
      np --as "$who" -- "${DIG[@]}" +tcp @192.0.2.99 web.lab.test A
    check_output_eq "[$who] --dns 203.0.113.54: dig @203.0.113.53 still gets .54's answer" 203.0.113.11 \
      np --as "$who" --dns 203.0.113.54 -- "${DIG[@]}" @203.0.113.53 web.lab.test A
    check_output_eq "[$who] --dns 203.0.113.54: dig +tcp @2001:db8:2::99 forced" 203.0.113.11 \
      np --as "$who" --dns 203.0.113.54 -- "${DIG[@]}" +tcp @2001:db8:2::99 web.lab.test A
  fi
done
e2e_finish
