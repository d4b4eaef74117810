// Command invoke runs the post-confirmation function once on an event file,
// under aws-lambda-rie against a fresh cognito-local: the equivalent of
// `sam local invoke -e EVENT` without Docker or an AWS account.
//
//	go run ./e2e/cmd/invoke -event events/signup-company-email.json [-rules rules.yaml] [-trust-event]
//
// It creates a user pool holding the groups the ruleset names and a user
// with the event's attributes, points the event's userPoolId, userName and
// sub at them (so that the function's AdminGetUser finds the user and its
// AdminAddUserToGroup lands), invokes the function, and prints its
// response, its log lines and the user's groups afterwards. The function
// decides on the local user's attributes, as it does in Lambda; those
// cognito-local cannot give a user (identities, cognito:user_status) are
// then not the event's: -trust-event runs it with AUTOGROUP_VERIFY_USER=false
// to decide on the event's. The exit status is 1 when the function
// returned an error.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// errFunctionFailed is returned when the function answered with an error.
var errFunctionFailed = errors.New("the function returned an error")

func main() {
	eventFile := flag.String("event", "", "the event to invoke the function with (required), e.g. events/signup-company-email.json")
	rulesFile := flag.String("rules", "", "a ruleset to run instead of the embedded one (passed as RULES_FILE)")
	trust := flag.Bool("trust-event", false, "decide on the event's attributes (AUTOGROUP_VERIFY_USER=false), not on the local user's")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: invoke -event FILE [-rules FILE] [-trust-event]")
		fmt.Fprintln(flag.CommandLine.Output(), "Runs the function once under aws-lambda-rie against a fresh cognito-local.")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *eventFile == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, *eventFile, *rulesFile, *trust)
	stop()
	switch {
	case errors.Is(err, errFunctionFailed):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "invoke:", err)
		var missing *harness.MissingError
		if errors.As(err, &missing) {
			fmt.Fprintln(os.Stderr, "invoke: the local emulators are installed by `make e2e-deps` (make invoke runs it)")
		}
		os.Exit(2)
	}
}

// event is a PostConfirmation event decoded generically, so that fields the
// harness does not know are sent on as they are.
type event map[string]any

func readEvent(path string) (event, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var ev event
	if err := dec.Decode(&ev); err != nil || ev == nil {
		return nil, nil, fmt.Errorf("%s: not a JSON object: %v", path, err)
	}
	req, _ := ev["request"].(map[string]any)
	raw, _ := req["userAttributes"].(map[string]any)
	if raw == nil {
		return nil, nil, fmt.Errorf("%s: no request.userAttributes object", path)
	}
	attrs := map[string]string{}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%s: request.userAttributes.%s is a JSON %T; Cognito sends every attribute as a string", path, k, v)
		}
		attrs[k] = s
	}
	return ev, attrs, nil
}

func run(ctx context.Context, out io.Writer, eventFile, rulesFile string, trust bool) error {
	ev, attrs, err := readEvent(eventFile)
	if err != nil {
		return err
	}
	email := attrs["email"]
	var fnEnv []string
	if trust {
		fnEnv = append(fnEnv, "AUTOGROUP_VERIFY_USER=false")
	}
	env, err := harness.Start(ctx, harness.Options{
		RulesFile:      rulesFile,
		PlainUsernames: email == "",
		FunctionEnv:    fnEnv,
		Logf:           func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	defer env.Stop()

	ruleset := "the embedded rules.yaml"
	if rulesFile != "" {
		ruleset = rulesFile
	}
	groups, err := env.RulesetGroups()
	if err != nil {
		// Invoke all the same: the function's log says what is wrong.
		fmt.Fprintf(out, "%s does not load (%v): creating no groups\n", ruleset, err)
	}
	pool, err := env.CreatePoolWithGroups(ctx, groups)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created pool %s with the groups %s names: %s\n", pool.ID, ruleset, strings.Join(groups, ", "))

	// The user the event is about, with its attributes (those Cognito
	// manages itself, such as sub and identities, are left to Cognito).
	username, _ := ev["userName"].(string)
	if email != "" {
		username = email
	}
	given := map[string]string{}
	for k, v := range attrs {
		if k != "identities" {
			given[k] = v
		}
	}
	userName, sub, err := pool.CreateUser(ctx, username, given)
	if err != nil {
		return err
	}
	rewrites := []string{
		rewrite(ev, "userPoolId", pool.ID),
		rewrite(ev, "userName", userName),
	}
	if _, ok := attrs["sub"]; ok {
		ev["request"].(map[string]any)["userAttributes"].(map[string]any)["sub"] = sub
		rewrites = append(rewrites, fmt.Sprintf("request.userAttributes.sub %s -> %s", attrs["sub"], sub))
	}
	fmt.Fprintf(out, "rewrote the event so that AdminGetUser and AdminAddUserToGroup reach the local user:\n  %s\n",
		strings.Join(rewrites, "\n  "))
	if _, federated := attrs["identities"]; federated && !trust {
		fmt.Fprintln(out, "the local user has no identities (cognito-local makes no federated users), and the function")
		fmt.Fprintln(out, "decides on the user it reads back: add -trust-event to decide on the event's attributes instead")
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "\ninvoking the function with %s (%s)\n", eventFile, eventString(ev, "triggerSource"))
	inv, err := env.Invoke(ctx, payload)
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "\nfunction log:")
	lines, err := env.LogLines(inv)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(out, "  "+l)
	}
	if inv.StatusCode != 200 {
		// A function that did not start logs without a request id.
		fmt.Fprintln(out, "\nthe end of aws-lambda-rie's log:")
		for _, l := range strings.Split(env.Tail("aws-lambda-rie", 20), "\n") {
			fmt.Fprintln(out, "  "+l)
		}
	}

	fmt.Fprintf(out, "\nresponse (HTTP %d, %d ms):\n", inv.StatusCode, inv.Duration.Milliseconds())
	var pretty bytes.Buffer
	if json.Indent(&pretty, inv.Response, "  ", "  ") == nil {
		fmt.Fprintln(out, "  "+pretty.String())
	} else {
		fmt.Fprintf(out, "  %s\n", inv.Response)
	}
	switch {
	case inv.Error != nil && inv.Error.Type == "EmulatorError":
		fmt.Fprintln(out, inv.Error.Message)
	case inv.Error != nil:
		fmt.Fprintf(out, "the function returned an error (%s): Cognito would answer the client\n", inv.Error.Type)
		fmt.Fprintf(out, "UserLambdaValidationException: PostConfirmation failed with error %s.\n", inv.Error.Message)
	case bytes.Equal(inv.Response, payload):
		fmt.Fprintln(out, "the function returned the event unchanged")
	default:
		fmt.Fprintln(out, "the function returned something other than the event it was sent")
	}

	have, err := pool.GroupsOf(ctx, userName)
	if err != nil {
		return err
	}
	shown := strings.Join(have, ", ")
	if shown == "" {
		shown = "(none)"
	}
	fmt.Fprintf(out, "\ngroups in cognito-local for %s afterwards: %s\n", userName, shown)
	if inv.Error != nil {
		return errFunctionFailed
	}
	return nil
}

// rewrite sets a top-level string field of ev and says what changed.
func rewrite(ev event, field, value string) string {
	old := eventString(ev, field)
	ev[field] = value
	return fmt.Sprintf("%s %s -> %s", field, old, value)
}

func eventString(ev event, field string) string {
	s, _ := ev[field].(string)
	return s
}
