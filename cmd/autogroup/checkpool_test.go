package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
)

// poolGolden is the output of a run, for a golden file.
func (r fakeRun) golden(args []string) string {
	return fmt.Sprintf("$ autogroup %s\n-- exit --\n%d\n-- stdout --\n%s-- stderr --\n%s",
		strings.Join(args, " "), r.code, r.stdout, r.stderr)
}

// shippedProviders are identity providers of the names the shipped ruleset
// uses, neither of which maps email_verified.
var shippedProviders = []cognitofake.IdentityProvider{
	{Name: "CorporateSSO", Type: "SAML", AttributeMapping: map[string]string{"email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}},
	{Name: "Google", Type: "Google", AttributeMapping: map[string]string{"email": "email", "name": "name"}},
}

// shippedGroups are the groups of the shipped ruleset.
var shippedGroups = []string{"qa", "staff", "engineering", "customers", "paid"}

func TestCheckPool(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		setup func(s *cognitofake.Server)
		code  int
	}{
		{
			// Groups and an attribute missing, no trigger, an app client
			// that may write everything.
			name:  "check-pool-errors",
			rules: backfillRules,
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{Name: "shop"})
				s.CreateGroup(fakePool, "customers")
				s.CreateGroup(fakePool, "staff")
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "3n4b5urk1ft4fl3mg5e62d9ado", ClientName: "web", WriteAttributes: []string{"email", "name"}})
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "7f2kq0c9v1x8m3n5b6z4l2j0hg", ClientName: "mobile"})
			},
			code: exitProblems,
		},
		{
			// The shipped ruleset on a pool made for it, but for a client
			// that writes custom:department.
			name:  "check-pool-ok",
			rules: shippedRules,
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{
					Name:              "autogroup",
					PostConfirmation:  "arn:aws:lambda:us-east-1:123456789012:function:autogroup-PostConfirmationFunction",
					CustomAttributes:  []string{"custom:plan", "custom:department"},
					IdentityProviders: shippedProviders,
				})
				for _, g := range shippedGroups {
					s.CreateGroup(fakePool, g)
				}
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "3n4b5urk1ft4fl3mg5e62d9ado", ClientName: "web", WriteAttributes: []string{"email", "name", "given_name"}})
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "5hr6sync0x1y2z3a4b5c6d7e8f", ClientName: "hr-sync", WriteAttributes: []string{"custom:department"}})
			},
			code: exitOK,
		},
		{
			// groupsFrom on an attribute a client can write: a user
			// who picks the value picks the group.
			name:  "check-pool-groups-from",
			rules: additionsRules,
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{
					PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:autogroup",
					CustomAttributes: []string{"custom:tenant", "custom:idp_groups"},
				})
				for _, g := range []string{"engineering", "staff", "customers"} {
					s.CreateGroup(fakePool, g)
				}
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "3n4b5urk1ft4fl3mg5e62d9ado", ClientName: "web", WriteAttributes: []string{"email", "custom:tenant"}})
			},
			code: exitOK,
		},
		{
			// A client created without WriteAttributes.
			name:  "check-pool-open-client",
			rules: shippedRules,
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{
					PostConfirmation:  "arn:aws:lambda:us-east-1:123456789012:function:autogroup",
					CustomAttributes:  []string{"custom:plan", "custom:department"},
					IdentityProviders: shippedProviders,
				})
				for _, g := range shippedGroups {
					s.CreateGroup(fakePool, g)
				}
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "1a2b3c4d5e6f7g8h9i0j1k2l3m", ClientName: "spa"})
			},
			code: exitOK,
		},
		{
			// DescribeUserPool answers without LambdaConfig; no provider
			// exists, so the shipped rules' names are errors.
			name:  "check-pool-no-lambda-config",
			rules: shippedRules,
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{NoLambdaConfig: true, CustomAttributes: []string{"custom:plan", "custom:department"}})
				for _, g := range shippedGroups {
					s.CreateGroup(fakePool, g)
				}
			},
			code: exitProblems,
		},
		{
			// What besides Cognito marks an address verified: both
			// triggers, and a provider that maps email_verified.
			name:  "check-pool-verified-sources",
			rules: shippedRules,
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{
					PostConfirmation:  "arn:aws:lambda:us-east-1:123456789012:function:autogroup",
					PreSignUp:         "arn:aws:lambda:us-east-1:123456789012:function:auto-verify",
					UserMigration:     "arn:aws:lambda:us-east-1:123456789012:function:migrate",
					CustomAttributes:  []string{"custom:plan", "custom:department"},
					IdentityProviders: append(slices.Clone(shippedProviders), cognitofake.IdentityProvider{Name: "Okta", Type: "OIDC", AttributeMapping: map[string]string{"email": "email", "email_verified": "email_verified"}}),
				})
				for _, g := range shippedGroups {
					s.CreateGroup(fakePool, g)
				}
			},
			code: exitOK,
		},
		{
			// Conditions judged one by one: clientId by the clients it
			// names, identityProvider by the providers, email in an any.
			name:  "check-pool-conditions",
			rules: "testdata/check-pool-rules.yaml",
			setup: func(s *cognitofake.Server) {
				s.ConfigurePool(fakePool, cognitofake.PoolConfig{
					PostConfirmation:  "arn:aws:lambda:us-east-1:123456789012:function:autogroup",
					IdentityProviders: shippedProviders[:1],
				})
				for _, g := range []string{"imported", "partners", "staff"} {
					s.CreateGroup(fakePool, g)
				}
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "6b4ck3nd1mp0rt0s3cr3tc11nt", ClientName: "importer", Secret: "s3cr3t", WriteAttributes: []string{"name"}})
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "4s1l2k3j4h5g6f7d8s9a0p1o2i", ClientName: "partner-portal", WriteAttributes: []string{"email", "name"}})
				s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "k10skk10skk10skk10skk10skk", ClientName: "kiosk", WriteAttributes: []string{"name"}})
			},
			code: exitProblems,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cognitofake.New(t)
			s.SetPageSize(2) // the list calls page
			tt.setup(s)
			args := []string{"check-pool", "--pool", fakePool, "--rules", tt.rules}
			r := runFake(t, s, nil, args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d", r.code, tt.code)
			}
			golden(t, filepath.Join("testdata", "golden", tt.name+".golden"), r.golden(args))
			for _, c := range s.Calls() {
				switch c.Op {
				case "DescribeUserPool", "ListGroups", "ListUserPoolClients", "DescribeUserPoolClient", "ListIdentityProviders", "DescribeIdentityProvider":
				default:
					t.Errorf("check-pool called %s", c.Op)
				}
			}

			// --json holds the same findings.
			j := runFake(t, s, nil, append(args, "--json")...)
			var rep struct {
				Pool     string   `json:"pool"`
				Rules    string   `json:"rules"`
				Errors   []string `json:"errors"`
				Warnings []string `json:"warnings"`
				OK       []string `json:"ok"`
			}
			if err := json.Unmarshal([]byte(j.stdout), &rep); err != nil {
				t.Fatalf("--json output is not one JSON object: %v\n%s", err, j.stdout)
			}
			if j.code != tt.code || rep.Pool != fakePool || rep.Rules != tt.rules {
				t.Errorf("--json: exit %d, pool %q, rules %q", j.code, rep.Pool, rep.Rules)
			}
			var lines []string
			for _, e := range rep.Errors {
				lines = append(lines, "error: "+e)
			}
			for _, w := range rep.Warnings {
				lines = append(lines, "warning: "+w)
			}
			for _, o := range rep.OK {
				lines = append(lines, "ok: "+o)
			}
			var text []string
			for l := range strings.SplitSeq(r.stdout, "\n") {
				if strings.HasPrefix(l, "error: ") || strings.HasPrefix(l, "warning: ") || strings.HasPrefix(l, "ok: ") {
					text = append(text, l)
				}
			}
			if diff := cmp.Diff(sortedCopy(text), sortedCopy(lines)); diff != "" {
				t.Errorf("--json findings differ from the text (-text +json):\n%s", diff)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestCheckPoolTooManyGroups(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f"})
	for r := range 2 {
		fmt.Fprintf(&b, "  - name: r%d\n    when: {always: true}\n    groups: [", r)
		for g := range 51 {
			if g > 0 {
				b.WriteString(", ")
			}
			name := fmt.Sprintf("g%d-%d", r, g)
			b.WriteString(name)
			s.CreateGroup(fakePool, name)
		}
		b.WriteString("]\n")
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", rules)
	if r.code != exitOK {
		t.Errorf("exit %d, want 0 (a warning)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "warning: " + rules + ":2:1: the rules can select 102 distinct groups; a user can belong to at most 100"; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
}

func TestCheckPoolUnreadable(t *testing.T) {
	s := cognitofake.New(t) // DescribeUserPool: ResourceNotFoundException
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", backfillRules)
	if want := "autogroup check-pool: cannot describe user pool " + fakePool + ": ResourceNotFoundException: User pool does not exist.\n"; r.code != exitUsage || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{})
	s.Inject(cognitofake.Fault{Op: "ListUserPoolClients", Type: "AccessDeniedException", Message: "denied"})
	r = runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", backfillRules)
	if want := "(the caller needs IAM permission cognito-idp:ListUserPoolClients)"; r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
	s.ClearFaults()
	s.Inject(cognitofake.Fault{Op: "ListIdentityProviders", Type: "AccessDeniedException", Message: "denied"})
	r = runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", shippedRules)
	if want := "cannot list the identity providers of user pool " + fakePool + ": AccessDeniedException: denied (the caller needs IAM permission cognito-idp:ListIdentityProviders)"; r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
}

// TestCheckPoolProviders checks when check-pool reads the identity
// providers: only for rules that name one or trust email_verified, and on
// an endpoint that lacks the operation (cognito-local) once, going on
// without them.
func TestCheckPoolProviders(t *testing.T) {
	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f"})
	s.CreateGroup(fakePool, "customers")
	none := writeRules(t, "version: 1\nrules:\n  - name: all\n    when: {always: true}\n    groups: [customers]\n")
	if r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", none); r.code != exitOK || len(s.CallsTo("ListIdentityProviders")) != 0 {
		t.Errorf("rules without providers or email_verified: exit %d, %d ListIdentityProviders calls; want 0 and none\n%s%s", r.code, len(s.CallsTo("ListIdentityProviders")), r.stdout, r.stderr)
	}

	s.Inject(cognitofake.Fault{Op: "ListIdentityProviders", Status: 500, Type: "CognitoLocal#Unsupported", Message: "Cognito Local unsupported feature: Unsupported x-amz-target header \"ListIdentityProviders\""})
	sso := writeRules(t, "version: 1\nrules:\n  - name: sso\n    when: {identityProvider: CorporateSSO}\n    groups: [customers]\n")
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", sso)
	want := "warning: cannot list the identity providers of user pool " + fakePool + ": Unsupported: Cognito Local unsupported feature: "
	if r.code != exitOK || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "error:") {
		t.Errorf("exit %d, stdout:\n%s\nwant 0 and %q, no error", r.code, r.stdout, want)
	}
	if n := len(s.CallsTo("ListIdentityProviders")); n != 1 {
		t.Errorf("%d ListIdentityProviders calls, want 1 (an operation the endpoint lacks is not retried)", n)
	}
}

func TestCheckPoolUnverifiedEmail(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	src := "version: 1\nrules:\n  - name: partners\n    when:\n      attribute: email\n      endsWith: \"@partner.example\"\n    groups: [partners]\n"
	if err := os.WriteFile(rules, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f"})
	s.CreateGroup(fakePool, "partners")
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "c1", ClientName: "web", WriteAttributes: []string{"email"}})
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "c2", ClientName: "admin", WriteAttributes: []string{"name"}})
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", rules)
	want := "warning: app client web (c1) can write email, and rule partners reads it without requiring a verified address (at 5:7): a user could set it and get group partners; leave it out of the client's WriteAttributes\n"
	if r.code != exitOK || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "admin (c2)") {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 0 and %q, nothing about admin", r.code, r.stdout, want)
	}
}

// writeRules writes a ruleset for a test and returns its path.
func writeRules(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckPoolEmailInAny is the case of issue 14: a rule whose any holds
// an emailDomain (verified) and an attribute email (not) was reported safe
// for a client that writes email, while an unverified address got the group.
func TestCheckPoolEmailInAny(t *testing.T) {
	rules := writeRules(t, `version: 1
requireVerifiedEmail: true
rules:
  - name: partners
    when:
      any: [{emailDomain: example.com}, {attribute: email, endsWith: "@partner.example"}]
    groups: [partners]
`)
	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f"})
	s.CreateGroup(fakePool, "partners")
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "c1", ClientName: "web", WriteAttributes: []string{"email"}})
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", rules)
	want := "warning: app client web (c1) can write email, and rule partners reads it without requiring a verified address (at 6:42)"
	if !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "ok: app client web (c1) can write email") {
		t.Errorf("stdout:\n%s\nwant %q and no ok for web writing email", r.stdout, want)
	}
}

// TestCheckPoolClientSecret checks that the clientId warning goes for a
// condition whose clients all have a secret, and stays for one that names a
// client without.
func TestCheckPoolClientSecret(t *testing.T) {
	rules := writeRules(t, `version: 1
rules:
  - name: imported
    when: {clientId: [backend, batch]}
    groups: [imported]
  - name: beta
    when: {clientId: [backend, spa]}
    groups: [beta]
`)
	s := cognitofake.New(t)
	s.ConfigurePool(fakePool, cognitofake.PoolConfig{PostConfirmation: "arn:aws:lambda:us-east-1:123456789012:function:f"})
	s.CreateGroup(fakePool, "imported")
	s.CreateGroup(fakePool, "beta")
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "backend", ClientName: "backend", Secret: "s1"})
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "batch", ClientName: "batch", Secret: "s2"})
	s.AddAppClient(fakePool, cognitofake.AppClient{ClientID: "spa", ClientName: "spa"})
	r := runFake(t, s, nil, "check-pool", "--pool", fakePool, "--rules", rules, "--json")
	var rep struct{ Errors, Warnings, OK []string }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(rep.Errors) != 0 || len(rep.Warnings) != 1 || !strings.HasPrefix(rep.Warnings[0], "rule beta (at 7:12): clientId names app client spa (spa), which has no secret") {
		t.Errorf("errors %q, warnings %q; want none, and one on spa in rule beta", rep.Errors, rep.Warnings)
	}
	if !slices.Contains(rep.OK, "rule imported (at 4:12): clientId names only app clients with a secret (backend (backend), batch (batch)): a sign-up through them needs the secret, which only their owner's servers hold") {
		t.Errorf("ok = %q, want rule imported's clients found to have a secret", rep.OK)
	}
}
