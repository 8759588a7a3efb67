package ui

import (
	"fmt"
	"strings"
)

// Languages the pages are written in; the first is the fallback.
const (
	English  = "en"
	Japanese = "ja"
)

// catalog maps message keys to text. Keys with a %s take one argument,
// always the relying party's name.
type catalog map[string]string

var catalogs = map[string]catalog{English: en, Japanese: ja}

// Text returns the message for key in lang ("en" or "ja"), falling back to
// English, then to the key itself. The runtime uses it for texts it puts
// in ErrorData.
func Text(lang, key string) string {
	if s, ok := catalogs[normalizeLang(lang)][key]; ok {
		return s
	}
	if s, ok := en[key]; ok {
		return s
	}
	return key
}

func textf(lang, key string, arg string) string {
	return fmt.Sprintf(Text(lang, key), arg)
}

// normalizeLang maps anything that is not Japanese to English, the
// fallback.
func normalizeLang(lang string) string {
	if strings.EqualFold(lang, Japanese) || strings.HasPrefix(strings.ToLower(lang), "ja-") {
		return Japanese
	}
	return English
}

var en = catalog{
	"login.title":                     "Sign in",
	"login.lead":                      "Sign in to continue to %s.",
	"login.lead.noclient":             "Sign in to continue.",
	"login.username":                  "Username",
	"login.password":                  "Password",
	"login.submit":                    "Sign in",
	"login.error.invalid_credentials": "The username or password is incorrect.",
	"login.error.required":            "Enter your username and password.",
	"login.error.unavailable":         "Sign-in is temporarily unavailable. Please try again in a few minutes.",
	"login.error.expired":             "This page has expired. Go back to the application and start again.",
	"login.error.generic":             "Sign-in did not work. Please try again.",
	"login.error.too_many_attempts":   "Too many failed attempts. Please wait a few minutes, then try again.",
	"otp.title":                       "Enter your one-time code",
	"otp.lead":                        "%s asks for a second step. Enter the 6-digit code your authenticator app shows.",
	"otp.lead.noclient":               "Enter the 6-digit code your authenticator app shows.",
	"otp.enrol.title":                 "Set up an authenticator app",
	"otp.enrol.lead":                  "%s asks for a second step. Add this account to an authenticator app, then enter the 6-digit code it shows.",
	"otp.enrol.lead.noclient":         "Add this account to an authenticator app, then enter the 6-digit code it shows.",
	"otp.enrol.secret":                "Setup key",
	"otp.enrol.qr_alt":                "QR code for your authenticator app; the same setup key is written below.",
	"otp.enrol.uri":                   "Setup link (otpauth URI)",
	"otp.code":                        "6-digit code",
	"otp.submit":                      "Continue",
	"otp.error.invalid_code":          "That code did not work. Enter the code your app shows now.",
	"otp.error.required":              "Enter the 6-digit code.",
	"otp.error.too_many_attempts":     "Too many wrong codes. Please wait a few minutes, then try again.",

	"consent.title":             "Share your information",
	"consent.heading":           "%s is asking for access to your information",
	"consent.heading.noclient":  "An application is asking for access to your information",
	"consent.purpose":           "Why it is asked for",
	"consent.scopes":            "Access requested",
	"consent.claims":            "Information to be shared",
	"consent.claim.purpose":     "Purpose",
	"consent.claim.status":      "Verification",
	"consent.no_purpose":        "No purpose given",
	"consent.verified":          "Verified",
	"consent.verified_under":    "Checked under: ",
	"consent.unverified":        "Not verified",
	"consent.notice":            "If you allow, %s will receive this information. If you deny, nothing is shared.",
	"consent.notice.noclient":   "If you allow, the application will receive this information. If you deny, nothing is shared.",
	"consent.signed_in":         "How you signed in",
	"amr.pwd":                   "Password",
	"amr.otp":                   "One-time code from your authenticator app",
	"amr.hwk":                   "Passkey",
	"amr.swk":                   "Passkey",
	"consent.approve":           "Allow",
	"consent.deny":              "Deny",
	"error.title":               "Something went wrong",
	"error.message":             "The request could not be completed. Go back to the application and try again.",
	"error.expired.title":       "This page has expired",
	"error.expired.message":     "Go back to the application and start again.",
	"error.unavailable.title":   "Temporarily unavailable",
	"error.unavailable.message": "The service cannot answer right now. Please try again in a few minutes.",
	"error.bad_request.title":   "Invalid request",
	"error.bad_request.message": "The application sent a request that cannot be processed. Contact the application's support.",

	"scope.openid":                    "Sign you in with your account identifier",
	"scope.profile":                   "Your basic profile (name, birth date, language and similar)",
	"scope.email":                     "Your email address",
	"scope.address":                   "Your postal address",
	"scope.phone":                     "Your phone number",
	"scope.offline_access":            "Keep access while you are not using the application",
	"scope.jp_oidf_ida":               "Your verified name, birth date and address",
	"scope.jp_oidf_ida_with_evidence": "Your verified name, birth date and address, with when and how your identity was checked",
	"scope.jp_oidf_ida_age_over_16":   "Whether you are 16 or older (verified)",
	"scope.jp_oidf_ida_age_over_18":   "Whether you are 18 or older (verified)",
	"scope.jp_oidf_ida_age_over_20":   "Whether you are 20 or older (verified)",
	"scope.jp_oidf_ida_msisdn":        "Your verified mobile phone number",

	"claim.sub":                   "Account identifier",
	"claim.name":                  "Full name",
	"claim.given_name":            "Given name",
	"claim.family_name":           "Family name",
	"claim.middle_name":           "Middle name",
	"claim.nickname":              "Nickname",
	"claim.preferred_username":    "Username",
	"claim.profile":               "Profile page",
	"claim.picture":               "Picture",
	"claim.website":               "Website",
	"claim.email":                 "Email address",
	"claim.email_verified":        "Whether your email address is confirmed",
	"claim.gender":                "Gender",
	"claim.birthdate":             "Date of birth",
	"claim.zoneinfo":              "Time zone",
	"claim.locale":                "Language",
	"claim.phone_number":          "Phone number",
	"claim.phone_number_verified": "Whether your phone number is confirmed",
	"claim.address":               "Address",
	"claim.address.formatted":     "Address",
	"claim.updated_at":            "When your profile was last updated",
	"claim.place_of_birth":        "Place of birth",
	"claim.nationalities":         "Nationalities",
	"claim.birth_family_name":     "Family name at birth",
	"claim.birth_given_name":      "Given name at birth",
	"claim.birth_middle_name":     "Middle name at birth",
	"claim.salutation":            "Salutation",
	"claim.title":                 "Title",
	"claim.msisdn":                "Mobile phone number",
	"claim.also_known_as":         "Also known as",
	"claim.verification":          "How your identity was checked",
	"claim.trust_framework":       "Rules your identity was checked under",
	"claim.assurance_level":       "Level of identity assurance",
	"claim.time":                  "When your identity was checked",
	"claim.evidence":              "Evidence used to check your identity",
	"claim.:age_16_or_over":       "Whether you are 16 or older",
	"claim.:age_18_or_over":       "Whether you are 18 or older",
	"claim.:age_20_or_over":       "Whether you are 20 or older",

	"tf.jp_oidf_ida":  "OpenID Foundation Japan identity assurance profile",
	"tf.jp_aml":       "Japanese anti-money-laundering law",
	"tf.uk_tfida":     "UK digital identity trust framework",
	"tf.de_aml":       "German anti-money-laundering law",
	"tf.eidas":        "EU eIDAS regulation",
	"tf.nist_800_63A": "NIST SP 800-63A",
}

var ja = catalog{
	"login.title":                     "ログイン",
	"login.lead":                      "%s を利用するにはログインしてください。",
	"login.lead.noclient":             "続けるにはログインしてください。",
	"login.username":                  "ユーザー名",
	"login.password":                  "パスワード",
	"login.submit":                    "ログイン",
	"login.error.invalid_credentials": "ユーザー名またはパスワードが正しくありません。",
	"login.error.required":            "ユーザー名とパスワードを入力してください。",
	"login.error.unavailable":         "現在ログインできません。しばらくしてからもう一度お試しください。",
	"login.error.expired":             "このページの有効期限が切れました。アプリケーションに戻り、最初からやり直してください。",
	"login.error.generic":             "ログインできませんでした。もう一度お試しください。",
	"login.error.too_many_attempts":   "ログインの失敗が続いたため、しばらくお待ちください。数分後にもう一度お試しください。",
	"otp.title":                       "ワンタイムコードの入力",
	"otp.lead":                        "%s が追加の確認を求めています。認証アプリに表示されている6桁のコードを入力してください。",
	"otp.lead.noclient":               "認証アプリに表示されている6桁のコードを入力してください。",
	"otp.enrol.title":                 "認証アプリの設定",
	"otp.enrol.lead":                  "%s が追加の確認を求めています。このアカウントを認証アプリに追加し、表示された6桁のコードを入力してください。",
	"otp.enrol.lead.noclient":         "このアカウントを認証アプリに追加し、表示された6桁のコードを入力してください。",
	"otp.enrol.secret":                "セットアップキー",
	"otp.enrol.qr_alt":                "認証アプリ用のQRコード。同じセットアップキーを下に記載しています。",
	"otp.enrol.uri":                   "セットアップリンク（otpauth URI）",
	"otp.code":                        "6桁のコード",
	"otp.submit":                      "続ける",
	"otp.error.invalid_code":          "コードが正しくありません。アプリに現在表示されているコードを入力してください。",
	"otp.error.required":              "6桁のコードを入力してください。",
	"otp.error.too_many_attempts":     "誤ったコードの入力が続いたため、しばらくお待ちください。数分後にもう一度お試しください。",

	"consent.title":             "情報の提供",
	"consent.heading":           "%s があなたの情報へのアクセスを求めています",
	"consent.heading.noclient":  "アプリケーションがあなたの情報へのアクセスを求めています",
	"consent.purpose":           "利用目的",
	"consent.scopes":            "求められているアクセス",
	"consent.claims":            "提供される情報",
	"consent.claim.purpose":     "利用目的",
	"consent.claim.status":      "本人確認",
	"consent.no_purpose":        "利用目的の記載はありません",
	"consent.verified":          "確認済み",
	"consent.verified_under":    "確認の根拠: ",
	"consent.unverified":        "未確認",
	"consent.notice":            "許可すると、%s にこれらの情報が提供されます。拒否した場合、情報は提供されません。",
	"consent.notice.noclient":   "許可すると、アプリケーションにこれらの情報が提供されます。拒否した場合、情報は提供されません。",
	"consent.signed_in":         "サインインの方法",
	"amr.pwd":                   "パスワード",
	"amr.otp":                   "認証アプリのワンタイムコード",
	"amr.hwk":                   "パスキー",
	"amr.swk":                   "パスキー",
	"consent.approve":           "許可する",
	"consent.deny":              "拒否する",
	"error.title":               "エラーが発生しました",
	"error.message":             "リクエストを完了できませんでした。アプリケーションに戻り、もう一度お試しください。",
	"error.expired.title":       "このページの有効期限が切れました",
	"error.expired.message":     "アプリケーションに戻り、最初からやり直してください。",
	"error.unavailable.title":   "一時的に利用できません",
	"error.unavailable.message": "現在サービスが応答できません。しばらくしてからもう一度お試しください。",
	"error.bad_request.title":   "無効なリクエスト",
	"error.bad_request.message": "アプリケーションから処理できないリクエストが送られました。アプリケーションのサポート窓口にお問い合わせください。",

	"scope.openid":                    "アカウント識別子によるログイン",
	"scope.profile":                   "基本プロフィール（氏名、生年月日、言語など）",
	"scope.email":                     "メールアドレス",
	"scope.address":                   "住所",
	"scope.phone":                     "電話番号",
	"scope.offline_access":            "アプリケーションを利用していない間もアクセスを続けること",
	"scope.jp_oidf_ida":               "本人確認済みの氏名、生年月日、住所",
	"scope.jp_oidf_ida_with_evidence": "本人確認済みの氏名、生年月日、住所と、本人確認の日時・方法",
	"scope.jp_oidf_ida_age_over_16":   "16歳以上かどうか（本人確認済み）",
	"scope.jp_oidf_ida_age_over_18":   "18歳以上かどうか（本人確認済み）",
	"scope.jp_oidf_ida_age_over_20":   "20歳以上かどうか（本人確認済み）",
	"scope.jp_oidf_ida_msisdn":        "本人確認済みの携帯電話番号",

	"claim.sub":                   "アカウント識別子",
	"claim.name":                  "氏名",
	"claim.given_name":            "名",
	"claim.family_name":           "姓",
	"claim.middle_name":           "ミドルネーム",
	"claim.nickname":              "ニックネーム",
	"claim.preferred_username":    "ユーザー名",
	"claim.profile":               "プロフィールページ",
	"claim.picture":               "写真",
	"claim.website":               "ウェブサイト",
	"claim.email":                 "メールアドレス",
	"claim.email_verified":        "メールアドレスが確認済みかどうか",
	"claim.gender":                "性別",
	"claim.birthdate":             "生年月日",
	"claim.zoneinfo":              "タイムゾーン",
	"claim.locale":                "言語",
	"claim.phone_number":          "電話番号",
	"claim.phone_number_verified": "電話番号が確認済みかどうか",
	"claim.address":               "住所",
	"claim.address.formatted":     "住所",
	"claim.updated_at":            "プロフィールの最終更新日時",
	"claim.place_of_birth":        "出生地",
	"claim.nationalities":         "国籍",
	"claim.birth_family_name":     "出生時の姓",
	"claim.birth_given_name":      "出生時の名",
	"claim.birth_middle_name":     "出生時のミドルネーム",
	"claim.salutation":            "敬称",
	"claim.title":                 "肩書",
	"claim.msisdn":                "携帯電話番号",
	"claim.also_known_as":         "別名",
	"claim.verification":          "本人確認の方法",
	"claim.trust_framework":       "本人確認の根拠となる規則",
	"claim.assurance_level":       "本人確認の保証レベル",
	"claim.time":                  "本人確認の日時",
	"claim.evidence":              "本人確認に用いた証拠",
	"claim.:age_16_or_over":       "16歳以上かどうか",
	"claim.:age_18_or_over":       "18歳以上かどうか",
	"claim.:age_20_or_over":       "20歳以上かどうか",

	"tf.jp_oidf_ida":  "OpenIDファウンデーション・ジャパン 本人確認プロファイル",
	"tf.jp_aml":       "犯罪収益移転防止法",
	"tf.uk_tfida":     "英国デジタルアイデンティティ信頼フレームワーク",
	"tf.de_aml":       "ドイツ資金洗浄防止法",
	"tf.eidas":        "EU eIDAS規則",
	"tf.nist_800_63A": "NIST SP 800-63A",
}
