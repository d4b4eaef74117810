package autogroup_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// TestShippedRules checks that the embedded ruleset is the file at
// ShippedRulesPath (the go:embed directive and the constant name the same
// file) and that it loads.
func TestShippedRules(t *testing.T) {
	onDisk, err := os.ReadFile(autogroup.ShippedRulesPath)
	if err != nil {
		t.Fatalf("ShippedRulesPath: %v", err)
	}
	if !bytes.Equal(autogroup.ShippedRules, onDisk) {
		t.Errorf("ShippedRules (%d bytes) differs from %s (%d bytes)", len(autogroup.ShippedRules), autogroup.ShippedRulesPath, len(onDisk))
	}
	if _, err := rules.Parse(autogroup.ShippedRules); err != nil {
		t.Errorf("the shipped ruleset does not load: %v", err)
	}
}
