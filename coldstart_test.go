package autogroup_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestColdStartDependencies keeps the SDK's config package, and the STS, SSO
// and sign-in clients it links, out of every function under functions/:
// their package initialisation was most of the gap between a function's cold
// start and an empty function's (BENCHMARKS.md). The functions build their
// clients from the Lambda environment (internal/awsenv) instead. It keeps
// the SDK's SQS client out too: its schemas and endpoint tables took about a
// millisecond to initialise, for the one call the functions make
// (retryqueue.Client makes it instead).
func TestColdStartDependencies(t *testing.T) {
	dirs, err := filepath.Glob("functions/*")
	if err != nil || len(dirs) < 4 {
		t.Fatalf("functions/*: %v %v, want the four functions", dirs, err)
	}
	banned := []string{
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aws/aws-sdk-go-v2/service/sso",
		"github.com/aws/aws-sdk-go-v2/service/ssooidc",
		"github.com/aws/aws-sdk-go-v2/service/signin",
		"github.com/aws/aws-sdk-go-v2/service/sqs",
		// The command-line tool's clients: no function calls these.
		"github.com/aws/aws-sdk-go-v2/service/appconfig",
		"github.com/aws/aws-sdk-go-v2/service/cloudformation",
		"github.com/aws/aws-sdk-go-v2/service/lambda",
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "./"+dir).Output()
			if err != nil {
				t.Fatalf("go list -deps: %v", err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 {
				t.Fatalf("go list -deps printed %d packages, want the function's dependencies", len(deps))
			}
			for _, d := range deps {
				for _, b := range banned {
					if d == b {
						t.Errorf("%s depends on %s, whose initialisation slows every cold start", dir, d)
					}
				}
			}
		})
	}
}
