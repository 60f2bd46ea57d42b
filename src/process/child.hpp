// The code that runs in the pool's child processes: the fork server (forked
// once by lox_process_create) and the workers it forks. Neither returns:
// each ends with _exit, so no destructor or atexit handler of the parent's
// copy ever runs in a child.
#pragma once

#include <cstdint>

#include "process/runner.hpp"

namespace lox::core::process {

// Control messages between the parent and the fork server (SOCK_SEQPACKET:
// one message per datagram).
struct ServerRequest {
  uint32_t op;  // kSpawn; the worker's socket end travels with it
  uint32_t token;
};
struct ServerReply {
  uint32_t op;  // kSpawned (a pidfd travels with it), kSpawnFailed, kExited
  uint32_t token;
  int32_t pid;
  int32_t value;  // kSpawnFailed: errno; kExited: the wait status
};
inline constexpr uint32_t kSpawn = 1;
inline constexpr uint32_t kSpawned = 1, kSpawnFailed = 2, kExited = 3;

// Runs in the child right after fork: closes every descriptor but 0-2 and
// `ctl`, then serves spawn requests until `ctl` reaches end of file (the
// pool was destroyed or the parent died), when it kills its workers, reaps
// them and exits. Reports every worker's exit.
[[noreturn]] void fork_server_main(int ctl, Runner& runner, uint64_t max_message) noexcept;

// A worker: reads task frames from `sock`, runs them, writes result frames,
// until end of file. Dies with the fork server (PR_SET_PDEATHSIG).
[[noreturn]] void worker_main(int sock, Runner& runner, uint64_t max_message) noexcept;

}  // namespace lox::core::process
