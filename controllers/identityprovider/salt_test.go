package identityprovider

import (
	"bytes"
	"strings"
	"testing"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
)

// TestDecideSalt: first creation, keep, lost, changed and accepted, each
// case named after the rule that decides it.
func TestDecideSalt(t *testing.T) {
	salt := bytes.Repeat([]byte{1}, 32)
	other := bytes.Repeat([]byte{2}, 32)
	fp, otherFP := config.SaltFingerprint(salt), config.SaltFingerprint(other)
	generated := func(found bool, value []byte, recorded, accept string) saltInputs {
		return saltInputs{provider: "idp", secretName: "idp-pairwise-salt", key: "pairwise-salt", found: found, salt: value, recorded: recorded, accept: accept}
	}
	supplied := func(found bool, value []byte, recorded, accept string) saltInputs {
		in := generated(found, value, recorded, accept)
		in.supplied, in.secretName, in.key = true, "kept-salt", "salt"
		return in
	}
	cases := []struct {
		name     string
		in       saltInputs
		generate bool
		record   string
		reason   idav1alpha1.ConditionReason
		accepted bool
		message  string
	}{
		{"first creation: generate", generated(false, nil, "", ""), true, "", idav1alpha1.ReasonSaltGenerated, false, "generated"},
		{"the recorded salt: keep", generated(true, salt, fp, ""), false, "", idav1alpha1.ReasonSaltGenerated, false, fp},
		{"a salt not recorded yet (provider applied again): record it", generated(true, salt, "", ""), false, fp, idav1alpha1.ReasonSaltGenerated, false, "back the Secret up"},
		{"lost after it was recorded: report, do not generate", generated(false, nil, fp, ""), false, "", idav1alpha1.ReasonSaltLost, false, "accept-pairwise-salt=" + fp},
		{"lost, and the annotation names another salt: still lost", generated(false, nil, fp, otherFP), false, "", idav1alpha1.ReasonSaltLost, false, "is gone"},
		{"lost and accepted: generate a new one", generated(false, nil, fp, fp), true, "", idav1alpha1.ReasonSaltGenerated, true, "in place of the lost"},
		{"changed: report, do not record", generated(true, other, fp, ""), false, "", idav1alpha1.ReasonSaltChanged, false, "not the recorded " + fp},
		{"changed and accepted: record the new one", generated(true, other, fp, fp), false, otherFP, idav1alpha1.ReasonSaltGenerated, true, "accepted"},
		{"too short: invalid, never overwritten", generated(true, salt[:31], "", ""), false, "", idav1alpha1.ReasonSaltInvalid, false, "shorter than 32"},
		{"key missing: invalid", generated(true, nil, fp, ""), false, "", idav1alpha1.ReasonSaltInvalid, false, "missing"},
		{"invalid and accepted: generate over it", generated(true, nil, fp, fp), true, "", idav1alpha1.ReasonSaltGenerated, true, ""},
		{"supplied: record it", supplied(true, salt, "", ""), false, fp, idav1alpha1.ReasonSaltSupplied, false, "Secret kept-salt key salt"},
		{"supplied, not there yet: wait, never generate", supplied(false, nil, "", ""), false, "", idav1alpha1.ReasonSaltSecretNotFound, false, "create it"},
		{"supplied, lost: report; accepting does not generate into it", supplied(false, nil, fp, fp), false, "", idav1alpha1.ReasonSaltLost, false, "put a new salt there"},
		{"supplied and replaced: changed", supplied(true, other, fp, ""), false, "", idav1alpha1.ReasonSaltChanged, false, otherFP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := decideSalt(tc.in)
			if d.generate != tc.generate || d.record != tc.record || d.outcome.Reason != tc.reason || d.accepted != tc.accepted ||
				d.outcome.True != (tc.reason == idav1alpha1.ReasonSaltGenerated || tc.reason == idav1alpha1.ReasonSaltSupplied) ||
				!strings.Contains(d.outcome.Message, tc.message) {
				t.Fatalf("got %+v", d)
			}
		})
	}
}
