// Package claimscmd is the `ida-operator claims` command: it evaluates a
// claims request against one person's dataset with the IDA engine, for
// people who build relying parties and for tests.
//
//	claims evaluate --request R.json --dataset D.json [--now RFC3339] [--scope "openid ..."] [--provider P.json]
//	claims validate-request R.json
//
// Exit codes: 0 success (JSON on stdout), 2 refused request (the OAuth error
// object on stdout), 1 usage or I/O error (a message on stderr).
package claimscmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idaop/ida-operator/runtime/ida"
)

const usage = `usage:
  claims evaluate --request R.json --dataset D.json [--now RFC3339] [--scope "openid ..."] [--provider P.json]
  claims validate-request R.json
`

// Exit codes of the command's contract.
const (
	exitOK      = 0
	exitUsage   = 1
	exitRefused = 2
)

// Run runs the command; args start after the word "claims".
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "evaluate":
		return evaluate(args[1:], stdout, stderr)
	case "validate-request":
		return validateRequest(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "claims: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func evaluate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("claims evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reqPath := fs.String("request", "", "the claims authorization parameter (JSON file)")
	dsPath := fs.String("dataset", "", "what the provider holds for one person (JSON file)")
	nowStr := fs.String("now", "", "evaluation time, RFC 3339 (default: the current time)")
	scope := fs.String("scope", "", "the scope parameter, e.g. \"openid jp_oidf_ida\"")
	provPath := fs.String("provider", "", "provider config; its \"ida\" member is the policy (default: accept every trust framework)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "claims evaluate: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *dsPath == "" {
		fmt.Fprintln(stderr, "claims evaluate: --dataset is required")
		return exitUsage
	}
	if *reqPath == "" && *scope == "" {
		fmt.Fprintln(stderr, "claims evaluate: --request or --scope is required")
		return exitUsage
	}
	now := time.Now()
	if *nowStr != "" {
		t, err := time.Parse(time.RFC3339, *nowStr)
		if err != nil {
			fmt.Fprintf(stderr, "claims evaluate: --now: %v\n", err)
			return exitUsage
		}
		now = t
	}
	eng, err := loadEngine(*provPath)
	if err != nil {
		fmt.Fprintf(stderr, "claims evaluate: %v\n", err)
		return exitUsage
	}
	var reqJSON []byte
	if *reqPath != "" {
		if reqJSON, err = os.ReadFile(*reqPath); err != nil {
			fmt.Fprintf(stderr, "claims evaluate: %v\n", err)
			return exitUsage
		}
	}
	dsJSON, err := os.ReadFile(*dsPath)
	if err != nil {
		fmt.Fprintf(stderr, "claims evaluate: %v\n", err)
		return exitUsage
	}
	ds, err := ida.ParseDataset(dsJSON)
	if err != nil {
		fmt.Fprintf(stderr, "claims evaluate: %s: %v\n", *dsPath, err)
		return exitUsage
	}
	// The command stands in for a pushed or signed request, so custom
	// transformed claims are accepted as the provider would accept them.
	req, err := eng.ParseRequest(reqJSON, ida.RequestOptions{Scope: *scope, IntegrityProtected: true})
	if err != nil {
		return refused(err, stdout, stderr)
	}
	return writeJSON(eng.Evaluate(req, ds, now), stdout, stderr)
}

func validateRequest(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || len(args[0]) > 0 && args[0][0] == '-' {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "claims validate-request: %v\n", err)
		return exitUsage
	}
	eng, err := ida.NewEngine(ida.PermissivePolicy())
	if err != nil {
		fmt.Fprintf(stderr, "claims validate-request: %v\n", err)
		return exitUsage
	}
	if _, err := eng.ParseRequest(data, ida.RequestOptions{IntegrityProtected: true}); err != nil {
		return refused(err, stdout, stderr)
	}
	return exitOK
}

// loadEngine reads the "ida" member of a provider config, or uses the
// permissive policy without one.
func loadEngine(path string) (*ida.Engine, error) {
	if path == "" {
		return ida.NewEngine(ida.PermissivePolicy())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		IDA *ida.Policy `json:"ida"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.IDA == nil {
		return nil, fmt.Errorf("%s: no \"ida\" member", path)
	}
	return ida.NewEngine(*cfg.IDA)
}

func refused(err error, stdout, stderr io.Writer) int {
	var e *ida.Error
	if !errors.As(err, &e) {
		fmt.Fprintf(stderr, "claims: %v\n", err)
		return exitUsage
	}
	if code := writeJSON(e, stdout, stderr); code != exitOK {
		return code
	}
	return exitRefused
}

func writeJSON(v any, stdout, stderr io.Writer) int {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "claims: %v\n", err)
		return exitUsage
	}
	if _, err := stdout.Write(append(out, '\n')); err != nil {
		fmt.Fprintf(stderr, "claims: %v\n", err)
		return exitUsage
	}
	return exitOK
}
