// SPDX-License-Identifier: Apache-2.0
// The extern "C" boundary's shared machinery: argument checks that record
// a detail message, translation of core statuses, and the guard that keeps
// every C++ exception on this side of the ABI.
#pragma once

#include <lox/lox.h>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

#include <strings.h>

#include "common/deadline.hpp"
#include "common/error.hpp"
#include "common/gather.hpp"
#include "common/status.hpp"
#include "log/log.hpp"

namespace lox::capi {

using core::Status;

// The core's statuses are the C codes (common/status.hpp takes them from
// LOX_STATUS_MAP), so translation is a cast.
inline int to_c(Status s) noexcept { return core::to_int(s); }

// Records "<op>: <what> is NULL" and returns LOX_EINVAL.
inline int null_argument(const char* op, const char* what) noexcept {
  return to_c(core::fail(Status::invalid, "{}: {} is NULL", op, what));
}

// For getters returning a count: a NULL object reads as 0, and the detail
// says why.
inline size_t null_count(const char* op, const char* what) noexcept {
  null_argument(op, what);
  return 0;
}

// Converts a C timeout to a deadline; NaN is LOX_EINVAL (returns false).
inline bool to_deadline(const char* op, double timeout, core::Deadline& out) noexcept {
  if (std::isnan(timeout)) {
    core::fail(Status::invalid, "{}: timeout is NaN", op);
    return false;
  }
  out = core::Deadline::after_seconds(timeout);
  return true;
}

// Checks an options struct's struct_size: it must cover at least the
// fields of the first ABI version (`min_size`) and not exceed what this
// library knows (a newer caller's larger struct would carry fields we
// would silently ignore).
inline bool check_struct_size(const char* op, const char* type, size_t given, size_t min_size, size_t known) noexcept {
  if (given < min_size || given > known) {
    core::fail(Status::invalid, "{}: {}.struct_size is {} (expected {}; initialise it with {}_init)", op, type, given,
               known, type);
    return false;
  }
  return true;
}

// LOX_DEBUG=1/true/yes/on forces every pool into inline (debug) mode.
inline bool debug_forced() noexcept {
  const char* v = std::getenv("LOX_DEBUG");
  if (!v) return false;
  for (const char* yes : {"1", "true", "yes", "on"})
    if (strcasecmp(v, yes) == 0) return true;
  return false;
}

// Reads a gather's options (NULL: the defaults) into `req`; false (with
// LOX_EINVAL recorded) for a bad struct_size or a NaN timeout.
inline bool to_gather_request(const char* op, const lox_gather_opts* opts, core::GatherRequest& req) noexcept {
  if (!opts) return true;
  if (!check_struct_size(op, "lox_gather_opts", opts->struct_size, sizeof(lox_gather_opts), sizeof(lox_gather_opts)))
    return false;
  if (!to_deadline(op, opts->timeout, req.deadline)) return false;
  req.progress = opts->progress;
  req.progress_ctx = opts->progress_ctx;
  req.progress_bar = opts->progress_bar != 0;
  return true;
}

// The detail of a std::system_error: its what() is the OS's strerror text,
// prefixed by liblox's own words where liblox threw it ("socketpair for the
// fork server: Too many open files"). An error of any other category (not
// errno) is named by its code only, so no standard-library wording leaks
// into a detail.
inline std::string system_error_text(const std::system_error& e) {
  const std::error_category& cat = e.code().category();
  if (cat == std::generic_category() || cat == std::system_category()) return e.what();
  return fmt::format("error {} of category {}", e.code().value(), cat.name());
}

// Runs `body` (returning Status or int) and maps any escaping exception to
// a status, with a detail in liblox's words (what() of a standard exception
// is an implementation's text, "vector::reserve", useless to a caller):
// - std::bad_alloc -> LOX_ENOMEM "<op>: out of memory";
// - std::length_error (a container asked for more than it can ever hold;
//   sizes that are bad input are refused with LOX_EINVAL before this) ->
//   LOX_ENOMEM "<op>: out of memory (a size beyond what can be allocated)";
// - std::system_error -> LOX_ESYS "<op>: <strerror text>";
// - anything else is a bug: LOX_ESTATE "<op>: internal error (unexpected C++
//   exception)", and the exception's own text is logged at ERROR for the
//   bug report.
template <typename Body>
int guard(const char* op, Body&& body) noexcept {
  try {
    if constexpr (std::is_same_v<decltype(body()), Status>) {
      return to_c(body());
    } else {
      return body();
    }
  } catch (const std::bad_alloc&) {
    return to_c(core::fail(Status::no_memory, "{}: out of memory", op));
  } catch (const std::length_error&) {
    return to_c(core::fail(Status::no_memory, "{}: out of memory (a size beyond what can be allocated)", op));
  } catch (const std::system_error& e) {
    try {
      return to_c(core::fail(Status::system, "{}: {}", op, system_error_text(e)));
    } catch (...) {
      return to_c(core::fail(Status::system, "{}: an operating-system call failed", op));
    }
  } catch (const std::exception& e) {
    core::log::emit(core::log::Level::error, "{}: internal error: unexpected C++ exception: {}", op, e.what());
    return to_c(core::fail(Status::bad_state, "{}: internal error (unexpected C++ exception)", op));
  } catch (...) {
    core::log::emit(core::log::Level::error, "{}: internal error: unexpected C++ exception of unknown type", op);
    return to_c(core::fail(Status::bad_state, "{}: internal error (unexpected C++ exception)", op));
  }
}

}  // namespace lox::capi
