// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: lox::codec, values as bytes (process-pool arguments and
// results).
//
// lox::process sends each task's arguments to a worker process, and its
// result back, as bytes. lox::codec is the small binary format it uses; it
// can be used on its own:
//
//   std::string bytes = lox::codec::encode(std::make_tuple(7, std::string("seven")));
//   auto [n, s] = lox::codec::decode<std::tuple<int, std::string>>(bytes);
//
// Encodable types (`lox::codec::is_encodable_v<T>`; anything else fails to
// compile with a message saying so):
//   - trivially copyable types (integers, floating point, enums, std::array
//     and plain structs of those...): their sizeof(T) object bytes, as they
//     are; bool: one byte, 0 or 1;
//   - std::string (any std::basic_string with the standard traits and
//     allocator): a 64-bit length, then the characters (NULs included);
//   - std::vector<T> of an encodable T (standard allocator): a 64-bit count,
//     then the elements (one block copy when T is trivially copyable);
//   - std::tuple<T...> and std::pair<A, B> of encodable types: the elements
//     in order, no header. Everything nests: std::vector<std::tuple<int,
//     std::vector<std::string>>> is fine. (A vector's elements must take at
//     least one byte, so std::vector<std::tuple<>> is refused.)
//
// The format is the host's (native byte order, sizes and padding): it is
// meant for a process and its forked workers, not for files or networks.
// Pointers (and views such as std::string_view) are trivially copyable and
// are sent as addresses: in a process-pool worker they only reach memory that
// already held the same data when the pool was created (a worker is a copy of
// the process as it was then).
//
// Decoding never trusts its input: each length is checked against the bytes
// left before anything is read or allocated (so a garbage count cannot make
// it allocate more than a small multiple of the input's size), a bool must be
// 0 or 1, and the value must use the input exactly. Bad input throws
// `lox::error` with LOX_EINVAL and a detail saying what is wrong and where
// ("codec: truncated input: a std::string of 12 character(s) needs at least
// 12 bytes, 3 left (at byte 8 of 11)"); it never reads out of bounds.
//
// Costs: encoding appends to one std::string (no other allocation); decoding
// allocates only the decoded value.
#ifndef LOX_CODEC_HPP
#define LOX_CODEC_HPP

#include <lox/error.hpp>
#include <lox/detail/codec_format.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {

namespace codec {

// True when T can be encoded (see above). Reference types are not encodable
// (pass the decayed type).
template <class T>
struct is_encodable : std::bool_constant<detail::codec_for<T>::ok> {};
template <class T>
inline constexpr bool is_encodable_v = is_encodable<T>::value;

// Appends the encoding of `value` to `out`. Throws only std::bad_alloc (and
// std::length_error).
template <class T>
void encode_to(std::string& out, const T& value) {
  static_assert(is_encodable_v<T>,
                "lox::codec: the type must be trivially copyable, std::string, std::vector of an encodable type, "
                "or std::tuple / std::pair of encodable types");
  if constexpr (is_encodable_v<T>) detail::codec_for<T>::encode(out, value);
}

// The encoding of `value`, as bytes in a std::string.
template <class T>
std::string encode(const T& value) {
  std::string out;
  codec::encode_to(out, value);
  return out;
}

// Decodes a T that was encoded into exactly the `size` bytes at `data`
// (`data` may be null when `size` is 0). Throws lox::error (LOX_EINVAL) for
// truncated, trailing or invalid bytes, never reading outside them.
template <class T>
std::remove_const_t<T> decode(const void* data, std::size_t size) {
  static_assert(is_encodable_v<T>,
                "lox::codec: the type must be trivially copyable, std::string, std::vector of an encodable type, "
                "or std::tuple / std::pair of encodable types");
  if constexpr (is_encodable_v<T>) {
    detail::codec_reader in(data, size);
    std::remove_const_t<T> v = detail::codec_for<T>::decode(in);
    in.finish();
    return v;
  }
}

// decode<T>(bytes.data(), bytes.size()).
template <class T>
std::remove_const_t<T> decode(std::string_view bytes) {
  return codec::decode<T>(bytes.data(), bytes.size());
}

}  // namespace codec

}  // namespace lox

#endif  // LOX_CODEC_HPP
