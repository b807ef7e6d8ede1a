"""The C GEMM against NumPy: every micro-kernel path, transpose combination, alpha/beta, thread
count, and awkward shape (0, 1, odd, tall/skinny, edges of every block size); the blocking the
analytical model derives from the caches (real and made-up CPUs); what `micrograd info` says."""
from __future__ import annotations

import math
import os
import platform
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

_C = pytest.importorskip("micrograd._C", reason="C core not built")
ffi, lib = _C.ffi, _C.lib

#: micro-kernel paths this CPU can run: 0 portable C, 1 AVX2+FMA, 2 AVX-512F, and -1 automatic
#: (the best kernel, or the unpacked loop for small products)
ISAS = [-1] + list(range(lib.mg_gemm_isa() + 1))
DTYPES = {np.float32: ("float *", 1e-5), np.float64: ("double *", 1e-12)}


def gemm(a, b, c, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, nthreads=1, isa=-1,
         naive=False):
    """Call mg_gemm_isa_* (or mg_gemm_naive_*) on C-contiguous arrays, writing into c."""
    sfx = "f32" if a.dtype == np.float32 else "f64"
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    ptr = DTYPES[a.dtype.type][0]
    args = (ffi.cast(ptr, c.ctypes.data), ffi.cast(ptr, a.ctypes.data),
            ffi.cast(ptr, b.ctypes.data), m, n, k, int(trans_a), int(trans_b), alpha, beta,
            max(a.shape[1], 1), max(b.shape[1], 1), max(n, 1))
    if naive:
        getattr(lib, f"mg_gemm_naive_{sfx}")(*args)
    else:
        getattr(lib, f"mg_gemm_isa_{sfx}")(*args, nthreads, isa)
    return c


def reference(a, b, c, trans_a, trans_b, alpha, beta):
    prod = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    return alpha * prod + (beta * c.astype(np.float64) if beta != 0 else 0)


def check(m, n, k, dtype, trans_a, trans_b, alpha, beta, nthreads, isa, rng):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    if beta == 0:
        c0[...] = np.nan  # beta == 0 must never read c
    want = reference(a, b, c0, trans_a, trans_b, alpha, beta)
    got = gemm(a, b, c0.copy(), trans_a, trans_b, alpha, beta, nthreads, isa)
    tol = DTYPES[dtype][1] * max(k, 1) ** 0.5 * 4
    scale = np.abs(want).max() if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * max(scale, 1.0))


SHAPES = [(1, 1, 1), (0, 5, 3), (5, 0, 3), (4, 6, 0), (1, 40, 7), (40, 1, 7), (3, 5, 7),
          (13, 33, 17), (12, 32, 16), (25, 65, 513), (97, 16, 31), (200, 3, 50), (2, 300, 9),
          (130, 100, 600)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_shapes_and_transposes(isa, dtype, trans_a, trans_b, rng):
    for m, n, k in SHAPES:
        check(m, n, k, dtype, trans_a, trans_b, 1.0, 0.0, 1, isa, rng)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("alpha,beta", [(0.5, 2.0), (-1.0, 1.0), (2.0, 0.0), (0.0, 0.5),
                                        (0.0, 0.0)])
def test_alpha_beta(isa, alpha, beta, rng):
    for m, n, k in [(7, 9, 11), (30, 70, 40), (3, 3, 0)]:
        check(m, n, k, np.float32, 0, 1, alpha, beta, 1, isa, rng)
        check(m, n, k, np.float64, 1, 0, alpha, beta, 1, isa, rng)


@pytest.mark.parametrize("nthreads", [1, 2, 3, 0])
def test_threads_give_the_same_answer(nthreads, rng):
    # large enough to be split across threads (>= 256^3 multiply-adds), with edges in every
    # blocked dimension; a short m makes the threads split the columns instead of the rows;
    # k = 1100 and 800 make several k panels (double-buffered when the threads share them)
    for m, n, k in [(301, 257, 530), (6, 4000, 800), (4000, 6, 800), (5, 700, 300),
                    (40, 4200, 1100)]:
        check(m, n, k, np.float32, 0, 0, 1.0, 0.0, nthreads, -1, rng)
        check(m, n, k, np.float64, 1, 1, 1.0, 1.0, nthreads, -1, rng)


def test_leading_dimensions_wider_than_the_matrix(rng):
    """Strided row access: a, b and c are column slices of wider arrays."""
    a_full = rng.standard_normal((20, 30)).astype(np.float32)
    b_full = rng.standard_normal((15, 40)).astype(np.float32)
    c_full = np.zeros((20, 50), np.float32)
    m, n, k = 20, 33, 15
    ptr = "float *"
    lib.mg_gemm_f32(ffi.cast(ptr, c_full.ctypes.data), ffi.cast(ptr, a_full.ctypes.data),
                    ffi.cast(ptr, b_full.ctypes.data), m, n, k, 0, 0, 1.0, 0.0, 30, 40, 50, 1)
    np.testing.assert_allclose(c_full[:, :n], a_full[:, :k] @ b_full[:, :n], rtol=1e-5,
                               atol=1e-5)
    assert not c_full[:, n:].any(), "wrote outside the (m, n) window of c"


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_transposed_c_in_place_a_and_exact_edges(isa, trans_a, trans_b, rng):
    """The shape-dependent paths: c computed as c^T = op(b)^T op(a)^T when m fills the vector
    lanes better than n (m a multiple of 16, n ragged, k >= 32: the MLP's forward products),
    op(a) read unpacked when it is transposed, and edge tiles of every row count (1..13) and
    lane-masked right edges."""
    for m, n, k in [(128, 100, 196), (32, 10, 50), (48, 50, 33), (16, 3, 40), (100, 784, 64)]:
        for beta in (0.0, 1.0):
            check(m, n, k, np.float32, trans_a, trans_b, 1.0, beta, 1, isa, rng)
            check(m, n, k, np.float64, trans_a, trans_b, 1.0, beta, 1, isa, rng)
    for m in range(1, 14):
        check(m, 37, 20, np.float32, trans_a, trans_b, 0.5, -1.0, 1, isa, rng)
        check(m, 37, 20, np.float64, trans_a, trans_b, 0.5, -1.0, 1, isa, rng)
    for nthreads in (2, 3):  # threads split the rows of c^T (= columns of c) too
        check(256, 100, 300, np.float32, trans_a, trans_b, 1.0, 0.5, nthreads, isa, rng)
        # op(b) read in place (n a whole number of slivers), over two k panels, threaded
        check(256, 96, 1000, np.float32, trans_a, trans_b, 1.0, 0.5, nthreads, isa, rng)
    check(64, 64, 700, np.float64, trans_a, trans_b, 1.0, 1.0, 1, isa, rng)
    # op(a) too wide to read in place (a block spans > 1 MB across its stride): packed
    for m, n, k in [(600, 48, 600), (100, 48, 5000)]:  # n = 48: c not transposed
        check(m, n, k, np.float32, trans_a, trans_b, 1.0, 0.5, 1, isa, rng)


def test_transposed_c_stays_inside_the_window(rng):
    """c^T is written through c's leading dimension: a wider c keeps its other columns."""
    m, n, k = 32, 20, 40  # computed as c^T (32 fills the lanes, 20 does not)
    for trans_a, trans_b in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        a_full = rng.standard_normal((k + 3, m + 5) if trans_a else (m + 3, k + 5))
        b_full = rng.standard_normal((n + 2, k + 7) if trans_b else (k + 2, n + 7))
        a_full, b_full = a_full.astype(np.float32), b_full.astype(np.float32)
        c_full = np.full((m, n + 9), 7.0, np.float32)
        a = a_full[:k, :m] if trans_a else a_full[:m, :k]
        b = b_full[:n, :k] if trans_b else b_full[:k, :n]
        ptr = "float *"
        lib.mg_gemm_f32(ffi.cast(ptr, c_full.ctypes.data), ffi.cast(ptr, a_full.ctypes.data),
                        ffi.cast(ptr, b_full.ctypes.data), m, n, k, trans_a, trans_b, 2.0, 1.0,
                        a_full.shape[1], b_full.shape[1], c_full.shape[1], 1)
        want = 2.0 * (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b) + 7.0
        np.testing.assert_allclose(c_full[:, :n], want, rtol=1e-5, atol=1e-4)
        assert (c_full[:, n:] == 7.0).all(), "wrote outside the (m, n) window of c"


def test_naive_reference_agrees_with_numpy(rng):
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((9, 4)).astype(dtype)
        b = rng.standard_normal((7, 9)).astype(dtype)
        c = rng.standard_normal((4, 7)).astype(dtype)
        got = gemm(a, b, c.copy(), True, True, 0.5, 2.0, naive=True)
        np.testing.assert_allclose(got, reference(a, b, c, True, True, 0.5, 2.0),
                                   rtol=DTYPES[dtype][1] * 10)


@given(m=st.integers(0, 70), n=st.integers(0, 70), k=st.integers(0, 70),
       trans_a=st.booleans(), trans_b=st.booleans(), isa=st.sampled_from(ISAS),
       f64=st.booleans(), beta=st.sampled_from([0.0, 1.0, -0.5]))
def test_random_shapes(m, n, k, trans_a, trans_b, isa, f64, beta):
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    check(m, n, k, np.float64 if f64 else np.float32, trans_a, trans_b, 1.5, beta, 1, isa, rng)


def _python(code, **env):
    import os
    import subprocess
    import sys
    full = {k: v for k, v in os.environ.items()
            if k not in ("MICROGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=120, check=False)


def test_thread_environment_variables_are_honoured():
    code = ("from micrograd import backends; from micrograd._C import lib; "
            "print(backends.REGISTRY['c'].nthreads, lib.mg_max_threads())")
    out = _python(code, MICROGRAD_NUM_THREADS="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "1"
    if lib.mg_has_openmp():
        out = _python(code, OMP_NUM_THREADS="1")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["0", "1"]  # 0 = "the OpenMP default", which is now 1


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_thread_count_is_a_clear_error(value):
    out = _python("import micrograd", MICROGRAD_NUM_THREADS=value)
    assert out.returncode != 0
    assert f"MICROGRAD_NUM_THREADS must be a positive integer, got {value!r}" in out.stderr


# ---- the blocking: BLIS's analytical model on the caches a CPU reports ----------------------
KIB, MIB = 1024, 1024 * 1024
#: made-up CPUs: (L1d size, ways), (L2 size, ways), L3 size (0 = unknown); 64-byte lines
CPUS = {
    "intel-xeon": ((48 * KIB, 12), (2 * MIB, 16), 105 * MIB),   # Sapphire Rapids
    "amd-zen5": ((48 * KIB, 12), (1 * MIB, 16), 32 * MIB),
    "amd-zen4": ((32 * KIB, 8), (1 * MIB, 8), 32 * MIB),
    "old-core": ((32 * KIB, 8), (256 * KIB, 8), 0),             # Haswell-era, no L3 reported
    "few-ways": ((16 * KIB, 2), (512 * KIB, 4), 4 * MIB),       # too few ways for the model
    "unknown": None,
}
DEFAULTS = ((32 * KIB, 8), (256 * KIB, 8), 0)  # gemm.c's, for caches nobody reports
X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
#: (isa, itemsize) -> the micro-kernel's tile mr x nr (x86; elsewhere every isa is 4 x 8)
TILES = {(2, 4): (12, 32), (2, 8): (12, 16), (1, 4): (6, 16), (1, 8): (6, 8),
         (0, 4): (6, 8), (0, 8): (6, 4)}


def caches_of(cpu):
    if cpu is None:
        return {}
    (l1, w1), (l2, w2), l3 = cpu
    return {"l1d": {"size": l1, "ways": w1, "line": 64}, "l2": {"size": l2, "ways": w2, "line": 64},
            "l3": {"size": l3, "ways": 16 if l3 else 0, "line": 64}}


def blocking(cpu, isa, itemsize):
    from micrograd.backends.c_backend import gemm_blocking
    return gemm_blocking(caches_of(cpu), isa, itemsize)


@pytest.mark.parametrize("name", list(CPUS))
@pytest.mark.parametrize("isa", [0, 1, 2])
@pytest.mark.parametrize("itemsize", [4, 8])
def test_blocking_satisfies_the_model(name, isa, itemsize):
    """KC: an MR x KC sliver of A and a KC x NR sliver of B fit L1 in whole ways with one way
    to spare (so LRU evicts A's old lines, never B's), and KC + 1 would not; MC: the A block
    fills at most half of L2; NC: the B panel at most half of L3."""
    b = blocking(CPUS[name], isa, itemsize)
    (l1, w1), (l2, _), l3 = CPUS[name] or DEFAULTS
    mr, nr, kc, mc, nc = b["mr"], b["nr"], b["kc"], b["mc"], b["nc"]
    if X86:
        assert (mr, nr) == TILES[(isa, itemsize)]
    way = l1 // w1  # bytes in one way: sets x line
    def ways(depth):  # the whole ways an A and a B sliver of this depth take
        return math.ceil(mr * depth * itemsize / way) + math.ceil(depth * nr * itemsize / way)
    if w1 > 2:
        assert ways(kc) <= w1 - 1 < ways(kc + 1)  # the deepest KC that fits
        # never shallower than the paper's split, C_A = floor((W1 - 1) / (1 + NR / MR))
        assert kc >= (w1 - 1) * mr // (mr + nr) * way // (mr * itemsize)
    else:  # two ways: A gets one, B cannot stay in L1
        assert kc == max(8, way // (mr * itemsize))
    assert mc % mr == 0 and mc * kc * itemsize <= l2 // 2 < (mc + mr) * kc * itemsize
    assert nc % nr == 0
    if l3:
        assert kc * nc * itemsize <= l3 // 2 < kc * (nc + nr) * itemsize
    else:
        assert nc == 4096 // nr * nr
    assert (b["a_span"], b["b_span"]) == (l2, l2 // 2)


@pytest.mark.skipif(not X86, reason="x86's micro-kernel tiles")
def test_blocking_reproduces_known_values():
    """The model gives BLIS's hand-picked KC = 256 for its Haswell 6 x 8 DGEMM kernel on a
    32 KiB 8-way L1, and on the machines the issue names: Zen 5 and a Sapphire Rapids Xeon get
    the same KC (same L1), but MC follows their L2 (1 MiB and 2 MiB). The 12 x 32 AVX-512 tile
    on a Zen 4's 32 KiB 8-way L1 gets KC = 160 (the paper's fixed split gave 85: 0.8x
    OpenBLAS there, 0.96-1.0x with 160)."""
    assert blocking(CPUS["old-core"], 1, 8)["kc"] == 256
    zen4 = blocking(CPUS["amd-zen4"], 2, 4)
    assert (zen4["kc"], zen4["mc"]) == (160, 816)
    zen5, xeon = blocking(CPUS["amd-zen5"], 2, 4), blocking(CPUS["intel-xeon"], 2, 4)
    assert (zen5["kc"], zen5["mc"]) == (256, 504)
    assert (xeon["kc"], xeon["mc"]) == (256, 1020)


def test_unknown_caches_take_the_defaults():
    for isa in (0, 1, 2):
        for itemsize in (4, 8):
            assert blocking(None, isa, itemsize) == blocking(DEFAULTS, isa, itemsize)
    # a cache that reports its size but not its ways or line is completed the same way
    partial = {"l1d": {"size": 32 * KIB}, "l2": {"size": 256 * KIB}}
    from micrograd.backends.c_backend import gemm_blocking
    assert gemm_blocking(partial, 2, 4) == blocking(DEFAULTS, 2, 4)


def test_blocking_rejects_bad_arguments():
    from micrograd.backends.c_backend import gemm_blocking
    for isa, itemsize in [(3, 4), (-1, 4), (2, 2), (0, 16)]:
        with pytest.raises(ValueError, match=f"isa={isa}, itemsize={itemsize}"):
            gemm_blocking({}, isa, itemsize)


def test_configuration_is_the_model_on_the_detected_caches():
    from micrograd import backends
    from micrograd.backends.c_backend import gemm_blocking
    core = backends.info()
    cfg = lib.mg_gemm_get_config()
    assert cfg.isa == lib.mg_gemm_isa()
    assert core["gemm_isa"] == ffi.string(lib.mg_gemm_isa_name(cfg.isa)).decode()
    caches = {k: v for k, v in core["caches"].items() if k != "source"}
    for isa in range(3):
        for itemsize, table in ((4, cfg.f32), (8, cfg.f64)):
            want = gemm_blocking(caches, isa, itemsize)
            assert {f: getattr(table[isa], f) for f in want} == want
    assert core["gemm_blocking"]["float32"] == gemm_blocking(caches, cfg.isa, 4)


def _sys_caches():
    """cpu0's data caches as Linux lists them: {level: (size, ways)}."""
    out = {}
    for d in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind = int((d / "level").read_text()), (d / "type").read_text().strip()
            size = (d / "size").read_text().strip()
            ways = int((d / "ways_of_associativity").read_text())
        except (OSError, ValueError):
            continue
        if kind in ("Data", "Unified") and size.endswith("K"):
            out[level] = (int(size[:-1]) * KIB, ways)
    return out


@pytest.mark.skipif(not X86, reason="CPUID is x86's")
def test_detected_caches_agree_with_linux():
    """CPUID's deterministic cache leaves, read by mg_detect_caches, are what Linux builds
    /sys/devices/system/cpu/cpu0/cache from: the two agree where both exist."""
    if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("valgrind emulates CPUID")
    listed = _sys_caches()
    if not listed:
        pytest.skip("no /sys cache listing here")
    found = ffi.new("mg_caches *")
    lib.mg_detect_caches(found)
    assert found.source == lib.MG_CACHES_CPUID
    for level, name in ((1, "l1d"), (2, "l2"), (3, "l3")):
        if level in listed:
            lv = getattr(found, name)
            assert (lv.size, lv.ways) == listed[level], name
    assert lib.mg_gemm_get_config().caches.l1d.size == found.l1d.size


def test_cpu_name_is_bounded_text():
    buf = ffi.new("char[8]")
    lib.mg_cpu_name(buf, 8)
    assert len(ffi.string(buf)) <= 7
    name = ffi.string(lib.mg_gemm_get_config().cpu).decode("ascii", "replace")
    assert name == name.strip() and len(name) < 64
    under_valgrind = "vgpreload" in os.environ.get("LD_PRELOAD", "")
    if X86 and Path("/proc/cpuinfo").is_file() and not under_valgrind:
        listed = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                  .splitlines() if ln.startswith("model name")]
        if listed:
            assert name == listed[0]


# ---- every block edge and thread split, with small blocks ----------------------------------
def gemm_blocked(a, b, c, trans_a, trans_b, alpha, beta, nthreads, isa, blk):
    sfx = "f32" if a.dtype == np.float32 else "f64"
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    ptr = DTYPES[a.dtype.type][0]
    getattr(lib, f"mg_gemm_blocked_{sfx}")(
        ffi.cast(ptr, c.ctypes.data), ffi.cast(ptr, a.ctypes.data), ffi.cast(ptr, b.ctypes.data),
        m, n, k, int(trans_a), int(trans_b), alpha, beta, a.shape[1], b.shape[1], n, nthreads,
        isa, blk)
    return c


@pytest.mark.parametrize("isa", ISAS[1:])
@pytest.mark.parametrize("nthreads", [1, 2, 4])
@pytest.mark.parametrize("in_place", [False, True])
def test_small_blocks_cross_every_edge(isa, nthreads, in_place, rng):
    """Blocks of a couple of tiles (MC = 2 MR, KC = 16, NC = 2 NR) put several k panels, A
    blocks and B chunks in every product, and 2 or 4 threads split them: 4 threads on a
    square c are 2 column groups of 2 row threads, whose groups get 2 and 3 B chunks (the
    team's barriers still pair up). Operands packed, or read in place where they can be."""
    ref = lib.mg_gemm_get_config()
    for dtype, table in ((np.float32, ref.f32), (np.float64, ref.f64)):
        mr, nr = table[isa].mr, table[isa].nr
        blk = ffi.new("mg_gemm_blocking *", {"mr": mr, "nr": nr, "kc": 16, "mc": 2 * mr,
                                             "nc": 2 * nr, "a_span": 1 << 40 if in_place else 0,
                                             "b_span": 1 << 40 if in_place else 0})
        n_odd = 4 * nr + 5  # 5 slivers: column groups of 2 and 3
        for m, n, k in [(n_odd, n_odd, 50), (7, 9 * nr + 3, 33), (70, 10, 17), (2 * mr, nr, 16)]:
            for trans_a, trans_b in [(0, 0), (0, 1), (1, 0), (1, 1)]:
                a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
                b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
                c0 = rng.standard_normal((m, n)).astype(dtype)
                want = reference(a, b, c0, trans_a, trans_b, 1.5, -0.5)
                got = gemm_blocked(a, b, c0.copy(), trans_a, trans_b, 1.5, -0.5, nthreads, isa,
                                   blk)
                tol = DTYPES[dtype][1] * 4 * k ** 0.5 * max(np.abs(want).max(), 1.0)
                np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_fewer_threads_than_asked_still_do_all_the_work():
    """OpenMP may give a team fewer threads than asked (OMP_THREAD_LIMIT here): the work is
    split for the team it really got."""
    if not lib.mg_has_openmp():
        pytest.skip("no OpenMP")
    code = ("import numpy as np; from micrograd.backends.c_backend import gemm; "
            "r = np.random.default_rng(1); a = r.standard_normal((300, 200)).astype('f4'); "
            "b = r.standard_normal((200, 310)).astype('f4'); "
            "print(abs(gemm(a, b, False, False, 4) - a.astype('f8') @ b).max())")
    out = _python(code, OMP_THREAD_LIMIT="1")
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 1e-3


def test_info_command_prints_the_caches_and_blocking(capsys):
    from micrograd import backends
    from micrograd.apps.cli import main
    assert main(["info", "--no-peak"]) == 0
    text = capsys.readouterr().out
    core = backends.info()
    b = core["gemm_blocking"]["float32"]
    assert f"GEMM kernel {core['gemm_isa']}" in text
    assert f"GEMM blocking float32: micro-kernel {b['mr']}x{b['nr']}, KC {b['kc']}, MC " \
           f"{b['mc']}, NC {b['nc']}" in text
    assert "caches (" in text and f"CPU: {core['cpu'] or 'unknown'}" in text
    if core["caches"]["l1d"]["size"]:
        assert f"L1d {core['caches']['l1d']['size'] // 1024} KiB" in text


# ---- the direct loop for small products, and which orientation a tie in lanes takes --------
#: elements of T in one vector of the widest ISA (what gemm.c's small-product rule reads)
LANES = {np.float32: {2: 16, 1: 8, 0: 4}[lib.mg_gemm_isa()],
         np.float64: {2: 8, 1: 4, 0: 2}[lib.mg_gemm_isa()]}
SMALL_VECTOR_FMAS = 512  # gemm.c: products up to this many vector multiply-adds loop directly


def small_boundary_shapes(dtype):
    """Tiny K and N and M, inner loops one lane short of / at / past a vector, and products
    just under and over the direct loop's size limit."""
    v = LANES[dtype]
    limit = SMALL_VECTOR_FMAS * v
    shapes = [(100, 16, 1), (100, 16, 2), (100, 16, 3), (16, 2, 100), (100, 2, 16),
              (100, 1, 16), (16, 1, 100), (1, 16, 100), (1, 1, 1), (1, 37, 3), (37, 1, 3),
              (9, v - 1, v - 1), (9, v, v), (9, v + 1, v + 1)]
    for n in (v, 2 * v):
        k = v
        m_under = limit // (n * k)
        shapes += [(m_under, n, k), (m_under + 1, n, k)]
    return shapes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_small_products_at_the_direct_loop_boundaries(dtype, trans_a, trans_b, rng):
    """Both sides of the rule that sends a product to the direct loop or to the micro-kernels
    (automatic choice, 1 and 2 threads), against NumPy, with beta reading c or not."""
    for m, n, k in small_boundary_shapes(dtype):
        for beta in (0.0, -0.5):
            for nthreads in (1, 2, 3):
                check(m, n, k, dtype, trans_a, trans_b, 1.5, beta, nthreads, -1, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_products_with_strides_are_deterministic(dtype, rng):
    """Operands and c are windows of wider arrays (leading dimensions past the matrix): the
    answer is right, nothing outside c's window is written, and a second call gives the same
    bits."""
    for m, n, k in small_boundary_shapes(dtype):
        for trans_a, trans_b in [(0, 0), (0, 1), (1, 0), (1, 1)]:
            a_full = rng.standard_normal((k + 1, m + 3) if trans_a else (m + 1, k + 3))
            b_full = rng.standard_normal((n + 1, k + 2) if trans_b else (k + 1, n + 2))
            a_full, b_full = a_full.astype(dtype), b_full.astype(dtype)
            a = a_full[:k, :m] if trans_a else a_full[:m, :k]
            b = b_full[:n, :k] if trans_b else b_full[:k, :n]
            outs = []
            for _ in range(2):
                c_full = np.full((m, n + 4), 7.0, dtype)
                sfx, ptr = ("f32", "float *") if dtype == np.float32 else ("f64", "double *")
                getattr(lib, f"mg_gemm_{sfx}")(
                    ffi.cast(ptr, c_full.ctypes.data), ffi.cast(ptr, a_full.ctypes.data),
                    ffi.cast(ptr, b_full.ctypes.data), m, n, k, trans_a, trans_b, 1.0, 0.0,
                    a_full.shape[1], b_full.shape[1], c_full.shape[1], 1)
                outs.append(c_full)
            want = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b)
            tol = DTYPES[dtype][1] * 4 * max(k, 1) ** 0.5 * max(np.abs(want).max(), 1.0)
            np.testing.assert_allclose(outs[0][:, :n], want, rtol=0, atol=tol)
            assert (outs[0][:, n:] == 7.0).all(), "wrote outside the (m, n) window of c"
            assert np.array_equal(outs[0], outs[1]), "two calls gave different bits"


@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_orientation_when_both_ways_fill_the_lanes(trans_a, trans_b, rng):
    """m and n both multiples of the vector width: the orientation that packs less is taken
    (h (32, 256) @ W^T with W (1024, 256) runs as W @ h^T); same answers either way, on 1-3
    threads, and square products (which stay as they are)."""
    for m, n, k in [(32, 1024, 256), (1024, 32, 256), (64, 512, 128), (256, 256, 256)]:
        for nthreads in (1, 2, 3):
            check(m, n, k, np.float32, trans_a, trans_b, 1.0, 0.5, nthreads, -1, rng)
        check(m, n, k, np.float64, trans_a, trans_b, 1.0, 0.0, 1, -1, rng)


def linear_call(x, w, b, g, act, nthreads):
    """mg_linear_* then mg_linear_backward_* on C-contiguous arrays: (y, dx, dw, db)."""
    sfx, ptr = ("f32", "float *") if x.dtype == np.float32 else ("f64", "double *")
    (m, k), n = x.shape, w.shape[0]
    y = np.empty((m, n), x.dtype)
    dx, dw, db, dz = (np.empty((m, k), x.dtype), np.empty((n, k), x.dtype),
                      np.empty(n, x.dtype), np.empty((m, n), x.dtype))
    P = lambda arr: ffi.cast(ptr, arr.ctypes.data)  # noqa: E731
    getattr(lib, f"mg_linear_{sfx}")(P(y), P(x), P(w), P(b), m, n, k, act, nthreads)
    getattr(lib, f"mg_linear_backward_{sfx}")(P(dx), P(dw), P(db), P(dz), P(x), P(w), P(y),
                                              P(g), m, n, k, act, nthreads)
    return y, dx, dw, db


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_fused_linear_small_and_skinny_layers(dtype, nthreads, rng):
    """The fused linear's forward and backward on the layer shapes of small MLPs (k = 1..3
    inputs, one output, one row) and the usual ones, without and with relu (code 1), against
    NumPy in float64."""
    for m, k, n in [(100, 2, 16), (100, 1, 16), (100, 3, 16), (100, 16, 16), (100, 16, 1),
                    (1, 16, 16), (1, 2, 1), (128, 784, 100), (32, 256, 1024), (0, 4, 3)]:
        for act in (0, 1):
            x = rng.standard_normal((m, k)).astype(dtype)
            w = rng.standard_normal((n, k)).astype(dtype)
            b = rng.standard_normal(n).astype(dtype)
            g = rng.standard_normal((m, n)).astype(dtype)
            y, dx, dw, db = linear_call(x, w, b, g, act, nthreads)
            x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
            z = x64 @ w64.T + b
            y_want = np.maximum(z, 0) if act else z
            dz = g64 * (y > 0) if act else g64
            tol = DTYPES[dtype][1] * 8 * max(k, m, 1) ** 0.5
            for got, want in [(y, y_want), (dx, dz @ w64), (dw, dz.T @ x64),
                              (db, dz.sum(0))]:
                scale = max(np.abs(want).max(), 1.0) if want.size else 1.0
                np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)
