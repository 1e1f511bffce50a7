//! Errors as the identity-sync API answers them: a status, the
//! `x-amzn-ErrorType` header and a `{"__type", "message"}` JSON body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Every error code the emulator can answer with, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ErrorCode {
    /// 400: a bad field.
    ValidationException,
    /// 400: the `Authorization` header is malformed.
    IncompleteSignatureException,
    /// 403: IAM denies the action.
    AccessDeniedException,
    /// 403: bad signature, wrong service or region, or a stale date.
    InvalidSignatureException,
    /// 403: unknown access key.
    UnrecognizedClientException,
    /// 403: no `Authorization` header at all.
    MissingAuthenticationTokenException,
    /// 404: no such profile, target or filter.
    ResourceNotFoundException,
    /// 404: no operation for this method and path.
    UnknownOperationException,
    /// 409: already exists.
    ConflictException,
    /// 429: too many requests.
    ThrottlingException,
    /// 500: server fault.
    InternalServerException,
    /// 503: server overloaded.
    ServiceUnavailableException,
    /// 400: the directory cannot answer (Directory Service Data; 400 in its model).
    DirectoryUnavailableException,
    /// 400: a code no client knows (for tests: a client must not depend on a code).
    SomethingNewException,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::ValidationException,
        ErrorCode::IncompleteSignatureException,
        ErrorCode::AccessDeniedException,
        ErrorCode::InvalidSignatureException,
        ErrorCode::UnrecognizedClientException,
        ErrorCode::MissingAuthenticationTokenException,
        ErrorCode::ResourceNotFoundException,
        ErrorCode::UnknownOperationException,
        ErrorCode::ConflictException,
        ErrorCode::ThrottlingException,
        ErrorCode::InternalServerException,
        ErrorCode::ServiceUnavailableException,
        ErrorCode::DirectoryUnavailableException,
        ErrorCode::SomethingNewException,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::IncompleteSignatureException => "IncompleteSignatureException",
            ErrorCode::AccessDeniedException => "AccessDeniedException",
            ErrorCode::InvalidSignatureException => "InvalidSignatureException",
            ErrorCode::UnrecognizedClientException => "UnrecognizedClientException",
            ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorCode::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::ConflictException => "ConflictException",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::InternalServerException => "InternalServerException",
            ErrorCode::ServiceUnavailableException => "ServiceUnavailableException",
            ErrorCode::DirectoryUnavailableException => "DirectoryUnavailableException",
            ErrorCode::SomethingNewException => "SomethingNewException",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::ValidationException
            | ErrorCode::IncompleteSignatureException
            | ErrorCode::DirectoryUnavailableException
            | ErrorCode::SomethingNewException => StatusCode::BAD_REQUEST,
            ErrorCode::AccessDeniedException
            | ErrorCode::InvalidSignatureException
            | ErrorCode::UnrecognizedClientException
            | ErrorCode::MissingAuthenticationTokenException => StatusCode::FORBIDDEN,
            ErrorCode::ResourceNotFoundException | ErrorCode::UnknownOperationException => {
                StatusCode::NOT_FOUND
            }
            ErrorCode::ConflictException => StatusCode::CONFLICT,
            ErrorCode::ThrottlingException => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InternalServerException => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServiceUnavailableException => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an error code the emulator knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// An error answer of the API: a code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The error code (sets the status and the `x-amzn-ErrorType` header).
    pub code: ErrorCode,
    /// The message of the body.
    pub message: String,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// A `400 ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ValidationException, message)
    }

    /// A `404 ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ResourceNotFoundException, message)
    }

    /// A `409 ConflictException`.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ConflictException, message)
    }

    /// The JSON body: `{"__type": code, "message": message}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "__type": self.code.as_str(), "message": self.message })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.code.status(), axum::Json(self.body())).into_response();
        response.headers_mut().insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static(self.code.as_str()),
        );
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_from_its_wire_name() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        assert!("NoSuchThing".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn codes_carry_the_statuses_of_the_contract() {
        assert_eq!(ErrorCode::ValidationException.status(), 400);
        assert_eq!(ErrorCode::AccessDeniedException.status(), 403);
        assert_eq!(ErrorCode::ResourceNotFoundException.status(), 404);
        assert_eq!(ErrorCode::ConflictException.status(), 409);
        assert_eq!(ErrorCode::ThrottlingException.status(), 429);
        assert_eq!(ErrorCode::InternalServerException.status(), 500);
        assert_eq!(ErrorCode::ServiceUnavailableException.status(), 503);
        assert_eq!(ErrorCode::DirectoryUnavailableException.status(), 400);
    }

    #[test]
    fn an_error_response_carries_header_status_and_body() {
        let response = ApiError::conflict("already there").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers().get("x-amzn-ErrorType"),
            Some(&HeaderValue::from_static("ConflictException"))
        );
        assert_eq!(
            ApiError::conflict("already there").body(),
            serde_json::json!({"__type": "ConflictException", "message": "already there"})
        );
    }
}
