// Package trigger owns what starts a pipeline: it decides, for an event
// from outside, which pipelines it starts, with the trigger each execution
// records (CodePipeline's ExecutionTrigger: Webhook, WebhookV2,
// CloudWatchEvent, PollForSourceChanges, ... and its detail) and the
// revisions its source actions fetch. It does no I/O.
//
//   - Git pushes and pull requests, from the repository-level webhook
//     endpoint: every pipeline whose CodeStarSourceConnection source names
//     the repository (FullRepositoryId) is considered. A V2 pipeline with a
//     trigger for that source applies its push and pullRequest filters
//     (branches, tags, file paths, pull request events; includes and
//     excludes, an exclude winning; filters OR'ed, their parts AND'ed). A
//     V1 pipeline, a source without a trigger, or a trigger without
//     filters starts on a push to the action's BranchName, unless
//     DetectChanges is false. The execution builds the pushed commit, or a
//     pull request's source commit.
//   - EventBridge events: a CodeCommit branch created or updated, an S3
//     object created.
//   - Deliveries to webhooks that PutWebhook defined start their target
//     pipeline.
//
// Choices where CodePipeline's documentation is silent: a push filter with
// tags matches tag pushes only and one without tags branch pushes only; a
// criteria without includes includes everything; a file path filter
// matches when one changed file is included and not excluded, and does not
// match when the changed files are not known; GitHub's reopened counts as
// OPEN and a closed pull request is CLOSED whether merged or not; a
// deleted branch or tag starts nothing. Trigger filter globs follow Java's
// glob syntax, which CodePipeline uses (see Glob); they are compiled here by
// hand to RE2 expressions because Go's path.Match has neither ** nor {a,b}.
package trigger
