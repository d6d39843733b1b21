//! Round trips and validation of the wire protocol.

use shared::api::{ApiError, ApiErrorCode, CreateSessionRequest};
use shared::protocol::{ChannelInfo, ClientMsgError, PresenceStatus, UserPresence};
use shared::roles::{AdminUser, AuditAction, AuditEntry, Role};
use shared::validate::{MessageText, MessageTextError, Username, UsernameError};
use shared::{
    Attachment, AttachmentKind, ChannelId, ChatMessage, ClientMsg, ClientMsgId, ErrorCode, FileId,
    LinkPreview, PreviewKind, ServerMsg, UserId, UserInfo,
};

fn alice() -> UserInfo {
    UserInfo {
        id: UserId("u1".into()),
        name: "Alice".into(),
    }
}

fn sample_message() -> ChatMessage {
    ChatMessage {
        channel: ChannelId("c1".into()),
        seq: 7,
        client_id: ClientMsgId::parse("0b6c1f0e-2a43-4d5e-9c1a-3f7d2b8e4a10").unwrap(),
        author: alice(),
        text: "Hello World!".into(),
        sent_at: 1_700_000_000_000,
        edited_at: None,
        deleted: false,
        removed: false,
        reactions: vec![],
        attachments: vec![Attachment {
            id: FileId("f1".into()),
            name: "cat.png".into(),
            kind: AttachmentKind::Image,
            mime: "image/png".into(),
            size: 1234,
            width: Some(640),
            height: Some(480),
            thumbnail: true,
        }],
        preview: Some(Box::new(LinkPreview {
            url: "https://example.com/".into(),
            kind: PreviewKind::Page,
            site_name: Some("Example".into()),
            title: Some("An example".into()),
            description: None,
            image: None,
            width: None,
            height: None,
        })),
        pinned: None,
        thread: None,
        replies: None,
        change: shared::ChangeNo(7),
    }
}

#[test]
fn client_messages_round_trip_with_a_type_tag() {
    let cases = vec![
        ClientMsg::SetRole {
            user: UserId("u2".into()),
            role: Role::Moderator,
        },
        ClientMsg::Mute {
            user: UserId("u2".into()),
            minutes: 60,
        },
        ClientMsg::SetActive {
            user: UserId("u2".into()),
            active: false,
        },
        ClientMsg::AuditLog { before: Some(5) },
        ClientMsg::AdminUsers {
            query: String::new(),
            after: None,
        },
        ClientMsg::Send {
            channel: ChannelId("c1".into()),
            client_id: ClientMsgId::parse("abc-123").unwrap(),
            text: "hi <b>there</b>".into(),
            attachments: vec![],
        },
        ClientMsg::Send {
            channel: ChannelId("c1".into()),
            client_id: ClientMsgId::parse("abc-124").unwrap(),
            text: String::new(),
            attachments: vec![FileId("f1".into()), FileId("f2".into())],
        },
        ClientMsg::Sync {
            channel: ChannelId("c1".into()),
            after_seq: None,
            after_change: None,
        },
        ClientMsg::Sync {
            channel: ChannelId("c1".into()),
            after_seq: Some(42),
            after_change: None,
        },
        ClientMsg::History {
            channel: ChannelId("c1".into()),
            before_seq: 10,
            limit: Some(20),
        },
    ];
    for msg in cases {
        let json = serde_json::to_string(&msg).unwrap();
        assert!(json.starts_with("{\"type\":"), "{json}");
        assert_eq!(ClientMsg::parse(&json).unwrap(), msg);
    }
}

#[test]
fn send_has_the_documented_shape() {
    let json = r#"{"type":"send","channel":"c1","client_id":"x1","text":"Hello"}"#;
    match ClientMsg::parse(json).unwrap() {
        ClientMsg::Send {
            channel,
            client_id,
            text,
            attachments,
        } => {
            assert_eq!(channel.0, "c1");
            assert_eq!(client_id.as_str(), "x1");
            assert_eq!(text, "Hello");
            assert!(attachments.is_empty(), "attachments are optional");
        }
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn server_messages_round_trip() {
    let cases = vec![
        ServerMsg::Welcome {
            user: alice(),
            channels: vec![ChannelInfo {
                id: ChannelId("c1".into()),
                name: "general".into(),
                ..ChannelInfo::default()
            }],
            online: vec![alice()],
            online_count: 1_234,
            away: vec![],
            max_upload_bytes: 25 * 1024 * 1024,
            mention_everyone_max_members: 1000,
            blocked: vec![UserId("u9".into())],
            role: Role::Moderator,
            muted_until: Some(1_700_000_000_000),
            epoch: "5f0c".into(),
        },
        ServerMsg::Standing {
            role: Role::Admin,
            muted_until: None,
        },
        ServerMsg::AdminUsers {
            users: vec![AdminUser {
                user: alice(),
                role: Role::Owner,
                muted_until: None,
                deactivated: true,
            }],
            query: "al".into(),
            after: None,
            next: Some("alice".into()),
        },
        ServerMsg::AuditLog {
            entries: vec![AuditEntry {
                id: 3,
                at: 1_700_000_000_000,
                actor: alice(),
                action: AuditAction::RemoveMessage,
                target: Some(alice()),
                channel: Some(ChannelId("c1".into())),
                seq: Some(7),
                detail: String::new(),
            }],
            before: Some(9),
            more: true,
        },
        ServerMsg::PresenceSummary {
            online_count: 5_000,
            joined: vec![alice()],
            joined_others: 37,
            left: vec![],
            left_others: 0,
        },
        ServerMsg::OnlineMembers {
            query: "ali".into(),
            users: vec![UserPresence {
                user: alice(),
                status: PresenceStatus::Away,
            }],
            next: Some("alice".into()),
            online_count: 5_000,
        },
        ServerMsg::MembersJoined {
            channel: ChannelId("c1".into()),
            users: vec![alice()],
            others: 2,
        },
        ServerMsg::Blocked {
            users: vec![UserId("u9".into())],
        },
        ServerMsg::Message {
            message: sample_message(),
        },
        ServerMsg::Ack {
            channel: ChannelId("c1".into()),
            client_id: ClientMsgId::parse("x").unwrap(),
            seq: 3,
            sent_at: 5,
        },
        ServerMsg::Synced {
            channel: ChannelId("c1".into()),
            messages: vec![sample_message()],
            has_older: true,
            complete: false,
            updated: vec![],
        },
        ServerMsg::History {
            channel: ChannelId("c1".into()),
            messages: vec![],
            has_older: false,
        },
        ServerMsg::UserJoined { user: alice() },
        ServerMsg::UserLeft { user: alice() },
        ServerMsg::Error {
            code: ErrorCode::TextTooLong,
            message: "too long".into(),
            client_id: None,
        },
    ];
    for msg in cases {
        let json = msg.to_json();
        let back: ServerMsg = serde_json::from_str(&json).unwrap();
        assert_eq!(back, msg, "{json}");
    }
    let json = ServerMsg::Error {
        code: ErrorCode::NotAMember,
        message: "m".into(),
        client_id: None,
    }
    .to_json();
    assert_eq!(
        json,
        r#"{"type":"error","code":"not_a_member","message":"m"}"#
    );
}

#[test]
fn parse_tells_malformed_unknown_and_invalid_apart() {
    for bad in [
        "",
        "not json",
        "[1,2]",
        r#"["send"]"#,
        "{}",
        r#"{"type":7}"#,
        "\"send\"",
    ] {
        assert!(
            matches!(ClientMsg::parse(bad), Err(ClientMsgError::Malformed(_))),
            "{bad:?}"
        );
    }
    assert_eq!(
        ClientMsg::parse(r#"{"type":"dance"}"#),
        Err(ClientMsgError::UnknownType("dance".into()))
    );
    for bad in [
        r#"{"type":"send","channel":"c1","text":"no id"}"#,
        r#"{"type":"send","channel":"c1","client_id":"has space","text":"x"}"#,
        r#"{"type":"send","channel":"c1","client_id":"","text":"x"}"#,
        r#"{"type":"sync","channel":5}"#,
        r#"{"type":"history","channel":"c1"}"#,
    ] {
        assert!(
            matches!(ClientMsg::parse(bad), Err(ClientMsgError::InvalidFields(_))),
            "{bad}"
        );
    }
}

#[test]
fn client_ids_accept_uuids_and_refuse_odd_input() {
    assert!(ClientMsgId::parse("0b6c1f0e-2a43-4d5e-9c1a-3f7d2b8e4a10").is_ok());
    assert!(ClientMsgId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
    assert!(ClientMsgId::parse(&"a".repeat(64)).is_ok());
    assert!(ClientMsgId::parse(&"a".repeat(65)).is_err());
    assert!(ClientMsgId::parse("a/b").is_err());
    assert!(ClientMsgId::parse("é").is_err());
}

#[test]
fn usernames_follow_the_rules() {
    assert_eq!(Username::parse("  Alice  ").unwrap().as_str(), "Alice");
    assert_eq!(
        Username::parse("Zoë_O'Neil"),
        Err(UsernameError::InvalidCharacter('\''))
    );
    assert!(Username::parse("Zoë van-der.Berg_2").is_ok());
    assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
    assert_eq!(Username::parse(""), Err(UsernameError::Empty));
    assert!(Username::parse(&"x".repeat(32)).is_ok());
    assert_eq!(
        Username::parse(&"x".repeat(33)),
        Err(UsernameError::TooLong)
    );
    assert_eq!(
        Username::parse("<script>"),
        Err(UsernameError::InvalidCharacter('<'))
    );
    assert_eq!(
        Username::parse("ALICE").unwrap().uniqueness_key(),
        Username::parse("alice").unwrap().uniqueness_key()
    );
    assert!(UsernameError::TooLong.to_string().contains("32"));
}

#[test]
fn message_text_is_trimmed_and_bounded() {
    assert_eq!(MessageText::parse("  hi \n").unwrap().as_str(), "hi");
    assert_eq!(MessageText::parse(" \n\t "), Err(MessageTextError::Empty));
    assert!(MessageText::parse(&"é".repeat(4000)).is_ok());
    assert_eq!(
        MessageText::parse(&"é".repeat(4001)),
        Err(MessageTextError::TooLong { chars: 4001 })
    );
    assert_eq!(
        MessageText::parse("line 1\nline 2").unwrap().as_str(),
        "line 1\nline 2"
    );
}

#[test]
fn api_bodies_round_trip() {
    let req: CreateSessionRequest = serde_json::from_str(r#"{"username":"Alice"}"#).unwrap();
    assert_eq!(req.username, "Alice");
    let err = ApiError {
        code: ApiErrorCode::UsernameTaken,
        message: "taken".into(),
    };
    let json = serde_json::to_string(&err).unwrap();
    assert_eq!(json, r#"{"code":"username_taken","message":"taken"}"#);
}

#[test]
fn retryable_codes() {
    assert!(ErrorCode::StoreUnavailable.is_retryable());
    assert!(!ErrorCode::TextTooLong.is_retryable());
}

#[test]
fn passwords_need_eight_characters_and_are_kept_as_typed() {
    use shared::validate::{Password, PasswordError};
    assert_eq!(
        Password::parse("short").unwrap_err(),
        PasswordError::TooShort
    );
    assert_eq!(
        Password::parse("        ").unwrap_err(),
        PasswordError::TooShort
    );
    assert_eq!(
        Password::parse(" correct horse ").unwrap().as_str(),
        " correct horse "
    );
    assert_eq!(
        Password::parse(&"p".repeat(257)).unwrap_err(),
        PasswordError::TooLong
    );
    assert!(!format!("{:?}", Password::parse("secret-secret").unwrap()).contains("secret"));
}

#[test]
fn error_codes_name_themselves_as_on_the_wire() {
    use shared::ErrorCode;
    for code in [
        ErrorCode::MalformedFrame,
        ErrorCode::NotAMember,
        ErrorCode::TooManyReactions,
        ErrorCode::Blocked,
        ErrorCode::StoreUnavailable,
        ErrorCode::Busy,
        ErrorCode::TooManyPins,
    ] {
        assert_eq!(
            serde_json::to_value(code).unwrap(),
            serde_json::Value::String(code.as_str().to_owned())
        );
    }
}

#[test]
fn list_users_without_fields_asks_for_the_first_page_of_everyone() {
    assert_eq!(
        ClientMsg::parse(r#"{"type":"list_users"}"#).unwrap(),
        ClientMsg::ListUsers {
            query: String::new(),
            after: None,
        }
    );
}

#[test]
fn every_request_type_is_known_so_bad_fields_are_told_apart_from_unknown_types() {
    use shared::protocol::{CLIENT_MSG_TYPES, ClientMsgError};
    assert_eq!(
        ClientMsg::parse(r#"{"type":"mentions"}"#).unwrap(),
        ClientMsg::Mentions
    );
    for kind in CLIENT_MSG_TYPES {
        let parsed = ClientMsg::parse(&format!(r#"{{"type":"{kind}","channel":7}}"#));
        assert!(
            !matches!(parsed, Err(ClientMsgError::UnknownType(_))),
            "{kind}: {parsed:?}"
        );
    }
    assert!(matches!(
        ClientMsg::parse(r#"{"type":"set_notify","channel":"c","level":"loud"}"#),
        Err(ClientMsgError::InvalidFields(_))
    ));
}
