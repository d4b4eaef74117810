package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfig"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// The AppConfig names the second act publishes to and the function reads.
const (
	appName, envName, profileName = "autogroup", "demo", "rules"
	// pollSeconds is the poll interval the fake answers with; AppConfig
	// answers with what the caller asks for, 60 s by default.
	pollSeconds = 1
	// newGroup is the group rules-v2.yaml adds.
	newGroup = "partners"
	// partnerDomain is the domain of every sign-up of the second act.
	partnerDomain = "partner.example.net"
)

// The rulesets the second act publishes, relative to the module root, as
// the commands shown name them.
const (
	rulesV1  = "e2e/cmd/demo/rules-v1.yaml"
	rulesV2  = "e2e/cmd/demo/rules-v2.yaml"
	rulesBad = "e2e/cmd/demo/rules-bad.yaml"
)

// rulesAct is the demo's second act: rules shipped as data. The function
// reads its ruleset from a fake AppConfig (RULES_SOURCE); `autogroup
// publish` ships one version, then a changed one that the next sign-up
// obeys, then an invalid one that is refused while the version in force
// stays.
type rulesAct struct {
	out   io.Writer
	build *harness.Build
	fake  *appconfigfake.Server
	ids   appconfigfake.IDs
	env   *harness.Env
	pool  *harness.Pool
	cli   string // the autogroup binary
	n     int    // sign-ups so far
}

// runRulesAct plays the second act with the functions of build.
func runRulesAct(ctx context.Context, out io.Writer, build *harness.Build) error {
	fmt.Fprintln(out, "\nRules as data: the function reads its ruleset from AWS AppConfig, here internal/appconfigfake")
	fmt.Fprintln(out, "(a local fake of its Data API and control plane), and a team ships rule changes with")
	fmt.Fprintln(out, "`autogroup publish`, without a redeploy.")
	fake, err := appconfigfake.Start("")
	if err != nil {
		return err
	}
	defer fake.Close()
	a := &rulesAct{out: out, build: build, fake: fake}
	a.ids = fake.AddProfile(appName, envName, profileName)
	fake.SetPollInterval(pollSeconds)
	// As the stack's rules-validator function does for AppConfig, the fake
	// checks every version before it deploys it.
	fake.SetValidator(func(content []byte) error {
		return rulesource.ValidatorEvent{ApplicationID: a.ids.Application, ConfigurationProfileID: a.ids.Profile,
			Content: base64.StdEncoding.EncodeToString(content)}.Validate()
	})

	source := "appconfig:" + appName + "/" + envName + "/" + profileName
	if a.env, err = harness.Start(ctx, harness.Options{Build: build, FunctionEnv: []string{
		"RULES_SOURCE=" + source,
		"AWS_ENDPOINT_URL_APPCONFIGDATA=" + fake.URL(),
	}}); err != nil {
		return err
	}
	defer a.env.Stop()
	src, err := os.ReadFile(filepath.Join(build.Root, filepath.FromSlash(rulesV1)))
	if err != nil {
		return err
	}
	groups, err := harness.GroupNames(src)
	if err != nil {
		return err
	}
	if a.pool, err = a.env.CreatePoolWithGroups(ctx, groups); err != nil {
		return err
	}
	if a.cli, err = build.BuildCLI(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "AppConfig fake on %s, polled every %d s by the function, which runs with\n", fake.URL(), pollSeconds)
	fmt.Fprintf(out, "RULES_SOURCE=%s; a new pool %s with the groups of %s: %s.\n", source, a.pool.ID, rulesV1, strings.Join(groups, ", "))
	fmt.Fprintln(out, "autogroup runs with AWS_ENDPOINT_URL_APPCONFIG set to the fake; the demo makes the aws")
	fmt.Fprintln(out, "commands' calls with the AWS SDK. Each sign-up is a verified address at "+partnerDomain+".")
	fmt.Fprintln(out, "\n1. Publish the first version:")
	if err := a.publish(ctx, rulesV1, 0); err != nil {
		return err
	}
	if err := a.signUp(ctx); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n2. A rules change: %s adds the rule partners. Its group first:\n", rulesV2)
	fmt.Fprintf(out, "$ aws cognito-idp create-group --user-pool-id %s --group-name %s\n", a.pool.ID, newGroup)
	if _, err := a.env.Cognito.CreateGroup(ctx, &cognitoidentityprovider.CreateGroupInput{
		UserPoolId: &a.pool.ID, GroupName: aws.String(newGroup),
	}); err != nil {
		return fmt.Errorf("create group %s: %w", newGroup, err)
	}
	if err := a.publish(ctx, rulesV2, 0); err != nil {
		return err
	}
	fmt.Fprintf(out, "(waiting %d s, one poll interval: the function asks AppConfig again on the next sign-up)\n", pollSeconds)
	if err := sleep(ctx, pollSeconds*time.Second+100*time.Millisecond); err != nil {
		return err
	}
	if err := a.signUp(ctx); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n3. An invalid version, %s: publish checks it as the functions would and refuses it:\n", rulesBad)
	if err := a.publish(ctx, rulesBad, 2); err != nil {
		return err
	}
	if err := a.bypass(ctx); err != nil {
		return err
	}
	v, _ := fake.Deployed(appName, envName, profileName)
	fmt.Fprintf(out, "Version %d is still the one deployed; the next sign-up still gets it:\n", v)
	return a.signUp(ctx)
}

// publish runs `autogroup publish` on file, as a user would, printing the
// command and its output, and checks that it exits with want.
func (a *rulesAct) publish(ctx context.Context, file string, want int) error {
	args := []string{"publish", "--app", appName, "--env", envName, "--profile", profileName, file}
	fmt.Fprintf(a.out, "$ autogroup %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, a.cli, args...)
	cmd.Dir = a.build.Root
	cmd.Env = append(a.env.CLIEnv(), "AWS_ENDPOINT_URL_APPCONFIG="+a.fake.URL())
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return fmt.Errorf("run autogroup publish: %w", err)
	}
	for line := range strings.Lines(output.String()) {
		fmt.Fprint(a.out, "    "+line)
	}
	code := cmd.ProcessState.ExitCode()
	fmt.Fprintf(a.out, "    (exit %d)\n", code)
	if code != want {
		return fmt.Errorf("autogroup publish %s exited %d, want %d", file, code, want)
	}
	return nil
}

// bypass uploads the invalid ruleset past publish's check, as the console
// or the aws CLI would, and prints the validator's refusal of its deployment.
func (a *rulesAct) bypass(ctx context.Context) error {
	src, err := os.ReadFile(filepath.Join(a.build.Root, filepath.FromSlash(rulesBad)))
	if err != nil {
		return err
	}
	fmt.Fprintln(a.out, "Uploaded another way (the console, the aws CLI), AppConfig's validator refuses to deploy it:")
	fmt.Fprintf(a.out, "$ aws appconfig create-hosted-configuration-version --application-id %s --configuration-profile-id %s --content-type application/x-yaml --content fileb://%s\n",
		a.ids.Application, a.ids.Profile, rulesBad)
	api := appconfig.New(appconfig.Options{Region: harness.Region, BaseEndpoint: aws.String(a.fake.URL()), Credentials: aws.AnonymousCredentials{}})
	v, err := api.CreateHostedConfigurationVersion(ctx, &appconfig.CreateHostedConfigurationVersionInput{
		ApplicationId: &a.ids.Application, ConfigurationProfileId: &a.ids.Profile, Content: src,
		ContentType: aws.String("application/x-yaml"),
	})
	if err != nil {
		return fmt.Errorf("create the hosted configuration version: %w", err)
	}
	version := strconv.Itoa(int(v.VersionNumber))
	fmt.Fprintf(a.out, "    version %s created\n", version)
	fmt.Fprintf(a.out, "$ aws appconfig start-deployment --application-id %s --environment-id %s --configuration-profile-id %s --configuration-version %s --deployment-strategy-id AppConfig.AllAtOnce\n",
		a.ids.Application, a.ids.Environment, a.ids.Profile, version)
	_, err = api.StartDeployment(ctx, &appconfig.StartDeploymentInput{
		ApplicationId: &a.ids.Application, EnvironmentId: &a.ids.Environment, ConfigurationProfileId: &a.ids.Profile,
		ConfigurationVersion: &version, DeploymentStrategyId: aws.String("AppConfig.AllAtOnce"),
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("start the deployment of the invalid version: %v, want the validator's refusal", err)
	}
	fmt.Fprintf(a.out, "    %s:\n", ae.ErrorCode())
	for line := range strings.Lines(ae.ErrorMessage()) {
		fmt.Fprint(a.out, "    "+strings.TrimSuffix(line, "\n")+"\n")
	}
	return nil
}

// signUp signs one more user up at the partner domain and prints, from the
// function's decision record, the rules version that decided and what it
// chose, and the groups Cognito then holds. The address is not printed.
func (a *rulesAct) signUp(ctx context.Context) error {
	a.n++
	email := fmt.Sprintf("partner%d.demo@%s", a.n, partnerDomain)
	sub, err := a.pool.SignUp(ctx, harness.User{Email: email, EmailVerified: true}, harness.ConfirmSignUp)
	if err != nil {
		return fmt.Errorf("partner sign-up %d: %w", a.n, err)
	}
	r, err := describe(ctx, a.env, a.pool, sub, "PostConfirmation_ConfirmSignUp")
	if err != nil {
		return fmt.Errorf("partner sign-up %d: %w", a.n, err)
	}
	d, err := excerpt(r.decision)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Partner sign-up %d (sub %s): rules matched: %s; groups in Cognito: %s.\n", a.n, sub, r.rules, r.groups)
	fmt.Fprintf(a.out, "    decision record: %s\n", d)
	return nil
}

// excerpt returns the fields of a decision record that show which version
// decided and what it chose, as JSON.
func excerpt(d harness.LogRecord) (string, error) {
	if d == nil {
		return "", errors.New("the function logged no decision record")
	}
	var b strings.Builder
	b.WriteString("{")
	for i, k := range []string{"rulesVersion", "matchedRules", "defaultApplied", "groups", "outcome"} {
		v, err := json.Marshal(d[k])
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", k, v)
	}
	b.WriteString("}")
	return b.String(), nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
