package op

import "context"

// otpStage: no one-time codes yet.
func (p *Provider) otpStage(ctx context.Context, sv *served, subject string) string { return "" }
