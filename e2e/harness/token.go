package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// tokenFunctionName is the name cognito-local invokes the PreTokenGeneration
// trigger by; the proxy sends it to the token function's aws-lambda-rie.
const tokenFunctionName = "token"

// tokenInvocationsPath is the Lambda Invoke API path of tokenFunctionName.
const tokenInvocationsPath = "/2015-03-31/functions/" + tokenFunctionName + "/invocations"

// Function is one function running under an aws-lambda-rie of its own, with
// a recorder in front: the token function of an Env (Options.Token), or one
// started by StartFunction against another Cognito endpoint, such as
// internal/cognitofake, whose faults cognito-local cannot produce.
type Function struct {
	// URL is aws-lambda-rie's endpoint.
	URL     string
	rie     *supervise.Process
	rec     *recorder
	ownDir  string // removed by Stop; empty when the Env owns the directory
	stopped bool
}

// FunctionOptions configure StartFunction.
type FunctionOptions struct {
	// Build holds the bootstraps and aws-lambda-rie.
	Build *Build
	// Bootstrap is the executable to run, such as Build.TokenBootstrap.
	Bootstrap string
	// Env is added to the function's environment, after the harness's
	// defaults (region, dummy credentials, JSON logs, no AWS config file).
	// Give AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER here.
	Env []string
}

// StartFunction runs a function under its own aws-lambda-rie, in a working
// directory of its own, until Stop. Variables of the caller's environment
// that would reach a real account or configure the function are left out.
func StartFunction(ctx context.Context, o FunctionOptions) (*Function, error) {
	dir, err := os.MkdirTemp("", "autogroup-function-")
	if err != nil {
		return nil, err
	}
	noFile := filepath.Join(dir, "no-aws-config")
	env := append([]string{
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_CONFIG_FILE=" + noFile,
		"AWS_SHARED_CREDENTIALS_FILE=" + noFile,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=10",
	}, o.Env...)
	drop := []string{"AWS_*", "AUTOGROUP_*", "RULES_FILE", "LOG_LEVEL", "_HANDLER", "_LAMBDA_*", "LAMBDA_*"}
	f, err := startFunction(ctx, o.Build.RIE, o.Bootstrap, dir, supervise.Environ(drop, env...))
	for attempt := 2; attempt <= 3 && errors.Is(err, supervise.ErrPortTaken); attempt++ {
		f, err = startFunction(ctx, o.Build.RIE, o.Bootstrap, dir, supervise.Environ(drop, env...)) // new ports (see Start)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	f.ownDir = dir
	return f, nil
}

// startFunction starts bootstrap under aws-lambda-rie in dir with env.
func startFunction(ctx context.Context, rie, bootstrap, dir string, env []string) (*Function, error) {
	var ports [2]int
	for i := range ports {
		p, err := supervise.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	rieDir := filepath.Join(dir, "aws-lambda-rie-"+filepath.Base(bootstrap))
	if err := os.MkdirAll(rieDir, 0o755); err != nil {
		return nil, err
	}
	p, err := supervise.Start(supervise.Options{
		Name: filepath.Base(bootstrap),
		Dir:  rieDir,
		Env:  env,
		Log:  filepath.Join(dir, filepath.Base(bootstrap)+".log"),
	}, rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]), bootstrap)
	if err != nil {
		return nil, err
	}
	f := &Function{URL: "http://" + addr, rie: p, rec: newRecorder("http://" + addr)}
	if err := waitRIE(ctx, p, addr, "127.0.0.1:"+strconv.Itoa(ports[1])); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

// startToken starts the Env's token function with the sign-up function's
// environment.
func (e *Env) startToken(ctx context.Context, env, drop []string) (*Function, error) {
	return startFunction(ctx, e.build.RIE, e.build.TokenBootstrap, e.Dir, supervise.Environ(drop, env...))
}

// route sends cognito-local's invocations of the token function to it, and
// every other to the sign-up function's recorder.
func (e *Env) route(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == tokenInvocationsPath && e.token != nil {
		req.URL.Path = InvocationsPath
		e.token.rec.ServeHTTP(w, req)
		return
	}
	e.rec.ServeHTTP(w, req)
}

// TokenInvocations returns the token function's invocations so far (with
// Options.Token), in order.
func (e *Env) TokenInvocations() []Invocation {
	if e.token == nil {
		return nil
	}
	return e.token.Invocations()
}

// TokenFunction returns the Env's token function, nil without
// Options.Token.
func (e *Env) TokenFunction() *Function { return e.token }

// Invoke sends event to the function and returns what it did.
func (f *Function) Invoke(ctx context.Context, event []byte) (Invocation, error) {
	return f.rec.invoke(ctx, event, ViaDirect)
}

// Invocations returns every invocation of the function so far, in order.
func (f *Function) Invocations() []Invocation { return f.rec.recorded() }

// Decision returns the decision record the function logged during inv,
// waiting a moment for it to reach the log.
func (f *Function) Decision(inv Invocation) (LogRecord, error) {
	deadline := time.Now().Add(logWait)
	for {
		all, err := readLogRecords(f.rie.LogPath())
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			if r.RequestID() == inv.RequestID && r.Message() == DecisionMessage {
				return r, nil
			}
		}
		if inv.StatusCode != http.StatusOK || time.Now().After(deadline) {
			return nil, fmt.Errorf("no %q record with requestId %s in %s", DecisionMessage, inv.RequestID, f.rie.LogPath())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tail returns the last n lines of the function's log.
func (f *Function) Tail(n int) string { return f.rie.Tail(n) }

// Stop stops the function's aws-lambda-rie (and the function), and removes
// the directory StartFunction made. It is safe to call more than once, and
// on nil.
func (f *Function) Stop() {
	if f == nil || f.stopped {
		return
	}
	f.stopped = true
	f.rie.Stop()
	if f.ownDir != "" {
		os.RemoveAll(f.ownDir)
	}
}

// process returns the function's aws-lambda-rie, nil for a nil Function.
func (f *Function) process() *supervise.Process {
	if f == nil {
		return nil
	}
	return f.rie
}
