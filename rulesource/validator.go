package rulesource

import (
	"encoding/base64"
	"errors"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// ValidatorEvent is what AWS AppConfig sends a LAMBDA validator of a
// configuration profile before it deploys a version.
type ValidatorEvent struct {
	ApplicationID          string `json:"applicationId"`
	ConfigurationProfileID string `json:"configurationProfileId"`
	ConfigurationVersion   string `json:"configurationVersion"`
	// Content is the configuration, base64-encoded.
	Content string `json:"content"`
	URI     string `json:"uri"`
}

// Validate checks the event's content as Load checks a ruleset it fetched
// (rules.Parse: YAML or JSON, every problem). It returns nil when the
// ruleset loads, else the error of Ruleset.
func (e ValidatorEvent) Validate() error {
	_, err := e.Ruleset()
	return err
}

// Name names the event's configuration profile as messages do:
// "appconfig:APPLICATION/PROFILE" (the ids AppConfig sends).
func (e ValidatorEvent) Name() string {
	return "appconfig:" + e.ApplicationID + "/" + e.ConfigurationProfileID
}

// Ruleset parses the event's content as Validate checks it. It returns the
// ruleset when it loads, else a *LoadError naming the profile and version
// with every problem as NAME:LINE:COL: message, or an error saying the
// content is not base64.
func (e ValidatorEvent) Ruleset() (*rules.Ruleset, error) {
	src, err := base64.StdEncoding.DecodeString(e.Content)
	if err != nil {
		return nil, errors.New("the validator event's content is not base64: " + err.Error())
	}
	rs, err := rules.Parse(src)
	if err != nil {
		return nil, &LoadError{Name: e.Name(), Version: e.ConfigurationVersion, Problems: rules.Problems(err), Err: err}
	}
	return rs, nil
}
