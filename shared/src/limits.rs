//! Limits both the server and the client enforce, so the client can refuse
//! early what the server would refuse anyway.

/// Longest message text, counted in Unicode scalar values after trimming.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Largest WebSocket frame (or reassembled message) the server accepts.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest username, in characters, after trimming.
pub const MAX_USERNAME_CHARS: usize = 32;
/// Longest channel name and topic, in characters.
pub const MAX_CHANNEL_NAME_CHARS: usize = 40;
pub const MAX_TOPIC_CHARS: usize = 250;
/// Most other people in one direct conversation.
pub const MAX_DIRECT_OTHERS: usize = 7;
/// Shortest and longest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// How many messages a first open shows and a scroll-back page holds by default.
pub const HISTORY_PAGE: u32 = 50;
/// Upper bound on one scroll-back page a client may ask for.
pub const MAX_HISTORY_PAGE: u32 = 200;
/// Upper bound on messages in one catch-up reply; the client asks again if incomplete.
pub const MAX_SYNC_BATCH: u32 = 500;
/// Longest client-generated message id.
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// Most files attached to one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest uploaded file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;
/// Default largest upload (the server's `--max-upload-bytes`).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;
/// Most different emoji on one message.
pub const MAX_REACTION_EMOJI: usize = 20;
/// Most reactions one person may put on one message.
pub const MAX_REACTIONS_PER_USER: usize = 10;
/// Deepest nesting of quotes and lists a message is shown with; deeper
/// levels are shown flattened into the level above.
pub const MAX_MARKDOWN_DEPTH: usize = 12;
/// Messages the mentions view lists (the newest).
pub const MENTIONS_SHOWN: u32 = 50;
/// Pinned messages per conversation (the pinned list is one reply).
pub const MAX_PINS: usize = 50;
/// People named per reaction in a message's state (the rest are counted).
pub const REACTION_NAMES_SHOWN: usize = 10;
/// Largest image accepted as a custom emoji, in bytes.
pub const MAX_CUSTOM_EMOJI_BYTES: u64 = 256 * 1024;
/// Custom emoji a server holds at most (the list is one answer).
pub const MAX_CUSTOM_EMOJI: usize = 2_000;
/// Longest custom emoji name.
pub const MAX_EMOJI_NAME_CHARS: usize = 32;
/// Followed threads the threads view lists (the most recently active).
pub const THREADS_SHOWN: u32 = 50;
/// Replies in one page of a thread.
pub const THREAD_PAGE: u32 = 100;
/// People named as having replied, on a thread's parent.
pub const REPLIERS_SHOWN: usize = 3;
/// Longest mute, in minutes (a year).
pub const MAX_MUTE_MINUTES: u32 = 365 * 24 * 60;
/// Entries in one page of the audit log.
pub const AUDIT_PAGE: u32 = 100;
/// People in one page of the admin panel's list.
pub const ADMIN_USERS_PAGE: usize = 100;
/// Longest an invite link stays valid, in hours (30 days).
pub const MAX_INVITE_HOURS: u32 = 30 * 24;
/// Most sign-ups one invite link allows.
pub const MAX_INVITE_USES: u32 = 1_000;
/// Invite links listed at most (the newest).
pub const INVITES_SHOWN: u32 = 100;
/// Longest reason given with a report, in characters.
pub const MAX_REPORT_REASON_CHARS: usize = 500;
/// Open reports listed at most (the newest).
pub const REPORTS_SHOWN: u32 = 100;
/// The slow modes a channel may have, in seconds (0 is off).
pub const SLOW_MODE_CHOICES: [u32; 7] = [0, 5, 10, 30, 60, 300, 900];
