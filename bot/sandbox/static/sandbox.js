/*
 * The hearth sandbox page: a small Slack look-alike drawn from what the local Slack emulator
 * holds. It knows nothing about any one hearth feature: it shows channels, messages, threads,
 * modals and the Home tab, and sends what a person does (a command, a message, a click, a
 * submitted form) to the sandbox's JSON API, which acts through the emulator like Slack would.
 *
 * Block Kit is drawn by BlockKit (blockkit.js). The server says when anything changed over
 * Server-Sent Events; the page then reads the workspace again, as the person it is acting as.
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const STARTING_PERSON = "U0ALICE";
  const STARTING_CHANNEL = "C0PRACTICE";
  const GROUP_SECONDS = 5 * 60;
  const AVATAR_COLOURS = ["#2b6cb0", "#2f855a", "#b7791f", "#9b2c2c", "#6b46c1", "#2c7a7b", "#c05621"];

  const ui = {
    me: new URLSearchParams(location.search).get("as") || STARTING_PERSON,
    places: {}, // person -> {kind: "channel"|"app", id, thread, tab}
    data: null,
    fetchedAt: 0,
    loading: null,
    again: false,
    messageNodes: new Map(), // container id -> Map(key -> {sig, node})
    modalKey: "",
    homeKey: "",
    dismissed: new Set(),
    homeOpened: new Set(), // people who have opened the app in this page
    notices: [], // {who, channel, ts, text}: Slackbot's private notes, kept in this page only
    lastSeen: {}, // person -> channel -> ts
    scrollToEnd: false,
  };

  // ---------------------------------------------------------------------------------------
  // Talking to the sandbox

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error((await response.json()).error || response.statusText);
    return response.json();
  }

  async function post(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(Object.assign({ user: ui.me }, body)),
      });
    } catch (error) {
      return { ok: false, error: "The sandbox isn't answering. Is it still running?" };
    }
    try {
      return await response.json();
    } catch (error) {
      return { ok: false, error: "The sandbox answered something unexpected (" + response.status + ")." };
    }
  }

  // Read the workspace again as the current person; calls that arrive meanwhile coalesce.
  function refresh() {
    if (ui.loading) {
      ui.again = true;
      return ui.loading;
    }
    const me = ui.me;
    ui.loading = getJSON("/api/state?user=" + encodeURIComponent(me))
      .then((data) => {
        if (me !== ui.me) return;
        ui.data = data;
        ui.fetchedAt = Date.now();
        render();
      })
      .catch((error) => toast(error.message))
      .finally(() => {
        ui.loading = null;
        if (ui.again) {
          ui.again = false;
          refresh();
        }
      });
    return ui.loading;
  }

  function listen() {
    const events = new EventSource("/api/events");
    events.onmessage = () => refresh();
    events.onerror = () => {
      $("sandbox").classList.add("sb-offline");
    };
    events.onopen = () => {
      $("sandbox").classList.remove("sb-offline");
      refresh();
    };
  }

  // ---------------------------------------------------------------------------------------
  // Small DOM and formatting functions

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(className, text, onClick, label) {
    const node = el("button", className, text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    node.addEventListener("click", onClick);
    return node;
  }

  const ICONS = {
    lock: "M5 7V5a3 3 0 0 1 6 0v2h1v7H4V7h1zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2z",
    hash: "M6 2 5 14M11 2l-1 12M2.5 6h11M2 10.5h11",
    eye: "M1 8s2.5-5 7-5 7 5 7 5-2.5 5-7 5-7-5-7-5zm7 3a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
    thread: "M2 3h12v8H7l-3 3v-3H2z",
  };

  // A small drawn icon (no emoji font needed); `stroke` for line icons.
  function icon(name, className) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "sb-icon " + (className || ""));
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    if (name === "hash" || name === "thread") {
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "1.5");
      path.setAttribute("stroke-linejoin", "round");
    } else {
      path.setAttribute("fill", "currentColor");
      path.setAttribute("fill-rule", "evenodd");
    }
    svg.appendChild(path);
    return svg;
  }

  function sigil(channel) {
    const node = el("span", "sb-channel-sigil");
    node.appendChild(icon(channel.is_private ? "lock" : "hash"));
    return node;
  }

  function plain(obj) {
    if (!obj) return "";
    return typeof obj === "string" ? obj : obj.text || "";
  }

  function nowSeconds() {
    if (!ui.data) return Date.now() / 1000;
    return ui.data.clock.now + (Date.now() - ui.fetchedAt) / 1000;
  }

  function person(id) {
    return (ui.data && ui.data.users[id]) || { id: id, name: id, real_name: id };
  }

  function myTz() {
    return person(ui.me).tz || undefined;
  }

  function formatTime(seconds) {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: myTz(),
      hour: "numeric",
      minute: "2-digit",
    }).format(new Date(seconds * 1000));
  }

  function formatDay(seconds) {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: myTz(),
      weekday: "long",
      month: "long",
      day: "numeric",
    }).format(new Date(seconds * 1000));
  }

  function formatClock(seconds) {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: myTz(),
      weekday: "short",
      month: "short",
      day: "numeric",
      hour: "numeric",
      minute: "2-digit",
    }).format(new Date(seconds * 1000));
  }

  function formatAhead(seconds) {
    if (seconds < 30) return "";
    const minutes = Math.round(seconds / 60);
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const mins = minutes % 60;
    const parts = [];
    if (days) parts.push(days + "d");
    if (hours) parts.push(hours + "h");
    if (mins || !parts.length) parts.push(mins + " min");
    return parts.join(" ") + " ahead";
  }

  function initials(name) {
    const words = String(name || "?").trim().split(/\s+/);
    return ((words[0] || "?")[0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
  }

  function avatar(userId, small) {
    const who = person(userId);
    const node = el("span", "sb-avatar" + (small ? " sb-avatar--small" : ""));
    node.setAttribute("aria-hidden", "true");
    if (who.is_bot) {
      node.classList.add("sb-avatar--app");
      node.textContent = "h";
      return node;
    }
    let hash = 0;
    for (const ch of String(userId)) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    node.style.background = AVATAR_COLOURS[hash % AVATAR_COLOURS.length];
    node.textContent = initials(who.real_name || who.name);
    return node;
  }

  let toastTimer = null;
  function toast(text) {
    const node = $("sb-toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      node.hidden = true;
    }, 6000);
  }

  // Slackbot's "only visible to you" notes for things Slack itself refuses (a bad command).
  function notice(channel, text) {
    ui.notices.push({ who: ui.me, channel: channel, ts: nowSeconds().toFixed(6), text: text });
    ui.scrollToEnd = true;
    render();
  }

  function place() {
    if (!ui.places[ui.me]) {
      ui.places[ui.me] = { kind: "channel", id: STARTING_CHANNEL, thread: null, tab: "messages" };
    }
    return ui.places[ui.me];
  }

  function channelsById() {
    const byId = {};
    for (const c of ui.data.channels) byId[c.id] = c;
    return byId;
  }

  function renderCtx(surface, extra) {
    const channels = {};
    for (const c of ui.data.channels) channels[c.id] = { name: c.name };
    const users = {};
    for (const [id, u] of Object.entries(ui.data.users)) users[id] = { name: u.name, real_name: u.real_name };
    return Object.assign(
      {
        users: users, channels: channels, viewerTz: myTz(), surface: surface, errors: {},
        now: nowSeconds() * 1000, openLink: openLink,
      },
      extra || {},
    );
  }

  // ---------------------------------------------------------------------------------------
  // Drawing the page

  function render() {
    if (!ui.data) return;
    const root = $("sandbox");
    const current = place();
    const byId = channelsById();
    if (current.kind === "channel" && !byId[current.id]) {
      const mine = ui.data.channels.find((c) => c.is_member);
      current.id = mine ? mine.id : ui.data.channels[0].id;
      current.thread = null;
    }
    renderTopbar();
    renderSidebar();
    renderMain();
    renderThread();
    renderModals();
    root.dataset.version = String(ui.data.version);
    root.dataset.person = ui.me;
    root.setAttribute("aria-busy", "false");
  }

  function renderTopbar() {
    $("sb-search-team").textContent = ui.data.team.name;
    tickClock();
    const me = person(ui.me);
    const who = $("sb-who-avatar");
    who.replaceWith(Object.assign(avatar(ui.me, true), { id: "sb-who-avatar" }));
    $("sb-who-name").textContent = me.real_name;
    $("sb-who").title = "You are " + me.real_name + ". Switch to see the workspace as someone else.";
    const menu = $("sb-people");
    menu.querySelectorAll(".sb-people-item").forEach((n) => n.remove());
    for (const p of ui.data.people) {
      const item = button("sb-people-item", "", () => switchTo(p.id));
      item.setAttribute("role", "menuitemradio");
      item.setAttribute("aria-checked", String(p.id === ui.me));
      item.dataset.user = p.id;
      item.appendChild(avatar(p.id, true));
      const words = el("span", "sb-people-words");
      words.appendChild(el("span", "sb-people-name", p.real_name));
      const facts = [p.tz.replace(/_/g, " ")];
      if (p.is_admin) facts.unshift("workspace admin");
      words.appendChild(el("span", "sb-people-facts", facts.join(" · ")));
      item.appendChild(words);
      menu.appendChild(item);
    }
  }

  function tickClock() {
    if (!ui.data) return;
    $("sb-clock-now").textContent = formatClock(nowSeconds());
    $("sb-clock-ahead").textContent = formatAhead(ui.data.clock.moved_seconds);
  }

  function unread(channelId) {
    const items = (ui.data.conversations[channelId] || []).filter((m) => m.in_channel && m.user !== ui.me);
    if (!items.length) return false;
    const seen = (ui.lastSeen[ui.me] || {})[channelId] || "0";
    return Number(items[items.length - 1].ts) > Number(seen);
  }

  function markSeen(channelId) {
    const items = ui.data.conversations[channelId] || [];
    ui.lastSeen[ui.me] = ui.lastSeen[ui.me] || {};
    if (items.length) ui.lastSeen[ui.me][channelId] = items[items.length - 1].ts;
  }

  function renderSidebar() {
    const current = place();
    $("sb-team").textContent = ui.data.team.name;
    const list = $("sb-channels");
    list.replaceChildren();
    for (const c of ui.data.channels) {
      const item = el("li");
      const link = button("sb-channel", "", () => go({ kind: "channel", id: c.id }));
      link.dataset.channel = c.id;
      link.appendChild(sigil(c));
      link.appendChild(el("span", "sb-channel-name", c.name));
      if (!c.is_member) link.classList.add("sb-channel--outside");
      if (current.kind === "channel" && current.id === c.id) link.classList.add("sb-active");
      else if (c.is_member && unread(c.id)) link.classList.add("sb-unread");
      item.appendChild(link);
      list.appendChild(item);
    }
    const apps = $("sb-apps");
    apps.replaceChildren();
    const item = el("li");
    const link = button("sb-channel", "", () => go({ kind: "app", id: ui.data.app.dm }));
    link.dataset.channel = ui.data.app.dm;
    link.appendChild(avatar(ui.data.app.user_id, true));
    link.appendChild(el("span", "sb-channel-name", ui.data.app.name));
    if (current.kind === "app") link.classList.add("sb-active");
    else if (unread(ui.data.app.dm)) link.classList.add("sb-unread");
    item.appendChild(link);
    apps.appendChild(item);
  }

  function renderMain() {
    const current = place();
    const title = $("sb-channel-title");
    const meta = $("sb-channel-meta");
    const tabs = $("sb-tabs");
    const composer = $("sb-composer");
    const join = $("sb-join");
    title.replaceChildren();
    meta.replaceChildren();
    join.hidden = true;
    if (current.kind === "app") {
      title.appendChild(avatar(ui.data.app.user_id, true));
      title.appendChild(el("span", null, ui.data.app.name));
      title.appendChild(el("span", "sb-app-tag", "APP"));
      renderTabs(tabs, current);
      const home = current.tab === "home";
      $("sb-home").hidden = !home;
      $("sb-messages").hidden = home;
      composer.hidden = home;
      if (home) {
        renderHome();
      } else {
        $("sb-composer-text").placeholder = "Message " + ui.data.app.name;
        renderConversation($("sb-messages"), ui.data.app.dm, null);
        markSeen(ui.data.app.dm);
      }
      return;
    }
    tabs.hidden = true;
    $("sb-home").hidden = true;
    $("sb-messages").hidden = false;
    const channel = channelsById()[current.id];
    title.appendChild(sigil(channel));
    title.appendChild(el("span", null, channel.name));
    const facts = [channel.members + (channel.members === 1 ? " member" : " members")];
    facts.push(channel.bot_is_member ? ui.data.app.name + " is here" : ui.data.app.name + " isn't in this channel");
    meta.textContent = facts.join(" · ");
    renderConversation($("sb-messages"), channel.id, null);
    if (channel.is_member) {
      composer.hidden = false;
      $("sb-composer-text").placeholder = "Message #" + channel.name;
      markSeen(channel.id);
    } else {
      composer.hidden = true;
      join.hidden = false;
      join.replaceChildren(
        el("span", null, "You're viewing #" + channel.name + "."),
        button("sb-button sb-button--primary", "Join channel", async () => {
          const result = await post("/api/join", { channel: channel.id });
          if (!result.ok) toast(result.error);
        }),
      );
    }
  }

  function renderTabs(tabs, current) {
    tabs.hidden = false;
    tabs.replaceChildren();
    // Like Slack, the Home tab is there only when the app has drawn one for this person.
    if (!ui.data.home) current.tab = "messages";
    else if (!current.tab) current.tab = "home";
    const available = ui.data.home ? [["home", "Home"], ["messages", "Messages"]] : [["messages", "Messages"]];
    for (const [id, label] of available) {
      const tab = button("sb-tab" + (current.tab === id ? " sb-tab--active" : ""), label, () => {
        current.tab = id;
        if (id === "home") openHome();
        render();
      });
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-selected", String(current.tab === id));
      tabs.appendChild(tab);
    }
  }

  async function openHome() {
    const result = await post("/api/home", {});
    if (!result.ok) toast(result.error);
  }

  function renderHome() {
    const container = $("sb-home");
    const view = ui.data.home;
    const key = view ? view.id + "|" + view.hash : "none";
    if (key === ui.homeKey && container.childElementCount) return;
    ui.homeKey = key;
    container.replaceChildren();
    if (!view) {
      const empty = el("div", "sb-empty");
      empty.appendChild(el("div", "sb-empty-title", ui.data.app.name + " has no Home tab for you"));
      container.appendChild(empty);
      return;
    }
    const ctx = renderCtx("home", {
      onAction: (action) => sendAction({ view_id: view.id, action: action, state: BlockKit.collectState(container) }),
    });
    container.appendChild(BlockKit.renderBlocks(view.blocks, ctx));
  }

  // The messages of a channel (or one thread) as this person sees them.
  function visibleMessages(channelId, thread) {
    const all = (ui.data.conversations[channelId] || []).filter(
      (m) => !(m.ephemeral && ui.dismissed.has(channelId + "/" + m.ts)),
    );
    const local = ui.notices
      .filter((n) => n.who === ui.me && n.channel === channelId && !thread)
      .map((n) => ({
        ts: n.ts, user: "USLACKBOT", bot: true, slackbot: true, text: n.text, blocks: [],
        ephemeral: true, edited: false, in_channel: true, reply_count: 0, reply_users: [],
      }));
    let shown;
    if (thread) shown = all.filter((m) => m.ts === thread || m.thread_ts === thread);
    else shown = all.filter((m) => m.in_channel).concat(local);
    return shown.sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  function renderConversation(container, channelId, thread) {
    const messages = visibleMessages(channelId, thread);
    const key = container.id;
    if (!ui.messageNodes.has(key)) ui.messageNodes.set(key, new Map());
    const known = ui.messageNodes.get(key);
    const atEnd = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
    const switched = container.dataset.showing !== channelId + "/" + (thread || "");
    container.dataset.showing = channelId + "/" + (thread || "");
    const nodes = [];
    const used = new Set();
    let previous = null;
    if (!messages.length && !thread) nodes.push(emptyChannel(channelId, known, used));
    for (const message of messages) {
      const dayChanged = !previous || formatDay(Number(previous.ts)) !== formatDay(Number(message.ts));
      if (dayChanged && !thread) {
        const dayKey = "day:" + formatDay(Number(message.ts));
        nodes.push(reuse(known, used, dayKey, dayKey, () => dayDivider(Number(message.ts))));
      }
      const compact = !dayChanged && previous && !previous.ephemeral && !message.ephemeral
        && previous.user === message.user && Number(message.ts) - Number(previous.ts) < GROUP_SECONDS
        && !(thread && previous.ts === thread);
      const sig = JSON.stringify([message, compact, ui.me, Boolean(thread)]);
      const id = (message.ephemeral ? "e:" : "m:") + message.ts;
      nodes.push(reuse(known, used, id, sig, () => messageNode(channelId, message, compact, thread)));
      if (thread && message.ts === thread) {
        const count = messages.length - 1;
        const label = count ? count + (count === 1 ? " reply" : " replies") : "No replies yet";
        nodes.push(reuse(known, used, "divider:" + count, label, () => el("div", "sb-thread-divider", label)));
      }
      previous = message;
    }
    for (const [id, entry] of known) if (!used.has(id)) known.delete(id);
    place_(container, nodes);
    if (switched || atEnd || ui.scrollToEnd) container.scrollTop = container.scrollHeight;
  }

  function emptyChannel(channelId, known, used) {
    return reuse(known, used, "empty:" + channelId, "empty", () => {
      const node = el("div", "sb-empty");
      node.appendChild(el("div", "sb-empty-title", "This is the very beginning of the conversation"));
      node.appendChild(el("div", null, "Try a command: type /lean-coffee or /rota and press Enter."));
      return node;
    });
  }

  function reuse(known, used, id, sig, make) {
    used.add(id);
    const entry = known.get(id);
    if (entry && entry.sig === sig) return entry.node;
    const node = make();
    known.set(id, { sig: sig, node: node });
    return node;
  }

  // Put `nodes` in `container` in order, leaving untouched the ones already in place, so
  // an open menu or a focused control in a message that did not change stays as it is.
  function place_(container, nodes) {
    const wanted = new Set(nodes);
    for (const child of Array.from(container.children)) if (!wanted.has(child)) child.remove();
    let cursor = container.firstChild;
    for (const node of nodes) {
      if (cursor === node) {
        cursor = cursor.nextSibling;
        continue;
      }
      container.insertBefore(node, cursor);
    }
  }

  function dayDivider(seconds) {
    const today = formatDay(nowSeconds()) === formatDay(seconds);
    const node = el("div", "sb-day");
    node.appendChild(el("span", "sb-day-label", today ? "Today" : formatDay(seconds)));
    return node;
  }

  function messageNode(channelId, message, compact, thread) {
    const node = el("div", "sb-msg");
    node.dataset.ts = message.ts;
    node.dataset.channel = channelId;
    node.dataset.author = message.user || "";
    if (message.ephemeral) {
      node.classList.add("sb-msg--ephemeral");
      node.dataset.ephemeral = "true";
    }
    if (compact) node.classList.add("sb-msg--compact");
    const author = message.slackbot
      ? { name: "Slackbot", real_name: "Slackbot", is_bot: true }
      : person(message.user);

    if (message.ephemeral) {
      const note = el("div", "sb-ephemeral-note");
      note.appendChild(icon("eye", "sb-eye"));
      note.appendChild(el("span", null, "Only visible to you"));
      node.appendChild(note);
    }
    const row = el("div", "sb-msg-row");
    const gutter = el("div", "sb-msg-gutter");
    if (compact) gutter.appendChild(el("span", "sb-msg-hover-time", formatTime(Number(message.ts))));
    else if (message.slackbot) gutter.appendChild(Object.assign(el("span", "sb-avatar sb-avatar--slackbot", "S")));
    else gutter.appendChild(avatar(message.user));
    row.appendChild(gutter);

    const content = el("div", "sb-msg-content");
    if (!compact) {
      const header = el("div", "sb-msg-header");
      header.appendChild(el("span", "sb-msg-author", author.real_name || author.name));
      if (author.is_bot && !message.slackbot) header.appendChild(el("span", "sb-app-tag", "APP"));
      const time = el("time", "sb-msg-time", formatTime(Number(message.ts)));
      time.title = formatDay(Number(message.ts)) + " at " + formatTime(Number(message.ts));
      header.appendChild(time);
      content.appendChild(header);
    }
    if (!thread && message.is_reply && message.in_channel) {
      content.appendChild(el("div", "sb-msg-broadcast", "replied to a thread"));
    }
    const body = el("div", "sb-msg-body");
    const ctx = renderCtx("message", {
      onAction: (action) => sendAction({
        channel: channelId, ts: message.ts, ephemeral: message.ephemeral, action: action,
      }),
    });
    if (message.blocks && message.blocks.length) body.appendChild(BlockKit.renderBlocks(message.blocks, ctx));
    else body.appendChild(BlockKit.renderMrkdwn(message.text || "", ctx));
    if (message.edited) body.appendChild(el("span", "sb-edited", "(edited)"));
    content.appendChild(body);
    for (const file of message.files || []) content.appendChild(fileCard(file));

    if (!thread && message.reply_count > 0) content.appendChild(replySummary(channelId, message));
    if (message.ephemeral) {
      content.appendChild(button("sb-dismiss", "Dismiss message", () => {
        if (message.slackbot) ui.notices = ui.notices.filter((n) => n.ts !== message.ts);
        else ui.dismissed.add(channelId + "/" + message.ts);
        render();
      }));
    }
    row.appendChild(content);
    if (!message.ephemeral && !thread && !message.is_reply) {
      const tools = el("div", "sb-msg-tools");
      const reply = button("sb-icon-button", "", () => openThread(channelId, message.ts), "Reply in thread");
      reply.appendChild(icon("thread"));
      tools.appendChild(reply);
      row.appendChild(tools);
    }
    node.appendChild(row);
    return node;
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + (bytes === 1 ? " byte" : " bytes");
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  // A file shared with a message, as Slack shows it: a card that opens the file.
  function fileCard(file) {
    const card = el("div", "sb-file");
    card.dataset.file = file.id;
    const name = String(file.name || "file");
    const dot = name.lastIndexOf(".");
    const kind = dot > 0 ? name.slice(dot + 1).toUpperCase().slice(0, 4) : "FILE";
    card.appendChild(el("span", "sb-file-kind", kind));
    const words = el("div", "sb-file-words");
    const url = "/api/file?" + new URLSearchParams({ user: ui.me, id: file.id });
    const open = el("a", "sb-file-title", file.title || name);
    open.href = url;
    open.target = "_blank";
    open.rel = "noopener";
    words.appendChild(open);
    words.appendChild(el("div", "sb-file-facts", name + " · " + formatSize(Number(file.size) || 0)));
    card.appendChild(words);
    const download = el("a", "sb-file-download", "Download");
    download.href = url;
    download.download = name;
    download.setAttribute("aria-label", "Download " + name);
    card.appendChild(download);
    return card;
  }

  function replySummary(channelId, message) {
    const summary = button("sb-replies", "", () => openThread(channelId, message.ts));
    summary.dataset.thread = message.ts;
    for (const id of message.reply_users.slice(0, 4)) summary.appendChild(avatar(id, true));
    const count = message.reply_count;
    summary.appendChild(el("span", "sb-replies-count", count + (count === 1 ? " reply" : " replies")));
    const replies = (ui.data.conversations[channelId] || []).filter((m) => m.thread_ts === message.ts && m.is_reply);
    if (replies.length) {
      const last = replies[replies.length - 1];
      summary.appendChild(el("span", "sb-replies-last", "Last reply " + formatTime(Number(last.ts))));
    }
    return summary;
  }

  function openThread(channelId, ts) {
    const current = place();
    current.thread = ts;
    current.threadChannel = channelId;
    render();
    $("sb-thread-text").focus();
  }

  function renderThread() {
    const current = place();
    const panel = $("sb-thread");
    const channelId = current.threadChannel;
    const exists = current.thread
      && (ui.data.conversations[channelId] || []).some((m) => m.ts === current.thread);
    if (!exists) {
      current.thread = null;
      panel.hidden = true;
      $("sandbox").classList.remove("sb-with-thread");
      return;
    }
    panel.hidden = false;
    $("sandbox").classList.add("sb-with-thread");
    const channel = channelsById()[channelId];
    $("sb-thread-where").textContent = channel ? (channel.is_private ? "" : "#") + channel.name : ui.data.app.name;
    renderConversation($("sb-thread-messages"), channelId, current.thread);
  }

  // ---------------------------------------------------------------------------------------
  // Modals

  function renderModals() {
    const layer = $("sb-modal-layer");
    const stack = ui.data.modals;
    const top = stack[stack.length - 1];
    const key = top ? [ui.me, top.id, top.hash, JSON.stringify(top.errors), stack.length].join("|") : "";
    if (key === ui.modalKey) return;
    ui.modalKey = key;
    layer.replaceChildren();
    layer.hidden = !top;
    document.body.classList.toggle("sb-modal-open", Boolean(top));
    if (!top) return;
    const backdrop = el("div", "sb-modal-backdrop");
    const dialog = el("div", "sb-modal");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.dataset.viewId = top.id;
    dialog.dataset.depth = String(stack.length);
    if (stack.length > 1) dialog.classList.add("sb-modal--stacked");

    const header = el("div", "sb-modal-header");
    header.appendChild(avatar(ui.data.app.user_id, true));
    const title = el("h2", "sb-modal-title", plain(top.title));
    title.id = "sb-modal-title";
    dialog.setAttribute("aria-labelledby", title.id);
    header.appendChild(title);
    header.appendChild(button("sb-icon-button sb-modal-x", "✕", () => closeModal(top, true), "Close"));
    dialog.appendChild(header);

    const body = el("div", "sb-modal-body");
    const ctx = renderCtx("modal", {
      errors: top.errors,
      onAction: (action) => sendAction({ view_id: top.id, action: action, state: BlockKit.collectState(body) }),
    });
    body.appendChild(BlockKit.renderBlocks(top.blocks, ctx));
    const problem = el("div", "sb-modal-problem");
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    body.appendChild(problem);
    dialog.appendChild(body);

    const footer = el("div", "sb-modal-footer");
    footer.appendChild(button("sb-button sb-modal-close", plain(top.close) || "Cancel", () => closeModal(top, false)));
    if (top.submit) {
      const submit = button("sb-button sb-button--primary sb-modal-submit", plain(top.submit), () =>
        submitModal(top, body, submit, problem));
      footer.appendChild(submit);
    }
    dialog.appendChild(footer);
    backdrop.appendChild(dialog);
    layer.appendChild(backdrop);
    const first = body.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  async function submitModal(view, body, submit, problem) {
    submit.disabled = true;
    submit.classList.add("sb-busy");
    problem.hidden = true;
    const result = await post("/api/submit", { view_id: view.id, state: BlockKit.collectState(body) });
    submit.disabled = false;
    submit.classList.remove("sb-busy");
    if (!result.ok) {
      problem.textContent = result.error;
      problem.hidden = false;
    }
  }

  async function closeModal(view, all) {
    const result = await post("/api/close_view", { view_id: view.id, all: all });
    if (!result.ok) toast(result.error);
  }

  async function sendAction(body) {
    const result = await post("/api/action", body);
    if (!result.ok) {
      const layerOpen = !$("sb-modal-layer").hidden;
      const problem = document.querySelector(".sb-modal-problem");
      if (layerOpen && problem && body.view_id) {
        problem.textContent = result.error;
        problem.hidden = false;
      } else {
        toast(result.error);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Moving around

  function go(target) {
    const current = place();
    current.kind = target.kind;
    current.id = target.id;
    current.thread = null;
    if (target.kind === "app") {
      if (!ui.homeOpened.has(ui.me)) {
        ui.homeOpened.add(ui.me);
        current.tab = null;
      }
      // Slack tells the app each time someone opens it on its Home tab, so it can draw the
      // Home afresh (it says "This page refreshes each time you open it").
      if (current.tab !== "messages") openHome();
    }
    ui.scrollToEnd = true;
    render();
    ui.scrollToEnd = false;
  }

  // A link to a message in this workspace (a permalink from chat.getPermalink, such as the
  // Home tab's "Open in channel"): like Slack, show the message here instead of opening
  // slack.com. Returns false for any other link, which opens in a new tab.
  function openLink(href) {
    let url;
    try {
      url = new URL(href);
    } catch (error) {
      return false;
    }
    if (!ui.data || url.hostname !== ui.data.team.domain + ".slack.com") return false;
    const found = url.pathname.match(/^\/archives\/([A-Z0-9]+)(?:\/p(\d{10})(\d{6}))?\/?$/);
    if (!found) return false;
    const channelId = found[1];
    if (!ui.data.conversations[channelId]) {
      toast("That message is in a conversation you can't see.");
      return true;
    }
    const ts = found[2] ? found[2] + "." + found[3] : null;
    const threadTs = url.searchParams.get("thread_ts");
    const inApp = channelId === ui.data.app.dm;
    if (inApp) {
      ui.homeOpened.add(ui.me);
      place().tab = "messages";
    }
    go({ kind: inApp ? "app" : "channel", id: channelId });
    if (threadTs) openThread(channelId, threadTs);
    else render();
    if (ts) highlight(ts);
    return true;
  }

  // Bring the message `ts` into view, in the channel and in an open thread, and mark it a
  // moment so the eye finds it.
  function highlight(ts) {
    for (const id of ["sb-messages", "sb-thread-messages"]) {
      const node = document.querySelector("#" + id + ' .sb-msg[data-ts="' + ts + '"]');
      if (!node) continue;
      node.scrollIntoView({ block: "center" });
      node.classList.add("sb-msg--linked");
      setTimeout(() => node.classList.remove("sb-msg--linked"), 4000);
    }
  }

  function switchTo(userId) {
    closePeople();
    if (userId === ui.me) return;
    ui.me = userId;
    ui.modalKey = "";
    ui.homeKey = "";
    ui.messageNodes.clear();
    // Someone else's view of a channel starts at its newest message, as it would for them.
    $("sb-messages").dataset.showing = "";
    $("sb-thread-messages").dataset.showing = "";
    const url = new URL(location.href);
    url.searchParams.set("as", userId);
    history.replaceState(null, "", url);
    refresh();
  }

  function closePeople() {
    $("sb-people").hidden = true;
    $("sb-who").setAttribute("aria-expanded", "false");
  }

  // ---------------------------------------------------------------------------------------
  // Composing

  async function send(text, thread) {
    const current = place();
    const channel = thread ? current.threadChannel : current.kind === "app" ? ui.data.app.dm : current.id;
    const command = text.trimStart().startsWith("/");
    const result = await post(command ? "/api/command" : "/api/message", {
      channel: channel,
      text: text,
      thread_ts: thread || null,
    });
    if (!result.ok) {
      if (command && !thread) notice(channel, result.error);
      else toast(result.error);
      return false;
    }
    if (result.warning) toast(result.warning);
    ui.scrollToEnd = true;
    await refresh();
    ui.scrollToEnd = false;
    return true;
  }

  function wireComposer(formId, textId, threadOf) {
    const form = $(formId);
    const text = $(textId);
    const grow = () => {
      text.style.height = "auto";
      text.style.height = Math.min(text.scrollHeight, 200) + "px";
    };
    text.addEventListener("input", grow);
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = text.value;
      if (!value.trim()) return;
      text.value = "";
      grow();
      const ok = await send(value, threadOf());
      if (!ok && !text.value) text.value = value;
      text.focus();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Start

  function wire() {
    wireComposer("sb-composer", "sb-composer-text", () => null);
    wireComposer("sb-thread-composer", "sb-thread-text", () => place().thread);
    $("sb-thread-close").addEventListener("click", () => {
      place().thread = null;
      render();
    });
    $("sb-who").addEventListener("click", (event) => {
      event.stopPropagation();
      const menu = $("sb-people");
      menu.hidden = !menu.hidden;
      $("sb-who").setAttribute("aria-expanded", String(!menu.hidden));
    });
    document.addEventListener("click", (event) => {
      if (!$("sb-people").hidden && !$("sb-people").contains(event.target)) closePeople();
    });
    for (const step of document.querySelectorAll(".sb-clock-step")) {
      step.addEventListener("click", async () => {
        step.disabled = true;
        const result = await post("/api/clock", { seconds: Number(step.dataset.seconds) });
        step.disabled = false;
        if (!result.ok) toast(result.error);
        else toast("Time moved on " + step.textContent.replace("+", "") + "." + (result.ran ? " Things that came due have happened." : ""));
      });
    }
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      if (!$("sb-people").hidden) return closePeople();
      const top = ui.data && ui.data.modals[ui.data.modals.length - 1];
      if (top && !document.querySelector(".bk-confirm-overlay")) closeModal(top, false);
    });
    setInterval(tickClock, 1000);
  }

  wire();
  listen();
  refresh();
})();
