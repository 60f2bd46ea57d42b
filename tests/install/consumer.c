/* A program outside the liblox tree, built against an installed liblox only
 * (through pkg-config or find_package). Runs lox's first example,
 * foo(x, y) = x * y with foo.scatter(i, i+1) for i in 0..4, and exits 0 only
 * if the gather returned [0, 2, 6, 12, 20]. */
#include <lox/lox.h>

#include <stdint.h>
#include <stdio.h>

typedef struct {
    int x, y;
} args;

static int foo(void *ctx, void *arg, void **result) {
    const args *a = arg;
    (void)ctx;
    *result = (void *)(intptr_t)(a->x * a->y);
    return 0;
}

int main(void) {
    static const int expected[5] = {0, 2, 6, 12, 20};
    lox_thread *pool = NULL;
    lox_results *res = NULL;
    args a[5];
    args three_four = {3, 4};
    void *value = NULL;
    int ok = 1;
    size_t i;

    if (lox_version() != LOX_VERSION_NUMBER) {
        fprintf(stderr, "header %d.%d.%d but library %s\n", LOX_VERSION_MAJOR, LOX_VERSION_MINOR,
                LOX_VERSION_PATCH, lox_version_string());
        return 1;
    }
    if (lox_thread_create(4, foo, NULL, &pool) != LOX_OK) return 1;
    if (lox_thread_call(pool, &three_four, &value) != LOX_OK || (intptr_t)value != 12) ok = 0;
    for (i = 0; i < 5; ++i) {
        a[i].x = (int)i;
        a[i].y = (int)i + 1;
        if (lox_thread_scatter(pool, &a[i], NULL) != LOX_OK) return 1;
    }
    if (lox_thread_gather(pool, NULL, &res) != LOX_OK) {
        fprintf(stderr, "gather: %s\n", lox_last_error());
        return 1;
    }
    ok = ok && lox_results_count(res) == 5;
    printf("[");
    for (i = 0; i < lox_results_count(res); ++i) {
        int v = (int)(intptr_t)lox_results_value(res, i);
        printf("%s%d", i ? ", " : "", v);
        ok = ok && i < 5 && v == expected[i];
    }
    printf("]\n");
    lox_results_destroy(res);
    lox_thread_destroy(pool);
    return ok ? 0 : 1;
}
