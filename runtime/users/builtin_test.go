package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// testHash is a MinCost hash of "correct horse", made once: tests need the
// format, not the cost.
var testHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

const testVerified = `{"verification":{"trust_framework":"jp_aml","time":"2024-01-01T00:00:00Z"},"claims":{"given_name":"Ada"}}`

func usersDoc(entries ...string) []byte {
	return []byte(`{"users":[` + strings.Join(entries, ",") + `]}`)
}

func userEntry(sub, name string, extra string) string {
	s := fmt.Sprintf(`{"subject":%q,"username":%q,"password_hash":%q`, sub, name, testHash())
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestBuiltinValid(t *testing.T) {
	b, err := NewBuiltin(usersDoc(
		userEntry("s1", "ada", `"claims":{"name":"Ada Lovelace","email":"ada@example.com"},"verified_claims":`+testVerified),
		userEntry("s2", "bob", `"verified_claims":[`+testVerified+`,`+testVerified+`]`),
		userEntry("s3", "cy", ""),
	))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 {
		t.Fatalf("Len = %d", b.Len())
	}
	ctx := context.Background()
	u, err := b.Authenticate(ctx, "ada", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if u.Subject != "s1" || u.Username != "ada" || string(u.Claims["name"]) != `"Ada Lovelace"` {
		t.Errorf("user = %+v", u)
	}
	var ds map[string]json.RawMessage
	if err := json.Unmarshal(u.Dataset, &ds); err != nil {
		t.Fatal(err)
	}
	if _, ok := ds["verified_claims"]; !ok || string(ds["email"]) != `"ada@example.com"` {
		t.Errorf("dataset = %s", u.Dataset)
	}

	u, err = b.Lookup(ctx, "s3")
	if err != nil || u.Username != "cy" || len(u.Claims) != 0 {
		t.Fatalf("Lookup s3 = %+v, %v", u, err)
	}
	if string(u.Dataset) != "{}" {
		t.Errorf("empty dataset = %s", u.Dataset)
	}
	if _, err := b.Lookup(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup unknown: %v", err)
	}
}

func TestBuiltinAuthenticateFailures(t *testing.T) {
	b, err := NewBuiltin(usersDoc(userEntry("s1", "ada", "")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct{ name, user, pw string }{
		{"wrong password", "ada", "wrong"},
		{"unknown user", "eve", "correct horse"},
		{"empty password", "ada", ""},
		{"case differs", "Ada", "correct horse"},
		{"over 72 bytes", "ada", "correct horse" + strings.Repeat("x", 80)},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, err := b.Authenticate(ctx, c.user, c.pw)
			if !errors.Is(err, ErrInvalidCredentials) || u != nil {
				t.Fatalf("got %v, %v", u, err)
			}
			if strings.Contains(err.Error(), c.user) || (c.pw != "" && strings.Contains(err.Error(), c.pw)) {
				t.Errorf("error reveals input: %v", err)
			}
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// Fill every slot so the call has to wait, then see it give up.
	for range cap(b.slots) {
		b.slots <- struct{}{}
	}
	if _, err := b.Authenticate(cancelled, "ada", "correct horse"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled while waiting: %v", err)
	}
}

// The dummy hash must cost what the real ones cost, or timing tells which
// usernames exist.
func TestBuiltinDummyHashMatchesCost(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuiltin(usersDoc(
		userEntry("s1", "ada", ""),
		fmt.Sprintf(`{"subject":"s2","username":"bob","password_hash":%q}`, h),
	))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost(b.dummyHash); c != bcrypt.MinCost+1 {
		t.Errorf("dummy cost = %d, want %d", c, bcrypt.MinCost+1)
	}
}

func TestBuiltinInvalid(t *testing.T) {
	ok := func(extra string) string { return userEntry("s1", "ada", extra) }
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"not JSON", `{`, "users.json: must be a JSON object"},
		{"null", `null`, "users.json: must be a JSON object"},
		{"array", `[]`, "users.json: must be a JSON object"},
		{"trailing data", `{"users":[]} {}`, "users.json: must be a JSON object"},
		{"unknown top member", `{"users":[],"groups":[]}`, "users.json: groups: unknown member"},
		{"users missing", `{}`, "users: must be an array"},
		{"users object", `{"users":{}}`, "users: must be an array"},
		{"entry not object", `{"users":["ada"]}`, "users[0]: must be an object"},
		{"subject missing", `{"users":[{"username":"ada","password_hash":"` + testHash() + `"}]}`, "users[0].subject: required"},
		{"subject number", `{"users":[{"subject":1,"username":"ada","password_hash":"` + testHash() + `"}]}`, "users[0].subject: must be a string"},
		{"subject empty", string(usersDoc(userEntry("", "ada", ""))), "users[0].subject: must not be empty"},
		{"subject with space", string(usersDoc(userEntry("a b", "ada", ""))), "users[0].subject: must be at most 255 printable ASCII characters"},
		{"subject too long", string(usersDoc(userEntry(strings.Repeat("s", 256), "ada", ""))), "users[0].subject: must be at most 255"},
		{"username missing", `{"users":[{"subject":"s1","password_hash":"` + testHash() + `"}]}`, "users[0].username: required"},
		{"username padded", string(usersDoc(userEntry("s1", " ada", ""))), "users[0].username: must be valid UTF-8"},
		{"hash missing", `{"users":[{"subject":"s1","username":"ada"}]}`, "users[0].password_hash: required"},
		{"hash plain text", `{"users":[{"subject":"s1","username":"ada","password_hash":"hunter2"}]}`, "users[0].password_hash: not a bcrypt hash"},
		{"typo member", `{"users":[{"subject":"s1","username":"ada","pasword_hash":"x"}]}`, "users[0].pasword_hash: unknown member"},
		{"claims array", string(usersDoc(ok(`"claims":[]`))), "users[0].claims: must be an object"},
		{"claims sub", string(usersDoc(ok(`"claims":{"sub":"x"}`))), "users[0].claims.sub: not allowed here"},
		{"claims verified_claims", string(usersDoc(ok(`"claims":{"verified_claims":{}}`))), "users[0].claims.verified_claims: not allowed here"},
		{"verified string", string(usersDoc(ok(`"verified_claims":"yes"`))), "users[0].verified_claims: must be an object or an array of objects"},
		{"verified empty array", string(usersDoc(ok(`"verified_claims":[]`))), "users[0].verified_claims: must not be an empty array"},
		{"verification missing", string(usersDoc(ok(`"verified_claims":{"claims":{}}`))), "users[0].verified_claims.verification: must be an object"},
		{"trust framework missing", string(usersDoc(ok(`"verified_claims":{"verification":{},"claims":{}}`))), "users[0].verified_claims.verification.trust_framework: must be a non-empty string"},
		{"claims missing in entry", string(usersDoc(ok(`"verified_claims":[` + testVerified + `,{"verification":{"trust_framework":"x"}}]`))), "users[0].verified_claims[1].claims: must be an object"},
		{"entry not object", string(usersDoc(ok(`"verified_claims":[1]`))), "users[0].verified_claims[0]: must be an object"},
		{"second user bad", string(usersDoc(userEntry("s1", "ada", ""), userEntry("s2", "bob", `"claims":1`))), "users[1].claims: must be an object"},
		{"duplicate subject", string(usersDoc(userEntry("s1", "ada", ""), userEntry("s2", "bob", ""), userEntry("s1", "cy", ""))), "users[2].subject: same as users[0].subject"},
		{"duplicate username", string(usersDoc(userEntry("s1", "ada", ""), userEntry("s2", "ada", ""))), "users[1].username: same as users[0].username"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewBuiltin([]byte(c.doc))
			if err == nil {
				t.Fatalf("accepted %s", c.doc)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %q, want prefix %q", err, c.want)
			}
			if strings.Contains(err.Error(), testHash()) {
				t.Errorf("error reveals the hash: %v", err)
			}
		})
	}
}

func TestBuiltinEmptyList(t *testing.T) {
	b, err := NewBuiltin([]byte(`{"users":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(context.Background(), "ada", "pw"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("got %v", err)
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")) != nil {
		t.Error("hash does not verify")
	}
	if c, _ := bcrypt.Cost([]byte(h)); c != HashCost {
		t.Errorf("cost = %d", c)
	}
	for _, bad := range []string{"", strings.Repeat("x", 73)} {
		if _, err := HashPassword(bad); err == nil {
			t.Errorf("HashPassword(%d bytes) accepted", len(bad))
		}
	}
}
