/* SPDX-License-Identifier: Apache-2.0 */
/*
 * liblox — concurrency made easy, as a native library.
 *
 * This is the stable C ABI of liblox. It is C99, usable from C++, and the
 * only thing the shared library exports (every symbol starts with `lox_`).
 *
 * Conventions shared by every object
 * ----------------------------------
 * - Objects are opaque handles created by `lox_X_create(..., lox_X **out)`
 *   and released by `lox_X_destroy`, which accepts NULL.
 * - Every call that can fail returns an `int` status: `LOX_OK` (0),
 *   `LOX_TIMEOUT` (1; a wait that ran out is an outcome, not an error) or a
 *   negative `LOX_E*` error. A call that returns an error changes nothing
 *   (gather's `LOX_ETASK` is the one exception: it delivers the round exactly
 *   as `LOX_OK` would).
 * - When a call fails, `lox_last_error()` returns a human-readable detail for
 *   the calling thread ("thread scatter: pool is NULL").
 * - Timeouts are `double` seconds: negative (`LOX_FOREVER`, -infinity, any
 *   value below 0) waits forever, 0 tries once without blocking, NaN is
 *   `LOX_EINVAL`. -0.0 is 0 everywhere (IEEE: it is not below 0): a wait
 *   given -0.0 tries once, and an option that refuses 0 (`task_timeout`)
 *   refuses -0.0 alike. Waits longer than 1e9 s (~30 years), +infinity
 *   included, wait forever. Waits use the monotonic clock. A call that
 *   times out leaves no trace.
 * - Every object may be used from any number of threads at once unless a
 *   function says otherwise. `lox_X_destroy` must not race with other calls
 *   on the same object.
 * - Bad input (NULL handles or out-pointers, bad flags, NaN timeouts) never
 *   crashes: it returns `LOX_EINVAL` and sets the detail message. Sizes and
 *   counts are checked before anything is computed from them: one above
 *   the limit its function states is `LOX_EINVAL`, one that memory cannot
 *   hold is `LOX_ENOMEM`; none wraps around, and SIZE_MAX is never turned
 *   into an allocation attempt. Details are liblox's own words ("buffer
 *   append: out of memory"), never a C++ library's text.
 * - Handles are checked: each carries a magic number, so a call on a handle
 *   that was already destroyed, a second destroy, or a handle of another
 *   type (a `lox_lock *` passed as a `lox_queue *`) is reported instead of
 *   touching freed memory: the call returns `LOX_EINVAL` (getters their
 *   NULL-handle value, destroy does nothing) with the detail "... is a
 *   destroyed lox_queue (used after its destroy call)" and logs it at ERROR.
 *   This holds in the common case only: the memory of the last 1024
 *   destroyed handles is kept for the check; after more destroys it may be
 *   reused, and a call then is undefined behaviour again. A pointer that was
 *   never a handle, and a destroy racing with another call on the same
 *   handle, are undefined behaviour. The check costs one load and compare
 *   per call (docs/reliability.md).
 * - No C++ exception ever crosses this boundary.
 * - Options structs start with `size_t struct_size`; initialise them with
 *   the `LOX_X_OPTS_INIT` macro or `lox_X_opts_init()` (for FFI callers).
 *   A NULL options pointer means the defaults.
 */
#ifndef LOX_LOX_H
#define LOX_LOX_H

#include <stddef.h>

#include <lox/c/api.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define LOX_VERSION_MAJOR 0
#define LOX_VERSION_MINOR 1
#define LOX_VERSION_PATCH 0
/** The version this header describes, as `lox_version()` encodes it. */
#define LOX_VERSION_NUMBER ((LOX_VERSION_MAJOR << 16) | (LOX_VERSION_MINOR << 8) | LOX_VERSION_PATCH)

/** Version of the loaded library: `(major << 16) | (minor << 8) | patch`.
 *  Compare with `LOX_VERSION_NUMBER` to detect a header/library mismatch.
 *  Thread-safe, never fails. */
LOX_API unsigned lox_version(void);

/** Version of the loaded library as static text, e.g. "0.1.0". Never NULL. */
LOX_API const char *lox_version_string(void);

LOX_END_DECLS

/* The rest of the ABI, one header per concept: */
#include <lox/c/status.h>  /* status codes, LOX_FOREVER, lox_last_error */
#include <lox/c/log.h>     /* logging */
#include <lox/c/results.h> /* gather options and results */
#include <lox/c/task.h>    /* task handles, dependencies, completion order, cancellation */
#include <lox/c/thread.h>  /* the thread pool */
#include <lox/c/process.h> /* the process pool */
#include <lox/c/sync.h>    /* lock, lightswitch, rwlock, qlock, index semaphore */
#include <lox/c/queue.h>   /* queue, announcement, funnel */

#endif /* LOX_LOX_H */
