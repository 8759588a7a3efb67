package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// helmTemplate renders charts/ida-operator with Helm's own command (built
// from the module proxy by hack/helm.sh) as release ida-operator in
// ida-system, CRDs included.
func helmTemplate(t *testing.T, set ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := exec.Command(filepath.Join(root, "hack", "helm.sh")).Output()
	if err != nil {
		t.Fatalf("hack/helm.sh: %v", err)
	}
	args := []string{"template", "ida-operator", filepath.Join(root, "charts", "ida-operator"), "--namespace", operatorNamespace, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(strings.TrimSpace(string(out)), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	manifest, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("helm's output: %v", err)
		}
		if obj != nil {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
	return objs
}

// normalised is obj as plain JSON values, so numbers compare alike whoever
// decoded them.
func normalised(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// differences are up to max paths where a and b differ.
func differences(path string, a, b any, max int) []string {
	if reflect.DeepEqual(a, b) {
		return nil
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		return []string{fmt.Sprintf("%s: chart %v, config/default %v", path, a, b)}
	}
	var out []string
	keys := map[string]bool{}
	for k := range am {
		keys[k] = true
	}
	for k := range bm {
		keys[k] = true
	}
	for k := range keys {
		out = append(out, differences(path+"."+k, am[k], bm[k], max-len(out))...)
		if len(out) >= max {
			break
		}
	}
	return out
}

// The chart installs what config/default does, object for object (but the
// Namespace: `helm install --create-namespace` makes it), and the API
// server accepts every one.
func TestHelmChartRendersConfigDefault(t *testing.T) {
	key := func(u *unstructured.Unstructured) string {
		return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
	}
	want := map[string]map[string]any{}
	for _, u := range render(t, "default") {
		switch u.GetKind() {
		case "Namespace":
			continue
		case "CustomResourceDefinition":
			// Helm installs crds/ as they are, without templating: the
			// CRDs lack the part-of label kustomize adds, and nothing else.
			if labels := u.GetLabels(); len(labels) == 1 && labels["app.kubernetes.io/part-of"] == "ida-operator" {
				u = u.DeepCopy()
				u.SetLabels(nil)
			}
		}
		want[key(u)] = normalised(t, u.Object)
	}
	objs := helmTemplate(t)
	got := map[string]map[string]any{}
	for _, u := range objs {
		got[key(u)] = normalised(t, u.Object)
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("the chart lacks %s", k)
		case !reflect.DeepEqual(g, w):
			t.Errorf("%s differs from config/default at %v", k, differences("", g, w, 5))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("the chart has %s, which config/default does not", k)
		}
	}
	dryRunAll(t, objs)
}

// Setting the image sets the runtime's too, as in config/default; values
// that config/default has no knob for reach the pod.
func TestHelmChartValues(t *testing.T) {
	objs := helmTemplate(t, "image.tag=v9.9.9", "image.repository=registry.example/ida", "nodeSelector.pool=identity", "leaderElection=false")
	dep := find(objs, "Deployment", operatorNamespace, managerName)
	if dep == nil {
		t.Fatal("no manager Deployment")
	}
	image, runtimeImage := managerImages(t, dep)
	if image != "registry.example/ida:v9.9.9" || runtimeImage != image {
		t.Errorf("image %q RUNTIME_IMAGE %q", image, runtimeImage)
	}
	if sel, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "spec", "nodeSelector"); sel["pool"] != "identity" {
		t.Errorf("nodeSelector %v", sel)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	for _, a := range args {
		if a == "--leader-elect" {
			t.Errorf("leaderElection=false still passes --leader-elect: %v", args)
		}
	}
	// With PKCS#11 the manager runs the cgo build and sees the vendor's
	// module; the runtime image stays the static one, which the operator
	// turns into its pkcs11 build for providers that need it.
	objs = helmTemplate(t, "image.tag=v9.9.9", "pkcs11.enabled=true",
		"pkcs11.env[0].name=SOFTHSM2_CONF", "pkcs11.env[0].value=/etc/softhsm/softhsm2.conf",
		"pkcs11.volumes[0].name=hsm", "pkcs11.volumes[0].hostPath.path=/opt/hsm",
		"pkcs11.volumeMounts[0].name=hsm", "pkcs11.volumeMounts[0].mountPath=/opt/hsm")
	dep = find(objs, "Deployment", operatorNamespace, managerName)
	if image, runtimeImage := managerImages(t, dep); image != "ghcr.io/idaop/ida-operator:v9.9.9-pkcs11" || runtimeImage != "ghcr.io/idaop/ida-operator:v9.9.9" {
		t.Errorf("pkcs11: image %q RUNTIME_IMAGE %q", image, runtimeImage)
	}
	containers, _, _ = unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	env, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
	mounts, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "volumeMounts")
	volumes, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "volumes")
	if len(env) != 2 || len(mounts) != 2 || len(volumes) != 2 {
		t.Errorf("pkcs11: env %v, mounts %v, volumes %v: want the vendor's beside the manager's own", env, mounts, volumes)
	}

	objs = helmTemplate(t, "runtimeImage=registry.example/runtime:v1")
	if _, runtimeImage := managerImages(t, find(objs, "Deployment", operatorNamespace, managerName)); runtimeImage != "registry.example/runtime:v1" {
		t.Errorf("runtimeImage value: RUNTIME_IMAGE %q", runtimeImage)
	}
}
