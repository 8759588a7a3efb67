package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// CPU placement. On a machine with few cores a load generator that shares
// them with the server measures itself as much as the server: whichever
// process the scheduler favours wins, and the figures move by tens of per
// cent from run to run. With placement on, this tool and its client run on
// loadCPU and every server (and all its threads) on serverCPU, the same for
// every server, as two machines would be.
const (
	loadCPU   = 0
	serverCPU = 1
)

// placement is set once in main from the -pin flag.
var placement bool

// pinSelf moves every thread of this process onto cpu. Threads made later
// are cloned from these and inherit the mask.
func pinSelf(cpu int) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	var set unix.CPUSet
	set.Set(cpu)
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may exit between the listing and the call.
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("pinning thread %d to CPU %d: %w", tid, cpu, err)
		}
	}
	return nil
}

// startPinned starts cmd on serverCPU when placement is on. A child
// inherits the affinity of the thread that forks it, so the fork runs on a
// locked thread moved to serverCPU for the moment of the call (the Go
// runtime makes new threads from its template thread meanwhile, not from
// this one).
func startPinned(cmd *exec.Cmd) error {
	if !placement {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var server, load unix.CPUSet
	server.Set(serverCPU)
	load.Set(loadCPU)
	if err := unix.SchedSetaffinity(0, &server); err != nil {
		return fmt.Errorf("placing the server on CPU %d: %w", serverCPU, err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &load); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// placementNote describes the placement for the report.
func placementNote() string {
	if !placement {
		return "no CPU placement: the load generator and the server share every core"
	}
	return fmt.Sprintf("load generator on CPU %d, each server (all threads) on CPU %d", loadCPU, serverCPU)
}
