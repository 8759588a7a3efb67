// Command ida-operator is the one binary of the project: the operator
// (`manager`), the OpenID Provider runtime it deploys (`runtime`), a local
// demo (`demo`) and tools (`claims`).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	// The image has no CA certificates: this brings Mozilla's roots for
	// when the system has none (jwksURI, HTTP user sources, Redis over TLS).
	_ "golang.org/x/crypto/x509roots/fallback"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/idaop/ida-operator/internal/claimscmd"
	"github.com/idaop/ida-operator/internal/demo"
	"github.com/idaop/ida-operator/internal/manager"
	"github.com/idaop/ida-operator/internal/runtimecmd"
)

const usage = `usage: ida-operator <command> [flags]

commands:
  manager   run the operator's controllers against a cluster
  runtime   serve one OpenID Provider from the operator's configuration
  demo      run a local control plane, the samples and the operator (no cluster needed)
  claims    evaluate or validate a verified_claims request (claims evaluate|validate-request)
  help      show this help

Run 'ida-operator <command> -h' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "manager":
		ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(stderr, nil)))
		err = manager.Run(ctx, rest)
	case "runtime":
		err = runtimecmd.Run(ctx, rest, stderr)
	case "demo":
		err = demo.Run(ctx, rest, stdout)
	case "claims":
		return claimscmd.Run(rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ida-operator: unknown command %q\n\n%s", cmd, usage)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "ida-operator %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
