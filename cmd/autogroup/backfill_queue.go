package main

import (
	"context"

	"github.com/cognito-autogroup/cognito-autogroup/plan"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue/batch"
)

// applier carries out a backfill's plan: *plan.Applier through Cognito,
// or *plan.QueueApplier through the retry queue (--via-queue).
type applier interface {
	Apply(ctx context.Context, p *plan.Plan) plan.Outcome
	Progress() plan.Progress
}

// newApplier returns the applier of the run, or reports on stderr why
// there is none.
func (b *backfill) newApplier() (applier, bool) {
	if b.f.viaQueue == "" {
		return &plan.Applier{API: b.api, Rate: b.f.rate, Stop: b.stopping, OnUser: b.userDone}, true
	}
	// The consumer only adds: a removal sent through the queue would be
	// lost, so a plan with removals is applied without --via-queue.
	if b.pl != nil && b.pl.Counts.Removals > 0 {
		printf(b.e.stderr, "autogroup backfill: --via-queue: the plan removes %d memberships, which the retry queue cannot carry; apply it without --via-queue\n", b.pl.Counts.Removals)
		return nil, false
	}
	api, ok := b.e.sqsClient("backfill")
	if !ok {
		return nil, false
	}
	sender, err := batch.NewSender(api, b.f.viaQueue)
	if err != nil {
		printf(b.e.stderr, "autogroup backfill: --via-queue: %v\n", err)
		return nil, false
	}
	return &plan.QueueApplier{Sender: sender, Stop: b.stopping, OnUser: b.userDone}, true
}
