#!/usr/bin/env bash
# e2e: profiles (docs/profiles.md) and learn-then-enforce. A config file's
# [profile.NAME] tables with extends chains and top-level keys, options on
# the line winning (a list there replaces the profile's), every bad input
# one `netpen: error: FILE:LINE: key 'KEY': ...` line and exit 2 before
# anything runs, --print-config read back unchanged (passwords redacted and
# refused when read back), a childflow-style --profile PATH with extends,
# relative paths and `command`, the default lookup ($XDG_CONFIG_HOME), and
# `create --profile`. Then --learn: a run reaching two lab names writes a
# profile; the same command under it succeeds, a third name is denied and
# fails --fail-on-leak; `report --format profile` of the run's log says the
# same. Every config is named explicitly (--config or XDG_CONFIG_HOME), so a
# config file of the machine cannot change what is tested.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "profile checks" "netpen-only"
  e2e_finish
fi

P=$LAB_TMP/profiles
must mkdir -p "$P/sub" "$P/xdg/netpen" "$P/empty"
must chmod -R a+rX "$P"
EMPTY=$P/empty.toml
must touch "$EMPTY"
cat > "$P/c.toml" << 'TOML'
block_metadata = true

[profile.base]
allow = ["web.lab.test", "*.b.example"]
summary = true

[profile.ci]
extends = "base"
fail_on_leak = true
summary = false

[profile.deny-web]
deny = ["203.0.113.10"]

[profile.loop1]
extends = "loop2"
[profile.loop2]
extends = "loop1"
[profile.badvalue]
dns = "not-an-ip"
[profile.badtype]
offline = "yes"
[profile.unknown]
frobnicate = true
[profile.extends-missing]
extends = "nowhere"
[profile.conflict]
prompt_timeout = 5
TOML
printf 'allow = [\n' > "$P/invalid.toml"
printf 'dns = "203.0.113.53"\n' > "$P/xdg/netpen/config.toml"
must chmod -R a+rX "$P"

# netpen_host ARGS...: netpen itself in the lab's host node, as root (parsing only).
netpen_host_argv() { in_host_argv "$E2E_NETPEN" "$@"; }
# one_error DESC REGEX ARGS...: exit 2, stderr exactly one line matching REGEX.
one_error() {
  local d=$1 re=$2
  shift 2
  run netpen_host "$@"
  if ((RC == 2)) && [[ $(wc -l <<< "$ERR") == 1 ]] && grep -qE -- "$re" <<< "$ERR"; then ok "$d"
  else not_ok "$d" "expected exit 2 and one line /$re/"; fi
}

# --- extends, top-level keys, the line winning
run netpen_host --config "$P/c.toml" --profile ci --print-config
check_eq "--print-config: extends chain, top-level keys, false drops the parent's true" \
  'block-metadata = true
allow = ["web.lab.test", "*.b.example"]
fail-on-leak = true' "$(grep -v '^#' <<< "$OUT")"
run netpen_host --config "$P/c.toml" --profile ci --allow sink.lab.test --print-config -- curl x
check_match "a list on the line replaces the profile's" '^allow = \["sink.lab.test"\]$' "$OUT"
check_match "... and the command is printed" '^command = \["curl", "x"\]$' "$OUT"
run netpen_host --config "$P/c.toml" --print-config
check_eq "without --profile the config's top-level keys apply" 'block-metadata = true' "$(grep -v '^#' <<< "$OUT")"
run in_host env XDG_CONFIG_HOME="$P/xdg" "$E2E_NETPEN" --print-config
check_match "the default lookup: \$XDG_CONFIG_HOME/netpen/config.toml" '^dns = "203.0.113.53"$' "$OUT"
run in_host env XDG_CONFIG_HOME="$P/empty" HOME="$P/empty" "$E2E_NETPEN" --print-config
check_eq "no config file: nothing applies" "" "$(grep -v '^#' <<< "$OUT")"

# --- errors: one line naming file, line and key; exit 2
one_error "unknown key" "^netpen: error: .*c\.toml:24: key 'frobnicate': unknown key$" \
  --config "$P/c.toml" --profile unknown -- true
one_error "wrong type" "^netpen: error: .*c\.toml:22: key 'offline': true or false expected$" \
  --config "$P/c.toml" --profile badtype -- true
one_error "bad value (build_config's check, named by file and line)" \
  "^netpen: error: .*c\.toml:20: key 'dns': 'not-an-ip' is not an IPv4 or IPv6 address$" \
  --config "$P/c.toml" --profile badvalue -- true
one_error "a conflict from the profile" "^netpen: error: .*c\.toml:28: key 'prompt_timeout': --prompt-timeout requires --interactive$" \
  --config "$P/c.toml" --profile conflict -- true
one_error "missing profile" "^netpen: error: --profile: no \[profile\.nope\] in .*c\.toml" \
  --config "$P/c.toml" --profile nope -- true
one_error "extends a missing profile" "^netpen: error: .*c\.toml:26: key 'extends': no \[profile\.nowhere\]" \
  --config "$P/c.toml" --profile extends-missing -- true
one_error "extends cycle" "^netpen: error: .*c\.toml:1[68]: key 'extends': extends cycle" \
  --config "$P/c.toml" --profile loop1 -- true
one_error "invalid TOML" "^netpen: error: .*invalid\.toml:1: invalid TOML" --config "$P/invalid.toml" -- true
one_error "unreadable config" "^netpen: error: --config: .*nope\.toml: cannot read" --config "$P/nope.toml" -- true

# --- --print-config round trip, passwords
must in_host sh -c "'$E2E_NETPEN' --config '$P/c.toml' --profile ci --dns 203.0.113.53 --log '$P/x.jsonl' --print-config -- curl -s 'http://a b/' > '$P/printed.toml'"
run netpen_host --config "$EMPTY" --profile "$P/printed.toml" --print-config
check_eq "--print-config reads back unchanged" "$(cat "$P/printed.toml")" "$OUT"
run netpen_host --config "$EMPTY" --proxy http://u:s3cret@proxy.lab.test:3128 --print-config -- true
check_match "a password is redacted" '^proxy = "http://u:<redacted>@proxy.lab.test:3128"$' "$OUT"
check_eq "... and never printed" "" "$(grep s3cret <<< "$OUT")"
printf '%s\n' "$OUT" > "$P/redacted.toml"
one_error "reading a redacted password back is refused" "redacted\.toml:2: key 'proxy': the password was redacted" \
  --config "$EMPTY" --profile "$P/redacted.toml" -- true

# --- childflow-style --profile PATH: extends by path, relative paths, command
cat > "$P/sub/base.toml" << 'TOML'
default_policy = "deny"
allow_domains = ["web.lab.test"]
TOML
for who in $(e2e_users); do
  must mkdir -p "$P/sub/out-$who"
  must chown "$who" "$P/sub/out-$who"
  cat > "$P/sub/child-$who.toml" << TOML
extends = "base.toml"
flow_log = "out-$who/log.jsonl"
command = ["sh", "-c", "curl -fsS -m 10 http://web.lab.test/whoami; curl -sS -m 10 http://sink.lab.test/whoami; echo rc=\$?"]
TOML
done
must chmod -R a+rX "$P/sub"
for who in $(e2e_users); do
  run np --as "$who" --config "$EMPTY" --profile "$P/sub/child-$who.toml"
  check_match "[$who] --profile PATH: its command runs, its allow-list holds" '^203\.0\.113\.10$' "$OUT"
  check_match "[$who] ... a name outside it does not resolve" '^rc=6$' "$OUT"
  check "[$who] ... its relative flow_log lands next to the file" test -s "$P/sub/out-$who/log.jsonl"
  run np --as "$who" --config "$EMPTY" --profile "$P/sub/child-$who.toml" -- sh -c 'echo line-command'
  check_eq "[$who] ... a command on the line wins" "line-command" "$OUT"
  run np --as "$who" --config "$P/c.toml" --profile deny-web -- sh -c 'curl -4 -sS -m 10 http://web.lab.test/whoami; echo rc=$?'
  check_match "[$who] a [profile.NAME] applies to the run" '^rc=7$' "$OUT"
done

# --- create --profile
box=prof$$
box=${box:0:12}
run in_host "$E2E_NETPEN" create "$box" --config "$P/c.toml" --profile deny-web --print-config
check_match "create --profile: the profile applies to create's options" '^deny = \["203.0.113.10"\]$' "$OUT"
create_extra=()
is_rootful && create_extra=(--root)
run in_host "$E2E_NETPEN" create "$box" --config "$P/c.toml" --profile deny-web "${create_extra[@]}"
check_eq "create --profile: the sandbox is made" 0 "$RC"
run in_host "$E2E_NETPEN" exec "$box" -- sh -c 'curl -4 -sS -m 10 http://web.lab.test/whoami; echo rc=$?'
check_match "... and its policy is the profile's" '^rc=7$' "$OUT"
must in_host "$E2E_NETPEN" destroy "$box"
one_error "create --learn is refused (a sandbox has no end to write it at)" "create: --learn is not supported" \
  create "$box" --config "$EMPTY" --learn "$P/l.toml"

# --- learn, then enforce
TWO="curl -fsS -m 10 http://web.lab.test/whoami && curl -fsS -m 10 --cacert '$LAB_CA' https://www.lab.test/whoami"
for who in $(e2e_users); do
  out=$P/learn-$who
  must mkdir -p "$out"
  must chown "$who" "$out"
  run np --as "$who" --config "$EMPTY" --learn "$out/learned.toml" -- sh -c "$TWO"
  check_eq "[$who] --learn: the learning run succeeds" 0 "$RC"
  check "[$who] ... the profile belongs to the user" test "$(stat -c %U "$out/learned.toml" 2> /dev/null)" = "$who"
  learned=$(grep -v '^ *#' "$out/learned.toml" 2> /dev/null)
  check_match "[$who] ... the profile allows web.lab.test:80" '^  "web\.lab\.test:80",$' "$learned"
  check_match "[$who] ... and www.lab.test:443" '^  "www\.lab\.test:443",$' "$learned"
  check_match "[$who] ... default deny" '^default-policy = "deny"$' "$learned"
  check_match "[$who] ... with a comment saying how often and by which process" '^  # 1 tcp flow, by curl$' \
    "$(cat "$out/learned.toml")"
  must np --as "$who" --config "$EMPTY" --log "$out/learn.jsonl" -- sh -c "$TWO > /dev/null"
  run in_host "$E2E_NETPEN" report "$out/learn.jsonl" --format profile
  check_eq "[$who] report --format profile of a log of the same command: the same allow-list" "$learned" "$(grep -v '^ *#' <<< "$OUT")"
  run np --as "$who" --config "$EMPTY" --profile "$out/learned.toml" --fail-on-leak -- sh -c "$TWO"
  check_eq "[$who] enforce: the same command succeeds" 0 "$RC"
  run np --as "$who" --config "$EMPTY" --profile "$out/learned.toml" --fail-on-leak --log "$out/enforce.jsonl" -- \
    sh -c "$TWO && curl -fsS -m 10 http://sink.lab.test/whoami; true"
  check_eq "[$who] enforce: a third name fails --fail-on-leak" 1 "$RC"
  check_match "[$who] ... and is reported denied" '"event":"denied".*sink\.lab\.test' "$(cat "$out/enforce.jsonl" 2> /dev/null)"
done

e2e_finish
