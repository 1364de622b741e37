package sigv4

import "net/http"

// The exception names AWS's JSON protocols give to authentication failures.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	// CodeContentSHA256Mismatch is S3's name for a body that does not hash
	// to the x-amz-content-sha256 header the client signed.
	CodeContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
)

// The messages AWS answers with.
const (
	msgMissingToken = "Missing Authentication Token"
	msgBadToken     = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is a refused request, named and worded as AWS names and words it.
// The API layer renders it as {"__type": Code, "message": Message} with
// StatusCode.
type Error struct {
	Code       string
	Message    string
	StatusCode int
	// CanonicalRequest and StringToSign are what the server computed, set
	// when the signature does not match: they belong in the server's log,
	// where they show why a client's signature differs. They hold no secret.
	CanonicalRequest string
	StringToSign     string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func refuse(code, msg string) *Error {
	return &Error{Code: code, Message: msg, StatusCode: http.StatusBadRequest}
}
