// Blocking socket I/O for the process pool: whole-buffer reads and writes
// that retry on EINTR and partial transfers, never raise SIGPIPE
// (MSG_NOSIGNAL), and give up at a deadline; and passing descriptors over
// a Unix socket (SCM_RIGHTS). Every descriptor made here is close-on-exec.
#pragma once

#include <cstddef>
#include <memory>

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

// Reads from a socket through a buffer, so that many small frames cost one
// recv between them rather than two each. Large reads go straight into the
// caller's memory.
class BufferedReader {
 public:
  explicit BufferedReader(int fd) : fd_(fd), buf_(new unsigned char[kSize]) {}
  Io read(void* dst, size_t len, const Deadline& deadline, int& err) noexcept;
  bool buffered() const noexcept { return begin_ < end_; }

 private:
  static constexpr size_t kSize = 64 * 1024;
  int fd_;
  std::unique_ptr<unsigned char[]> buf_;
  size_t begin_ = 0, end_ = 0;
};

// Writes a frame's header and payload with one system call when small.
Io write_frame(int fd, const void* header, size_t header_len, const void* payload, size_t len, int& err) noexcept;

}  // namespace lox::core::process
