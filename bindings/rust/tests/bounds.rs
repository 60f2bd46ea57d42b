// SPDX-License-Identifier: Apache-2.0
//! The positive side of the compile_fail doc tests in src/lib.rs: with
//! thread-safe types the same programs compile, and the wrappers have the
//! auto traits their `unsafe impl`s promise.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

fn is_send<T: Send>() {}
fn is_sync<T: Sync>() {}

// Checked at compile time: this file does not build if a wrapper lost the
// auto traits its `unsafe impl`s promise.
#[allow(dead_code)]
fn wrappers_are_send_and_sync_for_thread_safe_values() {
    is_send::<lox::ThreadPool<Arc<i32>>>();
    is_sync::<lox::ThreadPool<Arc<i32>>>();
    is_send::<lox::Queue<Arc<i32>>>();
    is_sync::<lox::Queue<Arc<i32>>>();
    // A Queue only moves items: a Send but !Sync item is fine.
    is_sync::<lox::Queue<std::cell::Cell<i32>>>();
    is_sync::<lox::Lock<std::cell::Cell<i32>>>();
    is_sync::<lox::QLock<Vec<u8>>>();
    is_sync::<lox::RwLock<AtomicI32>>();
    is_send::<lox::Announcement<String>>();
    is_sync::<lox::Announcement<String>>();
    is_send::<lox::IndexSemaphore>();
    is_sync::<lox::IndexSemaphore>();
    is_sync::<lox::LightSwitch<'static, u8>>();
    is_send::<lox::LockGuard<'static, u8>>();
}

#[test]
fn arc_goes_where_rc_cannot() {
    let q = lox::Queue::new(0).unwrap();
    q.put(Arc::new(1)).unwrap();
    assert_eq!(*q.get().unwrap(), 1);

    let pool = lox::ThreadPool::new(2).unwrap();
    let shared = Arc::new(1);
    pool.scatter(move || *shared + 1).unwrap();
    pool.scatter(|| Arc::new(2).to_string().parse::<i32>().unwrap())
        .unwrap();
    let round: Vec<i32> = pool
        .gather()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(round, [2, 2]);

    let lock = lox::Lock::new(Arc::new(1)).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| drop(lock.lock().unwrap()));
    });

    let rw_lock = lox::RwLock::new(AtomicI32::new(1)).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| rw_lock.read().unwrap().load(Ordering::Relaxed));
    });
    assert_eq!(rw_lock.into_inner().into_inner(), 1);
}
