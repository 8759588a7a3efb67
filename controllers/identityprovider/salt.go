package identityprovider

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/runtime/config"
)

// saltInputs is what the salt decision reads.
type saltInputs struct {
	provider string // the IdentityProvider's name, for messages
	// supplied: the platform team names the Secret; else the operator's.
	supplied        bool
	secretName, key string
	found           bool   // the Secret exists
	salt            []byte // its value at key; nil when the key is absent
	recorded        string // status.pairwiseSaltFingerprint
	accept          string // the accept-pairwise-salt annotation
}

// saltDecision is what to do about the salt.
type saltDecision struct {
	// generate writes a new salt into the operator's Secret.
	generate bool
	// record is the fingerprint to record; empty keeps the recorded one
	// (after generate, the new salt's).
	record string
	// accepted: a salt was given up by the annotation; worth an event.
	accepted bool
	outcome  conditions.Outcome
}

// decideSalt never replaces a salt that subjects may have been issued
// under: the recorded fingerprint tells a first sight (record it, or
// generate the first salt) from a salt that is gone or different (report
// it). Only the accept annotation naming the recorded salt gives it up.
func decideSalt(in saltInputs) saltDecision {
	where := fmt.Sprintf("Secret %s key %s", in.secretName, in.key)
	okReason := idav1alpha1.ReasonSaltGenerated
	if in.supplied {
		okReason = idav1alpha1.ReasonSaltSupplied
	}
	accepting := in.recorded != "" && in.accept == in.recorded
	acceptHint := fmt.Sprintf("kubectl annotate --overwrite identityprovider %s %s=%s", in.provider, idav1alpha1.AnnotationAcceptPairwiseSalt, in.recorded)

	if in.found && len(in.salt) >= config.MinPairwiseSalt {
		fp := config.SaltFingerprint(in.salt)
		switch {
		case fp == in.recorded:
			return saltDecision{outcome: conditions.True(okReason, fmt.Sprintf("pairwise salt %s is in %s", fp, where))}
		case in.recorded == "":
			return saltDecision{record: fp, outcome: conditions.True(okReason, fmt.Sprintf("pairwise salt %s is in %s; back the Secret up", fp, where))}
		case accepting:
			return saltDecision{record: fp, accepted: true, outcome: conditions.True(okReason, fmt.Sprintf("pairwise salt %s accepted in place of %s", fp, in.recorded))}
		}
		return saltDecision{outcome: conditions.False(idav1alpha1.ReasonSaltChanged, fmt.Sprintf(
			"%s holds the pairwise salt %s, not the recorded %s; runtimes refuse it and keep the salt they hold. Restore the recorded salt from a backup, or, knowing that every pairwise sub changes, accept it: %s",
			where, fp, in.recorded, acceptHint))}
	}
	if in.found {
		if accepting && !in.supplied {
			return saltDecision{generate: true, accepted: true, outcome: conditions.True(okReason, "a new pairwise salt was generated in place of "+in.recorded)}
		}
		return saltDecision{outcome: conditions.False(idav1alpha1.ReasonSaltInvalid, fmt.Sprintf(
			"%s is missing or shorter than %d bytes: put at least %d random bytes there (or restore the Secret from a backup)", where, config.MinPairwiseSalt, config.MinPairwiseSalt))}
	}
	switch {
	case in.supplied && in.recorded == "":
		return saltDecision{outcome: conditions.False(idav1alpha1.ReasonSaltSecretNotFound, fmt.Sprintf(
			"%s does not exist: create it with at least %d random bytes, or remove spec.tokens.pairwiseSaltSecretRef to have one generated", where, config.MinPairwiseSalt))}
	case in.recorded == "":
		return saltDecision{generate: true, outcome: conditions.True(okReason, fmt.Sprintf("a pairwise salt was generated into %s; back the Secret up", where))}
	case accepting && !in.supplied:
		return saltDecision{generate: true, accepted: true, outcome: conditions.True(okReason, "a new pairwise salt was generated in place of the lost "+in.recorded)}
	}
	next := "or, knowing that every pairwise sub changes, accept a new salt: " + acceptHint
	if in.supplied {
		next = "or, knowing that every pairwise sub changes, put a new salt there and accept it: " + acceptHint
	}
	return saltDecision{outcome: conditions.False(idav1alpha1.ReasonSaltLost, fmt.Sprintf(
		"%s with the pairwise salt %s is gone; running runtimes keep serving with it, and a new runtime pod does not become ready without it. Restore the Secret from a backup, %s",
		where, in.recorded, next))}
}

// How often a salt Secret the cache may not see is read again: soon while
// something is wrong, now and then while a supplied one is fine.
const (
	saltRetry = 30 * time.Second
	saltPoll  = 5 * time.Minute
)

// saltResult is the outcome of the salt step.
type saltResult struct {
	condition   conditions.Outcome
	fingerprint string // to record in status
	// poll is when to read the Secret again (zero: on changes only): the
	// cache does not see a supplied Secret, or a restored one without
	// the operator's labels.
	poll time.Duration
}

// reconcileSalt reads the salt's Secret from the API server (a restored or
// supplied Secret may lack the labels the cache selects), decides, and
// generates a salt when decided. The generated Secret has no owner: it
// outlives the IdentityProvider, so a provider deleted and applied again
// keeps its subjects.
func (r *Reconciler) reconcileSalt(ctx context.Context, idp *idav1alpha1.IdentityProvider) (saltResult, error) {
	in := saltInputs{
		provider: idp.Name, secretName: PairwiseSaltName(idp), key: config.PairwiseSaltKey,
		recorded: idp.Status.PairwiseSaltFingerprint, accept: idp.Annotations[idav1alpha1.AnnotationAcceptPairwiseSalt],
	}
	if ref := idp.Spec.Tokens.PairwiseSaltSecretRef; ref != nil {
		in.supplied, in.secretName, in.key = true, ref.Name, ref.Key
	}
	var existing corev1.Secret
	switch err := r.reader().Get(ctx, types.NamespacedName{Namespace: idp.Namespace, Name: in.secretName}, &existing); {
	case err == nil:
		in.found, in.salt = true, existing.Data[in.key]
	case !apierrors.IsNotFound(err):
		return saltResult{condition: conditions.False(idav1alpha1.ReasonSaltNotWritten, "reading the salt Secret: "+err.Error()), fingerprint: in.recorded},
			fmt.Errorf("reading Secret %s: %w", in.secretName, err)
	}
	d := decideSalt(in)
	res := saltResult{condition: d.outcome, fingerprint: in.recorded}
	switch {
	case !d.outcome.True:
		res.poll = saltRetry
	case in.supplied:
		res.poll = saltPoll
	}
	if d.record != "" {
		res.fingerprint = d.record
	}
	if d.generate {
		fp, err := r.generateSalt(ctx, idp, in.found, &existing)
		if err != nil {
			res.condition = conditions.False(idav1alpha1.ReasonSaltNotWritten, fmt.Sprintf("writing Secret %s: %v", in.secretName, err))
			return res, fmt.Errorf("writing Secret %s: %w", in.secretName, err)
		}
		res.fingerprint = fp
	}
	if d.accepted {
		r.Events.Normal(idp, idav1alpha1.EventSaltAccepted, "AcceptSalt", "pairwise salt %s gave way to %s: every pairwise sub changed", in.recorded, res.fingerprint)
	}
	return res, nil
}

// generateSalt writes 256 random bits into the operator's salt Secret:
// created when there is none (failing if one appeared meanwhile, never
// overwriting it), replaced only where decideSalt accepted that.
func (r *Reconciler) generateSalt(ctx context.Context, idp *idav1alpha1.IdentityProvider, replace bool, existing *corev1.Secret) (string, error) {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: PairwiseSaltName(idp), Labels: Labels(idp, config.ComponentPairwiseSalt)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{config.PairwiseSaltKey: salt},
	}
	if replace {
		s.ResourceVersion = existing.ResourceVersion // a concurrent change conflicts
		if err := r.Client.Update(ctx, s); err != nil {
			return "", err
		}
	} else if err := r.Client.Create(ctx, s); err != nil {
		return "", err
	}
	return config.SaltFingerprint(salt), nil
}

// reader reads Secrets the cache may not hold.
func (r *Reconciler) reader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}
