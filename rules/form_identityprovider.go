package rules

import (
	"fmt"
	"slices"
)

// identityProviderForm is "identityProvider: NAME" or "identityProvider:
// [NAME, ...]": the user's identities attribute (set by Cognito for
// federated users) has an entry whose providerName is one of them.
var identityProviderForm = form{name: "identityProvider", compile: compileIdentityProvider}

func compileIdentityProvider(p *parser, k formKey) test {
	t := &identityProviderTest{}
	t.names, t.display, _ = p.names(k)
	return t
}

// identityProviderTest is the test of an identityProvider condition.
type identityProviderTest struct {
	defaults
	names   []string
	display string // the names as written
}

// identitiesCache is the providers of the input's identities attribute,
// read at most once per evaluation however many identityProvider
// conditions ask.
type identitiesCache struct {
	done      bool
	st        providersStatus
	providers []string
}

func (t *identityProviderTest) eval(e *evaluator, out *ConditionResult) bool {
	c := &e.identities
	if !c.done {
		c.done = true
		c.providers, c.st = providers(e.in.UserAttributes)
	}
	switch c.st {
	case providersAbsent:
		if out != nil {
			out.Reason = "identities attribute is absent"
		}
		return false
	case providersMalformed:
		if out != nil {
			out.Reason = "identities attribute is not a JSON array of objects"
		}
		return false
	}
	for _, p := range c.providers {
		if slices.Contains(t.names, p) {
			if out != nil {
				out.Reason = fmt.Sprintf("identities has provider %q", p)
			}
			return true
		}
	}
	if out != nil {
		if len(c.providers) == 0 {
			out.Reason = "identities has no provider"
		} else {
			out.Reason = fmt.Sprintf("identities has providers %v, none listed", c.providers)
		}
	}
	return false
}

func (t *identityProviderTest) text() string { return "identityProvider " + t.display }

func (t *identityProviderTest) reads(_ *Ruleset, add func(string)) { add("identities") }

func (t *identityProviderTest) info(ci *ConditionInfo) {
	ci.Attribute = "identities"
	ci.Values = slices.Clone(t.names)
}
