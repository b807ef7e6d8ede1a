#!/usr/bin/env bash
# Run the C kernel tests under valgrind memcheck. The C core is rebuilt with -g into a temporary
# copy of the tree (the working tree's module is never touched); CPython/NumPy/loader false
# positives are suppressed by scripts/valgrind.supp, which only matches errors whose innermost
# frame is outside micrograd's module. Any remaining error fails the run (exit 99).
#
#   scripts/valgrind.sh [pytest args...]   (default: the GEMM and backend-parity tests)
#   PYTHON=/path/to/python scripts/valgrind.sh
#
# valgrind has no AVX-512: under it the CPU reports AVX2 at most, so the AVX2 and portable
# micro-kernels are the ones checked here (scripts/sanitize.sh covers the AVX-512 path).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mg-valgrind.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

cp -r "$ROOT/csrc" "$ROOT/micrograd" "$ROOT/tests" "$ROOT/pyproject.toml" "$WORK/"
find "$WORK/micrograd" -name "_C*.so" -delete
find "$WORK" -name "__pycache__" -prune -exec rm -rf {} +
echo "== building the C core with -g in $WORK"
(cd "$WORK" && MICROGRAD_CFLAGS="-g" "$PY" csrc/build_ffi.py)

[[ $# -eq 0 ]] && set -- tests/test_gemm.py tests/test_backend_parity.py
echo "== running under valgrind memcheck: $*"
cd "$WORK"
# ten examples per property test (tests/conftest.py's "valgrind" profile): each costs ~50x here
export MICROGRAD_BACKEND=c MICROGRAD_TEST_BACKENDS=c PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 \
    HYPOTHESIS_PROFILE=valgrind
"$PY" -c "import micrograd._C as m, sys; p = m.__file__; sys.exit(0 if p.startswith('$WORK') else 'imported ' + p)"
valgrind --tool=memcheck --error-exitcode=99 --suppressions="$ROOT/scripts/valgrind.supp" \
    --num-callers=30 "$PY" -m pytest -q -p no:cacheprovider -x "$@"
