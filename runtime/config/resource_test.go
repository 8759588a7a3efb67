package config

import "testing"

func TestCheckResourceIndicator(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"https://api.bank.example/", ""},
		{"https://api.bank.example/accounts?v=2", ""},
		{"urn:bank:payments", ""},
		{"https://api.bank.example/#frag", "has a fragment"},
		{"https://api.bank.example/#", "has a fragment"},
		{"/accounts", "not an absolute URI"},
		{"api.bank.example", "not an absolute URI"},
		{"https://", "not an absolute URI"},
		{"https://a b/", "not an absolute URI"},
		{"", "not an absolute URI"},
		{"https://api.bank.example/" + string(make([]byte, 500)), "longer than 512 characters"},
	} {
		err := CheckResourceIndicator(tc.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("CheckResourceIndicator(%.40q) = %q, want %q", tc.in, got, tc.err)
		}
	}
}
