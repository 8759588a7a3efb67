package rptest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NodeRP is test/oidc-client/rp.mjs (openid-client v6) running as a child
// process; see the script for its protocol and environment.
type NodeRP struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *SyncBuffer
}

// StartNodeRP starts rp.mjs with env added to this process's environment;
// it is stopped when t ends or ctx is done.
func StartNodeRP(t testing.TB, ctx context.Context, root string, env ...string) *NodeRP {
	t.Helper()
	return StartNodeScript(t, ctx, root, "rp.mjs", env...)
}

// StartNodeScript is StartNodeRP for another relying party script of
// test/oidc-client that speaks the same protocol (fapi2.mjs).
func StartNodeScript(t testing.TB, ctx context.Context, root, script string, env ...string) *NodeRP {
	t.Helper()
	node, dir := RequireNodeClient(t, root)
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	rp := &NodeRP{cmd: cmd, stderr: &SyncBuffer{}}
	cmd.Stderr = rp.stderr
	var err error
	if rp.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rp.lines = bufio.NewScanner(stdout)
	rp.lines.Buffer(make([]byte, 0, 64<<10), 4<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rp.stdin.Close()
		_ = cmd.Wait()
	})
	return rp
}

// Next reads the next JSON event; an error event or another event fails t.
func (rp *NodeRP) Next(t testing.TB, want string) map[string]any {
	t.Helper()
	if !rp.lines.Scan() {
		t.Fatalf("openid-client ended before %q: %v\nstderr: %s", want, rp.lines.Err(), rp.stderr)
	}
	var ev map[string]any
	if err := json.Unmarshal(rp.lines.Bytes(), &ev); err != nil {
		t.Fatalf("openid-client printed %q: %v", rp.lines.Text(), err)
	}
	if ev["event"] != want {
		t.Fatalf("openid-client: want %q, got:\n%s\nstderr: %s", want, Pretty(ev), rp.stderr)
	}
	return ev
}

// Send writes one line (the callback URL) to the script.
func (rp *NodeRP) Send(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(rp.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}
