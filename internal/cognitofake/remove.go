package cognitofake

// adminRemoveUserFromGroup removes a user from a group. Removing a user who
// is not a member succeeds.
func (s *Server) adminRemoveUserFromGroup(req *request) (any, *apiError) {
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
	delete(g.members, req.Username)
	return struct{}{}, nil
}
