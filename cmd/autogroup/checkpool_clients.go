package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// This file holds what check-pool says of the app clients: the attributes
// they can write, and the clients the rules' clientId conditions name.

// clientLabel names an app client: "web (3n4b5urk...)".
func clientLabel(c *types.UserPoolClientType) string {
	return fmt.Sprintf("%s (%s)", aws.ToString(c.ClientName), aws.ToString(c.ClientId))
}

// unverifiedEmail returns the conditions that read email and can grant a
// group to a user whose address nobody verified: those not guarded by a
// verified address, but for exclusions (under not), which a changed
// address cannot turn into a grant.
func unverifiedEmail(conds []rules.ConditionInfo) []rules.ConditionInfo {
	var out []rules.ConditionInfo
	for _, c := range conds {
		if c.Attribute == "email" && !c.VerifiedGuard && !c.Negated {
			out = append(out, c)
		}
	}
	return out
}

// checkClients reports the attributes the rules read that app clients can
// write. Attributes not in the schema were reported already: no client
// writes them. email is judged condition by condition: it is safe to write
// when every condition that could grant a group on it requires a verified
// address, since Cognito marks a changed address unverified.
func (r *poolReport) checkClients(infos []rules.RuleInfo, conds []rules.ConditionInfo, attrs []string, schema map[string]bool, readBy map[string][]rules.RuleInfo, clients []*types.UserPoolClientType) {
	if slices.Contains(attrs, "email_verified") {
		r.okf("email_verified cannot be written by app clients")
	}
	unverified := unverifiedEmail(conds)
	var emailRules []rules.RuleInfo // the rules of the conditions in unverified
	var where []string
	for _, c := range unverified {
		where = append(where, fmt.Sprintf("%d:%d", c.Line, c.Column))
		if !slices.ContainsFunc(emailRules, func(i rules.RuleInfo) bool { return i.Name == c.Rule }) {
			emailRules = append(emailRules, ruleNamed(infos, c.Rule))
		}
	}
	var checked []string // attributes a client might write
	for _, a := range attrs {
		if (schema[a] || slices.Contains(alwaysPresent, a)) && !slices.Contains(notClientWritable, a) && !strings.HasPrefix(a, "cognito:") {
			checked = append(checked, a)
		}
	}
	if len(clients) == 0 {
		r.okf("the pool has no app client: no user can write an attribute")
		return
	}
	var emailWriters []string
	risky := 0
	for _, client := range clients {
		name := clientLabel(client)
		label := "app client " + name
		all := len(client.WriteAttributes) == 0
		for _, a := range checked {
			if !all && !slices.Contains(client.WriteAttributes, a) {
				continue
			}
			if a == "email" && len(unverified) == 0 {
				emailWriters = append(emailWriters, name)
				continue
			}
			risky++
			how := "can write " + a
			if all {
				how = "sets no WriteAttributes, so it may write " + a + " (AWS documents that such a client writes every standard attribute; custom ones are assumed writable too)"
			}
			readers, why := readBy[a], "reads it"
			if a == "email" {
				readers = emailRules
				why = "reads it without requiring a verified address (at " + strings.Join(where, ", ") + ")"
			}
			fix := "leave it out of the client's WriteAttributes"
			if all {
				fix = "give the client a WriteAttributes list without it"
			}
			r.warnf("%s %s, and %s %s: a user could set it and get %s; %s",
				label, how, ruleList(readers), why, groupsOf(readers), fix)
		}
	}
	if len(emailWriters) > 0 {
		who := "app client " + emailWriters[0]
		if n := len(emailWriters); n > 1 {
			who = "app clients " + strings.Join(emailWriters[:n-1], ", ") + " and " + emailWriters[n-1]
		}
		r.okf("%s can write email, which no condition of the rules trusts unless the address is verified (emailDomain with requireVerifiedEmail: true, or an all with email_verified equals \"true\"): a changed address is unverified until its owner confirms it", who)
		checked = slices.DeleteFunc(checked, func(a string) bool { return a == "email" })
	}
	if risky == 0 && len(checked) > 0 {
		r.okf("no app client can write the attributes the rules read: %s", strings.Join(checked, ", "))
	}
}

// checkClientIDs judges each clientId condition by the clients it names:
// an id that is no app client of the pool is an error (the condition never
// holds for it); a client without a secret is known by its id alone, which
// is public, so whoever signs up chooses the condition (a warning); a
// client with a secret is fine. It returns the positions of the conditions
// it judged, whose generic warning (rules.WarnClientID) it replaces. A
// condition under not is an exclusion that any sign-up escapes through
// another client, whatever the secrets: its generic warning stands.
func (r *poolReport) checkClientIDs(infos []rules.RuleInfo, conds []rules.ConditionInfo, clients []*types.UserPoolClientType) map[position]bool {
	byID := make(map[string]*types.UserPoolClientType, len(clients))
	for _, c := range clients {
		byID[aws.ToString(c.ClientId)] = c
	}
	judged := map[position]bool{}
	for _, c := range conds {
		if c.Form != "clientId" {
			continue
		}
		rule := ruleNamed(infos, c.Rule)
		var public, secret []string
		for _, id := range c.Values {
			client := byID[id]
			switch {
			case client == nil:
				r.errorf("rule %s (%s): clientId %q is not an app client of the pool: no sign-up comes through it, so the condition never holds for it; correct the id (ListUserPoolClients lists them)", c.Rule, at(c), id)
			case aws.ToString(client.ClientSecret) == "":
				public = append(public, clientLabel(client))
			default:
				secret = append(secret, clientLabel(client))
			}
		}
		if c.Negated {
			continue // an exclusion any sign-up escapes through another client: the generic warning stands
		}
		judged[position{c.Line, c.Column}] = true
		switch {
		case len(public) > 0:
			r.warnf("rule %s (%s): clientId names %s, which %s no secret: a client without a secret is known by its id alone, which is public (it ships in every app that uses it), so anyone can sign up through it and get %s; grant privileges only on clients with a secret, or on what Cognito verifies",
				c.Rule, at(c), listAnd("app client", "app clients", public), hasHave(len(public)), groupsOf([]rules.RuleInfo{rule}))
		case len(secret) > 0:
			r.okf("rule %s (%s): clientId names only app clients with a secret (%s): a sign-up through them needs the secret, which only their owner's servers hold", c.Rule, at(c), strings.Join(secret, ", "))
		}
	}
	return judged
}

// ruleNamed returns the rule of infos named name.
func ruleNamed(infos []rules.RuleInfo, name string) rules.RuleInfo {
	for _, i := range infos {
		if i.Name == name {
			return i
		}
	}
	return rules.RuleInfo{Name: name}
}

// listAnd names things: "app client a", "app clients a and b",
// "app clients a, b and c".
func listAnd(one, many string, names []string) string {
	if n := len(names); n > 1 {
		return many + " " + strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return one + " " + names[0]
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
