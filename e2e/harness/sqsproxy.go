package harness

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SentMessage is one message sent to goaws, as the recording proxy saw the
// request.
type SentMessage struct {
	// Queue is the request's QueueUrl.
	Queue string
	// Body is the message's body.
	Body string
	// Time is when the request arrived.
	Time time.Time
}

// sendRecorder forwards SQS requests to goaws and keeps the bodies of the
// messages sent (AWS JSON protocol: X-Amz-Target AmazonSQS.SendMessage or
// AmazonSQS.SendMessageBatch).
type sendRecorder struct {
	proxy *httputil.ReverseProxy

	mu   sync.Mutex
	sent []SentMessage
}

func newSendRecorder(target string) *sendRecorder {
	u, err := url.Parse(target)
	if err != nil {
		panic("harness: bad goaws URL " + target) // built by startQueue
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = fixSendMessageBatch
	return &sendRecorder{proxy: proxy}
}

// fixSendMessageBatch renames the members of goaws's JSON answer to
// SendMessageBatch to SQS's: goaws v0.5.4 writes its XML element names,
// SendMessageBatchResultEntry and BatchResultErrorEntry, where SQS (and so
// the SDK) has Successful and Failed, so the SDK would see no entry sent.
func fixSendMessageBatch(resp *http.Response) error {
	if resp.Request.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch" || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) == nil {
		for from, to := range map[string]string{"SendMessageBatchResultEntry": "Successful", "BatchResultErrorEntry": "Failed"} {
			if v, ok := members[from]; ok && members[to] == nil {
				members[to] = v
				delete(members, from)
			}
		}
		if fixed, err := json.Marshal(members); err == nil {
			body = fixed
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

func (r *sendRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	op, isSQS := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if isSQS && (op == "SendMessage" || op == "SendMessageBatch") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.record(op, body)
	}
	r.proxy.ServeHTTP(w, req)
}

// record keeps the messages of one send request.
func (r *sendRecorder) record(op string, body []byte) {
	var in struct {
		QueueURL    string `json:"QueueUrl"`
		MessageBody string
		Entries     []struct{ MessageBody string }
	}
	if json.Unmarshal(body, &in) != nil {
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if op == "SendMessage" {
		r.sent = append(r.sent, SentMessage{Queue: in.QueueURL, Body: in.MessageBody, Time: now})
		return
	}
	for _, e := range in.Entries {
		r.sent = append(r.sent, SentMessage{Queue: in.QueueURL, Body: e.MessageBody, Time: now})
	}
}

func (r *sendRecorder) recorded() []SentMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SentMessage(nil), r.sent...)
}
