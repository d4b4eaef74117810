package rulesource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
)

// The AppConfig Data API is called over its REST-JSON protocol with a
// SigV4-signed net/http request rather than through
// aws-sdk-go-v2/service/appconfigdata: that module cannot be fetched from the
// module proxy this project builds with, and two calls need no generated
// client. The wire shapes are those of the service's model (POST
// /configurationsessions, GET /configuration).

// signingName is the name the Data API's requests are signed for.
const signingName = "appconfig"

// maxConfiguration bounds the body read from GetLatestConfiguration: hosted
// configurations are at most 1 MB.
const maxConfiguration = 2 << 20

// latest is what one GetLatestConfiguration returned.
type latest struct {
	configuration []byte // empty: unchanged since the previous call
	contentType   string
	version       string // the Configuration-Version header
	nextToken     string
	pollInterval  time.Duration
}

// dataAPI is the AppConfig Data API, as the AppConfig source uses it.
type dataAPI interface {
	startSession(ctx context.Context, id AppConfigID) (token string, err error)
	getLatest(ctx context.Context, token string) (latest, error)
}

// APIError is an error answer of the AppConfig Data API.
type APIError struct {
	// Op is the operation, "StartConfigurationSession" or
	// "GetLatestConfiguration".
	Op string
	// Status is the HTTP status code.
	Status int
	// Code is the error type, such as BadRequestException.
	Code string
	// Message is the service's message.
	Message string
}

// Error returns "appconfig OP: CODE (HTTP STATUS): MESSAGE".
func (e *APIError) Error() string {
	return fmt.Sprintf("appconfig %s: %s (HTTP %d): %s", e.Op, e.Code, e.Status, e.Message)
}

// badToken reports whether err says that a configuration token can no
// longer be used (expired, already used, corrupted), so that a new session
// is needed.
func badToken(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest
}

// httpDataAPI calls the Data API at endpoint, signing with cfg.
type httpDataAPI struct {
	cfg      awsenv.Config
	endpoint string
	client   interface {
		Do(*http.Request) (*http.Response, error)
	}
	signer *v4.Signer
}

// newHTTPDataAPI returns the Data API client of cfg: its Endpoint, else the
// service's regional endpoint.
func newHTTPDataAPI(cfg awsenv.Config) *httpDataAPI {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://appconfigdata." + cfg.Region + ".amazonaws.com"
	}
	return &httpDataAPI{
		cfg:      cfg,
		endpoint: strings.TrimSuffix(endpoint, "/"),
		client:   awsenv.NewHTTPClient(),
		signer:   v4.NewSigner(),
	}
}

func (c *httpDataAPI) startSession(ctx context.Context, id AppConfigID) (string, error) {
	body, err := json.Marshal(map[string]string{
		"ApplicationIdentifier":          id.Application,
		"EnvironmentIdentifier":          id.Environment,
		"ConfigurationProfileIdentifier": id.Profile,
	})
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, "StartConfigurationSession", http.MethodPost, "/configurationsessions", body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ InitialConfigurationToken string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return "", fmt.Errorf("appconfig StartConfigurationSession: decode the answer: %w", err)
	}
	if out.InitialConfigurationToken == "" {
		return "", errors.New("appconfig StartConfigurationSession: the answer has no InitialConfigurationToken")
	}
	return out.InitialConfigurationToken, nil
}

func (c *httpDataAPI) getLatest(ctx context.Context, token string) (latest, error) {
	path := "/configuration?configuration_token=" + url.QueryEscape(token)
	resp, err := c.do(ctx, "GetLatestConfiguration", http.MethodGet, path, nil)
	if err != nil {
		return latest{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxConfiguration+1))
	if err != nil {
		return latest{}, fmt.Errorf("appconfig GetLatestConfiguration: read the configuration: %w", err)
	}
	if len(b) > maxConfiguration {
		return latest{}, fmt.Errorf("appconfig GetLatestConfiguration: the configuration is over %d bytes", maxConfiguration)
	}
	l := latest{
		configuration: b,
		contentType:   resp.Header.Get("Content-Type"),
		version:       resp.Header.Get("Configuration-Version"),
		nextToken:     resp.Header.Get("Next-Poll-Configuration-Token"),
	}
	if s := resp.Header.Get("Next-Poll-Interval-In-Seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return latest{}, fmt.Errorf("appconfig GetLatestConfiguration: Next-Poll-Interval-In-Seconds %q is not a number of seconds", s)
		}
		l.pollInterval = time.Duration(n) * time.Second
	}
	if l.nextToken == "" {
		return latest{}, errors.New("appconfig GetLatestConfiguration: the answer has no Next-Poll-Configuration-Token")
	}
	return l, nil
}

// do sends one signed request and returns a 2xx response, whose body the
// caller closes; any other answer is an *APIError.
func (c *httpDataAPI) do(ctx context.Context, op, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("appconfig %s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	sum := sha256.Sum256(body)
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("appconfig %s: credentials: %w", op, err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, c.cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("appconfig %s: sign: %w", op, err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("appconfig %s: %w", op, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, apiError(op, resp)
}

// apiError reads an error answer: the type from X-Amzn-ErrorType (as
// "Type:URL", the part before the colon) or the body's __type, and the body's
// Message.
func apiError(op string, resp *http.Response) *APIError {
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
		Lower   string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = json.Unmarshal(b, &body)
	e := &APIError{Op: op, Status: resp.StatusCode, Code: resp.Header.Get("X-Amzn-ErrorType"), Message: body.Message}
	if e.Code == "" {
		e.Code = body.Type
	}
	e.Code, _, _ = strings.Cut(e.Code, ":")
	if i := strings.LastIndex(e.Code, "#"); i >= 0 {
		e.Code = e.Code[i+1:]
	}
	if e.Code == "" {
		e.Code = http.StatusText(resp.StatusCode)
	}
	if e.Message == "" {
		e.Message = body.Lower
	}
	return e
}
