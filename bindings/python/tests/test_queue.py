# SPDX-License-Identifier: Apache-2.0
"""lox.queue over liblox: Announcement and Funnel, including the ownership of
the Python items carried as void* (nothing leaks, nothing is freed early)."""

import gc
import queue
import threading
import time
import weakref

import pytest

import lox
from lox.queue import Announcement, Funnel

DEADLINE = 10.0


class Item:
    """A put item we can watch die (weakref)."""

    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return "Item(%r)" % (self.v,)


def put_watched(ann, values):
    """Puts an Item of each value into ``ann``; returns a weak reference to
    each (this function keeps no reference to the items)."""
    refs = []
    for v in values:
        it = Item(v)
        refs.append(weakref.ref(it))
        ann.put(it)
    return refs


def collected(refs):
    gc.collect()
    return [r() for r in refs if r() is not None]


def registry_empty(ann):
    gc.collect()
    return ann._group.items == {}


def join_all(ts):
    for t in ts:
        t.join(DEADLINE * 3)
        assert not t.is_alive(), "thread hung"


def test_public_names():
    assert lox.Announcement is Announcement and lox.Funnel is Funnel
    assert lox.SubscribeFinalizedError is lox.exceptions.SubscribeFinalizedError
    assert lox.FunnelPutTopError is lox.exceptions.FunnelPutTopError
    assert lox.queue.SubscribeFinalizedError is lox.SubscribeFinalizedError
    assert lox.queue.FunnelPutTopError is lox.FunnelPutTopError


# --- Announcement: delivery -----------------------------------------------------------


def test_announcement_every_subscriber_gets_every_item_in_order():
    ann = Announcement()
    foo_q = ann.subscribe()
    bar_q = ann.subscribe()
    assert foo_q is not bar_q and isinstance(foo_q, Announcement)
    for x in range(5):
        ann.put(x)
    assert foo_q.qsize() == 5 and not foo_q.empty() and not foo_q.full()
    assert [foo_q.get() for _ in range(5)] == list(range(5))
    assert [bar_q.get(timeout=1) for _ in range(5)] == list(range(5))
    assert foo_q.empty() and foo_q.qsize() == 0
    assert ann.empty()                  # the putter does not receive its own items
    assert registry_empty(ann)


def test_announcement_len_counts_subscribers_like_lox():
    ann = Announcement()
    assert len(ann) == 1                # lox: the creating Announcement subscribes itself
    a = ann.subscribe()
    b = a.subscribe()                   # any member can subscribe more
    assert len(ann) == len(a) == len(b) == 3
    ann.unsubscribe(b)
    assert len(ann) == 2
    clone = Announcement.clone(ann)
    assert len(clone) == 2              # a clone is not a subscriber


def test_announcement_many_to_many():
    ann = Announcement()
    a = ann.subscribe()
    b = ann.subscribe()
    a.put("from a")
    assert ann.get(timeout=1) == "from a"   # the top receives its subscribers' puts
    assert b.get(timeout=1) == "from a"
    with pytest.raises(queue.Empty):
        a.get(block=False)              # not to itself


def test_announcement_lox_many_to_many_example():
    # lox 0.6: subscribe() returns an Announcement, so queues talk to queues;
    # the creating Announcement is a member (liblox's create handle).
    ann = Announcement()
    foo = ann.subscribe()
    bar = ann.subscribe()
    assert len(ann) == 3
    foo.put(42)
    assert ann.get() == 42
    assert bar.get(timeout=1) == 42
    assert foo.empty()                  # not to itself
    bar.put("back")
    assert ann.get(block=False) == "back" and foo.get(block=False) == "back"
    ann.unsubscribe(ann)                # the creator may leave, as in lox
    assert len(foo) == 2
    foo.put("late")
    assert bar.get(block=False) == "late"
    with pytest.raises(queue.Empty):
        ann.get(block=False)
    assert registry_empty(ann)


SIZE_MAX = 2 ** 64 - 1


@pytest.mark.parametrize("maxsize", [SIZE_MAX, SIZE_MAX // 2, SIZE_MAX + 2, 2 ** 70])
@pytest.mark.parametrize("backlog", [SIZE_MAX, SIZE_MAX // 2, 2 ** 64 + 1])
def test_announcement_huge_maxsize_and_backlog_do_not_wrap(maxsize, backlog):
    # Bounds beyond size_t / long long are clamped, never wrapped (2**64 + 1
    # would become a bound of 1, 2**64 - 1 a backlog of -1, that is none).
    ann = Announcement(maxsize=maxsize, backlog=backlog)
    a = ann.subscribe(maxsize=maxsize)
    for x in range(3):
        a.put(x, block=False)           # the creator's queue is not bounded at 1
    assert [ann.get(block=False) for _ in range(3)] == [0, 1, 2]
    assert not ann.full() and a.empty()
    assert list(ann.backlog) == [0, 1, 2]
    late = ann.subscribe(maxsize=maxsize)
    assert [late.get(block=False) for _ in range(3)] == [0, 1, 2]
    ann.finalize()
    assert registry_empty(ann)


def test_announcement_get_empty_and_timeouts():
    ann = Announcement()
    a = ann.subscribe()
    with pytest.raises(queue.Empty):
        a.get(block=False)
    with pytest.raises(queue.Empty):
        a.get_nowait()
    with pytest.raises(queue.Empty):
        a.get(timeout=0.02)
    with pytest.raises(queue.Empty):
        a.get(timeout=0)
    with pytest.raises(ValueError):
        a.get(timeout=-1)
    with pytest.raises(ValueError):
        ann.put(1, timeout=-1)
    assert registry_empty(ann)          # the failed put left nothing behind


def test_announcement_blocking_get_releases_gil():
    ann = Announcement()
    a = ann.subscribe()
    got = []
    started = threading.Event()

    def getter():
        started.set()
        try:
            got.append(a.get(timeout=DEADLINE))
        except queue.Empty:
            got.append("empty")

    t = threading.Thread(target=getter)
    t.start()
    started.wait()
    ann.put("hello")                    # needs the GIL while the getter waits
    t.join(DEADLINE)
    assert got == ["hello"]


def test_announcement_maxsize_all_or_none():
    ann = Announcement(maxsize=1)
    assert ann.maxsize == 1
    a = ann.subscribe()
    b = ann.subscribe()
    ann.put(1)
    assert a.full() and b.full()
    assert b.get() == 1
    with pytest.raises(queue.Full):
        ann.put(2, timeout=0.02)        # a is full: nobody gets 2
    with pytest.raises(queue.Full):
        ann.put(2, block=False)
    with pytest.raises(queue.Full):
        ann.put_nowait(2)
    assert b.empty() and a.qsize() == 1
    assert a.get() == 1
    ann.put(3)
    assert a.get() == 3 and b.get() == 3
    assert registry_empty(ann)


def test_announcement_put_waits_for_room():
    ann = Announcement(maxsize=1)
    a = ann.subscribe()
    ann.put("x")
    done = []
    t = threading.Thread(target=lambda: (ann.put("y", timeout=DEADLINE), done.append(1)))
    t.start()
    assert a.get(timeout=DEADLINE) == "x"
    assert a.get(timeout=DEADLINE) == "y"
    t.join(DEADLINE)
    assert done == [1]


def test_announcement_subscribe_maxsize_override():
    ann = Announcement(maxsize=1)
    big = ann.subscribe(maxsize=3)
    unbounded = ann.subscribe(maxsize=0)
    default = ann.subscribe()
    ann.put(1)
    default.get()
    ann.put(2)
    default.get()
    ann.put(3)
    assert big.full() and not unbounded.full() and unbounded.qsize() == 3
    with pytest.raises(queue.Full):
        ann.put(4, timeout=0)
    assert [big.get() for _ in range(3)] == [1, 2, 3]
    assert [unbounded.get() for _ in range(3)] == [1, 2, 3]
    default.get()
    small = Announcement().subscribe(maxsize=2)
    assert small.maxsize == 0           # the group's default stays
    with pytest.raises(NotImplementedError):
        ann.subscribe(q=queue.Queue())
    with pytest.raises(ValueError):
        ann.subscribe(timeout=-1)


# --- Announcement: backlog, finalize, unsubscribe, clone ---------------------------------


def test_announcement_no_backlog_late_subscriber_misses():
    ann = Announcement()
    assert ann.backlog is None
    ann.put(1)
    late = ann.subscribe()
    with pytest.raises(queue.Empty):
        late.get(block=False)
    assert registry_empty(ann)


@pytest.mark.parametrize("backlog", [0, -3])
def test_announcement_unbounded_backlog(backlog):
    ann = Announcement(backlog=backlog)
    foo_q = ann.subscribe()
    for x in [1, 2, 3, 4, 5]:
        ann.put(x)
    assert list(ann.backlog) == [1, 2, 3, 4, 5]
    bar_q = ann.subscribe()
    ann.finalize()
    assert ann.backlog is None and ann.final
    assert [foo_q.get(timeout=1) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert [bar_q.get(timeout=1) for _ in range(5)] == [1, 2, 3, 4, 5]
    with pytest.raises(lox.SubscribeFinalizedError):
        ann.subscribe()
    ann.put(6)                          # existing subscribers still receive
    assert foo_q.get(timeout=1) == 6 and bar_q.get(timeout=1) == 6
    assert registry_empty(ann)


def test_announcement_circular_backlog():
    ann = Announcement(backlog=2)
    for x in range(5):
        ann.put(x)
    assert list(ann.backlog) == [3, 4]
    late = ann.subscribe()
    assert [late.get(block=False), late.get(block=False)] == [3, 4]
    with pytest.raises(queue.Empty):
        late.get(block=False)
    assert lox._native.lib.lox_announcement_backlog(ann._h.ptr) == 2


def test_announcement_backlog_larger_than_maxsize():
    ann = Announcement(backlog=0)
    for x in range(3):
        ann.put(x)
    with pytest.raises(queue.Full):
        ann.subscribe(maxsize=2)
    ok = ann.subscribe(maxsize=3)
    assert [ok.get() for _ in range(3)] == [0, 1, 2]
    assert len(ann) == 2


def test_announcement_finalize_then_subscribe_raises():
    ann = Announcement()
    ann.finalize()
    ann.finalize()                      # twice is fine
    with pytest.raises(lox.SubscribeFinalizedError):
        ann.subscribe()


def test_announcement_unsubscribe():
    ann = Announcement()
    a = ann.subscribe()
    b = ann.subscribe()
    ann.put(1)
    ann.unsubscribe(a)
    ann.put(2)
    assert a.get(block=False) == 1      # what it had stays gettable
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        a.get(timeout=DEADLINE)         # nothing more comes (at once: it is closed)
    assert time.monotonic() - t0 < DEADLINE / 2
    assert [b.get(), b.get()] == [1, 2]
    a.put(3)                            # an unsubscribed member may still put
    assert b.get() == 3 and ann.get() == 3
    with pytest.raises(ValueError):
        ann.unsubscribe(a)              # no longer a subscriber
    with pytest.raises(ValueError):
        ann.unsubscribe(queue.Queue())
    with pytest.raises(ValueError):
        ann.unsubscribe(Announcement().subscribe())   # another group's member
    assert registry_empty(ann)


def test_announcement_clone():
    ann = Announcement(backlog=0)
    a = ann.subscribe()
    c = Announcement.clone(ann)
    assert isinstance(c, Announcement)
    c.put("c")
    assert ann.get(block=False) == "c" and a.get(block=False) == "c"
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        c.get(timeout=DEADLINE)         # a clone receives nothing (at once)
    assert time.monotonic() - t0 < DEADLINE / 2
    late = c.subscribe()
    assert late.get(block=False) == "c"   # shares the backlog
    with pytest.raises(NotImplementedError):
        Announcement.clone(ann, queue.Queue())
    c.finalize()
    with pytest.raises(lox.SubscribeFinalizedError):
        ann.subscribe()


def test_announcement_threads_fifo_per_receiver():
    ann = Announcement(maxsize=16)
    n_items, n_subs = 400, 3
    subs = [ann.subscribe() for _ in range(n_subs)]
    results = [[] for _ in range(n_subs)]

    def consume(i):
        for _ in range(n_items):
            results[i].append(subs[i].get(timeout=DEADLINE))

    ts = [threading.Thread(target=consume, args=(i,)) for i in range(n_subs)]
    for t in ts:
        t.start()
    for x in range(n_items):
        ann.put(x)
    join_all(ts)
    for r in results:
        assert r == list(range(n_items))
    assert registry_empty(ann)


def test_announcement_concurrent_putters_and_subscribers():
    ann = Announcement(maxsize=8)
    n_put, n_each = 3, 150
    subs = [ann.subscribe() for _ in range(2)]
    got = [[] for _ in subs]
    refs = []
    refs_lock = threading.Lock()

    def producer(p):
        for k in range(n_each):
            it = Item((p, k))
            with refs_lock:
                refs.append(weakref.ref(it))
            ann.put(it, timeout=DEADLINE)

    def consumer(i):
        for _ in range(n_put * n_each):
            got[i].append(subs[i].get(timeout=DEADLINE).v)

    def churn(_):
        for k in range(60):             # subscribers come and go while puts run
            s = ann.subscribe(maxsize=0)
            if k % 2:
                ann.unsubscribe(s)      # keeps what it got until it dies
            del s                       # dies holding items: they are released

    consumers = [threading.Thread(target=consumer, args=(i,)) for i in range(2)]
    producers = [threading.Thread(target=producer, args=(p,)) for p in range(n_put)]
    churner = threading.Thread(target=churn, args=(0,))
    for t in consumers + producers + [churner]:
        t.start()
    join_all(producers + [churner] + consumers)
    for g in got:
        for p in range(n_put):           # each producer's items arrive in its order
            assert [k for (q, k) in g if q == p] == list(range(n_each))
    assert len(ann) == 3
    assert collected(refs) == []
    assert registry_empty(ann)


# --- Announcement: ownership of the items -----------------------------------------------


def test_announcement_items_released_after_every_get():
    ann = Announcement()
    a, b = ann.subscribe(), ann.subscribe()
    it = Item(1)
    r = weakref.ref(it)
    ann.put(it)
    del it
    x = a.get()
    del x
    assert collected([r]) != []         # b still holds a copy
    assert b.get().v == 1
    assert collected([r]) == []
    assert registry_empty(ann)


def test_announcement_items_released_when_subscriber_dies():
    ann = Announcement()
    a, b = ann.subscribe(), ann.subscribe()
    refs = put_watched(ann, range(3))
    assert [a.get().v for _ in range(3)] == [0, 1, 2]
    assert len(collected(refs)) == 3    # still in b's queue
    del b                               # b dies with 3 items: they are released
    assert collected(refs) == []
    assert len(ann) == 2
    assert registry_empty(ann)


def test_announcement_items_released_when_unsubscribed_member_dies():
    ann = Announcement()
    a = ann.subscribe()
    it = Item("u")
    r = weakref.ref(it)
    ann.put(it)
    del it
    ann.unsubscribe(a)
    assert collected([r]) != []         # still gettable from a
    del a
    assert collected([r]) == []


def test_announcement_subscriber_in_a_cycle_is_drained():
    ann = Announcement()
    a = ann.subscribe()
    a.me = a                            # only the cyclic collector can free it
    it = Item("c")
    r = weakref.ref(it)
    ann.put(it)
    del it, a
    assert collected([r]) == []
    assert len(ann) == 1
    assert registry_empty(ann)


def test_announcement_circular_backlog_releases_evicted():
    ann = Announcement(backlog=2)
    refs = put_watched(ann, range(5))
    assert [x.v for x in collected(refs)] == [3, 4]   # pushed out of the backlog: freed
    late = ann.subscribe()
    ann.finalize()                      # backlog freed; late still holds copies
    assert [x.v for x in collected(refs)] == [3, 4]
    assert late.get().v == 3
    assert [x.v for x in collected(refs)] == [4]
    del late
    assert collected(refs) == []
    assert registry_empty(ann)


def test_announcement_finalize_releases_backlog():
    ann = Announcement(backlog=0)
    refs = put_watched(ann, range(4))
    assert len(collected(refs)) == 4
    assert [x.v for x in ann.backlog] == [0, 1, 2, 3]
    ann.finalize()
    assert collected(refs) == []
    assert registry_empty(ann)


def test_announcement_failed_put_keeps_nothing():
    ann = Announcement(maxsize=1, backlog=0)
    a = ann.subscribe()
    ann.put(Item(0))
    it = Item(1)
    r = weakref.ref(it)
    with pytest.raises(queue.Full):
        ann.put(it, timeout=0.01)
    del it
    assert collected([r]) == []
    assert [x.v for x in ann.backlog] == [0]   # not in the backlog either
    assert a.get().v == 0


def test_announcement_whole_group_deleted_with_items_inside():
    refs = []

    def build():
        ann = Announcement(maxsize=0, backlog=0)
        subs = [ann.subscribe() for _ in range(3)]
        clone = Announcement.clone(subs[0])
        for v in range(10):
            it = Item(v)
            refs.append(weakref.ref(it))
            clone.put(it)
        return ann, subs, clone

    ann, subs, clone = build()
    assert len(collected(refs)) == 10
    del ann, subs, clone
    assert collected(refs) == []


# --- Funnel -------------------------------------------------------------------------------


def test_funnel_documented_example():
    funnel = Funnel()
    sub_1 = funnel.subscribe()
    sub_2 = funnel.subscribe()
    assert sub_1.put("foo", "job_id") is True
    with pytest.raises(queue.Empty):
        funnel.get(timeout=0.01)
    sub_2.put("bar", "job_id")
    res = funnel.get()
    assert len(res) == 3
    assert res == ("job_id", "foo", "bar")


def test_funnel_index_len_return_jid():
    funnel = Funnel()
    assert funnel.index == -1 and len(funnel) == 0
    inputs = [funnel.subscribe() for _ in range(3)]
    assert [i.index for i in inputs] == [0, 1, 2]
    assert len(funnel) == 3 and len(inputs[1]) == 3
    for k, inp in enumerate(reversed(inputs)):
        inp.put(2 - k, "j")
    assert funnel.get(return_jid=False) == (0, 1, 2)
    with pytest.raises(queue.Empty):
        funnel.get(block=False)
    with pytest.raises(queue.Empty):
        funnel.get_nowait()
    with pytest.raises(ValueError):
        funnel.get(timeout=-1)


def test_funnel_put_on_top_raises():
    funnel = Funnel()
    with pytest.raises(lox.FunnelPutTopError):
        funnel.put("x", 1)
    funnel.subscribe()
    with pytest.raises(lox.FunnelPutTopError):
        funnel.put("x", 1)


def test_funnel_any_hashable_jid_and_mapping_cleanup():
    funnel = Funnel()
    a, b = funnel.subscribe(), funnel.subscribe()
    jids = ["s", 7, (1, "t"), frozenset({3}), None, 2.5, b"raw", -1, 2 ** 70]
    for j in jids:
        a.put(("a", j), j)
    for j in reversed(jids):
        b.put(("b", j), j)
    out = [funnel.get(timeout=1) for _ in jids]
    # sets come out in completion order (b completes them in reverse)
    assert [o[0] for o in out] == list(reversed(jids))
    for jid, x, y in out:
        assert x == ("a", jid) and y == ("b", jid)
    with pytest.raises(TypeError):
        a.put("x", ["unhashable"])
    g = funnel._group
    assert g.jid_num == {} and g.num_jid == {} and g.items == {}
    # equal keys are one job, as in a dict
    a.put("one", 1)
    b.put("one-float", 1.0)
    assert funnel.get(timeout=1) == (1, "one", "one-float")


def test_funnel_second_put_kept_for_next_set():
    funnel = Funnel()
    a, b = funnel.subscribe(), funnel.subscribe()
    a.put("a1", "j")
    a.put("a2", "j")
    b.put("b1", "j")
    assert funnel.get(timeout=1) == ("j", "a1", "b1")
    with pytest.raises(queue.Empty):
        funnel.get(block=False)
    b.put("b2", "j")
    assert funnel.get(timeout=1) == ("j", "a2", "b2")
    assert funnel._group.jid_num == {}


def test_funnel_new_input_joins_incomplete_sets():
    funnel = Funnel()
    a, b = funnel.subscribe(), funnel.subscribe()
    a.put(1, "j")
    b.put(2, "j")
    a.put(3, "k")
    c = funnel.subscribe()
    b.put(4, "k")
    assert funnel.get(timeout=1) == ("j", 1, 2)   # completed before c existed
    with pytest.raises(queue.Empty):
        funnel.get(block=False)
    c.put(5, "k")
    assert funnel.get(timeout=1) == ("k", 3, 4, 5)


def test_funnel_get_from_an_input_and_blocking_get():
    funnel = Funnel()
    a, b = funnel.subscribe(), funnel.subscribe()
    got = []
    t = threading.Thread(target=lambda: got.append(a.get(timeout=DEADLINE)))
    t.start()
    a.put("x", 1)
    b.put("y", 1)
    t.join(DEADLINE)
    assert got == [(1, "x", "y")]


def test_funnel_threads():
    funnel = Funnel()
    n_in, n_jobs = 3, 200
    inputs = [funnel.subscribe() for _ in range(n_in)]

    def feed(i):
        order = list(range(n_jobs))
        if i % 2:
            order.reverse()
        for j in order:
            inputs[i].put((i, j), ("job", j))

    ts = [threading.Thread(target=feed, args=(i,)) for i in range(n_in)]
    for t in ts:
        t.start()
    out = [funnel.get(timeout=DEADLINE) for _ in range(n_jobs)]
    join_all(ts)
    assert sorted(o[0][1] for o in out) == list(range(n_jobs))
    for jid, *items in out:
        assert items == [(i, jid[1]) for i in range(n_in)]
    assert funnel._group.items == {} and funnel._group.jid_num == {}


def test_funnel_items_released():
    refs = []
    funnel = Funnel()
    a, b = funnel.subscribe(), funnel.subscribe()
    for v in range(3):
        x, y = Item(v), Item(-v)
        refs += [weakref.ref(x), weakref.ref(y)]
        a.put(x, v)
        b.put(y, v)
    del x, y
    out = [funnel.get() for _ in range(3)]
    assert len(collected(refs)) == 6
    del out
    assert collected(refs) == []
    # incomplete sets die with the funnel
    c = Item("lonely")
    r = weakref.ref(c)
    a.put(c, "never")
    del c
    assert collected([r]) != []
    del funnel, a, b
    assert collected([r]) == []


def test_announcement_gc_inside_operations():
    # Subscribers in reference cycles die whenever the cyclic collector runs,
    # which (with a tiny threshold) happens inside put/get/subscribe of other
    # threads: their destruction is deferred to whoever holds or next frees
    # the group lock, never deadlocks, and drains their items exactly once.
    ann = Announcement(backlog=3)
    keep = ann.subscribe()
    refs = []
    refs_lock = threading.Lock()
    n_items = 300
    got = []

    def producer():
        for k in range(n_items):
            it = Item(k)
            with refs_lock:
                refs.append(weakref.ref(it))
            ann.put(it)

    def consumer():
        for _ in range(n_items):
            got.append(keep.get(timeout=DEADLINE).v)

    def churn():
        for _ in range(150):
            s = ann.subscribe()
            s.cycle = s                 # only the cyclic collector frees it
            del s

    old = gc.get_threshold()
    gc.set_threshold(20, 2, 2)
    try:
        ts = [threading.Thread(target=f) for f in (producer, consumer, churn, churn)]
        for t in ts:
            t.start()
        join_all(ts)
    finally:
        gc.set_threshold(*old)
    assert got == list(range(n_items))
    ann.finalize()                      # frees the backlog's last 3
    assert collected(refs) == []
    assert len(ann) == 2
    assert registry_empty(ann)
