// SPDX-License-Identifier: Apache-2.0
// The code that runs in the pool's child processes: the fork server (forked
// once by lox_process_create) and the workers it forks. Neither returns:
// each ends with _exit, so no destructor or atexit handler of the parent's
// copy ever runs in a child.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "process/runner.hpp"

namespace lox::core::process {

// Control messages between the parent and a fork server (SOCK_SEQPACKET:
// one message per datagram).
struct ServerRequest {
  uint32_t op;  // kSpawn (the worker's socket end travels with it), kActivate
  uint32_t token;
};
struct ServerReply {
  uint32_t op;  // kSpawned (a pidfd travels with it), kSpawnFailed, kExited, kStandby
  uint32_t token;
  int32_t pid;
  int32_t value;  // kSpawnFailed: errno; kExited: the wait status
};
inline constexpr uint32_t kSpawn = 1, kActivate = 2;
inline constexpr uint32_t kSpawned = 1, kSpawnFailed = 2, kExited = 3, kStandby = 4;

// Runs in the child right after fork: closes every descriptor but 0-2 and
// `ctl`, records the signal mask and dispositions it was forked with (the
// creating thread's: every worker gets them back), blocks every signal
// (only SIGKILL or the parent's end of file stop a fork server), then
// serves spawn requests until `ctl` reaches end of file (the pool was
// destroyed or the parent died), when it kills its workers and their
// process groups, reaps them and exits. Reports every worker's exit.
//
// Standby: at start (and whenever the standby dies) the server forks a copy
// of itself that waits, unused, on a socket of its own, sent to the parent
// with kStandby. If the server dies (killed), the parent sends kActivate to
// the standby, which becomes the pool's fork server: workers are still
// copies of the process as it was at lox_process_create.
[[noreturn]] void fork_server_main(int ctl, Runner& runner, uint64_t max_message) noexcept;

// A worker: reads task frames from `sock`, runs them, writes result frames,
// until end of file. Dies with the fork server (PR_SET_PDEATHSIG).
[[noreturn]] void worker_main(int sock, Runner& runner, uint64_t max_message) noexcept;

// The failure text of a task whose result is larger than max_message (the
// same in a worker and inline).
std::string oversized_result(size_t size, uint64_t max_message);

}  // namespace lox::core::process
