package identityprovider

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
)

// pkcs11ImageSuffix names the cgo build of an image beside its static one.
const pkcs11ImageSuffix = "-pkcs11"

// runtimeImage is the provider's runtime image: its own override, else the
// operator's runtime image, in its pkcs11 build when the runtime must sign
// in a token (a static binary cannot load a PKCS#11 module).
func runtimeImage(idp *idav1alpha1.IdentityProvider, static, pkcs11 string) string {
	switch {
	case idp.Spec.Runtime.Image != "":
		return idp.Spec.Runtime.Image
	case idp.Spec.Signing.KeyStore.PKCS11 == nil:
		return static
	case pkcs11 != "":
		return pkcs11
	}
	return withTagSuffix(static, pkcs11ImageSuffix)
}

// withTagSuffix appends suffix to the image's tag (":latest" when it has
// none). An image pinned by digest names one build only, so it is kept.
func withTagSuffix(image, suffix string) string {
	if strings.Contains(image, "@") {
		return image
	}
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		return image + suffix
	}
	return image + ":latest" + suffix
}

// pkcs11Pod is what the runtime pod needs to sign in to the token: the
// vendor's volumes and environment, and the PIN from its Secret.
func pkcs11Pod(t *idav1alpha1.PKCS11KeyStore) ([]corev1.Volume, []corev1.VolumeMount, []corev1.EnvVar) {
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, v := range t.Volumes {
		src := corev1.VolumeSource{
			HostPath: v.HostPath.DeepCopy(), ConfigMap: v.ConfigMap.DeepCopy(), Secret: v.Secret.DeepCopy(),
			PersistentVolumeClaim: v.PersistentVolumeClaim.DeepCopy(), CSI: v.CSI.DeepCopy(),
		}
		defaultVolumeSource(&src)
		volumes = append(volumes, corev1.Volume{Name: v.Name, VolumeSource: src})
		mounts = append(mounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath, ReadOnly: ptr.Deref(v.ReadOnly, true)})
	}
	env := []corev1.EnvVar{{Name: config.PKCS11PINEnv, ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: t.PINSecretRef.Name}, Key: t.PINSecretRef.Key,
		},
	}}}
	for _, e := range t.Env {
		env = append(env, *e.DeepCopy())
	}
	return volumes, mounts, env
}

// defaultVolumeSource sets what the API server would default, so that the
// Deployment compares equal to its live object.
func defaultVolumeSource(src *corev1.VolumeSource) {
	switch {
	case src.HostPath != nil && src.HostPath.Type == nil:
		src.HostPath.Type = ptr.To(corev1.HostPathUnset)
	case src.ConfigMap != nil && src.ConfigMap.DefaultMode == nil:
		src.ConfigMap.DefaultMode = ptr.To(corev1.ConfigMapVolumeSourceDefaultMode)
	case src.Secret != nil && src.Secret.DefaultMode == nil:
		src.Secret.DefaultMode = ptr.To(corev1.SecretVolumeSourceDefaultMode)
	}
}
