// Package lambda owns the Lambda invoke action (Invoke/AWS/Lambda) on local
// functions: a function F is the executable lambda/F/bootstrap (a
// provided.al2023 deployment package, unzipped) or lambda/F in the data
// folder, run unchanged through a local Lambda Runtime API, and invoked
// with the job's CodePipeline.job event as CodePipeline invokes it:
// asynchronously. The function reports its job to Sluice's CodePipeline
// API with PutJobSuccessResult or PutJobFailureResult; a report with a
// continuationToken has it invoked again with a new job.
//
// What a function sees. The environment of a provided.al2023 function
// (AWS_LAMBDA_RUNTIME_API, _HANDLER, AWS_REGION, AWS_DEFAULT_REGION,
// AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_INITIALIZATION_TYPE,
// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, LAMBDA_TASK_ROOT,
// LAMBDA_RUNTIME_DIR, TZ, LANG, and PATH from the host so that local tools
// are found), plus:
//
//   - AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the keys of the data
//     folder's credentials file, and AWS_ENDPOINT_URL_CODEPIPELINE: the
//     Sluice API, so that an SDK's PutJobSuccessResult reaches Sluice
//     unchanged;
//   - SLUICE_ARTIFACTS_DIR: the artifact store's folder. There is no local
//     S3 API: an artifact's s3Location has an empty bucketName and the
//     artifact store's key as objectKey, and the artifact is the zip file
//     $SLUICE_ARTIFACTS_DIR/<objectKey>. A function writes an output
//     artifact there itself (to a temporary name in the same folder, then
//     renamed, so that no reader sees a part of it). The event's
//     artifactCredentials are empty for the same reason;
//   - the variables of its configuration file, lambda/F.json (see Config),
//     which also sets its timeout: 15 minutes when it has none.
//
// Its working directory is the folder of its executable, and its output
// goes to the action's log between Lambda's START, END and REPORT lines.
//
// How an invocation ends. A function that ends its invocation (returns,
// fails, crashes, or runs out of time, and is then stopped) without having
// reported its job fails the action with CodePipeline's message ("The AWS
// Lambda function F failed to return a result. ...") followed by the
// invocation's error (errorType: errorMessage, as Lambda words
// Runtime.ExitError and Sandbox.Timedout). Unlike Lambda's asynchronous
// invocations, a failed invocation is not retried: locally the first
// failure is the one to see. The action's own timeout is the engine's.
//
// Environments are reused: a process that asks for its next invocation is
// given the next one of its function, and stopped after
// Host.IdleTimeout idle or when the executable or its configuration file
// changes.
//
// Like Lambda's queue of asynchronous invocations, an invocation is kept
// (in lambda/.invocations) until it has ended and its job is settled: the
// invocations that a stopped or crashed process left are invoked again when
// the next one connects its host, if their jobs still wait (the engine
// resumes their executions). A function is therefore invoked at least once
// per job, as in AWS.
//
// The Runtime API is written here by hand over net/http: Lambda publishes
// its specification but no server, and the runtime interface emulator is a
// program to run in a container, not a library.
package lambda

import (
	"context"
	"fmt"

	"github.com/sluice-ci/sluice/internal/action"
)

// ArtifactsEnv names the environment variable that holds the artifact
// store's folder.
const ArtifactsEnv = "SLUICE_ARTIFACTS_DIR"

// Action is the provider of the Lambda invoke action. Run checks the job
// and leaves it in progress; Invoke, called once the job is recorded (so
// that the function never reports a job that does not exist yet), invokes
// the function.
type Action struct {
	Host *Host
}

// Run checks that the job names a local function and says that its
// outcome comes later.
func (a *Action) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"FunctionName"}, 0, 5, 0, 5); res != nil {
		return res, nil
	}
	fn, err := a.Host.Locate(job.Configuration["FunctionName"])
	if err != nil {
		return action.Failed(action.CodeConfigurationError,
			"action %s: %v (a Lambda invoke action runs a local function from the data folder, or needs AWS)", job.ActionName, err), nil
	}
	fmt.Fprintf(job.Logger(), "Invoking function %s (%s) asynchronously with job %s\n", fn.Name, fn.Path, job.ID)
	return &action.Result{Status: action.StatusInProgress}, nil
}

// Invoke invokes the job's function; continuation is the token of a
// continued job.
func (a *Action) Invoke(ctx context.Context, job *action.Job, continuation string) error {
	return a.Host.Invoke(job, continuation)
}
