//! What a message carries besides its text: uploaded files (inline images
//! that open full size, inline videos, download cards for anything else)
//! and the server's preview of its first link. All addresses come from the
//! server (`/api/files/…`, `/api/previews/…`) or are the message's own
//! http(s) link; nothing here is built from HTML.

use shared::{Attachment, AttachmentKind, LinkPreview, PreviewKind};
use yew::prelude::*;

/// Largest box an inline image or video is shown in, in CSS pixels.
const MAX_WIDTH: u32 = 360;
const MAX_HEIGHT: u32 = 280;

#[derive(Properties, PartialEq)]
pub struct AttachmentsProps {
    pub attachments: Vec<Attachment>,
}

#[component]
pub fn Attachments(props: &AttachmentsProps) -> Html {
    let viewing = use_state(|| None::<Attachment>);
    let open = {
        let viewing = viewing.clone();
        Callback::from(move |file: Attachment| viewing.set(Some(file)))
    };
    let close = {
        let viewing = viewing.clone();
        Callback::from(move |()| viewing.set(None))
    };
    html! {
        <div class="attachments">
            { for props.attachments.iter().map(|file| attachment(file, &open)) }
            if let Some(file) = &*viewing {
                <ImageViewer file={file.clone()} on_close={close} />
            }
        </div>
    }
}

fn attachment(file: &Attachment, open: &Callback<Attachment>) -> Html {
    match file.kind {
        AttachmentKind::Image => {
            let (width, height) = fit(file.width, file.height);
            // A plain click opens the viewer; with a modifier (new tab,
            // new window) the browser follows the link as usual.
            let onclick = {
                let open = open.clone();
                let file = file.clone();
                Callback::from(move |event: MouseEvent| {
                    if !(event.ctrl_key()
                        || event.meta_key()
                        || event.shift_key()
                        || event.button() != 0)
                    {
                        event.prevent_default();
                        open.emit(file.clone());
                    }
                })
            };
            html! {
                <a class="attachment-image" href={file.url()} target="_blank" {onclick}
                   rel="noopener noreferrer" title={file.name.clone()}>
                    <img data-testid="message-image" src={file.thumbnail_url()} alt={file.name.clone()}
                         loading="lazy" width={width.to_string()} height={height.to_string()} />
                </a>
            }
        }
        AttachmentKind::Video => html! {
            <video class="attachment-video" data-testid="message-video" src={file.url()}
                   controls=true preload="metadata" title={file.name.clone()} />
        },
        AttachmentKind::File => html! {
            <div class="file-card" data-testid="message-file">
                <svg class="file-icon" viewBox="0 0 24 24" width="28" height="28" fill="none"
                     stroke="currentColor" stroke-width="1.6" stroke-linecap="round"
                     stroke-linejoin="round" aria-hidden="true">
                    <path d="M13 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z" />
                    <polyline points="13 2 13 9 20 9" />
                </svg>
                <span class="file-details">
                    <span class="file-name"><bdi>{ &file.name }</bdi></span>
                    <span class="file-size">{ human_size(file.size) }</span>
                </span>
                <a class="file-download" href={file.url()} download={file.name.clone()}
                   aria-label={format!("Download {}", file.name)}>{ "Download" }</a>
            </div>
        },
    }
}

#[derive(Properties, PartialEq)]
struct ImageViewerProps {
    file: Attachment,
    on_close: Callback<()>,
}

/// A picture at full size over the page; Esc, a click beside it or Close
/// closes it.
#[component]
fn ImageViewer(props: &ImageViewerProps) -> Html {
    let overlay = use_node_ref();
    {
        let overlay = overlay.clone();
        use_effect_with((), move |_| {
            if let Some(element) = overlay.cast::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        });
    }
    let file = &props.file;
    let close = props.on_close.reform(|_: MouseEvent| ());
    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                event.prevent_default();
                on_close.emit(());
            }
        })
    };
    let keep_open = Callback::from(|event: MouseEvent| event.stop_propagation());
    html! {
        <div ref={overlay} class="image-viewer" data-testid="image-viewer" role="dialog"
             aria-modal="true" aria-label={file.name.clone()} tabindex="-1"
             onclick={close.clone()} {onkeydown}>
            <img src={file.url()} alt={file.name.clone()} onclick={keep_open.clone()} />
            <div class="image-viewer-bar" onclick={keep_open}>
                <span class="image-viewer-name"><bdi>{ &file.name }</bdi></span>
                <span class="file-size">{ human_size(file.size) }</span>
                <a href={file.url()} download={file.name.clone()}>{ "Download" }</a>
                <a href={file.url()} target="_blank" rel="noopener noreferrer">{ "Open in new tab" }</a>
                <button type="button" onclick={close} aria-label="Close">{ "Close" }</button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LinkPreviewCardProps {
    pub preview: LinkPreview,
}

/// The card under a message with a link.
#[component]
pub fn LinkPreviewCard(props: &LinkPreviewCardProps) -> Html {
    let preview = &props.preview;
    let link = |content: Html, class: &'static str| {
        html! {
            <a class={class} href={preview.url.clone()} target="_blank"
               rel="noopener noreferrer nofollow">{ content }</a>
        }
    };
    let body = match preview.kind {
        PreviewKind::Image => {
            let (width, height) = fit(preview.width, preview.height);
            let image = html! {
                <img src={preview.image.clone().unwrap_or_default()}
                     alt={preview.title.clone().unwrap_or_default()} loading="lazy"
                     width={width.to_string()} height={height.to_string()} />
            };
            link(image, "preview-image")
        }
        PreviewKind::Video => html! { <VideoPreview preview={preview.clone()} /> },
        PreviewKind::Page => html! {
            <>
                if let Some(image) = &preview.image {
                    { link(html! { <img src={image.clone()} alt="" loading="lazy" /> }, "preview-thumb") }
                }
                <div class="preview-text">
                    if let Some(site) = &preview.site_name {
                        <div class="preview-site">{ site }</div>
                    }
                    if let Some(title) = &preview.title {
                        { link(html! { { title } }, "preview-title") }
                    }
                    if let Some(description) = &preview.description {
                        <div class="preview-description">{ description }</div>
                    }
                </div>
            </>
        },
    };
    let kind = match preview.kind {
        PreviewKind::Page => "page",
        PreviewKind::Image => "image",
        PreviewKind::Video => "video",
    };
    html! {
        <div class={classes!("link-preview", kind)} data-testid="link-preview" data-kind={kind}>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct VideoPreviewProps {
    preview: LinkPreview,
}

/// A linked video lives on a third-party site: nothing is loaded from it
/// (which would tell that site who reads the conversation, and when) until
/// the reader asks for it with the play button.
#[component]
fn VideoPreview(props: &VideoPreviewProps) -> Html {
    let playing = use_state(|| false);
    let preview = &props.preview;
    if *playing {
        return html! {
            <video class="attachment-video" data-testid="link-preview-video" src={preview.url.clone()}
                   controls=true autoplay=true preload="auto" />
        };
    }
    let host = link_host(&preview.url).unwrap_or_else(|| "another site".into());
    let play = {
        let playing = playing.clone();
        Callback::from(move |_: MouseEvent| playing.set(true))
    };
    html! {
        <div class="video-placeholder">
            <button type="button" class="video-play" data-testid="link-preview-play" onclick={play}
                    title={preview.url.clone()}>
                <span class="video-play-icon" aria-hidden="true">{ "\u{25B6}" }</span>
                <span>{ "Play video from " }<bdi>{ host }</bdi></span>
            </button>
            if let Some(title) = &preview.title {
                <span class="video-title"><bdi>{ title }</bdi></span>
            }
        </div>
    }
}

/// The host a link points to (`https://user@Example.org:8080/a` →
/// `example.org`), to say where a video would be loaded from.
pub fn link_host(url: &str) -> Option<String> {
    let trimmed = url.trim();
    let scheme_end = trimmed.find("://")?;
    let scheme = &trimmed[..scheme_end];
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let rest = &trimmed[scheme_end + 3..];
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        // An IPv6 address keeps its brackets.
        let end = host_port.find(']')?;
        &host_port[..=end]
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Scales a size to fit the inline box, keeping its shape.
fn fit(width: Option<u32>, height: Option<u32>) -> (u32, u32) {
    match (width, height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => {
            let scale = (MAX_WIDTH as f64 / w as f64)
                .min(MAX_HEIGHT as f64 / h as f64)
                .min(1.0);
            (
                ((w as f64 * scale).round() as u32).max(1),
                ((h as f64 * scale).round() as u32).max(1),
            )
        }
        _ => (MAX_WIDTH, MAX_HEIGHT),
    }
}

/// `1536` → "1.5 KB", in the units people read in file managers.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fit_the_box_and_read_like_a_file_manager() {
        assert_eq!(fit(Some(1000), Some(600)), (360, 216));
        assert_eq!(fit(Some(100), Some(50)), (100, 50));
        assert_eq!(fit(Some(300), Some(1200)), (70, 280));
        assert_eq!(fit(None, None), (360, 280));
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(25 * 1024 * 1024), "26 MB");
    }

    #[test]
    fn a_link_names_its_host() {
        assert_eq!(
            link_host("https://Videos.Example.org/a/b.mp4?x=1").as_deref(),
            Some("videos.example.org")
        );
        assert_eq!(
            link_host("http://127.0.0.2:8080/clip.mp4").as_deref(),
            Some("127.0.0.2")
        );
        assert_eq!(
            link_host("https://user:pw@host.example#frag").as_deref(),
            Some("host.example")
        );
        assert_eq!(
            link_host("https://evil.example\\@good.example/").as_deref(),
            Some("evil.example")
        );
        assert_eq!(
            link_host("http://[::1]:80/v.webm").as_deref(),
            Some("[::1]")
        );
        assert_eq!(link_host("javascript://x.example/%0aalert(1)"), None);
        assert_eq!(link_host("https:///path"), None);
        assert_eq!(link_host("not a link"), None);
    }
}
