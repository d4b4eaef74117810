package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
)

// TestDemo runs the demo as make demo does and checks the key lines of
// both acts: the throttled sign-up completed by the drain, and the rules
// change published to the AppConfig fake deciding the second partner
// sign-up, the invalid version refused by publish and by the validator,
// and the version in force kept. It skips when the emulators are not
// installed (and fails under CI).
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		var missing *harness.MissingError
		if errors.As(err, &missing) {
			harness.SkipOrFail(t, err)
		}
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	// signUps are the partner sign-ups of the second act: their groups in
	// Cognito and the excerpt of their decision record.
	signUps := regexp.MustCompile(`(?m)^Partner sign-up (\d) \(sub [0-9a-f-]{36}\): rules matched: ([^;]+); groups in Cognito: ([^.]+)\.\n    decision record: (.*)$`).
		FindAllStringSubmatch(got, -1)
	type signUp struct{ rules, groups, record string }
	var partners []signUp
	for _, m := range signUps {
		partners = append(partners, signUp{m[2], m[3], m[4]})
	}
	want := []signUp{
		{"none: defaultGroups", "customers", `{"rulesVersion": "1", "matchedRules": [], "defaultApplied": true, "groups": ["customers"], "outcome": "ok"}`},
		{"partners", "partners", `{"rulesVersion": "2", "matchedRules": ["partners"], "defaultApplied": false, "groups": ["partners"], "outcome": "ok"}`},
		{"partners", "partners", `{"rulesVersion": "2", "matchedRules": ["partners"], "defaultApplied": false, "groups": ["partners"], "outcome": "ok"}`},
	}
	if len(partners) != len(want) {
		t.Fatalf("%d partner sign-ups in the output, want %d (version 1, version 2, after the refusal):\n%s", len(partners), len(want), got)
	}
	for i := range want {
		if partners[i] != want[i] {
			t.Errorf("partner sign-up %d = %+v, want %+v", i+1, partners[i], want[i])
		}
	}

	for _, line := range []string{
		// The first act.
		"Completed: the throttling ended and assignment-retry drained the retry queue (1 message, ",
		// The second: each publish and how it ended.
		"$ autogroup publish --app autogroup --env demo --profile rules e2e/cmd/demo/rules-v1.yaml\n",
		"    deployment 1: COMPLETE: version 1 is in force in demo\n    (exit 0)\n",
		"$ aws cognito-idp create-group --user-pool-id ",
		"    deployment 2: COMPLETE: version 2 is in force in demo\n    (exit 0)\n",
		"$ autogroup publish --app autogroup --env demo --profile rules e2e/cmd/demo/rules-bad.yaml\n" +
			"    e2e/cmd/demo/rules-bad.yaml: the ruleset does not load:\n" +
			"    e2e/cmd/demo/rules-bad.yaml:19:7: unknown key \"emailDomian\" in condition;",
		"    e2e/cmd/demo/rules-bad.yaml:20:24: groups: invalid group name \"partner admins\"",
		"(did you mean \"emailDomain\"?)\n    e2e/cmd/demo/rules-bad.yaml:20:24: ",
		"    (exit 2)\nUploaded another way",
		"    BadRequestException:\n    validation failed: ruleset appconfig:",
		"Version 2 is still the one deployed; the next sign-up still gets it:\n",
		"emulators stopped.\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("output lacks %q:\n%s", line, got)
		}
	}
	if m := regexp.MustCompile(`(?m)^    appconfig:\w+/\w+:19:7: unknown key "emailDomian"`).FindString(got); m == "" {
		t.Errorf("output lacks the validator's problem at 19:7:\n%s", got)
	}
	// The second act names users by sub only: no address at all.
	start := strings.Index(got, "Rules as data:")
	if start < 0 {
		t.Fatalf("output lacks the second act:\n%s", got)
	}
	act2 := got[start:]
	if m := regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.-]+`).FindString(act2); m != "" {
		t.Errorf("the second act prints the address %q", m)
	}
}
