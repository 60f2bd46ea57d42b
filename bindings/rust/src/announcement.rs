// SPDX-License-Identifier: Apache-2.0
//! lox's Announcement over `lox_announcement`: many receive queues to many,
//! with a backlog for late subscribers.

use std::collections::VecDeque;
use std::fmt;
use std::os::raw::c_void;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::queue::PutError;
use crate::{check, check_wait, seconds, sys, Error, Result};

/// The copies of the items put, counted by the binding. liblox carries each
/// item as one `Arc<T>` pointer and hands it to every receiver; the C API
/// does not say how many receivers a put reached, so the count is made
/// here: put, subscribe, unsubscribe, finalize and drop of a group run
/// under `state`, where the number of members (read from liblox) and the
/// backlog (mirrored here) cannot change. Each receive queue holding the
/// pointer and the backlog each own one strong count.
struct Group<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    keep: bool,           // puts go to the backlog (it is on and not finalized)
    limit: Option<usize>, // a circular backlog keeps the last `limit`
    kept: VecDeque<*const T>,
}

impl<T> Group<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding it (items are dropped after it is
        // released), but a poisoned lock would still guard a valid state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Drop for Group<T> {
    fn drop(&mut self) {
        // The last handle is gone, and liblox's backlog with it; the
        // mirror's counts are the last ones it owned.
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for p in state.kept.drain(..) {
            // SAFETY: every kept pointer owns one strong count.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}

/// lox's Announcement (`lox_announcement`): a put reaches the receive queue
/// of every *other* member of the group, so members talk many-to-many.
///
/// As in lox, the handle from [`new`](Announcement::new) is the group's
/// first member, with its own receive queue: it gets what its subscribers
/// put, and [`subscribers`](Announcement::subscribers) counts it.
/// [`subscribe`](Announcement::subscribe) adds a member, which first
/// receives the group's backlog; [`publisher`](Announcement::publisher)
/// (lox's `clone`) makes a handle outside the members that puts to every
/// member and receives nothing.
///
/// ```
/// let ann = lox::Announcement::new(0, lox::sys::LOX_BACKLOG_OFF)?;
/// let foo = ann.subscribe(0)?;
/// let bar = ann.subscribe(0)?;
/// assert_eq!(ann.subscribers(), 3); // lox's len(ann)
/// ann.put(5).unwrap();               // foo and bar get 5
/// assert_eq!(*foo.get()?, 5);
/// assert_eq!(*bar.get()?, 5);
/// foo.put(42).unwrap();              // ann and bar get 42
/// assert_eq!(*ann.get()?, 42);
/// assert_eq!(*bar.get()?, 42);
/// # Ok::<(), lox::Error>(())
/// ```
///
/// One put delivers the same value to every receiver, so a get returns an
/// `Arc<T>` (the value is dropped with its last copy: got, pushed out of
/// the backlog, or dropped with a receive queue). Puts are all or none: a
/// full receiver makes a put wait until every receiver has room. Dropping a
/// member drops what is left in its queue; it waits for a put blocked for
/// room in the group (use [`put_timeout`](Announcement::put_timeout) when
/// receivers may stop reading).
pub struct Announcement<T: Send + Sync> {
    raw: NonNull<sys::lox_announcement>,
    group: Arc<Group<T>>,
    member: AtomicBool, // written under the group's lock
}

// SAFETY: lox.h: every lox_announcement function is thread-safe; destroy
// runs only in Drop (exclusive access). Items are Arc<T> shared by every
// receiver, possibly in different threads, so T must be Send and Sync. The
// raw pointers in Group are only touched under its mutex (or in its Drop).
unsafe impl<T: Send + Sync> Send for Announcement<T> {}
// SAFETY: as above: every &self method is a thread-safe liblox call plus
// counting under the group's mutex.
unsafe impl<T: Send + Sync> Sync for Announcement<T> {}

impl<T: Send + Sync> Announcement<T> {
    /// Creates a group and returns its first member. `maxsize` bounds the
    /// members' receive queues by default, this one's included (0:
    /// unbounded; any value is a count, nothing is preallocated for it);
    /// `backlog` is [`LOX_BACKLOG_OFF`](sys::LOX_BACKLOG_OFF),
    /// [`LOX_BACKLOG_UNBOUNDED`](sys::LOX_BACKLOG_UNBOUNDED) or N > 0 (keep
    /// the last N items). Fails with `LOX_EINVAL` for a backlog below -1.
    ///
    /// ```
    /// let ann = lox::Announcement::<u8>::new(usize::MAX, i64::MAX)?;
    /// assert_eq!(ann.subscribers(), 1);
    /// assert!(lox::Announcement::<u8>::new(0, -2).is_err());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn new(maxsize: usize, backlog: i64) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::lox_announcement_create(maxsize, backlog, &mut raw) })?;
        let state = State {
            keep: backlog != sys::LOX_BACKLOG_OFF,
            limit: if backlog > 0 {
                Some(usize::try_from(backlog).unwrap_or(usize::MAX))
            } else {
                None
            },
            kept: VecDeque::new(),
        };
        Ok(Announcement {
            raw: NonNull::new(raw).expect("lox_announcement_create returned LOX_OK and NULL"),
            group: Arc::new(Group {
                state: Mutex::new(state),
            }),
            member: AtomicBool::new(true),
        })
    }

    /// Subscribes a new member to this handle's group (`maxsize` 0: the
    /// group's default) and returns it; it first receives the backlog.
    /// Fails with `is_closed()` once the group is finalized, `LOX_ESTATE`
    /// if the backlog does not fit in its `maxsize`. Never waits.
    pub fn subscribe(&self, maxsize: usize) -> Result<Self> {
        let state = self.group.lock();
        let mut raw = ptr::null_mut();
        // SAFETY: valid handle and out-pointer; a new queue has room for the
        // backlog or the call fails, so a zero timeout never matters.
        check(unsafe {
            sys::lox_announcement_subscribe(self.raw.as_ptr(), maxsize, 0.0, &mut raw)
        })?;
        for &p in &state.kept {
            // SAFETY: p is alive (the backlog owns a count); the new queue
            // now holds one more copy.
            unsafe { Arc::increment_strong_count(p) };
        }
        Ok(Announcement {
            raw: NonNull::new(raw).expect("lox_announcement_subscribe returned LOX_OK and NULL"),
            group: Arc::clone(&self.group),
            member: AtomicBool::new(true),
        })
    }

    /// A new publisher on this group (lox's `clone`): its puts reach every
    /// member, the creator included; it is not a member and receives
    /// nothing (its gets fail with `is_closed()`).
    pub fn publisher(&self) -> Result<Self> {
        let _state = self.group.lock();
        let mut raw = ptr::null_mut();
        // SAFETY: valid handle and out-pointer.
        check(unsafe { sys::lox_announcement_clone(self.raw.as_ptr(), &mut raw) })?;
        Ok(Announcement {
            raw: NonNull::new(raw).expect("lox_announcement_clone returned LOX_OK and NULL"),
            group: Arc::clone(&self.group),
            member: AtomicBool::new(false),
        })
    }

    /// Puts `item` into every other member's queue (and the backlog),
    /// waiting as long as it takes for every receiver to have room.
    pub fn put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.put_timeout(item, None)
    }

    /// Like [`put`](Announcement::put), waiting at most `timeout` (zero:
    /// try once). All or none: on failure nobody got the item, and it is
    /// handed back with the error (`is_timeout()` when a receiver stayed
    /// full).
    ///
    /// ```
    /// use std::time::Duration;
    /// let ann = lox::Announcement::new(1, lox::sys::LOX_BACKLOG_OFF)?;
    /// let sub = ann.subscribe(0)?;
    /// sub.put('a').unwrap(); // the creator's queue (bound 1) is full now
    /// let err = sub.put_timeout('b', Some(Duration::ZERO)).unwrap_err();
    /// assert!(err.error().is_timeout());
    /// assert_eq!(err.into_item(), 'b');
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn put_timeout(
        &self,
        item: T,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), PutError<T>> {
        let mut dead = Vec::new();
        let result = {
            let mut state = self.group.lock();
            self.put_locked(&mut state, item, timeout, &mut dead)
        };
        drop(dead); // items whose last copy went: dropped outside the lock
        result
    }

    fn put_locked(
        &self,
        state: &mut State<T>,
        item: T,
        timeout: Option<Duration>,
        dead: &mut Vec<Arc<T>>,
    ) -> std::result::Result<(), PutError<T>> {
        // SAFETY: valid handle.
        let members = unsafe { sys::lox_announcement_subscribers(self.raw.as_ptr()) };
        let receivers = members - usize::from(self.member.load(Ordering::Relaxed));
        let copies = receivers + usize::from(state.keep);
        let arc = Arc::new(item);
        if copies == 0 {
            dead.push(arc); // nobody to receive it, no backlog
            return Ok(());
        }
        let p = Arc::into_raw(arc);
        for _ in 1..copies {
            // SAFETY: p is alive: we own one count.
            unsafe { Arc::increment_strong_count(p) };
        }
        // SAFETY: valid handle; liblox stores the pointer without
        // dereferencing it and hands it to each receiver's get once.
        let status = unsafe {
            sys::lox_announcement_put(self.raw.as_ptr(), p as *mut c_void, seconds(timeout))
        };
        if status != sys::LOX_OK {
            let error = Error::from_code(status);
            // SAFETY: all or none: nobody got the pointer, so every count
            // is still ours.
            for _ in 1..copies {
                unsafe { Arc::decrement_strong_count(p) };
            }
            let arc = unsafe { Arc::from_raw(p) };
            let item = Arc::try_unwrap(arc)
                .ok()
                .expect("a put that failed delivered its item");
            return Err(PutError::new("announcement put", error, item));
        }
        if state.keep {
            state.kept.push_back(p);
            if state.limit.map_or(false, |n| state.kept.len() > n) {
                if let Some(old) = state.kept.pop_front() {
                    // SAFETY: the backlog's count of `old`, given up.
                    dead.push(unsafe { Arc::from_raw(old) });
                }
            }
        }
        Ok(())
    }

    /// Takes the oldest item of this member's receive queue, waiting as
    /// long as it takes. Fails with `is_closed()` for a publisher, or once
    /// this handle was unsubscribed and its queue is drained.
    pub fn get(&self) -> Result<Arc<T>> {
        self.get_timeout(None)
            .map(|v| v.expect("a wait without timeout timed out"))
    }

    /// Like [`get`](Announcement::get), waiting at most `timeout`:
    /// `Ok(None)` when nothing came.
    pub fn get_timeout(&self, timeout: Option<Duration>) -> Result<Option<Arc<T>>> {
        let mut item: *mut c_void = ptr::null_mut();
        // SAFETY: valid handle and out-pointer.
        let got = check_wait(unsafe {
            sys::lox_announcement_get(self.raw.as_ptr(), &mut item, seconds(timeout))
        })?;
        // SAFETY: every item of this group is an Arc<T> pointer whose
        // delivered copy owns one count, taken here once.
        Ok(if got {
            Some(unsafe { Arc::from_raw(item as *const T) })
        } else {
            None
        })
    }

    /// Closes the group to new subscribers (their subscribe fails with
    /// `is_closed()`) and frees the backlog; members are unaffected.
    pub fn finalize(&self) -> Result<()> {
        let mut dead = Vec::new();
        {
            let mut state = self.group.lock();
            // SAFETY: valid handle.
            check(unsafe { sys::lox_announcement_finalize(self.raw.as_ptr()) })?;
            state.keep = false;
            for p in state.kept.drain(..) {
                // SAFETY: the backlog's count of p, given up.
                dead.push(unsafe { Arc::from_raw(p) });
            }
        }
        drop(dead);
        Ok(())
    }

    /// This member (the creator too, as lox's `ann.unsubscribe(ann)`)
    /// leaves the group: it receives nothing more, its gets drain what it
    /// had and then fail with `is_closed()`; it may still put. Fails with
    /// `LOX_ESTATE` for a publisher or a member already unsubscribed.
    pub fn unsubscribe(&self) -> Result<()> {
        let _state = self.group.lock();
        // SAFETY: valid handle.
        check(unsafe { sys::lox_announcement_unsubscribe(self.raw.as_ptr()) })?;
        self.member.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Members in the group now, the creator included while it is one
    /// (lox's `len()`; a snapshot).
    pub fn subscribers(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::lox_announcement_subscribers(self.raw.as_ptr()) }
    }

    /// Items in this handle's receive queue now (0 for a publisher).
    pub fn len(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::lox_announcement_size(self.raw.as_ptr()) }
    }

    /// Whether this handle's receive queue is empty now.
    pub fn is_empty(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::lox_announcement_empty(self.raw.as_ptr()) == 1 }
    }

    /// Whether this handle's receive queue is bounded and full now.
    pub fn is_full(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::lox_announcement_full(self.raw.as_ptr()) == 1 }
    }

    /// Items kept in the group's backlog now (0 when off or finalized).
    pub fn backlog(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::lox_announcement_backlog(self.raw.as_ptr()) }
    }

    /// Whether this handle is a member (receives the others' puts).
    pub fn is_member(&self) -> bool {
        self.member.load(Ordering::Relaxed)
    }
}

impl<T: Send + Sync> fmt::Debug for Announcement<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Announcement")
            .field("member", &self.is_member())
            .field("subscribers", &self.subscribers())
            .field("len", &self.len())
            .field("backlog", &self.backlog())
            .finish()
    }
}

impl<T: Send + Sync> Drop for Announcement<T> {
    fn drop(&mut self) {
        // Under the group's lock no put can deliver here: the copies left
        // in this queue are taken (gets drain an unsubscribed queue too),
        // then liblox destroys the handle, which leaves the members.
        let mut dead = Vec::new();
        {
            let _state = self.group.lock();
            while let Ok(Some(item)) = self.get_timeout(Some(Duration::ZERO)) {
                dead.push(item);
            }
            // SAFETY: exclusive access (&mut self); nobody waits in it.
            unsafe { sys::lox_announcement_destroy(self.raw.as_ptr()) };
        }
        drop(dead);
    }
}
