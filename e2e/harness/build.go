package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// modulePath is the root module's path, used to recognise its go.mod.
const modulePath = "github.com/cognito-autogroup/cognito-autogroup"

// FunctionPackage is the function the harness builds unless told otherwise.
const FunctionPackage = "./functions/post-confirmation"

// RetryFunctionPackage is the retry queue's consumer, which the harness
// runs for an Env with a queue (Options.Queue).
const RetryFunctionPackage = "./functions/assignment-retry"

// TokenFunctionPackage is the PreTokenGeneration function, which the
// harness runs for an Env with Options.Token and for StartFunction.
const TokenFunctionPackage = "./functions/pre-token-generation"

// MissingError reports a prerequisite of the emulators that is not installed.
// Tests skip on it when run by hand and fail on it under CI.
type MissingError struct {
	What string // what is missing
	Fix  string // how to install it
}

func (e *MissingError) Error() string { return e.What + ": " + e.Fix }

// FindRoot returns the directory of the root go.mod, searching up from the
// working directory.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modFileNames(data, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s in the working directory or above", modulePath)
		}
		dir = parent
	}
}

// modFileNames reports whether a go.mod declares module path.
func modFileNames(gomod []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == path {
			return true
		}
	}
	return false
}

// CheckPrerequisites reports, as a *MissingError, the first tool the
// emulators need that is not installed: go, node, or cognito-local in
// e2e/node_modules (installed by `make e2e-deps`).
func CheckPrerequisites(root string) error {
	if _, err := exec.LookPath("go"); err != nil {
		return &MissingError{What: "go is not on PATH", Fix: "install Go 1.26 or later"}
	}
	if _, err := exec.LookPath("node"); err != nil {
		return &MissingError{What: "node is not on PATH", Fix: "install Node.js 20.19 or later with npm, then run make e2e-deps"}
	}
	if _, err := os.Stat(cognitoLocalPath(root)); err != nil {
		return &MissingError{What: "cognito-local is not installed in e2e/node_modules", Fix: "run make e2e-deps"}
	}
	return nil
}

func cognitoLocalPath(root string) string {
	return filepath.Join(root, "e2e", "node_modules", ".bin", "cognito-local")
}

// Build holds what the harness runs: the functions compiled for this
// machine and the aws-lambda-rie and goaws binaries pinned in tools/go.mod.
// Build once, start many environments from it, and Remove it at the end.
type Build struct {
	Root           string // module root
	Bootstrap      string // the function's executable
	RetryBootstrap string // the assignment-retry function's executable
	TokenBootstrap string // the pre-token-generation function's executable
	RIE            string // aws-lambda-rie, from the Go build cache
	GoAWS          string // goaws, the SQS emulator, from the Go build cache
	CognitoLocal   string // e2e/node_modules/.bin/cognito-local
	dir            string
}

// BuildOptions configure NewBuild.
type BuildOptions struct {
	// Root is the module root; FindRoot when empty.
	Root string
	// Function is the package to build; FunctionPackage when empty.
	Function string
	// Logf reports progress; nothing is reported when nil.
	Logf func(format string, args ...any)
}

// NewBuild checks the prerequisites (a *MissingError when one is absent),
// compiles the function and the assignment-retry function for the host and
// locates aws-lambda-rie and goaws, compiling them on first use (about a
// minute on two cores; cached afterwards).
func NewBuild(ctx context.Context, opts BuildOptions) (*Build, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	root := opts.Root
	if root == "" {
		var err error
		if root, err = FindRoot(); err != nil {
			return nil, err
		}
	}
	if err := CheckPrerequisites(root); err != nil {
		return nil, err
	}
	fn := opts.Function
	if fn == "" {
		fn = FunctionPackage
	}
	dir, err := os.MkdirTemp("", "autogroup-build-")
	if err != nil {
		return nil, err
	}
	b := &Build{
		Root:           root,
		CognitoLocal:   cognitoLocalPath(root),
		Bootstrap:      filepath.Join(dir, "bootstrap"),
		RetryBootstrap: filepath.Join(dir, "assignment-retry"),
		TokenBootstrap: filepath.Join(dir, "pre-token-generation"),
		dir:            dir,
	}

	start := time.Now()
	logf("building %s, %s, %s, aws-lambda-rie and goaws (about a minute the first time, cached afterwards)...", fn, RetryFunctionPackage, TokenFunctionPackage)
	for _, f := range []struct{ pkg, out string }{{fn, b.Bootstrap}, {RetryFunctionPackage, b.RetryBootstrap}, {TokenFunctionPackage, b.TokenBootstrap}} {
		if _, err := goCommand(ctx, root, []string{"CGO_ENABLED=0"},
			"build", "-tags", "lambda.norpc", "-o", f.out, f.pkg); err != nil {
			b.Remove()
			return nil, fmt.Errorf("build %s: %w", f.pkg, err)
		}
	}
	if b.RIE, err = RIEPath(ctx, root); err != nil {
		b.Remove()
		return nil, err
	}
	if b.GoAWS, err = toolPath(ctx, root, goawsTool); err != nil {
		b.Remove()
		return nil, err
	}
	logf("built in %s", time.Since(start).Round(100*time.Millisecond))
	return b, nil
}

// RIEPath returns the path of aws-lambda-rie as pinned in root's
// tools/go.mod, compiling it into the Go build cache on first use. Run that
// binary, not `go tool`, so that stopping it by pid stops the emulator.
func RIEPath(ctx context.Context, root string) (string, error) {
	return toolPath(ctx, root, "aws-lambda-rie")
}

// goawsTool is goaws's main package, as tools/go.mod names it: its last
// element ("cmd") is too vague to name the tool by.
const goawsTool = "github.com/Admiral-Piett/goaws/app/cmd"

// toolPath returns the path of a tool pinned in root's tools/go.mod,
// compiling it into the Go build cache on first use.
func toolPath(ctx context.Context, root, tool string) (string, error) {
	out, err := goCommand(ctx, root, nil, "tool", "-modfile=tools/go.mod", "-n", tool)
	if err != nil {
		return "", fmt.Errorf("build %s from tools/go.mod: %w", tool, err)
	}
	path := strings.TrimSpace(out)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s: go tool -n printed %q: %w", tool, path, err)
	}
	return path, nil
}

// Remove deletes the compiled function. The emulator stays in the Go build cache.
func (b *Build) Remove() {
	if b != nil && b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// goCommand runs the go command in dir for the host platform, in a process
// group of its own, and returns its standard output; on failure the error
// carries its standard error.
func goCommand(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	return supervise.Output(ctx, dir, supervise.Environ([]string{"GOOS", "GOARCH", "GOWORK"}, append(env, "GOWORK=off")...),
		append([]string{"go"}, args...)...)
}

// isMissing reports whether err is a *MissingError.
func isMissing(err error) bool {
	var m *MissingError
	return errors.As(err, &m)
}
