// netpen(1): the man page (roff, man macros) generated from the
// command-line model: the options by their --help group, the subcommands,
// and the fixed sections (files, exit status, environment, examples).
#include <fmt/format.h>

#include "app/cli/completion/script_text.hpp"

namespace netpen::app::cli::completion {
namespace {

// Text safe in roff: backslashes escaped, '-' as \- (so option names stay
// ASCII hyphens), and a line never starting with a control character.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

// "\fB\-o\fR, \fB\-\-output\fR \fIPATH\fR"
std::string option_heading(const option_info& o) {
  std::string out;
  for (const auto& s : o.shorts) out += (out.empty() ? "" : ", ") + ("\\fB" + roff("-" + s) + "\\fR");
  for (const auto& l : o.longs) out += (out.empty() ? "" : ", ") + ("\\fB" + roff("--" + l) + "\\fR");
  if (o.value != value_kind::none) out += " \\fI" + roff(o.type_name) + "\\fR";
  return out;
}

std::string options_section(const cli_model& model) {
  std::string out = ".SH OPTIONS\n";
  std::string group;
  for (const auto& o : model.options) {
    if (o.group != group) {
      group = o.group;
      out += ".SS " + roff(group) + "\n";
    }
    out += ".TP\n" + option_heading(o) + "\n" + roff(o.description);
    if (o.repeatable) out += " (repeatable)";
    out += ".\n";
  }
  return out;
}

std::string subcommands_section(const cli_model& model) {
  std::string out = ".SH SUBCOMMANDS\n";
  for (const auto& s : model.subcommands)
    out += fmt::format(".TP\n\\fBnetpen {}\\fR {}\n{}.\n", s.name, roff(usage_line(s)), roff(s.description));
  out += ".PP\nA subcommand is recognised only as the first argument.\n";
  return out;
}

std::string synopsis(const cli_model& model) {
  std::string out = ".SH SYNOPSIS\n.nf\n\\fBnetpen\\fR [\\fIOPTIONS\\fR] [\\fB\\-\\-\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]\n";
  for (const auto& s : model.subcommands) out += fmt::format("\\fBnetpen {}\\fR {}\n", s.name, roff(usage_line(s)));
  return out + ".fi\n";
}

constexpr std::string_view fixed_sections = R"gen(.SH FILES
.TP
\fB$XDG_CONFIG_HOME/netpen/config.toml\fR (else \fB~/.config/netpen/config.toml\fR), then \fB/etc/netpen/config.toml\fR
The config file with the profiles, looked up in this order unless \fB\-\-config\fR names one.
.TP
\fB/run/netpen\fR
Records of \fB\-\-root\fR runs (what \fBnetpen cleanup\fR removes after a killed run).
.TP
\fB/run/netpen\-sandboxes\fR
Root's persistent sandboxes, one directory each.
.TP
\fB$XDG_RUNTIME_DIR/netpen/sandboxes\fR (else \fB/run/user/UID/netpen/sandboxes\fR, else \fB~/.local/state/netpen/sandboxes\fR)
An ordinary user's persistent sandboxes.
.SH EXIT STATUS
The command's own exit status; 128+N when it died of signal N.
.TP
.B 2
A usage error (bad flag, bad value, missing file), reported before anything is set up.
.TP
.B 1
A netpen failure at run time (with a \fBnetpen: error:\fR line), or \fB\-\-fail\-on\-leak\fR when something was denied and the command exited 0.
.SH ENVIRONMENT
.TP
.B NETPEN_PROXY_PASSWORD
The proxy password (instead of \fB\-P\fR, which other users can see in the process list).
.TP
.B XDG_CONFIG_HOME
Where the config file is looked up first.
.TP
.B XDG_RUNTIME_DIR
Where an ordinary user's persistent sandboxes live.
.TP
.B NETPEN_DEBUG
Set to 1 for debug lines.
.SH EXAMPLES
Watch what a build talks to, with a flow log:
.PP
.RS
.nf
netpen \-\-analyse \-\-log build.jsonl \-\- make
.fi
.RE
.PP
Allow only one name and fail when anything else was tried:
.PP
.RS
.nf
netpen \-\-allow example.com \-\-fail\-on\-leak \-\- curl https://example.com/
.fi
.RE
.PP
Capture the traffic and render the log as an HTML report:
.PP
.RS
.nf
netpen \-o run.pcapng \-\-log run.jsonl \-\- ./test.sh
netpen report run.jsonl \-\-format html > report.html
.fi
.RE
.PP
Install the completion for the current bash session:
.PP
.RS
.nf
source <(netpen completion bash)
.fi
.RE
.SH SEE ALSO
The documentation in \fB/usr/share/doc/netpen\fR (README.md and docs/: policy.md, flow\-log.md, report.md, capture.md, proxies.md, sandboxes.md, rootful.md),
.BR unshare (1),
.BR nft (8).
.BR pcap\-ng (5).
)gen";

}  // namespace

std::string man_page(const cli_model& model, std::string_view version) {
  std::string out = ".\\\" netpen(1), generated from netpen's own option table by\n"
                    ".\\\" `netpen completion --man`; do not edit.\n";
  out += fmt::format(".TH NETPEN 1 \"\" \"netpen {}\" \"User Commands\"\n", roff(version));
  out += ".SH NAME\nnetpen \\- run one command tree in its own network sandbox\n";
  out += synopsis(model);
  out += ".SH DESCRIPTION\n"
         "\\fBnetpen\\fR runs \\fICOMMAND\\fR and every process it starts in a network namespace of their own. "
         "All of their traffic goes through netpen, which can show it (\\fB\\-\\-analyse\\fR), log it as JSON "
         "Lines (\\fB\\-\\-log\\fR), capture it as pcapng (\\fB\\-o\\fR), summarise it (\\fB\\-\\-summary\\fR, "
         "\\fBnetpen report\\fR), force its DNS, send it through a proxy, and allow or deny it by name or "
         "address.\n"
         ".PP\n"
         "The default backend is rootless (user, network, mount and pid namespaces and a userspace relay); "
         "\\fB\\-\\-root\\fR uses veth, routing and nftables instead. "
         "The command may also follow the options without \\fB\\-\\-\\fR: the first word that is not an option "
         "starts it. Options on the command line win over a profile (\\fB\\-\\-profile\\fR).\n";
  out += options_section(model);
  out += subcommands_section(model);
  out += fixed_sections;
  return out;
}

}  // namespace netpen::app::cli::completion
