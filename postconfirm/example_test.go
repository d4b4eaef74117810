package postconfirm_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/postconfirm"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// signupFunction is a team's own PostConfirmation function: it lets the
// library assign the groups, then does its own work (here, a row for a
// users table) and returns the event to Cognito.
type signupFunction struct {
	groups *postconfirm.Handler
	rows   []string // stands in for the team's database
}

// Invoke makes signupFunction a lambda.Handler: main calls
// lambda.Start(&signupFunction{groups: h}).
func (f *signupFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	rec, event, err := f.groups.Handle(ctx, payload)
	if err != nil {
		// A malformed event, or a group that could not be added under
		// onError: fail. Returning the error fails the sign-up, as the
		// packaged function does.
		return nil, err
	}
	f.rows = append(f.rows, fmt.Sprintf("user %s, groups %v, outcome %s", rec.Sub, rec.Groups, rec.Outcome))
	return event, nil
}

// okCognito stands in for membership.NewAdder on a Cognito client: every
// group is added at the first attempt.
type okCognito struct{}

func (okCognito) Add(_ context.Context, _, _ string, groups []string) []membership.Result {
	results := make([]membership.Result, len(groups))
	for i, g := range groups {
		results[i] = membership.Result{Group: g, Kind: membership.KindOK, Attempts: 1}
	}
	return results
}

func ExampleHandler_Handle() {
	ctx := context.Background()
	// In a Lambda function, build the handler from the environment as the
	// packaged function does:
	//
	//	h, err := postconfirm.NewFromEnv(ctx, lambdacontext.NewLogger(), os.Getenv, os.ReadFile)
	//
	// Here the ruleset is inline and Cognito is a fake.
	holder, err := rulesource.Load(ctx, rulesource.Bytes("team-rules.yaml", []byte(`
version: 1
defaultGroups: [customers]
rules:
  - name: staff
    when: {emailDomain: example.com}
    groups: [staff]
`)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fn := &signupFunction{groups: postconfirm.New(holder, okCognito{}, slog.New(slog.DiscardHandler))}

	event := `{"triggerSource": "PostConfirmation_ConfirmSignUp", "userPoolId": "us-east-1_EXAMPLE", "userName": "ana",
  "request": {"userAttributes": {"sub": "4f1c", "email": "ana@example.com", "email_verified": "true"}}}`
	out, err := fn.Invoke(ctx, []byte(event))
	fmt.Println("event returned unchanged:", string(out) == event, err)
	fmt.Println(fn.rows[0])

	_, err = fn.Invoke(ctx, []byte(`{"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {"email_verified": true}}}`))
	fmt.Println(err)
	// Output:
	// event returned unchanged: true <nil>
	// user 4f1c, groups [staff], outcome ok
	// invalid event: request.userAttributes.email_verified: expected a string, found a boolean
}
