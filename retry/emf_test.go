package retry

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-autogroup/cognito-autogroup/internal/cognitofake"
	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// TestRecordEMF checks that each "retry" line is valid EMF and counts the
// groups retried, added and failed, by outcome.
func TestRecordEMF(t *testing.T) {
	s := cognitofake.New(t)
	s.CreateGroup(pool, "staff")
	c, l := newConsumer(t, s.Client(t), Options{})
	msgs := []events.SQSMessage{record("m1", body(t, 1, "staff", "no-such-group")), record("m2", "not json")}
	if _, err := c.Handle(context.Background(), events.SQSEvent{Records: msgs}); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]float64{
		"m1": {"Messages": 1, "AssignmentsRetried": 2, "GroupsAdded": 1, "AssignmentsFailed": 1},
		"m2": {"Messages": 1, "AssignmentsRetried": 0, "GroupsAdded": 0, "AssignmentsFailed": 0, "MessageAge": 0},
	}
	wantOutcome := map[string]Outcome{"m1": OutcomeRetry, "m2": OutcomeInvalid}
	seen := 0
	for line := range strings.Lines(l.String()) {
		if !strings.Contains(line, `"msg":"retry"`) {
			continue
		}
		seen++
		got, err := trigger.CheckEMF([]byte(line))
		if err != nil {
			t.Fatalf("CheckEMF(%s): %v", line, err)
		}
		id := "m1"
		if strings.Contains(line, `"messageId":"m2"`) {
			id = "m2"
		}
		if id == "m1" && (got["Duration"] <= 0 || got["MessageAge"] <= 0) {
			t.Errorf("%s: Duration %v, MessageAge %v; want them above 0", id, got["Duration"], got["MessageAge"])
		}
		if id == "m1" {
			delete(got, "MessageAge")
		}
		delete(got, "Duration")
		if diff := cmp.Diff(want[id], got); diff != "" {
			t.Errorf("%s metrics (-want +got):\n%s", id, diff)
		}
		if !strings.Contains(line, `"Outcome":"`+string(wantOutcome[id])+`"`) {
			t.Errorf("%s: line has no Outcome dimension %q: %s", id, wantOutcome[id], line)
		}
	}
	if seen != 2 {
		t.Errorf("%d retry records, want 2", seen)
	}
}
