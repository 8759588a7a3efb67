//go:build nodee2e

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/identityprovider"
	"github.com/idaop/ida-operator/controllers/relyingparty"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/users"
	"github.com/idaop/ida-operator/test/internal/rptest"
	"github.com/idaop/ida-operator/test/internal/story"
)

const (
	operatorNS     = "ida-system"
	operatorDeploy = "ida-operator-controller-manager"
	sampleNS       = "idp-demo"
	sampleName     = "demo"
	provNS         = "idp-node"
	provName       = "node"
	usersSecret    = "node-users"
	teamNS         = "team-node"
	rpName         = "webapp"

	// publishLeadTime is short so a forced rotation completes in the test.
	publishLeadTime = 3 * time.Second
	// How soon a deleted relying party must be refused by every pod.
	deleteWithin = 10 * time.Second

	claimsRequest = `{"id_token":{"verified_claims":{"verification":{"trust_framework":{"value":"uk_tfida"}},"claims":{"given_name":null,"family_name":null}}},` +
		`"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"jp_aml"}},"claims":{"given_name":null,"family_name":null,"birthdate":null,"address":null}}}}`
)

var runtimeLabels = map[string]string{"app.kubernetes.io/name": "ida-runtime", "app.kubernetes.io/instance": provName}

// TestNode runs the operator's story on a real node: pods, their security
// context, RBAC, the Service, rotation, two replicas on Redis, deletion.
func TestNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root := rptest.ProjectRoot(t)
	s := newSuite(t, ctx, root, rptest.SpecDir(t))
	rptest.RequireNodeClient(t, root)
	defer func() {
		fmt.Println("test/node phases:")
		for _, l := range s.Timings() {
			fmt.Println("  " + l)
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpPods(operatorNS)
			s.dumpPods(provNS)
		}
	})
	password := "node-" + rptest.RandomString()[:16]

	var (
		svc       *relay // the issuer: loopback relay to the Service's ClusterIP
		clusterIP string
		cb        *rptest.Callbacks
		br        *rptest.Browser
		idp       = &idav1alpha1.IdentityProvider{}
		rp        = &idav1alpha1.RelyingParty{}
		rpc       *rptest.Client
		jwksURI   string
		firstKID  string
	)

	s.Phase("operator pod Ready (config/default)", func() {
		s.waitDeployment(operatorNS, operatorDeploy, 1, 3*time.Minute)
	})

	s.Phase("apply the samples; the demo runtime Deployment Ready", func() {
		create(t, s, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sampleNS}})
		create(t, s, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: sampleNS, Name: "demo-users"},
			Data:       map[string][]byte{"users.json": story.DemoUsers(t, password)},
		})
		s.kubectl("apply", "-k", "config/samples")
		s.waitDeployment(sampleNS, sampleName, 1, 2*time.Minute)
		demo := &idav1alpha1.IdentityProvider{ObjectMeta: metav1.ObjectMeta{Namespace: sampleNS, Name: sampleName}}
		s.waitReady(demo, func() []metav1.Condition { return demo.Status.Conditions }, time.Minute)
	})

	s.Phase("a provider on the Service's address; RP Ready", func() {
		svc = startRelay(t, "")
		cb = rptest.NewCallbacks(t)
		for _, obj := range story.Tenancy(provNS, provName, teamNS, usersSecret, story.DemoUsers(t, password)) {
			create(t, s, obj)
		}
		*idp = idav1alpha1.IdentityProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: provNS, Name: provName},
			Spec: idav1alpha1.IdentityProviderSpec{
				Issuer:          svc.URL(),
				TrustFrameworks: idav1alpha1.TrustFrameworkSelection{Names: []string{"jp-oidf-ida", "jp-aml", "uk-tfida"}},
				Profiles:        []idav1alpha1.Profile{idav1alpha1.ProfileJapaneseBasic},
				Scopes:          []string{"jp_oidf_ida"},
				Signing: idav1alpha1.SigningSpec{
					Algorithms:      []idav1alpha1.SigningAlgorithm{"ES256", "PS256", "RS256"},
					RotationPeriod:  &metav1.Duration{Duration: 720 * time.Hour},
					PublishLeadTime: &metav1.Duration{Duration: publishLeadTime},
				},
				Users: idav1alpha1.UserSourceSpec{
					Type:    idav1alpha1.UserSourceBuiltin,
					Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: usersSecret}},
				},
				SessionStore: idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreMemory},
				AllowedRelyingParties: idav1alpha1.AllowedRelyingParties{Namespaces: idav1alpha1.RelyingPartyNamespaces{
					From:     idav1alpha1.NamespacesFromSelector,
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{story.AccessLabel: provName}},
				}},
				Runtime: idav1alpha1.RuntimeSpec{Replicas: ptr.To[int32](1)},
			},
		}
		create(t, s, idp)
		*rp = idav1alpha1.RelyingParty{
			ObjectMeta: metav1.ObjectMeta{Namespace: teamNS, Name: rpName},
			Spec: idav1alpha1.RelyingPartySpec{
				ProviderRef:          idav1alpha1.ProviderReference{Name: provName, Namespace: provNS},
				ClientName:           "Node test web app",
				RedirectURIs:         []string{cb.RedirectURI()},
				GrantTypes:           []idav1alpha1.GrantType{"authorization_code", "refresh_token"},
				Scopes:               []string{"openid", "profile", "offline_access", "jp_oidf_ida"},
				ClientAuthentication: idav1alpha1.ClientAuthentication{Method: idav1alpha1.ClientSecretBasic},
				VerifiedClaims: idav1alpha1.VerifiedClaimsPolicy{
					TrustFrameworks: []string{"jp_oidf_ida", "jp_aml", "uk_tfida"},
					Claims:          []idav1alpha1.ClaimName{"name", "given_name", "family_name", "birthdate", "address"},
				},
			},
		}
		create(t, s, rp)
		s.waitDeployment(provNS, identityprovider.RuntimeName(idp), 1, 2*time.Minute)
		var service corev1.Service
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: provNS, Name: identityprovider.RuntimeName(idp)}, &service); err != nil {
			t.Fatalf("the runtime's Service: %v", err)
		}
		if service.Spec.ClusterIP == "" || service.Spec.ClusterIP == corev1.ClusterIPNone || len(service.Spec.Ports) != 1 {
			t.Fatalf("the runtime's Service has ClusterIP %q and ports %v", service.Spec.ClusterIP, service.Spec.Ports)
		}
		clusterIP = net.JoinHostPort(service.Spec.ClusterIP, fmt.Sprint(service.Spec.Ports[0].Port))
		svc.target.Store(clusterIP)
		s.waitReady(idp, func() []metav1.Condition { return idp.Status.Conditions }, time.Minute)
		s.waitReady(rp, func() []metav1.Condition { return rp.Status.Conditions }, time.Minute)
		creds := secret(t, s, teamNS, rp.CredentialsSecretName())
		rpc = rptest.NewClient(idp.Spec.Issuer, string(creds.Data[relyingparty.KeyClientID]), string(creds.Data[relyingparty.KeyClientSecret]), cb.RedirectURI())
		rpc.Scope, rpc.Claims, rpc.Purpose = story.Scope, claimsRequest, story.Purpose
		// A new connection for each request, so that through the Service
		// kube-proxy picks a pod each time.
		rpc.HTTP.Transport = &http.Transport{DisableKeepAlives: true}
		jwksURI = idp.Spec.Issuer + config.PathJWKS
		// The client is known to the runtime once the token endpoint
		// authenticates it (invalid_grant for a made-up code).
		if err := eventually(ctx, 30*time.Second, func() error { return clientKnown(rpc, "") }); err != nil {
			t.Fatalf("the runtime does not know the client: %v", err)
		}
		t.Logf("issuer %s relays to the Service %s/%s at %s", idp.Spec.Issuer, provNS, service.Name, clusterIP)
	})

	s.Phase("openid-client + Chromium get verified_claims", func() {
		br = rptest.StartBrowser(t)
		tab := br.Tab(t, 2*time.Minute)
		flowCtx, cancelFlow := context.WithTimeout(ctx, time.Minute)
		defer cancelFlow()
		node := rptest.StartNodeRP(t, flowCtx, root,
			"ISSUER="+rpc.Issuer, "CLIENT_ID="+rpc.ClientID, "CLIENT_SECRET="+rpc.Secret,
			"REDIRECT_URI="+rpc.RedirectURI, "SCOPE="+story.Scope, "CLAIMS="+claimsRequest, "PURPOSE="+story.Purpose,
			"DPOP=0", "PAR=0", "NON_REPUDIATION=1", "EXPOSE_TOKENS=1")
		authz := node.Next(t, "authorize")
		got := cb.Expect(authz["state"].(string))
		if body, ok := loginPage(rpc, authz["authorization_url"].(string)); !ok {
			t.Fatalf("the authorization URL does not show the login page: %.1500s", body)
		}
		pages := rptest.Authorize(t, tab, authz["authorization_url"].(string), users.DemoUsername, password, "approve", rpc.RedirectURI)
		if !pages.LoginShown {
			t.Errorf("no login page for a browser without a session")
		}
		back := rptest.Wait(t, got, 10*time.Second)
		node.Send(t, back.String())
		res := node.Next(t, "result")
		v := rptest.NewVerifier(rpc.Issuer, jwksURI)
		idt, err := v.Verify(res["id_token"].(string), rpc.ClientID)
		if err != nil {
			t.Fatalf("the ID token from openid-client: %v", err)
		}
		firstKID = idt.KID
		if rptest.ValidateVerifiedClaims(t, s.specDir, "ID token", idt.Claims) == 0 || rptest.DatasetUnder(idt.Claims, "uk_tfida") == nil {
			t.Fatalf("the ID token has no uk_tfida verified_claims: %v", idt.Claims)
		}
		ui, _ := res["userinfo"].(map[string]any)
		if rptest.ValidateVerifiedClaims(t, s.specDir, "UserInfo", ui) == 0 || rptest.DatasetUnder(ui, "jp_aml") == nil {
			t.Fatalf("UserInfo has no jp_aml verified_claims: %v", ui)
		}
		if ui["sub"] != users.DemoSubject {
			t.Errorf("UserInfo sub = %v", ui["sub"])
		}
		if rpc.Session = rptest.SessionCookie(t, tab, rpc.Issuer); rpc.Session == nil {
			t.Fatal("the browser holds no ida_session cookie")
		}
		t.Logf("verified_claims through the Service: ID token %s kid %s, UserInfo jp_aml claims %v",
			idt.Alg, idt.KID, rptest.DatasetUnder(ui, "jp_aml")["claims"])
	})

	s.Phase("runtime pod: security context, ServiceAccount RBAC", func() {
		pods := s.pods(provNS, runtimeLabels)
		if len(pods) != 1 {
			t.Fatalf("%d runtime pods", len(pods))
		}
		p := pods[0]
		psc := p.Spec.SecurityContext
		if psc == nil || !ptr.Deref(psc.RunAsNonRoot, false) || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("pod security context %+v", psc)
		}
		c := p.Spec.Containers[0]
		csc := c.SecurityContext
		if csc == nil || !ptr.Deref(csc.ReadOnlyRootFilesystem, false) || ptr.Deref(csc.AllowPrivilegeEscalation, true) ||
			csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("container security context %+v", csc)
		}
		if c.ImagePullPolicy == corev1.PullAlways {
			t.Errorf("the runtime pulls its image always; the node has no registry")
		}
		// What the kernel says about the running process.
		pid := s.containerPID(p.Status.ContainerStatuses[0].ContainerID)
		st := procStatus(t, pid)
		uid := strings.Fields(st["Uid"])
		if len(uid) == 0 || uid[0] == "0" || slices.Contains(uid, "0") {
			t.Errorf("the runtime process runs with uids %v", uid)
		}
		for _, k := range []string{"CapEff", "CapPrm", "CapBnd", "CapAmb"} {
			if strings.Trim(st[k], "0") != "" {
				t.Errorf("the runtime process has %s %s, want none", k, st[k])
			}
		}
		if st["Seccomp"] != "2" || st["NoNewPrivs"] != "1" {
			t.Errorf("the runtime process has Seccomp %q (2 = filter) and NoNewPrivs %q", st["Seccomp"], st["NoNewPrivs"])
		}
		if opts := rootMountOptions(t, pid); !slices.Contains(strings.Split(opts, ","), "ro") {
			t.Errorf("the runtime's root filesystem is mounted %s", opts)
		}
		t.Logf("runtime pid %d: Uid %s, CapEff %s, Seccomp %s, NoNewPrivs %s, / %s", pid, st["Uid"], st["CapEff"], st["Seccomp"], st["NoNewPrivs"], rootMountOptions(t, pid))

		// Its own ServiceAccount token, as kubelet mounted it.
		tok := s.podToken(&p)
		as := rest.AnonymousClientConfig(s.cfg)
		as.BearerToken = tok
		cs, err := kubernetes.NewForConfig(as)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Secrets(provNS).List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("the runtime's token cannot list the Secrets of its own namespace: %v", err)
		}
		for _, ns := range []string{teamNS, sampleNS, "kube-system", operatorNS, ""} {
			_, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
			if !apierrors.IsForbidden(err) {
				t.Errorf("listing Secrets in namespace %q with the runtime's token: %v, want Forbidden", ns, err)
			}
		}
		if _, err := cs.CoreV1().Secrets(teamNS).Get(ctx, rp.CredentialsSecretName(), metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("reading the RP's credentials Secret with the runtime's token: %v, want Forbidden", err)
		}
	})

	s.Phase("forced key rotation reaches the running pod", func() {
		before := podSet(s.pods(provNS, runtimeLabels))
		_, ks := keySet(t, s)
		old := map[string]bool{}
		for _, k := range ks.Keys {
			old[k.ID] = true
		}
		patch := client.MergeFrom(idp.DeepCopy())
		if idp.Annotations == nil {
			idp.Annotations = map[string]string{}
		}
		idp.Annotations[idav1alpha1.AnnotationRotateKeys] = time.Now().UTC().Format(time.RFC3339Nano)
		if err := s.c.Patch(ctx, idp, patch); err != nil {
			t.Fatal(err)
		}
		var newKey config.SigningKey
		if err := eventually(ctx, 15*time.Second, func() error {
			_, ks := keySet(t, s)
			for _, k := range ks.Keys {
				if !old[k.ID] && k.Algorithm == "ES256" {
					newKey = k
					return nil
				}
			}
			return errors.New("no new ES256 key in the signing keys Secret")
		}); err != nil {
			t.Fatal(err)
		}
		v := rptest.NewVerifier(rpc.Issuer, jwksURI)
		publishedAt, err := v.WaitPublished(ctx, newKey.ID, time.Until(newKey.ActivatesAt)+15*time.Second, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("the new key %s never reached the pod's JWKS: %v", newKey.ID, err)
		}
		if !publishedAt.Before(newKey.ActivatesAt) {
			t.Errorf("the new key was published at %s, not before it activated at %s", publishedAt, newKey.ActivatesAt)
		}
		time.Sleep(time.Until(newKey.ActivatesAt) + 500*time.Millisecond)
		var idt *rptest.IDToken
		if err := eventually(ctx, 15*time.Second, func() error {
			code, r, err := rpc.CodeWithSession()
			if err != nil {
				return err
			}
			tr, err := rpc.Exchange(code, r)
			if err != nil {
				return err
			}
			if idt, err = v.Verify(tr.IDToken, rpc.ClientID); err != nil {
				return err
			}
			if idt.KID != newKey.ID {
				return fmt.Errorf("the ID token is signed by %s, not the new %s", idt.KID, newKey.ID)
			}
			return nil
		}); err != nil {
			t.Fatalf("after the rotation: %v", err)
		}
		after := podSet(s.pods(provNS, runtimeLabels))
		if !maps_equal(before, after) {
			t.Errorf("the runtime pods changed during the rotation: %v, then %v", before, after)
		}
		t.Logf("new kid %s (was %s) signs at the same pod %v, published %s ahead", newKey.ID, firstKID, after, newKey.ActivatesAt.Sub(publishedAt).Round(time.Millisecond))
	})

	s.Phase("2 replicas on Redis: a session works at either pod", func() {
		redisAddr := startRedis(t, s.env.nodeIP)
		if err := eventually(ctx, 10*time.Second, func() error {
			if err := s.c.Get(ctx, client.ObjectKeyFromObject(idp), idp); err != nil {
				return err
			}
			patch := client.MergeFrom(idp.DeepCopy())
			idp.Spec.SessionStore = idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreRedis, Redis: &idav1alpha1.RedisSpec{Address: redisAddr}}
			idp.Spec.Runtime.Replicas = ptr.To[int32](2)
			return s.c.Patch(ctx, idp, patch)
		}); err != nil {
			t.Fatal(err)
		}
		s.waitDeployment(provNS, identityprovider.RuntimeName(idp), 2, 2*time.Minute)
		s.waitReady(idp, func() []metav1.Condition { return idp.Status.Conditions }, time.Minute)
		// kube-proxy follows the new pods a moment after they are Ready.
		if err := eventually(ctx, 30*time.Second, func() error {
			for range 8 {
				if body, _ := loginPage(rpc, rpc.Issuer+config.PathDiscovery); !strings.Contains(body, "200 OK") {
					return fmt.Errorf("through the Service: %.300s", body)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		pods := s.pods(provNS, runtimeLabels)
		direct := map[string]string{} // pod name -> base URL of a relay to it
		for _, p := range pods {
			direct[p.Name] = startRelay(t, net.JoinHostPort(p.Status.PodIP, "8080")).URL()
		}
		names := sortedKeys(direct)
		// Sign in again (sessions were in memory) through the Service.
		tab := br.Tab(t, time.Minute)
		r := rpc.NewRequest("")
		got := cb.Expect(r.State)
		rptest.Authorize(t, tab, rpc.AuthorizationURL(r), users.DemoUsername, password, "approve", rpc.RedirectURI)
		back := rptest.Wait(t, got, 10*time.Second)
		code, err := rpc.CodeFrom(back, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rpc.Exchange(code, r); err != nil {
			t.Fatalf("exchanging the code through the Service: %v", err)
		}
		if rpc.Session = rptest.SessionCookie(t, tab, rpc.Issuer); rpc.Session == nil {
			t.Fatal("no ida_session cookie after signing in again")
		}
		// Each pod: a code from its session, redeemed at the other pod,
		// UserInfo back at the first.
		for i, a := range names {
			b := names[(i+1)%len(names)]
			code, r, err := rpc.At(direct[a]).CodeWithSession()
			if err != nil {
				t.Fatalf("pod %s does not know the session: %v", a, err)
			}
			tr, err := rpc.At(direct[b]).Exchange(code, r)
			if err != nil {
				t.Fatalf("a code from pod %s redeemed at pod %s: %v", a, b, err)
			}
			ui, err := rpc.At(direct[a]).UserInfo(tr.AccessToken)
			if err != nil || rptest.DatasetUnder(ui, "jp_aml") == nil {
				t.Fatalf("UserInfo at pod %s with a token from pod %s: %v %v", a, b, err, ui)
			}
		}
		// And through the Service, a new connection each time.
		for i := range 10 {
			code, r, err := rpc.CodeWithSession()
			if err == nil {
				_, err = rpc.Exchange(code, r)
			}
			if err != nil {
				t.Fatalf("request %d through the Service: %v", i, err)
			}
		}
		t.Logf("the session held at pods %v (Redis at %s) and through the Service", names, redisAddr)
	})

	s.Phase("deleting the RP: every pod refuses its client", func() {
		pods := s.pods(provNS, runtimeLabels)
		var bases []string
		for _, p := range pods {
			bases = append(bases, startRelay(t, net.JoinHostPort(p.Status.PodIP, "8080")).URL())
		}
		for _, b := range bases {
			if err := clientKnown(rpc, b); err != nil {
				t.Fatalf("before the deletion: %v", err)
			}
		}
		deleted := time.Now()
		if err := s.c.Delete(ctx, rp); err != nil {
			t.Fatal(err)
		}
		for _, b := range bases {
			err := eventually(ctx, deleteWithin, func() error {
				var oe *rptest.OAuthError
				_, err := rpc.At(b).Token(url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "redirect_uri": {rpc.RedirectURI}, "code_verifier": {rptest.RandomString()}})
				if errors.As(err, &oe) && oe.Code == "invalid_client" {
					return nil
				}
				return fmt.Errorf("the token endpoint answers %v", err)
			})
			if err != nil {
				t.Fatalf("%s still accepts the deleted client after %s: %v", b, deleteWithin, err)
			}
		}
		t.Logf("all %d pods refuse the deleted client %.2fs after the deletion", len(bases), time.Since(deleted).Seconds())
	})
}

// loginPage fetches an authorization URL without a session: it should be
// the login form; else the body says why not.
func loginPage(c *rptest.Client, u string) (string, bool) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Timeout: 10 * time.Second, Jar: jar, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(r.URL.String(), c.RedirectURI) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	resp, err := hc.Get(u)
	if err != nil {
		return err.Error(), false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%s %s Location %q: %s", resp.Request.URL, resp.Status, resp.Header.Get("Location"), b), resp.StatusCode == 200 && strings.Contains(string(b), `id="username"`)
}

// clientKnown says whether base (the issuer when empty) authenticates the
// client: a made-up code gets invalid_grant, not invalid_client.
func clientKnown(c *rptest.Client, base string) error {
	_, err := c.At(base).Token(url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "redirect_uri": {c.RedirectURI}, "code_verifier": {rptest.RandomString()}})
	var oe *rptest.OAuthError
	if errors.As(err, &oe) && oe.Code == "invalid_grant" {
		return nil
	}
	return fmt.Errorf("a made-up code at %q: %v, want invalid_grant", base, err)
}

func create(t *testing.T, s *suite, obj client.Object) {
	t.Helper()
	if err := s.c.Create(s.ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

func secret(t *testing.T, s *suite, ns, name string) *corev1.Secret {
	t.Helper()
	var sec corev1.Secret
	if err := s.c.Get(s.ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec); err != nil {
		t.Fatalf("reading Secret %s/%s: %v", ns, name, err)
	}
	return &sec
}

func keySet(t *testing.T, s *suite) (*corev1.Secret, *config.KeySet) {
	t.Helper()
	sec := secret(t, s, provNS, provName+"-signing-keys")
	ks, err := config.ParseKeySet(sec.Data[config.KeySetKey])
	if err != nil {
		t.Fatal(err)
	}
	return sec, ks
}

// podSet is pod name -> UID and restart count.
func podSet(pods []corev1.Pod) map[string]string {
	out := map[string]string{}
	for _, p := range pods {
		restarts := int32(0)
		for _, c := range p.Status.ContainerStatuses {
			restarts += c.RestartCount
		}
		out[p.Name] = fmt.Sprintf("%s/restarts=%d", p.UID, restarts)
	}
	return out
}

func maps_equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// startRedis runs redis-server on the node's address (pods reach it there)
// until the test ends; it returns host:port.
func startRedis(t *testing.T, host string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is missing: %s", rptest.DepsHint)
	}
	dir := t.TempDir()
	port := freePort(t, host)
	cmd := exec.Command(bin, "--bind", host, "--port", port, "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort(host, port)
	if err := eventually(context.Background(), 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
		t.Fatalf("redis-server on %s: %v\n%s", addr, err, b)
	}
	return addr
}
