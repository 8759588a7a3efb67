package ida

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// The transformation functions of ASC §8.4. Each declares its arity, checks
// its arguments and the (statically known) input type when the request is
// parsed, and runs on the claim value when the response is built. A
// function that cannot run on the actual input makes the claim unavailable.

// stype is a statically known type; tAny when unknown.
type stype struct {
	base  elemType
	array bool
	// maybeArray: an element-wise function ran on an input of unknown
	// type, so the result is base or an array of base.
	maybeArray bool
}

var (
	stAny    = stype{base: tAny}
	stNumber = stype{base: tNumber}
	stBool   = stype{base: tBool}
	stString = stype{base: tString}
)

// Bounds on what match may cost: RE2 runs in linear time, so bounding the
// pattern and the input bounds the work.
const (
	maxRegexLen      = 512
	maxMatchInputLen = 4096
)

type function struct {
	minArgs, maxArgs int
	// elementwise: applied to an array, it maps over the elements.
	elementwise bool
	// check validates the arguments and the input type; it returns the
	// output type for a scalar input.
	check func(c *fnCall, in stype) (stype, string)
	apply func(c *fnCall, in *value, now time.Time) (value, bool)
}

type fnCall struct {
	name string
	fn   *function
	args []value
	re   *regexp.Regexp
	arg  instant // a date argument, parsed once
	num  float64 // a number argument
}

var functions map[string]*function

func init() {
	functions = map[string]*function{
		"years_ago":   {maxArgs: 1, elementwise: true, check: checkYearsAgo, apply: applyYearsAgo},
		"eq":          {minArgs: 1, maxArgs: 1, elementwise: true, check: checkEq, apply: applyEq},
		"contains":    stringPredicate(strings.Contains),
		"starts_with": stringPredicate(strings.HasPrefix),
		"ends_with":   stringPredicate(strings.HasSuffix),
		"gt":          comparison(func(c int) bool { return c > 0 }),
		"lt":          comparison(func(c int) bool { return c < 0 }),
		"gte":         comparison(func(c int) bool { return c >= 0 }),
		"lte":         comparison(func(c int) bool { return c <= 0 }),
		"hash":        {minArgs: 1, maxArgs: 1, elementwise: true, check: checkHash, apply: applyHash},
		"any":         boolArray(func(t, n int) bool { return t > 0 }),
		"all":         boolArray(func(t, n int) bool { return t == n }),
		"none":        boolArray(func(t, n int) bool { return t == 0 }),
		"get":         {minArgs: 1, maxArgs: 1, check: checkGet, apply: applyGet},
		"match":       {minArgs: 1, maxArgs: 1, elementwise: true, check: checkMatch, apply: applyMatch},
	}
}

// FunctionNames lists the transformation functions the engine implements,
// for transformed_claims_functions_supported.
func FunctionNames() []string {
	return []string{"years_ago", "eq", "contains", "starts_with", "ends_with", "gt", "lt", "gte", "lte", "hash", "any", "all", "none", "get", "match"}
}

func stringish(t elemType) bool {
	return t == tAny || t == tString || t == tDate || t == tDateTime
}

func checkYearsAgo(c *fnCall, in stype) (stype, string) {
	if len(c.args) == 1 {
		a := &c.args[0]
		d, ok := parseInstant(a)
		if a.kind != kString || !ok {
			return stype{}, "the reference date must be a date string (YYYY-MM-DD)"
		}
		c.arg = d
	}
	if in.base != tAny && in.base != tDate && in.base != tDateTime {
		return stype{}, "needs a date or datetime input"
	}
	return stNumber, ""
}

func applyYearsAgo(c *fnCall, in *value, now time.Time) (value, bool) {
	d, ok := parseInstant(in)
	if !ok || d.dateY == 0 { // year 0000: unavailable (ASC §8.4.1)
		return value{}, false
	}
	ref := c.arg
	if len(c.args) == 0 {
		y, m, dd := now.UTC().Date()
		ref = instant{dateY: y, dateM: m, dateD: dd}
	}
	years := ref.dateY - d.dateY
	if ref.dateM < d.dateM || (ref.dateM == d.dateM && ref.dateD < d.dateD) {
		years--
	}
	return numberValue(float64(years)), true
}

func scalarArg(a *value) bool { return a.kind == kString || a.kind == kNumber || a.kind == kBool }

func checkEq(c *fnCall, in stype) (stype, string) {
	a := &c.args[0]
	if !scalarArg(a) {
		return stype{}, "the argument must be a string, number or boolean"
	}
	if msg := argFitsInput(a, in.base); msg != "" {
		return stype{}, msg
	}
	return stBool, ""
}

// argFitsInput: a comparison argument of a type the input can never have
// is a wrong argument type (ASC §8.7 rule 2).
func argFitsInput(a *value, in elemType) string {
	switch in {
	case tString, tDate:
		if a.kind != kString {
			return "the argument must be a string for this input"
		}
	case tDateTime:
		if a.kind == kBool {
			return "the argument must be a date or datetime for this input"
		}
	case tNumber:
		if a.kind != kNumber {
			return "the argument must be a number for this input"
		}
	case tBool:
		if a.kind != kBool {
			return "the argument must be a boolean for this input"
		}
	case tObject, tArray:
		return "the input is not a string, number or boolean"
	}
	return ""
}

func applyEq(c *fnCall, in *value, _ time.Time) (value, bool) {
	a := &c.args[0]
	switch {
	case in.kind == kString && a.kind == kString:
		// Dates and datetimes compare as such; other strings exactly.
		if x, ok := parseInstant(in); ok {
			if y, ok := parseInstant(a); ok {
				return boolValue(compareInstants(x, y) == 0), true
			}
		}
		return boolValue(in.str == a.str), true
	case in.kind == kNumber && a.kind == kNumber:
		x, ok1 := in.number()
		y, ok2 := a.number()
		return boolValue(ok1 && ok2 && x == y), ok1 && ok2
	case in.kind == kBool && a.kind == kBool:
		return boolValue(in.str == a.str), true
	case in.kind == kNumber && a.kind == kString: // datetime number vs date
		x, ok1 := parseInstant(in)
		y, ok2 := parseInstant(a)
		return boolValue(ok1 && ok2 && compareInstants(x, y) == 0), ok1 && ok2
	}
	return value{}, false
}

func stringPredicate(f func(s, sub string) bool) *function {
	return &function{minArgs: 1, maxArgs: 1, elementwise: true,
		check: func(c *fnCall, in stype) (stype, string) {
			if c.args[0].kind != kString {
				return stype{}, "the argument must be a string"
			}
			if !stringish(in.base) {
				return stype{}, "needs a string input"
			}
			return stBool, ""
		},
		apply: func(c *fnCall, in *value, _ time.Time) (value, bool) {
			if in.kind != kString {
				return value{}, false
			}
			return boolValue(f(in.str, c.args[0].str)), true
		}}
}

func comparison(ok func(int) bool) *function {
	return &function{minArgs: 1, maxArgs: 1, elementwise: true,
		check: func(c *fnCall, in stype) (stype, string) {
			a := &c.args[0]
			switch a.kind {
			case kNumber:
				c.num, _ = a.number()
				if in.base != tAny && in.base != tNumber && in.base != tDateTime {
					return stype{}, "a number argument needs a number input"
				}
			case kString:
				d, good := parseInstant(a)
				if !good {
					return stype{}, "the argument must be a number, date or datetime"
				}
				c.arg = d
				if in.base != tAny && in.base != tDate && in.base != tDateTime {
					return stype{}, "a date argument needs a date or datetime input"
				}
			default:
				return stype{}, "the argument must be a number, date or datetime"
			}
			return stBool, ""
		},
		apply: func(c *fnCall, in *value, _ time.Time) (value, bool) {
			if c.args[0].kind == kNumber {
				if in.kind != kNumber {
					return value{}, false
				}
				x, good := in.number()
				if !good {
					return value{}, false
				}
				return boolValue(ok(cmpFloat(x, c.num))), true
			}
			x, good := parseInstant(in)
			if !good {
				return value{}, false
			}
			return boolValue(ok(compareInstants(x, c.arg))), true
		}}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func checkHash(c *fnCall, in stype) (stype, string) {
	a := &c.args[0]
	if a.kind != kString || (a.str != "sha-256" && a.str != "sha-512") {
		return stype{}, "the hash algorithm must be sha-256 or sha-512"
	}
	if !stringish(in.base) {
		return stype{}, "needs a string input"
	}
	return stString, ""
}

// applyHash hashes the NFC form, so composed and decomposed spellings of
// the same name give the same digest (ASC leaves normalisation open).
func applyHash(c *fnCall, in *value, _ time.Time) (value, bool) {
	if in.kind != kString {
		return value{}, false
	}
	s := norm.NFC.String(in.str)
	if c.args[0].str == "sha-512" {
		sum := sha512.Sum512([]byte(s))
		return stringValue(hex.EncodeToString(sum[:])), true
	}
	sum := sha256.Sum256([]byte(s))
	return stringValue(hex.EncodeToString(sum[:])), true
}

func boolArray(f func(trues, n int) bool) *function {
	return &function{
		check: func(c *fnCall, in stype) (stype, string) {
			if in.base != tAny && !(in.base == tBool && (in.array || in.maybeArray)) {
				return stype{}, "needs an array of booleans"
			}
			return stBool, ""
		},
		apply: func(c *fnCall, in *value, _ time.Time) (value, bool) {
			if in.kind != kArray {
				return value{}, false
			}
			trues := 0
			for i := range in.arr {
				if in.arr[i].kind != kBool {
					return value{}, false
				}
				if in.arr[i].boolean() {
					trues++
				}
			}
			return boolValue(f(trues, len(in.arr))), true
		}}
}

func checkGet(c *fnCall, in stype) (stype, string) {
	if c.args[0].kind != kString {
		return stype{}, "the key must be a string"
	}
	if in.base != tAny && in.base != tObject || in.array {
		return stype{}, "needs an object input"
	}
	return stAny, ""
}

func applyGet(c *fnCall, in *value, _ time.Time) (value, bool) {
	if in.kind != kObject {
		return value{}, false
	}
	if v := in.get(c.args[0].str); v != nil {
		return *v, true
	}
	return value{}, false
}

func checkMatch(c *fnCall, in stype) (stype, string) {
	a := &c.args[0]
	if a.kind != kString {
		return stype{}, "the regular expression must be a string"
	}
	if len(a.str) > maxRegexLen {
		return stype{}, "the regular expression is longer than 512 bytes"
	}
	re, err := regexp.Compile(a.str)
	if err != nil {
		return stype{}, "the regular expression does not compile (RE2 syntax)"
	}
	c.re = re
	if !stringish(in.base) {
		return stype{}, "needs a string input"
	}
	return stBool, ""
}

func applyMatch(c *fnCall, in *value, _ time.Time) (value, bool) {
	if in.kind != kString || len(in.str) > maxMatchInputLen {
		return value{}, false
	}
	return boolValue(c.re.MatchString(in.str)), true
}

// run applies one call, mapping over arrays for element-wise functions.
func (c *fnCall) run(in *value, now time.Time) (value, bool) {
	if c.fn.elementwise && in.kind == kArray {
		out := value{kind: kArray, arr: make([]value, len(in.arr))}
		for i := range in.arr {
			v, ok := c.fn.apply(c, &in.arr[i], now)
			if !ok {
				return value{}, false
			}
			out.arr[i] = v
		}
		return out, true
	}
	return c.fn.apply(c, in, now)
}
