package pretoken_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/pretoken"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

var _ lambda.Handler = (*pretoken.Handler)(nil)

const (
	pool = "us-east-1_TEST"
	user = "user-1"
	sub  = "0f1e2d3c-4b5a-4697-8877-665544332211"
)

// testRules selects paid for pro users, beta-tools for members of beta, and
// leaves members of hold alone.
const testRules = `
version: 1
exclude: {memberOf: hold}
rules:
  - {name: paid, when: {attribute: custom:plan, equals: pro}, groups: [paid]}
  - {name: beta, when: {memberOf: beta}, groups: [beta-tools]}
  - {name: staff, when: {attribute: custom:staff, equals: "yes"}, groups: [staff, missing-group]}
`

// event returns a token event of the version ("1" or "2") for the test
// user with the attributes and current groups given, and the raw response.
func event(version, source string, attrs map[string]string, groups []string, response string) []byte {
	a := map[string]string{"sub": sub}
	for k, v := range attrs {
		a[k] = v
	}
	ab, _ := json.Marshal(a)
	gb, _ := json.Marshal(groups)
	return []byte(`{"version":"` + version + `","triggerSource":"` + source + `","region":"us-east-1","userPoolId":"` + pool +
		`","userName":"` + user + `","callerContext":{"awsSdkVersion":"x","clientId":"c"},"request":{"userAttributes":` + string(ab) +
		`,"groupConfiguration":{"groupsToOverride": ` + string(gb) + `, "iamRolesToOverride": ["arn:aws:iam::1:role/r"], "preferredRole": "arn:aws:iam::1:role/r"}},` +
		`"response":` + response + `}`)
}

type setup struct {
	fake   *cognitofake.Server
	logs   *bytes.Buffer
	queue  *fakeQueue
	verify bool
	rules  string
}

// handler builds a Handler on the test ruleset (or s.rules), the Cognito
// fake holding the user with attrs and groups, and s.queue.
func (s *setup) handler(t *testing.T, attrs map[string]string, groups ...string) *pretoken.Handler {
	t.Helper()
	s.fake = cognitofake.New(t)
	for _, g := range []string{"paid", "beta", "beta-tools", "hold", "staff", "old"} {
		s.fake.CreateGroup(pool, g)
	}
	a := map[string]string{"sub": sub}
	for k, v := range attrs {
		a[k] = v
	}
	s.fake.PutUser(pool, cognitofake.User{Username: user, Attributes: a})
	for _, g := range groups {
		s.fake.AddToGroup(pool, g, user)
	}
	src := s.rules
	if src == "" {
		src = testRules
	}
	holder, err := rulesource.Load(context.Background(), rulesource.Bytes("test rules", []byte(src)), nil)
	if err != nil {
		t.Fatal(err)
	}
	client := s.fake.Client(t)
	opts := membership.Options{Budget: 300 * time.Millisecond, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	s.logs = &bytes.Buffer{}
	c := pretoken.Config{
		Rules: holder, Adder: membership.NewAdder(client, opts), Remover: membership.NewRemover(client, opts),
		Budget: opts.Budget, Logger: slog.New(slog.NewJSONHandler(s.logs, nil)),
	}
	if s.verify {
		c.Reader, c.Groups = membership.NewReader(client, opts), membership.NewGroupLister(client, opts)
	}
	if s.queue != nil {
		c.Queue = s.queue
	}
	return pretoken.New(c)
}

type fakeQueue struct {
	err  error
	sent []retryqueue.Message
}

func (q *fakeQueue) Send(_ context.Context, m retryqueue.Message) (string, error) {
	if q.err != nil {
		return "", q.err
	}
	if err := m.Validate(); err != nil {
		return "", err
	}
	q.sent = append(q.sent, m)
	return "id-1", nil
}

// tokenGroups returns the returned event's groupOverrideDetails.
func tokenGroups(t *testing.T, out []byte, version string) (groups []string, god map[string]json.RawMessage) {
	t.Helper()
	key := "claimsOverrideDetails"
	if version != "1" {
		key = "claimsAndScopeOverrideDetails"
	}
	var ev struct {
		Response map[string]struct {
			GroupOverrideDetails map[string]json.RawMessage `json:"groupOverrideDetails"`
		}
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatalf("returned event: %v\n%s", err, out)
	}
	god = ev.Response[key].GroupOverrideDetails
	if god == nil {
		t.Fatalf("no response.%s.groupOverrideDetails:\n%s", key, out)
	}
	if err := json.Unmarshal(god["groupsToOverride"], &groups); err != nil {
		t.Fatal(err)
	}
	return groups, god
}

func ops(f *cognitofake.Server) []string {
	var o []string
	for _, c := range f.Calls() {
		o = append(o, c.Op)
	}
	return o
}

func TestNothingMissingMakesNoCall(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		t.Run("v"+version, func(t *testing.T) {
			s := &setup{verify: true}
			h := s.handler(t, map[string]string{"custom:plan": "pro"}, "paid", "other")
			payload := event(version, "TokenGeneration_Authentication", map[string]string{"custom:plan": "pro"}, []string{"paid", "other"}, `{}`)
			rec, out, err := h.Handle(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Outcome != trigger.OutcomeOK || len(s.fake.Calls()) != 0 {
				t.Errorf("outcome %s, calls %v; want ok and no call", rec.Outcome, ops(s.fake))
			}
			gc := payload[bytes.Index(payload, []byte(`{"groupsToOverride"`)) : bytes.Index(payload, []byte(`},"response"`))+1]
			if !bytes.Contains(out, append([]byte(`"groupOverrideDetails":`), gc...)) {
				t.Errorf("groupOverrideDetails is not the request's groupConfiguration byte for byte:\n%s", out)
			}
		})
	}
}

func TestMissingGroupIsAdded(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		t.Run("v"+version, func(t *testing.T) {
			// No memberOf: the event's groups are Cognito's, and the user's
			// groups are not read.
			s := &setup{verify: true, rules: "version: 1\nrules:\n  - {name: paid, when: {attribute: custom:plan, equals: pro}, groups: [paid]}\n"}
			h := s.handler(t, map[string]string{"custom:plan": "pro"}, "other")
			payload := event(version, "TokenGeneration_RefreshTokens", map[string]string{"custom:plan": "pro"}, []string{"other"}, `{"claimsOverrideDetails":null}`)
			rec, out, err := h.Handle(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Outcome != trigger.OutcomeHealed {
				t.Errorf("outcome %s, want healed", rec.Outcome)
			}
			if diff := cmp.Diff([]string{"AdminGetUser", "AdminAddUserToGroup"}, ops(s.fake)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			groups, god := tokenGroups(t, out, version)
			if diff := cmp.Diff([]string{"other", "paid"}, groups); diff != "" {
				t.Errorf("token groups (-want +got):\n%s", diff)
			}
			if string(god["preferredRole"]) != `"arn:aws:iam::1:role/r"` || string(god["iamRolesToOverride"]) != `["arn:aws:iam::1:role/r"]` {
				t.Errorf("roles changed: %s %s", god["iamRolesToOverride"], god["preferredRole"])
			}
			if diff := cmp.Diff([]string{"other", "paid"}, s.fake.GroupsForUser(pool, user)); diff != "" {
				t.Errorf("pool groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThrottledSignInSucceedsWithGroupsAsSent(t *testing.T) {
	for _, name := range []string{"every call", "adds"} {
		t.Run(name, func(t *testing.T) {
			s := &setup{verify: true}
			h := s.handler(t, map[string]string{"custom:plan": "pro"}, "other")
			if name == "adds" {
				s.fake.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Type: "TooManyRequestsException"})
			} else {
				s.fake.AlwaysThrottle()
			}
			payload := event("1", "TokenGeneration_Authentication", map[string]string{"custom:plan": "pro"}, []string{"other"}, `{}`)
			start := time.Now()
			rec, out, err := h.Handle(context.Background(), payload)
			if err != nil {
				t.Fatalf("Handle error %v: a sign-in must not fail on throttling", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Handle took %v, want about the 300ms budget", d)
			}
			if rec.Outcome != trigger.OutcomeFailedKept {
				t.Errorf("outcome %s, want failed_kept", rec.Outcome)
			}
			if groups, _ := tokenGroups(t, out, "1"); !cmp.Equal(groups, []string{"other"}) {
				t.Errorf("token groups %v, want [other] as sent: the pool lacks paid", groups)
			}
		})
	}
}

func TestForgedEventGrantsNothing(t *testing.T) {
	s := &setup{verify: true}
	// Cognito holds plan free; the event claims pro, and membership of beta.
	h := s.handler(t, map[string]string{"custom:plan": "free"})
	payload := event("2", "TokenGeneration_Authentication", map[string]string{"custom:plan": "pro"}, []string{"beta"}, `{}`)
	rec, out, err := h.Handle(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.fake.CallsTo("AdminAddUserToGroup")); n != 0 || len(s.fake.GroupsForUser(pool, user)) != 0 {
		t.Errorf("%d adds, pool groups %v: a forged event granted something", n, s.fake.GroupsForUser(pool, user))
	}
	if groups, _ := tokenGroups(t, out, "2"); !cmp.Equal(groups, []string{"beta"}) {
		t.Errorf("token groups %v, want [beta] as sent", groups)
	}
	if !rec.Verified || rec.Outcome != trigger.OutcomeOK {
		t.Errorf("verified %v, outcome %s; want true, ok", rec.Verified, rec.Outcome)
	}
}

func TestExcludedIsLeftAlone(t *testing.T) {
	s := &setup{verify: true, rules: testRules + "reconcile: {remove: true, managedGroups: [old]}\n"}
	h := s.handler(t, map[string]string{"custom:plan": "pro"}, "hold", "old")
	payload := event("1", "TokenGeneration_Authentication", map[string]string{"custom:plan": "pro"}, []string{"hold", "old"}, `{}`)
	rec, out, err := h.Handle(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Outcome != trigger.OutcomeExcluded || len(s.fake.Calls()) != 0 {
		t.Errorf("outcome %s, calls %v; want excluded and none", rec.Outcome, ops(s.fake))
	}
	if groups, _ := tokenGroups(t, out, "1"); !cmp.Equal(groups, []string{"hold", "old"}) {
		t.Errorf("token groups %v, want as sent", groups)
	}
}

func TestPassThrough(t *testing.T) {
	tests := []struct{ name, rules, source string }{
		{"client credentials", "", "TokenGeneration_ClientCredentials"},
		{"unlisted source", testRules + "tokenTriggerSources: [TokenGeneration_HostedAuth]\n", "TokenGeneration_Authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &setup{verify: true, rules: tt.rules}
			h := s.handler(t, nil)
			payload := event("2", tt.source, map[string]string{"custom:plan": "pro"}, []string{"x"}, `{"claimsAndScopeOverrideDetails":null}`)
			rec, out, err := h.Handle(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Outcome != trigger.OutcomePassedThrough || len(s.fake.Calls()) != 0 {
				t.Errorf("outcome %s, calls %v; want passed_through, none", rec.Outcome, ops(s.fake))
			}
			if groups, _ := tokenGroups(t, out, "2"); !cmp.Equal(groups, []string{"x"}) {
				t.Errorf("token groups %v, want as sent", groups)
			}
		})
	}
}

func TestTeamClaimsKept(t *testing.T) {
	s := &setup{verify: true}
	h := s.handler(t, map[string]string{"custom:plan": "pro"})
	resp := `{"claimsOverrideDetails":{"claimsToAddOrOverride":{"tier":"gold"},"claimsToSuppress":["phone_number"]}}`
	payload := event("1", "TokenGeneration_HostedAuth", map[string]string{"custom:plan": "pro"}, nil, resp)
	_, out, err := h.Handle(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`{"claimsOverrideDetails":{"claimsToAddOrOverride":{"tier":"gold"},"claimsToSuppress":["phone_number"],"groupOverrideDetails":`)) {
		t.Errorf("the team's claims were not kept:\n%s", out)
	}
	if groups, _ := tokenGroups(t, out, "1"); !cmp.Equal(groups, []string{"paid"}) {
		t.Errorf("token groups %v, want [paid]", groups)
	}
}

func TestReconcileRemove(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "removed", true: "removal fails"}[fail], func(t *testing.T) {
			s := &setup{verify: true, rules: testRules + "reconcile: {remove: true, managedGroups: [old, paid]}\n"}
			h := s.handler(t, map[string]string{"custom:plan": "free"}, "old", "paid", "mine")
			if fail {
				s.fake.Inject(cognitofake.Fault{Op: "AdminRemoveUserFromGroup", Group: "old", Type: "TooManyRequestsException"})
			}
			payload := event("2", "TokenGeneration_Authentication", map[string]string{"custom:plan": "free"}, []string{"old", "paid", "mine"}, `{}`)
			rec, out, err := h.Handle(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			want, inPool, outcome := []string{"mine"}, []string{"mine"}, trigger.OutcomeHealed
			if fail {
				want, inPool, outcome = []string{"old", "mine"}, []string{"mine", "old"}, trigger.OutcomeFailedKept
			}
			if groups, _ := tokenGroups(t, out, "2"); !cmp.Equal(groups, want) {
				t.Errorf("token groups %v, want %v", groups, want)
			}
			if diff := cmp.Diff(inPool, s.fake.GroupsForUser(pool, user)); diff != "" {
				t.Errorf("pool groups (-want +got):\n%s", diff)
			}
			if rec.Outcome != outcome {
				t.Errorf("outcome %s, want %s", rec.Outcome, outcome)
			}
			if !strings.Contains(s.logs.String(), `"op":"remove"`) {
				t.Errorf("decision record has no removal: %s", s.logs)
			}
		})
	}
}

func TestMissingGroupIsNotClaimed(t *testing.T) {
	for _, queued := range []bool{false, true} {
		t.Run(map[bool]string{false: "no queue", true: "queue"}[queued], func(t *testing.T) {
			s := &setup{verify: true}
			if queued {
				s.queue = &fakeQueue{}
			}
			h := s.handler(t, map[string]string{"custom:staff": "yes"})
			s.fake.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Group: "staff", Type: "TooManyRequestsException"})
			payload := event("1", "TokenGeneration_Authentication", map[string]string{"custom:staff": "yes"}, nil, `{}`)
			rec, out, err := h.Handle(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			groups, _ := tokenGroups(t, out, "1")
			want, outcome := []string{}, trigger.OutcomeFailedKept
			if queued {
				// staff was throttled and the queue will add it;
				// missing-group does not exist and is never claimed.
				want, outcome = []string{"staff"}, trigger.OutcomeQueued
				if len(s.queue.sent) != 1 || !cmp.Equal(s.queue.sent[0].GroupNames(), []string{"staff", "missing-group"}) {
					t.Errorf("queued %+v, want one message for staff and missing-group", s.queue.sent)
				}
			}
			if !cmp.Equal(groups, want) || rec.Outcome != outcome {
				t.Errorf("token groups %v, outcome %s; want %v, %s", groups, rec.Outcome, want, outcome)
			}
		})
	}
}

func TestQueueFailureKeepsGroups(t *testing.T) {
	s := &setup{verify: true, queue: &fakeQueue{err: errors.New("sqs down")}}
	h := s.handler(t, map[string]string{"custom:plan": "pro"})
	s.fake.Inject(cognitofake.Fault{Op: "AdminAddUserToGroup", Type: "TooManyRequestsException"})
	rec, out, err := h.Handle(context.Background(), event("1", "TokenGeneration_Authentication", map[string]string{"custom:plan": "pro"}, nil, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if groups, _ := tokenGroups(t, out, "1"); len(groups) != 0 || rec.Outcome != trigger.OutcomeFailedKept {
		t.Errorf("token groups %v, outcome %s; want none, failed_kept", groups, rec.Outcome)
	}
}

func TestNoGroupConfigurationReadsGroups(t *testing.T) {
	// cognito-local sends no groupConfiguration: the groups come from the pool.
	for _, member := range []bool{true, false} {
		s := &setup{verify: true}
		var groups []string
		if member {
			groups = []string{"paid"}
		}
		h := s.handler(t, map[string]string{"custom:plan": "pro"}, groups...)
		// As cognito-local 5.3.0 sends it.
		payload := []byte(`{"version":"0","triggerSource":"TokenGeneration_Authentication","userPoolId":"` + pool + `","userName":"` + user +
			`","request":{"userAttributes":{"sub":"` + sub + `","custom:plan":"pro"},"groupConfiguration":{}},"response":{"claimsOverrideDetails":{}}}`)
		rec, _, err := h.Handle(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		wantOps, wantOutcome := []string{"AdminGetUser", "AdminListGroupsForUser", "AdminAddUserToGroup"}, trigger.OutcomeHealed
		if member {
			wantOps, wantOutcome = wantOps[:2], trigger.OutcomeOK
		}
		if diff := cmp.Diff(wantOps, ops(s.fake)); diff != "" || rec.Outcome != wantOutcome {
			t.Errorf("member %v: outcome %s, want %s; calls (-want +got):\n%s", member, rec.Outcome, wantOutcome, diff)
		}
		if !cmp.Equal(s.fake.GroupsForUser(pool, user), []string{"paid"}) {
			t.Errorf("member %v: pool groups %v, want [paid]", member, s.fake.GroupsForUser(pool, user))
		}
	}
}

func TestMalformedEventIsAnError(t *testing.T) {
	s := &setup{verify: true}
	h := s.handler(t, nil)
	for _, payload := range []string{`{"triggerSource":"TokenGeneration_Authentication","request":{"userAttributes":{"a":true}}}`,
		`{"triggerSource":"TokenGeneration_Authentication","request":{}}`, `[]`} {
		_, out, err := h.Handle(context.Background(), []byte(payload))
		var e *trigger.EventError
		if !errors.As(err, &e) || out != nil {
			t.Errorf("Handle(%s) = %s, %v; want an *EventError", payload, out, err)
		}
	}
}
