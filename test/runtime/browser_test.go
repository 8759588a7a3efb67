package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/idaop/ida-operator/runtime/users"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// The package's tests share one headless Chromium; every flow gets a fresh
// browser context (its own cookies), like a private window.
var (
	browserOnce sync.Once
	sharedBr    *rptest.Browser
	browserErr  error
)

func getBrowser(t *testing.T) *rptest.Browser {
	t.Helper()
	browserOnce.Do(func() { sharedBr, browserErr = rptest.NewBrowser() })
	if browserErr != nil {
		t.Fatal(browserErr)
	}
	return sharedBr
}

// signInWithBrowser follows an authorization URL in a tab as the demo user:
// the login page (the tab's browser context is new, so it must come), then
// the consent page, where it clicks decision ("approve" or "deny"). The
// redirect lands at the callbacks server.
func signInWithBrowser(t *testing.T, e *env, tab context.Context, authorizationURL, decision string, screenshots bool) *rptest.Pages {
	t.Helper()
	pages := rptest.Flow{
		URL: authorizationURL, Username: users.DemoUsername, Password: demoPassword,
		Decision: decision, RedirectPrefix: e.cb.RedirectURI() + "?", Screenshots: screenshots,
	}.Run(t, tab)
	if !pages.LoginShown {
		t.Fatalf("browser: %s went to the consent page without the login page, in a new browser context", authorizationURL)
	}
	return pages
}

// saveScreenshot keeps a screenshot as a test artifact and, with
// -update-screenshots, in docs/screenshots/.
func saveScreenshot(t *testing.T, root, name string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("%s: not a PNG screenshot (%d bytes)", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if !*updateScreenshots {
		return
	}
	dir := filepath.Join(root, "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}
