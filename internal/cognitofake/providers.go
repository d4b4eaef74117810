package cognitofake

import (
	"encoding/json"
	"maps"
	"net/http"
	"time"
)

// This file holds the identity providers of a pool (PoolConfig's
// IdentityProviders) and the operations that answer them:
// ListIdentityProviders and DescribeIdentityProvider.

// IdentityProvider is an identity provider of a pool, as
// DescribeIdentityProvider answers it.
type IdentityProvider struct {
	// Name is the ProviderName, which the identities attribute of the
	// users who sign in through the provider carries.
	Name string
	// Type is the ProviderType: SAML, OIDC, Google, Facebook,
	// LoginWithAmazon or SignInWithApple.
	Type string
	// AttributeMapping maps user pool attributes to the provider's
	// attributes, such as {"email": "email", "email_verified":
	// "email_verified"}; nil leaves it out of the answer.
	AttributeMapping map[string]string
}

func cloneProviders(ps []IdentityProvider) []IdentityProvider {
	if ps == nil {
		return nil
	}
	out := make([]IdentityProvider, len(ps))
	for i, p := range ps {
		p.AttributeMapping = maps.Clone(p.AttributeMapping)
		out[i] = p
	}
	return out
}

// configured returns the configuration of the pool of req, or the answer
// of a pool that ConfigurePool was not called for. s.mu must be held.
func (s *Server) configured(req *request) (*PoolConfig, *apiError) {
	if e := required("userPoolId", req.UserPoolID); e != nil {
		return nil, e
	}
	c := s.pool(req.UserPoolID).config
	if c == nil {
		return nil, errPoolNotFound
	}
	return c, nil
}

// providerTime is when every provider was created and last modified.
var providerTime = float64(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Unix())

// listIdentityProviders lists a pool's identity providers by name, a page
// at a time (MaxResults, NextToken).
func (s *Server) listIdentityProviders(req *request) (any, *apiError) {
	in, e := decodeList(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.configured(req)
	if e != nil {
		return nil, e
	}
	byName := make(map[string]*IdentityProvider, len(c.IdentityProviders))
	names := make([]string, 0, len(c.IdentityProviders))
	for i := range c.IdentityProviders {
		p := &c.IdentityProviders[i]
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	keys, next, e := s.page(req, in, names)
	if e != nil {
		return nil, e
	}
	type description struct {
		ProviderName, ProviderType     string
		CreationDate, LastModifiedDate float64
	}
	out := struct {
		Providers []description
		NextToken *string `json:",omitempty"`
	}{Providers: []description{}, NextToken: tokenOrNil(next)}
	for _, k := range keys {
		out.Providers = append(out.Providers, description{k, byName[k].Type, providerTime, providerTime})
	}
	return out, nil
}

// describeIdentityProvider answers one identity provider;
// ResourceNotFoundException for a name the pool does not have.
func (s *Server) describeIdentityProvider(req *request) (any, *apiError) {
	var in struct{ ProviderName string }
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, errInvalidParameter(err.Error())
	}
	if e := required("providerName", in.ProviderName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.configured(req)
	if e != nil {
		return nil, e
	}
	for _, p := range c.IdentityProviders {
		if p.Name != in.ProviderName {
			continue
		}
		type provider struct {
			UserPoolId, ProviderName, ProviderType string
			ProviderDetails                        map[string]string
			AttributeMapping                       map[string]string `json:",omitempty"`
			CreationDate, LastModifiedDate         float64
		}
		return struct{ IdentityProvider provider }{provider{
			req.UserPoolID, p.Name, p.Type, map[string]string{}, p.AttributeMapping, providerTime, providerTime,
		}}, nil
	}
	return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "Identity provider " + in.ProviderName + " does not exist."}
}
