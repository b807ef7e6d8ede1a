#!/usr/bin/env bash
# Build the C core with AddressSanitizer + UndefinedBehaviorSanitizer and run the kernel and op
# tests under it. The sanitized build goes into a temporary copy of the tree, so the working
# tree's micrograd/_C*.so is never touched.
#
#   scripts/sanitize.sh [pytest args...]       (default: the kernel, parity, executor, build,
#                                              convolution and op tests)
#   PYTHON=/path/to/python scripts/sanitize.sh  (default: python3 on PATH)
#
# Needs gcc with libasan/libubsan. Any sanitizer report fails the run (halt_on_error).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
LIBASAN="$(gcc -print-file-name=libasan.so)"
if [[ ! -e "$LIBASAN" ]]; then echo "sanitize.sh: libasan not found (gcc -print-file-name)" >&2; exit 2; fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mg-sanitize.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

cp -r "$ROOT/csrc" "$ROOT/micrograd" "$ROOT/tests" "$ROOT/pyproject.toml" "$WORK/"
find "$WORK/micrograd" -name "_C*.so" -delete
find "$WORK" -name "__pycache__" -prune -exec rm -rf {} +

echo "== building the sanitized C core in $WORK"
(cd "$WORK" && MICROGRAD_SANITIZE=1 "$PY" csrc/build_ffi.py)

if [[ $# -eq 0 ]]; then
    set -- tests/test_gemm.py tests/test_backend_parity.py tests/test_executor.py \
        tests/test_build.py tests/test_conv.py $(cd "$WORK" && ls tests/test_ops*.py tests/test_tensor*.py \
                                  tests/test_kernels_*.py 2>/dev/null | sort -u)
fi
echo "== running under ASan+UBSan: $*"
cd "$WORK"
export LD_PRELOAD="$LIBASAN"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# the C core is what is checked here: per-backend tests run for "c" only (tests/conftest.py)
export MICROGRAD_BACKEND=c MICROGRAD_TEST_BACKENDS=c PYTHONDONTWRITEBYTECODE=1
# the tests must import this sanitized copy, not an installed micrograd
"$PY" -c "import micrograd._C as m, sys; p = m.__file__; sys.exit(0 if p.startswith('$WORK') else 'imported ' + p)"
"$PY" -m pytest -q -p no:cacheprovider "$@"
