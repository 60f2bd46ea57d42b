/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: LOX_API (what the library exports) and LOX_BEGIN_DECLS. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_API_H
#define LOX_C_API_H

/* ------------------------------------------------------------------------ */
/* Visibility and C linkage                                                  */
/* ------------------------------------------------------------------------ */

#if defined(_WIN32)
#if defined(LOX_BUILDING)
#define LOX_API __declspec(dllexport)
#else
#define LOX_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define LOX_API __attribute__((visibility("default")))
#else
#define LOX_API
#endif

/* Every declaration of the ABI is between these two (C linkage in C++). */
#ifdef __cplusplus
#define LOX_BEGIN_DECLS extern "C" {
#define LOX_END_DECLS }
#else
#define LOX_BEGIN_DECLS
#define LOX_END_DECLS
#endif

#endif /* LOX_C_API_H */
