//! The compiled client: files from the static folder, `index.html` for any
//! other path outside `/api` so client-side routes survive a reload, and the
//! brotli or gzip copies the build wrote beside each file (`x.wasm.br`,
//! `x.wasm.gz`) for browsers that accept them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{
    self, AcceptEncoding, CacheControl, CacheDirective, ContentEncoding, Encoding, Header,
};
use actix_web::{HttpRequest, HttpResponse, web};

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

/// The compressed copies of the static folder's files, found once at start-up:
/// only these exact paths are ever answered from a copy.
#[derive(Clone, Default)]
pub struct Precompressed {
    by_path: Arc<HashMap<String, Copies>>,
}

#[derive(Default)]
struct Copies {
    original: PathBuf,
    brotli: Option<PathBuf>,
    gzip: Option<PathBuf>,
}

impl Precompressed {
    /// Looks for `name.br` and `name.gz` beside each file directly in `static_dir`.
    pub fn scan(static_dir: &Path) -> Self {
        let mut by_path: HashMap<String, Copies> = HashMap::new();
        let Ok(entries) = std::fs::read_dir(static_dir) else {
            return Self::default();
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let (original, encoding) = if let Some(original) = name.strip_suffix(".br") {
                (original, ContentEncoding::Brotli)
            } else if let Some(original) = name.strip_suffix(".gz") {
                (original, ContentEncoding::Gzip)
            } else {
                continue;
            };
            let original_path = static_dir.join(original);
            if !original_path.is_file() {
                continue;
            }
            let copies = by_path.entry(format!("/{original}")).or_default();
            copies.original = original_path;
            match encoding {
                ContentEncoding::Brotli => copies.brotli = Some(path),
                _ => copies.gzip = Some(path),
            }
        }
        Self {
            by_path: Arc::new(by_path),
        }
    }

    /// The URL paths that have a compressed copy.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.by_path.keys().map(String::as_str)
    }

    /// Registers a route per compressed file, ahead of the plain files.
    pub fn configure(&self, config: &mut web::ServiceConfig) {
        for path in self.paths() {
            let this = self.clone();
            config.route(
                path,
                web::get().to(move |request: HttpRequest| {
                    let this = this.clone();
                    async move { this.serve(&request) }
                }),
            );
        }
    }

    /// The best copy the browser accepts (brotli, then gzip, then the original).
    fn serve(&self, request: &HttpRequest) -> Result<HttpResponse, actix_web::Error> {
        let Some(copies) = self.by_path.get(request.path()) else {
            return Ok(HttpResponse::NotFound().finish());
        };
        let accepted = AcceptEncoding::parse(request).ok();
        let accepts = |encoding: &Encoding| {
            accepted
                .as_ref()
                .and_then(|a| a.negotiate([encoding.clone()].iter()))
                .is_some_and(|chosen| &chosen == encoding)
        };
        let chosen = [
            (&copies.brotli, Encoding::brotli(), ContentEncoding::Brotli),
            (&copies.gzip, Encoding::gzip(), ContentEncoding::Gzip),
        ]
        .into_iter()
        .find_map(|(path, name, encoding)| {
            path.as_ref()
                .filter(|_| accepts(&name))
                .map(|path| (path, encoding))
        });
        let mime = mime_guess::from_path(&copies.original).first_or_octet_stream();
        let file = match chosen {
            Some((path, encoding)) => NamedFile::open(path)?
                .set_content_type(mime)
                .set_content_encoding(encoding),
            None => NamedFile::open(&copies.original)?.set_content_type(mime),
        };
        let mut response = file.use_etag(true).into_response(request);
        response.headers_mut().insert(
            header::VARY,
            header::HeaderValue::from_static("accept-encoding"),
        );
        Ok(response)
    }
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
