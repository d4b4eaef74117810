package harness

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestSendRecorderFixesSendMessageBatch: through the proxy, the SDK reads
// goaws's answer to SendMessageBatch, whose members bear XML names, as the
// entries sent and failed, and the proxy keeps the bodies sent.
func TestSendRecorderFixesSendMessageBatch(t *testing.T) {
	goaws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, `{"SendMessageBatchResultEntry":[{"Id":"0","MessageId":"m-0","SequenceNumber":""}],`+
			`"BatchResultErrorEntry":[{"Id":"1","Code":"InternalError","Message":"no","SenderFault":false}]}`)
	}))
	defer goaws.Close()
	rec := newSendRecorder(goaws.URL)
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	client := sqs.New(sqs.Options{
		Region: Region, BaseEndpoint: aws.String(proxy.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		}),
	})
	out, err := client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(goaws.URL + "/100010001000/q"),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("0"), MessageBody: aws.String("first")},
			{Id: aws.String("1"), MessageBody: aws.String("second")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 1 || aws.ToString(out.Successful[0].MessageId) != "m-0" {
		t.Errorf("Successful = %+v, want entry 0 as m-0", out.Successful)
	}
	if len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "InternalError" {
		t.Errorf("Failed = %+v, want entry 1 InternalError", out.Failed)
	}
	if sent := rec.recorded(); len(sent) != 2 || sent[0].Body != "first" || sent[1].Body != "second" {
		t.Errorf("recorded %+v, want both bodies", sent)
	}
}
