package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The load engines. "conn" (the default) gives each worker one keep-alive
// connection of its own and speaks HTTP/1.1 on it directly: the request
// written in one piece, the answer read with net/http's own parser
// (http.ReadResponse: status line, headers, Content-Length or chunked
// body). It costs the load generator a few microseconds per request, so the
// server, not the client, sets the pace. "vegeta" is vegeta/v12's attacker
// (http.Transport underneath), several times dearer per request.
const (
	engineConn   = "conn"
	engineVegeta = "vegeta"
)

// engine is set once in main from the -engine flag.
var engine = engineConn

// attack fires requests from s.Concurrency workers, each waiting for its
// answer (closed loop, no rate limit), until the source runs dry, max
// requests are sent or d passes (d = 0: no time bound).
func attack(s settings, name string, d time.Duration, max int, src requestSource, want int, onBody func([]byte)) (*stats, time.Duration) {
	if engine == engineVegeta {
		return attackVegeta(s, name, d, max, src, want, onBody)
	}
	return attackConn(s, d, max, src, want, onBody)
}

// limited is src as a vegeta targeter that stops after max targets (0:
// no bound); it is safe for concurrent use when src is.
func limited(src requestSource, max int) vegeta.Targeter {
	var sent atomic.Int64
	return func(tgt *vegeta.Target) error {
		if max > 0 && sent.Add(1) > int64(max) {
			return vegeta.ErrNoTargets
		}
		if !src(tgt) {
			return vegeta.ErrNoTargets
		}
		return nil
	}
}

func attackConn(s settings, d time.Duration, max int, src requestSource, want int, onBody func([]byte)) (*stats, time.Duration) {
	next := limited(src, max)
	start := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = start.Add(d)
	}
	parts := make([]*stats, s.Concurrency)
	ends := make([]time.Time, s.Concurrency)
	var wg sync.WaitGroup
	for w := range s.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cw := &connWorker{st: &stats{}, want: want, onBody: onBody}
			defer cw.close()
			for deadline.IsZero() || time.Now().Before(deadline) {
				var tgt vegeta.Target
				if err := next(&tgt); err != nil {
					if err != vegeta.ErrNoTargets {
						cw.st.add(0, err.Error())
					}
					break
				}
				cw.do(&tgt)
			}
			parts[w], ends[w] = cw.st, time.Now()
		}()
	}
	wg.Wait()
	all := &stats{}
	for _, p := range parts {
		all.lat = append(all.lat, p.lat...)
		all.errs += p.errs
		if all.firstErr == "" {
			all.firstErr = p.firstErr
		}
	}
	return all, slices.MaxFunc(ends, time.Time.Compare).Sub(start)
}

// connWorker is one worker of the conn engine: its connection, buffers and
// latencies (merged after the run, so workers share no lock).
type connWorker struct {
	st     *stats
	want   int
	onBody func([]byte)

	rawURL string // the last target's URL, parsed and checked in u
	u      *url.URL
	conn   net.Conn
	bw     *bufio.Writer
	br     *bufio.Reader
	req    bytes.Buffer
	body   bytes.Buffer
}

// do sends one request and reads its answer, reconnecting when the server
// closed the connection.
func (c *connWorker) do(tgt *vegeta.Target) {
	if tgt.URL != c.rawURL {
		if err := mustLoopback(tgt.URL); err != nil {
			c.st.add(0, err.Error())
			return
		}
		u, _ := url.Parse(tgt.URL)
		if c.u != nil && c.u.Host != u.Host {
			c.close()
		}
		c.rawURL, c.u = tgt.URL, u
	}
	u := c.u
	if c.conn == nil {
		if err := c.dial(u.Host); err != nil {
			c.st.add(0, err.Error())
			return
		}
	}
	c.encode(tgt, u)
	t0 := time.Now()
	status, closing, err := c.roundTrip()
	lat := time.Since(t0)
	if closing || err != nil {
		c.close()
	}
	switch {
	case err != nil:
		c.st.add(0, err.Error())
	case status != c.want:
		c.st.add(0, fmt.Sprintf("status %d: %.200s", status, c.body.Bytes()))
	default:
		c.st.add(lat, "")
		if c.onBody != nil {
			c.onBody(bytes.Clone(c.body.Bytes()))
		}
	}
}

func (c *connWorker) dial(host string) error {
	c.close()
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn = conn
	c.bw = bufio.NewWriterSize(conn, 8<<10)
	c.br = bufio.NewReaderSize(conn, 32<<10)
	return nil
}

func (c *connWorker) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// encode writes the request in HTTP/1.1 form: the same request line and
// headers for every server, a Content-Length when there is a body.
func (c *connWorker) encode(tgt *vegeta.Target, u *url.URL) {
	b := &c.req
	b.Reset()
	b.WriteString(tgt.Method)
	b.WriteByte(' ')
	b.WriteString(u.RequestURI())
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(u.Host)
	b.WriteString("\r\nUser-Agent: ida-loadtool\r\n")
	for k, vs := range tgt.Header {
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
	}
	if len(tgt.Body) > 0 || tgt.Method == http.MethodPost {
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(len(tgt.Body)))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(tgt.Body)
}

// roundTrip writes the encoded request and reads the whole answer into
// c.body.
func (c *connWorker) roundTrip() (status int, closing bool, err error) {
	c.conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.bw.Write(c.req.Bytes()); err != nil {
		return 0, true, err
	}
	if err := c.bw.Flush(); err != nil {
		return 0, true, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, true, err
	}
	c.body.Reset()
	_, err = io.Copy(&c.body, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Close, err
}

// attackVegeta is the same run with vegeta's attacker.
func attackVegeta(s settings, name string, d time.Duration, max int, src requestSource, want int, onBody func([]byte)) (*stats, time.Duration) {
	next := limited(src, max)
	tr := func(tgt *vegeta.Target) error {
		if err := next(tgt); err != nil {
			return err
		}
		return mustLoopback(tgt.URL)
	}
	c := uint64(s.Concurrency)
	a := vegeta.NewAttacker(vegeta.Workers(c), vegeta.MaxWorkers(c), vegeta.Connections(s.Concurrency),
		vegeta.MaxConnections(s.Concurrency), vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(15*time.Second), vegeta.HTTP2(false), vegeta.MaxBody(maxBody(onBody)))
	st := &stats{}
	start := time.Now()
	var last time.Time
	for res := range a.Attack(tr, vegeta.Rate{Freq: 0}, d, name) {
		if res.Error == vegeta.ErrNoTargets.Error() || strings.HasPrefix(res.Error, "refusing") {
			continue
		}
		if end := res.End(); end.After(last) {
			last = end
		}
		switch {
		case res.Error != "" && res.Code == 0:
			st.add(0, res.Error)
		case int(res.Code) != want:
			st.add(0, fmt.Sprintf("status %d: %.200s", res.Code, res.Body))
		default:
			st.add(res.Latency, "")
			if onBody != nil {
				onBody(res.Body)
			}
		}
	}
	if last.IsZero() {
		last = time.Now()
	}
	return st, last.Sub(start)
}
