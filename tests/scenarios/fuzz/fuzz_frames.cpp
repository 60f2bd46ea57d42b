// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness of the process pool's frame decoder (process/frame.hpp)
// and buffered socket reads (process/io.cpp), driven the way a driver reads
// a worker's results (process/pool.cpp) and a worker reads its tasks
// (process/child.cpp): a header, checked, then the payload it announces.
//
// Mode 0 (decode): the input after a 6-byte configuration is a byte stream
// written into a socketpair in chunks of fuzzed sizes, only as far as the
// reader needs, so its reads see every possible split. Checks: every
// header verdict equals an independent decoding of the bytes; a frame is
// accepted only with a length within the limit (the only allocation);
// every byte read is the stream's next byte; end of file comes exactly when
// the stream is exhausted, never earlier and never past the input.
//
// Mode 1 (round trip): frames made from the input (kind, status, payload up
// to 80 KiB, past the reader's 64 KiB buffer) are encoded with write_frame
// in batches and decoded back: headers and payloads must be equal.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_input.hpp"
#include "process/frame.hpp"
#include "process/io.hpp"

using namespace lox::core;
using namespace lox::core::process;

namespace {

constexpr size_t kHeader = sizeof(FrameHeader);

struct Pair {
  int fd[2] = {-1, -1};
  Pair() { FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == 0); }
  ~Pair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
};

// A small deterministic generator for chunk sizes (so that the stream's
// bytes are not spent on them).
struct Rng {
  uint32_t s;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
  }
};

// The header verdict, decoded independently of frame.hpp from the bytes.
HeaderCheck reference_check(const unsigned char* b, FrameKind expected, uint64_t limit) {
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, b + at, 4);
    return v;
  };
  uint64_t length;
  std::memcpy(&length, b + 16, 8);
  if (u32(0) != 0x46584f4cu) return HeaderCheck::bad_magic;
  if (u32(4) != static_cast<uint32_t>(expected) || u32(12) != 0) return HeaderCheck::bad_kind;
  if (length > limit) return HeaderCheck::too_large;
  return HeaderCheck::ok;
}

Deadline deadline_of(bool timed) { return timed ? Deadline::after_seconds(30) : Deadline::never(); }

// Writes the stream into the socket only as far as the reader needs.
class Feeder {
 public:
  Feeder(int fd, const uint8_t* data, size_t size, uint32_t seed) : fd_(fd), data_(data), size_(size), rng_{seed | 1} {}
  // Makes at least `need` unread bytes available, or all that is left
  // followed by end of file.
  void ensure(size_t consumed, size_t need) {
    while (written_ - consumed < need && written_ < size_) {
      const uint32_t r = rng_.next();
      size_t chunk = (r & 3) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 48;
      chunk = std::min(chunk, size_ - written_);
      FUZZ_CHECK(::send(fd_, data_ + written_, chunk, MSG_NOSIGNAL) == static_cast<ssize_t>(chunk));
      written_ += chunk;
    }
    if (written_ == size_ && !closed_) {
      FUZZ_CHECK(::shutdown(fd_, SHUT_WR) == 0);
      closed_ = true;
    }
  }

 private:
  int fd_;
  const uint8_t* data_;
  size_t size_, written_ = 0;
  Rng rng_;
  bool closed_ = false;
};

void decode_stream(loxfuzz::Input& in) {
  static const uint64_t limits[] = {0, 1, 24, 100, 4096, uint64_t{1} << 20};
  const uint64_t limit = limits[in.below(6)];
  const uint8_t flags = in.u8();
  const FrameKind kind = (flags & 1) ? FrameKind::task : FrameKind::result;
  const bool timed = (flags & 2) != 0;
  const uint32_t seed = in.u32();
  const uint8_t* stream = nullptr;
  // At most what the socket buffers: the feeder never waits for the reader.
  const size_t size = in.bytes(stream, std::min<size_t>(in.left(), 100000));

  Pair p;
  Feeder feed(p.fd[1], stream, size, seed);
  BufferedReader reader(p.fd[0]);
  size_t consumed = 0;
  std::vector<unsigned char> payload;
  for (;;) {
    unsigned char raw[kHeader];
    int err = 0;
    feed.ensure(consumed, kHeader);
    Io r = reader.read(raw, kHeader, deadline_of(timed), err);
    if (size - consumed < kHeader) {
      FUZZ_CHECK(r == Io::eof);  // a truncated header is end of file, not a hang or garbage
      return;
    }
    FUZZ_CHECK(r == Io::ok);
    FUZZ_CHECK(std::memcmp(raw, stream + consumed, kHeader) == 0);
    consumed += kHeader;
    const FrameHeader h = read_header(raw);
    const HeaderCheck check = check_header(h, kind, limit);
    FUZZ_CHECK(check == reference_check(raw, kind, limit));
    FUZZ_CHECK(describe(check) != nullptr && *describe(check) != '\0');
    if (check != HeaderCheck::ok) return;  // the receiver gives up on this peer
    // Accepted: the announced length is within the limit, so this
    // allocation is bounded by it.
    FUZZ_CHECK(h.length <= limit && h.magic == kFrameMagic && h.kind == static_cast<uint32_t>(kind));
    payload.assign(static_cast<size_t>(h.length), 0);
    feed.ensure(consumed, payload.size());
    r = reader.read(payload.data(), payload.size(), deadline_of(timed), err);
    if (size - consumed < payload.size()) {
      FUZZ_CHECK(r == Io::eof);
      return;
    }
    FUZZ_CHECK(r == Io::ok);
    FUZZ_CHECK(payload.empty() || std::memcmp(payload.data(), stream + consumed, payload.size()) == 0);
    consumed += payload.size();
  }
}

struct Frame {
  FrameKind kind;
  int32_t status;
  std::string payload;
};

void round_trip(loxfuzz::Input& in) {
  Pair p;
  BufferedReader reader(p.fd[0]);
  std::vector<Frame> batch;
  while (!in.empty()) {
    // A batch of frames, about 120 KiB at most: what the socket holds.
    batch.clear();
    size_t bytes = 0;
    const size_t count = 1 + in.below(8);
    while (batch.size() < count && !in.empty()) {
      Frame f;
      f.kind = in.flip() ? FrameKind::task : FrameKind::result;
      f.status = static_cast<int32_t>(in.u32());
      const uint8_t shape = in.u8();
      const uint8_t* b = nullptr;
      size_t n = in.bytes(b, shape % 32);
      f.payload.assign(reinterpret_cast<const char*>(b), n);
      if ((shape & 0xe0) == 0xe0 && n > 0) {  // large: the pattern repeated
        const size_t large = 60000 + (shape & 0x1f) * 640;
        while (f.payload.size() < large) f.payload.append(reinterpret_cast<const char*>(b), n);
        f.payload.resize(large);
      }
      if (bytes + kHeader + f.payload.size() > 120000) break;
      bytes += kHeader + f.payload.size();
      const FrameHeader h = make_header(f.kind, f.status, f.payload.size());
      int err = 0;
      FUZZ_CHECK(write_frame(p.fd[1], &h, sizeof h, f.payload.data(), f.payload.size(), err) == Io::ok);
      batch.push_back(std::move(f));
    }
    if (batch.empty()) return;
    for (const Frame& f : batch) {
      unsigned char raw[kHeader];
      int err = 0;
      FUZZ_CHECK(reader.read(raw, kHeader, Deadline::after_seconds(30), err) == Io::ok);
      const FrameHeader h = read_header(raw);
      FUZZ_CHECK(check_header(h, f.kind, f.payload.size()) == HeaderCheck::ok);
      FUZZ_CHECK(h.status == f.status && h.length == f.payload.size() && h.reserved == 0);
      const FrameKind other = f.kind == FrameKind::task ? FrameKind::result : FrameKind::task;
      FUZZ_CHECK(check_header(h, other, UINT64_MAX) == HeaderCheck::bad_kind);
      if (h.length > 0) FUZZ_CHECK(check_header(h, f.kind, h.length - 1) == HeaderCheck::too_large);
      std::string got(static_cast<size_t>(h.length), '\0');
      FUZZ_CHECK(reader.read(got.data(), got.size(), Deadline::never(), err) == Io::ok);
      FUZZ_CHECK(got == f.payload);
    }
    FUZZ_CHECK(!reader.buffered());  // nothing read beyond the frames written
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  loxfuzz::Input in(data, size);
  if (in.u8() & 1)
    round_trip(in);
  else
    decode_stream(in);
  return 0;
}
