//! The signed-in person's standing (role, mute) and the admin panel's
//! state: whether it is open (the `/admin` route), the people listed with
//! their roles, and the audit log. What a role may do is
//! `shared::roles`' rule; the server checks it again on every request.

use shared::community::{Invite, ServerSettings};
use shared::roles::{AdminUser, AuditEntry, Role};

/// Given to the message rows: the reader may remove others' messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moderating(pub bool);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminState {
    /// The signed-in person's role.
    pub role: Role,
    /// Muted until then (ms since the epoch), as last told.
    pub muted_until: Option<i64>,
    /// The admin panel is on screen (instead of the conversation).
    pub open: bool,
    /// The people of the last search, by name.
    pub users: Vec<AdminUser>,
    pub query: String,
    /// Where the next page of people starts (`None`: no more).
    pub next: Option<String>,
    /// The audit log as read so far, newest first.
    pub audit: Vec<AuditEntry>,
    pub audit_more: bool,
    /// The server's settings, as last told.
    pub settings: Option<ServerSettings>,
    /// Invite links still valid (all for admins, one's own otherwise).
    pub invites: Vec<Invite>,
    /// The code of the link just created (shown once).
    pub created: Option<String>,
    /// The open reports (moderators).
    pub reports: Vec<shared::roles::Report>,
    /// The message whose report the server last confirmed.
    pub reported: Option<(shared::ChannelId, shared::Seq)>,
}

impl AdminState {
    /// Whether the panel is there for this person at all.
    pub fn available(&self) -> bool {
        self.role.moderates()
    }

    /// Whether this person may create channels (the server may keep that
    /// to admins).
    pub fn may_create_channels(&self) -> bool {
        self.role.administers() || !self.settings.is_some_and(|s| s.admins_create_channels)
    }

    /// Whether this person may create invite links.
    pub fn may_invite(&self) -> bool {
        self.role.administers() || self.settings.is_some_and(|s| s.members_invite)
    }

    /// A link just created: shown, and first in the list.
    pub fn invite_created(&mut self, invite: Invite, code: String) {
        self.invites.retain(|listed| listed.id != invite.id);
        self.invites.insert(0, invite);
        self.created = Some(code);
    }

    /// Whether the person is muted at `now`.
    pub fn muted_at(&self, now: i64) -> Option<i64> {
        self.muted_until.filter(|&until| until > now)
    }

    /// A page of people answering the search `query` (a first page when
    /// `after` is `None`).
    pub fn users_page(
        &mut self,
        users: Vec<AdminUser>,
        query: String,
        after: Option<String>,
        next: Option<String>,
    ) {
        if after.is_none() || query != self.query {
            self.users.clear();
        }
        self.query = query;
        for user in users {
            self.replace(user);
        }
        self.next = next;
    }

    /// Someone's new role or standing.
    pub fn replace(&mut self, user: AdminUser) {
        match self.users.iter_mut().find(|u| u.user.id == user.user.id) {
            Some(listed) => *listed = user,
            None => self.users.push(user),
        }
    }

    /// A page of the audit log: the newest when `before` is `None`.
    pub fn audit_page(&mut self, entries: Vec<AuditEntry>, before: Option<i64>, more: bool) {
        if before.is_none() {
            self.audit.clear();
        }
        self.audit.extend(
            entries
                .into_iter()
                .filter(|e| before.is_none_or(|b| e.id < b)),
        );
        self.audit_more = more;
    }

    /// Where the next page of the audit log starts.
    pub fn audit_before(&self) -> Option<i64> {
        self.audit.last().map(|entry| entry.id)
    }
}

#[cfg(test)]
mod tests {
    use shared::roles::AuditAction;
    use shared::{UserId, UserInfo};

    use super::*;

    fn person(name: &str, role: Role) -> AdminUser {
        AdminUser {
            user: UserInfo {
                id: UserId(name.to_lowercase()),
                name: name.into(),
            },
            role,
            muted_until: None,
            deactivated: false,
        }
    }

    fn entry(id: i64) -> AuditEntry {
        AuditEntry {
            id,
            at: id,
            actor: person("Olive", Role::Owner).user,
            action: AuditAction::Mute,
            target: None,
            channel: None,
            seq: None,
            detail: String::new(),
        }
    }

    #[test]
    fn pages_of_people_add_up_and_a_new_search_starts_over() {
        let mut admin = AdminState::default();
        admin.users_page(
            vec![person("Ann", Role::Member)],
            String::new(),
            None,
            Some("ann".into()),
        );
        admin.users_page(
            vec![person("Bob", Role::Moderator)],
            String::new(),
            Some("ann".into()),
            None,
        );
        assert_eq!(admin.users.len(), 2);
        admin.replace(person("Bob", Role::Admin));
        assert_eq!(admin.users[1].role, Role::Admin);
        admin.users_page(vec![person("Bob", Role::Admin)], "b".into(), None, None);
        assert_eq!(admin.users.len(), 1);
    }

    #[test]
    fn the_audit_log_pages_backwards_and_the_newest_page_replaces() {
        let mut admin = AdminState::default();
        admin.audit_page(vec![entry(9), entry(8)], None, true);
        assert_eq!(admin.audit_before(), Some(8));
        admin.audit_page(vec![entry(7)], Some(8), false);
        assert_eq!(admin.audit.len(), 3);
        assert!(!admin.audit_more);
        admin.audit_page(vec![entry(10)], None, false);
        assert_eq!(admin.audit.len(), 1);
    }

    #[test]
    fn only_moderators_and_above_have_the_panel_and_mutes_end() {
        let mut admin = AdminState::default();
        assert!(!admin.available());
        admin.role = Role::Moderator;
        assert!(admin.available());
        admin.muted_until = Some(100);
        assert_eq!(admin.muted_at(99), Some(100));
        assert_eq!(admin.muted_at(100), None);
    }
}
