package rulesource_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

func TestParseAppConfigID(t *testing.T) {
	tests := []struct {
		in      string
		want    rulesource.AppConfigID
		wantErr string
	}{
		{in: "appconfig:app/env/prof", want: rulesource.AppConfigID{Application: "app", Environment: "env", Profile: "prof"}},
		{in: "appconfig:a1b2c3d/e4f5g6h/p7q8r9s", want: rulesource.AppConfigID{Application: "a1b2c3d", Environment: "e4f5g6h", Profile: "p7q8r9s"}},
		{in: "appconfig:app/env", wantErr: "three names or ids"},
		{in: "appconfig:app//prof", wantErr: "three names or ids"},
		{in: "appconfig:a/b/c/d", wantErr: "three names or ids"},
		{in: "appconfig:app/ env/prof", wantErr: "spaces"},
		{in: "s3://bucket/rules.yaml", wantErr: "want appconfig:APPLICATION/ENVIRONMENT/PROFILE"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := rulesource.ParseAppConfigID(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "RULES_SOURCE") {
					t.Fatalf("ParseAppConfigID(%q) error = %v, want one naming RULES_SOURCE and %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAppConfigID(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// appConfigEnv is a Lambda environment with RULES_SOURCE at the fake.
func appConfigEnv(fake *appconfigfake.Server, extra ...string) func(string) string {
	env := map[string]string{
		"RULES_SOURCE":                   "appconfig:autogroup/prod/rules",
		"AWS_REGION":                     "eu-west-1",
		"AWS_ACCESS_KEY_ID":              "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":          "secret",
		"AWS_ENDPOINT_URL_APPCONFIGDATA": fake.URL(),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return func(k string) string { return env[k] }
}

func noFile(string) ([]byte, error) { return nil, errors.New("no file in this test") }

func TestFromEnvAppConfigRefused(t *testing.T) {
	fake := appconfigfake.New(t)
	tests := []struct {
		name, key, value, wantErr string
	}{
		{"malformed", "RULES_SOURCE", "appconfig:only/two", "RULES_SOURCE \"appconfig:only/two\""},
		{"no region", "AWS_REGION", "", "AWS_REGION is not set"},
		{"bad endpoint", "AWS_ENDPOINT_URL_APPCONFIGDATA", "localhost", "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := appConfigEnv(fake, tt.key, tt.value)
			_, err := rulesource.Load(t.Context(), rulesource.FromEnv(getenv, noFile), nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("a refused RULES_SOURCE called AppConfig: %v", calls)
	}
}

// TestAppConfigStates walks the source through its states against the fake
// Data API: first fetch, unchanged, new, invalid, expired token, down.
func TestAppConfigStates(t *testing.T) {
	fake := appconfigfake.New(t)
	fake.AddProfile("autogroup", "prod", "rules")
	fake.Publish("autogroup", "prod", "rules", []byte(rulesA), "application/x-yaml")
	ctx := t.Context()
	h, err := rulesource.Load(ctx, rulesource.FromEnv(appConfigEnv(fake), noFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, wantGroups []string, wantVersion string, wantCalls ...string) {
		t.Helper()
		if got := groups(h.Ruleset(ctx)); !slices.Equal(got, wantGroups) {
			t.Errorf("%s: groups %v, want %v", step, got, wantGroups)
		}
		if h.Version() != wantVersion {
			t.Errorf("%s: Version() = %q, want %q", step, h.Version(), wantVersion)
		}
		if calls := fake.Calls(); !slices.Equal(calls, wantCalls) {
			t.Errorf("%s: calls %v, want %v", step, calls, wantCalls)
		}
	}
	const start, get = "StartConfigurationSession", "GetLatestConfiguration"
	check("first fetch", []string{"a"}, "1", start, get)
	if h.Name() != "appconfig:autogroup/prod/rules" {
		t.Errorf("Name() = %q", h.Name())
	}

	if err := h.Refresh(ctx); err != nil {
		t.Fatalf("unchanged: %v", err)
	}
	check("unchanged", []string{"a"}, "1", start, get, get)

	fake.Publish("autogroup", "prod", "rules", []byte(rulesB), "application/x-yaml")
	if err := h.Refresh(ctx); err != nil {
		t.Fatalf("new: %v", err)
	}
	check("new", []string{"b"}, "2", start, get, get, get)

	fake.Publish("autogroup", "prod", "rules", []byte(badRules), "application/x-yaml")
	err = h.Refresh(ctx)
	var le *rulesource.LoadError
	if !errors.As(err, &le) || le.Version != "3" || len(le.Problems) != 2 || le.Problems[0].Line != 1 || le.Problems[1].Line != 4 {
		t.Fatalf("invalid: Refresh error = %v, want a *LoadError of version 3 with problems on lines 1 and 4", err)
	}
	if !strings.Contains(err.Error(), "appconfig:autogroup/prod/rules version 3 does not load (2 problems)") {
		t.Errorf("invalid: error %q does not name the source and version", err)
	}
	check("invalid", []string{"b"}, "2", start, get, get, get, get)

	fake.ExpireTokens()
	fake.Publish("autogroup", "prod", "rules", []byte(rulesA), "application/x-yaml")
	if err := h.Refresh(ctx); err != nil {
		t.Fatalf("expired token: %v", err)
	}
	check("expired token", []string{"a"}, "4", start, get, get, get, get, get, start, get)

	fake.SetDown(http.StatusServiceUnavailable)
	err = h.Refresh(ctx)
	var ae *rulesource.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Code != "InternalServerException" {
		t.Fatalf("down: Refresh error = %v, want an *APIError with HTTP 503", err)
	}
	check("down", []string{"a"}, "4", start, get, get, get, get, get, start, get, get)
}

// TestAppConfigDownAtStart: the first fetch fails, so the fallback (the
// RULES_FILE, else embedded) is in force with an ERROR log, and every
// invocation tries AppConfig again until it answers.
func TestAppConfigDownAtStart(t *testing.T) {
	fake := appconfigfake.New(t)
	fake.AddProfile("autogroup", "prod", "rules")
	fake.Publish("autogroup", "prod", "rules", []byte(rulesB), "application/json")
	fake.SetDown(http.StatusInternalServerError)
	var logs bytes.Buffer
	readFile := func(string) ([]byte, error) { return []byte(rulesA), nil }
	ctx := t.Context()
	h, err := rulesource.Load(ctx, rulesource.FromEnv(appConfigEnv(fake, "RULES_FILE", "/rules.yaml"), readFile),
		slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Load = %v, want the fallback in force", err)
	}
	if got := h.Version(); got != rulesource.FallbackVersion {
		t.Errorf("Version() = %q, want %q", got, rulesource.FallbackVersion)
	}
	if l := logs.String(); !strings.Contains(l, `"level":"ERROR","msg":"ruleset source failed at start; the fallback ruleset is in force until it answers","source":"appconfig:autogroup/prod/rules","fallback":"/rules.yaml"`) {
		t.Errorf("no ERROR log of the fallback:\n%s", l)
	}
	for i := range 2 { // still down: each invocation tries, the fallback decides
		if got := groups(h.Ruleset(ctx)); !slices.Equal(got, []string{"a"}) {
			t.Errorf("down, invocation %d: groups %v, want the fallback's [a]", i, got)
		}
	}
	if n := len(fake.Calls()); n != 3 {
		t.Errorf("%d calls while down (%v), want 3: one at start and one per invocation", n, fake.Calls())
	}
	fake.SetDown(0)
	if got := groups(h.Ruleset(ctx)); !slices.Equal(got, []string{"b"}) || h.Version() != "1" {
		t.Errorf("back up: groups %v version %q, want [b] version 1", got, h.Version())
	}
	if !strings.Contains(logs.String(), `"level":"INFO","msg":"ruleset updated","source":"appconfig:autogroup/prod/rules","rulesVersion":"1"`) {
		t.Errorf("no INFO log of the version now in force:\n%s", logs.String())
	}
	before := len(fake.Calls())
	h.Ruleset(ctx)
	if n := len(fake.Calls()) - before; n != 0 {
		t.Errorf("after it answered, an invocation before the poll interval made %d calls, want 0", n)
	}
}
