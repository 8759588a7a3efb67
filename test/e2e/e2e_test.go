package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/relyingparty"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/manager"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store/storetest"
	"github.com/idaop/ida-operator/runtime/users"
	"github.com/idaop/ida-operator/test/internal/rptest"
	"github.com/idaop/ida-operator/test/internal/story"
)

const (
	providerNS   = "idp-e2e"
	providerName = "e2e"
	usersSecret  = "e2e-users"
	teamNS       = "team-e2e"
	rpName       = "webapp"
	team2NS      = "team-e2e-2"
	rp2Name      = "onboarded"

	// The relying party asks for uk_tfida verified claims in the ID token
	// and for jp_aml ones (nationalities included) at UserInfo.
	claimsRequest = `{
  "id_token": {"verified_claims": {
    "verification": {"trust_framework": {"value": "uk_tfida"}, "assurance_level": null},
    "claims": {"given_name": null, "family_name": null}}},
  "userinfo": {"verified_claims": {
    "verification": {"trust_framework": {"value": "jp_aml"}, "time": null, "evidence": [{"type": {"value": "document"}}]},
    "claims": {"given_name": null, "family_name": null, "birthdate": null, "address": null, "nationalities": null}}}
}`

	// publishLeadTime is short so that a rotation completes within the
	// test; rotationPeriod is long so that only the forced one happens.
	publishLeadTime = 2 * time.Second
	rotationPeriod  = 720 * time.Hour
	// How soon an onboarded or deleted relying party must take effect.
	onboardWithin = 10 * time.Second
)

// The trust framework change: jp_aml gains nationalities (offered by
// uk_tfida already, so the relying party may register for it, and the
// demo user's jp_aml dataset holds it) and phone_number, which no other
// framework offers, so discovery's lists change.
var addedClaims = []idav1alpha1.ClaimName{"nationalities", "phone_number"}

// TestEndToEnd tells the operator's whole story on a real API server, with
// a real relying party library and a real browser; see the phases.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	h := &harness{Phases: rptest.NewPhases(t, nil), t: t, ctx: ctx, rtLog: &rptest.SyncBuffer{}, password: "e2e-" + rptest.RandomString()[:16]}
	h.root = rptest.ProjectRoot(t)
	h.specDir = rptest.SpecDir(t)
	h.dir = t.TempDir()
	h.mgrLog = filepath.Join(h.dir, "manager.log")
	rptest.RequireNodeClient(t, h.root)
	h.dumpOnFailure()

	var (
		ln        net.Listener
		redisAddr string
		cb        *rptest.Callbacks
		br        *rptest.Browser
		tab       context.Context
		creds     *corev1.Secret
		rp        = &idav1alpha1.RelyingParty{}
		idp       = &idav1alpha1.IdentityProvider{}
		gc        *rptest.Client // the Go relying party, same client as openid-client
		verifier  *rptest.Verifier
		refresh   string // the latest refresh token of gc's grant
		firstKID  string
	)

	h.Phase("start control plane, Redis, Chromium", func() {
		var wg sync.WaitGroup
		var cpErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.cp, cpErr = controlplane.Start()
		}()
		redisAddr = storetest.StartRedis(t)
		cb = rptest.NewCallbacks(t)
		br = rptest.StartBrowser(t)
		tab = br.Tab(t, 3*time.Minute)
		wg.Wait()
		if cpErr != nil {
			t.Fatal(cpErr)
		}
		t.Cleanup(func() {
			if err := h.cp.Stop(); err != nil {
				t.Errorf("stopping the control plane: %v", err)
			}
		})
		var err error
		if h.c, err = client.New(h.cp.Config, client.Options{Scheme: manager.Scheme()}); err != nil {
			t.Fatal(err)
		}
		kc, err := h.cp.AdminKubeconfig()
		if err != nil {
			t.Fatal(err)
		}
		h.kubecfg = filepath.Join(h.dir, "kubeconfig")
		if err := os.WriteFile(h.kubecfg, kc, 0o600); err != nil {
			t.Fatal(err)
		}
		// The issuer's port, held until the runtime takes it over.
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		h.addr = ln.Addr().String()
		h.issuer = "http://" + h.addr
	})

	h.Phase("start the manager", func() {
		h.startManager()
		t.Cleanup(func() { _ = h.mgr.stop() })
	})

	h.Phase("create trust frameworks, provider, relying party", func() {
		objs, err := controlplane.ReadManifests(filepath.Join(h.root, "config", "trustframeworks"))
		if err != nil {
			t.Fatal(err)
		}
		objs = slices.DeleteFunc(objs, func(u *unstructured.Unstructured) bool {
			return !slices.Contains([]string{"jp-oidf-ida", "jp-aml", "uk-tfida"}, u.GetName())
		})
		if len(objs) != 3 {
			t.Fatalf("config/trustframeworks: found %d of jp-oidf-ida, jp-aml, uk-tfida", len(objs))
		}
		if err := controlplane.Apply(ctx, h.c, objs); err != nil {
			t.Fatal(err)
		}
		for _, obj := range story.Tenancy(providerNS, providerName, teamNS, usersSecret, demoUsers(t, h.password)) {
			create(t, h, obj)
		}
		*idp = idav1alpha1.IdentityProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: providerNS, Name: providerName},
			Spec: idav1alpha1.IdentityProviderSpec{
				Issuer:          h.issuer,
				TrustFrameworks: idav1alpha1.TrustFrameworkSelection{Names: []string{"jp-oidf-ida", "jp-aml", "uk-tfida"}},
				Profiles:        []idav1alpha1.Profile{idav1alpha1.ProfileJapaneseBasic},
				Scopes:          []string{"jp_oidf_ida"},
				Signing: idav1alpha1.SigningSpec{
					Algorithms:      []idav1alpha1.SigningAlgorithm{"ES256", "PS256", "RS256"},
					RotationPeriod:  &metav1.Duration{Duration: rotationPeriod},
					PublishLeadTime: &metav1.Duration{Duration: publishLeadTime},
				},
				Users: idav1alpha1.UserSourceSpec{
					Type:    idav1alpha1.UserSourceBuiltin,
					Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: usersSecret}},
				},
				SessionStore: idav1alpha1.SessionStoreSpec{
					Type:  idav1alpha1.SessionStoreRedis,
					Redis: &idav1alpha1.RedisSpec{Address: redisAddr},
				},
				AllowedRelyingParties: idav1alpha1.AllowedRelyingParties{Namespaces: idav1alpha1.RelyingPartyNamespaces{
					From:     idav1alpha1.NamespacesFromSelector,
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{story.AccessLabel: providerName}},
				}},
				Runtime: idav1alpha1.RuntimeSpec{Replicas: ptr.To[int32](1)},
			},
		}
		create(t, h, idp)
		*rp = relyingParty(teamNS, rpName, cb.RedirectURI(), true)
		create(t, h, rp)
	})

	h.Phase("runtime up, everything Ready", func() {
		// The runtime starts as soon as the operator has made the
		// Deployment, on the issuer's port.
		h.startRuntime(ln)
		t.Cleanup(h.stopRuntime)
		for _, name := range []string{"jp-oidf-ida", "jp-aml", "uk-tfida"} {
			h.waitReady(&idav1alpha1.TrustFramework{ObjectMeta: metav1.ObjectMeta{Name: name}}, 30*time.Second)
		}
		h.waitReady(idp, 45*time.Second)
		if !meta.IsStatusConditionTrue(idp.Status.Conditions, string(idav1alpha1.ConditionRuntimeAvailable)) {
			t.Fatalf("provider Ready without RuntimeAvailable: %s", summarize(idp.Status.Conditions))
		}
		h.waitReady(rp, 30*time.Second)
		if idp.Status.Issuer != h.issuer || len(idp.Status.Keys.Active) != 3 {
			t.Fatalf("provider status: issuer %q, active keys %v", idp.Status.Issuer, idp.Status.Keys.Active)
		}
		if got := idp.Status.TrustFrameworks; !reflect.DeepEqual(got, []string{"jp_aml", "jp_oidf_ida", "uk_tfida"}) {
			t.Errorf("provider status trustFrameworks = %v", got)
		}
	})

	h.Phase("read the RP's credentials Secret", func() {
		creds = h.secret(teamNS, rp.CredentialsSecretName())
		d := creds.Data
		if string(d[relyingparty.KeyClientID]) != relyingparty.ClientID(rp) || len(d[relyingparty.KeyClientSecret]) < 32 ||
			string(d[relyingparty.KeyIssuer]) != h.issuer || string(d[relyingparty.KeyDiscoveryURL]) != h.issuer+"/.well-known/openid-configuration" {
			t.Fatalf("credentials Secret %s/%s: client_id %q, issuer %q, discovery_url %q, secret of %d bytes",
				teamNS, creds.Name, d[relyingparty.KeyClientID], d[relyingparty.KeyIssuer], d[relyingparty.KeyDiscoveryURL], len(d[relyingparty.KeyClientSecret]))
		}
		if rp.Status.ClientID != string(d[relyingparty.KeyClientID]) || rp.Status.CredentialsSecretName != creds.Name {
			t.Errorf("RP status: clientID %q, credentialsSecretName %q", rp.Status.ClientID, rp.Status.CredentialsSecretName)
		}
	})

	clientID := func() string { return string(creds.Data[relyingparty.KeyClientID]) }

	h.Phase("code flow: openid-client + Chromium", func() {
		flowCtx, cancelFlow := context.WithTimeout(ctx, 45*time.Second)
		defer cancelFlow()
		node := rptest.StartNodeRP(t, flowCtx, h.root,
			"ISSUER="+h.issuer, "CLIENT_ID="+clientID(), "CLIENT_SECRET="+string(creds.Data[relyingparty.KeyClientSecret]),
			"REDIRECT_URI="+cb.RedirectURI(), "SCOPE="+story.Scope, "CLAIMS="+claimsRequest, "PURPOSE="+story.Purpose,
			"DPOP=0", "PAR=0", "NON_REPUDIATION=1", "EXPOSE_TOKENS=1")
		authz := node.Next(t, "authorize")
		got := cb.Expect(authz["state"].(string))
		pages := rptest.Authorize(t, tab, authz["authorization_url"].(string), users.DemoUsername, h.password, "approve", cb.RedirectURI())
		if !pages.LoginShown {
			t.Errorf("no login page for a browser without a session")
		}
		for _, s := range []string{story.Purpose, rp.Spec.ClientName} {
			if !strings.Contains(pages.ConsentText, s) {
				t.Errorf("the consent page does not show %q:\n%s", s, pages.ConsentText)
			}
		}
		back := rptest.Wait(t, got, 10*time.Second)
		if back.Query().Get("iss") != h.issuer {
			t.Errorf("authorization response iss = %q, want %q", back.Query().Get("iss"), h.issuer)
		}
		node.Send(t, back.String())
		res := node.Next(t, "result")
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("openid-client result:\n%s", rptest.Pretty(res))
			}
		})

		// openid-client checked the signature (non-repudiation checks);
		// check it again here against the JWKS the provider publishes.
		gc = mustOIDCClient(t, h.issuer, clientID(), string(creds.Data[relyingparty.KeyClientSecret]), cb.RedirectURI())
		verifier = rptest.NewVerifier(h.issuer, gc.Endpoints.JWKS)
		idt, err := verifier.Verify(res["id_token"].(string), clientID())
		if err != nil {
			t.Fatalf("the ID token from openid-client's flow: %v", err)
		}
		firstKID = idt.KID
		if idt.Alg != "ES256" || !slices.Contains(h.provider().Status.Keys.Active, idt.KID) {
			t.Errorf("ID token signed by %s kid %s; the provider's active keys are %v", idt.Alg, idt.KID, h.provider().Status.Keys.Active)
		}
		idc, _ := res["id_token_claims"].(map[string]any)
		if idc["sub"] != users.DemoSubject || idt.Claims["sub"] != users.DemoSubject || idc["nonce"] != authz["nonce"] {
			t.Errorf("ID token sub %v / %v, nonce %v (want %s, %v)", idc["sub"], idt.Claims["sub"], idc["nonce"], users.DemoSubject, authz["nonce"])
		}
		if rptest.ValidateVerifiedClaims(t, h.specDir, "ID token", idt.Claims) == 0 {
			t.Fatalf("the ID token has no verified_claims: %v", idt.Claims)
		}
		checkDataset(t, "ID token", idt.Claims, "uk_tfida", demoDataset(t, h.password, "uk_tfida"), "given_name", "family_name")

		ui, _ := res["userinfo"].(map[string]any)
		if ui["sub"] != users.DemoSubject {
			t.Errorf("UserInfo sub = %v", ui["sub"])
		}
		if rptest.ValidateVerifiedClaims(t, h.specDir, "UserInfo", ui) == 0 {
			t.Fatalf("UserInfo has no verified_claims: %v", ui)
		}
		jp := checkDataset(t, "UserInfo", ui, "jp_aml", demoDataset(t, h.password, "jp_aml"), "given_name", "family_name", "birthdate", "address")
		if c, _ := jp["claims"].(map[string]any); c["nationalities"] != nil {
			t.Errorf("UserInfo released nationalities under jp_aml, which does not list it yet: %v", c)
		}
		if v, _ := jp["verification"].(map[string]any); v["time"] == nil || v["evidence"] == nil {
			t.Errorf("UserInfo jp_aml verification lacks the requested time and evidence: %v", v)
		}
		refresh, _ = res["refresh_token"].(string)
		if refresh == "" {
			t.Fatalf("no refresh token for scope %q", story.Scope)
		}

		// The browser's session, for the Go client.
		if gc.Session = rptest.SessionCookie(t, tab, h.issuer); gc.Session == nil {
			t.Fatalf("the browser holds no ida_session cookie for %s", h.issuer)
		}
		gc.Scope, gc.Claims, gc.Purpose = story.Scope, claimsRequest, story.Purpose
		t.Logf("signed in through Chromium; ID token %s kid %s; UserInfo jp_aml claims %v", idt.Alg, idt.KID, jp["claims"])
	})

	h.Phase("key rotation under load", func() {
		_, before := h.keySet()
		oldKIDs := map[string]bool{}
		for _, k := range before.Keys {
			oldKIDs[k.ID] = true
		}
		load := startLoad(gc, verifier, clientID(), refresh)
		time.Sleep(500 * time.Millisecond) // a few tokens under the old key first

		requested := time.Now()
		patch := client.MergeFrom(idp.DeepCopy())
		if idp.Annotations == nil {
			idp.Annotations = map[string]string{}
		}
		idp.Annotations[idav1alpha1.AnnotationRotateKeys] = requested.UTC().Format(time.RFC3339Nano)
		if err := h.c.Patch(ctx, idp, patch); err != nil {
			t.Fatal(err)
		}

		// The new ES256 key: in the Secret, published, signing later.
		var newKey config.SigningKey
		err := eventually(ctx, 10*time.Second, func() error {
			_, ks := h.keySet()
			for _, k := range ks.Keys {
				if !oldKIDs[k.ID] && k.Algorithm == "ES256" {
					newKey = k
					return nil
				}
			}
			return errors.New("no new ES256 key in the signing keys Secret")
		})
		if err != nil {
			load.stop()
			t.Fatalf("after the %s annotation: %v", idav1alpha1.AnnotationRotateKeys, err)
		}
		// Published ahead: a relying party that refreshes its JWKS cache
		// during the lead time knows the key before it signs anything.
		jwks := rptest.NewVerifier(h.issuer, gc.Endpoints.JWKS) // not the load's: its cache must stay old
		publishedAt, err := jwks.WaitPublished(ctx, newKey.ID, time.Until(newKey.ActivatesAt)+5*time.Second, 100*time.Millisecond)
		if err != nil {
			t.Errorf("the new key %s is not published: %v", newKey.ID, err)
		} else if !publishedAt.Before(newKey.ActivatesAt) {
			t.Errorf("the new key %s was published at %s, not before it started signing at %s",
				newKey.ID, publishedAt.Format(time.RFC3339Nano), newKey.ActivatesAt.Format(time.RFC3339Nano))
		}
		lead := newKey.ActivatesAt.Sub(requested)
		if lead < publishLeadTime-time.Second || lead > publishLeadTime+5*time.Second {
			t.Errorf("the new key %s activates %s after the request; want about the publish lead time %s", newKey.ID, lead, publishLeadTime)
		}

		// Wait until the load sees the new key sign, then a little more.
		err = eventually(ctx, time.Until(newKey.ActivatesAt)+15*time.Second, func() error {
			if load.firstSeen(newKey.ID).IsZero() {
				return fmt.Errorf("no ID token signed by %s yet", newKey.ID)
			}
			return nil
		})
		time.Sleep(700 * time.Millisecond)
		tokens := load.stop()
		for i, f := range load.failures {
			if i == 10 {
				t.Errorf("... %d failures in all", len(load.failures))
				break
			}
			t.Errorf("during the rotation: %s", f)
		}
		if err != nil {
			t.Fatalf("the new key %s (activates %s) never signed a verified ID token: %v", newKey.ID, newKey.ActivatesAt.Format(time.RFC3339Nano), err)
		}
		refresh = load.refresh
		perKID := map[string]int{}
		for _, tok := range tokens {
			perKID[tok.kid]++
			if tok.kid == newKey.ID && (tok.iat < newKey.ActivatesAt.Unix() || tok.at.Before(newKey.ActivatesAt)) {
				t.Errorf("an ID token issued at %d is signed by %s, which activates at %s: before the publish lead time ended",
					tok.iat, newKey.ID, newKey.ActivatesAt.Format(time.RFC3339))
			}
			if tok.kid == firstKID && tok.at.After(newKey.ActivatesAt.Add(2*time.Second)) {
				t.Errorf("the old key %s still signed at %s, after %s took over at %s", firstKID, tok.at.Format(time.RFC3339Nano), newKey.ID, newKey.ActivatesAt.Format(time.RFC3339Nano))
			}
		}
		if perKID[firstKID] == 0 || perKID[newKey.ID] == 0 || len(tokens) < 10 {
			t.Errorf("tokens per kid %v (%d in all): want both the old %s and the new %s, and at least 10", perKID, len(tokens), firstKID, newKey.ID)
		}
		first := load.firstSeen(newKey.ID)
		t.Logf("rotation: %d ID tokens verified, per kid %v, %d verification failures; the load's JWKS fetched %d times in all; new kid %s published %.2fs, signing %.2fs and first seen in an ID token %.2fs after the request",
			len(tokens), perKID, len(load.failures), verifier.Fetches(), newKey.ID, publishedAt.Sub(requested).Seconds(), lead.Seconds(), first.Sub(requested).Seconds())

		// The status follows: the new key is active and published.
		err = eventually(ctx, 10*time.Second, func() error {
			st := h.provider().Status.Keys
			if !slices.Contains(st.Active, newKey.ID) || !slices.Contains(st.Published, firstKID) {
				return fmt.Errorf("status.keys active %v, published %v", st.Active, st.Published)
			}
			return nil
		})
		if err != nil {
			t.Errorf("provider status after the rotation: %v", err)
		}
		firstKID = newKey.ID
	})

	h.Phase("onboard a second RP, use it, delete it", func() {
		t0 := time.Now()
		create(t, h, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: team2NS, Labels: map[string]string{story.AccessLabel: providerName}}})
		rp2 := relyingParty(team2NS, rp2Name, cb.RedirectURI(), false)
		create(t, h, &rp2)
		h.waitReady(&rp2, onboardWithin)
		ready := time.Since(t0)
		c2 := h.secret(team2NS, rp2.CredentialsSecretName())
		gc2 := mustOIDCClient(t, h.issuer, string(c2.Data[relyingparty.KeyClientID]), string(c2.Data[relyingparty.KeyClientSecret]), cb.RedirectURI())
		gc2.Scope, gc2.Purpose = "openid profile", "To check your age"
		// Usable: the provider accepts its pushed authorization request.
		var authURL string
		var p *rptest.AuthRequest
		err := eventually(ctx, onboardWithin-time.Since(t0), func() error {
			p = gc2.NewRequest("")
			var err error
			authURL, err = gc2.PAR(p)
			return err
		})
		if err != nil {
			t.Fatalf("the onboarded RP's client is not usable %s after its creation: %v", time.Since(t0), err)
		}
		usable := time.Since(t0)
		// The signed-in user only consents (no login: the session is
		// shared), and the code buys tokens.
		got := cb.Expect(p.State)
		pages := rptest.Authorize(t, tab, authURL, users.DemoUsername, h.password, "approve", cb.RedirectURI())
		if pages.LoginShown {
			t.Errorf("the provider asked a signed-in user to sign in again for the second RP")
		}
		back := rptest.Wait(t, got, 10*time.Second)
		tr, err := gc2.Exchange(back.Query().Get("code"), p)
		if err != nil {
			t.Fatalf("the onboarded RP's code exchange: %v", err)
		}
		if _, err := verifier.Verify(tr.IDToken, gc2.ClientID); err != nil {
			t.Fatalf("the onboarded RP's ID token: %v", err)
		}
		used := time.Since(t0)
		t.Logf("onboarding %s/%s: Ready after %.2fs, its client accepted by the provider after %.2fs, tokens after %.2fs (with a browser consent)",
			team2NS, rp2Name, ready.Seconds(), usable.Seconds(), used.Seconds())

		// Deleted: the client is refused within seconds.
		regName := relyingparty.RegistrationName(&rp2)
		if _, ok := h.registrations()[regName]; !ok {
			t.Errorf("no registration Secret %s for the onboarded RP", regName)
		}
		t1 := time.Now()
		if err := h.c.Delete(ctx, &rp2); err != nil {
			t.Fatal(err)
		}
		err = eventually(ctx, onboardWithin, func() error {
			_, err := gc2.Exchange("not-a-code", gc2.NewRequest(""))
			var oe *rptest.OAuthError
			if errors.As(err, &oe) && oe.Code == "invalid_client" {
				return nil
			}
			return fmt.Errorf("the token endpoint still answers the deleted client with %v", err)
		})
		if err != nil {
			t.Fatalf("%s after deleting the RP: %v", time.Since(t1), err)
		}
		refused := time.Since(t1)
		if _, err := gc2.PAR(gc2.NewRequest("")); err == nil {
			t.Errorf("PAR accepted the deleted client")
		}
		err = eventually(ctx, 5*time.Second, func() error {
			if _, ok := h.registrations()[regName]; ok {
				return errors.New("its registration Secret is still there")
			}
			if err := h.c.Get(ctx, client.ObjectKeyFromObject(&rp2), &idav1alpha1.RelyingParty{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("the RelyingParty is still there (%v)", err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("after deleting the RP: %v", err)
		}
		// The first RP is unaffected.
		if tr, err := gc.Refresh(refresh); err != nil {
			t.Errorf("the first RP after the second one's deletion: %v", err)
		} else {
			refresh = tr.RefreshToken
		}
		t.Logf("deletion: client refused (invalid_client) %.2fs after the delete", refused.Seconds())
	})

	h.Phase("change a trust framework", func() {
		doc, err := h.discovery()
		if err != nil {
			t.Fatal(err)
		}
		if hasString(doc["claims_in_verified_claims_supported"], "phone_number") {
			t.Fatalf("discovery offers phone_number in verified_claims before the change")
		}
		var tf idav1alpha1.TrustFramework
		if err := h.c.Get(ctx, client.ObjectKey{Name: "jp-aml"}, &tf); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(tf.DeepCopy())
		tf.Spec.Claims = append(tf.Spec.Claims, addedClaims...)
		t0 := time.Now()
		if err := h.c.Patch(ctx, &tf, patch); err != nil {
			t.Fatal(err)
		}
		err = eventually(ctx, 15*time.Second, func() error {
			doc, err := h.discovery()
			if err != nil {
				return err
			}
			for _, c := range []string{"claims_in_verified_claims_supported", "claims_supported"} {
				if !hasString(doc[c], "phone_number") {
					return fmt.Errorf("discovery %s = %v", c, doc[c])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("discovery did not follow the trust framework change: %v", err)
		}
		followed := time.Since(t0)
		// The next UserInfo: a refresh grant, then UserInfo.
		tr, err := gc.Refresh(refresh)
		if err != nil {
			t.Fatalf("refresh after the change: %v", err)
		}
		refresh = tr.RefreshToken
		ui, err := gc.UserInfo(tr.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		rptest.ValidateVerifiedClaims(t, h.specDir, "UserInfo after the change", ui)
		jp := checkDataset(t, "UserInfo after the change", ui, "jp_aml", demoDataset(t, h.password, "jp_aml"), "given_name", "family_name", "birthdate", "address", "nationalities")
		h.waitReady(&tf, 10*time.Second)
		t.Logf("trust framework jp-aml +%v: discovery followed in %.2fs; UserInfo jp_aml claims now %v", addedClaims, followed.Seconds(), jp["claims"])
	})

	h.Phase("restart the manager and the runtime", func() {
		keysBefore, ksBefore := h.keySet()
		regsBefore := h.registrations()
		credsBefore := h.secret(teamNS, rp.CredentialsSecretName())
		jwksBefore, err := verifier.FetchKIDs()
		if err != nil {
			t.Fatal(err)
		}
		if len(regsBefore) != 1 {
			t.Errorf("registration Secrets before the restart: %v, want the first RP's only", slices.Collect(maps.Keys(regsBefore)))
		}

		down := time.Now()
		h.stopRuntime()
		// The provider's status follows the runtime's own readiness.
		err = eventually(ctx, 10*time.Second, func() error {
			if cond := meta.FindStatusCondition(h.provider().Status.Conditions, string(idav1alpha1.ConditionRuntimeAvailable)); cond == nil || cond.Status != metav1.ConditionFalse {
				return fmt.Errorf("RuntimeAvailable = %v", cond)
			}
			return nil
		})
		if err != nil {
			t.Errorf("with the runtime stopped: %v", err)
		}
		h.stopManager()
		if _, err := h.discovery(); err == nil {
			t.Fatalf("the runtime still answers after it was stopped")
		}
		stopped := time.Since(down)

		h.startManager()
		h.startRuntime(nil)
		idp := &idav1alpha1.IdentityProvider{ObjectMeta: metav1.ObjectMeta{Namespace: providerNS, Name: providerName}}
		err = eventually(ctx, 30*time.Second, func() error {
			if err := h.managerAlive(); err != nil {
				return err
			}
			idp = h.provider()
			if !meta.IsStatusConditionTrue(idp.Status.Conditions, string(idav1alpha1.ConditionReady)) ||
				!meta.IsStatusConditionTrue(idp.Status.Conditions, string(idav1alpha1.ConditionRuntimeAvailable)) {
				return fmt.Errorf("provider: %s", summarize(idp.Status.Conditions))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("after the restart: %v", err)
		}
		h.waitReady(rp, 10*time.Second)
		// Let the new manager's first pass over every object finish.
		time.Sleep(2 * time.Second)
		back := time.Since(down)

		keysAfter, ksAfter := h.keySet()
		if keysAfter.ResourceVersion != keysBefore.ResourceVersion || !reflect.DeepEqual(keysAfter.Data, keysBefore.Data) {
			t.Errorf("the signing keys Secret changed across the restart (resourceVersion %s -> %s): %v -> %v",
				keysBefore.ResourceVersion, keysAfter.ResourceVersion, kids(ksBefore), kids(ksAfter))
		}
		jwksAfter, err := verifier.FetchKIDs()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(jwksBefore, jwksAfter) {
			t.Errorf("the published JWKS changed across the restart: %v -> %v", jwksBefore, jwksAfter)
		}
		regsAfter := h.registrations()
		for name, before := range regsBefore {
			after, ok := regsAfter[name]
			switch {
			case !ok:
				t.Errorf("registration Secret %s lost in the restart", name)
			case after.ResourceVersion != before.ResourceVersion || !reflect.DeepEqual(after.Data, before.Data):
				t.Errorf("registration Secret %s rewritten in the restart (resourceVersion %s -> %s)", name, before.ResourceVersion, after.ResourceVersion)
			}
		}
		if len(regsAfter) != len(regsBefore) {
			t.Errorf("registration Secrets: %d before the restart, %d after", len(regsBefore), len(regsAfter))
		}
		credsAfter := h.secret(teamNS, rp.CredentialsSecretName())
		if credsAfter.ResourceVersion != credsBefore.ResourceVersion || !reflect.DeepEqual(credsAfter.Data, credsBefore.Data) {
			t.Errorf("the RP's credentials Secret changed in the restart (resourceVersion %s -> %s)", credsBefore.ResourceVersion, credsAfter.ResourceVersion)
		}

		// The signed-in user's session lives in Redis: a code without login.
		code, p, err := gc.CodeWithSession()
		if err != nil {
			t.Fatalf("authorization with the session cookie from before the restart (prompt=none): %v", err)
		}
		tr, err := gc.Exchange(code, p)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := verifier.Verify(tr.IDToken, clientID())
		if err != nil {
			t.Fatalf("ID token after the restart: %v", err)
		}
		if idt.KID != firstKID {
			t.Errorf("after the restart the ID token is signed by %s, want %s (the key active before)", idt.KID, firstKID)
		}
		// And the refresh token from before the restart still works.
		if _, err := gc.Refresh(refresh); err != nil {
			t.Errorf("the refresh token from before the restart: %v", err)
		}
		t.Logf("restart: down %.2fs, back Ready %.2fs after the stop; keys %v unchanged, %d registration(s) unchanged, session kept",
			stopped.Seconds(), back.Seconds(), jwksAfter, len(regsAfter))
	})

	t.Logf("phase timings (total %.2fs):\n  %s", time.Since(start).Seconds(), strings.Join(h.Timings(), "\n  "))
}

func create(t *testing.T, h *harness, obj client.Object) {
	t.Helper()
	if err := h.c.Create(h.ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// relyingParty is a confidential web client; the first one may refresh and
// ask for verified claims under the three frameworks.
func relyingParty(ns, name, redirectURI string, full bool) idav1alpha1.RelyingParty {
	rp := idav1alpha1.RelyingParty{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: idav1alpha1.RelyingPartySpec{
			ProviderRef:          idav1alpha1.ProviderReference{Name: providerName, Namespace: providerNS},
			ClientName:           "E2E " + name + " of " + ns,
			RedirectURIs:         []string{redirectURI},
			GrantTypes:           []idav1alpha1.GrantType{"authorization_code"},
			Scopes:               []string{"openid", "profile"},
			ClientAuthentication: idav1alpha1.ClientAuthentication{Method: idav1alpha1.ClientSecretBasic},
			VerifiedClaims: idav1alpha1.VerifiedClaimsPolicy{
				TrustFrameworks: []string{"jp_aml"},
				Claims:          []idav1alpha1.ClaimName{"given_name", "family_name"},
			},
		},
	}
	if full {
		rp.Spec.GrantTypes = append(rp.Spec.GrantTypes, "refresh_token")
		rp.Spec.Scopes = append(rp.Spec.Scopes, "offline_access", "jp_oidf_ida")
		rp.Spec.VerifiedClaims = idav1alpha1.VerifiedClaimsPolicy{
			TrustFrameworks: []string{"jp_oidf_ida", "jp_aml", "uk_tfida"},
			Claims:          []idav1alpha1.ClaimName{"name", "given_name", "family_name", "birthdate", "address", "nationalities"},
		}
	}
	return rp
}

// demoUsers is users.DemoUsers with nationalities added to the jp_aml
// dataset, which jp_aml releases only once the trust framework lists it.
func demoUsers(t *testing.T, password string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(story.DemoUsers(t, password), &doc); err != nil {
		t.Fatal(err)
	}
	u := doc["users"].([]any)[0].(map[string]any)
	found := false
	for _, d := range u["verified_claims"].([]any) {
		d := d.(map[string]any)
		if d["verification"].(map[string]any)["trust_framework"] == "jp_aml" {
			d["claims"].(map[string]any)["nationalities"] = []any{"JP"}
			found = true
		}
	}
	if !found {
		t.Fatal("users.DemoUsers has no jp_aml dataset")
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// demoDataset is the demo user's dataset under tf, as stored.
func demoDataset(t *testing.T, password, tf string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(demoUsers(t, password), &doc); err != nil {
		t.Fatal(err)
	}
	u := doc["users"].([]any)[0].(map[string]any)
	d := rptest.DatasetUnder(u, tf)
	if d == nil {
		t.Fatalf("the demo user has no %s dataset", tf)
	}
	return d
}

// checkDataset finds the dataset under tf in a response and checks that
// each of names equals the demo user's stored value.
func checkDataset(t *testing.T, where string, resp map[string]any, tf string, want map[string]any, names ...string) map[string]any {
	t.Helper()
	d := rptest.DatasetUnder(resp, tf)
	if d == nil {
		t.Fatalf("%s has no %s verified_claims: %s", where, tf, rptest.Pretty(resp["verified_claims"]))
	}
	got, _ := d["claims"].(map[string]any)
	wantClaims, _ := want["claims"].(map[string]any)
	for _, n := range names {
		if wantClaims[n] == nil {
			t.Fatalf("the demo user's %s dataset has no %s", tf, n)
		}
		if !reflect.DeepEqual(got[n], wantClaims[n]) {
			t.Errorf("%s %s %s = %v, want the demo user's %v", where, tf, n, got[n], wantClaims[n])
		}
	}
	return d
}

func kids(ks *config.KeySet) []string {
	var out []string
	for _, k := range ks.Keys {
		out = append(out, k.ID)
	}
	return out
}

func mustOIDCClient(t *testing.T, issuer, id, secret, redirectURI string) *rptest.Client {
	t.Helper()
	c := rptest.NewClient(issuer, id, secret, redirectURI)
	if err := c.Discover(); err != nil {
		t.Fatalf("discovery for client %s: %v", id, err)
	}
	return c
}
