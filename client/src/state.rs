//! Everything the chat page shows, and how server frames and user actions
//! change it: the conversations (channels and direct messages) with their
//! timelines, what is pending, who is online. A pure reducer, unit-tested
//! without a browser.

use std::collections::HashSet;
use std::rc::Rc;

use shared::protocol::{ChannelInfo, ChannelKind, ChannelSummary, PresenceStatus, UserPresence};
use shared::roles::{AdminUser, AuditEntry, Role};
use shared::{Attachment, ChannelId, ChatMessage, ClientMsgId, ErrorCode, Seq, UserId, UserInfo};
use yew::Reducible;

use crate::admin::AdminState;
pub use crate::conversation::{Conversation, Entry, MAX_TIMELINE, NoticePart};
pub use crate::mentions::MentionsState;
use crate::mentions::calls_on;
pub use crate::pins::PinsState;
pub use crate::search::SearchState;
pub use crate::threads::ThreadsState;

/// How long "… is typing" lasts without a new notice, in milliseconds.
pub const TYPING_MS: i64 = 6_000;

/// The socket's state, shown by the connection indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Connected,
    /// Waiting to reconnect; `attempt` counts failures in a row.
    Reconnecting {
        attempt: u32,
    },
}

impl Connection {
    /// The `data-state` value of the indicator.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting { .. } => "reconnecting",
        }
    }
}

/// A message typed here that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// Where it goes (empty for messages saved by an older version: `general`).
    #[serde(default)]
    pub channel: ChannelId,
    pub client_id: ClientMsgId,
    pub text: String,
    /// Uploaded files posted with it (the text is then an optional caption).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub created_at: i64,
    /// Why the server refused it for good, if it did.
    #[serde(default)]
    pub failed: Option<String>,
    /// A reply in the thread of this message.
    #[serde(default)]
    pub thread: Option<Seq>,
    /// A reply that shows in the conversation too.
    #[serde(default)]
    pub also_to_channel: bool,
}

impl Pending {
    /// Whether it shows in its conversation (not only in a thread).
    pub fn in_channel(&self) -> bool {
        self.thread.is_none() || self.also_to_channel
    }
}

/// Which conversation a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Channel(String),
    Direct(String),
}

impl Route {
    /// `/c/rust` or `/dm/Bob` (percent-decoded by the caller), also with a
    /// message's number after it (`/c/rust/42`, see [`Route::message`]).
    pub fn parse(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        let first = |rest: &str| rest.split('/').next().unwrap_or_default().to_owned();
        if let Some(rest) = path.strip_prefix("/c/") {
            let name = first(rest);
            return (!name.is_empty()).then_some(Self::Channel(name));
        }
        if let Some(rest) = path.strip_prefix("/dm/") {
            let name = first(rest);
            return (!name.is_empty()).then_some(Self::Direct(name));
        }
        None
    }

    /// The admin panel's address.
    pub const ADMIN: &str = "/admin";

    /// Whether `path` is the admin panel's.
    pub fn is_admin(path: &str) -> bool {
        path.trim_end_matches('/') == Self::ADMIN
    }

    /// The message a link points to: `42` in `/c/rust/42`.
    pub fn message(path: &str) -> Option<Seq> {
        Self::parse(path)?;
        let mut parts = path.trim_end_matches('/').splitn(4, '/').skip(3);
        parts.next()?.parse().ok().filter(|seq: &Seq| *seq > 0)
    }

    /// The link to message `seq` of a conversation at `path` (`/c/rust`).
    pub fn message_path(path: &str, seq: Seq) -> String {
        format!("{path}/{seq}")
    }
}

/// Where the next page of a list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    /// From the beginning: what was shown so far came another way.
    First,
    /// After this name.
    After(String),
}

impl NextPage {
    /// The `after` of the request for it.
    pub fn after(&self) -> Option<String> {
        match self {
            Self::First => None,
            Self::After(name) => Some(name.clone()),
        }
    }
}

/// Someone typing in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub channel: ChannelId,
    pub user: UserInfo,
    pub until: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatState {
    pub me: UserInfo,
    pub connection: Connection,
    /// Channels first (by name), then direct conversations. Each is shared:
    /// an action copies only the conversations it changes.
    pub conversations: Vec<Rc<Conversation>>,
    /// Who is typing where, and until when (ms since the epoch). Kept apart
    /// from the conversations so that a typing notice does not touch them.
    pub typing: Vec<Typing>,
    pub current: Option<ChannelId>,
    pub pending: Vec<Pending>,
    /// Who is known to be online, by name: everyone when they are few,
    /// otherwise the people shown so far (pages asked for, conversations).
    /// Shared with the lists that show them (the online panel, People).
    pub online: Rc<Vec<UserInfo>>,
    /// How many are online in all.
    pub online_count: u32,
    /// Where the next page of who is online starts (`None`: no more).
    pub online_next: Option<NextPage>,
    /// The last search of who is online: the words and what matched.
    pub online_found: Option<(String, Vec<UserInfo>)>,
    pub away: HashSet<UserId>,
    /// People with an account, for the user list: the pages of the last
    /// search (`users_query`; all when empty), refreshed on demand.
    /// Shared with the list that shows them: a render compares one pointer.
    pub users: Rc<Vec<UserPresence>>,
    pub users_query: String,
    /// Where the next page of people starts (`None`: no more).
    pub users_next: Option<String>,
    /// Results of browsing public channels.
    pub directory: Vec<ChannelSummary>,
    /// The member list last asked for.
    pub members: Option<(ChannelId, Vec<UserInfo>)>,
    /// A problem to show above the composer.
    pub notice_error: Option<String>,
    /// A problem creating or joining a channel (shown in the dialog).
    pub channel_error: Option<String>,
    /// The conversation the URL asked for, until it can be opened.
    pub wanted: Option<Route>,
    /// The next `channel_joined` was asked for here: switch to it.
    pub expect_open: bool,
    /// Largest upload the server accepts (from `welcome`).
    pub max_upload_bytes: u64,
    /// Largest conversation where `@channel` and `@here` notify (from `welcome`).
    pub mention_everyone_max_members: u32,
    /// The people this user has blocked.
    pub blocked: HashSet<UserId>,
    /// The database's history as of the last `welcome` (see
    /// `ServerMsg::Welcome`); empty before the first.
    pub epoch: String,
    /// The message the URL points to, until its conversation opens.
    pub wanted_message: Option<Seq>,
    /// The query the channel directory last answered (a link to a channel
    /// not in the list is "not found" once its name was looked up).
    pub directory_query: Option<String>,
    pub search: SearchState,
    /// The pinned-messages panel (opening it closes the search panel, and
    /// the other way round).
    pub pins: PinsState,
    /// The mentions view (one side panel at a time: search, pins, this,
    /// the threads view or a thread).
    pub mentions: MentionsState,
    /// The open thread, the threads followed, the threads view.
    pub threads: ThreadsState,
    /// This person's role and mute; the admin panel.
    pub admin: AdminState,
}

#[derive(Debug, Clone)]
pub enum Action {
    Connecting,
    Disconnected {
        attempt: u32,
    },
    Welcome {
        me: UserInfo,
        channels: Vec<ChannelInfo>,
        online: Vec<UserInfo>,
        online_count: u32,
        away: Vec<UserId>,
        max_upload_bytes: u64,
        mention_everyone_max_members: u32,
        blocked: Vec<UserId>,
        epoch: String,
    },
    /// Comings and goings among people not shown one by one.
    PresenceSummary {
        online_count: u32,
        joined: Vec<UserInfo>,
        joined_others: u32,
        left: Vec<UserInfo>,
        left_others: u32,
        at: i64,
    },
    /// A page of who is online (an answer to `online_members`).
    OnlinePage {
        query: String,
        users: Vec<UserPresence>,
        next: Option<String>,
        online_count: u32,
    },
    /// Several joined a big channel.
    MembersJoined {
        channel: ChannelId,
        users: Vec<UserInfo>,
        others: u32,
        at: i64,
    },
    /// The people this user has blocked, after a change (from any tab).
    Blocked(Vec<UserId>),
    /// This person's role and mute (from `welcome`, or changed).
    Standing {
        role: Role,
        muted_until: Option<i64>,
    },
    /// Show (or hide) the admin panel in place of the conversation.
    OpenAdmin(bool),
    /// A page of the admin panel's people.
    AdminUsers {
        users: Vec<AdminUser>,
        query: String,
        after: Option<String>,
        next: Option<String>,
    },
    /// Someone's role or standing after a change made here.
    AdminUser(AdminUser),
    ServerSettings(shared::community::ServerSettings),
    InviteCreated {
        invite: shared::community::Invite,
        code: String,
    },
    Invites(Vec<shared::community::Invite>),
    Reports(Vec<shared::roles::Report>),
    /// A channel was renamed.
    ChannelRenamed {
        channel: ChannelId,
        name: String,
    },
    /// A channel's slow mode or archiving changed.
    ChannelRules {
        channel: ChannelId,
        slow_mode_seconds: u32,
        archived: bool,
    },
    Reported {
        channel: ChannelId,
        seq: Seq,
    },
    /// A page of the audit log.
    AuditLog {
        entries: Vec<AuditEntry>,
        before: Option<i64>,
        more: bool,
    },
    /// Catch-up or first page, with the held messages that changed since
    /// (applied together: one render for the whole catch-up). `fresh` is
    /// true when it answered `after_seq: None`.
    Synced {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
        updated: Vec<ChatMessage>,
        has_older: bool,
        fresh: bool,
    },
    History {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
        has_older: bool,
    },
    Message(ChatMessage),
    /// A held message was edited, deleted or reacted to.
    Updated(ChatMessage),
    Ack {
        channel: ChannelId,
        client_id: ClientMsgId,
        seq: Seq,
        sent_at: i64,
    },
    UserJoined {
        user: UserInfo,
        at: i64,
    },
    UserLeft {
        user: UserInfo,
        at: i64,
    },
    ServerError {
        code: ErrorCode,
        message: String,
        client_id: Option<ClientMsgId>,
    },
    Queue(Pending),
    Restore(Vec<Pending>),
    Discard(ClientMsgId),
    /// History was requested for a conversation.
    Requested(ChannelId),
    LoadingOlder(ChannelId),
    DismissError,
    /// A problem found here (a command that cannot run), shown like the server's.
    LocalError(String),
    ChannelJoined(ChannelInfo),
    ChannelLeft {
        channel: ChannelId,
        reason: String,
    },
    Directory {
        query: String,
        channels: Vec<ChannelSummary>,
    },
    Members {
        channel: ChannelId,
        members: Vec<UserInfo>,
    },
    MemberJoined {
        channel: ChannelId,
        user: UserInfo,
        at: i64,
    },
    MemberLeft {
        channel: ChannelId,
        user: UserInfo,
        at: i64,
    },
    TopicChanged {
        channel: ChannelId,
        topic: String,
        by: UserInfo,
        at: i64,
    },
    Typing {
        channel: ChannelId,
        user: UserInfo,
        until: i64,
    },
    /// Drops typing notices that ran out.
    Tick {
        now: i64,
    },
    Presence {
        user: UserInfo,
        status: PresenceStatus,
    },
    /// A page of people: the first of a search (`after` none) or the next.
    Users {
        users: Vec<UserPresence>,
        query: String,
        after: Option<String>,
        next: Option<String>,
    },
    /// Read up to `seq` (here or in another tab).
    Read {
        channel: ChannelId,
        seq: Seq,
    },
    /// Show a conversation.
    Switch(ChannelId),
    /// The URL points to a message of the conversation it names.
    WantMessage(Option<Seq>),
    /// Show message `seq` of a conversation (a search result, a link).
    Jump {
        channel: ChannelId,
        seq: Seq,
    },
    /// The messages around a jump's target were asked for.
    JumpAsked(ChannelId),
    /// The answer to a jump.
    Around {
        channel: ChannelId,
        seq: Seq,
        /// `seq` is a reply kept in this thread.
        thread: Option<Seq>,
        messages: Vec<ChatMessage>,
        has_older: bool,
        has_newer: bool,
    },
    LoadingNewer(ChannelId),
    Newer {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
        has_newer: bool,
    },
    /// A search was sent: `more` for the next page of the same query.
    SearchAsked {
        query: String,
        more: bool,
    },
    SearchResults {
        query: String,
        before: Option<i64>,
        results: Vec<ChatMessage>,
        highlight: shared::search::Highlighter,
        next: Option<i64>,
    },
    CloseSearch,
    /// The pinned list of a conversation was asked for (the panel opens).
    PinsAsked(ChannelId),
    Pins {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
    },
    ClosePins,
    /// The mentions view was asked for (it opens).
    MentionsAsked,
    Mentions(Vec<ChatMessage>),
    /// A thread opens beside the conversation (its page was asked for).
    OpenThread {
        channel: ChannelId,
        root: Seq,
        focus: Option<Seq>,
    },
    ThreadPage {
        channel: ChannelId,
        root: ChatMessage,
        replies: Vec<ChatMessage>,
        has_older: bool,
        following: bool,
    },
    LoadingOlderReplies,
    CloseThread,
    /// The threads view was asked for (it opens).
    ThreadsAsked,
    Threads(Vec<shared::ThreadItem>),
    CloseThreads,
    ThreadState {
        channel: ChannelId,
        root: Seq,
        following: bool,
        read_seq: Seq,
    },
    CloseMentions,
    /// How a conversation notifies this user changed (in any of their tabs).
    NotifyChanged {
        channel: ChannelId,
        level: shared::protocol::NotifyLevel,
    },
    /// The URL changed (back/forward or first load).
    Navigate(Option<Route>),
    /// A create/join/open request was sent: switch when it is answered.
    ExpectOpen,
    ChannelError(Option<String>),
}

/// `user`'s presence, given who is known to be online and who of them is away.
pub fn presence_in(online: &[UserInfo], away: &HashSet<UserId>, user: &UserId) -> PresenceStatus {
    if !online.iter().any(|u| &u.id == user) {
        PresenceStatus::Offline
    } else if away.contains(user) {
        PresenceStatus::Away
    } else {
        PresenceStatus::Online
    }
}

impl ChatState {
    pub fn new(me: UserInfo) -> Self {
        Self {
            me,
            connection: Connection::Connecting,
            conversations: Vec::new(),
            typing: Vec::new(),
            current: None,
            pending: Vec::new(),
            online: Rc::default(),
            online_count: 0,
            online_next: None,
            online_found: None,
            away: HashSet::new(),
            users: Rc::default(),
            users_query: String::new(),
            users_next: None,
            directory: Vec::new(),
            members: None,
            notice_error: None,
            channel_error: None,
            wanted: None,
            expect_open: false,
            max_upload_bytes: shared::limits::DEFAULT_MAX_UPLOAD_BYTES,
            mention_everyone_max_members: 0,
            blocked: HashSet::new(),
            wanted_message: None,
            directory_query: None,
            search: SearchState::default(),
            pins: PinsState::default(),
            mentions: MentionsState::default(),
            threads: ThreadsState::default(),
            admin: AdminState::default(),
            epoch: String::new(),
        }
    }

    /// Whether this user has blocked `user`.
    pub fn has_blocked(&self, user: &UserId) -> bool {
        self.blocked.contains(user)
    }

    pub fn conversation(&self, channel: &ChannelId) -> Option<&Rc<Conversation>> {
        self.conversations.iter().find(|c| &c.info.id == channel)
    }

    /// A conversation to change (copied first if the page still shows it).
    fn conversation_mut(&mut self, channel: &ChannelId) -> Option<&mut Conversation> {
        self.conversations
            .iter_mut()
            .find(|c| &c.info.id == channel)
            .map(Rc::make_mut)
    }

    /// Changes every conversation for which `needs` holds.
    fn change_each(
        &mut self,
        needs: impl Fn(&Conversation) -> bool,
        change: impl Fn(&mut Conversation),
    ) {
        for conversation in &mut self.conversations {
            if needs(conversation) {
                change(Rc::make_mut(conversation));
            }
        }
    }

    /// The conversation on screen.
    /// Whether `@channel` and `@here` notify in `channel` (it is small enough).
    pub fn everyone_notifies(&self, channel: &ChannelId) -> bool {
        self.conversations
            .iter()
            .find(|c| &c.info.id == channel)
            .is_some_and(|c| c.info.member_count <= self.mention_everyone_max_members)
    }

    /// One side panel at a time: search, pins or mentions.
    fn close_panels(&mut self) {
        self.search.close();
        self.pins.close();
        self.mentions.close();
        self.threads.close();
        self.threads.view_open = false;
    }

    pub fn current_conversation(&self) -> Option<&Rc<Conversation>> {
        self.current.as_ref().and_then(|id| self.conversation(id))
    }

    /// Who is typing in `channel`.
    pub fn typing_in<'a>(&'a self, channel: &'a ChannelId) -> impl Iterator<Item = &'a UserInfo> {
        self.typing
            .iter()
            .filter(move |t| &t.channel == channel)
            .map(|t| &t.user)
    }

    /// The `general` channel (where join/leave notices go).
    pub fn general(&self) -> Option<&Rc<Conversation>> {
        self.conversations.iter().find(|c| {
            c.info.kind == ChannelKind::Public && c.info.name == shared::protocol::DEFAULT_CHANNEL
        })
    }

    /// Pending messages still worth sending (not refused for good).
    pub fn sendable(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| p.failed.is_none())
    }

    /// Pending messages of one conversation (not those only in a thread).
    pub fn pending_in<'a>(&'a self, channel: &'a ChannelId) -> impl Iterator<Item = &'a Pending> {
        self.pending
            .iter()
            .filter(move |p| &p.channel == channel && p.in_channel())
    }

    /// Pending replies of one thread.
    pub fn pending_in_thread<'a>(
        &'a self,
        channel: &'a ChannelId,
        root: Seq,
    ) -> impl Iterator<Item = &'a Pending> {
        self.pending
            .iter()
            .filter(move |p| &p.channel == channel && p.thread == Some(root))
    }

    /// Presence of a user as far as this page knows.
    pub fn presence_of(&self, user: &UserId) -> PresenceStatus {
        presence_in(&self.online, &self.away, user)
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Connecting => {
                if !matches!(self.connection, Connection::Reconnecting { .. }) {
                    self.connection = Connection::Connecting;
                }
            }
            Action::Disconnected { attempt } => {
                self.connection = Connection::Reconnecting { attempt };
                // Catch up again once reconnected.
                self.change_each(
                    |c| c.requested || c.loading_older || c.has_newer,
                    |c| {
                        // A window far back is asked for again around what was focused.
                        let focus = c.focus.filter(|_| c.has_newer);
                        c.back_to_latest();
                        if let Some(seq) = focus {
                            c.jump(seq);
                        }
                        c.requested = false;
                        c.loading_older = false;
                    },
                );
                self.typing.clear();
            }
            Action::Welcome {
                me,
                channels,
                online,
                online_count,
                away,
                max_upload_bytes,
                mention_everyone_max_members,
                blocked,
                epoch,
            } => {
                // Restored from a backup: what is cached may be gone or
                // numbered differently now. Start over (what was never
                // acknowledged stays in the outbox and goes out again).
                if !self.epoch.is_empty() && !epoch.is_empty() && self.epoch != epoch {
                    self.conversations.clear();
                }
                if !epoch.is_empty() {
                    self.epoch = epoch;
                }
                self.me = me;
                self.blocked = blocked.into_iter().collect();
                self.max_upload_bytes = max_upload_bytes;
                self.mention_everyone_max_members = mention_everyone_max_members;
                self.connection = Connection::Connected;
                self.online_count = online_count.max(online.len() as u32);
                // `welcome` showed some of them, not a page: pages start over.
                self.online_next =
                    (self.online_count as usize > online.len()).then_some(NextPage::First);
                self.online_found = None;
                self.online = Rc::new(online);
                self.away = away.into_iter().collect();
                let ids: HashSet<ChannelId> = channels.iter().map(|c| c.id.clone()).collect();
                // Conversations we were removed from while away disappear.
                self.conversations.retain(|c| ids.contains(&c.info.id));
                for info in channels {
                    self.upsert(info);
                }
                // Messages for general saved by an older version.
                if let Some(general) = self.general().map(|c| c.info.id.clone()) {
                    for pending in &mut self.pending {
                        if pending.channel.0.is_empty() {
                            pending.channel = general.clone();
                        }
                    }
                }
                self.settle_current();
            }
            Action::Synced {
                channel,
                messages,
                updated,
                has_older,
                fresh,
            } => {
                let my_ids: Vec<ClientMsgId> =
                    messages.iter().map(|m| m.client_id.clone()).collect();
                if let Some(conversation) = self.conversation_mut(&channel) {
                    for message in updated {
                        conversation.update(message);
                    }
                    if fresh {
                        conversation.has_older = has_older;
                    }
                    conversation.synced = true;
                    conversation.merge(messages);
                }
                self.pending.retain(|p| !my_ids.contains(&p.client_id));
            }
            Action::History {
                channel,
                messages,
                has_older,
            } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.loading_older = false;
                    conversation.has_older = has_older;
                    conversation.merge(messages);
                }
            }
            Action::Message(message) => {
                self.pending.retain(|p| p.client_id != message.client_id);
                let mine = message.author.id == self.me.id;
                let mentions_me = !mine
                    && calls_on(
                        &message.text,
                        &self.me.name,
                        self.everyone_notifies(&message.channel),
                    );
                let (channel, author) = (message.channel.clone(), message.author.id.clone());
                self.typing
                    .retain(|t| !(t.channel == channel && t.user.id == author));
                self.threads.reply(&message, &self.me.id, mentions_me);
                if let Some(conversation) = self.conversation_mut(&message.channel) {
                    let added = if message.only_in_thread() {
                        conversation.count_thread_reply(message.seq)
                    } else {
                        conversation.merge(vec![message])
                    };
                    if mentions_me && added > 0 {
                        conversation.info.unread_mentions += 1;
                    }
                }
            }
            Action::Updated(message) => {
                self.pins.update(&message);
                self.mentions.update(&message);
                self.threads.update(&message);
                if let Some(conversation) = self.conversation_mut(&message.channel) {
                    conversation.update(message);
                }
            }
            Action::Ack {
                channel,
                client_id,
                seq,
                sent_at,
            } => {
                if let Some(index) = self.pending.iter().position(|p| p.client_id == client_id) {
                    let pending = self.pending.remove(index);
                    let thread = pending.thread.map(|root| {
                        Box::new(shared::InThread {
                            root,
                            // Only whether the reader follows depends on
                            // it, and their own reply makes them follow.
                            root_author: self.me.id.clone(),
                            also_in_channel: pending.also_to_channel,
                        })
                    });
                    let message = ChatMessage {
                        channel: channel.clone(),
                        seq,
                        client_id,
                        author: self.me.clone(),
                        text: pending.text,
                        sent_at,
                        edited_at: None,
                        deleted: false,
                        removed: false,
                        reactions: Vec::new(),
                        attachments: pending.attachments,
                        preview: None,
                        pinned: None,
                        thread,
                        replies: None,
                        change: shared::ChangeNo(0),
                    };
                    self.threads.reply(&message, &self.me.id, false);
                    if let Some(conversation) = self.conversation_mut(&channel) {
                        if message.only_in_thread() {
                            conversation.count_thread_reply(seq);
                        } else {
                            conversation.merge(vec![message]);
                            // Your own message is read by definition.
                            conversation.info.last_read_seq =
                                conversation.info.last_read_seq.max(seq);
                        }
                    }
                }
            }
            Action::UserJoined { user, at } => {
                if self.add_online(&user) {
                    self.online_count += 1;
                }
                self.away.remove(&user.id);
                self.general_notice(
                    vec![NoticePart::name(user.name), NoticePart::text(" joined")],
                    at,
                );
            }
            Action::UserLeft { user, at } => {
                if self.online.iter().any(|u| u.id == user.id) {
                    self.online_count = self.online_count.saturating_sub(1);
                }
                Rc::make_mut(&mut self.online).retain(|u| u.id != user.id);
                self.away.remove(&user.id);
                self.general_notice(
                    vec![NoticePart::name(user.name), NoticePart::text(" left")],
                    at,
                );
            }
            Action::ServerError {
                code,
                message,
                client_id,
            } => match client_id {
                Some(id) if !code.is_retryable() => {
                    if let Some(pending) = self.pending.iter_mut().find(|p| p.client_id == id) {
                        pending.failed = Some(message);
                    }
                }
                Some(_) => {}
                None => {
                    self.change_each(
                        |c| c.loading_older || c.loading_newer,
                        |c| {
                            c.loading_older = false;
                            c.loading_newer = false;
                        },
                    );
                    match code {
                        ErrorCode::InvalidQuery => self.search.refuse(message),
                        _ if self.search.loading => self.search.refuse(message),
                        ErrorCode::InvalidChannelName
                        | ErrorCode::ChannelNameTaken
                        | ErrorCode::InvalidTopic => {
                            self.expect_open = false;
                            self.channel_error = Some(message);
                        }
                        _ => {
                            self.expect_open = false;
                            self.notice_error = Some(message);
                        }
                    }
                }
            },
            Action::Queue(pending) => {
                // Sending from far back in history: back to the newest.
                if let Some(conversation) = self.conversation_mut(&pending.channel) {
                    conversation.back_to_latest();
                }
                self.pending.push(pending);
            }
            Action::Restore(restored) => {
                for pending in restored {
                    if !self
                        .pending
                        .iter()
                        .any(|p| p.client_id == pending.client_id)
                    {
                        self.pending.push(pending);
                    }
                }
            }
            Action::Discard(client_id) => self.pending.retain(|p| p.client_id != client_id),
            Action::Requested(channel) => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.requested = true;
                }
            }
            Action::LoadingOlder(channel) => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.loading_older = true;
                }
            }
            Action::DismissError => self.notice_error = None,
            Action::LocalError(message) => self.notice_error = Some(message),
            Action::ChannelJoined(info) => {
                let id = info.id.clone();
                self.upsert(info);
                self.channel_error = None;
                if self.expect_open {
                    self.expect_open = false;
                    self.current = Some(id);
                }
                self.settle_current();
            }
            Action::ChannelLeft { channel, reason } => {
                // Leaving by choice needs no explanation; being removed does.
                if let Some(conversation) = self.conversation(&channel)
                    && reason.starts_with("removed")
                {
                    self.notice_error = Some(format!(
                        "You are no longer in {}: {reason}.",
                        conversation.title()
                    ));
                }
                self.conversations.retain(|c| c.info.id != channel);
                self.threads.forget(&channel);
                self.pending.retain(|p| p.channel != channel);
                self.typing.retain(|t| t.channel != channel);
                if self.current.as_ref() == Some(&channel) {
                    self.current = None;
                    self.settle_current();
                }
            }
            Action::Directory { query, channels } => {
                self.directory = channels;
                self.directory_query = Some(query);
            }
            Action::Members { channel, members } => self.members = Some((channel, members)),
            Action::MemberJoined { channel, user, at } => {
                let general = self.general().map(|c| c.info.id.clone());
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.info.member_count += 1;
                    // Newcomers to #general are announced by presence ("X joined") already.
                    if general.as_ref() != Some(&channel) {
                        let parts = vec![
                            NoticePart::name(user.name),
                            NoticePart::text(" joined "),
                            NoticePart::name(conversation.title()),
                        ];
                        conversation.notice(parts, at);
                    }
                }
            }
            Action::MemberLeft { channel, user, at } => {
                if let Some((listed, members)) = &mut self.members
                    && *listed == channel
                {
                    members.retain(|m| m.id != user.id);
                }
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.info.member_count =
                        conversation.info.member_count.saturating_sub(1);
                    let parts = vec![
                        NoticePart::name(user.name),
                        NoticePart::text(" left "),
                        NoticePart::name(conversation.title()),
                    ];
                    conversation.notice(parts, at);
                }
            }
            Action::TopicChanged {
                channel,
                topic,
                by,
                at,
            } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.info.topic = topic.clone();
                    let parts = if topic.is_empty() {
                        vec![
                            NoticePart::name(by.name),
                            NoticePart::text(" cleared the topic"),
                        ]
                    } else {
                        vec![
                            NoticePart::name(by.name),
                            NoticePart::text(" changed the topic to \u{201c}"),
                            NoticePart::name(topic),
                            NoticePart::text("\u{201d}"),
                        ]
                    };
                    conversation.notice(parts, at);
                }
            }
            Action::Typing {
                channel,
                user,
                until,
            } => {
                if self.conversation(&channel).is_some() {
                    self.typing
                        .retain(|t| !(t.channel == channel && t.user.id == user.id));
                    self.typing.push(Typing {
                        channel,
                        user,
                        until,
                    });
                }
            }
            Action::Tick { now } => self.typing.retain(|t| t.until > now),
            Action::Presence { user, status } => match status {
                PresenceStatus::Away => {
                    self.away.insert(user.id);
                }
                PresenceStatus::Online => {
                    self.away.remove(&user.id);
                    self.add_online(&user);
                }
                PresenceStatus::Offline => {
                    Rc::make_mut(&mut self.online).retain(|u| u.id != user.id);
                }
            },
            Action::Users {
                users,
                query,
                after,
                next,
            } => {
                if after.is_some() && query == self.users_query {
                    let known: HashSet<UserId> =
                        self.users.iter().map(|p| p.user.id.clone()).collect();
                    Rc::make_mut(&mut self.users)
                        .extend(users.into_iter().filter(|p| !known.contains(&p.user.id)));
                } else {
                    self.users = Rc::new(users);
                }
                self.users_query = query;
                self.users_next = next;
            }
            Action::PresenceSummary {
                online_count,
                joined,
                joined_others,
                left,
                left_others,
                at,
            } => {
                self.online_count = online_count;
                for user in &left {
                    Rc::make_mut(&mut self.online).retain(|u| u.id != user.id);
                }
                if !joined.is_empty() {
                    self.general_notice(names_notice(&joined, joined_others, " joined"), at);
                }
                if !left.is_empty() {
                    self.general_notice(names_notice(&left, left_others, " left"), at);
                }
            }
            Action::OnlinePage {
                query,
                users,
                next,
                online_count,
            } => {
                self.online_count = online_count;
                for presence in &users {
                    self.add_online(&presence.user);
                    if presence.status == PresenceStatus::Away {
                        self.away.insert(presence.user.id.clone());
                    }
                }
                if query.is_empty() {
                    self.online_next = next.map(NextPage::After);
                } else {
                    let found = users.into_iter().map(|p| p.user).collect();
                    self.online_found = Some((query, found));
                }
            }
            Action::MembersJoined {
                channel,
                users,
                others,
                at,
            } => {
                let general = self.general().map(|c| c.info.id.clone());
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.info.member_count += users.len() as u32 + others;
                    // Newcomers to #general are announced by presence already.
                    if general.as_ref() != Some(&channel) && !users.is_empty() {
                        let mut parts = names_notice(&users, others, " joined ");
                        parts.push(NoticePart::name(conversation.title()));
                        conversation.notice(parts, at);
                    }
                }
            }
            Action::Read { channel, seq } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.read_up_to(seq);
                }
            }
            Action::Switch(channel) => {
                self.admin.open = false;
                if self.conversation(&channel).is_some() {
                    if self.current.as_ref() != Some(&channel) {
                        self.threads.close();
                    }
                    self.current = Some(channel);
                    self.wanted = None;
                }
            }
            Action::Navigate(route) => {
                self.wanted = route;
                self.wanted_message = None;
                self.current = None;
                self.settle_current();
            }
            Action::WantMessage(seq) => match (seq, &self.wanted, self.current.clone()) {
                // The conversation named is already open: jump there now.
                (Some(seq), None, Some(current)) => {
                    if let Some(conversation) = self.conversation_mut(&current) {
                        conversation.jump(seq);
                    }
                }
                (seq, _, _) => self.wanted_message = seq,
            },
            Action::Jump { channel, seq } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.jump(seq);
                    self.current = Some(channel);
                    self.wanted = None;
                }
            }
            Action::JumpAsked(channel) => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.jump_to = None;
                }
            }
            Action::Around {
                channel,
                seq,
                thread,
                messages,
                has_older,
                has_newer,
            } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    // A reply kept in its thread: the conversation shows its
                    // parent, and the thread opens at the reply.
                    conversation.show_around(thread.unwrap_or(seq), messages, has_older, has_newer);
                    if let Some(root) = thread {
                        self.close_panels();
                        self.threads.open(channel, root, Some(seq));
                    }
                }
            }
            Action::OpenThread {
                channel,
                root,
                focus,
            } => {
                self.close_panels();
                self.threads.open(channel, root, focus);
            }
            Action::ThreadPage {
                channel,
                root,
                replies,
                has_older,
                following,
            } => self
                .threads
                .page(&channel, root, replies, has_older, following),
            Action::LoadingOlderReplies => self.threads.loading_older(),
            Action::CloseThread => self.threads.close(),
            Action::ThreadsAsked => {
                self.close_panels();
                self.threads.view_open = true;
            }
            Action::Threads(items) => self.threads.list(items),
            Action::CloseThreads => self.threads.view_open = false,
            Action::ThreadState {
                channel,
                root,
                following,
                read_seq,
            } => self.threads.state(&channel, root, following, read_seq),
            Action::LoadingNewer(channel) => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.loading_newer = true;
                }
            }
            Action::Newer {
                channel,
                messages,
                has_newer,
            } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.append_newer(messages, has_newer);
                }
            }
            Action::SearchAsked { query, more } => {
                if more && query == self.search.query {
                    self.search.ask_more();
                } else {
                    self.close_panels();
                    self.search.ask(query);
                }
            }
            Action::SearchResults {
                query,
                before,
                results,
                highlight,
                next,
            } => self.search.answer(&query, before, results, highlight, next),
            Action::CloseSearch => self.search.close(),
            Action::PinsAsked(channel) => {
                self.close_panels();
                self.pins.ask(channel);
            }
            Action::Pins { channel, messages } => self.pins.answer(&channel, messages),
            Action::ClosePins => self.pins.close(),
            Action::MentionsAsked => {
                self.close_panels();
                self.mentions.ask();
            }
            Action::Mentions(messages) => self.mentions.answer(messages),
            Action::CloseMentions => self.mentions.close(),
            Action::NotifyChanged { channel, level } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.info.notify = Some(level);
                }
            }
            Action::ExpectOpen => self.expect_open = true,
            Action::Blocked(users) => self.blocked = users.into_iter().collect(),
            Action::Standing { role, muted_until } => {
                self.admin.role = role;
                self.admin.muted_until = muted_until;
                if !role.moderates() {
                    self.admin.open = false;
                }
            }
            Action::OpenAdmin(open) => self.admin.open = open,
            Action::AdminUsers {
                users,
                query,
                after,
                next,
            } => self.admin.users_page(users, query, after, next),
            Action::AdminUser(user) => self.admin.replace(user),
            Action::ServerSettings(settings) => self.admin.settings = Some(settings),
            Action::InviteCreated { invite, code } => self.admin.invite_created(invite, code),
            Action::Invites(invites) => self.admin.invites = invites,
            Action::Reports(reports) => self.admin.reports = reports,
            Action::ChannelRenamed { channel, name } => {
                if let Some(conversation) = self.conversation(&channel) {
                    let info = shared::protocol::ChannelInfo {
                        name,
                        ..conversation.info.clone()
                    };
                    self.upsert(info);
                }
            }
            Action::ChannelRules {
                channel,
                slow_mode_seconds,
                archived,
            } => {
                if let Some(conversation) = self.conversation_mut(&channel) {
                    conversation.info.slow_mode_seconds = slow_mode_seconds;
                    conversation.info.archived = archived;
                }
            }
            Action::Reported { channel, seq } => self.admin.reported = Some((channel, seq)),
            Action::AuditLog {
                entries,
                before,
                more,
            } => self.admin.audit_page(entries, before, more),
            Action::ChannelError(error) => self.channel_error = error,
        }
    }

    /// Adds or refreshes a conversation, keeping channels (by name) before
    /// direct conversations.
    fn upsert(&mut self, info: ChannelInfo) {
        if let Some(existing) = self.conversation_mut(&info.id) {
            let last_seq = existing.info.last_seq.max(info.last_seq);
            existing.info = info;
            existing.info.last_seq = last_seq;
        } else {
            self.conversations.push(Rc::new(Conversation::new(info)));
        }
        self.conversations.sort_by(|a, b| {
            (a.is_direct(), a.info.name.to_lowercase())
                .cmp(&(b.is_direct(), b.info.name.to_lowercase()))
        });
    }

    /// Picks what to show: the current one if still there, else what the URL
    /// asked for, else `general`, else the first.
    fn settle_current(&mut self) {
        if let Some(current) = &self.current
            && self.conversation(current).is_some()
        {
            return;
        }
        let wanted = self.wanted.as_ref().and_then(|route| {
            self.conversations.iter().find(|c| match route {
                Route::Channel(name) => !c.is_direct() && &c.info.name == name,
                Route::Direct(name) => c.is_direct() && c.info.name.eq_ignore_ascii_case(name),
            })
        });
        if let Some(found) = wanted {
            let id = found.info.id.clone();
            self.current = Some(id.clone());
            self.wanted = None;
            if let Some(seq) = self.wanted_message.take()
                && let Some(conversation) = self.conversation_mut(&id)
            {
                conversation.jump(seq);
            }
            return;
        }
        self.current = self
            .general()
            .or(self.conversations.first())
            .map(|c| c.info.id.clone());
    }

    /// Adds `user` to the known online people (by name); `true` if new.
    fn add_online(&mut self, user: &UserInfo) -> bool {
        if self.online.iter().any(|u| u.id == user.id) {
            return false;
        }
        let key = user.name.to_lowercase();
        let at = self.online.partition_point(|u| u.name.to_lowercase() < key);
        Rc::make_mut(&mut self.online).insert(at, user.clone());
        true
    }

    fn general_notice(&mut self, parts: Vec<NoticePart>, at: i64) {
        if let Some(id) = self.general().map(|c| c.info.id.clone())
            && let Some(general) = self.conversation_mut(&id)
        {
            general.notice(parts, at);
        }
    }
}

/// "Alice, Bob and 37 others joined": the names, how many more, then `verb`.
fn names_notice(named: &[UserInfo], others: u32, verb: &str) -> Vec<NoticePart> {
    let mut parts = Vec::new();
    for (i, user) in named.iter().enumerate() {
        if i > 0 {
            let last = i + 1 == named.len() && others == 0;
            parts.push(NoticePart::text(if last { " and " } else { ", " }));
        }
        parts.push(NoticePart::name(user.name.clone()));
    }
    match others {
        0 => {}
        1 => parts.push(NoticePart::text(" and 1 other")),
        n => parts.push(NoticePart::text(format!(" and {n} others"))),
    }
    parts.push(NoticePart::text(verb));
    parts
}

impl Reducible for ChatState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use shared::protocol::ChannelKind;
    use shared::{ChannelId, UserId};

    use super::*;

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: UserId(format!("id-{name}")),
            name: name.into(),
        }
    }

    fn channel(name: &str, kind: ChannelKind) -> ChannelInfo {
        ChannelInfo {
            id: ChannelId(format!("{name}-id")),
            name: name.into(),
            kind,
            ..ChannelInfo::default()
        }
    }

    fn general() -> ChannelInfo {
        channel("general", ChannelKind::Public)
    }

    fn message(channel: &ChannelInfo, seq: Seq, author: &str, text: &str) -> ChatMessage {
        ChatMessage {
            channel: channel.id.clone(),
            seq,
            client_id: ClientMsgId::parse(&format!("c{}-{seq}", channel.name)).unwrap(),
            author: user(author),
            text: text.into(),
            sent_at: 1_000 + seq,
            edited_at: None,
            deleted: false,
            removed: false,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: None,
            pinned: None,
            thread: None,
            replies: None,
            change: shared::ChangeNo(seq),
        }
    }

    fn welcomed(channels: Vec<ChannelInfo>) -> ChatState {
        let mut state = ChatState::new(user("Alice"));
        state.apply(Action::Welcome {
            me: user("Alice"),
            channels,
            online: vec![user("Alice")],
            online_count: 0,
            away: vec![],
            max_upload_bytes: 1024,
            mention_everyone_max_members: 1000,
            blocked: vec![],
            epoch: "first".into(),
        });
        state
    }

    fn seqs(state: &ChatState, channel: &ChannelInfo) -> Vec<Seq> {
        state
            .conversation(&channel.id)
            .unwrap()
            .timeline
            .iter()
            .filter_map(|e| match e {
                Entry::Message(m) => Some(m.seq),
                Entry::Notice { .. } => None,
            })
            .collect()
    }

    fn pending(channel: &ChannelInfo, id: &str, text: &str) -> Pending {
        Pending {
            channel: channel.id.clone(),
            client_id: ClientMsgId::parse(id).unwrap(),
            text: text.into(),
            attachments: Vec::new(),
            created_at: 5,
            failed: None,
            thread: None,
            also_to_channel: false,
        }
    }

    #[test]
    fn welcome_connects_lists_channels_then_dms_and_shows_general() {
        let state = welcomed(vec![
            channel("zeta", ChannelKind::Public),
            channel("bob", ChannelKind::Direct),
            general(),
            channel("alpha", ChannelKind::Private),
        ]);
        assert_eq!(state.connection.as_str(), "connected");
        let names: Vec<&str> = state
            .conversations
            .iter()
            .map(|c| c.info.name.as_str())
            .collect();
        assert_eq!(names, ["alpha", "general", "zeta", "bob"]);
        assert_eq!(state.current, Some(general().id));
    }

    #[test]
    fn the_url_picks_the_conversation_once_it_is_known() {
        let mut state = ChatState::new(user("Alice"));
        state.apply(Action::Navigate(Route::parse("/dm/Bob")));
        state.apply(Action::Welcome {
            me: user("Alice"),
            channels: vec![general(), channel("Bob", ChannelKind::Direct)],
            online: vec![],
            online_count: 0,
            away: vec![],
            max_upload_bytes: 1024,
            mention_everyone_max_members: 1000,
            blocked: vec![],
            epoch: "first".into(),
        });
        assert_eq!(state.current_conversation().unwrap().path(), "/dm/Bob");
        state.apply(Action::Navigate(Route::parse("/c/general")));
        assert_eq!(state.current, Some(general().id));
        assert_eq!(Route::parse("/c/"), None);
        assert_eq!(Route::parse("/elsewhere"), None);
    }

    #[test]
    fn the_admin_address_opens_the_panel_for_moderators_only() {
        assert!(Route::is_admin("/admin") && Route::is_admin("/admin/"));
        assert!(!Route::is_admin("/c/admin"));
        let mut state = ChatState::new(user("Alice"));
        state.apply(Action::Navigate(Route::parse("/admin")));
        state.apply(Action::OpenAdmin(Route::is_admin("/admin")));
        state.apply(Action::Welcome {
            me: user("Alice"),
            channels: vec![general()],
            online: vec![],
            online_count: 0,
            away: vec![],
            max_upload_bytes: 1024,
            mention_everyone_max_members: 1000,
            blocked: vec![],
            epoch: "first".into(),
        });
        state.apply(Action::Standing {
            role: Role::Owner,
            muted_until: None,
        });
        assert!(state.admin.open && state.admin.available());
        // Opening a conversation leaves the panel; a demotion closes it.
        state.apply(Action::Switch(general().id));
        assert!(!state.admin.open);
        state.apply(Action::OpenAdmin(true));
        state.apply(Action::Standing {
            role: Role::Member,
            muted_until: None,
        });
        assert!(!state.admin.open);
    }

    #[test]
    fn a_welcome_from_a_restored_database_drops_what_was_cached() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::Message(message(&rust, 1, "Bob", "one")));
        state.apply(Action::Message(message(&rust, 2, "Bob", "two")));
        let again = |state: &mut ChatState, epoch: &str| {
            state.apply(Action::Welcome {
                me: user("Alice"),
                channels: vec![general(), rust.clone()],
                online: vec![],
                online_count: 0,
                away: vec![],
                max_upload_bytes: 1024,
                mention_everyone_max_members: 1000,
                blocked: vec![],
                epoch: epoch.into(),
            })
        };
        // A reconnect to the same history keeps what was loaded.
        again(&mut state, "first");
        assert_eq!(seqs(&state, &rust), [1, 2]);
        // Another history: numbers may mean other messages now.
        again(&mut state, "restored");
        assert_eq!(seqs(&state, &rust), Vec::<Seq>::new());
        assert_eq!(state.epoch, "restored");
        assert_eq!(state.current, Some(general().id));
    }

    #[test]
    fn messages_go_to_their_conversation_in_order_and_never_twice() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::Message(message(&rust, 2, "Bob", "two")));
        state.apply(Action::Message(message(&rust, 1, "Bob", "one")));
        state.apply(Action::Message(message(&rust, 2, "Bob", "two again")));
        state.apply(Action::Message(message(&general(), 1, "Bob", "elsewhere")));
        assert_eq!(seqs(&state, &rust), [1, 2]);
        assert_eq!(seqs(&state, &general()), [1]);
        assert_eq!(state.conversation(&rust.id).unwrap().unread(), 2);
    }

    #[test]
    fn a_pending_message_becomes_confirmed_and_read_on_ack() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::Queue(pending(&general(), "mine-1", "Hello World!")));
        assert_eq!(state.pending_in(&general().id).count(), 1);
        let ack = Action::Ack {
            channel: general().id,
            client_id: ClientMsgId::parse("mine-1").unwrap(),
            seq: 1,
            sent_at: 9,
        };
        state.apply(ack.clone());
        state.apply(ack);
        assert!(state.pending.is_empty());
        assert_eq!(seqs(&state, &general()), [1]);
        assert_eq!(state.conversation(&general().id).unwrap().unread(), 0);
    }

    #[test]
    fn refused_messages_are_marked_and_retryable_ones_stay_pending() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::Queue(pending(&general(), "a", "x")));
        state.apply(Action::Queue(pending(&general(), "b", "y")));
        state.apply(Action::ServerError {
            code: ErrorCode::TextTooLong,
            message: "too long".into(),
            client_id: Some(ClientMsgId::parse("a").unwrap()),
        });
        state.apply(Action::ServerError {
            code: ErrorCode::StoreUnavailable,
            message: "later".into(),
            client_id: Some(ClientMsgId::parse("b").unwrap()),
        });
        assert_eq!(state.pending[0].failed.as_deref(), Some("too long"));
        assert_eq!(state.sendable().count(), 1);
        state.apply(Action::Discard(ClientMsgId::parse("a").unwrap()));
        assert_eq!(state.pending.len(), 1);
    }

    #[test]
    fn in_a_crowd_comings_and_goings_are_summed_up_and_the_list_grows_by_pages() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::PresenceSummary {
            online_count: 5_000,
            joined: vec![user("Bob"), user("Carol"), user("Dan")],
            joined_others: 37,
            left: vec![user("Eve")],
            left_others: 0,
            at: 1,
        });
        state.apply(Action::MembersJoined {
            channel: rust.id.clone(),
            users: vec![user("Bob"), user("Carol")],
            others: 0,
            at: 2,
        });
        let notices = |state: &ChatState, c: &ChannelInfo| -> Vec<String> {
            state
                .conversation(&c.id)
                .unwrap()
                .timeline
                .iter()
                .filter_map(Entry::notice_text)
                .collect()
        };
        assert_eq!(
            notices(&state, &general()),
            ["Bob, Carol, Dan and 37 others joined", "Eve left"]
        );
        assert_eq!(notices(&state, &rust), ["Bob and Carol joined #rust"]);
        assert_eq!(state.conversation(&rust.id).unwrap().info.member_count, 2);
        assert_eq!(state.online_count, 5_000);
        let page = |names: &[&str]| {
            names
                .iter()
                .map(|n| UserPresence {
                    user: user(n),
                    status: PresenceStatus::Online,
                })
                .collect()
        };
        state.apply(Action::OnlinePage {
            query: String::new(),
            users: page(&["zed", "Amy"]),
            next: Some("zed".into()),
            online_count: 4_999,
        });
        let names: Vec<&str> = state.online.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["Alice", "Amy", "zed"]);
        assert_eq!(state.online_next, Some(NextPage::After("zed".into())));
        assert_eq!(state.online_count, 4_999);
        state.apply(Action::OnlinePage {
            query: "ki".into(),
            users: page(&["Kim", "Kira"]),
            next: None,
            online_count: 4_999,
        });
        let (query, found) = state.online_found.clone().unwrap();
        assert_eq!(query, "ki");
        assert_eq!(found, [user("Kim"), user("Kira")]);
        assert_eq!(
            state.online_next,
            Some(NextPage::After("zed".into())),
            "a search is not a page"
        );
    }

    #[test]
    fn joins_leaves_and_topics_show_as_notices_where_they_happened() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::UserJoined {
            user: user("Bob"),
            at: 1,
        });
        state.apply(Action::MemberJoined {
            channel: rust.id.clone(),
            user: user("Bob"),
            at: 2,
        });
        state.apply(Action::TopicChanged {
            channel: rust.id.clone(),
            topic: "Rust 2024".into(),
            by: user("Bob"),
            at: 3,
        });
        let notices = |c: &ChannelInfo| -> Vec<String> {
            state
                .conversation(&c.id)
                .unwrap()
                .timeline
                .iter()
                .filter_map(|e| match e {
                    entry @ Entry::Notice { .. } => entry.notice_text(),
                    Entry::Message(_) => None,
                })
                .collect()
        };
        assert_eq!(notices(&general()), ["Bob joined"]);
        assert_eq!(
            notices(&rust),
            [
                "Bob joined #rust",
                "Bob changed the topic to \u{201c}Rust 2024\u{201d}"
            ]
        );
        assert_eq!(
            state.conversation(&rust.id).unwrap().info.topic,
            "Rust 2024"
        );
        assert_eq!(*state.online, [user("Alice"), user("Bob")]);
    }

    #[test]
    fn newcomers_to_general_raise_its_member_count_without_a_second_notice() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::MemberJoined {
            channel: general().id,
            user: user("Dan"),
            at: 1,
        });
        let conversation = state.conversation(&general().id).unwrap();
        assert_eq!(conversation.info.member_count, 1);
        assert!(conversation.timeline.is_empty());
    }

    #[test]
    fn a_conversation_you_asked_for_opens_and_one_you_lose_closes() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::ExpectOpen);
        let secret = channel("secret", ChannelKind::Private);
        state.apply(Action::ChannelJoined(secret.clone()));
        assert_eq!(state.current, Some(secret.id.clone()));
        // Someone invites you elsewhere: it appears but does not steal focus.
        let other = channel("other", ChannelKind::Public);
        state.apply(Action::ChannelJoined(other.clone()));
        assert_eq!(state.current, Some(secret.id.clone()));
        state.apply(Action::Queue(pending(&secret, "s1", "bye")));
        state.apply(Action::ChannelLeft {
            channel: secret.id.clone(),
            reason: "removed by Bob".into(),
        });
        assert!(state.conversation(&secret.id).is_none());
        assert_eq!(state.current, Some(general().id));
        assert!(state.pending.is_empty());
        assert!(
            state
                .notice_error
                .as_deref()
                .unwrap()
                .contains("removed by Bob")
        );
    }

    #[test]
    fn mentions_and_reading_update_the_counters() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::Message(message(&rust, 1, "Bob", "hey @alice look")));
        state.apply(Action::Message(message(&rust, 2, "Bob", "no mention")));
        let conversation = state.conversation(&rust.id).unwrap();
        assert_eq!(
            (conversation.unread(), conversation.info.unread_mentions),
            (2, 1)
        );
        state.apply(Action::Read {
            channel: rust.id.clone(),
            seq: 2,
        });
        let conversation = state.conversation(&rust.id).unwrap();
        assert_eq!(
            (conversation.unread(), conversation.info.unread_mentions),
            (0, 0)
        );
    }

    #[test]
    fn replies_kept_in_threads_are_not_unread_in_the_conversation() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::Message(message(&rust, 1, "Bob", "release?")));
        let mut reply = message(&rust, 2, "Carol", "friday");
        reply.thread = Some(Box::new(shared::InThread {
            root: 1,
            root_author: UserId("Bob".into()),
            also_in_channel: false,
        }));
        state.apply(Action::Message(reply.clone()));
        let mut also = message(&rust, 3, "Carol", "friday, everyone");
        also.thread = Some(Box::new(shared::InThread {
            also_in_channel: true,
            ..*reply.thread.clone().unwrap()
        }));
        state.apply(Action::Message(also));
        assert_eq!(seqs(&state, &rust), [1, 3], "the reply stays in its thread");
        let conversation = state.conversation(&rust.id).unwrap();
        assert_eq!((conversation.unread(), conversation.info.last_seq), (2, 3));
        // Reading up to the newest clears what is kept in threads too.
        state.apply(Action::Read {
            channel: rust.id.clone(),
            seq: 3,
        });
        let conversation = state.conversation(&rust.id).unwrap();
        assert_eq!(
            (conversation.unread(), conversation.info.unread_hidden),
            (0, 0)
        );
        // Alice neither wrote the parent nor was called on: not followed.
        assert!(state.threads.followed.is_empty());
    }

    #[test]
    fn typing_notices_expire_and_stop_when_the_message_arrives() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::Typing {
            channel: rust.id.clone(),
            user: user("Bob"),
            until: 100,
        });
        state.apply(Action::Typing {
            channel: rust.id.clone(),
            user: user("Carol"),
            until: 50,
        });
        state.apply(Action::Tick { now: 60 });
        let typing: Vec<_> = state.typing_in(&rust.id).map(|u| u.name.clone()).collect();
        assert_eq!(typing, ["Bob"]);
        state.apply(Action::Message(message(&rust, 1, "Bob", "done typing")));
        assert_eq!(state.typing_in(&rust.id).count(), 0);
    }

    #[test]
    fn an_action_copies_only_what_it_changes() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        let general_id = state.general().unwrap().info.id.clone();
        state.apply(Action::Message(message(&rust, 1, "Bob", "first")));
        let before = state.clone();
        state.apply(Action::Message(message(&rust, 2, "Bob", "second")));
        let (old, new) = (
            before.conversation(&rust.id).unwrap(),
            state.conversation(&rust.id).unwrap(),
        );
        assert!(
            !Rc::ptr_eq(old, new),
            "the changed conversation is a new copy"
        );
        assert_eq!(old.timeline.len(), 1, "the old state is untouched");
        let (Entry::Message(a), Entry::Message(b)) = (&old.timeline[0], &new.timeline[0]) else {
            panic!("messages");
        };
        assert!(Rc::ptr_eq(a, b), "held messages are shared, not copied");
        assert!(
            Rc::ptr_eq(
                before.conversation(&general_id).unwrap(),
                state.conversation(&general_id).unwrap()
            ),
            "other conversations are shared"
        );
        // Typing touches no conversation at all.
        let before = state.clone();
        state.apply(Action::Typing {
            channel: rust.id.clone(),
            user: user("Carol"),
            until: i64::MAX,
        });
        assert!(Rc::ptr_eq(
            before.conversation(&rust.id).unwrap(),
            state.conversation(&rust.id).unwrap()
        ));
    }

    #[test]
    fn a_catch_up_applies_new_and_changed_messages_together() {
        let rust = channel("rust", ChannelKind::Public);
        let mut state = welcomed(vec![general(), rust.clone()]);
        state.apply(Action::Message(message(&rust, 1, "Bob", "old text")));
        let mut edited = message(&rust, 1, "Bob", "new text");
        edited.change = shared::ChangeNo(5);
        state.apply(Action::Synced {
            channel: rust.id.clone(),
            messages: vec![message(&rust, 2, "Bob", "later")],
            updated: vec![edited],
            has_older: false,
            fresh: false,
        });
        let texts: Vec<_> = state
            .conversation(&rust.id)
            .unwrap()
            .timeline
            .iter()
            .filter_map(|e| match e {
                Entry::Message(m) => Some(m.text.clone()),
                Entry::Notice { .. } => None,
            })
            .collect();
        assert_eq!(texts, ["new text", "later"]);
    }

    #[test]
    fn presence_tracks_away_and_offline() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::UserJoined {
            user: user("Bob"),
            at: 1,
        });
        let bob = user("Bob").id;
        assert_eq!(state.presence_of(&bob), PresenceStatus::Online);
        state.apply(Action::Presence {
            user: user("Bob"),
            status: PresenceStatus::Away,
        });
        assert_eq!(state.presence_of(&bob), PresenceStatus::Away);
        state.apply(Action::UserLeft {
            user: user("Bob"),
            at: 2,
        });
        assert_eq!(state.presence_of(&bob), PresenceStatus::Offline);
    }

    #[test]
    fn older_pages_prepend_and_the_window_is_bounded() {
        let mut state = welcomed(vec![general()]);
        let g = general();
        state.apply(Action::Synced {
            channel: g.id.clone(),
            messages: (51..=100).map(|s| message(&g, s, "Bob", "m")).collect(),
            updated: Vec::new(),
            has_older: true,
            fresh: true,
        });
        state.apply(Action::LoadingOlder(g.id.clone()));
        state.apply(Action::History {
            channel: g.id.clone(),
            messages: (1..=50).map(|s| message(&g, s, "Bob", "m")).collect(),
            has_older: false,
        });
        let conversation = state.conversation(&g.id).unwrap();
        assert!(!conversation.loading_older && !conversation.has_older);
        assert_eq!(seqs(&state, &g), (1..=100).collect::<Vec<_>>());
        for s in 101..=(MAX_TIMELINE as Seq + 200) {
            state.apply(Action::Message(message(&g, s, "Bob", "m")));
        }
        let conversation = state.conversation(&g.id).unwrap();
        assert_eq!(conversation.timeline.len(), MAX_TIMELINE);
        assert!(conversation.has_older);
    }

    #[test]
    fn a_disconnect_shows_reconnecting_and_asks_for_catch_up_again() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::Requested(general().id));
        state.apply(Action::Disconnected { attempt: 2 });
        assert_eq!(state.connection, Connection::Reconnecting { attempt: 2 });
        assert!(!state.conversation(&general().id).unwrap().requested);
        state.apply(Action::Connecting);
        assert_eq!(state.connection.as_str(), "reconnecting");
    }

    fn direct_with(name: &str, others: &[&str]) -> ChannelInfo {
        ChannelInfo {
            direct_with: others.iter().map(|o| user(o)).collect(),
            ..channel(name, ChannelKind::Direct)
        }
    }

    #[test]
    fn the_blocked_list_comes_from_welcome_and_every_change() {
        let mut state = ChatState::new(user("Alice"));
        state.apply(Action::Welcome {
            me: user("Alice"),
            channels: vec![general()],
            online: vec![],
            online_count: 0,
            away: vec![],
            max_upload_bytes: 1024,
            mention_everyone_max_members: 1000,
            blocked: vec![user("Mallory").id],
            epoch: "first".into(),
        });
        assert!(state.has_blocked(&user("Mallory").id));
        assert!(!state.has_blocked(&user("Bob").id));
        state.apply(Action::Blocked(vec![user("Bob").id, user("Mallory").id]));
        assert!(state.has_blocked(&user("Bob").id));
        state.apply(Action::Blocked(vec![user("Bob").id]));
        assert!(!state.has_blocked(&user("Mallory").id));
        // A reconnect's welcome is the truth again.
        state.apply(Action::Welcome {
            me: user("Alice"),
            channels: vec![general()],
            online: vec![],
            online_count: 0,
            away: vec![],
            max_upload_bytes: 1024,
            mention_everyone_max_members: 1000,
            blocked: vec![],
            epoch: "first".into(),
        });
        assert!(state.blocked.is_empty());
    }

    #[test]
    fn a_post_refused_as_blocked_fails_for_good_instead_of_being_retried() {
        let bob = direct_with("Bob", &["Bob"]);
        let mut state = welcomed(vec![general(), bob.clone()]);
        state.apply(Action::Queue(pending(&bob, "to-bob", "hello?")));
        assert!(!ErrorCode::Blocked.is_retryable());
        state.apply(Action::ServerError {
            code: ErrorCode::Blocked,
            message: "You cannot write to this conversation: you have been blocked.".into(),
            client_id: Some(ClientMsgId::parse("to-bob").unwrap()),
        });
        assert_eq!(
            state.pending[0].failed.as_deref(),
            Some("You cannot write to this conversation: you have been blocked.")
        );
        assert_eq!(state.sendable().count(), 0, "nothing left to resend");
        assert!(state.notice_error.is_none(), "shown on the message itself");
    }

    #[test]
    fn refusals_without_a_message_show_the_servers_words() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::ExpectOpen);
        state.apply(Action::ServerError {
            code: ErrorCode::Blocked,
            message: "You cannot start a conversation with or invite someone who has blocked you."
                .into(),
            client_id: None,
        });
        assert!(!state.expect_open, "nothing opens");
        assert!(
            state
                .notice_error
                .as_deref()
                .unwrap()
                .contains("blocked you")
        );
        state.apply(Action::DismissError);
        state.apply(Action::ServerError {
            code: ErrorCode::TooManyReactions,
            message: "This message has as many different reactions as it can.".into(),
            client_id: None,
        });
        assert_eq!(
            state.notice_error.as_deref(),
            Some("This message has as many different reactions as it can.")
        );
    }

    #[test]
    fn a_hidden_direct_conversation_goes_away_and_comes_back_with_a_message() {
        let bob = direct_with("Bob", &["Bob"]);
        let mut state = welcomed(vec![general(), bob.clone()]);
        state.apply(Action::Switch(bob.id.clone()));
        state.apply(Action::Synced {
            channel: bob.id.clone(),
            messages: vec![message(&bob, 1, "Alice", "hi Bob")],
            updated: Vec::new(),
            has_older: false,
            fresh: true,
        });
        state.apply(Action::ChannelLeft {
            channel: bob.id.clone(),
            reason: "you hid the conversation".into(),
        });
        assert!(state.conversation(&bob.id).is_none());
        assert_eq!(state.current, Some(general().id), "back to #general");
        assert!(state.notice_error.is_none(), "hiding needs no explanation");

        // Bob writes again: the conversation is back, without taking focus.
        let mut back = bob.clone();
        back.last_seq = 2;
        state.apply(Action::ChannelJoined(back));
        state.apply(Action::Message(message(&bob, 2, "Bob", "still there?")));
        let conversation = state.conversation(&bob.id).unwrap();
        assert_eq!(state.current, Some(general().id));
        assert_eq!(conversation.unread(), 2);
        assert_eq!(seqs(&state, &bob), [2]);
        // Its first catch-up asks for the latest page, so the earlier
        // messages come back too.
        assert_eq!(conversation.catch_up_from(), None);
        state.apply(Action::Synced {
            channel: bob.id.clone(),
            messages: vec![
                message(&bob, 1, "Alice", "hi Bob"),
                message(&bob, 2, "Bob", "still there?"),
            ],
            updated: Vec::new(),
            has_older: false,
            fresh: true,
        });
        assert_eq!(seqs(&state, &bob), [1, 2]);
        assert_eq!(
            state.conversation(&bob.id).unwrap().catch_up_from(),
            Some(2)
        );
    }

    #[test]
    fn opening_a_hidden_conversation_again_shows_it() {
        let bob = direct_with("Bob", &["Bob"]);
        let mut state = welcomed(vec![general(), bob.clone()]);
        state.apply(Action::ChannelLeft {
            channel: bob.id.clone(),
            reason: "you hid the conversation".into(),
        });
        state.apply(Action::ExpectOpen);
        state.apply(Action::ChannelJoined(bob.clone()));
        assert_eq!(state.current, Some(bob.id.clone()));
    }

    #[test]
    fn leaving_a_group_conversation_removes_it() {
        let group = direct_with("Bob, Carol", &["Bob", "Carol"]);
        let mut state = welcomed(vec![general(), group.clone()]);
        state.apply(Action::Switch(group.id.clone()));
        assert!(
            state
                .current_conversation()
                .unwrap()
                .other_person()
                .is_none()
        );
        state.apply(Action::ChannelLeft {
            channel: group.id.clone(),
            reason: "you left the channel".into(),
        });
        assert!(state.conversation(&group.id).is_none());
        assert_eq!(state.current, Some(general().id));
        let one = Conversation::new(direct_with("Bob", &["Bob"]));
        assert_eq!(one.other_person(), Some(&user("Bob")));
        assert!(Conversation::new(general()).other_person().is_none());
    }

    #[test]
    fn notices_keep_names_apart_from_their_words() {
        let mut state = welcomed(vec![general()]);
        state.apply(Action::UserJoined {
            user: user("\u{5e9}\u{5dc}\u{5d5}\u{5dd}"),
            at: 1,
        });
        let Some(Entry::Notice { parts, .. }) =
            state.conversation(&general().id).unwrap().timeline.last()
        else {
            panic!("a notice");
        };
        assert_eq!(
            parts,
            &[
                NoticePart::name("\u{5e9}\u{5dc}\u{5d5}\u{5dd}"),
                NoticePart::text(" joined")
            ]
        );
    }

    #[test]
    fn a_jump_far_back_shows_a_window_that_grows_to_the_newest() {
        let mut general = general();
        general.last_seq = 500;
        let mut state = welcomed(vec![general.clone()]);
        let window: Vec<ChatMessage> = (85..=150)
            .map(|n| message(&general, n, "Bob", "x"))
            .collect();
        state.apply(Action::Jump {
            channel: general.id.clone(),
            seq: 100,
        });
        let conversation = state.conversation(&general.id).unwrap();
        assert_eq!(conversation.jump_to, Some(100), "not held: asked for");
        state.apply(Action::JumpAsked(general.id.clone()));
        state.apply(Action::Around {
            thread: None,
            channel: general.id.clone(),
            seq: 100,
            messages: window,
            has_older: true,
            has_newer: true,
        });
        let conversation = state.conversation(&general.id).unwrap();
        assert_eq!(conversation.focus, Some(100));
        assert!(conversation.has_newer && conversation.jump_to.is_none());
        // A live message waits on the server until scrolling reaches it.
        state.apply(Action::Message(message(&general, 501, "Bob", "live")));
        assert_eq!(*seqs(&state, &general).last().unwrap(), 150);
        // The last page says "no more", but 501 came meanwhile: still more.
        let page: Vec<ChatMessage> = (151..=500)
            .map(|n| message(&general, n, "Bob", "x"))
            .collect();
        state.apply(Action::Newer {
            channel: general.id.clone(),
            messages: page,
            has_newer: false,
        });
        assert!(state.conversation(&general.id).unwrap().has_newer);
        state.apply(Action::Newer {
            channel: general.id.clone(),
            messages: vec![message(&general, 501, "Bob", "live")],
            has_newer: false,
        });
        assert!(!state.conversation(&general.id).unwrap().has_newer);
        state.apply(Action::Message(message(&general, 502, "Bob", "next")));
        assert_eq!(*seqs(&state, &general).last().unwrap(), 502);
    }

    #[test]
    fn sending_or_reconnecting_far_back_returns_to_the_newest() {
        let mut general = general();
        general.last_seq = 500;
        let mut state = welcomed(vec![general.clone()]);
        let around = |state: &mut ChatState| {
            state.apply(Action::Around {
                thread: None,
                channel: general.id.clone(),
                seq: 10,
                messages: (5..=20).map(|n| message(&general, n, "Bob", "x")).collect(),
                has_older: true,
                has_newer: true,
            })
        };
        around(&mut state);
        state.apply(Action::Disconnected { attempt: 1 });
        let conversation = state.conversation(&general.id).unwrap();
        assert_eq!(
            conversation.jump_to,
            Some(10),
            "the window is asked for again"
        );
        assert!(conversation.timeline.is_empty() && !conversation.synced);
        around(&mut state);
        state.apply(Action::Queue(pending(&general, "mine", "hello")));
        let conversation = state.conversation(&general.id).unwrap();
        assert!(!conversation.has_newer && conversation.timeline.is_empty());
        assert!(!conversation.requested, "the latest page is asked for");
    }

    #[test]
    fn links_name_a_conversation_and_a_message() {
        assert_eq!(
            Route::parse("/c/rust/42"),
            Some(Route::Channel("rust".into()))
        );
        assert_eq!(Route::message("/c/rust/42"), Some(42));
        assert_eq!(Route::message("/dm/Bob/7/"), Some(7));
        assert_eq!(Route::message("/c/rust"), None);
        assert_eq!(Route::message("/c/rust/x"), None);
        assert_eq!(Route::message("/elsewhere/1/2"), None);
        let general = general();
        let mut state = welcomed(vec![general.clone()]);
        state.apply(Action::Navigate(Route::parse("/c/general/3")));
        state.apply(Action::WantMessage(Route::message("/c/general/3")));
        assert_eq!(state.conversation(&general.id).unwrap().jump_to, Some(3));
        // Before the conversation is known, the message waits with the route.
        let mut early = ChatState::new(user("Alice"));
        early.apply(Action::Navigate(Route::parse("/c/general/4")));
        early.apply(Action::WantMessage(Route::message("/c/general/4")));
        early.apply(Action::Welcome {
            me: user("Alice"),
            channels: vec![general.clone()],
            online: vec![],
            online_count: 0,
            away: vec![],
            max_upload_bytes: 1,
            mention_everyone_max_members: 1000,
            blocked: vec![],
            epoch: "e".into(),
        });
        assert_eq!(early.conversation(&general.id).unwrap().jump_to, Some(4));
    }
}
