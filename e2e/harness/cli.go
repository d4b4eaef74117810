package harness

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// CLIPackage is the command-line tool BuildCLI builds.
const CLIPackage = "./cmd/autogroup"

// BuildCLI compiles the autogroup command-line tool for this machine into
// the build's directory (Remove deletes it) and returns its path. Each call
// compiles it again: call it once per test binary.
func (b *Build) BuildCLI(ctx context.Context) (string, error) {
	path := filepath.Join(b.dir, "autogroup")
	if _, err := goCommand(ctx, b.Root, []string{"CGO_ENABLED=0"}, "build", "-o", path, CLIPackage); err != nil {
		return "", fmt.Errorf("build the command-line tool: %w", err)
	}
	return path, nil
}

// CLIEnv returns the environment in which the command-line tool talks to
// this cognito-local (and, with a queue, to goaws through the recording
// proxy): their endpoints, region and dummy credentials, and none of the
// caller's AWS variables or files (a real account's keys, say).
func (e *Env) CLIEnv() []string {
	noFile := filepath.Join(e.Dir, "no-aws-config")
	return supervise.Environ([]string{"AWS_*"},
		"AWS_REGION="+Region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_CONFIG_FILE="+noFile,
		"AWS_SHARED_CREDENTIALS_FILE="+noFile,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+e.CognitoURL,
		"AWS_ENDPOINT_URL_SQS="+e.SQSURL, // empty without a queue: unset
	)
}
