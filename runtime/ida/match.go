package ida

import "time"

// satisfies checks an element's own constraints: `value` and `values`
// compare JSON values exactly (a string never equals a number), `max_age`
// counts seconds up to now (IDA §5.5.2).
func satisfies(n *reqNode, d *value, now time.Time) bool {
	if n.value != nil && !d.equal(n.value) {
		return false
	}
	if n.values != nil {
		found := false
		for i := range n.values {
			if d.equal(&n.values[i]) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if n.hasMaxAge && !withinMaxAge(d, n.maxAge, now) {
		return false
	}
	return true
}
