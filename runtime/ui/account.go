package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FieldClientID names the relying party whose consent a withdrawal form
// withdraws.
const FieldClientID = "client_id"

// AccountData fills the "your shared information" page: per relying
// party, what the person agreed to and what was released to it.
type AccountData struct {
	Lang, Action, CSRFToken, Interaction string
	// Withdrawn is the name of the relying party whose consent was just
	// withdrawn, for the confirmation; empty shows none.
	Withdrawn string
	Parties   []SharedWith
}

// SharedWith is one relying party on the account page. ClientName may be
// empty (the page shows ClientID then).
type SharedWith struct {
	ClientID, ClientName string
	// Consented: a consent is in force, given at ConsentedAt and last
	// approved at UpdatedAt (zero when that was the first time); without
	// it only past releases are shown.
	Consented              bool
	ConsentedAt, UpdatedAt time.Time
	Scopes                 []string
	Claims                 []ConsentClaim
	// Purposes are the transaction purposes shown when consenting.
	Purposes []string
	// Releases are what was released, the newest first.
	Releases []SharedRelease
}

// Name is the relying party's name, else its client_id.
func (s SharedWith) Name() string {
	if s.ClientName != "" {
		return s.ClientName
	}
	return s.ClientID
}

// SharedRelease is one release record: Count releases of the same claims
// to Target ("id_token" or "userinfo"), the last at At.
type SharedRelease struct {
	At                                time.Time
	Target                            string
	Count                             int64
	Claims, Verified, TrustFrameworks []string
}

// Account renders the account page with status 200.
func (r *Renderer) Account(w http.ResponseWriter, d AccountData) error {
	return r.render(w, "account", http.StatusOK, d.Lang, d)
}

// DateTime writes a time for people, in UTC, to the minute.
func (v *view) DateTime(t time.Time) string {
	if v.Lang == Japanese {
		return t.UTC().Format("2006年1月2日 15:04 UTC")
	}
	return t.UTC().Format("2 January 2006, 15:04 UTC")
}

// ISOTime is a time for a <time datetime> attribute.
func (v *view) ISOTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ClaimNames lists claims by their display names.
func (v *view) ClaimNames(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = v.ClaimName(n)
	}
	sep := ", "
	if v.Lang == Japanese {
		sep = "、"
	}
	return strings.Join(out, sep)
}

// ReleaseTarget says where a release went.
func (v *view) ReleaseTarget(target string) string {
	return v.T("account.target." + target)
}

// Times says how many times a release happened, empty for once.
func (v *view) Times(n int64) string {
	if n <= 1 {
		return ""
	}
	return textf(v.Lang, "account.times", strconv.FormatInt(n, 10))
}
