package runtime_test

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idaop/ida-operator/test/internal/rptest"
)

// TestSchemaRejectsBrokenVerifiedClaims makes sure the validators used by
// the flow tests (the project's schema, and the official one when present)
// would notice a bad response.
func TestSchemaRejectsBrokenVerifiedClaims(t *testing.T) {
	for _, s := range rptest.VerifiedClaimsSchemas(t, rptest.SpecDir(t)) {
		for name, body := range map[string]string{
			"no verification":    `{"verified_claims":{"claims":{"given_name":"Taro"}}}`,
			"trust_framework 42": `{"verified_claims":{"verification":{"trust_framework":42},"claims":{"given_name":"Taro"}}}`,
		} {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			if s.Schema.Validate(doc) == nil {
				t.Errorf("%s: %s accepted %s", name, s.Name, body)
			}
		}
	}
}
