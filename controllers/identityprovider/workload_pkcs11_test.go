package identityprovider

import (
	"testing"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func TestRuntimeImage(t *testing.T) {
	token := &idav1alpha1.PKCS11KeyStore{Module: "/usr/lib/vendor/libpkcs11.so", TokenLabel: "ida"}
	cases := []struct {
		name         string
		override     string
		pkcs11       *idav1alpha1.PKCS11KeyStore
		static, flag string
		want         string
	}{
		{"keys in the Secret", "", nil, "ghcr.io/idaop/ida-operator:v1.2.3", "", "ghcr.io/idaop/ida-operator:v1.2.3"},
		{"keys in a token", "", token, "ghcr.io/idaop/ida-operator:v1.2.3", "", "ghcr.io/idaop/ida-operator:v1.2.3-pkcs11"},
		{"untagged", "", token, "registry.local:5000/ida-operator", "", "registry.local:5000/ida-operator:latest-pkcs11"},
		{"pinned by digest", "", token, "ghcr.io/idaop/ida-operator@sha256:" + repeat64, "", "ghcr.io/idaop/ida-operator@sha256:" + repeat64},
		{"operator flag", "", token, "ghcr.io/idaop/ida-operator:v1.2.3", "mirror.bank/ida-operator:v1.2.3-cgo", "mirror.bank/ida-operator:v1.2.3-cgo"},
		{"provider override", "mirror.bank/custom:1", token, "ghcr.io/idaop/ida-operator:v1.2.3", "mirror.bank/ida-operator:x", "mirror.bank/custom:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			idp := &idav1alpha1.IdentityProvider{}
			idp.Spec.Runtime.Image = c.override
			idp.Spec.Signing.KeyStore.PKCS11 = c.pkcs11
			if got := runtimeImage(idp, c.static, c.flag); got != c.want {
				t.Errorf("runtimeImage = %s, want %s", got, c.want)
			}
		})
	}
}

const repeat64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
