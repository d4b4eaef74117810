package trigger_test

import (
	"errors"
	"fmt"

	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

func ExampleDecodePostConfirmation() {
	ev, err := trigger.DecodePostConfirmation([]byte(`{
  "triggerSource": "PostConfirmation_ConfirmSignUp",
  "userPoolId": "us-east-1_EXAMPLE",
  "userName": "user-1",
  "request": {"userAttributes": {"sub": "sub-1", "email": "ana@example.com"}}
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.TriggerSource, ev.Sub(), ev.Input().UserAttributes["email"])
	// Output:
	// PostConfirmation_ConfirmSignUp sub-1 ana@example.com
}

func ExampleEventError() {
	_, err := trigger.DecodePostConfirmation([]byte(`{
  "triggerSource": "PostConfirmation_ConfirmSignUp",
  "request": {"userAttributes": {"email_verified": true, "custom:seats": 5}}
}`))
	// What goes back to Cognito and to the log names fields, never values.
	fmt.Println(err)
	// What a person fixing the event reads.
	var e *trigger.EventError
	if errors.As(err, &e) {
		fmt.Print(e.Format("event.json"))
	}
	// Output:
	// invalid event: request.userAttributes.email_verified: expected a string, found a boolean (and 1 more problem)
	// event.json:3:52: request.userAttributes.email_verified: expected a string, found a boolean: Cognito sends every value as a string (write "true")
	// event.json:3:74: request.userAttributes.custom:seats: expected a string, found a number: Cognito sends every value as a string
}
