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
