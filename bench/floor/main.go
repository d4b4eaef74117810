// Command floor is the smallest aws-lambda-go function: it returns its input.
// make bench builds it with the function's flags and starts it under
// aws-lambda-rie beside the function, as the floor that the function's cold
// start is compared with: what the Go runtime and aws-lambda-go cost alone.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	})
}
