package identityprovider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/signingkeys"
	"github.com/idaop/ida-operator/runtime/config"
)

// keysResult is the outcome of the key step.
type keysResult struct {
	condition conditions.Outcome
	summary   idav1alpha1.SigningKeyStatus
	nextEvent time.Time
}

// keyPolicy is the rotation policy of a provider. A retired key stays
// published for longer than any token it can have signed lives.
func keyPolicy(idp *idav1alpha1.IdentityProvider) signingkeys.Policy {
	s := &idp.Spec
	longest := time.Duration(0)
	for _, d := range []*metav1.Duration{s.Tokens.IDTokenLifetime, s.Tokens.AccessTokenLifetime, s.Tokens.RefreshTokenLifetime, s.Tokens.AuthorizationCodeLifetime} {
		if d != nil && d.Duration > longest {
			longest = d.Duration
		}
	}
	return signingkeys.Policy{
		Algorithms:      algorithms(s.Signing.Algorithms),
		RotationPeriod:  duration(s.Signing.RotationPeriod, idav1alpha1.DefaultRotationPeriod).Duration,
		PublishLeadTime: duration(s.Signing.PublishLeadTime, idav1alpha1.DefaultPublishLeadTime).Duration,
		Retention:       longest + time.Hour,
		InToken:         s.Signing.KeyStore.Type == idav1alpha1.KeyStorePKCS11,
	}
}

// errKeySetUnreadable stops a write over a key Secret that cannot be parsed.
var errKeySetUnreadable = errors.New("key set unreadable")

// reconcileKeys runs the rotation plan and writes the key Secret when the
// plan changed it. The plan is made from the very object that is written,
// so a concurrent change makes the write conflict instead of losing a key.
// Existing keys are never regenerated: a Secret that cannot be parsed is
// reported, not overwritten.
func (r *Reconciler) reconcileKeys(ctx context.Context, idp *idav1alpha1.IdentityProvider, now time.Time) (keysResult, error) {
	var res keysResult
	name := SigningKeysName(idp)
	var plan signingkeys.Result
	var parseErr error
	var removedFromToken []string
	store := &keyStore{r: r, ctx: ctx, idp: idp}
	target := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: name}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, target, func() error {
		current := config.KeySet{}
		if data, ok := target.Data[config.KeySetKey]; ok {
			ks, err := config.ParseKeySet(data)
			if err != nil {
				parseErr = err
				return errKeySetUnreadable
			}
			current = *ks
		}
		var err error
		if plan, err = signingkeys.Plan(current, keyPolicy(idp), now, idp.Annotations[idav1alpha1.AnnotationRotateKeys], store.generator()); err != nil {
			store.notWritten = true
			return err
		}
		removedFromToken = removedTokenKeys(current, plan)
		if plan.Changed || len(target.Data[config.KeySetKey]) == 0 {
			data, err := plan.Keys.Marshal()
			if err != nil {
				return err
			}
			target.Data = map[string][]byte{config.KeySetKey: data}
		}
		mergeLabels(&target.ObjectMeta, Labels(idp, config.ComponentSigningKeys))
		target.Type = corev1.SecretTypeOpaque
		return controllerutil.SetControllerReference(idp, target, r.Client.Scheme())
	})
	if err != nil {
		store.abandon(err)
	}
	var storeErr *keyStoreError
	switch {
	case errors.As(err, &storeErr):
		res.condition = storeErr.outcome
		keyStoreFailures.WithLabelValues(string(storeErr.outcome.Reason)).Inc()
		res.nextEvent = now.Add(keyStoreRetry)
		return res, nil
	case errors.Is(err, errKeySetUnreadable):
		res.condition = conditions.False(idav1alpha1.ReasonKeySetUnreadable, fmt.Sprintf(
			"Secret %s key %s cannot be read (%v); the operator will not overwrite it: restore it from a backup, or delete the Secret to generate new keys", name, config.KeySetKey, parseErr))
		return res, nil
	case err != nil:
		res.condition = conditions.False(idav1alpha1.ReasonKeysNotWritten, fmt.Sprintf("writing Secret %s: %v", name, err))
		return res, fmt.Errorf("writing Secret %s: %w", name, err)
	}
	store.deleteRemoved(removedFromToken)
	for _, a := range plan.Actions {
		r.Events.Normal(idp, keyEvent(a.Kind), "RotateKeys", "%s key %s: %s", a.Algorithm, a.KeyID, a.Reason)
		if a.Kind == signingkeys.ActionActivated {
			keysRotated.WithLabelValues(a.Algorithm).Inc()
		}
	}

	res.nextEvent = plan.NextEvent
	for _, alg := range keyPolicy(idp).Algorithms {
		if k, ok := plan.Keys.Signer(alg, now); ok {
			res.summary.Active = append(res.summary.Active, k.ID)
		}
	}
	for _, k := range plan.Keys.Published(now) {
		res.summary.Published = append(res.summary.Published, k.ID)
	}
	slices.Sort(res.summary.Published)
	if !plan.NextRotation.IsZero() {
		t := metav1.NewTime(plan.NextRotation.Truncate(time.Second))
		res.summary.NextRotationTime = &t
	}
	recordNextRotation(idp, plan.NextRotation)
	res.condition = conditions.True(idav1alpha1.ReasonKeysGenerated, fmt.Sprintf(
		"%d signing key(s) active, %d published in Secret %s", len(res.summary.Active), len(res.summary.Published), name))
	return res, nil
}

// removedTokenKeys are the keys of current in a token that the plan
// removed from the set.
func removedTokenKeys(current config.KeySet, plan signingkeys.Result) []string {
	var out []string
	for _, a := range plan.Actions {
		if a.Kind != signingkeys.ActionRemoved {
			continue
		}
		i := slices.IndexFunc(current.Keys, func(k config.SigningKey) bool { return k.ID == a.KeyID })
		if i >= 0 && current.Keys[i].InToken() {
			out = append(out, a.KeyID)
		}
	}
	return out
}
