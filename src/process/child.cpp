// SPDX-License-Identifier: Apache-2.0
#include "process/child.hpp"

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/deadline.hpp"
#include "process/frame.hpp"
#include "process/io.hpp"

namespace lox::core::process {

namespace {

// Exit codes of a worker that stops on its own (never seen by users: the
// parent reports protocol trouble as a malformed or missing result).
constexpr int kBadFrame = 70;
constexpr int kWriteFailed = 71;

// The signal state of the thread that called lox_process_create, as the
// fork server was forked with it: what every worker gets back.
struct SignalState {
  sigset_t mask;
  struct sigaction pipe;
  struct sigaction chld;
};

struct ServerContext {
  Runner& runner;
  uint64_t max_message;
  SignalState inherited;
};

int pidfd_open(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void reply(int ctl, ServerReply r, int fd) noexcept {
  // If the parent is gone the next poll sees end of file; nothing to do here.
  (void)send_message(ctl, &r, sizeof r, fd);
}

// Only the standard streams and `keep` stay open.
void close_all_but(int keep) noexcept {
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
  ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
}

[[noreturn]] void serve(int ctl, const ServerContext& ctx) noexcept;

// A fork server's standby copy: waits on its own socket until the parent
// activates it (the fork server died) or closes it (the pool is gone).
[[noreturn]] void standby_main(int sock, const ServerContext& ctx) noexcept {
  for (;;) {
    ServerRequest req{};
    int fd = -1;
    const long n = recv_message(sock, &req, sizeof req, fd);
    if (fd >= 0) ::close(fd);
    if (n <= 0) ::_exit(0);
    if (n == static_cast<long>(sizeof req) && req.op == kActivate) serve(sock, ctx);
  }
}

// Forks a standby and hands its socket to the parent; its pid, or -1 when
// it could not be made (the pool then works without one).
pid_t start_standby(int ctl, int sfd, const ServerContext& ctx) noexcept {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ctl);
    ::close(sfd);
    ::close(sv[0]);
    standby_main(sv[1], ctx);
  }
  ::close(sv[1]);
  if (pid > 0) reply(ctl, ServerReply{kStandby, 0, pid, 0}, sv[0]);
  ::close(sv[0]);
  return pid > 0 ? pid : -1;
}

[[noreturn]] void run_worker(int ctl, int sfd, int sock, pid_t server, const ServerContext& ctx) noexcept {
  // Dies with the fork server; leads a process group of its own, so that
  // what its tasks start (and do not move elsewhere) is killed with it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != server) ::_exit(0);
  ::setpgid(0, 0);
  ::close(ctl);
  ::close(sfd);
  // Back to the creating thread's signal state: the server's changes
  // (everything blocked, SIGPIPE ignored, SIGCHLD default) are its own.
  ::sigaction(SIGPIPE, &ctx.inherited.pipe, nullptr);
  ::sigaction(SIGCHLD, &ctx.inherited.chld, nullptr);
  ::sigprocmask(SIG_SETMASK, &ctx.inherited.mask, nullptr);
  worker_main(sock, ctx.runner, ctx.max_message);
}

void serve(int ctl, const ServerContext& ctx) noexcept {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) ::_exit(1);
  const pid_t server = ::getpid();
  std::vector<pid_t> workers;
  pid_t standby = start_standby(ctl, sfd, ctx);

  // Reaps every child that ended. A worker's process group is killed while
  // the worker is still a zombie: its pid (the group's id) cannot have been
  // reused yet, so the signal reaches no stranger.
  auto reap = [&] {
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
      const pid_t pid = info.si_pid;
      bool worker = false;
      for (auto it = workers.begin(); it != workers.end(); ++it)
        if (*it == pid) {
          workers.erase(it);
          worker = true;
          break;
        }
      if (worker) ::kill(-pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (worker)
        reply(ctl, ServerReply{kExited, 0, pid, status}, -1);
      else if (pid == standby)
        standby = start_standby(ctl, sfd, ctx);
    }
  };

  for (;;) {
    pollfd fds[2] = {{ctl, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      }
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ServerRequest req{};
      int worker_sock = -1;
      long n = recv_message(ctl, &req, sizeof req, worker_sock);
      if (n <= 0) break;  // the parent closed the pool (or died)
      if (n != static_cast<long>(sizeof req) || req.op != kSpawn || worker_sock < 0) {
        if (worker_sock >= 0) ::close(worker_sock);
        continue;
      }
      const pid_t pid = ::fork();
      if (pid == 0) run_worker(ctl, sfd, worker_sock, server, ctx);
      const int fork_errno = errno;
      ::close(worker_sock);
      if (pid < 0) {
        reply(ctl, ServerReply{kSpawnFailed, req.token, 0, fork_errno}, -1);
        continue;
      }
      // Also here, not only in the worker: the group must exist before any
      // kill of it, whichever of the two runs first.
      ::setpgid(pid, pid);
      workers.push_back(pid);
      const int pidfd = pidfd_open(pid);
      reply(ctl, ServerReply{kSpawned, req.token, pid, 0}, pidfd);
      if (pidfd >= 0) ::close(pidfd);
      if (standby < 0) standby = start_standby(ctl, sfd, ctx);  // it could not be made before
    }
  }
  // The pool is gone: stop every worker with its group, and the standby,
  // and leave no zombie behind.
  for (pid_t pid : workers) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  if (standby > 0) ::kill(standby, SIGKILL);
  int status = 0;
  while (::waitpid(-1, &status, 0) > 0 || errno == EINTR) {
  }
  ::_exit(0);
}

}  // namespace

std::string oversized_result(size_t size, uint64_t max_message) {
  return fmt::format("the task's result of {} bytes is larger than max_message ({} bytes)", size, max_message);
}

void worker_main(int sock, Runner& runner, uint64_t max_message) noexcept {
  std::vector<unsigned char> in;
  std::string out;
  BufferedReader reader(sock);
  const Deadline never = Deadline::never();
  for (;;) {
    unsigned char raw[sizeof(FrameHeader)];
    int err = 0;
    Io r = reader.read(raw, sizeof raw, never, err);
    if (r == Io::eof) ::_exit(0);
    if (r != Io::ok) ::_exit(kBadFrame);
    const FrameHeader h = read_header(raw);
    if (check_header(h, FrameKind::task, max_message) != HeaderCheck::ok) ::_exit(kBadFrame);
    in.resize(static_cast<size_t>(h.length));
    if (h.length > 0 && reader.read(in.data(), in.size(), never, err) != Io::ok) ::_exit(0);
    out.clear();
    const int status = runner.run(in.empty() ? nullptr : in.data(), in.size(), out);
    // Each result goes out as soon as it is ready (one system call): if a
    // later task kills this process, the parent has every earlier result
    // and knows exactly which task was running. A result the parent would
    // refuse goes as a notice of its size: the task fails, the worker lives.
    const bool oversized = out.size() > max_message;
    const FrameHeader rh = oversized ? make_header(FrameKind::oversized, 0, out.size())
                                     : make_header(FrameKind::result, status, out.size());
    if (write_frame(sock, &rh, sizeof rh, out.data(), oversized ? 0 : out.size(), err) != Io::ok) ::_exit(kWriteFailed);
    if (out.capacity() > (size_t{1} << 20)) std::string().swap(out);  // do not sit on a huge result
    if (in.capacity() > (size_t{1} << 20)) std::vector<unsigned char>().swap(in);
  }
}

void fork_server_main(int ctl, Runner& runner, uint64_t max_message) noexcept {
  // Nothing of the parent but the standard streams and our control socket.
  close_all_but(ctl);
  ServerContext ctx{runner, max_message, {}};
  ::sigprocmask(SIG_SETMASK, nullptr, &ctx.inherited.mask);
  ::sigaction(SIGPIPE, nullptr, &ctx.inherited.pipe);
  ::sigaction(SIGCHLD, nullptr, &ctx.inherited.chld);
  // Every signal blocked: a Ctrl-C or a stray SIGTERM for the owner's
  // process group does not take the pool's fork server down; SIGCHLD is
  // read from a signalfd. SIGCHLD must have its default action (an owner
  // that ignores it would have its children reaped by the kernel, their
  // exit status lost), SIGPIPE none.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  serve(ctl, ctx);
}

}  // namespace lox::core::process
