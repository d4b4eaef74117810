package cognitofake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// operations maps an operation name (the part of X-Amz-Target after
// "AWSCognitoIdentityProviderService.") to its implementation. To add one,
// write a method that decodes req.body into its input, takes s.mu, and
// returns its output (encoded as JSON) or an error answer.
var operations = map[string]func(*Server, *request) (any, *apiError){
	"AdminAddUserToGroup":      (*Server).adminAddUserToGroup,
	"AdminGetUser":             (*Server).adminGetUser,
	"AdminListGroupsForUser":   (*Server).adminListGroupsForUser,
	"AdminRemoveUserFromGroup": (*Server).adminRemoveUserFromGroup,
	"CreateGroup":              (*Server).createGroup,
	"DescribeUserPool":         (*Server).describeUserPool,
	"DescribeUserPoolClient":   (*Server).describeUserPoolClient,
	"GetGroup":                 (*Server).getGroup,
	"ListGroups":               (*Server).listGroups,
	"ListUserPoolClients":      (*Server).listUserPoolClients,
	"ListUsers":                (*Server).listUsers,
	"ListUsersInGroup":         (*Server).listUsersInGroup,
	"UpdateUserPool":           (*Server).updateUserPool,

	// The identity providers of a pool (providers.go).
	"DescribeIdentityProvider": (*Server).describeIdentityProvider,
	"ListIdentityProviders":    (*Server).listIdentityProviders,
}

// Error answers the operations share.
func errInvalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", msg}
}

var (
	errGroupNotFound = &apiError{http.StatusBadRequest, "ResourceNotFoundException", "Group not found."}
	errUserNotFound  = &apiError{http.StatusBadRequest, "UserNotFoundException", "User does not exist."}
	errGroupExists   = &apiError{http.StatusBadRequest, "GroupExistsException", "A group with the name already exists."}
)

// required checks that the named fields are not empty.
func required(fields ...string) *apiError {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return errInvalidParameter("1 validation error detected: Value at '" + fields[i] + "' failed to satisfy constraint: Member must not be null")
		}
	}
	return nil
}

// adminAddUserToGroup adds a user to a group. Adding a member again
// succeeds, as Cognito's emulators do.
func (s *Server) adminAddUserToGroup(req *request) (any, *apiError) {
	return s.setMember(req, true)
}

// adminRemoveUserFromGroup removes a user from a group. Removing a user who
// is not a member succeeds.
func (s *Server) adminRemoveUserFromGroup(req *request) (any, *apiError) {
	return s.setMember(req, false)
}

// setMember makes the user of req a member of its group, or not, after
// the checks both calls make.
func (s *Server) setMember(req *request, member bool) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID, "username", req.Username, "groupName", req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	g := p.group(req.GroupName, s.anyGroup)
	if g == nil {
		return nil, errGroupNotFound
	}
	if !p.userExists(req.Username) {
		return nil, errUserNotFound
	}
	if member {
		g.members[req.Username] = true
	} else {
		delete(g.members, req.Username)
	}
	return struct{}{}, nil
}

// groupType is Cognito's GroupType, as AdminListGroupsForUser and
// CreateGroup return it.
type groupType struct {
	GroupName        string
	UserPoolId       string
	Description      string  `json:",omitempty"`
	Precedence       *int32  `json:",omitempty"`
	RoleArn          string  `json:",omitempty"`
	CreationDate     float64 // seconds since the epoch
	LastModifiedDate float64
}

func newGroupType(poolID, name string, g *group) groupType {
	t := float64(g.created.UnixNano()) / float64(time.Second)
	return groupType{
		GroupName: name, UserPoolId: poolID,
		Description: g.description, Precedence: g.precedence, RoleArn: g.roleArn,
		CreationDate: t, LastModifiedDate: t,
	}
}

// adminListGroupsForUser lists a user's groups, sorted by name, in one page.
func (s *Server) adminListGroupsForUser(req *request) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID, "username", req.Username); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	if !p.userExists(req.Username) {
		return nil, errUserNotFound
	}
	out := struct{ Groups []groupType }{Groups: []groupType{}}
	for name, g := range p.groups {
		if g.members[req.Username] {
			out.Groups = append(out.Groups, newGroupType(req.UserPoolID, name, g))
		}
	}
	slices.SortFunc(out.Groups, func(a, b groupType) int { return cmp.Compare(a.GroupName, b.GroupName) })
	return out, nil
}

// createGroup creates a group; GroupExistsException if it exists.
func (s *Server) createGroup(req *request) (any, *apiError) {
	var in struct {
		Description string
		Precedence  *int32
		RoleArn     string
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, errInvalidParameter(err.Error())
	}
	if e := required("userPoolId", req.UserPoolID, "groupName", req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	if p.group(req.GroupName, false) != nil {
		return nil, errGroupExists
	}
	g := p.group(req.GroupName, true)
	g.description, g.precedence, g.roleArn = in.Description, in.Precedence, in.RoleArn
	return struct{ Group groupType }{newGroupType(req.UserPoolID, req.GroupName, g)}, nil
}

// getGroup answers a group; ResourceNotFoundException if it does not
// exist (with AllowAnyGroup, every group exists).
func (s *Server) getGroup(req *request) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID, "groupName", req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pool(req.UserPoolID).group(req.GroupName, s.anyGroup)
	if g == nil {
		return nil, errGroupNotFound
	}
	return struct{ Group groupType }{newGroupType(req.UserPoolID, req.GroupName, g)}, nil
}

// adminGetUser answers a user's attributes, status and Enabled flag. Only
// users created with CreateUser or PutUser exist for it: a pool without users
// accepts any username in AdminAddUserToGroup, but has no attributes to
// answer for one.
func (s *Server) adminGetUser(req *request) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID, "username", req.Username); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.pool(req.UserPoolID).users[req.Username]
	if u == nil {
		return nil, errUserNotFound
	}
	t := newUserType(u)
	return struct {
		Username             string
		UserAttributes       []attributeType
		UserCreateDate       float64
		UserLastModifiedDate float64
		Enabled              bool
		UserStatus           string
	}{t.Username, t.Attributes, t.UserCreateDate, t.UserLastModifiedDate, t.Enabled, t.UserStatus}, nil
}
