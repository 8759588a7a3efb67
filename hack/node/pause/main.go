//go:build linux

// Command pause is the pod sandbox's process on the test node (hack/node):
// it holds the pod's namespaces open, reaps any child that is re-parented to
// it (it is PID 1 of the pod when the PID namespace is shared), and exits on
// SIGINT or SIGTERM. A static Go binary with no dependencies, so the node
// needs no registry and no upstream pause image.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (ida-operator test node)")
		return
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		switch s {
		case syscall.SIGCHLD:
			reap()
		default:
			reap()
			os.Exit(0)
		}
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
