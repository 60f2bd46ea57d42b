# SPDX-License-Identifier: Apache-2.0
"""Shared machinery of lox.thread and lox.process: decorator argument
parsing, the descriptor protocol for methods, scatter results (chaining) and
re-raising task exceptions at gather."""

import functools
import itertools
import threading
import weakref

__all__ = ["ScatterResult", "WorkerBase", "SharedBound", "parse_decorator", "unpacking"]

_AUTO_UNPACK = True
_unpack_lock = threading.Lock()


def unpacking():
    return _AUTO_UNPACK


def enable_auto_unpacking():
    """Chained tuple results are unpacked into the next function's
    positional arguments (the default)."""
    global _AUTO_UNPACK
    _AUTO_UNPACK = True


def disable_auto_unpacking():
    """Chained tuple results are passed as one argument (not unpacked)."""
    global _AUTO_UNPACK
    _AUTO_UNPACK = False


class Job:
    """One scattered call, kept alive (and found by its key) while in flight."""

    __slots__ = ("key", "args", "kwargs", "result", "exc", "done", "__weakref__")

    def __init__(self, key, args, kwargs):
        self.key = key
        self.args = args
        self.kwargs = kwargs
        self.result = None
        self.exc = None
        self.done = threading.Event()

    def finish(self, result=None, exc=None):
        self.result = result
        self.exc = exc
        self.args = self.kwargs = None
        self.done.set()


class ScatterResult(int):
    """What ``scatter`` returns: the call's index into the results of the
    next ``gather`` (an ``int``), which also refers to the call itself so
    that it can be passed to another scatter (chaining): the later call
    waits for this one and receives its return value in its place (a tuple
    is unpacked into positional arguments unless
    ``disable_auto_unpacking()`` was called)."""

    def __new__(cls, index, job):
        self = super().__new__(cls, index)
        self._job = job
        return self

    def __reduce__(self):
        return (int, (int(self),))     # pickles (and copies) as the plain index

    def result(self, timeout=None):
        """Waits for the call and returns its value (raises its exception)."""
        job = self._job
        if job is None:
            raise TypeError("this scatter result cannot be chained")
        if not job.done.wait(timeout):
            from ..exceptions import Timeout
            raise Timeout("scatter result not ready")
        if job.exc is not None:
            raise job.exc
        return job.result


class ChainError(RuntimeError):
    """A chained call could not run because the call it depends on raised."""


def has_promises(args, kwargs):
    return any(isinstance(a, ScatterResult) for a in args) or any(
        isinstance(v, ScatterResult) for v in kwargs.values())


def resolve(args, kwargs):
    """Replaces scatter results among the arguments by their values
    (waiting for them); a tuple value in a positional slot is unpacked in
    place when auto unpacking is on."""
    if not has_promises(args, kwargs):
        return args, kwargs
    new_args = []
    for a in args:
        if isinstance(a, ScatterResult):
            v = a.result()
            if _AUTO_UNPACK and isinstance(v, tuple):
                new_args.extend(v)
            else:
                new_args.append(v)
        else:
            new_args.append(a)
    new_kwargs = {k: (v.result() if isinstance(v, ScatterResult) else v)
                  for k, v in kwargs.items()}
    return tuple(new_args), new_kwargs


def raise_first(errors):
    """Re-raises the first task exception (in scatter order); the number of
    other failures is noted on it."""
    if not errors:
        return
    first = errors[0]
    if len(errors) > 1 and hasattr(first, "add_note"):
        try:
            first.add_note("lox: %d more scattered call(s) of this gather raised"
                           % (len(errors) - 1))
        except Exception:
            pass
    raise first


def parse_decorator(name, arg, default, factory, kwargs):
    """``@lox.X``, ``@lox.X(n)``, ``lox.X(fn)``, ``lox.X(n)(fn)``,
    ``lox.X(max_workers=n)``."""
    if callable(arg) and not isinstance(arg, int):
        return factory(default, arg, **kwargs)
    n = default if arg is None else arg
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("lox.%s: number of workers must be an int, got %r" % (name, n))
    if n < 0:
        raise ValueError("lox.%s: number of workers must be >= 0, got %d" % (name, n))

    def decorator(func):
        if not callable(func):
            raise TypeError("lox.%s: %r is not callable" % (name, func))
        return factory(n, func, **kwargs)
    return decorator


_keys = itertools.count(1)


def new_key():
    return next(_keys)


class WorkerBase:
    """The decorated function: ``__call__`` (plain call), ``scatter``,
    ``gather``, ``len()``; a method decorated in a class gets, per instance,
    its own bound worker (with its own pool) that passes ``self``."""

    def __init__(self, n_workers, func, instance=None):
        functools.update_wrapper(self, func)
        self.func = func
        self.n_workers = n_workers
        self._instance = instance
        self._lock = threading.Lock()

    # --- descriptor protocol: methods receive self ---------------------------
    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        attr = "_lox_bound_%s_%d" % (getattr(self.func, "__name__", "f"), id(self))
        d = getattr(instance, "__dict__", None)
        if isinstance(d, dict):
            bound = d.get(attr)
            if bound is None:
                bound = d[attr] = self._bind(instance)
            return bound
        # no per-instance storage (__slots__): all such instances share this
        # worker's pool, the instance is passed as the first argument
        return SharedBound(self, instance)

    def _bind(self, instance):
        return type(self)(self.n_workers, self.func, instance=instance)

    def _full_args(self, args):
        if self._instance is not None:
            return (self._instance,) + tuple(args)
        return args

    def __call__(self, *args, **kwargs):
        """Vanilla passthrough function execution."""
        return self.func(*self._full_args(args), **kwargs)

    kind = "worker"

    def __repr__(self):
        return "<lox.%s(%d) %r>" % (self.kind, self.n_workers, self.func)


def finalize_on_gc(obj, fn, *args):
    """Runs fn(*args) when obj is collected or at interpreter exit."""
    return weakref.finalize(obj, fn, *args)


class SharedBound:
    """A decorated method seen through an instance without ``__dict__``
    (``__slots__``): scatters go to the class-level worker with the
    instance as first argument, so the instances share one pool and one
    round (``gather`` on any of them returns the calls of all)."""

    def __init__(self, worker, instance):
        functools.update_wrapper(self, worker.func)
        self._worker = worker
        self._instance = instance

    def __call__(self, *args, **kwargs):
        return self._worker.func(self._instance, *args, **kwargs)

    def scatter(self, *args, **kwargs):
        return self._worker.scatter(self._instance, *args, **kwargs)

    def gather(self, tqdm=None):
        return self._worker.gather(tqdm=tqdm)

    def __len__(self):
        return len(self._worker)
