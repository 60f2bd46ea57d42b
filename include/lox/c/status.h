/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: status codes and error detail. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_STATUS_H
#define LOX_C_STATUS_H

#include <lox/c/api.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Status codes and error detail                                             */
/* ------------------------------------------------------------------------ */

/** The status codes, written once: X(NAME, value, text, meaning) for each
 *  LOX_<NAME>. This list generates the enum below, lox_status_str (the
 *  text) and lox_status_name ("LOX_<NAME>"); the bindings' tests read it
 *  to check their own constants. Expand it with a macro of your own to
 *  build a table (as libuv's UV_ERRNO_MAP). Values never change within a
 *  major version; 0 is success, 1 an outcome, negative values errors. */
#define LOX_STATUS_MAP(X)                                                                                   \
  X(OK, 0, "success", "success")                                                                            \
  X(TIMEOUT, 1, "timed out", "a timed wait ran out (an outcome, not an error)")                             \
  X(EINVAL, -1, "invalid argument",                                                                         \
    "bad argument: NULL handle/out-pointer, bad mode, index out of range, NaN timeout, n == 0")             \
  X(ENOMEM, -2, "out of memory", "allocation failed")                                                       \
  X(ESTATE, -3, "not valid in the object's current state",                                                  \
    "not valid in the object's current state (releasing what is not held, gather from inside a task, ...)") \
  X(ECLOSED, -4, "closed", "queue closed, announcement finalized, pool shut down")                          \
  X(ETASK, -5, "a task failed", "gather: at least one task failed; results are still delivered")            \
  X(EWORKER, -6, "a worker process died", "a worker process died while running the task (per-task status)") \
  X(ESYS, -7, "operating-system call failed", "an operating-system call failed (errno text in the detail message)") \
  X(ECANCELLED, -8, "cancelled", "the task was cancelled (per-task status)")                                 \
  X(EDEPENDENCY, -9, "a predecessor failed", "a predecessor failed or was cancelled; the task did not run (per-task status)")

#define LOX_STATUS_ENUM_ENTRY_(name, value, text, meaning) LOX_##name = (value),
enum { LOX_STATUS_MAP(LOX_STATUS_ENUM_ENTRY_) };
#undef LOX_STATUS_ENUM_ENTRY_

/** Wait forever (any negative timeout does the same). */
#define LOX_FOREVER (-1.0)

/** Static English text describing `status` ("invalid argument", ...), or
 *  "unknown status" for a value that is not a `LOX_*` code. Never NULL,
 *  never needs freeing, thread-safe. */
LOX_API const char *lox_status_str(int status);

/** The code's name in this header as static text, e.g. "LOX_EINVAL" for
 *  LOX_EINVAL, or "LOX_UNKNOWN" for a value that is not a `LOX_*` code.
 *  Never NULL, never needs freeing, thread-safe. */
LOX_API const char *lox_status_name(int status);

/** Detail message of the last failing liblox call made by the calling
 *  thread, e.g. "thread gather: timeout is NaN"; "" if no call of this
 *  thread has failed yet. Successful calls do not clear it. The pointer is
 *  owned by the library and stays valid until the calling thread's next
 *  liblox call. Thread-safe (each thread has its own). Never NULL. */
LOX_API const char *lox_last_error(void);

LOX_END_DECLS

#endif /* LOX_C_STATUS_H */
