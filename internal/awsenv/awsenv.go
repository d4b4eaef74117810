// Package awsenv reads the AWS settings a Lambda function gets from its
// environment (region, the execution role's credentials, an endpoint for an
// emulator) and builds the HTTP client the project's SDK clients share.
//
// It exists so that the functions build their SDK clients without the SDK's
// config package, whose dependencies (the STS, SSO and sign-in clients) made
// a cold start 1.5 to 1.8 times that of an empty function (BENCHMARKS.md),
// while in Lambda the credentials are always these variables. Each service
// package (retryqueue for SQS) turns a Config into its client.
package awsenv

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
)

// Config is what FromEnv read.
type Config struct {
	// Region is AWS_REGION, or AWS_DEFAULT_REGION.
	Region string
	// Credentials returns the static credentials of AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
	Credentials aws.CredentialsProvider
	// Endpoint is the service's endpoint override, "" for the AWS one.
	Endpoint string
}

// FromEnv reads the variables the Lambda runtime sets: AWS_REGION (or
// AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, and the endpoint override of one service, the SDK's
// convention: endpointVar (such as AWS_ENDPOINT_URL_SQS), else
// AWS_ENDPOINT_URL, both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is
// true. Empty means unset. An endpoint must be an absolute URL.
func FromEnv(getenv func(string) string, endpointVar string) (Config, error) {
	var c Config
	c.Region = getenv("AWS_REGION")
	if c.Region == "" {
		c.Region = getenv("AWS_DEFAULT_REGION")
	}
	if c.Region == "" {
		return Config{}, errors.New("AWS_REGION is not set")
	}
	creds := aws.Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		Source:          "EnvironmentVariables",
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (the Lambda runtime sets them)")
	}
	c.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return creds, nil
	})
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return c, nil
	}
	name, endpoint := endpointVar, getenv(endpointVar)
	if endpoint == "" {
		name, endpoint = "AWS_ENDPOINT_URL", getenv("AWS_ENDPOINT_URL")
	}
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return Config{}, fmt.Errorf("%s: %q is not an absolute URL", name, endpoint)
		}
		c.Endpoint = endpoint
	}
	return c, nil
}

// Transport limits of NewHTTPClient. Whole calls are bounded by their
// context; these only stop one phase from eating the time a call has.
const (
	connectTimeout      = 2 * time.Second
	tlsHandshakeTimeout = 2 * time.Second
	tcpKeepAlive        = 30 * time.Second
	idleConnTimeout     = 90 * time.Second
	maxIdleConnsPerHost = 32
)

// NewHTTPClient returns the SDK's buildable HTTP client with a 2s connect
// timeout, a 2s TLS handshake timeout, TCP keep-alive and up to 32 idle
// connections kept for reuse: limits that fit a budget of a few seconds.
func NewHTTPClient() *awshttp.BuildableClient {
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
