package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func TestProviderAutoscaling(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-hpa", nil)
	readyFramework(t, "hpa-aml", "hpa_aml", "birthdate")
	idp := newProvider("idp-hpa", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"hpa-aml"}})
	idp.Spec.SessionStore = idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreRedis, Redis: &idav1alpha1.RedisSpec{Address: "redis.idp-hpa:6379"}}
	idp.Spec.Runtime.Autoscaling = &idav1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 6, TargetCPUUtilizationPercentage: ptr.To[int32](60)}
	create(t, idp)

	key := client.ObjectKey{Namespace: "idp-hpa", Name: "bank"}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	eventually(t, 10*time.Second, func() error { return k8s.Get(ctx, key, hpa) })
	if hpa.Spec.ScaleTargetRef.Name != "bank" || *hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 6 ||
		*hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Errorf("hpa %+v", hpa.Spec)
	}
	dep := &appsv1.Deployment{}
	pdb := &policyv1.PodDisruptionBudget{}
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, key, dep); err != nil {
			return err
		}
		return k8s.Get(ctx, key, pdb)
	})
	if *dep.Spec.Replicas != 2 {
		t.Errorf("deployment starts with %d replicas, want the minimum 2", *dep.Spec.Replicas)
	}

	// The autoscaler's count stands, and nothing is rewritten in steady state.
	update(t, dep, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](5) })
	hpaVersion := hpa.ResourceVersion
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, key, dep); err != nil || *dep.Spec.Replicas != 5 {
		t.Errorf("the operator fought the autoscaler: replicas %d (%v)", *dep.Spec.Replicas, err)
	}
	if err := k8s.Get(ctx, key, hpa); err != nil || hpa.ResourceVersion != hpaVersion {
		t.Errorf("the autoscaler was rewritten in steady state (%v)", err)
	}

	// Down to a minimum of one: the PDB goes, which would block drains.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Runtime.Autoscaling.MinReplicas = ptr.To[int32](1) })
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, key, pdb); !apierrors.IsNotFound(err) {
			return fmt.Errorf("PDB still present with a minimum of one (%v)", err)
		}
		return nil
	})

	// Without autoscaling, the autoscaler goes and replicas rules again.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Runtime.Autoscaling = nil })
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, key, hpa); !apierrors.IsNotFound(err) {
			return fmt.Errorf("HPA still present (%v)", err)
		}
		if err := k8s.Get(ctx, key, dep); err != nil {
			return err
		}
		if *dep.Spec.Replicas != 1 {
			return fmt.Errorf("replicas %d, want spec.runtime.replicas 1", *dep.Spec.Replicas)
		}
		return nil
	})
}
