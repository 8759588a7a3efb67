// Package olm renders the operator's OLM bundle (registry+v1) from the
// kustomize configuration in config/. It holds its own ClusterServiceVersion
// types: the operator-framework API module is not available here.
package olm

import (
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterServiceVersion is operators.coreos.com/v1alpha1
// ClusterServiceVersion, the fields this bundle uses.
type ClusterServiceVersion struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CSVSpec `json:"spec"`
}

// CSVSpec is the spec of a ClusterServiceVersion.
type CSVSpec struct {
	DisplayName               string                    `json:"displayName"`
	Description               string                    `json:"description,omitempty"`
	Version                   string                    `json:"version"`
	Maturity                  string                    `json:"maturity,omitempty"`
	MinKubeVersion            string                    `json:"minKubeVersion,omitempty"`
	Keywords                  []string                  `json:"keywords,omitempty"`
	Maintainers               []Maintainer              `json:"maintainers,omitempty"`
	Provider                  AppLink                   `json:"provider"`
	Links                     []AppLink                 `json:"links,omitempty"`
	Icon                      []Icon                    `json:"icon,omitempty"`
	InstallModes              []InstallMode             `json:"installModes"`
	Install                   NamedInstallStrategy      `json:"install"`
	CustomResourceDefinitions CustomResourceDefinitions `json:"customresourcedefinitions"`
	RelatedImages             []RelatedImage            `json:"relatedImages,omitempty"`
}

// Maintainer is a person or team responsible for the operator.
type Maintainer struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// AppLink is a named URL.
type AppLink struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Icon is a base64 image.
type Icon struct {
	Data      string `json:"base64data"`
	MediaType string `json:"mediatype"`
}

// Install mode types.
const (
	InstallModeOwnNamespace    = "OwnNamespace"
	InstallModeSingleNamespace = "SingleNamespace"
	InstallModeMultiNamespace  = "MultiNamespace"
	InstallModeAllNamespaces   = "AllNamespaces"
)

// InstallMode says whether the operator supports an OperatorGroup shape.
type InstallMode struct {
	Type      string `json:"type"`
	Supported bool   `json:"supported"`
}

// NamedInstallStrategy is the install strategy; always "deployment" here.
type NamedInstallStrategy struct {
	StrategyName string                 `json:"strategy"`
	StrategySpec StrategyDetailsDeploym `json:"spec"`
}

// StrategyDetailsDeploym is the spec of the deployment install strategy.
type StrategyDetailsDeploym struct {
	DeploymentSpecs    []DeploymentSpec     `json:"deployments"`
	Permissions        []StrategyPermission `json:"permissions,omitempty"`
	ClusterPermissions []StrategyPermission `json:"clusterPermissions,omitempty"`
}

// DeploymentSpec is one Deployment OLM creates.
type DeploymentSpec struct {
	Name  string                `json:"name"`
	Spec  appsv1.DeploymentSpec `json:"spec"`
	Label map[string]string     `json:"label,omitempty"`
}

// StrategyPermission is the RBAC rules OLM grants a ServiceAccount.
type StrategyPermission struct {
	ServiceAccountName string              `json:"serviceAccountName"`
	Rules              []rbacv1.PolicyRule `json:"rules"`
}

// CustomResourceDefinitions lists the CRDs the operator owns and requires.
type CustomResourceDefinitions struct {
	Owned    []CRDDescription `json:"owned,omitempty"`
	Required []CRDDescription `json:"required,omitempty"`
}

// CRDDescription describes one CRD for OLM and consoles.
type CRDDescription struct {
	Name              string             `json:"name"`
	Version           string             `json:"version"`
	Kind              string             `json:"kind"`
	DisplayName       string             `json:"displayName,omitempty"`
	Description       string             `json:"description,omitempty"`
	Resources         []APIResourceRef   `json:"resources,omitempty"`
	SpecDescriptors   []SpecDescriptor   `json:"specDescriptors,omitempty"`
	StatusDescriptors []StatusDescriptor `json:"statusDescriptors,omitempty"`
}

// APIResourceRef is a kind the operator creates for a custom resource.
type APIResourceRef struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// SpecDescriptor describes a spec field.
type SpecDescriptor struct {
	Path         string   `json:"path"`
	DisplayName  string   `json:"displayName,omitempty"`
	Description  string   `json:"description,omitempty"`
	XDescriptors []string `json:"x-descriptors,omitempty"`
}

// StatusDescriptor describes a status field.
type StatusDescriptor struct {
	Path         string   `json:"path"`
	DisplayName  string   `json:"displayName,omitempty"`
	Description  string   `json:"description,omitempty"`
	XDescriptors []string `json:"x-descriptors,omitempty"`
}

// RelatedImage is an image the operator uses, for disconnected mirroring.
type RelatedImage struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}
