package config_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRuntimeImportsPointOneWay: the runtime is deployed on its own and
// reads only the rendered configuration, so no package under runtime/
// imports the CRD types or the controllers, and its code (tests may use
// the project's shared test helpers) none of the binary's internals.
func TestRuntimeImportsPointOneWay(t *testing.T) {
	const module = "github.com/idaop/ida-operator/"
	forbidden := []string{module + "api/", module + "controllers"}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			bad := forbidden
			// Tests and test-support packages (storetest) may share the
			// project's test helpers.
			if !strings.HasSuffix(path, "_test.go") && !strings.HasSuffix(filepath.Dir(path), "test") {
				bad = append(bad, module+"internal/")
			}
			for _, bad := range bad {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read only %d files under runtime/", files)
	}
}
