// Package trigger adapts Amazon Cognito user pool trigger events: it decodes
// the raw bytes of each event kind it serves, maps them to rules.Input, and
// carries the decision record a function logs for each invocation, with its
// typed outcome.
//
// Every function and `autogroup explain` use the same decoders, so that a
// sample event is judged as the function judges it. A decoder's fast path is
// one json.Unmarshal; only an event that fails it is walked again to report
// every problem with its line and column (see EventError). Decoding is not
// strict about fields it does not read: Cognito may add fields, and the
// functions return the bytes they were given rather than re-encoding them.
//
// Nothing here talks to AWS, and nothing is built at package initialisation.
package trigger

import "github.com/cognito-autogroup/cognito-autogroup/rules"

// Event is what every Cognito user pool trigger event says about the user
// and the request, as decoded by DecodePostConfirmation.
type Event struct {
	// TriggerSource is never empty in a decoded event.
	TriggerSource string
	UserPoolID    string
	UserName      string
	// ClientID is callerContext.clientId, "" when it is null or absent (as
	// after AdminConfirmSignUp in some emulators).
	ClientID string
	// UserAttributes and ClientMetadata are request.userAttributes and
	// request.clientMetadata; nil when absent. Cognito sends every value as
	// a string.
	UserAttributes map[string]string
	ClientMetadata map[string]string
}

// Input returns what the rules are evaluated on.
func (e *Event) Input() rules.Input {
	return rules.Input{
		TriggerSource:  e.TriggerSource,
		ClientID:       e.ClientID,
		UserAttributes: e.UserAttributes,
		ClientMetadata: e.ClientMetadata,
	}
}

// Sub returns the user's sub attribute: an opaque id, fit for logs where the
// user name is not (in some pools it is an email address).
func (e *Event) Sub() string { return e.UserAttributes["sub"] }

// RequireTarget checks the fields that adding the user to a group needs
// (AdminAddUserToGroup's pool id and user name). The error is an
// *EventError.
func (e *Event) RequireTarget() error {
	switch {
	case e.UserPoolID == "":
		return eventProblem("missing userPoolId")
	case e.UserName == "":
		return eventProblem("missing userName")
	}
	return nil
}

// eventWire is the part of a trigger event every decoder reads; requestWire
// the part of its request. postConfirmationWire and tokenWire embed them.
type eventWire struct {
	TriggerSource *string `json:"triggerSource"`
	UserPoolID    string  `json:"userPoolId"`
	UserName      string  `json:"userName"`
	CallerContext struct {
		ClientID *string `json:"clientId"`
	} `json:"callerContext"`
}

type requestWire struct {
	UserAttributes map[string]string `json:"userAttributes"`
	ClientMetadata map[string]string `json:"clientMetadata"`
}

// event returns the Event of w and its request r, or an *EventError when
// the triggerSource is missing.
func (w *eventWire) event(r *requestWire) (Event, error) {
	if w.TriggerSource == nil || *w.TriggerSource == "" {
		return Event{}, eventProblem("missing triggerSource")
	}
	ev := Event{
		TriggerSource:  *w.TriggerSource,
		UserPoolID:     w.UserPoolID,
		UserName:       w.UserName,
		UserAttributes: r.UserAttributes,
		ClientMetadata: r.ClientMetadata,
	}
	if w.CallerContext.ClientID != nil {
		ev.ClientID = *w.CallerContext.ClientID
	}
	return ev, nil
}

// eventShape describes eventWire, with a request of requestWire's fields
// and then request's, for diagnose.
func eventShape(request ...field) shape {
	return shape{kind: objectKind, fields: []field{
		{"triggerSource", shape{kind: stringKind}},
		{"userPoolId", shape{kind: stringKind}},
		{"userName", shape{kind: stringKind}},
		{"callerContext", shape{kind: objectKind, fields: []field{
			{"clientId", shape{kind: stringKind}},
		}}},
		{"request", shape{kind: objectKind, fields: append([]field{
			{"userAttributes", shape{kind: stringMapKind}},
			{"clientMetadata", shape{kind: stringMapKind}},
		}, request...)}},
	}}
}

// postConfirmationWire is the part of a PostConfirmation event that
// DecodePostConfirmation reads; postConfirmationShape describes it.
type postConfirmationWire struct {
	eventWire
	Request requestWire `json:"request"`
}

// postConfirmationShape describes postConfirmationWire for diagnose. It is a
// function so that nothing is built before an event fails to decode.
func postConfirmationShape() shape { return eventShape() }

// DecodePostConfirmation decodes a PostConfirmation event as Cognito sends
// it (and as in events/). A value of a field it reads that has the wrong
// JSON type is an error (attribute and metadata values must be strings, as
// Cognito sends them; null counts as absent or empty), and so is a missing
// triggerSource. Fields it does not read are not checked. Every error is an
// *EventError. The event's pool and user are not required here: see
// Event.RequireTarget.
func DecodePostConfirmation(payload []byte) (*Event, error) {
	// One allocation for the wire struct and the event.
	d := new(struct {
		ev Event
		w  postConfirmationWire
	})
	w := &d.w
	if err := decode(payload, w, "PostConfirmation", postConfirmationShape); err != nil {
		return nil, err
	}
	var err error
	if d.ev, err = w.event(&w.Request); err != nil {
		return nil, err
	}
	return &d.ev, nil
}
