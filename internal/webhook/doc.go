// Package webhook owns the receiving end of webhooks: GitHub deliveries to
// the repository-level endpoint and to the webhooks that CodePipeline's
// PutWebhook defines. It checks a delivery before anything is started from
// it: the authentication (GITHUB_HMAC: HMAC-SHA256 of the raw body, compared
// in constant time; IP: the sender's address in an allowed CIDR range;
// UNAUTHENTICATED), a cap on the body read before it is read in full, the
// de-duplication of deliveries, the webhook's JsonPath filters with their
// {ConfigKey} placeholders, and the decoding of push and pull_request
// payloads. An accepted delivery is handed to a callback and the sender gets
// its answer at once; the callback starts executions.
//
// URLs. The server mounts Handler under PathPrefix. PutWebhook returns
//
//	<endpoint>/webhooks/<webhook-name>/<token>
//
// where token is 32 random hex characters, the secret part of the URL: it
// stays the same when PutWebhook updates the webhook, and a webhook deleted
// and created again gets a new one, as CodePipeline does. The
// repository-level endpoint of V2 pipelines is
//
//	<endpoint>/webhooks/github
//
// which a GitHub App or repository webhook posts to, signed with the
// server's repository secret. CodePipeline's own webhook URLs have another
// shape (https://<region>.webhooks.aws/trigger?t=...); nothing depends on it.
//
// X-Forwarded-For is ignored unless the connection comes from a proxy listed
// in Handler.TrustedProxies; then the right-most address in the header that
// is not a trusted proxy is the sender, so that a client cannot choose its
// own address by sending the header itself. Behind API Gateway, the adapter
// that turns the Lambda event into an http.Request sets RemoteAddr to the
// event's source IP, which API Gateway itself observed.
//
// De-duplication keys on X-GitHub-Delivery, and for a signed delivery on its
// signature too. A delivery to an IP or UNAUTHENTICATED webhook without
// X-GitHub-Delivery is not de-duplicated: CodePipeline's webhooks accept
// such calls from any sender, and two identical calls may be meant.
//
// Checking a signature and matching filters take microseconds; the package
// is written by hand because no library covers CodePipeline's webhook
// semantics, and GitHub's payloads are decoded with encoding/json into the
// few fields that triggers need.
package webhook
