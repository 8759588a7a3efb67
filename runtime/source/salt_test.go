package source

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/idaop/ida-operator/runtime/config"
)

const saltName = "idp-pairwise-salt"

// TestKubernetesPairwiseSalt: the salt Secret the provider names arrives
// with the snapshot; a salt other than the recorded one, or none where one
// was recorded, is refused, so the runtime keeps the salt it serves with.
// Without a recorded salt, a pairwise client waits for one, skipped
// rather than served without.
func TestKubernetesPairwiseSalt(t *testing.T) {
	ctx := t.Context()
	salt := bytes.Repeat([]byte{9}, config.MinPairwiseSalt)
	cm := configMap(t)
	var p map[string]any
	if err := json.Unmarshal([]byte(cm.Data[config.ProviderConfigKey]), &p); err != nil {
		t.Fatal(err)
	}
	subjects := config.Subjects{SaltSecret: &config.SecretKeyRef{Name: saltName, Key: config.PairwiseSaltKey}}
	p["subjects"] = subjects
	cm.Data[config.ProviderConfigKey] = string(mustJSON(t, p))
	var c map[string]any
	if err := json.Unmarshal(clientJSON(t, "app-pairwise"), &c); err != nil {
		t.Fatal(err)
	}
	c["subject_type"] = config.SubjectPairwise
	pairwise := secret("rp-pairwise", config.ComponentClientRegistration, idpName, config.ClientKey, mustJSON(t, c))

	cs := fake.NewClientset(cm, keysSecret(t), clientSecret(t, "rp-a", idpName, "app-a"), pairwise)
	updates := run(t, NewKubernetes(cs, ns, cmName, keysName, "", saltName))
	u := next(t, updates, 5*time.Second)
	good(t, u, "app-a")
	if u.Snapshot.PairwiseSalt != nil || len(u.Skipped) != 1 || !strings.Contains(u.Skipped[0].Error(), "no pairwise salt") {
		t.Fatalf("without the salt: salt %v, skipped %v", u.Snapshot.PairwiseSalt, u.Skipped)
	}
	waitWatching(t, cs, 3)

	secrets := cs.CoreV1().Secrets(ns)
	if _, err := secrets.Create(ctx, secret(saltName, "", "", config.PairwiseSaltKey, salt), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u = next(t, updates, time.Second)
	good(t, u, "app-a", "app-pairwise")
	if !bytes.Equal(u.Snapshot.PairwiseSalt, salt) {
		t.Fatalf("salt %v", u.Snapshot.PairwiseSalt)
	}

	// The operator records the salt's fingerprint.
	subjects.SaltFingerprint = config.SaltFingerprint(salt)
	p["subjects"] = subjects
	cm.Data[config.ProviderConfigKey] = string(mustJSON(t, p))
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	good(t, next(t, updates, time.Second), "app-a", "app-pairwise")

	if _, err := secrets.Update(ctx, secret(saltName, "", "", config.PairwiseSaltKey, bytes.Repeat([]byte{8}, 32)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	bad(t, next(t, updates, time.Second), "not the recorded")

	// A deleted salt is not "no salt": the runtime keeps the one it has.
	if err := secrets.Delete(ctx, saltName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	bad(t, next(t, updates, time.Second), "is missing")
}
