#!/usr/bin/env bash
# e2e: `netpen report LOG --format html` of a real run in the lab (curl to
# lab names, one flow denied by policy, DNS, a hostile <script> in the
# command line), loaded in headless Chromium inside an empty network
# namespace: the page's own script runs without errors (it marks the body
# data-report="rendered"; no "Uncaught" and no refused load in Chromium's
# log), the rows we expect are there (the lab names, the denial's reason and
# rule, the process), the hostile script did not run, and the file asks for
# nothing from the network (its CSP forbids every fetch; no src/href). As
# root and as the test user; rootful too.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

if is_direct; then
  skip "HTML report checks" "netpen-only"
  e2e_finish
fi
chromium=/usr/bin/chromium-headless-shell
if [[ ! -x $chromium ]]; then
  skip "HTML report in Chromium" "$chromium is not installed"
  e2e_finish
fi

work=$(mktemp -d -p "$LAB_TMP" report-html.XXXXXX) || e2e_die "mktemp"
chmod 0777 "$work"

# chrome FILE ARGS...: headless Chromium on FILE in a new, empty network
# namespace (no interface but a down loopback: nothing can leave), bounded.
chrome_argv() {
  local file=$1
  shift
  E2E_ARGV=(unshare -n -- timeout -k 5 60 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run
    --no-default-browser-check --disable-background-networking --disable-component-update --disable-sync
    --disable-extensions --user-data-dir="$work/profile" --enable-logging=stderr --v=0 "$@" "file://$file")
}
chrome() { chrome_argv "$@" && "${E2E_ARGV[@]}"; }

hostile="<script>document.body.setAttribute('data-pwned','yes')</script>"
for who in $(e2e_users); do
  log=$work/run-$who.jsonl
  html=$work/report-$who.html
  run np --as "$who" --deny 203.0.113.11 --log "$log" -- sh -c \
    'curl -fsS -m 10 http://web.lab.test/whoami; curl -sS -m 10 http://203.0.113.11/whoami; echo rc=$?; curl -fsS -m 10 --cacert "$1" https://web.lab.test/whoami' \
    "$hostile" "$LAB_CA"
  check_eq "[$who] the run: web.lab.test twice, 203.0.113.11 refused" $'203.0.113.10\nrc=7\n203.0.113.10' "$OUT"
  must test -s "$log"

  run "$E2E_NETPEN" report "$log" --format html
  check_eq "[$who] report --format html exits 0" 0 "$RC"
  printf '%s\n' "$OUT" > "$html"
  check_match "[$who] the page has a CSP that forbids every fetch" \
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'" "$OUT"
  check_no_match "[$who] nothing in the page loads anything (src=, href=, url(, @import)" \
    'src=|href=|url\(|@import' cat "$html"
  check_no_match "[$who] the command's <script> is escaped" "<script>document" cat "$html"

  run chrome "$html" --dump-dom
  check_eq "[$who] Chromium loads the page" 0 "$RC"
  dom=$OUT
  check_match "[$who] the page's script ran (data-report=rendered)" 'data-report="rendered"' "$dom"
  check_no_match "[$who] the hostile script did not run" 'data-pwned="yes"' echo "$dom"
  check_no_match "[$who] no script error, no refused load in Chromium's log" 'Uncaught|Refused to' echo "$ERR"
  check_match "[$who] the timeline shows the process" '<h3>pid [0-9]+: curl' "$dom"
  check_match "[$who] a row for web.lab.test:80" 'web\.lab\.test:80' "$dom"
  check_match "[$who] a row for web.lab.test:443" 'web\.lab\.test:443' "$dom"
  check_match "[$who] the DNS question with its answer" '<td class="mono nw">web\.lab\.test</td><td>A</td><td class="">NOERROR</td><td class="mono">203\.0\.113\.10' "$dom"
  check_match "[$who] the denial with its rule" '203\.0\.113\.11.*deny-rule.*203\.0\.113\.11 \(--deny\)' "$dom"
  check_match "[$who] the exit status" 'id="exit-status">0<' "$dom"

  run chrome "$html" --screenshot="$work/shot-$who.png" --window-size=1280,2000
  check "[$who] Chromium renders a screenshot" test -s "$work/shot-$who.png"
  # NETPEN_E2E_SCREENSHOT=FILE keeps one (docs/report-html.png is made so).
  [[ -z ${NETPEN_E2E_SCREENSHOT:-} ]] || cp "$work/shot-$who.png" "$NETPEN_E2E_SCREENSHOT"
  [[ -z ${NETPEN_E2E_SCREENSHOT:-} ]] || cp "$html" "${NETPEN_E2E_SCREENSHOT%.png}.html"
done

e2e_finish
