// Package template_test checks template.yaml, the SAM application, for the
// properties a plain `go test` can see without cfn-lint or AWS: the build and
// runtime settings, least privilege, no dependency cycle, and a group in the
// user pool for every group the shipped ruleset can select.
package autogroup_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

const (
	templateFile = "template.yaml"
	rulesFile    = "functions/post-confirmation/rules.yaml"
	functionID   = "PostConfirmationFunction"

	// existingPoolArn is the ARN of the pool named by the ExistingUserPoolId parameter.
	existingPoolArn = "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${ExistingUserPoolId}"
)

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

func TestFunctionSettings(t *testing.T) {
	tmpl := loadTemplate(t)
	if got := tmpl.ofType("AWS::Serverless::Function"); !slices.Equal(got, []string{functionID}) {
		t.Fatalf("AWS::Serverless::Function resources = %v, want [%s]", got, functionID)
	}
	fn := tmpl.resources[functionID]
	p := mapOf(fn["Properties"])

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
		{"Environment.Variables.RULES_FILE", get(p, "Environment", "Variables", "RULES_FILE"), ""},
		{"Environment.Variables.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
			get(p, "Environment", "Variables", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"), ""},
		{"Environment.Variables.AUTOGROUP_BUDGET_MS", get(p, "Environment", "Variables", "AUTOGROUP_BUDGET_MS"), ref("BudgetMs")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s = %#v, want %#v (-want +got):\n%s", tc.name, tc.got, tc.want, diff)
			}
		})
	}

	t.Run("Timeout", func(t *testing.T) {
		// Cognito waits 5 s; a longer timeout only lets a stuck invocation
		// overlap Cognito's retry.
		timeout, ok := p["Timeout"].(int)
		if !ok || timeout < 1 || timeout > 5 {
			t.Fatalf("Timeout = %#v, want a literal 1..5 seconds", p["Timeout"])
		}
		budget := mapOf(tmpl.parameters["BudgetMs"])
		def, _ := budget["Default"].(int)
		maxv, _ := budget["MaxValue"].(int)
		if def <= 0 || maxv <= 0 || def > maxv || maxv >= timeout*1000 {
			t.Errorf("BudgetMs Default %v, MaxValue %v: want 0 < Default <= MaxValue < Timeout (%d ms)", budget["Default"], budget["MaxValue"], timeout*1000)
		}
	})

	t.Run("LogGroup", func(t *testing.T) {
		lg := get(p, "LoggingConfig", "LogGroup")
		id, _ := get(lg, "Ref").(string)
		r := tmpl.resources[id]
		if r["Type"] != "AWS::Logs::LogGroup" {
			t.Fatalf("LoggingConfig.LogGroup = %#v, want a Ref to an AWS::Logs::LogGroup of the template", lg)
		}
		if get(r, "Properties", "RetentionInDays") == nil {
			t.Errorf("log group %s has no RetentionInDays", id)
		}
	})

	t.Run("MakefileTarget", func(t *testing.T) {
		// BuildMethod makefile runs build-<logical id>: renaming the function
		// without the target breaks sam build.
		mk, err := os.ReadFile("Makefile")
		if err != nil {
			t.Fatal(err)
		}
		if target := "\nbuild-" + functionID + ":"; !strings.Contains(string(mk), target) {
			t.Errorf("Makefile has no %q target", strings.TrimSpace(target))
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
			actionCovers(a, "cognito-idp:AdminAddUserToGroup") || actionCovers(a, "cognito-idp:AdminDeleteUser") {
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
	fn := mapOf(tmpl.resources[functionID]["Properties"])

	// SAM policy templates, managed policy names and an explicit role can
	// grant Cognito actions without a statement this test could read: the
	// function uses the role SAM generates (which gets only
	// AWSLambdaBasicExecutionRole) and nothing else.
	for _, key := range []string{"Policies", "Role", "PermissionsBoundary"} {
		if fn[key] != nil {
			t.Errorf("%s has %s %#v, want none: grant Cognito access only in the separate AWS::IAM::Policy", functionID, key, fn[key])
		}
	}
	for id, r := range tmpl.resources {
		if v := get(r, "Properties", "ManagedPolicyArns"); v != nil {
			t.Errorf("%s has ManagedPolicyArns %#v, want none", id, v)
		}
	}

	var grants []statement
	for _, s := range tmpl.statements() {
		if grantsCognito(s.body) {
			grants = append(grants, s)
		}
	}
	if len(grants) != 1 {
		t.Fatalf("statements that may allow a cognito-idp action = %d (%v), want exactly 1", len(grants), grants)
	}
	s := grants[0]
	if s.body["Effect"] != "Allow" {
		t.Errorf("Effect = %#v, want Allow", s.body["Effect"])
	}
	if got := asList(s.body["Action"]); !cmp.Equal(got, []any{"cognito-idp:AdminAddUserToGroup"}) {
		t.Errorf("Action = %#v, want exactly cognito-idp:AdminAddUserToGroup", s.body["Action"])
	}
	if s.body["NotResource"] != nil {
		t.Errorf("NotResource = %#v, want none", s.body["NotResource"])
	}
	for _, str := range allStrings(s.body["Resource"]) {
		if strings.Contains(str, "*") {
			t.Errorf("Resource contains %q: no wildcard, one pool only", str)
		}
	}
	resources := asList(s.body["Resource"])
	if diff := cmp.Diff([]any{poolArn(poolID, cond)}, resources); diff != "" {
		t.Errorf("Resource = %#v, want the pool's ARN in both modes (-want +got):\n%s", resources, diff)
	}

	holder := tmpl.resources[s.resource]
	if holder["Type"] != "AWS::IAM::Policy" {
		t.Errorf("the Cognito statement is in %s, a %v; want a separate AWS::IAM::Policy (no cycle)", s.resource, holder["Type"])
	}
	if roles := get(holder, "Properties", "Roles"); !cmp.Equal(roles, []any{ref(functionID + "Role")}) {
		t.Errorf("%s Roles = %#v, want [!Ref %sRole] (the role SAM generates)", s.resource, roles, functionID)
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

	// SAM's Cognito event adds a permission with SourceArn only.
	for name, ev := range mapOf(get(tmpl.resources[functionID], "Properties", "Events")) {
		if get(ev, "Type") == "Cognito" {
			t.Errorf("%s has Cognito event %s: its generated permission lacks SourceAccount", functionID, name)
		}
	}

	found := 0
	for _, id := range tmpl.ofType("AWS::Lambda::Permission") {
		p := mapOf(tmpl.resources[id]["Properties"])
		if p["Principal"] != "cognito-idp.amazonaws.com" {
			continue
		}
		found++
		if diff := cmp.Diff(poolArn(poolID, cond), p["SourceArn"]); diff != "" {
			t.Errorf("%s SourceArn = %#v, want the pool's ARN (-want +got):\n%s", id, p["SourceArn"], diff)
		}
		if !cmp.Equal(p["SourceAccount"], ref("AWS::AccountId")) {
			t.Errorf("%s SourceAccount = %#v, want !Ref AWS::AccountId", id, p["SourceAccount"])
		}
		if refs := references(p["FunctionName"]); !slices.Equal(refs, []string{functionID}) {
			t.Errorf("%s FunctionName = %#v, want the function", id, p["FunctionName"])
		}
	}
	if found == 0 {
		t.Error("no AWS::Lambda::Permission for cognito-idp.amazonaws.com: Cognito cannot invoke the function")
	}

	lc := get(tmpl.resources[poolID], "Properties", "LambdaConfig", "PostConfirmation")
	if !cmp.Equal(lc, map[string]any{"Fn::GetAtt": []any{functionID, "Arn"}}) {
		t.Errorf("%s LambdaConfig.PostConfirmation = %#v, want !GetAtt %s.Arn", poolID, lc, functionID)
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
		g[id] = []string{}
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

	t.Run("FunctionDoesNotReferencePool", func(t *testing.T) {
		fn := tmpl.resources[functionID]
		props := mapOf(fn["Properties"])
		var named []string
		for k, v := range props {
			if k != "Events" {
				named = append(named, references(v)...)
			}
		}
		for _, d := range asList(fn["DependsOn"]) {
			if s, ok := d.(string); ok {
				named = append(named, s)
			}
		}
		for _, n := range named {
			if typ, _ := tmpl.resources[n]["Type"].(string); strings.HasPrefix(typ, "AWS::Cognito::") {
				t.Errorf("%s refers to %s (%s): the pool refers to the function, so this is a cycle; read the pool id from the event", functionID, n, typ)
			}
		}
	})

	t.Run("Graph", func(t *testing.T) {
		if c := findCycle(tmpl.dependencies()); c != nil {
			t.Errorf("dependency cycle: %s", strings.Join(c, " -> "))
		}
	})

	// The check must be able to fail: each of these classic mistakes closes
	// UserPool -> Function -> Role -> UserPool.
	for _, tc := range []struct {
		name   string
		mutate func(fn map[string]any)
	}{
		{"environment variable naming the pool", func(fn map[string]any) {
			get(fn, "Environment", "Variables").(map[string]any)["USER_POOL_ID"] = ref("UserPool")
		}},
		{"SAM policy with the pool ARN", func(fn map[string]any) {
			fn["Policies"] = []any{map[string]any{"Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "cognito-idp:AdminAddUserToGroup",
				"Resource": map[string]any{"Fn::GetAtt": []any{"UserPool", "Arn"}},
			}}}}
		}},
		{"Sub naming the pool", func(fn map[string]any) {
			fn["Description"] = map[string]any{"Fn::Sub": "trigger of ${UserPool}"}
		}},
	} {
		t.Run("detects "+tc.name, func(t *testing.T) {
			mutated := loadTemplate(t)
			tc.mutate(mapOf(mutated.resources[functionID]["Properties"]))
			if c := findCycle(mutated.dependencies()); c == nil {
				t.Error("findCycle = nil, want a cycle")
			}
		})
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

func TestPoolHasEveryRuleGroup(t *testing.T) {
	tmpl := loadTemplate(t)
	have := tmpl.poolGroups(t)
	shipped, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		rules   string
		want    []string
		wantErr bool
	}{
		{name: "shipped " + rulesFile, rules: string(shipped)},
		{
			name:  "rule names a group the template lacks",
			rules: string(shipped) + "\n  - name: admins\n    when: {always: true}\n    groups: [staff, admins]\n",
			want:  []string{"admins"},
		},
		{
			name:  "default group the template lacks",
			rules: "version: 1\ndefaultGroups: [vip, customers, vip]\nrules:\n  - name: s\n    when: {always: true}\n    groups: [nobody]\n",
			want:  []string{"nobody", "vip"},
		},
		{name: "not YAML", rules: "rules: [", wantErr: true},
		{name: "no groups", rules: "version: 1\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := missingGroups([]byte(tc.rules), have)
			if (err != nil) != tc.wantErr {
				t.Fatalf("missingGroups() error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("missingGroups() = %v, want %v: every group a rule can select must exist in the pool (-want +got):\n%s", got, tc.want, diff)
			}
		})
	}
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
	ok := false
	for _, id := range alarms {
		p := mapOf(tmpl.resources[id]["Properties"])
		dims := asList(p["Dimensions"])
		if p["Namespace"] != "AWS/Lambda" || p["MetricName"] != "Errors" || len(dims) != 1 ||
			!cmp.Equal(get(dims[0], "Value"), ref(functionID)) {
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
		t.Errorf("no alarm on AWS/Lambda Errors of %s among %v", functionID, alarms)
	}

	// Both modes: these outputs carry no Condition.
	for _, name := range []string{"PostConfirmationFunctionArn", "UserPoolId", "UserPoolArn"} {
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
