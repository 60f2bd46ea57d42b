// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"liblox.dev/lox"
)

// The entries of lox.h's LOX_STATUS_MAP: "LOX_<NAME>" -> value and text.
func headerStatusMap(t *testing.T) map[string]struct {
	value int
	text  string
} {
	t.Helper()
	header, err := os.ReadFile("../../include/lox/lox.h")
	if err != nil {
		t.Skipf("lox.h not in this checkout: %v", err)
	}
	text := string(header)
	start := strings.Index(text, "#define LOX_STATUS_MAP(X)")
	if start < 0 {
		t.Fatal("no LOX_STATUS_MAP in lox.h")
	}
	block := text[start:]
	if end := strings.Index(block, "\n\n"); end >= 0 {
		block = block[:end]
	}
	out := map[string]struct {
		value int
		text  string
	}{}
	re := regexp.MustCompile(`X\((\w+),\s*(-?\d+),\s*"([^"]*)"`)
	for _, m := range re.FindAllStringSubmatch(block, -1) {
		v, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatalf("%s: value %q", m[1], m[2])
		}
		out["LOX_"+m[1]] = struct {
			value int
			text  string
		}{v, m[3]}
	}
	return out
}

func TestStatusConstantsMatchTheHeaderMap(t *testing.T) {
	binding := map[string]lox.Status{
		"LOX_OK": lox.StatusOK, "LOX_TIMEOUT": lox.StatusTimeout, "LOX_EINVAL": lox.StatusInval,
		"LOX_ENOMEM": lox.StatusNoMem, "LOX_ESTATE": lox.StatusState, "LOX_ECLOSED": lox.StatusClosed,
		"LOX_ETASK": lox.StatusTask, "LOX_EWORKER": lox.StatusWorker, "LOX_ESYS": lox.StatusSys,
	}
	codes := headerStatusMap(t)
	if len(codes) < 9 {
		t.Fatalf("parsed %d entries of LOX_STATUS_MAP", len(codes))
	}
	for name, c := range codes {
		st, ok := binding[name]
		if !ok {
			t.Errorf("%s (%d) has no constant in the binding", name, c.value)
			continue
		}
		if int(st) != c.value {
			t.Errorf("%s: the binding says %d, lox.h %d", name, int(st), c.value)
		}
		if st.String() != c.text {
			t.Errorf("%s: text %q, lox.h %q", name, st.String(), c.text)
		}
		if st.CName() != name {
			t.Errorf("%s: lox_status_name gives %q", name, st.CName())
		}
	}
	if len(binding) != len(codes) {
		t.Errorf("the binding has %d status constants, lox.h %d", len(binding), len(codes))
	}
	if got := lox.Status(12345).CName(); got != "LOX_UNKNOWN" {
		t.Errorf("unknown status named %q", got)
	}
}
