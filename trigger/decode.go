package trigger

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

// EventError reports why the bytes of an event were refused, with every
// problem found.
//
// Its Error method returns a short message that names fields and never their
// values nor any part of the payload: it is safe to return to Cognito (which
// shows it to the client) and to log. Problems carry the detail for the person
// who wrote the event (a sample in events/, say): a problem's message may
// quote one character of the input or a literal such as true, so print
// Problems to that person and never log them.
type EventError struct {
	// Problems are in the order of their positions. A problem with Line 0
	// concerns the event as a whole and has no position.
	Problems []rules.Problem
	summary  string
}

// Error returns "invalid event: " and the first problem, without values.
func (e *EventError) Error() string { return "invalid event: " + e.summary }

// Format returns the problems one per line, each as NAME:LINE:COL: message,
// or NAME: message for a problem without a position. name is how the
// event's source is named (a file name, say).
func (e *EventError) Format(name string) string {
	var b strings.Builder
	for _, p := range e.Problems {
		b.WriteString(p.Format(name))
		b.WriteByte('\n')
	}
	return b.String()
}

// kind is what a shape accepts besides null, which every shape accepts (as
// encoding/json does for the fields it decodes into).
type kind uint8

const (
	stringKind     kind = iota + 1 // a string
	objectKind                     // an object; fields known, others ignored
	stringMapKind                  // an object whose values are strings
	stringListKind                 // an array of strings
)

// shape describes the part of an event's JSON that a wire struct decodes: it
// lets diagnose find, with positions, every value that json.Unmarshal into
// that struct refuses. A shape and its wire struct must agree; a fuzz test
// checks that they do.
type shape struct {
	kind   kind
	fields []field // of objectKind
}

type field struct {
	name string
	shape
}

// decode unmarshals payload into wire, the struct of an event kind called
// eventName (e.g. "PostConfirmation"), whose JSON sh describes (sh is called
// only on failure). The fast path is one json.Unmarshal; only when it fails
// does diagnose walk the payload to say where and why.
func decode(payload []byte, wire any, eventName string, sh func() shape) error {
	if trimmed := trimJSONSpace(payload); len(trimmed) == 0 || trimmed[0] != '{' {
		return diagnose(payload, eventName, sh(), nil)
	}
	if err := json.Unmarshal(payload, wire); err != nil {
		return diagnose(payload, eventName, sh(), err)
	}
	return nil
}

// problem is a problem being collected: at byte offset off of the payload
// (-1: no position), with its detailed message and a safe one for Error.
type problem struct {
	off       int64
	msg, safe string
}

// newEventError sorts problems by position and builds the error.
func newEventError(src []byte, ps []problem) *EventError {
	slices.SortStableFunc(ps, func(a, b problem) int { return cmp.Compare(a.off, b.off) })
	e := &EventError{Problems: make([]rules.Problem, len(ps)), summary: ps[0].safe}
	for i, p := range ps {
		e.Problems[i].Message = p.msg
		if p.off >= 0 {
			e.Problems[i].Line, e.Problems[i].Column = position(src, p.off)
		}
	}
	switch len(ps) {
	case 1:
	case 2:
		e.summary += " (and 1 more problem)"
	default:
		e.summary += fmt.Sprintf(" (and %d more problems)", len(ps)-1)
	}
	return e
}

// eventProblem is an *EventError with one problem without a position, for
// the checks made after decoding.
func eventProblem(msg string) *EventError {
	return &EventError{Problems: []rules.Problem{{Message: msg}}, summary: msg}
}

// diagnose finds every problem of src, an event that json.Unmarshal refused
// with unmarshalErr (nil when src is not a JSON object), against sh. It
// reports each value encoding/json would refuse, with its line and column.
func diagnose(src []byte, eventName string, sh shape, unmarshalErr error) *EventError {
	d := &diagnosis{src: src}
	d.run(eventName, sh)
	if len(d.problems) == 0 {
		// diagnose and json.Unmarshal disagree: say what Unmarshal said,
		// without its values.
		safe := "not valid JSON"
		if typ := (*json.UnmarshalTypeError)(nil); errors.As(unmarshalErr, &typ) && typ.Field != "" {
			safe = fmt.Sprintf("%s: expected %s, found %s", typ.Field, article(typ.Type.Kind().String()), article(typ.Value))
		}
		d.problems = append(d.problems, problem{-1, safe, safe})
	}
	return newEventError(src, d.problems)
}

type diagnosis struct {
	src      []byte
	problems []problem
}

func (d *diagnosis) add(off int64, safe, detail string) {
	d.problems = append(d.problems, problem{off, detail, safe})
}

func (d *diagnosis) run(eventName string, sh shape) {
	src := d.src
	trimmed := trimJSONSpace(src)
	notObject := fmt.Sprintf("expected a %s event (a JSON object)", eventName)
	if len(trimmed) == 0 {
		d.add(-1, "not a JSON object", "empty file; "+notObject)
		return
	}
	start := int64(len(src) - len(trimLeftJSONSpace(src)))
	if trimmed[0] != '{' {
		d.add(start, "not a JSON object", notObject)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			line, col := position(src, syn.Offset-1)
			d.add(syn.Offset-1, fmt.Sprintf("not valid JSON (line %d, column %d)", line, col),
				"invalid JSON: "+strings.TrimPrefix(syn.Error(), "invalid character "))
		case errors.Is(err, io.ErrUnexpectedEOF):
			d.add(int64(len(src)), "not valid JSON (unexpected end)", "invalid JSON: unexpected end of file")
		default:
			d.add(-1, "not valid JSON", "invalid JSON: "+err.Error())
		}
		return
	}
	if end := dec.InputOffset(); len(trimJSONSpace(src[end:])) > 0 {
		off := end + int64(len(src[end:])-len(trimLeftJSONSpace(src[end:])))
		d.add(off, "unexpected data after the event", "unexpected data after the event")
	}
	w := walker{diagnosis: d, dec: json.NewDecoder(bytes.NewReader(src))}
	w.value(start, "", sh)
}

// walker reads the first JSON value of a syntactically valid source token by
// token, checking each value against its shape.
type walker struct {
	*diagnosis
	dec *json.Decoder
}

// value checks the value starting at off against sh; path names it.
func (w *walker) value(off int64, path string, sh shape) {
	c := w.src[off]
	switch {
	case c == 'n' || sh.kind == 0:
		// null is accepted everywhere.
	case sh.kind == stringKind && c != '"':
		msg := fmt.Sprintf("%s: expected a string, found %s", path, describe(c))
		w.add(off, msg, msg)
	case sh.kind == stringListKind && c != '[':
		msg := fmt.Sprintf("%s: expected an array of strings, found %s", path, describe(c))
		w.add(off, msg, msg)
	case sh.kind == stringListKind:
		w.dec.Token() // [
		for i := 0; w.dec.More(); i++ {
			off := w.dec.InputOffset()
			rest := w.src[off:]
			off += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n,")))
			if c := w.src[off]; c != '"' && c != 'n' {
				msg := fmt.Sprintf("%s[%d]: expected a string, found %s", path, i, describe(c))
				w.add(off, msg, msg)
			}
			w.skip()
		}
		w.dec.Token() // ]
		return
	case sh.kind != stringKind && c != '{':
		msg := fmt.Sprintf("%s: expected an object, found %s", path, describe(c))
		w.add(off, msg, msg)
	case sh.kind == objectKind:
		w.object(path, func(key string, off int64) {
			if f := sh.field(key); f != nil {
				w.value(off, join(path, f.name), f.shape)
			} else {
				w.skip()
			}
		})
		return
	case sh.kind == stringMapKind:
		w.object(path, func(key string, off int64) {
			if c := w.src[off]; c != '"' && c != 'n' {
				hint := ""
				if c == 't' || c == 'f' {
					hint = fmt.Sprintf(` (write "%t")`, c == 't')
				}
				msg := fmt.Sprintf("%s.%%s: expected a string, found %s", path, describe(c))
				w.add(off, fmt.Sprintf(msg, shorten(key)), fmt.Sprintf(msg, key)+": Cognito sends every value as a string"+hint)
			}
			w.skip()
		})
		return
	}
	w.skip()
}

// object reads an object, calling each with every key and the offset of its
// value, which each must consume.
func (w *walker) object(path string, each func(key string, off int64)) {
	w.dec.Token() // {
	for w.dec.More() {
		t, _ := w.dec.Token()
		key, _ := t.(string)
		off := w.dec.InputOffset()
		rest := w.src[off:]
		off += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n:")))
		each(key, off)
	}
	w.dec.Token() // }
}

// skip consumes one value.
func (w *walker) skip() {
	var raw json.RawMessage
	_ = w.dec.Decode(&raw) // the source is valid JSON
}

// field returns the field that encoding/json would decode key into: the one
// named key exactly, else the first whose name equals key under Unicode case
// folding. It returns nil when there is none.
func (sh *shape) field(key string) *field {
	for i := range sh.fields {
		if sh.fields[i].name == key {
			return &sh.fields[i]
		}
	}
	for i := range sh.fields {
		if strings.EqualFold(sh.fields[i].name, key) {
			return &sh.fields[i]
		}
	}
	return nil
}

// maxSafeKey is the most characters of a key that Error quotes: keys of
// clientMetadata are the client's to choose.
const maxSafeKey = 64

// shorten cuts key to maxSafeKey characters.
func shorten(key string) string {
	if len(key) <= maxSafeKey {
		return key
	}
	if r := []rune(key); len(r) > maxSafeKey {
		return string(r[:maxSafeKey]) + "…"
	}
	return key
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// describe names the kind of the JSON value that starts with c.
func describe(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// article prefixes the name of a JSON or Go kind, as encoding/json reports
// them.
func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	}
	return "a " + kind
}

// trimJSONSpace trims the white space JSON allows around a value.
func trimJSONSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

func trimLeftJSONSpace(b []byte) []byte { return bytes.TrimLeft(b, " \t\r\n") }

// position returns the 1-based line and column (in characters) of byte
// offset off of src.
func position(src []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(src)))
	before := src[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:])))
	return line, col
}
