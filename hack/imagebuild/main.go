// Command imagebuild writes the operator's container image as an image
// tarball, without a container engine: `make image` runs it on the binary it
// has built (CGO_ENABLED=0, -trimpath). See docs/deploy.md for loading and
// pushing the tarball.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/idaop/ida-operator/hack/imagebuild/ociimage"
)

func main() {
	var (
		o   ociimage.Options
		out string
		tag string
	)
	flag.StringVar(&o.Binary, "binary", "bin/image/ida-operator", "static linux binary to put in the image")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "architecture the binary is built for")
	flag.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version")
	flag.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision (a commit)")
	flag.StringVar(&o.Source, "source", ociimage.DefaultSource, "org.opencontainers.image.source")
	flag.StringVar(&tag, "tag", "ghcr.io/idaop/ida-operator:dev", "image reference recorded in the tarball")
	flag.StringVar(&out, "out", "bin/image/ida-operator.tar", "image tarball to write")
	flag.Parse()
	// SOURCE_DATE_EPOCH, as reproducible builds define it; else 1970.
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(fmt.Errorf("SOURCE_DATE_EPOCH: %w", err))
		}
		o.Created = time.Unix(sec, 0)
	} else {
		o.Created = time.Unix(0, 0)
	}
	img, err := ociimage.Build(o)
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		fail(err)
	}
	if err := ociimage.WriteTarball(out, tag, img); err != nil {
		fail(err)
	}
	digest, err := img.Digest()
	if err != nil {
		fail(err)
	}
	fmt.Printf("wrote %s: %s@%s\n", out, tag, digest)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "imagebuild:", err)
	os.Exit(1)
}
