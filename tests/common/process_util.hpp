// SPDX-License-Identifier: Apache-2.0
// Helpers for the process-pool tests (test_process_*.cpp): RAII owners,
// gathers that cannot hang forever, byte encoding of task commands and
// replies, memory shared with the workers (gates and counters that work
// across fork), crashing the worker for real (past the sanitizers' signal
// handlers), and the /proc scans that find leftover processes and
// descriptors.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "proc_self.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"

namespace loxtest {

// A gather that must complete waits this long (seconds) before the test
// reports a hang instead of blocking until CTest kills it.
inline constexpr double kMustSeconds = 120.0;

// ------------------------------------------------------------- handles --

using Proc = Owned<lox_process>;

inline lox_process_opts proc_opts(double task_timeout = LOX_FOREVER, size_t max_message = size_t{1} << 30) {
  lox_process_opts o;
  lox_process_opts_init(&o);
  o.task_timeout = task_timeout;
  o.max_message = max_message;
  return o;
}

inline Proc make_proc(size_t n_workers, lox_process_fn fn, void* ctx = nullptr,
                      const lox_process_opts* opts = nullptr) {
  return opts ? created<lox_process>(lox_process_create_ex, n_workers, fn, ctx, opts)
              : created<lox_process>(lox_process_create, n_workers, fn, ctx);
}

// Gathers with `timeout`; `rc` receives the status.
inline Results pgather(lox_process* pool, int* rc = nullptr, double timeout = kMustSeconds,
                       lox_gather_opts* base = nullptr) {
  lox_gather_opts o;
  if (base)
    o = *base;
  else
    lox_gather_opts_init(&o);
  o.timeout = timeout;
  lox_results* r = nullptr;
  int st = lox_process_gather(pool, &o, &r);
  if (rc) *rc = st;
  return Results(r);
}

// Gathers (failing instead of hanging) and expects `want` (LOX_OK by default).
inline Results pgather_expect(lox_process* pool, int want = LOX_OK) {
  int rc = -100;
  Results r = pgather(pool, &rc);
  EXPECT_NE(rc, LOX_TIMEOUT) << "the round did not complete within " << kMustSeconds << " s (hang?)";
  EXPECT_EQ(rc, want) << lox_status_str(rc) << ": " << lox_last_error();
  EXPECT_NE(r, nullptr);
  return r;
}

inline Results pgather_ok(lox_process* pool) { return pgather_expect(pool, LOX_OK); }

// The bytes of task i (expects lox_results_bytes to succeed).
inline std::string bytes_at(const lox_results* r, size_t i) {
  const void* data = nullptr;
  size_t len = 0;
  int rc = lox_results_bytes(r, i, &data, &len);
  EXPECT_EQ(rc, LOX_OK) << "task " << i << ": " << lox_last_error();
  if (rc != LOX_OK) return {};
  if (len == 0) return {};
  EXPECT_NE(data, nullptr) << "task " << i;
  if (!data) return {};
  return std::string(static_cast<const char*>(data), len);
}

inline std::string error_at(const lox_results* r, size_t i) {
  const char* e = lox_results_error(r, i);
  return e ? std::string(e) : std::string("(null)");
}

// ------------------------------------------------------------ encoding --

template <typename T>
std::string pod_bytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
bool pod_from(const std::string& s, T& v) {
  if (s.size() != sizeof v) return false;
  std::memcpy(&v, s.data(), sizeof v);
  return true;
}

// What a command task (command_fn) is asked to do.
enum Op : int32_t {
  kMul = 1,      // reply a * b
  kFail,         // append "bad input <a>" and return b (the failure code)
  kFailSilent,   // append nothing and return b
  kSegv,         // SIGSEGV by raise (with the default action restored)
  kNullWrite,    // SIGSEGV by writing through a null pointer
  kAbort,        // abort()
  kExit3,        // _exit(3)
  kSigkill,      // kill(getpid(), SIGKILL)
  kSleep,        // sleep a seconds (shared->sleeping counts it), then reply a
  kWaitGate,     // wait for the shared gate, then reply a * b
  kSleepMs,      // sleep a milliseconds, then reply a * b
  kConcurrency,  // count in the shared counters, wait until b tasks run at once, reply a
  kCtxValue,     // reply the int the ctx points to (ctx is not a Shared here)
};

struct Cmd {
  int32_t op;
  int32_t a;
  int32_t b;
  int32_t pad;
};

struct Reply {
  int64_t value;
  int32_t pid;
  int32_t op;
};

inline Cmd cmd(Op op, int32_t a = 0, int32_t b = 0) { return Cmd{op, a, b, 0}; }

inline int scatter_cmd(lox_process* pool, const Cmd& c, size_t* index = nullptr) {
  return lox_process_scatter(pool, &c, sizeof c, index);
}

// The reply of task i (fails the test when it is not a Reply).
inline Reply reply_at(const lox_results* r, size_t i) {
  Reply rep{-1, -1, -1};
  std::string b = bytes_at(r, i);
  EXPECT_TRUE(pod_from(b, rep)) << "task " << i << ": " << b.size() << " bytes, not a reply";
  return rep;
}

// --------------------------------------------------------- shared memory --

// Counters and a gate in a MAP_SHARED mapping made before the pool: the
// fork server and every worker share it with the test (lock-free atomics
// work across processes).
struct SharedState {
  std::atomic<int> gate{0};
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> sleeping{0};
  std::atomic<int> in_task{0};
  std::atomic<int> max_in_task{0};
  std::atomic<int> released{0};
  std::atomic<int> terms{0};     // SIGTERMs a worker caught and ignored (task_util.hpp)
  std::atomic<int> last_pid{0};  // the worker that last started a task (task_util.hpp)
};
static_assert(std::atomic<int>::is_always_lock_free);

class Shared {
 public:
  Shared() {
    void* m = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, MAP_FAILED);
    if (m == MAP_FAILED) std::abort();
    s_ = new (m) SharedState();
  }
  ~Shared() {
    s_->~SharedState();
    munmap(s_, sizeof(SharedState));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  SharedState* get() const { return s_; }
  SharedState* operator->() const { return s_; }
  void open_gate() { s_->gate.store(1); }

 private:
  SharedState* s_ = nullptr;
};

// Polls in a worker: 60 s, every 0.5 ms (eventually() only sleeps between
// polls, so it works without threads or condition variables across fork).
template <typename Pred>
bool worker_poll(Pred&& pred, std::chrono::nanoseconds limit = std::chrono::seconds(60)) {
  return eventually(pred, limit, std::chrono::microseconds(500));
}

// ----------------------------------------------------------- real crashes --

// Restores the default action of `sig` with the raw system call: ASan and
// TSan install SIGSEGV handlers (and may refuse sigaction() changes) that
// turn the signal into an exit with a report, which would hide the death
// by signal this suite wants to provoke.
inline void default_action(int sig) {
  struct KernelSigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    unsigned long mask;
  } k{};
  k.handler = reinterpret_cast<void*>(SIG_DFL);
  syscall(SYS_rt_sigaction, sig, &k, nullptr, sizeof k.mask);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, nullptr, sizeof k.mask);
}

[[noreturn]] inline void die_by_raise_segv() {
  default_action(SIGSEGV);
  raise(SIGSEGV);
  _exit(111);  // not reached
}

[[noreturn]] __attribute__((no_sanitize("address", "undefined", "thread"))) inline void die_by_null_write() {
  default_action(SIGSEGV);
  volatile int* volatile p = nullptr;
  *p = 42;
  _exit(112);  // not reached
}

[[noreturn]] inline void die_by_sigkill() {
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

// ----------------------------------------------------------- command fn --

inline int reply(lox_buffer* out, int64_t value, int32_t op) {
  Reply r{value, static_cast<int32_t>(getpid()), op};
  return lox_buffer_append(out, &r, sizeof r) == LOX_OK ? 0 : 90;
}

// The task used by most tests: decodes a Cmd and does what it says. ctx is
// a SharedState* (or NULL when no op needs it; kCtxValue: an int*).
inline int command_fn(void* ctx, const void* in, size_t in_len, lox_buffer* out) {
  Cmd c{};
  if (in_len != sizeof c || !in) {
    const char msg[] = "not a command";
    lox_buffer_append(out, msg, sizeof msg - 1);
    return 91;
  }
  std::memcpy(&c, in, sizeof c);
  auto* sh = static_cast<SharedState*>(ctx);
  switch (c.op) {
    case kMul:
      return reply(out, int64_t{c.a} * c.b, c.op);
    case kFail: {
      std::string msg = "bad input " + std::to_string(c.a);
      lox_buffer_append(out, msg.data(), msg.size());
      return c.b;
    }
    case kFailSilent:
      return c.b;
    case kSegv:
      die_by_raise_segv();
    case kNullWrite:
      die_by_null_write();
    case kAbort:
      abort();
    case kExit3:
      _exit(3);
    case kSigkill:
      die_by_sigkill();
    case kSleep:
      if (sh) sh->sleeping.fetch_add(1);
      sleep(static_cast<unsigned>(c.a));
      if (sh) sh->sleeping.fetch_sub(1);
      return reply(out, c.a, c.op);
    case kWaitGate: {
      if (sh) sh->started.fetch_add(1);
      bool opened = sh && worker_poll([&] { return sh->gate.load() != 0; });
      if (sh) sh->finished.fetch_add(1);
      if (!opened) return 99;  // the gate never opened (test bug or hang)
      return reply(out, int64_t{c.a} * c.b, c.op);
    }
    case kSleepMs:
      usleep(static_cast<useconds_t>(c.a) * 1000);
      return reply(out, int64_t{c.a} * c.b, c.op);
    case kConcurrency: {
      int now = sh->in_task.fetch_add(1) + 1;
      int m = sh->max_in_task.load();
      while (now > m && !sh->max_in_task.compare_exchange_weak(m, now)) {
      }
      sh->started.fetch_add(1);
      // Wait until b tasks have run at once; the first task that gives up
      // (after 10 s) releases the others, so a failure costs 10 s, not 10 s
      // per task.
      worker_poll([&] { return sh->max_in_task.load() >= c.b || sh->released.load() != 0; }, std::chrono::seconds(10));
      bool ok = sh->max_in_task.load() >= c.b;
      if (!ok) sh->released.store(1);
      sh->in_task.fetch_sub(1);
      return ok ? reply(out, c.a, c.op) : 98;
    }
    case kCtxValue:
      return reply(out, *static_cast<int*>(ctx), c.op);
    default:
      return 92;
  }
}

// ------------------------------------------------------------ /proc scans --

struct ProcEntry {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  unsigned long long start = 0;  // start time: tells a reused pid apart
  std::string comm;
};

inline bool read_proc_entry(pid_t pid, ProcEntry& e) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) return false;
  e.pid = pid;
  e.comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  // Fields 3.. : state ppid pgrp session tty_nr tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime priority nice num_threads
  // itrealvalue starttime
  std::string field;
  std::vector<std::string> f3;
  while (rest >> field && f3.size() < 20) f3.push_back(field);
  if (f3.size() < 20) return false;
  e.state = f3[0].empty() ? '?' : f3[0][0];
  e.ppid = static_cast<pid_t>(std::stol(f3[1]));
  e.start = std::stoull(f3[19]);
  return true;
}

inline std::vector<ProcEntry> all_processes() {
  std::vector<ProcEntry> v;
  DIR* d = opendir("/proc");
  if (!d) return v;
  while (dirent* de = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(de->d_name, &end, 10);
    if (!end || *end != '\0' || pid <= 0) continue;
    ProcEntry e;
    if (read_proc_entry(static_cast<pid_t>(pid), e)) v.push_back(e);
  }
  closedir(d);
  return v;
}

// Every process below `root` (children, grandchildren, ...), zombies included.
inline std::vector<ProcEntry> descendants(pid_t root = getpid()) {
  auto all = all_processes();
  std::multimap<pid_t, const ProcEntry*> children;
  for (auto& e : all) children.emplace(e.ppid, &e);
  std::vector<ProcEntry> out;
  std::vector<pid_t> todo{root};
  std::set<pid_t> seen{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) {
      if (!seen.insert(it->second->pid).second) continue;
      out.push_back(*it->second);
      todo.push_back(it->second->pid);
    }
  }
  return out;
}

// The same process (pid and start time) still exists, in any state.
inline bool still_exists(const ProcEntry& e) {
  ProcEntry now;
  return read_proc_entry(e.pid, now) && now.start == e.start;
}

inline std::string describe(const std::vector<ProcEntry>& v) {
  std::string s;
  for (auto& e : v)
    s += "  pid " + std::to_string(e.pid) + " ppid " + std::to_string(e.ppid) + " state " + e.state + " (" + e.comm +
         ")\n";
  return s.empty() ? "  (none)\n" : s;
}

// Entries of `now` that are not in `before` (by pid and start time).
inline std::vector<ProcEntry> minus(const std::vector<ProcEntry>& now, const std::vector<ProcEntry>& before) {
  std::vector<ProcEntry> out;
  for (auto& e : now) {
    bool old = false;
    for (auto& b : before)
      if (b.pid == e.pid && b.start == e.start) old = true;
    if (!old) out.push_back(e);
  }
  return out;
}

inline std::vector<int> fds_minus(const std::vector<int>& now, const std::vector<int>& before) {
  std::vector<int> out;
  std::set<int> b(before.begin(), before.end());
  for (int fd : now)
    if (!b.count(fd)) out.push_back(fd);
  return out;
}

// A snapshot of this process's descriptors and descendants; check_clean()
// verifies that nothing was added since (the pool's processes are gone,
// none left as a zombie, every descriptor closed). Processes seen while the
// pool lived (remember()) must have vanished too, also those that were
// reparented away from us.
class LeakCheck {
 public:
  LeakCheck() : fds_(open_fds()), procs_(descendants()) {}

  // Records the pool's current processes (call while the pool is alive).
  void remember() {
    for (auto& e : minus(descendants(), procs_)) seen_.push_back(e);
  }
  const std::vector<ProcEntry>& seen() const { return seen_; }

  void check_clean(const char* when) {
    auto extra = minus(descendants(), procs_);
    EXPECT_TRUE(extra.empty()) << when << ": processes left below the test process:\n" << describe(extra);
    // A remembered process that was reparented (e.g. an orphaned worker)
    // is no longer our descendant: it must be gone all the same. Reaping by
    // another parent can lag a little: allow a generous moment.
    std::vector<ProcEntry> alive;
    eventually(
        [&] {
          alive.clear();
          for (auto& e : seen_)
            if (still_exists(e)) alive.push_back(e);
          return alive.empty();
        },
        std::chrono::seconds(10));
    for (auto& e : alive) {
      ProcEntry now;
      if (read_proc_entry(e.pid, now)) e = now;
    }
    EXPECT_TRUE(alive.empty()) << when << ": pool processes still exist:\n" << describe(alive);
    auto fds_now = open_fds();
    auto added = fds_minus(fds_now, fds_);
    auto removed = fds_minus(fds_, fds_now);
    EXPECT_TRUE(added.empty()) << when << ": descriptors left open:\n" << describe_fds(added);
    EXPECT_TRUE(removed.empty()) << when << ": descriptors closed that the test owned:\n"
                                 << ::testing::PrintToString(removed);
  }

 private:
  std::vector<int> fds_;
  std::vector<ProcEntry> procs_;
  std::vector<ProcEntry> seen_;
};

// One pool made, used and destroyed, so that one-time lazy initialisation
// (of the library or a sanitizer runtime) does not count as a leak.
inline void warm_up_process_pool() {
  lox_process* p = nullptr;
  if (lox_process_create(1, command_fn, nullptr, &p) != LOX_OK) return;
  Cmd c = cmd(kMul, 2, 3);
  lox_process_scatter(p, &c, sizeof c, nullptr);
  lox_results* r = nullptr;
  lox_gather_opts o;
  lox_gather_opts_init(&o);
  o.timeout = kMustSeconds;
  lox_process_gather(p, &o, &r);
  lox_results_destroy(r);
  lox_process_destroy(p);
}

inline size_t online_cpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

}  // namespace loxtest
