package main

// backfillHelp is backfill's description, for its usage.
const backfillHelp = `Applies the ruleset to the users a user pool already has, as if each had
just confirmed their sign-up (PostConfirmation_ConfirmSignUp): it plans the
memberships they lack and, when the ruleset has reconcile.remove: true, the
memberships of managed groups the rules no longer give them, then carries
out the plan with --apply. Use it when the function is attached to a pool
that has users, after a change of the rules, or to repair sign-ups whose
group assignment failed.

It lists every user (ListUsers) and the members of the groups the rules can
select (ListUsersInGroup; every group of the pool, from ListGroups, when the
rules use groupsFrom or memberOf or remove), and evaluates the rules on each
user's attributes, with cognito:user_status set to the user's status.
UNCONFIRMED users are skipped (the function runs when they confirm), and so
are users with a status other than CONFIRMED, EXTERNAL_PROVIDER,
FORCE_CHANGE_PASSWORD or RESET_REQUIRED, and disabled users unless
--include-disabled. A user the ruleset's exclude holds for is left alone.
--user SUB plans for one user, found by sub (ListUsers with a filter, then
AdminListGroupsForUser).

Removals (reconcile.remove: true) touch managed groups only (reconcile.
managedGroups, or every group the rules can select), never a group a skipped
rule could have given, never a user on hold. --apply refuses a plan with
more removals than --max-removals (default 0: review the plan, then allow
them), before it changes anything.

Rules that test clientId or clientMetadata are skipped: only the sign-up event
has them. The report names each, and says when skipping it can change what
other rules give: a skipped rule with stop: true, or defaultGroups, which apply
when no rule matches.

Without --apply it is a dry run: it prints the plan and changes nothing, a
line per user with its sub, the groups to add and the rules that select
them, and the groups to remove, then the users and memberships to change
and a line per group. --out FILE saves the plan (JSON, with the version of
its format, the pool and the SHA-256 of the ruleset); --plan FILE --apply
applies exactly that plan, with the same ruleset: each user is read again
(AdminGetUser, AdminListGroupsForUser), an add already done or a removal
already gone is dropped, and a user who changed since is reported and left
alone. With --apply it adds with AdminAddUserToGroup and removes with
AdminRemoveUserFromGroup, at most --rate requests per second in all
(Cognito allows 25 per second for the account, shared with the function and
other admin updates), retrying throttled calls with backoff. The reads are
paced at the same rate on their own limiter. A group that does not exist is
reported and not attempted.

The report names users by sub only, since a username may be an email address
or a phone number; --show-usernames adds the username where it differs.

With --apply --via-queue URL it calls no AdminAddUserToGroup: it sends the
plan's adds to the retry queue at URL, one message per user with the groups
to add (SendMessageBatch, 10 users a call), and the queue's consumer adds
them at its own rate in AWS; a user counts as done once the message is sent,
and --rate paces only the reads. Removals are not queued: a plan with
removals is refused with --via-queue. Use it for large pools: a rerun plans
only what is still missing, so run it again once the queue drained.

With --state FILE the users done are saved in FILE as the run goes (written
to a temporary file, then renamed). Ctrl-C finishes the users in flight, saves
FILE and exits 130 (press it again to stop at once); a run with the same FILE
skips the users it lists. FILE belongs to one pool and one ruleset: a run with
another pool or a changed ruleset refuses it. A run locks FILE (through
FILE.lock, created beside it and left there) until it ends: a second run with
the same FILE refuses at once. A dry run reads FILE but never writes it. A
second run without FILE is safe too: members already are members.

Standard error shows progress on a terminal. The report ends with a summary;
with --json standard output holds only one JSON object (the report goes to
standard error): pool, rules, dryRun, users, usersEvaluated, usersSkipped,
skippedByStatus, usersResumed, planned, plannedUsers, alreadyMember, added,
viaQueue, queued, failed, removals, removalUsers, removed, usersDisabled, usersExcluded,
usersChanged, groups (per group: add, remove), failures (sub, username with
--show-usernames, group, op, kind, message), skippedRules, missingGroups,
interrupted, seconds. Text taken from the pool or the rules is printed with
control and invisible characters escaped (\x1b, \u202e).

--stack NAME takes --pool from the UserPoolId output of the CloudFormation
stack NAME (cloudformation:DescribeStacks on the stack); --pool given wins.
--via-queue still needs its URL, the stack's AssignmentRetryQueueUrl.

Credentials, region and endpoint come from the standard AWS environment
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...).
IAM actions on the pool: cognito-idp:ListUsers and cognito-idp:ListUsersInGroup
(with groupsFrom, memberOf or removals also cognito-idp:ListGroups; with
--user or --plan cognito-idp:AdminGetUser and cognito-idp:AdminListGroupsForUser);
with --apply also cognito-idp:AdminAddUserToGroup and, for removals,
cognito-idp:AdminRemoveUserFromGroup; with --via-queue instead of adding,
sqs:SendMessage on the queue (AWS_ENDPOINT_URL_SQS for an emulator).

Examples:
  autogroup backfill --pool us-east-1_EXAMPLE --out plan.json
  autogroup backfill --stack autogroup --user 6905eeca-a946-47b6-97dc-e4f3fc5de303 --apply
  autogroup backfill --pool us-east-1_EXAMPLE --plan plan.json --apply --max-removals 3
  autogroup backfill --pool us-east-1_EXAMPLE --apply --state backfill.json
  autogroup backfill --pool us-east-1_EXAMPLE --apply --via-queue https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry`

// backfillExitHelp is backfill's exit codes.
const backfillExitHelp = `Exit codes:
  0    nothing to do (dry run), or every change made
  1    a group the rules select does not exist (dry run or --apply), a
       membership could not be added or removed (each is listed with the
       user's sub, the group, the kind of error and the message), more
       removals than --max-removals (nothing changed), or a user of a
       --plan file changed since (left alone)
  2    usage error or unloadable input: bad flags, no --pool, a ruleset that
       cannot be read or does not load, a --state file of another pool or
       ruleset or in use by another run, a --plan file of another pool or
       ruleset, a user pool that cannot be read, no user with the --user sub,
       a --stack that cannot be read or lacks UserPoolId
  3    dry run: the plan has changes (as terraform plan -detailed-exitcode)
  130  interrupted (SIGINT, SIGTERM): the users done are saved in --state
`
