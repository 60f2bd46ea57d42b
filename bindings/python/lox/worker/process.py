# SPDX-License-Identifier: Apache-2.0
"""lox.process: execute a function in many processes, on a liblox process pool.

    >>> import lox
    >>> @lox.process(4) # Will operate with a maximum of 4 processes
    ... def foo(x,y):
    ...     return x*y
    >>> foo(3,4)
    12
    >>> for i in range(5):
    ...     foo.scatter(i, i+1)
    >>> foo.gather()
    [0, 2, 6, 12, 20]

How it maps onto liblox
-----------------------
A round (the calls scattered between two gathers) runs on one
``lox_process`` pool, created at the round's first ``scatter`` and destroyed
by the ``gather`` that ends it. Workers are therefore copies of this process
as it was at that first scatter (like ``multiprocessing`` with the fork start
method): the decorated function, closures, globals and the bound instance of
a decorated method are *not* pickled, they are already there. Arguments are
pickled at scatter (an unpicklable argument raises there, in the caller),
results and exceptions are pickled back; an exception raised by a call is
re-raised by ``gather`` (the first in scatter order) with the worker's
traceback as its ``__cause__``. A worker that dies during a call
(``os._exit``, a signal, ...) makes gather raise ``lox.exceptions.WorkerError``
naming the worker failure; liblox replaces the worker and the other calls
of the round still run.

Fork safety
-----------
``lox_process_create`` forks a *fork server* while the caller waits; the
single-threaded fork server then forks every worker. Forking a running
Python interpreter is only safe when done as ``os.fork()`` does it, so the
pool is created like this:

1. ``sys.stdout``/``sys.stderr`` are flushed (no buffered text is copied);
2. ``PyOS_BeforeFork()`` (through ``ctypes.pythonapi``): runs the
   ``os.register_at_fork(before=...)`` hooks and takes the import lock;
3. ``lox_process_create`` is called through ``lib_gil`` (a ``PyDLL``), so the
   calling thread *keeps the GIL across the fork*: in the child, the only
   thread is the one that owns the GIL, and no other Python thread can be
   half-way through the interpreter's internals in the copy;
4. ``PyOS_AfterFork_Parent()``: releases the import lock, runs the
   ``after_in_parent`` hooks.

The garbage collector is disabled across the fork. In a worker, the first
task callback (it sees ``os.getpid()`` differ from the creator's pid) calls
``PyOS_AfterFork_Child()`` once, exactly what ``os.fork()`` does in the
child: it re-initialises the GIL, drops the thread states of threads that do
not exist in the child, resets the import lock and ``threading``'s state and
runs ``os.register_at_fork(after_in_child=...)`` hooks. Then ``gc.freeze()``
keeps every inherited object away from the collector (their finalizers act
on the parent's resources, e.g. a copied thread pool) and the collector is
re-enabled. Each call's stdout/stderr output is flushed when it returns
(workers are killed at the end of a round, they never exit normally). Limits (the same as ``os.fork()``): a ``threading.Lock`` that another
thread of the parent held at the first scatter stays held in the workers, so
calls must not take locks other threads may hold; threads of the parent do
not exist in workers (a ``lox.thread`` function called there starts its own
thread pool); do not create a ``lox.process`` pool inside a process call.

``n_workers = 0`` or the environment variable ``LOX_DEBUG`` runs every call
inline in the scattering thread, in this process (arguments and results are
still pickled, so behaviour matches the pool).
"""

import base64
import ctypes
import gc
import os
import pickle
import sys
import threading
import traceback
import weakref

from .. import _native
from ..exceptions import LoxError, Timeout, WorkerError
from . import _base
from ._base import Job, ScatterResult, WorkerBase, parse_decorator
from .progress import Progress, gather_round

__all__ = ["process"]

_TASK_RAISED = 2      # the call raised: bytes = traceback text, _EXC_MARK, base64(pickled exception)
_EXC_MARK = b"lox.process pickled exception: "
_TASK_BROKEN = 3      # the result or exception could not be pickled: bytes are utf-8 text

_wrappers = weakref.WeakValueDictionary()  # key -> ProcessWorker (found in workers through the pool's ctx)
_creator_pid = os.getpid()
_child_ready = False
_gc_was_enabled = True
_child_lock = threading.Lock()

_api = ctypes.pythonapi
_api.PyOS_BeforeFork.restype = None
_api.PyOS_BeforeFork.argtypes = []
_api.PyOS_AfterFork_Parent.restype = None
_api.PyOS_AfterFork_Parent.argtypes = []
_api.PyOS_AfterFork_Child.restype = None
_api.PyOS_AfterFork_Child.argtypes = []


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb


def _after_fork_child():
    global _child_ready
    if _child_ready or os.getpid() == _creator_pid:
        return
    _api.PyOS_AfterFork_Child()
    _child_ready = True
    # Objects inherited from the parent must never be collected here: their
    # finalizers would act on the parent's resources (e.g. join the threads
    # of a copied lox.thread pool, which do not exist in this process). The
    # collector was disabled across the fork; freeze what exists, then let
    # it run for what the calls create.
    gc.freeze()
    if _gc_was_enabled:
        gc.enable()


def _append(out, data):
    return _native.lib.lox_buffer_append(out, data, len(data))


def _flush_std():
    for f in (sys.stdout, sys.stderr):
        try:
            if f is not None:
                f.flush()
        except Exception:
            pass


def _run_task(ctx, data, length, out):
    try:
        return _run_task_inner(ctx, data, length, out)
    finally:
        if _child_ready:
            _flush_std()    # workers are killed, never exit normally: flush each call's output


def _run_task_inner(ctx, data, length, out):
    try:
        _after_fork_child()
        try:
            worker = _wrappers[ctx]
            args, kwargs = pickle.loads(ctypes.string_at(data, length) if length else b"")
            value = worker.func(*worker._full_args(args), **kwargs)
        except BaseException as e:  # noqa: B902 - sent back and re-raised at gather
            tb = traceback.format_exc()
            try:
                exc = pickle.dumps(e)
            except BaseException:  # noqa: B902
                exc = pickle.dumps(None)
                tb += "(lox.process: the exception %r could not be pickled)\n" % (e,)
            # liblox logs a failed task's bytes as its detail: keep them text
            # (the worker's traceback), with the pickled exception in base64
            # on the last line
            _append(out, tb.encode("utf-8", "replace") + _EXC_MARK + base64.b64encode(exc))
            return _TASK_RAISED
        try:
            payload = pickle.dumps(value)
        except BaseException as e:  # noqa: B902
            _append(out, ("lox.process: the result of %r could not be pickled: %r"
                          % (worker.func, e)).encode("utf-8", "replace"))
            return _TASK_BROKEN
        _append(out, payload)
        return 0
    except BaseException as e:  # noqa: B902 - a callback must not raise
        try:
            _append(out, ("lox.process: task machinery failed: %r" % (e,)).encode())
        except BaseException:  # noqa: B902
            pass
        return _TASK_BROKEN


_TASK = _native.PROCESS_FN(_run_task)


def _create_pool(n_workers, key):
    """lox_process_create, made fork-safe as described in the module doc."""
    global _gc_was_enabled
    _flush_std()
    h = ctypes.c_void_p()
    was_enabled = gc.isenabled()
    gc.disable()      # no collection in the child before it froze the inherited objects
    try:
        _gc_was_enabled = was_enabled
        _api.PyOS_BeforeFork()
        try:
            st = _native.lib_gil.lox_process_create(n_workers, _TASK, key, ctypes.byref(h))
        finally:
            _api.PyOS_AfterFork_Parent()
    finally:
        if was_enabled:
            gc.enable()
    _native.check(st, "lox.process")
    return h.value


def _destroy(handle, pid):
    if os.getpid() == pid:      # never a copy inherited by a forked process
        _native.lib.lox_process_destroy(handle)


class _Pool:
    __slots__ = ("handle", "finalizer", "__weakref__")

    def __init__(self, n_workers, key):
        self.handle = _create_pool(n_workers, key)
        self.finalizer = _base.finalize_on_gc(self, _destroy, self.handle, os.getpid())


class ProcessWorker(WorkerBase):
    """A function decorated with ``lox.process``."""

    kind = "process"

    def __init__(self, n_workers, func, instance=None):
        super().__init__(n_workers, func, instance)
        self._pool = None
        self._key = _base.new_key()
        _wrappers[self._key] = self

    def __len__(self):
        """Number of scattered calls not yet started by a worker."""
        pool = self._pool
        return 0 if pool is None else _native.lib.lox_process_pending(pool.handle)

    def scatter(self, *args, **kwargs):
        """Starts ``func(*args, **kwargs)`` in a worker process and returns
        its index into the results of the next ``gather``. The arguments are
        pickled now (unpicklable arguments raise here). A scatter result of
        ``lox.thread`` among the arguments is waited for and replaced by its
        value (chaining)."""
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, ScatterResult) and isinstance(a._job, _ProcessJob):
                raise TypeError("lox.process scatter: a lox.process scatter result cannot be "
                                "chained (process results exist only at gather)")
        args, kwargs = _base.resolve(args, kwargs)
        data = pickle.dumps((args, kwargs))
        index = ctypes.c_size_t()
        with self._lock:
            if self._pool is None:
                self._pool = _Pool(self.n_workers, self._key)
            st = _native.lib.lox_process_scatter(self._pool.handle, data, len(data),
                                                 ctypes.byref(index))
        _native.check(st, "lox.process scatter")
        return ScatterResult(index.value, _ProcessJob())

    def gather(self, tqdm=None):
        """Blocks until every call scattered so far finished; returns their
        return values in scatter order and ends the round (its worker
        processes exit). Re-raises the first exception a call raised;
        ``WorkerError`` if a worker died during a call. ``tqdm`` as for
        ``lox.thread``."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            progress = Progress(tqdm)
            if tqdm is not None and tqdm is not False:
                progress._progress(None, 0, 0)
            progress.finish()
            return []
        lib = _native.lib
        progress = Progress(tqdm)
        opts = progress.opts()
        out = ctypes.c_void_p()
        try:
            st = gather_round(lib.lox_process_gather, pool.handle, opts, out)
            if st not in (_native.LOX_OK, _native.LOX_ETASK):
                progress.finish()
                _native.check(st, "lox.process gather")
            results, errors = [], []
            try:
                for i in range(lib.lox_results_count(out)):
                    status = lib.lox_results_status(out, i)
                    p = ctypes.c_void_p()
                    n = ctypes.c_size_t()
                    _native.check(lib.lox_results_bytes(out, i, ctypes.byref(p), ctypes.byref(n)),
                                  "lox.process results")
                    raw = ctypes.string_at(p.value, n.value) if n.value else b""
                    results.append(None)
                    if status == 0:
                        try:
                            results[-1] = pickle.loads(raw)
                        except Exception as e:
                            errors.append(LoxError("lox.process: task %d: its result could "
                                                   "not be unpickled: %r" % (i, e)))
                    elif status == _TASK_RAISED:
                        tb, _, exc = raw.rpartition(_EXC_MARK)
                        tb = tb.decode("utf-8", "replace")
                        try:
                            exc = pickle.loads(base64.b64decode(exc))
                        except Exception as e:
                            exc = LoxError("lox.process: task %d raised an exception that "
                                           "could not be unpickled (%r)" % (i, e))
                        if not isinstance(exc, BaseException):
                            exc = LoxError("lox.process: task %d raised in a worker" % i)
                        exc.__cause__ = RemoteTraceback(tb)
                        errors.append(exc)
                    else:
                        errors.append(self._status_error(out, i, status, raw))
            finally:
                lib.lox_results_destroy(out)
        finally:
            pool.finalizer()
        progress.finish()
        _base.raise_first(errors)
        return results

    @staticmethod
    def _status_error(out, i, status, raw):
        detail = _native.lib.lox_results_error(out, i)
        detail = detail.decode("utf-8", "replace") if detail else raw.decode("utf-8", "replace")
        if status == _native.LOX_EWORKER:
            e = WorkerError("lox.process: task %d: %s" % (i, detail))
        elif status == _native.LOX_TIMEOUT:
            e = Timeout("lox.process: task %d: %s" % (i, detail))
        else:
            e = LoxError("lox.process: task %d failed (status %d): %s" % (i, status, detail))
        e.status = status
        return e


class _ProcessJob:
    """Marks a lox.process scatter result (not chainable)."""
    __slots__ = ()


def process(n_workers=None):
    """Decorator to execute a function/method in multiple processes.

    ``@lox.process`` (one worker per CPU), ``@lox.process(n)``,
    ``lox.process(fn)``, ``lox.process(n)(fn)``. ``n_workers = 0`` (or the
    environment variable LOX_DEBUG) runs scattered calls inline.
    """
    return parse_decorator("process", n_workers, os.cpu_count() or 1, ProcessWorker, {})
