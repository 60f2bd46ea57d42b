# SPDX-License-Identifier: Apache-2.0
"""lox.process on liblox's process pool: every documented behaviour, plus
the fork-safety of creating the pool from a threaded Python program."""

import os
import pickle
import signal
import sys
import threading
import time

import pytest

import lox
from lox.exceptions import WorkerError

process_mod = sys.modules["lox.worker.process"]


def _wait_for(path, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("%s never appeared" % path)
        time.sleep(0.005)


@lox.process(2)
def mul(x, y):
    return x * y


def test_call_scatter_gather_order():
    assert mul(3, 4) == 12
    idx = [mul.scatter(i, i + 1) for i in range(5)]
    assert idx == [0, 1, 2, 3, 4]
    assert mul.gather() == [0, 2, 6, 12, 20]
    assert mul.gather() == []


@pytest.mark.parametrize("form", ["bare", "n", "call_n_fn", "keyword"])
def test_decorator_forms(form):
    def f(x):
        return (x, os.getpid())

    if form == "bare":
        w = lox.process(f)
        assert w.n_workers == (os.cpu_count() or 1)
    elif form == "n":
        w = lox.process(1)(f)
    elif form == "call_n_fn":
        w = lox.worker.process(2)(f)
    else:
        w = lox.process(n_workers=2)(f)
    for i in range(3):
        w.scatter(i)
    res = w.gather()
    assert [r[0] for r in res] == [0, 1, 2]
    assert os.getpid() not in {r[1] for r in res}    # ran in worker processes


def test_runs_in_parallel_processes(tmp_path):
    # each call announces itself and waits for the other: both must run at once
    @lox.process(2)
    def meet(i, d):
        open(os.path.join(d, "here-%d" % i), "w").close()
        _wait_for(os.path.join(d, "here-%d" % (1 - i)))
        return os.getpid()

    meet.scatter(0, str(tmp_path))
    meet.scatter(1, str(tmp_path))
    pids = meet.gather()
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_closures_and_globals_need_no_pickling():
    secret = threading.Lock()     # unpicklable, captured by the closure

    @lox.process(2)
    def f(x):
        return (x, type(secret).__name__)

    f.scatter(1)
    assert f.gather() == [(1, "lock")]


def test_exception_reraised_with_remote_traceback():
    @lox.process(2)
    def f(i):
        if i == 1:
            raise KeyError("remote %d" % i)
        return i

    for i in range(3):
        f.scatter(i)
    with pytest.raises(KeyError, match="remote 1") as info:
        f.gather()
    cause = info.value.__cause__
    assert isinstance(cause, process_mod.RemoteTraceback)
    assert "raise KeyError" in str(cause)
    f.scatter(5)
    assert f.gather() == [5]


def test_unpicklable_argument_raises_at_scatter():
    @lox.process(2)
    def f(x):
        return x

    with pytest.raises((TypeError, pickle.PicklingError)):
        f.scatter(threading.Lock())
    assert f.gather() == []        # nothing was scattered
    f.scatter(1)
    assert f.gather() == [1]


def test_unpicklable_result_fails_that_call():
    @lox.process(2)
    def f(i):
        return threading.Lock() if i == 1 else i

    for i in range(3):
        f.scatter(i)
    with pytest.raises(lox.exceptions.LoxError, match="could not be pickled"):
        f.gather()


@pytest.mark.parametrize("how, text", [("exit", "exited with code 3"),
                                       ("kill", "SIGKILL")])
def test_worker_crash_is_an_exception_naming_the_failure(how, text):
    @lox.process(2)
    def f(i):
        if i == 2:
            if how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    for i in range(5):
        f.scatter(i)
    with pytest.raises(WorkerError, match=text) as info:
        f.gather()
    assert "task 2" in str(info.value)
    assert info.value.status == lox._native.LOX_EWORKER
    for i in (0, 1, 3):
        f.scatter(i)
    assert f.gather() == [0, 1, 3]   # replaced workers run the next round


def test_len_counts_calls_not_started(tmp_path):
    d = str(tmp_path)

    @lox.process(1)
    def f(i):
        if i == 0:
            open(os.path.join(d, "started"), "w").close()
            _wait_for(os.path.join(d, "go"))
        return i

    assert len(f) == 0
    f.scatter(0)
    _wait_for(os.path.join(d, "started"))
    for i in range(1, 4):
        f.scatter(i)
    assert len(f) == 3
    open(os.path.join(d, "go"), "w").close()
    assert f.gather() == [0, 1, 2, 3]
    assert len(f) == 0


def test_methods_use_instance_state():
    class Scaler:
        def __init__(self, k):
            self.k = k

        @lox.process(2)
        def scale(self, x):
            return self.k * x

    a, b = Scaler(2), Scaler(3)
    assert a.scale(5) == 10
    for i in range(3):
        a.scale.scatter(i)
        b.scale.scatter(i)
    assert a.scale.gather() == [0, 2, 4]
    assert b.scale.gather() == [0, 3, 6]


def test_workers_see_state_of_first_scatter_of_round():
    box = {"v": 1}

    @lox.process(1)
    def read(_):
        return box["v"]

    read.scatter(0)
    box["v"] = 2          # same round: the workers were forked before
    read.scatter(0)
    assert read.gather() == [1, 1]
    read.scatter(0)       # new round, new workers
    assert read.gather() == [2]


def test_workers_exit_after_gather():
    @lox.process(2)
    def pid(_):
        return os.getpid()

    for i in range(4):
        pid.scatter(i)
    pids = set(pid.gather())
    for p in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(p, 0)        # killed and reaped by the gather's destroy


def test_chaining_from_thread_into_process():
    @lox.thread(2)
    def pair(i):
        return (i, 10)

    @lox.process(2)
    def add(a, b):
        return a + b

    for i in range(3):
        add.scatter(pair.scatter(i))
    assert add.gather() == [10, 11, 12]
    pair.gather()


def test_chaining_from_process_result_is_refused():
    @lox.process(2)
    def f(x):
        return x

    r = f.scatter(1)
    with pytest.raises(TypeError, match="cannot be chained"):
        f.scatter(r)
    assert f.gather() == [1]


def test_inline_mode_runs_in_this_process():
    @lox.process(0)
    def f(i):
        if i == 1:
            raise ValueError("inline")
        return os.getpid()

    f.scatter(0)
    assert f.gather() == [os.getpid()]
    f.scatter(1)
    with pytest.raises(ValueError, match="inline"):
        f.gather()


# --- fork safety -------------------------------------------------------------

FORK_WITH_BUSY_THREADS = r'''
import os, threading, time, lox

held = threading.Lock()
stop = threading.Event()
holding = threading.Event()

def holder():
    # holds a lock (and keeps running Python code) while the pool is created
    with held:
        holding.set()
        while not stop.is_set():
            sum(range(1000))
            time.sleep(0.0005)

def spinner():
    while not stop.is_set():
        sorted(str(i) for i in range(200))

marks = []
os.register_at_fork(after_in_child=lambda: marks.append("child-hook"))

@lox.process(2)
def work(i):
    import colorsys                      # import machinery works (import lock reset)
    t = threading.Thread(target=lambda: None)
    t.start(); t.join()                  # threading works in the worker
    return (i, marks[:], threading.active_count(), colorsys.rgb_to_hsv(0, 0, 0))

threads = [threading.Thread(target=holder)] + [threading.Thread(target=spinner) for _ in range(3)]
for t in threads:
    t.start()
holding.wait()
for round_ in range(3):
    for i in range(4):
        work.scatter(i)
    res = work.gather()
    assert [r[0] for r in res] == [0, 1, 2, 3], res
    assert all(r[1] == ["child-hook"] for r in res), res
    assert all(r[2] == 1 for r in res), res
stop.set()
for t in threads:
    t.join()
print("ok", marks)
'''


def test_fork_while_other_threads_hold_locks_does_not_deadlock(pyrun):
    # in a subprocess with a timeout: a deadlock fails the test instead of hanging
    r = pyrun(FORK_WITH_BUSY_THREADS, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok []"     # the child hook ran in workers only


def test_pool_created_from_a_non_main_thread(pyrun):
    code = (
        "import os, threading, lox\n"
        "@lox.process(2)\n"
        "def f(i):\n"
        "    return (i, threading.current_thread() is threading.main_thread())\n"
        "out = []\n"
        "def run():\n"
        "    for i in range(3): f.scatter(i)\n"
        "    out.extend(f.gather())\n"
        "t = threading.Thread(target=run); t.start(); t.join()\n"
        "print(out)\n"
    )
    r = pyrun(code, timeout=120)
    assert r.returncode == 0, r.stderr
    # after PyOS_AfterFork_Child the forking thread is the worker's main thread
    assert r.stdout.strip() == "[(0, True), (1, True), (2, True)]"


def test_buffered_stdout_is_not_duplicated_by_workers(pyrun):
    code = (
        "import sys, lox\n"
        "sys.stdout.write('once')\n"           # buffered (stdout is a pipe)
        "@lox.process(2)\n"
        "def f(i):\n"
        "    sys.stdout.flush()\n"
        "    return i\n"
        "for i in range(4): f.scatter(i)\n"
        "print(f.gather())\n"
    )
    r = pyrun(code, {"PYTHONUNBUFFERED": ""}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "once[0, 1, 2, 3]\n"


class _NeedsTwoArgs(Exception):
    def __init__(self, a, b):        # pickles, but cannot be rebuilt from args
        super().__init__("%s/%s" % (a, b))


def test_exception_that_cannot_be_unpickled_still_fails_the_gather():
    @lox.process(1)
    def f(_):
        raise _NeedsTwoArgs(1, 2)

    f.scatter(0)
    with pytest.raises(lox.exceptions.LoxError, match="could not be unpickled") as info:
        f.gather()
    assert "_NeedsTwoArgs: 1/2" in str(info.value.__cause__)


def test_unpicklable_exception_is_reported_with_its_traceback():
    @lox.process(1)
    def f(_):
        e = RuntimeError("local")
        e.lock = threading.Lock()     # makes the exception unpicklable
        raise e

    f.scatter(0)
    with pytest.raises(lox.exceptions.LoxError, match="raised in a worker") as info:
        f.gather()
    assert "could not be pickled" in str(info.value.__cause__)


GC_IN_WORKER = r'''
import gc, os, sys, threading, lox

log = sys.argv[1]
gc.disable()                      # keep the cycle below uncollected in the parent

class Holder:
    def __del__(self):
        with open(log, "a") as f:
            f.write("finalized in %d\n" % os.getpid())

def make_garbage():
    h = Holder()
    h.me = h                      # a cycle: only the collector frees it

    @lox.thread(2)
    def t(x):
        return x

    h.pool = t
    for i in range(4):
        t.scatter(i)
    assert t.gather() == [0, 1, 2, 3]   # the pool has live threads now

make_garbage()

@lox.process(2)
def work(i):
    # collects in the worker: objects inherited from the parent (the cycle
    # holding a thread pool whose threads do not exist here) must be left alone
    gc.collect()
    return i

for i in range(4):
    work.scatter(i)
print(work.gather())
gc.enable()
gc.collect()                      # the parent frees the cycle (and the pool) normally
print(open(log).read().split() == ["finalized", "in", str(os.getpid())])
'''


def test_worker_never_finalizes_objects_inherited_from_the_parent(tmp_path):
    import subprocess
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env.pop("LOX_DEBUG", None)
    r = subprocess.run([sys.executable, "-c", GC_IN_WORKER, str(tmp_path / "log")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["[0, 1, 2, 3]", "True"], (r.stdout, r.stderr)


def test_worker_output_is_not_lost(pyrun):
    # stdout is a pipe (block-buffered); workers are killed at the end of the
    # round, so each call's output must be flushed when the call returns
    code = (
        "import lox\n"
        "@lox.process(2)\n"
        "def f(i):\n"
        "    print('worker says %d' % i)\n"
        "    return i\n"
        "for i in range(4): f.scatter(i)\n"
        "print(f.gather())\n"
    )
    r = pyrun(code, {"PYTHONUNBUFFERED": ""}, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert sorted(lines[:-1]) == ["worker says %d" % i for i in range(4)]
    assert lines[-1] == "[0, 1, 2, 3]"


class _Slotted:
    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    @lox.process(2)
    def plus(self, x):
        return self.k + x


def test_methods_of_slotted_instances_pickle_the_instance():
    a, b = _Slotted(10), _Slotted(20)
    a.plus.scatter(1)
    b.plus.scatter(2)
    assert a.plus.gather() == [11, 22]


@lox.thread(2)
def _square(x):
    return x * x


def test_thread_pool_used_inside_a_process_call():
    # the parent's pool (created by this first round) is copied into workers
    # without its threads; a worker starts a thread pool of its own
    for i in range(3):
        _square.scatter(i)
    assert _square.gather() == [0, 1, 4]

    @lox.process(2)
    def job(n):
        for i in range(n):
            _square.scatter(i)
        return _square.gather()

    for n in (2, 3):
        job.scatter(n)
    assert job.gather() == [[0, 1], [0, 1, 4]]
    _square.scatter(5)
    assert _square.gather() == [25]


def test_thread_pool_after_os_fork(pyrun):
    code = (
        "import os, lox\n"
        "@lox.thread(2)\n"
        "def sq(x): return x * x\n"
        "sq.scatter(2); print('parent', sq.gather(), flush=True)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    sq.scatter(5); print('child', sq.gather(), flush=True); os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "sq.scatter(3); print('parent', sq.gather())\n"
    )
    r = pyrun(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["parent [4]", "child [25]", "parent [9]"]
