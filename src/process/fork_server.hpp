// The parent's side of the fork server: starts it (the one fork of this
// process, made while the caller of lox_process_create waits), asks it for
// workers, and learns from it how each worker ended. A reader thread takes
// the server's replies and exit reports off the control socket.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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
  void kill() noexcept;  // SIGKILL; harmless if it already died

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
  ~ForkServer();  // closes the control socket: the server kills its workers, exits, and is reaped
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // A new worker; bad status (with detail) if the server could not make one.
  Status spawn(std::unique_ptr<Worker>& out);
  // How worker `pid` ended ("killed by SIGSEGV", "exited with code 3"),
  // waiting for the server's report until `deadline`.
  std::string wait_exit(pid_t pid, const Deadline& deadline);

 private:
  void read_replies();

  pid_t server_pid_ = -1;
  int ctl_ = -1;
  std::mutex mu_;
  std::condition_variable changed_;
  bool gone_ = false;  // the control socket reached end of file
  uint32_t next_token_ = 1;
  struct SpawnReply {
    int32_t pid = 0, error = 0;
    int pidfd = -1;
  };
  std::map<uint32_t, SpawnReply> spawned_;  // token -> reply
  std::map<pid_t, int> exits_;             // pid -> wait status
  std::thread reader_;
};

// "killed by SIGSEGV", "exited with code 3"
std::string describe_wait_status(int status);

}  // namespace lox::core::process
