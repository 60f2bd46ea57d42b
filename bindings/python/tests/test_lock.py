# SPDX-License-Identifier: Apache-2.0
"""lox.lock over liblox: Lock, LightSwitch (native and foreign lock), RWLock,
QLock, IndexSemaphore. Mutual exclusion is checked with counters, waits
with generous deadlines only."""

import threading
import time

import pytest

import lox
from lox.lock import Lock, LightSwitch, RWLock, QLock, IndexSemaphore

DEADLINE = 10.0   # generous: only reached when something is broken


def wait_until(pred, what="condition"):
    end = time.monotonic() + DEADLINE
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.001)


def run_threads(target, n, *more):
    """Runs ``target(i)`` for i in range(n) in n threads at once, and each
    further (target, n) pair of ``more`` alike; every thread must end within
    the deadline, and the first exception raised in one is raised here."""
    errors = []

    def wrap(fn, i):
        try:
            fn(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    groups = [(target, n)] + [tuple(g) for g in more]
    ts = [threading.Thread(target=wrap, args=(fn, i)) for fn, count in groups for i in range(count)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(DEADLINE * 3)
        assert not t.is_alive(), "thread hung"
    if errors:
        raise errors[0]


class Occupancy:
    """Counts threads inside a region; records the most ever seen."""

    def __init__(self):
        self._m = threading.Lock()
        self.inside = 0
        self.max = 0
        self.total = 0

    def enter(self):
        with self._m:
            self.inside += 1
            self.total += 1
            self.max = max(self.max, self.inside)
            return self.inside

    def leave(self):
        with self._m:
            self.inside -= 1


def test_public_names():
    assert lox.LightSwitch is LightSwitch
    assert lox.RWLock is RWLock and lox.QLock is QLock and lox.IndexSemaphore is IndexSemaphore
    assert set(lox.lock.__all__) == {"LightSwitch", "RWLock", "QLock", "IndexSemaphore"}


# --- Lock --------------------------------------------------------------------------


def test_lock_threading_api():
    lk = Lock()
    assert not lk.locked()
    assert lk.acquire() is True
    assert lk.locked()
    assert lk.acquire(False) is False
    assert lk.acquire(timeout=0.01) is False
    assert lk.acquire(blocking=True, timeout=0) is False
    lk.release()
    assert not lk.locked()
    with pytest.raises(RuntimeError):
        lk.release()
    with pytest.raises(ValueError):
        lk.acquire(False, 1.0)
    with pytest.raises(ValueError):
        lk.acquire(timeout=-2)
    with lk as got:
        assert got is True and lk.locked()
    assert not lk.locked()
    assert "unlocked" in repr(lk)


def test_lock_released_by_another_thread():
    lk = Lock()
    lk.acquire()
    t = threading.Thread(target=lk.release)
    t.start()
    t.join()
    assert not lk.locked()


def test_lock_wait_releases_gil():
    # The waiter blocks inside liblox; this thread must keep running Python
    # code to release the lock. If the wait held the GIL, the release could
    # only happen after the waiter's 5 s timeout, and it would return False.
    lk = Lock()
    lk.acquire()
    result = []
    started = threading.Event()

    def waiter():
        started.set()
        result.append(lk.acquire(timeout=DEADLINE))

    t = threading.Thread(target=waiter)
    t.start()
    started.wait()
    sum(range(10000))
    lk.release()
    t.join()
    assert result == [True]


def assert_mutual_exclusion(lock, threads, rounds):
    """``threads`` threads each enter ``lock`` ``rounds`` times, inviting a
    thread switch inside: never two inside, and no update lost."""
    occ = Occupancy()
    shared = [0]

    def work(i):
        for _ in range(rounds):
            with lock:
                occ.enter()
                v = shared[0]
                time.sleep(0)           # invite a switch inside the critical section
                shared[0] = v + 1
                occ.leave()

    run_threads(work, threads)
    assert shared[0] == threads * rounds
    assert occ.max == 1


def test_lock_mutual_exclusion():
    assert_mutual_exclusion(Lock(), 6, 300)


# --- LightSwitch -----------------------------------------------------------------------

LOCKS = [pytest.param(Lock, id="native"), pytest.param(threading.Lock, id="threading")]


@pytest.mark.parametrize("make_lock", LOCKS)
def test_light_switch_first_in_last_out(make_lock):
    lk = make_lock()
    switch = LightSwitch(lk)
    assert switch.lock is lk
    assert switch.counter == 0 and len(switch) == 0
    assert switch.acquire() is True
    assert lk.locked() and switch.counter == 1
    assert switch.acquire(timeout=0) is True
    assert len(switch) == 2
    switch.release()
    assert lk.locked() and switch.counter == 1
    switch.release()
    assert not lk.locked() and switch.counter == 0
    with pytest.raises(ValueError):
        switch.release()
    assert switch.counter == 0 and not lk.locked()
    with switch as entered:
        assert entered is switch and switch.counter == 1 and lk.locked()
    assert switch.counter == 0 and not lk.locked()


@pytest.mark.parametrize("make_lock", LOCKS)
def test_light_switch_timeout_when_lock_held(make_lock):
    lk = make_lock()
    switch = LightSwitch(lk)
    lk.acquire()                       # the janitor is inside
    assert switch.acquire(timeout=0.02) is False
    assert switch.acquire(timeout=0) is False
    assert switch.counter == 0
    lk.release()
    assert switch.acquire(timeout=DEADLINE) is True
    assert switch.counter == 1
    switch.release()
    assert not lk.locked()


@pytest.mark.parametrize("make_lock", LOCKS)
def test_light_switch_later_entrants_wait_behind_first(make_lock):
    lk = make_lock()
    switch = LightSwitch(lk)
    lk.acquire()
    got = []
    first = threading.Thread(target=lambda: got.append(switch.acquire()))
    first.start()
    # Whether or not `first` already waits, nobody gets in while lk is held.
    assert switch.acquire(timeout=0.05) is False
    assert switch.counter == 0 and not got
    lk.release()
    first.join(DEADLINE)
    assert got == [True] and switch.counter == 1
    assert switch.acquire(timeout=DEADLINE) is True and switch.counter == 2
    switch.release()
    switch.release()
    assert not lk.locked()


@pytest.mark.parametrize("make_lock", LOCKS)
def test_light_switch_janitor_waits_for_empty_room(make_lock):
    lk = make_lock()
    switch = LightSwitch(lk)
    events = []
    n = 4
    for _ in range(n):
        switch.acquire()
    seen = []

    def janitor():
        with lk:
            seen.append(switch.counter)
            events.append("janitor")

    t = threading.Thread(target=janitor)
    t.start()
    for i in range(n):
        events.append("exit%d" % i)
        switch.release()
    t.join(DEADLINE)
    assert seen == [0]
    assert events == ["exit%d" % i for i in range(n)] + ["janitor"]


@pytest.mark.parametrize("make_lock", LOCKS)
def test_light_switch_contended_members_and_janitors(make_lock):
    lk = make_lock()
    switch = LightSwitch(lk)
    members = Occupancy()
    janitors = Occupancy()
    bad = []

    def member(i):
        for _ in range(150):
            with switch:
                members.enter()
                if janitors.inside:
                    bad.append("member saw janitor")
                time.sleep(0)
                members.leave()

    def janitor(i):
        for _ in range(40):
            with lk:
                janitors.enter()
                if members.inside or switch.counter:
                    bad.append("janitor saw members")
                time.sleep(0)
                janitors.leave()

    run_threads(member, 4, (janitor, 2))
    assert not bad
    assert janitors.max == 1
    assert members.total == 600 and janitors.total == 80
    assert switch.counter == 0 and not lk.locked()


def test_light_switch_native_outlives_gc_order():
    # The switch borrows the lox_lock: whatever order the garbage collector
    # finalizes them in, the lock is destroyed after the switch.
    import gc
    order = []
    for first in ("lock", "switch"):
        lk = Lock()
        switch = LightSwitch(lk)
        switch.acquire()
        for name, h in (("lock", lk._h), ("switch", switch._h)):
            real = h._destroy
            h._destroy = (lambda real, name: lambda p: (order.append(name), real(p)))(real, name)
        del h, real
        # finalize in the wrong order on purpose, then let the collector run
        (lk._h if first == "lock" else switch._h).close()
        cycle = [lk, switch]
        cycle.append(cycle)
        del lk, switch, cycle
        gc.collect()
        assert order == ["switch", "lock"], first
        del order[:]


def test_light_switch_rejects():
    with pytest.raises(NotImplementedError):
        LightSwitch(threading.Lock(), multiprocessing=True)
    with pytest.raises(TypeError):
        LightSwitch(object())


# --- RWLock --------------------------------------------------------------------------


def test_rw_lock_readers_share_writer_excludes():
    rw_lock = RWLock()
    assert rw_lock.read_counter == 0 and len(rw_lock) == 0
    assert rw_lock.acquire("r") is True
    assert rw_lock.acquire("R", timeout=0) is True
    assert rw_lock.read_counter == 2 and len(rw_lock) == 2
    assert rw_lock.acquire("w", timeout=0.02) is False
    rw_lock.release("r")
    assert rw_lock.acquire("w", timeout=0) is False
    rw_lock.release("r")
    assert len(rw_lock) == 0
    assert rw_lock.acquire("w", timeout=0) is True
    assert rw_lock.acquire("r", timeout=0.02) is False
    assert rw_lock.acquire("w", timeout=0) is False
    rw_lock.release("w")
    assert rw_lock.acquire("r", timeout=0) is True
    rw_lock.release("r")


def test_rw_lock_flags_and_misuse():
    rw_lock = RWLock()
    with pytest.raises(ValueError):
        rw_lock.acquire("x")
    with pytest.raises(ValueError):
        rw_lock.acquire(1)
    with pytest.raises(ValueError):
        rw_lock.release("r")                 # not held
    with pytest.raises(ValueError):
        rw_lock.release("w")
    rw_lock.acquire("r")
    with pytest.raises(ValueError):
        rw_lock.release("w")                 # held by a reader, not a writer
    rw_lock.release("r")


def test_rw_lock_context_manager_and_timeout():
    rw_lock = RWLock()
    with rw_lock("r") as x:
        assert x is rw_lock and len(rw_lock) == 1
        with rw_lock("r"):
            assert len(rw_lock) == 2
        ran = []
        with pytest.raises(lox.Timeout):
            with rw_lock("w", timeout=0.02):
                ran.append(1)
        assert ran == [] and len(rw_lock) == 1
    with rw_lock("w"):
        assert rw_lock.acquire("r", timeout=0) is False
    assert len(rw_lock) == 0 and rw_lock.acquire("w", timeout=0)
    rw_lock.release("w")


def test_rw_lock_waiting_writer_blocks_new_readers():
    rw_lock = RWLock()
    rw_lock.acquire("r")
    wrote = []
    writer = threading.Thread(target=lambda: (rw_lock.acquire("w"), wrote.append(len(rw_lock)),
                                              rw_lock.release("w")))
    writer.start()

    # A new reader gets in until the writer starts waiting, then never.
    def reader_blocked():
        if rw_lock.acquire("r", timeout=0):
            rw_lock.release("r")
            return False
        return True

    wait_until(reader_blocked, "the writer to wait")
    assert rw_lock.acquire("r", timeout=0.02) is False
    assert wrote == []
    rw_lock.release("r")                     # the last reader leaves: the writer goes
    writer.join(DEADLINE)
    assert wrote == [0]
    assert rw_lock.acquire("r", timeout=0) is True
    rw_lock.release("r")


def test_rw_lock_contended():
    rw_lock = RWLock()
    readers = Occupancy()
    writers = Occupancy()
    bad = []
    value = [0]

    def reader(i):
        for _ in range(150):
            with rw_lock("r"):
                readers.enter()
                if writers.inside:
                    bad.append("reader with writer")
                time.sleep(0)
                readers.leave()

    def writer(i):
        for _ in range(60):
            with rw_lock("w"):
                writers.enter()
                if readers.inside or writers.inside != 1:
                    bad.append("writer not alone")
                v = value[0]
                time.sleep(0)
                value[0] = v + 1
                writers.leave()

    run_threads(reader, 4, (writer, 2))
    assert not bad
    assert value[0] == 120 and writers.max == 1
    assert len(rw_lock) == 0


# --- QLock --------------------------------------------------------------------------


def test_qlock_basics():
    q = QLock()
    assert not q.locked and q.locked() is False and len(q) == 0
    assert q.acquire() is True
    assert q.locked and q.locked() is True and q.locked == True  # noqa: E712
    assert q.acquire(timeout=0.02) is False
    assert q.acquire(timeout=0) is False
    assert len(q) == 0                  # a timed-out acquire leaves the line
    q.release()
    assert not q.locked
    with pytest.raises(ValueError):
        q.release()
    with q as x:
        assert x is q and q.locked
    assert not q.locked


def test_qlock_fifo_order():
    q = QLock()
    q.acquire()
    order = []

    def waiter(i):
        q.acquire()
        order.append(i)
        q.release()

    ts = []
    for i in range(6):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        ts.append(t)
        wait_until(lambda: len(q) == i + 1, "waiter %d in line" % i)
    q.release()
    for t in ts:
        t.join(DEADLINE)
    assert order == list(range(6))
    assert len(q) == 0 and not q.locked


def test_qlock_timed_out_waiter_leaves_line():
    q = QLock()
    q.acquire()
    order = []
    results = {}

    def waiter(name, timeout):
        ok = q.acquire(timeout=timeout)
        results[name] = ok
        if ok:
            order.append(name)
            q.release()

    a = threading.Thread(target=waiter, args=("a", -1))
    a.start()
    wait_until(lambda: len(q) == 1)
    b = threading.Thread(target=waiter, args=("b", 0.05))
    b.start()
    b.join(DEADLINE)
    assert results == {"b": False}
    c = threading.Thread(target=waiter, args=("c", None))
    c.start()
    wait_until(lambda: len(q) == 2)
    q.release()
    a.join(DEADLINE)
    c.join(DEADLINE)
    assert order == ["a", "c"]


def test_qlock_mutual_exclusion():
    assert_mutual_exclusion(QLock(), 5, 200)


# --- IndexSemaphore --------------------------------------------------------------------


def test_index_semaphore_basics():
    semaphore = IndexSemaphore(3)
    assert [semaphore.acquire() for _ in range(3)] == [0, 1, 2]
    assert semaphore.acquire(timeout=0.02) is None
    assert semaphore.acquire(timeout=0) is None
    semaphore.release(1)
    assert semaphore.acquire(timeout=0) == 1
    for i in range(3):
        semaphore.release(i)
    with semaphore() as i:
        assert i == 0
        with semaphore(timeout=None) as j:
            assert j == 1
    assert semaphore.acquire(timeout=0) == 0
    semaphore.release(0)


def test_index_semaphore_timeout_context_yields_none():
    semaphore = IndexSemaphore(1)
    with semaphore(timeout=None) as index1:
        assert index1 == 0
        with semaphore(timeout=0.05) as index2:
            assert index2 is None
        # leaving the inner block released nothing
        assert semaphore.acquire(timeout=0) is None
    assert semaphore.acquire(timeout=0) == 0
    semaphore.release(0)


def test_index_semaphore_errors():
    with pytest.raises(ValueError):
        IndexSemaphore(0)
    with pytest.raises(ValueError):
        IndexSemaphore(-1)
    with pytest.raises(TypeError):
        IndexSemaphore(1.5)
    semaphore = IndexSemaphore(2)
    with pytest.raises(ValueError):
        semaphore.release(0)                  # never acquired
    i = semaphore.acquire()
    semaphore.release(i)
    with pytest.raises(ValueError):
        semaphore.release(i)                  # double release: lox corrupts, we refuse
    assert [semaphore.acquire(timeout=0) for _ in range(3)] == [0, 1, None]
    with pytest.raises(ValueError):
        semaphore.release(2)                  # out of range
    with pytest.raises(ValueError):
        semaphore.release(-1)
    with pytest.raises(ValueError):
        semaphore.acquire(timeout=-1)         # queue-style timeout, as lox's acquire


def test_index_semaphore_exception_in_block_releases():
    semaphore = IndexSemaphore(1)
    with pytest.raises(KeyError):
        with semaphore() as i:
            assert i == 0
            raise KeyError("boom")
    assert semaphore.acquire(timeout=0) == 0


def test_index_semaphore_len_is_blocked_waiters():
    semaphore = IndexSemaphore(1)
    semaphore.acquire()
    assert len(semaphore) == 0
    got = []
    t = threading.Thread(target=lambda: got.append(semaphore.acquire(timeout=DEADLINE)))
    t.start()
    wait_until(lambda: len(semaphore) == 1, "a blocked acquirer")
    semaphore.release(0)
    t.join(DEADLINE)
    assert got == [0] and len(semaphore) == 0


def test_index_semaphore_contended_unique_indices():
    n_res = 4
    semaphore = IndexSemaphore(n_res)
    in_use = [0] * n_res
    guard = threading.Lock()
    bad = []
    occ = Occupancy()

    def work(i):
        for _ in range(60):
            with semaphore() as idx:
                occ.enter()
                with guard:
                    in_use[idx] += 1
                    if in_use[idx] != 1:
                        bad.append(idx)
                time.sleep(0)
                with guard:
                    in_use[idx] -= 1
                occ.leave()

    run_threads(work, 10)
    assert not bad
    assert occ.max <= n_res and occ.total == 600
    assert [semaphore.acquire(timeout=0) for _ in range(n_res)] == list(range(n_res))
