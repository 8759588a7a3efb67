package runtime_test

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idaop/ida-operator/test/internal/rptest"
)

// TestSchemaRejectsBrokenVerifiedClaims makes sure the validator used by the
// flow tests would notice a bad response.
func TestSchemaRejectsBrokenVerifiedClaims(t *testing.T) {
	sch := rptest.VerifiedClaimsSchema(t, rptest.SpecDir(t))
	for name, body := range map[string]string{
		"no verification":    `{"verified_claims":{"claims":{"given_name":"Taro"}}}`,
		"trust_framework 42": `{"verified_claims":{"verification":{"trust_framework":42},"claims":{"given_name":"Taro"}}}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(doc) == nil {
			t.Errorf("%s: the schema accepted %s", name, body)
		}
	}
}
