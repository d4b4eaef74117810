package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// TestDecisionIsEMF checks that the decision record the function writes
// under aws-lambda-rie is valid Embedded Metric Format in the configured
// namespace, and that it counts the failed assignment of a sign-up under
// onError: continue, which Lambda's Errors metric does not see.
func TestDecisionIsEMF(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesFile, []byte(strings.Replace(missingGroupRules, "%s", "continue", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := start(t, harness.Options{RulesFile: rulesFile, FunctionEnv: []string{trigger.MetricsNamespaceEnv + "=E2E/Autogroup"}})
	ctx := testContext(t)
	pool, err := env.CreatePoolWithGroups(ctx, []string{"staff", "customers"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pool.SignUp(ctx, harness.User{Email: "emf.user@example.com", EmailVerified: true}, harness.ConfirmSignUp)
	if err != nil {
		t.Fatal(err)
	}
	inv := invocationOf(t, env, sub, "PostConfirmation_ConfirmSignUp")
	requireReturnedEvent(t, inv)
	d := requireDecision(t, env, inv, "failed_continued")

	line, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := trigger.CheckEMF(line)
	if err != nil {
		t.Fatalf("decision record is not valid EMF: %v\n%s", err, line)
	}
	if metrics["AssignmentsFailed"] != 1 || metrics["GroupsAdded"] != 1 || metrics["SignUps"] != 1 {
		t.Errorf("AssignmentsFailed %v, GroupsAdded %v, SignUps %v; want 1, 1, 1 (metrics %v)",
			metrics["AssignmentsFailed"], metrics["GroupsAdded"], metrics["SignUps"], metrics)
	}
	aws, _ := d["_aws"].(map[string]any)
	directives, _ := aws["CloudWatchMetrics"].([]any)
	for _, dir := range directives {
		if ns, _ := dir.(map[string]any)["Namespace"].(string); ns != "E2E/Autogroup" {
			t.Errorf("namespace %q, want E2E/Autogroup from %s", ns, trigger.MetricsNamespaceEnv)
		}
	}
	if d.String("Function") == "" || d.String("Outcome") != "failed_continued" {
		t.Errorf("dimensions Function %q, Outcome %q; want the function's name and failed_continued", d.String("Function"), d.String("Outcome"))
	}
	if strings.Contains(string(line), "emf.user@example.com") {
		t.Errorf("decision record carries the email address: %s", line)
	}
}
