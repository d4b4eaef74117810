package appconfigfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// deployment is one StartDeployment. It moves on at each GetDeployment:
// DEPLOYING, BAKING, then COMPLETE (the version is then what the Data API
// serves); or, when rolled back, DEPLOYING, ROLLING_BACK, ROLLED_BACK.
type deployment struct {
	number   int
	env      *env
	profile  *profile
	version  *version
	strategy string
	rollBack bool
	polls    int
	state    string
	percent  float64
}

// SetValidator makes StartDeployment run validate on the version's content,
// as a configuration profile's LAMBDA validator does: an error refuses the
// deployment with BadRequestException and the error's text.
func (s *Server) SetValidator(validate func(content []byte) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validate = validate
}

// control answers the control-plane calls, which take ids only.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	s.controlOnce.Do(func() {
		m := http.NewServeMux()
		m.HandleFunc("GET /applications", s.listApplications)
		m.HandleFunc("GET /applications/{app}/environments", s.listEnvironments)
		m.HandleFunc("GET /applications/{app}/configurationprofiles", s.listProfiles)
		m.HandleFunc("GET /deploymentstrategies", s.listStrategies)
		m.HandleFunc("POST /applications/{app}/configurationprofiles/{profile}/hostedconfigurationversions", s.createHosted)
		m.HandleFunc("POST /applications/{app}/environments/{env}/deployments", s.startDeployment)
		m.HandleFunc("GET /applications/{app}/environments/{env}/deployments/{n}", s.getDeployment)
		m.HandleFunc("GET /applications/{app}/environments/{env}/deployments", s.listDeployments)
		m.HandleFunc("GET /applications/{app}/configurationprofiles/{profile}/hostedconfigurationversions/{n}", s.getHosted)
		s.controlMux = m
	})
	s.controlMux.ServeHTTP(w, r)
}

type item struct {
	ID   string `json:"Id"`
	Name string `json:"Name"`
}

func items(ns []named) map[string][]item {
	out := []item{}
	for _, n := range ns {
		out = append(out, item{n.id, n.name})
	}
	return map[string][]item{"Items": out}
}

func (s *Server) appByID(w http.ResponseWriter, r *http.Request) *app {
	for _, a := range s.apps {
		if a.id == r.PathValue("app") {
			return a
		}
	}
	fail(w, http.StatusNotFound, "ResourceNotFoundException", "application "+r.PathValue("app")+" not found")
	return nil
}

func (s *Server) record(op string) {
	s.calls = append(s.calls, op)
}

func (s *Server) listApplications(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("ListApplications")
	var ns []named
	for _, a := range s.apps {
		ns = append(ns, a.named)
	}
	writeJSON(w, http.StatusOK, items(ns))
}

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request) {
	s.listOfApp(w, r, "ListEnvironments", func(a *app) (ns []named) {
		for _, e := range a.envs {
			ns = append(ns, e.named)
		}
		return ns
	})
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request) {
	s.listOfApp(w, r, "ListConfigurationProfiles", func(a *app) (ns []named) {
		for _, p := range a.profiles {
			ns = append(ns, p.named)
		}
		return ns
	})
}

// listOfApp answers the list call op of the application in the path with
// the items of.
func (s *Server) listOfApp(w http.ResponseWriter, r *http.Request, op string, of func(*app) []named) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(op)
	if a := s.appByID(w, r); a != nil {
		writeJSON(w, http.StatusOK, items(of(a)))
	}
}

func (s *Server) listStrategies(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("ListDeploymentStrategies")
	writeJSON(w, http.StatusOK, items(s.strategies))
}

func (s *Server) createHosted(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("CreateHostedConfigurationVersion")
	a := s.appByID(w, r)
	if a == nil {
		return
	}
	p := a.profileByID(r.PathValue("profile"))
	if p == nil {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "configuration profile not found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(body) > 1<<20 {
		fail(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "a hosted configuration is at most 1 MB")
		return
	}
	v := p.add(body, r.Header.Get("Content-Type"), r.Header.Get("VersionLabel"))
	w.Header().Set("Application-Id", a.id)
	w.Header().Set("Configuration-Profile-Id", p.id)
	w.Header().Set("Version-Number", strconv.Itoa(v.number))
	w.Header().Set("Content-Type", v.contentType)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

func (s *Server) startDeployment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("StartDeployment")
	a := s.appByID(w, r)
	if a == nil {
		return
	}
	var in struct {
		ConfigurationProfileId, ConfigurationVersion, DeploymentStrategyId, Description string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "BadRequestException", "body: "+err.Error())
		return
	}
	e, p := a.envByID(r.PathValue("env")), a.profileByID(in.ConfigurationProfileId)
	n, _ := strconv.Atoi(in.ConfigurationVersion)
	known := false
	for _, st := range s.strategies {
		known = known || st.id == in.DeploymentStrategyId
	}
	if e == nil || p == nil || n < 1 || n > len(p.versions) || !known {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "environment, configuration profile, version or deployment strategy not found")
		return
	}
	v := p.versions[n-1]
	if s.validate != nil {
		if err := s.validate(v.content); err != nil {
			fail(w, http.StatusBadRequest, "BadRequestException", "validation failed: "+err.Error())
			return
		}
	}
	d := &deployment{number: len(a.deployments[e.id]) + 1, env: e, profile: p, version: v,
		strategy: in.DeploymentStrategyId, rollBack: s.rollBackNext, state: "DEPLOYING"}
	s.rollBackNext = false
	a.deployments[e.id] = append(a.deployments[e.id], d)
	writeJSON(w, http.StatusCreated, d.wire(a))
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("GetDeployment")
	a := s.appByID(w, r)
	if a == nil {
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	ds := a.deployments[r.PathValue("env")]
	if n < 1 || n > len(ds) {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "deployment not found")
		return
	}
	d := ds[n-1]
	d.polls++
	switch {
	case d.polls == 1:
		d.state, d.percent = "DEPLOYING", 50
	case d.polls == 2 && d.rollBack:
		d.state = "ROLLING_BACK"
	case d.polls == 2:
		d.state, d.percent = "BAKING", 100
	case d.rollBack:
		d.state, d.percent = "ROLLED_BACK", 0
	default:
		d.state = "COMPLETE"
		d.env.deployed[d.profile.id] = d.version
	}
	writeJSON(w, http.StatusOK, d.wire(a))
}

// listDeployments answers ListDeployments: the environment's deployments,
// newest first, on one page. As AppConfig's DeploymentSummary, an item
// names the profile (ConfigurationName) but does not carry its id.
func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("ListDeployments")
	a := s.appByID(w, r)
	if a == nil {
		return
	}
	out := []map[string]any{}
	ds := a.deployments[r.PathValue("env")]
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		out = append(out, map[string]any{
			"DeploymentNumber":     d.number,
			"ConfigurationName":    d.profile.name,
			"ConfigurationVersion": strconv.Itoa(d.version.number),
			"State":                d.state,
			"PercentageComplete":   d.percent,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"Items": out})
}

// getHosted answers GetHostedConfigurationVersion: the content as the body,
// the rest in headers.
func (s *Server) getHosted(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("GetHostedConfigurationVersion")
	a := s.appByID(w, r)
	if a == nil {
		return
	}
	p := a.profileByID(r.PathValue("profile"))
	n, _ := strconv.Atoi(r.PathValue("n"))
	if p == nil || n < 1 || n > len(p.versions) {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "configuration profile or version not found")
		return
	}
	v := p.versions[n-1]
	w.Header().Set("Application-Id", a.id)
	w.Header().Set("Configuration-Profile-Id", p.id)
	w.Header().Set("Version-Number", strconv.Itoa(v.number))
	w.Header().Set("Content-Type", v.contentType)
	if v.label != "" {
		w.Header().Set("VersionLabel", v.label)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(v.content)
}

func (d *deployment) wire(a *app) map[string]any {
	return map[string]any{
		"ApplicationId":          a.id,
		"EnvironmentId":          d.env.id,
		"ConfigurationProfileId": d.profile.id,
		"ConfigurationVersion":   strconv.Itoa(d.version.number),
		"DeploymentNumber":       d.number,
		"DeploymentStrategyId":   d.strategy,
		"State":                  d.state,
		"PercentageComplete":     d.percent,
		"StartedAt":              time.Now().UTC().Format(time.RFC3339),
	}
}

// envByID returns the environment whose id is id, or nil: the control
// plane's calls take ids only.
func (a *app) envByID(id string) *env {
	for _, e := range a.envs {
		if e.id == id {
			return e
		}
	}
	return nil
}

// profileByID returns the configuration profile whose id is id, or nil.
func (a *app) profileByID(id string) *profile {
	for _, p := range a.profiles {
		if p.id == id {
			return p
		}
	}
	return nil
}
