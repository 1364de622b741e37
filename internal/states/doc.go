// Package states owns the embedded Step Functions engine: it runs Amazon
// States Language state machines (parsed by package asl) with the
// behaviour, history events and error texts of AWS Step Functions, and
// offers the service's operations as a Go API (Engine) for the API server
// and the pipeline runtime.
//
// # Event sourcing
//
// Every execution is its history. The interpreter appends each event to an
// EventLog before it acts on it: events are queued in order and flushed
// (made durable) before anything leaves the engine — a task dispatched to a
// handler, a timer waited on, a SendTask* call answered, an execution
// reported closed. The SQLite log (package history) commits the flushes of
// all executions together (group commit).
//
// An execution is rebuilt from its events by running it again in replay:
// every branch of a Parallel state and every iteration of a Map state is a
// scope with its own sequence of events, and a scope that replays takes the
// recorded event (with its time, output, variables, transition, task token
// and retry delay) wherever it would emit a new one. A task whose outcome
// is recorded is not dispatched again; one that was scheduled but has no
// outcome is dispatched again with the same idempotency key (TaskInfo); a
// .waitForTaskToken task that was submitted waits again for the same token.
// Deadlines are computed from recorded times, so Wait states, retry
// back-off, task and heartbeat timeouts and execution timeouts keep them
// across a restart. SendTaskHeartbeat, which AWS records in no history
// event, writes the heartbeat's time to the log beside the history
// (EventLog.Beat) before it answers. Redrive uses the same machinery, after cutting from the
// history the part of each scope that failed; the first event after
// ExecutionRedriven names it as its previous event. (No history recorded
// on AWS across a redrive was at hand to confirm this; it follows how AWS
// chains previousEventId to the event that led to one.)
//
// # Concurrency
//
// Each execution runs in goroutines (one per scope) that take turns with a
// baton: one of them runs interpreter code at a time, and they hand over
// only where they wait, in a fixed order. Histories therefore do not depend
// on the Go scheduler, and task handlers still run concurrently.
//
// # Time
//
// Time comes from a Clock. RealClock is the wall clock; a VirtualClock
// moves to the next deadline as soon as every goroutine of the engine waits,
// so that Wait states, back-off and timeouts pass instantly in tests and in
// `sluice states run --virtual-clock`.
//
// # Tasks
//
// Task states are answered by Go handlers registered by resource ARN
// (Registry), or by the mocked responses of a Step Functions Local
// MockConfigFile test case. Nothing real is ever called: a Task with
// neither fails, unless it waits for a task token and the engine parks such
// tokens for a person or a script to answer (Options.ParkUnhandled).
//
// A Map state's ItemReader and ResultWriter go through the registry too,
// since locally there is no S3: the ItemReader's handler is given
// {"Resource", "Parameters", "ReaderConfig"} (the evaluated Parameters or
// Arguments, and the ReaderConfig as declared, so that it parses the object
// as AWS would) and returns the items; its error fails the state with
// States.ItemReaderFailed. The handler of a ResultWriter's arn:aws:states:::s3:putObject
// is called once for each object AWS would write for the Map Run (the
// SUCCEEDED_0, FAILED_0 and PENDING_0 result files, then manifest.json),
// with the parameters of an S3 PutObject call: {"Bucket", "Key", "Body"}.
//
// The interpreter, the history and the replay are written by hand: no Go
// library implements the States Language, and the embedded engine must
// reproduce AWS's event and error details exactly.
package states
