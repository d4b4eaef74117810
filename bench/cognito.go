package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// fakeCognito answers AdminAddUserToGroup in Cognito's JSON 1.1 protocol,
// always with success ({}), after a fixed delay: the latency of a Cognito
// call without its variance. Every other operation is an error.
//
// internal/cognitofake is not used: its constructor takes a testing.TB and
// ties the server's life to a test, and the driver is a command.
type fakeCognito struct {
	url   string
	srv   *http.Server
	delay time.Duration
	calls atomic.Int64 // AdminAddUserToGroup calls answered
}

// startFakeCognito listens on a free loopback port.
func startFakeCognito(delay time.Duration) (*fakeCognito, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeCognito{url: "http://" + l.Addr().String(), delay: delay}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(l)
	return f, nil
}

func (f *fakeCognito) close() { f.srv.Close() }

func (f *fakeCognito) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ UserPoolId, Username, GroupName string }
	body, err := io.ReadAll(r.Body)
	switch {
	case err != nil:
		return
	case r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AWSCognitoIdentityProviderService.AdminAddUserToGroup":
		fail(w, "UnknownOperationException", "this fake answers only AdminAddUserToGroup")
		return
	case json.Unmarshal(body, &in) != nil || in.UserPoolId == "" || in.Username == "" || in.GroupName == "":
		fail(w, "InvalidParameterException", "UserPoolId, Username and GroupName are required")
		return
	}
	t := time.NewTimer(f.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	f.calls.Add(1)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	io.WriteString(w, "{}")
}

func fail(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
