// Package source delivers the runtime's configuration, and every change to
// it, as whole config.Snapshots: from a directory (--config-dir) or from the
// provider's ConfigMap and Secrets in its own namespace.
//
// A source validates what it reads exactly as config.LoadDir does. When the
// new state is invalid it says so in an Update with Err set, and the
// runtime keeps serving the last good snapshot: one broken edit never takes
// a provider down.
package source

import (
	"context"
	"crypto/sha256"
	"hash"

	"github.com/idaop/ida-operator/runtime/config"
)

// UsersKey holds the builtin users, their password hashes and their
// verified claims datasets, in the users Secret and in a --config-dir.
const UsersKey = "users.json"

// Update is one delivery from a Source.
type Update struct {
	// Snapshot is the new, valid configuration; nil when Err is set.
	Snapshot *config.Snapshot
	// Users is the raw users.json of the builtin user source, nil if there
	// is none; nil too when Err is set. Parsing it is the users package's
	// business.
	Users []byte
	// Err says why the new state was refused; the receiver keeps what it
	// has and logs this.
	Err error
	// Skipped are client registrations left out of Snapshot because they
	// cannot be used; the receiver logs them. The other clients are served.
	Skipped []error
}

// Source watches one place for configuration.
type Source interface {
	// Run sends an Update when it starts and after every change, until ctx
	// is done; then it returns nil. A change that leaves the configuration
	// as it was sends nothing. Run blocks while the receiver is busy and
	// sends the latest state once it is ready, never a backlog.
	Run(ctx context.Context, updates chan<- Update) error
}

// send delivers u unless ctx ends first.
func send(ctx context.Context, updates chan<- Update, u Update) bool {
	select {
	case updates <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

// fingerprint hashes named parts of the raw input, so an unchanged state is
// recognised without parsing it. Names and lengths are written too, so no
// two different inputs run together into the same stream.
type fingerprint struct{ h hash.Hash }

func newFingerprint() fingerprint { return fingerprint{sha256.New()} }

func (f fingerprint) add(name string, data []byte, present bool) {
	var mark byte = '-'
	if present {
		mark = '+'
	}
	f.h.Write([]byte(name))
	f.h.Write([]byte{0, mark})
	var n [8]byte
	for i, l := 0, uint64(len(data)); i < 8; i++ {
		n[i] = byte(l >> (8 * i))
	}
	f.h.Write(n[:])
	f.h.Write(data)
}

func (f fingerprint) sum() [sha256.Size]byte {
	var s [sha256.Size]byte
	f.h.Sum(s[:0])
	return s
}
