//! The compiled client: files from the static folder, `index.html` for any
//! other path outside `/api` so client-side routes survive a reload.

use std::path::PathBuf;

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::HttpError;

/// Serves `static_dir`, falling back to its `index.html`.
pub fn files(static_dir: PathBuf) -> Files {
    let index = static_dir.join("index.html");
    Files::new("/", static_dir)
        .index_file("index.html")
        .use_etag(true)
        .default_handler(fn_service(move |request: ServiceRequest| {
            let index = index.clone();
            async move {
                let (request, _) = request.into_parts();
                let response = match NamedFile::open(&index) {
                    Ok(file) => no_cache(file.into_response(&request)),
                    Err(_) => HttpResponse::NotFound().finish(),
                };
                Ok(ServiceResponse::new(request, response))
            }
        }))
}

/// The Content-Security-Policy for the web app: scripts only from this
/// server, plus the inline loader trunk writes into `index.html` (allowed by
/// its hash), WebAssembly compilation, and no framing, plugins or foreign
/// connections.
pub fn content_security_policy(index_html: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    let mut script_hashes = String::new();
    let mut rest = index_html;
    while let Some(start) = rest.find("<script") {
        let tag = &rest[start..];
        let Some(open_end) = tag.find('>') else { break };
        let Some(close) = tag.find("</script>") else {
            break;
        };
        let is_inline = !tag[..open_end].contains(" src=");
        if is_inline && close > open_end {
            let body = &tag[open_end + 1..close];
            let digest = Sha256::digest(body.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
            script_hashes.push_str(&format!(" 'sha256-{encoded}'"));
        }
        rest = &tag[close + "</script>".len()..];
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{script_hashes}; \
         style-src 'self'; img-src 'self' data:; media-src 'self' https: http:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Unknown paths under `/api` are JSON 404s, not the web app.
pub async fn api_not_found(_request: HttpRequest) -> Result<HttpResponse, HttpError> {
    Err(HttpError::not_found())
}

fn no_cache(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        CacheControl(vec![CacheDirective::NoCache])
            .to_string()
            .parse()
            .expect("a valid header value"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn inline_loader_scripts_are_allowed_by_hash_and_nothing_else() {
        let html = "<html><head><script type=\"module\">import init from '/a.js';\n</script>\
                    <script src=\"/other.js\"></script></head></html>";
        let csp = content_security_policy(html);
        // sha256 of "import init from '/a.js';\n", base64.
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(
            content_security_policy("<p>no scripts</p>")
                .contains("script-src 'self' 'wasm-unsafe-eval';")
        );
    }
}
