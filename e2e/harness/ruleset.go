package harness

import (
	"fmt"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// GroupNames returns the groups a ruleset can select (rules.Ruleset.GroupNames):
// those of every rule, then defaultGroups, without repetition.
func GroupNames(src []byte) ([]string, error) {
	rs, err := rules.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parse the ruleset: %w", err)
	}
	return rs.GroupNames(), nil
}
