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

// fakeCognito stands in for membership.NewAdder and membership.NewReader on
// a Cognito client: it holds the users' attributes by username, and adds
// every group at the first attempt.
type fakeCognito map[string]map[string]string

func (c fakeCognito) GetUser(_ context.Context, poolID, username, sub string) membership.Read {
	attrs, ok := c[username]
	if !ok || attrs["sub"] != sub {
		err := &membership.ReadError{Op: membership.OpGetUser, PoolID: poolID, Kind: membership.KindUserNotFound, Attempts: 1}
		return membership.Read{Op: membership.OpGetUser, Kind: err.Kind, Err: err, Attempts: 1}
	}
	user := &membership.User{Username: username, Attributes: attrs, Status: "CONFIRMED", Enabled: true}
	return membership.Read{Op: membership.OpGetUser, Kind: membership.KindOK, User: user, Attempts: 1}
}

func (fakeCognito) Add(_ context.Context, _, _ string, groups []string) []membership.Result {
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
	// Here the ruleset is inline and Cognito is a fake that holds two users.
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
	cognito := fakeCognito{
		"ana": {"sub": "4f1c", "email": "ana@example.com", "email_verified": "true"},
		"eve": {"sub": "9d2e", "email": "eve@mail.example", "email_verified": "true"},
	}
	fn := &signupFunction{groups: postconfirm.New(holder, cognito, cognito, slog.New(slog.DiscardHandler))}

	event := `{"triggerSource": "PostConfirmation_ConfirmSignUp", "userPoolId": "us-east-1_EXAMPLE", "userName": "ana",
  "request": {"userAttributes": {"sub": "4f1c", "email": "ana@example.com", "email_verified": "true"}}}`
	out, err := fn.Invoke(ctx, []byte(event))
	fmt.Println("event returned unchanged:", string(out) == event, err)
	fmt.Println(fn.rows[0])

	// An event that claims a company address for eve, sent by someone who
	// may invoke the function: the rules decide on the address Cognito holds.
	forged := `{"triggerSource": "PostConfirmation_ConfirmSignUp", "userPoolId": "us-east-1_EXAMPLE", "userName": "eve",
  "request": {"userAttributes": {"sub": "9d2e", "email": "eve@example.com", "email_verified": "true"}}}`
	if _, err := fn.Invoke(ctx, []byte(forged)); err != nil {
		fmt.Println(err)
	}
	fmt.Println(fn.rows[1])

	_, err = fn.Invoke(ctx, []byte(`{"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {"email_verified": true}}}`))
	fmt.Println(err)
	// Output:
	// event returned unchanged: true <nil>
	// user 4f1c, groups [staff], outcome ok
	// user 9d2e, groups [customers], outcome ok
	// invalid event: request.userAttributes.email_verified: expected a string, found a boolean
}
