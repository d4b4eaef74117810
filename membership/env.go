package membership

import (
	"fmt"
	"strconv"
	"time"
)

// OptionsFromEnv reads the tuning variables a function is configured with:
// AUTOGROUP_BUDGET_MS (Options.Budget, milliseconds from 100 to 60000) and
// AUTOGROUP_CONCURRENCY (Options.Concurrency, from 1 to 100). Unset or
// empty means the default. A bad value is an error naming the variable.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	if v := getenv("AUTOGROUP_BUDGET_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 60000 {
			return o, fmt.Errorf("AUTOGROUP_BUDGET_MS: want milliseconds from 100 to 60000, got %q", v)
		}
		o.Budget = time.Duration(n) * time.Millisecond
	}
	if v := getenv("AUTOGROUP_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return o, fmt.Errorf("AUTOGROUP_CONCURRENCY: want a number from 1 to 100, got %q", v)
		}
		o.Concurrency = n
	}
	return o, nil
}

// VerifyUserFromEnv reads AUTOGROUP_VERIFY_USER: "true" (the default, also
// when unset or empty) means that a function reads the user back from
// Cognito (Reader.GetUser) and decides on what Cognito holds; "false" means
// that it trusts the event it was sent. Any other value is an error naming
// the variable.
func VerifyUserFromEnv(getenv func(string) string) (bool, error) {
	switch v := getenv("AUTOGROUP_VERIFY_USER"); v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("AUTOGROUP_VERIFY_USER: want true or false, got %q", v)
	}
}
