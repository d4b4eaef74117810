package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/internal/appconfigfake"
)

// appConfigResult is the function with RULES_SOURCE set (the ruleset from
// a fake AppConfig Data API) beside it unset (the same ruleset from the
// binary, or from RULES_FILE for the warm runs).
type appConfigResult struct {
	ColdSet, ColdUnset []coldSample
	WarmSet, WarmUnset warmResult
}

// appConfig measures INIT and warm latency with RULES_SOURCE set beside
// unset: n interleaved cold starts each (the shipped ruleset, served by the
// fake for "set"), then warm runs of a ruleset selecting one group.
func (l *lab) appConfig(ctx context.Context, n, warmUp, runs int) (appConfigResult, error) {
	var r appConfigResult
	fake, err := appconfigfake.Start("")
	if err != nil {
		return r, err
	}
	defer fake.Close()
	fake.AddProfile("bench", "cold", "rules")
	fake.AddProfile("bench", "warm", "rules")
	fake.Publish("bench", "cold", "rules", autogroup.ShippedRules, "application/x-yaml")
	one := rulesetSelecting(1)
	fake.Publish("bench", "warm", "rules", one, "application/x-yaml")
	set := func(env string) []string {
		return l.env("RULES_SOURCE=appconfig:bench/"+env+"/rules", "AWS_ENDPOINT_URL_APPCONFIGDATA="+fake.URL())
	}
	for i := -1; i < n; i++ {
		order := []bool{true, false}
		if i%2 != 0 {
			order[0], order[1] = false, true
		}
		for _, withSource := range order {
			env := l.env()
			if withSource {
				env = set("cold")
			}
			s, err := l.coldOnceEnv(ctx, l.bin.function, env)
			if err != nil {
				return r, err
			}
			switch {
			case i < 0:
			case withSource:
				r.ColdSet = append(r.ColdSet, s)
			default:
				r.ColdUnset = append(r.ColdUnset, s)
			}
		}
	}
	if got := strings.Count(strings.Join(fake.Calls(), " "), "StartConfigurationSession"); got != n+1 {
		return r, fmt.Errorf("%d cold starts with RULES_SOURCE started %d AppConfig sessions, want one each", n+1, got)
	}
	rulesFile := filepath.Join(l.dir, "rules-appconfig-unset.yaml")
	if err := os.WriteFile(rulesFile, one, 0o644); err != nil {
		return r, err
	}
	if r.WarmUnset, err = l.warmEnv(ctx, 1, l.env("RULES_FILE="+rulesFile), warmUp, runs); err != nil {
		return r, err
	}
	r.WarmSet, err = l.warmEnv(ctx, 1, set("warm"), warmUp, runs)
	return r, err
}

// rows adds the comparison's rows to the report's table.
func (r appConfigResult) rows(row func(area, measure, result, target, verdict string)) {
	initMs := func(s []coldSample) float64 {
		return median(collect(s, func(c coldSample) float64 { return c.InitMs * 1e6 }))
	}
	set, unset := initMs(r.ColdSet), initMs(r.ColdUnset)
	row("rules from AppConfig", fmt.Sprintf("INIT REPORT durationMs, median of %d, RULES_SOURCE set · unset", len(r.ColdSet)),
		fmt.Sprintf("%s · %s (%.2f×)", duration(set), duration(unset), set/unset), "", "")
	ws, wu := median(collect(r.WarmSet.Latencies, ns)), median(collect(r.WarmUnset.Latencies, ns))
	row("rules from AppConfig", fmt.Sprintf("warm k=1, %d invocations, median, RULES_SOURCE set · unset", len(r.WarmSet.Latencies)),
		fmt.Sprintf("%s · %s (%.2f×)", duration(ws), duration(wu), ws/wu), "", "")
}
