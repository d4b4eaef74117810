package autogroup_test

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Checks of the retry queue block of template.yaml (issue #15,
// docs/retry-queue.md).

// The retry block's logical ids.
const (
	retryQueue    = "AssignmentRetryQueue"
	retryDLQ      = "AssignmentRetryDeadLetterQueue"
	retryFunction = "AssignmentRetryFunction"
	retryCond     = "RetryQueueEnabled"
)

// recipeMakes reports whether the Makefile's recipe for target runs
// `$(MAKE) want` (make build builds the consumer into its own directory
// that way).
func recipeMakes(tb testing.TB, target, want string) bool {
	tb.Helper()
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		tb.Fatal(err)
	}
	in := false
	for line := range strings.Lines(string(mk)) {
		switch {
		case strings.HasPrefix(line, target+":"):
			in = true
		case in && strings.HasPrefix(line, "\t"):
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "$(MAKE)" && f[1] == want {
				return true
			}
		case in:
			return false
		}
	}
	return false
}

// retryResources returns the ids of the resources that exist only for the
// retry queue: the queues, the consumer, its role and log group, every
// policy and alarm that names one of them.
func retryResources(tmpl *template) []string {
	own := map[string]bool{retryQueue: true, retryDLQ: true, retryFunction: true}
	for changed := true; changed; {
		changed = false
		for id, r := range tmpl.resources {
			if own[id] {
				continue
			}
			refs := references(r["Properties"])
			if id == retryFunction+"Role" || id == logGroupOf(tmpl, retryFunction) || slices.ContainsFunc(refs, func(n string) bool { return own[n] && r["Type"] != "AWS::Serverless::Function" }) {
				own[id] = true
				changed = true
			}
		}
	}
	var ids []string
	for id := range own {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func TestRetryQueue(t *testing.T) {
	tmpl := loadTemplate(t)
	queue := mapOf(tmpl.resources[retryQueue]["Properties"])
	dlq := mapOf(tmpl.resources[retryDLQ]["Properties"])
	fn := mapOf(tmpl.resources[retryFunction]["Properties"])
	if queue == nil || dlq == nil || fn == nil {
		t.Fatalf("want resources %s, %s and %s", retryQueue, retryDLQ, retryFunction)
	}

	t.Run("Queues", func(t *testing.T) {
		for id, p := range map[string]map[string]any{retryQueue: queue, retryDLQ: dlq} {
			if p["SqsManagedSseEnabled"] != true {
				t.Errorf("%s SqsManagedSseEnabled = %#v, want true", id, p["SqsManagedSseEnabled"])
			}
		}
		if got, _ := queue["MessageRetentionPeriod"].(int); got < 4*86400 {
			t.Errorf("%s MessageRetentionPeriod = %v, want at least 4 days (345600): a weekend", retryQueue, queue["MessageRetentionPeriod"])
		}
		if got, _ := dlq["MessageRetentionPeriod"].(int); got != 14*86400 {
			t.Errorf("%s MessageRetentionPeriod = %v, want 14 days (1209600)", retryDLQ, dlq["MessageRetentionPeriod"])
		}
		redrive := mapOf(queue["RedrivePolicy"])
		if !cmp.Equal(redrive["deadLetterTargetArn"], map[string]any{"Fn::GetAtt": []any{retryDLQ, "Arn"}}) {
			t.Errorf("%s RedrivePolicy.deadLetterTargetArn = %#v, want !GetAtt %s.Arn", retryQueue, redrive["deadLetterTargetArn"], retryDLQ)
		}
		if n, _ := redrive["maxReceiveCount"].(int); n < 3 || n > 10 {
			t.Errorf("%s RedrivePolicy.maxReceiveCount = %#v, want 3 to 10", retryQueue, redrive["maxReceiveCount"])
		}
		timeout, _ := fn["Timeout"].(int)
		visibility, _ := queue["VisibilityTimeout"].(int)
		if timeout <= 0 || visibility < 6*timeout {
			t.Errorf("%s VisibilityTimeout = %v, want at least 6 times %s's Timeout (%v)", retryQueue, queue["VisibilityTimeout"], retryFunction, fn["Timeout"])
		}
	})

	t.Run("Mapping", func(t *testing.T) {
		var sqsEvents []map[string]any
		for _, ev := range mapOf(fn["Events"]) {
			if get(ev, "Type") == "SQS" {
				sqsEvents = append(sqsEvents, mapOf(get(ev, "Properties")))
			}
		}
		if len(sqsEvents) != 1 {
			t.Fatalf("%s has %d SQS events, want 1", retryFunction, len(sqsEvents))
		}
		ev := sqsEvents[0]
		if !cmp.Equal(ev["Queue"], map[string]any{"Fn::GetAtt": []any{retryQueue, "Arn"}}) {
			t.Errorf("Queue = %#v, want !GetAtt %s.Arn", ev["Queue"], retryQueue)
		}
		if !cmp.Equal(ev["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
			t.Errorf("FunctionResponseTypes = %#v, want [ReportBatchItemFailures]: without it one failed message sends the whole batch back", ev["FunctionResponseTypes"])
		}
		if n, _ := ev["BatchSize"].(int); n < 1 || n > 10 {
			t.Errorf("BatchSize = %#v, want 1 to 10", ev["BatchSize"])
		}
		if w, _ := ev["MaximumBatchingWindowInSeconds"].(int); w < 1 {
			t.Errorf("MaximumBatchingWindowInSeconds = %#v, want a batching window", ev["MaximumBatchingWindowInSeconds"])
		}
		conc, _ := get(ev, "ScalingConfig", "MaximumConcurrency").(int)
		if conc != 2 {
			t.Errorf("ScalingConfig.MaximumConcurrency = %#v, want 2", get(ev, "ScalingConfig", "MaximumConcurrency"))
		}
		// The consumers' share of the UserUpdate quota (25/s) leaves room
		// for the sign-ups.
		rate := mapOf(tmpl.parameters["RetryRate"])
		maxRate, _ := rate["MaxValue"].(int)
		if !cmp.Equal(get(fn, "Environment", "Variables", "AUTOGROUP_RETRY_RATE"), ref("RetryRate")) || maxRate <= 0 || conc*maxRate > 20 {
			t.Errorf("AUTOGROUP_RETRY_RATE = %#v, RetryRate MaxValue %v: want !Ref RetryRate, and MaximumConcurrency times its MaxValue at most 20 of the 25 calls per second",
				get(fn, "Environment", "Variables", "AUTOGROUP_RETRY_RATE"), rate["MaxValue"])
		}
	})

	t.Run("Condition", func(t *testing.T) {
		want := map[string]any{"Fn::Equals": []any{ref("RetryQueue"), "Enabled"}}
		if diff := cmp.Diff(want, tmpl.conditions[retryCond]); diff != "" {
			t.Errorf("condition %s (-want +got):\n%s", retryCond, diff)
		}
		param := mapOf(tmpl.parameters["RetryQueue"])
		if param["Default"] != "Enabled" || !cmp.Equal(param["AllowedValues"], []any{"Enabled", "Disabled"}) {
			t.Errorf("parameter RetryQueue = %#v, want Enabled|Disabled, default Enabled", param)
		}
		ids := retryResources(tmpl)
		for _, must := range []string{"AssignmentRetryFunctionRole", "AssignmentRetryLogGroup", "PostConfirmationRetryQueuePolicy",
			"AssignmentRetryQueuePolicy", "AssignmentRetryCognitoPolicy", "AssignmentRetryDeadLetterAlarm", "AssignmentRetryQueueAgeAlarm"} {
			if !slices.Contains(ids, must) {
				t.Errorf("%s is not among the retry queue's resources %v", must, ids)
			}
		}
		for _, id := range ids {
			if c := tmpl.resources[id]["Condition"]; !tmpl.conditionImplies(c, retryCond) {
				t.Errorf("%s Condition = %#v, want %s: with RetryQueue Disabled it must not exist", id, c, retryCond)
			}
		}
		for name, o := range tmpl.outputs {
			if slices.ContainsFunc(references(get(o, "Value")), func(n string) bool { return slices.Contains(ids, n) }) && get(o, "Condition") != retryCond {
				t.Errorf("output %s names a retry queue resource without Condition %s", name, retryCond)
			}
		}
		// The sign-up function exists in both modes: its variable is empty
		// without the queue.
		v := get(tmpl.resources["PostConfirmationFunction"], "Properties", "Environment", "Variables", "AUTOGROUP_RETRY_QUEUE_URL")
		wantVar := map[string]any{"Fn::If": []any{retryCond, ref(retryQueue), ""}}
		if diff := cmp.Diff(wantVar, v); diff != "" {
			t.Errorf("PostConfirmationFunction AUTOGROUP_RETRY_QUEUE_URL (-want +got):\n%s", diff)
		}
	})

	t.Run("SQSLeastPrivilege", func(t *testing.T) {
		queueArn := map[string]any{"Fn::GetAtt": []any{retryQueue, "Arn"}}
		granted := map[string][]string{} // role → sqs actions
		for _, s := range tmpl.statements() {
			var actions []string
			for _, a := range asList(s.body["Action"]) {
				if str, _ := a.(string); strings.HasPrefix(strings.ToLower(str), "sqs:") || strings.Contains(str, "*") {
					actions = append(actions, str)
				}
			}
			if len(actions) == 0 && s.body["NotAction"] == nil {
				continue
			}
			holder := tmpl.resources[s.resource]
			roles := asList(get(holder, "Properties", "Roles"))
			if holder["Type"] != "AWS::IAM::Policy" || len(roles) != 1 {
				t.Errorf("an SQS statement is in %s (%v), want an AWS::IAM::Policy of one role", s.resource, holder["Type"])
				continue
			}
			if s.body["NotAction"] != nil || s.body["NotResource"] != nil || s.body["Effect"] != "Allow" {
				t.Errorf("%s: want Allow with Action and Resource: %#v", s.resource, s.body)
			}
			if got := asList(s.body["Resource"]); !cmp.Equal(got, []any{queueArn}) {
				t.Errorf("%s: Resource = %#v, want exactly the retry queue (!GetAtt %s.Arn)", s.resource, got, retryQueue)
			}
			role, _ := get(roles[0], "Ref").(string)
			granted[role] = append(granted[role], actions...)
		}
		for role := range granted {
			sort.Strings(granted[role])
		}
		want := map[string][]string{
			"PostConfirmationFunctionRole":   {"sqs:SendMessage"},
			"PreTokenGenerationFunctionRole": {"sqs:SendMessage"},
			"AssignmentRetryFunctionRole":    {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
		}
		if diff := cmp.Diff(want, granted); diff != "" {
			t.Errorf("SQS actions by role (-want +got):\n%s", diff)
		}
		// The mapping is created with the function: the role must already
		// be allowed to poll.
		if !slices.Contains(allStrings(tmpl.resources[retryFunction]["DependsOn"]), "AssignmentRetryQueuePolicy") {
			t.Errorf("%s DependsOn = %#v, want AssignmentRetryQueuePolicy", retryFunction, tmpl.resources[retryFunction]["DependsOn"])
		}
	})

	t.Run("Alarms", func(t *testing.T) {
		type alarm struct{ metric, queue, op, stat string }
		var got []alarm
		for _, id := range tmpl.ofType("AWS::CloudWatch::Alarm") {
			p := mapOf(tmpl.resources[id]["Properties"])
			if p["Namespace"] != "AWS/SQS" {
				continue
			}
			q := references(get(asList(p["Dimensions"])[0], "Value"))
			got = append(got, alarm{p["MetricName"].(string), strings.Join(q, ","), p["ComparisonOperator"].(string), p["Statistic"].(string)})
			switch p["MetricName"] {
			case "ApproximateNumberOfMessagesVisible":
				if p["Threshold"] != 0 {
					t.Errorf("%s Threshold = %#v, want 0 (any message in the dead-letter queue)", id, p["Threshold"])
				}
			case "ApproximateAgeOfOldestMessage":
				if !cmp.Equal(p["Threshold"], ref("RetryQueueMaxAgeSeconds")) {
					t.Errorf("%s Threshold = %#v, want !Ref RetryQueueMaxAgeSeconds", id, p["Threshold"])
				}
			}
		}
		want := []alarm{
			{"ApproximateNumberOfMessagesVisible", retryDLQ, "GreaterThanThreshold", "Maximum"},
			{"ApproximateAgeOfOldestMessage", retryQueue, "GreaterThanThreshold", "Maximum"},
		}
		sort.Slice(got, func(i, j int) bool { return got[i].metric > got[j].metric })
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(alarm{})); diff != "" {
			t.Errorf("SQS alarms (-want +got):\n%s", diff)
		}
	})
}

// TestRetryQueueChecksCanFail mutates the template in the ways the checks
// above exist for, and expects a failure from each.
func TestRetryQueueChecksCanFail(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*template)
		check  func(*template) bool // true: the mistake is seen
	}{
		{"visibility below 6 times the timeout", func(tm *template) {
			mapOf(tm.resources[retryQueue]["Properties"])["VisibilityTimeout"] = 300
		}, func(tm *template) bool {
			v, _ := get(tm.resources[retryQueue], "Properties", "VisibilityTimeout").(int)
			to, _ := get(tm.resources[retryFunction], "Properties", "Timeout").(int)
			return v < 6*to
		}},
		{"a policy without the condition", func(tm *template) {
			delete(tm.resources["PostConfirmationRetryQueuePolicy"], "Condition")
		}, func(tm *template) bool {
			for _, id := range retryResources(tm) {
				if !tm.conditionImplies(tm.resources[id]["Condition"], retryCond) {
					return true
				}
			}
			return false
		}},
		{"a consumer role naming the pool closes a cycle", func(tm *template) {
			role := mapOf(tm.resources[retryFunction+"Role"]["Properties"])
			role["Description"] = map[string]any{"Fn::Sub": "consumer of ${UserPool}"}
			mapOf(tm.resources["UserPool"]["Properties"])["UserPoolTags"] = map[string]any{"q": ref(retryFunction)}
		}, func(tm *template) bool { return findCycle(tm.dependencies()) != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := loadTemplate(t)
			if tt.check(tm) {
				t.Fatal("the template as shipped already shows the mistake")
			}
			tt.mutate(tm)
			if !tt.check(tm) {
				t.Error("the mutated template passes the check, want it caught")
			}
		})
	}
}

// TestAlarmsDocumented checks that every alarm of the template has a
// section in docs/operations.md under its logical id.
func TestAlarmsDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range loadTemplate(t).ofType("AWS::CloudWatch::Alarm") {
		if !strings.Contains(string(doc), "\n### "+id+"\n") {
			t.Errorf("docs/operations.md has no section \"### %s\"", id)
		}
	}
}

// conditionImplies reports whether a resource with Condition c exists only
// when condition want holds: c is want, or an Fn::And of conditions one of
// which implies want.
func (tm *template) conditionImplies(c any, want string) bool {
	name, ok := c.(string)
	if !ok {
		return false
	}
	if name == want {
		return true
	}
	and, ok := mapOf(tm.conditions[name])["Fn::And"].([]any)
	if !ok {
		return false
	}
	for _, term := range and {
		if inner, ok := mapOf(term)["Condition"]; ok && tm.conditionImplies(inner, want) {
			return true
		}
	}
	return false
}
