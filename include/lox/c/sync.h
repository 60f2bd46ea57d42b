/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: the synchronization objects. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_SYNC_H
#define LOX_C_SYNC_H

#include <stddef.h>
#include <lox/c/api.h>
#include <lox/c/status.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Synchronization (lox.lock)                                                */
/* ------------------------------------------------------------------------ */

/* Shared rules of the synchronization objects
 * - Every acquire takes a timeout in seconds: negative (LOX_FOREVER) waits
 *   forever, 0 tries once without blocking, NaN is LOX_EINVAL. Waits use
 *   the monotonic clock; spurious wake-ups are absorbed, the total wait never
 *   exceeds the timeout (beyond scheduling delay). A blocked acquirer spins
 *   for a few microseconds, then sleeps on a futex. A release makes no
 *   system call when nobody waits. An acquire that returns LOX_TIMEOUT
 *   leaves no trace: nothing half-taken, no place kept in any line.
 * - Locks are not owned by a thread: any thread may release what another
 *   acquired (a LightSwitch's last reader releases a lock that another
 *   thread acquired). None is recursive: acquiring twice from one thread
 *   without a release in between waits (deadlocks without a timeout).
 * - Destroying an object while threads are blocked in its acquire is a
 *   usage error that is detected: `lox_X_destroy` logs an ERROR ("qlock
 *   destroy: 2 thread(s) still waiting on it ..."), wakes every blocked
 *   waiter, which returns LOX_ESTATE with the detail "... was destroyed
 *   while this thread waited", waits until all of them have left the
 *   object, and only then frees it. A call that *starts* on an object while
 *   it is being destroyed is still undefined behaviour; one that starts
 *   after the destroy returned is reported (LOX_EINVAL, see the handle check
 *   above); calls that do not block (release, counters) must not race with
 *   destroy.
 *   Destroying an object that is merely held (not waited on) is allowed.
 * - Counter and flag getters are snapshots. Given a NULL handle they return
 *   0 (size_t getters) or LOX_EINVAL (int getters) and set the detail.
 */

typedef struct lox_lock lox_lock;
typedef struct lox_lightswitch lox_lightswitch;
typedef struct lox_rwlock lox_rwlock;
typedef struct lox_qlock lox_qlock;
typedef struct lox_index_semaphore lox_index_semaphore;

/* --- lox_lock: a plain lock any thread may release (threading.Lock) ------ */

/** Creates an unlocked lock. Returns LOX_OK and sets `*out`; LOX_EINVAL if
 *  `out` is NULL; LOX_ENOMEM. The caller owns `*out` (lox_lock_destroy). */
LOX_API int lox_lock_create(lox_lock **out);

/** Frees the lock (NULL is ignored). Threads blocked in lox_lock_acquire
 *  get LOX_ESTATE (see the shared rules above). A held lock may be
 *  destroyed. Must outlive every LightSwitch that borrows it. */
LOX_API void lox_lock_destroy(lox_lock *l);

/** Acquires the lock, waiting at most `timeout` seconds for it.
 *  LOX_OK: the caller holds it; LOX_TIMEOUT: it stayed locked (nothing
 *  changed); LOX_EINVAL: `l` NULL or NaN timeout; LOX_ESTATE: the lock was
 *  destroyed while this thread waited. Not fair (a new acquirer can get the
 *  lock before a sleeping one; use lox_qlock for FIFO). Thread-safe.
 *  Uncontended: one compare-and-swap. */
LOX_API int lox_lock_acquire(lox_lock *l, double timeout);

/** Releases the lock; any thread may release it, not only the one that
 *  acquired it. Wakes one waiter, if any. LOX_ESTATE if it is not locked
 *  (nothing changes), LOX_EINVAL if `l` is NULL. Thread-safe. */
LOX_API int lox_lock_release(lox_lock *l);

/** 1 if the lock is held, 0 if not; LOX_EINVAL if `l` is NULL. A snapshot.
 *  Thread-safe. */
LOX_API int lox_lock_locked(const lox_lock *l);

/* --- lox_lightswitch: first in locks, last out unlocks ------------------- */

/** Creates a LightSwitch over `lock`, which it borrows: the acquire that
 *  raises the count from 0 acquires `lock`, the release that brings it back
 *  to 0 releases it (the restroom's lights: the first person in turns them
 *  on, the last one out turns them off; a janitor acquiring `lock` directly
 *  waits until the room is empty). `lock` must outlive the switch; the
 *  switch never destroys it. LOX_EINVAL if `lock` or `out` is NULL;
 *  LOX_ENOMEM. The caller owns `*out` (lox_lightswitch_destroy). */
LOX_API int lox_lightswitch_create(lox_lock *lock, lox_lightswitch **out);

/** Frees the switch (NULL is ignored); never touches the borrowed lock
 *  except to wake threads blocked on it for this switch. Threads blocked in
 *  lox_lightswitch_acquire get LOX_ESTATE. If the count is not 0, a WARN is
 *  logged and the borrowed lock stays locked (release it with
 *  lox_lock_release). */
LOX_API void lox_lightswitch_destroy(lox_lightswitch *ls);

/** Increments the count; if it was 0, first acquires the borrowed lock,
 *  waiting at most `timeout` seconds. While the first entrant waits for the
 *  lock, later entrants wait behind it (with their own timeouts): nobody
 *  enters before the lights are on. LOX_OK: counted in; LOX_TIMEOUT:
 *  nothing changed (a first entrant that timed out leaves the count at 0 and
 *  the lock untouched, and the next entrant tries in its place);
 *  LOX_EINVAL: `ls` NULL or NaN timeout; LOX_ESTATE: the switch or the lock
 *  was destroyed while this thread waited. When the count is above 0 this
 *  is one compare-and-swap. Thread-safe. */
LOX_API int lox_lightswitch_acquire(lox_lightswitch *ls, double timeout);

/** Decrements the count; the release that brings it to 0 releases the
 *  borrowed lock. Any thread may release. LOX_ESTATE at count 0 (nothing
 *  changes) or when the borrowed lock was found already unlocked by
 *  somebody else (the count still drops to 0); LOX_EINVAL if `ls` is
 *  NULL. Thread-safe. */
LOX_API int lox_lightswitch_release(lox_lightswitch *ls);

/** The count: acquires not yet released (lox's counter / len()). 0 for
 *  NULL (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_lightswitch_count(const lox_lightswitch *ls);

/* --- lox_rwlock: many readers or one writer, writer-preferring ----------- */

/** Modes of lox_rwlock_acquire/release (lox's 'r' and 'w' flags). */
enum { LOX_READ = 'r', LOX_WRITE = 'w' };

/** Creates an unlocked RWLock. LOX_EINVAL if `out` is NULL; LOX_ENOMEM.
 *  The caller owns `*out` (lox_rwlock_destroy).
 *
 *  Any number of readers or one writer hold it. Writer-preferring: as soon
 *  as a writer waits, new readers wait behind it (the janitor gets in after
 *  the readers already inside, never starved by new ones); when a writer
 *  releases, a waiting writer goes next, and the readers are let in when no
 *  writer waits. Readers can therefore starve under a continuous stream of
 *  writers. The uncontended read path is one compare-and-swap on one word,
 *  no mutex. */
LOX_API int lox_rwlock_create(lox_rwlock **out);

/** Frees the RWLock (NULL is ignored). Threads blocked in
 *  lox_rwlock_acquire (either mode) get LOX_ESTATE. */
LOX_API void lox_rwlock_destroy(lox_rwlock *rw);

/** Acquires in `mode` (LOX_READ or LOX_WRITE), waiting at most `timeout`
 *  seconds. LOX_OK: held in that mode; LOX_TIMEOUT: nothing changed (a
 *  writer that gives up also stops blocking the readers queued behind it:
 *  they are let in at once if nothing else holds them back); LOX_EINVAL: `rw`
 *  NULL, `mode` not LOX_READ/LOX_WRITE, or NaN timeout; LOX_ESTATE: the
 *  RWLock was destroyed while this thread waited. Thread-safe. */
LOX_API int lox_rwlock_acquire(lox_rwlock *rw, int mode, double timeout);

/** Releases one hold in `mode`; any thread may release. LOX_ESTATE if that
 *  mode is not held (releasing 'r' while only a writer holds it, or 'w'
 *  while only readers do, or anything while it is free; nothing changes);
 *  LOX_EINVAL: `rw` NULL or a bad `mode`. Readers are not tracked per
 *  thread: a release of 'r' drops the reader count by one whoever calls it.
 *  Thread-safe. */
LOX_API int lox_rwlock_release(lox_rwlock *rw, int mode);

/** Readers holding the lock now (lox's read_counter / len()). 0 for NULL
 *  (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_rwlock_readers(const lox_rwlock *rw);

/* --- lox_qlock: strict FIFO lock ---------------------------------------- */

/** Creates an unlocked QLock. LOX_EINVAL if `out` is NULL; LOX_ENOMEM. The
 *  caller owns `*out` (lox_qlock_destroy).
 *
 *  Acquirers are served in arrival order: an acquirer that finds the lock
 *  held joins the end of a line (the moment it is counted by
 *  lox_qlock_waiting), and release hands the lock directly to the first in
 *  line (it never becomes free in between, so nobody can cut in). */
LOX_API int lox_qlock_create(lox_qlock **out);

/** Frees the QLock (NULL is ignored). Threads waiting in line get
 *  LOX_ESTATE. */
LOX_API void lox_qlock_destroy(lox_qlock *q);

/** Acquires the lock in FIFO order, waiting at most `timeout` seconds.
 *  LOX_OK: held; LOX_TIMEOUT: the caller left the line, the others keep
 *  their order, nothing else changed (timeout 0 never joins the line);
 *  LOX_EINVAL: `q` NULL or NaN timeout; LOX_ESTATE: the QLock was destroyed
 *  while this thread waited. Uncontended: one compare-and-swap. Thread-safe. */
LOX_API int lox_qlock_acquire(lox_qlock *q, double timeout);

/** Releases the lock (any thread may), handing it to the first thread in
 *  line if there is one. LOX_ESTATE if not locked (nothing changes);
 *  LOX_EINVAL if `q` is NULL. Thread-safe. */
LOX_API int lox_qlock_release(lox_qlock *q);

/** Threads waiting in line (lox's len()). 0 for NULL (detail set). A
 *  snapshot. Thread-safe. */
LOX_API size_t lox_qlock_waiting(const lox_qlock *q);

/** 1 if the QLock is held, 0 if not; LOX_EINVAL if `q` is NULL. A
 *  snapshot. Thread-safe. */
LOX_API int lox_qlock_locked(const lox_qlock *q);

/* --- lox_index_semaphore: n numbered resources --------------------------- */

/** Creates a semaphore over `n` resources numbered 0 .. n-1, all free (the
 *  GPU pool: each acquirer gets a GPU index nobody else holds). `n` is at
 *  most 2^24 (16,777,216): the held set is a bitmap of n bits allocated
 *  here, and an acquire may scan all of it. LOX_EINVAL if `n` is 0 or above
 *  2^24, or `out` is NULL; LOX_ENOMEM. The caller owns `*out`
 *  (lox_index_semaphore_destroy). */
LOX_API int lox_index_semaphore_create(size_t n, lox_index_semaphore **out);

/** Frees the semaphore (NULL is ignored). Threads blocked in
 *  lox_index_semaphore_acquire get LOX_ESTATE. Indices still held are
 *  simply forgotten. */
LOX_API void lox_index_semaphore_destroy(lox_index_semaphore *s);

/** Takes a free index, waiting at most `timeout` seconds for one, and
 *  stores it in `*index`: a value in [0, n) that nobody else holds until it
 *  is released. The lowest free index is taken (an idle semaphore hands out
 *  0 first). Not fair. LOX_OK; LOX_TIMEOUT (nothing taken, `*index`
 *  untouched); LOX_EINVAL: `s` or `index` NULL, or NaN timeout;
 *  LOX_ESTATE: the semaphore was destroyed while this thread waited.
 *  Uncontended: one compare-and-swap. Thread-safe. */
LOX_API int lox_index_semaphore_acquire(lox_index_semaphore *s, double timeout, size_t *index);

/** Returns `index` to the semaphore (any thread may) and wakes one waiter.
 *  LOX_EINVAL: `s` NULL or `index` >= n; LOX_ESTATE: `index` is not held
 *  (a double release, or an index never acquired). Nothing changes on
 *  error. Thread-safe. */
LOX_API int lox_index_semaphore_release(lox_index_semaphore *s, size_t index);

/** Indices free now. 0 for NULL (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_index_semaphore_available(const lox_index_semaphore *s);

/** Threads blocked in lox_index_semaphore_acquire now (lox's len(): the
 *  blocked queue size). 0 for NULL (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_index_semaphore_waiting(const lox_index_semaphore *s);

LOX_END_DECLS

#endif /* LOX_C_SYNC_H */
