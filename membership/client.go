package membership

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
)

// ConfigureClient applies this package's client settings to Cognito client
// options: no SDK retries (aws.NopRetryer, whatever the environment says;
// Adder owns retries, so that they fit its budget) and the HTTP client of
// awsenv.NewHTTPClient (2s connect and TLS handshake timeouts, TCP
// keep-alive, up to 32 idle connections kept for reuse). Pass it to
// cognitoidentityprovider.New or NewFromConfig.
func ConfigureClient(o *cognitoidentityprovider.Options) {
	o.Retryer = aws.NopRetryer{}
	o.RetryMaxAttempts = 0
	o.HTTPClient = awsenv.NewHTTPClient()
}

// NewClientFromEnv builds a Cognito client from the variables the Lambda
// runtime sets (awsenv.FromEnv: AWS_REGION or AWS_DEFAULT_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN), plus
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (or AWS_ENDPOINT_URL) for an
// emulator, ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. Empty
// means unset. The client is configured by ConfigureClient.
//
// It does not use the SDK's config package on purpose (see package awsenv):
// in Lambda the credentials are always these variables. Tools that need
// profiles or SSO load an aws.Config themselves and use ConfigureClient.
func NewClientFromEnv(getenv func(string) string) (*cognitoidentityprovider.Client, error) {
	c, err := awsenv.FromEnv(getenv, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
	if err != nil {
		return nil, err
	}
	o := cognitoidentityprovider.Options{Region: c.Region, Credentials: c.Credentials}
	if c.Endpoint != "" {
		o.BaseEndpoint = aws.String(c.Endpoint)
	}
	return cognitoidentityprovider.New(o, ConfigureClient), nil
}
