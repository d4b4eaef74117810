package rulesource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

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

// APIError is an error answer of the AppConfig Data API (Service
// "appconfig", Op "StartConfigurationSession" or "GetLatestConfiguration").
type APIError = awsenv.APIError

// badToken reports whether err says that a configuration token can no
// longer be used (expired, already used, corrupted), so that a new session
// is needed.
func badToken(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest
}

// httpDataAPI calls the Data API.
type httpDataAPI struct{ *awsenv.Signed }

// newHTTPDataAPI returns the Data API client of cfg: its Endpoint, else the
// service's regional endpoint.
func newHTTPDataAPI(cfg awsenv.Config) *httpDataAPI {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://appconfigdata." + cfg.Region + ".amazonaws.com"
	}
	return &httpDataAPI{awsenv.NewSigned(cfg, signingName, endpoint)}
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
	resp, err := c.Do(ctx, "StartConfigurationSession", http.MethodPost, "/configurationsessions", jsonHeader, body)
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
	resp, err := c.Do(ctx, "GetLatestConfiguration", http.MethodGet, path, nil, nil)
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

// jsonHeader is the header of a request with a JSON body.
var jsonHeader = http.Header{"Content-Type": {"application/json"}}
