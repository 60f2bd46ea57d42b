#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Medians across the runs of a bench program (python3, standard library only).

The run*.sh scripts run a bench program several times with --csv and then
call this script on the logs of those runs:

  median.py SUITE RUNS LOG...    SUITE: thread, sync, queue, process or graph

It reads the "csv,..." lines of every log (one log per run, in run order),
takes for each row (case, shape, peer) the median across runs of each run's
median and the minimum across runs of each run's minimum, and prints the
suite's table, its ratios (also per run where the suite compares within a
run) and its targets.
"""

import sys


def median(values):
    s = sorted(values)
    n = len(s)
    if not n:
        return 0
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def verdict(ok):
    return "met" if ok else "NOT met"


class Runs:
    """The csv rows of every run: key -> the runs' medians and minimums.

    `key_fields` are the csv fields (after "csv") that name a row; after
    `skip` more fields, the median and the minimum follow, then the status."""

    def __init__(self, paths, key_fields, skip=0):
        self.order = []  # keys, first seen first
        self.values, self.mins, self.units = {}, {}, {}
        self.per_run = {}  # (key, run) -> that run's median
        self.errors, self.na = {}, set()
        self.runs = 0
        for path in paths:
            self.runs += 1
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    fields = line.rstrip("\n").split(",")
                    at = 1 + key_fields + skip
                    if fields[0] != "csv" or len(fields) < at + 3:
                        continue
                    key = tuple(fields[1:1 + key_fields])
                    med, low, status = fields[at:at + 3]
                    if status == "na":
                        self.na.add(key)
                    if status == "error":
                        self.errors[key] = self.errors.get(key, 0) + 1
                    if status != "ok":
                        continue
                    if key not in self.values:
                        self.order.append(key)
                        self.values[key] = []
                    self.values[key].append(float(med))
                    self.mins[key] = min(self.mins.get(key, float(low)), float(low))
                    self.per_run[key, self.runs] = float(med)
                    self.units[key] = fields[-1]

    def __contains__(self, key):
        return key in self.values

    def med(self, key):
        return median(self.values[key])

    def count(self, key):
        return len(self.values[key])

    def ratios(self, kx, ky):
        """x / y for every run that has both rows."""
        return [self.per_run[kx, i] / self.per_run[ky, i] for i in range(1, self.runs + 1)
                if (kx, i) in self.per_run and (ky, i) in self.per_run]

    def ratio_list(self, kx, ky):
        return ", ".join("%.2f" % r for r in self.ratios(kx, ky))


def heading(runs, what=""):
    print("\nMedian of %d run(s)%s\n" % (runs, what))


# ------------------------------------------------------------------ thread

def thread_report(runs, paths):
    # csv,<case>,<peer>,<units>,<median ns/unit>,<min ns/unit>,<ok|error>,<other load>,<reps redone>
    r = Runs(paths, 2, skip=1)
    med = {k: r.med(k) for k in r.order}
    heading(runs, " (ns per task / per round trip; case m: bytes per pending task)")
    print("| case | peer     | median   | best min | runs | ratio |\n|------|----------|----------|----------|------|-------|")
    best = None
    for p in ("tbb", "asio", "glib", "std"):
        if ("a", p) in med and (best is None or med["a", p] < med[best]):
            best = ("a", p)
    for case in ("m", "a", "b", "c"):
        for peer in ("serial", "lox", "tbb", "asio", "glib", "std", "pingpong"):
            key = (case, peer)
            if key not in med:
                continue
            note = ""
            if case == "a" and best:
                note = "%.3fx vs %s" % (med[key] / med[best], best[1])
            if case == "b" and ("b", "serial") in med:
                note = "speed-up %.3fx" % (med["b", "serial"] / med[key])
            if case == "c" and ("c", "pingpong") in med:
                note = "%.3fx vs ping-pong" % (med[key] / med["c", "pingpong"])
            if case == "m":
                note = "best min = malloc heap bytes/task"
            print("| %-4s | %-8s | %8.1f | %8.1f | %4d | %s |" % (case, peer, med[key], r.mins[key], r.count(key), note))
    print("\nTargets (medians across runs)\n")
    if best and ("a", "lox") in med:
        x = med["a", "lox"] / med[best]
        print("(a) liblox / fastest peer (%s) = %.3f  (target <= 0.25): %s" % (best[1], x, verdict(x <= 0.25)))
    if ("b", "lox") in med and ("b", "serial") in med:
        x = med["b", "serial"] / med["b", "lox"]
        print("(b) liblox speed-up vs serial = %.3f  (target >= 1.9): %s" % (x, verdict(x >= 1.9)))
    if ("c", "lox") in med and ("c", "pingpong") in med:
        x = med["c", "lox"] / med["c", "pingpong"]
        print("(c) liblox / cv ping-pong = %.3f  (target <= 2): %s" % (x, verdict(x <= 2)))
    if ("m", "lox") in med:
        x = med["m", "lox"]
        print("(m) bytes per pending liblox task = %.1f  (target <= 64): %s" % (x, verdict(x <= 64)))


# -------------------------------------------------------------------- sync

SYNC_PAIRS = ("pthread_mutex", "std::mutex", "lox_lock", "lox::lock (C++ layer)", "lox_qlock", "pthread_rwlock read",
              "std::shared_mutex read", "lox_rwlock read", "pthread_rwlock write", "std::shared_mutex write",
              "lox_rwlock write", "sem_wait/sem_post", "lox_index_semaphore")
SYNC_RW = ("lox_rwlock", "pthread_rwlock", "std::shared_mutex", "pthread_mutex")


def sync_reference(peer):
    if peer.endswith(" read"):
        return "pthread_rwlock read"
    if peer.endswith(" write"):
        return "pthread_rwlock write"
    return "sem_wait/sem_post" if "sem" in peer else "pthread_mutex"


def sync_report(runs, paths):
    # csv,<case>,<peer>,<median ns>,<min ns>,<ok|error>,<other load>,<reps redone>
    # (case u: ns per pair; cases t100/t95/t50: wall ns per op of both threads.)
    r = Runs(paths, 2)
    med = {k: r.med(k) for k in r.order}
    heading(runs)
    print("| case | peer | median | best | runs | ratio |\n|---|---|---:|---:|---:|---|")
    for peer in SYNC_PAIRS:
        key = ("u", peer)
        if key not in med:
            continue
        ref = ("u", sync_reference(peer))
        note = "%.2fx %s" % (med[key] / med[ref], ref[1]) if ref in med else ""
        print("| u: ns per pair | %s | %.1f | %.1f | %d | %s |" % (peer, med[key], r.mins[key], r.count(key), note))
    for case in ("t100", "t95", "t50"):
        for peer in SYNC_RW:
            key, base = (case, peer), (case, "pthread_rwlock")
            if key not in med:
                continue
            note = "%.2fx pthread_rwlock" % (med[base] / med[key]) if base in med else ""
            print("| %s: Mops/s | %s | %.2f | %.2f | %d | %s |" % (case, peer, 1e3 / med[key], 1e3 / r.mins[key],
                                                                   r.count(key), note))
    print("\nTargets (medians across runs)\n")

    def target(what, num, den, limit, at_most=True, invert=False):
        if num not in med or den not in med:
            return
        x = med[den] / med[num] if invert else med[num] / med[den]
        met = x <= float(limit) if at_most else x >= float(limit)
        print("%s = %.3f  (target %s %s): %s" % (what, x, "<=" if at_most else ">=", limit, verdict(met)))

    target("lox_lock pair / pthread_mutex", ("u", "lox_lock"), ("u", "pthread_mutex"), "1.2")
    target("lox_rwlock read pair / pthread_rwlock read", ("u", "lox_rwlock read"), ("u", "pthread_rwlock read"), "1.0")
    for case in ("t100", "t95"):
        target("lox_rwlock throughput / pthread_rwlock at %s%% reads" % case[1:], (case, "lox_rwlock"),
               (case, "pthread_rwlock"), "2", at_most=False, invert=True)
    target("lox_qlock pair / pthread_mutex", ("u", "lox_qlock"), ("u", "pthread_mutex"), "1.2")
    target("lox_index_semaphore pair / sem_wait+sem_post", ("u", "lox_index_semaphore"), ("u", "sem_wait/sem_post"),
           "1.5")


# ------------------------------------------------------------------- queue

def queue_report(runs, paths):
    # csv,<case>,<shape>,<peer>,<median ns>,<min ns>,<ok|error|na>,<other load>,<reps redone>,<CPUs used>
    # (case q: ns per item moved; case a: ns per put.)
    r = Runs(paths, 3)
    shapes = list(dict.fromkeys(k[1] for k in r.order if k[0] == "q"))
    subs = list(dict.fromkeys(k[1] for k in r.order if k[0] == "a"))
    peers = ("lox", "glib", "tbb", "std")
    heading(runs)
    print("| shape | peer | median ns/item | best ns/item | Mitems/s | runs | lox items/s / this |")
    print("|---|---|---:|---:|---:|---:|---|")
    for shape in shapes:
        lox = ("q", shape, "lox")
        for peer in peers:
            key = ("q", shape, peer)
            if key in r.na:
                print("| %s | %s | n/a | n/a | n/a | | |" % (shape, peer))
                continue
            if key not in r:
                continue
            note = "%.2fx" % (r.med(key) / r.med(lox)) if lox in r else ""
            print("| %s | %s | %.1f | %.1f | %.2f | %d | %s |" % (shape, peer, r.med(key), r.mins[key],
                                                                 1e3 / r.med(key), r.count(key), note))
    print("\nTargets (lox_queue items/s >= 2x the fastest peer's; medians across runs)\n")
    for shape in shapes:
        lox = ("q", shape, "lox")
        others = [("q", shape, p) for p in peers[1:] if ("q", shape, p) in r]
        if lox not in r or not others:
            continue
        best = min(others, key=r.med)
        x = r.med(best) / r.med(lox)
        # Each run: lox against that run's fastest peer.
        per_run = []
        for i in range(1, r.runs + 1):
            this_run = [r.per_run[k, i] for k in others if (k, i) in r.per_run]
            if (lox, i) in r.per_run and this_run:
                per_run.append("%.2f" % (min(this_run) / r.per_run[lox, i]))
        print("%s: lox_queue / fastest peer (%s) = %.3f  (per run %s; target >= 2): %s" % (
            shape, best[2], x, ", ".join(per_run), verdict(x >= 2)))
    if subs:
        print("\nlox_announcement_put (ns per put; median across runs)\n")
        print("| subscribers | what | median ns/put | best | ns per receiver | runs |\n|---|---|---:|---:|---:|---:|")
        for s in subs:
            n = int(s.split("-")[0])
            for what in ("put/batch-drain", "put/drainer", "queue_put-x%d" % n):
                key = ("a", s, what)
                if key in r:
                    print("| %d | %s | %.1f | %.1f | %.1f | %d |" % (n, what, r.med(key), r.mins[key], r.med(key) / n,
                                                                    r.count(key)))


# ----------------------------------------------------------------- process

def process_report(runs, paths):
    # csv,<case>,<shape>,<peer>,<median>,<min>,<ok|error>,<other load>,<reps redone>,<CPUs used>,<unit>
    # Units: a ns/task, b ms/batch, c ns per byte moved (in + out; GB/s = 1 / this), d us.
    r = Runs(paths, 3)
    heading(runs)
    print("| case | peer | median | best | unit | runs | note |\n|---|---|---:|---:|---|---:|---|")
    for key in r.order:
        case, shape, peer = key
        note = "%.3f GB/s (best %.3f)" % (1 / r.med(key), 1 / r.mins[key]) if case == "c" else ""
        print("| %s | %s | %.4g | %.4g | %s | %d | %s |" % (case if shape == case else case + " " + shape, peer,
                                                            r.med(key), r.mins[key], r.units[key], r.count(key), note))
    for key, n in r.errors.items():
        print("ERROR rows: %s in %d run(s)" % (",".join(key), n))
    print("\nRatios and targets (medians across runs, per run in brackets)\n")
    la, pa = ("a", "a", "lox scatter all + gather"), ("a", "a", "python apply_async all + get")
    pm = ("a", "a", "python starmap (default chunksize)")
    if la in r and pa in r:
        x = r.med(pa) / r.med(la)
        print("(a) apply_async ns/task / lox ns/task = %.1fx (per run %s; target >= 20): %s" % (
            x, r.ratio_list(pa, la), verdict(x >= 20)))
        if pm in r:
            print("    starmap (default chunksize) ns/task / lox ns/task = %.2fx (per run %s)" % (
                r.med(pm) / r.med(la), r.ratio_list(pm, la)))
    # Case b: each run calibrates its own tasks, so the speed-up is taken per
    # run (serial median / pool median of that run) and its median reported.
    bs, bl = ("b", "b", "serial C (calling thread)"), ("b", "b", "lox C (worker processes)")
    ps, pp = ("b", "b", "python serial"), ("b", "b", "python Pool apply_async + get")
    if bs in r and bl in r:
        x = median(r.ratios(bs, bl))
        print("(b) lox speed-up over serial = %.3fx (median of per-run speed-ups %s; target >= 1.9): %s" % (
            x, r.ratio_list(bs, bl), verdict(x >= 1.9)))
        if ps in r and pp in r:
            print("    Python Pool(2) speed-up over Python serial = %.3fx (per run %s)" % (
                median(r.ratios(ps, pp)), r.ratio_list(ps, pp)))
    for key in r.order:
        case, shape, peer = key
        if case != "c" or peer != "lox echo":
            continue
        py = ("c", shape, "python apply_async echo + get")
        gbs = 1 / r.med(key)
        line = "(c) %s: lox %.3f GB/s (in + out)" % (shape, gbs)
        if py in r:
            line += ", Python %.3f GB/s, lox %.2fx Python (per run %s)" % (1 / r.med(py), r.med(py) / r.med(key),
                                                                          r.ratio_list(py, key))
        if shape.startswith("1MiB "):
            line += "; target >= 1 GB/s: %s" % verdict(gbs >= 1)
        print(line)
    dl, dp = ("d", "d", "lox create -> first result"), ("d", "d", "python Pool(2) + first apply")
    if dl in r:
        have = dp in r
        print("(d) start to first result: lox %.0f us, Python %s us (Python / lox = %s; per run %s; no target)" % (
            r.med(dl), "%.0f" % r.med(dp) if have else "-", "%.1fx" % (r.med(dp) / r.med(dl)) if have else "-",
            r.ratio_list(dp, dl)))


# ------------------------------------------------------------------- graph

GRAPH_CASES = (("h", "ns/task", "scatter (plain)"), ("a", "ns/task", "gather (ordered)"), ("c", "ns/node", "lox"),
               ("f", "ns/node", "lox"))


def graph_report(runs, paths):
    # csv,<case>,<peer>,<units>,<median ns>,<min ns>,<ok|error>,<other load>,<reps redone>,<CPUs used>
    # (cases h, a: ns per task of a round; cases c, f: ns per node of the graph.)
    r = Runs(paths, 2, skip=1)
    heading(runs, " (ns per task / per node; ratio: this row / the case's first row or lox, per run in brackets)")
    print("| case | peer | median | best | runs | ratio |\n|---|---|---:|---:|---:|---|")
    for case, unit, base in GRAPH_CASES:
        for key in r.order:
            if key[0] != case:
                continue
            b = (case, base)
            note = ""
            if b in r and key != b:
                note = "%.3fx %s (%s)" % (r.med(key) / r.med(b), base, r.ratio_list(key, b))
            print("| %s: %s | %s | %.1f | %.1f | %d | %s |" % (case, unit, key[1], r.med(key), r.mins[key],
                                                               r.count(key), note))
    for key, n in r.errors.items():
        print("ERROR rows: %s in %d run(s)" % (",".join(key), n))
    print("\nTargets (medians across runs, per run in brackets)\n")

    def target(what, num, den, limit):
        if num not in r or den not in r:
            print("%s: not measured" % what)
            return
        x = r.med(num) / r.med(den)
        print("%s = %.3f  (per run %s; target <= %s): %s" % (what, x, r.ratio_list(num, den), limit,
                                                              verdict(x <= limit)))

    plain = ("h", "scatter (plain)")
    target("after 1 pending task / plain scatter", ("h", "after 1 pending task (gated root)"), plain, 2)
    target("after 1 completed task / plain scatter", ("h", "after 1 completed task"), plain, 2)
    for case, name in (("c", "chain"), ("f", "fan")):
        for peer in ("lox", "lox-gated"):
            target("%s, %s per node / plain scatter per task" % (name, peer), (case, peer), plain, 2)
    for case, name in (("c", "chain"), ("f", "fan")):
        for peer in ("lox", "lox-gated"):
            target("%s, %s / tbb per node" % (name, peer), (case, peer), (case, "tbb"), 0.5)
    target("completions_next / ordered gather", ("a", "completions_next (as completed)"), ("a", "gather (ordered)"),
           1.2)


REPORTS = {"thread": thread_report, "sync": sync_report, "queue": queue_report, "process": process_report, "graph": graph_report}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in REPORTS:
        sys.exit("usage: median.py {%s} RUNS LOG..." % ",".join(REPORTS))
    REPORTS[sys.argv[1]](int(sys.argv[2]), sys.argv[3:])
