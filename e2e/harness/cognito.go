package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// DefaultPassword satisfies cognito-local's (and Cognito's default) password policy.
const DefaultPassword = "Local-Passw0rd!"

// Pool is a user pool in cognito-local with one app client.
type Pool struct {
	ID       string
	ClientID string
	env      *Env
}

// CreatePool creates a user pool with the custom attributes the rules read
// (custom:plan, custom:department), an app client, and every group the
// function's ruleset names.
func (e *Env) CreatePool(ctx context.Context) (*Pool, error) {
	groups, err := e.RulesetGroups()
	if err != nil {
		return nil, err
	}
	return e.CreatePoolWithGroups(ctx, groups)
}

// RulesetGroups returns the groups the function's ruleset names.
func (e *Env) RulesetGroups() ([]string, error) {
	src, err := os.ReadFile(e.rulesFile)
	if err != nil {
		return nil, err
	}
	return GroupNames(src)
}

// CreatePoolWithGroups is CreatePool with exactly the groups given.
func (e *Env) CreatePoolWithGroups(ctx context.Context, groups []string) (*Pool, error) {
	name := "autogroup-local"
	in := &cognitoidentityprovider.CreateUserPoolInput{
		PoolName:               &name,
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{
			customAttribute("plan"),
			customAttribute("department"),
		},
	}
	if !e.plainUsernames {
		in.UsernameAttributes = []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}
	}
	out, err := e.Cognito.CreateUserPool(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("create user pool: %w", err)
	}
	p := &Pool{ID: *out.UserPool.Id, env: e}
	clientName := "autogroup-local-client"
	client, err := e.Cognito.CreateUserPoolClient(ctx, &cognitoidentityprovider.CreateUserPoolClientInput{
		UserPoolId: &p.ID,
		ClientName: &clientName,
	})
	if err != nil {
		return nil, fmt.Errorf("create user pool client: %w", err)
	}
	p.ClientID = *client.UserPoolClient.ClientId
	for _, g := range groups {
		if _, err := e.Cognito.CreateGroup(ctx, &cognitoidentityprovider.CreateGroupInput{
			UserPoolId: &p.ID,
			GroupName:  &g,
		}); err != nil {
			return nil, fmt.Errorf("create group %q: %w", g, err)
		}
	}
	return p, nil
}

func customAttribute(name string) types.SchemaAttributeType {
	mutable := true
	return types.SchemaAttributeType{
		Name:              &name,
		AttributeDataType: types.AttributeDataTypeString,
		Mutable:           &mutable,
	}
}

// User is someone signing up.
type User struct {
	Email    string
	Password string // DefaultPassword when empty
	// Attributes are further attributes given at sign-up, such as
	// custom:plan or custom:department.
	Attributes map[string]string
	// EmailVerified sets email_verified=true before the confirmation, as
	// Cognito does when the user confirms with a code sent by email.
	// cognito-local never sets it.
	EmailVerified bool
	// ClientMetadata is passed to the confirmation call, and so to the trigger.
	ClientMetadata map[string]string
}

// Confirmation is how a sign-up is confirmed.
type Confirmation int

// The two ways to confirm a sign-up; both run the trigger with
// PostConfirmation_ConfirmSignUp.
const (
	// ConfirmSignUp is the user entering the emailed code.
	ConfirmSignUp Confirmation = iota
	// AdminConfirmSignUp is an administrator confirming the user.
	AdminConfirmSignUp
)

func (c Confirmation) String() string {
	if c == AdminConfirmSignUp {
		return "AdminConfirmSignUp"
	}
	return "ConfirmSignUp"
}

// SignUp signs u up and confirms the sign-up, which runs the trigger, and
// returns the user's sub. cognito-local answers the confirmation with success
// even when the trigger failed: look at Invocations for what the function did.
func (p *Pool) SignUp(ctx context.Context, u User, how Confirmation) (sub string, err error) {
	password := u.Password
	if password == "" {
		password = DefaultPassword
	}
	in := &cognitoidentityprovider.SignUpInput{
		ClientId:       &p.ClientID,
		Username:       &u.Email,
		Password:       &password,
		UserAttributes: attributeList(map[string]string{"email": u.Email}, u.Attributes),
	}
	out, err := p.env.Cognito.SignUp(ctx, in)
	if err != nil {
		return "", fmt.Errorf("sign up: %w", err)
	}
	sub = *out.UserSub
	if u.EmailVerified {
		if _, err := p.env.Cognito.AdminUpdateUserAttributes(ctx, &cognitoidentityprovider.AdminUpdateUserAttributesInput{
			UserPoolId: &p.ID,
			Username:   &sub,
			// cognito-local wants the address with its verified flag.
			UserAttributes: attributeList(map[string]string{"email": u.Email, "email_verified": "true"}),
		}); err != nil {
			return "", fmt.Errorf("set email_verified: %w", err)
		}
	}
	switch how {
	case ConfirmSignUp:
		code := Code
		_, err = p.env.Cognito.ConfirmSignUp(ctx, &cognitoidentityprovider.ConfirmSignUpInput{
			ClientId:         &p.ClientID,
			Username:         &u.Email,
			ConfirmationCode: &code,
			ClientMetadata:   u.ClientMetadata,
		})
	case AdminConfirmSignUp:
		_, err = p.env.Cognito.AdminConfirmSignUp(ctx, &cognitoidentityprovider.AdminConfirmSignUpInput{
			UserPoolId:     &p.ID,
			Username:       &sub,
			ClientMetadata: u.ClientMetadata,
		})
	default:
		err = errors.New("unknown confirmation")
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", how, err)
	}
	return sub, nil
}

// ResetPassword runs ForgotPassword and ConfirmForgotPassword for the user
// signing in as username; the second runs the trigger with
// PostConfirmation_ConfirmForgotPassword.
func (p *Pool) ResetPassword(ctx context.Context, username, newPassword string) error {
	if newPassword == "" {
		newPassword = DefaultPassword + "2"
	}
	if _, err := p.env.Cognito.ForgotPassword(ctx, &cognitoidentityprovider.ForgotPasswordInput{
		ClientId: &p.ClientID,
		Username: &username,
	}); err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	code := Code
	if _, err := p.env.Cognito.ConfirmForgotPassword(ctx, &cognitoidentityprovider.ConfirmForgotPasswordInput{
		ClientId:         &p.ClientID,
		Username:         &username,
		ConfirmationCode: &code,
		Password:         &newPassword,
	}); err != nil {
		return fmt.Errorf("confirm forgot password: %w", err)
	}
	return nil
}

// CreateUser creates a user with AdminCreateUser, which runs no trigger, and
// returns the user's username and sub. In pools that sign in with email the
// username is the sub. Attributes Cognito sets itself (sub, cognito:*) are
// not passed on.
func (p *Pool) CreateUser(ctx context.Context, username string, attrs map[string]string) (userName, sub string, err error) {
	given := map[string]string{}
	for k, v := range attrs {
		if k == "sub" || strings.HasPrefix(k, "cognito:") {
			continue
		}
		given[k] = v
	}
	out, err := p.env.Cognito.AdminCreateUser(ctx, &cognitoidentityprovider.AdminCreateUserInput{
		UserPoolId:     &p.ID,
		Username:       &username,
		UserAttributes: attributeList(given),
		MessageAction:  types.MessageActionTypeSuppress,
	})
	if err != nil {
		return "", "", fmt.Errorf("create user: %w", err)
	}
	userName = *out.User.Username
	for _, a := range out.User.Attributes {
		if a.Name != nil && *a.Name == "sub" && a.Value != nil {
			sub = *a.Value
		}
	}
	return userName, sub, nil
}

// GroupsOf returns the groups Cognito holds for the user, sorted. Pass the
// sub (the username in pools that sign in with email): cognito-local finds
// nothing by email.
func (p *Pool) GroupsOf(ctx context.Context, sub string) ([]string, error) {
	out, err := p.env.Cognito.AdminListGroupsForUser(ctx, &cognitoidentityprovider.AdminListGroupsForUserInput{
		UserPoolId: &p.ID,
		Username:   &sub,
	})
	if err != nil {
		return nil, fmt.Errorf("list groups for user: %w", err)
	}
	groups := []string{}
	for _, g := range out.Groups {
		groups = append(groups, *g.GroupName)
	}
	slices.Sort(groups)
	return groups, nil
}

// attributeList turns maps of attributes into the SDK's list, sorted by name.
func attributeList(maps ...map[string]string) []types.AttributeType {
	merged := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = v
		}
	}
	names := make([]string, 0, len(merged))
	for k := range merged {
		names = append(names, k)
	}
	slices.Sort(names)
	list := make([]types.AttributeType, 0, len(names))
	for _, k := range names {
		v := merged[k]
		list = append(list, types.AttributeType{Name: &k, Value: &v})
	}
	return list
}

// writeCognitoConfig writes cognito-local's .cognito/config.json: the
// PostConfirmation trigger is the function named "function" (the only name
// aws-lambda-rie serves), reached through the recording proxy; with token,
// the PreTokenGeneration trigger is the function named "token", which the
// proxy sends to the token function's aws-lambda-rie.
func writeCognitoConfig(dir, lambdaEndpoint string, plainUsernames, token bool) error {
	usernameAttributes := []string{"email"}
	if plainUsernames {
		usernameAttributes = []string{}
	}
	cfg := map[string]any{
		"LambdaClient": map[string]any{
			"endpoint":    lambdaEndpoint,
			"region":      Region,
			"credentials": map[string]string{"accessKeyId": "local", "secretAccessKey": "local"},
			"maxRetries":  0,
		},
		"TriggerFunctions": map[string]string{"PostConfirmation": "function"},
		"UserPoolDefaults": map[string]any{"UsernameAttributes": usernameAttributes},
	}
	if token {
		cfg["TriggerFunctions"].(map[string]string)["PreTokenGeneration"] = tokenFunctionName
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, ".cognito"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".cognito", "config.json"), data, 0o644)
}

// newCognitoClient returns a client of cognito-local. Its credentials come
// from a profile the harness writes, so that no variable or file of the
// caller's (a real account's keys, say) is used.
func newCognitoClient(ctx context.Context, dir, endpoint string) (*cognitoidentityprovider.Client, error) {
	credsFile := filepath.Join(dir, "aws-credentials")
	configFile := filepath.Join(dir, "aws-config")
	if err := os.WriteFile(credsFile, []byte("[cognito-local]\naws_access_key_id = local\naws_secret_access_key = local\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(configFile, []byte("[profile cognito-local]\nregion = "+Region+"\n"), 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithSharedConfigProfile("cognito-local"),
		config.WithSharedConfigFiles([]string{configFile}),
		config.WithSharedCredentialsFiles([]string{credsFile}),
		config.WithRegion(Region),
	)
	if err != nil {
		return nil, fmt.Errorf("configure the cognito-local client: %w", err)
	}
	return cognitoidentityprovider.NewFromConfig(cfg, func(o *cognitoidentityprovider.Options) {
		o.BaseEndpoint = &endpoint
		// Retried: only a connection reset, which cognito-local (Node)
		// now and then answers a request on a keep-alive connection with
		// ("use of closed network connection" while reading a 200's
		// body). Every error the service answers reaches the test as is.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		})
	}), nil
}
