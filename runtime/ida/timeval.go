package ida

import (
	"math"
	"time"
)

// instant is a parsed date or timestamp. A date-only value stands for the
// last second of that day in UTC when an instant is needed (IDA §5.5.2
// says the last valid second but names no time zone; UTC is our choice),
// and keeps its calendar date for comparisons that ignore the time of day.
type instant struct {
	t       time.Time // for dates: 23:59:59Z of that day
	dateY   int
	dateM   time.Month
	dateD   int
	hasTime bool
}

// Timestamps are YYYY-MM-DDThh:mm[:ss[.frac]]TZD (SCH §5.4.2): seconds are
// optional, the zone is Z or an offset.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"}

// parseInstant parses a date or timestamp string; numbers are seconds since
// the epoch (updated_at).
func parseInstant(v *value) (instant, bool) {
	switch v.kind {
	case kString:
		return parseInstantString(v.str)
	case kNumber:
		f, ok := v.number()
		if !ok || math.IsNaN(f) || math.Abs(f) > 1e13 {
			return instant{}, false
		}
		t := time.Unix(int64(f), 0).UTC()
		y, m, d := t.Date()
		return instant{t: t, dateY: y, dateM: m, dateD: d, hasTime: true}, true
	}
	return instant{}, false
}

func parseInstantString(s string) (instant, bool) {
	if len(s) == 10 {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return instant{}, false
		}
		y, m, dd := d.Date()
		return instant{t: time.Date(y, m, dd, 23, 59, 59, 0, time.UTC), dateY: y, dateM: m, dateD: dd}, true
	}
	if len(s) < 16 || len(s) > 40 {
		return instant{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			y, m, d := t.Date() // the calendar date as written, in its own zone
			return instant{t: t, dateY: y, dateM: m, dateD: d, hasTime: true}, true
		}
	}
	return instant{}, false
}

// compareInstants orders a and b. The time of day counts only when both
// carry one (ASC §8.4: date vs datetime ignores the time).
func compareInstants(a, b instant) int {
	if a.hasTime && b.hasTime {
		return a.t.Compare(b.t)
	}
	switch {
	case a.dateY != b.dateY:
		return cmpInt(a.dateY, b.dateY)
	case a.dateM != b.dateM:
		return cmpInt(int(a.dateM), int(b.dateM))
	default:
		return cmpInt(a.dateD, b.dateD)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// withinMaxAge: no more than maxAge seconds may have passed between the
// value and now (IDA §5.5.2). Unparseable values never satisfy it.
func withinMaxAge(v *value, maxAge int64, now time.Time) bool {
	in, ok := parseInstant(v)
	if !ok {
		return false
	}
	// Whole seconds: time.Duration would saturate for old values.
	return now.Unix()-in.t.Unix() <= maxAge
}
