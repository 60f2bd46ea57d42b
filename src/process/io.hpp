// SPDX-License-Identifier: Apache-2.0
// Blocking socket I/O for the process pool: whole-buffer reads and writes
// that retry on EINTR and partial transfers, never raise SIGPIPE
// (MSG_NOSIGNAL), and give up at a deadline; and passing descriptors over
// a Unix socket (SCM_RIGHTS). Every descriptor made here is close-on-exec.
//
// The peer's pidfd (`peer`, -1 for none): a worker's socket can outlive the
// worker, since a process the task forked inherits it and keeps it open.
// End of file then never comes, so every wait also watches the pidfd: once
// the peer has died and everything it wrote has been read, reads end with
// Io::eof and writes with Io::error (EPIPE), whoever still holds the socket.
#pragma once

#include <cstddef>
#include <memory>

#include "common/deadline.hpp"

namespace lox::core::process {

enum class Io { ok, eof, timeout, error };

// Reads exactly `len` bytes. eof: the peer closed (or died) before all
// arrived (also in the middle); error: `err` holds errno.
Io read_exact(int fd, void* buf, size_t len, const Deadline& deadline, int& err, int peer = -1) noexcept;
// Writes all `len` bytes (blocking). error: `err` holds errno (EPIPE when
// the peer is gone). `*written` (if given) receives the bytes handed over,
// also when the write failed part-way.
Io write_all(int fd, const void* buf, size_t len, int& err, int peer = -1, size_t* written = nullptr) noexcept;

// One datagram of `len` bytes, with `fd` attached when fd >= 0. errno on
// failure, 0 on success.
int send_message(int sock, const void* msg, size_t len, int fd) noexcept;
// Receives one datagram into `msg` (at most `len` bytes); a descriptor that
// came with it goes to `fd` (-1 if none). Returns the bytes received, 0 at
// end of file, -errno on failure.
long recv_message(int sock, void* msg, size_t len, int& fd) noexcept;

// Reads from a socket through a buffer, so that many small frames cost one
// recv between them rather than two each. Large reads go straight into the
// caller's memory.
class BufferedReader {
 public:
  explicit BufferedReader(int fd, int peer = -1) : fd_(fd), peer_(peer), buf_(new unsigned char[kSize]) {}
  Io read(void* dst, size_t len, const Deadline& deadline, int& err) noexcept;
  bool buffered() const noexcept { return begin_ < end_; }

 private:
  static constexpr size_t kSize = 64 * 1024;
  int fd_;
  int peer_;
  std::unique_ptr<unsigned char[]> buf_;
  size_t begin_ = 0, end_ = 0;
};

// Writes a frame's header and payload with one system call when small.
Io write_frame(int fd, const void* header, size_t header_len, const void* payload, size_t len, int& err,
               int peer = -1) noexcept;

}  // namespace lox::core::process
