"""Progress bars for training loops: tqdm when it is installed, a small built-in bar otherwise.

``progress(iterable, total=..., desc=...)`` returns an iterable with ``set_postfix(**values)``,
``update(n)`` and ``close()``; both implementations accept the same calls. Set
``MICROGRAD_PROGRESS=builtin`` to force the built-in bar, or pass ``disable=True``.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable, Iterator, TextIO


class ProgressBar:
    """A dependency-free bar: ``desc: 42%|########          | 21/50 [00:03<00:04, 6.1it/s, k=v]``.

    Redraws at most ``1 / mininterval`` times a second so it costs nothing inside a tight loop.
    """

    def __init__(self, iterable: Iterable | None = None, total: int | None = None,
                 desc: str = "", disable: bool = False, leave: bool = True, unit: str = "it",
                 file: TextIO | None = None, mininterval: float = 0.1, width: int = 24) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.disable, self.leave, self.width, self.mininterval = disable, leave, width, mininterval
        self.file = file if file is not None else sys.stderr
        self.n, self.postfix, self._last_len = 0, "", 0
        self.start = self._last_draw = time.perf_counter()
        self._closed = False

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("ProgressBar: no iterable was given; call update(n) instead")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __len__(self) -> int:
        if self.total is None:
            raise TypeError("ProgressBar: total is unknown")
        return self.total

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._last_draw >= self.mininterval or self.n == self.total:
            self._last_draw = now
            self._draw(now)

    def set_postfix(self, ordered_dict: dict | None = None, refresh: bool = True,
                    **values: Any) -> None:
        values = {**(ordered_dict or {}), **values}
        self.postfix = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                 for k, v in values.items())

    def set_description(self, desc: str = "", refresh: bool = True) -> None:
        self.desc = desc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.disable:
            return
        self._draw(time.perf_counter())
        if self.leave:
            self.file.write("\n")
        else:
            self.file.write("\r" + " " * self._last_len + "\r")
        self.file.flush()

    @staticmethod
    def _clock(seconds: float) -> str:
        minutes, seconds = divmod(int(seconds), 60)
        return f"{minutes:02d}:{seconds:02d}"

    def format(self, now: float) -> str:
        elapsed = now - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        prefix = f"{self.desc}: " if self.desc else ""
        post = f", {self.postfix}" if self.postfix else ""
        if self.total:
            frac = min(self.n / self.total, 1.0)
            filled = int(frac * self.width)
            remaining = (self.total - self.n) / rate if rate > 0 else 0.0
            bar = "#" * filled + " " * (self.width - filled)
            return (f"{prefix}{frac:4.0%}|{bar}| {self.n}/{self.total} "
                    f"[{self._clock(elapsed)}<{self._clock(remaining)}, "
                    f"{rate:.1f}{self.unit}/s{post}]")
        clock = self._clock(elapsed)
        return f"{prefix}{self.n}{self.unit} [{clock}, {rate:.1f}{self.unit}/s{post}]"

    def _draw(self, now: float) -> None:
        if self.disable:
            return
        line = self.format(now)
        self.file.write("\r" + line + " " * max(self._last_len - len(line), 0))
        self.file.flush()
        self._last_len = len(line)


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "",
             disable: bool = False, leave: bool = True, unit: str = "it",
             file: TextIO | None = None):
    """A progress bar over ``iterable``: ``tqdm.tqdm`` when importable, else ``ProgressBar``."""
    if os.environ.get("MICROGRAD_PROGRESS", "").lower() != "builtin":
        try:
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            return tqdm(iterable, total=total, desc=desc or None, disable=disable, leave=leave,
                        unit=unit, file=file)
    return ProgressBar(iterable, total=total, desc=desc, disable=disable, leave=leave, unit=unit,
                       file=file)
