package deploy

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/idaop/ida-operator/hack/imagebuild/ociimage"
)

// goTool runs the go command in the project root.
func goTool(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// What `make image` does, into a temporary directory: build the static
// binary, then run hack/imagebuild on it.
func buildImage(t *testing.T, dir, tag string) string {
	t.Helper()
	bin := filepath.Join(dir, "ida-operator")
	if _, err := os.Stat(bin); err != nil {
		goTool(t, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + runtime.GOARCH}, "build", "-trimpath", "-o", bin, ".")
	}
	out := filepath.Join(dir, "image-"+strings.NewReplacer("/", "_", ":", "_").Replace(tag)+".tar")
	goTool(t, nil, "run", "./hack/imagebuild", "-binary", bin, "-arch", runtime.GOARCH, "-tag", tag,
		"-version", "v1.2.3", "-revision", "0123456789abcdef0123456789abcdef01234567", "-out", out)
	return out
}

func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs on linux")
	}
	dir := t.TempDir()
	tag := defaultImage
	path := buildImage(t, dir, tag)
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &ref)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}

	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/ida-operator" {
		t.Errorf("entrypoint %q, want [/ida-operator]", got)
	}
	if len(cfg.Config.Cmd) != 0 {
		t.Errorf("cmd %q, want none", cfg.Config.Cmd)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (numeric, non-root)", cfg.Config.User)
	}
	if cfg.Config.WorkingDir != "/" {
		t.Errorf("workdir %q, want /", cfg.Config.WorkingDir)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   "https://github.com/idaop/ida-operator",
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.title":    "ida-operator",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	// One layer, holding exactly the binary: no shell, nothing else.
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	extracted := filepath.Join(dir, "extracted-ida-operator")
	var entries []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, h.Name)
		if h.Name != "ida-operator" {
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 || h.Mode&0o022 != 0 || h.Uid != 0 {
			t.Errorf("/ida-operator: type %c mode %o uid %d; want a regular, executable file, writable by nobody, owned by root", h.Typeflag, h.Mode, h.Uid)
		}
		f, err := os.OpenFile(extracted, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if len(entries) != 1 || entries[0] != "ida-operator" {
		t.Fatalf("layer holds %q, want only ida-operator", entries)
	}

	// The binary from the image runs: it is static, nothing else is needed.
	out, err := exec.Command(extracted, "help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s help: %v\n%s", ociimage.BinaryPath, err, out)
	}
	if !strings.Contains(string(out), "usage: ida-operator") {
		t.Errorf("%s help printed %q", ociimage.BinaryPath, out)
	}
	if f, err := os.ReadFile(extracted); err == nil && len(f) > 4 && string(f[1:4]) == "ELF" {
		// A static binary has no program interpreter (PT_INTERP).
		if strings.Contains(string(f[:4096]), "/lib64/ld-linux") || strings.Contains(string(f[:4096]), "/lib/ld-") {
			t.Error("the binary asks for a dynamic loader: it is not static")
		}
	}

	// Reproducible: the same binary gives the same image digest.
	again, err := tarball.ImageFromPath(buildImage(t, dir, tag), &ref)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two builds of the same binary give %s and %s", d1, d2)
	}
}
