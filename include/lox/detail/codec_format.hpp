// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: lox::codec's format, type by type, and its bounds-checked reader.
#ifndef LOX_DETAIL_CODEC_FORMAT_HPP
#define LOX_DETAIL_CODEC_FORMAT_HPP

#include <lox/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {
namespace detail {

// Reads an encoded value: every read is bounds-checked.
class codec_reader {
 public:
  codec_reader(const void* data, std::size_t size) noexcept
      : begin_(data ? static_cast<const unsigned char*>(data) : empty_()),
        pos_(begin_),
        end_(begin_ + (data ? size : 0)) {}

  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - pos_); }

  // The next `n` bytes (never null); throws if fewer are left.
  const unsigned char* take(std::size_t n, const char* what) {
    if (n > left()) {
      fail("truncated input: " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(left()) + " left");
    }
    const unsigned char* p = pos_;
    pos_ += n;
    return p;
  }

  // A 64-bit length prefix counting `items` of at least `unit` (>= 1) bytes
  // each: they must fit in the bytes left.
  std::size_t length(std::size_t unit, const char* what, const char* items) {
    std::uint64_t n = 0;
    std::memcpy(&n, take(sizeof n, "a length prefix"), sizeof n);
    if (n > left() / unit) {
      const std::uint64_t most = ~std::uint64_t{0};
      fail("truncated input: " + std::string(what) + " of " + std::to_string(n) + " " + items + " needs at least " +
           (n <= most / unit ? std::to_string(n * unit) : "2^64") + " bytes, " + std::to_string(left()) + " left");
    }
    return static_cast<std::size_t>(n);
  }

  // Throws unless every byte was used.
  void finish() const {
    if (left() != 0) fail(std::to_string(left()) + " unexpected byte(s) after the value");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw error(LOX_EINVAL, "codec: " + what + " (at byte " + std::to_string(pos_ - begin_) + " of " +
                                std::to_string(end_ - begin_) + ")");
  }

 private:
  static const unsigned char* empty_() noexcept {
    static const unsigned char none[1] = {0};
    return none;
  }
  const unsigned char* begin_;
  const unsigned char* pos_;
  const unsigned char* end_;
};

inline void codec_put_length(std::string& out, std::size_t n) {
  const std::uint64_t v = n;
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// A trivially copyable T from its object bytes.
template <class T>
T codec_load(const unsigned char* p) noexcept {
  if constexpr (std::is_default_constructible_v<T>) {
    T v;
    std::memcpy(static_cast<void*>(std::addressof(v)), p, sizeof(T));
    return v;
  } else {
    alignas(T) unsigned char raw[sizeof(T)];
    std::memcpy(raw, p, sizeof(T));
    return *std::launder(reinterpret_cast<T*>(raw));
  }
}

template <class T>
inline constexpr bool codec_raw_ok = std::is_trivially_copyable_v<T> && !std::is_volatile_v<T> && !std::is_array_v<T>;

// Each codec_traits<T> says whether T is encodable (`ok`), whether its
// encoding is its object bytes (`raw`), the fewest bytes it encodes to
// (`min_size`), and encodes/decodes it. Unencodable types have only the
// constants (so a refused type gives one clear static_assert, not a cascade).
template <class T, bool = codec_raw_ok<T>>
struct codec_raw {
  static constexpr bool ok = false;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = 0;
};
template <class T>
struct codec_raw<T, true> {
  static constexpr bool ok = true;
  static constexpr bool raw = true;
  static constexpr std::size_t min_size = sizeof(T);
  static void encode(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(std::addressof(v)), sizeof(T));
  }
  static T decode(codec_reader& in) { return codec_load<T>(in.take(sizeof(T), "a trivially copyable value")); }
};

template <class T>
struct codec_traits : codec_raw<T> {};

template <class T>
using codec_for = codec_traits<std::remove_const_t<T>>;

template <>
struct codec_traits<bool> {
  static constexpr bool ok = true;
  static constexpr bool raw = false;  // validated on the way in
  static constexpr std::size_t min_size = 1;
  static void encode(std::string& out, bool v) { out.push_back(v ? '\1' : '\0'); }
  static bool decode(codec_reader& in) {
    const unsigned char b = *in.take(1, "a bool");
    if (b > 1) in.fail("a bool byte is " + std::to_string(b) + ", not 0 or 1");
    return b == 1;
  }
};

template <class C>
struct codec_traits<std::basic_string<C, std::char_traits<C>, std::allocator<C>>> {
  using type = std::basic_string<C, std::char_traits<C>, std::allocator<C>>;
  static constexpr bool ok = true;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = sizeof(std::uint64_t);
  static void encode(std::string& out, const type& s) {
    codec_put_length(out, s.size());
    out.append(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(C));
  }
  static type decode(codec_reader& in) {
    const std::size_t n = in.length(sizeof(C), "a std::string", "character(s)");
    const unsigned char* p = in.take(n * sizeof(C), "a std::string");
    type s(n, C());
    if (n) std::memcpy(static_cast<void*>(&s[0]), p, n * sizeof(C));
    return s;
  }
};

template <class T>
struct codec_traits<std::vector<T, std::allocator<T>>> {
  using elem = codec_for<T>;
  static constexpr bool ok = elem::ok && elem::min_size > 0;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = sizeof(std::uint64_t);
  // Elements copied as one block.
  static constexpr bool bulk = elem::raw && std::is_default_constructible_v<T>;

  static void encode(std::string& out, const std::vector<T>& v) {
    codec_put_length(out, v.size());
    if constexpr (bulk) {
      out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    } else {
      for (const auto& x : v) elem::encode(out, x);
    }
  }
  static std::vector<T> decode(codec_reader& in) {
    const std::size_t n = in.length(elem::min_size, "a std::vector", "element(s)");
    std::vector<T> v;
    if constexpr (bulk) {
      const unsigned char* p = in.take(n * sizeof(T), "a std::vector");
      v.resize(n);
      if (n) std::memcpy(static_cast<void*>(v.data()), p, n * sizeof(T));
    } else {
      v.reserve(n);  // n <= bytes left / min_size: bounded by the input
      for (std::size_t i = 0; i < n; ++i) v.push_back(elem::decode(in));
    }
    return v;
  }
};

template <class... T>
struct codec_traits<std::tuple<T...>> {
  static constexpr bool ok = (codec_for<T>::ok && ...);
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = (std::size_t{0} + ... + codec_for<T>::min_size);
  static void encode(std::string& out, const std::tuple<T...>& t) {
    std::apply([&out](const T&... e) { (codec_for<T>::encode(out, e), ...); }, t);
  }
  static std::tuple<T...> decode(codec_reader& in) {
    static_cast<void>(in);
    return std::tuple<T...>{codec_for<T>::decode(in)...};  // braces: decoded left to right
  }
};

template <class A, class B>
struct codec_traits<std::pair<A, B>> {
  static constexpr bool ok = codec_for<A>::ok && codec_for<B>::ok;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = codec_for<A>::min_size + codec_for<B>::min_size;
  static void encode(std::string& out, const std::pair<A, B>& p) {
    codec_for<A>::encode(out, p.first);
    codec_for<B>::encode(out, p.second);
  }
  static std::pair<A, B> decode(codec_reader& in) {
    return std::pair<A, B>{codec_for<A>::decode(in), codec_for<B>::decode(in)};  // left to right
  }
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_CODEC_FORMAT_HPP
