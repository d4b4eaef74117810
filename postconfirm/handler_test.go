package postconfirm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// The runtime calls Invoke with the raw bytes.
var _ lambda.Handler = (*Handler)(nil)

// fakeCognito is a hand-written fake of the one Cognito call the function
// makes. It records every call and answers with the error set for a group.
type fakeCognito struct {
	mu     sync.Mutex
	calls  []addCall
	errFor map[string]error
}

type addCall struct{ Pool, User, Group string }

func (f *fakeCognito) AdminAddUserToGroup(ctx context.Context, in *cip.AdminAddUserToGroupInput, _ ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := addCall{aws.ToString(in.UserPoolId), aws.ToString(in.Username), aws.ToString(in.GroupName)}
	f.calls = append(f.calls, c)
	if err := f.errFor[c.Group]; err != nil {
		return nil, err
	}
	return &cip.AdminAddUserToGroupOutput{}, nil
}

// groups returns the groups that calls were made for, sorted: calls run
// concurrently, so their order is not part of the contract.
func (f *fakeCognito) groups() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var g []string
	for _, c := range f.calls {
		g = append(g, c.Group)
	}
	slices.Sort(g)
	return g
}

// newTestHandler builds a handler on the ruleset src (the shipped one when
// src is empty) and a fake Cognito; the log goes to the returned buffer in
// the JSON form Lambda uses. It trusts the event (no Reader): these tests
// are about deciding on the event and adding; verify_test.go reads users
// back from internal/cognitofake.
func newTestHandler(t testing.TB, src string) (*Handler, *fakeCognito, *bytes.Buffer) {
	t.Helper()
	source := rulesource.Embedded()
	if src != "" {
		source = rulesource.Bytes("test rules", []byte(src))
	}
	holder, err := rulesource.Load(context.Background(), source, nil)
	if err != nil {
		t.Fatalf("ruleset: %v", err)
	}
	fake := &fakeCognito{errFor: map[string]error{}}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
	adder := membership.NewAdder(fake, membership.Options{Budget: 2 * time.Second, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	return New(holder, adder, nil, logger), fake, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// decisions returns the decision records in a captured log.
func decisions(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["message"] == "decision" {
			out = append(out, rec)
		}
	}
	return out
}

const signUp = `{"version":"1","triggerSource":"PostConfirmation_ConfirmSignUp","region":"us-east-1",` +
	`"userPoolId":"us-east-1_TEST","userName":"user-1","callerContext":{"awsSdkVersion":"x","clientId":"client-1"},` +
	`"request":{"userAttributes":{"sub":"sub-1","email":"a@example.com","email_verified":"true"}},"response":{}}`

func TestReturnsEventByteForByte(t *testing.T) {
	// Unknown fields, odd spacing, an absent clientMetadata, escaped
	// characters and key order must all survive: the event is returned as sent.
	payload := []byte(`{ "triggerSource" : "PostConfirmation_ConfirmSignUp", "futureField": {"nested": [1, 2.50, null]},
	  "userPoolId":"us-east-1_TEST","userName":"user-1", "version":"1",
	  "request":{"userAttributes":{"sub":"sub-1","email":"a@example.com","email_verified":"true","name":"Zo\u00eb \u003cZ\u003e"}},
	  "response":{}, "callerContext":{"clientId":null}}`)
	h, fake, _ := newTestHandler(t, "")
	got, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("Invoke = %s, want the input unchanged", got)
	}
	if diff := cmp.Diff([]string{"staff"}, fake.groups()); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestCallsUseEventPoolAndUser(t *testing.T) {
	h, fake, _ := newTestHandler(t, `
version: 1
rules:
  - {name: a, when: {always: true}, groups: [one, two, three]}
`)
	if _, err := h.Invoke(context.Background(), []byte(signUp)); err != nil {
		t.Fatal(err)
	}
	want := []addCall{{"us-east-1_TEST", "user-1", "one"}, {"us-east-1_TEST", "user-1", "three"}, {"us-east-1_TEST", "user-1", "two"}}
	got := slices.Clone(fake.calls)
	slices.SortFunc(got, func(a, b addCall) int { return strings.Compare(a.Group, b.Group) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestTriggerSourceNotHandledMakesNoCall(t *testing.T) {
	forgot := strings.Replace(signUp, "PostConfirmation_ConfirmSignUp", "PostConfirmation_ConfirmForgotPassword", 1)
	tests := []struct {
		name      string
		rules     string
		wantCalls int
	}{
		{"default sources", "version: 1\ndefaultGroups: [g]\n", 0},
		{"opted in", "version: 1\ntriggerSources: [PostConfirmation_ConfirmForgotPassword]\ndefaultGroups: [g]\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fake, logs := newTestHandler(t, tt.rules)
			got, err := h.Invoke(context.Background(), []byte(forgot))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if string(got) != forgot {
				t.Errorf("Invoke changed the event")
			}
			if len(fake.calls) != tt.wantCalls {
				t.Errorf("calls = %d, want %d", len(fake.calls), tt.wantCalls)
			}
			if d := decisions(t, logs); len(d) != 1 {
				t.Errorf("decision records = %d, want 1", len(d))
			}
		})
	}
}

func TestOnError(t *testing.T) {
	const base = `
version: 1
rules:
  - {name: all, when: {always: true}, groups: [exists-1, missing, exists-2]}
`
	notFound := &types.ResourceNotFoundException{Message: aws.String("Group not found.")}
	t.Run("fail", func(t *testing.T) {
		h, fake, logs := newTestHandler(t, base+"onError: fail\n")
		fake.errFor["missing"] = notFound
		got, err := h.Invoke(context.Background(), []byte(signUp))
		if !errors.Is(err, ErrAssignment) {
			t.Fatalf("Invoke error = %v, want %v", err, ErrAssignment)
		}
		if got != nil {
			t.Errorf("Invoke returned an event with an error")
		}
		if msg := err.Error(); len(msg) > 60 || strings.Contains(msg, "missing") || strings.Contains(msg, "us-east-1") {
			t.Errorf("error for Cognito %q is not short and free of internals", msg)
		}
		if diff := cmp.Diff([]string{"exists-1", "exists-2", "missing"}, fake.groups()); diff != "" {
			t.Errorf("every group is still attempted (-want +got):\n%s", diff)
		}
		d := decisions(t, logs)
		if len(d) != 1 {
			t.Fatalf("decision records = %d, want 1", len(d))
		}
		if d[0]["outcome"] != "failed" || d[0]["level"] != "ERROR" {
			t.Errorf("decision outcome=%v level=%v, want failed at ERROR", d[0]["outcome"], d[0]["level"])
		}
		rec, _ := json.Marshal(d[0]["results"])
		for _, want := range []string{`"group":"missing"`, `"kind":"group_not_found"`, "us-east-1_TEST"} {
			if !strings.Contains(string(rec), want) {
				t.Errorf("decision results %s lack %s", rec, want)
			}
		}
	})
	t.Run("continue", func(t *testing.T) {
		h, fake, logs := newTestHandler(t, base+"onError: continue\n")
		fake.errFor["missing"] = notFound
		got, err := h.Invoke(context.Background(), []byte(signUp))
		if err != nil {
			t.Fatalf("Invoke error = %v, want the event", err)
		}
		if string(got) != signUp {
			t.Errorf("Invoke changed the event")
		}
		d := decisions(t, logs)
		if len(d) != 1 || d[0]["outcome"] != "failed_continued" {
			t.Errorf("decision records = %v, want one with outcome failed_continued", d)
		}
	})
}

// TestMalformedEvents checks what goes back to Cognito for events the
// function refuses: trigger's messages, which name fields and never values.
func TestMalformedEvents(t *testing.T) {
	tests := []struct {
		name, payload, wantErr string
	}{
		{"empty", ``, "invalid event: not a JSON object"},
		{"not json", `hello`, "invalid event: not a JSON object"},
		{"truncated", `{"triggerSource":"PostConfirmation_ConfirmSignUp"`, "invalid event: not valid JSON (unexpected end)"},
		{"syntax", `{"triggerSource":"PostConfirmation_ConfirmSignUp",}`, "invalid event: not valid JSON (line 1, column 51)"},
		{"array", `[1,2]`, "invalid event: not a JSON object"},
		{"null", `null`, "invalid event: not a JSON object"},
		{"boolean attribute", strings.Replace(signUp, `"email_verified":"true"`, `"email_verified":true`, 1),
			"invalid event: request.userAttributes.email_verified: expected a string, found a boolean"},
		{"number attribute", strings.Replace(signUp, `"sub":"sub-1"`, `"sub":7`, 1),
			"invalid event: request.userAttributes.sub: expected a string, found a number"},
		{"attributes not an object", strings.Replace(signUp, `"userAttributes":{`, `"userAttributes":["x"],"x":{`, 1),
			"invalid event: request.userAttributes: expected an object, found an array"},
		{"missing userName", strings.Replace(signUp, `"userName":"user-1",`, ``, 1), "invalid event: missing userName"},
		{"missing userPoolId", strings.Replace(signUp, `"userPoolId":"us-east-1_TEST",`, ``, 1), "invalid event: missing userPoolId"},
		{"missing triggerSource", strings.Replace(signUp, `"triggerSource":"PostConfirmation_ConfirmSignUp",`, ``, 1), "invalid event: missing triggerSource"},
		{"triggerSource not a string", strings.Replace(signUp, `"triggerSource":"PostConfirmation_ConfirmSignUp"`, `"triggerSource":5`, 1),
			"invalid event: triggerSource: expected a string, found a number"},
		{"trailing data", signUp + `{}`, "invalid event: unexpected data after the event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fake, logs := newTestHandler(t, "")
			rec, got, err := h.Handle(context.Background(), []byte(tt.payload))
			if err == nil {
				t.Fatalf("Handle(%s) = %s, want an error", tt.name, got)
			}
			var evErr *trigger.EventError
			if !errors.As(err, &evErr) || err.Error() != tt.wantErr {
				t.Errorf("Handle error = %q, want an event error %q", err, tt.wantErr)
			}
			if got != nil || rec.Outcome != "" {
				t.Errorf("Handle returned an event or a record (%+v) with its error", rec)
			}
			if len(fake.calls) != 0 {
				t.Errorf("malformed event made %d Cognito calls", len(fake.calls))
			}
			if !strings.Contains(logs.String(), `"message":"rejected event"`) || len(decisions(t, logs)) != 0 {
				t.Errorf("want one rejected event and no decision logged, got:\n%s", logs.String())
			}
		})
	}
}

// TestLogsCarryNoPersonalData feeds an event full of distinctive personal
// data through every outcome and searches the captured log for it.
func TestLogsCarryNoPersonalData(t *testing.T) {
	secrets := []string{"zelda.quartermaine", "quartermaine-corp.example", "+15550198765", "Zelda Quartermaine", "221B Baker", "1987-06-05"}
	ev := map[string]any{
		"version": "1", "triggerSource": "PostConfirmation_ConfirmSignUp", "region": "us-east-1",
		"userPoolId": "us-east-1_TEST", "userName": "3f1e2d3c-0000-4000-8000-000000000001",
		"callerContext": map[string]any{"clientId": "client-1"},
		"request": map[string]any{
			"userAttributes": map[string]string{
				"sub": "3f1e2d3c-0000-4000-8000-000000000001", "email": "zelda.quartermaine@quartermaine-corp.example",
				"email_verified": "true", "phone_number": "+15550198765", "name": "Zelda Quartermaine",
				"address": "221B Baker Street", "birthdate": "1987-06-05",
			},
			"clientMetadata": map[string]string{"note": "zelda.quartermaine@quartermaine-corp.example"},
		},
		"response": map[string]any{},
	}
	payload, _ := json.Marshal(ev)
	rulesets := map[string]string{
		"ok": `
version: 1
rules:
  - {name: corp, when: {emailDomain: quartermaine-corp.example}, groups: [corp]}
  - {name: phone, when: {attribute: phone_number, startsWith: "+1"}, groups: [us]}
`,
		"failed": `
version: 1
onError: fail
rules:
  - {name: everyone, when: {always: true}, groups: [missing]}
`,
		"passed through": "version: 1\ntriggerSources: [PostConfirmation_ConfirmForgotPassword]\ndefaultGroups: [g]\n",
	}
	for name, src := range rulesets {
		t.Run(name, func(t *testing.T) {
			h, fake, logs := newTestHandler(t, src)
			fake.errFor["missing"] = &types.ResourceNotFoundException{Message: aws.String("Group not found.")}
			_, _ = h.Invoke(context.Background(), payload)
			// And a malformed variant of the same event.
			_, _ = h.Invoke(context.Background(), bytes.Replace(payload, []byte(`"email_verified":"true"`), []byte(`"email_verified":true`), 1))
			if logs.Len() == 0 {
				t.Fatal("nothing was logged")
			}
			for _, s := range secrets {
				if strings.Contains(logs.String(), s) {
					t.Errorf("log contains personal data %q:\n%s", s, logs.String())
				}
			}
		})
	}
}

func TestOversizedInput(t *testing.T) {
	attrs := map[string]string{"sub": "sub-1", "email": "a@example.com", "email_verified": "true"}
	for i := range 5000 {
		attrs[fmt.Sprintf("custom:attr%04d", i)] = strings.Repeat("v", 64)
	}
	attrs["custom:huge"] = strings.Repeat("x", 4<<20)
	payload, _ := json.Marshal(map[string]any{
		"version": "1", "triggerSource": "PostConfirmation_ConfirmSignUp", "userPoolId": "us-east-1_TEST", "userName": "user-1",
		"request": map[string]any{"userAttributes": attrs}, "response": map[string]any{},
	})
	h, fake, _ := newTestHandler(t, `
version: 1
rules:
  - {name: huge, when: {attribute: "custom:huge", matches: "x+y"}, groups: [never]}
  - {name: contains, when: {attribute: "custom:huge", contains: "xy", ignoreCase: true}, groups: [never]}
  - {name: staff, when: {emailDomain: example.com}, groups: [staff]}
`)
	start := time.Now()
	got, err := h.Invoke(context.Background(), payload)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Error("Invoke changed the event")
	}
	if diff := cmp.Diff([]string{"staff"}, fake.groups()); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	// A 4 MiB payload decodes and evaluates in tens of milliseconds, about
	// 2 s under the race detector on a loaded 2-core machine. The bound only
	// has to catch work that grows faster than the input (backtracking, a
	// quadratic scan), which would take minutes at this size.
	if elapsed > 10*time.Second {
		t.Errorf("Invoke on a %d-byte event took %v, want under 10s", len(payload), elapsed)
	}
}

// lambdaEnv is the environment the Lambda runtime gives the function.
var lambdaEnv = map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}

func getenv(extra map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := extra[k]; ok {
			return v
		}
		return lambdaEnv[k]
	}
}

func TestNewFromEnv(t *testing.T) {
	ctx := context.Background()
	t.Run("shipped ruleset loads", func(t *testing.T) {
		h, err := NewFromEnv(ctx, slog.Default(), getenv(nil), os.ReadFile)
		if err != nil {
			t.Fatalf("NewFromEnv: %v", err)
		}
		if len(h.rules.Ruleset(ctx).GroupNames()) == 0 {
			t.Error("embedded ruleset selects no group")
		}
	})
	t.Run("RULES_FILE replaces it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "r.yaml")
		if err := os.WriteFile(path, []byte("version: 1\ndefaultGroups: [only-this]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"RULES_FILE": path}), os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"only-this"}, h.rules.Ruleset(ctx).GroupNames()); diff != "" {
			t.Errorf("GroupNames (-want +got):\n%s", diff)
		}
	})
	t.Run("a bad RULES_FILE lists every problem", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		src := "version: 2\nrules:\n  - name: x\n    when: {nope: 1}\n    groups: [a]\n"
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"RULES_FILE": path}), os.ReadFile)
		if err == nil {
			t.Fatal("NewFromEnv accepted an invalid ruleset")
		}
		msg := err.Error()
		for _, want := range []string{"ruleset " + path + " does not load (2 problems):\n", "\n" + path + ":1:", "\n" + path + ":4:"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
	})
	t.Run("a missing RULES_FILE fails", func(t *testing.T) {
		_, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"RULES_FILE": filepath.Join(t.TempDir(), "absent.yaml")}), os.ReadFile)
		if err == nil || !strings.HasPrefix(err.Error(), "RULES_FILE: ") {
			t.Errorf("NewFromEnv error = %v, want one naming RULES_FILE", err)
		}
	})
	t.Run("AUTOGROUP_VERIFY_USER", func(t *testing.T) {
		for _, tt := range []struct {
			value      string
			wantReader bool
		}{{"", true}, {"true", true}, {"false", false}} {
			h, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"AUTOGROUP_VERIFY_USER": tt.value}), os.ReadFile)
			if err != nil {
				t.Fatalf("AUTOGROUP_VERIFY_USER=%q: NewFromEnv: %v", tt.value, err)
			}
			if got := h.reader != nil; got != tt.wantReader {
				t.Errorf("AUTOGROUP_VERIFY_USER=%q: reads users back = %v, want %v", tt.value, got, tt.wantReader)
			}
		}
		for _, bad := range []string{"yes", "TRUE", "0", " false"} {
			_, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"AUTOGROUP_VERIFY_USER": bad}), os.ReadFile)
			if err == nil || !strings.Contains(err.Error(), "AUTOGROUP_VERIFY_USER") {
				t.Errorf("AUTOGROUP_VERIFY_USER=%q: NewFromEnv error = %v, want one naming the variable", bad, err)
			}
		}
	})
	t.Run("bad tuning", func(t *testing.T) {
		_, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"AUTOGROUP_BUDGET_MS": "soon"}), os.ReadFile)
		if err == nil || !strings.Contains(err.Error(), "AUTOGROUP_BUDGET_MS") {
			t.Errorf("NewFromEnv error = %v, want one naming AUTOGROUP_BUDGET_MS", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		_, err := NewFromEnv(ctx, slog.Default(), getenv(map[string]string{"AWS_ACCESS_KEY_ID": ""}), os.ReadFile)
		if err == nil || !strings.HasPrefix(err.Error(), "aws configuration: ") {
			t.Errorf("NewFromEnv error = %v, want an aws configuration error", err)
		}
	})
}

// TestHandleReturnsRecord checks the record Handle returns for a team's own
// function: the same as the one logged.
func TestHandleReturnsRecord(t *testing.T) {
	h, fake, logs := newTestHandler(t, `
version: 1
onError: continue
rules:
  - {name: staff, when: {emailDomain: example.com}, groups: [staff, missing]}
`)
	fake.errFor["missing"] = &types.ResourceNotFoundException{Message: aws.String("Group not found.")}
	rec, got, err := h.Handle(context.Background(), []byte(signUp))
	if err != nil || string(got) != signUp {
		t.Fatalf("Handle = %q, %v; want the event", got, err)
	}
	want := trigger.Record{
		TriggerSource: "PostConfirmation_ConfirmSignUp", Sub: "sub-1", UserPoolID: "us-east-1_TEST",
		MatchedRules: []string{"staff"}, Groups: []string{"staff", "missing"}, Failed: 1, Outcome: trigger.OutcomeFailedContinued,
	}
	if diff := cmp.Diff(want, rec, cmpopts.IgnoreFields(trigger.Record{}, "Results", "Duration")); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if len(rec.Results) != 2 || rec.Results[0].Kind != membership.KindOK || rec.Results[1].Kind != membership.KindGroupNotFound {
		t.Errorf("record results %+v, want staff ok and missing group_not_found", rec.Results)
	}
	d := decisions(t, logs)
	if len(d) != 1 || d[0]["outcome"] != string(rec.Outcome) || d[0]["durationMs"] != float64(rec.Duration.Microseconds())/1000 {
		t.Errorf("logged %v, want the returned record", d)
	}
}

// rulesSequence answers a different ruleset on each call, as a refreshed
// holder may.
type rulesSequence struct {
	sets  []*rules.Ruleset
	calls int
}

func (r *rulesSequence) Ruleset(context.Context) *rules.Ruleset {
	rs := r.sets[min(r.calls, len(r.sets)-1)]
	r.calls++
	return rs
}

// TestRulesetAskedPerEvent checks that the handler asks for the ruleset on
// every event, so that a refresh takes effect on the next one.
func TestRulesetAskedPerEvent(t *testing.T) {
	var sets []*rules.Ruleset
	for _, g := range []string{"first", "second"} {
		rs, err := rules.Parse([]byte("version: 1\ndefaultGroups: [" + g + "]\n"))
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, rs)
	}
	fake := &fakeCognito{errFor: map[string]error{}}
	h := New(&rulesSequence{sets: sets}, membership.NewAdder(fake, membership.Options{}), nil, slog.New(slog.DiscardHandler))
	for range 2 {
		if _, err := h.Invoke(context.Background(), []byte(signUp)); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"first", "second"}, fake.groups()); diff != "" {
		t.Errorf("groups added (-want +got):\n%s", diff)
	}
}
