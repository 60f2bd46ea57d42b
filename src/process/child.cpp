#include "process/child.hpp"

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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

int pidfd_open(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void reply(int ctl, ServerReply r, int fd) noexcept {
  // If the parent is gone the next poll sees end of file; nothing to do here.
  (void)send_message(ctl, &r, sizeof r, fd);
}

}  // namespace

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
    // and knows exactly which task was running.
    const FrameHeader rh = make_header(FrameKind::result, status, out.size());
    if (write_frame(sock, &rh, sizeof rh, out.data(), out.size(), err) != Io::ok) ::_exit(kWriteFailed);
    if (out.capacity() > (size_t{1} << 20)) std::string().swap(out);  // do not sit on a huge result
    if (in.capacity() > (size_t{1} << 20)) std::vector<unsigned char>().swap(in);
  }
}

void fork_server_main(int ctl, Runner& runner, uint64_t max_message) noexcept {
  // Nothing of the parent but the standard streams and our control socket.
  if (ctl > 3) ::close_range(3, static_cast<unsigned>(ctl) - 1, 0);
  ::close_range(static_cast<unsigned>(ctl) + 1, ~0U, 0);
  ::signal(SIGPIPE, SIG_IGN);
  // The owner may ignore SIGCHLD (then children are reaped by the kernel
  // and their exit status is lost) or handle it: we need the default.
  ::signal(SIGCHLD, SIG_DFL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) ::_exit(1);
  const pid_t server = ::getpid();
  std::vector<pid_t> workers;

  auto reap = [&](bool report) {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto it = workers.begin(); it != workers.end(); ++it)
        if (*it == pid) {
          workers.erase(it);
          break;
        }
      if (report) reply(ctl, ServerReply{kExited, 0, pid, status}, -1);
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
      reap(true);
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
      if (pid == 0) {
        // The worker: dies with the fork server, gets back the signals the
        // server blocked, keeps only its socket (and the standard streams).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != server) ::_exit(0);
        ::close(ctl);
        ::close(sfd);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        worker_main(worker_sock, runner, max_message);
      }
      ::close(worker_sock);
      if (pid < 0) {
        reply(ctl, ServerReply{kSpawnFailed, req.token, 0, errno}, -1);
        continue;
      }
      workers.push_back(pid);
      const int pidfd = pidfd_open(pid);
      reply(ctl, ServerReply{kSpawned, req.token, pid, 0}, pidfd);
      if (pidfd >= 0) ::close(pidfd);
    }
  }
  // The pool is gone: stop every worker and leave no zombie behind.
  for (pid_t pid : workers) ::kill(pid, SIGKILL);
  while (!workers.empty()) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) break;
    for (auto it = workers.begin(); it != workers.end(); ++it)
      if (*it == pid) {
        workers.erase(it);
        break;
      }
  }
  ::_exit(0);
}

}  // namespace lox::core::process
