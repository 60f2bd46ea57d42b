// SPDX-License-Identifier: Apache-2.0
// Version, status text, error detail and logging: the ABI pieces shared by
// every object.
#include <lox/lox.h>

#include "boundary.hpp"

using namespace lox;

extern "C" {

LOX_API unsigned lox_version(void) { return LOX_VERSION_NUMBER; }

LOX_API const char* lox_version_string(void) {
  static_assert(LOX_VERSION_MAJOR >= 0);
  return LOX_VERSION_STRING;
}

LOX_API const char* lox_status_str(int status) {
  switch (status) {
#define LOX_STATUS_TEXT_CASE_(name, value, text, meaning) \
  case LOX_##name:                                        \
    return text;
    LOX_STATUS_MAP(LOX_STATUS_TEXT_CASE_)
#undef LOX_STATUS_TEXT_CASE_
    default:
      return "unknown status";
  }
}

LOX_API const char* lox_status_name(int status) {
  switch (status) {
#define LOX_STATUS_NAME_CASE_(name, value, text, meaning) \
  case LOX_##name:                                        \
    return "LOX_" #name;
    LOX_STATUS_MAP(LOX_STATUS_NAME_CASE_)
#undef LOX_STATUS_NAME_CASE_
    default:
      return "LOX_UNKNOWN";
  }
}

LOX_API const char* lox_last_error(void) { return core::last_error().c_str(); }

LOX_API void lox_log_set_level(int level) {
  if (level < LOX_LOG_TRACE) level = LOX_LOG_TRACE;
  if (level > LOX_LOG_OFF) level = LOX_LOG_OFF;
  core::log::set_level(static_cast<core::log::Level>(level));
}

LOX_API int lox_log_get_level(void) { return static_cast<int>(core::log::level()); }

LOX_API void lox_log_set_callback(lox_log_fn fn, void* ctx) { core::log::set_callback(fn, ctx); }

LOX_API void lox_gather_opts_init(lox_gather_opts* opts) {
  if (opts) *opts = lox_gather_opts LOX_GATHER_OPTS_INIT;
}

LOX_API void lox_thread_opts_init(lox_thread_opts* opts) {
  if (opts) *opts = lox_thread_opts LOX_THREAD_OPTS_INIT;
}

}  // extern "C"
