/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: logging. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_LOG_H
#define LOX_C_LOG_H

#include <lox/c/api.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

/* Failed tasks, detected misuse and internal trouble are logged. By default
 * messages at WARN and above go to stderr (colored when it is a terminal).
 * The initial level is WARN, or the value of the environment variable
 * LOX_LOG_LEVEL read on first use: one of trace, debug, info, warn, error,
 * off (case-insensitive) or the digit of the enum below. */
enum { LOX_LOG_TRACE = 0, LOX_LOG_DEBUG = 1, LOX_LOG_INFO = 2, LOX_LOG_WARN = 3, LOX_LOG_ERROR = 4, LOX_LOG_OFF = 5 };

/** Receives one formatted message (without trailing newline). `message` is
 *  valid only during the call. Called from whichever thread logs, possibly
 *  several at once (no lock is held around the call): the callback must be
 *  thread-safe.
 *
 *  The callback may call any liblox function that does not wait for
 *  another thread's call to finish: lox_log_set_level, lox_log_get_level,
 *  lox_log_set_callback (it takes effect for the next message; the running
 *  call finishes), lox_last_error, lox_status_str, and calls that return at
 *  once, failing ones included (a release, a put or get with timeout 0, a
 *  call on a destroyed handle). A message such a call logs is not
 *  delivered inside the callback: it is delivered, in order, right after
 *  the callback returns, before the call that logged the outer message
 *  returns; at most 16 are delivered per outer message, and a WARN message
 *  then says how many more were dropped. lox_last_error() of the thread
 *  that logged is the same after the callback as before it. The callback
 *  must not block waiting for a pool, lock or queue (a gather, an acquire
 *  or get that waits): the call that logged waits for the callback. */
typedef void (*lox_log_fn)(void *ctx, int level, const char *message);

/** Sets the minimum level that is logged. Out-of-range values are clamped
 *  to [LOX_LOG_TRACE, LOX_LOG_OFF]. Thread-safe; takes effect at once. */
LOX_API void lox_log_set_level(int level);

/** Returns the current minimum level. Thread-safe. */
LOX_API int lox_log_get_level(void);

/** Routes log messages to `fn(ctx, level, message)` instead of stderr.
 *  NULL restores the default colored stderr sink. `ctx` is borrowed: it
 *  must stay valid until the callback is replaced. Thread-safe: when this
 *  returns, no later message goes to the previous sink (a call already
 *  running in another thread may still finish). May be called from inside
 *  the callback (see lox_log_fn). */
LOX_API void lox_log_set_callback(lox_log_fn fn, void *ctx);

LOX_END_DECLS

#endif /* LOX_C_LOG_H */
