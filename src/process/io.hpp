// Blocking socket I/O for the process pool: whole-buffer reads and writes
// that retry on EINTR and partial transfers, never raise SIGPIPE
// (MSG_NOSIGNAL), and give up at a deadline; and passing descriptors over
// a Unix socket (SCM_RIGHTS). Every descriptor made here is close-on-exec.
#pragma once

#include <cstddef>

#include "common/deadline.hpp"

namespace lox::core::process {

enum class Io { ok, eof, timeout, error };

// Reads exactly `len` bytes. eof: the peer closed before all arrived (also
// in the middle); error: `err` holds errno.
Io read_exact(int fd, void* buf, size_t len, const Deadline& deadline, int& err) noexcept;
// Writes all `len` bytes (blocking). error: `err` holds errno (EPIPE when
// the peer is gone).
Io write_all(int fd, const void* buf, size_t len, int& err) noexcept;

// One datagram of `len` bytes, with `fd` attached when fd >= 0. errno on
// failure, 0 on success.
int send_message(int sock, const void* msg, size_t len, int fd) noexcept;
// Receives one datagram into `msg` (at most `len` bytes); a descriptor that
// came with it goes to `fd` (-1 if none). Returns the bytes received, 0 at
// end of file, -errno on failure.
long recv_message(int sock, void* msg, size_t len, int& fd) noexcept;

}  // namespace lox::core::process
