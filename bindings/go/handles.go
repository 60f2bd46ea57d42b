// SPDX-License-Identifier: Apache-2.0

package lox

import "runtime/cgo"

func newCgoHandle(v any) cgo.Handle { return cgo.NewHandle(v) }

func deleteCgoHandle(h uintptr) { cgo.Handle(h).Delete() }

func handleValue(h uintptr) any { return cgo.Handle(h).Value() }
