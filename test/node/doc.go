// Package node is the end-to-end test of ida-operator on a real single-node
// cluster (hack/node): the operator installed with config/default runs as a
// pod, and so do the provider runtimes it creates. `make e2e` brings the
// node up, installs the operator, runs this package (build tag nodee2e) and
// tears the node down; see docs/node.md. `go test ./...` does not run it.
package node
