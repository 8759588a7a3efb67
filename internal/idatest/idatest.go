// Package idatest holds the project's own OIDC4IDA test data, written by
// the project from the texts of the standard: a JSON schema of the
// verified_claims response, request examples and response examples (also
// datasets). A clone of the repository alone validates with them; the
// official schemas of the spec folder (internal/specdir) are an extra
// check when present, loaded by OfficialVerifiedClaimsSchema.
//
// Only tests import it.
package idatest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata
var files embed.FS

// File returns testdata/<name>, e.g. "responses/document.json". A missing
// file is a typo in a test, so it panics.
func File(name string) []byte {
	b, err := files.ReadFile("testdata/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

// Files lists the JSON files of testdata/<dir> ("requests", "responses"),
// sorted, as names File takes.
func Files(dir string) []string {
	ents, err := fs.ReadDir(files, "testdata/"+dir)
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".json" {
			out = append(out, dir+"/"+e.Name())
		}
	}
	sort.Strings(out)
	return out
}

var own = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(File("schema/verified_claims.json")))
	if err != nil {
		return nil, err
	}
	const id = "https://idaop.dev/testdata/schema/verified_claims.json"
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
})

// VerifiedClaimsSchema is the project's own schema of a response holding
// verified_claims (testdata/schema/verified_claims.json), compiled once.
func VerifiedClaimsSchema() (*jsonschema.Schema, error) { return own() }

var (
	officialMu sync.Mutex
	official   = map[string]*jsonschema.Schema{}
)

// OfficialVerifiedClaimsSchema compiles specDir/schema/verified_claims.json,
// with its sibling schema files loaded under their $id so the cross-file
// references resolve offline. Compiled once per folder.
func OfficialVerifiedClaimsSchema(specDir string) (*jsonschema.Schema, error) {
	officialMu.Lock()
	defer officialMu.Unlock()
	if s, ok := official[specDir]; ok {
		return s, nil
	}
	s, err := compileOfficial(specDir, "verified_claims.json")
	if err != nil {
		return nil, fmt.Errorf("compiling the official verified_claims schema: %w", err)
	}
	official[specDir] = s
	return s, nil
}

// OfficialRequestSchema compiles specDir/schema/verified_claims_request.json
// (with its siblings, as OfficialVerifiedClaimsSchema).
func OfficialRequestSchema(specDir string) (*jsonschema.Schema, error) {
	return compileOfficial(specDir, "verified_claims_request.json")
}

// compileOfficial loads the three official schema files of specDir under
// their $id and compiles the one named root.
func compileOfficial(specDir, root string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	var rootID string
	for _, f := range []string{"claims_schema.json", "verified_claims.json", "verified_claims_request.json"} {
		id, err := addSchemaFile(c, filepath.Join(specDir, "schema", f))
		if err != nil {
			return nil, err
		}
		if f == root {
			rootID = id
		}
	}
	return c.Compile(rootID)
}

func addSchemaFile(c *jsonschema.Compiler, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	if id == "" {
		id = "file:///" + filepath.Base(path)
	}
	if err := c.AddResource(id, doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// Validate checks one verified_claims value (raw JSON: an object or an
// array) against s. The Japanese profile's __response_metadata is set
// aside first: the profile adds it to carry errors, and neither schema
// knows it.
func Validate(s *jsonschema.Schema, verifiedClaims []byte) error {
	var v any
	if err := json.Unmarshal(verifiedClaims, &v); err != nil {
		return fmt.Errorf("verified_claims is not JSON: %w", err)
	}
	StripResponseMetadata(v)
	body, err := json.Marshal(map[string]any{"verified_claims": v})
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

// StripResponseMetadata deletes __response_metadata from a decoded
// verified_claims object or from each element of an array.
func StripResponseMetadata(vc any) {
	switch x := vc.(type) {
	case map[string]any:
		delete(x, "__response_metadata")
	case []any:
		for _, el := range x {
			StripResponseMetadata(el)
		}
	}
}
