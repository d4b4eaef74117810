// Package harness runs the post-confirmation function for real on this
// machine, without AWS or Docker: the function under aws-lambda-rie (the
// emulator `sam local` runs in its container), cognito-local as the user
// pool, and between the two a recording proxy that keeps every event sent
// and every response returned, because cognito-local hides trigger failures.
//
//	SDK client ──> cognito-local ──Invoke──> recording proxy ──> aws-lambda-rie ──> bootstrap
//	                    ^                                                              │
//	                    └──────────────── AdminAddUserToGroup ─────────────────────────┘
//
// With Options.Queue it also runs the retry queue: goaws (an SQS emulator)
// with the queue and its dead-letter queue, behind a proxy that keeps every
// message body sent, and the assignment-retry function under its own
// aws-lambda-rie; Drain plays the event source mapping between them.
//
// Start returns a running Env and Stop ends it; New does both for a test,
// skipping it when the emulators are not installed (failing it under CI).
// Each process has its own working directory, port and log file, runs in
// its own process group and is stopped by its own pid.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// Code is the confirmation code cognito-local sends for every user (its CODE variable).
const Code = "123456"

// Region is the region the function and the harness's client are configured with.
const Region = "us-east-1"

// startTimeout bounds how long each emulator may take to listen.
const startTimeout = 30 * time.Second

// Options configure Start.
type Options struct {
	// Build is what to run; when nil, Start builds it and Stop removes it.
	Build *Build
	// RulesFile is passed to the function as RULES_FILE; when empty the
	// function uses its embedded ruleset. A relative path is taken from the
	// working directory.
	RulesFile string
	// PlainUsernames makes pools whose users sign in with a username rather
	// than an email address (cognito-local's UsernameAttributes: []).
	PlainUsernames bool
	// FunctionEnv adds variables to the function's environment.
	FunctionEnv []string
	// Queue, when set, runs the retry queue and its consumer (see
	// QueueOptions), and gives the function AUTOGROUP_RETRY_QUEUE_URL and
	// AWS_ENDPOINT_URL_SQS (QueueEnv).
	Queue *QueueOptions
	// Instances is how many instances of the function run, each under its
	// own aws-lambda-rie (which runs one invocation at a time, as one Lambda
	// instance does); an invocation goes to a free one, as Lambda scales
	// out. 1 when 0.
	Instances int
	// CognitoLimit, when set, puts a rate-enforcing proxy between the
	// functions (the sign-up function and the consumers) and cognito-local
	// (see RateLimit); Env.SetCognitoRate changes it while the Env runs.
	CognitoLimit *RateLimit
	// Token, when set, also runs the pre-token-generation function, under
	// its own aws-lambda-rie with the function's environment, as the pool's
	// PreTokenGeneration trigger (see TokenInvocations).
	Token bool
	// Logf reports progress; nothing is reported when nil.
	Logf func(format string, args ...any)
}

// Env is a running cognito-local, recording proxy and aws-lambda-rie.
type Env struct {
	// CognitoURL is cognito-local's endpoint.
	CognitoURL string
	// EmulatorURL is aws-lambda-rie's endpoint; ProxyURL the recording proxy's.
	EmulatorURL, ProxyURL string
	// Cognito is an SDK client of cognito-local with dummy credentials.
	Cognito *cognitoidentityprovider.Client
	// Dir holds each process's working directory and log file.
	Dir string
	// With Options.Queue: SQSURL is the endpoint of the recording proxy in
	// front of goaws, QueueURL and DeadLetterQueueURL the queues' URLs,
	// and SQS a client of the proxy with dummy credentials.
	SQSURL, QueueURL, DeadLetterQueueURL string
	SQS                                  *sqs.Client

	build          *Build
	ownBuild       bool
	rulesFile      string // the ruleset the function runs
	plainUsernames bool
	rie            *supervise.Process   // the first instance
	instances      []*supervise.Process // every instance, rie first
	cognito        *supervise.Process
	proxy          *http.Server
	rec            *recorder
	queue          *queue   // nil without Options.Queue
	limiter        *limiter // nil without Options.CognitoLimit
	limitServer    *http.Server
	token          *Function // nil without Options.Token
	stopOnce       sync.Once
}

// Start builds (unless opts.Build is set) and starts the emulators. The
// error is a *MissingError when an emulator is not installed. Call Stop when
// done, whatever happens next.
//
// The ports come from supervise.FreePort, free a moment before each process
// starts: another process (a test binary of another package, make demo)
// can take one in between, and would then answer in the emulator's place.
// WaitForPort tells (supervise.ErrPortTaken); Start then starts everything
// again on new ports, up to three times.
func Start(ctx context.Context, opts Options) (*Env, error) {
	for attempt := 1; ; attempt++ {
		e, err := start(ctx, opts)
		if err == nil || attempt == 3 || !errors.Is(err, supervise.ErrPortTaken) {
			return e, err
		}
		if opts.Logf != nil {
			opts.Logf("starting again on new ports (attempt %d): %v", attempt+1, err)
		}
	}
}

// waitRIE waits until aws-lambda-rie p listens on both its addresses: the
// invoke API and the runtime API its bootstrap calls.
func waitRIE(ctx context.Context, p *supervise.Process, addrs ...string) error {
	for _, a := range addrs {
		if err := p.WaitForPort(ctx, a, startTimeout); err != nil {
			return err
		}
	}
	return nil
}

func start(ctx context.Context, opts Options) (_ *Env, err error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	e := &Env{build: opts.Build, plainUsernames: opts.PlainUsernames}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.build == nil {
		if e.build, err = NewBuild(ctx, BuildOptions{Logf: logf}); err != nil {
			return nil, err
		}
		e.ownBuild = true
	}
	e.rulesFile = filepath.Join(e.build.Root, filepath.FromSlash(autogroup.ShippedRulesPath))
	if opts.RulesFile != "" {
		if e.rulesFile, err = filepath.Abs(opts.RulesFile); err != nil {
			return nil, err
		}
		if _, err := os.Stat(e.rulesFile); err != nil {
			return nil, fmt.Errorf("rules file: %w", err)
		}
	}
	if e.Dir, err = os.MkdirTemp("", "autogroup-e2e-"); err != nil {
		return nil, err
	}

	// The proxy listens first: cognito-local's config names its address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.ProxyURL = "http://" + l.Addr().String()
	var ports [3]int
	for i := range ports {
		if ports[i], err = supervise.FreePort(); err != nil {
			return nil, err
		}
	}
	rieAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	runtimeAPIAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
	cognitoAddr := "127.0.0.1:" + strconv.Itoa(ports[2])
	e.EmulatorURL = "http://" + rieAddr
	e.CognitoURL = "http://" + cognitoAddr
	type instance struct{ addr, runtimeAPI string }
	instances := []instance{{rieAddr, runtimeAPIAddr}}
	for len(instances) < max(opts.Instances, 1) {
		var p [2]int
		for i := range p {
			if p[i], err = supervise.FreePort(); err != nil {
				return nil, err
			}
		}
		instances = append(instances, instance{"127.0.0.1:" + strconv.Itoa(p[0]), "127.0.0.1:" + strconv.Itoa(p[1])})
	}
	targets := make([]string, len(instances))
	for i, in := range instances {
		targets[i] = "http://" + in.addr
	}

	e.rec = newRecorder(targets...)
	e.proxy = &http.Server{Handler: http.HandlerFunc(e.route), ReadHeaderTimeout: 10 * time.Second}
	go e.proxy.Serve(l)

	// aws-lambda-rie, which runs the bootstrap with its own environment.
	noFile := filepath.Join(e.Dir, "no-aws-config")
	// The functions' Cognito: cognito-local, or the rate-enforcing proxy in
	// front of it.
	functionCognito := e.CognitoURL
	if opts.CognitoLimit != nil {
		if functionCognito, err = e.startLimiter(*opts.CognitoLimit); err != nil {
			return nil, err
		}
	}
	commonEnv := []string{
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_CONFIG_FILE=" + noFile,
		"AWS_SHARED_CREDENTIALS_FILE=" + noFile,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + functionCognito,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	}
	if opts.RulesFile != "" {
		commonEnv = append(commonEnv, "RULES_FILE="+e.rulesFile)
	}
	// Variables of the caller's shell that would reach a real account or
	// change the function's configuration are left out.
	drop := []string{"AWS_*", "AUTOGROUP_*", "RULES_FILE", "RULES_SOURCE", "LOG_LEVEL", "_HANDLER", "_LAMBDA_*", "LAMBDA_*"}
	if opts.Queue != nil {
		if err := e.startQueue(ctx, *opts.Queue, commonEnv, drop); err != nil {
			return nil, err
		}
	}
	fnEnv := append(append(commonEnv, "AWS_LAMBDA_FUNCTION_TIMEOUT=10"), e.QueueEnv()...)
	fnEnv = append(fnEnv, opts.FunctionEnv...)
	// aws-lambda-rie starts the bootstrap in a process group of its own;
	// Stop stops that group too.
	for i, in := range instances {
		name := "aws-lambda-rie"
		if i > 0 {
			name += "-" + strconv.Itoa(i+1)
		}
		dir := filepath.Join(e.Dir, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		p, err := supervise.Start(supervise.Options{
			Name: name,
			Dir:  dir,
			Env:  supervise.Environ(drop, fnEnv...),
			Log:  filepath.Join(e.Dir, name+".log"),
		},
			e.build.RIE,
			"--runtime-interface-emulator-address", in.addr,
			"--runtime-api-address", in.runtimeAPI,
			e.build.Bootstrap)
		if err != nil {
			return nil, err
		}
		e.instances = append(e.instances, p)
	}
	e.rie = e.instances[0]
	if opts.Token {
		if e.token, err = e.startToken(ctx, fnEnv, drop); err != nil {
			return nil, err
		}
	}

	// cognito-local, in a fresh working directory: its state is ./.cognito/db.
	cognitoDir := filepath.Join(e.Dir, "cognito-local")
	if err := writeCognitoConfig(cognitoDir, e.ProxyURL, opts.PlainUsernames, opts.Token); err != nil {
		return nil, err
	}
	e.cognito, err = supervise.Start(supervise.Options{
		Name: "cognito-local",
		Dir:  cognitoDir,
		Env: supervise.Environ([]string{"AWS_*", "HOST", "PORT", "CODE", "DEBUG", "COGNITO_LOCAL_DEVMODE"},
			"HOST=127.0.0.1",
			"PORT="+strconv.Itoa(ports[2]),
			"CODE="+Code,
			"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1"),
		Log: filepath.Join(e.Dir, "cognito-local.log"),
	}, e.build.CognitoLocal)
	if err != nil {
		return nil, err
	}

	for i, p := range e.instances {
		if err := waitRIE(ctx, p, instances[i].addr, instances[i].runtimeAPI); err != nil {
			return nil, err
		}
	}
	if err := e.cognito.WaitForPort(ctx, cognitoAddr, startTimeout); err != nil {
		return nil, err
	}

	if e.Cognito, err = newCognitoClient(ctx, e.Dir, e.CognitoURL); err != nil {
		return nil, err
	}
	logf("cognito-local on %s, aws-lambda-rie on %s, recording proxy on %s", e.CognitoURL, e.EmulatorURL, e.ProxyURL)
	if e.queue != nil {
		logf("retry queue %s behind %s, %d assignment-retry instances", e.QueueURL, e.SQSURL, len(e.queue.consumers))
	}
	return e, nil
}

// Stop stops cognito-local, the proxy and aws-lambda-rie, and the queue's
// processes (SIGTERM, then SIGKILL after a grace period, each by its own
// process group), and removes the working directories. It is safe to call
// more than once.
func (e *Env) Stop() {
	e.stopOnce.Do(func() {
		e.cognito.Stop()
		if e.proxy != nil {
			e.proxy.Close()
		}
		if e.limitServer != nil {
			e.limitServer.Close()
		}
		for _, p := range e.instances {
			p.Stop()
		}
		e.token.Stop()
		if e.queue != nil {
			e.queue.stop()
		}
		if e.Dir != "" {
			os.RemoveAll(e.Dir)
		}
		if e.ownBuild {
			e.build.Remove()
		}
	})
}

// RulesFile returns the path of the ruleset the function runs: opts.RulesFile,
// or the shipped ruleset (autogroup.ShippedRulesPath).
func (e *Env) RulesFile() string { return e.rulesFile }

// Invocations returns every invocation so far, in order: those cognito-local
// made through the proxy and those made with Invoke.
func (e *Env) Invocations() []Invocation { return e.rec.recorded() }

// Invoke sends event straight to aws-lambda-rie, as `sam local invoke` would,
// and returns what the function did. It is recorded with Via = ViaDirect.
func (e *Env) Invoke(ctx context.Context, event []byte) (Invocation, error) {
	return e.rec.invoke(ctx, event, ViaDirect)
}

// LogFiles returns the path of each process's log, by process name.
func (e *Env) LogFiles() map[string]string {
	logs := map[string]string{}
	for _, p := range e.processes() {
		if p != nil {
			logs[p.Name()] = p.LogPath()
		}
	}
	return logs
}

// Tail returns the last n lines of the log of the named process
// ("aws-lambda-rie", "cognito-local", and with a queue "goaws" and
// "assignment-retry-1" and up), without terminal colours.
func (e *Env) Tail(process string, n int) string {
	path, ok := e.LogFiles()[process]
	if !ok {
		return fmt.Sprintf("(no process %q)", process)
	}
	return supervise.Tail(path, n)
}

// Report returns the last n lines of every log and a line per invocation,
// for a failed test to print.
func (e *Env) Report(n int) string {
	var b strings.Builder
	for _, p := range e.processes() {
		if p != nil {
			fmt.Fprintf(&b, "--- last %d lines of %s's log (%s):\n%s\n", n, p.Name(), p.LogPath(), p.Tail(n))
		}
	}
	e.queue.report(&b)
	if e.rec != nil {
		b.WriteString("--- invocations:\n")
		for i, inv := range e.rec.recorded() {
			outcome := "returned"
			if inv.Error != nil {
				outcome = "failed: " + inv.Error.Error()
			}
			fmt.Fprintf(&b, "%d. %s via %s, %s, HTTP %d, %s\n", i+1, inv.TriggerSource(), inv.Via, inv.Duration.Round(time.Millisecond), inv.StatusCode, outcome)
		}
	}
	return b.String()
}

// Running returns an error when an emulator has exited on its own.
func (e *Env) Running() error {
	var errs []error
	for _, p := range e.processes() {
		if p != nil && p.Exited() {
			errs = append(errs, fmt.Errorf("%s exited: %v", p.Name(), p.Err()))
		}
	}
	return errors.Join(errs...)
}

// processes returns every process of the Env that has started.
func (e *Env) processes() []*supervise.Process {
	ps := append([]*supervise.Process{}, e.instances...)
	if len(ps) == 0 {
		ps = append(ps, e.rie)
	}
	return append(append(ps, e.cognito, e.token.process()), e.queue.processes()...)
}
