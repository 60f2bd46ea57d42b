// SPDX-License-Identifier: Apache-2.0
//! Integration tests of lox::Announcement: lox's many-to-many membership
//! (the creator is a member), publishers, backlog, all-or-none puts, huge
//! bounds, and the ownership of the items shared by every receiver.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use lox::sys::{LOX_BACKLOG_OFF, LOX_BACKLOG_UNBOUNDED};
use lox::Announcement;

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Every item left in `a`'s queue, in order, without waiting.
fn drain<T: Send + Sync + Clone>(a: &Announcement<T>) -> Vec<T> {
    let mut v = Vec::new();
    while let Ok(Some(x)) = a.get_timeout(NOW) {
        v.push((*x).clone());
    }
    v
}

// lox 0.6: foo = ann.subscribe(); foo.put(42); ann.get() == 42; len(ann)
// is 3 after two subscribes.
#[test]
fn lox_many_to_many_example() {
    let ann = Announcement::new(0, LOX_BACKLOG_OFF).unwrap();
    assert_eq!(ann.subscribers(), 1);
    assert!(ann.is_member());
    let foo = ann.subscribe(0).unwrap();
    let bar = ann.subscribe(0).unwrap();
    assert_eq!(ann.subscribers(), 3);
    foo.put(42).unwrap();
    assert_eq!(*ann.get().unwrap(), 42);
    assert_eq!(*bar.get().unwrap(), 42);
    assert!(drain(&foo).is_empty(), "not to the sender");
    ann.put(5).unwrap();
    bar.put(7).unwrap();
    assert_eq!(drain(&ann), [7]);
    assert_eq!(drain(&foo), [5, 7]);
    assert_eq!(drain(&bar), [5]);
}

#[test]
fn creator_waiting_in_get_receives_a_subscribers_put() {
    let ann = Announcement::new(0, LOX_BACKLOG_OFF).unwrap();
    let foo = ann.subscribe(0).unwrap();
    thread::scope(|s| {
        let getter = s.spawn(|| ann.get().map(|x| *x));
        thread::sleep(Duration::from_millis(10)); // the outcome does not depend on it
        foo.put(String::from("hi").len()).unwrap();
        assert_eq!(getter.join().unwrap().unwrap(), 2);
    });
}

#[test]
fn publishers_reach_every_member_and_receive_nothing() {
    let ann = Announcement::new(0, LOX_BACKLOG_UNBOUNDED).unwrap();
    let a = ann.subscribe(0).unwrap();
    let p = a.publisher().unwrap();
    assert!(!p.is_member());
    assert_eq!(p.subscribers(), 2, "a publisher is not a member");
    p.put("from p").unwrap();
    assert_eq!(drain(&ann), ["from p"]);
    assert_eq!(drain(&a), ["from p"]);
    assert!(p.get_timeout(NOW).unwrap_err().is_closed());
    assert_eq!(p.unsubscribe().unwrap_err().code(), lox::sys::LOX_ESTATE);
    let late = p.subscribe(0).unwrap();
    assert_eq!(drain(&late), ["from p"], "the backlog");
}

#[test]
fn creator_gets_live_puts_not_the_backlog() {
    let ann = Announcement::new(0, 2).unwrap();
    ann.put(1).unwrap();
    ann.put(2).unwrap();
    assert_eq!(ann.backlog(), 2);
    assert!(ann.is_empty());
    let a = ann.subscribe(0).unwrap();
    a.put(3).unwrap();
    assert_eq!(drain(&ann), [3]);
    let late = ann.subscribe(0).unwrap();
    assert_eq!(drain(&late), [2, 3]);
    assert_eq!(drain(&a), [1, 2]);
    ann.finalize().unwrap();
    assert_eq!(ann.backlog(), 0);
    assert!(ann.subscribe(0).unwrap_err().is_closed());
}

#[test]
fn creator_queue_has_the_group_bound_and_puts_are_all_or_none() {
    let ann = Announcement::new(1, LOX_BACKLOG_OFF).unwrap();
    let a = ann.subscribe(5).unwrap();
    a.put(1).unwrap();
    assert!(ann.is_full());
    let err = a
        .put_timeout(2, Some(Duration::from_millis(5)))
        .unwrap_err();
    assert!(err.error().is_timeout());
    assert_eq!(err.into_item(), 2);
    thread::scope(|s| {
        let putter = s.spawn(|| a.put(3).map_err(|e| e.into_parts().0));
        assert_eq!(*ann.get().unwrap(), 1); // makes room for the blocked put
        putter.join().unwrap().unwrap();
    });
    assert_eq!(drain(&ann), [3]);
}

#[test]
fn creator_may_unsubscribe_and_be_dropped_first() {
    let ann = Announcement::new(0, LOX_BACKLOG_OFF).unwrap();
    let a = ann.subscribe(0).unwrap();
    let b = ann.subscribe(0).unwrap();
    a.put(1).unwrap();
    ann.unsubscribe().unwrap();
    assert!(!ann.is_member());
    assert_eq!(a.subscribers(), 2);
    a.put(2).unwrap();
    assert_eq!(drain(&ann), [1], "drains what it had");
    assert!(ann.get_timeout(NOW).unwrap_err().is_closed());
    ann.put(3).unwrap(); // it may still put
    drop(ann);
    assert_eq!(drain(&b), [1, 2, 3]);
    assert_eq!(drain(&a), [3]);
}

// Bounds are counts, not allocations: usize::MAX, usize::MAX / 2 and the
// largest backlog work, the creator's queue included.
#[test]
fn huge_maxsize_and_backlog() {
    for maxsize in [usize::MAX, usize::MAX / 2] {
        for backlog in [LOX_BACKLOG_UNBOUNDED, i64::MAX] {
            let ann = Announcement::new(maxsize, backlog).unwrap();
            let a = ann.subscribe(maxsize).unwrap();
            for i in 0..3 {
                a.put_timeout(i, NOW).unwrap();
            }
            assert!(!ann.is_full());
            assert_eq!(drain(&ann), [0, 1, 2]);
            assert_eq!(ann.backlog(), 3);
            let late = ann.subscribe(usize::MAX).unwrap();
            assert_eq!(drain(&late), [0, 1, 2]);
        }
    }
    assert_eq!(
        Announcement::<u8>::new(0, -2).unwrap_err().code(),
        lox::sys::LOX_EINVAL
    );
}

// Each item lives until its last copy is got, pushed out of the backlog,
// freed by finalize, or dropped with a receive queue or the group.
#[test]
fn items_are_dropped_with_their_last_copy() {
    let token = Arc::new(());
    {
        let ann = Announcement::new(0, 2).unwrap();
        let a = ann.subscribe(0).unwrap();
        let b = ann.subscribe(0).unwrap();
        for _ in 0..3 {
            a.put(Arc::clone(&token)).unwrap(); // ann, b and the backlog
        }
        // 3 values; the backlog kept the last 2; ann and b hold all 3.
        assert_eq!(Arc::strong_count(&token), 4);
        drop(ann.get().unwrap());
        assert_eq!(
            Arc::strong_count(&token),
            4,
            "b still holds the first value"
        );
        drop(b); // its 3 copies go with it, the first value's last one
        assert_eq!(Arc::strong_count(&token), 3);
        drop(drain(&ann));
        assert_eq!(
            Arc::strong_count(&token),
            3,
            "the backlog still holds the other two"
        );
        let late = a.subscribe(0).unwrap(); // gets the 2 backlog values
        a.finalize().unwrap();
        assert_eq!(Arc::strong_count(&token), 3, "late still holds them");
        drop(late);
        assert_eq!(Arc::strong_count(&token), 1);
        a.put(Arc::clone(&token)).unwrap(); // only ann receives it
        assert_eq!(Arc::strong_count(&token), 2);
    } // the group goes, and what ann held with it
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn many_members_and_publishers_exactly_once() {
    const N: usize = 300;
    let ann = Announcement::new(4, LOX_BACKLOG_OFF).unwrap(); // puts often wait for room
    let subs: Vec<_> = (0..2).map(|_| ann.subscribe(0).unwrap()).collect();
    let pubs: Vec<_> = (0..2).map(|_| ann.publisher().unwrap()).collect();
    thread::scope(|s| {
        let mut receivers = vec![&ann];
        receivers.extend(subs.iter());
        let readers: Vec<_> = receivers
            .into_iter()
            .map(|r| {
                s.spawn(move || {
                    let mut next = [0usize; 2];
                    for _ in 0..2 * N {
                        let (p, i) = *r.get().unwrap();
                        assert_eq!(i, next[p], "each publisher's order, exactly once");
                        next[p] += 1;
                    }
                    next
                })
            })
            .collect();
        for (p, publisher) in pubs.iter().enumerate() {
            s.spawn(move || {
                for i in 0..N {
                    publisher.put((p, i)).unwrap();
                }
            });
        }
        for r in readers {
            assert_eq!(r.join().unwrap(), [N, N]);
        }
    });
}
