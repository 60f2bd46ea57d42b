# SPDX-License-Identifier: Apache-2.0
"""The native layer (lox._native) and the package surface lox.worker builds on."""

import concurrent.futures
import ctypes
import os
import re
import shutil

import pytest

import lox
from lox import _native

INCLUDE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include")
HEADER = os.path.join(INCLUDE, "lox", "lox.h")

_LOX_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](lox/[^>"]+)[>"]', re.M)


def _header_text(include=INCLUDE, name="lox/lox.h", seen=None):
    """``include/<name>`` and every ``<lox/...>`` header it includes,
    recursively (each once, resolved against ``include``), as one text."""
    seen = set() if seen is None else seen
    path = os.path.realpath(os.path.join(include, name))
    if path in seen:
        return ""
    seen.add(path)
    with open(path) as f:
        text = f.read()
    parts = [text]
    for inner in _LOX_INCLUDE.findall(text):
        parts.append(_header_text(include, inner, seen))
    return "\n".join(parts)


def _header_functions(text):
    return set(re.findall(r"^LOX_API\b[^;]*?\b(lox_\w+)\s*\(", text, re.M | re.S))


@pytest.mark.skipif(not os.path.exists(HEADER), reason="lox.h not in this checkout")
def test_every_header_function_is_declared():
    names = _header_functions(_header_text())
    assert len(names) >= 90
    declared = {n for n, _, _ in _native._SIGNATURES}
    assert names == declared
    for n in names:
        for lib in (_native.lib, _native.lib_gil):
            f = getattr(lib, n)
            assert f.argtypes is not None, n


def _header_status_map(text):
    """LOX_STATUS_MAP of the headers' ``text`` as {"LOX_<NAME>": (value,
    text)}: the #define line and the continuation lines that follow it."""
    lines = iter(text.splitlines())
    block = []
    for line in lines:
        if line.startswith("#define LOX_STATUS_MAP(X)"):
            block.append(line)
            while block[-1].rstrip().endswith("\\"):
                block.append(next(lines, ""))
            break
    entries = re.findall(r'X\((\w+),\s*(-?\d+),\s*"([^"]*)"', "\n".join(block))
    return {"LOX_" + name: (int(value), txt) for name, value, txt in entries}


@pytest.mark.skipif(not os.path.exists(HEADER), reason="lox.h not in this checkout")
def test_status_constants_match_the_header_map():
    codes = _header_status_map(_header_text())
    assert len(codes) >= 9 and "LOX_EINVAL" in codes
    for name, (value, txt) in codes.items():
        assert getattr(_native, name) == value, name
        assert _native.lib.lox_status_name(value).decode() == name
        assert _native.status_str(value) == txt
    bound = {n for n in dir(_native) if re.fullmatch(r"LOX_(OK|TIMEOUT|E[A-Z]+)", n)}
    assert bound == set(codes)
    assert _native.STATUS_CODES == {name: value for name, (value, _) in codes.items()}
    assert set(codes) <= set(_native.__all__)


def test_header_reader_follows_the_lox_includes(tmp_path):
    # an umbrella lox.h over smaller headers reads as the headers together
    (tmp_path / "lox" / "c").mkdir(parents=True)
    (tmp_path / "lox" / "lox.h").write_text(
        "#include <stddef.h>\n#include <lox/c/status.h>\n#include \"lox/calls.h\"\n")
    (tmp_path / "lox" / "c" / "status.h").write_text(
        "#include <lox/lox.h>\n#define LOX_STATUS_MAP(X) \\\n"
        "    X(OK, 0, \"success\", \"m\") \\\n    X(EINVAL, -1, \"bad\",  \\\n      \"m\")\n"
        "enum { LOX_STATUS_MAP(E) };\n")
    (tmp_path / "lox" / "calls.h").write_text("LOX_API int lox_one(void);\nLOX_API void\nlox_two(int);\n")
    text = _header_text(str(tmp_path))
    assert _header_status_map(text) == {"LOX_OK": (0, "success"), "LOX_EINVAL": (-1, "bad")}
    assert _header_functions(text) == {"lox_one", "lox_two"}


def test_option_structs_match_the_library():
    # lox_X_opts_init writes sizeof(lox_X_opts) as the C compiler sees it
    for cls in (_native.GatherOpts, _native.ThreadOpts, _native.ProcessOpts, _native.ScatterOpts):
        o = cls.default()
        assert o.struct_size == ctypes.sizeof(cls), cls
    g = _native.GatherOpts.default()
    assert g.timeout == _native.LOX_FOREVER and not g.progress and g.progress_bar == 0
    assert _native.ProcessOpts.default().max_message == 1 << 30
    assert _native.ThreadOpts.default().idle_timeout == 2.0
    s = _native.ScatterOpts.default()
    assert s.n_after == 0 and not s.after and not s.encode and not s.encode_ctx


def test_status_codes_map_to_exceptions_with_detail():
    lib = _native.lib
    with pytest.raises(ValueError) as info:
        _native.check(lib.lox_thread_scatter(None, None, None))
    assert isinstance(info.value, lox.exceptions.LoxValueError)
    assert info.value.status == _native.LOX_EINVAL
    assert "NULL" in str(info.value)
    with pytest.raises(lox.Timeout):
        _native.check(_native.LOX_TIMEOUT)
    assert _native.check_timeout(_native.LOX_TIMEOUT) is False
    assert _native.check_timeout(_native.LOX_OK) is True
    for st, exc in [(_native.LOX_ENOMEM, MemoryError), (_native.LOX_ESTATE, RuntimeError),
                    (_native.LOX_ECLOSED, lox.exceptions.LoxClosedError),
                    (_native.LOX_EWORKER, lox.exceptions.WorkerError),
                    (_native.LOX_ESYS, OSError),
                    (_native.LOX_ECANCELLED, lox.exceptions.LoxCancelledError),
                    (_native.LOX_EDEPENDENCY, lox.exceptions.DependencyError)]:
        with pytest.raises(exc):
            _native.check(st)
    assert _native.status_str(_native.LOX_EINVAL) != _native.status_str(_native.LOX_ESTATE)
    assert issubclass(lox.exceptions.LoxCancelledError, concurrent.futures.CancelledError)


def test_real_call_through_both_handles():
    for lib in (_native.lib, _native.lib_gil):
        h = ctypes.c_void_p()
        _native.check(lib.lox_lock_create(ctypes.byref(h)))
        assert _native.check_timeout(lib.lox_lock_acquire(h, 0.0))
        assert lib.lox_lock_locked(h) == 1
        assert _native.check_timeout(lib.lox_lock_acquire(h, 0.0)) is False
        _native.check(lib.lox_lock_release(h))
        lib.lox_lock_destroy(h)
    assert lox.liblox_version == _native.lib.lox_version_string().decode()


def test_package_exports():
    assert lox.thread is lox.worker.thread
    assert lox.process is lox.worker.process
    for name in ("LightSwitch", "RWLock", "QLock", "IndexSemaphore", "Announcement", "Funnel",
                 "Timeout", "SubscribeFinalizedError", "FunnelPutTopError"):
        assert hasattr(lox, name), name
    assert lox.LightSwitch is lox.lock.LightSwitch
    assert lox.Funnel is lox.queue.Funnel
    assert lox.Timeout is lox.exceptions.Timeout
    assert issubclass(lox.Timeout, Exception)


def test_library_found_next_to_the_package(tmp_path, pyrun):
    pkg = os.path.dirname(lox.__file__)
    shutil.copytree(pkg, tmp_path / "lox", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(_native.library_path, tmp_path / "lox" / "liblox.so.0")
    env = {"PYTHONPATH": str(tmp_path), "LOX_LIBRARY": ""}
    r = pyrun("import lox, lox._native as n; print(n.library_path)", env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "lox" / "liblox.so.0")


def test_bad_lox_library_is_a_clear_import_error(pyrun):
    r = pyrun("import lox", {"LOX_LIBRARY": "/nonexistent/liblox.so.0"})
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "LOX_LIBRARY" in r.stderr
