package relyingparty

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/runtime/config"
)

// Keys of the credentials Secret. They are part of the API: applications
// mount or read them.
const (
	KeyClientID     = "client_id"
	KeyClientSecret = "client_secret"
	KeyIssuer       = "issuer"
	KeyDiscoveryURL = "discovery_url"
)

type credentialsResult struct {
	outcome conditions.Outcome
	secret  string // the client secret; empty for private_key_jwt
	err     error
}

func usesSecret(rp *idav1alpha1.RelyingParty) bool {
	return rp.Spec.ClientAuthentication.Method != idav1alpha1.PrivateKeyJWT
}

// reconcileCredentials makes the client's credentials available in its
// namespace: a Secret the operator owns (generated once, repaired on
// drift), or one the team manages, which is only ever read.
func (r *Reconciler) reconcileCredentials(ctx context.Context, rp *idav1alpha1.RelyingParty, issuer string) credentialsResult {
	if rp.Spec.Credentials.Source == idav1alpha1.CredentialsExisting {
		return r.existingCredentials(ctx, rp)
	}
	name := rp.CredentialsSecretName()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: rp.Namespace, Name: name}}
	var value string
	generated := false
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, sec, func() error {
		if !sec.CreationTimestamp.IsZero() && !metav1.IsControlledBy(sec, rp) {
			return errNotOurs
		}
		if sec.Labels == nil {
			sec.Labels = map[string]string{}
		}
		sec.Labels[idav1alpha1.LabelManagedBy] = idav1alpha1.ManagedByOperator
		sec.Labels[config.LabelComponent] = idav1alpha1.ComponentCredentials
		if sec.Annotations == nil {
			sec.Annotations = map[string]string{}
		}
		sec.Annotations[idav1alpha1.AnnotationRelyingParty] = rp.Namespace + "/" + rp.Name
		sec.Type = corev1.SecretTypeOpaque
		old := sec.Data
		sec.Data = map[string][]byte{
			KeyClientID:     []byte(ClientID(rp)),
			KeyIssuer:       []byte(issuer),
			KeyDiscoveryURL: []byte(config.DiscoveryURL(issuer)),
		}
		if usesSecret(rp) {
			// The secret in the Secret is the truth: keep it, so a team may
			// rotate it by writing a new one; generate only when there is none.
			value = string(old[KeyClientSecret])
			if value == "" {
				v, err := config.NewClientSecret()
				if err != nil {
					return err
				}
				value, generated = v, true
			}
			sec.Data[KeyClientSecret] = []byte(value)
		}
		return controllerutil.SetControllerReference(rp, sec, r.Client.Scheme())
	})
	switch {
	case errors.Is(err, errNotOurs) || apierrors.IsAlreadyExists(err):
		// AlreadyExists: a Secret the cache does not hold (not ours) has the name.
		return credentialsResult{outcome: conditions.False(idav1alpha1.ReasonSecretConflict, fmt.Sprintf(
			"Secret %s already exists and is not managed by this RelyingParty; set spec.credentials.source: Existing to use it, or pick another spec.credentials.secretName", name))}
	case err != nil:
		return credentialsResult{err: fmt.Errorf("writing credentials Secret %s: %w", name, err)}
	}
	switch {
	case generated && op == controllerutil.OperationResultUpdated:
		// A first generation is told by the registration event, which
		// names the Secret: one event, not two, per onboarded client.
		r.Events.Normal(rp, idav1alpha1.ReasonSecretGenerated, "Credentials", "client secret generated anew in Secret %s", name)
	case op == controllerutil.OperationResultUpdated:
		r.Events.Normal(rp, idav1alpha1.EventCredentialsRepaired, "Credentials", "Secret %s restored", name)
	}
	return credentialsResult{
		outcome: conditions.True(idav1alpha1.ReasonSecretGenerated, fmt.Sprintf("credentials are in Secret %s (keys %s, %s, %s, %s)", name, KeyClientID, KeyClientSecret, KeyIssuer, KeyDiscoveryURL)),
		secret:  value,
	}
}

var errNotOurs = errors.New("secret not controlled by this RelyingParty")

// existingCredentials reads the client secret from a Secret the team
// manages (External Secrets, Vault, ...). Until it exists the RP waits:
// generating one would race whatever is about to write it.
func (r *Reconciler) existingCredentials(ctx context.Context, rp *idav1alpha1.RelyingParty) credentialsResult {
	name := rp.Spec.Credentials.SecretName
	var sec corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: rp.Namespace, Name: name}, &sec)
	switch {
	case apierrors.IsNotFound(err):
		return credentialsResult{outcome: conditions.False(idav1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"waiting for Secret %s with key %s; the operator will not create it", name, KeyClientSecret))}
	case err != nil:
		return credentialsResult{err: fmt.Errorf("reading Secret %s: %w", name, err)}
	}
	value := string(sec.Data[KeyClientSecret])
	if len(value) < 32 {
		return credentialsResult{outcome: conditions.False(idav1alpha1.ReasonSecretInvalid, fmt.Sprintf(
			"Secret %s must hold key %s with at least 32 characters", name, KeyClientSecret))}
	}
	return credentialsResult{
		outcome: conditions.True(idav1alpha1.ReasonSecretAdopted, fmt.Sprintf("client secret read from Secret %s", name)),
		secret:  value,
	}
}
