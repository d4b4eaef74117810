package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// postConfirmation is the part of a PostConfirmation event that the engine
// reads. Other fields are ignored.
type postConfirmation struct {
	TriggerSource *string `json:"triggerSource"`
	CallerContext struct {
		ClientID *string `json:"clientId"`
	} `json:"callerContext"`
	Request struct {
		UserAttributes map[string]json.RawMessage `json:"userAttributes"`
		ClientMetadata map[string]json.RawMessage `json:"clientMetadata"`
	} `json:"request"`
}

// eventError is a problem of an event file, at a 1-based position when
// line is not 0.
type eventError struct {
	line, col int
	msg       string
}

func (e *eventError) Error() string {
	if e.line == 0 {
		return e.msg
	}
	return fmt.Sprintf("%d:%d: %s", e.line, e.col, e.msg)
}

// decodeEvent reads a PostConfirmation event (as Cognito sends it, and as in
// events/) into the engine's input. Cognito sends attribute and metadata
// values as strings: any other JSON value is an error, so that a sample
// event cannot say what Cognito never sends. It returns every problem
// found.
func decodeEvent(src []byte) (rules.Input, []*eventError) {
	var in rules.Input
	at := func(off int64, format string, args ...any) []*eventError {
		line, col := position(src, off)
		return []*eventError{{line, col, fmt.Sprintf(format, args...)}}
	}
	trimmed := bytes.TrimSpace(src)
	if len(trimmed) == 0 {
		return in, []*eventError{{msg: "empty file; expected a PostConfirmation event (a JSON object)"}}
	}
	if trimmed[0] != '{' {
		return in, at(int64(len(src)-len(bytes.TrimLeft(src, " \t\r\n"))), "expected a PostConfirmation event (a JSON object)")
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	var ev postConfirmation
	if err := dec.Decode(&ev); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return in, at(syn.Offset-1, "invalid JSON: %s", strings.TrimPrefix(syn.Error(), "invalid character "))
		case errors.As(err, &typ):
			want := "an object"
			if typ.Field == "triggerSource" || typ.Field == "callerContext.clientId" {
				want = "a string"
			}
			return in, at(valueOffset(src, strings.Split(typ.Field, ".")), "%s: expected %s, found %s", typ.Field, want, article(typ.Value))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return in, at(int64(len(src)), "invalid JSON: unexpected end of file")
		}
		return in, []*eventError{{msg: "invalid JSON: " + err.Error()}}
	}
	if end := dec.InputOffset(); len(bytes.TrimSpace(src[end:])) > 0 {
		rest := src[end:]
		return in, at(end+int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n"))), "unexpected data after the event")
	}
	if ev.TriggerSource == nil || *ev.TriggerSource == "" {
		return in, []*eventError{{msg: "missing triggerSource"}}
	}
	in.TriggerSource = *ev.TriggerSource
	if ev.CallerContext.ClientID != nil {
		in.ClientID = *ev.CallerContext.ClientID
	}
	var errs []*eventError
	in.UserAttributes = stringValues(src, "userAttributes", ev.Request.UserAttributes, &errs)
	in.ClientMetadata = stringValues(src, "clientMetadata", ev.Request.ClientMetadata, &errs)
	slices.SortFunc(errs, func(a, b *eventError) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
	return in, errs
}

// stringValues converts request.NAME, a JSON object whose values must be
// strings.
func stringValues(src []byte, name string, raw map[string]json.RawMessage, errs *[]*eventError) map[string]string {
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		hint := ""
		if string(v) == "true" || string(v) == "false" {
			hint = fmt.Sprintf(` (write "%s")`, v)
		}
		line, col := position(src, valueOffset(src, []string{"request", name, k}))
		*errs = append(*errs, &eventError{line, col, fmt.Sprintf("request.%s.%s: expected a string, found %s: Cognito sends every value as a string%s",
			name, k, describeJSON(v), hint)})
	}
	return out
}

// valueOffset returns the offset in src, a valid JSON object, of the value
// at path (a key at each level), or 0 when there is none. When a key
// appears twice, the last one counts, as in encoding/json.
func valueOffset(src []byte, path []string) int64 {
	dec := json.NewDecoder(bytes.NewReader(src))
	var found int64
	var walk func(path []string) bool // reads one object; false on error
	walk = func(path []string) bool {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return false
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return false
			}
			key, _ := t.(string)
			off := dec.InputOffset()
			// The value starts after the colon and any space.
			rest := src[off:]
			off += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n:")))
			if key == path[0] && len(path) == 1 {
				found = off
			}
			if key == path[0] && len(path) > 1 && off < int64(len(src)) && src[off] == '{' {
				if !walk(path[1:]) {
					return false
				}
				continue
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return false
			}
		}
		_, err := dec.Token()
		return err == nil
	}
	walk(path)
	return found
}

// describeJSON names the kind of a JSON value.
func describeJSON(v []byte) string {
	switch {
	case len(v) == 0:
		return "nothing"
	case v[0] == '{':
		return "an object"
	case v[0] == '[':
		return "an array"
	case string(v) == "true" || string(v) == "false":
		return "a boolean"
	case string(v) == "null":
		return "null"
	default:
		return "a number"
	}
}

// article prefixes the name of a JSON kind, as encoding/json reports it.
func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "bool":
		return "a boolean"
	}
	return "a " + kind
}

// position returns the 1-based line and column of byte offset off of src.
func position(src []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(src)))
	before := src[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:])))
	return line, col
}
