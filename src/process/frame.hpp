// SPDX-License-Identifier: Apache-2.0
// The framing of everything that crosses a worker's socket: a fixed 24-byte
// header, then `length` payload bytes. Parent -> worker: one task frame per
// task. Worker -> parent: one result frame (or oversized notice) per task,
// in the order the tasks were sent. Both ends are the same binary on the same machine, so the
// header is in host byte order.
//
// A frame is never trusted: the receiver checks the header (magic, kind,
// length against the configured limit) before allocating anything, so a
// corrupt or hostile peer costs at most one failed task, never a crash or
// an unbounded allocation. Header-only so the decoder can be unit-tested
// and fuzzed on its own.
#pragma once

#include <cstdint>
#include <cstring>

namespace lox::core::process {

inline constexpr uint32_t kFrameMagic = 0x46584f4c;  // "LOXF"

// `oversized`: sent instead of a result frame when the task's result is
// larger than max_message; `length` is that size and no payload follows.
enum class FrameKind : uint32_t { task = 1, result = 2, oversized = 3 };

struct FrameHeader {
  uint32_t magic;
  uint32_t kind;
  int32_t status;  // result frames: the task function's return value
  uint32_t reserved;
  uint64_t length;  // payload bytes that follow
};
static_assert(sizeof(FrameHeader) == 24, "the frame header is 24 bytes on every ABI we build for");

inline FrameHeader make_header(FrameKind kind, int32_t status, uint64_t length) noexcept {
  return FrameHeader{kFrameMagic, static_cast<uint32_t>(kind), status, 0, length};
}

enum class HeaderCheck { ok, bad_magic, bad_kind, too_large };

// Validates a received header: what the receiver expects and at most
// `limit` payload bytes.
inline HeaderCheck check_header(const FrameHeader& h, FrameKind expected, uint64_t limit) noexcept {
  if (h.magic != kFrameMagic) return HeaderCheck::bad_magic;
  if (h.kind != static_cast<uint32_t>(expected) || h.reserved != 0) return HeaderCheck::bad_kind;
  if (h.length > limit) return HeaderCheck::too_large;
  return HeaderCheck::ok;
}

// A worker's notice that the task's result (of `length` bytes) was too
// large to send.
inline bool is_oversized_notice(const FrameHeader& h) noexcept {
  return check_header(h, FrameKind::oversized, UINT64_MAX) == HeaderCheck::ok;
}

// Decodes a header from raw bytes (exactly sizeof(FrameHeader) of them).
inline FrameHeader read_header(const unsigned char* bytes) noexcept {
  FrameHeader h;
  std::memcpy(&h, bytes, sizeof h);
  return h;
}

inline const char* describe(HeaderCheck c) noexcept {
  switch (c) {
    case HeaderCheck::ok:
      return "valid frame";
    case HeaderCheck::bad_magic:
      return "not a liblox frame (bad magic)";
    case HeaderCheck::bad_kind:
      return "unexpected frame kind";
    case HeaderCheck::too_large:
      return "frame larger than max_message";
  }
  return "invalid frame";
}

}  // namespace lox::core::process
