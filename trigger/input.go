package trigger

import (
	"encoding/json"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// DecodeInput decodes a PostConfirmation or a PreTokenGeneration event,
// chosen by its triggerSource (TokenGeneration_... is a token event), into
// the engine's input: tools that explain any event the functions receive
// (autogroup explain, the playground) call it. A token event's input carries
// the user's current groups (groupConfiguration.groupsToOverride). The error
// is the chosen decoder's.
func DecodeInput(payload []byte) (rules.Input, error) {
	var head struct {
		TriggerSource string `json:"triggerSource"`
	}
	// A payload this cannot read is diagnosed by the decoder below.
	_ = json.Unmarshal(payload, &head)
	if strings.HasPrefix(head.TriggerSource, "TokenGeneration_") {
		ev, err := DecodePreTokenGeneration(payload)
		if err != nil {
			return rules.Input{}, err
		}
		return ev.Input(), nil
	}
	ev, err := DecodePostConfirmation(payload)
	if err != nil {
		return rules.Input{}, err
	}
	return ev.Input(), nil
}
