// SPDX-License-Identifier: Apache-2.0
//! Integration tests of the locks: Lock, LightSwitch, RwLock, QLock,
//! IndexSemaphore.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

use lox::{IndexSemaphore, LightSwitch, Lock, QLock, RwLock};

const THREADS: usize = 4;
const ROUNDS: usize = 2000;

/// A non-atomic read-modify-write with a yield in the middle: lost updates
/// show up unless the lock really excludes.
fn bump(v: &mut u64) {
    let old = *v;
    if old % 64 == 0 {
        thread::yield_now();
    }
    *v = old + 1;
}

/// Runs `round(i)` for i in 0..ROUNDS in each of THREADS threads at once.
fn in_threads(round: impl Fn(usize) + Sync) {
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..ROUNDS).for_each(&round));
        }
    });
}

#[test]
fn lock_mutual_exclusion() {
    let lock = Lock::new(0u64).unwrap();
    in_threads(|_| bump(&mut lock.lock().unwrap()));
    assert_eq!(lock.into_inner(), (THREADS * ROUNDS) as u64);
}

#[test]
fn lock_timeout_and_state() {
    let lock = Lock::new(1).unwrap();
    let g = lock.lock().unwrap();
    assert!(lock.is_locked());
    // Another thread cannot take it while held.
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock
                .lock_timeout(Some(Duration::from_millis(10)))
                .unwrap()
                .is_none());
            assert!(lock.lock_timeout(Some(Duration::ZERO)).unwrap().is_none());
        });
    });
    drop(g);
    assert!(!lock.is_locked());
    let mut lock = lock;
    *lock.get_mut() = 2;
    assert_eq!(
        *lock.lock_timeout(Some(Duration::ZERO)).unwrap().unwrap(),
        2
    );
}

#[test]
fn lock_guard_released_in_another_thread() {
    // liblox locks are not owned by a thread; a guard may move.
    let lock = Lock::new(String::new()).unwrap();
    let guard = lock.lock().unwrap();
    thread::scope(|s| {
        s.spawn(move || {
            let mut guard = guard;
            guard.push_str("moved");
        });
    });
    assert_eq!(*lock.lock().unwrap(), "moved");
}

#[test]
fn qlock_mutual_exclusion() {
    let lock = QLock::new(0u64).unwrap();
    in_threads(|_| bump(&mut lock.lock().unwrap()));
    assert_eq!(lock.into_inner(), (THREADS * ROUNDS) as u64);
}

#[test]
fn qlock_serves_waiters_in_arrival_order() {
    let lock = QLock::new(Vec::new()).unwrap();
    let n = 6usize;
    let held = lock.lock().unwrap();
    thread::scope(|s| {
        for i in 0..n {
            let lock = &lock;
            s.spawn(move || lock.lock().unwrap().push(i));
            // Wait until thread i is in line before starting thread i + 1.
            while lock.waiting() < i + 1 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(lock.waiting(), n);
        drop(held);
    });
    assert_eq!(lock.into_inner(), (0..n).collect::<Vec<_>>());
}

#[test]
fn qlock_timed_out_waiter_leaves_the_line() {
    let lock = QLock::new(()).unwrap();
    let held = lock.lock().unwrap();
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock
                .lock_timeout(Some(Duration::from_millis(10)))
                .unwrap()
                .is_none());
        });
    });
    assert_eq!(lock.waiting(), 0);
    assert!(lock.is_locked());
    drop(held);
    assert!(!lock.is_locked());
}

#[test]
fn rw_lock_writers_exclude() {
    let lock = RwLock::new(0u64).unwrap();
    in_threads(|i| {
        if i % 4 == 0 {
            // Readers see a consistent value while no writer is in.
            let r = lock.read().unwrap();
            let a = *r;
            thread::yield_now();
            assert_eq!(a, *r);
        } else {
            bump(&mut lock.write().unwrap());
        }
    });
    assert_eq!(lock.into_inner(), (THREADS * ROUNDS * 3 / 4) as u64);
}

#[test]
fn rw_lock_readers_hold_it_together() {
    let lock = RwLock::new(5).unwrap();
    let n = 3usize;
    // Each reader holds its read guard until all n readers are in at once;
    // a Barrier would deadlock if readers excluded each other.
    let barrier = Barrier::new(n);
    let max_seen = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                let r = lock.read().unwrap();
                assert_eq!(*r, 5);
                barrier.wait();
                max_seen.fetch_max(lock.readers(), Ordering::SeqCst);
                barrier.wait();
                drop(r);
            });
        }
    });
    assert_eq!(max_seen.load(Ordering::SeqCst), n);
    assert_eq!(lock.readers(), 0);
}

#[test]
fn rw_lock_writer_waits_for_readers_and_blocks_new_ones() {
    let lock = RwLock::new(0).unwrap();
    let r = lock.read().unwrap();
    assert!(lock
        .write_timeout(Some(Duration::from_millis(5)))
        .unwrap()
        .is_none());
    // The timed-out writer left no trace: readers still get in.
    let r2 = lock.read_timeout(Some(Duration::ZERO)).unwrap().unwrap();
    drop((r, r2));
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        let w = lock.write().unwrap();
        let lock = &lock;
        s.spawn(move || {
            let got = lock.read().unwrap();
            tx.send(*got).unwrap();
        });
        let mut w = w;
        *w = 7;
        drop(w);
    });
    assert_eq!(rx.recv().unwrap(), 7);
}

#[test]
fn light_switch_shares_and_excludes_the_janitor() {
    let lock = Lock::new(vec![1, 2, 3]).unwrap();
    let switch = LightSwitch::new(&lock).unwrap();
    let inside = AtomicBool::new(false);
    let n = 3usize;
    let barrier = Barrier::new(n + 1);
    thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                let g = switch.enter().unwrap();
                inside.store(true, Ordering::SeqCst);
                barrier.wait(); // all entrants are in at once
                barrier.wait();
                assert_eq!(g.len(), 3);
                drop(g);
            });
        }
        barrier.wait();
        assert_eq!(switch.count(), n);
        assert!(lock.is_locked());
        assert!(lock
            .lock_timeout(Some(Duration::from_millis(5)))
            .unwrap()
            .is_none());
        barrier.wait();
    });
    assert!(inside.load(Ordering::SeqCst));
    assert_eq!(switch.count(), 0);
    assert!(!lock.is_locked());
    lock.lock().unwrap().push(4);
    assert_eq!(switch.enter().unwrap().len(), 4);
    drop(switch);
    assert_eq!(lock.into_inner(), [1, 2, 3, 4]);
}

#[test]
fn index_semaphore_indices_are_unique() {
    let n = 3usize;
    let semaphore = IndexSemaphore::new(n).unwrap();
    assert_eq!(semaphore.capacity(), n);
    let in_use: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
    let max_held = AtomicUsize::new(0);
    let held = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS * 2 {
            s.spawn(|| {
                for i in 0..500 {
                    let g = semaphore.acquire().unwrap();
                    assert!(g.index() < n);
                    assert!(
                        !in_use[g.index()].swap(true, Ordering::SeqCst),
                        "index handed out twice"
                    );
                    let h = held.fetch_add(1, Ordering::SeqCst) + 1;
                    max_held.fetch_max(h, Ordering::SeqCst);
                    if i % 16 == 0 {
                        thread::yield_now();
                    }
                    held.fetch_sub(1, Ordering::SeqCst);
                    in_use[g.index()].store(false, Ordering::SeqCst);
                    drop(g);
                }
            });
        }
    });
    assert!(max_held.load(Ordering::SeqCst) <= n);
    assert_eq!(semaphore.available(), n);
    assert_eq!(semaphore.waiting(), 0);
}

#[test]
fn index_semaphore_timeout() {
    let semaphore = IndexSemaphore::new(2).unwrap();
    let a = semaphore.acquire().unwrap();
    let b = semaphore
        .acquire_timeout(Some(Duration::ZERO))
        .unwrap()
        .unwrap();
    assert_eq!((a.index(), b.index()), (0, 1));
    assert_eq!(semaphore.available(), 0);
    assert!(semaphore
        .acquire_timeout(Some(Duration::from_millis(10)))
        .unwrap()
        .is_none());
    assert!(semaphore
        .acquire_timeout(Some(Duration::ZERO))
        .unwrap()
        .is_none());
    // A blocked acquirer gets the index released by another thread.
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            semaphore
                .acquire_timeout(Some(Duration::from_secs(60)))
                .unwrap()
                .map(|g| g.index())
        });
        while semaphore.waiting() == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        drop(b);
        assert_eq!(waiter.join().unwrap(), Some(1));
    });
    drop(a);
    assert_eq!(semaphore.available(), 2);
}

#[test]
fn guards_unlock_across_threads_via_arc() {
    let lock = Arc::new(Lock::new(0u32).unwrap());
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                for _ in 0..100 {
                    *lock.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*lock.lock().unwrap(), (THREADS * 100) as u32);
}
