package cognitofake

import (
	"encoding/json"
	"maps"
	"slices"
)

// SetPoolSettings sets members of the UserPool that DescribeUserPool answers
// for a pool, beside those its PoolConfig gives (Id, Name, Arn,
// LambdaConfig, SchemaAttributes, EstimatedNumberOfUsers): Policies,
// MfaConfiguration, EmailConfiguration, UserPoolTags and so on, by their
// JSON names. A member set here replaces the PoolConfig's, LambdaConfig
// among them. The pool gets an empty PoolConfig if it had none.
func (s *Server) SetPoolSettings(poolID string, settings map[string]any) {
	raw := make(map[string]json.RawMessage, len(settings))
	for k, v := range settings {
		b, err := json.Marshal(v)
		if err != nil {
			panic("cognitofake: SetPoolSettings: " + err.Error())
		}
		raw[k] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(poolID)
	if p.config == nil {
		p.config = &PoolConfig{}
	}
	p.settings = raw
}

// PoolUpdates returns the body of each UpdateUserPool call made for a pool,
// in order, as sent: the whole input.
func (s *Server) PoolUpdates(poolID string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pool(poolID).updates)
}

// updateUserPool replaces the pool's configuration with the input, as
// Cognito does: a member the input leaves out is reset, so DescribeUserPool
// no longer answers it (LambdaConfig included). PoolName is answered as
// Name. The pool must have a configuration (ConfigurePool).
func (s *Server) updateUserPool(req *request) (any, *apiError) {
	if e := required("userPoolId", req.UserPoolID); e != nil {
		return nil, e
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, errInvalidParameter(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(req.UserPoolID)
	if p.config == nil {
		return nil, errPoolNotFound
	}
	p.updates = append(p.updates, slices.Clone(req.body))
	settings := maps.Clone(in)
	delete(settings, "UserPoolId")
	if name, ok := settings["PoolName"]; ok {
		delete(settings, "PoolName")
		settings["Name"] = name
	}
	p.settings = settings
	p.config.NoLambdaConfig = true // LambdaConfig, if given, is in settings
	return struct{}{}, nil
}

// overlaySettings returns the DescribeUserPool answer out with the pool's
// settings in place of its members.
func overlaySettings(out any, settings map[string]json.RawMessage) (any, *apiError) {
	if len(settings) == 0 {
		return out, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, &apiError{500, "InternalErrorException", err.Error()}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &apiError{500, "InternalErrorException", err.Error()}
	}
	maps.Copy(m, settings)
	return m, nil
}
