package ida

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Dataset is what the provider holds for one person:
// {"verified_claims": <object or array>, ...other claims}. Parse it once
// with ParseDataset; it is immutable and safe for concurrent use.
type Dataset struct {
	top      value    // the plain claims: everything but verified_claims and claim sources
	verified []*value // each verified_claims object, in order

	// views remembers the last engine's trusted views of verified: both
	// are immutable, so a dataset held across requests (the provider
	// caches parsed datasets) is filtered once per configuration.
	views atomic.Pointer[trustedMemo]
}

type trustedMemo struct {
	engine *Engine
	views  []view
}

// ParseDataset parses and checks a person's dataset. Each verified_claims
// object needs a verification object with a trust_framework string and, if
// present, a claims object.
func ParseDataset(data []byte) (*Dataset, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if v.kind != kObject {
		return nil, errors.New("dataset: must be a JSON object")
	}
	// Plain claims are kept apart so that nothing at the top level (a
	// transformed claim based on "verified_claims", say) reaches verified
	// data around the trust framework checks.
	ds := &Dataset{top: value{kind: kObject, obj: make([]member, 0, len(v.obj))}}
	for i := range v.obj {
		switch v.obj[i].name {
		case "verified_claims", "_claim_names", "_claim_sources":
		default:
			ds.top.obj = append(ds.top.obj, v.obj[i])
		}
	}
	vc := v.get("verified_claims")
	if vc == nil {
		return ds, nil
	}
	switch vc.kind {
	case kObject:
		ds.verified = []*value{vc}
	case kArray:
		for i := range vc.arr {
			ds.verified = append(ds.verified, &vc.arr[i])
		}
	default:
		return nil, errors.New("dataset: verified_claims must be an object or an array")
	}
	for i, d := range ds.verified {
		where := "dataset: verified_claims"
		if vc.kind == kArray {
			where = fmt.Sprintf("dataset: verified_claims[%d]", i)
		}
		if err := checkDatasetEntry(d, where); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

func checkDatasetEntry(d *value, where string) error {
	if d.kind != kObject {
		return errors.New(where + ": must be an object")
	}
	ver := d.get("verification")
	if ver == nil || ver.kind != kObject {
		return errors.New(where + ".verification: must be an object")
	}
	if tf := ver.get("trust_framework"); !tf.isString() {
		return errors.New(where + ".verification.trust_framework: must be a string")
	}
	if c := d.get("claims"); c != nil && c.kind != kObject {
		return errors.New(where + ".claims: must be an object")
	}
	return nil
}
