package action

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Registry finds the provider of an action type by category, owner and
// provider (the version is not part of the key: every provider handles all
// versions of its type). It is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	providers map[typeKey]Provider
}

type typeKey struct{ category, owner, provider string }

func keyOf(t Type) typeKey { return typeKey{t.Category, t.Owner, t.Provider} }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{providers: map[typeKey]Provider{}}
}

// Register makes p the provider of t's category, owner and provider,
// replacing any earlier one.
func (r *Registry) Register(t Type, p Provider) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.providers[keyOf(t)] = p
}

// Lookup returns the provider of t, or an *UnsupportedError naming t.
func (r *Registry) Lookup(t Type) (Provider, error) {
	r.mu.RLock()
	p, ok := r.providers[keyOf(t)]
	r.mu.RUnlock()
	if !ok {
		return nil, &UnsupportedError{Type: t}
	}
	return p, nil
}

// Types lists the registered types (without version), sorted.
func (r *Registry) Types() []Type {
	r.mu.RLock()
	defer r.mu.RUnlock()
	types := make([]Type, 0, len(r.providers))
	for k := range r.providers {
		types = append(types, Type{Category: k.category, Owner: k.owner, Provider: k.provider})
	}
	sort.Slice(types, func(i, j int) bool { return types[i].String() < types[j].String() })
	return types
}

// UnsupportedError says that no provider is registered for an action type.
type UnsupportedError struct {
	Type Type
}

// awsOnly are the AWS-owned providers that have no local stand-in: they run
// against AWS when credentials are configured.
var awsOnly = map[string]bool{
	"CloudFormation":               true,
	"CloudFormationStackSet":       true,
	"CloudFormationStackInstances": true,
	"ECS":                          true,
	"CodeDeploy":                   true,
	"CodeDeployToECS":              true,
	"ElasticBeanstalk":             true,
	"EKS":                          true,
	"EC2":                          true,
	"ECR":                          true,
	"ECRBuildAndPublish":           true,
	"AppConfig":                    true,
	"StepFunctions":                true,
	"ServiceCatalog":               true,
	"DeviceFarm":                   true,
	"AlexaSkillsKit":               true,
	"InspectorScan":                true,
	"CodePipeline":                 true,
	"OpsWorks":                     true,
}

func (e *UnsupportedError) Error() string {
	t := e.Type
	if t.Owner == "AWS" && awsOnly[t.Provider] {
		return fmt.Sprintf("action type %s has no local stand-in and needs AWS: no AWS back end is registered for it (configure AWS credentials)", t)
	}
	return fmt.Sprintf("action type %s has no registered back end", t)
}

// Run runs the job with the provider of its action type. When there is none
// the action fails with a ConfigurationError that names the action and its
// type, since retrying cannot help.
func (r *Registry) Run(ctx context.Context, job *Job) (*Result, error) {
	p, err := r.Lookup(job.ActionType)
	if err != nil {
		return Failed(CodeConfigurationError, "action %s: %v", job.ActionName, err), nil
	}
	return p.Run(ctx, job)
}
