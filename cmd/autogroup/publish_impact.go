package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfig"
	"github.com/aws/aws-sdk-go-v2/service/appconfig/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/plan"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// This file is publish --pool: the impact of the new ruleset on the users
// the pool has now, compared with the ruleset in force, before anything is
// published.

// inForce is the ruleset the functions run on now.
type inForce struct {
	// version and deployment are those of the latest COMPLETE deployment
	// of the profile to the environment; 0 when there is none, and the
	// functions run on the embedded ruleset.
	version, deployment int32
	raw                 string         // the deployment's ConfigurationVersion
	rs                  *rules.Ruleset // nil when the version does not load
	err                 error          // why it does not load
}

// findInForce returns the ruleset in force in the environment: the version
// that its latest COMPLETE deployment of the profile holds, or the
// embedded ruleset when no deployment of the profile has completed.
func findInForce(ctx context.Context, api appConfigAPI, ids appConfigIDs) (inForce, error) {
	p := appconfig.NewListDeploymentsPaginator(api, &appconfig.ListDeploymentsInput{ApplicationId: &ids.app, EnvironmentId: &ids.env})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return inForce{}, fmt.Errorf("list the deployments to environment %s: %s", ids.env, apiMessage(err))
		}
		for _, d := range out.Items { // newest first
			if d.State != types.DeploymentStateComplete {
				continue
			}
			// A summary names the profile (ConfigurationName) but not its
			// id, and a name may have changed since: GetDeployment tells.
			n := d.DeploymentNumber
			full, err := api.GetDeployment(ctx, &appconfig.GetDeploymentInput{ApplicationId: &ids.app, EnvironmentId: &ids.env, DeploymentNumber: &n})
			if err != nil {
				return inForce{}, fmt.Errorf("read deployment %d: %s", n, apiMessage(err))
			}
			if aws.ToString(full.ConfigurationProfileId) == ids.profile {
				return loadInForce(ctx, api, ids, n, aws.ToString(full.ConfigurationVersion))
			}
		}
	}
	rs, err := rules.Parse(autogroup.ShippedRules)
	return inForce{rs: rs, err: err}, nil
}

// loadInForce reads and parses the hosted version of deployment n.
func loadInForce(ctx context.Context, api appConfigAPI, ids appConfigIDs, n int32, version string) (inForce, error) {
	in := inForce{deployment: n, raw: version}
	v, err := strconv.ParseInt(version, 10, 32)
	if err != nil || v < 1 {
		in.err = fmt.Errorf("deployment %d holds version %q, not a hosted configuration version", n, version)
		return in, nil
	}
	in.version = int32(v)
	out, err := api.GetHostedConfigurationVersion(ctx, &appconfig.GetHostedConfigurationVersionInput{
		ApplicationId: &ids.app, ConfigurationProfileId: &ids.profile, VersionNumber: &in.version})
	if err != nil {
		return in, fmt.Errorf("read version %d, in force: %s", in.version, apiMessage(err))
	}
	in.rs, in.err = rules.Parse(out.Content)
	return in, nil
}

// publishImpact is the impact --json prints.
type publishImpact struct {
	Pool string `json:"pool"`
	// InForce is the version in force (a number; the deployment's
	// ConfigurationVersion when it is not a hosted version's), or
	// "embedded".
	InForce           any   `json:"inForce"`
	InForceDeployment int32 `json:"inForceDeployment,omitempty"`
	// InForceLoads is false when the version in force does not load: the
	// new ruleset is then compared with nothing.
	InForceLoads bool `json:"inForceLoads"`
	plan.Impact
}

// impact reads the pool of o, compares rs with the ruleset in force on its
// users, and prints the result on w. On failure it says why on standard
// error and returns false.
func (e *env) impact(o publishOptions, api appConfigAPI, ids appConfigIDs, rs *rules.Ruleset, w io.Writer) (*publishImpact, bool) {
	in, err := findInForce(e.ctx, api, ids)
	if err != nil {
		printf(e.stderr, "autogroup publish: %v\n", err)
		return nil, false
	}
	res := &publishImpact{Pool: o.pool, InForce: "embedded", InForceDeployment: in.deployment, InForceLoads: in.err == nil}
	switch {
	case in.version > 0:
		res.InForce = in.version
	case in.deployment > 0:
		res.InForce = in.raw
	}
	next := plan.NewPlanner(rs)
	planners := []*plan.Planner{next}
	var old *plan.Planner
	if in.rs != nil {
		old = plan.NewPlanner(in.rs)
		planners = append(planners, old)
	}
	cog, ok := e.cognitoClient("publish", o.pool)
	if !ok {
		return nil, false
	}
	r := newReader(cog, defaultRate)

	var mu sync.Mutex // guards cmp, which the progress line reads
	var cmp *plan.Comparison
	prog := newProgress(e.stderr)
	prog.start(func() string {
		mu.Lock()
		defer mu.Unlock()
		if cmp == nil {
			return "impact: reading the members of the groups"
		}
		im := cmp.Impact()
		return fmt.Sprintf("impact: %d users read, %d whose outcome changes", im.Users, im.Changed)
	})
	err = func() error {
		defer prog.finish()
		groups, existing, err := r.plannedGroups(e.ctx, o.pool, planners...)
		if err != nil {
			return err
		}
		members, missing, err := r.memberships(e.ctx, o.pool, groups)
		if err != nil {
			return err
		}
		pool := plan.Pool{ID: o.pool, MissingGroups: missing, Existing: existing}
		mu.Lock()
		cmp = plan.NewComparison(old, next, pool)
		mu.Unlock()
		return r.users(e.ctx, o.pool, func(out *cip.ListUsersOutput) error {
			mu.Lock()
			defer mu.Unlock()
			for i := range out.Users {
				cmp.Record(planUser(&out.Users[i], groups, members))
			}
			return nil
		})
	}()
	if err != nil {
		printf(e.stderr, "autogroup publish: cannot %v; nothing was published\n", err)
		return nil, false
	}
	res.Impact = cmp.Impact()
	e.printImpact(w, o, in, next, res)
	return res, true
}

// printImpact prints the impact as a table, a row per group.
func (e *env) printImpact(w io.Writer, o publishOptions, in inForce, next *plan.Planner, res *publishImpact) {
	im := res.Impact
	printf(w, "impact on user pool %s, compared with the ruleset in force in %s:\n", o.pool, o.env)
	switch {
	case in.deployment == 0:
		printf(w, "in force:  the embedded ruleset (no deployment of %s to %s has completed)\n", o.profile, o.env)
	case in.err != nil:
		what := fmt.Sprintf("deployment %d", in.deployment)
		if in.version > 0 {
			what = fmt.Sprintf("version %d of %s (deployment %d)", in.version, o.profile, in.deployment)
		}
		printf(w, "in force:  %s, which does not load: compared with nothing, every add and removal counts as a change\n", what)
		printProblems(e.stderr, fmt.Sprintf("%s v%d", o.profile, in.version), in.err)
	default:
		printf(w, "in force:  version %d of %s (deployment %d)\n", in.version, o.profile, in.deployment)
	}
	printf(w, "users:     %d read, %d whose outcome changes\n", im.Users, im.Changed)
	if !next.Handled() {
		printf(w, "note:      the new ruleset does not handle %s: it gives no user a group\n", rules.TriggerConfirmSignUp)
	}
	if sk := next.SkippedRules(); len(sk) > 0 {
		var names []string
		for _, r := range sk {
			names = append(names, r.Name)
		}
		printf(w, "note:      not evaluated, as only the sign-up event carries clientId and clientMetadata: %s\n", strings.Join(names, ", "))
	}
	if len(im.Groups) == 0 {
		printf(w, "no group: neither ruleset adds or removes a membership\n\n")
		return
	}
	removes := im.Remove
	for _, g := range im.Groups {
		removes = removes || g.InForceRemove > 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "\ngroup\tadd (in force)\t"
	if removes {
		head += "remove (in force)\t"
	}
	fmt.Fprint(tw, head+"changed\tsample of the changed (subs)\n")
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(im.Groups)) {
		g := im.Groups[name]
		row := sprintf("%s\t+%d (+%d)\t", name, g.Add, g.InForceAdd)
		if removes {
			row += sprintf("-%d (-%d)\t", g.Remove, g.InForceRemove)
		}
		row += sprintf("%d", g.Changed)
		if len(g.Sample) > 0 { // no empty last cell: it would end the line with spaces
			row += sprintf("\t%s", strings.Join(g.Sample, ", "))
		}
		fmt.Fprint(tw, row+"\n")
		if g.Missing {
			missing = append(missing, name)
		}
	}
	_ = tw.Flush()
	if len(missing) > 0 {
		printf(w, "missing from the pool, so adding to them fails: %s: create them first\n", strings.Join(missing, ", "))
	}
	printf(w, "\n")
}
