package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestColdStartDependencies keeps the SDK's config package, and the STS, SSO
// and sign-in clients it links, out of the function: their package
// initialisation was most of the gap between the function's cold start and
// an empty function's (BENCHMARKS.md). The function builds its client from
// the Lambda environment with membership.NewClientFromEnv instead.
func TestColdStartDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages, want the function's dependencies", len(deps))
	}
	for _, d := range deps {
		for _, banned := range []string{
			"github.com/aws/aws-sdk-go-v2/config",
			"github.com/aws/aws-sdk-go-v2/service/sts",
			"github.com/aws/aws-sdk-go-v2/service/sso",
			"github.com/aws/aws-sdk-go-v2/service/ssooidc",
			"github.com/aws/aws-sdk-go-v2/service/signin",
		} {
			if d == banned {
				t.Errorf("the function depends on %s, whose initialisation slows every cold start", d)
			}
		}
	}
}
