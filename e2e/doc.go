// Package e2e holds the end-to-end tests: the post-confirmation function
// built for this machine runs under aws-lambda-rie as the PostConfirmation
// trigger of a user pool in cognito-local (see package harness), users sign
// up and confirm through the Cognito API, and each test checks both what
// Cognito holds afterwards and what the function returned. The autogroup
// tests build the command-line tool and run backfill and check-pool against
// the same emulated pool.
//
// The emulators are pinned in package.json (cognito-local, installed by
// `make e2e-deps`) and tools/go.mod (aws-lambda-rie). Without them the tests
// skip, or fail when the CI environment variable is set.
package e2e
