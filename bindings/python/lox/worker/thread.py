# SPDX-License-Identifier: Apache-2.0
"""lox.thread: execute a function in many threads, on a liblox thread pool.

    >>> import lox
    >>> @lox.thread(4) # Will operate with a maximum of 4 threads
    ... def foo(x,y):
    ...     return x*y
    >>> foo(3,4)
    12
    >>> for i in range(5):
    ...     foo.scatter(i, i+1)
    >>> foo.gather()
    [0, 2, 6, 12, 20]

How it maps onto liblox: each decorated function (and each instance, for a
decorated method) owns one ``lox_thread`` pool, created at the first
``scatter`` with ``max_workers`` threads (``0``, or the environment variable
``LOX_DEBUG``, runs every scattered call inline in the caller). A scattered
call is kept in a registry keyed by a counter; the key is the ``void *``
argument of the task, and liblox's worker threads run it through one
ctypes callback (ctypes takes the GIL for it). The task stores its key as
its result value, so ``gather`` (``lox_thread_gather``) finds every call of
the round in scatter order, removes it from the registry and returns the
values. An exception raised by a call is re-raised by ``gather`` (the first
one in scatter order) after the whole round finished; nothing stays
registered.
"""

import ctypes
import os
import threading

from .. import _native
from ..exceptions import LoxError
from . import _base
from ._base import Job, ScatterResult, WorkerBase, parse_decorator
from .progress import Progress, gather_round

__all__ = ["thread"]

DEFAULT_MAX_WORKERS = 50

_jobs = {}            # key -> Job, while in flight (scattered, not gathered)
_TASK_FAILED = 2      # task status for "the Python call raised"


def _run_task(ctx, arg, result):
    key = arg
    try:
        result[0] = key
        job = _jobs[key]
        func = job.args[0]
        try:
            args, kwargs = _base.resolve(job.args[1], job.kwargs)
            value = func(*args, **kwargs)
        except BaseException as e:  # noqa: B902 - re-raised at gather
            job.finish(exc=e)
            return _TASK_FAILED
        job.finish(result=value)
        return 0
    except BaseException:  # noqa: B902 - a callback must not raise
        return _TASK_FAILED


_TASK = _native.TASK_FN(_run_task)


def _destroy_pool(handle, keys, pid):
    """Finalizer: runs what is still queued, joins the threads, frees the
    pool and forgets calls never gathered. Does nothing in a forked copy of
    the process (the pool's threads do not exist there)."""
    if os.getpid() != pid:
        return
    _native.lib.lox_thread_destroy(handle)
    for k in list(keys):
        _jobs.pop(k, None)
    keys.clear()


class _Pool:
    __slots__ = ("handle", "keys", "finalizer", "pid", "__weakref__")

    def __init__(self, n_workers):
        self.pid = os.getpid()
        h = ctypes.c_void_p()
        _native.check(_native.lib.lox_thread_create(n_workers, _TASK, None, ctypes.byref(h)),
                      "lox.thread")
        self.handle = h.value
        self.keys = set()
        self.finalizer = _base.finalize_on_gc(self, _destroy_pool, self.handle, self.keys,
                                               os.getpid())


class ThreadWorker(WorkerBase):
    """A function decorated with ``lox.thread``."""

    kind = "thread"

    def __init__(self, max_workers, func, instance=None, daemon=None):
        super().__init__(max_workers, func, instance)
        self.daemon = daemon
        self._pool = None

    def _bind(self, instance):
        return type(self)(self.n_workers, self.func, instance=instance, daemon=self.daemon)

    def _get_pool(self):
        pool = self._pool
        if pool is None or pool.pid != os.getpid():
            with self._lock:
                pool = self._pool
                if pool is None or pool.pid != os.getpid():
                    # none yet, or a copy inherited through fork() whose
                    # threads do not exist here: start a pool of our own
                    pool = self._pool = _Pool(self.n_workers)
        return pool

    def __len__(self):
        """Number of scattered calls waiting for a worker."""
        pool = self._pool
        if pool is None or pool.pid != os.getpid():
            return 0
        return _native.lib.lox_thread_pending(pool.handle)

    def scatter(self, *args, **kwargs):
        """Starts ``func(*args, **kwargs)`` on a worker thread and returns its
        index into the results of the next ``gather`` (a ``ScatterResult``,
        which may be passed to another scatter: chaining)."""
        pool = self._get_pool()
        key = _base.new_key()
        job = Job(key, (self.func, self._full_args(args)), kwargs)
        _jobs[key] = job
        pool.keys.add(key)
        index = ctypes.c_size_t()
        st = _native.lib.lox_thread_scatter(pool.handle, key, ctypes.byref(index))
        if st != _native.LOX_OK:
            pool.keys.discard(key)
            _jobs.pop(key, None)
            _native.check(st, "lox.thread scatter")
        return ScatterResult(index.value, job)

    def gather(self, tqdm=None):
        """Blocks until every call scattered so far finished; returns their
        return values in scatter order. Re-raises the first exception a call
        raised. ``tqdm``: True shows a progress bar (tqdm if installed, else
        a plain bar on stderr); an object with ``update(n)`` is updated."""
        pool = self._get_pool()
        progress = Progress(tqdm)
        opts = progress.opts()
        out = ctypes.c_void_p()
        st = gather_round(_native.lib.lox_thread_gather, pool.handle, opts, out)
        if st not in (_native.LOX_OK, _native.LOX_ETASK):
            progress.finish()
            _native.check(st, "lox.thread gather")
        lib = _native.lib
        results, errors = [], []
        try:
            for i in range(lib.lox_results_count(out)):
                key = lib.lox_results_value(out, i)
                job = _jobs.pop(key, None)
                pool.keys.discard(key)
                if job is None:
                    detail = lib.lox_results_error(out, i)
                    raise LoxError("lox.thread gather: task %d lost (%s)"
                                   % (i, detail.decode() if detail else "no detail"))
                if job.exc is not None:
                    errors.append(job.exc)
                    results.append(None)
                else:
                    results.append(job.result)
        finally:
            lib.lox_results_destroy(out)
        progress.finish()
        _base.raise_first(errors)
        return results


def thread(max_workers=None, daemon=None):
    """Decorator to execute a function in multiple threads.

    ``@lox.thread`` (50 threads), ``@lox.thread(n)``, ``lox.thread(fn)``,
    ``lox.thread(n)(fn)``. ``max_workers = 0`` (or the environment variable
    LOX_DEBUG) runs scattered calls inline in the caller. ``daemon`` is
    accepted for compatibility (liblox's threads never keep the interpreter
    alive; pools are finished at exit).
    """
    return parse_decorator("thread", max_workers, DEFAULT_MAX_WORKERS, ThreadWorker,
                           {"daemon": daemon})
