// Command fn is the function of the Lambda invoke action's tests: a
// provided.al2023 function written as such functions are, on
// aws-lambda-go and the SDK's CodePipeline client, which does what its
// UserParameters say:
//
//	{"mode": "succeed", "vars": {...}}  report success with the variables and
//	                                    the input artifact's files, and
//	                                    write an output artifact holding
//	                                    answer.txt
//	{"mode": "fail", "message": "..."}  report failure
//	{"mode": "continue", "rounds": 3}   ask to continue until the last round,
//	                                    checking GetJobDetails each time
//	{"mode": "misuse"}                  report the error of a refused report
//	{"mode": "panic"}, {"mode": "exit"}, {"mode": "error"}, {"mode": "silent"}
//	                                    end without reporting: a panic, an
//	                                    exit, an error returned, a return
//	{"mode": "sleep", "seconds": 5}     sleep, then report success
//	{"mode": "env"}                     report what it sees as variables
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

type params struct {
	Mode    string            `json:"mode"`
	Vars    map[string]string `json:"vars"`
	Message string            `json:"message"`
	Rounds  int               `json:"rounds"`
	Seconds int               `json:"seconds"`
}

var client *codepipeline.Client

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "load config:", err)
		os.Exit(1)
	}
	client = codepipeline.NewFromConfig(cfg)
	fmt.Println("initialised", os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	lambda.Start(handle)
}

func handle(ctx context.Context, ev events.CodePipelineJobEvent) error {
	job := ev.CodePipelineJob
	var p params
	if err := json.Unmarshal([]byte(job.Data.ActionConfiguration.Configuration.UserParameters), &p); err != nil {
		return fmt.Errorf("UserParameters: %w", err)
	}
	fmt.Printf("job %s: %s\n", job.ID, p.Mode)
	switch p.Mode {
	case "succeed":
		vars := map[string]string{}
		for k, v := range p.Vars {
			vars[k] = v
		}
		if err := artifacts(job.Data, vars); err != nil {
			return err
		}
		return succeed(ctx, job.ID, vars)
	case "fail":
		_, err := client.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
			JobId:          aws.String(job.ID),
			FailureDetails: &types.FailureDetails{Type: types.FailureTypeJobFailed, Message: aws.String(p.Message)},
		})
		return err
	case "continue":
		details, err := client.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String(job.ID)})
		if err != nil {
			return err
		}
		if got := aws.ToString(details.JobDetails.Data.ContinuationToken); got != job.Data.ContinuationToken {
			return fmt.Errorf("GetJobDetails gives the continuation token %q, the event %q", got, job.Data.ContinuationToken)
		}
		round, jobs := 1, job.ID
		if t := job.Data.ContinuationToken; t != "" {
			n, seen, _ := strings.Cut(t, ":")
			prev, _ := strconv.Atoi(n)
			round, jobs = prev+1, seen+","+job.ID
		}
		if round < p.Rounds {
			_, err := client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
				JobId: aws.String(job.ID), ContinuationToken: aws.String(strconv.Itoa(round) + ":" + jobs),
			})
			return err
		}
		return succeed(ctx, job.ID, map[string]string{"Rounds": strconv.Itoa(round), "Jobs": jobs})
	case "misuse":
		_, err := client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
			JobId: aws.String(job.ID), ContinuationToken: aws.String("next"), OutputVariables: map[string]string{"A": "b"},
		})
		if err == nil {
			return errors.New("PutJobSuccessResult took output variables with a continuation token")
		}
		_, err = client.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
			JobId:          aws.String(job.ID),
			FailureDetails: &types.FailureDetails{Type: types.FailureTypeConfigurationError, Message: aws.String(err.Error())},
		})
		return err
	case "panic":
		panic("the function panicked")
	case "exit":
		os.Exit(3)
	case "error":
		return errors.New("the function failed")
	case "silent":
		return nil
	case "sleep":
		time.Sleep(time.Duration(p.Seconds) * time.Second)
		return succeed(ctx, job.ID, nil)
	case "env":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		vars := map[string]string{
			"AccountId":   job.AccountID,
			"RequestId":   lc.AwsRequestID,
			"FunctionArn": lc.InvokedFunctionArn,
			"Deadline":    strconv.FormatBool(time.Until(deadline) > 0),
			"Cwd":         cwd(),
			"SignsWith":   strconv.FormatBool(os.Getenv("AWS_ACCESS_KEY_ID") != "" && os.Getenv("AWS_SECRET_ACCESS_KEY") != ""),
		}
		for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
			"AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT", "STAGE", "SLUICE_ARTIFACTS_DIR", "AWS_LAMBDA_LOG_GROUP_NAME"} {
			vars[strings.ReplaceAll(k, "_", "-")] = os.Getenv(k)
		}
		return succeed(ctx, job.ID, vars)
	}
	return fmt.Errorf("unknown mode %q", p.Mode)
}

func cwd() string {
	d, _ := os.Getwd()
	return d
}

func succeed(ctx context.Context, id string, vars map[string]string) error {
	_, err := client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
		JobId:            aws.String(id),
		ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("done by the function")},
		OutputVariables:  vars,
	})
	return err
}

// artifacts reports the files of the first input artifact as variables
// File-<name> and writes answer.txt to the first output artifact, in the
// artifact folder.
func artifacts(d events.CodePipelineData, vars map[string]string) error {
	dir := os.Getenv("SLUICE_ARTIFACTS_DIR")
	if len(d.InputArtifacts) > 0 {
		r, err := zip.OpenReader(filepath.Join(dir, d.InputArtifacts[0].Location.S3Location.ObjectKey))
		if err != nil {
			return fmt.Errorf("open input artifact: %w", err)
		}
		defer r.Close()
		for _, f := range r.File {
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("read input artifact: %w", err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			vars["File-"+strings.TrimSuffix(f.Name, filepath.Ext(f.Name))] = strings.TrimSpace(string(b))
		}
	}
	if len(d.OutPutArtifacts) > 0 {
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, _ := z.Create("answer.txt")
		io.WriteString(w, "42\n")
		z.Close()
		path := filepath.Join(dir, d.OutPutArtifacts[0].Location.S3Location.ObjectKey)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
	return nil
}
