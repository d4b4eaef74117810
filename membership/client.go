package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// Transport limits of the clients ConfigureClient sets up. Whole attempts are
// bounded by the context Add derives; these only stop one phase from eating
// the budget.
const (
	connectTimeout      = 2 * time.Second
	tlsHandshakeTimeout = 2 * time.Second
	tcpKeepAlive        = 30 * time.Second
	idleConnTimeout     = 90 * time.Second
	maxIdleConnsPerHost = 32
)

// ConfigureClient applies this package's client settings to Cognito client
// options: no SDK retries (aws.NopRetryer, whatever the environment says;
// Adder owns retries, so that they fit its budget) and an HTTP client with a
// 2s connect timeout, a 2s TLS handshake timeout, TCP keep-alive, and up to 32
// idle connections kept for reuse. Pass it to cognitoidentityprovider.New or
// NewFromConfig.
func ConfigureClient(o *cognitoidentityprovider.Options) {
	o.Retryer = aws.NopRetryer{}
	o.RetryMaxAttempts = 0
	o.HTTPClient = newHTTPClient()
}

// NewClientFromEnv builds a Cognito client from the variables the Lambda
// runtime sets: AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, plus
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (or AWS_ENDPOINT_URL) for an
// emulator, ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. Empty
// means unset. The client is configured by ConfigureClient.
//
// It does not use the SDK's config package on purpose: that package links
// the STS, SSO and sign-in clients, whose initialisation made the function's
// cold start about 1.5 to 1.8 times that of an empty function (BENCHMARKS.md),
// while in Lambda the credentials are always these variables. Tools that
// need profiles or SSO load an aws.Config themselves and use ConfigureClient.
func NewClientFromEnv(getenv func(string) string) (*cognitoidentityprovider.Client, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return nil, errors.New("AWS_REGION is not set")
	}
	creds := aws.Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		Source:          "EnvironmentVariables",
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (the Lambda runtime sets them)")
	}
	o := cognitoidentityprovider.Options{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
	if !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		endpoint := getenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
		if endpoint == "" {
			endpoint = getenv("AWS_ENDPOINT_URL")
		}
		if endpoint != "" {
			if u, err := url.Parse(endpoint); err != nil || u.Scheme == "" || u.Host == "" {
				return nil, fmt.Errorf("endpoint %q is not an absolute URL", endpoint)
			}
			o.BaseEndpoint = aws.String(endpoint)
		}
	}
	return cognitoidentityprovider.New(o, ConfigureClient), nil
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
