package autogroup_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The AppConfig block of template.yaml (RulesSource: AppConfig): what the
// functions' RULES_SOURCE names, the validator, the rollback monitor, and
// the Data API actions on exactly one profile.
const (
	appConfigCondition = "UseAppConfig"
	// profileArn is the ARN of the stack's configuration profile in its
	// environment, as the Data API actions are authorised on it.
	profileArn = "arn:${AWS::Partition}:appconfig:${AWS::Region}:${AWS::AccountId}:application/${RulesApplication}/environment/${RulesEnvironment}/configuration/${RulesProfile}"
	// rulesSourceValue is what RULES_SOURCE says under the condition: the
	// names of the application, environment and profile.
	rulesSourceValue = "appconfig:${AWS::StackName}-rules/live/rules"
)

// appConfigValidators returns the functions named as the LAMBDA validator
// of a configuration profile, sorted.
func (t *template) appConfigValidators() []string {
	var out []string
	for _, id := range t.ofType("AWS::AppConfig::ConfigurationProfile") {
		for _, v := range asList(get(t.resources[id], "Properties", "Validators")) {
			if get(v, "Type") == "LAMBDA" {
				out = append(out, references(get(v, "Content"))...)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// onlyOf returns the id of the one resource of type typ, or "" with a
// problem added.
func (t *template) onlyOf(typ string, add func(string, ...any)) string {
	ids := t.ofType(typ)
	if len(ids) != 1 {
		add("%d resources of type %s (%v), want 1", len(ids), typ, ids)
		return ""
	}
	return ids[0]
}

// appConfigProblems checks the AppConfig block and returns every problem.
func appConfigProblems(tb testing.TB, t *template) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	param := mapOf(t.parameters["RulesSource"])
	if param["Default"] != "Embedded" || !cmp.Equal(param["AllowedValues"], []any{"Embedded", "AppConfig"}) {
		add("parameter RulesSource = %#v, want Default Embedded and AllowedValues [Embedded, AppConfig]", param)
	}
	if want := map[string]any{"Fn::Equals": []any{ref("RulesSource"), "AppConfig"}}; !cmp.Equal(t.conditions[appConfigCondition], want) {
		add("condition %s = %#v, want %#v", appConfigCondition, t.conditions[appConfigCondition], want)
	}

	app := t.onlyOf("AWS::AppConfig::Application", add)
	env := t.onlyOf("AWS::AppConfig::Environment", add)
	profile := t.onlyOf("AWS::AppConfig::ConfigurationProfile", add)
	t.onlyOf("AWS::AppConfig::DeploymentStrategy", add)
	for id, r := range t.resources {
		if strings.HasPrefix(fmt.Sprint(r["Type"]), "AWS::AppConfig::") && r["Condition"] != appConfigCondition {
			add("%s has Condition %#v, want %s: with RulesSource Embedded the stack creates no AppConfig resource", id, r["Condition"], appConfigCondition)
		}
	}
	// RULES_SOURCE names the resources by name (no Ref: no cycle).
	names := map[string]any{app: map[string]any{"Fn::Sub": "${AWS::StackName}-rules"}, env: "live", profile: "rules"}
	for id, want := range names {
		if got := get(t.resources[id], "Properties", "Name"); id != "" && !cmp.Equal(got, want) {
			add("%s Name = %#v, want %#v (the name RULES_SOURCE gives)", id, got, want)
		}
	}
	if p := mapOf(get(t.resources[profile], "Properties")); p["LocationUri"] != "hosted" {
		add("%s LocationUri = %#v, want hosted", profile, p["LocationUri"])
	}

	// The validator: one LAMBDA validator, a function of the template that
	// AppConfig of this account alone may invoke.
	validators := t.appConfigValidators()
	if len(validators) != 1 || !slices.Contains(t.functions(tb), validators[0]) {
		add("LAMBDA validators %v, want one function of the template", validators)
	} else {
		permitted := false
		for _, id := range t.ofType("AWS::Lambda::Permission") {
			p := mapOf(t.resources[id]["Properties"])
			if p["Principal"] != "appconfig.amazonaws.com" {
				continue
			}
			if !cmp.Equal(references(p["FunctionName"]), []string{validators[0]}) {
				add("%s lets AppConfig invoke %#v, want only the validator %s", id, p["FunctionName"], validators[0])
				continue
			}
			permitted = true
			if !cmp.Equal(p["SourceAccount"], ref("AWS::AccountId")) || !slices.Contains(references(p["SourceArn"]), app) {
				add("%s SourceAccount %#v SourceArn %#v, want this account and the stack's application", id, p["SourceAccount"], p["SourceArn"])
			}
			if t.resources[id]["Condition"] != appConfigCondition {
				add("%s has no Condition %s", id, appConfigCondition)
			}
		}
		if !permitted {
			add("no AWS::Lambda::Permission lets appconfig.amazonaws.com invoke the validator %s", validators[0])
		}
	}

	if len(validators) == 1 {
		problems = append(problems, validatorPoolProblems(tb, t, validators[0])...)
	}

	// The rollback monitor: the sign-up function's Errors alarm, read with
	// a role that AppConfig alone may assume and that may only describe it.
	monitors := asList(get(t.resources[env], "Properties", "Monitors"))
	if len(monitors) != 1 {
		add("%s Monitors = %#v, want one", env, monitors)
	} else {
		alarm := references(get(monitors[0], "AlarmArn"))
		role := references(get(monitors[0], "AlarmRoleArn"))
		if len(alarm) != 1 || !cmp.Equal(get(t.resources[alarm[0]], "Properties", "Dimensions"),
			[]any{map[string]any{"Name": "FunctionName", "Value": ref("PostConfirmationFunction")}}) {
			add("%s monitors %v, want the PostConfirmationFunction Errors alarm", env, alarm)
		}
		if len(role) != 1 || t.resources[role[0]]["Type"] != "AWS::IAM::Role" {
			add("%s AlarmRoleArn %v, want a role of the template", env, role)
		} else {
			rp := mapOf(t.resources[role[0]]["Properties"])
			trust := asList(get(rp, "AssumeRolePolicyDocument", "Statement"))
			if len(trust) != 1 || !cmp.Equal(get(trust[0], "Principal"), map[string]any{"Service": "appconfig.amazonaws.com"}) {
				add("%s trust %#v, want appconfig.amazonaws.com alone", role[0], trust)
			}
			var stmts []any
			for _, pol := range asList(rp["Policies"]) {
				stmts = append(stmts, asList(get(pol, "PolicyDocument", "Statement"))...)
			}
			if len(alarm) == 1 && (len(stmts) != 1 || get(stmts[0], "Action") != "cloudwatch:DescribeAlarms" ||
				!cmp.Equal(get(stmts[0], "Resource"), map[string]any{"Fn::GetAtt": []any{alarm[0], "Arn"}})) {
				add("%s statements %#v, want cloudwatch:DescribeAlarms on the monitored alarm only", role[0], stmts)
			}
		}
	}

	// Every function but the validator reads the profile: RULES_SOURCE under
	// the condition, and the two Data API actions on exactly its ARN, in a
	// separate AWS::IAM::Policy on its role.
	readers := map[string]bool{} // roles granted the Data API actions
	for _, s := range t.statements() {
		var appconfig []string
		for _, a := range asList(s.body["Action"]) {
			if str, _ := a.(string); strings.HasPrefix(strings.ToLower(str), "appconfig:") || str == "*" {
				appconfig = append(appconfig, str)
			}
		}
		if len(appconfig) == 0 && s.body["NotAction"] == nil {
			continue
		}
		holder := t.resources[s.resource]
		sort.Strings(appconfig)
		if holder["Type"] != "AWS::IAM::Policy" || !t.conditionImplies(holder["Condition"], appConfigCondition) || s.body["NotAction"] != nil ||
			!slices.Equal(appconfig, []string{"appconfig:GetLatestConfiguration", "appconfig:StartConfigurationSession"}) ||
			!cmp.Equal(asList(s.body["Resource"]), []any{map[string]any{"Fn::Sub": profileArn}}) {
			add("%s grants %v on %#v, want exactly StartConfigurationSession and GetLatestConfiguration on the profile (%s), in an AWS::IAM::Policy under %s",
				s.resource, appconfig, s.body["Resource"], profileArn, appConfigCondition)
			continue
		}
		for _, r := range asList(get(holder, "Properties", "Roles")) {
			name, _ := get(r, "Ref").(string)
			readers[name] = true
		}
	}
	wantSource := map[string]any{"Fn::If": []any{appConfigCondition, map[string]any{"Fn::Sub": rulesSourceValue}, ""}}
	for _, fn := range t.functions(tb) {
		if slices.Contains(validators, fn) {
			if readers[roleOf(t, fn)] {
				add("the validator %s may read the profile: it checks what it is sent", fn)
			}
			continue
		}
		vars := mapOf(get(t.resources[fn], "Properties", "Environment", "Variables"))
		if !cmp.Equal(vars["RULES_SOURCE"], wantSource) {
			add("%s RULES_SOURCE = %#v, want %#v", fn, vars["RULES_SOURCE"], wantSource)
		}
		if v, ok := vars["AWS_ENDPOINT_URL_APPCONFIGDATA"]; !ok || v != "" {
			add("%s AWS_ENDPOINT_URL_APPCONFIGDATA = %#v, want it declared empty", fn, v)
		}
		if !readers[roleOf(t, fn)] {
			add("%s's role %s may not read the profile (StartConfigurationSession, GetLatestConfiguration)", fn, roleOf(t, fn))
		}
	}
	sort.Strings(problems)
	return problems
}

func TestRulesFromAppConfigTemplate(t *testing.T) {
	if p := appConfigProblems(t, loadTemplate(t)); len(p) != 0 {
		t.Errorf("AppConfig block:\n%s", strings.Join(p, "\n"))
	}
	// The check must be able to fail.
	policy := func(tmpl *template) map[string]any {
		return mapOf(asList(get(tmpl.resources["RulesReadPolicy"], "Properties", "PolicyDocument", "Statement"))[0])
	}
	validatorPolicy := func(tmpl *template) map[string]any {
		return mapOf(asList(get(tmpl.resources["RulesValidatorPoolPolicy"], "Properties", "PolicyDocument", "Statement"))[0])
	}
	for _, tc := range []struct {
		name   string
		mutate func(tmpl *template)
		want   string
	}{
		{"Data API actions on every profile", func(tmpl *template) { policy(tmpl)["Resource"] = "*" }, "RulesReadPolicy grants"},
		{"appconfig:*", func(tmpl *template) { policy(tmpl)["Action"] = "appconfig:*" }, "RulesReadPolicy grants"},
		{"no RULES_SOURCE", func(tmpl *template) {
			delete(mapOf(get(tmpl.resources["PostConfirmationFunction"], "Properties", "Environment", "Variables")), "RULES_SOURCE")
		}, "PostConfirmationFunction RULES_SOURCE"},
		{"profile without its condition", func(tmpl *template) { delete(tmpl.resources["RulesProfile"], "Condition") }, "RulesProfile has Condition"},
		{"no invoke permission", func(tmpl *template) { delete(tmpl.resources, "RulesValidatorInvokePermission") }, "no AWS::Lambda::Permission"},
		{"no monitor", func(tmpl *template) {
			delete(mapOf(tmpl.resources["RulesEnvironment"]["Properties"]), "Monitors")
		}, "Monitors"},
		{"validator without the pool", func(tmpl *template) {
			delete(mapOf(get(tmpl.resources["RulesValidatorFunction"], "Properties", "Environment", "Variables")), "AUTOGROUP_USER_POOL_ID")
		}, "RulesValidatorFunction AUTOGROUP_USER_POOL_ID"},
		{"GetGroup on every pool", func(tmpl *template) { validatorPolicy(tmpl)["Resource"] = "*" }, "grants GetGroup on"},
		{"cognito-idp:Get*", func(tmpl *template) { validatorPolicy(tmpl)["Action"] = "cognito-idp:Get*" }, "want Allow exactly cognito-idp:GetGroup and cognito-idp:ListGroups"},
		{"pool policy in both modes", func(tmpl *template) { delete(tmpl.resources["RulesValidatorPoolPolicy"], "Condition") }, "want an AWS::IAM::Policy under UseAppConfig"},
		{"alarm role reads every alarm", func(tmpl *template) {
			pol := asList(get(tmpl.resources["RulesAlarmRole"], "Properties", "Policies"))
			mapOf(asList(get(pol[0], "PolicyDocument", "Statement"))[0])["Resource"] = "*"
		}, "cloudwatch:DescribeAlarms on the monitored alarm only"},
	} {
		t.Run("detects "+tc.name, func(t *testing.T) {
			mutated := loadTemplate(t)
			tc.mutate(mutated)
			p := appConfigProblems(t, mutated)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("appConfigProblems = %q, want a problem containing %q", p, tc.want)
			}
		})
	}
}

// validatorPoolProblems checks that the validator fn checks a version's
// groups in the stack's pool: AUTOGROUP_USER_POOL_ID names the pool in
// either mode, and its only Cognito grant is exactly cognito-idp:GetGroup
// and cognito-idp:ListGroups on exactly that pool's ARN, in an
// AWS::IAM::Policy under UseAppConfig.
func validatorPoolProblems(tb testing.TB, t *template, fn string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	poolID, cond := t.pool(tb)
	vars := mapOf(get(t.resources[fn], "Properties", "Environment", "Variables"))
	if want := map[string]any{"Fn::If": []any{cond, ref(poolID), ref("ExistingUserPoolId")}}; !cmp.Equal(vars["AUTOGROUP_USER_POOL_ID"], want) {
		add("%s AUTOGROUP_USER_POOL_ID = %#v, want %#v (the pool in either mode)", fn, vars["AUTOGROUP_USER_POOL_ID"], want)
	}
	role := roleOf(t, fn)
	var grants []statement
	for _, s := range t.statements() {
		holder := t.resources[s.resource]
		if grantsCognito(s.body) && (s.resource == fn || s.resource == role ||
			slices.ContainsFunc(asList(get(holder, "Properties", "Roles")), func(r any) bool { return cmp.Equal(r, ref(role)) })) {
			grants = append(grants, s)
		}
	}
	if len(grants) != 1 {
		add("%s's role %s has %d Cognito statements, want one granting cognito-idp:GetGroup and cognito-idp:ListGroups", fn, role, len(grants))
		return problems
	}
	s := grants[0]
	holder := t.resources[s.resource]
	if holder["Type"] != "AWS::IAM::Policy" || holder["Condition"] != appConfigCondition {
		add("%s (%v) grants the validator Cognito access with Condition %#v, want an AWS::IAM::Policy under %s", s.resource, holder["Type"], holder["Condition"], appConfigCondition)
	}
	if a := asList(s.body["Action"]); s.body["Effect"] != "Allow" || !cmp.Equal(a, []any{"cognito-idp:GetGroup", "cognito-idp:ListGroups"}) || s.body["NotAction"] != nil {
		add("%s grants %s %#v, want Allow exactly cognito-idp:GetGroup and cognito-idp:ListGroups", s.resource, s.body["Effect"], s.body["Action"])
	}
	if r := asList(s.body["Resource"]); !cmp.Equal(r, []any{poolArn(poolID, cond)}) || s.body["NotResource"] != nil {
		add("%s grants GetGroup on %#v, want exactly the pool's ARN %#v", s.resource, r, poolArn(poolID, cond))
	}
	return problems
}
