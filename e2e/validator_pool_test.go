package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// validatorPackage is the AppConfig validator, which the harness does not
// build: this test builds it as the Makefile does for Lambda, for the host.
const validatorPackage = "./functions/rules-validator"

// The rulesets the validator is sent: one whose groups the pool holds, and
// one that also names a group nobody created.
const (
	poolHeldRules = "version: 1\ndefaultGroups: [members]\nrules:\n  - name: partners\n    when: {emailDomain: partner.example}\n    groups: [partners]\n"
	poolLackRules = poolHeldRules + "  - name: ghosts\n    when: {emailDomain: ghost.example}\n    groups: [ghosts]\n"
)

// buildValidator compiles the validator into a directory of the test.
func buildValidator(t *testing.T, root string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "rules-validator")
	env := supervise.Environ([]string{"GOOS", "GOARCH", "GOWORK"}, "CGO_ENABLED=0", "GOWORK=off")
	if _, err := supervise.Output(ctx, root, env, "go", "build", "-tags", "lambda.norpc", "-o", out, validatorPackage); err != nil {
		t.Fatalf("build %s: %v", validatorPackage, err)
	}
	return out
}

// validatorEvent is what AppConfig sends the validator with version of src.
func validatorEvent(t *testing.T, version, src string) []byte {
	t.Helper()
	ev, err := json.Marshal(rulesource.ValidatorEvent{ApplicationID: "app1", ConfigurationProfileID: "prof1",
		ConfigurationVersion: version, Content: base64.StdEncoding.EncodeToString([]byte(src)), URI: "hosted"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestValidatorChecksPoolGroups runs the rules-validator under
// aws-lambda-rie with AUTOGROUP_USER_POOL_ID naming a pool of cognito-local:
// a version whose groups the pool holds is accepted, one naming a group the
// pool lacks is refused, naming that group and where the ruleset selects it.
func TestValidatorChecksPoolGroups(t *testing.T) {
	env := start(t, harness.Options{})
	build := sharedBuild(t)
	bootstrap := buildValidator(t, build.Root)
	ctx := testContext(t)
	pool, err := env.CreatePoolWithGroups(ctx, []string{"members", "partners"})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := harness.StartFunction(ctx, harness.FunctionOptions{Build: build, Bootstrap: bootstrap, Env: []string{
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + env.CognitoURL,
		"AUTOGROUP_USER_POOL_ID=" + pool.ID,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("validator's log:\n%s", fn.Tail(20))
		}
	}()

	inv, err := fn.Invoke(ctx, validatorEvent(t, "1", poolHeldRules))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Error != nil || string(inv.Response) != "null" {
		t.Errorf("version 1 (groups in the pool): error %v, response %s; want accepted, null", inv.Error, inv.Response)
	}

	inv, err = fn.Invoke(ctx, validatorEvent(t, "2", poolLackRules))
	if err != nil {
		t.Fatal(err)
	}
	want := "ruleset appconfig:app1/prof1 version 2 refused by the check of user pool " + pool.ID + " (1 problem):\n" +
		`group "ghosts" (rule ghosts, 9:14) does not exist in user pool ` + pool.ID +
		": create it (autogroup check-pool --create-missing-groups) before deploying this version"
	if inv.Error == nil || inv.Error.Message != want {
		t.Errorf("version 2 (ghosts missing): error %v, want the message\n%s", inv.Error, want)
	}
	if log := fn.Tail(20); strings.Contains(log, "ghost.example") {
		t.Errorf("the validator logged the content:\n%s", log)
	}

	// More than 20 known groups: the validator reads cognito-local's list
	// of groups (ListGroups) instead of asking for each.
	var many []string
	for i := range 25 {
		many = append(many, fmt.Sprintf("team-%02d", i))
	}
	for _, g := range many[:24] {
		if _, err := env.Cognito.CreateGroup(ctx, &cognitoidentityprovider.CreateGroupInput{UserPoolId: &pool.ID, GroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	manyRules := poolHeldRules + "  - name: teams\n    when: {emailDomain: team.example}\n    groups: [" + strings.Join(many, ", ") + "]\n"
	inv, err = fn.Invoke(ctx, validatorEvent(t, "3", manyRules))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Error == nil || !strings.Contains(inv.Error.Message, `group "team-24" (rule teams, 9:230) does not exist in user pool `+pool.ID) ||
		strings.Count(inv.Error.Message, "does not exist") != 1 {
		t.Errorf("version 3 (26 known groups, team-24 missing): error %v, want team-24 (at 9:230, its place in the list) alone refused", inv.Error)
	}
}
