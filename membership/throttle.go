package membership

// Why ThrottleAttempts exists: AdminAddUserToGroup and the other admin
// writes share one account-wide quota (Cognito's UserUpdate category, 25
// calls per second, not adjustable). Under a burst every retry of a
// throttled call takes a slot another sign-up needed, so retries inside
// Cognito's five seconds amplify the load they suffer. A caller that has a
// durable place for what it could not finish (the sign-up function with a
// retry queue) does better to stop at the first throttle and hand the
// group on: ThrottleAttempts 1.

// throttleSpent reports whether throttled attempts (calls answered with
// KindThrottled) reach o.ThrottleAttempts; never when it is 0 or less.
func (o *Options) throttleSpent(throttled int) bool {
	return o.ThrottleAttempts > 0 && throttled >= o.ThrottleAttempts
}
