package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// InvocationsPath is the Lambda Invoke API path of the function aws-lambda-rie serves.
const InvocationsPath = "/2015-03-31/functions/function/invocations"

// Invocation is one call of the function: the event sent, what came back and
// how long it took. Via is ViaCognito for calls cognito-local made through
// the recording proxy and ViaDirect for Env.Invoke.
type Invocation struct {
	RequestID  string
	Via        string
	Event      []byte
	Response   []byte
	StatusCode int
	// Error is the function's error when it failed, nil when it returned.
	// aws-lambda-rie answers HTTP 200 either way; the body tells them apart.
	// When the function did not start or exited, the emulator answers 5xx
	// with no body, and Error has Type "EmulatorError".
	Error    *FunctionError
	Duration time.Duration
}

// How an invocation reached the function.
const (
	ViaCognito = "cognito-local"
	ViaDirect  = "direct"
)

// FunctionError is the body of a failed invocation.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// TriggerSource returns the event's triggerSource.
func (inv Invocation) TriggerSource() string { return eventField(inv.Event, "triggerSource") }

// UserName returns the event's userName (the sub in pools that sign in with email).
func (inv Invocation) UserName() string { return eventField(inv.Event, "userName") }

func eventField(event []byte, name string) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(event, &fields) != nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(fields[name], &s)
	return s
}

// functionError returns the error in a response body, or nil when the body is
// not a Lambda error object.
func functionError(body []byte) *FunctionError {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	if _, ok := fields["errorMessage"]; !ok {
		return nil
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil {
		return nil
	}
	return &fe
}

// recorder forwards Lambda Invoke API calls to aws-lambda-rie and records them.
type recorder struct {
	targets []string // the base URL of each instance's emulator
	client  *http.Client
	// free holds the index of each instance not invoked now: aws-lambda-rie
	// runs one invocation at a time, as one Lambda instance does (its
	// runtime fails when two overlap), so an invocation waits for a free
	// instance.
	free chan int

	mu          sync.Mutex
	invocations []Invocation
}

func newRecorder(targets ...string) *recorder {
	free := make(chan int, len(targets))
	for i := range targets {
		free <- i
	}
	return &recorder{targets: targets, free: free, client: &http.Client{Timeout: 30 * time.Second}}
}

// invoke sends event to the emulator and records the outcome.
func (r *recorder) invoke(ctx context.Context, event []byte, via string) (Invocation, error) {
	inv := Invocation{RequestID: newRequestID(), Via: via, Event: bytes.Clone(event)}
	var instance int
	select {
	case instance = <-r.free:
	case <-ctx.Done():
		return inv, ctx.Err()
	}
	defer func() { r.free <- instance }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.targets[instance]+InvocationsPath, bytes.NewReader(event))
	if err != nil {
		return inv, err
	}
	req.Header.Set("Content-Type", "application/json")
	// aws-lambda-rie uses this as the invocation's request id, which the
	// function's log lines carry: it ties a log line to its invocation.
	req.Header.Set("X-Amzn-RequestId", inv.RequestID)
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return inv, fmt.Errorf("invoke the function through aws-lambda-rie: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	inv.Duration = time.Since(start)
	if err != nil {
		return inv, fmt.Errorf("read the function's response: %w", err)
	}
	inv.StatusCode = resp.StatusCode
	inv.Response = body
	inv.Error = functionError(body)
	if inv.Error == nil && resp.StatusCode != http.StatusOK {
		// aws-lambda-rie answers so when the function did not start or
		// exited, with an empty body; the reason is in its log.
		inv.Error = &FunctionError{
			Type:    "EmulatorError",
			Message: fmt.Sprintf("aws-lambda-rie answered HTTP %d: the function did not start or exited (see its log)", resp.StatusCode),
		}
	}

	r.mu.Lock()
	r.invocations = append(r.invocations, inv)
	r.mu.Unlock()
	return inv, nil
}

// ServeHTTP is the Lambda Invoke API cognito-local calls.
func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != InvocationsPath {
		http.Error(w, "not found: only the function named function is served", http.StatusNotFound)
		return
	}
	event, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	inv, err := r.invoke(req.Context(), event, ViaCognito)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if inv.Error != nil {
		// What Lambda's Invoke API says and aws-lambda-rie does not.
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(inv.StatusCode)
	w.Write(inv.Response)
}

// recorded returns a copy of the invocations so far.
func (r *recorder) recorded() []Invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Invocation(nil), r.invocations...)
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
