package rules

import "errors"

// CheckGroupName returns why name is not a valid Cognito group name (1 to
// 128 letters, marks, symbols, numbers or punctuation characters), or nil.
// It is the check Parse applies to every group a ruleset names, for callers
// that receive group names from elsewhere, such as a retry queue message.
// The error never repeats the name.
func CheckGroupName(name string) error {
	if why := badGroupName(name); why != "" {
		return errors.New("invalid group name: " + why)
	}
	return nil
}
