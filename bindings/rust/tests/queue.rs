// SPDX-License-Identifier: Apache-2.0
//! Integration tests of lox::Queue.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use lox::Queue;

#[test]
fn fifo_single_thread() {
    let q = Queue::new(0).unwrap();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    assert_eq!(q.len(), 100);
    let got: Vec<i32> = (0..100).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert!(q.is_empty());
}

#[test]
fn producers_and_consumers_exactly_once() {
    let producers = 4usize;
    let consumers = 3usize;
    let per_producer = 2000usize;
    let q = Queue::new(64).unwrap(); // bounded: puts also wait for room
    let got = Mutex::new(Vec::new());
    thread::scope(|s| {
        let consumer_handles: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        match q.get() {
                            Ok(v) => mine.push(v),
                            Err(e) => {
                                assert!(e.is_closed(), "{}", e);
                                break;
                            }
                        }
                    }
                    got.lock().unwrap().extend(mine);
                })
            })
            .collect();
        let producer_handles: Vec<_> = (0..producers)
            .map(|p| {
                let q = &q;
                s.spawn(move || {
                    for i in 0..per_producer {
                        q.put(Box::new(p * per_producer + i)).unwrap();
                    }
                })
            })
            .collect();
        for h in producer_handles {
            h.join().unwrap();
        }
        q.close().unwrap();
        for h in consumer_handles {
            h.join().unwrap();
        }
    });
    let mut all: Vec<usize> = got.into_inner().unwrap().into_iter().map(|b| *b).collect();
    assert_eq!(all.len(), producers * per_producer);
    all.sort_unstable();
    assert_eq!(all, (0..producers * per_producer).collect::<Vec<_>>());
}

#[test]
fn each_producer_order_is_kept() {
    let q = Queue::new(0).unwrap();
    thread::scope(|s| {
        for p in 0..3usize {
            let q = &q;
            s.spawn(move || {
                for i in 0..500usize {
                    q.put((p, i)).unwrap();
                }
            });
        }
    });
    q.close().unwrap();
    let mut next = [0usize; 3];
    while let Ok((p, i)) = q.get() {
        assert_eq!(i, next[p]);
        next[p] += 1;
    }
    assert_eq!(next, [500; 3]);
}

#[test]
fn close_drains_then_reports_closed() {
    let q = Queue::new(0).unwrap();
    q.put("a".to_string()).unwrap();
    q.put("b".to_string()).unwrap();
    assert!(!q.is_closed());
    q.close().unwrap();
    q.close().unwrap(); // twice is fine
    assert!(q.is_closed());
    let err = q.put("c".to_string()).unwrap_err();
    assert!(err.error().is_closed());
    assert_eq!(err.error().code(), lox::sys::LOX_ECLOSED);
    assert_eq!(err.into_item(), "c");
    assert_eq!(q.get().unwrap(), "a");
    assert_eq!(q.get_timeout(Some(Duration::ZERO)).unwrap().unwrap(), "b");
    assert!(q.get().unwrap_err().is_closed());
    assert!(q.get_timeout(Some(Duration::ZERO)).unwrap_err().is_closed());
}

#[test]
fn close_wakes_blocked_getters_and_putters() {
    let empty = Queue::<u8>::new(0).unwrap();
    let full = Queue::new(1).unwrap();
    full.put(1u8).unwrap();
    thread::scope(|s| {
        let getters: Vec<_> = (0..2).map(|_| s.spawn(|| empty.get())).collect();
        let putter = s.spawn(|| full.put(2).map_err(|e| e.into_parts()));
        // Give them a moment to block (the outcome does not depend on it).
        thread::sleep(Duration::from_millis(10));
        empty.close().unwrap();
        full.close().unwrap();
        for g in getters {
            assert!(g.join().unwrap().unwrap_err().is_closed());
        }
        let (err, item) = putter.join().unwrap().unwrap_err();
        assert!(err.is_closed());
        assert_eq!(item, 2);
    });
    assert_eq!(full.get().unwrap(), 1);
}

#[test]
fn bounded_put_times_out_and_returns_the_item() {
    let q = Queue::new(2).unwrap();
    q.put(vec![1]).unwrap();
    q.put(vec![2]).unwrap();
    assert!(q.is_full());
    assert_eq!(q.maxsize(), 2);
    let err = q
        .put_timeout(vec![3], Some(Duration::from_millis(10)))
        .unwrap_err();
    assert!(err.error().is_timeout());
    assert_eq!(err.into_item(), vec![3]);
    let err = q.put_timeout(vec![4], Some(Duration::ZERO)).unwrap_err();
    assert!(err.error().is_timeout());
    assert_eq!(q.len(), 2);
    assert_eq!(q.get().unwrap(), vec![1]);
    q.put_timeout(vec![5], Some(Duration::ZERO)).unwrap();
    assert_eq!(q.get().unwrap(), vec![2]);
    assert_eq!(q.get().unwrap(), vec![5]);
    assert_eq!(q.get_timeout(Some(Duration::from_millis(5))).unwrap(), None);
}

#[test]
fn drop_frees_items_left_inside() {
    let token = Arc::new(());
    {
        let q = Queue::new(0).unwrap();
        for _ in 0..1000 {
            q.put(Arc::clone(&token)).unwrap();
        }
        drop(q.get().unwrap());
        assert_eq!(Arc::strong_count(&token), 1000);
    }
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn drop_of_closed_queue_frees_items() {
    struct Counted<'a>(&'a AtomicUsize);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = AtomicUsize::new(0);
    {
        let q = Queue::new(8).unwrap();
        for _ in 0..5 {
            q.put(Counted(&drops))
                .map_err(|e| e.into_parts().0)
                .unwrap();
        }
        q.close().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[test]
fn task_done_and_join_across_threads() {
    let q = Arc::new(Queue::new(0).unwrap());
    let n = 200usize;
    for i in 0..n {
        q.put(i).unwrap();
    }
    assert!(!q.join_timeout(Some(Duration::ZERO)).unwrap());
    let processed = Arc::new(Mutex::new(HashSet::new()));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let q = Arc::clone(&q);
            let processed = Arc::clone(&processed);
            thread::spawn(move || {
                while let Ok(Some(v)) = q.get_timeout(Some(Duration::ZERO)) {
                    assert!(processed.lock().unwrap().insert(v));
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    q.join().unwrap(); // returns only once all n are marked done
    assert_eq!(processed.lock().unwrap().len(), n);
    for w in workers {
        w.join().unwrap();
    }
    let err = q.task_done().unwrap_err();
    assert_eq!(err.code(), lox::sys::LOX_ESTATE);
    assert!(q.join_timeout(Some(Duration::ZERO)).unwrap());
}

#[test]
fn zero_sized_items() {
    let q = Queue::new(0).unwrap();
    for _ in 0..10 {
        q.put(()).unwrap();
    }
    assert_eq!(q.len(), 10);
    for _ in 0..10 {
        q.get().unwrap();
    }
    assert!(q.get_timeout(Some(Duration::ZERO)).unwrap().is_none());
}

#[test]
fn queue_feeds_a_thread_pool() {
    let q = Arc::new(Queue::new(0).unwrap());
    let pool = lox::ThreadPool::new(4).unwrap();
    for _ in 0..4 {
        let q = Arc::clone(&q);
        pool.scatter(move || {
            let mut sum = 0u64;
            while let Ok(v) = q.get() {
                sum += v;
            }
            sum
        })
        .unwrap();
    }
    for v in 1..=1000u64 {
        q.put(v).unwrap();
    }
    q.close().unwrap();
    let total: u64 = pool.gather().unwrap().into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(total, 500_500);
}
