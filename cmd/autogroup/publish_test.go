package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// awsEnvForFake points the standard AWS configuration at nothing real.
func awsEnvForFake(t *testing.T) {
	t.Helper()
	noFile := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_CONFIG_FILE": noFile, "AWS_SHARED_CREDENTIALS_FILE": noFile, "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_APPCONFIG": "", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
}

// TestPublish runs publish against the fake AppConfig and compares exit
// code and output with the goldens; it checks what the fake then serves.
func TestPublish(t *testing.T) {
	awsEnvForFake(t)
	old := deploymentPoll
	deploymentPoll = 0
	t.Cleanup(func() { deploymentPoll = old })
	const good = "testdata/publish-rules.json"
	tests := []struct {
		name   string
		args   []string // before --endpoint-url and FILE
		file   string
		setup  func(*appconfigfake.Server)
		code   int
		served int // the version the Data API serves afterwards
	}{
		{name: "publish-complete", args: []string{"--app", "autogroup", "--env", "prod", "--profile", "rules"}, file: shippedRules, code: exitOK, served: 1},
		{name: "publish-json", args: []string{"--app", "autogroup", "--env", "e000002", "--profile", "rules", "--json", "--strategy", "AppConfig.Linear20PercentEvery6Minutes"}, file: good, code: exitOK, served: 1},
		{name: "publish-rolled-back", args: []string{"--app", "autogroup", "--env", "prod", "--profile", "rules"}, file: good,
			setup: func(s *appconfigfake.Server) { s.RollBackNext() }, code: exitProblems},
		{name: "publish-refused", args: []string{"--app", "autogroup", "--env", "prod", "--profile", "rules", "--json"}, file: good,
			setup: func(s *appconfigfake.Server) {
				s.SetValidator(func([]byte) error { return errors.New("rules-validator: 1:1: refused") })
			}, code: exitProblems},
		{name: "publish-dry-run", args: []string{"--app", "autogroup", "--env", "prod", "--profile", "rules", "--dry-run"}, file: good, code: exitOK},
		{name: "publish-invalid", args: []string{"--app", "autogroup", "--env", "prod", "--profile", "rules"}, file: "testdata/invalid.yaml", code: exitUsage},
		{name: "publish-unknown-app", args: []string{"--app", "nope", "--env", "prod", "--profile", "rules"}, file: good, code: exitUsage},
		{name: "publish-no-profile", args: []string{"--app", "autogroup", "--env", "prod"}, file: good, code: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := appconfigfake.New(t)
			fake.AddProfile("autogroup", "prod", "rules")
			if tt.setup != nil {
				tt.setup(fake)
			}
			args := append(append([]string{"publish"}, tt.args...), "--endpoint-url", fake.URL(), tt.file)
			var stdout, stderr bytes.Buffer
			code := run(args, nil, &stdout, &stderr)
			shown := strings.Replace(strings.Join(args, " "), fake.URL(), "FAKE", 1)
			got := fmt.Sprintf("$ autogroup %s\n-- exit --\n%d\n-- stdout --\n%s-- stderr --\n%s", shown, code, stdout.String(), stderr.String())
			golden(t, filepath.Join("testdata", "golden", tt.name+".golden"), got)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			v, content := fake.Deployed("autogroup", "prod", "rules")
			if v != tt.served {
				t.Errorf("the fake serves version %d, want %d", v, tt.served)
			}
			if tt.served > 0 {
				want, err := os.ReadFile(tt.file)
				if err != nil || !bytes.Equal(content, want) {
					t.Errorf("the fake serves %d bytes, not the file's (%v)", len(content), err)
				}
			}
			if strings.Contains(tt.name, "dry-run") || strings.Contains(tt.name, "invalid") || strings.Contains(tt.name, "no-profile") {
				if calls := fake.Calls(); len(calls) != 0 {
					t.Errorf("called AppConfig: %v", calls)
				}
			}
			if strings.Contains(strings.Join(tt.args, " "), "--json") {
				var res publishResult
				if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
					t.Errorf("--json stdout is not one JSON object: %v\n%s", err, stdout.String())
				}
			}
		})
	}
}

func TestContentType(t *testing.T) {
	for src, want := range map[string]string{
		"  {\"version\": 1}": "application/json", "version: 1\n": "application/x-yaml", "": "application/x-yaml",
	} {
		if got := contentType([]byte(src)); got != want {
			t.Errorf("contentType(%q) = %q, want %q", src, got, want)
		}
	}
	if _, err := rules.Parse([]byte("{\"version\": 1, \"defaultGroups\": [\"x\"]}")); err != nil {
		t.Errorf("a JSON ruleset does not load: %v", err)
	}
}
