// subcommand_help (see subcommand_help.hpp): the usage line from the one
// subcommand table (completion/cli_model), then one text per subcommand.
#include "app/cli/subcommand_help.hpp"

#include "app/cli/completion/cli_model.hpp"

#include <array>
#include <utility>

namespace netpen::app::cli {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 8> texts{{
    {"doctor",
     "Checks what netpen needs on this machine, one line per capability, and\n"
     "for each missing one the exact fix: user namespaces, /dev/net/tun, uid and\n"
     "gid maps, ping, and with --root: root, nftables, NFQUEUE, TPROXY. The\n"
     "kernel version is shown too. docs/doctor.md describes the checks and the\n"
     "JSON form (one object per check: name, ok, detail, fix).\n"
     "\n"
     "Options:\n"
     "  --format text|json  output format (default text)\n"
     "  --root              check the rootful backend instead of the rootless one\n"
     "\n"
     "Exit status: 0 when the chosen backend can run, 1 when it cannot,\n"
     "2 for a usage error.\n"},
    {"cleanup",
     "Removes what dead runs left behind. As an ordinary user: that user's dead\n"
     "persistent sandboxes (a rootless run leaves nothing else). As root: also\n"
     "every dead --root run's host changes (nftables tables, veth, routes and\n"
     "rules, sysctls) from its record under /run/netpen, and every user's dead\n"
     "sandboxes under /run/user/UID. Live runs and sandboxes are never touched.\n"
     "Says what it removed, or \"nothing to clean up\".\n"
     "\n"
     "Options:\n"
     "  --dry-run  list what would be removed, remove nothing\n"
     "\n"
     "Exit status: 0 when nothing is left, 1 when something could not be\n"
     "removed (named on stderr), 2 for a usage error.\n"},
    {"completion",
     "Prints the completion script for the shell, made from the same option\n"
     "table as the parser: options and their values, profile names of the\n"
     "config file, sandbox names for exec and destroy, subcommands.\n"
     "\n"
     "  bash:  netpen completion bash > ~/.local/share/bash-completion/completions/netpen\n"
     "  zsh:   netpen completion zsh > \"${fpath[1]}/_netpen\"\n"
     "  fish:  netpen completion fish > ~/.config/fish/completions/netpen.fish\n"
     "\n"
     "Packages install them for all three shells.\n"},
    {"create",
     "Sets up a persistent sandbox called NAME with the run options (netpen\n"
     "--help: policy, DNS, hosts, proxy, log, capture, --root, --profile) and\n"
     "returns once it is ready. Commands run in it with `netpen exec NAME`;\n"
     "`netpen destroy NAME` ends it. docs/sandboxes.md.\n"
     "NAME: 1 to 32 of a-z, 0-9, '_', '-', starting with a letter or digit.\n"
     "\n"
     "Options (besides the run options):\n"
     "  --exec-group GROUP  root only: members of GROUP may exec (as themselves)\n"
     "\n"
     "--interactive and --wait-all are refused: the sandbox has no terminal and\n"
     "no command of its own.\n"},
    {"exec",
     "Runs COMMAND in the persistent sandbox NAME: its network, policy, log and\n"
     "capture. The exit status and signals pass through; a terminal gets a pty\n"
     "with job control. docs/sandboxes.md.\n"},
    {"destroy",
     "Ends the persistent sandbox NAME: its commands are killed, its log gets\n"
     "its end and its summary, and nothing of it is left.\n"},
    {"list",
     "Lists the persistent sandboxes the caller may see, live and dead.\n"
     "\n"
     "Options:\n"
     "  --format text|json  output format (default text)\n"},
    {"report",
     "Reads a flow log written with --log and prints what the run did: the\n"
     "summary (flows, bytes and denials per destination and per claimed name,\n"
     "DNS, processes). docs/report.md describes each format.\n"
     "\n"
     "Options:\n"
     "  --format text      the --summary text (default)\n"
     "  --format markdown  the same as Markdown tables (a CI job summary)\n"
     "  --format json      the --summary-format json object\n"
     "  --format html      one self-contained HTML page (a CI artifact)\n"
     "  --format profile   a TOML profile allowing what the run reached, for\n"
     "                     --profile PATH (learn, then enforce: docs/profiles.md)\n"
     "\n"
     "Exit status: 0, or 2 when the log cannot be read or is not a flow log.\n"},
}};

}  // namespace

std::string subcommand_help(std::string_view subcommand) {
  for (const auto& info : completion::subcommand_table()) {
    if (info.name != subcommand) continue;
    std::string usage = "Usage: netpen " + std::string(info.name);
    if (const std::string args = completion::usage_line(info); !args.empty()) usage += " " + args;
    for (const auto& [name, text] : texts)
      if (name == subcommand) return usage + "\n\n" + std::string(text);
    return usage + "\n";
  }
  return {};
}

}  // namespace netpen::app::cli
