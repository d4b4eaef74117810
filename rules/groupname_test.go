package rules

import (
	"strings"
	"testing"
)

func TestCheckGroupName(t *testing.T) {
	tests := []struct {
		name, group string
		ok          bool
	}{
		{"plain", "staff", true},
		{"punctuation and symbols", "team:eng/+1", true},
		{"unicode letters", "équipe-東京", true},
		{"128 characters", strings.Repeat("é", 128), true},
		{"empty", "", false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"space", "two words", false},
		{"control character", "tab\there", false},
		{"invalid UTF-8", "bad\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckGroupName(tt.group)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckGroupName(%q) = %v, want ok=%v", tt.group, err, tt.ok)
			}
			if err != nil && tt.group != "" && strings.Contains(err.Error(), tt.group) {
				t.Errorf("CheckGroupName(%q) = %q, repeats the name", tt.group, err)
			}
		})
	}
}
