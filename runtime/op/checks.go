package op

// check is one rule of a request: it passes (nil) or answers with the one
// OAuth error the rule's text names. Each endpoint step runs an ordered
// list of them over its own request context (authzCtx, codeRedemption,
// refreshRequest); a rule lives in exactly one check, named after it.
type check[T any] func(T) *oauthError

// runChecks applies the checks in order and returns the first refusal.
func runChecks[T any](ctx T, checks []check[T]) *oauthError {
	for _, c := range checks {
		if err := c(ctx); err != nil {
			return err
		}
	}
	return nil
}
