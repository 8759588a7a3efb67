// Package statuswrite writes the status of the operator's objects, the same way
// for every kind: only when it changed, and a lost update race is retried
// rather than reported as an error.
package statuswrite

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ConflictRetry is how soon a status write that lost an update race is tried
// again. The reconcilers' predicates filter out status-only changes, so the
// newer object's own event would not bring the change back.
const ConflictRetry = 200 * time.Millisecond

// IfChanged updates obj's status subresource unless changed is false. conflict
// reports a lost race: requeue after ConflictRetry.
func IfChanged(ctx context.Context, c client.Client, obj client.Object, changed bool) (conflict bool, err error) {
	if !changed {
		return false, nil
	}
	if err := c.Status().Update(ctx, obj); err != nil {
		if apierrors.IsConflict(err) {
			return true, nil
		}
		return false, fmt.Errorf("updating status of %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return false, nil
}

// Update makes desired obj's status, current being a pointer to obj's status
// field, and writes it when it differs from what was read.
func Update[S any](ctx context.Context, c client.Client, obj client.Object, current, desired *S) (conflict bool, err error) {
	changed := !equality.Semantic.DeepEqual(current, desired)
	*current = *desired
	return IfChanged(ctx, c, obj, changed)
}
