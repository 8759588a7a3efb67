package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/ida"
)

func TestProviderValidate(t *testing.T) {
	if err := testProvider().Validate(); err != nil {
		t.Fatalf("test provider: %v", err)
	}
	if err := jpProvider().Validate(); err != nil {
		t.Fatalf("jp provider: %v", err)
	}
	cases := []struct {
		name   string
		change func(p *Provider)
		want   string // a substring of the error, path first
	}{
		{"no issuer", func(p *Provider) { p.Issuer = "" }, "issuer: must not be empty"},
		{"http issuer", func(p *Provider) { p.Issuer = "http://id.example.com" }, "issuer: \"http://id.example.com\" must use https"},
		{"relative issuer", func(p *Provider) { p.Issuer = "/issuer" }, "issuer: \"/issuer\" is not an absolute URL"},
		{"issuer with query", func(p *Provider) { p.Issuer = "https://id.example.com/?tenant=a" }, "issuer: \"https://id.example.com/?tenant=a\" must have no query or fragment"},
		{"issuer with fragment", func(p *Provider) { p.Issuer = "https://id.example.com/#x" }, "must have no query or fragment"},
		{"issuer with user", func(p *Provider) { p.Issuer = "https://u@id.example.com" }, "must have no user information"},
		{"bad scope", func(p *Provider) { p.Scopes = []string{"a b"} }, "scopes[0]: \"a b\" is not a valid scope token"},
		{"scope twice", func(p *Provider) { p.Scopes = []string{"x", "x"} }, "scopes[1]: \"x\" is listed twice"},
		{"profile scope without profile", func(p *Provider) { p.Scopes = []string{"jp_oidf_ida"} }, "scopes[0]: \"jp_oidf_ida\" belongs to the jp_basic profile"},
		{"no algorithms", func(p *Provider) { p.SigningAlgorithms = nil }, "signing_algorithms: must list at least one algorithm"},
		{"unknown algorithm", func(p *Provider) { p.SigningAlgorithms = []string{"HS256"} }, "signing_algorithms[0]: \"HS256\" is not one of"},
		{"algorithm twice", func(p *Provider) { p.SigningAlgorithms = []string{ES256, ES256} }, "signing_algorithms[1]: \"ES256\" is listed twice"},
		{"FAPI2 with RS256 only", func(p *Provider) {
			p.Security.Profile = ProfileFAPI2
			p.SigningAlgorithms = []string{RS256}
		}, "signing_algorithms: FAPI2 needs ES256 or PS256"},
		{"zero id token", func(p *Provider) { p.Tokens.IDToken = Duration{} }, "tokens.id_token: must be positive"},
		{"negative access token", func(p *Provider) { p.Tokens.AccessToken = Duration{-time.Second} }, "tokens.access_token: must be positive"},
		{"zero refresh token", func(p *Provider) { p.Tokens.RefreshToken = Duration{} }, "tokens.refresh_token: must be positive"},
		{"zero code", func(p *Provider) { p.Tokens.AuthorizationCode = Duration{} }, "tokens.authorization_code: must be positive"},
		{"unknown profile", func(p *Provider) { p.Security.Profile = "FAPI1" }, "security.profile: \"FAPI1\" is neither"},
		{"unknown user source", func(p *Provider) { p.Users.Type = "LDAP" }, "users.type: \"LDAP\" is neither"},
		{"builtin without secret", func(p *Provider) { p.Users.Builtin = nil }, "users.builtin.secret_name: required"},
		{"builtin with http", func(p *Provider) { p.Users.HTTP = &HTTPUsers{URL: "https://kyc"} }, "users.http: must be empty when users.type is Builtin"},
		{"http without http", func(p *Provider) { p.Users = UserSource{Type: UsersHTTP} }, "users.http: required when users.type is HTTP"},
		{"unknown access token format", func(p *Provider) { p.Tokens.AccessTokenFormat = "PASETO" }, "tokens.access_token_format: supported values: \"Opaque\", \"JWT\""},
		{"resource with a fragment", func(p *Provider) { p.Tokens.Resources = []string{"https://api.example/#x"} }, "tokens.resources[0]: has a fragment"},
		{"resource twice", func(p *Provider) { p.Tokens.Resources = []string{"urn:api", "urn:api"} }, "tokens.resources[1]: listed twice"},
		{"http bad url", func(p *Provider) { p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "kyc.svc"}} }, "users.http.url: \"kyc.svc\" is not an absolute http(s) URL"},
		{"http user source over plain http", func(p *Provider) {
			p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "http://kyc.svc/users"}}
		}, "users.http.url: \"http://kyc.svc/users\" must use https (http only for localhost and loopback addresses)"},
		{"http negative timeout", func(p *Provider) {
			p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "https://kyc.svc", Timeout: Duration{-1}}}
		}, "users.http.timeout: must not be negative"},
		{"http credentials without key", func(p *Provider) {
			p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "https://kyc.svc", CredentialsSecret: &SecretKeyRef{Name: "s"}}}
		}, "users.http.credentials_secret.key: must not be empty"},
		{"http with builtin", func(p *Provider) {
			p.Users.Type = UsersHTTP
			p.Users.HTTP = &HTTPUsers{URL: "https://kyc.svc"}
		}, "users.builtin: must be empty when users.type is HTTP"},
		{"unknown store", func(p *Provider) { p.SessionStore.Type = "Etcd" }, "session_store.type: \"Etcd\" is neither"},
		{"memory with redis", func(p *Provider) { p.SessionStore.Redis = &RedisStore{Address: "r:6379"} }, "session_store.redis: must be empty"},
		{"redis without redis", func(p *Provider) { p.SessionStore = SessionStore{Type: SessionStoreRedis} }, "session_store.redis: required"},
		{"redis bad address", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis"}}
		}, "session_store.redis.address: \"redis\" is not host:port"},
		{"redis address and sentinel", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379",
				Sentinel: &RedisSentinel{MasterName: "ida", Addresses: []string{"s:26379"}}}}
		}, "session_store.redis: set exactly one of address, sentinel and cluster_addresses"},
		{"redis nothing", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{}}
		}, "session_store.redis: set exactly one of address, sentinel and cluster_addresses"},
		{"sentinel without master name", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Sentinel: &RedisSentinel{Addresses: []string{"s:26379"}}}}
		}, "session_store.redis.sentinel.master_name: the name the sentinels monitor the master under"},
		{"sentinel bad address", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Sentinel: &RedisSentinel{MasterName: "ida", Addresses: []string{"s"}}}}
		}, "session_store.redis.sentinel.addresses[0]: \"s\" is not host:port"},
		{"cluster bad address", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{ClusterAddresses: []string{"a:1", "b"}}}
		}, "session_store.redis.cluster_addresses[1]: \"b\" is not host:port"},
		{"too many replica acks", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", ReplicaAcks: 6}}
		}, "session_store.redis.replica_acks: 6 must be between 0 and 5"},
		{"redis password without name", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", PasswordSecret: &SecretKeyRef{Key: "k"}}}
		}, "session_store.redis.password_secret.name: must not be empty"},
		{"redis username without password", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", Username: "ida"}}
		}, "session_store.redis.password_secret: required with a username: an ACL user signs in with its password"},
		{"redis username with a space", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", Username: "ida op",
				PasswordSecret: &SecretKeyRef{Name: "redis", Key: "password"}}}
		}, "session_store.redis.username: \"ida op\" must be 1 to 128 printable ASCII characters without spaces"},
		{"redis budget below 1Mi", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", MaxMemoryBytes: 1000}}
		}, "session_store.redis.max_memory_bytes: 1000 must be at least 1048576 (1Mi)"},
		{"redis negative budget", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", MaxMemoryBytes: -1}}
		}, "session_store.redis.max_memory_bytes: -1 must be at least"},
		{"redis TLS CA without key", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", TLS: &RedisTLS{CASecret: &SecretKeyRef{Name: "ca"}}}}
		}, "session_store.redis.tls.ca_secret.key: must not be empty"},
		{"redis TLS bad server name", func(p *Provider) {
			p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379", TLS: &RedisTLS{ServerName: "Redis_Host"}}}
		}, "session_store.redis.tls.server_name: \"Redis_Host\": a lowercase RFC 1123 subdomain"},
		{"pkcs11 relative module", func(p *Provider) { p.PKCS11 = &PKCS11{Module: "libsofthsm2.so", TokenLabel: "t"} }, "pkcs11.module: \"libsofthsm2.so\" is not an absolute path"},
		{"pkcs11 timeout too short", func(p *Provider) {
			p.PKCS11 = &PKCS11{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "t", Timeout: Duration{10 * time.Millisecond}}
		}, "pkcs11.timeout: 10ms is outside 100ms to 10s"},
		{"pkcs11 timeout too long", func(p *Provider) {
			p.PKCS11 = &PKCS11{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "t", Timeout: Duration{time.Minute}}
		}, "pkcs11.timeout: 1m0s is outside 100ms to 10s"},
		{"ida rule", func(p *Provider) { p.IDA.TrustFrameworks[1].Claims = nil }, "ida: trust_frameworks[1].claims: must list at least one claim"},
		{"no trust frameworks", func(p *Provider) { p.IDA.TrustFrameworks = nil }, "ida.trust_frameworks: must list at least one trust framework"},
		{"jp profile without jp framework", func(p *Provider) { p.IDA.Profiles = []string{ida.ProfileJPBasic} }, "ida: profiles: jp_basic needs the jp_oidf_ida trust framework"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testProvider()
			c.change(p)
			err := AsError(p.Validate())
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestProviderValidateAcceptsLoopbackAndDefaults(t *testing.T) {
	for _, iss := range []string{"http://localhost:8080", "http://127.0.0.1:9000/", "http://[::1]:1/x", "https://id.example.com/tenant/a"} {
		p := testProvider()
		p.Issuer = iss
		p.Security.Profile = ""  // Default
		p.SessionStore.Type = "" // Memory
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", iss, err)
		}
	}
	p := testProvider()
	p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "https://kyc.kyc.svc:8443/subjects",
		Timeout: Duration{2 * time.Second}, CredentialsSecret: &SecretKeyRef{Name: "kyc", Key: "token"}}}
	p.SessionStore = SessionStore{Type: SessionStoreRedis, Redis: &RedisStore{Address: "redis:6379",
		PasswordSecret: &SecretKeyRef{Name: "redis", Key: "password"}}}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
	p.SessionStore.Redis = &RedisStore{Address: "redis.cache.svc:6380", Username: "idp-a",
		PasswordSecret: &SecretKeyRef{Name: "redis", Key: "password"}, MaxMemoryBytes: MinRedisMaxMemory,
		TLS: &RedisTLS{CASecret: &SecretKeyRef{Name: "redis-ca", Key: "ca.crt"}, ClientCertificateSecret: "redis-client", ServerName: "redis.example.com"}}
	if err := p.Validate(); err != nil {
		t.Errorf("redis with TLS, an ACL user and a budget: %v", err)
	}
	p.SessionStore.Redis.TLS = &RedisTLS{} // the system roots, no client certificate
	if err := p.Validate(); err != nil {
		t.Errorf("redis with TLS and the system roots: %v", err)
	}
}

func TestProviderValidateReportsEveryProblem(t *testing.T) {
	p := testProvider()
	p.Issuer = ""
	p.Tokens.IDToken = Duration{}
	p.Users.Type = "?"
	err := AsError(p.Validate())
	for _, want := range []string{"issuer:", "tokens.id_token:", "users.type:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestProviderJSONRoundTrip(t *testing.T) {
	p := testProvider()
	p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "https://kyc", Timeout: Duration{90 * time.Second}}}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id_token":"5m0s"`, `"refresh_token":"720h0m0s"`, `"timeout":"1m30s"`, `"signing_algorithms":["ES256","PS256","RS256"]`, `"session_store":{"type":"Memory"}`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
	back, err := ParseProvider(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip changed the provider:\n%+v\n%+v", back, p)
	}
	// No timeout: omitted, not "0s".
	p.Users.HTTP.Timeout = Duration{}
	data, _ = json.Marshal(p)
	if strings.Contains(string(data), "timeout") {
		t.Errorf("zero timeout written: %s", data)
	}
}

func TestDuration(t *testing.T) {
	var d struct {
		A Duration `json:"a"`
		B Duration `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a":"5m","b":null}`), &d); err != nil || d.A.Duration != 5*time.Minute || d.B.Duration != 0 {
		t.Fatalf("%v %+v", err, d)
	}
	for _, bad := range []string{`{"a":300}`, `{"a":"5 minutes"}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	out, _ := json.Marshal(Duration{5 * time.Minute})
	if string(out) != `"5m0s"` {
		t.Errorf("got %s", out)
	}
}

func TestEffectiveSecurity(t *testing.T) {
	p := testProvider()
	p.SigningAlgorithms = []string{RS256, ES256, PS256}
	got := p.EffectiveSecurity()
	want := EffectiveSecurity{
		Profile: ProfileDefault, TokenEndpointAuthMethods: []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT},
		SigningAlgorithms: []string{RS256, ES256, PS256}, ClientSigningAlgorithms: []string{ES256, PS256, RS256},
		PushedRequestsPerClient: DefaultPushedRequestsPerClient,
	}
	if !reflect.DeepEqual(got, want) || got.DefaultSigningAlgorithm() != RS256 {
		t.Errorf("default: %+v", got)
	}
	p.Security = Security{Profile: ProfileFAPI2}
	got = p.EffectiveSecurity()
	want = EffectiveSecurity{
		Profile: ProfileFAPI2, RequirePAR: true, RequireDPoP: true,
		TokenEndpointAuthMethods: []string{AuthPrivateKeyJWT},
		SigningAlgorithms:        []string{ES256, PS256}, ClientSigningAlgorithms: []string{ES256, PS256},
		PushedRequestsPerClient: DefaultPushedRequestsPerClient,
	}
	if !reflect.DeepEqual(got, want) || got.DefaultSigningAlgorithm() != ES256 {
		t.Errorf("FAPI2: %+v", got)
	}
	if p.SigningAlgorithms[0] != RS256 {
		t.Error("EffectiveSecurity changed the provider")
	}
	p.Security = Security{RequirePAR: true}
	if got := p.EffectiveSecurity(); !got.RequirePAR || got.RequireDPoP {
		t.Errorf("explicit PAR: %+v", got)
	}
}

func TestURLs(t *testing.T) {
	for _, iss := range []string{"https://id.example.com", "https://id.example.com/", "https://id.example.com//"} {
		p := &Provider{Issuer: iss}
		if got := p.URL(PathToken); got != "https://id.example.com/token" {
			t.Errorf("%s: %s", iss, got)
		}
		if got := DiscoveryURL(iss); got != "https://id.example.com/.well-known/openid-configuration" {
			t.Errorf("%s: %s", iss, got)
		}
	}
	p := &Provider{Issuer: "https://id.example.com/tenant-a/"}
	if got := p.URL(PathJWKS); got != "https://id.example.com/tenant-a/jwks" {
		t.Error(got)
	}
}
