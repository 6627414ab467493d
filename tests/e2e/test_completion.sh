#!/usr/bin/env bash
# e2e: `netpen completion bash|zsh|fish` and netpen(1), generated from the
# option table. The scripts pass `bash -n`, `zsh -n`, `fish -n`; the build's
# generated files are what the binary prints; in bash (with bash-completion)
# and fish the completion really completes: option names, --capture-point's
# four choices, --profile's profiles of the config file found through
# XDG_CONFIG_HOME, a live sandbox's name for exec/destroy (made with
# `netpen create`, destroyed at the end), report's --format choices, and
# commands after `--`. The man page renders with `man -l` and groff warns
# about nothing. As root and as the test user; rootful: the sandbox is a
# --root one (root's, so completed as root).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "completion checks" "netpen-only"
  e2e_finish
fi

work=$(mktemp -d -p "$LAB_TMP" completion.XXXXXX) || e2e_die "mktemp"
chmod 0755 "$work"
for shell in bash zsh fish; do
  must "$E2E_NETPEN" completion "$shell" > "$work/netpen.$shell"
done
must "$E2E_NETPEN" completion --man > "$work/netpen.1"
chmod 0644 "$work"/*

# ------------------------------------------------------------ syntax, build files
check "bash -n accepts the bash completion" bash -n "$work/netpen.bash"
check "zsh -n accepts the zsh completion" zsh -n "$work/netpen.zsh"
check "fish -n accepts the fish completion" fish -n "$work/netpen.fish"
share=$(dirname "$NETPEN_BIN")/../share
if [[ -f $share/man/man1/netpen.1 ]]; then
  check "the build's man page is the binary's" cmp -s "$share/man/man1/netpen.1" "$work/netpen.1"
  check "the build's bash completion is the binary's" cmp -s "$share/completions/netpen.bash" "$work/netpen.bash"
  check "the build's zsh completion is the binary's" cmp -s "$share/completions/_netpen" "$work/netpen.zsh"
  check "the build's fish completion is the binary's" cmp -s "$share/completions/netpen.fish" "$work/netpen.fish"
else
  skip "the build's generated files" "no $share (not a build tree)"
fi
check_match "zsh script is a #compdef" '^#compdef netpen$' "$(head -1 "$work/netpen.zsh")"

# ------------------------------------------------------------ the man page
run env MANWIDTH=80 man -l "$work/netpen.1"
check_eq "man -l renders the page" 0 "$RC"
check_match "the page has its title" '^NETPEN\(1\) ' "$OUT"
check_match "the page lists --capture-point with its choices" 'capture-point child\|egress\|wire-egress\|both' "$OUT"
check_match "the page has EXIT STATUS" '^EXIT STATUS' "$OUT"
run groff -ww -man -z "$work/netpen.1"
check_eq "groff -ww: no warnings" "0:" "$RC:$ERR"

# ------------------------------------------------------------ profiles
mkdir -p "$work/xdg/netpen"
cat > "$work/xdg/netpen/config.toml" << 'TOML'
dns = "203.0.113.53"
[profile.ci]
block-metadata = true
[profile.dev-box]
extends = "ci"
TOML
chmod -R a+rX "$work/xdg"
check_output_eq "--list profiles --config FILE" $'ci\ndev-box' \
  "$E2E_NETPEN" completion --list profiles --config "$work/xdg/netpen/config.toml"
run "$E2E_NETPEN" completion --list profiles --config /nonexistent/config.toml
check_eq "--list profiles of a missing file: nothing, no error, exit 0" "0::" "$RC:$OUT:$ERR"

# bash_complete WHO WORD...: the bash completion of the words (the last one
# is the word being completed), one candidate a line.
cat > "$work/complete.bash" << 'EOS'
source /usr/share/bash-completion/bash_completion 2> /dev/null
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
_netpen 2> /dev/null
printf '%s\n' "${COMPREPLY[@]}" | sort -u
EOS
chmod 0644 "$work/complete.bash"
bash_complete_argv() {
  local who=$1
  shift
  in_host_argv --as "$who" env "XDG_CONFIG_HOME=$work/xdg" bash "$work/complete.bash" "$work/netpen.bash" \
    "$E2E_NETPEN" "$@"
}
bash_complete() { bash_complete_argv "$@" && "${E2E_ARGV[@]}"; }
fish_complete_argv() {
  local who=$1
  in_host_argv --as "$who" env "XDG_CONFIG_HOME=$work/xdg" "PATH=$(dirname "$E2E_NETPEN"):/usr/bin:/bin" \
    fish --no-config -c "source $work/netpen.fish; complete -C '$2'"
}
fish_complete() { fish_complete_argv "$@" && "${E2E_ARGV[@]}"; }

for who in $(e2e_users); do
  check_output_eq "$who: bash: --capture-p completes the option" "--capture-point" bash_complete "$who" --capture-p
  check_output_eq "$who: bash: --capture-point's four choices" $'both\nchild\negress\nwire-egress' \
    bash_complete "$who" --capture-point ""
  check_output_eq "$who: bash: -C w" "wire-egress" bash_complete "$who" -C w
  check_output_eq "$who: bash: --network-backend choices" $'rootful\nrootless-internal' \
    bash_complete "$who" --network-backend ""
  check_output_eq "$who: bash: --profile lists the config file's profiles" $'ci\ndev-box' \
    bash_complete "$who" --profile ""
  check_output_eq "$who: bash: --profile d" "dev-box" bash_complete "$who" --root --profile d
  check_output_eq "$who: bash: report --format choices" $'html\njson\nmarkdown\nprofile\ntext' \
    bash_complete "$who" report run.jsonl --format ""
  check_output_eq "$who: bash: completion's shells" $'bash\nfish\nzsh' bash_complete "$who" completion ""
  check_output_contains "$who: bash: subcommands at the first word" "report" bash_complete "$who" rep
  check_output_contains "$who: bash: a command after --" "curl" bash_complete "$who" --offline -- cur
  check_output_contains "$who: bash: the command's own options after --" "--almost-all" \
    bash_complete "$who" -- ls --almost
  check_no_match "$who: bash: no option names as --dns's value" '^-' bash_complete "$who" --dns ""

  run fish_complete "$who" "netpen --capture-point "
  check_eq "$who: fish: --capture-point's four choices" $'both\nchild\negress\nwire-egress' "$(cut -f1 <<< "$OUT" | sort)"
  run fish_complete "$who" "netpen --profile "
  check_eq "$who: fish: --profile lists the profiles" $'ci\ndev-box' "$(cut -f1 <<< "$OUT" | sort)"
  run fish_complete "$who" "netpen --capture-"
  check_match "$who: fish: option names" '^--capture-point' "$OUT"
done

# ------------------------------------------------------------ sandbox names
# rootful sandboxes are root's: complete them as root.
sbx_who=netpen-test
create_opts=()
if is_rootful; then sbx_who=root create_opts=(--root); fi
[[ " $(e2e_users) " == *" $sbx_who "* ]] || sbx_who=root
name=cmpl$$
destroy_sandbox() { in_host --as "$sbx_who" timeout 60 "$E2E_NETPEN" destroy "$name" > /dev/null 2>&1; }
trap 'rc=$?; destroy_sandbox; (exit $rc); e2e_teardown' EXIT
run in_host --as "$sbx_who" "$E2E_NETPEN" create "$name" "${create_opts[@]}"
check_eq "$sbx_who: netpen create $name" 0 "$RC"
check_output_contains "$sbx_who: --list sandboxes names it" "$name" \
  in_host --as "$sbx_who" "$E2E_NETPEN" completion --list sandboxes
check_output_eq "$sbx_who: bash: exec completes the live sandbox" "$name" bash_complete "$sbx_who" exec cmpl
check_output_eq "$sbx_who: bash: destroy completes it too" "$name" bash_complete "$sbx_who" destroy "${name:0:6}"
check_output_contains "$sbx_who: bash: exec NAME then a command" "curl" bash_complete "$sbx_who" exec "$name" cur
run fish_complete "$sbx_who" "netpen exec cmpl"
check_eq "$sbx_who: fish: exec completes the sandbox" "$name" "$(cut -f1 <<< "$OUT")"
run in_host --as "$sbx_who" timeout 60 "$E2E_NETPEN" destroy "$name"
check_eq "$sbx_who: netpen destroy $name" 0 "$RC"
check_output_eq "$sbx_who: bash: no sandbox left to complete" "" bash_complete "$sbx_who" exec cmpl

e2e_finish
