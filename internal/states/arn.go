package states

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// ARN resource types of the engine's operations.
const (
	stateMachineResource = "stateMachine"
	executionResource    = "execution"
)

// checkArn checks that s is a Step Functions ARN of a resource type:
// arn:<partition>:states:<region>:<account>:<type>:<name>, with the state
// machine's name before the execution's name in an execution ARN. The
// errors are InvalidArn with the service's messages.
func checkArn(s, resource string) error {
	a, err := arn.Parse(s)
	if err != nil {
		return apiError(ErrInvalidArn, "Invalid Arn: 'Invalid ARN prefix: %s'", s)
	}
	if a.Service != "states" {
		return apiError(ErrInvalidArn, "Invalid Arn: 'Service not valid in this context: %s'", a.Service)
	}
	typ, name, _ := strings.Cut(a.Resource, ":")
	if typ != resource {
		return apiError(ErrInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", typ)
	}
	parts := 1
	if resource == executionResource {
		parts = 2
	}
	if segs := strings.Split(name, ":"); len(segs) < parts || slices.Contains(segs[:parts], "") {
		return apiError(ErrInvalidArn, "Invalid Arn: 'Resource name not valid in this context: %s'", s)
	}
	return nil
}
