// SPDX-License-Identifier: Apache-2.0
//! Integration tests of lox::ThreadPool.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use lox::{TaskError, ThreadPool};

fn values<T: std::fmt::Debug>(round: Vec<Result<T, TaskError>>) -> Vec<T> {
    round.into_iter().map(|r| r.unwrap()).collect()
}

#[test]
fn lox_first_example_scatter_gather() {
    let pool = ThreadPool::new(5).unwrap();
    for x in 0..5u64 {
        pool.scatter(move || x * (x + 1)).unwrap();
    }
    assert_eq!(values(pool.gather().unwrap()), [0, 2, 6, 12, 20]);
}

#[test]
fn results_come_back_in_scatter_order() {
    let pool = ThreadPool::new(4).unwrap();
    for i in 0..200usize {
        // Later tasks finish first: order must still be scatter order.
        let idx = pool
            .scatter(move || {
                if i % 7 == 0 {
                    thread::sleep(Duration::from_millis(2));
                }
                i
            })
            .unwrap();
        assert_eq!(idx, i);
    }
    assert_eq!(values(pool.gather().unwrap()), (0..200).collect::<Vec<_>>());
    // The next round starts numbering at 0 again.
    assert_eq!(pool.scatter(|| 7).unwrap(), 0);
    assert_eq!(values(pool.gather().unwrap()), [7]);
}

#[test]
fn a_panicking_task_fails_alone() {
    let pool = ThreadPool::new(3).unwrap();
    for i in 0..6i32 {
        pool.scatter(move || {
            if i == 2 {
                panic!("task {} exploded", i);
            }
            if i == 4 {
                std::panic::panic_any(42u8); // non-string payload
            }
            i * 10
        })
        .unwrap();
    }
    let round = pool.gather().unwrap();
    assert_eq!(round.len(), 6);
    for (i, r) in round.iter().enumerate() {
        match i {
            2 => {
                let e = r.as_ref().unwrap_err();
                assert!(e.is_panic());
                assert_eq!(e.message(), "task 2 exploded");
                assert_eq!(e.status(), TaskError::PANIC_STATUS);
                assert!(e.to_string().contains("task 2 exploded"));
            }
            4 => {
                let e = r.as_ref().unwrap_err();
                assert!(e.is_panic());
                assert!(e.message().contains("non-string"));
            }
            _ => assert_eq!(r.as_ref().unwrap(), &(i as i32 * 10)),
        }
    }
    // The pool keeps working after a panic.
    pool.scatter(|| 1).unwrap();
    assert_eq!(values(pool.gather().unwrap()), [1]);
}

#[test]
fn many_tasks_from_several_threads() {
    let pool = ThreadPool::new(4).unwrap();
    let threads = 4usize;
    let per_thread = 500usize;
    let indices = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            let v = t * per_thread + i;
                            (pool.scatter(move || v).unwrap(), v)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let round = values(pool.gather().unwrap());
    assert_eq!(round.len(), threads * per_thread);
    // Each scatter's index points at its own value.
    for (index, v) in &indices {
        assert_eq!(round[*index], *v);
    }
    let mut sorted = round.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..threads * per_thread).collect::<Vec<_>>());
}

#[test]
fn tasks_run_in_parallel() {
    // Every task waits (up to a generous 30 s) until all of them have
    // started: this only succeeds if they run at the same time.
    let n = 4usize;
    let pool = ThreadPool::new(n).unwrap();
    let started = Arc::new((Mutex::new(0usize), Condvar::new()));
    for _ in 0..n {
        let started = Arc::clone(&started);
        pool.scatter(move || {
            let (count, cv) = &*started;
            let mut c = count.lock().unwrap();
            *c += 1;
            cv.notify_all();
            let (c, _) = cv
                .wait_timeout_while(c, Duration::from_secs(30), |c| *c < n)
                .unwrap();
            *c == n
        })
        .unwrap();
    }
    assert_eq!(values(pool.gather().unwrap()), vec![true; n]);
}

#[test]
fn gather_timeout_loses_nothing() {
    let pool = ThreadPool::new(2).unwrap();
    let (tx, rx) = mpsc::channel::<u32>();
    pool.scatter(move || rx.recv().unwrap()).unwrap();
    pool.scatter(|| 5).unwrap();
    assert!(pool
        .gather_timeout(Some(Duration::from_millis(20)))
        .unwrap()
        .is_none());
    assert!(pool.gather_timeout(Some(Duration::ZERO)).unwrap().is_none());
    tx.send(9).unwrap();
    let round = pool.gather_timeout(Some(Duration::from_secs(60))).unwrap();
    assert_eq!(values(round.unwrap()), [9, 5]);
}

#[test]
fn gather_progress_reports_every_task() {
    let pool = ThreadPool::new(3).unwrap();
    for i in 0..50 {
        pool.scatter(move || i).unwrap();
    }
    let mut calls = Vec::new();
    let round = pool
        .gather_progress(None, |done, total| calls.push((done, total)))
        .unwrap()
        .unwrap();
    assert_eq!(round.len(), 50);
    assert_eq!(*calls.last().unwrap(), (50, 50));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(calls.iter().all(|&(_, total)| total == 50));
}

#[test]
fn a_panicking_progress_callback_resumes_after_the_round_is_freed() {
    let pool = ThreadPool::new(2).unwrap();
    let token = Arc::new(());
    for _ in 0..10 {
        let t = Arc::clone(&token);
        pool.scatter(move || t).unwrap();
    }
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.gather_progress(None, |_, _| panic!("progress failed"))
            .ok()
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"progress failed"));
    // The round's values were dropped, not leaked.
    assert_eq!(Arc::strong_count(&token), 1);
    assert!(pool.gather().unwrap().is_empty());
}

#[test]
fn gather_inside_own_task_is_refused() {
    let pool = Arc::new(ThreadPool::<Option<i32>>::new(2).unwrap());
    let inner = Arc::clone(&pool);
    pool.scatter(move || {
        let err = inner.gather().unwrap_err();
        assert_eq!(err.code(), lox::sys::LOX_ESTATE);
        assert!(!err.detail().is_empty());
        // A task may still scatter to its own pool.
        inner.scatter(|| Some(2)).unwrap();
        None
    })
    .unwrap();
    let mut all = Vec::new();
    while all.len() < 2 {
        all.extend(values(pool.gather().unwrap()));
    }
    assert_eq!(all, [None, Some(2)]);
}

#[test]
fn drop_runs_queued_tasks_and_frees_ungathered_results() {
    let ran = Arc::new(AtomicUsize::new(0));
    let token = Arc::new(());
    {
        let pool = ThreadPool::new(2).unwrap();
        for _ in 0..100 {
            let ran = Arc::clone(&ran);
            let t = Arc::clone(&token);
            pool.scatter(move || {
                ran.fetch_add(1, Ordering::SeqCst);
                t
            })
            .unwrap();
        }
        // dropped without gather
    }
    assert_eq!(ran.load(Ordering::SeqCst), 100);
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn inline_pool_runs_tasks_in_scatter() {
    let pool = ThreadPool::new(0).unwrap();
    let me = thread::current().id();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    pool.scatter(move || {
        r.fetch_add(1, Ordering::SeqCst);
        thread::current().id()
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1); // before gather
    assert_eq!(values(pool.gather().unwrap()), [me]);
    pool.scatter(|| panic!("inline panic")).unwrap();
    assert!(pool.gather().unwrap()[0].as_ref().unwrap_err().is_panic());
}

#[test]
fn concurrent_gathers_get_disjoint_rounds() {
    let pool = ThreadPool::new(4).unwrap();
    let total = 400usize;
    let collected = Mutex::new(Vec::new());
    let scattered = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..total {
                pool.scatter(move || i).unwrap();
                scattered.fetch_add(1, Ordering::SeqCst);
            }
        });
        for _ in 0..2 {
            s.spawn(|| loop {
                let done = scattered.load(Ordering::SeqCst) == total;
                let round = values(pool.gather().unwrap());
                collected.lock().unwrap().extend(round);
                if done {
                    break;
                }
                thread::sleep(Duration::from_millis(1));
            });
        }
    });
    let mut all = collected.into_inner().unwrap();
    all.extend(values(pool.gather().unwrap()));
    all.sort_unstable();
    assert_eq!(all, (0..total).collect::<Vec<_>>());
}

#[test]
fn pool_counters() {
    let pool = ThreadPool::<()>::with_idle_timeout(3, Duration::from_secs(5)).unwrap();
    assert_eq!(pool.workers(), 0);
    assert_eq!(pool.pending(), 0);
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    for _ in 0..3 {
        let started = started_tx.clone();
        let release = Arc::clone(&release_rx);
        pool.scatter(move || {
            started.send(()).unwrap();
            let _ = release.lock().unwrap().recv();
        })
        .unwrap();
    }
    // All three tasks are running at once: three live workers, none pending.
    for _ in 0..3 {
        started_rx.recv().unwrap();
    }
    assert_eq!(pool.workers(), 3);
    assert_eq!(pool.pending(), 0);
    drop(release_tx);
    assert_eq!(pool.gather().unwrap().len(), 3);
    assert!(format!("{:?}", pool).starts_with("ThreadPool"));
}
