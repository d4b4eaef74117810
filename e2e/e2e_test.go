package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// shared is the function and emulator build every test starts from.
var shared struct {
	once  sync.Once
	build *harness.Build
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.build.Remove()
	os.Exit(code)
}

// start runs the emulators for one test, with the function built once per run.
func start(t *testing.T, opts harness.Options) *harness.Env {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.build, shared.err = harness.NewBuild(ctx, harness.BuildOptions{Logf: t.Logf})
	})
	if shared.err != nil {
		harness.SkipOrFail(t, shared.err)
	}
	opts.Build = shared.build
	return harness.New(t, opts)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// invocationOf returns the one invocation cognito-local made for the user
// with this sub and trigger source.
func invocationOf(t *testing.T, env *harness.Env, sub, triggerSource string) harness.Invocation {
	t.Helper()
	var found []harness.Invocation
	for _, inv := range env.Invocations() {
		if inv.Via == harness.ViaCognito && inv.UserName() == sub && inv.TriggerSource() == triggerSource {
			found = append(found, inv)
		}
	}
	if len(found) != 1 {
		t.Fatalf("cognito-local invoked the function %d times with %s for user %s, want 1", len(found), triggerSource, sub)
	}
	return found[0]
}

// normalJSON decodes a JSON document into generic values, so that two
// documents compare equal when they hold the same data.
func normalJSON(t *testing.T, name string, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", name, err, data)
	}
	return v
}

// requireReturnedEvent checks that the function returned the event it was
// sent: no error, and the same JSON.
func requireReturnedEvent(t *testing.T, inv harness.Invocation) {
	t.Helper()
	if inv.Error != nil {
		t.Fatalf("function failed with %v, want the event returned", inv.Error)
	}
	if inv.StatusCode != 200 {
		t.Errorf("aws-lambda-rie answered HTTP %d, want 200", inv.StatusCode)
	}
	if diff := cmp.Diff(normalJSON(t, "event", inv.Event), normalJSON(t, "response", inv.Response)); diff != "" {
		t.Errorf("response differs from the event (-event +response):\n%s", diff)
	}
}

// requireDecision returns the function's decision record for inv and checks its outcome.
func requireDecision(t *testing.T, env *harness.Env, inv harness.Invocation, wantOutcome string) harness.LogRecord {
	t.Helper()
	d, err := env.Decision(inv)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.String("outcome"); got != wantOutcome {
		t.Errorf("decision outcome = %q, want %q (record %v)", got, wantOutcome, d)
	}
	return d
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

func TestSignUpAssignsGroups(t *testing.T) {
	env := start(t, harness.Options{})
	ctx := testContext(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Users chosen against the shipped functions/post-confirmation/rules.yaml.
	tests := []struct {
		name       string
		user       harness.User
		wantGroups []string
		wantRules  []string
	}{
		{
			name:       "verified company email",
			user:       harness.User{Email: "ana.lima@example.com", EmailVerified: true},
			wantGroups: []string{"staff"},
			wantRules:  []string{"staff"},
		},
		{
			name: "verified company email with a department",
			user: harness.User{Email: "raj.patel@eng.example.com", EmailVerified: true,
				Attributes: map[string]string{"custom:department": "Engineering"}},
			wantGroups: []string{"engineering", "staff"},
			wantRules:  []string{"staff", "engineering"},
		},
		{
			name: "customer on the pro plan",
			user: harness.User{Email: "mia.chen@shop.example.net", EmailVerified: true,
				Attributes: map[string]string{"custom:plan": "pro"}},
			wantGroups: []string{"customers", "paid"},
			wantRules:  []string{"paid-plan"},
		},
		{
			name:       "plain consumer gets the default groups",
			user:       harness.User{Email: "sam.okafor@mail.example.org", EmailVerified: true},
			wantGroups: []string{"customers"},
			wantRules:  []string{},
		},
		{
			name:       "unverified company email gets no company group",
			user:       harness.User{Email: "eve.mallory@example.com"},
			wantGroups: []string{"customers"},
			wantRules:  []string{},
		},
		{
			name:       "qa account stops at the qa rule",
			user:       harness.User{Email: "qa+bot@qa.example.com", EmailVerified: true},
			wantGroups: []string{"qa"},
			wantRules:  []string{"qa-accounts"},
		},
	}
	var emails []string
	for _, how := range []harness.Confirmation{harness.ConfirmSignUp, harness.AdminConfirmSignUp} {
		for _, tt := range tests {
			t.Run(how.String()+"/"+tt.name, func(t *testing.T) {
				u := tt.user
				// One pool, so each confirmation method signs up its own address.
				local, domain, _ := strings.Cut(u.Email, "@")
				u.Email = local + "." + strings.ToLower(how.String()) + "@" + domain
				emails = append(emails, u.Email)

				sub, err := pool.SignUp(ctx, u, how)
				if err != nil {
					t.Fatal(err)
				}
				got, err := pool.GroupsOf(ctx, sub)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.wantGroups) {
					t.Errorf("GroupsOf(%s) = %v, want %v", u.Email, got, tt.wantGroups)
				}

				inv := invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp")
				requireReturnedEvent(t, inv)
				outcome := "ok"
				d := requireDecision(t, env, inv, outcome)
				if got := d.Strings("matchedRules"); !slices.Equal(sorted(got), sorted(tt.wantRules)) {
					t.Errorf("decision matchedRules = %v, want %v", got, tt.wantRules)
				}
				if got := d.Strings("groups"); !slices.Equal(sorted(got), tt.wantGroups) {
					t.Errorf("decision groups = %v, want %v", got, tt.wantGroups)
				}
				if got := d.String("sub"); got != sub {
					t.Errorf("decision sub = %q, want %q", got, sub)
				}
				// Decided on the user cognito-local holds (the default).
				if d["verified"] != true {
					t.Errorf("decision verified = %v, want true", d["verified"])
				}
			})
		}
	}

	// The function's log never holds an address.
	log, err := os.ReadFile(env.LogFiles()["aws-lambda-rie"])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		if bytes.Contains(log, []byte(e)) {
			t.Errorf("the function's log contains the address %s", e)
		}
	}
}

// forgotPasswordRules is the shipped ruleset with password resets handled too.
func forgotPasswordRules(t *testing.T, env *harness.Env) string {
	t.Helper()
	src, err := os.ReadFile(env.RulesFile())
	if err != nil {
		t.Fatal(err)
	}
	const from = "triggerSources: [PostConfirmation_ConfirmSignUp]"
	if !bytes.Contains(src, []byte(from)) {
		t.Fatalf("shipped rules.yaml has no line %q to change", from)
	}
	src = bytes.Replace(src, []byte(from),
		[]byte("triggerSources: [PostConfirmation_ConfirmSignUp, PostConfirmation_ConfirmForgotPassword]"), 1)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPasswordReset(t *testing.T) {
	const email = "ana.lima@example.com"
	shipped := start(t, harness.Options{})
	withResets := start(t, harness.Options{RulesFile: forgotPasswordRules(t, shipped)})

	tests := []struct {
		name        string
		env         *harness.Env
		wantOutcome string
		wantGroups  []string // after the reset
	}{
		{name: "shipped rules pass resets through", env: shipped, wantOutcome: "passed_through", wantGroups: []string{}},
		{name: "ruleset that handles resets adds", env: withResets, wantOutcome: "ok", wantGroups: []string{"staff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			pool, err := tt.env.CreatePool(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := pool.SignUp(ctx, harness.User{Email: email, EmailVerified: true}, harness.ConfirmSignUp)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := pool.GroupsOf(ctx, sub); err != nil || !slices.Equal(got, []string{"staff"}) {
				t.Fatalf("after sign-up GroupsOf = %v, %v, want [staff]", got, err)
			}
			// Take the group away, so that the reset shows whether it adds.
			group := "staff"
			if _, err := tt.env.Cognito.AdminRemoveUserFromGroup(ctx, &cognitoidentityprovider.AdminRemoveUserFromGroupInput{
				UserPoolId: &pool.ID, Username: &sub, GroupName: &group,
			}); err != nil {
				t.Fatal(err)
			}

			if err := pool.ResetPassword(ctx, email, ""); err != nil {
				t.Fatal(err)
			}
			inv := invocationOf(t, tt.env, sub, "PostConfirmation_ConfirmForgotPassword")
			requireReturnedEvent(t, inv)
			requireDecision(t, tt.env, inv, tt.wantOutcome)
			got, err := pool.GroupsOf(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.wantGroups) {
				t.Errorf("after reset GroupsOf = %v, want %v", got, tt.wantGroups)
			}
		})
	}
}

// missingGroupRules selects a group, contractors, that the test never creates.
const missingGroupRules = `version: 1
triggerSources: [PostConfirmation_ConfirmSignUp]
requireVerifiedEmail: true
onError: %s
defaultGroups: [customers]
rules:
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff, contractors]
`

func TestMissingGroup(t *testing.T) {
	const email = "ana.lima@example.com"
	tests := []struct {
		onError     string
		wantOutcome string
	}{
		{onError: "fail", wantOutcome: "failed"},
		{onError: "continue", wantOutcome: "failed_continued"},
	}
	for _, tt := range tests {
		t.Run("onError "+tt.onError, func(t *testing.T) {
			rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
			if err := os.WriteFile(rulesFile, []byte(strings.Replace(missingGroupRules, "%s", tt.onError, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			env := start(t, harness.Options{RulesFile: rulesFile})
			ctx := testContext(t)
			pool, err := env.CreatePoolWithGroups(ctx, []string{"staff", "customers"})
			if err != nil {
				t.Fatal(err)
			}

			// cognito-local answers the confirmation with success even when
			// the trigger fails (Cognito would answer UserLambdaValidationException).
			sub, err := pool.SignUp(ctx, harness.User{Email: email, EmailVerified: true}, harness.ConfirmSignUp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pool.GroupsOf(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"staff"}; !slices.Equal(got, want) {
				t.Errorf("GroupsOf = %v, want %v: the groups that exist are still added", got, want)
			}

			inv := invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp")
			if tt.onError == "fail" {
				if inv.Error == nil {
					t.Fatalf("function returned %s, want an error", inv.Response)
				}
				msg := inv.Error.Message
				if len(msg) >= 200 || msg == "" {
					t.Errorf("error message is %d bytes, want 1 to 199: %q", len(msg), msg)
				}
				if strings.Contains(msg, "@") || strings.Contains(msg, sub) || strings.Contains(msg, pool.ID) {
					t.Errorf("error message %q names the user or the pool", msg)
				}
			} else {
				requireReturnedEvent(t, inv)
			}

			d := requireDecision(t, env, inv, tt.wantOutcome)
			results, _ := d["results"].([]any)
			kinds := map[string]string{}
			for _, r := range results {
				if m, ok := r.(map[string]any); ok {
					g, _ := m["group"].(string)
					k, _ := m["kind"].(string)
					kinds[g] = k
				}
			}
			if want := map[string]string{"staff": "ok", "contractors": "group_not_found"}; !cmp.Equal(kinds, want) {
				t.Errorf("decision results by group = %v, want %v", kinds, want)
			}
			if d.Level() != "ERROR" {
				t.Errorf("decision level = %q, want ERROR", d.Level())
			}
		})
	}
}

func TestReplayedEventIsIdempotent(t *testing.T) {
	env := start(t, harness.Options{})
	ctx := testContext(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pool.SignUp(ctx, harness.User{
		Email: "raj.patel@example.com", EmailVerified: true,
		Attributes: map[string]string{"custom:department": "platform"},
	}, harness.AdminConfirmSignUp)
	if err != nil {
		t.Fatal(err)
	}
	first := invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp")
	requireReturnedEvent(t, first)
	before, err := pool.GroupsOf(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"engineering", "staff"}; !slices.Equal(before, want) {
		t.Fatalf("GroupsOf after confirmation = %v, want %v", before, want)
	}

	// Cognito may invoke the trigger again for the same confirmation.
	for i := range 2 {
		again, err := env.Invoke(ctx, first.Event)
		if err != nil {
			t.Fatal(err)
		}
		requireReturnedEvent(t, again)
		requireDecision(t, env, again, "ok")
		after, err := pool.GroupsOf(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(after, before) {
			t.Errorf("GroupsOf after replay %d = %v, want %v", i+1, after, before)
		}
	}
}
