package membership

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// Transport limits of the client NewCognitoClient builds. Whole attempts are
// bounded by the context Add derives; these only stop one phase from eating
// the budget.
const (
	connectTimeout      = 2 * time.Second
	tlsHandshakeTimeout = 2 * time.Second
	tcpKeepAlive        = 30 * time.Second
	idleConnTimeout     = 90 * time.Second
	maxIdleConnsPerHost = 32
)

// NewCognitoClient builds the Cognito client once per process, from the
// standard AWS environment (config.LoadDefaultConfig: AWS_REGION, credentials,
// and AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER or AWS_ENDPOINT_URL for an
// emulator), with optFns applied after this package's own options.
//
// The client does not retry (aws.NopRetryer, whatever optFns or the
// environment say): Adder owns retries, so that they fit its budget. Its HTTP
// client has a 2s connect timeout, a 2s TLS handshake timeout, TCP
// keep-alive, and keeps up to 32 idle connections to Cognito for reuse.
func NewCognitoClient(ctx context.Context, optFns ...func(*config.LoadOptions) error) (*cognitoidentityprovider.Client, error) {
	opts := append([]func(*config.LoadOptions) error{
		config.WithHTTPClient(newHTTPClient()),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cognitoidentityprovider.NewFromConfig(cfg, func(o *cognitoidentityprovider.Options) {
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
	}), nil
}

// newHTTPClient returns the SDK's buildable HTTP client with timeouts that
// fit a budget of a few seconds.
func newHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = connectTimeout
			d.KeepAlive = tcpKeepAlive
		}).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = tlsHandshakeTimeout
			t.IdleConnTimeout = idleConnTimeout
			t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		})
}
