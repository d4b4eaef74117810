package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// DecisionMessage is the message of the function's one decision record per invocation.
const DecisionMessage = "decision"

// logWait bounds how long LogFor and Decision wait for the function's lines
// to reach aws-lambda-rie's log, which copies them through a pipe.
const logWait = 3 * time.Second

// LogRecord is one JSON line the function logged (AWS_LAMBDA_LOG_FORMAT=JSON):
// timestamp, level, message and requestId as lambdacontext writes them, and
// the record's attributes.
type LogRecord map[string]any

// Message returns the record's message (msg in slog's own JSON handler).
func (r LogRecord) Message() string {
	if m, ok := r["message"].(string); ok {
		return m
	}
	return r.String("msg")
}

// Level returns the record's level, such as INFO or ERROR.
func (r LogRecord) Level() string { return r.String("level") }

// RequestID returns the invocation's request id the record carries.
func (r LogRecord) RequestID() string { return r.String("requestId") }

// String returns the attribute key when it is a string, or "".
func (r LogRecord) String(key string) string {
	s, _ := r[key].(string)
	return s
}

// Strings returns the attribute key when it is a list of strings.
func (r LogRecord) Strings(key string) []string {
	list, _ := r[key].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// FunctionLog returns every JSON record the function has logged so far, in
// order, instance by instance (Options.Instances). aws-lambda-rie's own
// lines (START, END, REPORT, its text log) are left out.
func (e *Env) FunctionLog() ([]LogRecord, error) {
	var all []LogRecord
	for _, p := range e.instances {
		records, err := readLogRecords(p.LogPath())
		if err != nil {
			return nil, err
		}
		all = append(all, records...)
	}
	return all, nil
}

// readLogRecords returns the JSON records of an aws-lambda-rie log.
func readLogRecords(path string) ([]LogRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var records []LogRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r LogRecord
		if json.Unmarshal(line, &r) != nil {
			continue
		}
		if r.Message() != "" {
			records = append(records, r)
		}
	}
	return records, nil
}

// LogFor returns the records the function logged during inv, waiting a
// moment for its decision record to reach the log.
func (e *Env) LogFor(inv Invocation) ([]LogRecord, error) {
	deadline := time.Now().Add(logWait)
	for {
		all, err := e.FunctionLog()
		if err != nil {
			return nil, err
		}
		var mine []LogRecord
		decided := false
		for _, r := range all {
			if r.RequestID() == inv.RequestID {
				mine = append(mine, r)
				decided = decided || r.Message() == DecisionMessage
			}
		}
		// Without a 200 the function did not run to its decision.
		if decided || inv.StatusCode != 200 || time.Now().After(deadline) {
			return mine, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Decision returns the decision record the function logged during inv.
func (e *Env) Decision(inv Invocation) (LogRecord, error) {
	records, err := e.LogFor(inv)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if r.Message() == DecisionMessage {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no %q record with requestId %s in the function's log after %s (%d other records)", DecisionMessage, inv.RequestID, logWait, len(records))
}

// LogLines returns the lines of aws-lambda-rie's log about inv, as written:
// START, the function's JSON records, END and REPORT (with the duration),
// leaving out the emulator's internal (rapid) lines. It waits for the
// decision record as LogFor does.
func (e *Env) LogLines(inv Invocation) ([]string, error) {
	if _, err := e.LogFor(inv); err != nil {
		return nil, err
	}
	var lines []string
	for _, p := range e.instances {
		data, err := os.ReadFile(p.LogPath())
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, inv.RequestID) && !strings.Contains(line, "(rapid)") {
				lines = append(lines, strings.TrimRight(line, " \t"))
			}
		}
	}
	return lines, nil
}
