// Package events holds sample events, as Lambda and the Sluice server
// receive them: GitHub push and pull_request deliveries through API
// Gateway (headers and body, signed with the secret "sluice-sample-secret"),
// a CodeCommit "CodeCommit Repository State Change" and an S3 "Object
// Created" EventBridge event, a CodeBuild "Build State Change" event, and
// a PutApprovalResult call through API Gateway. They name the example
// pipelines of pipelines/. The package has no code: its test decodes every
// sample, checks that decoding loses nothing, and takes each through the
// package that handles it.
package events
