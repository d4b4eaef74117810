// Package cognitofake is a fake Amazon Cognito user pools endpoint for
// tests and for commands such as the benchmarks, with faults that can be
// injected while it runs.
//
// A Server speaks Cognito's JSON 1.1 protocol (POST, header
// X-Amz-Target: AWSCognitoIdentityProviderService.<Op>, JSON bodies, errors
// as {"__type": ..., "message": ...} with the X-Amzn-ErrorType header), so
// the real SDK client talks to it: Client returns one built by
// membership.ConfigureClient, without SDK retries. It keeps state (pools
// with their configuration and app clients, groups, members, users with
// attributes and status), records every call, and answers the operations in
// the operations table: AdminAddUserToGroup, AdminGetUser,
// AdminListGroupsForUser, AdminRemoveUserFromGroup, CreateGroup, and for
// the command-line tool ListUsers, ListUsersInGroup, ListGroups,
// ListUserPoolClients, ListIdentityProviders (paginated, see SetPageSize),
// DescribeUserPool, DescribeUserPoolClient, DescribeIdentityProvider and
// UpdateUserPool. Faults
// (Inject and helpers such as ThrottleFirst or Hang) change what the next
// calls get; RateLimit throttles the calls beyond a rate, as an account's
// quota does. New starts one for a test; Start starts one anywhere, until
// Close.
// All methods are safe for concurrent use.
package cognitofake

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// targetPrefix starts the X-Amz-Target header of every Cognito user pools
// request.
const targetPrefix = "AWSCognitoIdentityProviderService."

// Server is a fake Cognito user pools endpoint. Build it with New or Start.
//
// Pools exist as soon as they are named. Groups must be created (CreateGroup,
// or the CreateGroup operation) unless AllowAnyGroup was called. Users need
// not exist: a pool in which no user was created (CreateUser, PutUser)
// accepts any username, and a pool with users answers UserNotFoundException
// for others; AdminGetUser knows only users so created. DescribeUserPool
// knows only pools given a configuration with ConfigurePool.
type Server struct {
	srv       *httptest.Server
	done      chan struct{} // closed by Close, to release hung calls
	closeOnce sync.Once

	mu          sync.Mutex
	pools       map[string]*pool
	anyGroup    bool
	delay       time.Duration
	pageSize    int
	faults      []*fault
	calls       []Call
	inFlight    int
	maxInFlight int
}

type pool struct {
	groups  map[string]*group
	users   map[string]*User
	config  *PoolConfig
	clients map[string]*AppClient
	// settings replace members of DescribeUserPool's answer, and updates
	// are the UpdateUserPool bodies (updatepool.go).
	settings map[string]json.RawMessage
	updates  []json.RawMessage
}

type group struct {
	created     time.Time
	description string
	precedence  *int32
	roleArn     string
	members     map[string]bool
}

// Call is one recorded request.
type Call struct {
	// Op is the operation, such as "AdminAddUserToGroup".
	Op string
	// PoolID, Username and Group are the request's UserPoolId, Username and
	// GroupName, where it has them.
	PoolID, Username, Group string
	// Start is when the request arrived, End when the answer was written
	// or the connection closed; End is zero, and Outcome empty, while the
	// call is in progress (a call whose client gave up ends when the server
	// notices).
	Start, End time.Time
	// Status is the HTTP status answered; 0 when the connection was closed
	// without an answer or the call never got one.
	Status int
	// Outcome is "ok", the error type answered (such as
	// "TooManyRequestsException"), "reset" (connection closed without an
	// answer), "hung" (Hang) or "canceled" (the client gave up during a
	// Delay).
	Outcome string
}

// AllowAnyGroup makes every group exist: AdminAddUserToGroup creates a
// group it has not seen.
func (s *Server) AllowAnyGroup() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.anyGroup = true
}

// CreateGroup creates a group in a pool; creating it again does nothing.
func (s *Server) CreateGroup(poolID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pool(poolID).group(name, true)
}

// CreateUser creates a confirmed user without attributes (but a sub) in a
// pool, as PutUser does.
func (s *Server) CreateUser(poolID, username string) {
	s.PutUser(poolID, User{Username: username})
}

// Members returns the members of a group, sorted.
func (s *Server) Members(poolID, groupName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pool(poolID).group(groupName, false)
	if g == nil {
		return nil
	}
	return sortedKeys(g.members)
}

// GroupsForUser returns the groups a user belongs to in a pool, sorted.
func (s *Server) GroupsForUser(poolID, username string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, g := range s.pool(poolID).groups {
		if g.members[username] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Calls returns a copy of the calls recorded so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo returns the recorded calls of one operation, in arrival order.
func (s *Server) CallsTo(op string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// MaxInFlight returns the largest number of requests that were being
// handled at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// pool returns the pool, creating it. s.mu must be held.
func (s *Server) pool(id string) *pool {
	p := s.pools[id]
	if p == nil {
		p = &pool{groups: map[string]*group{}, users: map[string]*User{}, clients: map[string]*AppClient{}}
		s.pools[id] = p
	}
	return p
}

// group returns the group, creating it if create is set; nil if it does not
// exist. s.mu must be held.
func (p *pool) group(name string, create bool) *group {
	g := p.groups[name]
	if g == nil && create {
		g = &group{created: time.Now(), members: map[string]bool{}}
		p.groups[name] = g
	}
	return g
}

// userExists reports whether the pool knows the user; a pool without users
// knows every username. s.mu must be held.
func (p *pool) userExists(username string) bool {
	return len(p.users) == 0 || p.users[username] != nil
}

// request is one decoded call.
type request struct {
	op   string
	body []byte
	// The fields most operations have, for the record and for faults.
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
	GroupName  string `json:"GroupName"`
}

// apiError is an error answer.
type apiError struct {
	status  int
	typ     string
	message string
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	handler := operations[op]
	if r.Method != http.MethodPost || !ok || handler == nil {
		writeError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", "Unknown operation " + strconv.Quote(target) + "."})
		return
	}
	req := &request{op: op, body: body}
	if err := json.Unmarshal(body, req); err != nil {
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", "Malformed JSON body: " + err.Error()})
		return
	}

	i, delay, f := s.begin(req)
	call := Call{Outcome: "canceled"}
	defer func() { s.finish(i, call) }()

	if delay > 0 && !s.sleep(r, delay) {
		s.abandon(w) // the client gave up, or the server is closing
		return
	}
	switch {
	case f == nil:
	case f.Reset:
		call.Outcome = "reset"
		resetConnection(w)
		return
	case f.Hang:
		call.Outcome = "hung"
		select {
		case <-r.Context().Done():
		case <-s.done:
			s.abandon(w)
		}
		return
	default:
		call.Status, call.Outcome = writeError(w, f.answer(req))
		return
	}

	out, e := handler(s, req)
	if e != nil {
		call.Status, call.Outcome = writeError(w, e)
		return
	}
	call.Status, call.Outcome = http.StatusOK, "ok"
	writeJSON(w, http.StatusOK, out)
}

// begin records the start of a call and returns its index, the delay to
// apply and the fault it draws, if any.
func (s *Server) begin(req *request) (int, time.Duration, *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	now := time.Now()
	s.calls = append(s.calls, Call{
		Op: req.op, PoolID: req.UserPoolID, Username: req.Username, Group: req.GroupName,
		Start: now,
	})
	return len(s.calls) - 1, s.delay, s.draw(req, now)
}

// finish records the end of call i.
func (s *Server) finish(i int, c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	rec := &s.calls[i]
	rec.End, rec.Status, rec.Outcome = time.Now(), c.Status, c.Outcome
}

// sleep waits d, and reports false if the client gave up or the server is
// closing first.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// abandon ends a call that is not to be answered: if the server is closing
// while the client still waits, its connection is reset so that it does not
// take an empty answer for success.
func (s *Server) abandon(w http.ResponseWriter) {
	select {
	case <-s.done:
		resetConnection(w)
	default:
	}
}

// resetConnection closes the client's TCP connection with a reset, without
// answering.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("cognitofake: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// writeError answers e and returns the status and outcome to record.
func writeError(w http.ResponseWriter, e *apiError) (int, string) {
	if e.typ == "" {
		// A bare status, as a proxy or load balancer might answer.
		w.WriteHeader(e.status)
		return e.status, "HTTP " + strconv.Itoa(e.status)
	}
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	writeJSON(w, e.status, map[string]string{"__type": e.typ, "message": e.message})
	return e.status, e.typ
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		panic("cognitofake: encode answer: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "cognitofake-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
