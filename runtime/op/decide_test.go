package op

import (
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
)

// TestNextStage: the login/consent decision, each case named after the
// rule that decides it.
func TestNextStage(t *testing.T) {
	now := time.Unix(10_000, 0)
	req := grants.Request{ClientID: "c", Scope: "openid"}
	// The sessions differ only in what the remembered consent covers,
	// which nextStage is told (grants.Covers decides it, TestCovers).
	approved := &grants.Session{Subject: "s", AuthTime: now.Unix() - 100}
	notApproved := &grants.Session{Subject: "s", AuthTime: now.Unix() - 100}
	age := func(n int64) *int64 { return &n }
	hinted := func(sub string) grants.Request { r := req; r.HintSubject = sub; return r }
	cases := []struct {
		name         string
		req          grants.Request
		prompt       string
		maxAge       *int64
		sess         *grants.Session
		justSignedIn bool
		want         string
	}{
		{"no session: sign in", req, "", nil, nil, false, grants.StageLogin},
		{"approved before: code at once", req, "", nil, approved, false, ""},
		{"prompt=login: sign in again", req, "login", nil, approved, false, grants.StageLogin},
		{"prompt=select_account: sign in again", req, "select_account", nil, approved, false, grants.StageLogin},
		{"max_age exceeded: sign in again", req, "", age(50), approved, false, grants.StageLogin},
		{"max_age met", req, "", age(500), approved, false, ""},
		{"max_age=0 after an older sign-in", req, "", age(0), approved, false, grants.StageLogin},
		{"max_age=0, signed in 70 ms ago", req, "", age(0), &grants.Session{Subject: "s", AuthTime: now.Unix(), AuthTimeMillis: now.UnixMilli() - 70}, false, grants.StageLogin},
		{"max_age=1, signed in 999 ms ago", req, "", age(1), &grants.Session{Subject: "s", AuthTime: now.Unix() - 1, AuthTimeMillis: now.UnixMilli() - 999}, false, ""},
		{"max_age=1, signed in 1001 ms ago", req, "", age(1), &grants.Session{Subject: "s", AuthTime: now.Unix() - 1, AuthTimeMillis: now.UnixMilli() - 1001}, false, grants.StageLogin},
		{"prompt=consent: ask again", req, "consent", nil, approved, false, grants.StageConsent},
		{"not approved yet: consent", req, "", nil, notApproved, false, grants.StageConsent},
		{"another user than the hint's is signed in", hinted("someone-else"), "", nil, approved, false, grants.StageLogin},
		{"the hint's user is signed in", hinted("s"), "", nil, approved, false, ""},
		{"just signed in satisfies prompt=login", req, "login", nil, approved, true, ""},
		{"just signed in satisfies max_age", req, "", age(0), approved, true, ""},
		{"just signed in, not approved: consent", req, "login", nil, notApproved, true, grants.StageConsent},
		{"just signed in, prompt=consent: consent", req, "consent", nil, approved, true, grants.StageConsent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			r.Prompt, r.MaxAge = tc.prompt, tc.maxAge
			covered := func() bool { return tc.sess != notApproved }
			if got := nextStage(&r, tc.sess, func(s string) string { return s }, now, tc.justSignedIn, &authn.Policy{}, covered); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNextStageLevels: a session below the request's level is stepped
// up, after every reason to sign in again and before consent.
func TestNextStageLevels(t *testing.T) {
	now := time.Unix(10_000, 0)
	levels := &authn.Policy{Levels: []authn.Level{
		{ACR: "pwd-level", Methods: [][]string{{"pwd"}}},
		{ACR: "mfa-level", Methods: [][]string{{"pwd", "otp"}}},
	}, DefaultLevel: "pwd-level"}
	mfa := grants.Request{ClientID: "c", Scope: "openid", ACR: "mfa-level"}
	pwdLevel := mfa
	pwdLevel.ACR = "pwd-level"
	session := func(req grants.Request, methods ...string) *grants.Session {
		s := &grants.Session{Subject: "s", AuthTime: now.Unix() - 100}
		for _, m := range methods {
			s.Methods = append(s.Methods, grants.MethodUse{Method: m, At: now.Unix() - 100})
		}
		return s
	}
	login := mfa
	login.Prompt = "login"
	metNotApproved := &grants.Session{Subject: "s", Methods: []grants.MethodUse{{Method: "pwd"}, {Method: "otp"}}}
	for _, tc := range []struct {
		name         string
		req          grants.Request
		sess         *grants.Session
		justSignedIn bool
		want         string
	}{
		{"a password session asked for MFA: step up", mfa, session(mfa, "pwd"), false, grants.StageStepUp},
		{"just signed in by password, MFA asked: step up", mfa, session(mfa, "pwd"), true, grants.StageStepUp},
		{"a two-factor session meets MFA", mfa, session(mfa, "pwd", "otp"), false, ""},
		{"a two-factor session meets the password level", pwdLevel, session(pwdLevel, "pwd", "otp"), false, ""},
		{"a password session meets the password level", pwdLevel, session(pwdLevel, "pwd"), false, ""},
		{"a session written before methods were recorded was a password sign-in", pwdLevel, session(pwdLevel), false, ""},
		{"... and is stepped up to MFA like one", mfa, session(mfa), false, grants.StageStepUp},
		{"no session: sign in first", mfa, nil, false, grants.StageLogin},
		{"prompt=login comes before the step-up", login, session(login, "pwd"), false, grants.StageLogin},
		{"met, not approved: consent", mfa, metNotApproved, false, grants.StageConsent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			covered := func() bool { return tc.sess != metNotApproved }
			if got := nextStage(&r, tc.sess, func(s string) string { return s }, now, tc.justSignedIn, levels, covered); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNextStageAsksTheStoreLast: the remembered consent (a store read)
// is only looked up when nothing else decides: not without a session, not
// for a sign-in or step-up, not under prompt=consent.
func TestNextStageAsksTheStoreLast(t *testing.T) {
	now := time.Unix(10_000, 0)
	sess := &grants.Session{Subject: "s", AuthTime: now.Unix() - 100}
	never := func() bool { t.Fatal("the consent was looked up"); return false }
	mfa := &authn.Policy{Levels: []authn.Level{{ACR: "mfa", Methods: [][]string{{"pwd", "otp"}}}}, DefaultLevel: "mfa"}
	for _, tc := range []struct {
		name   string
		req    grants.Request
		sess   *grants.Session
		levels *authn.Policy
		want   string
	}{
		{"no session", grants.Request{ClientID: "c"}, nil, &authn.Policy{}, grants.StageLogin},
		{"prompt=login", grants.Request{ClientID: "c", Prompt: "login"}, sess, &authn.Policy{}, grants.StageLogin},
		{"a step-up", grants.Request{ClientID: "c", ACR: "mfa"}, sess, mfa, grants.StageStepUp},
		{"prompt=consent", grants.Request{ClientID: "c", Prompt: "consent"}, sess, &authn.Policy{}, grants.StageConsent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextStage(&tc.req, tc.sess, func(s string) string { return s }, now, false, tc.levels, never); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckPromptNone: prompt=none turns a page into its error (OIDC Core
// §3.1.2.6); without prompt=none nothing is refused.
func TestCheckPromptNone(t *testing.T) {
	cases := []struct {
		name, prompt, stage, want string
	}{
		{"login page needed", "none", grants.StageLogin, "login_required"},
		{"consent page needed", "none", grants.StageConsent, "consent_required"},
		{"a step-up needed", "none", grants.StageStepUp, "interaction_required"},
		{"the code page needed", "none", grants.StageOTP, "interaction_required"},
		{"the authenticator setup needed", "none", grants.StageOTPEnrol, "interaction_required"},
		{"no page needed", "none", "", ""},
		{"prompt is not none", "login", grants.StageLogin, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := checkPromptNone(&grants.Request{Prompt: tc.prompt}, tc.stage)
			if got := codeOf(e); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// codeOf is the OAuth error code of a check's answer, "" when it passed.
func codeOf(e *oauthError) string {
	if e == nil {
		return ""
	}
	return e.Code
}
