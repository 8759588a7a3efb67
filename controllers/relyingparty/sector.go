package relyingparty

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/runtime/config"
)

// Bounds of a sectorIdentifierURI fetch: the URL is the relying party
// team's, so what the operator reads from it is small, quick and https.
const (
	sectorTimeout      = 5 * time.Second
	sectorMaxBytes     = 64 << 10
	sectorMaxRedirects = 3
	// sectorRefetch: a verified list is fetched again this often, so a
	// list that drops a redirect URI is noticed.
	sectorRefetch = time.Hour
	// sectorRetry: a failed fetch is tried again this soon.
	sectorRetry = time.Minute
)

// sectorProblem is why a sectorIdentifierURI's list cannot be used.
type sectorProblem struct {
	reason  idav1alpha1.ConditionReason
	message string
}

// sectorCheck is one fetch of a sectorIdentifierURI, kept until it is due
// again.
type sectorCheck struct {
	key     string // the generation and URI it was fetched for
	at      time.Time
	uris    []string
	problem *sectorProblem
}

func (c sectorCheck) due(key string, now time.Time) bool {
	wait := sectorRefetch
	if c.problem != nil {
		wait = sectorRetry
	}
	return c.key != key || now.Sub(c.at) >= wait || now.Before(c.at)
}

// decideSector decides SectorReady for a registration (OIDC Core §8.1,
// OIDC Registration §5): its sectorIdentifierURI, when set, was fetched
// and lists every redirect URI; a pairwise client has one sector.
//
// verified says the list was checked for this very spec before (SectorReady
// True at this generation). A refetch that cannot reach the list then
// keeps that verdict, so an outage of the relying party's web server, or
// an operator restart during one, does not unregister its client; a list
// that answers wrongly still does.
func decideSector(reg *config.Client, p *config.Provider, fetched *sectorCheck, verified bool) conditions.Outcome {
	if reg.SectorIdentifierURI != "" {
		if fetched == nil {
			return conditions.False(idav1alpha1.ReasonPending, "spec.sectorIdentifierURI is not fetched yet")
		}
		if pr := fetched.problem; pr != nil && !(verified && pr.reason == idav1alpha1.ReasonSectorIdentifierUnreachable) {
			return conditions.False(pr.reason, pr.message)
		}
		if pr := fetched.problem; pr != nil {
			sector, _ := p.PairwiseSector(reg)
			return conditions.True(idav1alpha1.ReasonSectorResolved, fmt.Sprintf(
				"subjects are pairwise for the sector %s, as verified before; the latest check failed: %s", sector, pr.message))
		}
		if missing := missingRedirectURIs(fetched.uris, reg.RedirectURIs); len(missing) > 0 {
			return conditions.False(idav1alpha1.ReasonSectorIdentifierMismatch, fmt.Sprintf(
				"%s does not list the redirect URIs %s: add them to it, or remove them from spec.redirectURIs (OIDC Registration §5)",
				reg.SectorIdentifierURI, strings.Join(missing, ", ")))
		}
	}
	sector, err := p.PairwiseSector(reg)
	switch {
	case err != nil:
		return conditions.False(idav1alpha1.ReasonSectorAmbiguous, "spec.sectorIdentifierURI: "+err.Error())
	case sector == "":
		return conditions.True(idav1alpha1.ReasonSectorResolved, "subjects are public: the client receives the provider's id of each person")
	}
	return conditions.True(idav1alpha1.ReasonSectorResolved, fmt.Sprintf("subjects are pairwise for the sector %s", sector))
}

// missingRedirectURIs are the redirect URIs the list lacks, compared as
// strings, as the redirect URIs themselves are.
func missingRedirectURIs(list, redirectURIs []string) []string {
	var missing []string
	for _, r := range redirectURIs {
		if !slices.Contains(list, r) {
			missing = append(missing, r)
		}
	}
	return missing
}

// parseSectorList reads a sectorIdentifierURI's body: a JSON array of
// absolute URLs.
func parseSectorList(body []byte) ([]string, error) {
	var list []string
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, errors.New("is not a JSON array of strings")
	}
	for i, s := range list {
		if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
			return nil, fmt.Errorf("holds %d. element, which is not an absolute URL", i+1)
		}
	}
	return list, nil
}

// fetchSector GETs a sectorIdentifierURI with hc and reads its list; any
// failure is a problem with the reason a person acts on. The body never
// enters a message: it is someone else's content.
func fetchSector(ctx context.Context, hc *http.Client, uri string) sectorCheck {
	unreachable := func(format string, args ...any) sectorCheck {
		return sectorCheck{problem: &sectorProblem{idav1alpha1.ReasonSectorIdentifierUnreachable,
			fmt.Sprintf("fetching %s: %s; the operator retries every minute", uri, fmt.Sprintf(format, args...))}}
	}
	invalid := func(detail string) sectorCheck {
		return sectorCheck{problem: &sectorProblem{idav1alpha1.ReasonSectorIdentifierInvalid,
			fmt.Sprintf("%s %s: serve a JSON array of the redirect URIs there (OIDC Registration §5)", uri, detail)}}
	}
	ctx, cancel := context.WithTimeout(ctx, sectorTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return unreachable("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return unreachable("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return unreachable("the server answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, sectorMaxBytes+1))
	if err != nil {
		return unreachable("reading the answer: %v", err)
	}
	if len(body) > sectorMaxBytes {
		return invalid(fmt.Sprintf("is larger than %d KiB", sectorMaxBytes>>10))
	}
	list, err := parseSectorList(body)
	if err != nil {
		return invalid(err.Error())
	}
	return sectorCheck{uris: list}
}

// sectorHTTPClient follows at most a few redirects, each to https, within
// sectorTimeout, verifying servers with roots (nil: the system's).
func sectorHTTPClient(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	tr.ResponseHeaderTimeout = sectorTimeout
	return &http.Client{
		Transport: tr,
		Timeout:   sectorTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > sectorMaxRedirects {
				return fmt.Errorf("more than %d redirects", sectorMaxRedirects)
			}
			if req.URL.Scheme != "https" {
				return fmt.Errorf("redirected to %s, which is not https", req.URL.Redacted())
			}
			return nil
		},
	}
}

// sector decides SectorReady for rp, fetching its sectorIdentifierURI when
// the spec changed or the last fetch is due; requeue is when to look
// again (zero: no need).
func (r *Reconciler) sector(ctx context.Context, rp *idav1alpha1.RelyingParty, p *config.Provider) (out conditions.Outcome, requeue time.Duration) {
	reg := Registration(rp, "")
	if reg.SectorIdentifierURI == "" {
		r.sectors.Delete(rp.UID)
		return decideSector(reg, p, nil, false), 0
	}
	prev := meta.FindStatusCondition(rp.Status.Conditions, string(idav1alpha1.ConditionSectorReady))
	verified := prev != nil && prev.Status == metav1.ConditionTrue && prev.ObservedGeneration == rp.Generation
	// Any spec change fetches again, so touching the spec is how a team
	// has a fixed list read at once.
	key := fmt.Sprintf("%d\n%s", rp.Generation, reg.SectorIdentifierURI)
	now := time.Now()
	var check sectorCheck
	if v, ok := r.sectors.Load(rp.UID); ok && !v.(sectorCheck).due(key, now) {
		check = v.(sectorCheck)
	} else {
		r.httpOnce.Do(func() { r.http = sectorHTTPClient(r.SectorRoots) })
		check = fetchSector(ctx, r.http, reg.SectorIdentifierURI)
		check.key, check.at = key, now
		r.sectors.Store(rp.UID, check)
	}
	requeue = sectorRefetch
	if check.problem != nil {
		requeue = sectorRetry
	}
	return decideSector(reg, p, &check, verified), requeue - now.Sub(check.at)
}
