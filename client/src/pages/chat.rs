//! The chat screen: owns the reducer and the socket, wires the page's hooks
//! (address bar, outbox, activity, the open conversation, message actions)
//! and passes narrow state and stable callbacks down.

use std::collections::HashMap;

use shared::protocol::NotifyLevel;
use shared::{ChannelId, ChatMessage, ClientMsg, ClientMsgId, UserId, UserInfo};
use yew::prelude::*;

use crate::admin::Moderating;
use crate::browser::{new_client_id, notify, now_millis, page_hidden, short_time};
use crate::commands::Command;
use crate::components::account_panel::AccountPanel;
use crate::components::admin_panel::AdminPanel;
use crate::components::composer::Composer;
use crate::components::conversation_header::{ConversationHeader, TypingIndicator};
use crate::components::dialogs::{
    BrowseDialog, CreateChannelDialog, InviteDialog, MembersDialog, NewChannel,
};
use crate::components::emoji_picker::EmojiPicker;
use crate::components::header::Header;
use crate::components::invite_links::InviteLinks;
use crate::components::mentions_panel::MentionsPanel;
use crate::components::message_list::{MessageList, ScrollMemory};
use crate::components::message_row::MessageAction;
use crate::components::new_conversation::NewConversationDialog;
use crate::components::online_users::OnlineUsers;
use crate::components::people::People;
use crate::components::pins_panel::PinsPanel;
use crate::components::quick_switcher::{Pick, QuickSwitcher};
use crate::components::report_dialog::ReportDialog;
use crate::components::search_panel::SearchPanel;
use crate::components::shortcut_sheet::ShortcutSheet;
use crate::components::sidebar::Sidebar;
use crate::components::thread_panel::ThreadPanelView;
use crate::components::threads_view::ThreadsView;
use crate::components::upload_tray::UploadTray;
use crate::custom_emoji::{self, EmojiVersion};
use crate::hooks::use_activity::use_activity;
use crate::hooks::use_address_bar::use_address_bar;
use crate::hooks::use_chat_socket::use_chat_socket;
use crate::hooks::use_commands::use_commands;
use crate::hooks::use_event::use_event;
use crate::hooks::use_file_drop::use_file_drop;
use crate::hooks::use_message_actions::use_message_actions;
use crate::hooks::use_open_conversation::use_open_conversation;
use crate::hooks::use_outbox::use_outbox;
use crate::hooks::use_shortcuts::{Shortcut, use_shortcuts};
use crate::hooks::use_uploads::use_uploads;
use crate::mentions::calls_on;
use crate::outbox;
use crate::state::{Action, ChatState, Connection, NextPage, Pending, Route};
use crate::uploads::{Outgoing, Place, UploadItem};

/// What a composer's tray shows.
#[derive(Default)]
struct TrayView {
    items: Vec<UploadItem>,
    /// Texts sent behind a message still uploading.
    queued: Vec<String>,
    /// Files wait to be posted (an empty text still sends).
    has_files: bool,
    waiting: bool,
}

/// Typing notices are sent at most this often (ms).
const TYPING_EVERY_MS: i64 = 3_000;

#[derive(Properties, PartialEq)]
pub struct ChatPageProps {
    pub me: UserInfo,
    /// Whether the user has set a password (changes the account panel's wording).
    pub has_password: bool,
    /// The session ended (sign-out here or elsewhere).
    pub on_signed_out: Callback<()>,
}

#[derive(Clone, Copy, PartialEq)]
enum Dialog {
    None,
    Create,
    Browse,
    Invite,
    Members,
    /// Start a direct conversation.
    NewConversation,
    /// Start one with the people of the current direct conversation and more.
    AddPeople,
}

#[component]
pub fn ChatPage(props: &ChatPageProps) -> Html {
    let state = use_reducer({
        let me = props.me.clone();
        move || ChatState::new(me)
    });
    let dialog = use_state(|| Dialog::None);
    let show_users = use_state(|| false);
    let show_nav = use_state(|| false);
    let drafts = use_mut_ref(HashMap::<ChannelId, String>::new);
    let scroll_memory = use_memo((), |_| ScrollMemory::default());
    let last_typing = use_mut_ref(|| 0i64);
    use_address_bar(&state);

    // How each conversation notifies, for desktop notifications.
    let notifying = use_mut_ref(HashMap::<ChannelId, (NotifyLevel, bool)>::new);
    *notifying.borrow_mut() = state
        .conversations
        .iter()
        .map(|c| {
            let everyone = state.everyone_notifies(&c.info.id);
            (c.info.id.clone(), (c.info.notify_level(), everyone))
        })
        .collect();
    let on_message = {
        let me = props.me.clone();
        let notifying = notifying.clone();
        use_event(move |message: ChatMessage| {
            if message.author.id == me.id || !page_hidden() {
                return;
            }
            let Some((level, everyone)) = notifying.borrow().get(&message.channel).copied() else {
                return;
            };
            let body = match (message.text.is_empty(), message.attachments.first()) {
                (true, Some(file)) => format!("sent {}", file.name),
                _ => message.text.clone(),
            };
            match level {
                NotifyLevel::None => {}
                // A reply kept in its thread notifies only whom it calls on.
                _ if message.only_in_thread() && !calls_on(&message.text, &me.name, everyone) => {}
                _ if calls_on(&message.text, &me.name, everyone) => {
                    notify(&format!("{} mentioned you", message.author.name), &body);
                }
                NotifyLevel::All => notify(&message.author.name, &body),
                NotifyLevel::Mentions => {}
            }
        })
    };
    let socket = use_chat_socket(state.clone(), props.on_signed_out.clone(), on_message);
    use_outbox(&state, &props.me.id.0);

    use_open_conversation(&state, &socket);
    let current = state.current_conversation().cloned();
    let manual_away = use_memo((), |_| std::rc::Rc::new(std::cell::Cell::new(false)));
    use_activity(&state, &socket, (*manual_away).clone());
    let commands = use_commands(&state, &socket, (*manual_away).clone());

    let post = {
        let state = state.clone();
        let socket = socket.clone();
        use_event(move |message: Outgoing| {
            let pending = Pending {
                channel: message.place.channel,
                client_id: new_client_id(),
                text: message.caption,
                attachments: message.attachments,
                created_at: now_millis(),
                failed: None,
                thread: message.place.thread,
                also_to_channel: message.also_to_channel,
            };
            state.dispatch(Action::Queue(pending.clone()));
            socket.send_pending(&pending);
        })
    };
    let on_thread_older = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            let Some(panel) = state.threads.panel.as_ref() else {
                return;
            };
            let Some(first) = panel.replies.first().map(|m| m.seq) else {
                return;
            };
            if !panel.loading_older
                && socket.send(&ClientMsg::Thread {
                    channel: panel.channel.clone(),
                    root: panel.root,
                    before_seq: Some(first),
                })
            {
                state.dispatch(Action::LoadingOlderReplies);
            }
        })
    };
    let on_thread_follow = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |follow: bool| {
            if let Some(panel) = state.threads.panel.as_ref() {
                socket.send(&ClientMsg::FollowThread {
                    channel: panel.channel.clone(),
                    root: panel.root,
                    follow,
                });
            }
        })
    };
    let close_thread = {
        let state = state.clone();
        use_event(move |()| state.dispatch(Action::CloseThread))
    };
    let on_admin_request = {
        let socket = socket.clone();
        use_event(move |request: ClientMsg| {
            socket.send(&request);
        })
    };
    let open_admin = {
        let state = state.clone();
        use_event(move |open: bool| state.dispatch(Action::OpenAdmin(open)))
    };
    let on_show_threads = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            if state.threads.view_open {
                state.dispatch(Action::CloseThreads);
            } else if socket.send(&ClientMsg::Threads) {
                state.dispatch(Action::ThreadsAsked);
            }
        })
    };
    let close_threads = {
        let state = state.clone();
        use_event(move |()| state.dispatch(Action::CloseThreads))
    };
    let on_open_thread = {
        let (state, socket, show_nav) = (state.clone(), socket.clone(), show_nav.clone());
        use_event(move |(channel, root): (ChannelId, shared::Seq)| {
            show_nav.set(false);
            if socket.send(&ClientMsg::Thread {
                channel: channel.clone(),
                root,
                before_seq: None,
            }) {
                state.dispatch(Action::Switch(channel.clone()));
                state.dispatch(Action::OpenThread {
                    channel,
                    root,
                    focus: None,
                });
            }
        })
    };
    {
        // The open thread is read as its replies show (for its followers).
        let socket = socket.clone();
        use_effect_with(state.threads.to_mark_read(), move |unread| {
            if let Some((channel, root, seq)) = unread.clone()
                && !page_hidden()
            {
                socket.send(&ClientMsg::ReadThread { channel, root, seq });
            }
        });
    }
    let uploads = use_uploads(state.max_upload_bytes, post.clone());
    // Sends a message typed in a place: with the files waiting there (after
    // any message still waiting for its uploads), or at once.
    let send_in = {
        let uploads = uploads.clone();
        use_event(
            move |(place, text, also_to_channel): (Place, String, bool)| {
                if uploads.tray.takes_send(&place) {
                    uploads.send.emit((place, text, also_to_channel));
                } else if !text.trim().is_empty() {
                    post.emit(Outgoing {
                        place,
                        also_to_channel,
                        caption: text,
                        attachments: Vec::new(),
                    });
                }
            },
        )
    };
    let on_send = {
        let state = state.clone();
        let last_typing = last_typing.clone();
        let send_in = send_in.clone();
        let run_command = commands.run.clone();
        use_event(move |text: String| {
            let text = match crate::commands::parse(&text) {
                None => text,
                Some(Ok(Command::Post(text))) => text,
                Some(Ok(command)) => return run_command.emit(command),
                Some(Err(problem)) => return state.dispatch(Action::LocalError(problem)),
            };
            // Receivers drop "is typing" when the message arrives; typing again re-announces.
            *last_typing.borrow_mut() = 0;
            if let Some(channel) = state.current.clone() {
                send_in.emit((Place::conversation(channel), text, false));
            }
        })
    };
    let thread_place = state
        .threads
        .panel
        .as_ref()
        .map(|panel| Place::thread(panel.channel.clone(), panel.root));
    let on_thread_send = {
        let thread_place = thread_place.clone();
        use_event(move |(text, also_to_channel): (String, bool)| {
            if let Some(place) = thread_place.clone() {
                send_in.emit((place, text, also_to_channel));
            }
        })
    };
    let on_files = {
        let state = state.clone();
        let add = uploads.add.clone();
        use_event(move |files: Vec<web_sys::File>| {
            if let Some(channel) = state.current.clone() {
                add.emit((Place::conversation(channel), files));
            }
        })
    };
    let on_thread_files = {
        let add = uploads.add.clone();
        let thread_place = thread_place.clone();
        use_event(move |files: Vec<web_sys::File>| {
            if let Some(place) = thread_place.clone() {
                add.emit((place, files));
            }
        })
    };
    let drop = use_file_drop(on_files.clone());
    let place = state.current.clone().map(Place::conversation);
    let tray_of = |place: Option<&Place>| match place {
        Some(place) => TrayView {
            items: uploads.tray.in_place(place).cloned().collect(),
            queued: uploads.tray.queued_texts(place),
            has_files: uploads.tray.takes_send(place),
            waiting: uploads.tray.is_waiting(place),
        },
        None => TrayView::default(),
    };
    let tray = tray_of(place.as_ref());
    let thread_tray = tray_of(thread_place.as_ref());
    let on_typing = {
        let state = state.clone();
        let socket = socket.clone();
        let last_typing = last_typing.clone();
        use_event(move |()| {
            let now = now_millis();
            if now - *last_typing.borrow() < TYPING_EVERY_MS {
                return;
            }
            if let Some(channel) = state.current.clone()
                && socket.send(&ClientMsg::Typing { channel })
            {
                *last_typing.borrow_mut() = now;
            }
        })
    };
    let on_load_older = {
        let state = state.clone();
        let socket = socket.clone();
        use_event(move |()| {
            let Some(conversation) = state.current_conversation() else {
                return;
            };
            if conversation.loading_older {
                return;
            }
            if let Some(first) = conversation.first_seq()
                && socket.load_older(conversation.info.id.clone(), first)
            {
                state.dispatch(Action::LoadingOlder(conversation.info.id.clone()));
            }
        })
    };
    let on_load_newer = {
        let state = state.clone();
        let socket = socket.clone();
        use_event(move |()| {
            let Some(conversation) = state.current_conversation() else {
                return;
            };
            if conversation.loading_newer || !conversation.has_newer {
                return;
            }
            let channel = conversation.info.id.clone();
            if let Some(after_seq) = conversation.last_seq()
                && socket.send(&ClientMsg::Newer {
                    channel: channel.clone(),
                    after_seq,
                })
            {
                state.dispatch(Action::LoadingNewer(channel));
            }
        })
    };
    let on_message_search = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |query: String| {
            if query.trim().is_empty() {
                state.dispatch(Action::CloseSearch);
                return;
            }
            socket.send(&ClientMsg::Search {
                query: query.clone(),
                before: None,
            });
            state.dispatch(Action::SearchAsked { query, more: false });
        })
    };
    let on_more_results = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            let query = state.search.query.clone();
            if let Some(before) = state.search.next
                && socket.send(&ClientMsg::Search {
                    query: query.clone(),
                    before: Some(before),
                })
            {
                state.dispatch(Action::SearchAsked { query, more: true });
            }
        })
    };
    let close_search = {
        let state = state.clone();
        use_event(move |()| state.dispatch(Action::CloseSearch))
    };
    let on_show_pins = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            let Some(channel) = state.current.clone() else {
                return;
            };
            if state.pins.channel.as_ref() == Some(&channel) {
                state.dispatch(Action::ClosePins);
            } else if socket.send(&ClientMsg::Pins {
                channel: channel.clone(),
            }) {
                state.dispatch(Action::PinsAsked(channel));
            }
        })
    };
    let on_show_mentions = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            if state.mentions.open {
                state.dispatch(Action::CloseMentions);
            } else if socket.send(&ClientMsg::Mentions) {
                state.dispatch(Action::MentionsAsked);
            }
        })
    };
    let close_mentions = {
        let state = state.clone();
        use_event(move |()| state.dispatch(Action::CloseMentions))
    };
    let on_notify = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |level: NotifyLevel| {
            if let Some(channel) = state.current.clone() {
                socket.send(&ClientMsg::SetNotify { channel, level });
            }
        })
    };
    let close_pins = {
        let state = state.clone();
        use_event(move |()| state.dispatch(Action::ClosePins))
    };
    let on_open_result = {
        let (state, show_nav) = (state.clone(), show_nav.clone());
        use_event(move |(channel, seq): (ChannelId, shared::Seq)| {
            show_nav.set(false);
            state.dispatch(Action::Jump { channel, seq });
        })
    };
    let on_discard = {
        let state = state.clone();
        use_event(move |id: ClientMsgId| state.dispatch(Action::Discard(id)))
    };
    let on_switch = {
        let state = state.clone();
        let show_nav = show_nav.clone();
        use_event(move |channel: ChannelId| {
            show_nav.set(false);
            state.dispatch(Action::Switch(channel));
        })
    };
    let open_dialog = {
        let dialog = dialog.clone();
        let state = state.clone();
        let socket = socket.clone();
        use_event(move |which: Dialog| {
            state.dispatch(Action::ChannelError(None));
            match which {
                Dialog::Browse => {
                    socket.send(&ClientMsg::BrowseChannels {
                        query: String::new(),
                    });
                }
                Dialog::Invite | Dialog::NewConversation | Dialog::AddPeople => {
                    socket.send(&ClientMsg::ListUsers {
                        query: String::new(),
                        after: None,
                    });
                }
                Dialog::Members => {
                    if let Some(channel) = state.current.clone() {
                        socket.send(&ClientMsg::Members { channel });
                    }
                }
                _ => {}
            }
            dialog.set(which);
        })
    };
    let dialog_opener = |which: Dialog| {
        let open_dialog = open_dialog.clone();
        move |()| open_dialog.emit(which)
    };
    let open_create = use_event(dialog_opener(Dialog::Create));
    let open_browse = use_event(dialog_opener(Dialog::Browse));
    let open_invite = use_event(dialog_opener(Dialog::Invite));
    let open_members = use_event(dialog_opener(Dialog::Members));
    let open_new_conversation = use_event(dialog_opener(Dialog::NewConversation));
    let open_add_people = use_event(dialog_opener(Dialog::AddPeople));
    let close_dialog = {
        let dialog = dialog.clone();
        use_event(move |()| dialog.set(Dialog::None))
    };
    let on_create = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |new: NewChannel| {
            // The dialog closes when the channel opens, or shows the refusal.
            state.dispatch(Action::ExpectOpen);
            socket.send(&ClientMsg::CreateChannel {
                name: new.name,
                topic: new.topic,
                private: new.private,
            });
        })
    };
    {
        // A dialog that opened a conversation (created, joined, messaged) closes.
        let dialog = dialog.clone();
        use_effect_with(state.current.clone(), move |_| {
            if *dialog != Dialog::None && *dialog != Dialog::Invite {
                dialog.set(Dialog::None);
            }
        });
    }
    let on_search = {
        let socket = socket.clone();
        use_event(move |query: String| {
            socket.send(&ClientMsg::BrowseChannels { query });
        })
    };
    let on_join = {
        let (state, socket, dialog) = (state.clone(), socket.clone(), dialog.clone());
        use_event(move |channel: ChannelId| {
            if state.conversation(&channel).is_some() {
                state.dispatch(Action::Switch(channel));
            } else {
                state.dispatch(Action::ExpectOpen);
                socket.send(&ClientMsg::JoinChannel { channel });
            }
            dialog.set(Dialog::None);
        })
    };
    let on_invite = {
        let (state, socket, dialog) = (state.clone(), socket.clone(), dialog.clone());
        use_event(move |user: UserId| {
            if let Some(channel) = state.current.clone() {
                socket.send(&ClientMsg::Invite { channel, user });
            }
            dialog.set(Dialog::None);
        })
    };
    let actions = use_message_actions(&state, &socket);
    let on_remove = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |user: UserId| {
            if let Some(channel) = state.current.clone() {
                socket.send(&ClientMsg::RemoveMember { channel, user });
            }
        })
    };
    let on_open_direct = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |users: Vec<UserId>| {
            state.dispatch(Action::ChannelError(None));
            state.dispatch(Action::ExpectOpen);
            socket.send(&ClientMsg::OpenDirect { users });
        })
    };
    let on_start_dm = {
        let on_open_direct = on_open_direct.clone();
        use_event(move |user: UserId| on_open_direct.emit(vec![user]))
    };
    let on_user_search = {
        let socket = socket.clone();
        use_event(move |query: String| {
            socket.send(&ClientMsg::ListUsers { query, after: None });
        })
    };
    // Keyboard: the quick switcher, moving between conversations, the sheet.
    let switcher = use_state(|| false);
    let sheet = use_state(|| false);
    let on_shortcut = {
        let (state, switcher, sheet, on_switch) = (
            state.clone(),
            switcher.clone(),
            sheet.clone(),
            on_switch.clone(),
        );
        use_event(move |shortcut: Shortcut| match shortcut {
            Shortcut::QuickSwitcher => switcher.set(true),
            Shortcut::Sheet => sheet.set(true),
            Shortcut::Previous | Shortcut::Next => {
                let list = &state.conversations;
                let here = state
                    .current
                    .as_ref()
                    .and_then(|current| list.iter().position(|c| &c.info.id == current));
                let next = match (here, shortcut) {
                    (Some(0), Shortcut::Previous) | (None, _) => list.len().checked_sub(1),
                    (Some(at), Shortcut::Previous) => Some(at - 1),
                    (Some(at), _) => Some((at + 1) % list.len().max(1)),
                };
                if let Some(conversation) = next.and_then(|at| list.get(at)) {
                    on_switch.emit(conversation.info.id.clone());
                }
            }
        })
    };
    use_shortcuts(on_shortcut);
    let on_switcher_pick = {
        let (switcher, on_switch, on_start_dm) =
            (switcher.clone(), on_switch.clone(), on_start_dm.clone());
        use_event(move |pick: Pick| {
            switcher.set(false);
            match pick {
                Pick::Conversation(channel) => on_switch.emit(channel),
                Pick::Person(user) => on_start_dm.emit(user),
            }
        })
    };
    let close_switcher = {
        let switcher = switcher.clone();
        use_event(move |()| switcher.set(false))
    };
    let close_sheet = {
        let sheet = sheet.clone();
        use_event(move |()| sheet.set(false))
    };
    let on_more_users = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            if let Some(after) = state.users_next.clone() {
                socket.send(&ClientMsg::ListUsers {
                    query: state.users_query.clone(),
                    after: Some(after),
                });
            }
        })
    };
    let on_online_search = {
        let socket = socket.clone();
        use_event(move |query: String| {
            socket.send(&ClientMsg::OnlineMembers { query, after: None });
        })
    };
    let on_online_more = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            let after = state.online_next.as_ref().and_then(NextPage::after);
            socket.send(&ClientMsg::OnlineMembers {
                query: String::new(),
                after,
            });
        })
    };
    let on_block = {
        let socket = socket.clone();
        use_event(move |(user, blocked): (UserId, bool)| {
            socket.send(&ClientMsg::Block { user, blocked });
        })
    };
    // The other person of the direct conversation on screen, if it has one.
    let other_person = current
        .as_ref()
        .and_then(|c| c.other_person())
        .map(|u| u.id.clone());
    let on_block_other = {
        let on_block = on_block.clone();
        let other = other_person.clone();
        use_event(move |blocked: bool| {
            if let Some(user) = other.clone() {
                on_block.emit((user, blocked));
            }
        })
    };
    let on_leave = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |()| {
            if let Some(channel) = state.current.clone() {
                socket.send(&ClientMsg::LeaveChannel { channel });
            }
        })
    };
    let on_set_topic = {
        let (state, socket) = (state.clone(), socket.clone());
        use_event(move |topic: String| {
            if let Some(channel) = state.current.clone() {
                socket.send(&ClientMsg::SetTopic { channel, topic });
            }
        })
    };
    let on_draft = {
        let drafts = drafts.clone();
        let current = state.current.clone();
        use_event(move |text: String| {
            if let Some(channel) = &current {
                drafts.borrow_mut().insert(channel.clone(), text);
            }
        })
    };
    {
        // The user list is loaded once connected, and refreshed on presence
        // changes while few are online (in a crowd that would be every second).
        let socket = socket.clone();
        let small = state.online_count as usize <= shared::protocol::ONLINE_PAGE;
        let query = state.users_query.clone();
        use_effect_with(
            (state.connection, small.then_some(state.online_count)),
            move |(connection, _)| {
                if connection.as_str() == "connected" {
                    socket.send(&ClientMsg::ListUsers { query, after: None });
                }
            },
        );
    }
    let on_sign_out = {
        let on_signed_out = props.on_signed_out.clone();
        let user_id = props.me.id.0.clone();
        use_event(move |()| {
            let on_signed_out = on_signed_out.clone();
            let user_id = user_id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = crate::api::sign_out().await;
                outbox::clear(&user_id);
                on_signed_out.emit(());
            });
        })
    };
    let toggle = |flag: &UseStateHandle<bool>| {
        let shown = **flag;
        let flag = flag.setter();
        move |()| flag.set(!shown)
    };
    let toggle_users = use_event(toggle(&show_users));
    let toggle_nav = use_event(toggle(&show_nav));
    let dismiss_error = {
        let state = state.clone();
        use_event(move |_: MouseEvent| state.dispatch(Action::DismissError))
    };

    // A shared link to a public channel you are not in: offer to join it.
    let unresolved = match &state.wanted {
        Some(Route::Channel(name))
            if state.connection.as_str() == "connected"
                && !state
                    .conversations
                    .iter()
                    .any(|c| !c.is_direct() && &c.info.name == name) =>
        {
            Some(name.clone())
        }
        _ => None,
    };
    {
        let socket = socket.clone();
        use_effect_with(unresolved.clone(), move |unresolved| {
            if let Some(name) = unresolved {
                socket.send(&ClientMsg::BrowseChannels {
                    query: name.clone(),
                });
            }
        });
    }
    let offer = unresolved.and_then(|name| {
        state
            .directory
            .iter()
            .find(|c| c.name == name && !c.joined)
            .cloned()
    });
    // A link to a conversation that is not there (or not to be seen): the
    // same answer whether it does not exist or is someone else's.
    let connected = state.connection.as_str() == "connected";
    let not_found = match &state.wanted {
        Some(Route::Channel(name))
            if connected
                && offer.is_none()
                && state.directory_query.as_deref() == Some(name.as_str()) =>
        {
            Some(format!("#{name}"))
        }
        Some(Route::Direct(name)) if connected => Some(name.clone()),
        _ => None,
    };
    let join_offered = {
        let (state, socket) = (state.clone(), socket.clone());
        let offer = offer.clone();
        use_event(move |_: MouseEvent| {
            if let Some(channel) = &offer {
                state.dispatch(Action::ExpectOpen);
                socket.send(&ClientMsg::JoinChannel {
                    channel: channel.id.clone(),
                });
            }
        })
    };
    let dismiss_offer = {
        let state = state.clone();
        use_event(move |_: MouseEvent| state.dispatch(Action::Navigate(None)))
    };
    let on_unpin = {
        let on_action = actions.on_action.clone();
        use_event(move |seq| on_action.emit(MessageAction::Pin(seq, false)))
    };
    let title = current
        .as_ref()
        .map(|c| c.title())
        .unwrap_or_else(|| "#general".into());
    let topic = current
        .as_ref()
        .map(|c| c.info.topic.clone())
        .unwrap_or_default();
    let typing_names: Vec<String> = current
        .as_ref()
        .map(|c| {
            state
                .typing_in(&c.info.id)
                .map(|u| u.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let reader = use_memo(state.me.clone(), |me| me.clone());
    let emoji_version = use_state(EmojiVersion::default);
    {
        // The custom emoji list, fetched on every (re)connection.
        let setter = emoji_version.setter();
        use_effect_with(
            state.connection == Connection::Connected,
            move |connected| {
                custom_emoji::listen(Callback::from(move |version| setter.set(version)));
                if *connected {
                    custom_emoji::refresh();
                }
            },
        );
    }
    html! {
        <ContextProvider<EmojiVersion> context={*emoji_version}>
        <ContextProvider<Moderating> context={Moderating(state.admin.role.moderates())}>
        <div class="app">
            <Header room={title.clone()} topic={topic} online_count={state.online_count as usize}
                    me={state.me.clone()} connection={state.connection}
                    on_toggle_users={toggle_users.clone()} on_toggle_nav={toggle_nav}
                    on_sign_out={on_sign_out} on_search={on_message_search} />
            <div class="layout">
                <Sidebar state={state.clone()} on_switch={on_switch} open={*show_nav}
                         on_create={open_create} on_browse={open_browse} on_mentions={on_show_mentions}
                         on_threads={on_show_threads} on_admin={open_admin.reform(|()| true)}
                         on_new_conversation={open_new_conversation} />
                <main class={classes!("conversation", drop.dragging.then_some("drop-target"))}
                      ondragover={drop.on_drag_over} ondragleave={drop.on_drag_leave} ondrop={drop.on_drop}>
                    if state.admin.open && state.admin.available() {
                        <AdminPanel admin={state.admin.clone()} me={state.me.id.clone()}
                                    on_request={on_admin_request.clone()} on_close={open_admin.reform(|()| false)} />
                    } else {
                    if let Some(conversation) = current.clone() {
                        <ConversationHeader conversation={conversation.clone()} on_set_topic={on_set_topic}
                                            on_leave={on_leave} on_invite={open_invite} on_add_people={open_add_people}
                                            on_members={open_members} on_pins={on_show_pins} on_notify={on_notify}
                                            blocked={other_person.as_ref().is_some_and(|u| state.has_blocked(u))}
                                            on_block={on_block_other} role={state.admin.role}
                                            on_rule={on_admin_request.clone()} />
                        <MessageList key={conversation.info.id.0.clone()} conversation={conversation.clone()}
                                     pending={state.pending_in(&conversation.info.id).cloned().collect::<Vec<_>>()}
                                     reader={reader.clone()} connected={state.connection.as_str() == "connected"}
                                     scroll_memory={(*scroll_memory).clone()}
                                     on_load_older={on_load_older} on_load_newer={on_load_newer}
                                     on_discard={on_discard.clone()} editing={actions.editing} copied={actions.copied}
                                     on_action={actions.on_action.clone()} />
                        <TypingIndicator names={typing_names} />
                    } else {
                        <div class="message-list" data-testid="message-list"></div>
                    }
                    if let Some(channel) = &offer {
                        <div class="banner info" role="status">
                            <span>{ format!("#{} is a public channel you are not in yet.", channel.name) }</span>
                            <span>
                                <button class="primary small" data-testid="join-channel" data-channel={channel.name.clone()}
                                        onclick={join_offered}>{ format!("Join #{}", channel.name) }</button>
                                <button onclick={dismiss_offer.clone()} aria-label="Dismiss">{ "×" }</button>
                            </span>
                        </div>
                    }
                    if let Some(missing) = &not_found {
                        <div class="banner info" role="status" data-testid="not-found">
                            <span>{ format!("{missing} was not found: it does not exist, or you cannot see it.") }</span>
                            <button onclick={dismiss_offer.clone()} aria-label="Dismiss">{ "×" }</button>
                        </div>
                    }
                    if let Some(conversation) = current.as_ref().filter(|c| c.info.archived) {
                        <div class="banner info" role="status" data-testid="archived-notice">
                            { format!("#{} is archived: it is read-only.", conversation.info.name) }
                        </div>
                    } else if let Some(seconds) = current.as_ref()
                        .map(|c| c.info.slow_mode_seconds)
                        .filter(|s| *s > 0 && !state.admin.role.moderates()) {
                        <div class="banner info" role="status" data-testid="slow-mode-notice">
                            { format!("Slow mode: one message every {seconds} seconds.") }
                        </div>
                    }
                    if let Some(until) = state.admin.muted_at(now_millis()) {
                        <div class="banner info" role="status" data-testid="muted-notice">
                            { format!("A moderator has muted you until {}: you can read, but not post or react.", short_time(until)) }
                        </div>
                    }
                    if commands.help {
                        <div class="banner info command-help" role="status" data-testid="command-help">
                            <ul>
                                { for crate::commands::COMMANDS.iter().map(|(name, argument, what)| html! {
                                    <li><strong>{ format!("/{name}") }</strong>{ format!(" {argument}") }{ format!(" — {what}") }</li>
                                }) }
                            </ul>
                            <button onclick={commands.close_help.reform(|_: MouseEvent| ())} aria-label="Close the list of commands">{ "×" }</button>
                        </div>
                    }
                    if let Some(error) = &state.notice_error {
                        <div class="banner error" role="alert">
                            { error }
                            <button onclick={dismiss_error} aria-label="Dismiss">{ "×" }</button>
                        </div>
                    }
                    <UploadTray items={tray.items.clone()} waiting={tray.waiting} queued={tray.queued.clone()}
                                on_remove={uploads.remove.clone()} on_retry={uploads.retry.clone()} />
                    <Composer key={state.current.as_ref().map(|c| c.0.clone()).unwrap_or_default()}
                              on_send={on_send} on_typing={on_typing} on_draft={on_draft}
                              on_files={on_files} has_files={tray.has_files}
                              on_edit_last={actions.on_edit_last.clone()}
                              initial_draft={state.current.as_ref().and_then(|c| drafts.borrow().get(c).cloned()).unwrap_or_default()}
                              placeholder={format!("Message {title}")} />
                    }
                </main>
                if let Some(panel) = state.threads.panel.clone() {
                    <ThreadPanelView panel={panel.clone()} title={title.clone()} reader={reader.clone()}
                                     pending={state.pending_in_thread(&panel.channel, panel.root).cloned().collect::<Vec<_>>()}
                                     editing={actions.editing} copied={actions.copied}
                                     on_action={actions.on_action.clone()} on_discard={on_discard.clone()}
                                     on_send={on_thread_send} on_load_older={on_thread_older}
                                     on_files={on_thread_files} has_files={thread_tray.has_files}
                                     tray={html! {
                                         <UploadTray items={thread_tray.items.clone()} waiting={thread_tray.waiting}
                                                     queued={thread_tray.queued.clone()}
                                                     on_remove={uploads.remove.clone()} on_retry={uploads.retry.clone()} />
                                     }}
                                     on_follow={on_thread_follow} on_close={close_thread} />
                } else if state.threads.view_open {
                    <ThreadsView followed={state.threads.followed.clone()} conversations={state.conversations.clone()}
                                 reader={reader.clone()} on_open={on_open_thread} on_close={close_threads} />
                } else if state.search.open {
                    <SearchPanel search={state.search.clone()} conversations={state.conversations.clone()}
                                 reader={reader.clone()} on_open={on_open_result.clone()}
                                 on_more={on_more_results} on_close={close_search} />
                } else if state.mentions.open {
                    <MentionsPanel mentions={state.mentions.clone()} conversations={state.conversations.clone()}
                                   reader={reader.clone()} on_open={on_open_result.clone()}
                                   on_close={close_mentions} />
                } else if let Some(conversation) = current.as_ref()
                    .filter(|c| state.pins.channel.as_ref() == Some(&c.info.id)) {
                    <PinsPanel pins={state.pins.clone()} title={conversation.title()} reader={reader.clone()}
                               on_open={on_open_result.clone()} on_close={close_pins}
                               on_unpin={on_unpin} />
                }
                <OnlineUsers users={state.online.clone()} count={state.online_count}
                             has_more={state.online_next.is_some()}
                             found={state.online_found.clone()}
                             on_search={on_online_search} on_more={on_online_more}
                             me={state.me.clone()}
                             open={*show_users} on_close={toggle_users}>
                    <People users={state.users.clone()} query={state.users_query.clone()}
                            has_more={state.users_next.is_some()}
                            online={state.online.clone()} away={state.away.clone()}
                            blocked={state.blocked.clone()} me={state.me.id.clone()}
                            on_start_dm={on_start_dm} on_block={on_block}
                            on_search={on_user_search.clone()} on_more={on_more_users} />
                    <AccountPanel has_password={props.has_password}
                                  on_signed_out={props.on_signed_out.clone()} />
                    if state.admin.may_invite() && !state.admin.role.administers() {
                        <section class="invite-panel" aria-labelledby="invite-title">
                            <h2 id="invite-title">{ "Invite people" }</h2>
                            <InviteLinks invites={state.admin.invites.clone()} created={state.admin.created.clone()}
                                         on_request={on_admin_request.clone()} />
                        </section>
                    }
                </OnlineUsers>
            </div>
            if *switcher {
                <QuickSwitcher conversations={state.conversations.clone()} people={state.users.clone()}
                               me={state.me.id.clone()} on_pick={on_switcher_pick}
                               on_search={on_user_search.clone()} on_close={close_switcher} />
            }
            if *sheet {
                <ShortcutSheet on_close={close_sheet} />
            }
            if let Some(target) = &actions.reporting {
                <ReportDialog sent={state.admin.reported.as_ref() == Some(target)}
                              on_send={actions.on_report.clone()} on_close={actions.close_reporting.clone()} />
            }
            if actions.reacting.is_some() {
                <div class="modal-backdrop" onclick={actions.close_reacting.reform(|_: MouseEvent| ())}>
                    <div class="reaction-picker" onclick={|e: MouseEvent| e.stop_propagation()}>
                        <EmojiPicker on_pick={actions.on_pick_reaction.clone()} on_close={actions.close_reacting.clone()} />
                    </div>
                </div>
            }
            { match *dialog {
                Dialog::Create => html! {
                    <CreateChannelDialog error={state.channel_error.clone()} on_submit={on_create}
                                         on_close={close_dialog.clone()} />
                },
                Dialog::Browse => html! {
                    <BrowseDialog state={state.clone()} on_search={on_search} on_join={on_join}
                                  on_close={close_dialog.clone()} />
                },
                Dialog::Invite => html! {
                    <InviteDialog state={state.clone()} on_invite={on_invite} on_close={close_dialog.clone()} />
                },
                Dialog::Members => match current.as_ref() {
                    Some(conversation) => html! {
                        <MembersDialog state={state.clone()} channel={conversation.info.id.clone()}
                                       can_remove={conversation.info.created_by.as_ref() == Some(&state.me.id)}
                                       on_remove={on_remove} on_close={close_dialog.clone()} />
                    },
                    None => html! {},
                },
                Dialog::NewConversation | Dialog::AddPeople => {
                    let preset = match (*dialog, current.as_ref()) {
                        (Dialog::AddPeople, Some(conversation)) => conversation.info.direct_with.clone(),
                        _ => Vec::new(),
                    };
                    html! {
                        <NewConversationDialog state={state.clone()} {preset} on_search={on_user_search}
                                               on_submit={on_open_direct} on_close={close_dialog.clone()} />
                    }
                }
                Dialog::None => html! {},
            } }
        </div>
        </ContextProvider<Moderating>>
        </ContextProvider<EmojiVersion>>
    }
}
