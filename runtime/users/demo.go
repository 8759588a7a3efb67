package users

import (
	"encoding/json"
	"fmt"
)

// Demo user identifiers, printed by `demo`.
const (
	DemoSubject  = "demo-user-0001"
	DemoUsername = "demo"
)

// DemoCompany is the company the demo user acts for, as gBizID Prime
// (the authority claim under jp_gbizid_v1).
const DemoCompany = "株式会社デモ商事"

// DemoUsers returns a users.json holding one demo user with the password
// given, verified under jp_oidf_ida (a driving licence checked in person,
// and a phone number from a mobile network operator's records), jp_aml,
// uk_tfida and jp_gbizid_v1, where the user is the representative (gBizID
// Prime) of DemoCompany. Every value is invented.
func DemoUsers(password string) ([]byte, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	address := map[string]any{
		"formatted":      "東京都千代田区丸の内1-1-1",
		"postal_code":    "100-0005",
		"region":         "東京都",
		"locality":       "千代田区",
		"street_address": "丸の内1-1-1",
		"country":        "JP",
	}
	const (
		verifiedAt = "2024-04-01T10:15:00+09:00"
		checkedAt  = "2024-04-01T10:05:00+09:00"
		birthdate  = "1985-04-12"
	)
	licence := map[string]any{
		"type": "document",
		"check_details": []any{map[string]any{
			"check_method": "vpip", "organization": "Demo Bank", "time": checkedAt,
		}},
		"document_details": map[string]any{
			"type": "jp_drivers_license", "date_of_issuance": "2022-05-10", "date_of_expiry": "2027-05-12",
		},
	}
	verified := []any{
		map[string]any{
			"verification": map[string]any{
				"trust_framework": "jp_oidf_ida",
				"time":            verifiedAt,
				"evidence":        []any{licence},
			},
			"claims": map[string]any{
				"name":      "山田 太郎",
				"birthdate": birthdate,
				"address":   map[string]any{"formatted": address["formatted"]},
			},
		},
		map[string]any{
			"verification": map[string]any{
				"trust_framework": "jp_oidf_ida",
				"time":            verifiedAt,
				"evidence": []any{map[string]any{
					"type": "electronic_record",
					"check_details": []any{map[string]any{
						"check_method": "data", "organization": "Demo Mobile", "time": checkedAt,
					}},
					"record": map[string]any{"type": "mno", "source": map[string]any{"name": "Demo Mobile"}},
				}},
			},
			"claims": map[string]any{"msisdn": "819012345678"},
		},
		map[string]any{
			"verification": map[string]any{
				"trust_framework": "jp_aml",
				"time":            verifiedAt,
				"evidence":        []any{licence},
			},
			"claims": map[string]any{
				"given_name": "太郎", "family_name": "山田",
				"given_name#ja-Kana-JP": "タロウ", "family_name#ja-Kana-JP": "ヤマダ",
				"birthdate": birthdate, "address": address,
			},
		},
		map[string]any{
			"verification": map[string]any{
				"trust_framework": "uk_tfida",
				"assurance_level": "medium",
				"time":            "2023-11-20T14:30:00Z",
				"evidence": []any{map[string]any{
					"type": "document",
					"check_details": []any{map[string]any{
						"check_method": "vpip", "organization": "Demo Identity Ltd", "time": "2023-11-20T14:20:00Z",
					}},
					"document_details": map[string]any{
						"type": "passport", "date_of_issuance": "2019-03-01", "date_of_expiry": "2029-03-01",
					},
				}},
			},
			"claims": map[string]any{
				"given_name": "Taro", "family_name": "Yamada", "birthdate": birthdate,
				"address": map[string]any{
					"formatted":      "1-1-1 Marunouchi, Chiyoda-ku, Tokyo 100-0005, Japan",
					"street_address": "1-1-1 Marunouchi", "locality": "Chiyoda-ku",
					"region": "Tokyo", "postal_code": "100-0005", "country": "JP",
				},
			},
		},
		// Acting for a company: the Authority Claims Extension draft's
		// authority claim, as gBizID would assert it.
		map[string]any{
			"verification": map[string]any{
				"trust_framework": "jp_gbizid_v1",
				"assurance_level": "ial2",
				"time":            "2024-06-03T11:00:00+09:00",
				"assurance_process": map[string]any{
					"procedure": "jp_gbizid_online_corporation",
				},
			},
			"claims": map[string]any{
				"family_name": "山田", "given_name": "太郎", "birthdate": birthdate,
				"authority": map[string]any{
					"applies_to": map[string]any{
						"registration_number": "1010001000000",
						"organization_name":   DemoCompany,
						"registered_address":  map[string]any{"region": "東京都", "locality": "千代田区"},
					},
					"permission": []any{map[string]any{"role": "prime"}},
					"granted_by": map[string]any{"method": "appointed", "granting_body": "Demo Legal Affairs Bureau"},
				},
			},
		},
	}
	doc := map[string]any{"users": []any{map[string]any{
		"subject":       DemoSubject,
		"username":      DemoUsername,
		"password_hash": hash,
		"claims": map[string]any{
			"name":           "Taro Yamada",
			"given_name":     "Taro",
			"family_name":    "Yamada",
			"email":          "demo@example.com",
			"email_verified": true,
			"birthdate":      birthdate,
			"locale":         "ja-JP",
		},
		"verified_claims": verified,
	}}}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("users: demo users: %w", err)
	}
	// Refuse to hand out a file the Builtin source would reject.
	if _, _, err := parseUsers(out); err != nil {
		return nil, fmt.Errorf("users: demo users: %w", err)
	}
	return out, nil
}
