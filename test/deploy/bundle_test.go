package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/idaop/ida-operator/hack/bundlegen/olm"
	"github.com/idaop/ida-operator/internal/controlplane"
)

// These tests check what `operator-sdk bundle validate` checks (the
// operator-framework validation library is not available here), plus that
// the bundle is what `make bundle` generates from config/.

func bundleDir() string { return filepath.Join(root, "bundle") }

func readBundleFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(bundleDir(), rel))
	if err != nil {
		t.Fatalf("the bundle lacks %s: %v (run `make bundle`)", rel, err)
	}
	return data
}

func bundleAnnotations(t *testing.T) map[string]string {
	t.Helper()
	var doc struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.UnmarshalStrict(readBundleFile(t, olm.AnnotationsFile), &doc); err != nil {
		t.Fatalf("%s: %v", olm.AnnotationsFile, err)
	}
	return doc.Annotations
}

func bundleCSV(t *testing.T) *olm.ClusterServiceVersion {
	t.Helper()
	var csv olm.ClusterServiceVersion
	if err := yaml.UnmarshalStrict(readBundleFile(t, olm.CSVFile), &csv); err != nil {
		t.Fatalf("%s does not parse as a ClusterServiceVersion: %v", olm.CSVFile, err)
	}
	return &csv
}

// bundleCRDs returns the CRDs in manifests/, by name.
func bundleCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(bundleDir(), "manifests"))
	if err != nil {
		t.Fatal(err)
	}
	crds := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, e := range entries {
		data := readBundleFile(t, "manifests/"+e.Name())
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(data, &tm); err != nil {
			t.Fatalf("manifests/%s: %v", e.Name(), err)
		}
		if tm.Kind != "CustomResourceDefinition" {
			continue
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			t.Fatalf("manifests/%s: %v", e.Name(), err)
		}
		crds[crd.Name] = &crd
	}
	return crds
}

func TestBundleAnnotations(t *testing.T) {
	ann := bundleAnnotations(t)
	for k, want := range map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1": "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1": "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":  "metadata/",
		"operators.operatorframework.io.bundle.package.v1":   "ida-operator",
		"operators.operatorframework.io.test.mediatype.v1":   "scorecard+v1",
		"operators.operatorframework.io.test.config.v1":      "tests/scorecard/",
	} {
		if ann[k] != want {
			t.Errorf("annotation %s = %q, want %q", k, ann[k], want)
		}
	}
	channels := strings.Split(ann["operators.operatorframework.io.bundle.channels.v1"], ",")
	def := ann["operators.operatorframework.io.bundle.channel.default.v1"]
	if channels[0] == "" || def == "" || !slices.Contains(channels, def) {
		t.Errorf("channels %q, default channel %q: the default must be one of the channels", channels, def)
	}
	for _, dir := range []string{"manifests", "metadata", "tests/scorecard"} {
		if fi, err := os.Stat(filepath.Join(bundleDir(), dir)); err != nil || !fi.IsDir() {
			t.Errorf("the bundle lacks the directory %s/", dir)
		}
	}

	// bundle.Dockerfile carries the same annotations as labels, and copies
	// the directories they name.
	labels := map[string]string{}
	var copies []string
	sc := bufio.NewScanner(bytes.NewReader(readBundleFile(t, olm.DockerfileFile)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "LABEL "):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "LABEL "), "=")
			labels[k] = v
		case strings.HasPrefix(line, "COPY "):
			copies = append(copies, strings.TrimPrefix(line, "COPY "))
		case strings.HasPrefix(line, "FROM "):
			if line != "FROM scratch" {
				t.Errorf("bundle.Dockerfile: %q, want FROM scratch", line)
			}
		}
	}
	if !reflect.DeepEqual(labels, ann) {
		t.Errorf("bundle.Dockerfile labels\n%v\ndiffer from metadata/annotations.yaml\n%v", labels, ann)
	}
	wantCopies := []string{"manifests /manifests/", "metadata /metadata/", "tests/scorecard /tests/scorecard/"}
	if !slices.Equal(copies, wantCopies) {
		t.Errorf("bundle.Dockerfile copies %q, want %q", copies, wantCopies)
	}

	var sc2 struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Stages     []struct {
			Tests []struct {
				Entrypoint []string          `json:"entrypoint"`
				Image      string            `json:"image"`
				Labels     map[string]string `json:"labels"`
			} `json:"tests"`
		} `json:"stages"`
	}
	if err := yaml.Unmarshal(readBundleFile(t, olm.ScorecardFile), &sc2); err != nil {
		t.Fatal(err)
	}
	var tests []string
	for _, st := range sc2.Stages {
		for _, tc := range st.Tests {
			tests = append(tests, tc.Labels["test"])
			if !regexp.MustCompile(`^quay\.io/operator-framework/scorecard-test:v1\.\d+\.\d+$`).MatchString(tc.Image) {
				t.Errorf("scorecard test %s: image %q", tc.Labels["test"], tc.Image)
			}
		}
	}
	if sc2.Kind != "Configuration" || !slices.Contains(tests, "basic-check-spec-test") || !slices.Contains(tests, "olm-bundle-validation-test") {
		t.Errorf("tests/scorecard/config.yaml: kind %q, tests %q", sc2.Kind, tests)
	}
}

func TestBundleCSV(t *testing.T) {
	csv := bundleCSV(t)
	if csv.APIVersion != "operators.coreos.com/v1alpha1" || csv.Kind != "ClusterServiceVersion" {
		t.Errorf("CSV is %s %s", csv.APIVersion, csv.Kind)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(csv.Spec.Version) {
		t.Errorf("CSV version %q is not semver", csv.Spec.Version)
	}
	if csv.Name != "ida-operator.v"+csv.Spec.Version {
		t.Errorf("CSV name %q, want ida-operator.v%s", csv.Name, csv.Spec.Version)
	}
	if csv.Spec.DisplayName == "" || len(csv.Spec.Description) < 100 || csv.Annotations["description"] == "" {
		t.Error("the CSV needs a display name, a description and a short description")
	}
	if csv.Spec.Provider.Name == "" || len(csv.Spec.Maintainers) == 0 || len(csv.Spec.Keywords) == 0 {
		t.Error("the CSV needs a provider, maintainers and keywords")
	}

	// Install modes: all four set, at least one supported.
	modes := map[string]bool{}
	for _, m := range csv.Spec.InstallModes {
		if _, dup := modes[m.Type]; dup {
			t.Errorf("install mode %s set twice", m.Type)
		}
		modes[m.Type] = m.Supported
	}
	for _, m := range []string{olm.InstallModeOwnNamespace, olm.InstallModeSingleNamespace, olm.InstallModeMultiNamespace, olm.InstallModeAllNamespaces} {
		if _, ok := modes[m]; !ok {
			t.Errorf("install mode %s not set", m)
		}
	}
	if !modes[olm.InstallModeAllNamespaces] {
		t.Error("AllNamespaces must be supported: the manager watches every namespace unless told otherwise")
	}

	// Every bundled CRD is owned, with matching group, version and kind,
	// and every owned CRD is bundled.
	crds := bundleCRDs(t)
	if len(crds) == 0 {
		t.Fatal("the bundle has no CRDs")
	}
	owned := map[string]olm.CRDDescription{}
	for _, d := range csv.Spec.CustomResourceDefinitions.Owned {
		owned[d.Name] = d
		crd, ok := crds[d.Name]
		if !ok {
			t.Errorf("the CSV owns %s, which the bundle does not carry", d.Name)
			continue
		}
		if d.Name != crd.Spec.Names.Plural+"."+crd.Spec.Group || d.Kind != crd.Spec.Names.Kind {
			t.Errorf("owned %s: kind %s; the CRD is %s.%s kind %s", d.Name, d.Kind, crd.Spec.Names.Plural, crd.Spec.Group, crd.Spec.Names.Kind)
		}
		var version *apiextensionsv1.CustomResourceDefinitionVersion
		for i := range crd.Spec.Versions {
			if crd.Spec.Versions[i].Name == d.Version && crd.Spec.Versions[i].Served {
				version = &crd.Spec.Versions[i]
			}
		}
		if version == nil {
			t.Errorf("owned %s: version %s is not a served version of the CRD", d.Name, d.Version)
			continue
		}
		if d.DisplayName == "" || d.Description == "" {
			t.Errorf("owned %s lacks a display name or description", d.Name)
		}
		checkDescriptors(t, d.Name, "spec", version.Schema.OpenAPIV3Schema.Properties["spec"], specPaths(d.SpecDescriptors))
		checkDescriptors(t, d.Name, "status", version.Schema.OpenAPIV3Schema.Properties["status"], statusPaths(d.StatusDescriptors))
	}
	for name := range crds {
		if _, ok := owned[name]; !ok {
			t.Errorf("the bundle carries CRD %s, which the CSV does not own", name)
		}
	}

	// The install strategy is what config/default renders.
	r, err := olm.Render(root)
	if err != nil {
		t.Fatal(err)
	}
	inst := csv.Spec.Install
	if inst.StrategyName != "deployment" || len(inst.StrategySpec.DeploymentSpecs) != 1 {
		t.Fatalf("install strategy %q with %d deployments, want deployment with 1", inst.StrategyName, len(inst.StrategySpec.DeploymentSpecs))
	}
	d := inst.StrategySpec.DeploymentSpecs[0]
	if d.Name != r.Deployment.Name {
		t.Errorf("CSV deployment %q, kustomize's %q", d.Name, r.Deployment.Name)
	}
	if got, want := mustJSON(t, d.Spec), mustJSON(t, r.Deployment.Spec); got != want {
		t.Errorf("the CSV's deployment differs from config/default's:\n%s\n%s", got, want)
	}
	if got, want := mustJSON(t, inst.StrategySpec.ClusterPermissions), mustJSON(t, r.ClusterPermissions); got != want || len(r.ClusterPermissions) == 0 {
		t.Errorf("clusterPermissions differ from config/default's ClusterRole:\n%s\n%s", got, want)
	}
	if got, want := mustJSON(t, inst.StrategySpec.Permissions), mustJSON(t, r.Permissions); got != want || len(r.Permissions) == 0 {
		t.Errorf("permissions differ from config/default's Role:\n%s\n%s", got, want)
	}
	for _, p := range append(inst.StrategySpec.Permissions, inst.StrategySpec.ClusterPermissions...) {
		if p.ServiceAccountName != d.Spec.Template.Spec.ServiceAccountName {
			t.Errorf("permissions for %s, but the deployment runs as %s", p.ServiceAccountName, d.Spec.Template.Spec.ServiceAccountName)
		}
	}

	// Related images: every image the operator runs.
	var related []string
	for _, ri := range csv.Spec.RelatedImages {
		related = append(related, ri.Image)
	}
	image, runtimeImage := d.Spec.Template.Spec.Containers[0].Image, ""
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "RUNTIME_IMAGE" {
			runtimeImage = e.Value
		}
	}
	if !slices.Contains(related, image) || !slices.Contains(related, runtimeImage) || csv.Annotations["containerImage"] != image {
		t.Errorf("relatedImages %q and containerImage %q must name the manager image %q and the runtime image %q", related, csv.Annotations["containerImage"], image, runtimeImage)
	}
}

func specPaths(ds []olm.SpecDescriptor) map[string]olm.SpecDescriptor {
	m := map[string]olm.SpecDescriptor{}
	for _, d := range ds {
		m[d.Path] = d
	}
	return m
}

func statusPaths(ds []olm.StatusDescriptor) map[string]olm.SpecDescriptor {
	m := map[string]olm.SpecDescriptor{}
	for _, d := range ds {
		m[d.Path] = olm.SpecDescriptor(d)
	}
	return m
}

// checkDescriptors: every top-level field has a descriptor, and every
// descriptor names a field of the schema, with a display name and a
// description.
func checkDescriptors(t *testing.T, crd, section string, schema apiextensionsv1.JSONSchemaProps, ds map[string]olm.SpecDescriptor) {
	t.Helper()
	for field := range schema.Properties {
		if _, ok := ds[field]; !ok {
			t.Errorf("%s: %s.%s has no descriptor", crd, section, field)
		}
	}
	for path, d := range ds {
		s, ok := schema, true
		for _, p := range strings.Split(path, ".") {
			if s, ok = s.Properties[p]; !ok {
				break
			}
		}
		if !ok {
			t.Errorf("%s: %s descriptor %q names no field of the schema", crd, section, path)
		}
		if d.DisplayName == "" || d.Description == "" {
			t.Errorf("%s: %s descriptor %q lacks a display name or description", crd, section, path)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// alm-examples uses owned kinds only, and the API server accepts every
// example once the bundled CRDs are installed.
func TestBundleALMExamples(t *testing.T) {
	csv := bundleCSV(t)
	var examples []map[string]any
	if err := json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples is not a JSON array of objects: %v", err)
	}
	if len(examples) == 0 {
		t.Fatal("alm-examples is empty")
	}
	owned := map[string]bool{}
	for _, d := range csv.Spec.CustomResourceDefinitions.Owned {
		owned[strings.SplitN(d.Name, ".", 2)[1]+"/"+d.Version+"/"+d.Kind] = true
	}
	var crds []*unstructured.Unstructured
	entries, _ := filepath.Glob(filepath.Join(bundleDir(), "manifests", "*.yaml"))
	for _, e := range entries {
		data, _ := os.ReadFile(e)
		objs, err := controlplane.DecodeYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			if u.GetKind() == "CustomResourceDefinition" {
				crds = append(crds, u)
			}
		}
	}
	applyForReal(t, crds)
	const ns = "alm-examples"
	ensureNamespace(t, ns)
	kinds := map[string]bool{}
	for _, ex := range examples {
		u := &unstructured.Unstructured{Object: ex}
		gvk := u.GroupVersionKind()
		kinds[gvk.Kind] = true
		if !owned[gvk.Group+"/"+gvk.Version+"/"+gvk.Kind] {
			t.Errorf("alm-examples has a %s, which the CSV does not own", gvk)
			continue
		}
		if u.GetNamespace() != "" {
			t.Errorf("example %s %s names a namespace; the console creates it where the user is", gvk.Kind, u.GetName())
		}
		if u.GetKind() != "TrustFramework" {
			u.SetNamespace(ns)
		}
		if err := admin.Create(context.Background(), u, client.DryRunAll); err != nil {
			t.Errorf("example %s %s: the API server refuses it: %v", gvk.Kind, u.GetName(), err)
		}
	}
	for _, d := range csv.Spec.CustomResourceDefinitions.Owned {
		if !kinds[d.Kind] {
			t.Errorf("alm-examples has no %s", d.Kind)
		}
	}
}

// The committed bundle is exactly what `make bundle` generates.
func TestBundleIsGenerated(t *testing.T) {
	csv := bundleCSV(t)
	ann := bundleAnnotations(t)
	out := filepath.Join(t.TempDir(), "bundle")
	goTool(t, nil, "run", "./hack/bundlegen", "-root", root, "-out", out,
		"-version", csv.Spec.Version,
		"-channels", ann["operators.operatorframework.io.bundle.channels.v1"],
		"-default-channel", ann["operators.operatorframework.io.bundle.channel.default.v1"])
	want := readTree(t, out)
	got := readTree(t, bundleDir())
	for name, data := range want {
		committed, ok := got[name]
		switch {
		case !ok:
			t.Errorf("bundle/%s is missing: run `make bundle`", name)
		case !bytes.Equal(committed, data):
			t.Errorf("bundle/%s differs from what `make bundle` generates: run `make bundle` (never edit bundle/ by hand)", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("bundle/%s is not generated by `make bundle`: remove it", name)
		}
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
