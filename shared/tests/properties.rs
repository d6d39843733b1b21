//! Properties of the parsers that read untrusted input: whatever a client
//! sends, `ClientMsg::parse` answers with a message or an error (it never
//! panics), and names and texts validate without panicking.

use proptest::prelude::*;
use shared::ClientMsg;
use shared::validate::{ChannelName, MessageText, Password, Topic, Username};

/// JSON-ish text: objects with a known or unknown `type` and odd fields.
fn frame() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("send".to_owned()),
        Just("sync".to_owned()),
        Just("react".to_owned()),
        Just("block".to_owned()),
        Just("history".to_owned()),
        "[a-z_]{0,12}",
    ];
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        "-?[0-9]{1,25}",
        "\"[^\"\\\\]{0,40}\"",
        Just("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]".to_owned()),
        Just("{\"a\":{\"b\":{\"c\":[1,2,{}]}}}".to_owned()),
    ];
    let field = ("[a-z_]{1,12}", value).prop_map(|(name, value)| format!("\"{name}\":{value}"));
    (kind, prop::collection::vec(field, 0..8)).prop_map(|(kind, fields)| {
        let mut body = format!("{{\"type\":\"{kind}\"");
        for field in fields {
            body.push(',');
            body.push_str(&field);
        }
        body.push('}');
        body
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_text_parses_or_is_refused(text in ".{0,400}") {
        let _ = ClientMsg::parse(&text);
    }

    #[test]
    fn any_frame_shape_parses_or_is_refused(text in frame()) {
        let _ = ClientMsg::parse(&text);
    }

    #[test]
    fn deeply_nested_json_is_refused_not_a_crash(depth in 0usize..5_000) {
        let text = format!("{{\"type\":\"send\",\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let _ = ClientMsg::parse(&text);
    }

    #[test]
    fn validation_never_panics(text in "\\PC{0,80}") {
        let _ = Username::parse(&text).map(|name| name.uniqueness_key());
        let _ = ChannelName::parse(&text);
        let _ = Topic::parse(&text);
        let _ = MessageText::parse(&text);
        let _ = Password::parse(&text);
    }

    #[test]
    fn letter_case_and_fullwidth_forms_do_not_make_a_new_name(text in "[a-zA-Z0-9]{1,32}") {
        let key = Username::parse(&text).unwrap().uniqueness_key();
        let upper = Username::parse(&text.to_ascii_uppercase()).unwrap().uniqueness_key();
        prop_assert_eq!(&upper, &key);
        // Fullwidth forms (U+FF01..) of the same letters and digits.
        let fullwidth: String = text
            .chars()
            .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
            .collect();
        let wide = Username::parse(&fullwidth).unwrap().uniqueness_key();
        prop_assert_eq!(wide, key);
    }
}
