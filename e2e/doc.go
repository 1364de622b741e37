// Package e2e tests the sluice command end to end, as a user runs it: the
// built binary on a fresh data folder, the demo pipeline from its sample
// application to the deployed site, and approvals decided by a second
// process while the first runs the execution. It holds tests only.
package e2e
