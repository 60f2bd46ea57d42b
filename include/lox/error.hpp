// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: errors and outcomes.
//
// lox::error is what every failing C call becomes; lox::check() turns a C
// status into it; lox::outcome<T> is one task's value or exception, as
// gather_results() returns it. Part of <lox/lox.hpp>; usable on its own.
#ifndef LOX_ERROR_HPP
#define LOX_ERROR_HPP

#include <lox/lox.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace lox {

// The exception thrown when a C call returns a `LOX_E*` status.
//
// `status()` is the C status (`LOX_EINVAL`, `LOX_ESTATE`, ...), `detail()` the
// text `lox_last_error()` returned right after the failing call (e.g.
// "thread gather: called from inside one of the pool's own tasks (it would
// wait for itself)"). `what()` holds both: "<detail> [LOX_ESTATE: not valid in
// the object's current state]".
//
// A timeout (`LOX_TIMEOUT`) is never an `error`: functions that can time out
// say so in their return value.
class error : public std::runtime_error {
 public:
  // Builds an error for `status` with the given detail text (may be empty).
  error(int status, std::string detail)
      : std::runtime_error(compose(status, detail)), status_(status), detail_(std::move(detail)) {}

  // The C status code (a negative `LOX_E*` value, or a task's own nonzero
  // failure code).
  int status() const noexcept { return status_; }

  // The detail message of the failing call ("" if the library gave none).
  const std::string& detail() const noexcept { return detail_; }

  // Symbolic name of a status: "LOX_EINVAL", ..., or "LOX_UNKNOWN" for a
  // value that is not a `LOX_*` code (lox_status_name).
  static const char* status_name(int status) noexcept { return lox_status_name(status); }

 private:
  static std::string compose(int status, const std::string& detail) {
    std::string s = detail;
    if (!s.empty()) s += ' ';
    s += '[';
    s += status_name(status);
    s += ": ";
    s += lox_status_str(status);
    if (std::string_view(status_name(status)) == "LOX_UNKNOWN") s += " " + std::to_string(status);
    s += ']';
    return s;
  }

  int status_;
  std::string detail_;
};

// Turns the status of a C call into C++: returns `LOX_OK` or `LOX_TIMEOUT`
// unchanged (a timeout is an outcome, not an error) and throws `lox::error`
// with the calling thread's `lox_last_error()` detail for anything else.
// Call it right after the C call: the detail is per thread and the next
// failing liblox call replaces it.
//
//   lox::check(lox_thread_scatter(pool, arg, nullptr));
inline int check(int status) {
  if (status == LOX_OK || status == LOX_TIMEOUT) return status;
  throw error(status, lox_last_error());
}

// What one task produced: its value, or the exception it threw. Returned by
// `gather_results()`, which never throws a task's exception.
//
// Cost: a `std::optional<T>` plus a `std::exception_ptr`.
template <class T>
class outcome {
 public:
  // A successful outcome holding `T(args...)`.
  template <class... Args>
  explicit outcome(std::in_place_t, Args&&... args) : value_(std::in_place, std::forward<Args>(args)...) {}

  // A failed outcome holding `e` (must not be null).
  static outcome failure(std::exception_ptr e) { return outcome(std::move(e)); }

  // True when the task returned normally.
  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  // The task's value; rethrows the task's exception if it failed.
  T& value() & {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  const T& value() const& {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  T&& value() && {
    if (!value_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

  // The task's exception, or null if it succeeded.
  std::exception_ptr error() const noexcept { return error_; }

 private:
  explicit outcome(std::exception_ptr e) : error_(std::move(e)) {}
  std::optional<T> value_;
  std::exception_ptr error_;
};

// The outcome of a task returning void: success, or its exception.
template <>
class outcome<void> {
 public:
  // A successful outcome.
  explicit outcome(std::in_place_t) noexcept {}
  // A failed outcome holding `e` (must not be null).
  static outcome failure(std::exception_ptr e) { return outcome(std::move(e)); }

  // True when the task returned normally.
  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  // Does nothing for a success; rethrows the task's exception otherwise.
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  // The task's exception, or null if it succeeded.
  std::exception_ptr error() const noexcept { return error_; }

 private:
  explicit outcome(std::exception_ptr e) noexcept : error_(std::move(e)) {}
  std::exception_ptr error_;
};

}  // namespace lox

#endif  // LOX_ERROR_HPP
