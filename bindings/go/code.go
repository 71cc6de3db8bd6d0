package warden

// Code is a verdict (0 = accepted, 1..18 the SPEC §3 rejection codes, same
// numbers as the C ABI) or, at 100 and above, a failed call.
type Code uint32

// Verdict and status codes (enum warden_code).
const (
	CodeOK              Code = 0
	CodeTooLarge        Code = 1
	CodeMalformed       Code = 2
	CodeUnsupportedAlg  Code = 3
	CodeUnknownKey      Code = 4
	CodeBadType         Code = 5
	CodeCritUnsupported Code = 6
	CodeBadSignature    Code = 7
	CodeExpired         Code = 8
	CodeNotYetValid     Code = 9
	CodeIssuedInFuture  Code = 10
	CodeLifetimeTooLong Code = 11
	CodeMissingClaim    Code = 12
	CodeBadIssuer       Code = 13
	CodeBadAudience     Code = 14
	CodeRevoked         Code = 15
	CodeBadAPIKey       Code = 16
	CodeBadCredentials  Code = 17
	CodeRateLimited     Code = 18
	// The call itself failed: a closed verifier, a non-finite time.
	CodeInvalidArgument Code = 100
	// warden caught a bug of its own (a Rust panic).
	CodeInternal       Code = 101
	CodeConfig         Code = 102
	CodeNotFound       Code = 103
	CodeBufferTooSmall Code = 104
	CodeWrongType      Code = 105
)

var codeNames = [...]string{
	"ok", "too_large", "malformed", "unsupported_alg", "unknown_key", "bad_type",
	"crit_unsupported", "bad_signature", "expired", "not_yet_valid", "issued_in_future",
	"lifetime_too_long", "missing_claim", "bad_issuer", "bad_audience", "revoked",
	"bad_api_key", "bad_credentials", "rate_limited",
}

var statusNames = [...]string{"invalid_argument", "internal", "config", "not_found", "buffer_too_small", "wrong_type"}

// String is the SPEC spelling ("bad_signature"), as warden_code_str.
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	if c >= 100 && int(c-100) < len(statusNames) {
		return statusNames[c-100]
	}
	return "unknown"
}

// ParseCode is the inverse of Code.String for verdict codes.
func ParseCode(s string) (Code, bool) {
	for i, n := range codeNames {
		if n == s {
			return Code(i), true
		}
	}
	return 0, false
}

// Kind is the credential kind a verdict is about.
type Kind uint32

// Credential kinds (enum warden_kind).
const (
	KindNone   Kind = 0
	KindJWT    Kind = 1
	KindAPIKey Kind = 2
	KindBasic  Kind = 3
)

// String is "jwt", "api_key", "basic" or "none".
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindJWT:
		return "jwt"
	case KindAPIKey:
		return "api_key"
	case KindBasic:
		return "basic"
	}
	return "unknown"
}
