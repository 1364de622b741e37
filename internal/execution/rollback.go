package execution

import (
	"fmt"

	"github.com/sluice-ci/sluice/internal/store"
)

// RollbackRequest is what RollbackStage, or a stage's rollback on failure,
// decides on.
type RollbackRequest struct {
	Stage string
	// First is true for the pipeline's first stage (its source stage).
	First bool
	// Target is the execution to roll back to; TargetStage its record of
	// the stage (nil: it never ran the stage).
	Target      store.PipelineExecution
	TargetStage *store.StageExecution
	// PipelineVersion is the pipeline's current version.
	PipelineVersion int
	// Control is the stage's control item, Latest the record of the
	// execution that entered the stage last (nil: none did).
	Control store.StageControl
	Latest  *store.StageExecution
	// Automatic is a rollback on failure, decided as the stage ends: the
	// stage may already be running the next execution, which the rollback
	// then waits for.
	Automatic bool
}

// CheckRollback decides a rollback with CodePipeline's conditions: the
// source stage cannot be rolled back; the target succeeded in the stage,
// is not itself a rollback, and started in the pipeline's current version
// (else PipelineExecutionOutdatedException); the stage is not running now;
// and the stage does not already hold the target's run.
func CheckRollback(r RollbackRequest) error {
	t := r.Target
	switch {
	case r.First:
		return reject("UnableToRollbackStageException", "stage "+r.Stage+" is the source stage, which cannot be rolled back")
	case t.ExecutionType == store.TypeRollback:
		return reject("UnableToRollbackStageException", "pipeline execution "+t.PipelineExecutionID+" is a rollback; roll back to a standard execution")
	case t.PipelineVersion != r.PipelineVersion:
		return reject("PipelineExecutionOutdatedException", fmt.Sprintf(
			"pipeline execution %s ran version %d of the pipeline, which is now at version %d", t.PipelineExecutionID, t.PipelineVersion, r.PipelineVersion))
	case r.TargetStage == nil || r.TargetStage.Status != store.StageSucceeded:
		return reject("UnableToRollbackStageException", "pipeline execution "+t.PipelineExecutionID+" did not succeed in stage "+r.Stage)
	case r.Automatic:
	case r.Control.Holder != "" || len(r.Control.Parked) > 0 || r.Latest != nil && r.Latest.Status == store.StageInProgress:
		return reject("UnableToRollbackStageException", "stage "+r.Stage+" is running; roll it back once it has ended")
	case r.Latest != nil && r.Latest.PipelineExecutionID == t.PipelineExecutionID:
		return reject("UnableToRollbackStageException", "stage "+r.Stage+" already holds the run of pipeline execution "+t.PipelineExecutionID)
	}
	return nil
}
