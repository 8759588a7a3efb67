package source

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

const poll = 20 * time.Millisecond

// write replaces a file atomically, as a careful editor or a config
// management tool does.
func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func configDir(t *testing.T) string {
	dir := t.TempDir()
	write(t, filepath.Join(dir, config.ProviderConfigKey), providerJSON(t))
	write(t, filepath.Join(dir, config.KeySetKey), keysJSON(t))
	write(t, filepath.Join(dir, config.ClientsDir, "a.json"), clientJSON(t, "app-a"))
	return dir
}

func TestDirLifecycle(t *testing.T) {
	dir := configDir(t)
	users := []byte(`{"users":[{"sub":"alice"}]}`)
	write(t, filepath.Join(dir, UsersKey), users)
	updates := run(t, NewDir(dir, poll))

	first := good(t, next(t, updates, time.Second), "app-a")
	if first.Provider.Issuer != issuer {
		t.Fatalf("issuer = %q", first.Provider.Issuer)
	}
	none(t, updates, 5*poll) // nothing changed, nothing sent

	// A new client.
	write(t, filepath.Join(dir, config.ClientsDir, "b.json"), clientJSON(t, "app-b"))
	u := next(t, updates, time.Second)
	second := good(t, u, "app-a", "app-b")
	if !bytes.Equal(u.Users, users) {
		t.Fatalf("Users = %q, want %q", u.Users, users)
	}

	// A broken key set is refused; what the caller holds stays intact.
	write(t, filepath.Join(dir, config.KeySetKey), []byte(`{"keys": [`))
	bad(t, next(t, updates, time.Second), config.KeySetKey)
	if len(second.Clients) != 2 || second.Keys == nil || len(second.Keys.Keys) != 1 {
		t.Fatal("the last good snapshot changed after a refused update")
	}
	none(t, updates, 5*poll) // the same broken state is reported once

	// A client that does not fit the provider names its file.
	write(t, filepath.Join(dir, config.KeySetKey), keysJSON(t))
	good(t, next(t, updates, time.Second), "app-a", "app-b")
	write(t, filepath.Join(dir, config.ClientsDir, "dup.json"), clientJSON(t, "app-a"))
	bad(t, next(t, updates, time.Second), "dup.json")

	// Recovery.
	if err := os.Remove(filepath.Join(dir, config.ClientsDir, "dup.json")); err != nil {
		t.Fatal(err)
	}
	good(t, next(t, updates, time.Second), "app-a", "app-b")

	// users.json is optional; without it Users is nil.
	if err := os.Remove(filepath.Join(dir, UsersKey)); err != nil {
		t.Fatal(err)
	}
	if u := next(t, updates, time.Second); good(t, u, "app-a", "app-b") != nil && u.Users != nil {
		t.Fatalf("Users = %q after users.json was removed, want nil", u.Users)
	}
}

func TestDirMissingAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	updates := run(t, NewDir(dir, poll))
	bad(t, next(t, updates, time.Second), config.ProviderConfigKey)

	// The directory appears (a volume mounted late): the source recovers.
	write(t, filepath.Join(dir, config.ProviderConfigKey), providerJSON(t))
	write(t, filepath.Join(dir, config.KeySetKey), keysJSON(t))
	for {
		u := next(t, updates, time.Second)
		if u.Err == nil {
			good(t, u)
			return
		}
		// Between the two writes the key set is missing.
		bad(t, u, config.KeySetKey)
	}
}

// TestDirVolumeSwap mimics how the kubelet updates a ConfigMap or Secret
// volume: the files are symlinks through ..data, and an update swaps
// ..data to a new timestamped directory in one rename.
func TestDirVolumeSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name string, clients ...string) {
		d := filepath.Join(dir, name)
		write(t, filepath.Join(d, config.ProviderConfigKey), providerJSON(t))
		write(t, filepath.Join(d, config.KeySetKey), keysJSON(t))
		for _, c := range clients {
			write(t, filepath.Join(d, config.ClientsDir, c+".json"), clientJSON(t, c))
		}
	}
	swap := func(name string) {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_01_01_00_00_00.1", "app-a")
	swap("..2026_01_01_00_00_00.1")
	for _, name := range []string{config.ProviderConfigKey, config.KeySetKey, config.ClientsDir} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	updates := run(t, NewDir(dir, poll))
	good(t, next(t, updates, time.Second), "app-a")

	version("..2026_01_01_00_01_00.2", "app-a", "app-b")
	swap("..2026_01_01_00_01_00.2")
	good(t, next(t, updates, time.Second), "app-a", "app-b")
	none(t, updates, 5*poll)
}

func TestDirDefaultPoll(t *testing.T) {
	if d := NewDir(t.TempDir(), 0).(*dirSource); d.poll != DefaultPoll {
		t.Fatalf("poll = %v, want %v", d.poll, DefaultPoll)
	}
}
