// SPDX-License-Identifier: Apache-2.0
#include "process/fork_server.hpp"

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.hpp"
#include "process/child.hpp"
#include "log/log.hpp"
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

void Worker::kill() noexcept { signal(SIGKILL); }

void Worker::signal(int sig) noexcept {
  if (pidfd_ >= 0) ::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // The server sees end of file, stops its workers and its standby, and
    // exits; its end of the socket closes only then, which ends the reader.
    if (ctl_ >= 0) ::shutdown(ctl_, SHUT_WR);
  }
  if (reader_.joinable()) reader_.join();
  if (ctl_ >= 0) ::close(ctl_);
  if (standby_ >= 0) ::close(standby_);
  if (server_is_child_) {
    int status;
    while (::waitpid(server_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (auto& [token, r] : spawned_)
    if (r.pidfd >= 0) ::close(r.pidfd);
}

void ForkServer::read_replies() {
  for (;;) {
    int ctl;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ctl = ctl_;  // only this thread replaces it
    }
    ServerReply r{};
    int fd = -1;
    long n = recv_message(ctl, &r, sizeof r, fd);
    std::unique_lock<std::mutex> lock(mu_);
    if (n <= 0) {
      if (take_over(lock)) continue;
      break;
    }
    if (n == static_cast<long>(sizeof r)) {
      if (r.op == kExited) {
        exits_[r.pid] = r.value;
        live_.erase(r.pid);
      } else if (r.op == kSpawned || r.op == kSpawnFailed) {
        spawned_[r.token] = SpawnReply{r.pid, r.op == kSpawnFailed ? r.value : 0, fd};
        if (r.op == kSpawned) live_.insert(r.pid);
        fd = -1;
      } else if (r.op == kStandby && fd >= 0 && !stopping_) {
        if (standby_ >= 0) ::close(standby_);
        standby_ = fd;
        standby_pid_ = r.pid;
        fd = -1;
      }
    }
    if (fd >= 0) ::close(fd);
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  gone_ = true;
  if (gone_why_.empty()) gone_why_ = "the fork server ended";
  changed_.notify_all();
}

bool ForkServer::take_over(std::unique_lock<std::mutex>& lock) {
  if (stopping_) return false;
  std::string how = "ended";
  if (server_is_child_) {
    int status = 0;
    while (::waitpid(server_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    how = describe_wait_status(status);
  }
  ::close(ctl_);
  ctl_ = -1;
  // Its workers died with it (PR_SET_PDEATHSIG). Their process groups go
  // too: a group's id is not reused while any member lives, so this reaches
  // only what their tasks left behind.
  const std::string lost_how = fmt::format("died with its fork server (pid {}, which {})", server_pid_, how);
  for (pid_t pid : live_) {
    lost_[pid] = lost_how;
    ::kill(-pid, SIGKILL);
  }
  live_.clear();
  changed_.notify_all();
  const ServerRequest activate{kActivate, 0};
  if (standby_ < 0 || send_message(standby_, &activate, sizeof activate, -1) != 0) {
    gone_why_ = fmt::format("the fork server (pid {}) {}, and no standby could take over", server_pid_, how);
    if (standby_ >= 0) ::close(standby_);
    standby_ = -1;
    const std::string why = gone_why_;
    lock.unlock();
    log::emit(log::Level::error, "process pool: {}: no more workers can be started", why);
    lock.lock();
    return false;
  }
  const pid_t old = server_pid_;
  ctl_ = standby_;
  server_pid_ = standby_pid_;
  standby_ = -1;
  standby_pid_ = -1;
  server_is_child_ = false;
  ++generation_;
  changed_.notify_all();
  const pid_t now = server_pid_;
  lock.unlock();
  log::emit(log::Level::warn, "process pool: the fork server (pid {}) {}; its standby (pid {}) took over", old, how,
            now);
  lock.lock();
  return true;
}

Status ForkServer::spawn(std::unique_ptr<Worker>& out) {
  // A take-over while the request is on its way loses it: ask again, of
  // the server that took over.
  for (int attempt = 0;; ++attempt) {
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
    std::unique_lock<std::mutex> lock(mu_);
    if (gone_ || ctl_ < 0) {
      ::close(sv[0]);
      ::close(sv[1]);
      return fail(Status::system, "process pool: cannot start a worker: {}",
                  gone_why_.empty() ? std::string("the fork server ended") : gone_why_);
    }
    const uint32_t token = next_token_++;
    const unsigned generation = generation_;
    const ServerRequest req{kSpawn, token};
    const int err = send_message(ctl_, &req, sizeof req, sv[1]);
    ::close(sv[1]);
    auto answered = [&] { return gone_ || generation_ != generation || spawned_.count(token) != 0; };
    if (err != 0) {
      // A dying server: its end of file is on the way, and the take-over.
      if (!changed_.wait_for(lock, std::chrono::seconds(5), answered) || gone_ || attempt >= 3) {
        ::close(sv[0]);
        return fail(Status::system, "process pool: the fork server is unreachable: {}", std::strerror(err));
      }
      ::close(sv[0]);
      continue;
    }
    changed_.wait(lock, answered);
    auto it = spawned_.find(token);
    if (it == spawned_.end()) {
      ::close(sv[0]);
      if (gone_ || attempt >= 3) return fail(Status::system, "process pool: cannot start a worker: {}", gone_why_);
      continue;
    }
    const SpawnReply r = it->second;
    spawned_.erase(it);
    lock.unlock();
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
}

std::string ForkServer::wait_exit(pid_t pid, const Deadline& deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return gone_ || exits_.count(pid) != 0 || lost_.count(pid) != 0; };
  if (deadline.is_never())
    changed_.wait(lock, ready);
  else
    changed_.wait_until(lock, deadline.when(), ready);
  if (auto it = exits_.find(pid); it != exits_.end()) {
    std::string text = describe_wait_status(it->second);
    exits_.erase(it);
    return text;
  }
  if (auto it = lost_.find(pid); it != lost_.end()) {
    std::string text = std::move(it->second);
    lost_.erase(it);
    return text;
  }
  return "ended (how is unknown: no exit report from the fork server)";
}

}  // namespace lox::core::process
