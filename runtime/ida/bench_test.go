package ida

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/idaop/ida-operator/internal/specdir"
)

// The benchmark pair of docs/BENCHMARKS.md ("IDA engine"): the whole
// engine path for one request (parse the claims parameter, parse the
// dataset, match, minimise, encode) against a plain encoding/json decode +
// encode of the same dataset.
//
// benchDataset is the official document_and_utility_statement.json example
// (two evidence entries) with the first document made an idcard checked by
// pipp, so that both benchmark requests match it.
const benchDataset = `{
  "verified_claims": {
    "verification": {
      "trust_framework": "de_aml",
      "time": "2012-04-23T18:25Z",
      "verification_process": "513645-e44b-4951-942c-7091cf7d891d",
      "evidence": [
        {
          "type": "document",
          "check_details": [
            {"check_method": "pipp", "time": "2012-04-22T11:30Z"},
            {"check_method": "vpip"}
          ],
          "document_details": {
            "type": "idcard",
            "issuer": {"name": "Stadt Augsburg", "country": "DE"},
            "document_number": "53554554",
            "date_of_issuance": "2010-04-23",
            "date_of_expiry": "2020-04-22"
          }
        },
        {
          "type": "document",
          "check_details": [
            {"check_method": "vpip", "time": "2012-04-22T11:30Z"}
          ],
          "document_details": {
            "type": "utility_statement",
            "issuer": {"name": "Stadtwerke Musterstadt", "country": "DE", "region": "Niedersachsen", "street_address": "Energiestrasse 33"},
            "date_of_issuance": "2013-01-31"
          }
        }
      ]
    },
    "claims": {
      "given_name": "Max",
      "family_name": "Meier",
      "birthdate": "1956-01-28",
      "place_of_birth": {"country": "DE", "locality": "Musterstadt"},
      "nationalities": ["DE"],
      "address": {"locality": "Maxstadt", "postal_code": "12344", "country": "DE", "street_address": "An der Weide 22"}
    }
  }
}`

// benchRequests: id_token.json asks for the most elements of any official
// example (plain claims, check_details, document_details with issuer,
// claims); verification_aml.json is the text's constraint example (IDA
// §5.5.1: value, values, check_method) and here filters out one evidence.
var benchRequests = []string{"examples/request/id_token.json", "examples/request/verification_aml.json"}

func BenchmarkEvaluate(b *testing.B) {
	ds := []byte(benchDataset)
	e := permissive(b)
	for _, rf := range benchRequests {
		req := officialBenchRequest(b, rf)
		b.Run(rf[len("examples/request/"):], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(ds)))
			for b.Loop() {
				r, err := e.ParseRequest(req, RequestOptions{})
				if err != nil {
					b.Fatal(err)
				}
				d, err := ParseDataset(ds)
				if err != nil {
					b.Fatal(err)
				}
				if res := e.Evaluate(r, d, testNow); len(res.IDToken)+len(res.UserInfo) == 0 {
					b.Fatal("nothing released")
				}
			}
		})
	}
}

// officialBenchRequest reads a request of the spec folder. The published
// numbers were measured with the official examples, so without the folder
// the benchmark does not run (tests never depend on it).
func officialBenchRequest(b *testing.B, rel string) []byte {
	b.Helper()
	dir, looked := specdir.Find()
	if dir == "" {
		b.Skipf("benchmark requests are the official examples; spec folder not found; looked in %v", looked)
	}
	req, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		b.Fatal(err)
	}
	return req
}

func BenchmarkJSONRoundTrip(b *testing.B) {
	ds := []byte(benchDataset)
	b.ReportAllocs()
	b.SetBytes(int64(len(ds)))
	for b.Loop() {
		var v any
		if err := json.Unmarshal(ds, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
