package postconfirm

import (
	"context"
	"log/slog"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// versioned is a Rules that labels its ruleset, as an AppConfig holder does.
type versioned struct{ rs *rules.Ruleset }

func (v versioned) Ruleset(context.Context) *rules.Ruleset { return v.rs }
func (v versioned) RulesetVersion(context.Context) (*rules.Ruleset, string) {
	return v.rs, "7"
}

// TestRecordCarriesRulesVersion: the decision record names the version of
// the ruleset that decided, when the Rules give one.
func TestRecordCarriesRulesVersion(t *testing.T) {
	rs, err := rules.Parse([]byte("version: 1\ndefaultGroups: [a]\n"))
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeCognito{errFor: map[string]error{}}
	h := New(versioned{rs}, membership.NewAdder(fake, membership.Options{}), nil, slog.New(slog.DiscardHandler))
	rec, _, err := h.Handle(t.Context(), []byte(signUp))
	if err != nil || rec.RulesVersion != "7" {
		t.Errorf("Handle = record version %q, %v; want version 7", rec.RulesVersion, err)
	}
	h = New(&rulesSequence{sets: []*rules.Ruleset{rs}}, membership.NewAdder(fake, membership.Options{}), nil, slog.New(slog.DiscardHandler))
	if rec, _, err := h.Handle(t.Context(), []byte(signUp)); err != nil || rec.RulesVersion != "" {
		t.Errorf("unversioned Rules: record version %q, %v; want none", rec.RulesVersion, err)
	}
}
