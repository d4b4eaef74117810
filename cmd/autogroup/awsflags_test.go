package main

import (
	"strings"
	"testing"
)

func TestRegionFromPool(t *testing.T) {
	tests := []struct{ pool, want string }{
		{"us-east-1_ABC", "us-east-1"},
		{"eu-central-1_x9Y", "eu-central-1"},
		{"us-gov-west-1_ABC", "us-gov-west-1"},
		{"local_nope", ""},
		{"ABC", ""},
	}
	for _, tt := range tests {
		if got := regionFromPool(tt.pool); got != tt.want {
			t.Errorf("regionFromPool(%q) = %q, want %q", tt.pool, got, tt.want)
		}
	}
}

func TestNewCognitoClientFlags(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "")
	c, err := newCognitoClient(t.Context(), &awsOptions{endpoint: "http://127.0.0.1:9229"}, "eu-west-2_ABC")
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Options(); o.Region != "eu-west-2" || o.BaseEndpoint == nil || *o.BaseEndpoint != "http://127.0.0.1:9229" {
		t.Errorf("client region %q, endpoint %v; want eu-west-2 from the pool id and the --endpoint-url", o.Region, o.BaseEndpoint)
	}
	c, err = newCognitoClient(t.Context(), &awsOptions{region: "ap-south-1"}, "eu-west-2_ABC")
	if err != nil || c.Options().Region != "ap-south-1" {
		t.Errorf("--region ap-south-1: region %v, err %v; want the flag to win", c.Options().Region, err)
	}
	if _, err := newCognitoClient(t.Context(), nil, "local_pool"); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("no region anywhere: err %v, want one saying so", err)
	}
	var stderr strings.Builder
	if code := run([]string{"backfill", "--pool", "us-east-1_X", "--rules", backfillRules, "--profile", "no-such-profile"}, nil, &strings.Builder{}, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "no-such-profile") {
		t.Errorf("backfill --profile no-such-profile: exit %d, stderr %q; want 2 and the profile named", code, stderr.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	tests := []struct{ arg, want string }{
		{"backfil", `autogroup: unknown command "backfil"; run 'autogroup help' (did you mean "backfill"?)` + "\n"},
		{"xyzzy", `autogroup: unknown command "xyzzy"; run 'autogroup help'` + "\n"},
		{"check", `autogroup: unknown command "check"; run 'autogroup help' (did you mean "check-pool"?)` + "\n"},
	}
	for _, tt := range tests {
		var stdout, stderr strings.Builder
		if code := run([]string{tt.arg}, nil, &stdout, &stderr); code != exitUsage || stderr.String() != tt.want || stdout.Len() != 0 {
			t.Errorf("autogroup %s: exit %d, stderr %q; want 2 and %q", tt.arg, code, stderr.String(), tt.want)
		}
	}
}

func TestGithubAnnotationEscapes(t *testing.T) {
	got := githubAnnotation("error", "dir,a:b/r%s.yaml", problemJSON{Line: 3, Column: 7, Message: "50% off\nnext: line"})
	want := "::error file=dir%2Ca%3Ab/r%25s.yaml,line=3,col=7::50%25 off%0Anext: line"
	if got != want {
		t.Errorf("githubAnnotation() = %q, want %q", got, want)
	}
}
