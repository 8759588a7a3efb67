package identityprovider

import (
	"maps"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
)

// The runtime serves the OpenID endpoints on runtimePort, the only port of
// its Service and of any route to it, and the probes and metrics on opsPort,
// which no route reaches.
const (
	runtimePort = 8080
	opsPort     = 8081
	runtimeUID  = 65532
)

// Names of what a provider owns in its namespace.
func SigningKeysName(idp *idav1alpha1.IdentityProvider) string { return idp.Name + "-signing-keys" }
func ConfigMapName(idp *idav1alpha1.IdentityProvider) string   { return idp.Name + "-provider" }

// PairwiseSaltName is the Secret of the salt the operator generates.
func PairwiseSaltName(idp *idav1alpha1.IdentityProvider) string { return idp.Name + "-pairwise-salt" }
func RuntimeName(idp *idav1alpha1.IdentityProvider) string      { return idp.Name }
func RuntimeRoleName(idp *idav1alpha1.IdentityProvider) string  { return idp.Name + "-runtime" }

// selectorLabels select the runtime pods of one provider.
func selectorLabels(idp *idav1alpha1.IdentityProvider) map[string]string {
	return map[string]string{
		idav1alpha1.LabelName:     idav1alpha1.AppRuntime,
		idav1alpha1.LabelInstance: idp.Name,
	}
}

// Labels marks everything a provider owns; the manager caches only objects
// that carry LabelManagedBy.
func Labels(idp *idav1alpha1.IdentityProvider, component string) map[string]string {
	l := selectorLabels(idp)
	l[idav1alpha1.LabelManagedBy] = idav1alpha1.ManagedByOperator
	l[config.LabelProvider] = idp.Name
	l[config.LabelComponent] = component
	return l
}

// runtimeRole lets the runtime read its own ConfigMap and the Secrets of
// its namespace (signing keys, client registrations, users), nothing else.
// RBAC cannot select Secrets by label: keep a provider in a namespace of
// its own.
func runtimeRole(idp *idav1alpha1.IdentityProvider) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{ConfigMapName(idp)}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}},
	}
}

// tlsMountPath is where the runtime reads its own TLS Secret.
const tlsMountPath = "/etc/ida/tls"

// servesTLS: the runtime pods terminate TLS themselves.
func servesTLS(idp *idav1alpha1.IdentityProvider) bool {
	return idp.Spec.TLS != nil && idp.Spec.TLS.Termination == idav1alpha1.TLSTerminationRuntime
}

// podTemplate is the runtime's pod, with every field the API server would
// default set explicitly, so comparing it with the live object finds only
// real drift and steady state makes no writes.
func podTemplate(idp *idav1alpha1.IdentityProvider, image, configHash string) corev1.PodTemplateSpec {
	rt := &idp.Spec.Runtime
	annotations := maps.Clone(rt.PodAnnotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[idav1alpha1.AnnotationProviderConfigHash] = configHash
	args := []string{"runtime",
		"--provider=" + idp.Name,
		"--namespace=" + idp.Namespace,
		"--config-map=" + ConfigMapName(idp),
		"--signing-keys=" + SigningKeysName(idp),
		"--pairwise-salt-secret=" + subjects(idp).SaltSecret.Name,
		"--ops-listen=:" + strconv.Itoa(opsPort),
	}
	if b := idp.Spec.Users.Builtin; b != nil {
		args = append(args, "--users-secret="+b.SecretRef.Name)
	}
	volumes := []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse("16Mi"))},
	}}}
	// The root filesystem is read-only; Go's os.TempDir and the libraries
	// linked into the one binary need a writable /tmp.
	mounts := []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
	if servesTLS(idp) {
		// The kubelet swaps the files when the Secret is renewed; the
		// runtime picks the new pair up without a restart.
		volumes = append(volumes, corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: idp.Spec.TLS.SecretName, DefaultMode: ptr.To[int32](0o440)},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "tls", MountPath: tlsMountPath, ReadOnly: true})
		args = append(args,
			"--tls-cert-file="+tlsMountPath+"/"+corev1.TLSCertKey,
			"--tls-key-file="+tlsMountPath+"/"+corev1.TLSPrivateKeyKey)
	}
	env := []corev1.EnvVar{{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{
		ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1")},
	}}}
	if t := idp.Spec.Signing.KeyStore.PKCS11; t != nil {
		v, m, e := pkcs11Pod(t)
		volumes, mounts, env = append(volumes, v...), append(mounts, m...), append(env, e...)
	}
	resources := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	if rt.Resources != nil {
		resources = *rt.Resources.DeepCopy()
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: path, Port: intstr.FromString("ops"), Scheme: corev1.URISchemeHTTP,
			}},
			TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
		}
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: selectorLabels(idp), Annotations: annotations},
		Spec: corev1.PodSpec{
			ServiceAccountName:            RuntimeName(idp),
			DeprecatedServiceAccount:      RuntimeName(idp),
			AutomountServiceAccountToken:  ptr.To(true),
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			DNSPolicy:                     corev1.DNSClusterFirst,
			SchedulerName:                 corev1.DefaultSchedulerName,
			EnableServiceLinks:            ptr.To(false),
			NodeSelector:                  maps.Clone(rt.NodeSelector),
			Tolerations:                   append([]corev1.Toleration(nil), rt.Tolerations...),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				RunAsUser:      ptr.To[int64](runtimeUID),
				RunAsGroup:     ptr.To[int64](runtimeUID),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Volumes: volumes,
			Containers: []corev1.Container{{
				Name:  "runtime",
				Image: image,
				Args:  args,
				Ports: []corev1.ContainerPort{
					{Name: "http", ContainerPort: runtimePort, Protocol: corev1.ProtocolTCP},
					{Name: "ops", ContainerPort: opsPort, Protocol: corev1.ProtocolTCP},
				},
				Env:                      env,
				Resources:                resources,
				VolumeMounts:             mounts,
				LivenessProbe:            probe("/healthz"),
				ReadinessProbe:           probe("/readyz"),
				TerminationMessagePath:   corev1.TerminationMessagePathDefault,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				ImagePullPolicy:          defaultPullPolicy(image),
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					ReadOnlyRootFilesystem:   ptr.To(true),
					RunAsNonRoot:             ptr.To(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// deploymentSpec is the runtime Deployment's spec, defaults included.
func deploymentSpec(idp *idav1alpha1.IdentityProvider, image, configHash string) appsv1.DeploymentSpec {
	replicas := leastReplicas(idp)
	maxUnavailable := intstr.FromString("25%")
	maxSurge := intstr.FromString("25%")
	return appsv1.DeploymentSpec{
		Replicas: &replicas,
		Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(idp)},
		Template: podTemplate(idp, image, configHash),
		Strategy: appsv1.DeploymentStrategy{
			Type:          appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
		},
		RevisionHistoryLimit:    ptr.To[int32](10),
		ProgressDeadlineSeconds: ptr.To[int32](600),
	}
}

// servicePorts is the runtime Service's port.
func servicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{{Name: "http", Port: runtimePort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}
}

// pdbSpec keeps one runtime pod up through voluntary disruptions; only
// wanted with more than one replica.
func pdbSpec(idp *idav1alpha1.IdentityProvider) policyv1.PodDisruptionBudgetSpec {
	one := intstr.FromInt32(1)
	return policyv1.PodDisruptionBudgetSpec{
		MinAvailable: &one,
		Selector:     &metav1.LabelSelector{MatchLabels: selectorLabels(idp)},
	}
}

// wantsPDB reports whether the provider always runs more than one
// replica: keeping one pod up is then safe, where with a single pod it
// would block every node drain.
func wantsPDB(idp *idav1alpha1.IdentityProvider) bool {
	return leastReplicas(idp) > 1
}

// leastReplicas is the fewest pods the runtime runs: replicas, or the
// autoscaler's minimum.
func leastReplicas(idp *idav1alpha1.IdentityProvider) int32 {
	rt := &idp.Spec.Runtime
	if rt.Autoscaling != nil {
		return ptr.Deref(rt.Autoscaling.MinReplicas, 1)
	}
	return ptr.Deref(rt.Replicas, idav1alpha1.DefaultReplicas)
}

// hpaSpec scales the runtime Deployment on the CPU use of its pods
// (autoscaling/v2), with the fields the API server would default set.
func hpaSpec(idp *idav1alpha1.IdentityProvider) autoscalingv2.HorizontalPodAutoscalerSpec {
	as := idp.Spec.Runtime.Autoscaling
	return autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: RuntimeName(idp)},
		MinReplicas:    ptr.To(ptr.Deref(as.MinReplicas, 1)),
		MaxReplicas:    as.MaxReplicas,
		Metrics: []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: ptr.To(ptr.Deref(as.TargetCPUUtilizationPercentage, 70)),
				},
			},
		}},
	}
}

// defaultPullPolicy is the policy the API server would give the image:
// Always for an untagged or :latest image, IfNotPresent otherwise.
func defaultPullPolicy(image string) corev1.PullPolicy {
	if strings.Contains(image, "@") {
		return corev1.PullIfNotPresent
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, tagged := strings.Cut(last, ":")
	if !tagged || tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
