package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

// sharedBuild returns the build every test starts from, as start does.
func sharedBuild(t *testing.T) *harness.Build {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.build, shared.err = harness.NewBuild(ctx, harness.BuildOptions{Logf: t.Logf})
	})
	if shared.err != nil {
		harness.SkipOrFail(t, shared.err)
	}
	return shared.build
}

// tokenRules is the shipped ruleset with a hold group and without
// TokenGeneration_RefreshTokens among the token sources.
const tokenRules = `
exclude: {memberOf: autogroup-hold}
tokenTriggerSources: [TokenGeneration_HostedAuth, TokenGeneration_Authentication, TokenGeneration_NewPasswordChallenge, TokenGeneration_AuthenticateDevice]
`

// sample is a sample token event of events/, rewritten for one case.
type sample struct {
	file   string
	attrs  map[string]string // what Cognito holds, and the event says
	wanted []string          // the groups the rules select for attrs
}

// tokenEvent returns the sample event with the pool, the current groups and
// the claimed attributes given (nil: as in the sample).
func tokenEvent(t *testing.T, file, poolID string, groups []string, claimed map[string]string) (event []byte, userName, sub string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(src, &ev); err != nil {
		t.Fatal(err)
	}
	ev["userPoolId"] = poolID
	req := ev["request"].(map[string]any)
	if gc, ok := req["groupConfiguration"].(map[string]any); ok && groups != nil {
		gc["groupsToOverride"] = groups
	}
	attrs := req["userAttributes"].(map[string]any)
	for k, v := range claimed {
		attrs[k] = v
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	userName, _ = ev["userName"].(string)
	sub, _ = attrs["sub"].(string)
	return out, userName, sub
}

// groupOverride returns the groupOverrideDetails of a returned event, and
// the request's groupConfiguration, both as raw JSON.
func groupOverride(t *testing.T, response []byte) (god, gc json.RawMessage) {
	t.Helper()
	var ev struct {
		Version string
		Request struct {
			GroupConfiguration json.RawMessage `json:"groupConfiguration"`
		}
		Response map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(response, &ev); err != nil {
		t.Fatalf("response is not an event: %v\n%s", err, response)
	}
	key := "claimsOverrideDetails"
	if ev.Version != "1" {
		key = "claimsAndScopeOverrideDetails"
	}
	god = ev.Response[key]["groupOverrideDetails"]
	if god == nil {
		t.Fatalf("no response.%s.groupOverrideDetails in %s", key, response)
	}
	return god, ev.Request.GroupConfiguration
}

// tokenGroupsOf returns groupOverrideDetails.groupsToOverride and checks that
// the roles and preferred role are as sent.
func tokenGroupsOf(t *testing.T, response []byte) []string {
	t.Helper()
	god, gc := groupOverride(t, response)
	var got, sent struct {
		GroupsToOverride   []string
		IAMRolesToOverride json.RawMessage
		PreferredRole      json.RawMessage
	}
	if err := json.Unmarshal(god, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(gc, &sent)
	if !bytes.Equal(got.IAMRolesToOverride, sent.IAMRolesToOverride) || !bytes.Equal(got.PreferredRole, sent.PreferredRole) {
		t.Errorf("roles %s and preferred role %s, want %s and %s as sent", got.IAMRolesToOverride, got.PreferredRole, sent.IAMRolesToOverride, sent.PreferredRole)
	}
	return got.GroupsToOverride
}

// TestTokenEventsUnderRIE runs the token function under aws-lambda-rie on
// real-shaped V1 and V2 events, against internal/cognitofake (which can
// count calls and throttle every one, as cognito-local cannot): the
// behaviour issue #16 is done with.
func TestTokenEventsUnderRIE(t *testing.T) {
	build := sharedBuild(t)
	fake := cognitofake.New(t)
	fake.AllowAnyGroup()
	shipped, err := os.ReadFile(filepath.Join(build.Root, autogroup.ShippedRulesPath))
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesFile, append(shipped, tokenRules...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fn, err := harness.StartFunction(ctx, harness.FunctionOptions{Build: build, Bootstrap: build.TokenBootstrap,
		Env: []string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + fake.URL(), "RULES_FILE=" + rulesFile}})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("token function's log:\n%s", fn.Tail(40))
		}
	}()

	samples := map[string]sample{
		"v1": {"token-v1-signin.json", map[string]string{"email": "dana.lee@example.com", "email_verified": "true"}, []string{"staff"}},
		"v2": {"token-v2-signin.json", map[string]string{"email": "priya.shah@mail.example", "email_verified": "true", "custom:plan": "pro"}, []string{"customers", "paid"}},
	}
	n := 0
	// setup makes a pool of its own for a case, with the user holding
	// attrs and groups, and returns the event with current groups.
	setup := func(t *testing.T, s sample, attrs map[string]string, groups []string, claimed map[string]string) (event []byte, poolID, userName string) {
		n++
		poolID = "us-east-1_case" + string(rune('a'+n))
		event, userName, sub := tokenEvent(t, s.file, poolID, groups, claimed)
		a := map[string]string{"sub": sub}
		for k, v := range attrs {
			a[k] = v
		}
		fake.PutUser(poolID, cognitofake.User{Username: userName, Attributes: a})
		for _, g := range groups {
			fake.AddToGroup(poolID, g, userName)
		}
		return event, poolID, userName
	}
	invoke := func(t *testing.T, event []byte, outcome string) harness.Invocation {
		t.Helper()
		inv, err := fn.Invoke(ctx, event)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Error != nil {
			t.Fatalf("the function failed the sign-in: %v", inv.Error)
		}
		d, err := fn.Decision(inv)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.String("outcome"); got != outcome {
			t.Errorf("decision outcome %q, want %q (%v)", got, outcome, d)
		}
		return inv
	}
	calls := func(poolID string) []string {
		var ops []string
		for _, c := range fake.Calls() {
			if c.PoolID == poolID {
				ops = append(ops, c.Op)
			}
		}
		return ops
	}

	for _, v := range []string{"v1", "v2"} {
		s := samples[v]
		t.Run(v+"/holds its groups: no call, groups and roles as sent", func(t *testing.T) {
			event, poolID, _ := setup(t, s, s.attrs, append([]string{"other"}, s.wanted...), nil)
			inv := invoke(t, event, "ok")
			if c := calls(poolID); len(c) != 0 {
				t.Errorf("Cognito calls %v, want none", c)
			}
			god, gc := groupOverride(t, inv.Response)
			if !bytes.Equal(god, gc) {
				t.Errorf("groupOverrideDetails %s, want the request's groupConfiguration %s byte for byte", god, gc)
			}
		})
		t.Run(v+"/missing a group: added in the pool and in the token", func(t *testing.T) {
			current := s.wanted[:len(s.wanted)-1]
			event, poolID, userName := setup(t, s, s.attrs, current, nil)
			inv := invoke(t, event, "healed")
			if got := fake.GroupsForUser(poolID, userName); !slices.Equal(sorted(got), sorted(s.wanted)) {
				t.Errorf("pool groups %v, want %v", got, s.wanted)
			}
			if got := tokenGroupsOf(t, inv.Response); !cmp.Equal(got, s.wanted) {
				t.Errorf("token groups %v, want %v", got, s.wanted)
			}
		})
		t.Run(v+"/every call throttled: the sign-in succeeds, the token claims nothing the pool lacks", func(t *testing.T) {
			current := s.wanted[:len(s.wanted)-1]
			event, poolID, userName := setup(t, s, s.attrs, current, nil)
			fake.AlwaysThrottle()
			defer fake.ClearFaults()
			inv := invoke(t, event, "failed_kept")
			if inv.Duration > 3*time.Second {
				t.Errorf("the invocation took %v, want well inside Cognito's 5 s", inv.Duration)
			}
			if got := tokenGroupsOf(t, inv.Response); !slices.Equal(got, current) {
				t.Errorf("token groups %v, want %v as sent", got, current)
			}
			if got := fake.GroupsForUser(poolID, userName); !slices.Equal(sorted(got), sorted(current)) {
				t.Errorf("pool groups %v, want %v", got, current)
			}
		})
		t.Run(v+"/a forged event grants nothing", func(t *testing.T) {
			// Cognito holds an unverified private address and no plan: the
			// default group only, whatever the event claims.
			event, poolID, userName := setup(t, s, map[string]string{"email": "mallory@mail.example"}, []string{}, s.attrs)
			inv := invoke(t, event, "healed")
			if got := fake.GroupsForUser(poolID, userName); !cmp.Equal(got, []string{"customers"}) {
				t.Errorf("pool groups %v after a forged event, want [customers] (the default)", got)
			}
			if got := tokenGroupsOf(t, inv.Response); !cmp.Equal(got, []string{"customers"}) {
				t.Errorf("token groups %v, want [customers]", got)
			}
		})
		t.Run(v+"/a user on hold is left alone", func(t *testing.T) {
			event, poolID, _ := setup(t, s, s.attrs, []string{"autogroup-hold"}, nil)
			inv := invoke(t, event, "excluded")
			if c := calls(poolID); len(c) != 0 {
				t.Errorf("Cognito calls %v, want none", c)
			}
			if got := tokenGroupsOf(t, inv.Response); !cmp.Equal(got, []string{"autogroup-hold"}) {
				t.Errorf("token groups %v, want [autogroup-hold] as sent", got)
			}
		})
	}
	for _, tc := range []struct{ name, file string }{
		{"a machine token passes through", "token-client-credentials.json"},
		{"an unlisted source passes through", "token-refresh.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			event, poolID, _ := tokenEvent(t, tc.file, "us-east-1_pass"+tc.file[6:9], nil, nil)
			inv := invoke(t, event, "passed_through")
			if c := calls(poolID); len(c) != 0 {
				t.Errorf("Cognito calls %v, want none", c)
			}
			if tc.file == "token-client-credentials.json" {
				if !bytes.Equal(inv.Response, event) {
					t.Errorf("response differs from the event:\n%s\n%s", inv.Response, event)
				}
				return
			}
			god, gc := groupOverride(t, inv.Response)
			if !bytes.Equal(god, gc) {
				t.Errorf("groupOverrideDetails %s, want the request's groupConfiguration %s", god, gc)
			}
		})
	}
}

// TestSignInHealsWithCognitoLocal signs a user up in cognito-local, which
// runs the sign-up function, then changes the user's plan as a billing back
// end would, and signs in: cognito-local invokes the token function (V1
// shape, without the user's groups), which adds the group the new plan
// selects in the pool. cognito-local ignores groupOverrideDetails, so the
// token's groups are checked under aws-lambda-rie (TestTokenEventsUnderRIE).
func TestSignInHealsWithCognitoLocal(t *testing.T) {
	env := start(t, harness.Options{Token: true})
	ctx := testContext(t)
	pool, err := env.CreatePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const email = "noor.haddad@mail.example"
	sub, err := pool.SignUp(ctx, harness.User{Email: email, EmailVerified: true, Attributes: map[string]string{"custom:plan": "free"}}, harness.ConfirmSignUp)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := pool.GroupsOf(ctx, sub); err != nil || !slices.Equal(got, []string{"customers"}) {
		t.Fatalf("after sign-up GroupsOf = %v, %v; want [customers]", got, err)
	}
	if _, err := env.Cognito.AdminUpdateUserAttributes(ctx, &cognitoidentityprovider.AdminUpdateUserAttributesInput{
		UserPoolId: &pool.ID, Username: aws.String(email),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:plan"), Value: aws.String("pro")}},
	}); err != nil {
		t.Fatal(err)
	}
	signIn := func() harness.Invocation {
		t.Helper()
		before := len(env.TokenInvocations())
		if _, err := env.Cognito.InitiateAuth(ctx, &cognitoidentityprovider.InitiateAuthInput{
			ClientId: &pool.ClientID, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": harness.DefaultPassword},
		}); err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		invs := env.TokenInvocations()
		if len(invs) != before+1 {
			t.Fatalf("%d token invocations after the sign-in, want %d", len(invs), before+1)
		}
		inv := invs[len(invs)-1]
		if inv.TriggerSource() != "TokenGeneration_Authentication" || inv.Error != nil {
			t.Fatalf("token invocation %s: %v", inv.TriggerSource(), inv.Error)
		}
		return inv
	}

	inv := signIn()
	if d, err := env.TokenFunction().Decision(inv); err != nil || d.String("outcome") != "healed" {
		t.Errorf("first sign-in's decision %v (%v), want outcome healed", d, err)
	}
	if got, err := pool.GroupsOf(ctx, sub); err != nil || !slices.Equal(got, []string{"customers", "paid"}) {
		t.Errorf("after the sign-in GroupsOf = %v, %v; want [customers paid]", got, err)
	}
	// The next sign-in finds nothing missing.
	inv = signIn()
	if d, err := env.TokenFunction().Decision(inv); err != nil || d.String("outcome") != "ok" {
		t.Errorf("second sign-in's decision %v (%v), want outcome ok", d, err)
	}
}
