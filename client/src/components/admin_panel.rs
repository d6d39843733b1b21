//! The admin panel (`/admin`), in place of the conversation: people with
//! their roles (a role select with only the roles the reader may give),
//! mute for a while or unmute, deactivate or reactivate; and, for admins,
//! the audit log. It only offers what the reader's role allows; the server
//! decides again on every request.

use shared::ClientMsg;
use shared::community::{ServerSettings, SignupMode};
use shared::roles::{AdminUser, AuditEntry, Report, Role};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::invite_links::InviteLinks;
use crate::admin::AdminState;
use crate::browser::{full_time, now_millis, short_time};

/// Mute lengths offered, in minutes, with their labels.
const MUTE_FOR: [(u32, &str); 4] = [
    (10, "10 minutes"),
    (60, "1 hour"),
    (24 * 60, "1 day"),
    (7 * 24 * 60, "1 week"),
];

#[derive(Properties, PartialEq)]
pub struct AdminPanelProps {
    pub admin: AdminState,
    pub me: shared::UserId,
    pub on_request: Callback<ClientMsg>,
    pub on_close: Callback<()>,
}

#[component]
pub fn AdminPanel(props: &AdminPanelProps) -> Html {
    let admin = &props.admin;
    // Every change made here is in the audit log: read it again after one.
    let on_request = {
        let (on_request, administers) = (props.on_request.clone(), admin.role.administers());
        Callback::from(move |request: ClientMsg| {
            let changes = matches!(
                request,
                ClientMsg::SetRole { .. }
                    | ClientMsg::Mute { .. }
                    | ClientMsg::SetActive { .. }
                    | ClientMsg::SetServerSettings { .. }
                    | ClientMsg::CreateInvite { .. }
                    | ClientMsg::ResolveReport { .. }
            );
            on_request.emit(request);
            if changes && administers {
                on_request.emit(ClientMsg::AuditLog { before: None });
            }
        })
    };
    {
        // The people and the audit log as they are now, on every opening.
        let on_request = on_request.clone();
        let administers = admin.role.administers();
        use_effect_with(administers, move |administers| {
            on_request.emit(ClientMsg::AdminUsers {
                query: String::new(),
                after: None,
            });
            on_request.emit(ClientMsg::Reports);
            if *administers {
                on_request.emit(ClientMsg::AuditLog { before: None });
            }
        });
    }
    let on_search = {
        let on_request = on_request.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_request.emit(ClientMsg::AdminUsers {
                query: input.value(),
                after: None,
            });
        })
    };
    let more_people = admin.next.clone().map(|after| {
        let (on_request, query) = (on_request.clone(), admin.query.clone());
        Callback::from(move |_: MouseEvent| {
            on_request.emit(ClientMsg::AdminUsers {
                query: query.clone(),
                after: Some(after.clone()),
            })
        })
    });
    let older_audit = {
        let (on_request, before) = (on_request.clone(), admin.audit_before());
        Callback::from(move |_: MouseEvent| on_request.emit(ClientMsg::AuditLog { before }))
    };
    let settings = admin.settings.unwrap_or_default();
    let on_mode = {
        let on_request = on_request.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            on_request.emit(ClientMsg::SetServerSettings {
                settings: ServerSettings {
                    signup_mode: SignupMode::parse(&select.value()),
                    ..settings
                },
            });
        })
    };
    let on_members_invite = {
        let on_request = on_request.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_request.emit(ClientMsg::SetServerSettings {
                settings: ServerSettings {
                    members_invite: input.checked(),
                    ..settings
                },
            });
        })
    };
    let on_channel_creation = {
        let on_request = on_request.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            on_request.emit(ClientMsg::SetServerSettings {
                settings: ServerSettings {
                    admins_create_channels: select.value() == "admins",
                    ..settings
                },
            });
        })
    };
    let now = now_millis();
    html! {
        <section class="admin-panel" data-testid="admin-panel" aria-labelledby="admin-title">
            <div class="panel-head">
                <h2 id="admin-title">{ "Admin" }</h2>
                <span class="admin-role">{ format!("You are {}", admin.role.label().to_lowercase()) }</span>
                <button class="close" data-testid="close-admin" aria-label="Back to the conversation"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "×" }</button>
            </div>
            <section class="admin-section" aria-labelledby="admin-people">
                <h3 id="admin-people">{ "People" }</h3>
                <input type="search" class="admin-search" data-testid="admin-user-search"
                       placeholder="Find people by name" aria-label="Find people by name"
                       value={admin.query.clone()} oninput={on_search} />
                <ul class="admin-users">
                    { for admin.users.iter().map(|user| html! {
                        <PersonRow key={user.user.id.0.clone()} user={user.clone()} reader={admin.role}
                                   me={user.user.id == props.me} now={now}
                                   on_request={on_request.clone()} />
                    }) }
                </ul>
                if let Some(more) = more_people {
                    <button class="more" onclick={more}>{ "More people" }</button>
                }
            </section>
            <section class="admin-section" aria-labelledby="admin-reports">
                <h3 id="admin-reports">{ "Reports" }</h3>
                if admin.reports.is_empty() {
                    <p class="search-empty">{ "No open reports." }</p>
                }
                <ul class="reports">
                    { for admin.reports.iter().map(|report| report_item(report, &on_request)) }
                </ul>
            </section>
            if admin.role.administers() {
                <section class="admin-section" aria-labelledby="admin-signups">
                    <h3 id="admin-signups">{ "Who may join" }</h3>
                    <label class="admin-setting">{ "Sign-ups " }
                        <select data-testid="signup-mode-select" onchange={on_mode}>
                            { for SignupMode::ALL.into_iter().map(|mode| html! {
                                <option value={mode.as_str()} selected={mode == settings.signup_mode}>{ mode.label() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="admin-setting">
                        <input type="checkbox" data-testid="members-invite-toggle"
                               checked={settings.members_invite} onchange={on_members_invite} />
                        { " Members may create invite links" }
                    </label>
                    <label class="admin-setting">{ "Channels are created by " }
                        <select data-testid="channel-creation-select" onchange={on_channel_creation}>
                            <option value="everyone" selected={!settings.admins_create_channels}>{ "everyone" }</option>
                            <option value="admins" selected={settings.admins_create_channels}>{ "admins only" }</option>
                        </select>
                    </label>
                    <InviteLinks invites={admin.invites.clone()} created={admin.created.clone()}
                                 on_request={on_request.clone()} />
                </section>
                <section class="admin-section" aria-labelledby="admin-audit">
                    <h3 id="admin-audit">{ "Audit log" }</h3>
                    if admin.audit.is_empty() {
                        <p class="search-empty">{ "Nothing yet: moderation and admin actions are listed here." }</p>
                    }
                    <ol class="audit-log">
                        { for admin.audit.iter().map(audit_item) }
                    </ol>
                    if admin.audit_more {
                        <button class="more" onclick={older_audit}>{ "Older entries" }</button>
                    }
                </section>
            }
        </section>
    }
}

fn report_item(report: &Report, on_request: &Callback<ClientMsg>) -> Html {
    let resolve = |remove: bool| {
        let (on_request, id) = (on_request.clone(), report.id.clone());
        Callback::from(move |_: MouseEvent| {
            on_request.emit(ClientMsg::ResolveReport {
                id: id.clone(),
                remove,
            })
        })
    };
    html! {
        <li key={report.id.clone()} class="report-item" data-testid="report-item">
            <span class="reported-text">
                <bdi class="author">{ &report.author.name }</bdi>{ format!(" in {}: ", report.channel_name) }
                <bdi>{ &report.text }</bdi>
            </span>
            <span class="reason">
                { "Reported by " }<bdi>{ &report.reporter.name }</bdi>
                <time title={full_time(report.at)}>{ format!(" at {}", short_time(report.at)) }</time>
                { ": " }<bdi>{ &report.reason }</bdi>
            </span>
            <span class="admin-actions">
                <button class="danger" data-testid="report-remove" onclick={resolve(true)}>{ "Remove the message" }</button>
                <button data-testid="report-dismiss" onclick={resolve(false)}>{ "Dismiss" }</button>
            </span>
        </li>
    }
}

fn audit_item(entry: &AuditEntry) -> Html {
    let target = entry
        .target
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let detail = match (entry.detail.is_empty(), entry.action) {
        (true, _) => String::new(),
        (false, shared::roles::AuditAction::SetRole) => format!(" to {}", entry.detail),
        (false, shared::roles::AuditAction::RemoveMember) => format!(" (#{})", entry.detail),
        (false, shared::roles::AuditAction::ChangeSettings) => format!(": {}", entry.detail),
        (false, shared::roles::AuditAction::CreateInvite) => format!(" ({})", entry.detail),
        (false, _) => format!(" for {}", entry.detail),
    };
    html! {
        <li key={entry.id} class="audit-item" data-testid="audit-item"
            data-action={entry.action.as_str()}>
            <time datetime={full_time(entry.at)} title={full_time(entry.at)}>{ short_time(entry.at) }</time>
            <span>
                <bdi class="author">{ &entry.actor.name }</bdi>
                { format!(" {}", entry.action.describe()) }
                if !target.is_empty() {
                    { " " }<bdi class="author">{ target }</bdi>
                }
                { detail }
            </span>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct PersonRowProps {
    user: AdminUser,
    /// The reader's role.
    reader: Role,
    /// This row is the reader.
    me: bool,
    now: i64,
    on_request: Callback<ClientMsg>,
}

#[component]
fn PersonRow(props: &PersonRowProps) -> Html {
    let user = &props.user;
    let name = user.user.name.clone();
    let id = user.user.id.clone();
    let mute_for = use_state(|| MUTE_FOR[1].0);
    let manageable = !props.me && props.reader.may_moderate(user.role);
    let on_role = {
        let (on_request, id) = (props.on_request.clone(), id.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            let role = Role::parse(&select.value());
            on_request.emit(ClientMsg::SetRole {
                user: id.clone(),
                role,
            });
        })
    };
    let on_mute_for = {
        let mute_for = mute_for.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            mute_for.set(select.value().parse().unwrap_or(MUTE_FOR[1].0));
        })
    };
    let muted = user.muted_until.filter(|&until| until > props.now);
    let on_mute = {
        let (on_request, id, minutes) = (props.on_request.clone(), id.clone(), *mute_for);
        let minutes = if muted.is_some() { 0 } else { minutes };
        Callback::from(move |_: MouseEvent| {
            on_request.emit(ClientMsg::Mute {
                user: id.clone(),
                minutes,
            })
        })
    };
    let on_active = {
        let (on_request, active) = (props.on_request.clone(), user.deactivated);
        Callback::from(move |_: MouseEvent| {
            on_request.emit(ClientMsg::SetActive {
                user: id.clone(),
                active,
            })
        })
    };
    let may_assign = |role: Role| !props.me && props.reader.may_assign(user.role, role);
    let role_label = format!("Role of {name}");
    html! {
        <li class={classes!("admin-user", user.deactivated.then_some("deactivated"))}
            data-testid="admin-user" data-user={name.clone()}>
            <bdi class="author">{ &name }</bdi>
            if user.deactivated {
                <span class="admin-flag">{ "deactivated" }</span>
            }
            if let Some(until) = muted {
                <span class="admin-flag" title={full_time(until)}>{ format!("muted until {}", short_time(until)) }</span>
            }
            <span class="admin-actions">
                <select data-testid="user-role-select" data-user={name.clone()} aria-label={role_label}
                        disabled={!Role::ALL.into_iter().any(|r| r != user.role && may_assign(r))}
                        onchange={on_role}>
                    { for Role::ALL.into_iter().map(|role| html! {
                        <option value={role.as_str()} selected={role == user.role}
                                disabled={role != user.role && !may_assign(role)}>{ role.label() }</option>
                    }) }
                </select>
                if manageable {
                    if muted.is_none() {
                        <select data-testid="mute-duration" data-user={name.clone()}
                                aria-label={format!("Mute {name} for")} onchange={on_mute_for}>
                            { for MUTE_FOR.iter().map(|(minutes, label)| html! {
                                <option value={minutes.to_string()} selected={*minutes == *mute_for}>{ *label }</option>
                            }) }
                        </select>
                    }
                    <button data-testid="mute-user" data-user={name.clone()} onclick={on_mute}>
                        { if muted.is_some() { "Unmute" } else { "Mute" } }
                    </button>
                    <button class={classes!((!user.deactivated).then_some("danger"))}
                            data-testid="deactivate-user" data-user={name.clone()} onclick={on_active}>
                        { if user.deactivated { "Reactivate" } else { "Deactivate" } }
                    </button>
                }
            </span>
        </li>
    }
}
