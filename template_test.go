// The tests in this file check template.yaml, the SAM application, for the
// properties a plain `go test` can see without cfn-lint or AWS: the build and
// runtime settings, least privilege (Cognito actions and logs), no dependency
// cycle, and a group in the user pool for every group the shipped ruleset can
// select.
package autogroup_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

const (
	templateFile = "template.yaml"
	rulesFile    = autogroup.ShippedRulesPath

	// existingPoolArn is the ARN of the pool named by the ExistingUserPoolId parameter.
	existingPoolArn = "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${ExistingUserPoolId}"
)

// cognitoActions is least privilege written down: the Cognito actions each
// function's role is granted, on the one pool, and nothing more. A function
// without an entry may be granted no Cognito action; a new function that
// needs one gets an entry here.
var cognitoActions = map[string][]string{
	// AdminGetUser reads the user back before deciding (AUTOGROUP_VERIFY_USER);
	// AdminListGroupsForUser reads the user's groups for memberOf.
	"PostConfirmationFunction": {"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"},
	// The retry consumer adds, reads the user back, and lists the groups
	// the ruleset's exclude tests (memberOf).
	"AssignmentRetryFunction": {"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"},
	// The token function also removes (reconcile.remove).
	"PreTokenGenerationFunction": {"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser",
		"cognito-idp:AdminRemoveUserFromGroup"},
	// The AppConfig validator checks that the pool holds each group a
	// version selects (AUTOGROUP_USER_POOL_ID).
	"RulesValidatorFunction": {"cognito-idp:GetGroup", "cognito-idp:ListGroups"},
}

// budgetParameters names the parameter a function's AUTOGROUP_BUDGET_MS
// refers to, for the functions whose budget is not BudgetMs: sign-in
// latency is felt, so the token function has a shorter one.
var budgetParameters = map[string]string{"PreTokenGenerationFunction": "TokenBudgetMs"}

// logsActions are the CloudWatch Logs actions a function's role may have,
// on the function's own log group only.
var logsActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// template is a CloudFormation template decoded into plain Go values:
// map[string]any, []any, string, int, bool. Intrinsic functions appear in
// their long form ({"Ref": x}, {"Fn::GetAtt": [r, a]}, {"Fn::If": [...]})
// whichever form the file uses, so checks need not care.
type template struct {
	parameters map[string]any
	conditions map[string]any
	resources  map[string]map[string]any
	outputs    map[string]any
}

func parseTemplate(src []byte) (*template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	v, err := decodeNode(&doc)
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is a %T, want a mapping", v)
	}
	t := &template{
		parameters: mapOf(top["Parameters"]),
		conditions: mapOf(top["Conditions"]),
		resources:  map[string]map[string]any{},
		outputs:    mapOf(top["Outputs"]),
	}
	for id, r := range mapOf(top["Resources"]) {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is a %T, want a mapping", id, r)
		}
		t.resources[id] = m
	}
	return t, nil
}

// shortForms maps CloudFormation's YAML short-form tags to the long form.
var shortForms = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!If": "Fn::If", "!Equals": "Fn::Equals",
	"!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
	"!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!GetAZs": "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue", "!ToJsonString": "Fn::ToJsonString", "!Length": "Fn::Length",
}

func decodeNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0])
	case yaml.AliasNode:
		return decodeNode(n.Alias)
	}
	custom := strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%d:%d: mapping key is not a scalar", k.Line, k.Column)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("%d:%d: duplicate key %q", k.Line, k.Column, k.Value)
			}
			e, err := decodeNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = e
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			e, err := decodeNode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, e)
		}
		v = s
	case yaml.ScalarNode:
		if custom {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%d:%d: %v", n.Line, n.Column, err)
		}
	default:
		return nil, fmt.Errorf("%d:%d: unexpected YAML node kind %v", n.Line, n.Column, n.Kind)
	}
	if !custom {
		return v, nil
	}
	fn, ok := shortForms[n.Tag]
	if !ok {
		return nil, fmt.Errorf("%d:%d: unknown tag %s", n.Line, n.Column, n.Tag)
	}
	if s, ok := v.(string); ok && fn == "Fn::GetAtt" {
		res, attr, found := strings.Cut(s, ".")
		if !found {
			return nil, fmt.Errorf("%d:%d: !GetAtt %q has no attribute", n.Line, n.Column, s)
		}
		v = []any{res, attr}
	}
	return map[string]any{fn: v}, nil
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// get follows keys through nested mappings; it returns nil where one is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		v = mapOf(v)[k]
	}
	return v
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

func loadTemplate(t *testing.T) *template {
	t.Helper()
	src, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := parseTemplate(src)
	if err != nil {
		t.Fatalf("parse %s: %v", templateFile, err)
	}
	return tmpl
}

// ofType returns the ids of the resources of type typ, sorted.
func (t *template) ofType(typ string) []string {
	var ids []string
	for id, r := range t.resources {
		if r["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// pool returns the id and condition of the template's one user pool.
func (t *template) pool(tb testing.TB) (id, condition string) {
	tb.Helper()
	pools := t.ofType("AWS::Cognito::UserPool")
	if len(pools) != 1 {
		tb.Fatalf("AWS::Cognito::UserPool resources = %v, want exactly one", pools)
	}
	cond, _ := t.resources[pools[0]]["Condition"].(string)
	if cond == "" {
		tb.Fatalf("user pool %s has no Condition, want one (it is created only without ExistingUserPoolId)", pools[0])
	}
	return pools[0], cond
}

// poolArn is the expression that names the pool the function serves in both
// modes: the created pool, or the one ExistingUserPoolId names.
func poolArn(poolID, cond string) any {
	return map[string]any{"Fn::If": []any{
		cond,
		map[string]any{"Fn::GetAtt": []any{poolID, "Arn"}},
		map[string]any{"Fn::Sub": existingPoolArn},
	}}
}

// functions returns the ids of the template's AWS::Serverless::Function
// resources, sorted; a template without one fails the test.
func (t *template) functions(tb testing.TB) []string {
	tb.Helper()
	ids := t.ofType("AWS::Serverless::Function")
	if len(ids) == 0 {
		tb.Fatal("no AWS::Serverless::Function in the template")
	}
	return ids
}

// cognitoTriggers returns the functions Cognito invokes, sorted: those a
// lambda:InvokeFunction permission for cognito-idp.amazonaws.com or the
// pool's LambdaConfig names.
func (t *template) cognitoTriggers(tb testing.TB) []string {
	tb.Helper()
	poolID, _ := t.pool(tb)
	named := references(get(t.resources[poolID], "Properties", "LambdaConfig"))
	for _, id := range t.ofType("AWS::Lambda::Permission") {
		if p := mapOf(t.resources[id]["Properties"]); p["Principal"] == "cognito-idp.amazonaws.com" {
			named = append(named, references(p["FunctionName"])...)
		}
	}
	var out []string
	for _, fn := range t.functions(tb) {
		if slices.Contains(named, fn) {
			out = append(out, fn)
		}
	}
	return out
}

func TestFunctionSettings(t *testing.T) {
	tmpl := loadTemplate(t)
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := makeTargets(string(mk))
	triggers := tmpl.cognitoTriggers(t)
	logGroups := map[string]string{} // log group id → function
	for _, id := range tmpl.functions(t) {
		t.Run(id, func(t *testing.T) {
			checkFunction(t, tmpl, id, slices.Contains(triggers, id), targets, logGroups)
		})
	}
}

// checkFunction checks the settings of function id. trigger says whether
// Cognito invokes it; logGroups collects the log groups already used.
func checkFunction(t *testing.T, tmpl *template, id string, trigger bool, targets map[string][]string, logGroups map[string]string) {
	fn := tmpl.resources[id]
	p := mapOf(fn["Properties"])
	vars := mapOf(get(p, "Environment", "Variables"))
	budgetParam := "BudgetMs"
	if b, ok := budgetParameters[id]; ok {
		budgetParam = b
	}
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"Runtime", p["Runtime"], "provided.al2023"},
		{"Architectures", p["Architectures"], []any{"arm64"}},
		{"Handler", p["Handler"], "bootstrap"},
		{"CodeUri", p["CodeUri"], "."},
		{"Metadata.BuildMethod", get(fn, "Metadata", "BuildMethod"), "makefile"},
		{"LoggingConfig.LogFormat", get(p, "LoggingConfig", "LogFormat"), "JSON"},
		{"LoggingConfig.ApplicationLogLevel", get(p, "LoggingConfig", "ApplicationLogLevel"), ref("LogLevel")},
		// Every function loads the ruleset the same way (RULES_FILE replaces
		// the embedded one). Declared empty so that `sam local invoke
		// --env-vars` can override it: it ignores variables the template
		// does not declare. The AppConfig validator loads none: it checks
		// the content it is sent.
		{"Environment.Variables.RULES_FILE", vars["RULES_FILE"], ""},
	} {
		if tc.name == "Environment.Variables.RULES_FILE" && slices.Contains(tmpl.appConfigValidators(), id) {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s = %#v, want %#v (-want +got):\n%s", tc.name, tc.got, tc.want, diff)
			}
		})
	}

	t.Run("Environment", func(t *testing.T) {
		for name, v := range vars {
			if strings.HasPrefix(name, "AWS_ENDPOINT_URL") && v != "" {
				t.Errorf("%s = %#v, want \"\" (declared for sam local only; empty means the SDK's endpoint)", name, v)
			}
		}
		if v, ok := vars["AUTOGROUP_BUDGET_MS"]; ok && !cmp.Equal(v, ref(budgetParam)) {
			t.Errorf("AUTOGROUP_BUDGET_MS = %#v, want !Ref %s", v, budgetParam)
		}
		// Verification is never off in a deployment: anyone allowed to
		// invoke the function could then choose the groups.
		if v, ok := vars["AUTOGROUP_VERIFY_USER"]; ok && v != "true" {
			t.Errorf("AUTOGROUP_VERIFY_USER = %#v, want \"true\" (or not declared, which means true)", v)
		}
		if trigger {
			if _, ok := vars["AUTOGROUP_BUDGET_MS"]; !ok {
				t.Error("no AUTOGROUP_BUDGET_MS: Cognito invokes this function, so its Cognito work needs the budget")
			}
			if v, ok := vars["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]; !ok || v != "" {
				t.Errorf("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = %#v, want it declared empty", v)
			}
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		timeout, ok := p["Timeout"].(int)
		if !ok || timeout < 1 || timeout > 900 {
			t.Fatalf("Timeout = %#v, want a literal 1..900 seconds", p["Timeout"])
		}
		if !trigger {
			return
		}
		// Cognito waits 5 s; a longer timeout only lets a stuck invocation
		// overlap Cognito's retry.
		if timeout > 5 {
			t.Errorf("Timeout = %d, want at most 5 s: Cognito invokes this function and waits 5 s", timeout)
		}
		budget := mapOf(tmpl.parameters[budgetParam])
		def, _ := budget["Default"].(int)
		maxv, _ := budget["MaxValue"].(int)
		if def <= 0 || maxv <= 0 || def > maxv || maxv >= timeout*1000 {
			t.Errorf("%s Default %v, MaxValue %v: want 0 < Default <= MaxValue < Timeout (%d ms)", budgetParam, budget["Default"], budget["MaxValue"], timeout*1000)
		}
	})

	t.Run("LogGroup", func(t *testing.T) {
		lg := get(p, "LoggingConfig", "LogGroup")
		lgID, _ := get(lg, "Ref").(string)
		r := tmpl.resources[lgID]
		if r["Type"] != "AWS::Logs::LogGroup" {
			t.Fatalf("LoggingConfig.LogGroup = %#v, want a Ref to an AWS::Logs::LogGroup of the template", lg)
		}
		if get(r, "Properties", "RetentionInDays") == nil {
			t.Errorf("log group %s has no RetentionInDays", lgID)
		}
		if other, ok := logGroups[lgID]; ok {
			t.Errorf("log group %s is also %s's: each function gets its own", lgID, other)
		}
		logGroups[lgID] = id
	})

	t.Run("MakefileTarget", func(t *testing.T) {
		// BuildMethod makefile runs build-<logical id>: renaming the function
		// without the target breaks sam build, and make build must build it too.
		target := "build-" + id
		if _, ok := targets[target]; !ok {
			t.Fatalf("Makefile has no %s target (sam build runs it)", target)
		}
		if !reaches(targets, "build", target) && !recipeMakes(t, "build", target) {
			t.Errorf("make build does not build %s: want %s among the prerequisites of build", id, target)
		}
		if !reaches(targets, target, "check-rules") {
			t.Errorf("%s does not depend on check-rules: it would build a function around a ruleset that does not load", target)
		}
	})
}

// statement is an IAM policy statement found somewhere in the template.
type statement struct {
	resource string // logical id of the resource holding it
	body     map[string]any
}

// statements returns every mapping of the template that looks like an IAM
// statement (an Effect with an Action or NotAction), wherever it is.
func (t *template) statements() []statement {
	var out []statement
	var walk func(id string, v any)
	walk = func(id string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["Effect"]; ok && (v["Action"] != nil || v["NotAction"] != nil) {
				out = append(out, statement{id, v})
			}
			for _, e := range v {
				walk(id, e)
			}
		case []any:
			for _, e := range v {
				walk(id, e)
			}
		}
	}
	for id, r := range t.resources {
		walk(id, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].resource < out[j].resource })
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// actionCovers reports whether an IAM action pattern (case-insensitive, with
// * and ?) matches the action.
func actionCovers(pattern, action string) bool {
	re := "(?i)^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(action)
}

// grantsCognito reports whether a statement can allow some cognito-idp action.
func grantsCognito(s map[string]any) bool {
	if s["Effect"] == "Deny" {
		return false
	}
	if s["NotAction"] != nil {
		return true // allows everything it does not list
	}
	for _, a := range asList(s["Action"]) {
		a, ok := a.(string)
		if !ok {
			return true // computed: cannot tell, so suspect
		}
		if strings.HasPrefix(strings.ToLower(a), "cognito-idp:") ||
			actionCovers(a, "cognito-idp:AdminAddUserToGroup") || actionCovers(a, "cognito-idp:AdminGetUser") ||
			actionCovers(a, "cognito-idp:AdminDeleteUser") {
			return true
		}
	}
	return false
}

// allStrings returns every string inside v, including those of intrinsic functions.
func allStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(out, k)
			out = append(out, allStrings(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, allStrings(e)...)
		}
		return out
	}
	return nil
}

func TestLeastPrivilege(t *testing.T) {
	tmpl := loadTemplate(t)
	poolID, cond := tmpl.pool(t)
	fns := tmpl.functions(t)
	for fn := range cognitoActions {
		if !slices.Contains(fns, fn) {
			t.Errorf("cognitoActions names %s, which is not a function of the template", fn)
		}
	}

	// SAM policy templates and managed policy names can grant actions
	// without a statement this test could read: each function has its own
	// role of the template (TestFunctionRoles), and no policy but its
	// statements.
	for _, fn := range fns {
		p := mapOf(tmpl.resources[fn]["Properties"])
		for _, key := range []string{"Policies", "PermissionsBoundary"} {
			if p[key] != nil {
				t.Errorf("%s has %s %#v, want none: grant Cognito access only in a separate AWS::IAM::Policy", fn, key, p[key])
			}
		}
	}
	for id, r := range tmpl.resources {
		if v := get(r, "Properties", "ManagedPolicyArns"); v != nil {
			t.Errorf("%s has ManagedPolicyArns %#v, want none", id, v)
		}
	}

	// Every statement that may allow a Cognito action is in an
	// AWS::IAM::Policy of one function's role.
	granted := map[string][]statement{} // function → its Cognito statements
	for _, s := range tmpl.statements() {
		if !grantsCognito(s.body) {
			continue
		}
		holder := tmpl.resources[s.resource]
		if holder["Type"] != "AWS::IAM::Policy" {
			t.Errorf("a Cognito statement is in %s, a %v; want a separate AWS::IAM::Policy (no cycle)", s.resource, holder["Type"])
			continue
		}
		roles := asList(get(holder, "Properties", "Roles"))
		var fn string
		for _, f := range fns {
			if len(roles) == 1 && cmp.Equal(roles[0], ref(f+"Role")) {
				fn = f
			}
		}
		if fn == "" {
			t.Errorf("%s Roles = %#v, want [!Ref <Function>Role], the role of one function", s.resource, roles)
			continue
		}
		granted[fn] = append(granted[fn], s)
	}

	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			var actions []string
			for _, s := range granted[fn] {
				if s.body["Effect"] != "Allow" {
					t.Errorf("%s: Effect = %#v, want Allow", s.resource, s.body["Effect"])
				}
				if s.body["NotAction"] != nil {
					t.Errorf("%s: NotAction = %#v, want Action", s.resource, s.body["NotAction"])
				}
				for _, a := range asList(s.body["Action"]) {
					str, _ := a.(string)
					actions = append(actions, str)
				}
				if s.body["NotResource"] != nil {
					t.Errorf("%s: NotResource = %#v, want none", s.resource, s.body["NotResource"])
				}
				for _, str := range allStrings(s.body["Resource"]) {
					if strings.Contains(str, "*") {
						t.Errorf("%s: Resource contains %q: no wildcard, one pool only", s.resource, str)
					}
				}
				resources := asList(s.body["Resource"])
				if diff := cmp.Diff([]any{poolArn(poolID, cond)}, resources); diff != "" {
					t.Errorf("%s: Resource = %#v, want the pool's ARN in both modes (-want +got):\n%s", s.resource, resources, diff)
				}
			}
			sort.Strings(actions)
			want := slices.Sorted(slices.Values(cognitoActions[fn]))
			if !slices.Equal(actions, want) {
				t.Errorf("Cognito actions granted to %s = %v, want exactly %v (cognitoActions)", fn, actions, want)
			}
		})
	}

	t.Run("PoolModes", func(t *testing.T) {
		// The If's else branch is the existing pool only when the pool's
		// condition means "no ExistingUserPoolId".
		want := map[string]any{"Fn::Equals": []any{ref("ExistingUserPoolId"), ""}}
		if diff := cmp.Diff(want, tmpl.conditions[cond]); diff != "" {
			t.Errorf("condition %s (-want +got):\n%s", cond, diff)
		}
		// The parameter becomes part of an IAM resource: it must not let a
		// wildcard (userpool/*) or another ARN in.
		param := mapOf(tmpl.parameters["ExistingUserPoolId"])
		if param["Default"] != "" {
			t.Errorf("ExistingUserPoolId Default = %#v, want \"\"", param["Default"])
		}
		pattern, _ := param["AllowedPattern"].(string)
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if pattern == "" || err != nil {
			t.Fatalf("ExistingUserPoolId AllowedPattern = %q (%v), want a pattern", pattern, err)
		}
		for value, want := range map[string]bool{
			"": true, "eu-west-1_AbCdEf123": true, "us-gov-west-1_x1": true,
			"*": false, "eu-west-1_*": false, "eu-west-1_a/b": false, "eu-west-1_a b": false, "eu-west-1": false,
		} {
			if got := re.MatchString(value); got != want {
				t.Errorf("AllowedPattern matches %q = %v, want %v", value, got, want)
			}
		}
	})
}

func TestInvokePermissions(t *testing.T) {
	tmpl := loadTemplate(t)
	poolID, cond := tmpl.pool(t)
	fns := tmpl.functions(t)

	// SAM's Cognito event adds a permission with SourceArn only.
	for _, fn := range fns {
		for name, ev := range mapOf(get(tmpl.resources[fn], "Properties", "Events")) {
			if get(ev, "Type") == "Cognito" {
				t.Errorf("%s has Cognito event %s: its generated permission lacks SourceAccount", fn, name)
			}
		}
	}

	permitted := map[string]bool{} // functions Cognito may invoke
	for _, id := range tmpl.ofType("AWS::Lambda::Permission") {
		p := mapOf(tmpl.resources[id]["Properties"])
		if p["Principal"] != "cognito-idp.amazonaws.com" {
			continue
		}
		if diff := cmp.Diff(poolArn(poolID, cond), p["SourceArn"]); diff != "" {
			t.Errorf("%s SourceArn = %#v, want the pool's ARN (-want +got):\n%s", id, p["SourceArn"], diff)
		}
		if !cmp.Equal(p["SourceAccount"], ref("AWS::AccountId")) {
			t.Errorf("%s SourceAccount = %#v, want !Ref AWS::AccountId", id, p["SourceAccount"])
		}
		refs := references(p["FunctionName"])
		if len(refs) != 1 || !slices.Contains(fns, refs[0]) {
			t.Errorf("%s FunctionName = %#v, want one function of the template", id, p["FunctionName"])
			continue
		}
		permitted[refs[0]] = true
	}

	// Each trigger of the created pool is a function of the template that
	// Cognito may invoke; PostConfirmation is always one of them.
	lambdaConfig := mapOf(get(tmpl.resources[poolID], "Properties", "LambdaConfig"))
	if lambdaConfig["PostConfirmation"] == nil {
		t.Errorf("%s LambdaConfig has no PostConfirmation trigger", poolID)
	}
	for trigger, v := range lambdaConfig {
		// Only the functions: a PreTokenGenerationConfig also names its
		// LambdaVersion parameter.
		refs := slices.DeleteFunc(references(v), func(r string) bool { return !slices.Contains(fns, r) })
		if len(refs) != 1 || !slices.Contains(fns, refs[0]) {
			t.Errorf("%s LambdaConfig.%s = %#v, want the Arn of one function of the template", poolID, trigger, v)
			continue
		}
		if !permitted[refs[0]] {
			t.Errorf("%s LambdaConfig.%s is %s, which no AWS::Lambda::Permission lets cognito-idp.amazonaws.com invoke", poolID, trigger, refs[0])
		}
		if !slices.Contains(allStrings(v), "Arn") {
			t.Errorf("%s LambdaConfig.%s = %#v, want the function's Arn (!GetAtt %s.Arn)", poolID, trigger, v, refs[0])
		}
	}
	if len(permitted) == 0 {
		t.Error("no AWS::Lambda::Permission for cognito-idp.amazonaws.com: Cognito cannot invoke the function")
	}
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// references returns the logical names v refers to through Ref, Fn::GetAtt
// and Fn::Sub (parameters and pseudo parameters included), sorted, once each.
func references(v any) []string {
	set := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 1 {
				switch {
				case v["Ref"] != nil:
					if s, ok := v["Ref"].(string); ok {
						set[s] = true
						return
					}
				case v["Fn::GetAtt"] != nil:
					switch a := v["Fn::GetAtt"].(type) {
					case []any:
						if len(a) > 0 {
							if s, ok := a[0].(string); ok {
								set[s] = true
							}
						}
					case string:
						res, _, _ := strings.Cut(a, ".")
						set[res] = true
					}
					return
				case v["Fn::Sub"] != nil:
					str, vars := v["Fn::Sub"], map[string]any(nil)
					if l, ok := str.([]any); ok && len(l) == 2 {
						str, vars = l[0], mapOf(l[1])
						for _, e := range vars {
							walk(e)
						}
					}
					s, _ := str.(string)
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if _, isLocal := vars[name]; !isLocal {
							set[name] = true
						}
					}
					return
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// dependencies returns the graph CloudFormation will see after the SAM
// transform, as far as it matters here: each resource's references and
// DependsOn, plus the role SAM generates for a function without Role (the
// function depends on it, and it depends on what the function's Policies
// name). Events are left out: SAM turns them into resources that depend on
// the function, not the other way round.
func (t *template) dependencies() map[string][]string {
	g := map[string][]string{}
	add := func(from string, to ...string) {
		for _, d := range to {
			_, isResource := t.resources[d]
			if (isResource || strings.HasSuffix(d, "Role")) && !slices.Contains(g[from], d) {
				g[from] = append(g[from], d)
			}
		}
	}
	for id, r := range t.resources {
		if g[id] == nil { // a function's generated role may have edges already
			g[id] = []string{}
		}
		for _, d := range asList(r["DependsOn"]) {
			if s, ok := d.(string); ok {
				add(id, s)
			}
		}
		props := mapOf(r["Properties"])
		if r["Type"] != "AWS::Serverless::Function" {
			add(id, references(props)...)
			continue
		}
		for k, v := range props {
			switch k {
			case "Events":
			case "Policies", "PermissionsBoundary", "AssumeRolePolicyDocument":
				if props["Role"] == nil {
					add(id+"Role", references(v)...)
				}
			default:
				add(id, references(v)...)
			}
		}
		if props["Role"] == nil {
			add(id, id+"Role")
			if g[id+"Role"] == nil {
				g[id+"Role"] = []string{}
			}
		}
	}
	return g
}

// findCycle returns one dependency cycle (first node repeated at the end), or nil.
func findCycle(g map[string][]string) []string {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = open
		stack = append(stack, n)
		deps := slices.Clone(g[n])
		sort.Strings(deps)
		for _, d := range deps {
			switch state[d] {
			case open:
				i := slices.Index(stack, d)
				return append(slices.Clone(stack[i:]), d)
			case unseen:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	nodes := make([]string, 0, len(g))
	for n := range g {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

func TestNoDependencyCycle(t *testing.T) {
	tmpl := loadTemplate(t)
	poolID, _ := tmpl.pool(t)

	// No function may name the pool but the AppConfig validator, which
	// checks a version's groups in it (AUTOGROUP_USER_POOL_ID), as long as
	// the pool does not depend on it, directly or not.
	reached := map[string]bool{}
	deps := tmpl.dependencies()
	for todo := []string{poolID}; len(todo) > 0; todo = todo[1:] {
		for _, d := range deps[todo[0]] {
			if !reached[d] {
				reached[d] = true
				todo = append(todo, d)
			}
		}
	}
	for _, fn := range tmpl.functions(t) {
		if !reached[fn] && slices.Contains(tmpl.appConfigValidators(), fn) {
			continue
		}
		t.Run(fn+"/DoesNotReferencePool", func(t *testing.T) {
			// The function and the role it runs as.
			holders := []string{fn}
			if role := roleOf(tmpl, fn); role != "" {
				holders = append(holders, role)
			}
			for _, id := range holders {
				r := tmpl.resources[id]
				var named []string
				for k, v := range mapOf(r["Properties"]) {
					if k != "Events" {
						named = append(named, references(v)...)
					}
				}
				for _, d := range asList(r["DependsOn"]) {
					if s, ok := d.(string); ok {
						named = append(named, s)
					}
				}
				for _, n := range named {
					if typ, _ := tmpl.resources[n]["Type"].(string); strings.HasPrefix(typ, "AWS::Cognito::") {
						t.Errorf("%s refers to %s (%s): the pool refers to the function, so this is a cycle; read the pool id from the event", id, n, typ)
					}
				}
			}
		})
	}

	t.Run("Graph", func(t *testing.T) {
		if c := findCycle(tmpl.dependencies()); c != nil {
			t.Errorf("dependency cycle: %s", strings.Join(c, " -> "))
		}
	})

	// The check must be able to fail: each of these classic mistakes closes
	// Pool -> Function -> Role -> Pool for a function the pool triggers.
	poolStatement := map[string]any{
		"Effect": "Allow", "Action": "cognito-idp:AdminAddUserToGroup",
		"Resource": map[string]any{"Fn::GetAtt": []any{poolID, "Arn"}},
	}
	for _, fn := range tmpl.cognitoTriggers(t) {
		for _, tc := range []struct {
			name   string
			mutate func(fn map[string]any)
			role   func(role map[string]any) // mutates the function's own role instead
		}{
			{name: "environment variable naming the pool", mutate: func(fn map[string]any) {
				env := mapOf(fn["Environment"])
				if env == nil {
					env = map[string]any{}
					fn["Environment"] = env
				}
				vars := mapOf(env["Variables"])
				if vars == nil {
					vars = map[string]any{}
					env["Variables"] = vars
				}
				vars["USER_POOL_ID"] = ref(poolID)
			}},
			{name: "SAM policy with the pool ARN, on the role SAM generates", mutate: func(fn map[string]any) {
				delete(fn, "Role")
				fn["Policies"] = []any{map[string]any{"Statement": []any{poolStatement}}}
			}},
			{name: "inline policy of the function's role with the pool ARN", role: func(role map[string]any) {
				role["Policies"] = append(asList(role["Policies"]), map[string]any{
					"PolicyName": "pool", "PolicyDocument": map[string]any{"Statement": []any{poolStatement}},
				})
			}},
			{name: "Sub naming the pool", mutate: func(fn map[string]any) {
				fn["Description"] = map[string]any{"Fn::Sub": "trigger of ${" + poolID + "}"}
			}},
		} {
			t.Run(fn+"/detects "+tc.name, func(t *testing.T) {
				mutated := loadTemplate(t)
				if tc.role != nil {
					role := roleOf(mutated, fn)
					if role == "" {
						t.Fatalf("%s has no role of the template", fn)
					}
					tc.role(mapOf(mutated.resources[role]["Properties"]))
				} else {
					tc.mutate(mapOf(mutated.resources[fn]["Properties"]))
				}
				if c := findCycle(mutated.dependencies()); c == nil {
					t.Error("findCycle = nil, want a cycle")
				}
			})
		}
	}
}

// rulesGroups returns every group a ruleset can select, as the engine
// reports it: the groups of each rule, then defaultGroups. A ruleset that
// does not load is an error.
func rulesGroups(src []byte) ([]string, error) {
	rs, err := rules.Parse(src)
	if err != nil {
		return nil, err
	}
	return rs.GroupNames(), nil
}

// poolGroups returns the GroupName of every AWS::Cognito::UserPoolGroup.
func (t *template) poolGroups(tb testing.TB) []string {
	tb.Helper()
	poolID, cond := t.pool(tb)
	var names []string
	for _, id := range t.ofType("AWS::Cognito::UserPoolGroup") {
		r := t.resources[id]
		p := mapOf(r["Properties"])
		name, ok := p["GroupName"].(string)
		if !ok || name == "" {
			tb.Errorf("%s GroupName = %#v, want a literal name", id, p["GroupName"])
			continue
		}
		if r["Condition"] != cond {
			tb.Errorf("%s Condition = %#v, want %s (the pool's)", id, r["Condition"], cond)
		}
		if !cmp.Equal(p["UserPoolId"], ref(poolID)) {
			tb.Errorf("%s UserPoolId = %#v, want !Ref %s", id, p["UserPoolId"], poolID)
		}
		if d, _ := p["Description"].(string); d == "" {
			tb.Errorf("%s has no Description", id)
		}
		names = append(names, name)
	}
	return names
}

// missingGroups returns the groups the ruleset src can select that are not
// in have, in ruleset order, once each.
func missingGroups(src []byte, have []string) ([]string, error) {
	want, err := rulesGroups(src)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, g := range want {
		if !slices.Contains(have, g) && !slices.Contains(missing, g) {
			missing = append(missing, g)
		}
	}
	return missing, nil
}

// withRule returns the ruleset src with one more rule at the end of its
// rules, wherever they are and in whichever YAML style they are written.
func withRule(src []byte, name string, groups ...string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the ruleset is not a mapping")
	}
	top := doc.Content[0]
	var rulesNode *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "rules" {
			rulesNode = top.Content[i+1]
		}
	}
	if rulesNode == nil {
		rulesNode = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		top.Content = append(top.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "rules"}, rulesNode)
	}
	if rulesNode.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%d:%d: rules is not a list", rulesNode.Line, rulesNode.Column)
	}
	var rule yaml.Node
	if err := rule.Encode(map[string]any{"name": name, "when": map[string]any{"always": true}, "groups": groups}); err != nil {
		return nil, err
	}
	rulesNode.Content = append(rulesNode.Content, &rule)
	return yaml.Marshal(&doc)
}

// unused returns the first of prefix-1, prefix-2, ... that is in none of
// taken.
func unused(prefix string, taken ...[]string) string {
	for i := 1; ; i++ {
		name := prefix + "-" + strconv.Itoa(i)
		if !slices.ContainsFunc(taken, func(l []string) bool { return slices.Contains(l, name) }) {
			return name
		}
	}
}

// ruleNames returns the names of a ruleset's rules.
func ruleNames(tb testing.TB, src []byte) []string {
	tb.Helper()
	rs, err := rules.Parse(src)
	if err != nil {
		tb.Fatalf("the ruleset does not load: %v", err)
	}
	var names []string
	for _, r := range rs.Rules() {
		names = append(names, r.Name)
	}
	return names
}

func TestPoolHasEveryRuleGroup(t *testing.T) {
	tmpl := loadTemplate(t)
	have := tmpl.poolGroups(t)
	shipped, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("shipped "+rulesFile, func(t *testing.T) {
		got, err := missingGroups(shipped, have)
		if err != nil {
			t.Fatalf("%s does not load: %v", rulesFile, err)
		}
		if len(got) != 0 {
			t.Errorf("groups the rules can select that the template's pool lacks: %v; every group a rule can select must exist in the pool", got)
		}
	})

	// The check must be able to fail, whatever the ruleset: the names it
	// adds are derived from the ruleset and the template, never assumed.
	// A ruleset of one's own with a rule named admins (a name an earlier
	// version of this test added itself) is one such ruleset.
	own := shipped
	if !slices.Contains(ruleNames(t, shipped), "admins") {
		if own, err = withRule(shipped, "admins", have...); err != nil {
			t.Fatal(err)
		}
	}
	for _, base := range []struct {
		name string
		src  []byte
	}{
		{"shipped", shipped},
		{"with a rule named admins", own},
	} {
		t.Run("detects/"+base.name, func(t *testing.T) {
			groups, err := rulesGroups(base.src)
			if err != nil {
				t.Fatalf("the ruleset does not load: %v", err)
			}
			if got, err := missingGroups(base.src, have); err != nil || len(got) != 0 {
				t.Fatalf("missingGroups(ruleset) = %v, %v; want none before a group is added", got, err)
			}
			lacking := unused("not-in-the-pool", have, groups)
			other := unused("also-not-in-the-pool", have, groups, []string{lacking})
			withLacking, err := withRule(base.src, unused("rule", ruleNames(t, base.src)), append(slices.Clone(have[:min(1, len(have))]), lacking)...)
			if err != nil {
				t.Fatal(err)
			}
			defaults := fmt.Sprintf("version: 1\ndefaultGroups: [%s, %s]\nrules:\n  - name: r\n    when: {always: true}\n    groups: [%s]\n",
				other, strings.Join(append(slices.Clone(have), other), ", "), lacking)
			for _, tc := range []struct {
				name    string
				rules   string
				want    []string
				wantErr bool
			}{
				{name: "rule names a group the pool lacks", rules: string(withLacking), want: []string{lacking}},
				{name: "default group the pool lacks", rules: defaults, want: []string{lacking, other}},
				{name: "not YAML", rules: "rules: [", wantErr: true},
				{name: "no groups", rules: "version: 1\n", wantErr: true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, err := missingGroups([]byte(tc.rules), have)
					if (err != nil) != tc.wantErr {
						t.Fatalf("missingGroups() error = %v, want error %v", err, tc.wantErr)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("missingGroups() = %v, want %v (-want +got):\n%s", got, tc.want, diff)
					}
				})
			}
		})
	}

	t.Run("withRule", func(t *testing.T) {
		for _, src := range []string{
			"version: 1\nrules:\n  - name: a\n    when: {always: true}\n    groups: [g]\ndefaultGroups: [d]\n",
			"version: 1\nrules: [{name: a, when: {always: true}, groups: [g]}]\n",
			"version: 1\ndefaultGroups: [d]\n",
		} {
			out, err := withRule([]byte(src), "added", "x", "y")
			if err != nil {
				t.Fatalf("withRule(%q): %v", src, err)
			}
			names := ruleNames(t, out)
			if len(names) == 0 || names[len(names)-1] != "added" {
				t.Errorf("withRule(%q) rules = %v, want the new rule last:\n%s", src, names, out)
			}
			groups, _ := rulesGroups(out)
			if !slices.Contains(groups, "x") || !slices.Contains(groups, "y") {
				t.Errorf("withRule(%q) groups = %v, want x and y among them", src, groups)
			}
		}
		if _, err := withRule([]byte("version: 1\nrules: {}\n"), "r", "g"); err == nil {
			t.Error("withRule(rules not a list) succeeded, want an error")
		}
	})
}

// ruleAttributes returns the user attributes a ruleset's conditions read,
// as the engine reports them.
func ruleAttributes(src []byte) ([]string, error) {
	rs, err := rules.Parse(src)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs.Rules() {
		for _, a := range r.Attributes {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func TestRuleAttributesAreNotUserWritable(t *testing.T) {
	tmpl := loadTemplate(t)
	poolID, _ := tmpl.pool(t)
	src, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := ruleAttributes(src)
	if err != nil {
		t.Fatal(err)
	}
	var custom []string
	for _, a := range attrs {
		if strings.HasPrefix(a, "custom:") {
			custom = append(custom, a)
		}
	}
	if len(custom) == 0 {
		t.Log("the shipped rules read no custom attribute")
	}

	var schema []string
	for _, s := range asList(get(tmpl.resources[poolID], "Properties", "Schema")) {
		if n, ok := get(s, "Name").(string); ok {
			schema = append(schema, "custom:"+n)
		}
	}
	for _, a := range custom {
		if !slices.Contains(schema, a) {
			t.Errorf("the rules read %s but %s's Schema does not declare it", a, poolID)
		}
	}

	clients := tmpl.ofType("AWS::Cognito::UserPoolClient")
	if len(clients) == 0 {
		t.Fatal("no AWS::Cognito::UserPoolClient")
	}
	for _, id := range clients {
		w := get(tmpl.resources[id], "Properties", "WriteAttributes")
		if w == nil {
			t.Errorf("%s has no WriteAttributes: users could write every attribute, %v included", id, custom)
			continue
		}
		for _, a := range asList(w) {
			if s, _ := a.(string); slices.Contains(custom, s) {
				t.Errorf("%s WriteAttributes has %s: the rules trust it, so users could choose their groups", id, a)
			}
		}
		if !slices.Contains(asList(w), any("email")) {
			t.Errorf("%s WriteAttributes lacks email, a required attribute users give at sign-up", id)
		}
	}
}

func TestAlarmAndOutputs(t *testing.T) {
	tmpl := loadTemplate(t)

	alarms := tmpl.ofType("AWS::CloudWatch::Alarm")
	for _, fn := range tmpl.functions(t) {
		ok := false
		for _, id := range alarms {
			p := mapOf(tmpl.resources[id]["Properties"])
			dims := asList(p["Dimensions"])
			if p["Namespace"] != "AWS/Lambda" || p["MetricName"] != "Errors" || len(dims) != 1 ||
				!cmp.Equal(get(dims[0], "Value"), ref(fn)) {
				continue
			}
			ok = true
			threshold, _ := p["Threshold"].(int)
			period, _ := p["Period"].(int)
			if threshold != 1 || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || period <= 0 || period > 300 {
				t.Errorf("%s fires on Errors %v %v in %v s, want >= 1 in at most 300 s", id, p["ComparisonOperator"], p["Threshold"], p["Period"])
			}
			want := map[string]any{"Fn::If": []any{"HasAlarmTopic", []any{ref("AlarmTopicArn")}, ref("AWS::NoValue")}}
			if diff := cmp.Diff(want, p["AlarmActions"]); diff != "" {
				t.Errorf("%s AlarmActions (-want +got):\n%s", id, diff)
			}
		}
		if !ok {
			t.Errorf("no alarm on AWS/Lambda Errors of %s among %v", fn, alarms)
		}
		// Both pool modes: the output carries the function's Condition
		// (the retry queue's, for its consumer) and no other.
		if o := mapOf(tmpl.outputs[fn+"Arn"]); o == nil || !cmp.Equal(o["Value"], map[string]any{"Fn::GetAtt": []any{fn, "Arn"}}) || o["Condition"] != tmpl.resources[fn]["Condition"] {
			t.Errorf("output %sArn = %#v, want !GetAtt %s.Arn with the function's Condition (%v)", fn, o, fn, tmpl.resources[fn]["Condition"])
		}
	}

	// Both modes: these outputs carry no Condition.
	for _, name := range []string{"UserPoolId", "UserPoolArn"} {
		o := mapOf(tmpl.outputs[name])
		if o == nil || o["Value"] == nil || o["Condition"] != nil {
			t.Errorf("output %s = %#v, want one with a Value and no Condition", name, o)
		}
	}

	steps, _ := get(tmpl.outputs["AttachTriggerToExistingPool"], "Value", "Fn::Sub").(string)
	describe := strings.Index(steps, "describe-user-pool")
	update := strings.Index(steps, "update-user-pool --region")
	if describe < 0 || update < 0 || describe > update || !strings.Contains(steps, "LambdaConfig.PostConfirmation") {
		t.Errorf("output AttachTriggerToExistingPool = %q, want describe-user-pool, then update-user-pool with the current settings and LambdaConfig.PostConfirmation", steps)
	}
}

// roleOf returns the logical id of the AWS::IAM::Role of the template that
// function fn runs as (its Role is !GetAtt <id>.Arn), or "".
func roleOf(t *template, fn string) string {
	att, _ := get(t.resources[fn], "Properties", "Role", "Fn::GetAtt").([]any)
	if len(att) != 2 || att[1] != "Arn" {
		return ""
	}
	id, _ := att[0].(string)
	if t.resources[id]["Type"] != "AWS::IAM::Role" {
		return ""
	}
	return id
}

// logGroupOf returns the logical id of function fn's log group
// (LoggingConfig.LogGroup: !Ref <id>), or "".
func logGroupOf(t *template, fn string) string {
	id, _ := get(t.resources[fn], "Properties", "LoggingConfig", "LogGroup", "Ref").(string)
	return id
}

// grantsLogs reports whether a statement can allow some CloudWatch Logs action.
func grantsLogs(s map[string]any) bool {
	if s["Effect"] == "Deny" {
		return false
	}
	if s["NotAction"] != nil {
		return true
	}
	for _, a := range asList(s["Action"]) {
		a, ok := a.(string)
		if !ok || strings.HasPrefix(strings.ToLower(a), "logs:") ||
			actionCovers(a, "logs:PutLogEvents") || actionCovers(a, "logs:CreateLogGroup") {
			return true
		}
	}
	return false
}

// roleProblems checks that each function runs as a role of its own that
// Lambda alone may assume, with no managed policy (AWSLambdaBasicExecutionRole
// allows logs actions on every log group of the account), and that every
// statement that may allow a CloudWatch Logs action allows exactly
// logsActions on the log group of the function whose role holds it. It
// returns every problem found.
func roleProblems(tb testing.TB, t *template) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for id, r := range t.resources {
		for _, s := range allStrings(r) {
			if strings.Contains(strings.ToLower(s), "awslambdabasicexecutionrole") {
				add("%s names %s: it allows logs actions on every log group", id, s)
			}
		}
	}

	roleFn := map[string]string{} // role → the function that runs as it
	for _, fn := range t.functions(tb) {
		role := roleOf(t, fn)
		if role == "" {
			add("%s Role = %#v, want !GetAtt %sRole.Arn, an AWS::IAM::Role of the template (the role SAM generates gets AWSLambdaBasicExecutionRole)",
				fn, get(t.resources[fn], "Properties", "Role"), fn)
			continue
		}
		if role != fn+"Role" {
			add("%s runs as %s, want %sRole (the Cognito policy attaches to !Ref %sRole)", fn, role, fn, fn)
		}
		if other, ok := roleFn[role]; ok {
			add("%s and %s share the role %s: each function gets its own", other, fn, role)
		}
		roleFn[role] = fn
		p := mapOf(t.resources[role]["Properties"])
		if p["ManagedPolicyArns"] != nil {
			add("%s has ManagedPolicyArns %#v, want none", role, p["ManagedPolicyArns"])
		}
		trust := asList(get(p, "AssumeRolePolicyDocument", "Statement"))
		want := []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}
		if !cmp.Equal(trust, want) {
			add("%s trust policy %#v, want Lambda alone (%#v)", role, trust, want)
		}
		if logGroupOf(t, fn) == "" {
			add("%s has no LoggingConfig.LogGroup of the template", fn)
		}
	}

	// Every statement that may allow a logs action, wherever it is.
	allowed := map[string][]string{} // function → logs actions its role has
	for _, s := range t.statements() {
		holder := t.resources[s.resource]
		inRole := holder["Type"] == "AWS::IAM::Role"
		if inRole && slices.ContainsFunc(asList(get(holder, "Properties", "AssumeRolePolicyDocument", "Statement")), func(v any) bool {
			m, _ := v.(map[string]any)
			return m != nil && cmp.Equal(m, s.body)
		}) {
			continue // the trust policy, checked above
		}
		fn := ""
		switch {
		case inRole:
			fn = roleFn[s.resource]
		case holder["Type"] == "AWS::IAM::Policy":
			if roles := asList(get(holder, "Properties", "Roles")); len(roles) == 1 {
				name, _ := get(roles[0], "Ref").(string)
				fn = roleFn[name]
			}
		}
		if !grantsLogs(s.body) {
			if inRole && fn != "" {
				add("%s: the role of %s allows %#v inline: its inline policies hold only the logs statement", s.resource, fn, s.body["Action"])
			}
			continue
		}
		if fn == "" {
			add("a logs statement is in %s, which is not a function's role or a policy of one: %#v", s.resource, s.body)
			continue
		}
		if s.body["NotAction"] != nil || s.body["NotResource"] != nil {
			add("%s: logs statement with NotAction or NotResource: %#v", s.resource, s.body)
		}
		for _, a := range asList(s.body["Action"]) {
			str, _ := a.(string)
			if !slices.Contains(logsActions, str) {
				add("%s: logs action %#v, want only %v", s.resource, a, logsActions)
			}
			allowed[fn] = append(allowed[fn], str)
		}
		want := []any{map[string]any{"Fn::GetAtt": []any{logGroupOf(t, fn), "Arn"}}}
		if got := asList(s.body["Resource"]); !cmp.Equal(got, want) {
			add("%s: logs statement on %#v, want exactly %s's own log group (!GetAtt %s.Arn)", s.resource, got, fn, logGroupOf(t, fn))
		}
	}
	for _, fn := range roleFn {
		for _, a := range logsActions {
			if !slices.Contains(allowed[fn], a) {
				add("the role of %s does not allow %s on its log group: the function could not write its log", fn, a)
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func TestFunctionRoles(t *testing.T) {
	if p := roleProblems(t, loadTemplate(t)); len(p) != 0 {
		t.Errorf("function roles:\n%s", strings.Join(p, "\n"))
	}

	// The check must be able to fail: each of these grants more than the
	// function's own log group, or lets SAM do so.
	fn := loadTemplate(t).functions(t)[0]
	role := fn + "Role"
	logsStatement := func(tmpl *template) map[string]any {
		pol := asList(get(tmpl.resources[role], "Properties", "Policies"))
		return mapOf(asList(get(pol[0], "PolicyDocument", "Statement"))[0])
	}
	for _, tc := range []struct {
		name   string
		mutate func(tmpl *template)
		want   string // in one of the problems
	}{
		{"no Role: SAM generates one with AWSLambdaBasicExecutionRole", func(tmpl *template) {
			delete(mapOf(tmpl.resources[fn]["Properties"]), "Role")
		}, fn + " Role = "},
		{"AWSLambdaBasicExecutionRole on the role", func(tmpl *template) {
			mapOf(tmpl.resources[role]["Properties"])["ManagedPolicyArns"] = []any{
				map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}}
		}, "ManagedPolicyArns"},
		{"logs actions on every log group", func(tmpl *template) { logsStatement(tmpl)["Resource"] = "*" }, "own log group"},
		{"logs:*", func(tmpl *template) { logsStatement(tmpl)["Action"] = "logs:*" }, `logs action "logs:*"`},
		{"CreateLogGroup too", func(tmpl *template) {
			logsStatement(tmpl)["Action"] = []any{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
		}, `logs action "logs:CreateLogGroup"`},
		{"PutLogEvents missing", func(tmpl *template) { logsStatement(tmpl)["Action"] = []any{"logs:CreateLogStream"} }, "does not allow logs:PutLogEvents"},
		{"another log group", func(tmpl *template) {
			tmpl.resources["OtherLogGroup"] = map[string]any{"Type": "AWS::Logs::LogGroup", "Properties": map[string]any{"RetentionInDays": 1}}
			logsStatement(tmpl)["Resource"] = map[string]any{"Fn::GetAtt": []any{"OtherLogGroup", "Arn"}}
		}, "own log group"},
		{"a separate policy with logs on *", func(tmpl *template) {
			tmpl.resources["ExtraLogs"] = map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
				"PolicyName": "extra", "Roles": []any{ref(role)},
				"PolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}}},
			}}
		}, "ExtraLogs: logs statement on"},
		{"another action inline on the role", func(tmpl *template) {
			pol := mapOf(asList(get(tmpl.resources[role], "Properties", "Policies"))[0])
			doc := mapOf(pol["PolicyDocument"])
			doc["Statement"] = append(asList(doc["Statement"]), map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
		}, "inline policies hold only the logs statement"},
		{"a trust policy that lets others assume the role", func(tmpl *template) {
			st := mapOf(asList(get(tmpl.resources[role], "Properties", "AssumeRolePolicyDocument", "Statement"))[0])
			st["Principal"] = map[string]any{"AWS": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
		}, "trust policy"},
	} {
		t.Run("detects "+tc.name, func(t *testing.T) {
			mutated := loadTemplate(t)
			tc.mutate(mutated)
			p := roleProblems(t, mutated)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("roleProblems = %q, want a problem containing %q", p, tc.want)
			}
		})
	}
}

// TestTokenFunction checks the PreTokenGeneration function's parameters:
// TokenFunction leaves every resource of it out, and the created pool's
// PreTokenGenerationConfig names it with the TokenEventVersion chosen (V1_0
// by default: it works on the Lite plan).
func TestTokenFunction(t *testing.T) {
	tmpl := loadTemplate(t)
	const fn, cond = "PreTokenGenerationFunction", "TokenFunctionEnabled"
	if diff := cmp.Diff(map[string]any{"Fn::Equals": []any{ref("TokenFunction"), "Enabled"}}, tmpl.conditions[cond]); diff != "" {
		t.Errorf("condition %s (-want +got):\n%s", cond, diff)
	}
	for name, want := range map[string]map[string]any{
		"TokenFunction":     {"Default": "Enabled", "AllowedValues": []any{"Enabled", "Disabled"}},
		"TokenEventVersion": {"Default": "V1_0", "AllowedValues": []any{"V1_0", "V2_0"}},
	} {
		p := mapOf(tmpl.parameters[name])
		for k, v := range want {
			if !cmp.Equal(p[k], v) {
				t.Errorf("parameter %s %s = %#v, want %#v", name, k, p[k], v)
			}
		}
	}
	// Everything that names the function, or is named for it, goes with it.
	for id, r := range tmpl.resources {
		if !strings.HasPrefix(id, "PreTokenGeneration") && !slices.Contains(references(r["Properties"]), fn) {
			continue
		}
		if !tmpl.conditionImplies(r["Condition"], cond) && r["Type"] != "AWS::Cognito::UserPool" {
			t.Errorf("%s Condition = %#v, want %s: TokenFunction=Disabled must leave it out", id, r["Condition"], cond)
		}
	}
	poolID, _ := tmpl.pool(t)
	want := map[string]any{"Fn::If": []any{cond,
		map[string]any{"LambdaArn": map[string]any{"Fn::GetAtt": []any{fn, "Arn"}}, "LambdaVersion": ref("TokenEventVersion")},
		ref("AWS::NoValue")}}
	if diff := cmp.Diff(want, get(tmpl.resources[poolID], "Properties", "LambdaConfig", "PreTokenGenerationConfig")); diff != "" {
		t.Errorf("%s LambdaConfig.PreTokenGenerationConfig (-want +got):\n%s", poolID, diff)
	}
}

// runbookSections returns the body of each section of docs/operations.md
// whose heading is one word, such as a logical id, by that word.
func runbookSections(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var current string
	for line := range strings.Lines(string(src)) {
		if m := regexp.MustCompile(`^#{2,4} (\w+)\s*$`).FindStringSubmatch(line); m != nil {
			current = m[1]
			sections[current] = ""
			continue
		}
		if strings.HasPrefix(line, "#") {
			current = ""
		}
		if current != "" {
			sections[current] += line
		}
	}
	return sections
}

// TestAlarmsHaveRunbook checks that every alarm's description names its
// runbook section, docs/operations.md#<logical id in lower case>, and that
// the section is there under a heading that is the logical id, saying what
// the alarm means, how to confirm it and what fixes it.
func TestAlarmsHaveRunbook(t *testing.T) {
	tmpl := loadTemplate(t)
	sections := runbookSections(t)
	alarms := tmpl.ofType("AWS::CloudWatch::Alarm")
	if len(alarms) < 3 {
		t.Fatalf("alarms %v, want at least Errors, Throttles and AssignmentsFailed", alarms)
	}
	for _, id := range alarms {
		desc, _ := get(tmpl.resources[id], "Properties", "AlarmDescription").(string)
		if want := "docs/operations.md#" + strings.ToLower(id); !strings.Contains(desc, want) {
			t.Errorf("%s AlarmDescription %q does not name its runbook section %s", id, desc, want)
		}
		body, ok := sections[id]
		if !ok {
			t.Errorf("docs/operations.md has no section headed %s", id)
			continue
		}
		for _, part := range []string{"**What it means.**", "**Confirm.**", "**Fix.**"} {
			if !strings.Contains(body, part) {
				t.Errorf("runbook section %s lacks %s", id, part)
			}
		}
	}
}

// recordMetricNames are the metrics a post-confirmation decision record
// carries, whatever its rules: a rule's own metric is RulesMatched.<rule>.
func recordMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	rec := trigger.Record{MatchedRules: []string{"r"}, Outcome: trigger.OutcomeOK}
	names := map[string]bool{}
	for _, s := range rec.Metrics(trigger.MetricsTarget{Namespace: "N", Function: "f"}, time.Now()).Sets {
		for _, m := range s.Metrics {
			names[strings.TrimSuffix(m.Name, "r")] = true
		}
	}
	return names
}

// TestMetricsAlarmsAndDashboard checks that the alarm on failed
// assignments and the dashboard read metrics the decision record carries,
// in the namespace the function is given, per function.
func TestMetricsAlarmsAndDashboard(t *testing.T) {
	tmpl := loadTemplate(t)
	emitted := recordMetricNames(t)
	const fn = "PostConfirmationFunction"
	if got := get(tmpl.resources[fn], "Properties", "Environment", "Variables", trigger.MetricsNamespaceEnv); !cmp.Equal(got, ref("MetricsNamespace")) {
		t.Errorf("%s %s = %v, want !Ref MetricsNamespace", fn, trigger.MetricsNamespaceEnv, got)
	}
	if d := get(tmpl.parameters["MetricsNamespace"], "Default"); d != trigger.DefaultMetricsNamespace {
		t.Errorf("MetricsNamespace default %v, want %s", d, trigger.DefaultMetricsNamespace)
	}

	found := map[string]bool{}
	for _, id := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		p := mapOf(tmpl.resources[id]["Properties"])
		name, _ := p["MetricName"].(string)
		dims := asList(p["Dimensions"])
		if len(dims) != 1 {
			t.Errorf("%s has dimensions %v, want one: the function", id, dims)
			continue
		}
		switch p["Namespace"] {
		case "AWS/Lambda":
			if get(dims[0], "Name") == "FunctionName" && cmp.Equal(get(dims[0], "Value"), ref(fn)) {
				found[name] = true
			}
		case "AWS/SQS":
			// The retry queue's alarms read the queues' own metrics;
			// TestRetryQueue checks them.
		default:
			if !cmp.Equal(p["Namespace"], ref("MetricsNamespace")) || get(dims[0], "Name") != "Function" || !cmp.Equal(get(dims[0], "Value"), ref(fn)) {
				t.Errorf("%s reads %v %v, want namespace !Ref MetricsNamespace and dimension Function = !Ref %s", id, p["Namespace"], dims, fn)
			}
			if !emitted[name] {
				t.Errorf("%s reads metric %s, which no decision record carries (%v)", id, name, emitted)
			}
			found[name] = true
			if p["Statistic"] != "Sum" || p["Threshold"] != 1 || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
				t.Errorf("%s fires on %v %v %v, want Sum >= 1", id, p["Statistic"], p["ComparisonOperator"], p["Threshold"])
			}
		}
	}
	for _, m := range []string{"Errors", "Throttles", "AssignmentsFailed"} {
		if !found[m] {
			t.Errorf("no alarm on %s of %s", m, fn)
		}
	}

	dashboards := tmpl.ofType("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("dashboards %v, want one", dashboards)
	}
	sub := asList(get(tmpl.resources[dashboards[0]], "Properties", "DashboardBody", "Fn::Sub"))
	body, _ := sub[0].(string)
	body = regexp.MustCompile(`\$\{MetricsNamespace\}`).ReplaceAllString(body, "NS")
	body = regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body, "X")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON once substituted: %v\n%s", err, body)
	}
	shown := map[string]bool{}
	for _, w := range dash.Widgets {
		ns := ""
		for _, row := range w.Properties.Metrics {
			if s, ok := row[0].(string); ok && s != "." && s != "..." {
				ns = s
			}
			if name, ok := row[min(1, len(row)-1)].(string); ok && ns == "NS" && name != "." && name != "..." {
				shown[name] = true
			}
		}
	}
	for _, m := range regexp.MustCompile(`MetricName=\\"([^"\\]+)\\"`).FindAllStringSubmatch(body, -1) {
		shown[m[1]] = true
	}
	for name := range shown {
		if !emitted[name] {
			t.Errorf("the dashboard shows %s, which no decision record carries", name)
		}
	}
	for name := range emitted {
		if !shown[name] && name != "RulesMatched" {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
}

// TestSavedQueries checks the saved Logs Insights queries: the three the
// runbook uses, on the function's log group, reading decision records.
func TestSavedQueries(t *testing.T) {
	tmpl := loadTemplate(t)
	want := []string{"why is this sub in this group", "failed or deferred assignments in the last day", "rules that never match"}
	var got []string
	for _, id := range tmpl.ofType("AWS::Logs::QueryDefinition") {
		p := mapOf(tmpl.resources[id]["Properties"])
		name, _ := get(p, "Name", "Fn::Sub").(string)
		got = append(got, name[strings.LastIndex(name, "/")+1:])
		if groups := asList(p["LogGroupNames"]); len(groups) != 1 || !cmp.Equal(groups[0], ref("PostConfirmationLogGroup")) {
			t.Errorf("%s LogGroupNames %v, want the function's log group", id, groups)
		}
		if q, _ := p["QueryString"].(string); !strings.Contains(q, `message = "decision"`) {
			t.Errorf("%s does not filter the decision records: %q", id, q)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("saved queries (-want +got):\n%s", diff)
	}
}
