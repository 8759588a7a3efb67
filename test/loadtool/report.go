package main

import (
	"fmt"
	"strings"
	"time"
)

// markdown renders the rows as the BENCHMARKS.md table: server × endpoint.
func markdown(rows []row, s settings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| server | endpoint | req/s | p50 | p99 | RSS after | server CPU/req | server cores busy | load generator cores busy | requests (errors) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Requests == 0 {
			fmt.Fprintf(&b, "| %s | %s | — | — | — | — | — | — | — | not driven: %s |\n", r.Server, r.Endpoint, r.Note)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %s | %.0f MiB | %.0f µs | %.2f | %.2f | %d (%d) |\n", r.Server, r.Endpoint, r.RPS,
			ms(r.P50), ms(r.P99), float64(r.RSSKiB)/1024, float64(r.CPUPerReq)/1e3, r.CPU.Seconds()/r.Window.Seconds(),
			r.ClientCPU.Seconds()/r.Window.Seconds(), r.Requests, r.Errors)
	}
	// Ratios of ida-operator to each peer on the endpoints both drove.
	by := map[string]map[string]row{}
	for _, r := range rows {
		if by[r.Server] == nil {
			by[r.Server] = map[string]row{}
		}
		by[r.Server][r.Endpoint] = r
	}
	ours := by["ida-operator"]
	for _, peer := range []string{"oidc-provider", "zitadel example"} {
		if by[peer] == nil || ours == nil {
			continue
		}
		fmt.Fprintf(&b, "\nida-operator vs %s (req/s ratio; server CPU per request ratio, peer/ours):", peer)
		for _, ep := range endpoints {
			o, p := ours[ep], by[peer][ep]
			if ep == epUserInfoStd {
				p = by[peer][epUserInfo] // the peers' UserInfo is standard claims only
			}
			if o.RPS > 0 && p.RPS > 0 {
				fmt.Fprintf(&b, " %s %.1fx", ep, o.RPS/p.RPS)
				if o.CPUPerReq > 0 && p.CPUPerReq > 0 {
					fmt.Fprintf(&b, " (CPU %.1fx)", float64(p.CPUPerReq)/float64(o.CPUPerReq))
				}
				b.WriteString(";")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
