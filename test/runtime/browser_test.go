package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is one headless Debian Chromium for the package; every flow gets
// a fresh browser context (its own cookies), like a private window.
type browser struct {
	ctx     context.Context // the root target's context
	cancels []context.CancelFunc
	dataDir string
}

var (
	browserOnce sync.Once
	sharedBr    *browser
	browserErr  error
	browserMu   sync.Mutex
)

func getBrowser(t *testing.T) *browser {
	t.Helper()
	requireChromium(t)
	browserOnce.Do(func() { sharedBr, browserErr = startBrowser() })
	if browserErr != nil {
		t.Fatalf("starting %s: %v (%s)", chromiumPath, browserErr, depsHint)
	}
	return sharedBr
}

func startBrowser() (*browser, error) {
	dir, err := os.MkdirTemp("", "ida-chromium-")
	if err != nil {
		return nil, err
	}
	// The flags this machine needs: no sandbox (root), no GPU, and nothing
	// that reaches for the network on its own.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(900, 1000),
		chromedp.UserDataDir(dir),
	}
	b := &browser{dataDir: dir}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b.cancels = append(b.cancels, cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b.cancels = append(b.cancels, cancelCtx)
	// The first Do starts the browser and binds it to ctx, so it must not
	// carry a timeout: cancelling it would close the browser.
	if err := chromedp.Do(ctx); err != nil {
		b.close()
		return nil, err
	}
	b.ctx = ctx
	return b, nil
}

func (b *browser) close() {
	for i := len(b.cancels) - 1; i >= 0; i-- {
		b.cancels[i]()
	}
	for range 50 {
		if err := os.RemoveAll(b.dataDir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tab opens a target in a new browser context, closed when t ends.
func (b *browser) tab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	browserMu.Lock()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	browserMu.Unlock()
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	return ctx
}

// page is what a flow saw in the browser.
type flowPages struct {
	loginText, consentText string
	loginPNG, consentPNG   []byte
}

// signInWithBrowser follows an authorization URL in Chromium: the login
// page, then the consent page, where it clicks decision ("approve" or
// "deny"). The redirect lands at the callbacks server.
func signInWithBrowser(t *testing.T, ctx context.Context, authorizationURL, password, decision string, screenshots bool) *flowPages {
	t.Helper()
	var fp flowPages
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("browser: %s: %v\nat %s\npage text: %.1500s", what, err, loc, body)
		}
	}
	step("open the authorization URL", chromedp.Do(ctx, chromedp.Navigate(authorizationURL)))
	step("wait for the login form", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#username"))))
	var err error
	fp.loginText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	step("read the login page", err)
	if screenshots {
		fp.loginPNG, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		step("screenshot the login page", err)
	}
	step("fill in the login form", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "demo"),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	))
	_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form button[type=submit]")))
	step("submit the login form", err)
	step("wait for the consent page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`))))
	fp.consentText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	step("read the consent page", err)
	if screenshots {
		fp.consentPNG, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		step("screenshot the consent page", err)
	}
	_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[value=%q]`, decision))))
	step("click "+decision, err)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	step("read the location", err)
	if !strings.Contains(loc, "/cb?") {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("browser: after %s the page is %s, not the redirect URI: %.1500s", decision, loc, body)
	}
	return &fp
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
