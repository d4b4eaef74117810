package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRecorder(t *testing.T) {
	// A stand-in for aws-lambda-rie: fails events whose userName is "bad".
	var requestIDs []string
	emulator := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestIDs = append(requestIDs, r.Header.Get("X-Amzn-RequestId"))
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"bad"`) {
			io.WriteString(w, `{"errorMessage":"group assignment failed","errorType":"errorString"}`)
			return
		}
		w.Write(body)
	}))
	defer emulator.Close()
	rec := newRecorder(emulator.URL)
	proxy := httptest.NewServer(rec)
	defer proxy.Close()

	tests := []struct {
		name         string
		path         string
		event        string
		wantStatus   int
		wantFnErrHdr string
		wantErr      *FunctionError
		wantRecorded int
		wantUserName string
		wantTrigger  string
		wantResponse string
	}{
		{
			name:         "returned event",
			path:         InvocationsPath,
			event:        `{"triggerSource":"PostConfirmation_ConfirmSignUp","userName":"good"}`,
			wantStatus:   200,
			wantRecorded: 1,
			wantUserName: "good",
			wantTrigger:  "PostConfirmation_ConfirmSignUp",
			wantResponse: `{"triggerSource":"PostConfirmation_ConfirmSignUp","userName":"good"}`,
		},
		{
			name:         "function error",
			path:         InvocationsPath,
			event:        `{"triggerSource":"PostConfirmation_ConfirmSignUp","userName":"bad"}`,
			wantStatus:   200,
			wantFnErrHdr: "Unhandled",
			wantErr:      &FunctionError{Message: "group assignment failed", Type: "errorString"},
			wantRecorded: 2,
			wantUserName: "bad",
			wantTrigger:  "PostConfirmation_ConfirmSignUp",
			wantResponse: `{"errorMessage":"group assignment failed","errorType":"errorString"}`,
		},
		{
			name:         "another function's name",
			path:         "/2015-03-31/functions/other/invocations",
			event:        `{}`,
			wantStatus:   404,
			wantRecorded: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(proxy.URL+tt.path, "application/json", strings.NewReader(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != tt.wantFnErrHdr {
				t.Errorf("X-Amz-Function-Error = %q, want %q", got, tt.wantFnErrHdr)
			}
			invs := rec.recorded()
			if len(invs) != tt.wantRecorded {
				t.Fatalf("recorded %d invocations, want %d", len(invs), tt.wantRecorded)
			}
			if tt.wantStatus != 200 {
				return
			}
			inv := invs[len(invs)-1]
			if string(body) != tt.wantResponse || string(inv.Response) != tt.wantResponse {
				t.Errorf("response = %s, recorded %s, want %s", body, inv.Response, tt.wantResponse)
			}
			if string(inv.Event) != tt.event {
				t.Errorf("recorded event = %s, want %s", inv.Event, tt.event)
			}
			if (inv.Error == nil) != (tt.wantErr == nil) || inv.Error != nil && *inv.Error != *tt.wantErr {
				t.Errorf("Error = %v, want %v", inv.Error, tt.wantErr)
			}
			if inv.UserName() != tt.wantUserName || inv.TriggerSource() != tt.wantTrigger {
				t.Errorf("UserName, TriggerSource = %q, %q, want %q, %q", inv.UserName(), inv.TriggerSource(), tt.wantUserName, tt.wantTrigger)
			}
			if inv.Via != ViaCognito {
				t.Errorf("Via = %q, want %q", inv.Via, ViaCognito)
			}
			if inv.RequestID == "" || requestIDs[len(requestIDs)-1] != inv.RequestID {
				t.Errorf("emulator saw request id %q, recorded %q", requestIDs[len(requestIDs)-1], inv.RequestID)
			}
		})
	}

	inv, err := rec.invoke(context.Background(), []byte(`{"userName":"direct"}`), ViaDirect)
	if err != nil || inv.Via != ViaDirect || string(inv.Response) != `{"userName":"direct"}` {
		t.Errorf("invoke = %+v, %v; want the event back via %s", inv, err, ViaDirect)
	}
}

func TestFunctionError(t *testing.T) {
	tests := []struct {
		body string
		want *FunctionError
	}{
		{`{"errorMessage":"m","errorType":"t"}`, &FunctionError{Message: "m", Type: "t"}},
		{`{"errorMessage":"m"}`, &FunctionError{Message: "m"}},
		{`{"version":"1","response":{}}`, nil},
		{`null`, nil},
		{`not json`, nil},
	}
	for _, tt := range tests {
		got := functionError([]byte(tt.body))
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("functionError(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestGroupNames(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "functions", "post-confirmation", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := GroupNames(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"staff", "engineering", "customers", "paid", "qa"} {
		if !slices.Contains(got, g) {
			t.Errorf("GroupNames(rules.yaml) = %v, want it to contain %q", got, g)
		}
	}
	if _, err := GroupNames([]byte("rules: [")); err == nil {
		t.Error("GroupNames(broken YAML) succeeded, want an error")
	}
}

func TestModFileNames(t *testing.T) {
	tests := []struct {
		gomod string
		want  bool
	}{
		{"module " + modulePath + "\n\ngo 1.26\n", true},
		{"// comment\nmodule \"" + modulePath + "\"\n", true},
		{"module " + modulePath + "/tools\n", false},
		{"go 1.26\n", false},
	}
	for _, tt := range tests {
		if got := modFileNames([]byte(tt.gomod), modulePath); got != tt.want {
			t.Errorf("modFileNames(%q) = %v, want %v", tt.gomod, got, tt.want)
		}
	}
}

func TestSkipOrFail(t *testing.T) {
	missing := &MissingError{What: "cognito-local is not installed", Fix: "run make e2e-deps"}
	tests := []struct {
		name     string
		ci       string
		err      error
		wantSkip bool
		wantFail bool
	}{
		{name: "missing by hand", ci: "", err: missing, wantSkip: true},
		{name: "missing under CI", ci: "true", err: missing, wantFail: true},
		{name: "other error", ci: "", err: io.ErrUnexpectedEOF, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rt := &recordingT{}
			func() {
				defer func() { _ = recover() }()
				SkipOrFail(rt, tt.err)
			}()
			if rt.skipped != tt.wantSkip || rt.failed != tt.wantFail {
				t.Errorf("skipped, failed = %v, %v, want %v, %v (%s)", rt.skipped, rt.failed, tt.wantSkip, tt.wantFail, rt.msg)
			}
			if tt.err == missing && !strings.Contains(rt.msg, "make e2e-deps") {
				t.Errorf("message %q does not say to run make e2e-deps", rt.msg)
			}
		})
	}
}

// recordingT records how SkipOrFail ended a test; it panics to stop, as
// runtime.Goexit does in the testing package.
type recordingT struct {
	skipped, failed bool
	msg             string
}

func (r *recordingT) Helper()             {}
func (r *recordingT) Cleanup(func())      {}
func (r *recordingT) Logf(string, ...any) {}
func (r *recordingT) Failed() bool        { return r.failed }
func (r *recordingT) Skipf(f string, a ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(f, a...)
	panic("skip")
}
func (r *recordingT) Fatalf(f string, a ...any) {
	r.failed, r.msg = true, fmt.Sprintf(f, a...)
	panic("fatal")
}
