//! Slash commands typed in the message box: what each is called and does
//! (the suggestion list and `/help` show the same table), and how a typed
//! line reads. An unknown command is an error and nothing is posted; a
//! line starting `//` posts the rest starting with one `/`.

/// The commands, in the order they are suggested: name, arguments, what
/// it does.
pub const COMMANDS: [(&str, &str, &str); 9] = [
    ("me", "text", "Say what you are doing, in italics"),
    ("shrug", "text", "Add ¯\\_(ツ)_/¯ to your message"),
    ("topic", "text", "Set the channel's topic"),
    (
        "join",
        "#channel",
        "Join a public channel (or open one you are in)",
    ),
    ("leave", "", "Leave this conversation"),
    ("invite", "@person", "Invite someone to this channel"),
    ("mute", "", "Stop notifications from this conversation"),
    ("away", "", "Show as away (again to come back)"),
    ("help", "", "List the commands"),
];

/// A command as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Post this text (from `/me`, `/shrug`, or `//…`).
    Post(String),
    Topic(String),
    Join(String),
    Leave,
    Invite(String),
    Mute,
    Away,
    Help,
}

/// What a typed line is: a message to post (`None`), or a command, or why
/// it is not one.
pub fn parse(line: &str) -> Option<Result<Command, String>> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("//") {
        return Some(Ok(Command::Post(format!("/{rest}"))));
    }
    let rest = line.strip_prefix('/')?;
    let (name, argument) = match rest.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (rest, ""),
    };
    let needs = |what: &str| Err(format!("/{name} needs {what}."));
    let command = match name.to_lowercase().as_str() {
        "me" if argument.is_empty() => needs("some text"),
        "me" => Ok(Command::Post(format!("_{}_", escape(argument)))),
        "shrug" if argument.is_empty() => Ok(Command::Post(SHRUG.to_owned())),
        "shrug" => Ok(Command::Post(format!("{argument} {SHRUG}"))),
        "topic" => Ok(Command::Topic(argument.to_owned())),
        "join" => match argument.trim_start_matches('#') {
            "" => needs("a channel, like /join #random"),
            channel => Ok(Command::Join(channel.to_owned())),
        },
        "leave" => Ok(Command::Leave),
        "invite" => match argument.trim_start_matches('@') {
            "" => needs("a person, like /invite @Bob"),
            person => Ok(Command::Invite(person.to_owned())),
        },
        "mute" => Ok(Command::Mute),
        "away" => Ok(Command::Away),
        "help" => Ok(Command::Help),
        _ => Err(format!(
            "There is no command /{name}: type /help for the list (or start with // to post a line starting with /)."
        )),
    };
    Some(command)
}

/// The shrug, written so the message renderer shows it as typed.
const SHRUG: &str = "¯\\\\\\_(ツ)\\_/¯";

/// `text` with the characters that would end its italics escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('_', "\\_")
}

/// The commands whose names start with what is typed after `/`, while the
/// name is being typed (nothing once a space follows it).
pub fn suggestions(draft: &str) -> Vec<(&'static str, &'static str, &'static str)> {
    let Some(typed) = draft.strip_prefix('/') else {
        return Vec::new();
    };
    if typed.starts_with('/') || typed.contains(char::is_whitespace) {
        return Vec::new();
    }
    let typed = typed.to_lowercase();
    COMMANDS
        .into_iter()
        .filter(|(name, _, _)| name.starts_with(&typed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_commands_or_errors_and_plain_text_is_a_message() {
        assert_eq!(parse("hello /there"), None);
        assert_eq!(
            parse("/me waves"),
            Some(Ok(Command::Post("_waves_".into())))
        );
        assert_eq!(
            parse("/me likes snake_case"),
            Some(Ok(Command::Post("_likes snake\\_case_".into())))
        );
        assert_eq!(
            parse("/shrug ok"),
            Some(Ok(Command::Post("ok ¯\\\\\\_(ツ)\\_/¯".into())))
        );
        assert_eq!(
            parse("/topic Rust 2024"),
            Some(Ok(Command::Topic("Rust 2024".into())))
        );
        assert_eq!(
            parse("/join #random"),
            Some(Ok(Command::Join("random".into())))
        );
        assert_eq!(
            parse("/INVITE @Bob"),
            Some(Ok(Command::Invite("Bob".into())))
        );
        assert_eq!(parse("/leave"), Some(Ok(Command::Leave)));
        assert_eq!(
            parse("//etc/hosts"),
            Some(Ok(Command::Post("/etc/hosts".into())))
        );
        assert!(matches!(parse("/join"), Some(Err(_))));
        assert!(matches!(parse("/me"), Some(Err(_))));
        let unknown = parse("/frobnicate now").unwrap().unwrap_err();
        assert!(
            unknown.contains("/frobnicate") && unknown.contains("/help"),
            "{unknown}"
        );
    }

    #[test]
    fn suggestions_follow_the_name_being_typed() {
        assert_eq!(suggestions("/").len(), COMMANDS.len());
        let names: Vec<&str> = suggestions("/m").iter().map(|c| c.0).collect();
        assert_eq!(names, ["me", "mute"]);
        assert!(suggestions("/me waves").is_empty());
        assert!(suggestions("hello").is_empty());
        assert!(suggestions("//x").is_empty());
    }
}
