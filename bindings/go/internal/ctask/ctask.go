// SPDX-License-Identifier: Apache-2.0

// Package ctask holds C process-pool tasks used by the lox tests: a
// lox_process_fn must be C code (a forked worker of a Go program cannot run
// Go), and cgo is not allowed in _test.go files.
package ctask

/*
#cgo pkg-config: lox
#include <lox/lox.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ctask_ctx_text[] = "ctx ok";

// One task that does what its input says:
//   "sq X"     -> X*(X+1) in decimal (lox's first example)
//   "pid"      -> the pid of the process running the task
//   "sig"      -> "dfl" if SIGSEGV has its default action here, else "handler"
//   "ctx"      -> the text ctx points to
//   "fail"     -> failure code 7, detail "bad input"
//   "crash"    -> a store through a NULL pointer (SIGSEGV)
//   "exit N"   -> _exit(N)
//   "sleep MS" -> sleeps MS milliseconds, then "slept"
static int ctask_run(void *ctx, const void *in, size_t len, lox_buffer *out) {
	char buf[64], res[64];
	if (len >= sizeof buf) len = sizeof buf - 1;
	memcpy(buf, in, len);
	buf[len] = 0;
	if (strncmp(buf, "sq ", 3) == 0) {
		long long x = atoll(buf + 3);
		int n = snprintf(res, sizeof res, "%lld", x * (x + 1));
		lox_buffer_append(out, res, (size_t)n);
		return 0;
	}
	if (strcmp(buf, "pid") == 0) {
		int n = snprintf(res, sizeof res, "%ld", (long)getpid());
		lox_buffer_append(out, res, (size_t)n);
		return 0;
	}
	if (strcmp(buf, "sig") == 0) {
		struct sigaction sa;
		sigaction(SIGSEGV, NULL, &sa);
		const char *s = (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL) ? "dfl" : "handler";
		lox_buffer_append(out, s, strlen(s));
		return 0;
	}
	if (strcmp(buf, "ctx") == 0) {
		const char *s = ctx ? (const char *)ctx : "(null)";
		lox_buffer_append(out, s, strlen(s));
		return 0;
	}
	if (strcmp(buf, "fail") == 0) {
		lox_buffer_append(out, "bad input", 9);
		return 7;
	}
	if (strcmp(buf, "crash") == 0) {
		volatile int *p = NULL;
		*p = 1;
		return 0;
	}
	if (strncmp(buf, "exit ", 5) == 0) _exit(atoi(buf + 5));
	if (strncmp(buf, "sleep ", 6) == 0) {
		usleep((useconds_t)atoi(buf + 6) * 1000u);
		lox_buffer_append(out, "slept", 5);
		return 0;
	}
	lox_buffer_append(out, "unknown command", 15);
	return 2;
}

static void *ctask_fn(void) { return (void *)ctask_run; }
static void *ctask_ctx(void) { return (void *)ctask_ctx_text; }
*/
import "C"

import "unsafe"

// Fn is the C task (a lox_process_fn).
func Fn() unsafe.Pointer { return C.ctask_fn() }

// Ctx is a C string "ctx ok" to pass as the pool's ctx.
func Ctx() unsafe.Pointer { return C.ctask_ctx() }
