package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// Events sent to the function. The cold starts send a password reset, which
// the shipped ruleset passes through without calling Cognito, so that the
// first response measures starting, not the fake's delay; the warm runs send
// a sign-up, which the function, verifying users as it does by default,
// turns into one AdminGetUser and then, with the generated rulesets, k
// AdminAddUserToGroup calls.
var (
	signUpEvent = event("PostConfirmation_ConfirmSignUp")
	coldEvent   = event("PostConfirmation_ConfirmForgotPassword")
)

// The bench's user pool and its one user (pools that sign in with email
// name users by their sub), as the fake holds them: the same attributes as
// the events claim.
const (
	benchPool = "us-east-1_BENCH0001"
	benchUser = "0b7c5a2e-6f1d-4c3b-9a8e-2d4f6b8c0e1a"
)

var benchAttributes = map[string]string{"sub": benchUser, "email_verified": "true", "email": "bench.user@example.com"}

func event(triggerSource string) []byte {
	return []byte(`{"version":"1","triggerSource":"` + triggerSource + `","region":"us-east-1",` +
		`"userPoolId":"` + benchPool + `","userName":"` + benchUser + `",` +
		`"callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"benchclient0000000000000000"},` +
		`"request":{"userAttributes":{"sub":"` + benchUser + `","cognito:user_status":"CONFIRMED",` +
		`"email_verified":"true","email":"bench.user@example.com"}},"response":{}}`)
}

// addBenchUser makes the fake hold the events' user, so that the function's
// read succeeds and the default (verification on) is what is measured.
func addBenchUser(fake *cognitofake.Server) {
	fake.PutUser(benchPool, cognitofake.User{Username: benchUser, Attributes: benchAttributes, Status: "CONFIRMED"})
}

// rulesetSelecting returns a ruleset with one rule that always holds and
// selects k groups.
func rulesetSelecting(k int) []byte {
	groups := make([]string, k)
	for i := range groups {
		groups[i] = "group-" + strconv.Itoa(i+1)
	}
	return []byte("version: 1\ntriggerSources: [PostConfirmation_ConfirmSignUp]\nonError: fail\nrules:\n" +
		"  - name: everyone\n    when: {always: true}\n    groups: [" + strings.Join(groups, ", ") + "]\n")
}

// lab starts binaries under aws-lambda-rie and measures them.
type lab struct {
	bin        *binaries
	dir        string
	cognitoURL string
	fake       *cognitofake.Server
	started    int // emulators started, to name their logs
}

// instance is one aws-lambda-rie running one bootstrap.
type instance struct {
	p      *proc
	exe    string
	url    string
	client *http.Client
}

// env is the function's environment (aws-lambda-rie passes its own on to
// the bootstrap). Like Lambda's, it is built from nothing rather than from
// the driver's: a region, dummy credentials, no AWS configuration files,
// Cognito at the fake, and no variable of the caller's (an AWS_CA_BUNDLE,
// say, makes config.LoadDefaultConfig parse certificates at start).
func (l *lab) env(extra ...string) []string {
	noFile := filepath.Join(l.dir, "no-aws-config")
	return append([]string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"TZ=UTC",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDBENCHMARK",
		"AWS_SECRET_ACCESS_KEY=benchmark",
		"AWS_CONFIG_FILE=" + noFile,
		"AWS_SHARED_CREDENTIALS_FILE=" + noFile,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + l.cognitoURL,
	}, extra...)
}

// start starts aws-lambda-rie for exe on free loopback ports and waits until
// it listens; t0 is when the process was started. aws-lambda-rie starts the
// bootstrap only when the first invocation arrives.
func (l *lab) start(ctx context.Context, exe string, env []string) (_ *instance, t0 time.Time, err error) {
	for attempt := 1; ; attempt++ {
		var ports [2]int
		for i := range ports {
			if ports[i], err = supervise.FreePort(); err != nil {
				return nil, t0, err
			}
		}
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		l.started++
		logPath := filepath.Join(l.dir, fmt.Sprintf("rie-%03d.log", l.started))
		t0 = time.Now()
		p, err := startProc(filepath.Dir(exe), logPath, env, l.bin.rie,
			"--runtime-interface-emulator-address", addr,
			"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
			exe)
		if err != nil {
			return nil, t0, err
		}
		err = p.WaitForPort(ctx, addr, 30*time.Second)
		if err == nil {
			return &instance{
				p:      p,
				exe:    exe,
				url:    "http://" + addr + "/2015-03-31/functions/function/invocations",
				client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}},
			}, t0, nil
		}
		p.stop()
		// An emulator that exits at once probably lost a port to another
		// process between freePort and its listen: try other ports.
		if !errors.Is(err, supervise.ErrExited) || attempt == 3 {
			return nil, t0, err
		}
	}
}

func (in *instance) stop() {
	in.p.stop()
	in.client.CloseIdleConnections()
}

// invoke sends payload and returns the response and how long it took. The
// response must be the event, unchanged: the function returns it, and so
// does the floor.
func (in *instance) invoke(ctx context.Context, payload []byte) (time.Duration, error) {
	return in.invokeWant(ctx, payload, payload)
}

// invokeWant is invoke for a function that answers want rather than the
// event (the token function fills in the response).
func (in *instance) invokeWant(ctx context.Context, payload, want []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := in.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("invoke %s: %w; emulator log:\n%s", in.exe, err, tail(in.p.LogPath()))
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("invoke %s: %w", in.exe, err)
	}
	if resp.StatusCode != http.StatusOK || !sameJSON(body, want) {
		return 0, fmt.Errorf("invoke %s: HTTP %d %s, want the event back; emulator log:\n%s", in.exe, resp.StatusCode, body, tail(in.p.LogPath()))
	}
	return d, nil
}

func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// peakMemory returns the VmHWM of the bootstrap the instance runs.
func (in *instance) peakMemory() (int64, error) {
	pid, err := childRunning(in.p.Pid(), in.exe)
	if err != nil {
		return 0, err
	}
	return vmHWM(pid)
}

// coldSample is one fresh start.
type coldSample struct {
	FirstResponse time.Duration // from starting aws-lambda-rie to the first response
	FirstInvoke   time.Duration // of which the first invocation (exec, init, invoke)
	InitMs        float64       // the emulator's INIT REPORT durationMs
	PeakMemory    int64         // VmHWM after the first invocation
}

type coldResult struct {
	Function, Floor, Token []coldSample
}

// coldStarts starts the function, the token function and the floor n times
// each, rotating which goes first, after one unrecorded start of each.
func (l *lab) coldStarts(ctx context.Context, n int) (coldResult, error) {
	var r coldResult
	for i := -1; i < n; i++ {
		order := []string{l.bin.function, l.bin.token, l.bin.floor}
		rot := (i + 3) % 3
		order = append(order[rot:], order[:rot]...)
		for _, exe := range order {
			s, err := l.coldOnce(ctx, exe)
			if err != nil {
				return r, err
			}
			if i < 0 {
				continue
			}
			switch exe {
			case l.bin.function:
				r.Function = append(r.Function, s)
			case l.bin.token:
				r.Token = append(r.Token, s)
			default:
				r.Floor = append(r.Floor, s)
			}
		}
	}
	return r, nil
}

func (l *lab) coldOnce(ctx context.Context, exe string) (s coldSample, err error) {
	return l.coldOnceEnv(ctx, exe, l.env())
}

// coldOnceEnv is coldOnce with the environment env.
func (l *lab) coldOnceEnv(ctx context.Context, exe string, env []string) (s coldSample, err error) {
	in, t0, err := l.start(ctx, exe, env)
	if err != nil {
		return s, err
	}
	defer in.stop()
	payload, want := coldEvent, coldEvent
	if exe == l.bin.token {
		// Nothing missing: no Cognito call, as coldEvent for the others.
		if want, err = tokenResponse(); err != nil {
			return s, err
		}
		payload = tokenEvent
	}
	if s.FirstInvoke, err = in.invokeWant(ctx, payload, want); err != nil {
		return s, err
	}
	s.FirstResponse = time.Since(t0)
	if s.PeakMemory, err = in.peakMemory(); err != nil {
		return s, err
	}
	in.stop()
	s.InitMs, err = initReport(in.p.LogPath())
	return s, err
}

var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initReport reads the emulator's INIT REPORT durationMs from its log.
func initReport(logPath string) (float64, error) {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return 0, err
	}
	m := initReportRE.FindAllSubmatch(data, -1)
	if len(m) != 1 {
		return 0, fmt.Errorf("%d INIT REPORT lines in the emulator's log, want 1:\n%s", len(m), tail(logPath))
	}
	return strconv.ParseFloat(string(m[0][1]), 64)
}

// The Cognito operations the function calls for a sign-up: one read, then
// one add per group.
const (
	readOp = "AdminGetUser"
	addOp  = "AdminAddUserToGroup"
)

// warmResult is one ruleset's warm invocations.
type warmResult struct {
	Groups     int
	Latencies  []time.Duration
	PeakMemory int64 // VmHWM after the invocations
}

// warm starts the function with a ruleset that selects k groups, invokes it
// warmUp times, then runs more times, timing each invocation.
func (l *lab) warm(ctx context.Context, k, warmUp, runs int) (warmResult, error) {
	r := warmResult{Groups: k}
	rulesFile := filepath.Join(l.dir, fmt.Sprintf("rules-%d-groups.yaml", k))
	if err := os.WriteFile(rulesFile, rulesetSelecting(k), 0o644); err != nil {
		return r, err
	}
	return l.warmEnv(ctx, k, l.env("RULES_FILE="+rulesFile), warmUp, runs)
}

// warmEnv is warm with the function's environment env, whose ruleset
// selects k groups.
func (l *lab) warmEnv(ctx context.Context, k int, env []string, warmUp, runs int) (warmResult, error) {
	r := warmResult{Groups: k}
	in, _, err := l.start(ctx, l.bin.function, env)
	if err != nil {
		return r, err
	}
	defer in.stop()
	for range warmUp {
		if _, err := in.invoke(ctx, signUpEvent); err != nil {
			return r, err
		}
	}
	before, readsBefore := len(l.fake.CallsTo(addOp)), len(l.fake.CallsTo(readOp))
	for range runs {
		d, err := in.invoke(ctx, signUpEvent)
		if err != nil {
			return r, err
		}
		r.Latencies = append(r.Latencies, d)
	}
	if got, want := len(l.fake.CallsTo(addOp))-before, runs*k; got != want {
		return r, fmt.Errorf("%d invocations selecting %d groups made %d AdminAddUserToGroup calls, want %d", runs, k, got, want)
	}
	if got := len(l.fake.CallsTo(readOp)) - readsBefore; got != runs {
		return r, fmt.Errorf("%d invocations made %d AdminGetUser calls, want %d: one read per sign-up", runs, got, runs)
	}
	r.PeakMemory, err = in.peakMemory()
	return r, err
}
