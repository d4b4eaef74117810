package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// permissionAdder is what attach --add-permission calls. *lambda.Client
// implements it.
type permissionAdder interface {
	AddPermission(ctx context.Context, in *lambda.AddPermissionInput, optFns ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
}

// newLambdaClient builds the Lambda client from the standard AWS
// configuration and the flags o (--region, --profile; the region defaults to
// the pool id's). AWS_ENDPOINT_URL_LAMBDA points it at an emulator.
func newLambdaClient(ctx context.Context, o *awsOptions, poolID string) (permissionAdder, error) {
	if o == nil {
		o = &awsOptions{}
	}
	cfg, err := loadAWSConfig(ctx, o, poolID)
	if err != nil {
		return nil, err
	}
	return lambda.NewFromConfig(cfg), nil
}

// permissionStatement is the statement id of the invoke permission attach
// adds for a pool.
func permissionStatement(poolID string) string {
	return "cognito-autogroup-" + strings.ReplaceAll(poolID, ":", "-")
}

// addInvokePermissions lets the pool (poolARN) invoke each function: the
// resource policy statement the template's PostConfirmationInvokePermission
// makes, principal cognito-idp.amazonaws.com, for this pool and its account
// only. A statement that is already there counts as added.
func (e *env) addInvokePermissions(poolID, poolARN string, functions []string) error {
	parts := strings.Split(poolARN, ":")
	if len(parts) < 6 || parts[4] == "" {
		return fmt.Errorf("user pool ARN %q names no account", poolARN)
	}
	newClient := e.lambda
	if newClient == nil {
		newClient = func(ctx context.Context) (permissionAdder, error) { return newLambdaClient(ctx, e.aws, poolID) }
	}
	api, err := newClient(e.ctx)
	if err != nil {
		return err
	}
	for _, fn := range functions {
		_, err := api.AddPermission(e.ctx, &lambda.AddPermissionInput{
			FunctionName:  aws.String(fn),
			StatementId:   aws.String(permissionStatement(poolID)),
			Action:        aws.String("lambda:InvokeFunction"),
			Principal:     aws.String("cognito-idp.amazonaws.com"),
			SourceArn:     aws.String(poolARN),
			SourceAccount: aws.String(parts[4]),
		})
		var exists *lambdatypes.ResourceConflictException
		switch {
		case errors.As(err, &exists):
			printf(e.stdout, "Invoke permission for the pool on %s: already there.\n", fn)
		case err != nil:
			return fmt.Errorf("add the invoke permission to %s (the caller needs lambda:AddPermission): %w", fn, err)
		default:
			printf(e.stdout, "Invoke permission for the pool on %s: added.\n", fn)
		}
	}
	return nil
}
