// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the one owner of a C handle.
#ifndef LOX_DETAIL_HANDLE_HPP
#define LOX_DETAIL_HANDLE_HPP

#include <memory>

namespace lox {
namespace detail {

// Calls the C `Destroy` function of handle type `T` (never with null: the
// owner below skips an empty handle).
template <class T, void (*Destroy)(T*)>
struct c_destroy {
  void operator()(T* h) const noexcept { Destroy(h); }
};

// A move-only owner of one C object: the base of every C++ object that
// wraps one (locks, queues, ...). Moving hands the C object over and leaves
// the source empty (`native_handle()` null, `operator bool` false; the C
// calls then return LOX_EINVAL, which the wrappers throw). Move assignment
// destroys the object owned before, as the destructor does.
//
// Cost: one pointer; no allocation beyond the C object itself.
template <class T, void (*Destroy)(T*)>
class c_object {
 public:
  using handle_type = T;

  // The C object (for C calls this layer does not wrap; do not destroy it).
  T* native_handle() const noexcept { return h_.get(); }
  // False for a moved-from object.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 protected:
  c_object() = default;
  explicit c_object(T* h) noexcept : h_(h) {}
  // The address a C create call writes the new handle to: the object owns
  // it from then on.
  struct out_param {
    std::unique_ptr<T, c_destroy<T, Destroy>>& owner;
    T* raw = nullptr;
    ~out_param() { owner.reset(raw); }
    operator T**() noexcept { return &raw; }
  };
  out_param out_handle() noexcept { return out_param{h_}; }

  std::unique_ptr<T, c_destroy<T, Destroy>> h_;
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_HANDLE_HPP
