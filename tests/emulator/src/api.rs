//! The operations of the contract: routing (method + path to an operation),
//! request validation, and the JSON answers, applied to the store (`crate::store`).

use crate::error::{ApiError, ErrorCode};
use crate::knobs::Knobs;
use crate::model::{FilterType, Operation, ProfileState};
use crate::store::{Filter, NewFilter, Profile, Store, Target};
use axum::http::Method;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

/// The only `Effect` a filter can have.
pub const EFFECT_INCLUDE: &str = "INCLUDE";

/// Most `MaxResults` a listing may ask for.
pub const MAX_RESULTS_LIMIT: usize = 100;

/// A routed request: the operation and its path parameters (decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    ListSyncFilters { profile: String },
    CreateSyncFilter { profile: String },
    DeleteSyncFilter { profile: String, id: String },
    GetSyncProfile { profile: String },
    CreateSyncProfile,
    GetSyncTarget { profile: String, target: String },
    CreateSyncTarget { profile: String },
    StartSync { profile: String },
    StopSync { profile: String },
}

impl Route {
    /// The route of `method` and the raw (percent-encoded) `path`.
    pub fn parse(method: &Method, raw_path: &str) -> Result<Route, ApiError> {
        let unknown = || {
            ApiError::new(
                ErrorCode::UnknownOperationException,
                format!("no operation for {method} {raw_path}"),
            )
        };
        let Some(rest) = raw_path.strip_prefix('/') else {
            return Err(unknown());
        };
        let mut segments = Vec::new();
        for raw in rest.split('/') {
            let decoded = percent_decode_str(raw).decode_utf8().map_err(|_| {
                ApiError::validation(format!("path segment {raw:?} is not valid utf-8"))
            })?;
            segments.push(decoded.into_owned());
        }
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let owned = |s: &str| s.to_owned();
        let route = match (method.as_str(), segments.as_slice()) {
            ("GET", ["v0", "profiles", p, "filters"]) => {
                Route::ListSyncFilters { profile: owned(p) }
            }
            ("POST", ["v0", "profiles", p, "filters"]) => {
                Route::CreateSyncFilter { profile: owned(p) }
            }
            ("DELETE", ["v0", "profiles", p, "filters", id]) => Route::DeleteSyncFilter {
                profile: owned(p),
                id: owned(id),
            },
            ("GET", ["v0", "profiles", p]) => Route::GetSyncProfile { profile: owned(p) },
            ("POST", ["v0", "profiles"]) => Route::CreateSyncProfile,
            ("GET", ["v0", "profiles", p, "targets", t]) => Route::GetSyncTarget {
                profile: owned(p),
                target: owned(t),
            },
            ("POST", ["v0", "profiles", p, "targets"]) => {
                Route::CreateSyncTarget { profile: owned(p) }
            }
            ("POST", ["v0", "profiles", p, "startSync"]) => Route::StartSync { profile: owned(p) },
            ("POST", ["v0", "profiles", p, "stopSync"]) => Route::StopSync { profile: owned(p) },
            _ => return Err(unknown()),
        };
        Ok(route)
    }

    /// The operation this route is.
    pub fn operation(&self) -> Operation {
        match self {
            Route::ListSyncFilters { .. } => Operation::ListSyncFilters,
            Route::CreateSyncFilter { .. } => Operation::CreateSyncFilter,
            Route::DeleteSyncFilter { .. } => Operation::DeleteSyncFilter,
            Route::GetSyncProfile { .. } => Operation::GetSyncProfile,
            Route::CreateSyncProfile => Operation::CreateSyncProfile,
            Route::GetSyncTarget { .. } => Operation::GetSyncTarget,
            Route::CreateSyncTarget { .. } => Operation::CreateSyncTarget,
            Route::StartSync { .. } => Operation::StartSync,
            Route::StopSync { .. } => Operation::StopSync,
        }
    }
}

/// Why an operation gave no JSON answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Answer this error.
    Api(ApiError),
    /// Never answer (`hang_filters`).
    Hang,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure::Api(error)
    }
}

/// What an operation needs besides the store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub region: &'a str,
    pub account: &'a str,
    /// "Now", seconds since the epoch.
    pub now: f64,
    pub knobs: &'a Knobs,
}

impl Context<'_> {
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    fn profile_json(&self, profile: &Profile) -> Value {
        json!({
            "SyncProfileName": profile.name,
            "SyncProfileArn": format!(
                "arn:{}:identity-sync:{}:{}:profile/{}",
                self.partition(), self.region, self.account, profile.name
            ),
            "SourceResourceArn": profile.source_arn,
            "SyncProfileState": profile.state.as_str(),
            "CreateTime": profile.create_time,
        })
    }

    fn target_json(&self, profile: &str, target: &Target) -> Value {
        json!({
            "SyncProfileName": profile,
            "SyncTargetName": target.name,
            "SyncTargetArn": format!(
                "arn:{}:identity-sync:{}:{}:target/{}/{}",
                self.partition(), self.region, self.account, profile, target.name
            ),
            "TargetResourceArn": target.target_arn,
            "CreateTime": target.create_time,
        })
    }
}

/// Applies `route` to `store` and returns the JSON answer (in odd shapes when the
/// `odd_shapes` knob says so).
pub(crate) fn execute(
    store: &mut Store,
    route: &Route,
    query: Option<&str>,
    body: &[u8],
    ctx: &Context<'_>,
) -> Result<Value, Failure> {
    let answer = answer(store, route, query, body, ctx)?;
    Ok(if ctx.knobs.odd_shapes {
        odd(answer, route)
    } else {
        answer
    })
}

/// An answer in shapes a real service may send but the contract does not promise:
/// an unknown field in every object, `CreateTime` as an object (neither of the two
/// types the contract allows), no `SyncFilterId` in a create answer.
fn odd(answer: Value, route: &Route) -> Value {
    fn visit(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(time) = map.get("CreateTime").and_then(Value::as_f64) {
                    map.insert("CreateTime".into(), json!({ "EpochSeconds": time }));
                }
                map.values_mut().for_each(visit);
                map.insert("UnexpectedField".into(), json!({ "Nested": [1, "two"] }));
            }
            Value::Array(items) => items.iter_mut().for_each(visit),
            _ => {}
        }
    }
    let mut answer = answer;
    if matches!(route, Route::CreateSyncFilter { .. })
        && let Value::Object(map) = &mut answer
    {
        map.remove("SyncFilterId");
    }
    visit(&mut answer);
    answer
}

/// The "as of" instant of a listing under the `list_lag_ms` knob.
fn lagging(ctx: &Context<'_>) -> Option<f64> {
    (ctx.knobs.list_lag_ms > 0).then(|| ctx.now - ctx.knobs.list_lag_ms as f64 / 1000.0)
}

fn answer(
    store: &mut Store,
    route: &Route,
    query: Option<&str>,
    body: &[u8],
    ctx: &Context<'_>,
) -> Result<Value, Failure> {
    match route {
        Route::ListSyncFilters { profile } => {
            Ok(list_filters(store, profile, query.unwrap_or(""), ctx)?)
        }
        Route::CreateSyncFilter { profile } => {
            store.profile(profile)?;
            let dry_run = flag(query.unwrap_or(""), "DryRun")?;
            let new = parse_new_filter(&json_object(body, false)?)?;
            if dry_run == Some(true) {
                // Validated (the profile, the body, a conflict), saved nowhere.
                store.check_new_filter(profile, &new)?;
                return Ok(json!({}));
            }
            injected(ctx.knobs, Operation::CreateSyncFilter, &new.name)?;
            let name = new.name.clone();
            let filter = store.create_filter(profile, new, ctx.now)?;
            injected_after(ctx.knobs, Operation::CreateSyncFilter, &name)?;
            Ok(json!({ "SyncFilterId": filter.id }))
        }
        Route::DeleteSyncFilter { profile, id } => {
            let name = store.filter(profile, id)?.name.clone();
            injected(ctx.knobs, Operation::DeleteSyncFilter, &name)?;
            let keep = lagging(ctx).map(|as_of| (ctx.now, as_of));
            store.delete_filter(profile, id, keep)?;
            injected_after(ctx.knobs, Operation::DeleteSyncFilter, &name)?;
            Ok(json!({}))
        }
        Route::GetSyncProfile { profile } => Ok(ctx.profile_json(store.profile(profile)?)),
        Route::CreateSyncProfile => {
            let body = json_object(body, false)?;
            let name = required_string(&body, "SyncProfileName")?;
            let source = required_string(&body, "SourceResourceArn")?;
            Ok(ctx.profile_json(store.create_profile(&name, &source, ctx.now)?))
        }
        Route::GetSyncTarget { profile, target } => {
            Ok(ctx.target_json(profile, store.target(profile, target)?))
        }
        Route::CreateSyncTarget { profile } => {
            let source = store.profile(profile)?.source_arn.clone();
            let body = json_object(body, false)?;
            let name = required_string(&body, "SyncTargetName")?;
            let arn = required_string(&body, "TargetResourceArn")?;
            let form = ctx.knobs.target_form;
            if !form.accepts(&arn, &source) {
                return Err(Failure::Api(ApiError::validation(format!(
                    "1 validation error detected: Value '{arn}' at 'TargetResourceArn' failed to satisfy constraint: must be {}",
                    form.describe()
                ))));
            }
            let target = store.create_target(profile, &name, &arn, ctx.now)?;
            Ok(ctx.target_json(profile, target))
        }
        Route::StartSync { profile } => {
            let string_body = serde_json::from_slice::<Value>(body).ok() == Some(json!(""));
            if ctx.knobs.start_sync_string_body && !string_body {
                return Err(Failure::Api(ApiError::validation(
                    "the request body must be the JSON string \"\"",
                )));
            }
            if !string_body {
                json_object(body, true)?;
            }
            store.set_state(profile, ProfileState::Active)?;
            Ok(json!({}))
        }
        Route::StopSync { profile } => {
            json_object(body, true)?;
            store.set_state(profile, ProfileState::Paused)?;
            Ok(json!({}))
        }
    }
}

/// The `hang_filters` / `fail_filters` verdict for a create or delete of `name`.
fn injected(knobs: &Knobs, op: Operation, name: &str) -> Result<(), Failure> {
    if knobs.hangs_filter(name) {
        return Err(Failure::Hang);
    }
    if let Some(code) = knobs.failure_for(name) {
        return Err(Failure::Api(ApiError::new(
            code,
            format!("{op} of sync filter {name} fails with {code} (fail_filters)"),
        )));
    }
    Ok(())
}

/// The `fail_after_filters` verdict, once the create or delete of `name` is applied.
fn injected_after(knobs: &Knobs, op: Operation, name: &str) -> Result<(), Failure> {
    match knobs.failure_after(name) {
        Some(code) => Err(Failure::Api(ApiError::new(
            code,
            format!(
                "{op} of sync filter {name} was applied, then answered {code} (fail_after_filters)"
            ),
        ))),
        None => Ok(()),
    }
}

fn list_filters(
    store: &Store,
    profile: &str,
    raw_query: &str,
    ctx: &Context<'_>,
) -> Result<Value, ApiError> {
    let query = decode_query(raw_query);
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let filter_type = match get("FilterType") {
        None => {
            return Err(ApiError::validation(
                "FilterType is required (GROUP or USER)",
            ));
        }
        Some(value) => FilterType::parse(value).ok_or_else(|| {
            ApiError::validation(format!("FilterType must be GROUP or USER, got {value:?}"))
        })?,
    };
    let max_results = match get("MaxResults") {
        None => None,
        Some(value) => match value.parse::<usize>() {
            Ok(n) if (1..=MAX_RESULTS_LIMIT).contains(&n) => Some(n),
            _ => {
                return Err(ApiError::validation(format!(
                    "MaxResults must be an integer from 1 to {MAX_RESULTS_LIMIT}, got {value:?}"
                )));
            }
        },
    };
    let augmentation = flag(raw_query, "Augmentation")? == Some(true);
    store.profile(profile)?;
    let after = match get("NextToken") {
        None | Some("") => 0,
        Some(token) => decode_token(token, profile, filter_type)?,
    };
    let limit = max_results
        .unwrap_or(ctx.knobs.page_size)
        .min(ctx.knobs.page_size);
    let mut page = store.list_filters(profile, filter_type, after, limit, lagging(ctx))?;
    if ctx.knobs.token_cycle > 0
        && let Some(next) = page.continue_after
    {
        // Which page this was; past the cycle, send the first page's token again.
        let all = store.list_filters(profile, filter_type, 0, usize::MAX, lagging(ctx))?;
        let before = all.filters.iter().filter(|f| f.seq <= next).count();
        if before.div_ceil(limit) > ctx.knobs.token_cycle {
            page.continue_after = all.filters.get(limit - 1).map(|f| f.seq);
        }
    }
    let filters: Vec<Value> = page
        .filters
        .iter()
        .map(|f| filter_json(f, augmentation))
        .collect();
    let mut answer = Map::new();
    answer.insert("SyncFilters".to_owned(), Value::Array(filters));
    if let Some(seq) = page.continue_after {
        answer.insert(
            "NextToken".to_owned(),
            Value::String(encode_token(profile, filter_type, seq)),
        );
    }
    Ok(Value::Object(answer))
}

/// A `true`/`false` query parameter: `None` when absent.
fn flag(raw_query: &str, key: &str) -> Result<Option<bool>, ApiError> {
    match decode_query(raw_query).into_iter().find(|(k, _)| k == key) {
        None => Ok(None),
        Some((_, value)) => match value.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(ApiError::validation(format!(
                "{key} must be true or false, got {other:?}"
            ))),
        },
    }
}

fn filter_json(filter: &Filter, augmentation: bool) -> Value {
    let name = if augmentation {
        json!({ "display-only": filter.name })
    } else {
        json!(filter.name)
    };
    let attributes = json!({
        "associateddomain": [filter.domain],
        "samaccountname": [name],
    });
    json!({
        "SyncFilterId": filter.id,
        "FilterType": filter.filter_type.as_str(),
        "Effect": EFFECT_INCLUDE,
        "Attributes": attributes.to_string(),
        "CreateTime": filter.create_time,
    })
}

/// An opaque token: hex of `profile \n type \n seq` (the last `seq` returned).
fn encode_token(profile: &str, filter_type: FilterType, seq: u64) -> String {
    hex::encode(format!("{profile}\n{filter_type}\n{seq}"))
}

fn decode_token(token: &str, profile: &str, filter_type: FilterType) -> Result<u64, ApiError> {
    let invalid = || ApiError::validation(format!("NextToken {token:?} is not a valid token"));
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.rsplitn(3, '\n');
    let (Some(seq), Some(token_type), Some(token_profile)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if token_profile != profile || token_type != filter_type.as_str() {
        return Err(ApiError::validation(format!(
            "NextToken was issued for the {token_type} filters of sync profile {token_profile}, \
             not the {filter_type} filters of {profile}"
        )));
    }
    seq.parse().map_err(|_| invalid())
}

/// The query as key/value pairs, decoded (`+` is a space).
pub(crate) fn decode_query(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The body as a JSON object; an empty body is `{}` when `empty_ok`.
fn json_object(body: &[u8], empty_ok: bool) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(Map::new())
        } else {
            Err(ApiError::validation(
                "the request body must be a json object, got nothing",
            ))
        };
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::validation(
            "the request body must be a json object",
        )),
        Err(e) => Err(ApiError::validation(format!(
            "the request body is not valid json: {e}"
        ))),
    }
}

fn required_string(body: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Err(ApiError::validation(format!("{field} is required"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(ApiError::validation(format!("{field} must not be empty")))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ApiError::validation(format!(
            "{field} must be a string, got {other}"
        ))),
    }
}

fn parse_new_filter(body: &Map<String, Value>) -> Result<NewFilter, ApiError> {
    let type_text = required_string(body, "FilterType")?;
    let filter_type = FilterType::parse(&type_text).ok_or_else(|| {
        ApiError::validation(format!(
            "FilterType must be GROUP or USER, got {type_text:?}"
        ))
    })?;
    let effect = required_string(body, "Effect")?;
    if effect != EFFECT_INCLUDE {
        return Err(ApiError::validation(format!(
            "Effect must be {EFFECT_INCLUDE}, got {effect:?}"
        )));
    }
    let attributes = required_string(body, "Attributes")?;
    let (domain, name) = parse_attributes(&attributes)?;
    Ok(NewFilter {
        filter_type,
        domain,
        name,
    })
}

/// `{"associateddomain":[domain],"samaccountname":[name | {"display-only":name}]}`.
fn parse_attributes(text: &str) -> Result<(String, String), ApiError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::validation(format!("Attributes is not a json document: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::validation("Attributes must be a json object"));
    };
    if let Some(key) = map
        .keys()
        .find(|k| *k != "associateddomain" && *k != "samaccountname")
    {
        return Err(ApiError::validation(format!(
            "Attributes has the unknown key {key:?}, expected associateddomain and samaccountname"
        )));
    }
    let single = |key: &str| -> Result<Value, ApiError> {
        match map.get(key) {
            Some(Value::Array(values)) if values.len() == 1 => Ok(values[0].clone()),
            Some(Value::Array(values)) => Err(ApiError::validation(format!(
                "Attributes.{key} must hold exactly one value, got {}",
                values.len()
            ))),
            Some(_) => Err(ApiError::validation(format!(
                "Attributes.{key} must be an array"
            ))),
            None => Err(ApiError::validation(format!(
                "Attributes.{key} is required"
            ))),
        }
    };
    let non_empty = |key: &str, value: &Value| -> Result<String, ApiError> {
        match value {
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            Value::String(_) => Err(ApiError::validation(format!(
                "Attributes.{key} must not be empty"
            ))),
            other => Err(ApiError::validation(format!(
                "Attributes.{key} must hold a string, got {other}"
            ))),
        }
    };
    let domain = non_empty("associateddomain", &single("associateddomain")?)?;
    let name = match single("samaccountname")? {
        Value::Object(object) => match (object.len(), object.get("display-only")) {
            (1, Some(name)) => non_empty("samaccountname", name)?,
            _ => {
                return Err(ApiError::validation(
                    "Attributes.samaccountname must hold a string or {\"display-only\": name}",
                ));
            }
        },
        other => non_empty("samaccountname", &other)?,
    };
    Ok((domain, name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Result<Route, ApiError> {
        Route::parse(&method, path)
    }

    #[test]
    fn every_operation_is_routed_with_decoded_parameters() {
        assert_eq!(
            route(Method::GET, "/v0/profiles/My%20Profile/filters").unwrap(),
            Route::ListSyncFilters {
                profile: "My Profile".to_owned()
            }
        );
        assert_eq!(
            route(Method::DELETE, "/v0/profiles/p/filters/sf-1").unwrap(),
            Route::DeleteSyncFilter {
                profile: "p".to_owned(),
                id: "sf-1".to_owned()
            }
        );
        assert_eq!(
            route(Method::POST, "/v0/profiles").unwrap(),
            Route::CreateSyncProfile
        );
        assert_eq!(
            route(Method::GET, "/v0/profiles/a%2Fb/targets/t")
                .unwrap()
                .operation(),
            Operation::GetSyncTarget
        );
        assert_eq!(
            route(Method::POST, "/v0/profiles/p/stopSync")
                .unwrap()
                .operation(),
            Operation::StopSync
        );
    }

    #[test]
    fn an_unknown_method_or_path_is_an_unknown_operation() {
        let error = route(Method::PUT, "/v0/profiles/p/filters").unwrap_err();
        assert_eq!(error.code, ErrorCode::UnknownOperationException);
        assert!(route(Method::GET, "/v1/profiles/p").is_err());
    }

    #[test]
    fn attributes_accept_plain_and_display_only_names() {
        assert_eq!(
            parse_attributes(r#"{"associateddomain":["d"],"samaccountname":["n"]}"#).unwrap(),
            ("d".to_owned(), "n".to_owned())
        );
        assert_eq!(
            parse_attributes(
                r#"{"associateddomain":["d"],"samaccountname":[{"display-only":"n"}]}"#
            )
            .unwrap(),
            ("d".to_owned(), "n".to_owned())
        );
    }

    #[test]
    fn attributes_without_exactly_one_domain_and_name_are_invalid() {
        for (text, expected) in [
            ("not json", "not a json document"),
            (r#"["d"]"#, "must be a json object"),
            (
                r#"{"samaccountname":["n"]}"#,
                "associateddomain is required",
            ),
            (
                r#"{"associateddomain":["d","e"],"samaccountname":["n"]}"#,
                "exactly one value",
            ),
            (
                r#"{"associateddomain":["d"],"samaccountname":[]}"#,
                "exactly one value",
            ),
            (
                r#"{"associateddomain":["d"],"samaccountname":[""]}"#,
                "must not be empty",
            ),
            (
                r#"{"associateddomain":["d"],"samaccountname":["n"],"x":[1]}"#,
                "unknown key \"x\"",
            ),
            (
                r#"{"associateddomain":["d"],"samaccountname":[{"name":"n"}]}"#,
                "display-only",
            ),
        ] {
            let error = parse_attributes(text).unwrap_err();
            assert_eq!(error.code, ErrorCode::ValidationException);
            assert!(
                error.message.contains(expected),
                "{text}: {}",
                error.message
            );
        }
    }

    #[test]
    fn a_token_only_continues_the_listing_it_came_from() {
        let token = encode_token("p", FilterType::Group, 42);
        assert_eq!(decode_token(&token, "p", FilterType::Group).unwrap(), 42);
        assert!(decode_token(&token, "p", FilterType::User).is_err());
        assert!(decode_token(&token, "q", FilterType::Group).is_err());
        assert!(decode_token("zz", "p", FilterType::Group).is_err());
    }

    #[test]
    fn the_query_is_decoded_with_plus_as_space() {
        assert_eq!(
            decode_query("a=x+y&b=%2F&c"),
            vec![
                ("a".to_owned(), "x y".to_owned()),
                ("b".to_owned(), "/".to_owned()),
                ("c".to_owned(), String::new())
            ]
        );
    }

    #[test]
    fn an_augmented_listing_wraps_names_in_display_only() {
        let filter = Filter {
            seq: 1,
            id: "sf-1".to_owned(),
            filter_type: FilterType::Group,
            domain: "corp.example.com".to_owned(),
            name: "AWS-Admins".to_owned(),
            create_time: 1.5,
        };
        assert_eq!(
            filter_json(&filter, true)["Attributes"],
            r#"{"associateddomain":["corp.example.com"],"samaccountname":[{"display-only":"AWS-Admins"}]}"#
        );
        assert_eq!(
            filter_json(&filter, false)["Attributes"],
            r#"{"associateddomain":["corp.example.com"],"samaccountname":["AWS-Admins"]}"#
        );
    }
}
