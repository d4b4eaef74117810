package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/cognito-autogroup/cognito-autogroup/retryqueue/batch"
)

// sqsAPI is what retries and backfill --via-queue call. *sqs.Client
// implements it.
type sqsAPI interface {
	batch.API
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// sqsClient returns the SQS client of e, or reports why there is none on
// stderr.
func (e *env) sqsClient(cmd string) (sqsAPI, bool) {
	var (
		c   sqsAPI
		err error
	)
	if e.sqs != nil {
		c, err = e.sqs(e.ctx)
	} else {
		c, err = newSQSClient(e.ctx)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "autogroup %s: %v\n", cmd, err)
		return nil, false
	}
	return c, true
}

// newSQSClient builds the SQS client from the standard AWS configuration
// (environment, shared config and credentials files, profiles, SSO), as
// newCognitoClient builds Cognito's: AWS_ENDPOINT_URL_SQS (or
// AWS_ENDPOINT_URL) points it at an emulator, empty meaning unset. It keeps
// the SDK's standard retries: an operator's command can wait.
func newSQSClient(ctx context.Context) (*sqs.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return sqs.NewFromConfig(cfg), nil
}

// checkQueueURL reports what is wrong with a queue URL given as flag name,
// or nil.
func checkQueueURL(name, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("%s: want a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/autogroup-retry, found %q", name, s)
	}
	return nil
}

// queueError is the failure of an SQS call: what was being done, and the
// error, told briefly, with the IAM action to grant when access was denied.
type queueError struct {
	action string // the IAM action, such as "sqs:ReceiveMessage"
	what   string
	err    error
}

func (e *queueError) Error() string {
	var b strings.Builder
	b.WriteString(e.what + ": ")
	var apiErr smithy.APIError
	if !errors.As(e.err, &apiErr) {
		b.WriteString(e.err.Error())
		return b.String()
	}
	b.WriteString(apiErr.ErrorCode())
	if msg := apiErr.ErrorMessage(); msg != "" {
		b.WriteString(": " + msg)
	}
	switch code := apiErr.ErrorCode(); {
	case strings.Contains(code, "AccessDenied"), code == "KMS.AccessDeniedException":
		fmt.Fprintf(&b, " (the caller needs IAM permission %s on the queue, and on its KMS key if it has one)", e.action)
	case strings.Contains(code, "NonExistentQueue"), code == "QueueDoesNotExist":
		b.WriteString(" (check the queue URL and the region)")
	}
	return b.String()
}

func (e *queueError) Unwrap() error { return e.err }
