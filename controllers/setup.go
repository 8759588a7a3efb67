// Package controllers wires the reconcilers of ida-operator into a manager.
package controllers

import (
	"context"
	"crypto/x509"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/idaop/ida-operator/controllers/events"
	"github.com/idaop/ida-operator/controllers/identityprovider"
	"github.com/idaop/ida-operator/controllers/relyingparty"
	"github.com/idaop/ida-operator/controllers/trustframework"
)

// Options configure the reconcilers.
type Options struct {
	// RuntimeImage is the image of the provider runtime Deployments.
	RuntimeImage string
	// RuntimePKCS11Image is the runtime image of providers whose keys are
	// in a PKCS#11 token; empty: RuntimeImage with the tag suffix -pkcs11.
	RuntimePKCS11Image string
	// Now is the clock of key rotation; tests inject a fake one. Default
	// time.Now.
	Now func() time.Time
	// SectorRoots verify the servers of sectorIdentifierURIs; nil means
	// the system roots.
	SectorRoots *x509.CertPool
	// GatewayAPI: the cluster serves HTTPRoutes
	// (identityprovider.ServesKind), so providers may be exposed through
	// them.
	GatewayAPI bool
	// CertManager: the cluster serves cert-manager's Certificates, so
	// providers may have their certificate issued.
	CertManager bool
}

// Setup registers every reconciler with the manager.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	tf := &trustframework.Reconciler{
		Client: mgr.GetClient(),
		Events: events.NewRecorder(mgr.GetEventRecorder("trustframework-controller")),
	}
	if err := tf.SetupWithManager(mgr); err != nil {
		return err
	}
	idp := &identityprovider.Reconciler{
		Client:             mgr.GetClient(),
		APIReader:          mgr.GetAPIReader(),
		Events:             events.NewRecorder(mgr.GetEventRecorder("identityprovider-controller")),
		RuntimeImage:       o.RuntimeImage,
		RuntimePKCS11Image: o.RuntimePKCS11Image,
		Now:                o.Now,
		GatewayAPI:         o.GatewayAPI,
		CertManager:        o.CertManager,
	}
	if err := idp.SetupWithManager(mgr); err != nil {
		return err
	}
	rp := &relyingparty.Reconciler{
		Client:      mgr.GetClient(),
		APIReader:   mgr.GetAPIReader(),
		Events:      events.NewRecorder(mgr.GetEventRecorder("relyingparty-controller")),
		SectorRoots: o.SectorRoots,
	}
	return rp.SetupWithManager(ctx, mgr)
}
