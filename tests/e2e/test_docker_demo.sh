#!/usr/bin/env bash
# e2e: the Docker demo (docker/demo/compose.yml) and the dev image. No
# Docker engine runs on the test machines, so the compose file is validated:
# with `docker compose config` when the compose plugin is there, else
# `docker-compose config` (Debian's docker-compose, scripts/bootstrap), else
# a YAML parse (reported as a partial check). Then its content: the four
# services on an internal network (no internet), the demo showing
# --analyse, a policy denial and a capture. When an engine answers
# (`docker info`) and NETPEN_E2E_DOCKER=1, the demo runs for real.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_NAME=docker_demo
COMPOSE=$E2E_SRC/docker/demo/compose.yml

check "docker/demo/compose.yml exists" test -f "$COMPOSE"
if docker compose version > /dev/null 2>&1; then
  check "docker compose config validates the demo" docker compose -f "$COMPOSE" config -q
elif command -v docker-compose > /dev/null; then
  check "docker-compose config validates the demo" docker-compose -f "$COMPOSE" config -q
else
  skip "docker compose config validates the demo" "no docker compose plugin and no docker-compose (scripts/bootstrap)"
fi

# The demo's content, from the YAML itself.
read -r -d '' demo_check << 'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
assert {"netpen", "dns", "web", "proxy"} <= set(s), sorted(s)
assert c["networks"]["demo"]["internal"] is True, "the demo network must be internal (no internet)"
for name, svc in s.items():
    assert list(svc["networks"]) == ["demo"], (name, svc["networks"])
cmd = s["netpen"]["command"]
script = cmd if isinstance(cmd, str) else "\n".join(cmd)
for needle in ("--analyse", "--allow web.demo", "blocked.demo", "-c /out/demo.pcapng", "--proxy http://", "netpen doctor"):
    assert needle in script, needle
assert s["netpen"].get("privileged") is True
print("ok")
PY
run python3 -c "$demo_check" "$COMPOSE"
check_eq "compose.yml: netpen, dns, web, proxy on an internal network; shows --analyse, a denial, a capture" ok "$OUT"

check "docker/dev/Dockerfile builds and tests by default (docker/dev/build-and-test)" \
  grep -q 'CMD \["bash", "docker/dev/build-and-test"\]' "$E2E_SRC/docker/dev/Dockerfile"
check "docker/dev/build-and-test is valid bash" bash -n "$E2E_SRC/docker/dev/build-and-test"

if [[ ${NETPEN_E2E_DOCKER:-0} == 1 ]] && docker info > /dev/null 2>&1; then
  out=$(mktemp -d)
  run timeout 1200 docker compose -f "$COMPOSE" -p netpendemo up --build --abort-on-container-exit --exit-code-from netpen netpen
  check_eq "the demo runs (docker compose up)" 0 "$RC"
  docker compose -f "$COMPOSE" -p netpendemo down -v > /dev/null 2>&1
  rm -rf "$out"
else
  skip "the demo runs in Docker" "no Docker engine here (or NETPEN_E2E_DOCKER is not 1)"
fi

e2e_finish
