#include "process/io.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <sys/uio.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lox::core::process {

namespace {

// Waits until `fd` is readable or the deadline passes.
Io wait_readable(int fd, const Deadline& deadline, int& err) noexcept {
  for (;;) {
    int timeout_ms = -1;
    if (!deadline.is_never()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline.when() - Deadline::clock::now());
      if (left.count() <= 0) {
        if (deadline.expired()) return Io::timeout;
        left = std::chrono::milliseconds(0);
      }
      timeout_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30));
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return Io::ok;  // readable, hung up or in error: recv tells which
    if (n == 0) {
      if (deadline.expired()) return Io::timeout;
      continue;
    }
    if (errno == EINTR) continue;
    err = errno;
    return Io::error;
  }
}

}  // namespace

Io read_exact(int fd, void* buf, size_t len, const Deadline& deadline, int& err) noexcept {
  auto* p = static_cast<unsigned char*>(buf);
  while (len > 0) {
    if (!deadline.is_never()) {
      Io w = wait_readable(fd, deadline, err);
      if (w != Io::ok) return w;
    }
    ssize_t n = ::recv(fd, p, len, 0);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
    } else if (n == 0) {
      return Io::eof;
    } else if (errno != EINTR) {
      if (errno == ECONNRESET) return Io::eof;
      err = errno;
      return Io::error;
    }
  }
  return Io::ok;
}

Io write_all(int fd, const void* buf, size_t len, int& err) noexcept {
  const auto* p = static_cast<const unsigned char*>(buf);
  while (len > 0) {
    ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
    if (n >= 0) {
      p += n;
      len -= static_cast<size_t>(n);
    } else if (errno != EINTR) {
      err = errno;
      return Io::error;
    }
  }
  return Io::ok;
}

Io BufferedReader::read(void* dst, size_t len, const Deadline& deadline, int& err) noexcept {
  // An empty read may come with a NULL `dst` (an empty vector's data()),
  // which memcpy must not be given even for 0 bytes.
  if (len == 0) return Io::ok;
  auto* out = static_cast<unsigned char*>(dst);
  const size_t from_buffer = std::min(len, end_ - begin_);
  std::memcpy(out, buf_.get() + begin_, from_buffer);
  begin_ += from_buffer;
  out += from_buffer;
  len -= from_buffer;
  if (len == 0) return Io::ok;
  if (len >= kSize) return read_exact(fd_, out, len, deadline, err);
  // Refill: at least what is missing, as much as has arrived.
  begin_ = end_ = 0;
  while (end_ < len) {
    if (!deadline.is_never()) {
      Io w = wait_readable(fd_, deadline, err);
      if (w != Io::ok) return w;
    }
    ssize_t n = ::recv(fd_, buf_.get() + end_, kSize - end_, 0);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
    } else if (n == 0) {
      return Io::eof;
    } else if (errno != EINTR) {
      if (errno == ECONNRESET) return Io::eof;
      err = errno;
      return Io::error;
    }
  }
  std::memcpy(out, buf_.get(), len);
  begin_ = len;
  return Io::ok;
}

Io write_frame(int fd, const void* header, size_t header_len, const void* payload, size_t len, int& err) noexcept {
  if (len == 0) return write_all(fd, header, header_len, err);
  iovec iov[2] = {{const_cast<void*>(header), header_len}, {const_cast<void*>(payload), len}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  ssize_t n;
  do {
    n = ::sendmsg(fd, &m, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    err = errno;
    return Io::error;
  }
  // Finish whatever the first call did not take.
  size_t done = static_cast<size_t>(n);
  if (done < header_len) {
    if (write_all(fd, static_cast<const char*>(header) + done, header_len - done, err) != Io::ok) return Io::error;
    done = header_len;
  }
  return write_all(fd, static_cast<const char*>(payload) + (done - header_len), len - (done - header_len), err);
}

int send_message(int sock, const void* msg, size_t len, int fd) noexcept {
  iovec iov{const_cast<void*>(msg), len};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  for (;;) {
    if (::sendmsg(sock, &m, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

long recv_message(int sock, void* msg, size_t len, int& fd) noexcept {
  fd = -1;
  iovec iov{msg, len};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      // More than one descriptor is a protocol error: close the extras.
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 1; i < count; ++i) {
        int extra;
        std::memcpy(&extra, CMSG_DATA(c) + i * sizeof(int), sizeof extra);
        ::close(extra);
      }
    }
  }
  return static_cast<long>(n);
}

}  // namespace lox::core::process
