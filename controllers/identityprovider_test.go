package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/runtime/config"
)

// createNamespace makes a fresh namespace for one test.
func createNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// update re-reads obj, applies change and writes it, retrying conflicts.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	t.Helper()
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change(obj)
		return k8s.Update(context.Background(), obj)
	})
}

// conditioned is a kind of this API, readable with k8s.
type conditioned interface {
	client.Object
	idav1alpha1.Conditioned
}

// waitCondition waits until obj, read again, has the condition typ for its
// current generation with the status and reason, and returns what it read.
func waitCondition[T conditioned](t *testing.T, obj T, typ idav1alpha1.ConditionType, status metav1.ConditionStatus, reason idav1alpha1.ConditionReason) T {
	t.Helper()
	got := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(T) // a fresh object: nothing stale from obj
	eventually(t, 20*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.GetConditions(), string(typ))
		if c == nil || c.ObservedGeneration != got.GetGeneration() {
			return fmt.Errorf("%s not reported for generation %d", typ, got.GetGeneration())
		}
		if c.Status != status || c.Reason != string(reason) {
			return fmt.Errorf("%s is %s/%s (%s), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
		}
		return nil
	})
	return got
}

func readyFramework(t *testing.T, name, id string, claims ...idav1alpha1.ClaimName) *idav1alpha1.TrustFramework {
	t.Helper()
	tf := newTrustFramework(name, id, nil, claims...)
	create(t, tf)
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), tf) })
	eventually(t, 10*time.Second, func() error {
		_, c, err := readyCondition(context.Background(), name)
		if err == nil && c.Status != metav1.ConditionTrue {
			return fmt.Errorf("%s not Ready: %s", name, c.Message)
		}
		return err
	})
	return tf
}

func discovery(t *testing.T, ns, idpName string) map[string]any {
	t.Helper()
	var cm corev1.ConfigMap
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: idpName + "-provider"}, &cm); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(cm.Data[config.DiscoveryKey]), &doc); err != nil {
		t.Fatalf("discovery is not JSON: %v", err)
	}
	return doc
}

func stringsOf(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestProviderFirstReconcile(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-first", nil)
	readyFramework(t, "first-aml", "first_aml", "given_name", "birthdate")
	idp := newProvider("idp-first", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"first-aml"}})
	create(t, idp)

	got := waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionTrue, idav1alpha1.ReasonKeysGenerated)
	if len(got.Status.Keys.Active) != 3 || len(got.Status.Keys.Published) != 3 || got.Status.Keys.NextRotationTime == nil {
		t.Errorf("status.keys = %+v, want 3 active and published keys and a next rotation time", got.Status.Keys)
	}
	waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionTrue, idav1alpha1.ReasonRendered)
	got = waitCondition(t, idp, idav1alpha1.ConditionRuntimeAvailable, metav1.ConditionFalse, idav1alpha1.ReasonRuntimeProgressing)
	if r := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionReady); r.Status != metav1.ConditionFalse {
		t.Errorf("Ready is %s before the runtime is available", r.Status)
	}
	if got.Status.Issuer != idp.Spec.Issuer || !slices.Equal(got.Status.TrustFrameworks, []string{"first_aml"}) {
		t.Errorf("status issuer %q trust frameworks %v", got.Status.Issuer, got.Status.TrustFrameworks)
	}

	// The key Secret holds one active key per algorithm, private parts and all.
	var keys corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-first", Name: "bank-signing-keys"}, &keys); err != nil {
		t.Fatal(err)
	}
	ks, err := config.ParseKeySet(keys.Data[config.KeySetKey])
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"ES256", "PS256", "RS256"} {
		if _, ok := ks.Signer(alg, clock.Now()); !ok {
			t.Errorf("no active %s key", alg)
		}
	}
	if !metav1.IsControlledBy(&keys, got) {
		t.Error("the key Secret is not controlled by the provider")
	}

	// Discovery tells the truth about the trust frameworks.
	doc := discovery(t, "idp-first", "bank")
	if doc["issuer"] != idp.Spec.Issuer || !slices.Equal(stringsOf(doc["trust_frameworks_supported"]), []string{"first_aml"}) {
		t.Errorf("discovery issuer %v trust_frameworks_supported %v", doc["issuer"], doc["trust_frameworks_supported"])
	}
	if claims := stringsOf(doc["claims_in_verified_claims_supported"]); !slices.Contains(claims, "birthdate") {
		t.Errorf("claims_in_verified_claims_supported = %v", claims)
	}

	// The workload: least-privilege Role, hardened Deployment, Service, no PDB.
	var role rbacv1.Role
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-first", Name: "bank-runtime"}, &role); err != nil {
		t.Fatal(err)
	}
	for _, rule := range role.Rules {
		if slices.Contains(rule.Verbs, "create") || slices.Contains(rule.Verbs, "update") || slices.Contains(rule.Verbs, "*") {
			t.Errorf("runtime Role may write: %+v", rule)
		}
	}
	var dep appsv1.Deployment
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-first", Name: "bank"}, &dep); err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	psc := dep.Spec.Template.Spec.SecurityContext
	if !*psc.RunAsNonRoot || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		!*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation ||
		!slices.Equal(c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("runtime pod is not hardened: %+v %+v", psc, c.SecurityContext)
	}
	if c.Image != "ghcr.io/idaop/ida-operator:dev" || c.Args[0] != "runtime" || c.Resources.Requests.Memory().IsZero() ||
		c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Errorf("runtime container: image %s args %v resources %v", c.Image, c.Args, c.Resources)
	}
	var svc corev1.Service
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-first", Name: "bank"}, &svc); err != nil {
		t.Fatal(err)
	}
	var pdb policyv1.PodDisruptionBudget
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-first", Name: "bank"}, &pdb); !apierrors.IsNotFound(err) {
		t.Errorf("a PodDisruptionBudget exists for one replica: %v", err)
	}

	// The runtime's readiness, as the Deployment reports it, makes the provider Ready.
	dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}
	if err := k8s.Status().Update(ctx, &dep); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, idp, idav1alpha1.ConditionRuntimeAvailable, metav1.ConditionTrue, idav1alpha1.ReasonRuntimeReady)
	waitCondition(t, idp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	expectEvent(t, idp, corev1.EventTypeNormal, idav1alpha1.EventKeyCreated)

	// Steady state: no writes to anything the provider owns.
	before := resourceVersions(t, "idp-first")
	time.Sleep(3 * time.Second)
	if after := resourceVersions(t, "idp-first"); !maps.Equal(before, after) {
		t.Errorf("writes in steady state:\nbefore %v\nafter  %v", before, after)
	}
}

// resourceVersions maps every object the operator owns in ns, and the
// providers themselves, to their resourceVersion.
func resourceVersions(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lists := []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceList{}, &corev1.ServiceAccountList{},
		&appsv1.DeploymentList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{}, &idav1alpha1.IdentityProviderList{}, &idav1alpha1.RelyingPartyList{}}
	for _, l := range lists {
		if err := k8s.List(context.Background(), l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		items, _ := meta.ExtractList(l)
		for _, it := range items {
			o := it.(client.Object)
			out[fmt.Sprintf("%T/%s", o, o.GetName())] = o.GetResourceVersion()
		}
	}
	return out
}

func TestProviderKeyRotationCycle(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-rotate", nil)
	readyFramework(t, "rotate-aml", "rotate_aml", "birthdate")
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	clock.Set(t0)
	idp := newProvider("idp-rotate", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"rotate-aml"}})
	idp.Spec.Signing = idav1alpha1.SigningSpec{
		Algorithms:      []idav1alpha1.SigningAlgorithm{idav1alpha1.ES256},
		RotationPeriod:  &metav1.Duration{Duration: 10 * 24 * time.Hour},
		PublishLeadTime: &metav1.Duration{Duration: 24 * time.Hour},
	}
	idp.Spec.Tokens = idav1alpha1.TokenSpec{
		IDTokenLifetime: &metav1.Duration{Duration: 5 * time.Minute}, AccessTokenLifetime: &metav1.Duration{Duration: 10 * time.Minute},
		RefreshTokenLifetime: &metav1.Duration{Duration: 48 * time.Hour}, AuthorizationCodeLifetime: &metav1.Duration{Duration: time.Minute},
	}
	create(t, idp)

	// step moves the clock, nudges the provider so it reconciles, and
	// waits for the published and active key sets the plan must reach.
	step := func(at time.Time, wantPublished, wantActive int) ([]string, []string) {
		t.Helper()
		clock.Set(at)
		nudgeProvider(t, idp)
		var published, active []string
		eventually(t, 10*time.Second, func() error {
			var s corev1.Secret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-rotate", Name: "bank-signing-keys"}, &s); err != nil {
				return err
			}
			ks, err := config.ParseKeySet(s.Data[config.KeySetKey])
			if err != nil {
				return err
			}
			published, active = nil, nil
			for _, k := range ks.Published(at) {
				published = append(published, k.ID)
			}
			if k, ok := ks.Signer("ES256", at); ok {
				active = append(active, k.ID)
			}
			if len(published) != wantPublished || len(active) != wantActive {
				return fmt.Errorf("at %s: published %v active %v, want %d and %d", at, published, active, wantPublished, wantActive)
			}
			return nil
		})
		return published, active
	}

	_, a0 := step(t0, 1, 1)
	// Just before the lead time: nothing new.
	p1, a1 := step(t0.Add(9*24*time.Hour-time.Minute), 1, 1)
	if a1[0] != a0[0] || p1[0] != a0[0] {
		t.Fatalf("key changed before the lead time: %v -> %v", a0, a1)
	}
	// At the lead time the next key is published but does not sign.
	p2, a2 := step(t0.Add(9*24*time.Hour), 2, 1)
	if a2[0] != a0[0] {
		t.Fatalf("the new key signs before its lead time: active %v", a2)
	}
	next := p2[0]
	if next == a0[0] {
		next = p2[1]
	}
	// At the rotation the new key signs; the old one stays published.
	p3, a3 := step(t0.Add(10*24*time.Hour), 2, 1)
	if a3[0] != next || !slices.Contains(p3, a0[0]) {
		t.Fatalf("after rotation: active %v published %v, want %s active and %s still published", a3, p3, next, a0[0])
	}
	// Until every token the old key signed has expired (48h + margin).
	step(t0.Add(10*24*time.Hour+48*time.Hour), 2, 1)
	p5, _ := step(t0.Add(10*24*time.Hour+50*time.Hour), 1, 1)
	if p5[0] != next {
		t.Fatalf("after retention: published %v, want only %s", p5, next)
	}

	// Rotate now: a new key is published, and signs only after the lead time.
	now := t0.Add(13 * 24 * time.Hour)
	clock.Set(now)
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Annotations["ida.idaop.dev/rotate-keys"] = "incident-42" })
	p6, a6 := step(now, 2, 1)
	if a6[0] != next {
		t.Fatalf("rotate-now activated a key at once: %v", a6)
	}
	_, a7 := step(now.Add(24*time.Hour), 2, 1)
	if a7[0] == next || !slices.Contains(p6, a7[0]) {
		t.Fatalf("after the lead time the requested key should sign: active %v, published before %v", a7, p6)
	}
	eventually(t, 10*time.Second, func() error {
		var got idav1alpha1.IdentityProvider
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), &got); err != nil {
			return err
		}
		if !slices.Equal(got.Status.Keys.Active, a7) || len(got.Status.Keys.Published) != 2 {
			return fmt.Errorf("status.keys %+v, want active %v and two published", got.Status.Keys, a7)
		}
		return nil
	})
	clock.Set(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
}

func TestProviderFollowsTrustFrameworkChanges(t *testing.T) {
	createNamespace(t, "idp-tfchange", nil)
	tf := readyFramework(t, "change-aml", "change_aml", "birthdate")
	idp := newProvider("idp-tfchange", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"change-aml"}})
	create(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionTrue, idav1alpha1.ReasonRendered)

	update(t, tf, func(tf *idav1alpha1.TrustFramework) { tf.Spec.Claims = append(tf.Spec.Claims, "nationalities") })
	eventually(t, 10*time.Second, func() error {
		claims := stringsOf(discovery(t, "idp-tfchange", "bank")["claims_in_verified_claims_supported"])
		if !slices.Contains(claims, "nationalities") {
			return fmt.Errorf("discovery claims %v lack the new claim", claims)
		}
		return nil
	})

	// A framework that turns invalid is reported; the last good config stays.
	update(t, tf, func(tf *idav1alpha1.TrustFramework) { tf.Spec.Claims = append(tf.Spec.Claims, "customer_no") })
	got := waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionFalse, idav1alpha1.ReasonTrustFrameworkNotReady)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionConfigReady); !strings.Contains(c.Message, "change-aml") {
		t.Errorf("message does not name the framework: %s", c.Message)
	}
	if claims := stringsOf(discovery(t, "idp-tfchange", "bank")["claims_in_verified_claims_supported"]); slices.Contains(claims, "customer_no") {
		t.Errorf("an invalid framework reached discovery: %v", claims)
	}
}

func TestProviderReportsMissingTrustFramework(t *testing.T) {
	createNamespace(t, "idp-missing", nil)
	idp := newProvider("idp-missing", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"no-such-framework"}})
	create(t, idp)
	got := waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionFalse, idav1alpha1.ReasonTrustFrameworkNotFound)
	c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionReady)
	if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "no-such-framework") {
		t.Errorf("Ready does not say what to fix: %s", c.Message)
	}
}

func TestProviderRepairsDrift(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-drift", nil)
	readyFramework(t, "drift-aml", "drift_aml", "birthdate")
	idp := newProvider("idp-drift", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"drift-aml"}})
	create(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionTrue, idav1alpha1.ReasonRendered)
	original := discovery(t, "idp-drift", "bank")

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "idp-drift", Name: "bank-provider"}}
	if err := k8s.Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "idp-drift", Name: "bank"}}
	eventually(t, 5*time.Second, func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep) })
	update(t, dep, func(d *appsv1.Deployment) {
		d.Spec.Replicas = ptr.To[int32](5)
		d.Spec.Template.Spec.Containers[0].Image = "evil.example/runtime:latest"
	})
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
			return err
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		if *dep.Spec.Replicas != 1 || dep.Spec.Template.Spec.Containers[0].Image != "ghcr.io/idaop/ida-operator:dev" {
			return fmt.Errorf("deployment not restored: replicas %d image %s", *dep.Spec.Replicas, dep.Spec.Template.Spec.Containers[0].Image)
		}
		return nil
	})
	if restored := discovery(t, "idp-drift", "bank"); fmt.Sprint(restored) != fmt.Sprint(original) {
		t.Errorf("restored discovery differs:\n%v\n%v", restored, original)
	}
}

func TestProviderReplicasAndDisruptionBudget(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-ha", nil)
	readyFramework(t, "ha-aml", "ha_aml", "birthdate")
	idp := newProvider("idp-ha", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"ha-aml"}})
	idp.Spec.Runtime.Replicas = ptr.To[int32](2)
	idp.Spec.SessionStore = idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreRedis, Redis: &idav1alpha1.RedisSpec{Address: "redis.idp-ha:6379"}}
	create(t, idp)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "idp-ha", Name: "bank"}}
	eventually(t, 10*time.Second, func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(pdb), pdb) })
	if pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB minAvailable %v", pdb.Spec.MinAvailable)
	}
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Runtime.Replicas = ptr.To[int32](1) })
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pdb), pdb); !apierrors.IsNotFound(err) {
			return fmt.Errorf("PDB still present for one replica (%v)", err)
		}
		return nil
	})
}
