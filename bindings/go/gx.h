/* SPDX-License-Identifier: Apache-2.0 */
// Declarations of the C side of the Go binding (gx.c).
#ifndef LOX_GO_GX_H
#define LOX_GO_GX_H
#include <lox/lox.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// A call's status, a strdup'd copy of lox_last_error() when the status is
// negative (the Go side frees it), and an integer and a pointer result.
typedef struct { int st; char *detail; uintptr_t val; void *ptr; unsigned long long jid; } gx_ret;

int gx_in_task(uintptr_t pool);

gx_ret gx_thread_create(size_t workers, uintptr_t id, double idle_timeout);
gx_ret gx_thread_scatter(lox_thread *p, uintptr_t arg);
gx_ret gx_thread_gather(lox_thread *p, double timeout, uintptr_t prog, int bar);
uintptr_t gx_results_value(lox_results *r, size_t i);

gx_ret gx_process_create(size_t workers, void *fn, void *ctx, double task_timeout, size_t max_message);
void gx_process_destroy(lox_process *p, uintptr_t shim);
gx_ret gx_process_scatter(lox_process *p, void *in, size_t len);
gx_ret gx_process_gather(lox_process *p, double timeout, uintptr_t prog, int bar);
gx_ret gx_results_bytes(lox_results *r, size_t i);

gx_ret gx_lock_create(void);
gx_ret gx_lock_acquire(lox_lock *l, double t);
gx_ret gx_lock_release(lox_lock *l);
gx_ret gx_light_switch_create(lox_lock *l);
gx_ret gx_light_switch_acquire(lox_lightswitch *s, double t);
gx_ret gx_light_switch_release(lox_lightswitch *s);
gx_ret gx_rw_lock_create(void);
gx_ret gx_rw_lock_acquire(lox_rwlock *l, int mode, double t);
gx_ret gx_rw_lock_release(lox_rwlock *l, int mode);
gx_ret gx_qlock_create(void);
gx_ret gx_qlock_acquire(lox_qlock *l, double t);
gx_ret gx_qlock_release(lox_qlock *l);
gx_ret gx_index_semaphore_create(size_t n);
gx_ret gx_index_semaphore_acquire(lox_index_semaphore *s, double t);
gx_ret gx_index_semaphore_release(lox_index_semaphore *s, size_t i);

gx_ret gx_queue_create(size_t maxsize);
gx_ret gx_queue_put(lox_queue *q, uintptr_t item, double t);
gx_ret gx_queue_get(lox_queue *q, double t);
gx_ret gx_queue_close(lox_queue *q);
gx_ret gx_queue_task_done(lox_queue *q);
gx_ret gx_queue_join(lox_queue *q, double t);

gx_ret gx_funnel_create(void);
gx_ret gx_funnel_subscribe(lox_funnel *top);
gx_ret gx_funnel_put(lox_funnel *in, unsigned long long jid, uintptr_t item);
gx_ret gx_funnel_get(lox_funnel *top, double t);

gx_ret gx_announcement_create(size_t maxsize, long long backlog);
gx_ret gx_announcement_subscribe(lox_announcement *a, size_t maxsize);
gx_ret gx_announcement_clone(lox_announcement *a);
gx_ret gx_announcement_put(lox_announcement *a, uintptr_t item, double t);
gx_ret gx_announcement_get(lox_announcement *a, double t);
gx_ret gx_announcement_finalize(lox_announcement *a);
gx_ret gx_announcement_unsubscribe(lox_announcement *a);

void gx_log_route(int on);
#endif
