// Command bundlegen writes the operator's OLM bundle (bundle/) from the
// kustomize configuration in config/ and the hand-written part of the
// ClusterServiceVersion in hack/bundle/. `make bundle` runs it; the output is
// deterministic and test/deploy checks that the committed bundle equals it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/idaop/ida-operator/hack/bundlegen/olm"
)

func main() {
	var (
		o        olm.Options
		out      string
		channels string
	)
	flag.StringVar(&o.Root, "root", ".", "project root")
	flag.StringVar(&out, "out", "bundle", "bundle directory to (re)write")
	flag.StringVar(&o.Version, "version", "", "CSV version (default: spec.version of the base CSV)")
	flag.StringVar(&channels, "channels", "alpha", "comma-separated channels")
	flag.StringVar(&o.DefaultChannel, "default-channel", "alpha", "default channel")
	flag.Parse()
	o.Channels = strings.Split(channels, ",")
	if err := run(o, out); err != nil {
		fmt.Fprintln(os.Stderr, "bundlegen:", err)
		os.Exit(1)
	}
}

func run(o olm.Options, out string) error {
	files, err := olm.Generate(o)
	if err != nil {
		return err
	}
	// The bundle directory holds only generated files: start afresh so a
	// removed CRD does not linger.
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	return nil
}
