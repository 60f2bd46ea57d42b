# SPDX-License-Identifier: Apache-2.0
"""What lox.thread and lox.process promise alike, run on each: LOX_DEBUG
forces inline calls, and gather reports progress to a tqdm-like object or
its own plain bar."""

import sys
import time

import pytest

import lox

#: decorator name -> (module for the identity, the identity of the running call)
KINDS = {
    "thread": ("threading", "threading.get_ident()"),
    "process": ("os", "os.getpid()"),
}


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return request.param


def test_lox_debug_env_forces_inline(kind, pyrun):
    module, ident = KINDS[kind]
    code = (
        "import %s, lox\n"
        "@lox.%s(4)\n"
        "def f(i):\n"
        "    return %s\n"
        "for i in range(4): f.scatter(i)\n"
        "print(set(f.gather()) == {%s})\n"
    ) % (module, kind, ident, ident)
    on = pyrun(code, {"LOX_DEBUG": "yes"})
    assert on.returncode == 0, on.stderr
    assert on.stdout.strip() == "True"
    off = pyrun(code)
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == "False"


class _Updates:
    def __init__(self, total=None):
        self.total = total
        self.calls = []

    def update(self, n=1):
        self.calls.append(n)


def test_gather_updates_tqdm_like_object(kind):
    @getattr(lox, kind)(2)
    def f(i):
        time.sleep(0.005)
        return i

    bar = _Updates()
    for i in range(7):
        f.scatter(i)
    assert f.gather(tqdm=bar) == list(range(7))
    assert sum(bar.calls) == 7
    assert all(n > 0 for n in bar.calls)
    assert bar.total == 7     # a bar without total gets the round's size


def test_gather_tqdm_true_plain_bar(kind, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)   # force the built-in bar

    @getattr(lox, kind)(2)
    def f(i):
        return i

    for i in range(5):
        f.scatter(i)
    assert f.gather(tqdm=True) == list(range(5))
    err = capsys.readouterr().err
    assert "100%" in err and "5/5" in err
    assert err.endswith("\n")
