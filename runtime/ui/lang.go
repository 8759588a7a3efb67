package ui

import (
	"strings"

	"golang.org/x/text/language"
)

var (
	supported = []string{English, Japanese}
	matcher   = language.NewMatcher([]language.Tag{language.English, language.Japanese})
)

// maxLangInput bounds the header and parameter we parse; real ones are
// far shorter.
const maxLangInput = 1024

// PickLanguage chooses "en" or "ja": the first ui_locales tag (space
// separated, in the RP's order of preference) that matches, then the
// browser's Accept-Language by q-value, then English.
func PickLanguage(uiLocales, acceptLanguage string) string {
	if len(uiLocales) <= maxLangInput {
		for _, s := range strings.Fields(uiLocales) {
			t, err := language.Parse(s)
			if err != nil {
				continue
			}
			if _, i, c := matcher.Match(t); c != language.No {
				return supported[i]
			}
		}
	}
	if acceptLanguage != "" && len(acceptLanguage) <= maxLangInput {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			if _, i, c := matcher.Match(tags...); c != language.No {
				return supported[i]
			}
		}
	}
	return English
}
