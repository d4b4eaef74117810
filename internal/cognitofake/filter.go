package cognitofake

import (
	"encoding/json"
	"regexp"
	"strconv"
)

// This file holds the Filter of ListUsers (its exact-match form), which
// backfill --user and explain --pool need.

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
