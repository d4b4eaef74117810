package membership_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// exampleCognito knows two groups and throttles the first call for "staff".
type exampleCognito struct {
	mu         sync.Mutex
	staffCalls int
}

func (c *exampleCognito) AdminAddUserToGroup(_ context.Context, in *cip.AdminAddUserToGroupInput, _ ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch aws.ToString(in.GroupName) {
	case "staff":
		if c.staffCalls++; c.staffCalls == 1 {
			return nil, &types.TooManyRequestsException{Message: aws.String("Too many requests.")}
		}
	case "engineering":
	default:
		return nil, &types.ResourceNotFoundException{Message: aws.String("Group not found.")}
	}
	return &cip.AdminAddUserToGroupOutput{}, nil
}

func ExampleAdder_Add() {
	// In production: client, err := membership.NewCognitoClient(ctx)
	adder := membership.NewAdder(&exampleCognito{}, membership.Options{})
	results := adder.Add(context.Background(), "us-east-1_abc", "user-1", []string{"staff", "engineering", "admins"})
	for _, r := range results {
		fmt.Println(r.Group, r.Kind, r.Attempts)
		if r.Err != nil {
			fmt.Println(r.Err)
		}
	}
	// Output:
	// staff ok 2
	// engineering ok 1
	// admins group_not_found 1
	// add user to group "admins": group does not exist in user pool us-east-1_abc (ResourceNotFoundException: Group not found.)
}

func ExampleClassify() {
	err := fmt.Errorf("operation error: %w", &types.TooManyRequestsException{})
	k := membership.Classify(err)
	fmt.Println(k, k.Retryable())

	err = fmt.Errorf("operation error: %w", &types.ResourceNotFoundException{})
	k = membership.Classify(err)
	fmt.Println(k, k.Retryable())

	fmt.Println(membership.Classify(context.DeadlineExceeded))
	fmt.Println(membership.Classify(errors.New("something else")))
	// Output:
	// throttled true
	// group_not_found false
	// timed_out
	// unknown
}
