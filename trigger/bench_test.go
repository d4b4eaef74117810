package trigger_test

import (
	"os"
	"testing"

	"github.com/cognito-autogroup/cognito-autogroup/trigger"
)

// BenchmarkDecodePostConfirmation measures the function's per-event decoding
// cost on a sample sign-up.
func BenchmarkDecodePostConfirmation(b *testing.B) {
	payload, err := os.ReadFile("../events/signup-engineer.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trigger.DecodePostConfirmation(payload); err != nil {
			b.Fatal(err)
		}
	}
}
