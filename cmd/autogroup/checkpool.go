package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

var checkPoolCmd = &command{
	name:    "check-pool",
	args:    "--pool POOL_ID [--rules FILE] [--json]",
	summary: "check a user pool against the rules: groups, attributes, trigger",
	help: `Reads the user pool's configuration and checks it against the ruleset:

  - every group the rules select exists (error if not: adding a user to it
    fails, and with onError: fail the sign-up fails);
  - every attribute the rules read is in the pool's schema (error if not: no
    user has it); sub, email, email_verified, identities and
    cognito:user_status are always there. Custom attributes are named
    custom:NAME, as in the rules;
  - no app client can write an attribute the rules read (warning if one can:
    a user could set it and grant themselves the group). A client without
    WriteAttributes may write every standard attribute, and is taken to write
    custom ones too. email_verified cannot be written by app clients, and
    email is safe to write when the rules read it only through emailDomain
    with requireVerifiedEmail: true, because a changed address is unverified;
  - the pool has a PostConfirmation trigger (warning if not: new users get no
    groups); its ARN is reported;
  - the ruleset's own warnings (such as more groups than a user can hold).

Each finding is one line on standard output, "error: ...", "warning: ..." or
"ok: ...", followed by the counts. With --json, prints one JSON object instead:
pool, rules, errors, warnings and ok, each a list of messages.

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...).
IAM actions on the pool: cognito-idp:DescribeUserPool, cognito-idp:ListGroups,
cognito-idp:ListUserPoolClients and cognito-idp:DescribeUserPoolClient.

Examples:
  autogroup check-pool --pool us-east-1_EXAMPLE
  autogroup check-pool --pool us-east-1_EXAMPLE --rules my-rules.yaml --json`,
	exitHelp: `Exit codes:
  0  no error (warnings do not change it)
  1  an error: a group that does not exist, an attribute not in the schema
  2  usage error or unloadable input: bad flags, no --pool, a ruleset that
     cannot be read or does not load, a user pool that cannot be read
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		pool := fs.String("pool", "", "the user pool `POOL_ID`, such as us-east-1_EXAMPLE")
		rulesPath := rulesFlag(fs)
		asJSON := fs.Bool("json", false, "print the findings as one JSON object")
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "check-pool", "unexpected argument %q", args[0])
			}
			if *pool == "" {
				return usageError(e, "check-pool", "--pool is required")
			}
			return e.checkPool(*pool, *rulesPath, *asJSON)
		}
	},
}

// checkPoolRate paces check-pool's reads, in requests per second.
const checkPoolRate = 10

// Attributes every user pool has, whatever its schema says.
var alwaysPresent = []string{"sub", "email", "email_verified", "identities", "cognito:user_status"}

// notClientWritable are the attributes no app client can write.
var notClientWritable = []string{"sub", "email_verified", "phone_number_verified", "identities"}

// poolReport collects the findings of check-pool.
type poolReport struct {
	Pool     string   `json:"pool"`
	Rules    string   `json:"rules"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
	OK       []string `json:"ok"`
	lines    []string // in order, with their prefix
}

func (r *poolReport) add(list *[]string, prefix, format string, args ...any) {
	msg := sprintf(format, args...)
	*list = append(*list, msg)
	r.lines = append(r.lines, prefix+": "+msg)
}

func (r *poolReport) errorf(format string, args ...any) {
	r.add(&r.Errors, "error", format, args...)
}

func (r *poolReport) warnf(format string, args ...any) {
	r.add(&r.Warnings, "warning", format, args...)
}

func (r *poolReport) okf(format string, args ...any) {
	r.add(&r.OK, "ok", format, args...)
}

func (e *env) checkPool(poolID, rulesPath string, asJSON bool) int {
	name, rs, ok := e.loadRules("check-pool", rulesPath)
	if !ok {
		return exitUsage
	}
	api, ok := e.cognitoClient("check-pool")
	if !ok {
		return exitUsage
	}
	read := newReader(api, checkPoolRate)
	pool, err := read.pool(e.ctx, poolID)
	if err == nil {
		var groups map[string]bool
		if groups, err = read.groups(e.ctx, poolID); err == nil {
			var clients []*cip.DescribeUserPoolClientOutput
			if clients, err = read.clients(e.ctx, poolID); err == nil {
				r := &poolReport{Pool: poolID, Rules: name, Errors: []string{}, Warnings: []string{}, OK: []string{}}
				r.check(rs, pool, groups, clients)
				return e.printPoolReport(r, aws.ToString(pool.UserPool.Name), asJSON)
			}
		}
	}
	printf(e.stderr, "autogroup check-pool: cannot %v\n", err)
	return exitUsage
}

// check fills the report.
func (r *poolReport) check(rs *rules.Ruleset, pool *cip.DescribeUserPoolOutput, groups map[string]bool, clients []*cip.DescribeUserPoolClientOutput) {
	infos := rs.Rules()

	// The trigger.
	if arn := aws.ToString(pool.UserPool.LambdaConfig.PostConfirmation); arn != "" {
		r.okf("PostConfirmation trigger: %s", arn)
	} else {
		r.warnf("the pool has no PostConfirmation trigger: users who sign up get no group until the function is attached (template.yaml attaches it to a pool it creates)")
	}

	// The groups.
	selectedBy := map[string][]string{}
	for _, info := range infos {
		for _, g := range info.Groups {
			if !slices.Contains(selectedBy[g], "rule "+info.Name) {
				selectedBy[g] = append(selectedBy[g], "rule "+info.Name)
			}
		}
	}
	for _, g := range rs.DefaultGroups() {
		selectedBy[g] = append(selectedBy[g], "defaultGroups")
	}
	var missing int
	for _, g := range rs.GroupNames() {
		if !groups[g] {
			missing++
			r.errorf("group %q (%s) does not exist in the pool: adding a user to it fails with ResourceNotFoundException; create it", g, strings.Join(selectedBy[g], ", "))
		}
	}
	if missing == 0 && len(rs.GroupNames()) > 0 {
		r.okf("the %s the rules select exist: %s", plural(len(rs.GroupNames()), "group", "groups"), strings.Join(rs.GroupNames(), ", "))
	}

	// The attributes: in the schema, and who can write them.
	readBy := map[string][]rules.RuleInfo{}
	var attrs []string
	for _, info := range infos {
		for _, a := range info.Attributes {
			if _, ok := readBy[a]; !ok {
				attrs = append(attrs, a)
			}
			readBy[a] = append(readBy[a], info)
		}
	}
	slices.Sort(attrs)
	schema := map[string]bool{}
	for _, a := range pool.UserPool.SchemaAttributes {
		schema[aws.ToString(a.Name)] = true
	}
	var unknown int
	for _, a := range attrs {
		if schema[a] || slices.Contains(alwaysPresent, a) {
			continue
		}
		unknown++
		hint := ""
		if schema["custom:"+a] {
			hint = fmt.Sprintf(`; did you mean "custom:%s"?`, a)
		}
		r.errorf("attribute %q (%s) is not in the pool's schema: no user has it, so the rules see it absent%s", a, ruleList(readBy[a]), hint)
	}
	if unknown == 0 && len(attrs) > 0 {
		r.okf("the attributes the rules read are in the pool's schema: %s", strings.Join(attrs, ", "))
	}
	r.checkClients(rs, attrs, schema, readBy, clients)

	// The ruleset's own warnings.
	for _, w := range rs.Warnings() {
		r.warnf("%s", w.Format(r.Rules))
	}
}

// checkClients reports the attributes the rules read that app clients can write.
// Attributes not in the schema were reported already: no client writes them.
func (r *poolReport) checkClients(rs *rules.Ruleset, attrs []string, schema map[string]bool, readBy map[string][]rules.RuleInfo, clients []*cip.DescribeUserPoolClientOutput) {
	if slices.Contains(attrs, "email_verified") {
		r.okf("email_verified cannot be written by app clients: only Cognito (when an address is verified) and administrators set it")
	}
	// email is safe to write when every rule that reads it requires a
	// verified address through emailDomain: Cognito marks a changed
	// address unverified.
	emailGuarded := rs.RequireVerifiedEmail()
	for _, info := range readBy["email"] {
		if !slices.Contains(info.Forms, "emailDomain") {
			emailGuarded = false
		}
	}
	var checked []string // attributes a client might write
	for _, a := range attrs {
		if (schema[a] || slices.Contains(alwaysPresent, a)) && !slices.Contains(notClientWritable, a) && !strings.HasPrefix(a, "cognito:") {
			checked = append(checked, a)
		}
	}
	if len(clients) == 0 {
		r.okf("the pool has no app client: no user can write an attribute")
		return
	}
	var emailWriters []string
	risky := 0
	for _, c := range clients {
		client := c.UserPoolClient
		name := fmt.Sprintf("%s (%s)", aws.ToString(client.ClientName), aws.ToString(client.ClientId))
		label := "app client " + name
		all := len(client.WriteAttributes) == 0
		for _, a := range checked {
			if !all && !slices.Contains(client.WriteAttributes, a) {
				continue
			}
			if a == "email" && emailGuarded {
				emailWriters = append(emailWriters, name)
				continue
			}
			risky++
			how := "can write " + a
			if all {
				how = "sets no WriteAttributes, so it may write " + a + " (AWS documents that such a client writes every standard attribute; custom ones are assumed writable too)"
			}
			why := "reads it"
			if a == "email" {
				why = "reads it without requiring a verified address"
			}
			fix := "leave it out of the client's WriteAttributes"
			if all {
				fix = "give the client a WriteAttributes list without it"
			}
			r.warnf("%s %s, and %s %s: a user could set it and get %s; %s",
				label, how, ruleList(readBy[a]), why, groupsOf(readBy[a]), fix)
		}
	}
	if len(emailWriters) > 0 {
		who := "app client " + emailWriters[0]
		if n := len(emailWriters); n > 1 {
			who = "app clients " + strings.Join(emailWriters[:n-1], ", ") + " and " + emailWriters[n-1]
		}
		r.okf("%s can write email, which the rules read only through emailDomain with requireVerifiedEmail: true: a changed address is unverified until its owner confirms it", who)
		checked = slices.DeleteFunc(checked, func(a string) bool { return a == "email" })
	}
	if risky == 0 && len(checked) > 0 {
		r.okf("no app client can write the attributes the rules read: %s", strings.Join(checked, ", "))
	}
}

// ruleList names rules: "rule a" or "rules a, b".
func ruleList(infos []rules.RuleInfo) string {
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = info.Name
	}
	if len(names) == 1 {
		return "rule " + names[0]
	}
	return "rules " + strings.Join(names, ", ")
}

// groupsOf names the groups of rules: "group a" or "groups a, b".
func groupsOf(infos []rules.RuleInfo) string {
	var groups []string
	for _, info := range infos {
		for _, g := range info.Groups {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	if len(groups) == 1 {
		return "group " + groups[0]
	}
	return "groups " + strings.Join(groups, ", ")
}

// printPoolReport prints the report and returns the exit code.
func (e *env) printPoolReport(r *poolReport, poolName string, asJSON bool) int {
	code := exitOK
	if len(r.Errors) > 0 {
		code = exitProblems
	}
	if asJSON {
		if c := writeJSON(e, r); c != exitOK {
			return c
		}
		return code
	}
	label := r.Pool
	if poolName != "" {
		label += " (" + poolName + ")"
	}
	printf(e.stdout, "user pool: %s\nruleset:   %s\n\n", label, r.Rules)
	for _, l := range r.lines {
		printf(e.stdout, "%s\n", l)
	}
	printf(e.stdout, "\n%s, %s\n", plural(len(r.Errors), "error", "errors"), plural(len(r.Warnings), "warning", "warnings"))
	return code
}
