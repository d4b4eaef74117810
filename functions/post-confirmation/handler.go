package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// errAssignment is what Cognito receives when a group could not be added and
// the ruleset says onError: fail. Cognito shows it to the client as
// "PostConfirmation failed with error group assignment failed.", so it says
// nothing about groups, pools or the cause: those go to the log.
var errAssignment = errors.New("group assignment failed")

// adder adds one user to groups; *membership.Adder implements it.
type adder interface {
	Add(ctx context.Context, poolID, username string, groups []string) []membership.Result
}

// handler adapts a PostConfirmation event to the ruleset and to Cognito.
// It implements lambda.Handler so that it sees, and returns, the raw bytes.
type handler struct {
	rules *rules.Ruleset
	adder adder
	log   *slog.Logger
}

// event is the part of a PostConfirmation event that the handler reads.
// Decoding it is not strict: AWS may add fields, and the handler never
// re-encodes the event (it returns the bytes it was given).
type event struct {
	TriggerSource *string `json:"triggerSource"`
	UserPoolID    string  `json:"userPoolId"`
	UserName      string  `json:"userName"`
	CallerContext struct {
		ClientID *string `json:"clientId"` // null after AdminConfirmSignUp in some emulators
	} `json:"callerContext"`
	Request struct {
		UserAttributes map[string]string `json:"userAttributes"`
		ClientMetadata map[string]string `json:"clientMetadata"`
	} `json:"request"`
}

// eventError is a malformed event. Its message is safe to return to Cognito:
// it names fields, never their values.
type eventError struct{ msg string }

func (e *eventError) Error() string { return "invalid event: " + e.msg }

// decodeEvent checks that payload is a PostConfirmation event the handler can
// act on. It reports what is wrong without repeating the payload.
func decodeEvent(payload []byte) (*event, error) {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &eventError{"not a JSON object"}
	}
	var ev event
	if err := json.Unmarshal(trimmed, &ev); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			field := typeErr.Field
			if key := nonStringKey(trimmed, field); key != "" {
				field += "." + key
			}
			return nil, &eventError{fmt.Sprintf("%s: expected %s, found a JSON %s", field, typeErr.Type, typeErr.Value)}
		}
		return nil, &eventError{"not valid JSON"}
	}
	if ev.TriggerSource == nil || *ev.TriggerSource == "" {
		return nil, &eventError{"missing triggerSource"}
	}
	return &ev, nil
}

// nonStringKey names the first key whose value is not a string in the
// string map at field (request.userAttributes or request.clientMetadata), so
// that the error can say which attribute is wrong. It runs only on the error
// path and never reports a value.
func nonStringKey(payload []byte, field string) string {
	var ev struct {
		Request map[string]map[string]any `json:"request"`
	}
	if json.Unmarshal(payload, &ev) != nil {
		return ""
	}
	section, ok := strings.CutPrefix(field, "request.")
	if !ok {
		return ""
	}
	keys := make([]string, 0, len(ev.Request[section]))
	for k, v := range ev.Request[section] {
		if _, isString := v.(string); !isString {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	return keys[0]
}

// requireTarget checks the fields AdminAddUserToGroup needs.
func (ev *event) requireTarget() error {
	switch {
	case ev.UserPoolID == "":
		return &eventError{"missing userPoolId"}
	case ev.UserName == "":
		return &eventError{"missing userName"}
	}
	return nil
}

func (ev *event) input() rules.Input {
	in := rules.Input{
		TriggerSource:  *ev.TriggerSource,
		UserAttributes: ev.Request.UserAttributes,
		ClientMetadata: ev.Request.ClientMetadata,
	}
	if ev.CallerContext.ClientID != nil {
		in.ClientID = *ev.CallerContext.ClientID
	}
	return in
}

// Invoke handles one PostConfirmation event and returns it unchanged.
func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	ev, err := decodeEvent(payload)
	if err != nil {
		h.log.ErrorContext(ctx, "rejected event", "error", err.Error(), "bytes", len(payload))
		return nil, err
	}
	source := *ev.TriggerSource
	sub := ev.Request.UserAttributes["sub"]
	if !h.rules.Handles(source) {
		h.log.InfoContext(ctx, "decision",
			"triggerSource", source,
			"sub", sub,
			"outcome", "passed_through",
			"durationMs", ms(time.Since(start)))
		return payload, nil
	}
	if err := ev.requireTarget(); err != nil {
		h.log.ErrorContext(ctx, "rejected event", "error", err.Error(), "triggerSource", source, "sub", sub)
		return nil, err
	}

	decided := h.rules.Decide(ev.input())
	var results []membership.Result
	if len(decided.Groups) > 0 {
		results = h.adder.Add(ctx, ev.UserPoolID, ev.UserName, decided.Groups)
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}

	outcome := "ok"
	switch {
	case len(decided.Groups) == 0:
		outcome = "no_groups"
	case failed > 0 && h.rules.OnError() == rules.OnErrorFail:
		outcome = "failed"
	case failed > 0:
		outcome = "failed_continued"
	}
	level := slog.LevelInfo
	if failed > 0 {
		level = slog.LevelError
	}
	h.log.Log(ctx, level, "decision",
		"triggerSource", source,
		"sub", sub,
		"userPoolId", ev.UserPoolID,
		"matchedRules", nonNil(decided.MatchedRules),
		"defaultApplied", decided.DefaultApplied,
		"groups", decided.Groups,
		"results", resultRecords(results),
		"failed", failed,
		"outcome", outcome,
		"durationMs", ms(time.Since(start)))

	if outcome == "failed" {
		return nil, errAssignment
	}
	return payload, nil
}

// nonNil makes an empty list log as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// resultRecord is how one group's outcome appears in the decision record.
type resultRecord struct {
	Group    string  `json:"group"`
	Kind     string  `json:"kind"`
	Attempts int     `json:"attempts"`
	Ms       float64 `json:"ms"`
	Error    string  `json:"error,omitempty"`
}

func resultRecords(results []membership.Result) []resultRecord {
	out := make([]resultRecord, len(results))
	for i, r := range results {
		out[i] = resultRecord{Group: r.Group, Kind: string(r.Kind), Attempts: r.Attempts, Ms: ms(r.Duration)}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	return out
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
