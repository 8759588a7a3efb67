// Package ociimage builds the operator's container image without a
// container engine, the way ko does: an empty base, one layer holding the
// static binary, and an OCI config that runs it as a non-root numeric user.
// Everything that could vary between builds (timestamps, file owners) is
// fixed, so the same binary always gives the same image digest.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What every image of the operator has.
const (
	// BinaryPath is where the binary lives in the image.
	BinaryPath = "/ida-operator"
	// User is the numeric user:group the image runs as (distroless's
	// "nonroot"); numeric so that runAsNonRoot can verify it.
	User = "65532:65532"
	// WorkingDir is the image's working directory.
	WorkingDir = "/"
	// Title is org.opencontainers.image.title.
	Title = "ida-operator"
	// DefaultSource is org.opencontainers.image.source.
	DefaultSource = "https://github.com/idaop/ida-operator"
)

// Options describe one image.
type Options struct {
	// Binary is the path of the static linux binary to put in the image.
	Binary string
	// Arch is the GOARCH the binary is built for (amd64, arm64 ...).
	Arch string
	// Version and Revision become the OCI version and revision labels.
	Version  string
	Revision string
	// Source is the source repository URL; DefaultSource when empty.
	Source string
	// Created is the image's creation time; the zero time (1970) keeps
	// builds reproducible.
	Created time.Time
}

// Labels returns the OCI annotations-as-labels of the image.
func (o Options) Labels() map[string]string {
	source := o.Source
	if source == "" {
		source = DefaultSource
	}
	return map[string]string{
		"org.opencontainers.image.source":   source,
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.revision": o.Revision,
		"org.opencontainers.image.title":    Title,
	}
}

// Build returns the image.
func Build(o Options) (v1.Image, error) {
	if o.Arch == "" {
		return nil, fmt.Errorf("no architecture")
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := binaryLayer(bin, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: o.Created.UTC()}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: o.Arch,
		OS:           "linux",
		Created:      created,
		Config: v1.Config{
			Entrypoint: []string{BinaryPath},
			User:       User,
			WorkingDir: WorkingDir,
			Labels:     o.Labels(),
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   created,
			CreatedBy: "hack/imagebuild: COPY ida-operator " + BinaryPath,
			Comment:   "the static ida-operator binary",
		},
	})
}

// binaryLayer is an uncompressed tar holding only the binary, owned by
// root and not writable by the user the image runs as.
func binaryLayer(bin []byte, modTime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     BinaryPath[1:],
		Mode:     0o555,
		Size:     int64(len(bin)),
		ModTime:  modTime.UTC(),
		Format:   tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTarball writes img, tagged tag, as an image tarball that
// `podman load`, `docker load`, `crane push` and `skopeo copy
// docker-archive:` read.
func WriteTarball(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	return tarball.WriteToFile(path, ref, img)
}
