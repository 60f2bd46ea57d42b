# SPDX-License-Identifier: Apache-2.0
"""Progress reporting for ``gather(tqdm=...)``.

``tqdm=True`` uses ``tqdm.tqdm`` when the ``tqdm`` package is importable and
otherwise ``PlainBar``, a small text bar on stderr. ``tqdm=<object>`` calls
the object's ``update(n)`` with the number of newly finished tasks. The
counts come from liblox's gather progress callback (lox_gather_opts.progress),
called in the gathering thread.
"""

import ctypes
import sys
import time

from .. import _native

__all__ = ["PlainBar", "Progress", "gather_round"]


class PlainBar:
    """A minimal tqdm look-alike writing ``" 40%|########    | 2/5 [0.1s, 19.9it/s]"``
    to ``file`` (stderr by default), redrawn in place with ``\\r``."""

    width = 20

    def __init__(self, total=None, file=None):
        self.total = total
        self.n = 0
        self.file = file if file is not None else sys.stderr
        self._start = time.monotonic()
        self._closed = False
        self._draw()

    def _draw(self):
        total = self.total or 0
        elapsed = time.monotonic() - self._start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        frac = (self.n / total) if total else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + " " * (self.width - filled)
        self.file.write("\r%3d%%|%s| %d/%d [%.1fs, %.1fit/s]"
                        % (int(frac * 100), bar, self.n, total, elapsed, rate))
        self.file.flush()

    def update(self, n=1):
        self.n += n
        self._draw()

    def close(self):
        if not self._closed:
            self._closed = True
            self._draw()
            self.file.write("\n")
            self.file.flush()


def _make_bar(total):
    try:
        from tqdm import tqdm as _tqdm
    except ImportError:
        return PlainBar(total=total)
    return _tqdm(total=total)


class Progress:
    """Adapts liblox's progress callback to a bar.

    ``spec`` is the ``tqdm`` argument of gather: falsy (no progress), True
    (own bar, closed at the end) or an object with ``update(n)``.
    ``opts()`` returns the lox_gather_opts to pass to gather (the callback
    object is kept alive by ``self``). An exception raised by the bar is
    stored and re-raised by ``finish()``.
    """

    def __init__(self, spec):
        self.spec = spec
        self.bar = None
        self.own = False
        self.last = 0
        self.error = None
        self._cb = None

    def opts(self):
        o = _native.GatherOpts.default()
        if self.spec is None or self.spec is False:
            return o
        self._cb = _native.PROGRESS_FN(self._progress)
        o.progress = self._cb
        return o

    def _progress(self, ctx, done, total):
        try:
            if self.bar is None:
                if self.spec is True:
                    self.bar = _make_bar(total)
                    self.own = True
                else:
                    self.bar = self.spec
                    if getattr(self.bar, "total", 0) is None:
                        try:
                            self.bar.total = total
                        except Exception:
                            pass
            if done > self.last:
                self.bar.update(done - self.last)
                self.last = done
        except BaseException as e:  # noqa: B902 - re-raised by finish()
            if self.error is None:
                self.error = e

    def finish(self):
        if self.own and self.bar is not None:
            self.bar.close()
        self._cb = None
        if self.error is not None:
            e, self.error = self.error, None
            raise e


#: gather waits in slices of this many seconds, so that signal handlers
#: (Ctrl-C's KeyboardInterrupt) run while a gather waits; a gather that
#: times out loses nothing (lox.h), the next slice continues the same round.
WAIT_SLICE = 0.25


def gather_round(gather_fn, handle, opts, out):
    """Calls ``gather_fn(handle, &opts, &out)`` in WAIT_SLICE slices until it
    returns something other than LOX_TIMEOUT; returns that status."""
    opts.timeout = WAIT_SLICE
    while True:
        st = gather_fn(handle, ctypes.byref(opts), ctypes.byref(out))
        if st != _native.LOX_TIMEOUT:
            return st
