package trigger

import (
	"encoding/json"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// The outcomes of the additions to the format: excluded, for both
// functions, and those only the token function's decisions end with.
const (
	// OutcomeHealed: groups were missing (or, with reconcile.remove, held
	// but no longer selected) and every change was made in the pool; the
	// token carries the groups as they now are.
	OutcomeHealed Outcome = "healed"
	// OutcomeExcluded: the ruleset's exclude condition held; nothing was
	// added or removed (and a token's groups are as sent).
	OutcomeExcluded Outcome = "excluded"
	// OutcomeFailedKept: a read, an add or a removal failed; the token
	// carries the groups as they were plus only what was done.
	OutcomeFailedKept Outcome = "failed_kept"
	// OutcomeQueued: groups that could not be added were put on the retry
	// queue, which will add them; the token carries them.
	OutcomeQueued Outcome = "queued"
)

// TokenEvent is what a PreTokenGeneration event (versions 1, 2 and 3) says,
// as decoded by DecodePreTokenGeneration.
type TokenEvent struct {
	Event
	// Version is the event's version: "1", "2" or "3" from Cognito ("0"
	// from some emulators); "" when absent.
	Version string
	// HasGroups is false when request.groupConfiguration or its
	// groupsToOverride is absent or null: Cognito always sends them (an
	// empty list for a user without groups), emulators may not. Groups is
	// then nil, which means none.
	HasGroups bool
	// Groups, IAMRoles and PreferredRole are request.groupConfiguration's
	// groupsToOverride, iamRolesToOverride and preferredRole: the user's
	// groups, roles and preferred role now. Nil (or "") when absent or null.
	Groups        []string
	IAMRoles      []string
	PreferredRole string
}

// Input returns what the rules are evaluated on, with the user's current
// groups.
func (e *TokenEvent) Input() rules.Input {
	in := e.Event.Input()
	in.Groups = e.Groups
	return in
}

// V2 reports whether the event has the shape of versions 2 and 3, whose
// response is claimsAndScopeOverrideDetails; every other version is answered
// in the shape of version 1 (claimsOverrideDetails).
func (e *TokenEvent) V2() bool { return e.Version == "2" || e.Version == "3" }

// tokenWire is the part of a PreTokenGeneration event that
// DecodePreTokenGeneration reads; tokenShape describes it.
type tokenWire struct {
	eventWire
	Version json.RawMessage `json:"version"`
	Request struct {
		requestWire
		GroupConfiguration *struct {
			GroupsToOverride   []string `json:"groupsToOverride"`
			IAMRolesToOverride []string `json:"iamRolesToOverride"`
			PreferredRole      *string  `json:"preferredRole"`
		} `json:"groupConfiguration"`
	} `json:"request"`
}

// tokenShape describes tokenWire for diagnose. version is not checked: it
// is read whatever its type (Cognito sends a string).
func tokenShape() shape {
	return eventShape(field{"groupConfiguration", shape{kind: objectKind, fields: []field{
		{"groupsToOverride", shape{kind: stringListKind}},
		{"iamRolesToOverride", shape{kind: stringListKind}},
		{"preferredRole", shape{kind: stringKind}},
	}}})
}

// DecodePreTokenGeneration decodes a PreTokenGeneration event of version 1,
// 2 or 3 as Cognito sends it (and as in events/), with the diagnosis of
// DecodePostConfirmation: a value of a field it reads that has the wrong
// JSON type is an error, and so is a missing triggerSource; fields it does
// not read (scopes, response, ...) are not checked. Every error is an
// *EventError. The pool and user are not required here (a machine token's
// event has no user): see Event.RequireTarget.
func DecodePreTokenGeneration(payload []byte) (*TokenEvent, error) {
	d := new(struct {
		ev TokenEvent
		w  tokenWire
	})
	w := &d.w
	if err := decode(payload, w, "PreTokenGeneration", tokenShape); err != nil {
		return nil, err
	}
	var err error
	if d.ev.Event, err = w.event(&w.Request.requestWire); err != nil {
		return nil, err
	}
	d.ev.Version = versionString(w.Version)
	if gc := w.Request.GroupConfiguration; gc != nil {
		d.ev.HasGroups = gc.GroupsToOverride != nil
		d.ev.Groups, d.ev.IAMRoles = gc.GroupsToOverride, gc.IAMRolesToOverride
		if gc.PreferredRole != nil {
			d.ev.PreferredRole = *gc.PreferredRole
		}
	}
	return &d.ev, nil
}

// versionString returns a version sent as a string or a number as text.
func versionString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
