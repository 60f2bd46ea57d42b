// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: how a queue item travels as a C `void *`, and the put/get calls
// lox::queue and lox::announcement share.
#ifndef LOX_DETAIL_ITEM_CHANNEL_HPP
#define LOX_DETAIL_ITEM_CHANNEL_HPP

#include <lox/error.hpp>
#include <lox/detail/handle.hpp>
#include <lox/detail/timeout.hpp>

#include <chrono>
#include <cstring>
#include <optional>
#include <type_traits>

namespace lox {
namespace detail {

// How a T travels as a C `void *` item (see "Items" above). Naming
// `item_codec<T>::ok` in a class makes an unsuitable T fail to compile
// with the messages below.
template <class T>
struct item_codec {
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T> && !std::is_reference_v<T>,
                "lox queues: the item type must not be const, volatile or a reference (use lox::queue<int>, "
                "not lox::queue<const int>)");
  static_assert(std::is_trivially_copyable_v<T>,
                "lox queues carry items by value in a void* slot: the item type must be trivially copyable "
                "(a pointer, an integer, an enum, ...); queue a pointer to anything else, e.g. "
                "lox::queue<std::string*>");
  static_assert(sizeof(T) <= sizeof(void*),
                "lox queues carry items by value in a void* slot: the item type must fit in a pointer "
                "(sizeof(T) <= sizeof(void*)); queue a pointer to it instead");
  static_assert(std::is_default_constructible_v<T>, "lox queues: the item type must be default constructible");
  static constexpr bool ok = true;

  static void* encode(const T& x) noexcept {
    void* p = nullptr;
    std::memcpy(static_cast<void*>(&p), static_cast<const void*>(&x), sizeof(T));
    return p;
  }
  static T decode(void* p) noexcept {
    T x{};
    std::memcpy(static_cast<void*>(&x), static_cast<const void*>(&p), sizeof(T));
    return x;
  }
};

// put / try_put / get / try_get of a handle that carries T items, through
// its C put and get calls, on the handle it owns (c_object). put()
// and get() wait as long as it takes; try_put() / try_get() wait at most
// `timeout` (<= 0: once) and report a timeout as false / an empty optional,
// after which nothing was put or taken. Every other C status is thrown as
// lox::error.
template <class T, class H, void (*Destroy)(H*), int (*Put)(H*, void*, double), int (*Get)(H*, void**, double)>
class item_channel : public c_object<H, Destroy> {
  static_assert(item_codec<T>::ok);

 public:
  using value_type = T;

  void put(const T& x) { check(Put(this->native_handle(), codec::encode(x), LOX_FOREVER)); }
  template <class Rep, class Period>
  bool try_put(const T& x, const std::chrono::duration<Rep, Period>& timeout) {
    return check(Put(this->native_handle(), codec::encode(x), try_timeout(timeout))) == LOX_OK;
  }
  T get() { return *take(LOX_FOREVER); }
  template <class Rep, class Period>
  std::optional<T> try_get(const std::chrono::duration<Rep, Period>& timeout) {
    return take(try_timeout(timeout));
  }

 protected:
  using codec = item_codec<T>;
  using c_object<H, Destroy>::c_object;

 private:
  std::optional<T> take(double timeout) {
    void* p = nullptr;
    if (check(Get(this->native_handle(), &p, timeout)) != LOX_OK) return std::nullopt;
    return codec::decode(p);
  }
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_ITEM_CHANNEL_HPP
