package config

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AsError reads errs as people do, one "path: detail" a line (each detail
// quotes the value it is about); nil when errs is empty. The runtime logs
// and reports this form.
func AsError(errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	lines := make([]error, len(errs))
	for i, e := range errs {
		lines[i] = fmt.Errorf("%s: %s", e.Field, e.Detail)
	}
	return errors.Join(lines...)
}

// invalid is a field error whose detail quotes the value itself, so that
// the value is not said twice.
func invalid(path *field.Path, format string, args ...any) *field.Error {
	return field.Invalid(path, field.OmitValueType{}, fmt.Sprintf(format, args...))
}
