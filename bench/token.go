package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// tokenPackage is the PreTokenGeneration function, built for the host.
const tokenPackage = "./functions/pre-token-generation"

// tokenEvent is a V1 sign-in of the bench user, who already holds the group
// the shipped ruleset selects (staff, for a verified company address): the
// common case, in which the token function makes no Cognito call and returns
// the groups as sent. tokenResponse is what it must return.
var tokenEvent = []byte(`{"version":"1","triggerSource":"TokenGeneration_Authentication","region":"us-east-1",` +
	`"userPoolId":"` + benchPool + `","userName":"` + benchUser + `",` +
	`"callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"benchclient0000000000000000"},` +
	`"request":{"userAttributes":{"sub":"` + benchUser + `","cognito:user_status":"CONFIRMED",` +
	`"email_verified":"true","email":"bench.user@example.com"},` +
	`"groupConfiguration":{"groupsToOverride":["staff"],"iamRolesToOverride":[],"preferredRole":null}},` +
	`"response":{"claimsOverrideDetails":null}}`)

// tokenResponse returns the event the token function must return for
// tokenEvent: the request's groupConfiguration copied into the response.
func tokenResponse() ([]byte, error) {
	ev, err := trigger.DecodePreTokenGeneration(tokenEvent)
	if err != nil {
		return nil, err
	}
	return ev.Response(tokenEvent, nil)
}

// warmToken starts the token function with the shipped ruleset, invokes it
// warmUp times with tokenEvent, then runs more times, timing each, and
// checks that no Cognito call was made.
func (l *lab) warmToken(ctx context.Context, warmUp, runs int) ([]time.Duration, error) {
	want, err := tokenResponse()
	if err != nil {
		return nil, err
	}
	in, _, err := l.start(ctx, l.bin.token, l.env())
	if err != nil {
		return nil, err
	}
	defer in.stop()
	calls := len(l.fake.Calls())
	var lat []time.Duration
	for i := range warmUp + runs {
		d, err := in.invokeWant(ctx, tokenEvent, want)
		if err != nil {
			return nil, err
		}
		if i >= warmUp {
			lat = append(lat, d)
		}
	}
	if n := len(l.fake.Calls()) - calls; n != 0 {
		return nil, fmt.Errorf("the token function made %d Cognito calls for a user missing nothing, want none", n)
	}
	return lat, nil
}
