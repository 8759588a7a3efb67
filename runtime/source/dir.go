package source

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

// DefaultPoll is how often a directory is checked when NewDir gets no
// interval.
const DefaultPoll = time.Second

// NewDir watches the config.LoadDir layout in dir (provider.json,
// keys.json, clients/*.json) plus an optional users.json, every poll.
//
// It compares content hashes rather than watching file events: a
// Kubernetes volume swaps a ..data symlink, which inotify reports on the
// link and not on the files, and polling a few small files costs nothing.
func NewDir(dir string, poll time.Duration) Source {
	if poll <= 0 {
		poll = DefaultPoll
	}
	return &dirSource{dir: dir, poll: poll}
}

type dirSource struct {
	dir  string
	poll time.Duration
}

func (d *dirSource) Run(ctx context.Context, updates chan<- Update) error {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	var last [32]byte
	sent := false
	for {
		before := d.fingerprint()
		if !sent || before != last {
			u := d.load()
			// A volume update that lands while LoadDir reads could mix old
			// and new files; only a state that held still is delivered,
			// otherwise the next tick tries again.
			if d.fingerprint() == before {
				if !send(ctx, updates, u) {
					return nil
				}
				last, sent = before, true
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (d *dirSource) load() Update {
	s, err := config.LoadDir(d.dir)
	if err != nil {
		return Update{Err: err}
	}
	users, err := os.ReadFile(filepath.Join(d.dir, UsersKey))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		users = nil
	case err != nil:
		return Update{Err: err}
	}
	return Update{Snapshot: s, Users: users}
}

// fingerprint covers every file LoadDir and load read, following symlinks
// as they do. A file that cannot be read counts by its error, so it
// changes the fingerprint when it appears or recovers.
func (d *dirSource) fingerprint() [32]byte {
	f := newFingerprint()
	file := func(name string) {
		data, err := os.ReadFile(filepath.Join(d.dir, name))
		if err != nil {
			f.add(name, []byte(err.Error()), false)
			return
		}
		f.add(name, data, true)
	}
	file(config.ProviderConfigKey)
	file(config.KeySetKey)
	file(UsersKey)
	file(config.PairwiseSaltKey)
	clients, _ := filepath.Glob(filepath.Join(d.dir, config.ClientsDir, "*.json"))
	sort.Strings(clients)
	for _, c := range clients {
		rel, _ := filepath.Rel(d.dir, c)
		file(rel)
	}
	return f.sum()
}
