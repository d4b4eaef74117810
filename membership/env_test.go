package membership_test

import (
	"testing"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    membership.Options
		wantErr string
	}{
		{env: nil, want: membership.Options{}},
		{env: map[string]string{"AUTOGROUP_BUDGET_MS": "3500"}, want: membership.Options{Budget: 3500 * time.Millisecond}},
		{env: map[string]string{"AUTOGROUP_BUDGET_MS": "100"}, want: membership.Options{Budget: 100 * time.Millisecond}},
		{env: map[string]string{"AUTOGROUP_BUDGET_MS": "60000", "AUTOGROUP_CONCURRENCY": "100"}, want: membership.Options{Budget: time.Minute, Concurrency: 100}},
		{env: map[string]string{"AUTOGROUP_CONCURRENCY": "4"}, want: membership.Options{Concurrency: 4}},
		{env: map[string]string{"AUTOGROUP_BUDGET_MS": "0"}, wantErr: `AUTOGROUP_BUDGET_MS: want milliseconds from 100 to 60000, got "0"`},
		{env: map[string]string{"AUTOGROUP_BUDGET_MS": "60001"}, wantErr: `AUTOGROUP_BUDGET_MS: want milliseconds from 100 to 60000, got "60001"`},
		{env: map[string]string{"AUTOGROUP_BUDGET_MS": "4s"}, wantErr: `AUTOGROUP_BUDGET_MS: want milliseconds from 100 to 60000, got "4s"`},
		{env: map[string]string{"AUTOGROUP_CONCURRENCY": "-1"}, wantErr: `AUTOGROUP_CONCURRENCY: want a number from 1 to 100, got "-1"`},
		{env: map[string]string{"AUTOGROUP_CONCURRENCY": "101"}, wantErr: `AUTOGROUP_CONCURRENCY: want a number from 1 to 100, got "101"`},
	}
	for _, tt := range tests {
		got, err := membership.OptionsFromEnv(func(k string) string { return tt.env[k] })
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("OptionsFromEnv(%v) error = %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("OptionsFromEnv(%v) error = %v", tt.env, err)
			continue
		}
		if got.Budget != tt.want.Budget || got.Concurrency != tt.want.Concurrency {
			t.Errorf("OptionsFromEnv(%v) = %+v, want %+v", tt.env, got, tt.want)
		}
	}
}
