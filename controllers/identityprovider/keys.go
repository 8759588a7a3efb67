package identityprovider

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/signingkeys"
	"github.com/idaop/ida-operator/runtime/config"
)

// keysResult is the outcome of the key step.
type keysResult struct {
	condition conditionResult
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
		RotationPeriod:  duration(s.Signing.RotationPeriod, 2160*time.Hour).Duration,
		PublishLeadTime: duration(s.Signing.PublishLeadTime, 24*time.Hour).Duration,
		Retention:       longest + time.Hour,
	}
}

// reconcileKeys runs the rotation plan and writes the key Secret when the
// plan changed it. Existing keys are never regenerated: a Secret that cannot
// be parsed is reported, not overwritten.
func (r *Reconciler) reconcileKeys(ctx context.Context, idp *idav1alpha1.IdentityProvider, now time.Time) (keysResult, error) {
	var res keysResult
	name := SigningKeysName(idp)
	var secret corev1.Secret
	current := config.KeySet{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: idp.Namespace, Name: name}, &secret)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return res, fmt.Errorf("reading Secret %s: %w", name, err)
	default:
		if data, ok := secret.Data[config.KeySetKey]; ok {
			ks, perr := config.ParseKeySet(data)
			if perr != nil {
				res.condition = conditionResult{false, "KeySetUnreadable", fmt.Sprintf(
					"Secret %s key %s cannot be read (%v); the operator will not overwrite it: restore it from a backup, or delete the Secret to generate new keys", name, config.KeySetKey, perr)}
				return res, nil
			}
			current = *ks
		}
	}

	plan, err := signingkeys.Plan(current, keyPolicy(idp), now, idp.Annotations[RotateKeysAnnotation], signingkeys.Generate)
	if err != nil {
		res.condition = conditionResult{false, "KeyGenerationFailed", err.Error()}
		return res, err
	}
	data, err := plan.Keys.Marshal()
	if err != nil {
		return res, err
	}
	target := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: name}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Client, target, func() error {
		mergeLabels(&target.ObjectMeta, Labels(idp, config.ComponentSigningKeys))
		target.Type = corev1.SecretTypeOpaque
		if plan.Changed || target.Data == nil || len(target.Data[config.KeySetKey]) == 0 {
			target.Data = map[string][]byte{config.KeySetKey: data}
		}
		return controllerutil.SetControllerReference(idp, target, r.Client.Scheme())
	})
	if err != nil {
		return res, fmt.Errorf("writing Secret %s: %w", name, err)
	}
	for _, a := range plan.Actions {
		r.event(idp, corev1.EventTypeNormal, "Key"+a.Kind, "RotateKeys", "%s key %s: %s", a.Algorithm, a.KeyID, a.Reason)
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
	res.condition = conditionResult{true, idav1alpha1.ReasonKeysGenerated, fmt.Sprintf(
		"%d signing key(s) active, %d published in Secret %s", len(res.summary.Active), len(res.summary.Published), name)}
	return res, nil
}
