package pipeline

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// Form is the shape of a pipeline file.
type Form string

// The forms Parse recognises.
const (
	// FormDeclaration is a bare pipeline declaration, as
	// `aws codepipeline create-pipeline --pipeline file://…` takes it.
	FormDeclaration Form = "declaration"
	// FormCreatePipeline is a CreatePipeline request: {"pipeline": …, "tags": …}.
	FormCreatePipeline Form = "create-pipeline"
	// FormGetPipeline is a GetPipeline response: {"pipeline": …, "metadata": …},
	// also inside a recorded-response envelope {"status_code": …, "data": …}.
	FormGetPipeline Form = "get-pipeline"
	// FormCloudFormation is a CloudFormation or SAM template with
	// AWS::CodePipeline::Pipeline resources, or one such resource.
	FormCloudFormation Form = "cloudformation"
)

// Format is the syntax of a pipeline file.
type Format string

// The syntaxes Parse reads.
const (
	FormatJSON Format = "json"
	FormatYAML Format = "yaml"
)

// Options tune parsing.
type Options struct {
	// Params gives values to CloudFormation template parameters by name, and
	// may override the pseudo parameters (AWS::Region, AWS::AccountId, …).
	Params map[string]string
}

// File is a parsed pipeline file.
type File struct {
	Form   Form
	Format Format
	// Pipelines holds one pipeline, or, for a CloudFormation template, one
	// per AWS::CodePipeline::Pipeline resource in template order.
	Pipelines []*Pipeline
	// Metadata is the metadata of a GetPipeline response.
	Metadata *PipelineMetadata
	// Notes are problems with the file as a whole, such as duplicate keys.
	Notes []Problem

	// root is the whole document and at the path of the declaration in it,
	// so that Canonical can put a canonical declaration back in its envelope.
	root any
	at   []string
	// header is the comment block at the top of a YAML file, and
	// innerComments says whether it has comments elsewhere.
	header        string
	innerComments bool
}

// Pipeline is one declaration read from a file, with what reading it found.
type Pipeline struct {
	// Resource is the CloudFormation logical ID; empty for the other forms.
	Resource string
	// Declaration is the declaration as read. In a CloudFormation template,
	// values that cannot be known statically hold their expression
	// ("!GetAtt Role.Arn") and are listed by Unresolved.
	Declaration *Declaration
	// Notes are the problems found while reading: unknown fields, values of
	// the wrong type, unresolved CloudFormation values.
	Notes []Problem
	// Tags are the tags of a CreatePipeline request or of the template's
	// Tags property.
	Tags []Tag
	// DisabledTransitions are the template's DisableInboundStageTransitions.
	DisabledTransitions []StageTransition
	// Region is the pipeline's own region when the file tells it: the
	// pipeline ARN of a GetPipeline response, AWS::Region for a template
	// (us-east-1 unless given), or --param AWS::Region=… for any form.
	Region string

	unresolved map[string]bool
	dropped    bool
	// derived holds the paths of values computed by CloudFormation
	// intrinsics rather than written out.
	derived map[string]bool
}

// Load reads and parses the pipeline file at name.
func Load(name string, opts Options) (*File, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read pipeline file: %w", err)
	}
	f, err := Parse(data, opts)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return f, nil
}

// Parse reads a pipeline file in any form, JSON or YAML, recognising the
// form by its top-level keys. It fails only when the data is not JSON or
// YAML or holds no pipeline; everything wrong inside a declaration is
// reported as problems.
func Parse(data []byte, opts Options) (*File, error) {
	f := &File{Format: FormatYAML}
	var (
		root     any
		warnings []string
		err      error
	)
	if tree.LooksLikeJSON(data) {
		f.Format = FormatJSON
		root, warnings, err = tree.ParseJSON(data)
	} else {
		root, warnings, err = tree.ParseYAML(data)
		if err == nil {
			f.header, f.innerComments = tree.YAMLComments(data)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s syntax: %w", f.Format, err)
	}
	for _, w := range warnings {
		f.Notes = append(f.Notes, Problem{Code: CodeDuplicateKey, Message: w, Severity: SeverityWarning})
	}
	f.root = root
	obj, ok := root.(*tree.Object)
	if !ok {
		return nil, fmt.Errorf("want an object at the top of the file, got %s", tree.Kind(root))
	}
	if err := f.detect(obj, opts); err != nil {
		return nil, err
	}
	for _, p := range f.Pipelines {
		if p.Region == "" {
			p.Region = opts.Params["AWS::Region"]
		}
		if p.Region == "" && f.Metadata != nil {
			p.Region = arnRegion(f.Metadata.PipelineArn)
		}
	}
	return f, nil
}

// arnRegion returns the region field of an ARN.
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// detect recognises the form of the document and reads its pipelines.
func (f *File) detect(obj *tree.Object, opts Options) error {
	has := func(o *tree.Object, key string) bool { _, ok := o.Get(key); return ok }
	if data, ok := obj.Get("data"); ok && has(obj, "status_code") {
		inner, isObj := data.(*tree.Object)
		if !isObj || !has(inner, "pipeline") {
			return errors.New("a recorded response without a pipeline in its data")
		}
		if err := f.readEnvelope(inner, FormGetPipeline); err != nil {
			return err
		}
		f.at = append([]string{"data"}, f.at...)
		return nil
	}
	switch {
	case has(obj, "Resources") || has(obj, "AWSTemplateFormatVersion"):
		return f.readTemplate(obj, opts)
	case has(obj, "Type") && has(obj, "Properties"):
		return f.readTemplate(wrapResource(obj), opts)
	case has(obj, "pipeline"):
		form := FormCreatePipeline
		if has(obj, "metadata") {
			form = FormGetPipeline
		}
		return f.readEnvelope(obj, form)
	case hasAny(obj, "stages", "artifactStore", "artifactStores", "roleArn", "pipelineType", "executionMode", "variables", "triggers"):
		f.Form = FormDeclaration
		f.Pipelines = []*Pipeline{decodeDeclaration(obj, nil)}
		return nil
	case has(obj, "Stages"):
		return f.readTemplate(wrapResource(&tree.Object{Members: []tree.Member{
			{Key: "Type", Value: pipelineResourceType}, {Key: "Properties", Value: obj}}}), opts)
	}
	return errors.New("no pipeline found: want a declaration (stages, …), a CreatePipeline request or " +
		"GetPipeline response ({\"pipeline\": …}), or a CloudFormation template with an " + pipelineResourceType + " resource")
}

func hasAny(o *tree.Object, keys ...string) bool {
	for _, k := range keys {
		if _, ok := o.Get(k); ok {
			return true
		}
	}
	return false
}

// wrapResource makes a template of a lone resource, named Pipeline.
func wrapResource(res *tree.Object) *tree.Object {
	return &tree.Object{Members: []tree.Member{{Key: "Resources", Value: &tree.Object{
		Members: []tree.Member{{Key: "Pipeline", Value: res}}}}}}
}

// readEnvelope reads a CreatePipeline request or GetPipeline response.
func (f *File) readEnvelope(obj *tree.Object, form Form) error {
	f.Form = form
	f.at = []string{"pipeline"}
	d := &decoder{unresolved: map[string]bool{}}
	var tags []Tag
	for _, m := range obj.Members {
		switch m.Key {
		case "pipeline":
			decl, ok := m.Value.(*tree.Object)
			if !ok {
				return fmt.Errorf("pipeline: want an object, got %s", tree.Kind(m.Value))
			}
			f.Pipelines = []*Pipeline{decodeDeclaration(decl, nil)}
		case "tags":
			d.decode(m.Value, reflect.ValueOf(&tags).Elem(), "tags")
		case "metadata":
			d.decode(m.Value, reflect.ValueOf(&f.Metadata).Elem(), "metadata")
		case "ResponseMetadata":
			// Added by AWS SDKs to every response; not part of GetPipeline.
		default:
			d.warnf(path(m.Key), CodeUnknownField, "unknown field '%s' next to the pipeline%s",
				m.Key, didYouMean(m.Key, []string{"pipeline", "tags", "metadata"}))
		}
	}
	if len(f.Pipelines) == 0 {
		return errors.New("pipeline: want an object, got null")
	}
	f.Pipelines[0].Tags = tags
	f.Notes = append(f.Notes, d.list...)
	return nil
}

// decodeDeclaration reads a declaration from the tree. unresolved holds the
// paths of values a template left unknown.
func decodeDeclaration(obj *tree.Object, notes []Problem) *Pipeline {
	d := &decoder{unresolved: map[string]bool{}}
	d.list = notes
	decl := &Declaration{}
	d.decodeStruct(obj, reflect.ValueOf(decl).Elem(), "")
	return &Pipeline{Declaration: decl, Notes: d.list, unresolved: d.unresolved, dropped: d.dropped}
}

// Unresolved lists the paths of the values that could not be known
// statically, in no particular order.
func (p *Pipeline) Unresolved() []string {
	out := make([]string, 0, len(p.unresolved))
	for k := range p.unresolved {
		out = append(out, k)
	}
	return out
}
