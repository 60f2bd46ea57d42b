#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The Python side of lox_process_bench (see bench/README.md, "Process pool").

lox_process_bench runs this script (with /usr/bin/python3, standard library
only) once per repetition, between its own liblox repetitions, so that both
sides are measured in the same run under the same conditions. Every timed
region uses time.perf_counter() around exactly the work the bench times on
the liblox side; interpreter start-up, imports and pool creation are outside
it (except in case d, which times pool creation on purpose). Every result is
checked after the timed region; a wrong result exits with status 1.

Output: one line per figure, "result,<name>,<seconds>" (and "info,<text>"),
parsed by the bench. Usage:

  process_peer.py a --tasks 20000            # tiny tasks: apply_async all, then get;
                                             # then Pool.starmap (default chunksize)
  process_peer.py calibrate-b --seconds 0.25 # iterations of spin() that take ~0.25 s
  process_peer.py b --iters N --tasks 8      # serial, then Pool(2) apply_async + get
  process_peer.py c --size BYTES --count K   # echo K payloads of BYTES (apply_async + get)
  process_peer.py d                          # Pool(2) creation + first apply
"""

import argparse
import multiprocessing
import multiprocessing.pool  # imported before any timed region
import os
import sys
import time

CTX = multiprocessing.get_context("fork")
WORKERS = 2
MASK = (1 << 64) - 1


def mul(x, y):
    return x * y


def spin(iters, seed):
    """Pure computation, a dependent chain with no closed form: the same
    steps as the bench's C spin(), in Python integers kept to 64 bits."""
    x = seed | 1
    for i in range(iters):
        x ^= x >> 29
        x = (x * 0xBF58476D1CE4E5B9) & MASK
        x ^= x >> 32
        x = (x + i) & MASK
    return x


def echo(payload):
    return payload


def fail(msg):
    print("process_peer.py: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def new_pool():
    return CTX.Pool(WORKERS)


def close(pool):
    # close + join reaps the workers (so the bench counts their CPU time as
    # this process tree's, not as other load).
    pool.close()
    pool.join()


def case_a(args):
    n = args.tasks
    pairs = [(i, i + 1) for i in range(n)]
    expected = [x * y for x, y in pairs]
    pool = new_pool()
    # Warm-up: workers running, result handler threads busy once.
    warm = [pool.apply_async(mul, (i, 2)) for i in range(100)]
    if [r.get() for r in warm] != [2 * i for i in range(100)]:
        fail("case a: warm-up results wrong")

    t0 = time.perf_counter()
    rs = [pool.apply_async(mul, p) for p in pairs]
    got = [r.get() for r in rs]
    t_apply = time.perf_counter() - t0
    if got != expected:
        fail("case a: apply_async results wrong")

    chunksize, extra = divmod(n, WORKERS * 4)  # what Pool.map computes by default
    if extra:
        chunksize += 1
    t0 = time.perf_counter()
    got = pool.starmap(mul, pairs)  # default chunksize
    t_map = time.perf_counter() - t0
    if got != expected:
        fail("case a: starmap results wrong")
    close(pool)
    print("info,starmap default chunksize %d" % chunksize)
    print("result,apply_async,%.9f" % t_apply)
    print("result,starmap,%.9f" % t_map)


def case_calibrate_b(args):
    # Scale from a short run, then refine once at the target.
    iters = 20000
    while True:
        t0 = time.perf_counter()
        spin(iters, 1)
        dt = time.perf_counter() - t0
        if dt >= 0.05:
            break
        iters *= 4
    iters = max(1, int(iters * args.seconds / dt))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        spin(iters, 1)
        times.append(time.perf_counter() - t0)
    times.sort()
    iters = max(1, int(iters * args.seconds / times[1]))
    print("result,iters,%d" % iters)


def case_b(args):
    seeds = [0x9E3779B97F4A7C15 * (k + 1) & MASK for k in range(args.tasks)]
    pool = new_pool()
    pool.apply(mul, (1, 2))  # workers running
    t0 = time.perf_counter()
    serial = [spin(args.iters, s) for s in seeds]
    t_serial = time.perf_counter() - t0

    t0 = time.perf_counter()
    rs = [pool.apply_async(spin, (args.iters, s)) for s in seeds]
    par = [r.get() for r in rs]
    t_pool = time.perf_counter() - t0
    close(pool)
    if par != serial:
        fail("case b: pool results differ from the serial ones")
    print("result,serial,%.9f" % t_serial)
    print("result,pool,%.9f" % t_pool)


def case_c(args):
    payload = os.urandom(args.size)
    pool = new_pool()
    if pool.apply(echo, (payload,)) != payload:  # warm-up: one echo
        fail("case c: warm-up echo differs")
    t0 = time.perf_counter()
    rs = [pool.apply_async(echo, (payload,)) for _ in range(args.count)]
    got = [r.get() for r in rs]
    t = time.perf_counter() - t0
    close(pool)
    for k, g in enumerate(got):
        if g != payload:
            fail("case c: echo %d differs from the payload" % k)
    print("result,echo,%.9f" % t)


def case_d(_args):
    # One untimed cycle first, so that the timed one does not pay for lazy
    # imports and first-touch costs of this interpreter.
    pool = new_pool()
    if pool.apply(mul, (2, 3)) != 6:
        fail("case d: warm-up result wrong")
    close(pool)

    t0 = time.perf_counter()
    pool = new_pool()
    v = pool.apply(mul, (2, 3))
    t = time.perf_counter() - t0
    t1 = time.perf_counter()
    close(pool)
    t_close = time.perf_counter() - t1
    if v != 6:
        fail("case d: result wrong")
    print("result,start,%.9f" % t)
    print("result,close_join,%.9f" % t_close)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="case", required=True)
    a = sub.add_parser("a")
    a.add_argument("--tasks", type=int, default=20000)
    cb = sub.add_parser("calibrate-b")
    cb.add_argument("--seconds", type=float, default=0.25)
    b = sub.add_parser("b")
    b.add_argument("--iters", type=int, required=True)
    b.add_argument("--tasks", type=int, default=8)
    c = sub.add_parser("c")
    c.add_argument("--size", type=int, required=True)
    c.add_argument("--count", type=int, required=True)
    sub.add_parser("d")
    args = ap.parse_args()
    {"a": case_a, "calibrate-b": case_calibrate_b, "b": case_b, "c": case_c, "d": case_d}[args.case](args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
