package cognitofake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// Options configure Start. The zero value is a server on a free loopback
// port that answers at once.
type Options struct {
	// Addr is the TCP address to listen on; "127.0.0.1:0" when empty.
	Addr string
	// Delay makes every call wait this long before it is answered, as the
	// Delay method does: a fixed latency per call.
	Delay time.Duration
	// AllowAnyGroup makes every group exist, as the AllowAnyGroup method
	// does.
	AllowAnyGroup bool
}

// Start starts a Server that runs until Close.
func Start(o Options) (*Server, error) {
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cognitofake: %w", err)
	}
	s := &Server{
		done:     make(chan struct{}),
		pools:    map[string]*pool{},
		delay:    o.Delay,
		anyGroup: o.AllowAnyGroup,
	}
	s.srv = &httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second},
	}
	s.srv.Start()
	return s, nil
}

// New starts a Server for a test; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close answers hung and delayed calls by resetting their connections,
// stops the server and waits for the calls in progress to end. It is safe
// to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// URL returns the endpoint, for BaseEndpoint or
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
func (s *Server) URL() string { return s.srv.URL }

// Client returns a client for this server built by
// membership.ConfigureClient, as production builds it (no SDK retries, the
// same HTTP client), with region us-east-1, static dummy credentials and
// BaseEndpoint set to URL (which takes precedence over an endpoint in the
// environment).
func (s *Server) Client(t testing.TB) *cognitoidentityprovider.Client {
	t.Helper()
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDCOGNITOFAKE", SecretAccessKey: "cognitofake", Source: "cognitofake"}, nil
	})
	return cognitoidentityprovider.New(cognitoidentityprovider.Options{
		Region:       "us-east-1",
		Credentials:  creds,
		BaseEndpoint: aws.String(s.URL()),
	}, membership.ConfigureClient)
}
