// SPDX-License-Identifier: Apache-2.0
//! Locks with RAII guards over `lox_lock`, `lox_lightswitch`, `lox_rwlock`,
//! `lox_qlock` and `lox_index_semaphore`.
//!
//! Memory ordering: a liblox acquire synchronizes with the release that let
//! it in (liblox's locks are built on atomics with acquire/release ordering,
//! as every lock must be), so data written under a guard is visible to the
//! next holder, exactly as with `std::sync::Mutex`.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::time::Duration;

use crate::{check, check_wait, seconds, sys, Result};

/// Turns a handle returned with LOX_OK into a NonNull.
fn non_null<H>(raw: *mut H, what: &str) -> NonNull<H> {
    match NonNull::new(raw) {
        Some(p) => p,
        None => panic!("{} returned LOX_OK and a NULL handle", what),
    }
}

/// Deref, DerefMut and Drop of a guard that holds its lock exclusively: the
/// guard's `lock` field has `data` (an UnsafeCell) and `raw` (the handle),
/// and dropping the guard calls `$release(raw $(, $arg)*)`.
macro_rules! exclusive_guard {
    ($guard:ident, $release:path $(, $arg:expr)*) => {
        impl<T> Deref for $guard<'_, T> {
            type Target = T;
            fn deref(&self) -> &T {
                // SAFETY: the guard proves the lock is held exclusively.
                unsafe { &*self.lock.data.get() }
            }
        }

        impl<T> DerefMut for $guard<'_, T> {
            fn deref_mut(&mut self) -> &mut T {
                // SAFETY: the guard proves the lock is held exclusively, and
                // &mut self makes this the only reference.
                unsafe { &mut *self.lock.data.get() }
            }
        }

        impl<T> Drop for $guard<'_, T> {
            fn drop(&mut self) {
                // SAFETY: we hold the lock; any thread may release it.
                let status = unsafe { $release(self.lock.raw.as_ptr() $(, $arg)*) };
                debug_assert_eq!(status, sys::LOX_OK);
            }
        }
    };
}

// ===========================================================================
// Lock
// ===========================================================================

/// A lock protecting a value (liblox's `lox_lock`, Python's
/// `threading.Lock`): like `std::sync::Mutex`, without poisoning, and with
/// timeouts. Not fair and not recursive (locking twice from one thread
/// deadlocks unless a timeout is given).
///
/// ```
/// use std::sync::Arc;
/// let counter = Arc::new(lox::Lock::new(0u64)?);
/// let threads: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 *counter.lock().unwrap() += 1;
///             }
///         })
///     })
///     .collect();
/// for t in threads {
///     t.join().unwrap();
/// }
/// assert_eq!(*counter.lock()?, 4000);
/// # Ok::<(), lox::Error>(())
/// ```
pub struct Lock<T = ()> {
    raw: NonNull<sys::lox_lock>,
    data: UnsafeCell<T>,
}

// SAFETY: lox.h: "Every object may be used from any number of threads at
// once", and "Locks are not owned by a thread: any thread may release what
// another acquired", so the handle may move to and be used from any thread.
// The lock hands out &mut T to one holder at a time, in whichever thread
// holds it, which needs T: Send (as for std::sync::Mutex).
unsafe impl<T: Send> Send for Lock<T> {}
// SAFETY: as above; lox_lock_acquire guarantees a single holder.
unsafe impl<T: Send> Sync for Lock<T> {}

/// Proof that a [`Lock`] is held; derefs to the value and releases the
/// lock when dropped.
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
    // &mut T: the guard is Sync only if T is Sync.
    _value: PhantomData<&'a mut T>,
}

impl<T> Lock<T> {
    /// Creates an unlocked lock holding `value`.
    ///
    /// ```
    /// let lock = lox::Lock::new(String::from("hi"))?;
    /// assert!(!lock.is_locked());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::lox_lock_create(&mut raw) })?;
        Ok(Lock {
            raw: non_null(raw, "lox_lock_create"),
            data: UnsafeCell::new(value),
        })
    }

    /// Locks, waiting as long as it takes.
    ///
    /// ```
    /// let lock = lox::Lock::new(vec![1])?;
    /// lock.lock()?.push(2);
    /// assert_eq!(*lock.lock()?, [1, 2]);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn lock(&self) -> Result<LockGuard<'_, T>> {
        self.lock_timeout(None)
            .map(|g| g.expect("a wait without timeout timed out"))
    }

    /// Locks, waiting at most `timeout` (`None`: forever; zero: try once).
    /// `Ok(None)` when it stayed locked.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = lox::Lock::new(())?;
    /// let held = lock.lock()?;
    /// assert!(lock.lock_timeout(Some(Duration::ZERO))?.is_none());
    /// drop(held);
    /// assert!(lock.lock_timeout(Some(Duration::from_millis(1)))?.is_some());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Option<Duration>) -> Result<Option<LockGuard<'_, T>>> {
        // SAFETY: valid handle; thread-safe.
        let got =
            check_wait(unsafe { sys::lox_lock_acquire(self.raw.as_ptr(), seconds(timeout)) })?;
        Ok(if got {
            Some(LockGuard {
                lock: self,
                _value: PhantomData,
            })
        } else {
            None
        })
    }

    /// Whether the lock is held now (a snapshot).
    pub fn is_locked(&self) -> bool {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_lock_locked(self.raw.as_ptr()) == 1 }
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Destroys the lock and returns the value.
    ///
    /// ```
    /// let lock = lox::Lock::new(5)?;
    /// *lock.lock()? += 1;
    /// assert_eq!(lock.into_inner(), 6);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: we own the lock (no guard can exist); the value is read
        // out exactly once and `this` is never dropped.
        unsafe {
            sys::lox_lock_destroy(this.raw.as_ptr());
            ptr::read(&this.data).into_inner()
        }
    }

    pub(crate) fn raw(&self) -> *mut sys::lox_lock {
        self.raw.as_ptr()
    }
}

impl<T> Drop for Lock<T> {
    fn drop(&mut self) {
        // SAFETY: exclusive access: no guard and no waiter can exist.
        unsafe { sys::lox_lock_destroy(self.raw.as_ptr()) }
    }
}

impl<T> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.is_locked())
            .finish()
    }
}

exclusive_guard!(LockGuard, sys::lox_lock_release);

// ===========================================================================
// LightSwitch
// ===========================================================================

/// A LightSwitch over a [`Lock`]: the first one in locks the lock, the last
/// one out unlocks it, and everybody in between shares the value (read
/// only). A "janitor" taking the [`Lock`] directly waits until the room is
/// empty. This is the readers' side of a readers-writer lock.
///
/// ```
/// let lock = lox::Lock::new(vec![1, 2, 3])?;
/// let switch = lox::LightSwitch::new(&lock)?;
/// let a = switch.enter()?;
/// let b = switch.enter()?; // shares the room with `a`
/// assert_eq!(a.len() + b.len(), 6);
/// assert_eq!(switch.count(), 2);
/// assert!(lock.is_locked());
/// drop((a, b));
/// assert!(!lock.is_locked()); // the last one out turned the lights off
/// lock.lock()?.push(4); // the janitor
/// # Ok::<(), lox::Error>(())
/// ```
pub struct LightSwitch<'l, T = ()> {
    raw: NonNull<sys::lox_lightswitch>,
    lock: &'l Lock<T>,
}

// SAFETY: lox.h: the switch may be used from any thread, and "any thread
// may release". Entrants share &T concurrently across threads while the
// switch holds the lock, so T: Sync; the borrowed Lock<T> also requires
// T: Send to be shared.
unsafe impl<T: Send + Sync> Send for LightSwitch<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for LightSwitch<'_, T> {}

/// Proof of being counted in a [`LightSwitch`]; derefs to the shared value
/// and leaves (possibly unlocking the lock) when dropped.
pub struct LightSwitchGuard<'a, T> {
    switch: &'a LightSwitch<'a, T>,
    _value: PhantomData<&'a T>,
}

impl<'l, T> LightSwitch<'l, T> {
    /// Creates a switch over `lock`, which it borrows for its whole life.
    pub fn new(lock: &'l Lock<T>) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid lock handle that outlives the switch ('l), valid
        // out-pointer.
        check(unsafe { sys::lox_lightswitch_create(lock.raw(), &mut raw) })?;
        Ok(LightSwitch {
            raw: non_null(raw, "lox_lightswitch_create"),
            lock,
        })
    }

    /// Enters, locking the lock if this is the first one in (waiting as
    /// long as it takes).
    ///
    /// ```
    /// let lock = lox::Lock::new(7)?;
    /// let switch = lox::LightSwitch::new(&lock)?;
    /// assert_eq!(*switch.enter()?, 7);
    /// assert_eq!(switch.count(), 0);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn enter(&self) -> Result<LightSwitchGuard<'_, T>> {
        self.enter_timeout(None)
            .map(|g| g.expect("a wait without timeout timed out"))
    }

    /// Enters, waiting at most `timeout` for the lock if this is the first
    /// one in; `Ok(None)` when it ran out (nothing changed).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = lox::Lock::new(0)?;
    /// let switch = lox::LightSwitch::new(&lock)?;
    /// let janitor = lock.lock()?;
    /// assert!(switch.enter_timeout(Some(Duration::from_millis(5)))?.is_none());
    /// drop(janitor);
    /// assert_eq!(*switch.enter_timeout(Some(Duration::ZERO))?.unwrap(), 0);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn enter_timeout(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<LightSwitchGuard<'_, T>>> {
        // SAFETY: valid handle; thread-safe.
        let got = check_wait(unsafe {
            sys::lox_lightswitch_acquire(self.raw.as_ptr(), seconds(timeout))
        })?;
        Ok(if got {
            Some(LightSwitchGuard {
                switch: self,
                _value: PhantomData,
            })
        } else {
            None
        })
    }

    /// How many are in now (a snapshot).
    pub fn count(&self) -> usize {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_lightswitch_count(self.raw.as_ptr()) }
    }
}

impl<T> Drop for LightSwitch<'_, T> {
    fn drop(&mut self) {
        // SAFETY: exclusive access; no guard exists, so the count is 0.
        unsafe { sys::lox_lightswitch_destroy(self.raw.as_ptr()) }
    }
}

impl<T> fmt::Debug for LightSwitch<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LightSwitch")
            .field("count", &self.count())
            .finish()
    }
}

impl<T> Deref for LightSwitchGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: while anybody is counted in, the switch holds the lock, so
        // no LockGuard (&mut T) exists; entrants only share &T.
        unsafe { &*self.switch.lock.data.get() }
    }
}

impl<T> Drop for LightSwitchGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: we are counted in; any thread may release.
        let status = unsafe { sys::lox_lightswitch_release(self.switch.raw.as_ptr()) };
        debug_assert_eq!(status, sys::LOX_OK);
    }
}

// ===========================================================================
// RwLock
// ===========================================================================

/// A readers-writer lock protecting a value (`lox_rwlock`): any number of
/// readers or one writer. Writer-preferring: once a writer waits, new
/// readers wait behind it (readers can starve under a stream of writers).
///
/// ```
/// let lock = lox::RwLock::new(1)?;
/// {
///     let r1 = lock.read()?;
///     let r2 = lock.read()?; // readers share
///     assert_eq!(*r1 + *r2, 2);
///     assert_eq!(lock.readers(), 2);
/// }
/// *lock.write()? += 1;
/// assert_eq!(*lock.read()?, 2);
/// # Ok::<(), lox::Error>(())
/// ```
pub struct RwLock<T = ()> {
    raw: NonNull<sys::lox_rwlock>,
    data: UnsafeCell<T>,
}

// SAFETY: lox.h: usable from any number of threads at once, and any thread
// may release. Writers get &mut T in any thread (T: Send); readers share &T
// across threads (T: Sync) — the bounds of std::sync::RwLock.
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

/// A read hold on an [`RwLock`]; derefs to the value.
pub struct RwLockReadGuard<'a, T> {
    lock: &'a RwLock<T>,
    _value: PhantomData<&'a T>,
}

/// The write hold on an [`RwLock`]; derefs mutably to the value.
pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
    _value: PhantomData<&'a mut T>,
}

impl<T> RwLock<T> {
    /// Creates an unlocked RwLock holding `value`.
    pub fn new(value: T) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::lox_rwlock_create(&mut raw) })?;
        Ok(RwLock {
            raw: non_null(raw, "lox_rwlock_create"),
            data: UnsafeCell::new(value),
        })
    }

    fn acquire(&self, mode: i32, timeout: Option<Duration>) -> Result<bool> {
        // SAFETY: valid handle and mode; thread-safe.
        check_wait(unsafe { sys::lox_rwlock_acquire(self.raw.as_ptr(), mode, seconds(timeout)) })
    }

    /// Takes a read hold, waiting as long as it takes.
    ///
    /// ```
    /// let lock = lox::RwLock::new(String::from("shared"))?;
    /// let (a, b) = (lock.read()?, lock.read()?);
    /// assert_eq!(a.len() + b.len(), 12);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn read(&self) -> Result<RwLockReadGuard<'_, T>> {
        self.read_timeout(None)
            .map(|g| g.expect("a wait without timeout timed out"))
    }

    /// Takes a read hold, waiting at most `timeout`; `Ok(None)` when it ran
    /// out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = lox::RwLock::new(0)?;
    /// let w = lock.write()?;
    /// assert!(lock.read_timeout(Some(Duration::from_millis(5)))?.is_none());
    /// drop(w);
    /// assert!(lock.read_timeout(Some(Duration::ZERO))?.is_some());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn read_timeout(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<RwLockReadGuard<'_, T>>> {
        Ok(if self.acquire(sys::LOX_READ, timeout)? {
            Some(RwLockReadGuard {
                lock: self,
                _value: PhantomData,
            })
        } else {
            None
        })
    }

    /// Takes the write hold, waiting as long as it takes.
    ///
    /// ```
    /// let lock = lox::RwLock::new(Vec::new())?;
    /// lock.write()?.push(1);
    /// assert_eq!(*lock.read()?, [1]);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn write(&self) -> Result<RwLockWriteGuard<'_, T>> {
        self.write_timeout(None)
            .map(|g| g.expect("a wait without timeout timed out"))
    }

    /// Takes the write hold, waiting at most `timeout`; `Ok(None)` when it
    /// ran out (and the readers it held back are let in again).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = lox::RwLock::new(0)?;
    /// let r = lock.read()?;
    /// assert!(lock.write_timeout(Some(Duration::from_millis(5)))?.is_none());
    /// drop(r);
    /// *lock.write_timeout(Some(Duration::ZERO))?.unwrap() = 3;
    /// assert_eq!(lock.into_inner(), 3);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn write_timeout(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<RwLockWriteGuard<'_, T>>> {
        Ok(if self.acquire(sys::LOX_WRITE, timeout)? {
            Some(RwLockWriteGuard {
                lock: self,
                _value: PhantomData,
            })
        } else {
            None
        })
    }

    /// Readers holding the lock now (a snapshot).
    pub fn readers(&self) -> usize {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_rwlock_readers(self.raw.as_ptr()) }
    }

    /// The value, through exclusive access.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Destroys the lock and returns the value.
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: as Lock::into_inner.
        unsafe {
            sys::lox_rwlock_destroy(this.raw.as_ptr());
            ptr::read(&this.data).into_inner()
        }
    }
}

impl<T> Drop for RwLock<T> {
    fn drop(&mut self) {
        // SAFETY: exclusive access: no guard and no waiter can exist.
        unsafe { sys::lox_rwlock_destroy(self.raw.as_ptr()) }
    }
}

impl<T> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock")
            .field("readers", &self.readers())
            .finish()
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read hold excludes writers.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: we hold one read hold; any thread may release it.
        let status = unsafe { sys::lox_rwlock_release(self.lock.raw.as_ptr(), sys::LOX_READ) };
        debug_assert_eq!(status, sys::LOX_OK);
    }
}

exclusive_guard!(RwLockWriteGuard, sys::lox_rwlock_release, sys::LOX_WRITE);

// ===========================================================================
// QLock
// ===========================================================================

/// A strict FIFO lock protecting a value (`lox_qlock`): waiters are served
/// in arrival order, and release hands the lock directly to the first in
/// line, so nobody can cut in.
///
/// ```
/// let q = lox::QLock::new(Vec::new())?;
/// q.lock()?.push("first");
/// assert_eq!(q.waiting(), 0);
/// assert_eq!(*q.lock()?, ["first"]);
/// # Ok::<(), lox::Error>(())
/// ```
pub struct QLock<T = ()> {
    raw: NonNull<sys::lox_qlock>,
    data: UnsafeCell<T>,
}

// SAFETY: same reasoning as Lock: lox_qlock is usable from any thread and
// any thread may release; one holder at a time gets &mut T (T: Send).
unsafe impl<T: Send> Send for QLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for QLock<T> {}

/// Proof that a [`QLock`] is held; derefs to the value, hands the lock to
/// the next in line when dropped.
pub struct QLockGuard<'a, T> {
    lock: &'a QLock<T>,
    _value: PhantomData<&'a mut T>,
}

impl<T> QLock<T> {
    /// Creates an unlocked QLock holding `value`.
    pub fn new(value: T) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::lox_qlock_create(&mut raw) })?;
        Ok(QLock {
            raw: non_null(raw, "lox_qlock_create"),
            data: UnsafeCell::new(value),
        })
    }

    /// Locks in FIFO order, waiting as long as it takes.
    ///
    /// ```
    /// let q = lox::QLock::new(0)?;
    /// *q.lock()? += 1;
    /// assert!(!q.is_locked());
    /// assert_eq!(q.into_inner(), 1);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn lock(&self) -> Result<QLockGuard<'_, T>> {
        self.lock_timeout(None)
            .map(|g| g.expect("a wait without timeout timed out"))
    }

    /// Locks in FIFO order, waiting at most `timeout`; `Ok(None)` when it
    /// ran out (the caller left the line, the others keep their order).
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = lox::QLock::new(())?;
    /// let held = q.lock()?;
    /// assert!(q.lock_timeout(Some(Duration::from_millis(5)))?.is_none());
    /// assert_eq!(q.waiting(), 0);
    /// drop(held);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Option<Duration>) -> Result<Option<QLockGuard<'_, T>>> {
        // SAFETY: valid handle; thread-safe.
        let got =
            check_wait(unsafe { sys::lox_qlock_acquire(self.raw.as_ptr(), seconds(timeout)) })?;
        Ok(if got {
            Some(QLockGuard {
                lock: self,
                _value: PhantomData,
            })
        } else {
            None
        })
    }

    /// Threads waiting in line now (a snapshot).
    pub fn waiting(&self) -> usize {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_qlock_waiting(self.raw.as_ptr()) }
    }

    /// Whether the lock is held now (a snapshot).
    pub fn is_locked(&self) -> bool {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_qlock_locked(self.raw.as_ptr()) == 1 }
    }

    /// The value, through exclusive access.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Destroys the lock and returns the value.
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: as Lock::into_inner.
        unsafe {
            sys::lox_qlock_destroy(this.raw.as_ptr());
            ptr::read(&this.data).into_inner()
        }
    }
}

impl<T> Drop for QLock<T> {
    fn drop(&mut self) {
        // SAFETY: exclusive access: no guard and no waiter can exist.
        unsafe { sys::lox_qlock_destroy(self.raw.as_ptr()) }
    }
}

impl<T> fmt::Debug for QLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QLock")
            .field("locked", &self.is_locked())
            .field("waiting", &self.waiting())
            .finish()
    }
}

exclusive_guard!(QLockGuard, sys::lox_qlock_release);

// ===========================================================================
// IndexSemaphore
// ===========================================================================

/// `n` numbered resources 0 .. n-1 (`lox_index_semaphore`): each holder
/// gets an index nobody else holds (e.g. a GPU number). The lowest free
/// index is handed out first. Not fair.
///
/// ```
/// let gpus = lox::IndexSemaphore::new(2)?;
/// let a = gpus.acquire()?;
/// let b = gpus.acquire()?;
/// assert_eq!((a.index(), b.index()), (0, 1));
/// assert_eq!(gpus.available(), 0);
/// drop(a);
/// assert_eq!(gpus.acquire()?.index(), 0);
/// # Ok::<(), lox::Error>(())
/// ```
pub struct IndexSemaphore {
    raw: NonNull<sys::lox_index_semaphore>,
    n: usize,
}

// SAFETY: lox.h: every lox_index_semaphore function is thread-safe and
// "returns `index` to the semaphore (any thread may)"; it protects no Rust
// data, so there is nothing else to bound.
unsafe impl Send for IndexSemaphore {}
// SAFETY: as above.
unsafe impl Sync for IndexSemaphore {}

/// A held index of an [`IndexSemaphore`]; returned when dropped.
#[derive(Debug)]
pub struct IndexGuard<'a> {
    semaphore: &'a IndexSemaphore,
    index: usize,
}

impl IndexSemaphore {
    /// Creates a semaphore over `n` indices, all free; `n == 0` is
    /// `LOX_EINVAL`.
    pub fn new(n: usize) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::lox_index_semaphore_create(n, &mut raw) })?;
        Ok(IndexSemaphore {
            raw: non_null(raw, "lox_index_semaphore_create"),
            n,
        })
    }

    /// Takes a free index, waiting as long as it takes.
    ///
    /// ```
    /// let s = lox::IndexSemaphore::new(4)?;
    /// let g = s.acquire()?;
    /// assert!(g.index() < s.capacity());
    /// assert_eq!(s.available(), 3);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn acquire(&self) -> Result<IndexGuard<'_>> {
        self.acquire_timeout(None)
            .map(|g| g.expect("a wait without timeout timed out"))
    }

    /// Takes a free index, waiting at most `timeout`; `Ok(None)` when none
    /// became free.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = lox::IndexSemaphore::new(1)?;
    /// let held = s.acquire()?;
    /// assert!(s.acquire_timeout(Some(Duration::from_millis(5)))?.is_none());
    /// drop(held);
    /// assert_eq!(s.acquire_timeout(Some(Duration::ZERO))?.unwrap().index(), 0);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Option<Duration>) -> Result<Option<IndexGuard<'_>>> {
        let mut index = 0usize;
        // SAFETY: valid handle and out-pointer; thread-safe.
        let got = check_wait(unsafe {
            sys::lox_index_semaphore_acquire(self.raw.as_ptr(), seconds(timeout), &mut index)
        })?;
        Ok(if got {
            Some(IndexGuard {
                semaphore: self,
                index,
            })
        } else {
            None
        })
    }

    /// The number of indices, `n`.
    pub fn capacity(&self) -> usize {
        self.n
    }

    /// Free indices now (a snapshot).
    pub fn available(&self) -> usize {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_index_semaphore_available(self.raw.as_ptr()) }
    }

    /// Threads blocked in acquire now (a snapshot).
    pub fn waiting(&self) -> usize {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::lox_index_semaphore_waiting(self.raw.as_ptr()) }
    }
}

impl Drop for IndexSemaphore {
    fn drop(&mut self) {
        // SAFETY: exclusive access: no guard and no waiter can exist.
        unsafe { sys::lox_index_semaphore_destroy(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for IndexSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexSemaphore")
            .field("capacity", &self.n)
            .field("available", &self.available())
            .finish()
    }
}

impl IndexGuard<'_> {
    /// The held index, in `0 .. capacity()`.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for IndexGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold `index`; any thread may release it.
        let status =
            unsafe { sys::lox_index_semaphore_release(self.semaphore.raw.as_ptr(), self.index) };
        debug_assert_eq!(status, sys::LOX_OK);
    }
}
