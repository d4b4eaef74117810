package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
)

// The rulesets published to the fake AppConfig, and the shipped one's
// groups the fallback needs.
const (
	appConfigV1  = "version: 1\ndefaultGroups: [alpha]\n"
	appConfigV2  = "{\"version\": 1, \"defaultGroups\": [\"beta\"]}\n"
	appConfigBad = "version: 2\nrules:\n  - name: x\n    when: {nope: 1}\n    groups: [alpha]\n"
)

// appConfigEnv starts the emulators with the function's rules from the fake
// AppConfig, polled every second, and a pool holding the groups of both
// published rulesets and of the embedded one.
func appConfigEnv(t *testing.T, fake *appconfigfake.Server) (*harness.Env, *harness.Pool) {
	t.Helper()
	fake.SetPollInterval(1)
	env := start(t, harness.Options{FunctionEnv: []string{
		"RULES_SOURCE=appconfig:autogroup/e2e/rules",
		"AWS_ENDPOINT_URL_APPCONFIGDATA=" + fake.URL(),
	}})
	groups, err := env.RulesetGroups()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := env.CreatePoolWithGroups(testContext(t), append(groups, "alpha", "beta"))
	if err != nil {
		t.Fatal(err)
	}
	return env, pool
}

// signUpGroups signs a new user up and returns the groups the user holds.
func signUpGroups(t *testing.T, env *harness.Env, pool *harness.Pool, email string) ([]string, harness.LogRecord) {
	t.Helper()
	ctx := testContext(t)
	sub, err := pool.SignUp(ctx, harness.User{Email: email, EmailVerified: true}, harness.ConfirmSignUp)
	if err != nil {
		t.Fatal(err)
	}
	d := requireDecision(t, env, invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp"), "ok")
	got, err := pool.GroupsOf(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	return got, d
}

// logged returns the function's log records at level with msg.
func logged(t *testing.T, env *harness.Env, level, msg string) []harness.LogRecord {
	t.Helper()
	recs, err := env.FunctionLog()
	if err != nil {
		t.Fatal(err)
	}
	var out []harness.LogRecord
	for _, r := range recs {
		if r.Level() == level && r.Message() == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestRulesFromAppConfig: the ruleset served by AppConfig decides; a new
// version published takes effect on the next sign-ups without a restart;
// an invalid version is refused, the previous one stays, and the log names
// its problems with their positions.
func TestRulesFromAppConfig(t *testing.T) {
	fake := appconfigfake.New(t)
	fake.AddProfile("autogroup", "e2e", "rules")
	fake.Publish("autogroup", "e2e", "rules", []byte(appConfigV1), "application/x-yaml")
	env, pool := appConfigEnv(t, fake)

	if got, _ := signUpGroups(t, env, pool, "first.user@mail.example.org"); !slices.Equal(got, []string{"alpha"}) {
		t.Fatalf("with version 1: groups %v, want [alpha]", got)
	}
	fake.Publish("autogroup", "e2e", "rules", []byte(appConfigV2), "application/json")
	time.Sleep(1100 * time.Millisecond)
	got, d := signUpGroups(t, env, pool, "second.user@mail.example.org")
	if !slices.Equal(got, []string{"beta"}) {
		t.Fatalf("after version 2 was published: groups %v, want [beta]", got)
	}
	if v := d.String("rulesVersion"); v != "2" {
		t.Errorf("decision rulesVersion = %q, want 2", v)
	}
	if recs := logged(t, env, "INFO", "ruleset updated"); len(recs) != 1 || recs[0].String("rulesVersion") != "2" {
		t.Errorf("ruleset updated records %v, want one with rulesVersion 2", recs)
	}

	fake.Publish("autogroup", "e2e", "rules", []byte(appConfigBad), "application/x-yaml")
	time.Sleep(1100 * time.Millisecond)
	if got, _ := signUpGroups(t, env, pool, "third.user@mail.example.org"); !slices.Equal(got, []string{"beta"}) {
		t.Fatalf("after invalid version 3: groups %v, want version 2's [beta]", got)
	}
	recs := logged(t, env, "ERROR", "ruleset refresh failed")
	if len(recs) != 1 {
		t.Fatalf("%d ERROR records of the refused version, want 1", len(recs))
	}
	r := recs[0]
	problems := r.Strings("problems")
	if r.String("refusedVersion") != "3" || r.String("rulesVersion") != "2" || len(problems) != 2 ||
		!strings.HasPrefix(problems[0], "1:10: ") || !strings.HasPrefix(problems[1], "4:12: ") {
		t.Errorf("refusal record %v, want refusedVersion 3, rulesVersion 2 and problems at 1:10 and 4:12", r)
	}
}

// TestRulesFromAppConfigDownAtStart: AppConfig unreachable when the
// function starts: the embedded ruleset decides, the log says so at ERROR,
// and once AppConfig answers the next sign-up gets its ruleset.
func TestRulesFromAppConfigDownAtStart(t *testing.T) {
	fake := appconfigfake.New(t)
	fake.AddProfile("autogroup", "e2e", "rules")
	fake.Publish("autogroup", "e2e", "rules", []byte(appConfigV1), "application/x-yaml")
	fake.SetDown(http.StatusServiceUnavailable)
	env, pool := appConfigEnv(t, fake)

	got, d := signUpGroups(t, env, pool, "early.user@mail.example.org")
	if !slices.Equal(got, []string{"customers"}) {
		t.Fatalf("AppConfig down: groups %v, want the embedded ruleset's [customers]", got)
	}
	if v := d.String("rulesVersion"); v != "fallback" {
		t.Errorf("decision rulesVersion = %q, want fallback", v)
	}
	recs := logged(t, env, "ERROR", "ruleset source failed at start; the fallback ruleset is in force until it answers")
	if len(recs) != 1 || recs[0].String("fallback") != "rules.yaml (embedded)" || !strings.Contains(recs[0].String("error"), "HTTP 503") {
		t.Errorf("fallback records %v, want one naming the embedded ruleset and the HTTP 503", recs)
	}
	fake.SetDown(0)
	if got, _ := signUpGroups(t, env, pool, "later.user@mail.example.org"); !slices.Equal(got, []string{"alpha"}) {
		t.Fatalf("AppConfig back: groups %v, want [alpha]", got)
	}
}
