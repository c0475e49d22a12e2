//! The OpenAPI 3 description of the API, served at `/openapi.json`. It is written by
//! hand next to `docs/relay-api.md`; the tests check that its paths and methods are
//! exactly the router's ([`crate::api::routes`]).

use axum::http::header;
use axum::response::IntoResponse;

pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_description_lists_exactly_the_routes() {
        let spec: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert!(spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")));
        let mut described = BTreeSet::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    described.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let routed: BTreeSet<(String, String)> = crate::api::routes()
            .into_iter()
            .map(|(method, path, _)| (method.to_string(), path.to_owned()))
            .collect();
        assert_eq!(described, routed);
    }
}
