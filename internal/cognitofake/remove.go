package cognitofake

import (
	"encoding/json"
	"regexp"
	"strconv"
)

// This file holds AdminRemoveUserFromGroup and the Filter of ListUsers,
// which backfill's reconcile and --user need.

func init() {
	operations["AdminRemoveUserFromGroup"] = (*Server).adminRemoveUserFromGroup
}

// adminRemoveUserFromGroup removes a user from a group. As Cognito does, it
// answers success when the user is not a member.
func (s *Server) adminRemoveUserFromGroup(req *request) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID, "username", req.Username, "groupName", req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	g := p.group(req.GroupName, false)
	if g == nil {
		return nil, errGroupNotFound
	}
	if !p.userExists(req.Username) {
		return nil, errUserNotFound
	}
	delete(g.members, req.Username)
	return struct{}{}, nil
}

// filterExpr is the exact-match form of ListUsers' Filter, `name = "value"`.
var filterExpr = regexp.MustCompile(`^\s*([\w:]+)\s*=\s*("(?:[^"\\]|\\.)*")\s*$`)

// filterUsers returns the keys of the users that match the request's
// Filter; all keys without one. Only the exact-match form is supported
// (the prefix form ^= answers InvalidParameterException).
func filterUsers(req *request, p *pool, keys []string) ([]string, *apiError) {
	var in struct{ Filter string }
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, errInvalidParameter(err.Error())
	}
	if in.Filter == "" {
		return keys, nil
	}
	m := filterExpr.FindStringSubmatch(in.Filter)
	if m == nil {
		return nil, errInvalidParameter("cognitofake supports only Filter `name = \"value\"`")
	}
	want, err := strconv.Unquote(m[2])
	if err != nil {
		return nil, errInvalidParameter(err.Error())
	}
	name := m[1]
	if name == "username" || name == "status" {
		name = map[string]string{"username": "", "status": "cognito:user_status"}[name]
	}
	var out []string
	for _, k := range keys {
		u := p.users[k]
		v := u.Attributes[name]
		switch name {
		case "":
			v = u.Username
		case "cognito:user_status":
			v = u.Status
		}
		if v == want {
			out = append(out, k)
		}
	}
	return out, nil
}
