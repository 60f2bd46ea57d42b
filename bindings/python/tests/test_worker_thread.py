# SPDX-License-Identifier: Apache-2.0
"""lox.thread on liblox's thread pool: every documented behaviour."""

import gc
import sys
import threading
import time

import pytest

import lox
thread_mod = sys.modules["lox.worker.thread"]
from lox.worker import _base


def test_call_is_plain_passthrough():
    @lox.thread(4)
    def foo(x, y):
        return (x * y, threading.get_ident())

    value, ident = foo(3, 4)
    assert value == 12
    assert ident == threading.get_ident()
    assert foo.__name__ == "foo"


@pytest.mark.parametrize("form", ["bare", "n", "call_fn", "call_n_fn", "keyword"])
def test_decorator_forms(form):
    def f(x):
        return x + 1

    if form == "bare":
        w = lox.thread(f)
        assert w.n_workers == 50  # lox's documented default
    elif form == "n":
        w = lox.thread(3)(f)
        assert w.n_workers == 3
    elif form == "call_fn":
        w = lox.worker.thread(f)
    elif form == "call_n_fn":
        w = lox.worker.thread(2)(f)
    else:
        w = lox.thread(max_workers=2)(f)
    for i in range(4):
        w.scatter(i)
    assert w.gather() == [1, 2, 3, 4]


def test_bare_decorator_syntax():
    @lox.thread
    def g(x):
        return -x

    for i in range(3):
        g.scatter(i)
    assert g.gather() == [0, -1, -2]


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), ("4", TypeError), (2.5, TypeError)])
def test_bad_worker_count(bad, exc):
    with pytest.raises(exc):
        lox.thread(bad)


def test_results_in_scatter_order_not_completion_order():
    @lox.thread(5)
    def slow_first(i):
        time.sleep(0.02 * (5 - i))  # later calls finish first
        return i * i

    idx = [slow_first.scatter(i) for i in range(5)]
    assert idx == [0, 1, 2, 3, 4]
    assert slow_first.gather() == [0, 1, 4, 9, 16]


def test_runs_in_parallel():
    # 4 calls meet at a barrier: they only get past it if all 4 run at once.
    barrier = threading.Barrier(4, timeout=20)

    @lox.thread(4)
    def meet(i):
        barrier.wait()
        return threading.get_ident()

    for i in range(4):
        meet.scatter(i)
    idents = meet.gather()
    assert len(set(idents)) == 4
    assert threading.get_ident() not in idents


def test_max_workers_bounds_concurrency():
    lock = threading.Lock()
    state = {"active": 0, "max": 0}
    first_two = threading.Barrier(2, timeout=20)

    @lox.thread(2)
    def work(i):
        with lock:
            state["active"] += 1
            state["max"] = max(state["max"], state["active"])
        if i < 2:
            first_two.wait()   # proves 2 run at once
        time.sleep(0.01)
        with lock:
            state["active"] -= 1
        return i

    for i in range(8):
        work.scatter(i)
    assert work.gather() == list(range(8))
    assert state["max"] == 2


def test_exception_reraised_at_gather_after_round():
    done = []

    @lox.thread(3)
    def f(i):
        if i == 2:
            raise KeyError("bad %d" % i)
        time.sleep(0.01)
        done.append(i)
        return i

    for i in range(5):
        f.scatter(i)          # scatter itself never raises the task's error
    with pytest.raises(KeyError, match="bad 2"):
        f.gather()
    assert sorted(done) == [0, 1, 3, 4]   # the whole round ran
    # the round is consumed: the next round starts empty and works
    assert f.gather() == []
    f.scatter(7)
    assert f.gather() == [7]


def test_first_exception_in_scatter_order_with_note():
    @lox.thread(4)
    def f(i):
        time.sleep(0.01 * (4 - i))
        raise ValueError(i)

    for i in range(4):
        f.scatter(i)
    with pytest.raises(ValueError) as info:
        f.gather()
    assert info.value.args == (0,)
    assert any("3 more" in n for n in getattr(info.value, "__notes__", []))


def test_len_counts_waiting_calls():
    started = threading.Event()
    release = threading.Event()

    @lox.thread(1)
    def f(i):
        if i == 0:
            started.set()
            assert release.wait(20)
        return i

    assert len(f) == 0
    f.scatter(0)
    assert started.wait(20)
    for i in range(1, 4):
        f.scatter(i)
    assert len(f) == 3        # the only worker is busy with call 0
    release.set()
    assert f.gather() == [0, 1, 2, 3]
    assert len(f) == 0


def test_methods_receive_self_and_instances_are_independent():
    class Counter:
        def __init__(self, base):
            self.base = base

        @lox.thread(2)
        def add(self, x):
            return self.base + x

    a, b = Counter(100), Counter(200)
    assert a.add(1) == 101
    for i in range(3):
        a.add.scatter(i)
        b.add.scatter(i * 10)
    assert a.add.gather() == [100, 101, 102]
    assert b.add.gather() == [200, 210, 220]
    assert a.add is a.add                      # one bound worker per instance
    assert isinstance(Counter.add, _base.WorkerBase)


def test_chaining_replaces_scatter_result_by_value():
    @lox.thread(3)
    def foo(x, y):
        time.sleep(0.01)
        return x * y

    @lox.thread(2)
    def bar(a, b):
        return a + b

    for i in range(5):
        foo_res = foo.scatter(i, i + 1)
        bar.scatter(foo_res, 10)
    assert bar.gather() == [10, 12, 16, 22, 30]
    assert foo.gather() == [0, 2, 6, 12, 20]


def test_chaining_unpacks_tuples_and_passes_kwargs():
    @lox.thread(2)
    def pair(i):
        return (i, i + 1)

    @lox.thread(2)
    def add3(a, b, c=0):
        return a + b + c

    for i in range(3):
        add3.scatter(pair.scatter(i), c=100)
    assert add3.gather() == [101, 103, 105]
    pair.gather()


def test_disable_auto_unpacking():
    @lox.thread(2)
    def pair(i):
        return (i, -i)

    @lox.thread(2)
    def ident(t):
        return t

    lox.worker.disable_auto_unpacking()
    try:
        ident.scatter(pair.scatter(3))
        assert ident.gather() == [(3, -3)]
    finally:
        lox.worker.enable_auto_unpacking()
    pair.gather()


def test_chain_of_a_failed_call_fails_too():
    @lox.thread(2)
    def bad(i):
        raise RuntimeError("upstream %d" % i)

    @lox.thread(2)
    def down(x):
        return x

    down.scatter(bad.scatter(1))
    with pytest.raises(RuntimeError, match="upstream 1"):
        down.gather()
    with pytest.raises(RuntimeError, match="upstream 1"):
        bad.gather()


def test_inline_mode_runs_in_caller_at_scatter():
    seen = []

    @lox.thread(0)
    def f(i):
        seen.append(i)
        if i == 1:
            raise ValueError("inline")
        return threading.get_ident()

    f.scatter(0)
    assert seen == [0]        # already ran, before gather
    f.scatter(1)
    f.scatter(2)
    with pytest.raises(ValueError, match="inline"):
        f.gather()
    f.scatter(3)
    assert f.gather() == [threading.get_ident()]


def test_gather_tqdm_bar_error_is_raised():
    class Broken:
        total = 3

        def update(self, n):
            raise OSError("bar broke")

    @lox.thread(2)
    def f(i):
        return i

    for i in range(3):
        f.scatter(i)
    with pytest.raises(OSError, match="bar broke"):
        f.gather(tqdm=Broken())
    assert f.gather() == []


def test_gather_inside_own_task_is_an_error():
    @lox.thread(2)
    def f(i):
        if i == 0:
            return f.gather()
        return i

    f.scatter(0)
    with pytest.raises(lox.exceptions.LoxStateError):
        f.gather()


def test_scatter_from_many_threads():
    @lox.thread(4)
    def f(i):
        return i

    def producer(base):
        for i in range(50):
            f.scatter(base + i)

    ts = [threading.Thread(target=producer, args=(k * 1000,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    res = f.gather()
    assert sorted(res) == sorted(k * 1000 + i for k in range(4) for i in range(50))


def test_nothing_stays_registered_and_pool_is_freed():
    @lox.thread(2)
    def f(i):
        if i % 2:
            raise ValueError(i)
        return i

    before = set(thread_mod._jobs)
    for i in range(10):
        f.scatter(i)
    with pytest.raises(ValueError):
        f.gather()
    assert set(thread_mod._jobs) == before
    f.scatter(0)   # never gathered: dropped when the pool goes away
    pool = f._pool
    fin = pool.finalizer
    del f, pool
    gc.collect()
    assert not fin.alive
    assert set(thread_mod._jobs) == before


def test_ctrl_c_interrupts_a_waiting_gather(pyrun):
    # gather waits in slices, so KeyboardInterrupt (SIGINT) is raised while
    # calls are still running
    code = (
        "import os, signal, threading, time, lox\n"
        "release = threading.Event()\n"
        "@lox.thread(1)\n"
        "def f():\n"
        "    release.wait(60)\n"
        "    return 1\n"
        "f.scatter()\n"
        "threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    f.gather()\n"
        "    print('not interrupted')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "release.set()\n"
        "print(f.gather())\n"
    )
    r = pyrun(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["interrupted", "[1]"]


class _Slotted:
    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    @lox.thread(2)
    def times(self, x):
        return self.k * x


def test_methods_of_slotted_instances_share_the_class_pool():
    a, b = _Slotted(2), _Slotted(3)
    assert a.times(5) == 10
    a.times.scatter(1)
    b.times.scatter(1)
    # One class-level worker behind both (comparing len() of the two would
    # race with the workers taking the calls).
    assert a.times._worker is b.times._worker
    assert a.times.gather() == [2, 3]     # one round for all slotted instances
    assert b.times.gather() == []


def test_scatter_result_is_an_int_index_that_pickles_plainly():
    import pickle

    @lox.thread(2)
    def f(x):
        return x

    r = f.scatter(1)
    assert isinstance(r, int) and r == 0
    back = pickle.loads(pickle.dumps([r]))
    assert back == [0] and type(back[0]) is int
    assert f.gather() == [1]
    assert repr(f).startswith("<lox.thread(2) ")
