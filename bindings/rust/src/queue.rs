// SPDX-License-Identifier: Apache-2.0
//! A typed, closable MPMC FIFO over `lox_queue`.

use std::fmt;
use std::marker::PhantomData;
use std::os::raw::c_void;
use std::ptr::{self, NonNull};
use std::time::Duration;

use crate::{check, check_wait, seconds, sys, Error, Result};

/// A put that did not happen: the error (timeout, closed, ...) and the
/// item, handed back to the caller.
///
/// ```
/// let q = lox::Queue::new(0)?;
/// q.close()?;
/// let err = q.put(String::from("late")).unwrap_err();
/// assert!(err.error().is_closed());
/// assert_eq!(err.into_item(), "late");
/// # Ok::<(), lox::Error>(())
/// ```
pub struct PutError<T> {
    error: Error,
    item: T,
    op: &'static str,
}

impl<T> PutError<T> {
    /// `op` names the call in the Display text ("queue put").
    pub(crate) fn new(op: &'static str, error: Error, item: T) -> Self {
        PutError { error, item, op }
    }

    /// Why the item was not put.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The item that was not put.
    pub fn into_item(self) -> T {
        self.item
    }

    /// Both parts.
    pub fn into_parts(self) -> (Error, T) {
        (self.error, self.item)
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.error)
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Error {
        e.error
    }
}

/// A closable multi-producer multi-consumer FIFO of owned values
/// (`lox_queue`, Python's `queue.Queue` plus `close`), optionally bounded.
///
/// Each item travels as a `Box<T>` inside liblox's `void *`; items still in
/// the queue when it is dropped are dropped with it.
///
/// ```
/// use std::sync::Arc;
/// let q = Arc::new(lox::Queue::new(0)?);
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || {
///         for i in 0..3 {
///             q.put(i).unwrap();
///         }
///         q.close().unwrap();
///     })
/// };
/// let mut got = Vec::new();
/// loop {
///     match q.get() {
///         Ok(v) => got.push(v),
///         Err(e) if e.is_closed() => break, // closed and drained
///         Err(e) => return Err(e),
///     }
/// }
/// producer.join().unwrap();
/// assert_eq!(got, [0, 1, 2]);
/// # Ok::<(), lox::Error>(())
/// ```
pub struct Queue<T: Send> {
    raw: NonNull<sys::lox_queue>,
    // The queue owns the boxed items inside it.
    _items: PhantomData<T>,
}

// SAFETY: lox.h: "All functions are thread-safe" for queues; destroy is only
// called in Drop (exclusive access). Items move from the putting thread to
// the getting thread (or are dropped in whichever thread drops the queue),
// so T: Send is required; no &T is ever shared, so T: Sync is not.
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as above: every &self method is a thread-safe liblox call and
// moves owned items only.
unsafe impl<T: Send> Sync for Queue<T> {}

impl<T: Send> Queue<T> {
    /// Creates an empty queue holding at most `maxsize` items (0:
    /// unbounded).
    ///
    /// ```
    /// let q = lox::Queue::<u8>::new(2)?;
    /// assert_eq!(q.maxsize(), 2);
    /// assert!(q.is_empty());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn new(maxsize: usize) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::lox_queue_create(maxsize, &mut raw) })?;
        Ok(Queue {
            raw: NonNull::new(raw).expect("lox_queue_create returned LOX_OK and NULL"),
            _items: PhantomData,
        })
    }

    /// Appends `item`, waiting as long as it takes for room. Fails (handing
    /// the item back) when the queue is closed.
    ///
    /// ```
    /// let q = lox::Queue::new(0)?;
    /// q.put(vec![1, 2]).unwrap();
    /// assert_eq!(q.len(), 1);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.put_timeout(item, None)
    }

    /// Appends `item`, waiting at most `timeout` for room (zero: try once).
    /// On failure the item is handed back with the error: `is_timeout()`
    /// when the queue stayed full, `is_closed()` when it is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = lox::Queue::new(1)?;
    /// q.put_timeout('a', Some(Duration::ZERO)).unwrap();
    /// let err = q.put_timeout('b', Some(Duration::from_millis(5))).unwrap_err();
    /// assert!(err.error().is_timeout());
    /// assert_eq!(err.into_item(), 'b');
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn put_timeout(
        &self,
        item: T,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), PutError<T>> {
        let boxed = Box::into_raw(Box::new(item));
        // SAFETY: valid handle; the queue stores the pointer without
        // dereferencing it, and hands it back exactly once to a get.
        let status = unsafe {
            sys::lox_queue_put(self.raw.as_ptr(), boxed as *mut c_void, seconds(timeout))
        };
        if status == sys::LOX_OK {
            Ok(())
        } else {
            let error = Error::from_code(status);
            // SAFETY: the put did not happen ("a put that returns
            // LOX_TIMEOUT leaves no trace"; errors change nothing), so the
            // box is still ours.
            let item = *unsafe { Box::from_raw(boxed) };
            Err(PutError::new("queue put", error, item))
        }
    }

    /// Removes the oldest item, waiting as long as it takes. Once the queue
    /// is closed and drained this fails with `is_closed()`.
    ///
    /// ```
    /// let q = lox::Queue::new(0)?;
    /// q.put('x').unwrap();
    /// assert_eq!(q.get()?, 'x');
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn get(&self) -> Result<T> {
        self.get_timeout(None)
            .map(|v| v.expect("a wait without timeout timed out"))
    }

    /// Removes the oldest item, waiting at most `timeout`: `Ok(None)` when
    /// it stayed empty, an `is_closed()` error once closed and drained.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = lox::Queue::new(0)?;
    /// assert_eq!(q.get_timeout(Some(Duration::ZERO))?, None);
    /// q.put(1).unwrap();
    /// q.close()?;
    /// assert_eq!(q.get_timeout(Some(Duration::ZERO))?, Some(1)); // drains first
    /// assert!(q.get_timeout(Some(Duration::ZERO)).unwrap_err().is_closed());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn get_timeout(&self, timeout: Option<Duration>) -> Result<Option<T>> {
        let mut item: *mut c_void = ptr::null_mut();
        // SAFETY: valid handle and out-pointer.
        let got = check_wait(unsafe {
            sys::lox_queue_get(self.raw.as_ptr(), &mut item, seconds(timeout))
        })?;
        if got {
            // SAFETY: every item in this queue is a Box<T> put by put_timeout,
            // delivered exactly once.
            Ok(Some(*unsafe { Box::from_raw(item as *mut T) }))
        } else {
            Ok(None)
        }
    }

    /// Closes the queue: later puts fail with `is_closed()`, gets drain
    /// what is left and then fail with `is_closed()`, and every blocked put
    /// and get wakes up. Closing twice is fine.
    ///
    /// ```
    /// let q = lox::Queue::<i32>::new(0)?;
    /// let waiter = std::thread::scope(|s| {
    ///     let h = s.spawn(|| q.get()); // blocks until the close
    ///     q.close().unwrap();
    ///     h.join().unwrap()
    /// });
    /// assert!(waiter.unwrap_err().is_closed());
    /// assert!(q.is_closed());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        // SAFETY: valid handle.
        check(unsafe { sys::lox_queue_close(self.raw.as_ptr()) })
    }

    /// Whether [`close`](Queue::close) was called.
    pub fn is_closed(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::lox_queue_closed(self.raw.as_ptr()) == 1 }
    }

    /// Marks one item that was got as fully processed (`queue.Queue.task_done`).
    /// Fails with `LOX_ESTATE` when called more often than items were got.
    ///
    /// ```
    /// let q = lox::Queue::new(0)?;
    /// q.put("job").unwrap();
    /// assert_eq!(q.get()?, "job");
    /// q.task_done()?;
    /// assert_eq!(q.task_done().unwrap_err().code(), lox::sys::LOX_ESTATE);
    /// q.join()?; // every item put was marked done
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn task_done(&self) -> Result<()> {
        // SAFETY: valid handle.
        check(unsafe { sys::lox_queue_task_done(self.raw.as_ptr()) })
    }

    /// Waits until every item ever put has been got and marked with
    /// [`task_done`](Queue::task_done).
    pub fn join(&self) -> Result<()> {
        self.join_timeout(None).map(|_| ())
    }

    /// Like [`join`](Queue::join), waiting at most `timeout`: `Ok(false)`
    /// when it ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = lox::Queue::new(0)?;
    /// q.put(1).unwrap();
    /// assert!(!q.join_timeout(Some(Duration::from_millis(5)))?);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn join_timeout(&self, timeout: Option<Duration>) -> Result<bool> {
        // SAFETY: valid handle.
        check_wait(unsafe { sys::lox_queue_join(self.raw.as_ptr(), seconds(timeout)) })
    }

    /// Items in the queue now (a snapshot).
    ///
    /// ```
    /// let q = lox::Queue::new(3)?;
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// assert_eq!(q.len(), 2);
    /// assert!(!q.is_empty() && !q.is_full());
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::lox_queue_size(self.raw.as_ptr()) }
    }

    /// Whether the queue is empty now (a snapshot).
    pub fn is_empty(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::lox_queue_empty(self.raw.as_ptr()) == 1 }
    }

    /// Whether a bounded queue holds `maxsize` items now (a snapshot).
    pub fn is_full(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::lox_queue_full(self.raw.as_ptr()) == 1 }
    }

    /// The bound given to [`new`](Queue::new) (0: unbounded).
    pub fn maxsize(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::lox_queue_maxsize(self.raw.as_ptr()) }
    }
}

impl<T: Send> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("len", &self.len())
            .field("maxsize", &self.maxsize())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T: Send> Drop for Queue<T> {
    fn drop(&mut self) {
        // lox_queue_destroy frees the queue but not the items: take every
        // item left (gets drain a closed queue too) and drop it. Nobody else
        // can use the queue now (we have &mut self).
        struct Destroy(*mut sys::lox_queue);
        impl Drop for Destroy {
            fn drop(&mut self) {
                // SAFETY: exclusive access; runs even if an item's Drop panics.
                unsafe { sys::lox_queue_destroy(self.0) }
            }
        }
        let _destroy = Destroy(self.raw.as_ptr());
        while let Ok(Some(item)) = self.get_timeout(Some(Duration::ZERO)) {
            drop(item);
        }
    }
}
