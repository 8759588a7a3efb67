package config

import (
	"errors"
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxResources bounds the resource indicators a provider offers and a
// request names.
const MaxResources = 32

// CheckResourceIndicator is the form of a resource indicator (RFC 8707
// §2): an absolute URI (a URL or, say, a URN) without a fragment.
func CheckResourceIndicator(s string) error {
	if len(s) > 512 {
		return errors.New("longer than 512 characters")
	}
	if strings.Contains(s, "#") {
		return errors.New("has a fragment")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || (u.Host == "" && u.Opaque == "") {
		return errors.New("not an absolute URI")
	}
	return nil
}

func validateResources(path *field.Path, rs []string) field.ErrorList {
	var errs field.ErrorList
	if len(rs) > MaxResources {
		errs = append(errs, field.TooMany(path, len(rs), MaxResources))
	}
	for i, r := range rs {
		if err := CheckResourceIndicator(r); err != nil {
			errs = append(errs, invalid(path.Index(i), "%s", err))
		}
		if slices.Contains(rs[:i], r) {
			errs = append(errs, invalid(path.Index(i), "listed twice"))
		}
	}
	return errs
}
