// Package autogroup holds what every entry point of cognito-autogroup shares
// from the repository's root: the shipped ruleset, embedded once.
//
// The functions under functions/ and the autogroup command use ShippedRules
// (through package rulesource) rather than embedding the file themselves,
// so that the ruleset has a single home and its path is written once.
package autogroup

import _ "embed"

// ShippedRulesPath is the shipped ruleset's path relative to the module
// root. The file stays there: rules-format.md and the deploy documentation
// name it as the file to edit.
const ShippedRulesPath = "functions/post-confirmation/rules.yaml"

// ShippedRules is the content of the shipped ruleset (ShippedRulesPath),
// embedded at build time. It is shared by every caller: do not modify it.
//
//go:embed functions/post-confirmation/rules.yaml
var ShippedRules []byte
