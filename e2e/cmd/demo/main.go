// Command demo runs the post-confirmation function for real on this machine,
// with no AWS account and no Docker: it starts cognito-local and
// aws-lambda-rie (package harness), creates a user pool with the groups of
// the shipped rules.yaml, signs up and confirms a handful of users, and
// prints which rules matched and which groups Cognito now holds for each.
// Then it signs up one more user while Cognito throttles every
// AdminAddUserToGroup, as under a burst: the function defers the group to
// the retry queue (goaws) and the sign-up succeeds; the harness then
// drains the queue through the assignment-retry function, which adds it.
//
// A second act shows rules shipped as data (appconfig.go): the function
// reads its ruleset from a fake AWS AppConfig (RULES_SOURCE), and
// `autogroup publish` ships a first version, then a changed one that the
// next sign-up obeys, then an invalid one that is refused while the version
// in force stays.
//
// Run it with `make demo` (which installs cognito-local first) or
// `go run ./e2e/cmd/demo` from the repository.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// person is one sign-up of the demo.
type person struct {
	user harness.User
	how  harness.Confirmation
}

// label is what the table shows of a person: the demo's own fake address,
// whether it is verified, and the custom attributes.
func (p person) label() string {
	var b strings.Builder
	b.WriteString(p.user.Email)
	if p.user.EmailVerified {
		b.WriteString(" (verified)")
	} else {
		b.WriteString(" (NOT verified)")
	}
	for _, a := range []struct{ name, shown string }{{"custom:department", "department"}, {"custom:plan", "plan"}} {
		if v := p.user.Attributes[a.name]; v != "" {
			fmt.Fprintf(&b, ", %s %s", a.shown, v)
		}
	}
	return b.String()
}

// people are chosen to exercise every rule of the shipped rules.yaml that a
// sign-up with a password can reach (the identityProvider rules need a
// federated sign-in, which cognito-local does not emulate).
var people = []person{
	{
		user: harness.User{Email: "ana.lima@example.com", EmailVerified: true},
		how:  harness.ConfirmSignUp,
	},
	{
		user: harness.User{Email: "eve.mallory@example.com"},
		how:  harness.ConfirmSignUp,
	},
	{
		user: harness.User{Email: "raj.patel@example.com", EmailVerified: true,
			Attributes: map[string]string{"custom:department": "Engineering"}},
		how: harness.AdminConfirmSignUp,
	},
	{
		user: harness.User{Email: "mia.chen@shop.example.net", EmailVerified: true,
			Attributes: map[string]string{"custom:plan": "pro"}},
		how: harness.ConfirmSignUp,
	},
	{
		user: harness.User{Email: "sam.okafor@mail.example.org", EmailVerified: true},
		how:  harness.ConfirmSignUp,
	},
	{
		user: harness.User{Email: "qa+bot@qa.example.com", EmailVerified: true},
		how:  harness.AdminConfirmSignUp,
	},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		var missing *harness.MissingError
		if errors.As(err, &missing) {
			fmt.Fprintln(os.Stderr, "demo: the local emulators are installed by `make e2e-deps` (make demo runs it)")
		}
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	started := time.Now()
	fmt.Fprintln(out, "cognito-autogroup demo: a user pool in cognito-local with the function as its")
	fmt.Fprintln(out, "PostConfirmation trigger under aws-lambda-rie. No AWS account, no Docker.")
	fmt.Fprintln(out)

	logf := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	// One build for both acts.
	build, err := harness.NewBuild(ctx, harness.BuildOptions{Logf: logf})
	if err != nil {
		return err
	}
	defer build.Remove()
	env, err := harness.Start(ctx, harness.Options{
		Build: build,
		Logf:  logf,
		// The retry queue, and a proxy that can throttle the functions'
		// AdminAddUserToGroup; it lets every call through until deferred.
		Queue:        &harness.QueueOptions{},
		CognitoLimit: &harness.RateLimit{Op: "AdminAddUserToGroup", PerSecond: math.Inf(1)},
	})
	if err != nil {
		return err
	}
	defer env.Stop()

	pool, err := env.CreatePool(ctx)
	if err != nil {
		return err
	}
	groups, err := env.RulesetGroups()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created pool %s with the groups of functions/post-confirmation/rules.yaml: %s\n\n",
		pool.ID, strings.Join(groups, ", "))

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tCONFIRMED WITH\tRULES MATCHED\tGROUPS IN COGNITO\tFUNCTION")
	var resetUser, resetSub string
	for _, p := range people {
		sub, err := pool.SignUp(ctx, p.user, p.how)
		if err != nil {
			return fmt.Errorf("%s: %w", p.label(), err)
		}
		if resetUser == "" && p.user.EmailVerified {
			resetUser, resetSub = p.user.Email, sub
		}
		row, err := describe(ctx, env, pool, sub, "PostConfirmation_ConfirmSignUp")
		if err != nil {
			return fmt.Errorf("%s: %w", p.label(), err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.label(), p.how, row.rules, row.groups, row.function)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	// A password reset runs the trigger too; the shipped ruleset ignores it.
	if err := pool.ResetPassword(ctx, resetUser, ""); err != nil {
		return err
	}
	row, err := describe(ctx, env, pool, resetSub, "PostConfirmation_ConfirmForgotPassword")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThen %s reset the password: the trigger ran with PostConfirmation_ConfirmForgotPassword,\n", resetUser)
	fmt.Fprintf(out, "which the shipped ruleset does not handle. Decision: %s; function %s; groups in Cognito: %s.\n", row.outcome, row.function, row.groups)

	if err := deferred(ctx, out, env, pool); err != nil {
		return err
	}
	env.Stop()

	if err := runRulesAct(ctx, out, build); err != nil {
		return err
	}

	fmt.Fprint(out, `
Where this differs from Cognito:
  - cognito-local never sets email_verified. Cognito does when a user confirms with a
    code sent by email, so the demo sets it (AdminUpdateUserAttributes) before confirming
    the users marked "verified". emailDomain rules ignore unverified addresses.
  - cognito-local answers a confirmation with success even when the trigger fails, where
    Cognito answers UserLambdaValidationException. The FUNCTION column comes from a
    recording proxy between cognito-local and aws-lambda-rie, not from cognito-local.
  - Its events carry version "0" and region "local"; after AdminConfirmSignUp
    callerContext.clientId is null. Federated sign-ins (Google, SAML) are not emulated:
    try events/federated-google.json with make invoke.
  - AppConfig has no emulator: internal/appconfigfake answers the Data API and the
    control-plane calls publish makes. Its deployments complete after three polls
    whatever the strategy, and it runs the rules-validator function's check in process.
`)
	fmt.Fprintf(out, "\ndone in %s; emulators stopped.\n", time.Since(started).Round(100*time.Millisecond))
	return nil
}

// row is what the table shows of one invocation.
type row struct {
	rules, groups, function, outcome string
	// deferred names the groups put on the retry queue.
	deferred string
	// decision is the function's decision record; nil when none was found.
	decision harness.LogRecord
}

// describe reads back, for the user with this sub, the invocation the
// proxy recorded, the function's decision record and the groups in Cognito.
func describe(ctx context.Context, env *harness.Env, pool *harness.Pool, sub, triggerSource string) (row, error) {
	var r row
	var inv *harness.Invocation
	for _, i := range env.Invocations() {
		if i.UserName() == sub && i.TriggerSource() == triggerSource {
			inv = &i
		}
	}
	if inv == nil {
		return r, fmt.Errorf("cognito-local did not invoke the function with %s", triggerSource)
	}
	r.function = fmt.Sprintf("returned the event, %d ms", inv.Duration.Milliseconds())
	if inv.Error != nil {
		r.function = fmt.Sprintf("FAILED: %s", inv.Error.Message)
	}
	r.rules = "?"
	if d, err := env.Decision(*inv); err == nil {
		r.decision = d
		r.outcome = d.String("outcome")
		r.deferred = strings.Join(d.Strings("deferred"), ", ")
		matched := d.Strings("matchedRules")
		switch {
		case len(matched) > 0:
			r.rules = strings.Join(matched, ", ")
		case d["defaultApplied"] == true:
			r.rules = "none: defaultGroups"
		default:
			r.rules = "none"
		}
	}
	groups, err := pool.GroupsOf(ctx, sub)
	if err != nil {
		return r, err
	}
	r.groups = strings.Join(groups, ", ")
	if r.groups == "" {
		r.groups = "(none)"
	}
	return r, nil
}

// deferred signs one user up while Cognito throttles every
// AdminAddUserToGroup, then lets the calls through and drains the retry
// queue, printing one line for each step.
func deferred(ctx context.Context, out io.Writer, env *harness.Env, pool *harness.Pool) error {
	const email = "lee.wong@mail.example.org"
	env.SetCognitoRate(0)
	sub, err := pool.SignUp(ctx, harness.User{Email: email, EmailVerified: true}, harness.ConfirmSignUp)
	if err != nil {
		return fmt.Errorf("%s: %w", email, err)
	}
	r, err := describe(ctx, env, pool, sub, "PostConfirmation_ConfirmSignUp")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThrottled: %s signed up while Cognito refused every AdminAddUserToGroup: decision %s (%s queued), %s; groups in Cognito: %s.\n",
		email, r.outcome, r.deferred, r.function, r.groups)

	env.SetCognitoRate(math.Inf(1))
	report, err := env.Drain(ctx, harness.DrainOptions{Timeout: 30 * time.Second})
	if err != nil {
		return err
	}
	groups, err := pool.GroupsOf(ctx, sub)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Completed: the throttling ended and assignment-retry drained the retry queue (%d message, %s): groups in Cognito: %s.\n",
		report.Deleted, report.Duration.Round(100*time.Millisecond), strings.Join(groups, ", "))
	return nil
}
