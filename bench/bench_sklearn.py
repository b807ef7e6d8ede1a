"""MLPClassifier fit: micrograd.sklearn vs scikit-learn on the seed's experiment.

The 8x8 digits (shipped with micrograd), 75/25 split with random_state=42, and
MLPClassifier(hidden_layer_sizes=(100, 50), activation='relu', max_iter=300, random_state=42)
from both libraries. Each library runs in its own process (so that OpenMP and BLAS thread pools
never compete), alternating for --repeats rounds so that machine noise hits both; inside a
process, one warm-up fit precedes the timed one. The table shows the median and best fit
time, epochs, ms per epoch, test accuracy, and the speed-up of micrograd.

    python bench/bench_sklearn.py [--repeats 5] [--single-thread]

--single-thread sets OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1 for both, which is
the fair comparison on a loaded machine (BLAS thread pools suffer most from oversubscription).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

SETTINGS = dict(hidden_layer_sizes=(100, 50), activation="relu", max_iter=300, random_state=42)


def worker(library: str) -> None:
    """Fit once (after a short warm-up fit) and print a JSON line with the results."""
    from sklearn.model_selection import train_test_split

    import micrograd as mg
    from micrograd.data import load_digits
    if library == "micrograd":
        from micrograd.sklearn import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(**{**SETTINGS, "max_iter": 2}).fit(X_train, y_train)
        start = time.perf_counter()
        model = MLPClassifier(**SETTINGS).fit(X_train, y_train)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "epochs": model.n_iter_,
                      "accuracy": model.score(X_test, y_test),
                      "backend": mg.get_backend() if library == "micrograd" else "numpy"}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fits per library (default 5)")
    parser.add_argument("--single-thread", action="store_true",
                        help="one thread for OpenMP and BLAS in both libraries")
    parser.add_argument("--worker", choices=("micrograd", "scikit-learn"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("scikit-learn is not installed: pip install scikit-learn to run this benchmark")
        return 1
    if args.worker:
        worker(args.worker)
        return 0
    env = dict(os.environ)
    if args.single_thread:
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    runs: dict[str, list[dict]] = {"micrograd": [], "scikit-learn": []}
    for _ in range(args.repeats):
        for library in runs:
            out = subprocess.run([sys.executable, __file__, "--worker", library],
                                 capture_output=True, text=True, check=True, env=env)
            runs[library].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"digits, 1347 train / 450 test images, MLPClassifier({SETTINGS})"
          + (", one thread" if args.single_thread else ", default threads"))
    print(f"{'library':<24}{'median s':>9}{'best s':>8}{'epochs':>7}{'ms/epoch':>9}"
          f"{'accuracy':>9}")
    medians, per_epoch = {}, {}
    for library, results in runs.items():
        secs = [r["seconds"] for r in results]
        last = results[-1]
        medians[library] = statistics.median(secs)
        per_epoch[library] = medians[library] / last["epochs"]
        name = f"{library} ({last['backend']})" if library == "micrograd" else library
        print(f"{name:<24}{medians[library]:>9.3f}{min(secs):>8.3f}{last['epochs']:>7}"
              f"{per_epoch[library] * 1e3:>9.2f}{last['accuracy']:>9.4f}")
    print(f"speed-up of micrograd: {medians['scikit-learn'] / medians['micrograd']:.2f}x per "
          f"fit, {per_epoch['scikit-learn'] / per_epoch['micrograd']:.2f}x per epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
