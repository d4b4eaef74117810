package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

var checkPoolCmd = &command{
	name:    "check-pool",
	aws:     true,
	args:    "(--pool POOL_ID | --stack NAME) [--rules FILE] [--post-confirmation ARN] [--pre-token-generation ARN] [--create-missing-groups [--dry-run]] [--json]",
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
    custom ones too. email_verified cannot be written by app clients. email is
    judged condition by condition: it is safe to write when every condition
    that can grant a group on it requires a verified address (emailDomain
    with requireVerifiedEmail: true, or an all with email_verified equals
    "true"), because a changed address is unverified;
  - every clientId a condition names is an app client of the pool (error if
    not), with a secret: a client without one is known by its id alone, which
    is public, so anyone can sign up through it (warning). For conditions
    whose clients all have a secret, the ruleset's clientId warning is
    dropped; under not, it stays;
  - every identityProvider name is an identity provider of the pool (error
    if not; names are case-sensitive);
  - when the rules trust email_verified, nothing else can set it: a
    PreSignUp trigger (it may auto-verify addresses), a UserMigration
    trigger, an identity provider whose attribute mapping writes
    email_verified (a warning each);
  - the pool has a PostConfirmation trigger (warning if not: new users get no
    groups); its ARN is reported. With --post-confirmation (and
    --pre-token-generation), such as the stack's outputs, the trigger must be
    that function (error if not: autogroup attach sets it);
  - the ruleset's own warnings (such as more groups than a user can hold).

With --create-missing-groups, it first creates (CreateGroup) every group the
rules can select that the pool lacks: those of the rules and defaultGroups,
and those a groupsFrom names when its matches admits only a few literal
values (such as "eng|ops"); memberOf groups are only read, and are not
created. Each group gets the description "managed by cognito-autogroup".
A groupsFrom whose groups cannot be known before users have the values
("[a-z0-9-]{1,40}") gets a warning naming its rule, and none of its groups
is created. A group that exists by the time it is created counts as
present; a group that cannot be created is an error, and the next one is
tried. The checks then judge the pool as it is after the creation. With
--dry-run, nothing is created: it shows what would be.

Each finding is one line on standard output, "error: ...", "warning: ..." or
"ok: ...", and each group created "created: group NAME" ("would create:
group NAME" with --dry-run), followed by the counts. With --json, prints one
JSON object instead: pool, rules, errors, warnings and ok, each a list of
messages, and with --create-missing-groups created (and with --dry-run
wouldCreate), lists of group names.

--stack NAME reads the outputs of the CloudFormation stack NAME (the one
sam deploy created) and takes --pool from UserPoolId, --post-confirmation
from PostConfirmationFunctionArn and --pre-token-generation from
PreTokenGenerationFunctionArn (when the stack has the token function), so
the pool is checked against the stack's own functions. A flag given on the
command line wins over the output.

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...;
AWS_ENDPOINT_URL_CLOUDFORMATION for --stack). With --stack, the caller
needs cloudformation:DescribeStacks on the stack. IAM actions on the pool: cognito-idp:DescribeUserPool, cognito-idp:ListGroups,
cognito-idp:ListUserPoolClients, cognito-idp:DescribeUserPoolClient, and for
rules that name an identity provider or trust email_verified
cognito-idp:ListIdentityProviders and cognito-idp:DescribeIdentityProvider
(an endpoint without them, such as cognito-local, leaves the providers
unchecked, with a warning), and with --create-missing-groups
cognito-idp:CreateGroup.

Examples:
  autogroup check-pool --pool us-east-1_EXAMPLE
  autogroup check-pool --stack autogroup
  autogroup check-pool --pool us-east-1_EXAMPLE --rules my-rules.yaml --json
  autogroup check-pool --pool us-east-1_EXAMPLE --rules my-rules.yaml --create-missing-groups --dry-run`,
	exitHelp: `Exit codes:
  0  no error (warnings do not change it); with --create-missing-groups,
     the groups it created count as existing
  1  an error: a group that does not exist or could not be created, an
     attribute not in the schema, a clientId or identityProvider name the
     pool does not have, a trigger that is not the function
     --post-confirmation or --pre-token-generation names
  2  usage error or unloadable input: bad flags, no --pool, a ruleset that
     cannot be read or does not load, a user pool that cannot be read, a
     --stack that cannot be read or lacks an output it needs
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		pool := fs.String("pool", "", "the user pool `POOL_ID`, such as us-east-1_EXAMPLE")
		rulesPath := rulesFlag(fs)
		asJSON := fs.Bool("json", false, "print the findings as one JSON object")
		post := fs.String("post-confirmation", "", "the `ARN` the PostConfirmation trigger must be")
		token := fs.String("pre-token-generation", "", "the `ARN` the PreTokenGeneration trigger must be")
		create := fs.Bool("create-missing-groups", false, "create the groups the rules can select that the pool lacks (cognito-idp:CreateGroup)")
		dryRun := fs.Bool("dry-run", false, "with --create-missing-groups: show the groups it would create, create none")
		stack := defineStackFlag(fs, "--pool, --post-confirmation and --pre-token-generation")
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "check-pool", "unexpected argument %q", args[0])
			}
			if _, ok := stack.fill(e, "check-pool", fillPool, fillPostConfirmation, fillPreToken); !ok {
				return exitUsage
			}
			if *pool == "" {
				return usageError(e, "check-pool", "--pool or --stack is required")
			}
			if *dryRun && !*create {
				return usageError(e, "check-pool", "--dry-run needs --create-missing-groups (the checks alone change nothing)")
			}
			return e.checkPool(*pool, *rulesPath, *asJSON, triggerChange{postConfirmation: *post, preToken: *token}, createOptions{create: *create, dryRun: *dryRun})
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
	// Created and WouldCreate are the groups created, and those that would
	// be with --dry-run; nil (left out) without --create-missing-groups.
	Created     []string `json:"created,omitzero"`
	WouldCreate []string `json:"wouldCreate,omitzero"`
	lines       []string // in order, with their prefix
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

func (e *env) checkPool(poolID, rulesPath string, asJSON bool, want triggerChange, groups createOptions) int {
	name, rs, ok := e.loadRules("check-pool", rulesPath)
	if !ok {
		return exitUsage
	}
	api, ok := e.cognitoClient("check-pool", poolID)
	if !ok {
		return exitUsage
	}
	read := newReader(api, checkPoolRate)
	st, err := readPool(e.ctx, read, poolID, needsProviders(rs.Conditions()))
	if err != nil {
		printf(e.stderr, "autogroup check-pool: cannot %v\n", err)
		return exitUsage
	}
	r := &poolReport{Pool: poolID, Rules: name, Errors: []string{}, Warnings: []string{}, OK: []string{}}
	if groups.create {
		r.createMissing(e, read, poolID, groupsToHave(rs), st, groups.dryRun)
	}
	r.check(rs, st)
	r.checkTriggers(st.pool.LambdaConfig, want)
	return e.printPoolReport(r, aws.ToString(st.pool.Name), asJSON)
}

// poolState is what check-pool reads of a user pool.
type poolState struct {
	pool      *types.UserPoolType
	groups    map[string]bool // the names of its groups
	clients   []*types.UserPoolClientType
	providers []*types.IdentityProviderType
	// providersRead is false when the identity providers were not read:
	// the rules need nothing of them, or providersErr says why not.
	providersRead bool
	providersErr  error
}

// needsProviders reports whether the rules need the pool's identity
// providers: they name some, or they trust email_verified, which a
// provider's attribute mapping may write.
func needsProviders(conds []rules.ConditionInfo) bool {
	return slices.ContainsFunc(conds, func(c rules.ConditionInfo) bool {
		return c.Form == "identityProvider" || trustsVerified(c)
	})
}

// readPool reads what check-pool checks, the identity providers only when
// withProviders is set. An endpoint that does not implement the identity
// provider operations (an emulator) leaves them unread, with the reason.
func readPool(ctx context.Context, read *reader, poolID string, withProviders bool) (*poolState, error) {
	pool, err := read.pool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	st := &poolState{pool: pool.UserPool}
	if st.groups, err = read.groups(ctx, poolID); err != nil {
		return nil, err
	}
	clients, err := read.clients(ctx, poolID)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		st.clients = append(st.clients, c.UserPoolClient)
	}
	if !withProviders {
		return st, nil
	}
	st.providers, err = read.providers(ctx, poolID)
	switch {
	case notImplemented(err):
		st.providers, st.providersErr = nil, err
	case err != nil:
		return nil, err
	default:
		st.providersRead = true
	}
	return st, nil
}

// check fills the report.
func (r *poolReport) check(rs *rules.Ruleset, st *poolState) {
	infos := rs.Rules()
	conds := rs.Conditions()
	lc := st.pool.LambdaConfig
	if lc == nil { // a pool without triggers may have none
		lc = &types.LambdaConfigType{}
	}

	// The trigger.
	if arn := aws.ToString(lc.PostConfirmation); arn != "" {
		r.okf("PostConfirmation trigger: %s", arn)
	} else {
		r.warnf("the pool has no PostConfirmation trigger: users who sign up get no group until the function is attached (template.yaml attaches it to a pool it creates)")
	}

	// The groups.
	want := groupsToHave(rs)
	var missing int
	for _, g := range want.names {
		if !st.groups[g] {
			missing++
			r.errorf("group %q (%s) does not exist in the pool: adding a user to it fails with ResourceNotFoundException; create it (autogroup check-pool --create-missing-groups)", g, strings.Join(want.selectedBy[g], ", "))
		}
	}
	if missing == 0 && len(want.names) > 0 {
		r.okf("the %s the rules select exist: %s", plural(len(want.names), "group", "groups"), strings.Join(want.names, ", "))
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
	for _, a := range st.pool.SchemaAttributes {
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
	r.checkClients(infos, conds, attrs, schema, readBy, st.clients)
	checked := r.checkClientIDs(infos, conds, st.clients)
	if st.providersErr != nil {
		r.warnf("cannot %v: the endpoint does not implement it, so the identityProvider names of the rules and what the providers map to email_verified were not checked", st.providersErr)
	}
	if st.providersRead {
		r.checkProviders(conds, st.providers)
	}
	r.checkVerifiedSources(infos, conds, lc, st.providers, st.providersRead)

	// The ruleset's own warnings, but those on clientId conditions that
	// checkClientIDs judged with what it knows of the pool's clients.
	for _, w := range rs.Warnings() {
		if w.Message == rules.WarnClientID && checked[position{w.Line, w.Column}] {
			continue
		}
		r.warnf("%s", w.Format(r.Rules))
	}
}

// position is where a condition starts in the ruleset.
type position struct{ line, column int }

// at names where a condition starts, for messages: "at 12:9".
func at(c rules.ConditionInfo) string { return fmt.Sprintf("at %d:%d", c.Line, c.Column) }

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
		if f := info.GroupsFrom; f != nil { // the groups it names from a value
			groups = append(groups, f.Prefix+"<"+f.Attribute+">"+f.Suffix)
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
	counts := plural(len(r.Errors), "error", "errors") + ", " + plural(len(r.Warnings), "warning", "warnings")
	switch {
	case r.WouldCreate != nil:
		counts += "; " + plural(len(r.WouldCreate), "group", "groups") + " to create"
	case r.Created != nil:
		counts += "; " + plural(len(r.Created), "group", "groups") + " created"
	}
	printf(e.stdout, "\n%s\n", counts)
	return code
}
