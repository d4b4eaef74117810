package plan

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/retryqueue"
	"github.com/cognito-autogroup/cognito-autogroup/retryqueue/batch"
)

// Kinds of the failures of a QueueApplier, besides group_not_found.
const (
	// KindNotQueueable: the user cannot be put in a message, which never
	// carries an email address or a phone number (a username shaped like
	// one), and names the user by a sub in UUID form.
	KindNotQueueable = "not_queueable"
	// KindSendFailed: SQS did not take the message.
	KindSendFailed = "send_failed"
)

// QueueApplier carries out a plan through the retry queue instead of
// calling Cognito: one message per user with the groups of its Add (reason
// not_attempted, source backfill), sent in batches with SendMessageBatch,
// so that the queue's consumer adds them at its own rate, which keeps
// within the account's quota. It takes the same Plan as an Applier and
// reports the same way, with the groups sent counted as Queued. Set its
// fields, then call Apply; it runs one Apply at a time, and Progress may be
// called meanwhile from any goroutine.
type QueueApplier struct {
	// Sender sends the messages.
	Sender *batch.Sender
	// Stop, when closed, stops Apply from sending more batches; the batch
	// in flight finishes.
	Stop <-chan struct{}
	// OnUser, if set, is called for each user once its message was sent
	// or refused, in plan order, from Apply's goroutine.
	OnUser func(UserResult)
	// Now is the clock of EnqueuedAt; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex // guards prog
	prog Progress
}

// Progress returns the counts of the current or last Apply.
func (a *QueueApplier) Progress() Progress {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.prog
}

// Apply sends a message for each user of p with groups to add, in plan
// order, batch.MaxMessages users a call, and reports a group missing
// from the pool as a failure of kind group_not_found without queueing it.
// A call that fails as a whole fails its users' groups (send_failed) and
// ends Apply: the users after it are left, as they are after Stop. A rerun
// of the backfill plans only what is still missing.
func (a *QueueApplier) Apply(ctx context.Context, p *Plan) Outcome {
	now := a.Now
	if now == nil {
		now = time.Now
	}
	var todo []*UserPlan
	a.mu.Lock()
	a.prog = Progress{}
	for i := range p.Users {
		if u := &p.Users[i]; u.Changes() {
			todo = append(todo, u)
			a.prog.Users++
			a.prog.Memberships += len(u.Wanted())
		}
	}
	a.mu.Unlock()

	out := Outcome{Failures: []Failure{}}
	for len(todo) > 0 {
		select {
		case <-a.Stop:
			return a.outcome(out)
		default:
		}
		// The next users up to MaxBatch messages; those with nothing to
		// send (only missing groups) ride along.
		var (
			chunk []*UserPlan
			msgs  []retryqueue.Message
			of    []int // the user in chunk of each message
		)
		for len(todo) > 0 && len(msgs) < batch.MaxMessages {
			u := todo[0]
			todo = todo[1:]
			chunk = append(chunk, u)
			if len(u.Add) == 0 {
				continue
			}
			m := retryqueue.Message{UserPoolID: p.Pool, Username: u.Username, Sub: u.Sub, Source: retryqueue.SourceBackfill, EnqueuedAt: now()}
			for _, g := range u.Add {
				m.Groups = append(m.Groups, retryqueue.Group{Name: g, Reason: retryqueue.ReasonNotAttempted})
			}
			msgs = append(msgs, m)
			of = append(of, len(chunk)-1)
		}
		var (
			results []batch.Result
			callErr error
		)
		if len(msgs) > 0 {
			results, callErr = a.Sender.SendBatch(ctx, msgs)
		}
		res := make([]UserResult, len(chunk))
		for i, u := range chunk {
			res[i].User = u
		}
		for j, r := range results {
			ur := &res[of[j]]
			if r.Err == nil {
				ur.Queued = slices.Clone(ur.User.Add)
				continue
			}
			kind := KindSendFailed
			var decodeErr *retryqueue.DecodeError
			if errors.As(r.Err, &decodeErr) {
				kind = KindNotQueueable
			}
			for _, g := range ur.User.Add {
				ur.Failures = append(ur.Failures, ur.User.failure(g, kind, "not queued: "+r.Err.Error()))
			}
		}
		for i := range res {
			res[i].Failures = append(res[i].Failures, res[i].User.missingGroupFailures(p.Pool)...)
			a.mu.Lock()
			a.prog.UsersDone++
			a.prog.Queued += len(res[i].Queued)
			a.prog.Failed += len(res[i].Failures)
			a.mu.Unlock()
			out.Failures = append(out.Failures, res[i].Failures...)
			if a.OnUser != nil {
				a.OnUser(res[i])
			}
		}
		if callErr != nil {
			break
		}
	}
	return a.outcome(out)
}

func (a *QueueApplier) outcome(o Outcome) Outcome {
	o.Progress = a.Progress()
	return o
}
