package ida

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The tree parser and writer agree with encoding/json on what a JSON text
// means.
func TestJSONTreeRoundTrip(t *testing.T) {
	for _, in := range []string{
		`null`, `true`, `false`, `0`, `-1.5e+10`, `1E3`, `"plain"`, `""`,
		`"esc \" \\ \/ \b \f \n \r \t \u0001 \u00e9 \u2028"`,
		`"pair \ud83d\ude00 lone \ud800 end"`,
		`{"a": [1, {"b": null}, []], "c": {}, "d\n": "x"}`,
		`  [ "Jörg", "東京" ]  `,
	} {
		v, err := parseJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out := appendJSON(nil, &v)
		var a, b any
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("%s: wrote invalid JSON %s", in, out)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: round trip gave %s", in, out)
		}
	}
}

func TestJSONTreeRejects(t *testing.T) {
	for _, in := range []string{
		``, `{`, `[1,]`, `{"a":1,}`, `01`, `1.`, `-`, `.5`, `"\x"`, "\"a\x01\"", `"\u12"`, `tru`, `{"a" 1}`, `{1: 2}`, `[1] [2]`,
		`{"a": 1, "a": 2}`, "\"\xff\"", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		if _, err := parseJSON([]byte(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
	// Large objects switch to a set for the duplicate check.
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 100; i++ {
		b.WriteString(`"k` + itoa(i) + `": 1,`)
	}
	b.WriteString(`"k7": 2}`)
	_, err := parseJSON([]byte(b.String()))
	var pe *parseError
	if !errors.As(err, &pe) || pe.err != errDuplicate || pe.name != "k7" {
		t.Errorf("duplicate in a large object: %v", err)
	}
}

func TestValueEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{
		{`1`, `1.0`, true}, {`1`, `"1"`, false}, {`true`, `true`, true}, {`"a"`, `"a"`, true},
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, true}, {`[1,2]`, `[2,1]`, false}, {`null`, `null`, true},
	} {
		a, _ := parseJSON([]byte(tc.a))
		b, _ := parseJSON([]byte(tc.b))
		if a.equal(&b) != tc.eq {
			t.Errorf("%s == %s: want %v", tc.a, tc.b, tc.eq)
		}
	}
}

func TestParseInstant(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2021-06-06", true}, {"2021-06-06T05:32Z", true}, {"2021-06-06T05:32:10Z", true}, {"2021-06-06T05:32:10.5+09:00", true},
		{"2021-06-06T05:32+09:00", true}, {"2021-13-01", false}, {"yesterday", false}, {"2021-06-06T05Z", false},
	} {
		if _, ok := parseInstantString(tc.in); ok != tc.ok {
			t.Errorf("parseInstant(%q) ok=%v", tc.in, ok)
		}
	}
}
