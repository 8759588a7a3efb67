package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeDir lays out a valid --config-dir and returns its path.
func writeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(ProviderConfigKey, testProvider())
	write(KeySetKey, testKeySet(t))
	a := testClient()
	b := testClient()
	b.ClientID, b.Name = "app-b", "second"
	write(filepath.Join(ClientsDir, "a.json"), a)
	write(filepath.Join(ClientsDir, "b.json"), b)
	return dir
}

func TestLoadDir(t *testing.T) {
	dir := writeDir(t)
	// Files that are not *.json, and the discovery document, are ignored.
	if err := os.WriteFile(filepath.Join(dir, ClientsDir, "README"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Provider.Issuer != "https://id.example.com/" || len(s.Keys.Keys) != 3 || len(s.Clients) != 2 || s.Clients["app-b"].Name != "second" {
		t.Errorf("snapshot: %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("loaded snapshot does not validate: %v", err)
	}

	// No clients directory: no clients.
	if err := os.RemoveAll(filepath.Join(dir, ClientsDir)); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadDir(dir); err != nil || len(s.Clients) != 0 {
		t.Errorf("without clients: %v %+v", err, s)
	}
}

// TestLoadDirMountedVolume: a ConfigMap volume is a tree of symlinks.
func TestLoadDirMountedVolume(t *testing.T) {
	src := writeDir(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "..2026_03_01")
	if err := os.Rename(src, data); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ProviderConfigKey, KeySetKey, ClientsDir} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := LoadDir(dir)
	if err != nil || len(s.Clients) != 2 {
		t.Fatalf("%v %+v", err, s)
	}
}

func TestLoadDirBrokenFiles(t *testing.T) {
	client := filepath.Join(ClientsDir, "a.json")
	cases := []struct {
		name  string
		file  string // the file the error must name
		spoil func(t *testing.T, dir string)
		want  string
	}{
		{"no provider", ProviderConfigKey, func(t *testing.T, dir string) { remove(t, dir, ProviderConfigKey) }, "no such file"},
		{"provider not JSON", ProviderConfigKey, func(t *testing.T, dir string) { overwrite(t, dir, ProviderConfigKey, "{") }, "unexpected end"},
		{"provider invalid", ProviderConfigKey, func(t *testing.T, dir string) {
			edit(t, dir, ProviderConfigKey, func(m map[string]any) { m["issuer"] = "http://id.example.com" })
		}, "issuer:"},
		{"provider bad duration", ProviderConfigKey, func(t *testing.T, dir string) {
			edit(t, dir, ProviderConfigKey, func(m map[string]any) { m["tokens"].(map[string]any)["id_token"] = "soon" })
		}, "soon"},
		{"no keys", KeySetKey, func(t *testing.T, dir string) { remove(t, dir, KeySetKey) }, "no such file"},
		{"keys not JSON", KeySetKey, func(t *testing.T, dir string) { overwrite(t, dir, KeySetKey, "[]") }, "cannot unmarshal"},
		{"key invalid", KeySetKey, func(t *testing.T, dir string) {
			edit(t, dir, KeySetKey, func(m map[string]any) { m["keys"].([]any)[0].(map[string]any)["alg"] = "HS256" })
		}, "keys[0].alg"},
		{"no key for an algorithm", KeySetKey, func(t *testing.T, dir string) {
			edit(t, dir, KeySetKey, func(m map[string]any) { m["keys"] = m["keys"].([]any)[:2] })
		}, "no key for RS256"},
		{"client not JSON", client, func(t *testing.T, dir string) { overwrite(t, dir, client, "nope") }, "invalid character"},
		{"client invalid", client, func(t *testing.T, dir string) {
			edit(t, dir, client, func(m map[string]any) { m["redirect_uris"] = []string{"http://evil.example/cb"} })
		}, "redirect_uris[0]"},
		{"client not offered", client, func(t *testing.T, dir string) {
			edit(t, dir, client, func(m map[string]any) { m["trust_frameworks"] = []string{"uk_tfida"} })
		}, "trust_frameworks[0]"},
		{"client_id twice", filepath.Join(ClientsDir, "b.json"), func(t *testing.T, dir string) {
			edit(t, dir, filepath.Join(ClientsDir, "b.json"), func(m map[string]any) { m["client_id"] = "app-7f3a" })
		}, "already registered by"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeDir(t)
			c.spoil(t, dir)
			_, err := LoadDir(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, c.file)) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want the file %s and %q", err, c.file, c.want)
			}
		})
	}
}

func TestSnapshotValidate(t *testing.T) {
	s := &Snapshot{Provider: testProvider(), Keys: testKeySet(t), Clients: map[string]*Client{"app-7f3a": testClient()}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Clients["other"] = testClient()
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "registered under client_id") {
		t.Errorf("mismatched id: %v", err)
	}
	if err := (&Snapshot{}).Validate(); err == nil {
		t.Error("empty snapshot validates")
	}
}

func remove(t *testing.T, dir, name string) {
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, dir, name, content string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func edit(t *testing.T, dir, name string, change func(map[string]any)) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	data, _ = json.Marshal(m)
	overwrite(t, dir, name, string(data))
}
