package main

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// This file holds what check-pool says of identities: the identity
// providers the rules name, and what besides Cognito can mark an address
// verified.

// checkProviders reports the names of identityProvider conditions that are
// not identity providers of the pool: no user signs in through them, so
// the condition never holds for them. Names are compared as the rules
// compare them, exactly.
func (r *poolReport) checkProviders(conds []rules.ConditionInfo, providers []*types.IdentityProviderType) {
	var have []string
	for _, p := range providers {
		have = append(have, aws.ToString(p.ProviderName))
	}
	poolHas := "none"
	if len(have) > 0 {
		poolHas = strings.Join(have, ", ")
	}
	var named []string
	bad := 0
	for _, c := range conds {
		if c.Form != "identityProvider" {
			continue
		}
		for _, name := range c.Values {
			if slices.Contains(have, name) {
				if !slices.Contains(named, name) {
					named = append(named, name)
				}
				continue
			}
			bad++
			r.errorf("rule %s (%s): identityProvider %q is not an identity provider of the pool: no user signs in through it, so the condition never holds for it (names are case-sensitive; the pool has: %s)", c.Rule, at(c), name, poolHas)
		}
	}
	if bad == 0 && len(named) > 0 {
		r.okf("the identity providers the rules name are the pool's: %s", strings.Join(named, ", "))
	}
}

// trustsVerified reports whether a condition trusts email_verified: it
// reads it, or holds only for a user whose address is verified.
func trustsVerified(c rules.ConditionInfo) bool {
	return c.VerifiedGuard || c.Attribute == "email_verified"
}

// checkVerifiedSources warns, when the rules trust email_verified, about
// what sets it besides Cognito's own verification: a PreSignUp trigger
// (autoVerifyEmail), a UserMigration trigger (it writes the migrated
// user's attributes), and identity providers whose attribute mapping
// writes it (when providersRead).
func (r *poolReport) checkVerifiedSources(infos []rules.RuleInfo, conds []rules.ConditionInfo, lc *types.LambdaConfigType, providers []*types.IdentityProviderType, providersRead bool) {
	var trusting []rules.RuleInfo // the rules that trust email_verified
	for _, c := range conds {
		if trustsVerified(c) &&
			!slices.ContainsFunc(trusting, func(i rules.RuleInfo) bool { return i.Name == c.Rule }) {
			trusting = append(trusting, ruleNamed(infos, c.Rule))
		}
	}
	if len(trusting) == 0 {
		return
	}
	verb := "trust"
	if len(trusting) == 1 {
		verb = "trusts"
	}
	who := ruleList(trusting) + " " + verb + " email_verified"
	sources := 0
	if arn := aws.ToString(lc.PreSignUp); arn != "" {
		sources++
		r.warnf("the pool has a PreSignUp trigger (%s), which can set autoVerifyEmail and so mark an address verified that nobody confirmed, and %s (%s): make sure it auto-verifies only addresses it has checked itself",
			arn, who, groupsOf(trusting))
	}
	if arn := aws.ToString(lc.UserMigration); arn != "" {
		sources++
		r.warnf("the pool has a UserMigration trigger (%s), which sets the attributes of the users it migrates, email_verified among them, and %s (%s): make sure it marks verified only the addresses the old system verified",
			arn, who, groupsOf(trusting))
	}
	for _, p := range providers {
		from, ok := p.AttributeMapping["email_verified"]
		if !ok {
			continue
		}
		sources++
		r.warnf("identity provider %s (%s) maps its attribute %q to email_verified, and %s (%s): a user who signs in through it is as verified as the provider says; make sure it verifies addresses and sends that claim only for them, or remove the mapping",
			aws.ToString(p.ProviderName), p.ProviderType, from, who, groupsOf(trusting))
	}
	if sources == 0 && providersRead {
		r.okf("nothing but Cognito's own verification sets email_verified, which %s %s: the pool has no PreSignUp or UserMigration trigger, and no identity provider maps email_verified",
			ruleList(trusting), verb)
	}
}
