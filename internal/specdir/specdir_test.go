package specdir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFind(t *testing.T) {
	tmp := t.TempDir()
	mod := filepath.Join(tmp, "project")
	sub := filepath.Join(mod, "a", "b")
	spec := filepath.Join(tmp, "shared", "spec")
	for _, d := range []string{sub, spec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)

	t.Setenv("IDA_SPEC_DIR", "")
	if d, looked := Find(); d != filepath.Join(mod, "..", "shared", "spec") {
		t.Errorf("beside go.mod: Find() = %q, %v", d, looked)
	}

	t.Setenv("IDA_SPEC_DIR", spec)
	if d, looked := Find(); d != spec {
		t.Errorf("$IDA_SPEC_DIR: Find() = %q, %v", d, looked)
	}

	missing := filepath.Join(tmp, "missing")
	t.Setenv("IDA_SPEC_DIR", missing)
	if d, looked := Find(); d != "" || !slices.Equal(looked, []string{"IDA_SPEC_DIR=" + missing + " (not a directory)"}) {
		t.Errorf("$IDA_SPEC_DIR missing: Find() = %q, %v", d, looked)
	}

	t.Setenv("IDA_SPEC_DIR", "")
	if err := os.RemoveAll(spec); err != nil {
		t.Fatal(err)
	}
	want := []string{"$IDA_SPEC_DIR (unset)", filepath.Join(mod, "..", "shared", "spec")}
	if d, looked := Find(); d != "" || !slices.Equal(looked, want) {
		t.Errorf("no spec folder: Find() = %q, %v; want \"\", %v", d, looked, want)
	}
}
