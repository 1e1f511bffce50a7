//! The S3 publisher: puts a run's documents (`index.html`, `snippet.html`,
//! `groups.json`) under the live folder and a dated history folder of the docs bucket.
//!
//! Every object gets its content type with `charset=utf-8` and server-side encryption
//! (SSE-S3, AES-256). Live objects are cached briefly (`max-age=60`), because every run
//! replaces them; history objects never change, so they may be cached for a year.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use syncscope_core::docs::{DOCUMENTS, Layout};
use tokio::time::Instant;

/// Cache-Control of the live documents.
pub const LIVE_CACHE: &str = "max-age=60";
/// Cache-Control of the dated copies (they never change).
pub const HISTORY_CACHE: &str = "max-age=31536000, immutable";

/// Why the documents were not (all) published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A PutObject failed.
    #[error("failed to put s3://{bucket}/{key}: {message}")]
    Put {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The SDK error with its context.
        message: String,
    },
    /// The deadline passed first.
    #[error("ran out of time publishing to s3://{bucket}/{prefix}")]
    OutOfTime {
        /// The bucket.
        bucket: String,
        /// The folder.
        prefix: String,
    },
}

/// Where the documents went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The key of the live page.
    pub page_key: String,
    /// The page's https URL on S3 (readable only where the bucket policy allows).
    pub page_url: String,
}

/// Puts documents into the docs bucket.
#[derive(Debug, Clone)]
pub struct DocsPublisher {
    s3: aws_sdk_s3::Client,
    /// The account the docs bucket must belong to (`ExpectedBucketOwner` on every
    /// put): a bucket name taken over by another account is never written.
    owner: Option<String>,
}

impl DocsPublisher {
    /// Wraps an S3 client (path-style when pointed at a local endpoint); every put
    /// names `owner` as the bucket's expected owner (None: not checked).
    pub fn new(s3: aws_sdk_s3::Client, owner: Option<String>) -> Self {
        Self { s3, owner }
    }

    async fn put(
        &self,
        bucket: &str,
        key: String,
        body: &Path,
        content_type: &str,
        cache: &str,
    ) -> Result<(), PublishError> {
        let failed = |key: String, message: String| PublishError::Put {
            bucket: bucket.to_owned(),
            key,
            message,
        };
        let body = match ByteStream::from_path(body).await {
            Ok(body) => body,
            Err(e) => {
                return Err(failed(
                    key,
                    format!("cannot read the rendered document: {e}"),
                ));
            }
        };
        match self
            .s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(body)
            .content_type(content_type)
            .cache_control(cache)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .set_expected_bucket_owner(self.owner.clone())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(failed(key, crate::http::sdk_error(&e).to_string())),
        }
    }

    /// Publishes one document (`DOCUMENTS[index]`: its name and content type), rendered
    /// into the file `body`, to the live folder and, unless the layout has none, the
    /// history folder, both at once, before `deadline`. Each put streams the file: a
    /// run never holds a rendered document whole (peak memory at 10,000 filters,
    /// docs/benchmarks.md).
    pub async fn publish_one(
        &self,
        bucket: &str,
        layout: &Layout,
        index: usize,
        body: &Path,
        deadline: Instant,
    ) -> Result<(), PublishError> {
        let (name, content_type) = DOCUMENTS[index.min(DOCUMENTS.len() - 1)];
        let folders = std::iter::once((layout.live.as_str(), LIVE_CACHE))
            .chain(layout.history.as_deref().map(|h| (h, HISTORY_CACHE)));
        let puts = folders.map(|(folder, cache)| {
            self.put(bucket, format!("{folder}{name}"), body, content_type, cache)
        });
        let all = futures_util::future::join_all(puts);
        let results =
            tokio::time::timeout_at(deadline, all)
                .await
                .map_err(|_| PublishError::OutOfTime {
                    bucket: bucket.to_owned(),
                    prefix: layout.live.clone(),
                })?;
        results.into_iter().collect()
    }

    /// Where the live page of `layout` is, once published.
    pub fn published(&self, bucket: &str, layout: &Layout) -> Published {
        let page_key = format!("{}index.html", layout.live);
        let region = self
            .s3
            .config()
            .region()
            .map_or("us-east-1".to_owned(), |r| r.as_ref().to_owned());
        Published {
            page_url: format!("https://{bucket}.s3.{region}.amazonaws.com/{page_key}"),
            page_key,
        }
    }
}
