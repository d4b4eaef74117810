package rulesource

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/internal/awsenv"
)

// AppConfigEndpointVar is the variable that overrides the AppConfig Data
// API's endpoint (the SDK's convention), for a fake or an emulator.
const AppConfigEndpointVar = "AWS_ENDPOINT_URL_APPCONFIGDATA"

// DefaultPollInterval is how long the AppConfig source waits between polls
// when the service's answer names no interval.
const DefaultPollInterval = 60 * time.Second

// AppConfigID names an AppConfig configuration: its application,
// environment and configuration profile, each by name or by id.
type AppConfigID struct {
	Application, Environment, Profile string
}

// String returns the id as RULES_SOURCE spells it,
// "appconfig:APPLICATION/ENVIRONMENT/PROFILE".
func (id AppConfigID) String() string {
	return "appconfig:" + id.Application + "/" + id.Environment + "/" + id.Profile
}

// ParseAppConfigID parses a RULES_SOURCE value of the form
// "appconfig:APPLICATION/ENVIRONMENT/PROFILE", three names or ids, none
// empty.
func ParseAppConfigID(s string) (AppConfigID, error) {
	rest, ok := strings.CutPrefix(s, "appconfig:")
	if !ok {
		return AppConfigID{}, fmt.Errorf("RULES_SOURCE %q: want appconfig:APPLICATION/ENVIRONMENT/PROFILE (the only source it names)", s)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return AppConfigID{}, fmt.Errorf("RULES_SOURCE %q: want appconfig:APPLICATION/ENVIRONMENT/PROFILE, three names or ids separated by /", s)
	}
	for _, p := range parts {
		if strings.TrimSpace(p) != p {
			return AppConfigID{}, fmt.Errorf("RULES_SOURCE %q: %q has leading or trailing spaces", s, p)
		}
	}
	return AppConfigID{Application: parts[0], Environment: parts[1], Profile: parts[2]}, nil
}

// appConfigSource is the ruleset an AppConfig configuration profile holds,
// polled through the Data API: a session is started on the first Fetch (and
// again when the service no longer takes the token), each Fetch makes one
// GetLatestConfiguration, and an empty configuration is Unchanged.
type appConfigSource struct {
	id       AppConfigID
	newAPI   func() dataAPI // called once, on the first Fetch
	fallback Source

	mu      sync.Mutex // held by a Fetch
	api     dataAPI
	token   string // the token for the next GetLatestConfiguration; "": start a session
	version string // the version of the last configuration received
}

func newAppConfigSource(id AppConfigID, newAPI func() dataAPI, fallback Source) *appConfigSource {
	return &appConfigSource{id: id, newAPI: newAPI, fallback: fallback}
}

func (s *appConfigSource) Name() string { return s.id.String() }

// Fallback is the source whose ruleset is used while no configuration
// from AppConfig has loaded.
func (s *appConfigSource) Fallback() Source { return s.fallback }

func (s *appConfigSource) Fetch(ctx context.Context) (Fetched, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api == nil {
		s.api = s.newAPI()
	}
	l, err := s.getLatest(ctx)
	if err != nil && badToken(err) && s.token != "" {
		// The token expired (24 hours), was used, or is otherwise refused:
		// a new session gets a new one and the whole configuration.
		s.token = ""
		l, err = s.getLatest(ctx)
	}
	if err != nil {
		if badToken(err) {
			s.token = ""
		}
		return Fetched{}, &fetchError{label: s.Name(), err: err}
	}
	s.token = l.nextToken
	next := l.pollInterval
	if next <= 0 {
		next = DefaultPollInterval
	}
	if len(l.configuration) == 0 {
		return Fetched{Unchanged: true, Version: s.version, NextPoll: next}, nil
	}
	s.version = l.version
	return Fetched{Rules: l.configuration, Version: l.version, NextPoll: next}, nil
}

// getLatest starts a session when there is no token, then asks for the
// latest configuration. A session's first answer is the whole
// configuration.
func (s *appConfigSource) getLatest(ctx context.Context) (latest, error) {
	if s.token == "" {
		tok, err := s.api.startSession(ctx, s.id)
		if err != nil {
			return latest{}, err
		}
		s.token = tok
	}
	return s.api.getLatest(ctx, s.token)
}

// invalidSource is a RULES_SOURCE that cannot be used; its Fetch says why,
// so the function refuses to start with that message.
type invalidSource struct {
	name string
	err  error
}

func (s invalidSource) Name() string                           { return s.name }
func (s invalidSource) Fetch(context.Context) (Fetched, error) { return Fetched{}, s.err }

// appConfigFromEnv is FromEnv's source for a RULES_SOURCE value v, with
// fallback used while nothing from AppConfig has loaded. The client is built
// on the first Fetch.
func appConfigFromEnv(v string, getenv func(string) string, fallback Source) Source {
	id, err := ParseAppConfigID(v)
	if err != nil {
		return invalidSource{name: "RULES_SOURCE", err: err}
	}
	cfg, err := awsenv.FromEnv(getenv, AppConfigEndpointVar)
	if err != nil {
		return invalidSource{name: id.String(), err: fmt.Errorf("RULES_SOURCE %s: %w", id, err)}
	}
	return newAppConfigSource(id, func() dataAPI { return newHTTPDataAPI(cfg) }, fallback)
}
