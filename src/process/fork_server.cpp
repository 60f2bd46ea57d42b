#include "process/fork_server.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.hpp"
#include "process/child.hpp"
#include "process/io.hpp"

namespace lox::core::process {

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? fmt::format("killed by SIG{}", abbrev) : fmt::format("killed by signal {}", sig);
  }
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  return fmt::format("ended with wait status {:#x}", status);
}

Worker::~Worker() {
  kill();
  ::close(sock_);
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Worker::kill() noexcept {
  if (pidfd_ >= 0) ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
}

ForkServer::ForkServer(Runner& runner, uint64_t max_message) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::system_error(errno, std::generic_category(), "socketpair for the fork server");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    fork_server_main(sv[1], runner, max_message);
  }
  const int fork_errno = errno;
  ::close(sv[1]);
  if (pid < 0) {
    ::close(sv[0]);
    throw std::system_error(fork_errno, std::generic_category(), "fork of the fork server");
  }
  server_pid_ = pid;
  ctl_ = sv[0];
  try {
    reader_ = std::thread([this] { read_replies(); });
  } catch (...) {
    ::close(ctl_);
    int status;
    while (::waitpid(server_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    throw;
  }
}

ForkServer::~ForkServer() {
  ::shutdown(ctl_, SHUT_RDWR);  // the server sees end of file; the reader too
  if (reader_.joinable()) reader_.join();
  ::close(ctl_);
  int status;
  while (::waitpid(server_pid_, &status, 0) < 0 && errno == EINTR) {
  }
  for (auto& [token, r] : spawned_)
    if (r.pidfd >= 0) ::close(r.pidfd);
}

void ForkServer::read_replies() {
  for (;;) {
    ServerReply r{};
    int fd = -1;
    long n = recv_message(ctl_, &r, sizeof r, fd);
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    if (n != static_cast<long>(sizeof r)) {
      if (fd >= 0) ::close(fd);
      continue;
    }
    if (r.op == kExited) {
      exits_[r.pid] = r.value;
    } else if (r.op == kSpawned || r.op == kSpawnFailed) {
      spawned_[r.token] = SpawnReply{r.pid, r.op == kSpawnFailed ? r.value : 0, fd};
      fd = -1;
    }
    if (fd >= 0) ::close(fd);
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  gone_ = true;
  changed_.notify_all();
}

Status ForkServer::spawn(std::unique_ptr<Worker>& out) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(Status::system, "process pool: socketpair for a worker failed: {}", std::strerror(errno));
  // Large socket buffers (as far as net.core.[rw]mem_max allow): a 1 MiB
  // payload then crosses in one or two hand-overs instead of a dozen.
  const int bytes = 4 << 20;
  for (int fd : sv) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  uint32_t token;
  {
    std::lock_guard<std::mutex> lock(mu_);
    token = next_token_++;
  }
  const ServerRequest req{kSpawn, token};
  const int err = send_message(ctl_, &req, sizeof req, sv[1]);
  ::close(sv[1]);
  if (err != 0) {
    ::close(sv[0]);
    return fail(Status::system, "process pool: the fork server is unreachable: {}", std::strerror(err));
  }
  SpawnReply r;
  {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return gone_ || spawned_.count(token) != 0; });
    auto it = spawned_.find(token);
    if (it == spawned_.end()) {
      ::close(sv[0]);
      return fail(Status::system, "process pool: the fork server ended");
    }
    r = it->second;
    spawned_.erase(it);
  }
  if (r.error != 0 || r.pid <= 0) {
    ::close(sv[0]);
    if (r.pidfd >= 0) ::close(r.pidfd);
    return fail(Status::system, "process pool: fork of a worker failed: {}", std::strerror(r.error));
  }
  try {
    out = std::make_unique<Worker>(r.pid, r.pidfd, sv[0]);
  } catch (...) {
    if (r.pidfd >= 0) ::syscall(SYS_pidfd_send_signal, r.pidfd, SIGKILL, nullptr, 0), ::close(r.pidfd);
    ::close(sv[0]);
    throw;
  }
  return Status::ok;
}

std::string ForkServer::wait_exit(pid_t pid, const Deadline& deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return gone_ || exits_.count(pid) != 0; };
  if (deadline.is_never())
    changed_.wait(lock, ready);
  else
    changed_.wait_until(lock, deadline.when(), ready);
  auto it = exits_.find(pid);
  if (it == exits_.end()) return "ended (how is unknown: no exit report from the fork server)";
  std::string text = describe_wait_status(it->second);
  exits_.erase(it);
  return text;
}

}  // namespace lox::core::process
