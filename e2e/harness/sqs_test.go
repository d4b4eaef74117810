package harness

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// TestInvokeConsumer checks the event source mapping's reading of the
// function's answer, with a stand-in for aws-lambda-rie that answers what
// each case gives.
func TestInvokeConsumer(t *testing.T) {
	tests := []struct {
		name       string
		answer     string
		wantKeep   []string
		wantFailed []string
	}{
		{"all done", `{"batchItemFailures":[]}`, nil, nil},
		{"null list", `{"batchItemFailures":null}`, nil, nil},
		{"one listed", `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, []string{"b"}, []string{"b"}},
		{"listed twice", `{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"b"}]}`, []string{"b"}, []string{"b"}},
		{"empty identifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":""}]}`, []string{"a", "b"}, []string{"a", "b"}},
		{"unknown identifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":"zz"}]}`, []string{"a", "b"}, []string{"a", "b"}},
		{"function error fails the batch", `{"errorMessage":"boom","errorType":"errorString"}`, []string{"a", "b"}, []string{"a", "b"}},
		{"not JSON fails the batch", `oops`, []string{"a", "b"}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got events.SQSEvent
			rie := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(body, &got); err != nil {
					t.Errorf("the event is not an SQS event: %v", err)
				}
				io.WriteString(w, tt.answer)
			}))
			defer rie.Close()
			e := &Env{queue: &queue{receives: map[string]int{"b": 2}, consumers: []*consumer{{rec: newRecorder(rie.URL)}}}}
			msgs := []types.Message{
				{MessageId: aws.String("a"), ReceiptHandle: aws.String("ra"), Body: aws.String(`{"v":1}`), Attributes: map[string]string{"SentTimestamp": "1"}},
				{MessageId: aws.String("b"), ReceiptHandle: aws.String("rb"), Body: aws.String(`{"v":1}`)},
			}
			b, keep, err := e.invokeConsumer(context.Background(), 0, msgs)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, id := range []string{"a", "b"} {
				if keep[id] {
					kept = append(kept, id)
				}
			}
			if diff := cmp.Diff(tt.wantKeep, kept); diff != "" {
				t.Errorf("kept mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFailed, b.Failed); diff != "" {
				t.Errorf("Batch.Failed mismatch (-want +got):\n%s", diff)
			}
			if len(got.Records) != 2 {
				t.Fatalf("event has %d records, want 2", len(got.Records))
			}
			r := got.Records[1]
			if r.MessageId != "b" || r.ReceiptHandle != "rb" || r.EventSource != "aws:sqs" || !strings.HasSuffix(r.EventSourceARN, ":"+RetryQueueName) {
				t.Errorf("record = %+v, want message b from the retry queue", r)
			}
			if c := r.Attributes["ApproximateReceiveCount"]; c != "3" {
				t.Errorf("ApproximateReceiveCount = %q, want 3 (the harness's own count)", c)
			}
		})
	}
}

func TestSendRecorder(t *testing.T) {
	goaws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", string(body)) // the body reached goaws unchanged
		io.WriteString(w, `{}`)
	}))
	defer goaws.Close()
	rec := newSendRecorder(goaws.URL)
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	post := func(target, body string) {
		req, _ := http.NewRequest(http.MethodPost, proxy.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if seen := resp.Header.Get("X-Seen"); seen != body {
			t.Errorf("goaws got %q, want %q", seen, body)
		}
	}
	post("AmazonSQS.SendMessage", `{"QueueUrl":"q1","MessageBody":"one"}`)
	post("AmazonSQS.SendMessageBatch", `{"QueueUrl":"q2","Entries":[{"Id":"0","MessageBody":"two"},{"Id":"1","MessageBody":"three"}]}`)
	post("AmazonSQS.ReceiveMessage", `{"QueueUrl":"q1","MessageBody":"not a send"}`)
	var got []string
	for _, m := range rec.recorded() {
		got = append(got, m.Queue+":"+m.Body)
	}
	if diff := cmp.Diff([]string{"q1:one", "q2:two", "q2:three"}, got); diff != "" {
		t.Errorf("recorded mismatch (-want +got):\n%s", diff)
	}
}

func TestGoawsConfig(t *testing.T) {
	cfg := string(GoawsConfig(4100, QueueOptions{VisibilityTimeout: 3, MaxReceiveCount: 2}))
	for _, want := range []string{
		`Port: "4100"`,
		"VisibilityTimeout: 3",
		"- Name: " + RetryQueueName + "\n",
		`"maxReceiveCount": 2, "deadLetterTargetArn": "arn:aws:sqs::` + QueueAccount + ":" + DeadLetterQueueName + `"`,
		"- Name: " + DeadLetterQueueName + "\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("goaws config lacks %q:\n%s", want, cfg)
		}
	}
}
