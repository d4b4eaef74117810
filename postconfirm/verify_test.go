package postconfirm

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// Tests of reading the user back (AUTOGROUP_VERIFY_USER), through the real
// SDK client against internal/cognitofake.

const verifyPool = "us-east-1_VERIFY"

// newVerifyingHandler builds a handler that reads users back, on the ruleset
// src (the shipped one when empty), a fake Cognito in which every group
// exists, and o; the log goes to the returned buffer.
func newVerifyingHandler(t *testing.T, src string, o membership.Options) (*Handler, *cognitofake.Server, *bytes.Buffer) {
	t.Helper()
	source := rulesource.Embedded()
	if src != "" {
		source = rulesource.Bytes("test rules", []byte(src))
	}
	holder, err := rulesource.Load(t.Context(), source, nil)
	if err != nil {
		t.Fatalf("ruleset: %v", err)
	}
	fake := cognitofake.New(t)
	fake.AllowAnyGroup()
	client := fake.Client(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
	return New(holder, membership.NewAdder(client, o), membership.NewReader(client, o), logger), fake, &logs
}

// fastOptions retries quickly inside a generous budget.
var fastOptions = membership.Options{Budget: 3 * time.Second, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// eventFor returns a PostConfirmation_ConfirmSignUp event for username in
// verifyPool with the attributes and client id given.
func eventFor(t *testing.T, username, clientID string, attrs map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "1", "triggerSource": "PostConfirmation_ConfirmSignUp", "region": "us-east-1",
		"userPoolId": verifyPool, "userName": username,
		"callerContext": map[string]any{"awsSdkVersion": "x", "clientId": clientID},
		"request":       map[string]any{"userAttributes": attrs},
		"response":      map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withSub returns attrs with the sub the fake gave the user.
func withSub(fake *cognitofake.Server, username string, attrs map[string]string) map[string]string {
	out := map[string]string{"sub": fake.Sub(verifyPool, username)}
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

// groupsAdded returns the groups AdminAddUserToGroup was called with, sorted.
func groupsAdded(fake *cognitofake.Server) []string {
	groups := []string{}
	for _, c := range fake.CallsTo("AdminAddUserToGroup") {
		groups = append(groups, c.Group)
	}
	slices.Sort(groups)
	return groups
}

// oneDecision returns the one decision record logged.
func oneDecision(t *testing.T, logs *bytes.Buffer) map[string]any {
	t.Helper()
	d := decisions(t, logs)
	if len(d) != 1 {
		t.Fatalf("decision records = %d, want 1:\n%s", len(d), logs)
	}
	return d[0]
}

// readOf returns the first entry of a decision record's reads.
func readOf(t *testing.T, d map[string]any) map[string]any {
	t.Helper()
	reads, _ := d["reads"].([]any)
	if len(reads) != 1 {
		t.Fatalf("decision reads = %v, want one", d["reads"])
	}
	r, _ := reads[0].(map[string]any)
	return r
}

// TestVerifyDecidesOnCognito sends events that claim attributes the user
// does not have in Cognito, as anyone allowed to invoke the function can:
// the rules decide on what Cognito holds.
func TestVerifyDecidesOnCognito(t *testing.T) {
	const source = `
version: 1
defaultGroups: [customers]
rules:
  - {name: engineering, when: {all: [{emailDomain: example.com}, {attribute: "custom:department", equals: engineering}]}, groups: [engineering]}
  - {name: staff, when: {emailDomain: example.com}, groups: [staff]}
  - {name: federated, when: {attribute: "cognito:user_status", equals: EXTERNAL_PROVIDER}, groups: [federated]}
  - {name: partner-app, when: {all: [{clientId: partner-client}, {clientMetadata: origin, equals: partner}]}, groups: [partner]}
`
	tests := []struct {
		name    string
		user    cognitofake.User // as Cognito holds it
		claimed map[string]string
		client  string
		meta    map[string]string
		want    []string
	}{
		{
			name:    "forged department",
			user:    cognitofake.User{Attributes: map[string]string{"email": "ana@example.com", "email_verified": "true", "custom:department": "sales"}},
			claimed: map[string]string{"email": "ana@example.com", "email_verified": "true", "custom:department": "engineering"},
			want:    []string{"staff"},
		},
		{
			name:    "forged verified company address",
			user:    cognitofake.User{Attributes: map[string]string{"email": "eve@mail.example", "email_verified": "true"}},
			claimed: map[string]string{"email": "eve@example.com", "email_verified": "true", "custom:department": "engineering"},
			want:    []string{"customers"},
		},
		{
			name:    "forged verification of a company address",
			user:    cognitofake.User{Attributes: map[string]string{"email": "eve@example.com", "email_verified": "false"}},
			claimed: map[string]string{"email": "eve@example.com", "email_verified": "true"},
			want:    []string{"customers"},
		},
		{
			name:    "the event as Cognito sends it",
			user:    cognitofake.User{Attributes: map[string]string{"email": "raj@example.com", "email_verified": "true", "custom:department": "engineering"}},
			claimed: map[string]string{"email": "raj@example.com", "email_verified": "true", "custom:department": "engineering", "cognito:user_status": "CONFIRMED"},
			want:    []string{"engineering", "staff"},
		},
		{
			name:    "forged user status",
			user:    cognitofake.User{Attributes: map[string]string{"email": "mia@mail.example"}},
			claimed: map[string]string{"email": "mia@mail.example", "cognito:user_status": "EXTERNAL_PROVIDER"},
			want:    []string{"customers"},
		},
		{
			name:    "user status is Cognito's UserStatus",
			user:    cognitofake.User{Attributes: map[string]string{"email": "sam@mail.example"}, Status: "EXTERNAL_PROVIDER"},
			claimed: map[string]string{"email": "sam@mail.example"},
			want:    []string{"federated"},
		},
		{
			name:    "client id and metadata come from the event",
			user:    cognitofake.User{Attributes: map[string]string{"email": "lee@mail.example"}},
			claimed: map[string]string{"email": "lee@mail.example"},
			client:  "partner-client",
			meta:    map[string]string{"origin": "partner"},
			want:    []string{"partner"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fake, logs := newVerifyingHandler(t, source, fastOptions)
			tt.user.Username = "user-1"
			fake.PutUser(verifyPool, tt.user)
			var ev map[string]any
			if err := json.Unmarshal(eventFor(t, "user-1", tt.client, withSub(fake, "user-1", tt.claimed)), &ev); err != nil {
				t.Fatal(err)
			}
			if tt.meta != nil {
				ev["request"].(map[string]any)["clientMetadata"] = tt.meta
			}
			payload, _ := json.Marshal(ev)

			got, err := h.Invoke(t.Context(), payload)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("Invoke = %s, %v; want the event", got, err)
			}
			if diff := cmp.Diff(tt.want, groupsAdded(fake)); diff != "" {
				t.Errorf("groups added (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, fake.GroupsForUser(verifyPool, "user-1")); diff != "" {
				t.Errorf("groups of the user (-want +got):\n%s", diff)
			}
			reads := fake.CallsTo("AdminGetUser")
			if len(reads) != 1 || reads[0].PoolID != verifyPool || reads[0].Username != "user-1" {
				t.Errorf("AdminGetUser calls = %+v, want one for the event's pool and user", reads)
			}
			if first := fake.Calls()[0]; first.Op != "AdminGetUser" {
				t.Errorf("first call %s, want AdminGetUser before any add", first.Op)
			}
			d := oneDecision(t, logs)
			if r := readOf(t, d); d["verified"] != true || r["op"] != "AdminGetUser" || r["kind"] != "ok" || r["attempts"] != 1.0 {
				t.Errorf("decision verified=%v reads=%v, want verified and one ok AdminGetUser", d["verified"], d["reads"])
			}
			if d["outcome"] != "ok" {
				t.Errorf("decision outcome = %v, want ok", d["outcome"])
			}
		})
	}
}

// TestVerifyFromEnv runs the handler NewFromEnv builds: it reads users back
// unless AUTOGROUP_VERIFY_USER is false, which trusts the forged event.
func TestVerifyFromEnv(t *testing.T) {
	tests := []struct {
		value      string
		want       []string
		wantReads  int
		wantVerify bool
	}{
		{"", []string{"staff"}, 1, true},
		{"true", []string{"staff"}, 1, true},
		{"false", []string{"engineering", "staff"}, 0, false},
	}
	for _, tt := range tests {
		t.Run("AUTOGROUP_VERIFY_USER="+tt.value, func(t *testing.T) {
			fake := cognitofake.New(t)
			fake.AllowAnyGroup()
			fake.PutUser(verifyPool, cognitofake.User{Username: "user-1",
				Attributes: map[string]string{"email": "ana@example.com", "email_verified": "true", "custom:department": "sales"}})
			env := map[string]string{"AUTOGROUP_VERIFY_USER": tt.value, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": fake.URL()}
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
			h, err := NewFromEnv(t.Context(), logger, getenv(env), os.ReadFile)
			if err != nil {
				t.Fatal(err)
			}
			// The shipped ruleset: engineering needs custom:department.
			forged := eventFor(t, "user-1", "client-1", withSub(fake, "user-1",
				map[string]string{"email": "ana@example.com", "email_verified": "true", "custom:department": "engineering"}))
			if _, err := h.Invoke(t.Context(), forged); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, groupsAdded(fake)); diff != "" {
				t.Errorf("groups added (-want +got):\n%s", diff)
			}
			if n := len(fake.CallsTo("AdminGetUser")); n != tt.wantReads {
				t.Errorf("AdminGetUser calls = %d, want %d", n, tt.wantReads)
			}
			if d := oneDecision(t, &logs); d["verified"] != tt.wantVerify || len(d["reads"].([]any)) != tt.wantReads {
				t.Errorf("decision verified=%v reads=%v, want %v and %d reads", d["verified"], d["reads"], tt.wantVerify, tt.wantReads)
			}
		})
	}
}

// TestVerifyReadRetried: the read is retried as the adds are, on throttling
// and server errors, and not on what a retry cannot mend.
func TestVerifyReadRetried(t *testing.T) {
	tests := []struct {
		name         string
		fault        cognitofake.Fault
		wantKind     string
		wantAttempts float64
		wantGroups   []string
		wantOutcome  string
	}{
		{"throttled twice", cognitofake.Fault{Times: 2, Type: "TooManyRequestsException", Message: "Too many requests."},
			"ok", 3, []string{"staff"}, "ok"},
		{"server error once", cognitofake.Fault{Times: 1, Status: 500, Type: "InternalErrorException", Message: "Internal error."},
			"ok", 2, []string{"staff"}, "ok"},
		{"connection reset once", cognitofake.Fault{Times: 1, Reset: true},
			"ok", 2, []string{"staff"}, "ok"},
		{"always throttled", cognitofake.Fault{Type: "TooManyRequestsException", Message: "Too many requests."},
			"throttled", float64(membership.DefaultMaxAttempts), []string{}, "failed"},
		{"access denied", cognitofake.Fault{Type: "AccessDeniedException", Message: "not authorized to perform: cognito-idp:AdminGetUser"},
			"access_denied", 1, []string{}, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fake, logs := newVerifyingHandler(t, "version: 1\nrules:\n  - {name: staff, when: {emailDomain: example.com}, groups: [staff]}\n", fastOptions)
			fake.PutUser(verifyPool, cognitofake.User{Username: "user-1", Attributes: map[string]string{"email": "ana@example.com", "email_verified": "true"}})
			tt.fault.Op = "AdminGetUser"
			fake.Inject(tt.fault)
			payload := eventFor(t, "user-1", "c", withSub(fake, "user-1", map[string]string{"email": "ana@example.com", "email_verified": "true"}))
			_, err := h.Invoke(t.Context(), payload)
			if (err != nil) != (tt.wantOutcome == "failed") {
				t.Errorf("Invoke error = %v, want an error only for outcome failed", err)
			}
			if diff := cmp.Diff(tt.wantGroups, groupsAdded(fake)); diff != "" {
				t.Errorf("groups added (-want +got):\n%s", diff)
			}
			d := oneDecision(t, logs)
			r := readOf(t, d)
			if r["kind"] != tt.wantKind || r["attempts"] != tt.wantAttempts || d["outcome"] != tt.wantOutcome {
				t.Errorf("decision read %v, outcome %v; want kind %s after %v attempts, outcome %s", r, d["outcome"], tt.wantKind, tt.wantAttempts, tt.wantOutcome)
			}
			if n := len(fake.CallsTo("AdminGetUser")); float64(n) != tt.wantAttempts {
				t.Errorf("AdminGetUser calls = %d, want %v", n, tt.wantAttempts)
			}
			if tt.wantKind == "access_denied" && !strings.Contains(r["error"].(string), "cognito-idp:AdminGetUser on user pool "+verifyPool) {
				t.Errorf("read error %q does not name the missing permission and the pool", r["error"])
			}
		})
	}
}

// TestVerifyReadCountsAgainstBudget: every call takes 150ms and the budget
// is 250ms. The read fits; the add that follows gets what is left of the
// same budget, not a budget of its own, and is cut off by its deadline.
func TestVerifyReadCountsAgainstBudget(t *testing.T) {
	tests := []struct {
		name        string
		budget      time.Duration
		wantKind    membership.Kind
		wantOutcome trigger.Outcome
	}{
		{"budget covers the read and the add", 2 * time.Second, membership.KindOK, trigger.OutcomeOK},
		{"the read leaves too little for the add", 250 * time.Millisecond, membership.KindTimeout, trigger.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fastOptions
			o.Budget = tt.budget
			h, fake, _ := newVerifyingHandler(t, "version: 1\ndefaultGroups: [customers]\n", o)
			fake.PutUser(verifyPool, cognitofake.User{Username: "user-1"})
			fake.Delay(150 * time.Millisecond)
			start := time.Now()
			rec, _, err := h.Handle(t.Context(), eventFor(t, "user-1", "c", withSub(fake, "user-1", nil)))
			elapsed := time.Since(start)
			if (err != nil) != (tt.wantOutcome == trigger.OutcomeFailed) || rec.Outcome != tt.wantOutcome {
				t.Fatalf("Handle outcome %s, error %v; want %s", rec.Outcome, err, tt.wantOutcome)
			}
			if len(rec.Reads) != 1 || rec.Reads[0].Kind != membership.KindOK {
				t.Errorf("record reads = %+v, want one ok read", rec.Reads)
			}
			if len(rec.Results) != 1 || rec.Results[0].Kind != tt.wantKind {
				t.Errorf("record results = %+v, want one %s", rec.Results, tt.wantKind)
			}
			// Bounded, not exact: the kind above is what shows the shared
			// budget (an add with a budget of its own would succeed).
			if tt.wantKind == membership.KindTimeout && elapsed > tt.budget+time.Second {
				t.Errorf("Handle took %v, want it to end with the %v budget", elapsed, tt.budget)
			}
		})
	}
}

// TestVerifyUnknownUser: an event for a user the pool does not hold grants
// nothing, and onError decides what Cognito is told.
func TestVerifyUnknownUser(t *testing.T) {
	const username = "zelda.quartermaine@quartermaine-corp.example" // pools may use the address as the username
	for _, onError := range []string{"fail", "continue"} {
		t.Run("onError "+onError, func(t *testing.T) {
			h, fake, logs := newVerifyingHandler(t, "version: 1\nonError: "+onError+"\ndefaultGroups: [customers]\n", fastOptions)
			fake.CreateUser(verifyPool, "someone-else")
			payload := eventFor(t, username, "c", map[string]string{"sub": "3f1e2d3c-0000-4000-8000-000000000001", "email": username, "email_verified": "true"})
			rec, got, err := h.Handle(t.Context(), payload)
			if onError == "fail" {
				if !errors.Is(err, ErrAssignment) || got != nil || rec.Outcome != trigger.OutcomeFailed {
					t.Errorf("Handle = %q, %v, outcome %s; want ErrAssignment and outcome failed", got, err, rec.Outcome)
				}
			} else if err != nil || !bytes.Equal(got, payload) || rec.Outcome != trigger.OutcomeFailedContinued {
				t.Errorf("Handle = %q, %v, outcome %s; want the event and outcome failed_continued", got, err, rec.Outcome)
			}
			if n := len(fake.CallsTo("AdminAddUserToGroup")); n != 0 {
				t.Errorf("AdminAddUserToGroup calls = %d, want none", n)
			}
			if len(rec.Groups) != 0 || len(rec.MatchedRules) != 0 || rec.DefaultApplied {
				t.Errorf("record decided %v (rules %v, default %v), want nothing decided", rec.Groups, rec.MatchedRules, rec.DefaultApplied)
			}
			d := oneDecision(t, logs)
			if r := readOf(t, d); r["kind"] != "user_not_found" || r["attempts"] != 1.0 || d["level"] != "ERROR" {
				t.Errorf("decision read %v at %v, want user_not_found after 1 attempt at ERROR", r, d["level"])
			}
			if strings.Contains(logs.String(), "zelda") {
				t.Errorf("the log names the user:\n%s", logs)
			}
		})
	}
}

// TestVerifySubMismatch: the pool holds a user under the event's username,
// but with another sub (or the event has none): nothing is granted, and
// the record names the two subs and nothing else of the user.
func TestVerifySubMismatch(t *testing.T) {
	tests := []struct {
		name, eventSub string
	}{
		{"another sub", "11111111-2222-4333-8444-555555555555"},
		{"no sub", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fake, logs := newVerifyingHandler(t, "version: 1\ndefaultGroups: [customers]\n", fastOptions)
			fake.PutUser(verifyPool, cognitofake.User{Username: "user-1", Attributes: map[string]string{"email": "ana.lima@example.com"}})
			attrs := map[string]string{"email": "ana.lima@example.com"}
			if tt.eventSub != "" {
				attrs["sub"] = tt.eventSub
			}
			rec, _, err := h.Handle(t.Context(), eventFor(t, "user-1", "c", attrs))
			if !errors.Is(err, ErrAssignment) || rec.Outcome != trigger.OutcomeFailed {
				t.Errorf("Handle error %v, outcome %s; want ErrAssignment, failed", err, rec.Outcome)
			}
			if n := len(fake.CallsTo("AdminAddUserToGroup")); n != 0 {
				t.Errorf("AdminAddUserToGroup calls = %d, want none", n)
			}
			r := readOf(t, oneDecision(t, logs))
			msg, _ := r["error"].(string)
			if r["kind"] != "sub_mismatch" || !strings.Contains(msg, `"`+fake.Sub(verifyPool, "user-1")+`"`) || !strings.Contains(msg, `"`+tt.eventSub+`"`) {
				t.Errorf("decision read %v, want sub_mismatch naming both subs", r)
			}
			if strings.Contains(logs.String(), "ana.lima") {
				t.Errorf("the log carries an attribute value:\n%s", logs)
			}
		})
	}
}
