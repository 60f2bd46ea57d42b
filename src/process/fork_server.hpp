// SPDX-License-Identifier: Apache-2.0
// The parent's side of the fork server: starts it (the one fork of this
// process, made while the caller of lox_process_create waits), asks it for
// workers, and learns from it how each worker ended. A reader thread takes
// the server's replies and exit reports off the control socket. If the
// server dies, the reader hands its role to the server's standby copy (see
// child.hpp); workers that died with it are reported as such.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/deadline.hpp"
#include "common/status.hpp"
#include "process/runner.hpp"

namespace lox::core::process {

// One live worker as the parent sees it. Owns its socket and pidfd (the
// pidfd makes kill safe from pid reuse: the server reaps, not us).
class Worker {
 public:
  Worker(pid_t pid, int pidfd, int sock) noexcept : pid_(pid), pidfd_(pidfd), sock_(sock) {}
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  pid_t pid() const noexcept { return pid_; }
  int socket() const noexcept { return sock_; }
  // Readable once the worker has died (-1 if the kernel gave none).
  int pidfd() const noexcept { return pidfd_; }
  void kill() noexcept;  // SIGKILL; harmless if it already died
  void signal(int sig) noexcept;  // any signal, through the pidfd (never a reused pid)

 private:
  pid_t pid_;
  int pidfd_;
  int sock_;
};

class ForkServer {
 public:
  // Forks the server; throws std::system_error (socketpair, fork) or
  // bad_alloc. `runner` must outlive nothing in this process: the children
  // use their own copy.
  ForkServer(Runner& runner, uint64_t max_message);
  // Closes the control socket and the standby's: the server kills its
  // workers (and their process groups), reaps them and exits; returns once
  // it has.
  ~ForkServer();
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // A new worker; bad status (with detail) if the server could not make one.
  Status spawn(std::unique_ptr<Worker>& out);
  // How worker `pid` ended ("killed by SIGSEGV", "exited with code 3"),
  // waiting for the server's report until `deadline`.
  std::string wait_exit(pid_t pid, const Deadline& deadline);

 private:
  void read_replies();
  // The server's socket reached end of file: it died (or the pool is
  // stopping). Under mu_. True when a standby took over.
  bool take_over(std::unique_lock<std::mutex>& lock);

  std::mutex mu_;
  std::condition_variable changed_;
  pid_t server_pid_ = -1;
  bool server_is_child_ = true;  // the first server is; a standby is the server's child
  int ctl_ = -1;                 // sends happen under mu_: a take-over replaces it
  int standby_ = -1;             // the standby's socket, -1 while there is none
  pid_t standby_pid_ = -1;
  unsigned generation_ = 0;  // servers that took over so far
  bool stopping_ = false;
  bool gone_ = false;  // no server any more: spawns fail
  std::string gone_why_;
  uint32_t next_token_ = 1;
  struct SpawnReply {
    int32_t pid = 0, error = 0;
    int pidfd = -1;
  };
  std::map<uint32_t, SpawnReply> spawned_;  // token -> reply
  std::map<pid_t, int> exits_;              // pid -> wait status
  std::set<pid_t> live_;                    // spawned, exit not reported yet
  std::map<pid_t, std::string> lost_;       // died with their server: how it ended
  std::thread reader_;
};

// "killed by SIGSEGV", "exited with code 3"
std::string describe_wait_status(int status);

}  // namespace lox::core::process
