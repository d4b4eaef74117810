package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/poolcheck"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

const testPool = "us-east-1_vpool"

// poolRules selects partners (rule partners), members (defaultGroups) and
// team-eng and team-ops (a groupsFrom guard that admits two values); it
// reads admins (memberOf), which the pool need not hold, and names
// tenant groups that cannot be known.
const poolRules = `version: 1
defaultGroups: [members]
rules:
  - name: partners
    when: {emailDomain: partner.example}
    groups: [partners]
  - name: team
    when: {attribute: custom:team, exists: true}
    groupsFrom: {attribute: custom:team, matches: "eng|ops", prefix: "team-"}
  - name: tenant
    when: {attribute: custom:tenant, exists: true}
    groupsFrom: {attribute: custom:tenant, matches: "[a-z]{1,20}", prefix: "tenant-"}
  - name: keep
    when: {memberOf: admins}
    groups: [members]
`

// poolEvent is the validator event of version 7 of poolRules.
func poolEvent(t *testing.T) []byte {
	t.Helper()
	ev, err := json.Marshal(rulesource.ValidatorEvent{ApplicationID: "app1", ConfigurationProfileID: "prof1",
		ConfigurationVersion: "7", Content: base64.StdEncoding.EncodeToString([]byte(poolRules)), URI: "hosted"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// fakeEnv is the environment of a validator that checks testPool in fake.
func fakeEnv(fake *cognitofake.Server, pool string) func(string) string {
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": fake.URL(), poolVariable: pool,
	}
	return func(k string) string { return env[k] }
}

// invokePool runs the validator, wired as main wires it, on poolEvent
// against fake, and returns its error and its log.
func invokePool(t *testing.T, fake *cognitofake.Server, o poolcheck.Options) (logs string, _ error) {
	t.Helper()
	check, err := newPoolCheck(fakeEnv(fake, testPool), o)
	if err != nil || check == nil {
		t.Fatalf("newPoolCheck = %v, %v; want a check", check, err)
	}
	var buf bytes.Buffer
	out, err := lambda.NewHandler(handler(slog.New(slog.NewJSONHandler(&buf, nil)), check)).Invoke(t.Context(), poolEvent(t))
	if err == nil && string(out) != "null" {
		t.Errorf("Invoke answered %s, want null (nothing)", out)
	}
	if strings.Contains(buf.String(), base64.StdEncoding.EncodeToString([]byte(poolRules))) || strings.Contains(buf.String(), "partner.example") {
		t.Errorf("the log holds the content:\n%s", buf.String())
	}
	return buf.String(), err
}

// getGroups returns the groups GetGroup was called for, sorted, and fails
// on any other call.
func getGroups(t *testing.T, fake *cognitofake.Server) []string {
	t.Helper()
	var out []string
	for _, c := range fake.Calls() {
		if c.Op != "GetGroup" || c.PoolID != testPool {
			t.Errorf("call %s on pool %q, want only GetGroup on %s", c.Op, c.PoolID, testPool)
		}
		out = append(out, c.Group)
	}
	slices.Sort(out)
	return out
}

var knownGroups = []string{"members", "partners", "team-eng", "team-ops"}

func TestPoolCheckAccepts(t *testing.T) {
	fake := cognitofake.New(t)
	for _, g := range knownGroups {
		fake.CreateGroup(testPool, g)
	}
	logs, err := invokePool(t, fake, poolcheck.Options{})
	if err != nil {
		t.Fatalf("Invoke = %v, want the version accepted: the pool holds every group", err)
	}
	if diff := cmp.Diff(knownGroups, getGroups(t, fake)); diff != "" {
		t.Errorf("GetGroup calls (-want +got), one per known group and none for admins or tenant-*:\n%s", diff)
	}
	if !strings.Contains(logs, `"msg":"ruleset accepted"`) || !strings.Contains(logs, `"groupsChecked":4`) || !strings.Contains(logs, `"userPoolId":"`+testPool+`"`) {
		t.Errorf("log lacks the accepted record with 4 groups checked in %s:\n%s", testPool, logs)
	}
	if n := fake.MaxInFlight(); n > 4 {
		t.Errorf("%d GetGroup calls in flight at once, want at most 4", n)
	}
}

func TestPoolCheckRefusesMissingGroup(t *testing.T) {
	fake := cognitofake.New(t)
	fake.CreateGroup(testPool, "members")
	fake.CreateGroup(testPool, "team-eng")
	logs, err := invokePool(t, fake, poolcheck.Options{})
	if err == nil {
		t.Fatal("Invoke accepted a version selecting groups the pool lacks")
	}
	want := "ruleset appconfig:app1/prof1 version 7 refused by the check of user pool us-east-1_vpool (2 problems):\n" +
		`group "partners" (rule partners, 6:14) does not exist in user pool us-east-1_vpool: create it (autogroup check-pool --create-missing-groups) before deploying this version` + "\n" +
		`group "team-ops" (rule team, groupsFrom, 9:51) does not exist in user pool us-east-1_vpool: create it (autogroup check-pool --create-missing-groups) before deploying this version`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs, `"level":"ERROR","msg":"ruleset refused"`) {
		t.Errorf("log lacks the ERROR refusal:\n%s", logs)
	}
}

func TestPoolCheckFailsClosed(t *testing.T) {
	tests := []struct {
		name  string
		fault cognitofake.Fault
		want  []string // in the error
		calls int      // GetGroup calls for partners
	}{
		{"denied", cognitofake.Fault{Op: "GetGroup", Group: "partners", Type: "AccessDeniedException", Message: "not allowed"},
			[]string{`cannot check group "partners" (rule partners, 6:14) in user pool us-east-1_vpool: access denied (AccessDeniedException: not allowed); the validator's role needs cognito-idp:GetGroup and cognito-idp:ListGroups on the pool`,
				"publishing it again retries the check"}, 1},
		{"throttled past the retry", cognitofake.Fault{Op: "GetGroup", Group: "partners", Type: "TooManyRequestsException", Message: "Rate exceeded"},
			[]string{`cannot check group "partners" (rule partners, 6:14) in user pool us-east-1_vpool: throttled (TooManyRequestsException: Rate exceeded)`,
				"publishing it again retries the check"}, 2},
		{"timed out", cognitofake.Fault{Op: "GetGroup", Group: "partners", Hang: true},
			[]string{`cannot check group "partners" (rule partners, 6:14) in user pool us-east-1_vpool: timed out: no answer in the time the validator has;`,
				"publishing it again retries the check"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := cognitofake.New(t)
			for _, g := range knownGroups {
				fake.CreateGroup(testPool, g)
			}
			fake.Inject(tt.fault)
			begin := time.Now()
			_, err := invokePool(t, fake, poolcheck.Options{Budget: 500 * time.Millisecond, Backoff: 10 * time.Millisecond})
			if d := time.Since(begin); d > 3*time.Second {
				t.Errorf("the check took %v, want it bounded by its 500ms budget", d)
			}
			if err == nil {
				t.Fatal("Invoke accepted a version it could not check")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "members") || !strings.Contains(err.Error(), "(1 problem)") {
				t.Errorf("error names more than partners' problem:\n%v", err)
			}
			if n := len(fake.CallsTo("GetGroup")) - 3; n != tt.calls {
				t.Errorf("%d GetGroup calls for partners, want %d", n, tt.calls)
			}
		})
	}
}

// TestPoolCheckRetriesThrottling: one throttled answer is retried, and the
// version accepted.
func TestPoolCheckRetriesThrottling(t *testing.T) {
	fake := cognitofake.New(t)
	for _, g := range knownGroups {
		fake.CreateGroup(testPool, g)
	}
	fake.Inject(cognitofake.Fault{Op: "GetGroup", Group: "team-ops", Times: 1, Type: "TooManyRequestsException", Message: "Rate exceeded"})
	if _, err := invokePool(t, fake, poolcheck.Options{Backoff: 10 * time.Millisecond}); err != nil {
		t.Fatalf("Invoke = %v, want the version accepted after one retry", err)
	}
	if n := len(fake.CallsTo("GetGroup")); n != 5 {
		t.Errorf("%d GetGroup calls, want 5 (team-ops twice)", n)
	}
}

// TestNoPoolCheckWithoutVariable: without AUTOGROUP_USER_POOL_ID the
// validator checks the ruleset alone and calls nothing.
func TestNoPoolCheckWithoutVariable(t *testing.T) {
	fake := cognitofake.New(t)
	check, err := newPoolCheck(fakeEnv(fake, ""), poolcheck.Options{})
	if check != nil || err != nil {
		t.Fatalf("newPoolCheck = %v, %v; want no check", check, err)
	}
	if _, err := lambda.NewHandler(handler(slog.New(slog.DiscardHandler), check)).Invoke(t.Context(), poolEvent(t)); err != nil {
		t.Fatalf("Invoke = %v, want the version accepted", err)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("calls %v, want none", calls)
	}
}

// TestPoolCheckAfterRulesetProblems: a ruleset that does not load is
// refused for its problems, with no call to the pool.
func TestPoolCheckAfterRulesetProblems(t *testing.T) {
	fake := cognitofake.New(t)
	check, err := newPoolCheck(fakeEnv(fake, testPool), poolcheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev := rulesource.ValidatorEvent{ConfigurationVersion: "2", Content: base64.StdEncoding.EncodeToString([]byte("version: 2\n"))}
	if err := handler(slog.New(slog.DiscardHandler), check)(t.Context(), ev); err == nil || !strings.Contains(err.Error(), "unsupported version 2") {
		t.Errorf("handler = %v, want the ruleset's problem", err)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("calls %v, want none", calls)
	}
}

// TestPoolCheckListsManyGroups: a version with more known groups than
// ListAbove is checked from the pool's group list, page by page, not
// group by group, so that a large ruleset fits the validator's time.
func TestPoolCheckListsManyGroups(t *testing.T) {
	fake := cognitofake.New(t)
	for _, g := range knownGroups {
		fake.CreateGroup(testPool, g)
	}
	for i := range 130 { // three pages of 60
		fake.CreateGroup(testPool, fmt.Sprintf("other-%03d", i))
	}
	logs, err := invokePool(t, fake, poolcheck.Options{ListAbove: 3})
	if err != nil {
		t.Fatalf("Invoke = %v, want the version accepted: the pool holds every group", err)
	}
	var ops []string
	for _, c := range fake.Calls() {
		ops = append(ops, c.Op)
	}
	if want := []string{"ListGroups", "ListGroups", "ListGroups"}; !slices.Equal(ops, want) {
		t.Errorf("calls %v, want %v: the pool's 134 groups in pages of 60", ops, want)
	}
	if !strings.Contains(logs, `"groupsChecked":4`) {
		t.Errorf("log lacks 4 groups checked:\n%s", logs)
	}

	fake = cognitofake.New(t)
	fake.CreateGroup(testPool, "members")
	fake.CreateGroup(testPool, "team-eng")
	_, err = invokePool(t, fake, poolcheck.Options{ListAbove: 3})
	want := "ruleset appconfig:app1/prof1 version 7 refused by the check of user pool us-east-1_vpool (2 problems):\n" +
		`group "partners" (rule partners, 6:14) does not exist in user pool us-east-1_vpool: create it (autogroup check-pool --create-missing-groups) before deploying this version` + "\n" +
		`group "team-ops" (rule team, groupsFrom, 9:51) does not exist in user pool us-east-1_vpool: create it (autogroup check-pool --create-missing-groups) before deploying this version`
	if err == nil || err.Error() != want {
		t.Errorf("listing a pool that lacks two groups: error %v, want\n%s", err, want)
	}

	fake = cognitofake.New(t)
	fake.Inject(cognitofake.Fault{Op: "ListGroups", Type: "AccessDeniedException", Message: "not allowed"})
	_, err = invokePool(t, fake, poolcheck.Options{ListAbove: 3})
	if err == nil || !strings.Contains(err.Error(), `cannot check the 4 groups the version selects (listing the pool's groups) in user pool us-east-1_vpool: access denied`) {
		t.Errorf("a denied ListGroups: error %v, want the version refused, saying why", err)
	}
}
