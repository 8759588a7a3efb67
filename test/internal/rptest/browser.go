package rptest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Debian Chromium; every Tab gets a fresh browser
// context (its own cookies), like a private window.
type Browser struct {
	ctx     context.Context // the root target's context
	cancels []context.CancelFunc
	dataDir string
	mu      sync.Mutex
}

// StartBrowser starts Chromium; it stops when t ends.
func StartBrowser(t testing.TB) *Browser {
	t.Helper()
	b, err := NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// NewBrowser starts Chromium, for a browser that outlives one test (shared
// by a package, say); Close stops it.
func NewBrowser() (*Browser, error) {
	if _, err := os.Stat(ChromiumPath); err != nil {
		return nil, fmt.Errorf("%s is missing: %s", ChromiumPath, DepsHint)
	}
	dir, err := os.MkdirTemp("", "ida-chromium-")
	if err != nil {
		return nil, err
	}
	// The flags this machine needs: no sandbox (root), no GPU, and nothing
	// that reaches for the network on its own.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
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
	b := &Browser{dataDir: dir}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b.cancels = append(b.cancels, cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b.cancels = append(b.cancels, cancelCtx)
	// The first Do starts the browser and binds it to ctx, so it must not
	// carry a timeout: cancelling it would close the browser.
	if err := chromedp.Do(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("starting %s: %v (%s)", ChromiumPath, err, DepsHint)
	}
	b.ctx = ctx
	return b, nil
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
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

// Tab opens a target in a new browser context, closed when t ends or after
// timeout.
func (b *Browser) Tab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	b.mu.Lock()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.mu.Unlock()
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	return ctx
}

// Pages is what a flow saw in the browser.
type Pages struct {
	// LoginShown says the login page came (no session yet).
	LoginShown  bool
	LoginText   string
	ConsentText string
	// LoginPNG and ConsentPNG are full-page screenshots, with
	// Flow.Screenshots.
	LoginPNG, ConsentPNG []byte
	// ConsentRemembered: the person had approved the request before, so
	// no consent page came (ConsentText is empty).
	ConsentRemembered bool
	// Final is the URL the browser ended at: the redirect URI.
	Final string
}

// Authorize follows an authorization URL in the tab: the login page if the
// provider shows one (it does without a session), then the consent page,
// where it clicks decision ("approve" or "deny"). The redirect must land
// at a URL starting with redirectPrefix.
func Authorize(t testing.TB, ctx context.Context, authorizationURL, username, password, decision, redirectPrefix string) *Pages {
	t.Helper()
	return Flow{URL: authorizationURL, Username: username, Password: password, Decision: decision, RedirectPrefix: redirectPrefix}.Run(t, ctx)
}

// Flow is Authorize's arguments, with the options it leaves out.
type Flow struct {
	URL                string // the authorization URL
	Username, Password string
	Decision           string // "approve" or "deny"
	RedirectPrefix     string // where the redirect must land
	// Screenshots takes full-page screenshots of the login and consent
	// pages (Pages.LoginPNG, Pages.ConsentPNG).
	Screenshots bool
}

// Run follows the flow in the tab, as Authorize does.
func (f Flow) Run(t testing.TB, ctx context.Context) *Pages {
	t.Helper()
	var fp Pages
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("browser: %s: %v\nat %s\npage text: %.1500s", what, err, loc, body)
		}
	}
	loginOrConsent := `#username, button[value="approve"]`
	step("open the authorization URL", chromedp.Do(ctx, chromedp.Navigate(f.URL)))
	step("wait for the login or consent page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(loginOrConsent))))
	hasLogin, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#username") !== null`))
	step("look for the login form", err)
	if hasLogin {
		fp.LoginShown = true
		fp.LoginText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		step("read the login page", err)
		if f.Screenshots {
			fp.LoginPNG, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			step("screenshot the login page", err)
		}
		step("fill in the login form", chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#username"), f.Username),
			chromedp.SendKeys(chromedp.CSS("#password"), f.Password),
		))
		_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form button[type=submit]")))
		step("submit the login form", err)
		// A consent the person gave before is remembered: then the
		// redirect comes at once.
		step("wait for the consent page or the redirect", chromedp.Do(ctx, chromedp.Poll[chromedp.Void](
			`location.href.startsWith(`+strconv.Quote(f.RedirectPrefix)+`) || document.querySelector('button[value="approve"]') !== null`)))
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && strings.HasPrefix(loc, f.RedirectPrefix) {
			if f.Decision != "approve" {
				t.Fatalf("browser: the consent was remembered, so %s cannot be clicked", f.Decision)
			}
			fp.ConsentRemembered, fp.Final = true, loc
			return &fp
		}
	}
	fp.ConsentText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	step("read the consent page", err)
	if f.Screenshots {
		fp.ConsentPNG, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		step("screenshot the consent page", err)
	}
	_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[value="`+f.Decision+`"]`)))
	step("click "+f.Decision, err)
	fp.Final, err = chromedp.Run(ctx, chromedp.Location())
	step("read the location", err)
	if !strings.HasPrefix(fp.Final, f.RedirectPrefix) {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("browser: after %s the page is %s, not the redirect URI %s: %.1500s", f.Decision, fp.Final, f.RedirectPrefix, body)
	}
	return &fp
}

// Cookies returns the tab's cookies for u, HttpOnly ones included.
func Cookies(t testing.TB, ctx context.Context, u string) []*http.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	if err != nil {
		t.Fatalf("browser: reading the cookies of %s: %v", u, err)
	}
	out := make([]*http.Cookie, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value, Path: c.Path, HttpOnly: c.HTTPOnly})
	}
	return out
}

// SessionCookie is the tab's ida_session cookie (under its __Host- or
// __Secure- name when the issuer is https) for issuer's authorization
// endpoint, or nil when it holds none.
func SessionCookie(t testing.TB, ctx context.Context, issuer string) *http.Cookie {
	t.Helper()
	var session *http.Cookie
	for _, c := range Cookies(t, ctx, issuer+"/authorize") {
		if strings.TrimPrefix(strings.TrimPrefix(c.Name, "__Host-"), "__Secure-") == "ida_session" {
			session = c
		}
	}
	return session
}
