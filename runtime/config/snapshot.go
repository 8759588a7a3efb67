package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Snapshot is one consistent view of everything the runtime serves from.
// The runtime swaps whole snapshots, so a request never sees a provider
// from one version and keys from another.
type Snapshot struct {
	Provider *Provider
	Keys     *KeySet
	// Clients by client_id.
	Clients map[string]*Client
	// PairwiseSalt keys the pairwise subjects' HMAC; nil when the
	// provider has none, and then no client is pairwise.
	PairwiseSalt []byte
}

// LoadDir reads the --config-dir layout: provider.json, keys.json,
// clients/*.json (the clients directory may be absent) and an optional
// pairwise-salt. Every error names
// the file it came from. A ConfigMap or Secret mounted as a volume has this
// shape already, its symlinks included.
func LoadDir(dir string) (*Snapshot, error) {
	s := &Snapshot{Clients: map[string]*Client{}}
	var err error
	if s.Provider, err = loadFile(filepath.Join(dir, ProviderConfigKey), ParseProvider); err != nil {
		return nil, err
	}
	keysPath := filepath.Join(dir, KeySetKey)
	if s.Keys, err = loadFile(keysPath, ParseKeySet); err != nil {
		return nil, err
	}
	if err := s.checkKeys(); err != nil {
		return nil, fmt.Errorf("%s: %w", keysPath, err)
	}

	saltPath := filepath.Join(dir, PairwiseSaltKey)
	switch salt, err := os.ReadFile(saltPath); {
	case err == nil:
		s.PairwiseSalt = salt
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := s.checkSalt(); err != nil {
		return nil, fmt.Errorf("%s: %w", saltPath, err)
	}

	files, err := filepath.Glob(filepath.Join(dir, ClientsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	from := map[string]string{}
	for _, f := range files {
		c, err := loadFile(f, ParseClient)
		if err != nil {
			return nil, err
		}
		if err := AsError(s.Provider.CheckClient(c)); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if err := s.CheckSubject(c); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if prev, dup := from[c.ClientID]; dup {
			return nil, fmt.Errorf("%s: client_id %q is already registered by %s", f, c.ClientID, prev)
		}
		from[c.ClientID] = f
		s.Clients[c.ClientID] = c
	}
	return s, nil
}

func loadFile[T any](path string, parse func([]byte) (*T, error)) (*T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// Validate checks the parts against each other: each must be valid alone,
// every signing algorithm needs a key, and every client must fit the
// provider. The runtime calls it on snapshots built from the cluster.
func (s *Snapshot) Validate() error {
	if s.Provider == nil || s.Keys == nil {
		return errors.New("snapshot needs a provider and a key set")
	}
	if err := AsError(s.Provider.Validate()); err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	if err := AsError(s.Keys.Validate()); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := s.checkKeys(); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := s.checkSalt(); err != nil {
		return err
	}
	for id, c := range s.Clients {
		if err := AsError(c.Validate()); err != nil {
			return fmt.Errorf("client %s: %w", id, err)
		}
		if c.ClientID != id {
			return fmt.Errorf("client %s: registered under client_id %q", id, c.ClientID)
		}
		if err := AsError(s.Provider.CheckClient(c)); err != nil {
			return fmt.Errorf("client %s: %w", id, err)
		}
		if err := s.CheckSubject(c); err != nil {
			return fmt.Errorf("client %s: %w", id, err)
		}
	}
	return nil
}

// checkSalt: a salt present is the recorded one; a recorded salt, or a
// provider whose default is pairwise, needs one. A runtime refusing such a
// snapshot keeps serving with the salt it has.
func (s *Snapshot) checkSalt() error {
	if s.PairwiseSalt != nil {
		return s.Provider.CheckSalt(s.PairwiseSalt)
	}
	if f := s.Provider.Subjects.SaltFingerprint; f != "" {
		return fmt.Errorf("the pairwise salt recorded as %s is missing", f)
	}
	if s.Provider.Subjects.Type == SubjectPairwise {
		return errors.New("pairwise subjects are the default and there is no pairwise salt")
	}
	return nil
}

// CheckSubject reports why c's `sub` cannot be computed: a pairwise
// client needs a sector and a salt.
func (s *Snapshot) CheckSubject(c *Client) error {
	sector, err := s.Provider.PairwiseSector(c)
	if err != nil {
		return err
	}
	if sector != "" && s.PairwiseSalt == nil {
		return errors.New("its subjects are pairwise and there is no pairwise salt")
	}
	return nil
}

// checkKeys needs a key for every configured algorithm; whether one is
// active is a question of time the runtime answers with Signer.
func (s *Snapshot) checkKeys() error {
	var errs []error
	for _, alg := range s.Provider.SigningAlgorithms {
		if !slices.ContainsFunc(s.Keys.Keys, func(k SigningKey) bool { return k.Algorithm == alg }) {
			errs = append(errs, fmt.Errorf("no key for %s", alg))
		}
	}
	if s.Provider.PKCS11 == nil {
		if i := slices.IndexFunc(s.Keys.Keys, func(k SigningKey) bool { return k.InToken() }); i >= 0 {
			errs = append(errs, fmt.Errorf("key %s is in a PKCS#11 token and the provider names none", s.Keys.Keys[i].ID))
		}
	}
	return errors.Join(errs...)
}
