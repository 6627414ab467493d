#!/usr/bin/env bash
# Runs one libFuzzer target of the fuzz preset's build (build-fuzz/) for a
# bounded time on a scratch copy of its committed seed corpus, with its
# dictionary when there is one: ctest's "fuzz: NAME" (tests/CMakeLists.txt,
# docs/testing.md). Usage: fuzz/run_target.sh NAME (e.g. frame).
# Environment: NETPEN_FUZZ_SECONDS (default 15), NETPEN_FUZZ_BINARY_DIR
# (default SOURCE/build-fuzz), NETPEN_SOURCE_DIR (default this checkout).
# Exit 0: nothing found. 77 (ctest: skipped, never passed): the target is
# not built. 1: a crash, a broken invariant, a leak, a timeout, an
# out-of-memory or any sanitizer report; the input is printed (hex and
# base64), kept under build-fuzz/fuzz/findings/, with the command that
# replays it.
set -uo pipefail
name=${1:?usage: run_target.sh NAME}
src=${NETPEN_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${NETPEN_FUZZ_BINARY_DIR:-$src/build-fuzz}
bin=$build/fuzz/fuzz_$name
secs=${NETPEN_FUZZ_SECONDS:-15}
if [[ ! -x $bin ]]; then
  echo "SKIP: $bin is not built (cmake --preset fuzz && cmake --build --preset fuzz)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
if compgen -G "$src/fuzz/corpus/$name/*" >/dev/null; then cp "$src/fuzz/corpus/$name/"* "$work/corpus/"; fi
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
[[ -f $src/fuzz/dict/$name.dict ]] && args+=(-dict="$src/fuzz/dict/$name.dict")
# Leaks are findings too; UBSan aborts at its first report (built with
# -fno-sanitize-recover=undefined).
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}

echo "fuzz_$name: ${secs}s on $(find "$work/corpus" -type f | wc -l) seed(s)"
"$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
rc=$?
findings=("$work"/artifacts/*)
if ((rc == 0)) && [[ ! -e ${findings[0]} ]] && ! grep -q "runtime error:" "$work/log"; then
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|cov: [0-9]+ ft" "$work/log" | tail -n 4
  exit 0
fi

echo "FAIL: fuzz_$name exited $rc; the end of its output:"
grep -v -E "^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD|INITED)|^[[:space:]]+NEW_(FUNC|PC)" "$work/log" | tail -n 80
mkdir -p "$build/fuzz/findings"
for f in "${findings[@]}"; do
  [[ -e $f ]] || continue
  kept=$build/fuzz/findings/$name-$(basename "$f")
  cp "$f" "$kept"
  echo "--- input $(basename "$f") ($(stat -c %s "$f") bytes), kept as $kept"
  od -A x -t x1z -v "$f" | head -n 64
  echo "base64: $(base64 -w0 "$f" | head -c 8192)"
  echo "replay: $bin $kept"
done
exit 1
