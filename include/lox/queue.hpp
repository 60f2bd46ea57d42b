// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the queues.
//
// lox::queue<T> (a closable multi-producer multi-consumer FIFO: Python's
// queue.Queue plus close(), with task_done()/join()), lox::announcement<T>
// (a put reaches every subscriber; optional backlog for late subscribers)
// and lox::funnel<T> (complete sets of one item per input, matched by job
// id). Each is a move-only owner of one C handle; every wait, every
// ordering and delivery guarantee and every misuse check is the C layer's
// (see the "Queues" section of lox.h).
//
//   lox::queue<Image*> resize_q(10);
//   for (Image* img : resize_q) upload_q.put(resize(img));   // a worker thread
//   resize_q.put(img); ...; resize_q.close(); resize_q.join();   // the feeder
//
// Items: T is any trivially copyable type that fits in a pointer: pointers,
// integers, enums, bool, float, small structs. The C layer stores one
// `void *` per item; this layer copies T's bytes into it and back (memcpy),
// so an item round-trips exactly and nothing is allocated per item. Any
// other T fails to compile with a static_assert that says why: queue a
// pointer to it instead (`lox::queue<Image*>`). What the items point to is
// the program's: no queue ever dereferences or frees it, and destroying a
// queue with items still inside frees nothing they point to. To exchange
// items with C code, use a pointer type, std::intptr_t or std::uintptr_t
// (stored as the very `void *` the C side writes as `(void *)(intptr_t)x`).
//
// Conventions (the same as the synchronization objects):
//   - put()/get()/join() wait forever; try_put()/try_get()/try_join() take a
//     std::chrono duration and report a timeout in their return value
//     (false, or an empty std::optional), never as an exception. A negative
//     duration tries once without blocking. A timed-out call leaves no trace.
//   - every other C status is thrown as lox::error: LOX_ECLOSED for a put on
//     a closed queue and for a get on a closed and drained queue (or on an
//     announcement handle that receives nothing); LOX_ESTATE for misuse
//     (task_done() more often than items were got, a put on a funnel's top,
//     a get on a funnel's input, ...) and for an object destroyed while this
//     thread waited in it; LOX_EINVAL for a moved-from object or a NaN
//     duration.
//   - getters (size(), empty(), closed(), ...) are noexcept snapshots that
//     may change as soon as they are read; a moved-from object reads as
//     empty, 0 and not closed (a funnel's index() as -1).
//
// Thread safety: every member except the destructor, move construction and
// move assignment may be called from any number of threads at once. An
// object must not be destroyed or moved from while another thread uses it
// or waits in it (the C layer detects a destroy with waiters, which then
// get LOX_ESTATE, but it is still a bug in the program).
//
// Costs: the C++ object is one pointer; every call is one C call; items are
// never allocated (funnel get() allocates the vector of the set's items).
#ifndef LOX_QUEUE_HPP
#define LOX_QUEUE_HPP

#include <lox/error.hpp>
#include <lox/detail/handle.hpp>
#include <lox/detail/timeout.hpp>
#include <lox/detail/item_channel.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {

// ---------------------------------------------------------------------------
// lox::queue
// ---------------------------------------------------------------------------

// A closable multi-producer multi-consumer FIFO of T (the C `lox_queue`):
// Python's queue.Queue with Effective Python's ClosableQueue close(), but
// without a sentinel item, so any number of consumers stop on one close().
//
//   lox::queue<Job*> q(64);             // at most 64 waiting (0: unbounded)
//   q.put(job);                         // waits while full
//   Job* j = q.get();                   // waits while empty
//   if (auto j = q.try_get(50ms)) ...   // empty optional on timeout
//   q.close();                          // no more puts; gets drain, then stop
//   q.task_done(); q.join();            // processing is tracked, not only removal
//
// join() returns when every item ever put has been got and marked with
// task_done() (Python's Queue.join); range-for does the marking.
//
// Range-for: `for (auto x : q)` gets the items one by one (waiting while
// the queue is empty and open) and ends when the queue is closed and
// drained: Effective Python's `for item in in_queue:`. Each item is marked
// with task_done() when its loop body is left, whichever way: when the loop
// goes on to the next item, and also on `break`, `return` or an exception
// out of the body (the loop's iterator marks the item it holds when it is
// destroyed), as the ClosableQueue iterator's `finally: task_done()` does.
// So the item being processed at a `break` counts as done, and a join()
// elsewhere never waits for an item that a loop abandoned; items the loop
// did not get stay in the queue for other consumers or a later loop. Do not
// call task_done() in the body for the loop's items (they would be counted
// twice). Several threads may loop over one queue at once: each item goes
// to exactly one of them. The loop throws lox::error as get() does
// (LOX_ECLOSED is not thrown: it ends the loop).
//
// Put and get are the C layer's lock-free paths; a waiting put or get
// sleeps (no polling) and is woken by the get or put that makes room or
// brings an item, or by close().
//
// put(x) appends `x`, waiting while the queue is full; try_put(x, timeout)
// waits at most `timeout` for room (false: nothing was put). Both throw
// LOX_ECLOSED if the queue is closed (also when it closes while they wait;
// then `x` was not put). get() removes and returns the oldest item, waiting
// while the queue is empty; try_get(timeout) returns an empty optional if
// it stayed empty (and open). After close() they still return the items
// left; once the queue is closed and drained they throw LOX_ECLOSED (use
// range-for to stop there without an exception). All four throw
// LOX_ESTATE if the queue is destroyed while they wait.
//
// Destroying it drops the items still inside (what they point to is not
// freed); threads still waiting in it get LOX_ESTATE (a bug: see "Thread
// safety" above). Moving it moves the C queue (its items and waiters go
// with it): the moved-from queue's calls throw LOX_EINVAL and its getters
// read 0/empty, and range-for iterators keep working (they use the C
// queue). native_handle() is the C queue, for C code sharing it (do not
// destroy it); its items are T's bytes in a void* (see "Items" above).
template <class T>
class queue : public detail::item_channel<T, lox_queue, lox_queue_destroy, lox_queue_put, lox_queue_get> {
  using codec = typename queue::codec;

 public:
  // The end of a range-for: compares equal to an iterator once the queue
  // is closed and drained.
  struct sentinel {};

  // The range-for iterator (see above). Move-only, because it owns the
  // task_done() of the item it holds; it is meant for range-for, not for
  // standard algorithms (which copy iterators).
  class iterator {
   public:
    using value_type = T;
    using reference = const T&;
    using pointer = const T*;
    using difference_type = std::ptrdiff_t;

    // Moving takes the other iterator's item and its pending task_done
    // (the other becomes an end iterator); move assignment first marks this
    // iterator's item as done. The destructor marks the item it holds as
    // done (the `break` / `return` / exception case); noexcept: a failing
    // task_done is not reported there.

    // The current item.
    const T& operator*() const noexcept { return item_; }
    const T* operator->() const noexcept { return &item_; }

    // Marks the current item as done, then waits for the next one; becomes
    // equal to the sentinel when the queue is closed and drained. Throws
    // lox::error for a failing task_done (LOX_ESTATE: someone called it for
    // this item already) or get (LOX_ESTATE: the queue was destroyed); the
    // iterator then equals the sentinel.
    iterator& operator++() {
      lox_queue* q = q_.release();
      check(lox_queue_task_done(q));
      fetch(q);
      return *this;
    }

    friend bool operator==(const iterator& it, sentinel) noexcept { return it.q_ == nullptr; }
    friend bool operator==(sentinel, const iterator& it) noexcept { return it.q_ == nullptr; }
    friend bool operator!=(const iterator& it, sentinel) noexcept { return it.q_ != nullptr; }
    friend bool operator!=(sentinel, const iterator& it) noexcept { return it.q_ != nullptr; }

   private:
    friend class queue;
    explicit iterator(lox_queue* q) { fetch(q); }

    // Gets the next item of `q`: on success holds it (q_ = q), on
    // LOX_ECLOSED stays at the end, otherwise throws.
    void fetch(lox_queue* q) {
      void* p = nullptr;
      const int st = lox_queue_get(q, &p, LOX_FOREVER);
      if (st == LOX_ECLOSED) return;
      if (st != LOX_OK) throw error(st, lox_last_error());
      item_ = codec::decode(p);
      q_.reset(q);
    }
    struct mark_done {
      void operator()(lox_queue* q) const noexcept { static_cast<void>(lox_queue_task_done(q)); }
    };
    std::unique_ptr<lox_queue, mark_done> q_;  // set while holding an item not yet marked done
    T item_{};
  };

  // An unbounded queue. Throws lox::error (LOX_ENOMEM).
  queue() : queue(0) {}
  // A queue holding at most `maxsize` items (0 = unbounded): put() waits
  // while it is full. Throws lox::error (LOX_ENOMEM).
  explicit queue(std::size_t maxsize) { check(lox_queue_create(maxsize, this->out_handle())); }

  // Closes the queue: later puts throw LOX_ECLOSED, gets drain what is left
  // and then throw LOX_ECLOSED (range-for loops end), and every waiting put
  // and get wakes up. A put either took effect before the close (its item
  // will be got) or throws: nothing is lost. Closing twice is fine.
  void close() { check(lox_queue_close(this->h_.get())); }

  // Whether close() was called (a snapshot; false for a moved-from queue).
  bool closed() const noexcept { return this->h_ && lox_queue_closed(this->h_.get()) > 0; }

  // Marks one item that was got as fully processed (Queue.task_done).
  // Throws lox::error with LOX_ESTATE if called more often than items were
  // got (nothing changes). Range-for calls it for its own items.
  void task_done() { check(lox_queue_task_done(this->h_.get())); }

  // Waits until every item ever put has been got and marked with
  // task_done() (at once if that already holds). Throws lox::error
  // (LOX_ESTATE if destroyed while waiting).
  void join() { check(lox_queue_join(this->h_.get(), LOX_FOREVER)); }

  // join() that waits at most `timeout`: false if items were still
  // unfinished.
  template <class Rep, class Period>
  bool try_join(const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_queue_join(this->h_.get(), detail::try_timeout(timeout))) == LOX_OK;
  }

  // Items in the queue now (qsize; a snapshot).
  std::size_t size() const noexcept { return this->h_ ? lox_queue_size(this->h_.get()) : 0; }
  // The maxsize it was created with (0 = unbounded).
  std::size_t maxsize() const noexcept { return this->h_ ? lox_queue_maxsize(this->h_.get()) : 0; }
  // Whether it holds no item now (a snapshot).
  bool empty() const noexcept { return !this->h_ || lox_queue_empty(this->h_.get()) > 0; }
  // Whether it is bounded and holds maxsize items now (a snapshot).
  bool full() const noexcept { return this->h_ && lox_queue_full(this->h_.get()) > 0; }

  // Range-for: waits for the first item (see the class comment). Throws
  // lox::error as get() does, except LOX_ECLOSED (an empty loop).
  [[nodiscard]] iterator begin() { return iterator(this->h_.get()); }
  sentinel end() const noexcept { return {}; }

 private:
};

// ---------------------------------------------------------------------------
// lox::announcement
// ---------------------------------------------------------------------------

// Backlog settings of lox::announcement (lox.h's LOX_BACKLOG_*): no backlog
// (lox's backlog=None), or keep every item put until finalize() (lox's
// backlog <= 0). A positive number N keeps the last N items.
inline constexpr long long backlog_off = LOX_BACKLOG_OFF;
inline constexpr long long backlog_unbounded = LOX_BACKLOG_UNBOUNDED;

// lox's Announcement (the C `lox_announcement`): a put reaches the receive
// queue of every other member of the group, so members talk many-to-many.
//
//   lox::announcement<int> ann;          // the first member
//   auto foo_q = ann.subscribe();        // two more
//   auto bar_q = ann.subscribe();        // ann.subscribers() == 3 (lox's len)
//   ann.put(5);                          // foo_q and bar_q each get 5
//   int x = foo_q.get();
//   foo_q.put(42);                       // ann and bar_q each get 42
//   int y = ann.get();
//
// A group is a set of handles, and each lox::announcement object owns one.
// The members, each with its own receive queue, are the one constructed
// (lox's Announcement() is one of its own subscribers) and its
// subscribe()rs; a member's put reaches every other member, not itself. Its
// clone()s are publishers outside the members: their puts reach every
// member, and they receive nothing. Any handle of the group may subscribe
// or clone. Handles are independent objects, destroyed in any order; the
// group lives until its last handle is destroyed. Destroying a member
// unsubscribes it (its undelivered items are dropped). A member that never
// gets fills up like any other: in a bounded group where subscribers put
// too, the creator must get (or unsubscribe), or their puts wait for it.
//
// Puts are all or none: a put into a group with a full receiver waits until
// every receiver has room, and a timed-out try_put delivered to nobody. With
// a backlog, the last items put are kept and handed to every later
// subscriber before anything new, so a late (or racing) subscriber misses
// nothing; finalize() stops new subscriptions and frees the backlog.
//
// Puts of a group are serialized by one mutex; gets touch only the
// receiver's own lock-free queue.
//
// put(x) puts `x` into the receive queue of every member except this
// handle, and into the backlog; it waits while any receiver is full, then
// delivers to all at once. try_put(x, timeout) waits at most `timeout` for
// every receiver to have room (false: nobody got `x`). get() takes the
// oldest item of this member's receive queue, waiting while it is empty;
// try_get(timeout) returns an empty optional if nothing came. get() throws
// LOX_ECLOSED if this handle receives nothing (a clone) or was unsubscribed
// and its queue is drained; all four throw LOX_ESTATE if the group is
// destroyed while they wait.
//
// Destroying a handle unsubscribes it first if it is a member; the group
// lives on while other handles do. Moving it moves the handle (its
// subscription and receive queue go with it); the moved-from handle's
// calls throw LOX_EINVAL, and move assignment destroys the handle owned
// before, as the destructor does.
template <class T>
class announcement : public detail::item_channel<T, lox_announcement, lox_announcement_destroy, lox_announcement_put,
                                                 lox_announcement_get> {
  using base =
      detail::item_channel<T, lox_announcement, lox_announcement_destroy, lox_announcement_put, lox_announcement_get>;

 public:
  // A new group with unbounded receive queues and no backlog; this object
  // is its first member. Throws lox::error (LOX_ENOMEM).
  announcement() : announcement(0) {}
  // A new group whose members' receive queues (this object's included)
  // hold at most `maxsize` items by default (0 = unbounded), with `backlog`
  // lox::backlog_off, lox::backlog_unbounded or N > 0 (keep the last N
  // items); this object is its first member. Throws lox::error (LOX_EINVAL
  // for backlog < -1, LOX_ENOMEM).
  explicit announcement(std::size_t maxsize, long long backlog = backlog_off) {
    check(lox_announcement_create(maxsize, backlog, this->out_handle()));
  }

  // Subscribes a new member to this handle's group and returns its handle:
  // it gets every item any other handle of the group puts from now on,
  // preceded by the group's backlog. `maxsize` bounds its receive queue
  // (0 = the group's default). The new queue is fresh, so this never waits
  // (the C call's timeout would never matter and is not offered). Throws
  // lox::error: LOX_ECLOSED if the group was finalized; LOX_ESTATE if the
  // backlog holds more items than `maxsize` (nothing subscribed); LOX_ENOMEM.
  [[nodiscard]] announcement subscribe(std::size_t maxsize = 0) {
    lox_announcement* out = nullptr;
    check(lox_announcement_subscribe(this->h_.get(), maxsize, LOX_FOREVER, &out));
    return announcement(adopt_t{}, out);
  }

  // A new publisher handle on this group (lox's clone): it puts to every
  // member, the creator included, and receives nothing; it is not a member.
  // Throws lox::error (LOX_ENOMEM).
  [[nodiscard]] announcement clone() {
    lox_announcement* out = nullptr;
    check(lox_announcement_clone(this->h_.get(), &out));
    return announcement(adopt_t{}, out);
  }

  // Closes the group to new subscribers (their subscribe() throws
  // LOX_ECLOSED) and frees the backlog; existing members are
  // unaffected. Finalizing twice is fine.
  void finalize() { check(lox_announcement_finalize(this->h_.get())); }

  // This member (the creator too) leaves the group: it receives nothing
  // more, its gets drain what it had and then throw LOX_ECLOSED; it may
  // still put. Throws lox::error with LOX_ESTATE if this handle is not a
  // member (a clone, or already unsubscribed).
  void unsubscribe() { check(lox_announcement_unsubscribe(this->h_.get())); }

  // Members in the group now, the creator included while it is one (lox's
  // len(); a snapshot).
  std::size_t subscribers() const noexcept { return this->h_ ? lox_announcement_subscribers(this->h_.get()) : 0; }
  // Items in this handle's receive queue now (0 for a clone).
  std::size_t size() const noexcept { return this->h_ ? lox_announcement_size(this->h_.get()) : 0; }
  // Items kept in the group's backlog now (0 when off or finalized).
  std::size_t backlog() const noexcept { return this->h_ ? lox_announcement_backlog(this->h_.get()) : 0; }
  // Whether this handle's receive queue is empty (always for a clone).
  bool empty() const noexcept { return !this->h_ || lox_announcement_empty(this->h_.get()) > 0; }
  // Whether this handle's receive queue is bounded and full.
  bool full() const noexcept { return this->h_ && lox_announcement_full(this->h_.get()) > 0; }

 private:
  struct adopt_t {};  // a tag, so that announcement(0) is never this constructor
  announcement(adopt_t, lox_announcement* h) noexcept : base(h) {}  // adopts a new handle
};

// ---------------------------------------------------------------------------
// lox::funnel
// ---------------------------------------------------------------------------

// One complete set that came out of a lox::funnel: the job id and one item
// per input, in input order (items[i] came from the input with index() i).
template <class T>
struct funnel_set {
  unsigned long long jid = 0;
  std::vector<T> items;
};

// lox's Funnel (the C `lox_funnel`): joins the results of many inputs by
// job id. Each input puts one item per job; when every input has put its
// item for a job, the set is complete and comes out of the top.
//
//   lox::funnel<const char*> top;
//   auto sub_1 = top.subscribe();        // input 0
//   auto sub_2 = top.subscribe();        // input 1
//   sub_1.put(7, "foo");                 // job 7: waits for sub_2
//   top.try_get(10ms);                   // empty optional: nothing complete
//   sub_2.put(7, "bar");
//   auto set = top.get();                // set.jid == 7, set.items == {"foo", "bar"}
//
// put(jid, x) takes the job id first, as the C call does (lox's Python
// signature is put(item, jid)). A job id is any unsigned 64-bit number the
// program chooses (lox's "hashable"). Sets come out in completion order.
// Subscribing an input later makes the sets not yet complete wait for it
// too. A second put of the same input for the same job before the set
// completes is kept for the next set with that job id (nothing is
// overwritten).
//
// The top and the inputs are independent handles, destroyed in any order;
// the funnel lives until the last one is destroyed. Destroying an input
// does not remove it: sets still need its item, so keep every input until
// it has put what it owes.
//
// Unbounded: puts never block (there is no try_put). get() allocates the
// returned vector.
//
// Destroying a handle (top or input) leaves the funnel to the other
// handles; a destroyed input stays in the funnel (see above). The
// moved-from handle's calls throw LOX_EINVAL; move assignment destroys the
// handle owned before, as the destructor does.
template <class T>
class funnel : public detail::c_object<lox_funnel, lox_funnel_destroy> {
  static_assert(detail::item_codec<T>::ok);
  using codec = detail::item_codec<T>;

 public:
  using value_type = T;
  using set_type = funnel_set<T>;

  // A new funnel; this object is its top. Throws lox::error (LOX_ENOMEM).
  funnel() { check(lox_funnel_create(out_handle())); }

  // Adds an input to this handle's funnel (the top or any input may be
  // asked) and returns it; inputs are numbered 0, 1, ... in subscription
  // order (index()). Throws lox::error (LOX_ENOMEM).
  [[nodiscard]] funnel subscribe() {
    lox_funnel* out = nullptr;
    check(lox_funnel_subscribe(h_.get(), &out));
    return funnel(adopt_t{}, out);
  }

  // Puts `x` for job `jid` on this input; never blocks. Throws lox::error
  // with LOX_ESTATE if this is the top (lox's FunnelPutTopError),
  // LOX_ENOMEM.
  void put(unsigned long long jid, const T& x) { check(lox_funnel_put(h_.get(), jid, codec::encode(x), LOX_FOREVER)); }

  // Takes the oldest complete set, waiting until there is one. Throws
  // lox::error with LOX_ESTATE if this is an input (only the top gets) or
  // the funnel was destroyed while waiting.
  set_type get() { return *take(LOX_FOREVER); }

  // get() that waits at most `timeout`: an empty optional if no set was
  // complete by then.
  template <class Rep, class Period>
  std::optional<set_type> try_get(const std::chrono::duration<Rep, Period>& timeout) {
    return take(detail::try_timeout(timeout));
  }

  // Inputs subscribed so far (lox's len()).
  std::size_t inputs() const noexcept { return h_ ? lox_funnel_inputs(h_.get()) : 0; }
  // Complete sets waiting at the top now (a snapshot).
  std::size_t ready() const noexcept { return h_ ? lox_funnel_ready(h_.get()) : 0; }
  // This input's number (0, 1, ...); -1 for the top (or a moved-from handle).
  long index() const noexcept { return h_ ? lox_funnel_index(h_.get()) : -1; }

 private:
  struct adopt_t {};
  funnel(adopt_t, lox_funnel* h) noexcept
      : detail::c_object<lox_funnel, lox_funnel_destroy>(h) {}  // adopts a new handle

  // One lox_funnel_get into a buffer sized by the inputs subscribed now.
  // An input subscribed meanwhile can make a set bigger than that: the C
  // call then says LOX_EINVAL, reports the set's size in `count` and
  // consumes nothing, and we retry with that size for the time left.
  std::optional<set_type> take(double timeout) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<void*> buf(h_ ? lox_funnel_inputs(h_.get()) : 0);
    double wait = timeout;
    for (;;) {
      unsigned long long jid = 0;
      std::size_t count = 0;
      const int st = lox_funnel_get(h_.get(), wait, &jid, buf.data(), buf.size(), &count);
      if (st == LOX_TIMEOUT) return std::nullopt;
      if (st == LOX_OK) {
        set_type set;
        set.jid = jid;
        set.items.reserve(count);
        for (std::size_t i = 0; i < count; ++i) set.items.push_back(codec::decode(buf[i]));
        return set;
      }
      if (st != LOX_EINVAL || count <= buf.size()) throw error(st, lox_last_error());
      buf.resize(count);
      if (timeout > 0) {
        const double left = timeout - to_seconds(std::chrono::steady_clock::now() - start);
        wait = left > 0 ? left : 0.0;
      }
    }
  }
};
}  // namespace lox

#endif  // LOX_QUEUE_HPP
