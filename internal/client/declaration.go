package client

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// ToSDK converts a declaration to the SDK's type. The SDK's fields are the
// model's members, so encoding/json, which matches names regardless of
// case, fills them from the declaration's JSON.
func ToSDK(d *pipeline.Declaration) (*types.PipelineDeclaration, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode pipeline %s: %w", d.Name, err)
	}
	out := new(types.PipelineDeclaration)
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("convert pipeline %s: %w", d.Name, err)
	}
	return out, nil
}

// FromSDK converts the SDK's declaration, as GetPipeline answers it, to a
// declaration.
func FromSDK(d *types.PipelineDeclaration) (*pipeline.Declaration, error) {
	raw, err := MarshalJSON(d)
	if err != nil {
		return nil, err
	}
	out := new(pipeline.Declaration)
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("read the declaration of pipeline %s: %w", aws.ToString(d.Name), err)
	}
	return out, nil
}
