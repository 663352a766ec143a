#!/usr/bin/env bash
# Install everything the test suite needs, then run, in order: ruff, mypy, the fast lane
# (`pytest -m "not slow"`) and the slow lane (`pytest -m slow`: LibreOffice, SIGKILL,
# property/fuzz, large files; tests/conftest.py says which tests and why). Every step
# runs even when an earlier one failed; the script fails if any did. Arguments go to
# both pytest lanes (e.g. `bash scripts/test.sh tests/engine -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
# LibreOffice (the real spreadsheet engine the native formulas are checked in), poppler
# (PDF pages to PNG) and Carlito (Calibri's metrics, so a sheet prints on the pages it
# would in Excel: the one-page Dashboard test depends on it).
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
    || ! { command -v fc-list >/dev/null 2>&1 && fc-list | grep -qi carlito; }; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    libreoffice-calc-nogui poppler-utils fonts-crosextra-carlito fontconfig >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e ".[test]"

# >>> the paths mypy checks (config: [tool.mypy] in pyproject.toml): the model, the
# codec and the engine, where a wrong type is a wrong figure. <<<
MYPY_PATHS=(payorxl/model.py payorxl/codec.py payorxl/rules.py payorxl/engine)

# The slow lane runs on 2 workers (pytest-xdist): its tests are safe in parallel (each
# LibreOffice run has its own profile folder, every test its own tmp_path), it costs no
# more CPU than one process, and its two longest tests (16 s and 12 s) then run side by
# side: 89 s against 95-156 s in one process on the 2-core machine. The fast lane runs on
# 2 workers too (its 650 tests took 139 s in one process on a quiet CI machine, about 80 s
# on two). FAST_WORKERS=0 / SLOW_WORKERS=0 run a lane in one process.
SLOW_WORKERS="${SLOW_WORKERS:-2}"
FAST_WORKERS="${FAST_WORKERS:-2}"

failed=()
step() {   # step NAME COMMAND...: run it, remember a failure, go on
  local name=$1; shift
  echo "=== $name: $*"
  local rc=0
  "$@" || rc=$?
  [ "$rc" -eq 0 ] || failed+=("$name (exit $rc)")
}

# pytest exits 5 when it ran no test. Without arguments each lane must run tests (an
# empty lane means the lanes are broken); with arguments that pick some tests, one lane
# may well be empty (`tests/engine/test_deadlines.py` has no slow test), but not both.
lane_rcs=()
lane() {   # lane NAME PYTEST-ARGS...
  local name=$1; shift
  echo "=== $name: pytest $*"
  local rc=0
  python3 -m pytest -p no:cacheprovider "$@" || rc=$?
  lane_rcs+=("$rc")
  if [ "$rc" -eq 5 ] && [ "$NARROWED" = yes ]; then
    echo "($name: no test among the ones asked for)"
  elif [ "$rc" -eq 5 ]; then
    failed+=("$name (pytest exit 5: no tests ran)")
  elif [ "$rc" -ne 0 ]; then
    failed+=("$name (pytest exit $rc)")
  fi
}
NARROWED=no; [ "$#" -gt 0 ] && NARROWED=yes

step "ruff" python3 -m ruff check --output-format concise .
step "mypy" python3 -m mypy "${MYPY_PATHS[@]}"
fast_args=(-q -m "not slow")
[ "$FAST_WORKERS" != 0 ] && fast_args+=(-n "$FAST_WORKERS")
lane "fast lane" "${fast_args[@]}" "$@"
slow_args=(-q -m slow)
[ "$SLOW_WORKERS" != 0 ] && slow_args+=(-n "$SLOW_WORKERS")
lane "slow lane" "${slow_args[@]}" "$@"
if [ "${lane_rcs[0]}" -eq 5 ] && [ "${lane_rcs[1]}" -eq 5 ]; then
  failed+=("pytest: neither lane ran a test")
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
