package ui

import (
	"maps"
	"net/http"
)

// Form values of the logout confirmation page.
const (
	FieldLogout    = "logout"
	DecisionLogout = "logout"
	DecisionStay   = "stay"
)

// LogoutData fills the page that asks whether to sign out (OIDC
// RP-Initiated Logout 1.0 §2: when the request cannot be tied to the
// session, the person confirms). Token is the sealed request the form
// posts back to Action.
type LogoutData struct {
	Lang, ClientName, Action, Token string
}

// SignedOutData fills the page shown after a logout that names no
// post-logout redirect URI, or when the person chose to stay signed in.
type SignedOutData struct {
	Lang          string
	StillSignedIn bool
}

// Logout renders the logout confirmation page with status 200: two
// buttons posting logout=logout or logout=stay.
func (r *Renderer) Logout(w http.ResponseWriter, d LogoutData) error {
	return r.render(w, "logout", http.StatusOK, d.Lang, d)
}

// SignedOut renders the "you are signed out" page with status 200.
func (r *Renderer) SignedOut(w http.ResponseWriter, d SignedOutData) error {
	return r.render(w, "signedout", http.StatusOK, d.Lang, d)
}

func init() {
	maps.Copy(en, catalog{
		"logout.title":            "Sign out",
		"logout.lead":             "%s asks to sign you out. Do you want to sign out?",
		"logout.lead.noclient":    "Do you want to sign out?",
		"logout.notice":           "Signing out ends your session here and signs you out of the applications you used with it.",
		"logout.confirm":          "Sign out",
		"logout.stay":             "Stay signed in",
		"signedout.title":         "You are signed out",
		"signedout.message":       "You can close this window.",
		"signedout.still.title":   "You are still signed in",
		"signedout.still.message": "Nothing was changed. You can close this window.",
	})
	maps.Copy(ja, catalog{
		"logout.title":            "ログアウト",
		"logout.lead":             "%s がログアウトを求めています。ログアウトしますか？",
		"logout.lead.noclient":    "ログアウトしますか？",
		"logout.notice":           "ログアウトすると、ここでのセッションが終了し、このセッションで利用したアプリケーションからもログアウトします。",
		"logout.confirm":          "ログアウトする",
		"logout.stay":             "ログインしたままにする",
		"signedout.title":         "ログアウトしました",
		"signedout.message":       "このウィンドウを閉じてかまいません。",
		"signedout.still.title":   "ログインしたままです",
		"signedout.still.message": "何も変更されていません。このウィンドウを閉じてかまいません。",
	})
}
