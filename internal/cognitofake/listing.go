package cognitofake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxPage is Cognito's largest Limit (MaxResults) for the list operations.
const maxPage = 60

var errPoolNotFound = &apiError{http.StatusBadRequest, "ResourceNotFoundException", "User pool does not exist."}

// listInput is the paging part of a list request; ListUsers calls its
// token PaginationToken, ListUserPoolClients its limit MaxResults.
type listInput struct {
	Limit           *int
	MaxResults      *int
	NextToken       *string
	PaginationToken *string
	ClientID        string `json:"ClientId"`
}

func decodeList(req *request) (*listInput, *apiError) {
	var in listInput
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, errInvalidParameter(err.Error())
	}
	return &in, nil
}

// page returns the keys (sorted) of one page of a list after the request's
// token, and the token of the next page ("" after the last). A token is the
// operation's name and the last key of the previous page: keys added or
// removed between pages neither repeat nor shift the others.
func (s *Server) page(req *request, in *listInput, keys []string) ([]string, string, *apiError) {
	limit, field := in.Limit, "limit"
	if in.MaxResults != nil {
		limit, field = in.MaxResults, "maxResults"
	}
	n := maxPage
	if limit != nil {
		if *limit < 0 || *limit > maxPage {
			return nil, "", errInvalidParameter("1 validation error detected: Value '" + strconv.Itoa(*limit) + "' at '" + field + "' failed to satisfy constraint: Member must have value less than or equal to 60")
		}
		if *limit > 0 {
			n = *limit
		}
	}
	if s.pageSize > 0 {
		n = min(n, s.pageSize)
	}
	token := in.NextToken
	if in.PaginationToken != nil {
		token = in.PaginationToken
	}
	slices.Sort(keys)
	start := 0
	if token != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		op, after, ok := strings.Cut(string(raw), "\x00")
		if err != nil || !ok || op != req.op {
			return nil, "", errInvalidParameter("Invalid pagination token.")
		}
		start, _ = slices.BinarySearch(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	end := min(start+n, len(keys))
	next := ""
	if end < len(keys) {
		next = base64.RawURLEncoding.EncodeToString([]byte(req.op + "\x00" + keys[end-1]))
	}
	return keys[start:end], next, nil
}

// tokenOrNil leaves an empty token out of the answer.
func tokenOrNil(t string) *string {
	if t == "" {
		return nil
	}
	return &t
}

// userType is Cognito's UserType.
type userType struct {
	Username             string
	Attributes           []attributeType
	UserCreateDate       float64
	UserLastModifiedDate float64
	Enabled              bool
	UserStatus           string
}

type attributeType struct {
	Name  string
	Value string
}

func newUserType(u *User) userType {
	t := float64(u.created.UnixNano()) / float64(time.Second)
	out := userType{
		Username: u.Username, UserCreateDate: t, UserLastModifiedDate: t,
		Enabled: !u.Disabled, UserStatus: u.Status,
		Attributes: make([]attributeType, 0, len(u.Attributes)),
	}
	for _, name := range sortedKeys(u.Attributes) {
		out.Attributes = append(out.Attributes, attributeType{name, u.Attributes[name]})
	}
	return out
}

// listUsers lists a pool's users by username, a page at a time
// (PaginationToken). Filter and AttributesToGet are ignored.
func (s *Server) listUsers(req *request) (any, *apiError) {
	in, e := decodeList(req)
	if e != nil {
		return nil, e
	}
	if e := required("userPoolId", req.UserPoolID); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	keys, next, e := s.page(req, in, sortedKeys(p.users))
	if e != nil {
		return nil, e
	}
	out := struct {
		Users           []userType
		PaginationToken *string `json:",omitempty"`
	}{Users: []userType{}, PaginationToken: tokenOrNil(next)}
	for _, k := range keys {
		out.Users = append(out.Users, newUserType(p.users[k]))
	}
	return out, nil
}

// listUsersInGroup lists a group's members by username, a page at a time
// (NextToken). A member that is no user of the pool is answered with its
// username only, as a user created by CreateUser would be.
func (s *Server) listUsersInGroup(req *request) (any, *apiError) {
	in, e := decodeList(req)
	if e != nil {
		return nil, e
	}
	if e := required("userPoolId", req.UserPoolID, "groupName", req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	g := p.group(req.GroupName, false)
	if g == nil {
		return nil, errGroupNotFound
	}
	keys, next, e := s.page(req, in, sortedKeys(g.members))
	if e != nil {
		return nil, e
	}
	out := struct {
		Users     []userType
		NextToken *string `json:",omitempty"`
	}{Users: []userType{}, NextToken: tokenOrNil(next)}
	for _, k := range keys {
		u := p.users[k]
		if u == nil {
			u = &User{Username: k, Status: "CONFIRMED", Attributes: map[string]string{"sub": fakeSub(req.UserPoolID, k)}}
		}
		out.Users = append(out.Users, newUserType(u))
	}
	return out, nil
}

// listGroups lists a pool's groups by name, a page at a time (NextToken).
func (s *Server) listGroups(req *request) (any, *apiError) {
	in, e := decodeList(req)
	if e != nil {
		return nil, e
	}
	if e := required("userPoolId", req.UserPoolID); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	names := make([]string, 0, len(p.groups))
	for name := range p.groups {
		names = append(names, name)
	}
	keys, next, e := s.page(req, in, names)
	if e != nil {
		return nil, e
	}
	out := struct {
		Groups    []groupType
		NextToken *string `json:",omitempty"`
	}{Groups: []groupType{}, NextToken: tokenOrNil(next)}
	for _, k := range keys {
		out.Groups = append(out.Groups, newGroupType(req.UserPoolID, k, p.groups[k]))
	}
	return out, nil
}

// listUserPoolClients lists a pool's app clients by id, a page at a time
// (MaxResults, NextToken).
func (s *Server) listUserPoolClients(req *request) (any, *apiError) {
	in, e := decodeList(req)
	if e != nil {
		return nil, e
	}
	if e := required("userPoolId", req.UserPoolID); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	ids := make([]string, 0, len(p.clients))
	for id := range p.clients {
		ids = append(ids, id)
	}
	keys, next, e := s.page(req, in, ids)
	if e != nil {
		return nil, e
	}
	type description struct{ ClientId, ClientName, UserPoolId string }
	out := struct {
		UserPoolClients []description
		NextToken       *string `json:",omitempty"`
	}{UserPoolClients: []description{}, NextToken: tokenOrNil(next)}
	for _, k := range keys {
		out.UserPoolClients = append(out.UserPoolClients, description{k, p.clients[k].ClientName, req.UserPoolID})
	}
	return out, nil
}

// describeUserPoolClient answers an app client's configuration;
// ResourceNotFoundException for a client the pool does not have.
func (s *Server) describeUserPoolClient(req *request) (any, *apiError) {
	in, e := decodeList(req)
	if e != nil {
		return nil, e
	}
	if e := required("userPoolId", req.UserPoolID, "clientId", in.ClientID); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.pool(req.UserPoolID).clients[in.ClientID]
	if c == nil {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "User pool client " + in.ClientID + " does not exist."}
	}
	type client struct {
		UserPoolId, ClientName, ClientId string
		ClientSecret                     string   `json:",omitempty"`
		ReadAttributes                   []string `json:",omitempty"`
		WriteAttributes                  []string `json:",omitempty"`
	}
	return struct{ UserPoolClient client }{client{req.UserPoolID, c.ClientName, c.ClientID, c.Secret, c.ReadAttributes, c.WriteAttributes}}, nil
}

// schemaAttribute is Cognito's SchemaAttributeType.
type schemaAttribute struct {
	Name                   string
	AttributeDataType      string
	DeveloperOnlyAttribute bool
	Mutable                bool
	Required               bool
}

// standardSchema is the schema every Cognito user pool has.
var standardSchema = []schemaAttribute{
	{"sub", "String", false, false, true},
	{"name", "String", false, true, false},
	{"given_name", "String", false, true, false},
	{"family_name", "String", false, true, false},
	{"middle_name", "String", false, true, false},
	{"nickname", "String", false, true, false},
	{"preferred_username", "String", false, true, false},
	{"profile", "String", false, true, false},
	{"picture", "String", false, true, false},
	{"website", "String", false, true, false},
	{"email", "String", false, true, false},
	{"email_verified", "Boolean", false, true, false},
	{"gender", "String", false, true, false},
	{"birthdate", "String", false, true, false},
	{"zoneinfo", "String", false, true, false},
	{"locale", "String", false, true, false},
	{"phone_number", "String", false, true, false},
	{"phone_number_verified", "Boolean", false, true, false},
	{"address", "String", false, true, false},
	{"updated_at", "Number", false, true, false},
	{"identities", "String", false, true, false},
}

// describeUserPool answers a pool's configuration (see PoolConfig);
// ResourceNotFoundException for a pool ConfigurePool was not called for.
func (s *Server) describeUserPool(req *request) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	if p.config == nil {
		return nil, errPoolNotFound
	}
	type lambdaConfig struct {
		PostConfirmation string `json:",omitempty"`
		PreSignUp        string `json:",omitempty"`
		UserMigration    string `json:",omitempty"`
	}
	type userPool struct {
		Id, Name, Arn          string
		LambdaConfig           *lambdaConfig `json:",omitempty"`
		SchemaAttributes       []schemaAttribute
		EstimatedNumberOfUsers int
	}
	out := userPool{
		Id: req.UserPoolID, Name: p.config.Name,
		Arn:                    "arn:aws:cognito-idp:us-east-1:123456789012:userpool/" + req.UserPoolID,
		SchemaAttributes:       slices.Clone(standardSchema),
		EstimatedNumberOfUsers: len(p.users),
	}
	if c := p.config; !c.NoLambdaConfig {
		out.LambdaConfig = &lambdaConfig{c.PostConfirmation, c.PreSignUp, c.UserMigration}
	}
	for _, name := range p.config.CustomAttributes {
		out.SchemaAttributes = append(out.SchemaAttributes, schemaAttribute{name, "String", false, true, false})
	}
	return struct{ UserPool userPool }{out}, nil
}
