// Package sigv4 owns the authentication of incoming API calls: checking AWS
// Signature Version 4 on an HTTP request (the Authorization header, and
// query-string presigned URLs) against the credentials the server knows,
// and the local credentials file that the server creates on its first start
// so that the AWS CLI and SDKs can sign for it.
//
// The AWS SDKs only sign; no library verifies. Verifying must rebuild the
// canonical request from what arrived on the wire (the raw path and query,
// the headers the client chose to sign), so it is written here by hand,
// after the SigV4 specification, and tested against the SDK's own signer and
// against requests signed by botocore. Reading the credentials file is left
// to the SDK's shared-config loader.
//
// Every refusal is an *Error carrying AWS's exception name, message and
// HTTP status, ready to be rendered by the API layer as a JSON 1.1 error.
package sigv4
