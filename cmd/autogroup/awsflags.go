package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-autogroup/cognito-autogroup/membership"
)

// awsOptions are the flags of the commands that talk to AWS (command.aws):
// they override the standard AWS environment.
type awsOptions struct {
	region, profile, endpoint string
	// none is true when the command has no AWS flags (nil options): its
	// messages name AWS_REGION, not --region.
	none bool
}

// defineAWSFlags defines --region, --profile and --endpoint-url on fs.
func defineAWSFlags(fs *flag.FlagSet) *awsOptions {
	o := &awsOptions{}
	fs.StringVar(&o.region, "region", "", "the AWS `REGION` (default: AWS_REGION or the profile's, else the pool id's, us-east-1 in us-east-1_EXAMPLE)")
	fs.StringVar(&o.profile, "profile", "", "the AWS shared-config `PROFILE` (default: AWS_PROFILE)")
	fs.StringVar(&o.endpoint, "endpoint-url", "", "send the Cognito calls to `URL`, such as an emulator (default: AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)")
	return o
}

// poolRegion matches a user pool id and captures its region.
var poolRegion = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$`)

// regionFromPool returns the region a user pool id names (us-east-1 for
// us-east-1_EXAMPLE), or "" when it names none.
func regionFromPool(poolID string) string {
	if m := poolRegion.FindStringSubmatch(poolID); m != nil {
		return m[1]
	}
	return ""
}

// newCognitoClient builds the Cognito client from the standard AWS
// configuration (environment, shared config and credentials files, profiles,
// SSO) and the flags o (nil: none), set up by membership.ConfigureClient: no
// SDK retries, tight transport timeouts. When neither the flags nor the
// configuration set a region, it is the one poolID names.
func newCognitoClient(ctx context.Context, o *awsOptions, poolID string) (*cip.Client, error) {
	if o == nil {
		o = &awsOptions{none: true}
	}
	cfg, err := loadAWSConfig(ctx, o, poolID)
	if err != nil {
		return nil, err
	}
	return cip.NewFromConfig(cfg, membership.ConfigureClient, func(co *cip.Options) {
		if o.endpoint != "" {
			co.BaseEndpoint = aws.String(o.endpoint)
		}
	}), nil
}

// loadAWSConfig loads the standard AWS configuration with the flags o
// (--region, --profile; not nil): the region, when neither sets one, is
// the one poolID names.
func loadAWSConfig(ctx context.Context, o *awsOptions, poolID string) (aws.Config, error) {
	var loads []func(*config.LoadOptions) error
	if o.region != "" {
		loads = append(loads, config.WithRegion(o.region))
	}
	if o.profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(o.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = regionFromPool(poolID)
	}
	hint := "set --region or AWS_REGION"
	if o.none {
		hint = "set AWS_REGION, or a region in the AWS profile"
	}
	if cfg.Region == "" && poolID == "" {
		return aws.Config{}, errors.New("no AWS region: " + hint)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: %s (the pool id %q names none)", hint, poolID)
	}
	return cfg, nil
}
