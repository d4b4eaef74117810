// Package appconfigfake is a small fake of AWS AppConfig for tests and the
// demo: the two Data API calls a function polls with (POST
// /configurationsessions, GET /configuration) and the control-plane calls
// `autogroup publish` makes (names to ids, CreateHostedConfigurationVersion,
// StartDeployment, GetDeployment, and for its impact preview ListDeployments
// and GetHostedConfigurationVersion), over their REST-JSON wire protocol, so
// that the real clients talk to it. No free AppConfig emulator exists.
//
// A test declares a configuration profile (AddProfile), publishes versions
// to it (Publish, or the control plane), and can make the Data API fail
// (SetDown), expire every token (ExpireTokens) or roll the next deployment
// back (RollBackNext).
package appconfigfake

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu           sync.Mutex
	apps         []*app
	strategies   []named
	sessions     map[string]*session // by token
	nextToken    int
	pollInterval int // seconds
	down         int // HTTP status every Data API call answers with; 0: up
	rollBackNext bool
	validate     func([]byte) error
	calls        []string

	controlOnce sync.Once
	controlMux  *http.ServeMux
}

type named struct{ id, name string }

type app struct {
	named
	envs        []*env
	profiles    []*profile
	deployments map[string][]*deployment // by environment id
}

type env struct {
	named
	deployed map[string]*version // by profile id: the version the Data API serves
}

type profile struct {
	named
	versions []*version
}

type version struct {
	number      int
	content     []byte
	contentType string
	label       string
}

type session struct {
	app, env, profile string // ids
	served            int    // the version number last sent; 0: none
}

// IDs are the ids AddProfile gave.
type IDs struct {
	Application, Environment, Profile string
}

// Start starts a Server on addr ("127.0.0.1:0" when empty) that runs until
// Close. It knows the predefined deployment strategies AppConfig.AllAtOnce
// and AppConfig.Linear20PercentEvery6Minutes.
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("appconfigfake: %w", err)
	}
	s := &Server{
		sessions:     map[string]*session{},
		pollInterval: 15,
		strategies: []named{
			{"AppConfig.AllAtOnce", "AppConfig.AllAtOnce"},
			{"AppConfig.Linear20PercentEvery6Minutes", "AppConfig.Linear20PercentEvery6Minutes"},
		},
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
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// URL is the server's endpoint, for AWS_ENDPOINT_URL_APPCONFIGDATA and
// --endpoint-url.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddProfile creates the application, environment and configuration
// profile of these names, each unless it exists, and returns their ids.
func (s *Server) AddProfile(appName, envName, profileName string) IDs {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(appName)
	if a == nil {
		a = &app{named: named{s.newID("a"), appName}, deployments: map[string][]*deployment{}}
		s.apps = append(s.apps, a)
	}
	e := a.findEnv(envName)
	if e == nil {
		e = &env{named: named{s.newID("e"), envName}, deployed: map[string]*version{}}
		a.envs = append(a.envs, e)
	}
	p := a.findProfile(profileName)
	if p == nil {
		p = &profile{named: named{s.newID("p"), profileName}}
		a.profiles = append(a.profiles, p)
	}
	return IDs{a.id, e.id, p.id}
}

// Publish adds a hosted version with content to the profile and deploys it
// to the environment at once, as a deployment with AppConfig.AllAtOnce
// would, recorded as a COMPLETE deployment (ListDeployments); the names (or
// ids) must have been added. It runs no validator. It returns the version
// number.
func (s *Server) Publish(appName, envName, profileName string, content []byte, contentType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(appName)
	if a == nil {
		panic("appconfigfake: Publish to unknown application " + appName)
	}
	e, p := a.findEnv(envName), a.findProfile(profileName)
	if e == nil || p == nil {
		panic("appconfigfake: Publish to unknown environment or profile")
	}
	v := p.add(content, contentType, "")
	e.deployed[p.id] = v
	a.deployments[e.id] = append(a.deployments[e.id], &deployment{number: len(a.deployments[e.id]) + 1, env: e, profile: p,
		version: v, strategy: "AppConfig.AllAtOnce", state: "COMPLETE", percent: 100})
	return v.number
}

// SetPollInterval sets the NextPollIntervalInSeconds the Data API answers
// with (15 unless set).
func (s *Server) SetPollInterval(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pollInterval = seconds
}

// SetDown makes every Data API call answer with HTTP status (503, say) until
// SetDown(0).
func (s *Server) SetDown(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = status
}

// ExpireTokens makes every configuration token given so far invalid, as 24
// hours would.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// RollBackNext makes the next deployment roll back instead of completing,
// as an alarm firing during it would.
func (s *Server) RollBackNext() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollBackNext = true
}

// Calls returns the operations answered so far, in order, such as
// "StartConfigurationSession" or "GetLatestConfiguration".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *Server) newID(prefix string) string {
	s.nextToken++
	return fmt.Sprintf("%s%06d", prefix, s.nextToken)
}

func (s *Server) findApp(nameOrID string) *app {
	for _, a := range s.apps {
		if a.id == nameOrID || a.name == nameOrID {
			return a
		}
	}
	return nil
}

func (a *app) findEnv(nameOrID string) *env {
	for _, e := range a.envs {
		if e.id == nameOrID || e.name == nameOrID {
			return e
		}
	}
	return nil
}

func (a *app) findProfile(nameOrID string) *profile {
	for _, p := range a.profiles {
		if p.id == nameOrID || p.name == nameOrID {
			return p
		}
	}
	return nil
}

func (p *profile) add(content []byte, contentType, label string) *version {
	v := &version{number: len(p.versions) + 1, content: content, contentType: contentType, label: label}
	p.versions = append(p.versions, v)
	return v
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/configurationsessions":
		s.startSession(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/configuration":
		s.getLatest(w, r)
	default:
		s.control(w, r)
	}
}

// fail answers an error as the AWS REST-JSON protocol does.
func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "StartConfigurationSession")
	if s.down != 0 {
		fail(w, s.down, "InternalServerException", "the fake is down")
		return
	}
	var in struct {
		ApplicationIdentifier, EnvironmentIdentifier, ConfigurationProfileIdentifier string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "BadRequestException", "body: "+err.Error())
		return
	}
	a := s.findApp(in.ApplicationIdentifier)
	if a == nil || a.findEnv(in.EnvironmentIdentifier) == nil || a.findProfile(in.ConfigurationProfileIdentifier) == nil {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "no such application, environment or configuration profile")
		return
	}
	tok := s.newID("token-")
	s.sessions[tok] = &session{app: a.id, env: a.findEnv(in.EnvironmentIdentifier).id, profile: a.findProfile(in.ConfigurationProfileIdentifier).id}
	writeJSON(w, http.StatusCreated, map[string]string{"InitialConfigurationToken": tok})
}

func (s *Server) getLatest(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "GetLatestConfiguration")
	if s.down != 0 {
		fail(w, s.down, "InternalServerException", "the fake is down")
		return
	}
	tok := r.URL.Query().Get("configuration_token")
	sess, ok := s.sessions[tok]
	if !ok {
		fail(w, http.StatusBadRequest, "BadRequestException", "the configuration token is expired, used or invalid")
		return
	}
	delete(s.sessions, tok)
	next := s.newID("token-")
	s.sessions[next] = sess
	w.Header().Set("Next-Poll-Configuration-Token", next)
	w.Header().Set("Next-Poll-Interval-In-Seconds", strconv.Itoa(s.pollInterval))
	v := s.findApp(sess.app).findEnv(sess.env).deployed[sess.profile]
	if v == nil || v.number == sess.served {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	sess.served = v.number
	w.Header().Set("Content-Type", v.contentType)
	w.Header().Set("Configuration-Version", strconv.Itoa(v.number))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(v.content)
}

// Deployed returns the version number and content the Data API serves for
// the profile in the environment (names or ids); 0 when none is deployed.
func (s *Server) Deployed(appName, envName, profileName string) (int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(appName)
	if a == nil || a.findEnv(envName) == nil || a.findProfile(profileName) == nil {
		return 0, nil
	}
	v := a.findEnv(envName).deployed[a.findProfile(profileName).id]
	if v == nil {
		return 0, nil
	}
	return v.number, v.content
}
