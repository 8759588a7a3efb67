package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	operatorNamespace = "ida-system"
	managerName       = "ida-operator-controller-manager"
	managerSA         = "ida-operator-controller-manager"
	defaultImage      = "ghcr.io/idaop/ida-operator:dev"
)

// Every object config/default renders is accepted by the API server.
func TestDefaultRendersAndIsAccepted(t *testing.T) {
	objs := render(t, "default")
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		if u.GetLabels()["app.kubernetes.io/part-of"] != "ida-operator" {
			t.Errorf("%s %s lacks the part-of label", u.GetKind(), u.GetName())
		}
		if ns := u.GetNamespace(); ns != "" && ns != operatorNamespace {
			t.Errorf("%s %s is in namespace %s, want %s", u.GetKind(), u.GetName(), ns, operatorNamespace)
		}
	}
	for kind, want := range map[string]int{"CustomResourceDefinition": 3, "Namespace": 1, "Deployment": 1, "ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1} {
		if kinds[kind] != want {
			t.Errorf("config/default renders %d %s, want %d", kinds[kind], kind, want)
		}
	}
	dep := find(objs, "Deployment", operatorNamespace, managerName)
	if dep == nil {
		t.Fatalf("no Deployment %s/%s", operatorNamespace, managerName)
	}
	image, runtimeImage := managerImages(t, dep)
	if image != defaultImage || runtimeImage != defaultImage {
		t.Errorf("manager image %q, RUNTIME_IMAGE %q; want both %q", image, runtimeImage, defaultImage)
	}
	// The operator's default --runtime-image is the same image.
	src, err := os.ReadFile(filepath.Join(root, "internal", "manager", "manager.go"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`DefaultImage = "([^"]+)"`).FindSubmatch(src); m == nil || string(m[1]) != defaultImage {
		t.Errorf("internal/manager DefaultImage is %q, want %q (the image of config/manager)", m, defaultImage)
	}
	dryRunAll(t, objs)
}

// `make deploy IMG=...` runs `kustomize edit set image controller=IMG` in
// config/manager: the manager and the runtime Deployments then both use IMG.
func TestSettingTheImageSetsTheRuntimeImage(t *testing.T) {
	fsys := inMemoryConfig(t)
	const img = "registry.example/idaop/ida-operator:v9.9.9"
	kpath := "/config/manager/kustomization.yaml"
	data, err := fsys.ReadFile(kpath)
	if err != nil {
		t.Fatal(err)
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(k.Images, func(im types.Image) bool { return im.Name == "controller" })
	if i < 0 {
		t.Fatal("config/manager has no images entry for controller")
	}
	k.Images[i].NewName, k.Images[i].NewTag = "registry.example/idaop/ida-operator", "v9.9.9"
	if data, err = yaml.Marshal(k); err != nil {
		t.Fatal(err)
	}
	if err := fsys.WriteFile(kpath, data); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"/config/default", "/config/namespaced"} {
		m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		var dep *unstructured.Unstructured
		for _, r := range m.Resources() {
			if r.GetKind() == "Deployment" {
				js, _ := r.MarshalJSON()
				dep = &unstructured.Unstructured{}
				if err := dep.UnmarshalJSON(js); err != nil {
					t.Fatal(err)
				}
			}
		}
		if dep == nil {
			t.Fatalf("%s: no Deployment", dir)
		}
		if image, runtimeImage := managerImages(t, dep); image != img || runtimeImage != img {
			t.Errorf("%s: manager image %q, RUNTIME_IMAGE %q; want both %q", dir, image, runtimeImage, img)
		}
	}
}

func TestSamplesRenderAndAreAccepted(t *testing.T) {
	objs := render(t, "samples")
	var kinds []string
	for _, u := range objs {
		kinds = append(kinds, u.GetKind())
	}
	for _, want := range []string{"Namespace", "TrustFramework", "IdentityProvider", "RelyingParty"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("config/samples renders no %s", want)
		}
	}
	dryRunAll(t, objs)
}

func TestTrustFrameworkCatalogRendersAndIsAccepted(t *testing.T) {
	objs := render(t, "trustframeworks")
	entries, _ := filepath.Glob(filepath.Join(root, "config", "trustframeworks", "*.yaml"))
	if len(objs) != len(entries)-1 {
		t.Errorf("config/trustframeworks renders %d objects from %d files: is every file in kustomization.yaml?", len(objs), len(entries)-1)
	}
	for _, u := range objs {
		if u.GetKind() != "TrustFramework" {
			t.Errorf("config/trustframeworks renders a %s", u.GetKind())
		}
	}
	dryRunAll(t, objs)
}

func TestNamespacedRendersAndIsAccepted(t *testing.T) {
	objs := render(t, "namespaced")
	// The manager watches the namespaces it is bound in, and only those.
	dep := find(objs, "Deployment", operatorNamespace, managerName)
	if dep == nil {
		t.Fatal("no manager Deployment")
	}
	watched := namespacesFlag(t, dep)
	var bound []string
	for _, u := range objs {
		if u.GetKind() == "RoleBinding" && u.GetName() == "ida-operator-manager-rolebinding" {
			bound = append(bound, u.GetNamespace())
		}
	}
	slices.Sort(watched)
	slices.Sort(bound)
	if len(watched) == 0 || !slices.Equal(watched, bound) {
		t.Errorf("--namespaces=%v but the manager's RoleBindings are in %v: keep config/namespaced's two lists the same", watched, bound)
	}
	dryRunAll(t, objs)
}

func namespacesFlag(t *testing.T, dep *unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		args, _ := c.(map[string]any)["args"].([]any)
		for _, a := range args {
			if s, _ := a.(string); strings.HasPrefix(s, "--namespaces=") {
				return strings.Split(strings.TrimPrefix(s, "--namespaces="), ",")
			}
		}
	}
	return nil
}

// managerImages returns the manager container's image and its RUNTIME_IMAGE.
func managerImages(t *testing.T, dep *unstructured.Unstructured) (image, runtimeImage string) {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		c := c.(map[string]any)
		if c["name"] != "manager" {
			continue
		}
		image, _ = c["image"].(string)
		env, _ := c["env"].([]any)
		for _, e := range env {
			e := e.(map[string]any)
			if e["name"] == "RUNTIME_IMAGE" {
				runtimeImage, _ = e["value"].(string)
			}
		}
	}
	return image, runtimeImage
}

// inMemoryConfig copies config/ into an in-memory file system at /config.
func inMemoryConfig(t *testing.T) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	src := filepath.Join(root, "config")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.ToSlash(filepath.Join("/config", rel))
		if d.IsDir() {
			return fsys.MkdirAll(dst)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(dst, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}
