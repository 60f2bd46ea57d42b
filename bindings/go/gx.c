/* SPDX-License-Identifier: Apache-2.0 */
// C side of the Go binding: wrappers that read lox_last_error() in the
// same C call, the task trampoline and the process-pool shim.
#include "gx.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

// Every wrapper below makes its liblox call and reads lox_last_error() in
// the same C call: the detail is thread-local, and a goroutine may move to
// another OS thread between two cgo calls.

static gx_ret gx_mk(int st, uintptr_t val, void *ptr) {
	gx_ret r;
	r.st = st;
	r.detail = NULL;
	if (st < 0) {
		const char *d = lox_last_error();
		r.detail = strdup(d ? d : "");
	}
	r.val = val;
	r.ptr = ptr;
	r.jid = 0;
	return r;
}

// ---- callbacks into Go (defined with //export in export.go) ----
extern int goLoxTask(uintptr_t pool, uintptr_t arg);
extern void goLoxProgress(uintptr_t ctx, size_t done, size_t total);
extern void goLoxLog(int level, char *msg);

// The thread-pool tasks that run on this OS thread now, innermost first:
// lets Close and Gather refuse to run from inside one of their own tasks
// (a cgo callback keeps its goroutine on the calling thread).
typedef struct gx_frame { uintptr_t pool; struct gx_frame *prev; } gx_frame;
static __thread gx_frame *gx_top;

static int gx_task(void *ctx, void *arg, void **result) {
	gx_frame f;
	f.pool = (uintptr_t)ctx;
	f.prev = gx_top;
	gx_top = &f;
	*result = arg; // the task's cgo.Handle comes back through the results
	int st = goLoxTask((uintptr_t)ctx, (uintptr_t)arg);
	gx_top = f.prev;
	return st;
}

int gx_in_task(uintptr_t pool) {
	for (gx_frame *f = gx_top; f; f = f->prev)
		if (f->pool == pool) return 1;
	return 0;
}

static void gx_progress(void *ctx, size_t done, size_t total) {
	goLoxProgress((uintptr_t)ctx, done, total);
}

static lox_gather_opts gx_gather_opts(double timeout, uintptr_t prog, int bar) {
	lox_gather_opts o;
	lox_gather_opts_init(&o);
	o.timeout = timeout;
	if (prog) {
		o.progress = gx_progress;
		o.progress_ctx = (void *)prog;
	}
	o.progress_bar = bar;
	return o;
}

// A gather's return: LOX_ETASK (some task failed, every result is there)
// counts as LOX_OK (val 1 records it): the Go side reads each task's status.
static gx_ret gx_gathered(int st, lox_results *r) {
	return gx_mk(st == LOX_ETASK ? LOX_OK : st, st == LOX_ETASK, r);
}

// ---- thread pool ----
gx_ret gx_thread_create(size_t workers, uintptr_t id, double idle_timeout) {
	lox_thread_opts o;
	lox_thread_opts_init(&o);
	if (idle_timeout >= 0) o.idle_timeout = idle_timeout;
	lox_thread *p = NULL;
	int st = lox_thread_create_ex(workers, gx_task, (void *)id, &o, &p);
	return gx_mk(st, 0, p);
}
gx_ret gx_thread_scatter(lox_thread *p, uintptr_t arg) {
	size_t idx = 0;
	int st = lox_thread_scatter(p, (void *)arg, &idx);
	return gx_mk(st, idx, NULL);
}
gx_ret gx_thread_gather(lox_thread *p, double timeout, uintptr_t prog, int bar) {
	lox_gather_opts o = gx_gather_opts(timeout, prog, bar);
	lox_results *r = NULL;
	int st = lox_thread_gather(p, &o, &r);
	return gx_gathered(st, r);
}
uintptr_t gx_results_value(lox_results *r, size_t i) {
	return (uintptr_t)lox_results_value(r, i);
}

// ---- process pool ----
// The pool runs gx_process_run, which calls the user's C function. In a
// worker process (a fork of this Go program) it first gives every signal
// back its default action: the Go runtime's handlers were inherited by the
// fork, but the Go runtime itself was not (no other threads, no scheduler),
// so a crash in the C task must kill the worker, not enter Go.
typedef struct { lox_process_fn fn; void *ctx; pid_t parent; int reset; } gx_process_shim;

static int gx_process_run(void *ctx, const void *in, size_t len, lox_buffer *out) {
	gx_process_shim *p = (gx_process_shim *)ctx;
	if (!p->reset && getpid() != p->parent) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		for (int s = 1; s < 65; s++)
			if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
		p->reset = 1;
	}
	return p->fn(p->ctx, in, len, out);
}

gx_ret gx_process_create(size_t workers, void *fn, void *ctx, double task_timeout, size_t max_message) {
	gx_process_shim *shim = (gx_process_shim *)calloc(1, sizeof *shim);
	if (!shim) return gx_mk(LOX_ENOMEM, 0, NULL);
	shim->fn = (lox_process_fn)fn;
	shim->ctx = ctx;
	shim->parent = getpid();
	lox_process_opts o;
	lox_process_opts_init(&o);
	if (task_timeout != 0) o.task_timeout = task_timeout;
	if (max_message) o.max_message = max_message;
	lox_process *p = NULL;
	int st = fn ? lox_process_create_ex(workers, gx_process_run, shim, &o, &p)
	            : lox_process_create_ex(workers, NULL, NULL, &o, &p);
	gx_ret r = gx_mk(st, (uintptr_t)shim, p);
	if (st != LOX_OK) { free(shim); r.val = 0; }
	return r;
}
void gx_process_destroy(lox_process *p, uintptr_t shim) {
	lox_process_destroy(p);
	free((void *)shim);
}
gx_ret gx_process_scatter(lox_process *p, void *in, size_t len) {
	size_t idx = 0;
	int st = lox_process_scatter(p, in, len, &idx);
	return gx_mk(st, idx, NULL);
}
gx_ret gx_process_gather(lox_process *p, double timeout, uintptr_t prog, int bar) {
	lox_gather_opts o = gx_gather_opts(timeout, prog, bar);
	lox_results *r = NULL;
	int st = lox_process_gather(p, &o, &r);
	return gx_gathered(st, r);
}
gx_ret gx_results_bytes(lox_results *r, size_t i) {
	const void *d = NULL;
	size_t n = 0;
	int st = lox_results_bytes(r, i, &d, &n);
	return gx_mk(st, n, (void *)d);
}

// ---- synchronization ----
gx_ret gx_lock_create(void) { lox_lock *l = NULL; int st = lox_lock_create(&l); return gx_mk(st, 0, l); }
gx_ret gx_lock_acquire(lox_lock *l, double t) { return gx_mk(lox_lock_acquire(l, t), 0, NULL); }
gx_ret gx_lock_release(lox_lock *l) { return gx_mk(lox_lock_release(l), 0, NULL); }

gx_ret gx_light_switch_create(lox_lock *l) { lox_lightswitch *s = NULL; int st = lox_lightswitch_create(l, &s); return gx_mk(st, 0, s); }
gx_ret gx_light_switch_acquire(lox_lightswitch *s, double t) { return gx_mk(lox_lightswitch_acquire(s, t), 0, NULL); }
gx_ret gx_light_switch_release(lox_lightswitch *s) { return gx_mk(lox_lightswitch_release(s), 0, NULL); }

gx_ret gx_rw_lock_create(void) { lox_rwlock *l = NULL; int st = lox_rwlock_create(&l); return gx_mk(st, 0, l); }
gx_ret gx_rw_lock_acquire(lox_rwlock *l, int mode, double t) { return gx_mk(lox_rwlock_acquire(l, mode, t), 0, NULL); }
gx_ret gx_rw_lock_release(lox_rwlock *l, int mode) { return gx_mk(lox_rwlock_release(l, mode), 0, NULL); }

gx_ret gx_qlock_create(void) { lox_qlock *l = NULL; int st = lox_qlock_create(&l); return gx_mk(st, 0, l); }
gx_ret gx_qlock_acquire(lox_qlock *l, double t) { return gx_mk(lox_qlock_acquire(l, t), 0, NULL); }
gx_ret gx_qlock_release(lox_qlock *l) { return gx_mk(lox_qlock_release(l), 0, NULL); }

gx_ret gx_index_semaphore_create(size_t n) { lox_index_semaphore *s = NULL; int st = lox_index_semaphore_create(n, &s); return gx_mk(st, 0, s); }
gx_ret gx_index_semaphore_acquire(lox_index_semaphore *s, double t) { size_t i = 0; int st = lox_index_semaphore_acquire(s, t, &i); return gx_mk(st, i, NULL); }
gx_ret gx_index_semaphore_release(lox_index_semaphore *s, size_t i) { return gx_mk(lox_index_semaphore_release(s, i), 0, NULL); }

// ---- queue ----
gx_ret gx_queue_create(size_t maxsize) { lox_queue *q = NULL; int st = lox_queue_create(maxsize, &q); return gx_mk(st, 0, q); }
gx_ret gx_queue_put(lox_queue *q, uintptr_t item, double t) { return gx_mk(lox_queue_put(q, (void *)item, t), 0, NULL); }
gx_ret gx_queue_get(lox_queue *q, double t) { void *item = NULL; int st = lox_queue_get(q, &item, t); return gx_mk(st, (uintptr_t)item, NULL); }
gx_ret gx_queue_close(lox_queue *q) { return gx_mk(lox_queue_close(q), 0, NULL); }
gx_ret gx_queue_task_done(lox_queue *q) { return gx_mk(lox_queue_task_done(q), 0, NULL); }
gx_ret gx_queue_join(lox_queue *q, double t) { return gx_mk(lox_queue_join(q, t), 0, NULL); }

// ---- funnel ----
gx_ret gx_funnel_create(void) { lox_funnel *f = NULL; int st = lox_funnel_create(&f); return gx_mk(st, 0, f); }
gx_ret gx_funnel_subscribe(lox_funnel *top) { lox_funnel *f = NULL; int st = lox_funnel_subscribe(top, &f); return gx_mk(st, 0, f); }
gx_ret gx_funnel_put(lox_funnel *in, unsigned long long jid, uintptr_t item) {
	return gx_mk(lox_funnel_put(in, jid, (void *)item, 0), 0, NULL);
}
// One complete set: its items in a malloc'd array (ptr, val items; the Go
// side frees it) and its job id. Retries with room for a set that grew
// (nothing is consumed when the array is too small).
gx_ret gx_funnel_get(lox_funnel *top, double t) {
	size_t cap = lox_funnel_inputs(top);
	if (cap == 0) cap = 1;
	for (;;) {
		void **items = (void **)malloc(cap * sizeof *items);
		if (!items) return gx_mk(LOX_ENOMEM, 0, NULL);
		size_t count = 0;
		unsigned long long jid = 0;
		int st = lox_funnel_get(top, t, &jid, items, cap, &count);
		if (st == LOX_EINVAL && count > cap) {
			free(items);
			cap = count;
			continue;
		}
		if (st != LOX_OK) {
			free(items);
			return gx_mk(st, 0, NULL);
		}
		gx_ret r = gx_mk(st, count, items);
		r.jid = jid;
		return r;
	}
}

// ---- announcement ----
gx_ret gx_announcement_create(size_t maxsize, long long backlog) { lox_announcement *a = NULL; int st = lox_announcement_create(maxsize, backlog, &a); return gx_mk(st, 0, a); }
gx_ret gx_announcement_subscribe(lox_announcement *a, size_t maxsize) { lox_announcement *s = NULL; int st = lox_announcement_subscribe(a, maxsize, 0, &s); return gx_mk(st, 0, s); }
gx_ret gx_announcement_clone(lox_announcement *a) { lox_announcement *c = NULL; int st = lox_announcement_clone(a, &c); return gx_mk(st, 0, c); }
gx_ret gx_announcement_put(lox_announcement *a, uintptr_t item, double t) { return gx_mk(lox_announcement_put(a, (void *)item, t), 0, NULL); }
gx_ret gx_announcement_get(lox_announcement *a, double t) { void *item = NULL; int st = lox_announcement_get(a, &item, t); return gx_mk(st, (uintptr_t)item, NULL); }
gx_ret gx_announcement_finalize(lox_announcement *a) { return gx_mk(lox_announcement_finalize(a), 0, NULL); }
gx_ret gx_announcement_unsubscribe(lox_announcement *a) { return gx_mk(lox_announcement_unsubscribe(a), 0, NULL); }

// ---- logging ----
// Never calls Go in a forked worker process (see gx_process_run).
static pid_t gx_log_pid;
static void gx_log(void *ctx, int level, const char *msg) {
	(void)ctx;
	if (getpid() != gx_log_pid) return;
	goLoxLog(level, (char *)msg);
}
void gx_log_route(int on) {
	gx_log_pid = getpid();
	lox_log_set_callback(on ? gx_log : NULL, NULL);
}
