package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// MetricsNamespaceEnv is the environment variable that sets the CloudWatch
// namespace of the metrics the records carry.
const MetricsNamespaceEnv = "AUTOGROUP_METRICS_NAMESPACE"

// DefaultMetricsNamespace is the namespace used when MetricsNamespaceEnv is
// unset or empty.
const DefaultMetricsNamespace = "CognitoAutogroup"

// MaxMetrics is the most metrics CloudWatch reads from one EMF line.
const MaxMetrics = 100

// RuleMetricPrefix starts the name of the metric that counts the matches of
// one rule: RulesMatched.<rule name>. A dimension cannot carry it, since one
// record may match several rules and a dimension has one value per line.
const RuleMetricPrefix = "RulesMatched."

// Units of the metrics, as CloudWatch names them.
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
)

// MetricsTarget says where a record's metrics go: the CloudWatch namespace
// and the value of the Function dimension.
type MetricsTarget struct {
	Namespace string
	Function  string
}

// MetricsFromEnv reads the metrics target: the namespace from
// AUTOGROUP_METRICS_NAMESPACE (default CognitoAutogroup) and the function
// from AWS_LAMBDA_FUNCTION_NAME ("unknown" outside Lambda). A namespace
// CloudWatch would refuse is an error naming the variable; the target then
// holds the default namespace.
func MetricsFromEnv(getenv func(string) string) (MetricsTarget, error) {
	t := MetricsTarget{Namespace: DefaultMetricsNamespace, Function: getenv("AWS_LAMBDA_FUNCTION_NAME")}
	if t.Function == "" {
		t.Function = "unknown"
	}
	ns := getenv(MetricsNamespaceEnv)
	if ns == "" {
		return t, nil
	}
	if err := checkNamespace(ns); err != nil {
		return t, fmt.Errorf("%s: %w", MetricsNamespaceEnv, err)
	}
	t.Namespace = ns
	return t, nil
}

// checkNamespace applies CloudWatch's rules for a custom namespace.
func checkNamespace(ns string) error {
	if len(ns) > 255 {
		return fmt.Errorf("namespace of %d characters, want at most 255", len(ns))
	}
	if strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("namespace %q starts with AWS/, which is reserved", ns)
	}
	for _, c := range ns {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/#:", c)) {
			return fmt.Errorf("namespace %q has %q; want letters, digits and the characters in %q", ns, c, "._-/#:")
		}
	}
	return nil
}

// envTarget is the process's metrics target, read once.
var envTarget = sync.OnceValue(func() MetricsTarget {
	t, _ := MetricsFromEnv(os.Getenv)
	return t
})

// EnvMetricsTarget returns the metrics target of this process's environment
// (MetricsFromEnv with os.Getenv, read once), the one Record.Log uses.
func EnvMetricsTarget() MetricsTarget { return envTarget() }

// Metric is one metric of an EMF line.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// MetricSet is metrics reported under the same dimension sets. Each
// dimension set lists dimension names, all of them in EMF.Dimensions.
type MetricSet struct {
	Dimensions [][]string
	Metrics    []Metric
}

// Dimension is one dimension member of an EMF line.
type Dimension struct {
	Name, Value string
}

// EMF is the CloudWatch Embedded Metric Format part of a log line: the
// _aws member that tells CloudWatch which members are metrics, and those
// members. Metric names are unique across Sets.
type EMF struct {
	Namespace  string
	Timestamp  time.Time
	Dimensions []Dimension
	Sets       []MetricSet
}

// emfMeta is the _aws member as CloudWatch reads it.
type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Attrs returns the EMF members as log attributes: _aws (a JSON object
// under slog's JSON handler), then the dimensions, then each metric's value.
func (e EMF) Attrs() []slog.Attr {
	meta := emfMeta{Timestamp: e.Timestamp.UnixMilli()}
	attrs := []slog.Attr{{}}
	for _, d := range e.Dimensions {
		attrs = append(attrs, slog.String(d.Name, d.Value))
	}
	for _, s := range e.Sets {
		dir := emfDirective{Namespace: e.Namespace, Dimensions: s.Dimensions, Metrics: make([]emfMetric, len(s.Metrics))}
		for i, m := range s.Metrics {
			dir.Metrics[i] = emfMetric{Name: m.Name, Unit: m.Unit}
			attrs = append(attrs, slog.Float64(m.Name, m.Value))
		}
		meta.CloudWatchMetrics = append(meta.CloudWatchMetrics, dir)
	}
	attrs[0] = slog.Any("_aws", meta)
	return attrs
}

// Metrics returns the record's metrics for target at t. Dimensions:
// Function and Outcome. SignUps (1) is reported by Function and by
// Function and Outcome; by Function only: GroupsAdded (groups in place),
// AssignmentsFailed (groups that could not be added, or 1 when the user
// could not be read back and nothing was added; not those deferred),
// AssignmentsDeferred (groups put on the retry queue),
// AssignmentsRetried (groups whose add took more than one attempt),
// Removals (groups the user was removed from), RulesMatched (the rules that matched), Duration
// (milliseconds), and RulesMatched.<rule> (1) for each rule that matched,
// as many as fit in MaxMetrics.
func (r *Record) Metrics(target MetricsTarget, t time.Time) EMF {
	var added, removed, retried int
	for _, res := range r.Results {
		switch {
		case res.Kind == membership.KindOK && res.Op == "remove":
			removed++
		case res.Kind == membership.KindOK:
			added++
		}
		if res.Attempts > 1 {
			retried++
		}
	}
	failed := r.Failed
	if failed == 0 && r.ReadFailed() {
		failed = 1
	}
	// Groups on the retry queue are not lost: they count as deferred, not
	// as failed, so the failed-assignments alarm sees only what nothing
	// will repair.
	deferred := 0
	if r.Outcome == OutcomeDeferred {
		deferred = len(r.Deferred)
		failed = max(failed-deferred, 0)
	}
	byFunction := []Metric{
		{"GroupsAdded", UnitCount, float64(added)},
		{"AssignmentsFailed", UnitCount, float64(failed)},
		{"AssignmentsDeferred", UnitCount, float64(deferred)},
		{"AssignmentsRetried", UnitCount, float64(retried)},
		{"Removals", UnitCount, float64(removed)},
		{"RulesMatched", UnitCount, float64(len(r.MatchedRules))},
		{"Duration", UnitMilliseconds, ms(r.Duration)},
	}
	for _, rule := range r.MatchedRules {
		if 1+len(byFunction) == MaxMetrics {
			break
		}
		byFunction = append(byFunction, Metric{RuleMetricPrefix + rule, UnitCount, 1})
	}
	return EMF{
		Namespace:  target.Namespace,
		Timestamp:  t,
		Dimensions: []Dimension{{"Function", target.Function}, {"Outcome", string(r.Outcome)}},
		Sets: []MetricSet{
			{Dimensions: [][]string{{"Function"}, {"Function", "Outcome"}}, Metrics: []Metric{{"SignUps", UnitCount, 1}}},
			{Dimensions: [][]string{{"Function"}}, Metrics: byFunction},
		},
	}
}

// CheckEMF reads line, one JSON log line, as CloudWatch reads Embedded
// Metric Format and returns the value of each metric it names, by name. It
// reports every way the line falls short: no _aws object, a Timestamp that
// is not a number, a directive without namespace, a dimension or metric
// named but absent or of the wrong type at the top level, more than
// MaxMetrics metrics, more than 30 dimensions in a set.
func CheckEMF(line []byte) (map[string]float64, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var meta struct {
		Timestamp         *float64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	raw, ok := top["_aws"]
	if !ok {
		return nil, errors.New("no _aws member")
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("_aws is not an EMF object: %w", err)
	}
	var errs []error
	if meta.Timestamp == nil {
		errs = append(errs, errors.New("_aws has no Timestamp"))
	}
	if len(meta.CloudWatchMetrics) == 0 {
		errs = append(errs, errors.New("_aws has no CloudWatchMetrics"))
	}
	values := map[string]float64{}
	count := 0
	for i, d := range meta.CloudWatchMetrics {
		if d.Namespace == "" {
			errs = append(errs, fmt.Errorf("directive %d has no Namespace", i))
		}
		for _, set := range d.Dimensions {
			if len(set) > 30 {
				errs = append(errs, fmt.Errorf("directive %d has a set of %d dimensions, want at most 30", i, len(set)))
			}
			for _, name := range set {
				var s string
				if err := json.Unmarshal(top[name], &s); err != nil || s == "" {
					errs = append(errs, fmt.Errorf("dimension %q is not a non-empty string member", name))
				}
			}
		}
		for _, m := range d.Metrics {
			count++
			var v float64
			if err := json.Unmarshal(top[m.Name], &v); err != nil {
				errs = append(errs, fmt.Errorf("metric %q is not a number member", m.Name))
				continue
			}
			values[m.Name] = v
		}
	}
	if count > MaxMetrics {
		errs = append(errs, fmt.Errorf("%d metrics, want at most %d", count, MaxMetrics))
	}
	return values, errors.Join(errs...)
}
