package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/idaop/ida-operator/runtime/config"
)

const (
	ns       = "idp-system"
	idpName  = "idp"
	cmName   = "idp-provider"
	keysName = "idp-signing-keys"
	usersSec = "demo-users"
)

func configMap(t testing.TB) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: cmName, Labels: map[string]string{
			config.LabelProvider: idpName, config.LabelComponent: config.ComponentProviderConfig,
		}},
		Data: map[string]string{config.ProviderConfigKey: string(providerJSON(t))},
	}
}

func secret(name, component, provider, key string, data []byte) *corev1.Secret {
	labels := map[string]string{}
	if component != "" {
		labels[config.LabelComponent] = component
	}
	if provider != "" {
		labels[config.LabelProvider] = provider
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Data:       map[string][]byte{key: data},
	}
}

func keysSecret(t testing.TB) *corev1.Secret {
	return secret(keysName, config.ComponentSigningKeys, idpName, config.KeySetKey, keysJSON(t))
}

func clientSecret(t testing.TB, name, provider, clientID string) *corev1.Secret {
	return secret(name, config.ComponentClientRegistration, provider, config.ClientKey, clientJSON(t, clientID))
}

// waitWatching waits until the fake has served n watches: the fake drops
// events that happen between an informer's list and its watch.
func waitWatching(t *testing.T, cs *fake.Clientset, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		watches := 0
		for _, a := range cs.Actions() {
			if a.GetVerb() == "watch" {
				watches++
			}
		}
		if watches >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d watches after 5s, want %d", watches, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKubernetesLifecycle(t *testing.T) {
	ctx := t.Context()
	users := []byte(`{"users":[{"sub":"alice"}]}`)
	cs := fake.NewClientset(
		configMap(t),
		keysSecret(t),
		clientSecret(t, "rp-a", idpName, "app-a"),
		// Another provider's registration in the same namespace is not ours.
		clientSecret(t, "rp-other", "other-idp", "app-other"),
		// Neither is an unrelated Secret.
		secret("unrelated", "", "", config.ClientKey, []byte("{}")),
		secret(usersSec, "", "", UsersKey, users),
	)
	updates := run(t, NewKubernetes(cs, ns, cmName, keysName, usersSec, ""))

	u := next(t, updates, 5*time.Second)
	good(t, u, "app-a")
	if !bytes.Equal(u.Users, users) {
		t.Fatalf("Users = %q, want %q", u.Users, users)
	}
	waitWatching(t, cs, 3)
	none(t, updates, 300*time.Millisecond)

	secrets := cs.CoreV1().Secrets(ns)

	// A hundred RPs onboarded at once arrive as one update.
	want := []string{"app-a"}
	start := time.Now()
	for i := range 100 {
		id := fmt.Sprintf("app-%03d", i)
		want = append(want, id)
		if _, err := secrets.Create(ctx, clientSecret(t, "rp-"+id, idpName, id), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	burst := time.Since(start)
	u = next(t, updates, time.Second)
	if elapsed := time.Since(start) - burst; elapsed > time.Second {
		t.Fatalf("update %v after the last change, want within 1s", elapsed)
	}
	if burst < debounceMax-debounceQuiet {
		good(t, u, want...)
	} else {
		// A very slow machine may split the burst at debounceMax.
		for len(u.Snapshot.Clients) < len(want) {
			u = next(t, updates, time.Second)
		}
		good(t, u, want...)
	}
	none(t, updates, 300*time.Millisecond)

	// Another provider's change sends nothing.
	other := clientSecret(t, "rp-other", "other-idp", "app-other-2")
	if _, err := secrets.Update(ctx, other, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	none(t, updates, 300*time.Millisecond)

	// A broken key set is refused, naming the Secret.
	broken := keysSecret(t)
	broken.Data[config.KeySetKey] = []byte(`{"keys": [`)
	if _, err := secrets.Update(ctx, broken, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	bad(t, next(t, updates, time.Second), "Secret "+ns+"/"+keysName)

	// Recovery.
	if _, err := secrets.Update(ctx, keysSecret(t), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	good(t, next(t, updates, time.Second), want...)

	// New users arrive with the snapshot.
	users2 := []byte(`{"users":[{"sub":"bob"}]}`)
	if _, err := secrets.Update(ctx, secret(usersSec, "", "", UsersKey, users2), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	u = next(t, updates, time.Second)
	good(t, u, want...)
	if !bytes.Equal(u.Users, users2) {
		t.Fatalf("Users = %q, want %q", u.Users, users2)
	}

	// A deleted RP leaves.
	if err := secrets.Delete(ctx, "rp-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	good(t, next(t, updates, time.Second), want[1:]...)

	// Without its ConfigMap the provider cannot be served.
	if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, cmName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	bad(t, next(t, updates, time.Second), "ConfigMap "+ns+"/"+cmName+": not found")
}

// TestKubernetesDebounceMaxWait: changes that never pause are still
// delivered within a second.
func TestKubernetesDebounceMaxWait(t *testing.T) {
	ctx := t.Context()
	cs := fake.NewClientset(configMap(t), keysSecret(t))
	updates := run(t, NewKubernetes(cs, ns, cmName, keysName, "", ""))
	good(t, next(t, updates, 5*time.Second))
	waitWatching(t, cs, 2)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			id := fmt.Sprintf("app-%d", i)
			if _, err := cs.CoreV1().Secrets(ns).Create(ctx, clientSecret(t, "rp-"+id, idpName, id), metav1.CreateOptions{}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	start := time.Now()
	u := next(t, updates, 2*time.Second)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("first update after %v of continuous changes, want within 1s", d)
	}
	if u.Err != nil || len(u.Snapshot.Clients) == 0 {
		t.Fatalf("update = %+v, want clients", u)
	}
}

func TestKubernetesStopsBeforeSync(t *testing.T) {
	cs := fake.NewClientset()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := NewKubernetes(cs, ns, cmName, keysName, "", "").Run(ctx, make(chan Update)); err != nil {
		t.Fatalf("Run with a cancelled context = %v, want nil", err)
	}
}

// TestAssemble checks the rules that turn objects into a snapshot.
func TestAssemble(t *testing.T) {
	in := func(objs ...runtime.Object) inputs {
		i := inputs{namespace: ns, configMapName: cmName, keysName: keysName, usersName: usersSec}
		for _, o := range objs {
			switch o := o.(type) {
			case *corev1.ConfigMap:
				i.configMap = o
			case *corev1.Secret:
				if o.Name == usersSec {
					i.users = o
				} else {
					i.secrets = append(i.secrets, o)
				}
			}
		}
		return i
	}
	rs256 := configMap(t)
	rs256.Data[config.ProviderConfigKey] = string(bytes.Replace(providerJSON(t), []byte(`["ES256"]`), []byte(`["ES256","RS256"]`), 1))
	noKey := configMap(t)
	noKey.Data = map[string]string{"other.json": "{}"}
	unowned := configMap(t)
	delete(unowned.Labels, config.LabelProvider)
	wideScope := clientSecret(t, "rp-wide", idpName, "app-wide")
	wideScope.Data[config.ClientKey] = bytes.Replace(wideScope.Data[config.ClientKey], []byte(`["openid"]`), []byte(`["openid","payments"]`), 1)

	tests := []struct {
		name    string
		in      inputs
		clients []string
		err     string
	}{
		{"valid", in(configMap(t), keysSecret(t), clientSecret(t, "rp-a", idpName, "app-a")), []string{"app-a"}, ""},
		{"no config map", in(keysSecret(t)), nil, "ConfigMap idp-system/idp-provider: not found"},
		{"config map without provider.json", in(noKey, keysSecret(t)), nil, "has no key provider.json"},
		{"no signing keys", in(configMap(t)), nil, "Secret idp-system/idp-signing-keys: not found (or not labelled"},
		{"no key for an algorithm", in(rs256, keysSecret(t)), nil, "no key for RS256"},
		{"duplicate client_id", in(configMap(t), keysSecret(t),
			clientSecret(t, "rp-1", idpName, "app-a"), clientSecret(t, "rp-2", idpName, "app-a")),
			nil, `Secret idp-system/rp-2: client_id "app-a" is already registered by Secret idp-system/rp-1`},
		{"other provider's registration ignored", in(configMap(t), keysSecret(t),
			clientSecret(t, "rp-a", idpName, "app-a"), clientSecret(t, "rp-x", "other", "app-a")), []string{"app-a"}, ""},
		{"config map without provider label takes all registrations", in(unowned, keysSecret(t),
			clientSecret(t, "rp-a", idpName, "app-a"), clientSecret(t, "rp-x", "other", "app-x")), []string{"app-a", "app-x"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.in.update()
			if tc.err != "" {
				bad(t, u, tc.err)
				return
			}
			good(t, u, tc.clients...)
		})
	}

	// A registration that cannot be used is left out and reported; the
	// provider keeps serving its other clients.
	for name, tc := range map[string]struct {
		broken *corev1.Secret
		want   string
	}{
		"registration without client.json": {secret("rp-empty", config.ComponentClientRegistration, idpName, "other", nil),
			"Secret idp-system/rp-empty: has no key client.json"},
		"client beyond the provider": {wideScope, `Secret idp-system/rp-wide key client.json: scopes[1]: "payments" is not offered`},
	} {
		t.Run(name, func(t *testing.T) {
			inp := in(configMap(t), keysSecret(t), clientSecret(t, "rp-a", idpName, "app-a"), tc.broken)
			u := inp.update()
			good(t, u, "app-a")
			if got := errors.Join(u.Skipped...); got == nil || !strings.Contains(got.Error(), tc.want) {
				t.Fatalf("skipped %v, want %q", got, tc.want)
			}
		})
	}
}

// TestFingerprintCoversUpdate: any change update would see changes the
// fingerprint, and a change it ignores does not.
func TestFingerprintCoversUpdate(t *testing.T) {
	base := func() inputs {
		return inputs{namespace: ns, configMapName: cmName, keysName: keysName, usersName: usersSec,
			configMap: configMap(t),
			secrets:   []*corev1.Secret{keysSecret(t), clientSecret(t, "rp-a", idpName, "app-a"), clientSecret(t, "rp-x", "other", "app-x")},
			users:     secret(usersSec, "", "", UsersKey, []byte("u1")),
		}
	}
	ref := base()
	sum := ref.fingerprint()
	changes := map[string]func(*inputs){
		"provider":       func(i *inputs) { i.configMap.Data[config.ProviderConfigKey] += " " },
		"provider label": func(i *inputs) { i.configMap.Labels[config.LabelProvider] = "other" },
		"keys": func(i *inputs) {
			i.secrets[0].Data[config.KeySetKey] = append(i.secrets[0].Data[config.KeySetKey], ' ')
		},
		"client": func(i *inputs) {
			i.secrets[1].Data[config.ClientKey] = append(i.secrets[1].Data[config.ClientKey], ' ')
		},
		"client removed": func(i *inputs) { i.secrets = i.secrets[:1] },
		"users":          func(i *inputs) { i.users.Data[UsersKey] = []byte("u2") },
		"users removed":  func(i *inputs) { i.users = nil },
		"no config map":  func(i *inputs) { i.configMap = nil },
	}
	for name, change := range changes {
		i := base()
		change(&i)
		if i.fingerprint() == sum {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
	i := base()
	i.secrets[2].Data[config.ClientKey] = []byte("another provider's business")
	i.secrets[0], i.secrets[1] = i.secrets[1], i.secrets[0] // order from the cache is arbitrary
	if i.fingerprint() != sum {
		t.Error("fingerprint changed for another provider's registration or a different order")
	}
}
