// Package specdir finds the shared OIDC4IDA spec folder (schemas and
// examples) for tests. It uses the standard library only, so the light
// packages' tests can use it without pulling in anything else.
package specdir

import (
	"os"
	"path/filepath"
)

// Find returns the spec folder: $IDA_SPEC_DIR, else ../shared/spec beside
// the directory holding go.mod (searched upward from the working
// directory). When neither is a directory it returns "" and where it
// looked, for the caller's log message: the official files are an
// extra check, and tests run without them.
func Find() (dir string, looked []string) {
	if d := os.Getenv("IDA_SPEC_DIR"); d != "" {
		if isDir(d) {
			return d, nil
		}
		return "", []string{"IDA_SPEC_DIR=" + d + " (not a directory)"}
	}
	looked = []string{"$IDA_SPEC_DIR (unset)"}
	wd, err := os.Getwd()
	if err != nil {
		return "", append(looked, err.Error())
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			cand := filepath.Join(d, "..", "shared", "spec")
			if isDir(cand) {
				return cand, nil
			}
			return "", append(looked, cand)
		}
		if filepath.Dir(d) == d {
			return "", append(looked, "no go.mod above "+wd)
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
