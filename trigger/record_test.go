package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// logLine logs with a JSON handler as the function's logger does and
// returns the line with its time removed.
func logLine(t *testing.T, log func(*slog.Logger)) string {
	t.Helper()
	var buf bytes.Buffer
	log(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return lambdacontext.ReplaceAttr(groups, a)
	}})))
	return strings.TrimSpace(buf.String())
}

func fullRecord() trigger.Record {
	r := trigger.Record{
		TriggerSource:  "PostConfirmation_ConfirmSignUp",
		Sub:            "sub-1",
		UserPoolID:     "us-east-1_TEST",
		Verified:       true,
		MatchedRules:   []string{"staff"},
		DefaultApplied: false,
		Groups:         []string{"staff", "missing"},
		Outcome:        trigger.OutcomeFailedContinued,
		Duration:       12345 * time.Microsecond,
	}
	r.SetReads(membership.Read{Op: membership.OpGetUser, Kind: membership.KindOK, Attempts: 1, Duration: 700 * time.Microsecond})
	r.SetResults([]membership.Result{
		{Group: "staff", Kind: membership.KindOK, Attempts: 2, Duration: 1500 * time.Microsecond},
		{Group: "missing", Kind: membership.KindGroupNotFound, Attempts: 1, Duration: 800 * time.Microsecond,
			Err: &membership.AddError{Group: "missing", PoolID: "us-east-1_TEST", Kind: membership.KindGroupNotFound, Attempts: 1, Err: errors.New("Group not found.")}},
	})
	return r
}

// readFailed is the record of an event whose user Cognito does not know.
func readFailed() trigger.Record {
	r := trigger.Record{TriggerSource: "PostConfirmation_ConfirmSignUp", Sub: "s", UserPoolID: "p", Verified: true,
		Outcome: trigger.OutcomeFailed, Duration: 3 * time.Millisecond}
	r.SetReads(membership.Read{Op: membership.OpGetUser, Kind: membership.KindUserNotFound, Attempts: 1, Duration: 2 * time.Millisecond,
		Err: &membership.ReadError{Op: membership.OpGetUser, PoolID: "p", Kind: membership.KindUserNotFound, Attempts: 1, Err: errors.New("User does not exist.")}})
	return r
}

// throttledRecord is the record of a sign-up whose one group was throttled.
func throttledRecord() trigger.Record {
	r := trigger.Record{TriggerSource: "PostConfirmation_ConfirmSignUp", Sub: "s", UserPoolID: "p", Verified: true,
		DefaultApplied: true, Groups: []string{"staff"}, Duration: 5 * time.Millisecond}
	r.SetResults([]membership.Result{{Group: "staff", Kind: membership.KindThrottled, Attempts: 1, Duration: 4 * time.Millisecond,
		Err: &membership.AddError{Group: "staff", PoolID: "p", Kind: membership.KindThrottled, Attempts: 1, Err: errors.New("Too many requests.")}}})
	return r
}

// deferredRecord is throttledRecord with the group put on the retry queue.
func deferredRecord() trigger.Record {
	r := throttledRecord()
	r.Deferred, r.RetryMessageID, r.Outcome = []string{"staff"}, "m-1", trigger.OutcomeDeferred
	return r
}

// sendFailedRecord is throttledRecord whose send to the retry queue timed
// out, with onError: fail.
func sendFailedRecord() trigger.Record {
	r := throttledRecord()
	r.SendError, r.Outcome = string(membership.KindTimeout), trigger.OutcomeFailed
	return r
}

// TestRecordLogLine pins the decision record's log line: the fields, their
// order and types, [] for empty lists, and the level.
func TestRecordLogLine(t *testing.T) {
	tests := []struct {
		name   string
		record trigger.Record
		want   string
	}{
		{"failed group", fullRecord(), `{"level":"ERROR","message":"decision","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"sub-1",` +
			`"userPoolId":"us-east-1_TEST","verified":true,"reads":[{"op":"AdminGetUser","kind":"ok","attempts":1,"ms":0.7}],` +
			`"matchedRules":["staff"],"defaultApplied":false,"groups":["staff","missing"],` +
			`"results":[{"group":"staff","kind":"ok","attempts":2,"ms":1.5},{"group":"missing","kind":"group_not_found","attempts":1,"ms":0.8,` +
			`"error":"add user to group \"missing\": group does not exist in user pool us-east-1_TEST (Group not found.)"}],` +
			`"failed":1,"outcome":"failed_continued","durationMs":12.345}`},
		{"no groups", trigger.Record{TriggerSource: "PostConfirmation_ConfirmSignUp", Sub: "s", UserPoolID: "p", Outcome: trigger.OutcomeNoGroups, Duration: time.Millisecond},
			`{"level":"INFO","message":"decision","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"s","userPoolId":"p",` +
				`"verified":false,"reads":[],"matchedRules":[],"defaultApplied":false,"groups":[],"results":[],"failed":0,"outcome":"no_groups","durationMs":1}`},
		{"versioned ruleset", trigger.Record{TriggerSource: "PostConfirmation_ConfirmSignUp", Sub: "s", UserPoolID: "p", RulesVersion: "4", Outcome: trigger.OutcomeNoGroups, Duration: time.Millisecond},
			`{"level":"INFO","message":"decision","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"s","userPoolId":"p","rulesVersion":"4",` +
				`"verified":false,"reads":[],"matchedRules":[],"defaultApplied":false,"groups":[],"results":[],"failed":0,"outcome":"no_groups","durationMs":1}`},
		{"failed read", readFailed(),
			`{"level":"ERROR","message":"decision","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"s","userPoolId":"p",` +
				`"verified":true,"reads":[{"op":"AdminGetUser","kind":"user_not_found","attempts":1,"ms":2,` +
				`"error":"read user (AdminGetUser): user does not exist in user pool p (User does not exist.)"}],` +
				`"matchedRules":[],"defaultApplied":false,"groups":[],"results":[],"failed":0,"outcome":"failed","durationMs":3}`},
		{"deferred", deferredRecord(), `{"level":"WARN","message":"decision","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"s",` +
			`"userPoolId":"p","verified":true,"reads":[],"matchedRules":[],"defaultApplied":true,"groups":["staff"],` +
			`"results":[{"group":"staff","kind":"throttled","attempts":1,"ms":4,"error":"add user to group \"staff\": throttled by Cognito (TooManyRequestsException) after 1 attempt in user pool p"}],` +
			`"failed":1,"deferred":["staff"],"retryMessageId":"m-1","outcome":"deferred","durationMs":5}`},
		{"send failed", sendFailedRecord(), `{"level":"ERROR","message":"decision","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"s",` +
			`"userPoolId":"p","verified":true,"reads":[],"matchedRules":[],"defaultApplied":true,"groups":["staff"],` +
			`"results":[{"group":"staff","kind":"throttled","attempts":1,"ms":4,"error":"add user to group \"staff\": throttled by Cognito (TooManyRequestsException) after 1 attempt in user pool p"}],` +
			`"failed":1,"sendError":"timed_out","outcome":"failed","durationMs":5}`},
		{"passed through", trigger.Record{TriggerSource: "PostConfirmation_ConfirmForgotPassword", Sub: "s", UserPoolID: "p", Outcome: trigger.OutcomePassedThrough, Duration: 20 * time.Microsecond},
			`{"level":"INFO","message":"decision","triggerSource":"PostConfirmation_ConfirmForgotPassword","sub":"s","outcome":"passed_through","durationMs":0.02}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := logLine(t, func(l *slog.Logger) { tt.record.Log(context.Background(), l) })
			// The record's own fields come first and unchanged; the EMF
			// members follow (TestRecordEMF checks them).
			got, _, ok := strings.Cut(line, `,"_aws":`)
			if !ok {
				t.Fatalf("log line has no _aws member: %s", line)
			}
			if diff := cmp.Diff(tt.want, got+"}"); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogRejected(t *testing.T) {
	err := errors.New("invalid event: not a JSON object")
	got := logLine(t, func(l *slog.Logger) { trigger.LogRejected(context.Background(), l, err, 42, nil) })
	if !strings.Contains(got, `"level":"ERROR"`) || !strings.Contains(got, `"rejected event","error":"invalid event: not a JSON object","bytes":42}`) {
		t.Errorf("undecoded event logged as %s", got)
	}
	ev := &trigger.Event{TriggerSource: "PostConfirmation_ConfirmSignUp", UserAttributes: map[string]string{"sub": "sub-1", "email": "a@example.com"}}
	got = logLine(t, func(l *slog.Logger) { trigger.LogRejected(context.Background(), l, err, 42, ev) })
	if !strings.Contains(got, `"rejected event","error":"invalid event: not a JSON object","triggerSource":"PostConfirmation_ConfirmSignUp","sub":"sub-1"}`) {
		t.Errorf("decoded event logged as %s", got)
	}
	if strings.Contains(got, "a@example.com") {
		t.Errorf("rejected event log carries an attribute value: %s", got)
	}
}

// TestRecordFieldsDocumented checks that the table under "## The decision
// record" in docs/operations.md lists exactly the fields of the log line,
// and that its results row names every field of a result.
func TestRecordFieldsDocumented(t *testing.T) {
	const doc, heading = "../docs/operations.md", "## The decision record"
	src, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(src), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no heading %q", doc, heading)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	rows := map[string]string{}
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		rest, ok := strings.CutPrefix(line, "| `")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "`")
		documented = append(documented, name)
		rows[name] = line
	}

	var logged []string
	versioned := fullRecord()
	versioned.RulesVersion = "3" // logged only when set
	for i, r := range []trigger.Record{fullRecord(), deferredRecord(), sendFailedRecord(), versioned} {
		attrs := r.Attrs()
		if i == 0 {
			attrs = append(attrs, r.Metrics(trigger.MetricsTarget{Namespace: "N", Function: "f"}, time.Now()).Attrs()...)
		}
		for _, a := range attrs {
			key := a.Key
			if strings.HasPrefix(key, trigger.RuleMetricPrefix) {
				key = trigger.RuleMetricPrefix + "<rule>"
			}
			logged = append(logged, key)
		}
	}
	slices.Sort(logged)
	logged = slices.Compact(logged)
	slices.Sort(documented)
	if diff := cmp.Diff(logged, documented); diff != "" {
		t.Errorf("fields of the decision record (-logged +documented in %s):\n%s", doc, diff)
	}

	for row, rt := range map[string]reflect.Type{"results": reflect.TypeFor[trigger.GroupResult](), "reads": reflect.TypeFor[trigger.ReadResult]()} {
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if !strings.Contains(rows[row], "`"+name+"`") {
				t.Errorf("the %s row of %s does not name the field `%s`", row, doc, name)
			}
		}
	}
}

func TestSetResults(t *testing.T) {
	r := fullRecord()
	if r.Failed != 1 || len(r.Results) != 2 || r.Level() != slog.LevelError {
		t.Errorf("SetResults: Failed %d, %d results, level %v; want 1, 2, ERROR", r.Failed, len(r.Results), r.Level())
	}
	r.SetResults([]membership.Result{{Group: "staff", Kind: membership.KindOK, Attempts: 1}})
	if r.Failed != 0 || r.Level() != slog.LevelInfo {
		t.Errorf("SetResults again: Failed %d, level %v; want 0, INFO", r.Failed, r.Level())
	}
	b, err := json.Marshal(r.Results)
	if err != nil || strings.Contains(string(b), `"error"`) {
		t.Errorf("a result without error marshals as %s (%v), want no error field", b, err)
	}
}
