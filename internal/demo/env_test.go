package demo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteEnvReplacesTheFileWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "env")
	if err := os.WriteFile(path, []byte("STALE='from a previous run'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := writeEnv(path, map[string]string{"ISSUER": "http://127.0.0.1:1/", "DEMO_PASSWORD": "it's"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "DEMO_PASSWORD='it'\\''s'\nISSUER='http://127.0.0.1:1/'\n"; string(got) != want {
		t.Errorf("env =\n%s\nwant\n%s", got, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v: the file holds secrets", st.Mode().Perm())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestWriteEnvFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	// The target is a directory: the rename fails, and the temporary file
	// must not stay behind.
	path := filepath.Join(dir, "env")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeEnv(path, map[string]string{"A": "b"}); err == nil {
		t.Fatal("no error renaming over a directory")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
