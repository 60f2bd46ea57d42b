// SPDX-License-Identifier: Apache-2.0
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

// Waits until `fd` has `events` (POLLIN or POLLOUT), the deadline passes,
// or the peer process behind `peer` (a pidfd, -1: none) has died. ok: `fd`
// is ready, hung up or in error (the next transfer tells which); eof: the
// peer died and `fd` has nothing more for us.
Io await(int fd, short events, const Deadline& deadline, int peer, int& err) noexcept {
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
    pollfd p[2] = {{fd, events, 0}, {peer, POLLIN, 0}};
    int n = ::poll(p, peer >= 0 ? 2 : 1, timeout_ms);
    if (n > 0) {
      // The socket first: what a dead peer wrote before dying is still read.
      if (p[0].revents != 0) return Io::ok;
      return Io::eof;
    }
    if (n == 0) {
      if (deadline.expired()) return Io::timeout;
      continue;
    }
    if (errno == EINTR) continue;
    err = errno;
    return Io::error;
  }
}

// One recv, waiting as await does when nothing is there yet. Returns the
// bytes received (> 0), or 0 with `r` set to how the read ended.
size_t recv_some(int fd, void* dst, size_t len, const Deadline& deadline, int peer, int& err, Io& r) noexcept {
  // Blocking recv only when nothing else can end the wait.
  const bool watched = peer >= 0 || !deadline.is_never();
  for (;;) {
    ssize_t n = ::recv(fd, dst, len, watched ? MSG_DONTWAIT : 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) {
      r = Io::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (watched && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      r = await(fd, POLLIN, deadline, peer, err);
      if (r != Io::ok) return 0;
      continue;
    }
    if (errno == ECONNRESET) {
      r = Io::eof;
      return 0;
    }
    err = errno;
    r = Io::error;
    return 0;
  }
}

// sendmsg of what is left of `iov`, until all of it is out. `*written`
// counts the bytes handed over.
Io send_iov(int fd, iovec* iov, int count, int peer, int& err, size_t* written) noexcept {
  const int flags = MSG_NOSIGNAL | (peer >= 0 ? MSG_DONTWAIT : 0);
  while (count > 0 && iov[0].iov_len == 0) ++iov, --count;
  while (count > 0) {
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd, &m, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (peer >= 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Io w = await(fd, POLLOUT, Deadline::never(), peer, err);
        if (w == Io::eof) err = EPIPE;  // the peer died with our data unread
        if (w != Io::ok) return Io::error;
        continue;
      }
      err = errno;
      return Io::error;
    }
    if (written) *written += static_cast<size_t>(n);
    size_t done = static_cast<size_t>(n);
    while (count > 0 && done >= iov[0].iov_len) {
      done -= iov[0].iov_len;
      ++iov, --count;
    }
    if (count > 0) {
      iov[0].iov_base = static_cast<char*>(iov[0].iov_base) + done;
      iov[0].iov_len -= done;
    }
  }
  return Io::ok;
}

}  // namespace

Io read_exact(int fd, void* buf, size_t len, const Deadline& deadline, int& err, int peer) noexcept {
  auto* p = static_cast<unsigned char*>(buf);
  while (len > 0) {
    Io r = Io::ok;
    const size_t n = recv_some(fd, p, len, deadline, peer, err, r);
    if (n == 0) return r;
    p += n;
    len -= n;
  }
  return Io::ok;
}

Io write_all(int fd, const void* buf, size_t len, int& err, int peer, size_t* written) noexcept {
  if (written) *written = 0;
  iovec iov{const_cast<void*>(buf), len};
  return send_iov(fd, &iov, 1, peer, err, written);
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
  if (len >= kSize) return read_exact(fd_, out, len, deadline, err, peer_);
  // Refill: at least what is missing, as much as has arrived.
  begin_ = end_ = 0;
  while (end_ < len) {
    Io r = Io::ok;
    const size_t n = recv_some(fd_, buf_.get() + end_, kSize - end_, deadline, peer_, err, r);
    if (n == 0) return r;
    end_ += n;
  }
  std::memcpy(out, buf_.get(), len);
  begin_ = len;
  return Io::ok;
}

Io write_frame(int fd, const void* header, size_t header_len, const void* payload, size_t len, int& err,
               int peer) noexcept {
  iovec iov[2] = {{const_cast<void*>(header), header_len}, {const_cast<void*>(payload), len}};
  return send_iov(fd, iov, len == 0 ? 1 : 2, peer, err, nullptr);
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
