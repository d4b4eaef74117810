package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

// fill sets v, and everything it points to, to a value that is not zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type() == reflect.TypeFor[*time.Time]() {
			now := time.Now()
			v.Set(reflect.ValueOf(&now))
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
	case reflect.Interface:
		// documents and unions: left unset
	}
}

// TestUpdateInputCopiesAll checks that updateInput copies every setting
// UpdateUserPool takes: a field of UpdateUserPoolInput that it leaves zero
// would be reset on the pool by attach. It fails when the SDK adds a
// settable field that updateInput does not copy yet.
func TestUpdateInputCopiesAll(t *testing.T) {
	var p types.UserPoolType
	fill(reflect.ValueOf(&p).Elem())
	in := reflect.ValueOf(updateInput(&p)).Elem()
	pv := reflect.ValueOf(p)
	for i := range in.NumField() {
		f := in.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if in.Field(i).IsZero() {
			t.Errorf("updateInput leaves UpdateUserPoolInput.%s unset: attach would reset it", f.Name)
			continue
		}
		from := map[string]string{"UserPoolId": "Id", "PoolName": "Name"}[f.Name]
		if from == "" {
			from = f.Name
		}
		src := pv.FieldByName(from)
		if !src.IsValid() {
			t.Errorf("UpdateUserPoolInput.%s has no UserPoolType.%s to copy", f.Name, from)
			continue
		}
		if f.Name != "AdminCreateUserConfig" && !reflect.DeepEqual(in.Field(i).Interface(), src.Interface()) {
			t.Errorf("UpdateUserPoolInput.%s = %v, want UserPoolType.%s, %v", f.Name, in.Field(i), from, src)
		}
	}
	if got := updateInput(&p).AdminCreateUserConfig; got.UnusedAccountValidityDays != 0 || !got.AllowAdminCreateUserOnly || p.AdminCreateUserConfig.UnusedAccountValidityDays != 1 {
		t.Errorf("AdminCreateUserConfig = %+v (pool's now %+v); want UnusedAccountValidityDays dropped from a copy, the rest kept", got, p.AdminCreateUserConfig)
	}
}

const (
	postARN  = "arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmation"
	tokenARN = "arn:aws:lambda:us-east-1:123456789012:function:autogroup-PreTokenGeneration"
	otherARN = "arn:aws:lambda:us-east-1:123456789012:function:someone-else"
)

// poolSettings is a pool's configuration beyond its triggers, as
// DescribeUserPool answers it.
var poolSettings = map[string]any{
	"Policies":               map[string]any{"PasswordPolicy": map[string]any{"MinimumLength": 12, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7}},
	"MfaConfiguration":       "OPTIONAL",
	"UserPoolTags":           map[string]string{"team": "identity"},
	"DeletionProtection":     "ACTIVE",
	"AutoVerifiedAttributes": []string{"email"},
	"EmailConfiguration":     map[string]any{"EmailSendingAccount": "COGNITO_DEFAULT"},
	"UserPoolTier":           "ESSENTIALS",
	"AdminCreateUserConfig":  map[string]any{"AllowAdminCreateUserOnly": true, "UnusedAccountValidityDays": 7},
}

// attachPool is a fake pool with the settings above and two triggers of
// other functions.
func attachPool(t *testing.T) *cognitofake.Server {
	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{Name: "shop"})
	settings := map[string]any{"LambdaConfig": map[string]any{"PreSignUp": otherARN, "CustomMessage": otherARN}}
	for k, v := range poolSettings {
		settings[k] = v
	}
	s.SetPoolSettings(fakePool, settings)
	return s
}

// runWithStdin runs the tool against s with stdin.
func runWithStdin(t *testing.T, s *cognitofake.Server, stdin string, args ...string) fakeRun {
	t.Helper()
	client := s.Client(t)
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, ctx: t.Context(),
		cognito: func(context.Context) (cognitoAPI, error) { return client, nil }}
	return fakeRun{e.run(args), stdout.String(), stderr.String()}
}

// poolUpdate decodes the one UpdateUserPool body sent for the fake pool.
func poolUpdate(t *testing.T, s *cognitofake.Server) map[string]any {
	t.Helper()
	bodies := s.PoolUpdates(fakePool)
	if len(bodies) != 1 {
		t.Fatalf("%d UpdateUserPool calls, want 1", len(bodies))
	}
	var body map[string]any
	if err := json.Unmarshal(bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestAttach checks that attach sets the trigger, keeps the other
// triggers, and sends the pool's whole configuration back.
func TestAttach(t *testing.T) {
	s := attachPool(t)
	args := []string{"attach", "--pool", fakePool, "--post-confirmation", postARN, "--pre-token-generation", tokenARN, "--token-event-version", "V2_0", "--yes"}
	r := runWithStdin(t, s, "", args...)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, filepath.Join("testdata", "golden", "attach.golden"), r.golden(args))

	body := poolUpdate(t, s)
	want := map[string]any{"UserPoolId": fakePool, "PoolName": "shop", "LambdaConfig": map[string]any{
		"PreSignUp": otherARN, "CustomMessage": otherARN, "PostConfirmation": postARN,
		"PreTokenGeneration": tokenARN, "PreTokenGenerationConfig": map[string]any{"LambdaArn": tokenARN, "LambdaVersion": "V2_0"},
	}}
	for k, v := range poolSettings {
		want[k] = v
	}
	want["AdminCreateUserConfig"] = map[string]any{"AllowAdminCreateUserOnly": true}
	if diff := cmp.Diff(normal(t, want), body); diff != "" {
		t.Errorf("UpdateUserPool input (-want +got):\n%s", diff)
	}

	// Attached again: nothing to change, no call.
	r = runWithStdin(t, s, "", args...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Nothing to change.") || len(s.PoolUpdates(fakePool)) != 1 {
		t.Errorf("attach again: exit %d, %d updates, stdout:\n%s; want 0, 1 and nothing to change", r.code, len(s.PoolUpdates(fakePool)), r.stdout)
	}
}

// normal gives v the types encoding/json decodes to.
func normal(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAttachAsks(t *testing.T) {
	for _, tt := range []struct {
		answer      string
		wantCode    int
		wantUpdates int
	}{{"n\n", exitProblems, 0}, {"", exitProblems, 0}, {"yes\n", exitOK, 1}, {"y\n", exitOK, 1}} {
		t.Run(strings.TrimSpace(tt.answer), func(t *testing.T) {
			s := attachPool(t)
			r := runWithStdin(t, s, tt.answer, "attach", "--pool", fakePool, "--post-confirmation", postARN)
			if r.code != tt.wantCode || len(s.PoolUpdates(fakePool)) != tt.wantUpdates || !strings.Contains(r.stderr, "[y/N]") {
				t.Errorf("answer %q: exit %d, %d updates, stderr %q; want %d, %d and a question", tt.answer, r.code, len(s.PoolUpdates(fakePool)), r.stderr, tt.wantCode, tt.wantUpdates)
			}
			if !strings.Contains(r.stdout, "+ PostConfirmation: "+postARN) {
				t.Errorf("stdout does not show the change:\n%s", r.stdout)
			}
		})
	}
}

func TestDetach(t *testing.T) {
	s := attachPool(t)
	if r := runWithStdin(t, s, "", "attach", "--pool", fakePool, "--post-confirmation", postARN, "--yes"); r.code != exitOK {
		t.Fatalf("attach: exit %d\n%s", r.code, r.stderr)
	}
	r := runWithStdin(t, s, "", "detach", "--pool", fakePool, "--post-confirmation", otherARN, "--yes")
	if r.code != exitProblems || len(s.PoolUpdates(fakePool)) != 1 || !strings.Contains(r.stderr, "not "+otherARN) {
		t.Errorf("detach of another function: exit %d, %d updates, stderr %q; want 1, no new update", r.code, len(s.PoolUpdates(fakePool)), r.stderr)
	}
	r = runWithStdin(t, s, "", "detach", "--pool", fakePool, "--post-confirmation", postARN, "--yes")
	if r.code != exitOK {
		t.Fatalf("detach: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bodies := s.PoolUpdates(fakePool)
	var body map[string]any
	if err := json.Unmarshal(bodies[len(bodies)-1], &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"PreSignUp": otherARN, "CustomMessage": otherARN}, body["LambdaConfig"]); diff != "" {
		t.Errorf("LambdaConfig after detach (-want +got):\n%s", diff)
	}
	if body["MfaConfiguration"] != "OPTIONAL" || body["UserPoolTags"] == nil {
		t.Errorf("detach did not send the whole configuration: %v", body)
	}
}

func TestAttachUsage(t *testing.T) {
	s := attachPool(t)
	for _, args := range [][]string{
		{"attach", "--post-confirmation", postARN},
		{"attach", "--pool", fakePool},
		{"attach", "--pool", fakePool, "--post-confirmation", "autogroup-PostConfirmation"},
		{"attach", "--pool", fakePool, "--post-confirmation", postARN, "--token-event-version", "V2_0"},
		{"attach", "--pool", fakePool, "--post-confirmation", postARN, "--pre-token-generation", tokenARN, "--token-event-version", "V3_0"},
		{"detach", "--pool", fakePool},
	} {
		if r := runWithStdin(t, s, "y\n", args...); r.code != exitUsage || len(s.PoolUpdates(fakePool)) != 0 {
			t.Errorf("%v: exit %d, %d updates; want 2 and none\n%s", args, r.code, len(s.PoolUpdates(fakePool)), r.stderr)
		}
	}
	gone := cognitofake.New(t)
	if r := runWithStdin(t, gone, "", "attach", "--pool", fakePool, "--post-confirmation", postARN, "--yes"); r.code != exitUsage || !strings.Contains(r.stderr, "cannot describe user pool") {
		t.Errorf("attach to a pool that does not exist: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

// TestCheckPoolTriggers checks that check-pool reports whether the pool's
// triggers are the functions named, before and after attach.
func TestCheckPoolTriggers(t *testing.T) {
	s := attachPool(t)
	for _, g := range []string{"customers", "staff"} {
		s.CreateGroup(fakePool, g)
	}
	check := []string{"check-pool", "--pool", fakePool, "--rules", backfillRules, "--post-confirmation", postARN, "--json"}
	r := runWithStdin(t, s, "", check...)
	if want := "the PostConfirmation trigger is not set, not " + postARN; r.code != exitProblems || !strings.Contains(r.stdout, want) {
		t.Errorf("check-pool before attach: exit %d, stdout %s; want 1 and %q", r.code, r.stdout, want)
	}
	if r := runWithStdin(t, s, "", "attach", "--pool", fakePool, "--post-confirmation", postARN, "--yes"); r.code != exitOK {
		t.Fatalf("attach: exit %d\n%s", r.code, r.stderr)
	}
	r = runWithStdin(t, s, "", check...)
	if want := "the PostConfirmation trigger is " + postARN + ", as asked"; !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "not "+postARN) {
		t.Errorf("check-pool after attach: stdout %s; want %q", r.stdout, want)
	}
}

// fakeLambda records AddPermission calls, with the number of UpdateUserPool
// calls the pool had by then, and answers err.
type fakeLambda struct {
	s       *cognitofake.Server
	calls   []*lambda.AddPermissionInput
	updates []int
	err     error
}

func (f *fakeLambda) AddPermission(_ context.Context, in *lambda.AddPermissionInput, _ ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	f.calls = append(f.calls, in)
	f.updates = append(f.updates, len(f.s.PoolUpdates(fakePool)))
	return &lambda.AddPermissionOutput{}, f.err
}

func TestAttachAddPermission(t *testing.T) {
	for _, tt := range []struct {
		name     string
		err      error
		wantCode int
		wantOut  string
	}{
		{"added", nil, exitOK, "added."},
		{"already there", &lambdatypes.ResourceConflictException{Message: aws.String("The statement id (cognito-autogroup-x) provided already exists.")}, exitOK, "already there."},
		{"denied", errors.New("AccessDeniedException"), exitUsage, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := attachPool(t)
			fl := &fakeLambda{s: s, err: tt.err}
			client := s.Client(t)
			var stdout, stderr bytes.Buffer
			e := &env{stdout: &stdout, stderr: &stderr, ctx: t.Context(),
				cognito: func(context.Context) (cognitoAPI, error) { return client, nil },
				lambda:  func(context.Context) (permissionAdder, error) { return fl, nil }}
			code := e.run([]string{"attach", "--pool", fakePool, "--post-confirmation", postARN, "--pre-token-generation", tokenARN, "--add-permission", "--yes"})
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("exit %d, stdout %q; want %d and %q (stderr %q)", code, stdout.String(), tt.wantCode, tt.wantOut, stderr.String())
			}
			if tt.wantCode != exitOK {
				if n := len(s.PoolUpdates(fakePool)); n != 0 || len(fl.calls) != 1 {
					t.Errorf("after a failed AddPermission: %d updates, %d AddPermission calls; want 0 and 1", n, len(fl.calls))
				}
				return
			}
			if len(fl.calls) != 2 || !cmp.Equal(fl.updates, []int{0, 0}) || len(s.PoolUpdates(fakePool)) != 1 {
				t.Fatalf("%d AddPermission calls at updates %v, %d updates; want 2, both before the one update", len(fl.calls), fl.updates, len(s.PoolUpdates(fakePool)))
			}
			for i, fn := range []string{postARN, tokenARN} {
				in := fl.calls[i]
				want := []string{fn, "lambda:InvokeFunction", "cognito-idp.amazonaws.com", "arn:aws:cognito-idp:us-east-1:123456789012:userpool/" + fakePool, "123456789012"}
				got := []string{aws.ToString(in.FunctionName), aws.ToString(in.Action), aws.ToString(in.Principal), aws.ToString(in.SourceArn), aws.ToString(in.SourceAccount)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("AddPermission %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}
