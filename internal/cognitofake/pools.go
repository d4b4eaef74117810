package cognitofake

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"time"
)

// User is a user of a pool, as AdminGetUser, ListUsers and ListUsersInGroup
// return it.
type User struct {
	Username string
	// Attributes are the user's attributes by name. PutUser adds a sub
	// when there is none.
	Attributes map[string]string
	// Status is the UserStatus, such as CONFIRMED (the default when empty),
	// UNCONFIRMED, FORCE_CHANGE_PASSWORD or EXTERNAL_PROVIDER.
	Status string
	// Disabled is the opposite of the Enabled field Cognito returns.
	Disabled bool

	created time.Time
}

// PutUser creates or replaces a user in a pool. A user without a sub
// attribute gets one in UUID form, derived from the pool and the username
// (the same on every run). From then on the pool answers
// UserNotFoundException for usernames it was not given.
func (s *Server) PutUser(poolID string, u User) {
	u.Attributes = maps.Clone(u.Attributes)
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	if _, ok := u.Attributes["sub"]; !ok {
		u.Attributes["sub"] = fakeSub(poolID, u.Username)
	}
	if u.Status == "" {
		u.Status = "CONFIRMED"
	}
	u.created = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pool(poolID).users[u.Username] = &u
}

// fakeSub returns a UUID-shaped sub for a username.
func fakeSub(poolID, username string) string {
	h := sha256.Sum256([]byte(poolID + "\x00" + username))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Sub returns the sub of a user created with CreateUser or PutUser, or "".
func (s *Server) Sub(poolID, username string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.pool(poolID).users[username]; u != nil {
		return u.Attributes["sub"]
	}
	return ""
}

// AddToGroup makes a user a member of a group, creating the group, as if
// AdminAddUserToGroup had been called earlier; no call is recorded.
func (s *Server) AddToGroup(poolID, groupName, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pool(poolID).group(groupName, true).members[username] = true
}

// PoolConfig is what DescribeUserPool answers for a pool, besides its id.
type PoolConfig struct {
	Name string
	// PostConfirmation is the ARN in LambdaConfig.PostConfirmation; empty
	// means the pool has no PostConfirmation trigger.
	PostConfirmation string
	// CustomAttributes are the pool's custom attributes as the schema
	// names them, such as "custom:plan". The standard attributes (email,
	// email_verified, sub, identities, ...) are always in the schema.
	CustomAttributes []string
	// PreSignUp and UserMigration are the ARNs in LambdaConfig.PreSignUp
	// and LambdaConfig.UserMigration; empty means no such trigger.
	PreSignUp, UserMigration string
	// NoLambdaConfig leaves LambdaConfig out of the answer, as for a pool
	// that has no trigger; the trigger ARNs are then not answered.
	NoLambdaConfig bool
	// IdentityProviders are the pool's identity providers, which
	// ListIdentityProviders and DescribeIdentityProvider answer.
	IdentityProviders []IdentityProvider
}

// ConfigurePool sets the configuration DescribeUserPool answers for a pool.
func (s *Server) ConfigurePool(poolID string, c PoolConfig) {
	c.CustomAttributes = slices.Clone(c.CustomAttributes)
	c.IdentityProviders = cloneProviders(c.IdentityProviders)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pool(poolID).config = &c
}

// AppClient is an app client of a pool, as DescribeUserPoolClient answers it.
type AppClient struct {
	ClientID, ClientName string
	// ReadAttributes and WriteAttributes are answered as given; nil leaves
	// them out of the answer, as Cognito does for a client created without
	// them (which may then write every standard attribute).
	ReadAttributes, WriteAttributes []string
	// Secret is the client secret, answered as ClientSecret; empty for a
	// client without one (a public client, as web and mobile apps use).
	Secret string
}

// AddAppClient creates or replaces an app client of a pool.
func (s *Server) AddAppClient(poolID string, c AppClient) {
	c.ReadAttributes = slices.Clone(c.ReadAttributes)
	c.WriteAttributes = slices.Clone(c.WriteAttributes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pool(poolID).clients[c.ClientID] = &c
}

// SetPageSize makes the list operations answer at most n items per page,
// fewer than a request's Limit (or MaxResults) when n is smaller; n <= 0
// restores Cognito's maximum, 60.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}
