// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import "sync"

// LogLevel is a liblox log level.
type LogLevel int

// liblox's log levels.
const (
	LogTrace LogLevel = 0
	LogDebug LogLevel = 1
	LogInfo  LogLevel = 2
	LogWarn  LogLevel = 3
	LogError LogLevel = 4
	LogOff   LogLevel = 5
)

// SetLogLevel sets the minimum level liblox logs (failed tasks, dead
// workers and detected misuse are logged at WARN and ERROR; the default is
// WARN or $LOX_LOG_LEVEL). Out-of-range values are clamped.
func SetLogLevel(l LogLevel) { C.lox_log_set_level(C.int(l)) }

// GetLogLevel returns the current minimum level.
func GetLogLevel() LogLevel { return LogLevel(C.lox_log_get_level()) }

var (
	logMu      sync.RWMutex
	logHandler func(LogLevel, string)
)

// SetLogHandler routes liblox's log messages to fn (called from whichever
// thread logs, possibly several at once: fn must be safe for concurrent
// use and must not call SetLogHandler or SetLogLevel). nil restores
// liblox's default stderr sink. Messages logged inside a forked
// process-pool worker are dropped rather than sent to Go (the Go runtime
// does not exist there).
func SetLogHandler(fn func(level LogLevel, msg string)) {
	logMu.Lock()
	logHandler = fn
	logMu.Unlock()
	on := C.int(0)
	if fn != nil {
		on = 1
	}
	C.gx_log_route(on)
}

func callLogHandler(level LogLevel, msg string) {
	logMu.RLock()
	fn := logHandler
	logMu.RUnlock()
	if fn == nil {
		return
	}
	defer func() { _ = recover() }() // a panic must not cross into C
	fn(level, msg)
}
