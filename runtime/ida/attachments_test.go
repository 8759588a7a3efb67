package ida

import "testing"

const attachmentsDataset = `{"verified_claims": {"verification": {"trust_framework": "eidas", "evidence": [{"type": "document",
  "document_details": {"type": "idcard"},
  "attachments": [
    {"desc": "Front", "content_type": "image/png", "content": "iVBORw0KGgo="},
    {"desc": "Back", "digest": {"alg": "sha-256", "value": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}, "url": "https://example.com/a/1", "access_token": "ksj3n283dke", "exp": 1676552089},
    {"desc": "Signed", "digest": {"alg": "sha-512", "value": "i3O7U79LiyKmmesIgULKT2Q8LAxNO0CpwJVcbepaYf8="}, "url": "https://example.com/a/2"},
    {"desc": "Not allowed", "content_type": "multipart/mixed", "content": "AAAA"},
    {"desc": "No digest", "url": "https://example.com/a/3"}
  ]}]}, "claims": {"given_name": "Max"}}}`

const embeddedFront = `{"desc": "Front", "content_type": "image/png", "content": "iVBORw0KGgo="}`
const externalBack = `{"desc": "Back", "digest": {"alg": "sha-256", "value": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}, "url": "https://example.com/a/1", "access_token": "ksj3n283dke", "exp": 1676552089}`
const externalSigned = `{"desc": "Signed", "digest": {"alg": "sha-512", "value": "i3O7U79LiyKmmesIgULKT2Q8LAxNO0CpwJVcbepaYf8="}, "url": "https://example.com/a/2"}`

func TestAttachments(t *testing.T) {
	withAtt := `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
	  {"type": {"value": "document"}, "attachments": null}]}, "claims": {"given_name": null}}}}`
	without := `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
	  {"type": {"value": "document"}, "document_details": {"type": null}}]}, "claims": {"given_name": null}}}}`
	evidence := func(att string) string {
		if att == "" {
			return `{"verified_claims": {"verification": {"trust_framework": "eidas", "evidence": [{"type": "document"}]}, "claims": {"given_name": "Max"}}}`
		}
		return `{"verified_claims": {"verification": {"trust_framework": "eidas", "evidence": [{"type": "document", "attachments": [` + att + `]}]}, "claims": {"given_name": "Max"}}}`
	}
	cases := []struct {
		name    string
		policy  Policy
		request string
		want    string
	}{
		{"not requested: never released", PermissivePolicy(), without,
			`{"verified_claims": {"verification": {"trust_framework": "eidas", "evidence": [{"type": "document", "document_details": {"type": "idcard"}}]}, "claims": {"given_name": "Max"}}}`},
		{"requested: embedded and external, external keep their digest", PermissivePolicy(), withAtt,
			evidence(embeddedFront + "," + externalBack + "," + externalSigned)},
		{"embedded only", Policy{AnyTrustFramework: true, AttachmentsSupported: []string{"embedded"}}, withAtt, evidence(embeddedFront)},
		{"external only, sha-256 by default", Policy{AnyTrustFramework: true, AttachmentsSupported: []string{"external"}}, withAtt, evidence(externalBack)},
		{"external with the published digest algorithms", Policy{AnyTrustFramework: true, AttachmentsSupported: []string{"external"}, DigestAlgorithmsSupported: []string{"sha-512"}}, withAtt, evidence(externalSigned)},
		{"no attachment support", Policy{AnyTrustFramework: true}, withAtt, evidence("")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEngine(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, e, tc.request, attachmentsDataset, "")
			assertJSONEqual(t, mustJSON(t, res.UserInfo), []byte(tc.want))
		})
	}
}
