// Package pipeline owns pipeline declarations: the model (CodePipeline's
// PipelineDeclaration, field for field, V2 included), reading every form a
// user has (a bare declaration, a CreatePipeline request, a GetPipeline
// response, or an AWS::CodePipeline::Pipeline resource in a CloudFormation
// or SAM template; JSON or YAML), validation with CodePipeline's rules, and
// the registry of known action types.
//
// Parse and Load read a file into a File holding one Pipeline per
// declaration; Validate checks a Declaration and returns every Problem at
// once, each with the field path it concerns, a stable Code and a message
// in plain words.
//
// The declaration types decode and encode with encoding/json losslessly.
// Reading goes through the generic tree of package tree instead, by a small
// reflective decoder: encoding/json stops at the first mistake and cannot
// say where it was, while a user wants every unknown field and wrong type at
// once, each with its path.
package pipeline
