package pretoken_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/pretoken"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// teamHandler is a team's own PreTokenGeneration function: it adds a custom
// claim with aws-lambda-go's types, as many do, then lets pretoken fill in
// the groups. Re-encoding the struct writes a groupOverrideDetails of nulls
// (the types have no omitempty), which alone would strip every group;
// pretoken replaces those nulls with the groups and keeps the claim.
func teamHandler(ctx context.Context, h *pretoken.Handler, payload []byte) ([]byte, error) {
	var ev events.CognitoEventUserPoolsPreTokenGen
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	ev.Response.ClaimsOverrideDetails.ClaimsToAddOrOverride = map[string]string{"tier": "gold"}
	withClaims, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return h.Invoke(ctx, withClaims)
}

// Example shows a team's own PreTokenGeneration function calling pretoken:
// the user on a pro plan lacks the paid group, which is added in the pool and
// carried by the token, beside the team's claim.
func Example() {
	fake, err := cognitofake.Start(cognitofake.Options{AllowAnyGroup: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fake.Close()
	const pool, user = "us-east-1_EXAMPLE", "a1b2c3d4-0000-4000-8000-000000000001"
	fake.PutUser(pool, cognitofake.User{Username: user, Attributes: map[string]string{"sub": user, "custom:plan": "pro"}})
	fake.AddToGroup(pool, "customers", user)

	ctx := context.Background()
	holder, err := rulesource.Load(ctx, rulesource.Bytes("rules.yaml", []byte(`
version: 1
defaultGroups: [customers]
rules:
  - {name: paid, when: {attribute: custom:plan, in: [pro, enterprise]}, groups: [customers, paid]}
`)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": fake.URL()}
	client, err := membership.NewClientFromEnv(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := membership.Options{}
	h := pretoken.New(pretoken.Config{
		Rules: holder, Adder: membership.NewAdder(client, opts), Remover: membership.NewRemover(client, opts),
		Reader: membership.NewReader(client, opts), Groups: membership.NewGroupLister(client, opts),
		Logger: slog.New(slog.DiscardHandler),
	})

	payload := []byte(`{"version":"1","triggerSource":"TokenGeneration_Authentication","region":"us-east-1",
"userPoolId":"` + pool + `","userName":"` + user + `","callerContext":{"awsSdkVersion":"x","clientId":"c"},
"request":{"userAttributes":{"sub":"` + user + `","custom:plan":"pro"},
"groupConfiguration":{"groupsToOverride":["customers"],"iamRolesToOverride":[],"preferredRole":null}},
"response":{"claimsOverrideDetails":null}}`)
	out, err := teamHandler(ctx, h, payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	var got events.CognitoEventUserPoolsPreTokenGen
	if err := json.Unmarshal(out, &got); err != nil {
		fmt.Println(err)
		return
	}
	d := got.Response.ClaimsOverrideDetails
	fmt.Println("claims:", d.ClaimsToAddOrOverride)
	fmt.Println("token groups:", d.GroupOverrideDetails.GroupsToOverride)
	fmt.Println("pool groups:", fake.GroupsForUser(pool, user))
	// Output:
	// claims: map[tier:gold]
	// token groups: [customers paid]
	// pool groups: [customers paid]
}
