package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

const (
	impactPool    = "us-east-1_impact"
	impactRules   = "testdata/impact-rules.yaml"
	impactInForce = "testdata/impact-in-force.yaml"
)

// newImpactPool returns a Cognito fake whose users the rulesets of the
// publish --pool tests treat differently.
func newImpactPool(t *testing.T) *cognitofake.Server {
	t.Helper()
	s := cognitofake.New(t)
	for _, g := range []string{"staff", "engineering", "contractors", "customers"} {
		s.CreateGroup(impactPool, g)
	}
	put := func(name, email, status string, groups ...string) {
		s.PutUser(impactPool, cognitofake.User{Username: name, Status: status,
			Attributes: map[string]string{"email": email, "email_verified": "true"}})
		for _, g := range groups {
			s.AddToGroup(impactPool, g, name)
		}
	}
	put("ana", "ana@example.com", "", "staff")
	put("ben", "ben@example.com", "")
	put("cy", "cy@contractors.example.net", "", "contractors")
	put("dan", "dan@mail.example.org", "")
	put("eve", "eve@example.com", "UNCONFIRMED")
	for i := range 6 {
		put(fmt.Sprintf("staff%d", i), fmt.Sprintf("staff%d@example.com", i), "", "staff")
	}
	return s
}

// runPublish runs publish with args against the two fakes.
func runPublish(t *testing.T, ac *appconfigfake.Server, cog *cognitofake.Server, args ...string) fakeRun {
	t.Helper()
	client := cog.Client(t)
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, ctx: t.Context(),
		cognito: func(context.Context) (cognitoAPI, error) { return client, nil }}
	args = append(append([]string{"publish"}, args...), "--endpoint-url", ac.URL())
	code := e.run(args)
	return fakeRun{code, stdout.String(), stderr.String()}
}

// TestPublishImpact runs publish --pool against the fakes and compares its
// output with the goldens; it checks what was published.
func TestPublishImpact(t *testing.T) {
	awsEnvForFake(t)
	old := deploymentPoll
	deploymentPoll = 0
	t.Cleanup(func() { deploymentPoll = old })
	inForceSrc, err := os.ReadFile(impactInForce)
	if err != nil {
		t.Fatal(err)
	}
	target := []string{"--app", "autogroup", "--env", "prod", "--profile", "rules", "--pool", impactPool}
	tests := []struct {
		name  string
		args  []string // after target, before --endpoint-url
		setup func(*appconfigfake.Server, *cognitofake.Server)
		code  int
		// published is the version the fake serves afterwards; 0 when
		// publish must create nothing.
		published int
	}{
		{name: "publish-impact-embedded", args: []string{"--dry-run", impactRules}, code: exitOK},
		{name: "publish-impact-complete", args: []string{impactRules}, code: exitOK, published: 3,
			setup: func(ac *appconfigfake.Server, _ *cognitofake.Server) {
				// In force: version 1 of rules. A newer deployment of
				// another profile, and one of rules that rolled back,
				// change nothing.
				ac.Publish("autogroup", "prod", "rules", inForceSrc, "application/x-yaml")
				ac.AddProfile("autogroup", "prod", "other")
				ac.Publish("autogroup", "prod", "other", []byte("version: 1\ndefaultGroups: [x]\n"), "application/x-yaml")
				ac.RollBackNext()
				if code := run([]string{"publish", "--app", "autogroup", "--env", "prod", "--profile", "rules",
					"--endpoint-url", ac.URL(), impactRules}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != exitProblems {
					t.Fatalf("the rolled-back publish exited %d", code)
				}
			}},
		{name: "publish-impact-dry-run", args: []string{"--dry-run", impactRules}, code: exitOK,
			setup: func(ac *appconfigfake.Server, _ *cognitofake.Server) {
				ac.Publish("autogroup", "prod", "rules", inForceSrc, "application/x-yaml")
			}},
		{name: "publish-impact-json", args: []string{"--dry-run", "--json", impactRules}, code: exitOK,
			setup: func(ac *appconfigfake.Server, _ *cognitofake.Server) {
				ac.Publish("autogroup", "prod", "rules", inForceSrc, "application/x-yaml")
			}},
		{name: "publish-impact-in-force-invalid", args: []string{"--dry-run", impactRules}, code: exitOK,
			setup: func(ac *appconfigfake.Server, _ *cognitofake.Server) {
				// The fake runs no validator: the version does not load.
				ac.Publish("autogroup", "prod", "rules", []byte("version: 1\nrules: [{name: x}]\n"), "application/x-yaml")
			}},
		{name: "publish-impact-unreadable-pool", args: []string{impactRules}, code: exitUsage,
			setup: func(_ *appconfigfake.Server, cog *cognitofake.Server) { cog.AccessDenied() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ac := appconfigfake.New(t)
			ac.AddProfile("autogroup", "prod", "rules")
			cog := newImpactPool(t)
			if tt.setup != nil {
				tt.setup(ac, cog)
			}
			before := ac.Calls()
			args := append(slices.Clone(target), tt.args...)
			r := runPublish(t, ac, cog, args...)
			got := fmt.Sprintf("$ autogroup publish %s --endpoint-url FAKE\n-- exit --\n%d\n-- stdout --\n%s-- stderr --\n%s",
				strings.Join(args, " "), r.code, r.stdout, r.stderr)
			golden(t, filepath.Join("testdata", "golden", tt.name+".golden"), got)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d", r.code, tt.code)
			}
			calls := ac.Calls()[len(before):]
			created := slices.Contains(calls, "CreateHostedConfigurationVersion") || slices.Contains(calls, "StartDeployment")
			if created != (tt.published > 0) {
				t.Errorf("published: %v, want %v (calls %v)", created, tt.published > 0, calls)
			}
			if tt.published > 0 {
				if v, _ := ac.Deployed("autogroup", "prod", "rules"); v != tt.published {
					t.Errorf("the fake serves version %d, want %d", v, tt.published)
				}
				// The impact is shown before anything is published.
				if i, j := strings.Index(r.stdout, "impact on user pool"), strings.Index(r.stderr, "created version"); i < 0 || j < 0 {
					t.Errorf("no impact (%d) or no publish (%d)", i, j)
				}
				if slices.Index(calls, "ListUsers") > slices.Index(calls, "CreateHostedConfigurationVersion") {
					t.Errorf("the pool was read after publishing: %v", calls)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "@") {
				t.Errorf("the output holds an email address")
			}
		})
	}
}

// TestPublishImpactJSON checks the impact field of publish --json: the
// version in force, per group counts and samples, and totals.
func TestPublishImpactJSON(t *testing.T) {
	awsEnvForFake(t)
	inForceSrc, err := os.ReadFile(impactInForce)
	if err != nil {
		t.Fatal(err)
	}
	ac := appconfigfake.New(t)
	ac.AddProfile("autogroup", "prod", "rules")
	ac.Publish("autogroup", "prod", "rules", inForceSrc, "application/x-yaml")
	cog := newImpactPool(t)
	r := runPublish(t, ac, cog, "--app", "autogroup", "--env", "prod", "--profile", "rules", "--pool", impactPool, "--dry-run", "--json", impactRules)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var res struct {
		DryRun bool `json:"dryRun"`
		Impact struct {
			Pool              string `json:"pool"`
			InForce           any    `json:"inForce"`
			InForceDeployment int    `json:"inForceDeployment"`
			InForceLoads      bool   `json:"inForceLoads"`
			Users             int    `json:"users"`
			Changed           int    `json:"changed"`
			Remove            bool   `json:"remove"`
			Groups            map[string]struct {
				Add, InForceAdd, Remove, InForceRemove, Changed int
				Sample                                          []string
				Missing                                         bool
			} `json:"groups"`
		} `json:"impact"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	im := res.Impact
	if !res.DryRun || im.Pool != impactPool || im.InForce != float64(1) || im.InForceDeployment != 1 || !im.InForceLoads || !im.Remove {
		t.Errorf("impact header: dryRun %v, pool %q, inForce %v, deployment %d, loads %v, remove %v",
			res.DryRun, im.Pool, im.InForce, im.InForceDeployment, im.InForceLoads, im.Remove)
	}
	// ana, ben, cy and the six staff users change; dan and eve do not.
	if im.Users != 11 || im.Changed != 9 {
		t.Errorf("users %d, changed %d, want 11, 9", im.Users, im.Changed)
	}
	eng, con, staff := im.Groups["engineering"], im.Groups["contractors"], im.Groups["staff"]
	if eng.Add != 8 || eng.InForceAdd != 0 || eng.Changed != 8 || len(eng.Sample) != 5 {
		t.Errorf("engineering = %+v, want add 8, in force 0, changed 8, 5 subs", eng)
	}
	if con.Remove != 1 || con.Changed != 1 || len(con.Sample) != 1 {
		t.Errorf("contractors = %+v, want remove 1, changed 1, 1 sub", con)
	}
	if staff.Add != 1 || staff.InForceAdd != 1 || staff.Changed != 0 || len(staff.Sample) != 0 {
		t.Errorf("staff = %+v, want add 1, in force 1, unchanged", staff)
	}
	engineers := map[string]bool{cog.Sub(impactPool, "ana"): true, cog.Sub(impactPool, "ben"): true}
	for i := range 6 {
		engineers[cog.Sub(impactPool, fmt.Sprintf("staff%d", i))] = true
	}
	for _, s := range eng.Sample {
		if !engineers[s] {
			t.Errorf("engineering sample %q is not the sub of a user added to it", s)
		}
	}
	if want := cog.Sub(impactPool, "cy"); len(con.Sample) == 1 && con.Sample[0] != want {
		t.Errorf("contractors sample = %v, want cy's sub %s", con.Sample, want)
	}
}

// TestLoadInForceNotHosted checks that a deployment of a version that is
// not a hosted one counts as a ruleset that does not load, not as a
// failure, and is named by what the deployment holds.
func TestLoadInForceNotHosted(t *testing.T) {
	in, err := loadInForce(t.Context(), nil, appConfigIDs{}, 3, "s3-object-version-1")
	if err != nil || in.rs != nil || in.err == nil || in.deployment != 3 || in.raw != "s3-object-version-1" {
		t.Errorf("loadInForce = %+v, %v; want deployment 3, not loading, no error", in, err)
	}
}
