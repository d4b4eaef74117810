package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Response returns payload, the bytes e was decoded from, with the response's
// groupOverrideDetails set (response.claimsOverrideDetails for version 1,
// response.claimsAndScopeOverrideDetails for versions 2 and 3) and every
// other byte of payload kept as it was, the claims a team's own code may
// have put in the response included.
//
// groupOverrideDetails starts as a copy of the bytes of
// request.groupConfiguration: the groups, roles and preferred role exactly
// as Cognito sent them (AWS: an empty or null groupOverrideDetails
// suppresses every group). When groups is not nil, its groupsToOverride is
// groups instead (an empty, non-nil groups means none). An
// iamRolesToOverride or preferredRole that the response's
// groupOverrideDetails already sets to something other than null is kept.
// When the request has no groupConfiguration and groups is nil, payload is
// returned as it is. payload must be the bytes e was decoded from.
func (e *TokenEvent) Response(payload []byte, groups []string) ([]byte, error) {
	detailsKey := "claimsOverrideDetails"
	if e.V2() {
		detailsKey = "claimsAndScopeOverrideDetails"
	}
	request, err := member(payload, "request")
	if err != nil {
		return nil, err
	}
	god, err := member(request, "groupConfiguration")
	if err != nil {
		return nil, err
	}
	if isNull(god) {
		god = nil
	}
	if groups != nil {
		list, err := json.Marshal(groups)
		if err != nil {
			return nil, err
		}
		if god, err = setMember(god, "groupsToOverride", list); err != nil {
			return nil, err
		}
	}
	if god == nil {
		return payload, nil
	}
	resp, err := member(payload, "response")
	if err != nil {
		return nil, err
	}
	details, err := member(resp, detailsKey)
	if err != nil {
		return nil, err
	}
	existing, err := member(details, "groupOverrideDetails")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"iamRolesToOverride", "preferredRole"} {
		if v, err := member(existing, k); err == nil && v != nil && !isNull(v) {
			if god, err = setMember(god, k, v); err != nil {
				return nil, err
			}
		}
	}
	if details, err = setMember(details, "groupOverrideDetails", god); err != nil {
		return nil, err
	}
	if resp, err = setMember(resp, detailsKey, details); err != nil {
		return nil, err
	}
	return setMember(payload, "response", resp)
}

var errNotValidJSON = errors.New("response: the event is not valid JSON")

// isNull reports whether v is the JSON null.
func isNull(v []byte) bool { return string(trimJSONSpace(v)) == "null" }

// isObject reports whether v is a JSON object.
func isObject(v []byte) bool {
	v = trimJSONSpace(v)
	return len(v) > 0 && v[0] == '{'
}

// members calls each with the key and the offsets of the value of every
// member of obj, a JSON object, in order.
func members(obj []byte, each func(key string, start, end int)) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errNotValidJSON
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return errNotValidJSON
		}
		start := int(dec.InputOffset())
		rest := obj[start:]
		start += len(rest) - len(bytes.TrimLeft(rest, " \t\r\n:"))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errNotValidJSON
		}
		each(key, start, int(dec.InputOffset()))
	}
	return nil
}

// member returns the bytes of the value of key in obj (the last one, as
// encoding/json reads it), or nil when obj is not an object or has no such
// member.
func member(obj []byte, key string) ([]byte, error) {
	if !isObject(obj) {
		return nil, nil
	}
	var v []byte
	err := members(obj, func(k string, start, end int) {
		if k == key {
			v = obj[start:end]
		}
	})
	return v, err
}

// setMember returns obj with the value of its member key replaced by val, or
// with the member added at its end when it has none; an obj that is not an
// object (absent, null) becomes {"key":val}. The other bytes of obj are kept.
func setMember(obj []byte, key string, val []byte) ([]byte, error) {
	k, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	if !isObject(obj) {
		out := make([]byte, 0, len(k)+len(val)+3)
		out = append(append(append(append(out, '{'), k...), ':'), val...)
		return append(out, '}'), nil
	}
	start, end, n := -1, -1, 0
	if err := members(obj, func(name string, s, e int) {
		n++
		if name == key {
			start, end = s, e
		}
	}); err != nil {
		return nil, err
	}
	var out []byte
	if start >= 0 {
		out = make([]byte, 0, len(obj)-(end-start)+len(val))
		out = append(append(append(out, obj[:start]...), val...), obj[end:]...)
		return out, nil
	}
	closing := bytes.LastIndexByte(obj, '}')
	out = make([]byte, 0, len(obj)+len(k)+len(val)+2)
	out = append(out, obj[:closing]...)
	if n > 0 {
		out = append(out, ',')
	}
	out = append(append(append(out, k...), ':'), val...)
	return append(out, obj[closing:]...), nil
}
