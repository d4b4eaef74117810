// Package retryqueue is the retry queue's message and the SQS calls on it.
//
// A Message says which groups a user still has to be added to, and why each
// failed; Encode and Decode turn it into a queue message's body and back.
// The body is versioned JSON ("v":1): Decode reads every version it knows
// and refuses a newer one, so a consumer deployed before its producers can
// read whatever they send. A message carries ids, group names, error kinds
// and codes and times, never an email address, a phone number or any other
// attribute value: Encode and Decode refuse a username that looks like an
// email address or a phone number, and a sub that is not a UUID.
//
// FailedGroups turns membership results into a message's groups. A Sender
// puts messages on the queue with SendMessage, one at a time, through a
// Client: the one call, over SQS's JSON protocol, without the SDK's config
// package or SQS client, whose initialisation slows cold starts;
// NewSenderFromEnv builds both from the Lambda environment. Package
// retryqueue/batch sends many at once with SendMessageBatch.
package retryqueue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// Version is the message version Encode writes.
const Version = 1

// Limits of a message's content.
const (
	// MaxGroups is the most groups one message carries: Cognito's limit of
	// groups per user.
	MaxGroups = 100
	// MaxBodySize is the largest body Decode reads: SQS's message size
	// limit. An encoded message is far smaller.
	MaxBodySize = 256 * 1024
	maxUsername = 128
	maxPoolID   = 55
	maxToken    = 64 // a reason or an error code
)

// Source says which path put a message on the queue.
type Source string

// The sources of messages.
const (
	SourcePostConfirmation   Source = "post-confirmation"
	SourcePreTokenGeneration Source = "pre-token-generation"
	SourceBackfill           Source = "backfill"
)

// ReasonNotAttempted is the Reason of a group that was queued without an
// attempt: by a backfill that sends its plan through the queue, or by a
// function whose budget ran out first.
const ReasonNotAttempted membership.Kind = "not_attempted"

// Message is one user's groups still to be added.
type Message struct {
	// UserPoolID and Username are what AdminAddUserToGroup takes.
	UserPoolID, Username string
	// Sub is the user's sub, which a consumer checks against Cognito's.
	Sub string
	// Groups are the groups to add, 1 to MaxGroups, each named once.
	Groups []Group
	// Source is the path that queued the message.
	Source Source
	// FirstFailedAt is when the first attempt failed; zero when none was
	// made (ReasonNotAttempted).
	FirstFailedAt time.Time
	// EnqueuedAt is when the message was sent.
	EnqueuedAt time.Time
}

// Group is one group to add and why it was not added.
type Group struct {
	// Name is the group's name.
	Name string
	// Reason is the kind of the last failure (membership.Kind, such as
	// throttled or group_not_found), or ReasonNotAttempted.
	Reason membership.Kind
	// Code is the service's error code, such as TooManyRequestsException;
	// empty when there was none (a timeout, say). Never a message text,
	// which could carry values.
	Code string
}

// GroupNames returns the names of m's groups, in order.
func (m *Message) GroupNames() []string {
	names := make([]string, len(m.Groups))
	for i, g := range m.Groups {
		names[i] = g.Name
	}
	return names
}

// wireV1 is version 1 of the body.
type wireV1 struct {
	V             int       `json:"v"`
	UserPoolID    string    `json:"userPoolId"`
	Username      string    `json:"username"`
	Sub           string    `json:"sub"`
	Groups        []groupV1 `json:"groups"`
	Source        Source    `json:"source"`
	FirstFailedAt string    `json:"firstFailedAt,omitempty"`
	EnqueuedAt    string    `json:"enqueuedAt"`
}

type groupV1 struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Code   string `json:"code,omitempty"`
}

// Encode checks m and returns its body, version Version. Times are written
// in RFC 3339, in UTC, to the millisecond. The error says which field is
// wrong, never its value.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	w := wireV1{
		V:          1,
		UserPoolID: m.UserPoolID,
		Username:   m.Username,
		Sub:        m.Sub,
		Groups:     make([]groupV1, len(m.Groups)),
		Source:     m.Source,
		EnqueuedAt: formatTime(m.EnqueuedAt),
	}
	if !m.FirstFailedAt.IsZero() {
		w.FirstFailedAt = formatTime(m.FirstFailedAt)
	}
	for i, g := range m.Groups {
		w.Groups[i] = groupV1{Name: g.Name, Reason: string(g.Reason), Code: g.Code}
	}
	return json.Marshal(w)
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// VersionError is a body whose version this package does not know.
type VersionError struct {
	// Version is the body's "v".
	Version int
}

func (e *VersionError) Error() string {
	if e.Version > Version {
		return fmt.Sprintf("message version %d is newer than this consumer reads (1 to %d): deploy the newer consumer", e.Version, Version)
	}
	return fmt.Sprintf("message version %d is unknown (this consumer reads 1 to %d)", e.Version, Version)
}

// DecodeError is a body that is not a valid message. Its text names the
// field and the problem, never the body or a value from it.
type DecodeError struct{ msg string }

func (e *DecodeError) Error() string { return "invalid retry message: " + e.msg }

func decodeErrorf(format string, args ...any) error {
	return &DecodeError{fmt.Sprintf(format, args...)}
}

// Decode reads a body of any version this package knows and checks it as
// Validate does. A version it does not know is a *VersionError; anything
// else wrong is a *DecodeError. Unknown fields are refused: a field added
// to the message comes with a new version.
func Decode(body []byte) (Message, error) {
	if len(body) > MaxBodySize {
		return Message{}, decodeErrorf("%d bytes, more than %d", len(body), MaxBodySize)
	}
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return Message{}, jsonError(err)
	}
	if head.V == nil {
		return Message{}, decodeErrorf("no version (\"v\")")
	}
	var (
		m   Message
		err error
	)
	switch *head.V {
	case 1:
		m, err = decodeV1(body)
	default:
		return Message{}, &VersionError{Version: *head.V}
	}
	if err != nil {
		return Message{}, err
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func decodeV1(body []byte) (Message, error) {
	var w wireV1
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Message{}, jsonError(err)
	}
	if dec.More() {
		return Message{}, decodeErrorf("more than one JSON value")
	}
	m := Message{
		UserPoolID: w.UserPoolID,
		Username:   w.Username,
		Sub:        w.Sub,
		Groups:     make([]Group, len(w.Groups)),
		Source:     w.Source,
	}
	for i, g := range w.Groups {
		m.Groups[i] = Group{Name: g.Name, Reason: membership.Kind(g.Reason), Code: g.Code}
	}
	var err error
	if m.EnqueuedAt, err = parseTime("enqueuedAt", w.EnqueuedAt); err != nil {
		return Message{}, err
	}
	if w.FirstFailedAt != "" {
		if m.FirstFailedAt, err = parseTime("firstFailedAt", w.FirstFailedAt); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, decodeErrorf("%s: missing", field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, decodeErrorf("%s: not an RFC 3339 time", field)
	}
	return t.UTC(), nil
}

// jsonError describes a JSON decoding error by position and field, without
// the input.
func jsonError(err error) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return decodeErrorf("not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return decodeErrorf("not a JSON object")
		}
		return decodeErrorf("%s: expected %s, found a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The field's name comes from the body: name it only when it is
		// a short plain word.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if len(name) <= 32 && isWord(name) {
			return decodeErrorf("unknown field %q (a new field needs a new version)", name)
		}
		return decodeErrorf("unknown field (a new field needs a new version)")
	}
	return decodeErrorf("not valid JSON")
}

// Validate checks that m can be sent and acted on: a pool id and a
// username as Cognito shapes them (and a username that is not an email
// address or a phone number), a sub in UUID form, 1 to MaxGroups distinct
// valid group names each with a reason, a known source and an EnqueuedAt.
// The error names the field, never its value.
func (m *Message) Validate() error {
	switch {
	case !validPoolID(m.UserPoolID):
		return decodeErrorf("userPoolId: not a user pool id")
	case m.Username == "" || utf8.RuneCountInString(m.Username) > maxUsername || !utf8.ValidString(m.Username):
		return decodeErrorf("username: want 1 to %d characters of UTF-8", maxUsername)
	case strings.ContainsFunc(m.Username, isSpaceOrControl):
		return decodeErrorf("username: contains a space or a control character")
	case strings.Contains(m.Username, "@"):
		return decodeErrorf("username: looks like an email address, which a message never carries")
	case looksLikePhone(m.Username):
		return decodeErrorf("username: looks like a phone number, which a message never carries")
	case !isUUID(m.Sub):
		return decodeErrorf("sub: not a UUID")
	case len(m.Groups) == 0 || len(m.Groups) > MaxGroups:
		return decodeErrorf("groups: %d groups, want 1 to %d", len(m.Groups), MaxGroups)
	}
	seen := make(map[string]bool, len(m.Groups))
	for i, g := range m.Groups {
		if err := rules.CheckGroupName(g.Name); err != nil {
			return decodeErrorf("groups[%d].name: %v", i, err)
		}
		if seen[g.Name] {
			return decodeErrorf("groups[%d].name: named twice", i)
		}
		seen[g.Name] = true
		if !isToken(string(g.Reason), isReasonChar) {
			return decodeErrorf("groups[%d].reason: want a kind such as throttled", i)
		}
		if g.Code != "" && !isToken(g.Code, isCodeChar) {
			return decodeErrorf("groups[%d].code: want an error code such as TooManyRequestsException", i)
		}
	}
	switch m.Source {
	case SourcePostConfirmation, SourcePreTokenGeneration, SourceBackfill:
	default:
		return decodeErrorf("source: want %s, %s or %s", SourcePostConfirmation, SourcePreTokenGeneration, SourceBackfill)
	}
	if m.EnqueuedAt.IsZero() {
		return decodeErrorf("enqueuedAt: missing")
	}
	return nil
}

// validPoolID reports whether s has the shape of a user pool id: a region
// (letters, digits and hyphens), an underscore and letters and digits, at
// most 55 characters, as Cognito's pattern [\w-]+_[0-9a-zA-Z]+ says.
func validPoolID(s string) bool {
	region, id, ok := strings.Cut(s, "_")
	if !ok || len(s) > maxPoolID || region == "" || id == "" {
		return false
	}
	for _, r := range region {
		if !isASCIIAlnum(r) && r != '-' && r != '_' {
			return false
		}
	}
	for _, r := range id {
		if !isASCIIAlnum(r) {
			return false
		}
	}
	return true
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// looksLikePhone reports whether s is shaped like an E.164 phone number, as
// Cognito stores phone_number: a plus sign and 7 to 15 digits.
func looksLikePhone(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 7 || len(digits) > 15 {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isToken(s string, ok func(rune) bool) bool {
	if s == "" || len(s) > maxToken {
		return false
	}
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

func isReasonChar(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' }
func isCodeChar(r rune) bool   { return isASCIIAlnum(r) || r == '.' || r == '_' || r == ':' }
func isWord(s string) bool {
	return isToken(s, func(r rune) bool { return isASCIIAlnum(r) || r == '_' })
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xa0
}

// FailedGroups returns the groups of results that were not added, in
// order, each with its kind as Reason and the service's error code (such as
// TooManyRequestsException) as Code when the error carries one: what a
// function puts in a Message for the assignments it could not finish.
func FailedGroups(results []membership.Result) []Group {
	var out []Group
	for _, r := range results {
		if r.Kind == membership.KindOK {
			continue
		}
		g := Group{Name: r.Group, Reason: r.Kind}
		var apiErr smithy.APIError
		if errors.As(r.Err, &apiErr) && isToken(apiErr.ErrorCode(), isCodeChar) {
			g.Code = apiErr.ErrorCode()
		}
		out = append(out, g)
	}
	return out
}
