package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// TestRecordEMF checks that the decision record's line is valid EMF and
// counts what the record says, a failed assignment under onError: continue
// among it.
func TestRecordEMF(t *testing.T) {
	manyRules := trigger.Record{TriggerSource: "PostConfirmation_ConfirmSignUp", Sub: "s", UserPoolID: "p", Outcome: trigger.OutcomeNoGroups}
	for i := range 150 {
		manyRules.MatchedRules = append(manyRules.MatchedRules, fmt.Sprintf("rule-%d", i))
	}
	tests := []struct {
		name        string
		record      trigger.Record
		wantOutcome string
		want        map[string]float64
	}{
		{"failed group under onError continue", fullRecord(), "failed_continued", map[string]float64{
			"SignUps": 1, "GroupsAdded": 1, "AssignmentsFailed": 1, "AssignmentsDeferred": 0, "AssignmentsRetried": 1,
			"Removals": 0, "RulesMatched": 1, "Duration": 12.345, "RulesMatched.staff": 1}},
		{"user not read back", readFailed(), "failed", map[string]float64{
			"SignUps": 1, "GroupsAdded": 0, "AssignmentsFailed": 1, "AssignmentsDeferred": 0, "AssignmentsRetried": 0,
			"Removals": 0, "RulesMatched": 0, "Duration": 3}},
		{"deferred to the retry queue", deferredRecord(), "deferred", map[string]float64{
			"SignUps": 1, "GroupsAdded": 0, "AssignmentsFailed": 0, "AssignmentsDeferred": 1, "AssignmentsRetried": 0,
			"Removals": 0, "RulesMatched": 0, "Duration": 5}},
		{"send to the retry queue failed", sendFailedRecord(), "failed", map[string]float64{
			"SignUps": 1, "GroupsAdded": 0, "AssignmentsFailed": 1, "AssignmentsDeferred": 0, "AssignmentsRetried": 0,
			"Removals": 0, "RulesMatched": 0, "Duration": 5}},
		{"a removal by the token function", removalRecord(), "healed", map[string]float64{
			"SignUps": 1, "GroupsAdded": 0, "AssignmentsFailed": 0, "AssignmentsDeferred": 0, "AssignmentsRetried": 0,
			"Removals": 1, "RulesMatched": 0, "Duration": 2}},
		{"passed through", trigger.Record{TriggerSource: "PostConfirmation_ConfirmForgotPassword", Sub: "s", Outcome: trigger.OutcomePassedThrough, Duration: 20 * time.Microsecond},
			"passed_through", map[string]float64{"SignUps": 1, "GroupsAdded": 0, "AssignmentsFailed": 0, "AssignmentsDeferred": 0,
				"AssignmentsRetried": 0, "Removals": 0, "RulesMatched": 0, "Duration": 0.02}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().UnixMilli()
			line := logLine(t, func(l *slog.Logger) { tt.record.Log(context.Background(), l) })
			after := time.Now().UnixMilli()
			got, err := trigger.CheckEMF([]byte(line))
			if err != nil {
				t.Fatalf("CheckEMF(%s): %v", line, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
			var m struct {
				AWS struct {
					Timestamp         int64
					CloudWatchMetrics []struct{ Namespace string }
				} `json:"_aws"`
				Function, Outcome, Sub string
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			target := trigger.EnvMetricsTarget()
			if m.Function != target.Function || m.Outcome != tt.wantOutcome || m.AWS.CloudWatchMetrics[0].Namespace != target.Namespace {
				t.Errorf("dimensions Function %q, Outcome %q, namespace %q; want %q, %q, %q",
					m.Function, m.Outcome, m.AWS.CloudWatchMetrics[0].Namespace, target.Function, tt.wantOutcome, target.Namespace)
			}
			if m.AWS.Timestamp < before || m.AWS.Timestamp > after {
				t.Errorf("Timestamp %d, want between %d and %d", m.AWS.Timestamp, before, after)
			}
			if m.Sub != tt.record.Sub {
				t.Errorf("sub %q, want the record's %q: the EMF members replaced a field", m.Sub, tt.record.Sub)
			}
		})
	}

	t.Run("150 rules matched", func(t *testing.T) {
		line := logLine(t, func(l *slog.Logger) { manyRules.Log(context.Background(), l) })
		got, err := trigger.CheckEMF([]byte(line))
		if err != nil {
			t.Fatalf("CheckEMF: %v", err)
		}
		if len(got) != trigger.MaxMetrics || got["RulesMatched"] != 150 || got["RulesMatched.rule-0"] != 1 {
			t.Errorf("%d metrics, RulesMatched %v, RulesMatched.rule-0 %v; want %d, 150, 1",
				len(got), got["RulesMatched"], got["RulesMatched.rule-0"], trigger.MaxMetrics)
		}
	})
}

// TestMetricsOnlyNames checks that the metrics name rules, never a user:
// the only members the EMF part adds are its metrics and dimensions.
func TestMetricsOnlyNames(t *testing.T) {
	r := fullRecord()
	emf := r.Metrics(trigger.MetricsTarget{Namespace: "N", Function: "f"}, time.UnixMilli(1))
	for _, a := range emf.Attrs() {
		if strings.Contains(a.Value.String(), r.Sub) {
			t.Errorf("EMF member %s carries the user's sub: %s", a.Key, a.Value)
		}
	}
}

func TestCheckEMFRejects(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"no _aws", `{"message":"decision"}`, "no _aws member"},
		{"_aws as a string", `{"_aws":"{\"Timestamp\":1}"}`, "_aws is not an EMF object"},
		{"metric absent", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Function"]],"Metrics":[{"Name":"X"}]}]},"Function":"f"}`,
			`metric "X" is not a number member`},
		{"metric a string", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"X"}]}]},"X":"1"}`,
			`metric "X" is not a number member`},
		{"dimension absent", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Function"]],"Metrics":[{"Name":"X"}]}]},"X":1}`,
			`dimension "Function"`},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[]}]}}`, "no Timestamp"},
		{"no namespace", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[],"Metrics":[]}]}}`, "no Namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trigger.CheckEMF([]byte(tt.line))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckEMF(%s) = %v, want an error with %q", tt.line, err, tt.want)
			}
		})
	}
}

func TestMetricsFromEnv(t *testing.T) {
	tests := []struct {
		name, namespace, function string
		want                      trigger.MetricsTarget
		wantErr                   bool
	}{
		{"defaults", "", "", trigger.MetricsTarget{Namespace: "CognitoAutogroup", Function: "unknown"}, false},
		{"set", "Acme/Auth", "stack-PostConfirmation-x", trigger.MetricsTarget{Namespace: "Acme/Auth", Function: "stack-PostConfirmation-x"}, false},
		{"reserved", "AWS/Lambda", "f", trigger.MetricsTarget{Namespace: "CognitoAutogroup", Function: "f"}, true},
		{"space", "my metrics", "f", trigger.MetricsTarget{Namespace: "CognitoAutogroup", Function: "f"}, true},
		{"too long", strings.Repeat("a", 256), "f", trigger.MetricsTarget{Namespace: "CognitoAutogroup", Function: "f"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{trigger.MetricsNamespaceEnv: tt.namespace, "AWS_LAMBDA_FUNCTION_NAME": tt.function}
			got, err := trigger.MetricsFromEnv(func(k string) string { return env[k] })
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("MetricsFromEnv = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), trigger.MetricsNamespaceEnv) {
				t.Errorf("error %q does not name %s", err, trigger.MetricsNamespaceEnv)
			}
		})
	}
}

// removalRecord is a token-function record that removed the user from one
// managed group.
func removalRecord() trigger.Record {
	r := trigger.Record{TriggerSource: "TokenGeneration_Authentication", Sub: "s", UserPoolID: "p", Outcome: trigger.OutcomeHealed,
		Duration: 2 * time.Millisecond}
	r.AddRemovals([]membership.Result{{Group: "old", Kind: membership.KindOK, Attempts: 1, Duration: time.Millisecond}})
	return r
}
