//! Helpers: spawn an emulator on a free port and call it over real TCP with
//! requests signed by `aws-sigv4`, exactly as the real client signs them.

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use identity_sync_emulator::{Knobs, Options, Running, Seed, StateSnapshot, spawn};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// The default profile name of the console.
pub const PROFILE: &str = "SynchronizationToActiveDirectoryAwsSso";

/// The seed document of the README.
pub fn example_seed() -> Seed {
    Seed::from_json(
        &json!({"profiles": [{
            "name": PROFILE,
            "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
            "state": "ACTIVE",
            "targets": [{"name": "IdentityStoreForSSO",
                         "target_arn": "arn:aws:identitystore::123456789012:identitystore/d-1234567890"}],
            "filters": [{"type": "GROUP", "name": "AWS-Admins", "domain": "corp.example.com"}]
        }]})
        .to_string(),
    )
    .expect("the example seed parses")
}

/// An emulator seeded with [`example_seed`] and these knobs.
pub fn spawn_seeded(knobs: Knobs) -> Running {
    spawn(Options {
        seed: Some(example_seed()),
        knobs,
        ..Options::default()
    })
    .expect("the emulator starts")
}

/// The `Attributes` string of a filter.
pub fn attributes(domain: &str, name: &str) -> String {
    json!({"associateddomain": [domain], "samaccountname": [name]}).to_string()
}

/// The body of a CreateSyncFilter for a group.
pub fn group_filter(name: &str) -> Value {
    json!({"FilterType": "GROUP", "Effect": "INCLUDE",
           "Attributes": attributes("corp.example.com", name)})
}

/// An answer: status, `x-amzn-ErrorType` and the JSON body (`null` if none).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `x-amzn-ErrorType` header.
    pub error_type: Option<String>,
    /// The body as JSON.
    pub body: Value,
}

impl Reply {
    /// The `message` of an error body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

/// A signing client of one emulator.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    access_key_id: String,
    secret: String,
    region: String,
    service: String,
}

impl Client {
    /// A client signing as `testing`/`testing` for `eu-central-1`.
    pub fn new(running: &Running) -> Self {
        Client {
            http: reqwest::Client::new(),
            base: running.base_url(),
            access_key_id: "testing".to_owned(),
            secret: "testing".to_owned(),
            region: "eu-central-1".to_owned(),
            service: "identity-sync".to_owned(),
        }
    }

    /// The same client, giving up on answers after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("a reqwest client builds");
        self
    }

    /// The same client, signing for another region.
    pub fn with_region(mut self, region: &str) -> Self {
        self.region = region.to_owned();
        self
    }

    /// The same client, signing with another access key.
    pub fn with_key(mut self, access_key_id: &str, secret: &str) -> Self {
        self.access_key_id = access_key_id.to_owned();
        self.secret = secret.to_owned();
        self
    }

    /// Sends a signed request; `Err` on transport errors and timeouts.
    pub async fn try_call(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Reply, reqwest::Error> {
        let url = format!("{}{}", self.base, path_and_query);
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if !body.is_empty() {
            headers.push(("content-type", "application/json"));
        }
        let identity =
            AwsCredentials::new(&self.access_key_id, &self.secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing params build")
            .into();
        let signable = SignableRequest::new(
            method,
            url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .expect("a signable request");
        let (instructions, _) = sign(signable, &params)
            .expect("aws-sigv4 signs")
            .into_parts();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        let mut request = self.http.request(method, &url);
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await?;
        reply(response).await
    }

    /// Sends a signed request and expects an answer.
    pub async fn call(&self, method: &str, path_and_query: &str, body: Option<&Value>) -> Reply {
        self.try_call(method, path_and_query, body)
            .await
            .expect("the emulator answers")
    }

    /// Sends an unsigned request to the admin API.
    pub async fn admin(&self, method: &str, path: &str, body: Option<String>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(body) = body {
            request = request.body(body);
        }
        reply(request.send().await.expect("the admin api answers"))
            .await
            .expect("the admin api answers")
    }

    /// Sends an unsigned request to the signed API.
    pub async fn unsigned(&self, method: &str, path: &str) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        reply(
            self.http
                .request(method, format!("{}{}", self.base, path))
                .send()
                .await
                .expect("the emulator answers"),
        )
        .await
        .expect("the emulator answers")
    }

    /// `GET /_emulator/state`.
    pub async fn state(&self) -> StateSnapshot {
        let reply = self.admin("GET", "/_emulator/state", None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        serde_json::from_value(reply.body).expect("the state parses")
    }

    /// `PUT /_emulator/knobs`.
    pub async fn knobs(&self, patch: Value) -> Reply {
        self.admin("PUT", "/_emulator/knobs", Some(patch.to_string()))
            .await
    }

    /// Every filter of a listing, following `NextToken`; also the page sizes.
    pub async fn list_all(&self, query: &str) -> (Vec<Value>, Vec<usize>) {
        let mut filters = Vec::new();
        let mut pages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/v0/profiles/{PROFILE}/filters?{query}");
            if let Some(token) = &token {
                path.push_str(&format!("&NextToken={token}"));
            }
            let reply = self.call("GET", &path, None).await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            let page = reply.body["SyncFilters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            pages.push(page.len());
            filters.extend(page);
            match reply.body["NextToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => return (filters, pages),
            }
        }
    }
}

async fn reply(response: reqwest::Response) -> Result<Reply, reqwest::Error> {
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        error_type,
        body,
    })
}

/// The `samaccountname` values of listed filters, plain or display-only.
pub fn names(filters: &[Value]) -> Vec<String> {
    filters
        .iter()
        .map(|f| {
            let attributes: Value = serde_json::from_str(f["Attributes"].as_str().unwrap_or("{}"))
                .expect("Attributes is json");
            let name = &attributes["samaccountname"][0];
            name.as_str()
                .or_else(|| name["display-only"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}
