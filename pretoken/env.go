package pretoken

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/rulesource"
)

// NewFromEnv builds the Handler the packaged function runs, from its
// environment, as postconfirm.NewFromEnv does for the sign-up function: the
// ruleset from RULES_FILE or the embedded one (read with readFile), the
// membership options (AUTOGROUP_BUDGET_MS, default DefaultBudget here;
// AUTOGROUP_CONCURRENCY), AUTOGROUP_VERIFY_USER (true unless set to false),
// the Cognito client, and the retry queue of AUTOGROUP_RETRY_QUEUE_URL when
// set. ctx bounds the ruleset's first fetch. The error names what is wrong.
func NewFromEnv(ctx context.Context, logger *slog.Logger, getenv func(string) string, readFile func(string) ([]byte, error)) (*Handler, error) {
	holder, err := rulesource.Load(ctx, rulesource.FromEnv(getenv, readFile), logger)
	if err != nil {
		return nil, err
	}
	opts, err := membership.OptionsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	verify, err := membership.VerifyUserFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := membership.NewClientFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	c := Config{
		Rules: holder, Adder: membership.NewAdder(client, opts), Remover: membership.NewRemover(client, opts),
		Budget: opts.Budget, Logger: logger,
	}
	if verify {
		c.Reader, c.Groups = membership.NewReader(client, opts), membership.NewGroupLister(client, opts)
	}
	sender, err := retryqueue.NewSenderFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if sender != nil {
		c.Queue = sender
	}
	return New(c), nil
}
