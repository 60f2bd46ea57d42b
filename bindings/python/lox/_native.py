# SPDX-License-Identifier: Apache-2.0
"""Low-level ctypes binding of liblox's C ABI (include/lox/lox.h).

Everything user-visible in the ``lox`` package is built on this module; it is
not part of lox's documented API, but it is stable within this package.

Finding the library (first match wins):

1. the environment variable ``LOX_LIBRARY``: a path to ``liblox.so.0``;
2. a ``liblox.so.0`` (or ``liblox.so``) next to the package: in the ``lox/``
   package directory or in its parent directory;
3. the system loader: ``liblox.so.0``, then ``ctypes.util.find_library("lox")``.

Two handles on the same shared object are exposed:

``lib``
    a ``ctypes.CDLL``: every call releases the GIL, so blocking calls
    (acquire, get, gather, ...) never stall other Python threads. Use it for
    everything.
``lib_gil``
    a ``ctypes.PyDLL`` of the same file: calls keep holding the GIL. Only
    used to create process pools (the fork must happen while this thread
    owns the GIL, see ``lox.worker.process``).

Every function of lox.h has its ``argtypes``/``restype`` declared on both
handles. Handles (``lox_thread *``, ``lox_lock *``, ...) are ``c_void_p``;
``X **out`` parameters are ``POINTER(c_void_p)``.

``check(status, what="")`` turns a ``LOX_*`` status into ``None`` (LOX_OK) or
raises the matching exception from ``lox.exceptions`` with the text of
``lox_last_error()``; see ``STATUS_EXCEPTIONS``. ``check_timeout`` returns
``False`` for LOX_TIMEOUT instead of raising, and ``True`` for LOX_OK.
"""

import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_char_p, c_double, c_int, c_long,
                    c_longlong, c_size_t, c_uint, c_ulonglong, c_void_p)

from . import exceptions as _exc

__all__ = [
    "lib", "lib_gil", "library_path", "check", "check_timeout", "last_error",
    "status_str", "STATUS_CODES", "GatherOpts", "ThreadOpts", "ProcessOpts", "ScatterOpts",
    "Completed", "TASK_FN", "PROCESS_FN", "ENCODE_FN", "DONE_FN", "PROGRESS_FN", "LOG_FN", "LOX_FOREVER", "LOX_DEFAULT_WORKERS",
    "LOX_READ", "LOX_WRITE", "LOX_BACKLOG_OFF", "LOX_BACKLOG_UNBOUNDED",
    "timeout_arg", "debug_mode",
]  # and every status code (LOX_OK, LOX_TIMEOUT, LOX_E*), see STATUS_CODES

# --- constants (lox.h) -------------------------------------------------------

# The status codes (LOX_OK, LOX_TIMEOUT, LOX_E*) are read from the library
# once it is loaded, see "status codes" below.

LOX_FOREVER = -1.0
LOX_DEFAULT_WORKERS = ctypes.c_size_t(-1).value

LOX_LOG_TRACE, LOX_LOG_DEBUG, LOX_LOG_INFO, LOX_LOG_WARN, LOX_LOG_ERROR, LOX_LOG_OFF = range(6)

LOX_READ = ord("r")
LOX_WRITE = ord("w")

LOX_BACKLOG_OFF = -1
LOX_BACKLOG_UNBOUNDED = 0

# --- callback and struct types --------------------------------------------------

#: void (*lox_log_fn)(void *ctx, int level, const char *message)
LOG_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_char_p)
#: void (*lox_progress_fn)(void *ctx, size_t done, size_t total)
PROGRESS_FN = ctypes.CFUNCTYPE(None, c_void_p, c_size_t, c_size_t)
#: int (*lox_task_fn)(void *ctx, void *arg, void **result)
TASK_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))
#: int (*lox_process_fn)(void *ctx, const void *in, size_t in_len, lox_buffer *out)
PROCESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p)


class _Opts(Structure):
    """An options struct that its ``lox_*_opts_init`` (``_init``) fills."""
    _init = None

    @classmethod
    def default(cls):
        o = cls()
        getattr(lib, cls._init)(ctypes.byref(o))
        return o


class GatherOpts(_Opts):
    """lox_gather_opts (build with ``GatherOpts.default()``)."""
    _init = "lox_gather_opts_init"
    _fields_ = [
        ("struct_size", c_size_t),
        ("timeout", c_double),
        ("progress", PROGRESS_FN),
        ("progress_ctx", c_void_p),
        ("progress_bar", c_int),
    ]


class ThreadOpts(_Opts):
    """lox_thread_opts (build with ``ThreadOpts.default()``)."""
    _init = "lox_thread_opts_init"
    _fields_ = [
        ("struct_size", c_size_t),
        ("idle_timeout", c_double),
    ]


class ProcessOpts(_Opts):
    """lox_process_opts (build with ``ProcessOpts.default()``)."""
    _init = "lox_process_opts_init"
    _fields_ = [
        ("struct_size", c_size_t),
        ("task_timeout", c_double),
        ("max_message", c_size_t),
    ]


#: int (*encode)(void *ctx, void *value, lox_buffer *out) of lox_scatter_opts
ENCODE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)
#: void (*lox_done_fn)(void *ctx, lox_task *task)
DONE_FN = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)


class ScatterOpts(_Opts):
    """lox_scatter_opts (build with ``ScatterOpts.default()``)."""
    _init = "lox_scatter_opts_init"
    _fields_ = [
        ("struct_size", c_size_t),
        ("after", POINTER(c_void_p)),
        ("n_after", c_size_t),
        ("encode", ENCODE_FN),
        ("encode_ctx", c_void_p),
    ]


class Completed(Structure):
    """lox_completed (set ``struct_size`` to ``ctypes.sizeof(Completed)``)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("index", c_size_t),
        ("status", c_int),
        ("value", c_void_p),
        ("data", c_void_p),
        ("len", c_size_t),
        ("error", c_char_p),
        ("task", c_void_p),
    ]


# --- every function of lox.h: (name, restype, argtypes) -------------------------

_PP = POINTER(c_void_p)

_SIGNATURES = [
    ('lox_version', c_uint, []),
    ('lox_version_string', c_char_p, []),
    ('lox_status_str', c_char_p, [c_int]),
    ('lox_status_name', c_char_p, [c_int]),
    ('lox_last_error', c_char_p, []),
    ('lox_log_set_level', None, [c_int]),
    ('lox_log_get_level', c_int, []),
    ('lox_log_set_callback', None, [LOG_FN, c_void_p]),
    ('lox_gather_opts_init', None, [POINTER(GatherOpts)]),
    ('lox_results_count', c_size_t, [c_void_p]),
    ('lox_results_status', c_int, [c_void_p, c_size_t]),
    ('lox_results_value', c_void_p, [c_void_p, c_size_t]),
    ('lox_results_bytes', c_int, [c_void_p, c_size_t, _PP, POINTER(c_size_t)]),
    ('lox_results_error', c_char_p, [c_void_p, c_size_t]),
    ('lox_results_destroy', None, [c_void_p]),
    ('lox_thread_opts_init', None, [POINTER(ThreadOpts)]),
    ('lox_thread_create', c_int, [c_size_t, TASK_FN, c_void_p, _PP]),
    ('lox_thread_create_ex', c_int, [c_size_t, TASK_FN, c_void_p, POINTER(ThreadOpts), _PP]),
    ('lox_thread_destroy', None, [c_void_p]),
    ('lox_thread_call', c_int, [c_void_p, c_void_p, _PP]),
    ('lox_thread_scatter', c_int, [c_void_p, c_void_p, POINTER(c_size_t)]),
    ('lox_thread_scatter_fn', c_int, [c_void_p, TASK_FN, c_void_p, c_void_p, POINTER(c_size_t)]),
    ('lox_thread_pending', c_size_t, [c_void_p]),
    ('lox_thread_workers', c_size_t, [c_void_p]),
    ('lox_thread_gather', c_int, [c_void_p, POINTER(GatherOpts), _PP]),
    ('lox_thread_scatter_ex', c_int, [c_void_p, TASK_FN, c_void_p, c_void_p, POINTER(ScatterOpts),
                                      POINTER(c_size_t), _PP]),
    ('lox_thread_cancel', c_int, [c_void_p]),
    ('lox_thread_completions', c_int, [c_void_p, _PP]),
    ('lox_buffer_append', c_int, [c_void_p, c_void_p, c_size_t]),
    ('lox_process_opts_init', None, [POINTER(ProcessOpts)]),
    ('lox_process_create', c_int, [c_size_t, PROCESS_FN, c_void_p, _PP]),
    ('lox_process_create_ex', c_int, [c_size_t, PROCESS_FN, c_void_p, POINTER(ProcessOpts), _PP]),
    ('lox_process_destroy', None, [c_void_p]),
    ('lox_process_scatter', c_int, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    ('lox_process_pending', c_size_t, [c_void_p]),
    ('lox_process_workers', c_size_t, [c_void_p]),
    ('lox_process_gather', c_int, [c_void_p, POINTER(GatherOpts), _PP]),
    ('lox_process_scatter_ex', c_int, [c_void_p, c_void_p, c_size_t, POINTER(ScatterOpts),
                                       POINTER(c_size_t), _PP]),
    ('lox_process_set_cancel_grace', c_int, [c_void_p, c_double]),
    ('lox_process_cancel', c_int, [c_void_p]),
    ('lox_process_completions', c_int, [c_void_p, _PP]),
    ('lox_scatter_opts_init', None, [POINTER(ScatterOpts)]),
    ('lox_task_wait', c_int, [c_void_p, c_double]),
    ('lox_task_done', c_int, [c_void_p]),
    ('lox_task_status', c_int, [c_void_p]),
    ('lox_task_error', c_char_p, [c_void_p]),
    ('lox_task_index', c_size_t, [c_void_p]),
    ('lox_task_value', c_void_p, [c_void_p]),
    ('lox_task_bytes', c_int, [c_void_p, _PP, POINTER(c_size_t)]),
    ('lox_task_on_done', c_int, [c_void_p, DONE_FN, c_void_p]),
    ('lox_task_cancel', c_int, [c_void_p]),
    ('lox_task_create', c_int, [c_size_t, _PP]),
    ('lox_task_complete', c_int, [c_void_p, c_int, c_void_p, c_char_p]),
    ('lox_task_retain', c_void_p, [c_void_p]),
    ('lox_task_release', None, [c_void_p]),
    ('lox_task_cancelled', c_int, []),
    ('lox_task_input_count', c_size_t, []),
    ('lox_task_input', c_void_p, [c_size_t]),
    ('lox_inputs_count', c_size_t, [c_void_p, c_size_t]),
    ('lox_inputs_get', c_int, [c_void_p, c_size_t, c_size_t, _PP, POINTER(c_size_t)]),
    ('lox_completions_of', c_int, [POINTER(c_void_p), c_size_t, _PP]),
    ('lox_completions_next', c_int, [c_void_p, c_double, POINTER(Completed)]),
    ('lox_completions_remaining', c_size_t, [c_void_p]),
    ('lox_completions_destroy', None, [c_void_p]),
    ('lox_lock_create', c_int, [_PP]),
    ('lox_lock_destroy', None, [c_void_p]),
    ('lox_lock_acquire', c_int, [c_void_p, c_double]),
    ('lox_lock_release', c_int, [c_void_p]),
    ('lox_lock_locked', c_int, [c_void_p]),
    ('lox_lightswitch_create', c_int, [c_void_p, _PP]),
    ('lox_lightswitch_destroy', None, [c_void_p]),
    ('lox_lightswitch_acquire', c_int, [c_void_p, c_double]),
    ('lox_lightswitch_release', c_int, [c_void_p]),
    ('lox_lightswitch_count', c_size_t, [c_void_p]),
    ('lox_rwlock_create', c_int, [_PP]),
    ('lox_rwlock_destroy', None, [c_void_p]),
    ('lox_rwlock_acquire', c_int, [c_void_p, c_int, c_double]),
    ('lox_rwlock_release', c_int, [c_void_p, c_int]),
    ('lox_rwlock_readers', c_size_t, [c_void_p]),
    ('lox_qlock_create', c_int, [_PP]),
    ('lox_qlock_destroy', None, [c_void_p]),
    ('lox_qlock_acquire', c_int, [c_void_p, c_double]),
    ('lox_qlock_release', c_int, [c_void_p]),
    ('lox_qlock_waiting', c_size_t, [c_void_p]),
    ('lox_qlock_locked', c_int, [c_void_p]),
    ('lox_index_semaphore_create', c_int, [c_size_t, _PP]),
    ('lox_index_semaphore_destroy', None, [c_void_p]),
    ('lox_index_semaphore_acquire', c_int, [c_void_p, c_double, POINTER(c_size_t)]),
    ('lox_index_semaphore_release', c_int, [c_void_p, c_size_t]),
    ('lox_index_semaphore_available', c_size_t, [c_void_p]),
    ('lox_index_semaphore_waiting', c_size_t, [c_void_p]),
    ('lox_queue_create', c_int, [c_size_t, _PP]),
    ('lox_queue_destroy', None, [c_void_p]),
    ('lox_queue_put', c_int, [c_void_p, c_void_p, c_double]),
    ('lox_queue_get', c_int, [c_void_p, _PP, c_double]),
    ('lox_queue_close', c_int, [c_void_p]),
    ('lox_queue_closed', c_int, [c_void_p]),
    ('lox_queue_task_done', c_int, [c_void_p]),
    ('lox_queue_join', c_int, [c_void_p, c_double]),
    ('lox_queue_size', c_size_t, [c_void_p]),
    ('lox_queue_maxsize', c_size_t, [c_void_p]),
    ('lox_queue_empty', c_int, [c_void_p]),
    ('lox_queue_full', c_int, [c_void_p]),
    ('lox_announcement_create', c_int, [c_size_t, c_longlong, _PP]),
    ('lox_announcement_destroy', None, [c_void_p]),
    ('lox_announcement_subscribe', c_int, [c_void_p, c_size_t, c_double, _PP]),
    ('lox_announcement_put', c_int, [c_void_p, c_void_p, c_double]),
    ('lox_announcement_get', c_int, [c_void_p, _PP, c_double]),
    ('lox_announcement_finalize', c_int, [c_void_p]),
    ('lox_announcement_unsubscribe', c_int, [c_void_p]),
    ('lox_announcement_clone', c_int, [c_void_p, _PP]),
    ('lox_announcement_subscribers', c_size_t, [c_void_p]),
    ('lox_announcement_size', c_size_t, [c_void_p]),
    ('lox_announcement_backlog', c_size_t, [c_void_p]),
    ('lox_announcement_empty', c_int, [c_void_p]),
    ('lox_announcement_full', c_int, [c_void_p]),
    ('lox_funnel_create', c_int, [_PP]),
    ('lox_funnel_destroy', None, [c_void_p]),
    ('lox_funnel_subscribe', c_int, [c_void_p, _PP]),
    ('lox_funnel_put', c_int, [c_void_p, c_ulonglong, c_void_p, c_double]),
    ('lox_funnel_get', c_int, [c_void_p, c_double, POINTER(c_ulonglong), _PP, c_size_t, POINTER(c_size_t)]),
    ('lox_funnel_inputs', c_size_t, [c_void_p]),
    ('lox_funnel_ready', c_size_t, [c_void_p]),
    ('lox_funnel_index', c_long, [c_void_p]),
]

# --- loading ---------------------------------------------------------------------

_NAMES = ("liblox.so.0", "liblox.so")


def _candidates():
    env = os.environ.get("LOX_LIBRARY")
    if env:
        yield env, True
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (here, os.path.dirname(here)):
        for n in _NAMES:
            p = os.path.join(d, n)
            if os.path.exists(p):
                yield p, True
    yield "liblox.so.0", False
    found = ctypes.util.find_library("lox")
    if found:
        yield found, False


def _load():
    errors = []
    for path, explicit in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            if explicit and os.environ.get("LOX_LIBRARY"):
                break
    raise ImportError(
        "lox: cannot load liblox (set LOX_LIBRARY to the path of liblox.so.0): "
        + "; ".join(errors))


lib, library_path = _load()
lib_gil = ctypes.PyDLL(library_path)

for _name, _res, _args in _SIGNATURES:
    for _l in (lib, lib_gil):
        _f = getattr(_l, _name)
        _f.restype = _res
        _f.argtypes = _args
del _name, _res, _args, _l, _f

# --- status codes ----------------------------------------------------------------------

#: Every value ``lox_status_name`` is asked about at import: a window much
#: wider than the codes of lox.h's LOX_STATUS_MAP (small integers around 0).
_STATUS_WINDOW = range(-256, 257)

#: The names the package itself uses; a liblox without one of them is not
#: the library this binding was written for.
_STATUS_NEEDED = ("LOX_OK", "LOX_TIMEOUT", "LOX_EINVAL", "LOX_ENOMEM", "LOX_ESTATE",
                  "LOX_ECLOSED", "LOX_ETASK", "LOX_EWORKER", "LOX_ESYS",
                  "LOX_ECANCELLED", "LOX_EDEPENDENCY")


def _status_codes():
    """{"LOX_<NAME>": value} of every status code the loaded library names."""
    codes = {}
    for value in _STATUS_WINDOW:
        name = lib.lox_status_name(value).decode("ascii")
        if name != "LOX_UNKNOWN":
            codes[name] = value
    missing = [n for n in _STATUS_NEEDED if n not in codes]
    if missing:
        raise ImportError("lox: %s names no status %s (lox_status_name)"
                          % (library_path, ", ".join(missing)))
    return codes


#: {"LOX_<NAME>": value} of the library's status codes; each is also a
#: module constant (``LOX_OK``, ``LOX_EINVAL``, ...).
STATUS_CODES = _status_codes()
globals().update(STATUS_CODES)
__all__ += sorted(STATUS_CODES)

# --- errors --------------------------------------------------------------------------

STATUS_EXCEPTIONS = {
    LOX_TIMEOUT: _exc.Timeout,
    LOX_EINVAL: _exc.LoxValueError,
    LOX_ENOMEM: _exc.LoxMemoryError,
    LOX_ESTATE: _exc.LoxStateError,
    LOX_ECLOSED: _exc.LoxClosedError,
    LOX_ETASK: _exc.TaskError,
    LOX_EWORKER: _exc.WorkerError,
    LOX_ESYS: _exc.LoxOSError,
    LOX_ECANCELLED: _exc.LoxCancelledError,
    LOX_EDEPENDENCY: _exc.DependencyError,
}


def status_str(status):
    """lox_status_str(status) as ``str``."""
    return lib.lox_status_str(status).decode("utf-8", "replace")


def last_error():
    """lox_last_error() of the calling thread, as ``str``."""
    return lib.lox_last_error().decode("utf-8", "replace")


def error(status, what=""):
    """The exception for a non-OK ``status`` (with lox_last_error's detail)."""
    detail = last_error() if status != LOX_TIMEOUT else ""
    text = status_str(status)
    if detail:
        text = "%s (%s)" % (detail, text)
    if what:
        text = "%s: %s" % (what, text)
    cls = STATUS_EXCEPTIONS.get(status, _exc.LoxError)
    e = cls(text)
    e.status = status
    return e


def check(status, what=""):
    """Returns ``None`` for LOX_OK; raises the matching exception otherwise
    (LOX_TIMEOUT raises ``lox.Timeout``)."""
    if status == LOX_OK:
        return None
    raise error(status, what)


def check_timeout(status, what=""):
    """``True`` for LOX_OK, ``False`` for LOX_TIMEOUT; raises otherwise."""
    if status == LOX_OK:
        return True
    if status == LOX_TIMEOUT:
        return False
    raise error(status, what)


def timeout_arg(timeout, block=True):
    """Converts lox's (block, timeout) convention to liblox seconds:
    ``block=False`` -> 0, ``timeout`` None or negative -> LOX_FOREVER."""
    if not block:
        return 0.0
    if timeout is None:
        return LOX_FOREVER
    t = float(timeout)
    if t != t:
        raise ValueError("timeout is NaN")
    return LOX_FOREVER if t < 0 else t


def debug_mode():
    """True when the environment variable LOX_DEBUG forces inline mode
    (1, true, yes or on, any case; same rule as liblox)."""
    return os.environ.get("LOX_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
