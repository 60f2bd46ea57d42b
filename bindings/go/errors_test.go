// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"liblox.dev/lox"
)

type headerStatus struct {
	value int
	text  string
}

var loxInclude = regexp.MustCompile(`(?m)^\s*#\s*include\s*[<"](lox/[^>"]+)[>"]`)

// headerText is include/<name> and every <lox/...> header it includes,
// recursively (each once, resolved against include), as one text.
func headerText(include, name string, seen map[string]bool) (string, error) {
	path := filepath.Join(include, filepath.FromSlash(name))
	if seen[path] {
		return "", nil
	}
	seen[path] = true
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	parts := []string{string(data)}
	for _, m := range loxInclude.FindAllStringSubmatch(string(data), -1) {
		inner, err := headerText(include, m[1], seen)
		if err != nil {
			return "", err
		}
		parts = append(parts, inner)
	}
	return strings.Join(parts, "\n"), nil
}

// statusMap is the LOX_STATUS_MAP of the headers' text, "LOX_<NAME>" ->
// value and text: the #define line and its continuation lines.
func statusMap(t *testing.T, text string) map[string]headerStatus {
	t.Helper()
	var block []string
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "#define LOX_STATUS_MAP(X)") {
			continue
		}
		block = append(block, line)
		for j := i + 1; j < len(lines) && strings.HasSuffix(strings.TrimRight(block[len(block)-1], " \t\r"), "\\"); j++ {
			block = append(block, lines[j])
		}
		break
	}
	if block == nil {
		t.Fatal("no LOX_STATUS_MAP in the headers")
	}
	out := map[string]headerStatus{}
	re := regexp.MustCompile(`X\((\w+),\s*(-?\d+),\s*"([^"]*)"`)
	for _, m := range re.FindAllStringSubmatch(strings.Join(block, "\n"), -1) {
		v, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatalf("%s: value %q", m[1], m[2])
		}
		out["LOX_"+m[1]] = headerStatus{v, m[3]}
	}
	return out
}

// The entries of LOX_STATUS_MAP in lox.h and the headers it includes.
func headerStatusMap(t *testing.T) map[string]headerStatus {
	t.Helper()
	text, err := headerText("../../include", "lox/lox.h", map[string]bool{})
	if err != nil {
		t.Skipf("lox.h not in this checkout: %v", err)
	}
	return statusMap(t, text)
}

func TestHeaderReaderFollowsTheLoxIncludes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"lox/lox.h": "#include <stddef.h>\n#include <lox/c/status.h>\n",
		"lox/c/status.h": "#include <lox/lox.h>\n" +
			"#define LOX_STATUS_MAP(X) \\\n" +
			"    X(OK, 0, \"success\", \"m\") \\\n" +
			"    X(EINVAL, -1, \"bad\", \\\n" +
			"      \"m\")\n" +
			"enum { LOX_STATUS_MAP(E) };\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := headerText(dir, "lox/lox.h", map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	got := statusMap(t, text)
	want := map[string]headerStatus{"LOX_OK": {0, "success"}, "LOX_EINVAL": {-1, "bad"}}
	if len(got) != len(want) || got["LOX_OK"] != want["LOX_OK"] || got["LOX_EINVAL"] != want["LOX_EINVAL"] {
		t.Fatalf("read %v, want %v", got, want)
	}
}

func TestStatusConstantsMatchTheHeaderMap(t *testing.T) {
	binding := map[string]lox.Status{
		"LOX_OK": lox.StatusOK, "LOX_TIMEOUT": lox.StatusTimeout, "LOX_EINVAL": lox.StatusInval,
		"LOX_ENOMEM": lox.StatusNoMem, "LOX_ESTATE": lox.StatusState, "LOX_ECLOSED": lox.StatusClosed,
		"LOX_ETASK": lox.StatusTask, "LOX_EWORKER": lox.StatusWorker, "LOX_ESYS": lox.StatusSys,
		"LOX_ECANCELLED": lox.StatusCancelled, "LOX_EDEPENDENCY": lox.StatusDependency,
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
