package retryqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

const (
	testPool = "us-east-1_Ab12Cd34E"
	testSub  = "7f3e8a52-1c4b-4d2e-9a6f-0b1c2d3e4f50"
)

func validMessage() Message {
	return Message{
		UserPoolID: testPool,
		Username:   testSub,
		Sub:        testSub,
		Groups: []Group{
			{Name: "staff", Reason: membership.KindThrottled, Code: "TooManyRequestsException"},
			{Name: "engineering", Reason: membership.KindTimeout},
		},
		Source:        SourcePostConfirmation,
		FirstFailedAt: time.Date(2026, 11, 30, 9, 15, 2, 250e6, time.UTC),
		EnqueuedAt:    time.Date(2026, 11, 30, 9, 15, 5, 875e6, time.UTC),
	}
}

// TestDecodeV1Fixture reads a version 1 body as bytes written when version
// 1 was current, so that a later consumer is held to reading it.
func TestDecodeV1Fixture(t *testing.T) {
	body, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(body)
	if err != nil {
		t.Fatalf("Decode(testdata/v1.json) error = %v", err)
	}
	if diff := cmp.Diff(validMessage(), got); diff != "" {
		t.Errorf("Decode(testdata/v1.json) mismatch (-want +got):\n%s", diff)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	notAttempted := validMessage()
	notAttempted.Source = SourceBackfill
	notAttempted.FirstFailedAt = time.Time{}
	notAttempted.Groups = []Group{{Name: "staff", Reason: ReasonNotAttempted}}
	local := validMessage()
	local.EnqueuedAt = time.Date(2026, 11, 30, 10, 15, 5, 875e6, time.FixedZone("CET", 3600))
	for name, m := range map[string]Message{"post-confirmation": validMessage(), "backfill": notAttempted, "local time": local} {
		t.Run(name, func(t *testing.T) {
			body, err := Encode(m)
			if err != nil {
				t.Fatalf("Encode() error = %v", err)
			}
			got, err := Decode(body)
			if err != nil {
				t.Fatalf("Decode(Encode()) error = %v\nbody: %s", err, body)
			}
			want := m
			want.EnqueuedAt = want.EnqueuedAt.UTC()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Decode(Encode()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodeWritesV1 pins the wire form Encode writes: the fixture's bytes.
func TestEncodeWritesV1(t *testing.T) {
	want, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(validMessage())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(bytes.TrimSpace(want)) {
		t.Errorf("Encode() = %s\nwant %s", got, want)
	}
}

func TestDecodeRefusesUnknownVersions(t *testing.T) {
	for _, v := range []int{2, 0, -1} {
		body := fmt.Sprintf(`{"v":%d,"userPoolId":%q}`, v, testPool)
		_, err := Decode([]byte(body))
		var verr *VersionError
		if !errors.As(err, &verr) || verr.Version != v {
			t.Fatalf("Decode(v=%d) error = %v, want a *VersionError for %d", v, err, v)
		}
		if v == 2 && !strings.Contains(err.Error(), "newer") {
			t.Errorf("Decode(v=2) error = %q, want it to say the version is newer", err)
		}
	}
}

// mutate returns the fixture's fields as a map changed by f, encoded.
func mutate(t *testing.T, f func(map[string]any)) []byte {
	t.Helper()
	body, err := Encode(validMessage())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func groupsOf(names ...string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = map[string]any{"name": n, "reason": "throttled"}
	}
	return out
}

func TestDecodeRefusesBadContent(t *testing.T) {
	const email = "jane.doe@example.com"
	many := make([]string, MaxGroups+1)
	for i := range many {
		many[i] = fmt.Sprintf("g%d", i)
	}
	tests := []struct {
		name string
		body []byte
		want string // in the error
	}{
		{"not JSON", []byte("jane.doe@example.com"), "not valid JSON"},
		{"array", []byte(`[1]`), "not a JSON object"},
		{"no version", mutate(t, func(m map[string]any) { delete(m, "v") }), "no version"},
		{"version is text", mutate(t, func(m map[string]any) { m["v"] = "1" }), "v: expected int"},
		{"unknown field", mutate(t, func(m map[string]any) { m["email"] = email }), `unknown field "email"`},
		{"trailing value", append(mutate(t, func(map[string]any) {}), []byte(` {}`)...), "not valid JSON"},
		{"no pool", mutate(t, func(m map[string]any) { delete(m, "userPoolId") }), "userPoolId"},
		{"bad pool", mutate(t, func(m map[string]any) { m["userPoolId"] = "us-east-1 abc" }), "userPoolId"},
		{"no username", mutate(t, func(m map[string]any) { m["username"] = "" }), "username"},
		{"email username", mutate(t, func(m map[string]any) { m["username"] = email }), "email address"},
		{"phone username", mutate(t, func(m map[string]any) { m["username"] = "+14155550123" }), "phone number"},
		{"username with space", mutate(t, func(m map[string]any) { m["username"] = "jane doe" }), "space"},
		{"long username", mutate(t, func(m map[string]any) { m["username"] = strings.Repeat("u", 129) }), "username"},
		{"sub not a UUID", mutate(t, func(m map[string]any) { m["sub"] = email }), "sub"},
		{"no groups", mutate(t, func(m map[string]any) { m["groups"] = []any{} }), "groups: 0 groups"},
		{"too many groups", mutate(t, func(m map[string]any) { m["groups"] = groupsOf(many...) }), "groups: 101 groups"},
		{"bad group name", mutate(t, func(m map[string]any) { m["groups"] = groupsOf("two words") }), "groups[0].name: invalid group name"},
		{"group twice", mutate(t, func(m map[string]any) { m["groups"] = groupsOf("a", "a") }), "groups[1].name: named twice"},
		{"no reason", mutate(t, func(m map[string]any) { m["groups"] = []any{map[string]any{"name": "a"}} }), "groups[0].reason"},
		{"reason with text", mutate(t, func(m map[string]any) {
			m["groups"] = []any{map[string]any{"name": "a", "reason": "user " + email + " throttled"}}
		}), "groups[0].reason"},
		{"code with text", mutate(t, func(m map[string]any) {
			m["groups"] = []any{map[string]any{"name": "a", "reason": "throttled", "code": "Too many requests for " + email}}
		}), "groups[0].code"},
		{"unknown source", mutate(t, func(m map[string]any) { m["source"] = "cron" }), "source"},
		{"no enqueuedAt", mutate(t, func(m map[string]any) { delete(m, "enqueuedAt") }), "enqueuedAt: missing"},
		{"bad enqueuedAt", mutate(t, func(m map[string]any) { m["enqueuedAt"] = "yesterday" }), "enqueuedAt: not an RFC 3339 time"},
		{"bad firstFailedAt", mutate(t, func(m map[string]any) { m["firstFailedAt"] = "1700000000" }), "firstFailedAt"},
		{"too big", append([]byte(`{"v":1,"x":"`), bytes.Repeat([]byte("a"), MaxBodySize)...), "bytes, more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.body)
			var derr *DecodeError
			if !errors.As(err, &derr) {
				t.Fatalf("Decode() error = %v, want a *DecodeError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode() error = %q, want it to contain %q", err, tt.want)
			}
			for _, secret := range []string{email, "jane", "+14155550123"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Decode() error = %q, repeats a value from the body (%q)", err, secret)
				}
			}
		})
	}
}

func TestEncodeRefusesWhatDecodeRefuses(t *testing.T) {
	tests := map[string]func(*Message){
		"email username": func(m *Message) { m.Username = "jane@example.com" },
		"no groups":      func(m *Message) { m.Groups = nil },
		"no source":      func(m *Message) { m.Source = "" },
		"no enqueuedAt":  func(m *Message) { m.EnqueuedAt = time.Time{} },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			m := validMessage()
			f(&m)
			if body, err := Encode(m); err == nil {
				t.Fatalf("Encode() = %s, want an error", body)
			}
		})
	}
}

func TestGroupNames(t *testing.T) {
	m := validMessage()
	if diff := cmp.Diff([]string{"staff", "engineering"}, m.GroupNames()); diff != "" {
		t.Errorf("GroupNames() mismatch (-want +got):\n%s", diff)
	}
}

// FuzzDecode checks that Decode never panics and that what it accepts
// encodes and decodes to the same message.
func FuzzDecode(f *testing.F) {
	if body, err := os.ReadFile("testdata/v1.json"); err == nil {
		f.Add(body)
	}
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"groups":[{}]}`))
	f.Add([]byte(`{"v":1e400}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(body)
		if err != nil {
			return
		}
		again, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)) error = %v", body, err)
		}
		m2, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) error = %v", body, err)
		}
		// Encode keeps milliseconds: compare at that precision.
		m.EnqueuedAt = m.EnqueuedAt.Truncate(time.Millisecond)
		m.FirstFailedAt = m.FirstFailedAt.Truncate(time.Millisecond)
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Errorf("round trip of %q mismatch (-first +second):\n%s", body, diff)
		}
	})
}

func TestFailedGroups(t *testing.T) {
	results := []membership.Result{
		{Group: "staff", Kind: membership.KindOK},
		{Group: "engineering", Kind: membership.KindThrottled, Err: &membership.AddError{Group: "engineering", Kind: membership.KindThrottled,
			Err: &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "Too many requests for jane@example.com"}}},
		{Group: "admins", Kind: membership.KindTimeout, Err: &membership.AddError{Group: "admins", Kind: membership.KindTimeout, Err: context.DeadlineExceeded}},
		{Group: "odd", Kind: membership.KindUnknown, Err: &smithy.GenericAPIError{Code: "not a code: jane@example.com"}},
	}
	want := []Group{
		{Name: "engineering", Reason: membership.KindThrottled, Code: "TooManyRequestsException"},
		{Name: "admins", Reason: membership.KindTimeout},
		{Name: "odd", Reason: membership.KindUnknown},
	}
	got := FailedGroups(results)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FailedGroups() mismatch (-want +got):\n%s", diff)
	}
	m := validMessage()
	m.Groups = got
	if _, err := Encode(m); err != nil {
		t.Errorf("a message of FailedGroups() does not encode: %v", err)
	}
	if FailedGroups([]membership.Result{{Group: "staff", Kind: membership.KindOK}}) != nil {
		t.Error("FailedGroups() of all-ok results is not empty")
	}
}
