package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfig"
	"github.com/aws/aws-sdk-go-v2/service/appconfig/types"
)

// appConfigAPI is what publish calls. *appconfig.Client implements it.
type appConfigAPI interface {
	appconfig.ListApplicationsAPIClient
	appconfig.ListEnvironmentsAPIClient
	appconfig.ListConfigurationProfilesAPIClient
	appconfig.ListDeploymentStrategiesAPIClient
	appconfig.ListDeploymentsAPIClient
	GetHostedConfigurationVersion(ctx context.Context, in *appconfig.GetHostedConfigurationVersionInput, optFns ...func(*appconfig.Options)) (*appconfig.GetHostedConfigurationVersionOutput, error)
	CreateHostedConfigurationVersion(ctx context.Context, in *appconfig.CreateHostedConfigurationVersionInput, optFns ...func(*appconfig.Options)) (*appconfig.CreateHostedConfigurationVersionOutput, error)
	StartDeployment(ctx context.Context, in *appconfig.StartDeploymentInput, optFns ...func(*appconfig.Options)) (*appconfig.StartDeploymentOutput, error)
	GetDeployment(ctx context.Context, in *appconfig.GetDeploymentInput, optFns ...func(*appconfig.Options)) (*appconfig.GetDeploymentOutput, error)
}

// appConfigIDs are the ids the control plane takes.
type appConfigIDs struct {
	app, env, profile, strategy string
}

// resolveIDs turns the names (or ids) of o into ids: the control plane
// takes ids only, while RULES_SOURCE and people use names.
func resolveIDs(ctx context.Context, api appConfigAPI, o publishOptions) (appConfigIDs, error) {
	var ids appConfigIDs
	var err error
	if ids.app, err = find(ctx, "application", o.app, func(next *string) ([]pair, *string, error) {
		out, err := api.ListApplications(ctx, &appconfig.ListApplicationsInput{NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return pairs(out.Items, func(it types.Application) (*string, *string) { return it.Id, it.Name }), out.NextToken, nil
	}); err != nil {
		return ids, err
	}
	if ids.env, err = find(ctx, "environment", o.env, func(next *string) ([]pair, *string, error) {
		out, err := api.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: &ids.app, NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return pairs(out.Items, func(it types.Environment) (*string, *string) { return it.Id, it.Name }), out.NextToken, nil
	}); err != nil {
		return ids, err
	}
	if ids.profile, err = find(ctx, "configuration profile", o.profile, func(next *string) ([]pair, *string, error) {
		out, err := api.ListConfigurationProfiles(ctx, &appconfig.ListConfigurationProfilesInput{ApplicationId: &ids.app, NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return pairs(out.Items, func(it types.ConfigurationProfileSummary) (*string, *string) { return it.Id, it.Name }), out.NextToken, nil
	}); err != nil {
		return ids, err
	}
	ids.strategy, err = find(ctx, "deployment strategy", o.strategy, func(next *string) ([]pair, *string, error) {
		out, err := api.ListDeploymentStrategies(ctx, &appconfig.ListDeploymentStrategiesInput{NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return pairs(out.Items, func(it types.DeploymentStrategy) (*string, *string) { return it.Id, it.Name }), out.NextToken, nil
	})
	return ids, err
}

type pair struct{ id, name string }

// pairs returns the id and name of each item of a list page.
func pairs[T any](items []T, idName func(T) (id, name *string)) []pair {
	ps := make([]pair, 0, len(items))
	for _, it := range items {
		id, name := idName(it)
		ps = append(ps, pair{aws.ToString(id), aws.ToString(name)})
	}
	return ps
}

// find returns the id of the item whose id or name is want, reading the
// pages list returns. A name two items share is an error.
func find(ctx context.Context, kind, want string, list func(next *string) ([]pair, *string, error)) (string, error) {
	var found []string
	var next *string
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		ps, tok, err := list(next)
		if err != nil {
			return "", fmt.Errorf("list the %ss: %s", kind, apiMessage(err))
		}
		for _, p := range ps {
			if p.id == want {
				return p.id, nil
			}
			if p.name == want {
				found = append(found, p.id)
			}
		}
		if tok == nil || *tok == "" {
			break
		}
		next = tok
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no %s named %q (or with that id)", kind, want)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d %ss are named %q: give the id (one of %v)", len(found), kind, want, found)
}
