package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPairwiseSector: which sector a client's subjects belong to (OIDC
// Core §8.1), and when it has none.
func TestPairwiseSector(t *testing.T) {
	client := func(subjectType, sectorURI string, redirects ...string) *Client {
		c := testClient()
		c.SubjectType, c.SectorIdentifierURI, c.RedirectURIs = subjectType, sectorURI, redirects
		return c
	}
	cases := []struct {
		name          string
		providerType  string
		client        *Client
		want, wantErr string
	}{
		{"public by default", "", client("", "", "https://a.example/cb", "https://b.example/cb"), "", ""},
		{"public client of a pairwise provider", SubjectPairwise, client(SubjectPublic, "", "https://a.example/cb", "https://b.example/cb"), "", ""},
		{"pairwise: the redirect URIs' one host", "", client(SubjectPairwise, "", "https://App.Example/cb", "https://app.example:8443/other"), "app.example", ""},
		{"pairwise by the provider's default", SubjectPairwise, client("", "", "https://app.example/cb"), "app.example", ""},
		{"pairwise: the sector identifier URI's host wins", "", client(SubjectPairwise, "https://Sector.Example/uris.json", "https://a.example/cb", "https://b.example/cb"), "sector.example", ""},
		{"pairwise: loopback ports are one host", "", client(SubjectPairwise, "", "http://127.0.0.1:3000/cb", "http://127.0.0.1:4000/cb"), "127.0.0.1", ""},
		{"pairwise: several hosts and no sector identifier URI", "", client(SubjectPairwise, "", "https://a.example/cb", "https://b.example/cb"), "", "on 2 hosts (a.example, b.example)"},
		{"pairwise: no redirect URI", "", client(SubjectPairwise, ""), "", "need a redirect URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testProvider()
			p.Subjects.Type = tc.providerType
			got, err := p.PairwiseSector(tc.client)
			if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %q, %v; want %q, %q", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestSubjectFields: the members a provider and a client add for
// subjects, each rule once.
func TestSubjectFields(t *testing.T) {
	for _, tc := range []struct {
		name, wantErr string
		edit          func(*Provider, *Client)
	}{
		{"valid", "", func(*Provider, *Client) {}},
		{"provider type", "subjects.type", func(p *Provider, _ *Client) { p.Subjects.Type = "Pairwise" }},
		{"salt secret without key", "subjects.salt_secret.key", func(p *Provider, _ *Client) { p.Subjects.SaltSecret = &SecretKeyRef{Name: "s"} }},
		{"fingerprint form", "subjects.salt_fingerprint", func(p *Provider, _ *Client) { p.Subjects.SaltFingerprint = "abc" }},
		{"client type", "subject_type", func(_ *Provider, c *Client) { c.SubjectType = "other" }},
		{"sector URI over http", "sector_identifier_uri", func(_ *Provider, c *Client) { c.SectorIdentifierURI = "http://rp.example/uris.json" }},
		{"sector URI with fragment", "sector_identifier_uri", func(_ *Provider, c *Client) { c.SectorIdentifierURI = "https://rp.example/uris.json#x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := testProvider(), testClient()
			tc.edit(p, c)
			err := AsError(append(p.Validate(), c.Validate()...))
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestSnapshotSalt: the salt decides which pairwise clients can be served,
// and a salt other than the recorded one is refused whole.
func TestSnapshotSalt(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, MinPairwiseSalt)
	pairwise := testClient()
	pairwise.SubjectType = SubjectPairwise
	pairwise.RedirectURIs = []string{"https://app.example.com/callback"}
	for _, tc := range []struct {
		name        string
		defaultType string
		fingerprint string
		salt        []byte
		client      *Client
		wantErr     string
	}{
		{"public without a salt", "", "", nil, testClient(), ""},
		{"pairwise client with the recorded salt", "", SaltFingerprint(salt), salt, pairwise, ""},
		{"pairwise client with a salt and no record", "", "", salt, pairwise, ""},
		{"pairwise client without a salt", "", "", nil, pairwise, "no pairwise salt"},
		{"pairwise default without a salt", SubjectPairwise, "", nil, testClient(), "pairwise subjects are the default"},
		{"a salt other than the recorded one", "", SaltFingerprint([]byte("another salt of thirty-two bytes")), salt, testClient(), "not the recorded"},
		{"a short salt", "", "", salt[:31], testClient(), "31 bytes"},
		{"the recorded salt is missing", "", SaltFingerprint(salt), nil, testClient(), "recorded as sha256:"},
		{"pairwise by default, several redirect hosts", SubjectPairwise, "", salt, testClient(), "on 2 hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testProvider()
			p.Subjects = Subjects{Type: tc.defaultType, SaltFingerprint: tc.fingerprint}
			s := &Snapshot{Provider: p, Keys: testKeySet(t), Clients: map[string]*Client{tc.client.ClientID: tc.client}, PairwiseSalt: tc.salt}
			err := s.Validate()
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
	if got := SaltFingerprint(salt); !saltFingerprintForm.MatchString(got) || got == SaltFingerprint(salt[1:]) {
		t.Errorf("fingerprint %s", got)
	}
}

// TestLoadDirSalt: a --config-dir's pairwise-salt file is the salt.
func TestLoadDirSalt(t *testing.T) {
	dir := writeDir(t)
	edit(t, dir, filepath.Join(ClientsDir, "a.json"), func(m map[string]any) {
		m["subject_type"] = SubjectPairwise
		m["sector_identifier_uri"] = "https://app.example.com/uris.json"
	})
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "no pairwise salt") {
		t.Fatalf("pairwise client without a salt: %v", err)
	}
	salt := bytes.Repeat([]byte{1}, 40)
	if err := os.WriteFile(filepath.Join(dir, PairwiseSaltKey), salt, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadDir(dir)
	if err != nil || !bytes.Equal(s.PairwiseSalt, salt) {
		t.Fatalf("with a salt: %v", err)
	}
}
