/*
 * Block Kit renderer for the hearth sandbox: draws Slack blocks and mrkdwn as DOM nodes so
 * people can try hearth in a browser without a Slack workspace.
 *
 * Every piece of text reaches the page through textContent or text nodes, never innerHTML:
 * messages carry what community members typed, and a topic called "<img onerror=…>" must
 * stay text.
 *
 *   BlockKit.renderBlocks(blocks, ctx) -> HTMLElement
 *   BlockKit.renderMrkdwn(text, ctx)   -> HTMLElement
 *   BlockKit.collectState(root)        -> {block_id: {action_id: value}}  (view.state.values)
 *
 * ctx = { users: {U…: {name, real_name}}, channels: {C…: {name}}, viewerTz, surface:
 *         "message"|"modal"|"home", errors: {block_id: text}, onAction(action),
 *         now (optional, milliseconds; "today" and "ago" are measured from it),
 *         openLink(href) (optional: returns true when the page showed the link itself, as
 *         Slack does for links to its own messages; otherwise it opens in a new tab) }
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------
  // Small DOM utilities

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function randomId() {
    // Slack fills in missing block_id / action_id with short random ids; so do we.
    const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let out = "";
    for (let i = 0; i < 5; i += 1) out += chars[Math.floor(Math.random() * chars.length)];
    return out;
  }

  let uniqueCounter = 0;
  function uniqueName(prefix) {
    uniqueCounter += 1;
    return "bk-" + prefix + "-" + uniqueCounter;
  }

  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  function actionTs() {
    const now = Date.now();
    const micros = String((now % 1000) * 1000).padStart(6, "0");
    return Math.floor(now / 1000) + "." + micros;
  }

  // Make `a` a link to `href` (already checked by safeUrl): a new tab, unless the page
  // shows that place itself (ctx.openLink).
  function linkTo(a, href, ctx) {
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.addEventListener("click", (event) => {
      if (ctx.openLink(href)) event.preventDefault();
    });
    return a;
  }

  // Follow a link from a button or menu: the page's own view of it, or a new tab.
  function follow(href, ctx) {
    if (href && !ctx.openLink(href)) window.open(href, "_blank", "noopener");
  }

  function safeUrl(url, forImage) {
    // Only web and mail links: never javascript: or other schemes that run code.
    if (typeof url !== "string") return null;
    const trimmed = url.trim();
    if (/^https?:\/\//i.test(trimmed)) return trimmed;
    if (!forImage && /^mailto:/i.test(trimmed)) return trimmed;
    if (forImage && /^data:image\/(png|gif|jpe?g|webp);/i.test(trimmed)) return trimmed;
    return null;
  }

  function normaliseCtx(ctx) {
    const c = ctx || {};
    return {
      users: c.users || {},
      channels: c.channels || {},
      viewerTz: c.viewerTz || undefined,
      surface: c.surface || "message",
      errors: c.errors || {},
      onAction: typeof c.onAction === "function" ? c.onAction : function () {},
      openLink: typeof c.openLink === "function" ? c.openLink : function () { return false; },
      now: typeof c.now === "number" ? c.now : null,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Emoji

  const EMOJI = {
    speech_balloon: "\u{1F4AC}",
    white_check_mark: "\u2705",
    arrows_counterclockwise: "\u{1F504}",
    handshake: "\u{1F91D}",
    coffee: "\u2615",
    hourglass_flowing_sand: "\u23F3",
    hourglass: "\u231B",
    tada: "\u{1F389}",
    wave: "\u{1F44B}",
    bulb: "\u{1F4A1}",
    calendar: "\u{1F4C6}",
    date: "\u{1F4C5}",
    raising_hand: "\u{1F64B}",
    raised_hand: "\u270B",
    bar_chart: "\u{1F4CA}",
    green_heart: "\u{1F49A}",
    yellow_heart: "\u{1F49B}",
    red_circle: "\u{1F534}",
    large_green_circle: "\u{1F7E2}",
    large_yellow_circle: "\u{1F7E1}",
    large_orange_circle: "\u{1F7E0}",
    large_blue_circle: "\u{1F535}",
    sunny: "\u2600\uFE0F",
    palm_tree: "\u{1F334}",
    face_with_thermometer: "\u{1F912}",
    arrow_up: "\u2B06\uFE0F",
    arrow_down: "\u2B07\uFE0F",
    arrow_right: "\u27A1\uFE0F",
    heart: "\u2764\uFE0F",
    thumbsup: "\u{1F44D}",
    "+1": "\u{1F44D}",
    thumbsdown: "\u{1F44E}",
    "-1": "\u{1F44E}",
    smile: "\u{1F604}",
    slightly_smiling_face: "\u{1F642}",
    warning: "\u26A0\uFE0F",
    x: "\u274C",
    memo: "\u{1F4DD}",
    pushpin: "\u{1F4CC}",
    star: "\u2B50",
    sparkles: "\u2728",
    clock1: "\u{1F550}",
    alarm_clock: "\u23F0",
  };

  function emojiNode(name, unicode) {
    let glyph = null;
    if (typeof unicode === "string" && /^[0-9a-f]+(-[0-9a-f]+)*$/i.test(unicode)) {
      try {
        glyph = String.fromCodePoint(...unicode.split("-").map((h) => parseInt(h, 16)));
      } catch (e) {
        glyph = null;
      }
    }
    if (!glyph) glyph = EMOJI[name] || null;
    if (!glyph) return document.createTextNode(":" + name + ":");
    const span = el("span", "bk-emoji", glyph);
    span.setAttribute("title", ":" + name + ":");
    span.setAttribute("data-emoji", name);
    return span;
  }

  // Replaces :shortcodes: in plain text with emoji; unknown ones stay as typed.
  function appendWithEmoji(parent, text) {
    const re = /:([a-z0-9_+'-]+):/gi;
    let last = 0;
    let match;
    while ((match = re.exec(text)) !== null) {
      const name = match[1].toLowerCase();
      if (!EMOJI[name]) {
        // Let the closing colon start the next candidate (":a::tada:").
        re.lastIndex = match.index + match[0].length - 1;
        continue;
      }
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(emojiNode(name));
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------------------------------
  // Dates: <!date^…> tokens and rich_text date elements, shown in the viewer's time zone

  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  function ordinal(day) {
    const rem100 = day % 100;
    if (rem100 >= 11 && rem100 <= 13) return day + "th";
    const suffix = { 1: "st", 2: "nd", 3: "rd" }[day % 10] || "th";
    return day + suffix;
  }

  function zonedParts(date, tz) {
    const fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      weekday: "long",
      hour: "numeric",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });
    const parts = {};
    for (const p of fmt.formatToParts(date)) parts[p.type] = p.value;
    const hour = Number(parts.hour) % 24;
    return {
      year: Number(parts.year),
      month: Number(parts.month),
      day: Number(parts.day),
      weekday: parts.weekday,
      hour: hour,
      minute: Number(parts.minute),
      second: Number(parts.second),
    };
  }

  function dayNumber(p) {
    return Math.floor(Date.UTC(p.year, p.month - 1, p.day) / 86400000);
  }

  function agoText(seconds) {
    const future = seconds < 0;
    const s = Math.abs(seconds);
    const units = [[31536000, "year"], [2592000, "month"], [86400, "day"], [3600, "hour"],
      [60, "minute"]];
    for (const [size, name] of units) {
      if (s >= size) {
        const n = Math.floor(s / size);
        const phrase = n + " " + name + (n === 1 ? "" : "s");
        return future ? "in " + phrase : phrase + " ago";
      }
    }
    return future ? "in less than a minute" : "just now";
  }

  // Returns the formatted text, or null when a token is unknown or the date cannot be shown.
  function formatSlackDate(timestamp, format, ctx) {
    const seconds = Number(timestamp);
    if (!Number.isFinite(seconds)) return null;
    const date = new Date(seconds * 1000);
    let p;
    let today;
    const nowMs = ctx.now !== null ? ctx.now : Date.now();
    try {
      p = zonedParts(date, ctx.viewerTz);
      today = zonedParts(new Date(nowMs), ctx.viewerTz);
    } catch (e) {
      return null; // unknown time zone
    }
    const month = MONTHS[p.month - 1];
    const diffDays = dayNumber(p) - dayNumber(today);
    const relative = { "-1": "yesterday", 0: "today", 1: "tomorrow" }[diffDays] || null;
    const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
    const ampm = p.hour < 12 ? "AM" : "PM";
    const mm = String(p.minute).padStart(2, "0");
    const ss = String(p.second).padStart(2, "0");
    const dd = String(p.day).padStart(2, "0");
    const mo = String(p.month).padStart(2, "0");
    const dateText = month + " " + ordinal(p.day) + ", " + p.year;
    const shortText = month.slice(0, 3) + " " + p.day + ", " + p.year;
    const longText = p.weekday + ", " + dateText;
    const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);
    const values = {
      date_num: p.year + "-" + mo + "-" + dd,
      date_slash: dd + "/" + mo + "/" + p.year,
      date: dateText,
      date_short: shortText,
      date_long: longText,
      date_long_full: month + " " + p.day + ", " + p.year,
      date_pretty: relative ? capital(relative) : dateText,
      date_short_pretty: relative ? capital(relative) : shortText,
      date_long_pretty: relative ? capital(relative) : longText,
      day_divider_pretty: relative
        ? capital(relative)
        : p.year === today.year
          ? p.weekday + ", " + month + " " + ordinal(p.day)
          : longText,
      time: hour12 + ":" + mm + " " + ampm,
      time_secs: hour12 + ":" + mm + ":" + ss + " " + ampm,
      ago: agoText(Math.round((nowMs - date.getTime()) / 1000)),
    };
    let unknown = false;
    const text = String(format).replace(/\{([a-z_]+)\}/g, (whole, token) => {
      if (Object.prototype.hasOwnProperty.call(values, token)) return values[token];
      unknown = true;
      return whole;
    });
    if (unknown) return null;
    // "Today" starts a sentence; mid-sentence it reads "Due today at 3:00 PM".
    return text.replace(/(.)\b(Today|Yesterday|Tomorrow)\b/g, (all, before, word) =>
      before + word.toLowerCase());
  }

  function dateNode(timestamp, format, link, fallback, ctx, midSentence) {
    let formatted = formatSlackDate(timestamp, format, ctx);
    if (formatted !== null && midSentence) {
      formatted = formatted.replace(/^(Today|Yesterday|Tomorrow)\b/, (word) => word.toLowerCase());
    }
    const text = formatted === null ? fallback || "" : formatted;
    const href = link ? safeUrl(link) : null;
    const node = href ? el("a", "bk-date bk-link", text) : el("span", "bk-date", text);
    if (href) linkTo(node, href, ctx);
    node.setAttribute("data-timestamp", String(timestamp));
    if (fallback) node.setAttribute("title", fallback);
    return node;
  }

  // ---------------------------------------------------------------------------------------
  // mrkdwn

  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
  function decodeEntities(text) {
    return text.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m]);
  }

  function userLabel(id, ctx, fallback) {
    const user = ctx.users[id];
    if (user) return user.name || user.real_name || id;
    return fallback || id;
  }

  function channelLabel(id, ctx, fallback) {
    const channel = ctx.channels[id];
    if (channel && channel.name) return channel.name;
    return fallback || id;
  }

  function mentionNode(kind, text, id) {
    const node = el("span", "bk-mention bk-mention--" + kind, text);
    if (id) node.setAttribute("data-" + kind + "-id", id);
    return node;
  }

  // One "<…>" token: a link, a mention, a special mention or a date.
  function angleNode(body, ctx, midSentence) {
    const bar = body.indexOf("|");
    const target = bar >= 0 ? body.slice(0, bar) : body;
    const label = bar >= 0 ? decodeEntities(body.slice(bar + 1)) : null;
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return mentionNode("user", "@" + userLabel(id, ctx, label), id);
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return mentionNode("channel", "#" + channelLabel(id, ctx, label), id);
    }
    if (target.startsWith("!")) {
      const parts = target.slice(1).split("^");
      const command = parts[0];
      if (command === "date" && parts.length >= 3) {
        return dateNode(parts[1], parts[2], parts[3] || null, label, ctx, midSentence);
      }
      if (command === "here" || command === "channel" || command === "everyone") {
        return mentionNode("broadcast", "@" + command);
      }
      if (command === "subteam") {
        return mentionNode("usergroup", label || "@" + (parts[1] || "group"));
      }
      return document.createTextNode(label || "<" + decodeEntities(body) + ">");
    }
    const href = safeUrl(decodeEntities(target));
    if (!href) return document.createTextNode(label || decodeEntities(target));
    const shown = label !== null ? label : decodeEntities(target).replace(/^mailto:/i, "");
    return linkTo(el("a", "bk-link", shown), href, ctx);
  }

  const MARKERS = { "*": "b", _: "i", "~": "s" };
  const OPEN_BEFORE = /[\s([{"'`*_~\-–—/:,.;!?>]/; // characters allowed before an opening marker
  const CLOSE_AFTER = /[\s)\]}"'`*_~\-–—/:,.;!?<]/; // characters allowed after a closing marker

  function canOpen(text, i) {
    const before = i === 0 ? "" : text[i - 1];
    const after = text[i + 1];
    return (before === "" || OPEN_BEFORE.test(before)) && after !== undefined && !/\s/.test(after);
  }

  function findClose(text, marker, from) {
    for (let j = from; j < text.length; j += 1) {
      if (text[j] === "<") {
        const end = text.indexOf(">", j);
        if (end > 0) {
          j = end;
          continue;
        }
      }
      if (text[j] === "`") {
        const end = text.indexOf("`", j + 1);
        if (end > 0) {
          j = end;
          continue;
        }
      }
      if (text[j] !== marker) continue;
      const before = text[j - 1];
      const after = j + 1 < text.length ? text[j + 1] : "";
      if (j > from && !/\s/.test(before) && (after === "" || CLOSE_AFTER.test(after))) return j;
    }
    return -1;
  }

  // Inline mrkdwn within one line: tokens, code, bold/italic/strike, emoji, entities.
  function appendInline(parent, text, ctx) {
    let buffer = "";
    const flush = () => {
      if (buffer) appendWithEmoji(parent, decodeEntities(buffer));
      buffer = "";
    };
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "<") {
        const end = text.indexOf(">", i + 1);
        if (end > i + 1) {
          flush();
          const midSentence = /[^\s*_~]/.test(text.slice(0, i));
          parent.appendChild(angleNode(text.slice(i + 1, end), ctx, midSentence));
          i = end + 1;
          continue;
        }
      } else if (ch === "`") {
        const end = text.indexOf("`", i + 1);
        if (end > i + 1) {
          flush();
          parent.appendChild(el("code", "bk-code", decodeEntities(text.slice(i + 1, end))));
          i = end + 1;
          continue;
        }
      } else if (MARKERS[ch] && canOpen(text, i)) {
        const end = findClose(text, ch, i + 1);
        if (end > i + 1) {
          flush();
          const node = el(MARKERS[ch], "bk-" + MARKERS[ch]);
          appendInline(node, text.slice(i + 1, end), ctx);
          parent.appendChild(node);
          i = end + 1;
          continue;
        }
      }
      buffer += ch;
      i += 1;
    }
    flush();
  }

  function appendLines(parent, lines, ctx) {
    lines.forEach((line, index) => {
      if (index > 0) parent.appendChild(document.createTextNode("\n"));
      appendInline(parent, line, ctx);
    });
  }

  function isQuoteLine(line) {
    return /^(>|&gt;)/.test(line);
  }

  function stripQuote(line) {
    return line.replace(/^(>|&gt;) ?/, "");
  }

  // Text outside ``` blocks: plain lines and runs of "> quote" lines.
  function appendProse(parent, text, ctx) {
    const lines = text.split("\n");
    let run = [];
    let quoting = false;
    const flushRun = () => {
      if (!run.length) return;
      if (quoting) {
        const quote = el("blockquote", "bk-quote");
        appendLines(quote, run.map(stripQuote), ctx);
        parent.appendChild(quote);
      } else {
        const span = el("span", "bk-lines");
        appendLines(span, run, ctx);
        parent.appendChild(span);
      }
      run = [];
    };
    for (const line of lines) {
      const q = isQuoteLine(line);
      if (run.length && q !== quoting) flushRun();
      quoting = q;
      run.push(line);
    }
    flushRun();
  }

  function renderMrkdwn(text, ctxIn) {
    const ctx = normaliseCtx(ctxIn);
    const root = el("div", "bk-mrkdwn");
    const source = String(text === undefined || text === null ? "" : text);
    const re = /```([\s\S]*?)```/g;
    let last = 0;
    let match;
    while ((match = re.exec(source)) !== null) {
      const before = source.slice(last, match.index).replace(/\n$/, "");
      if (before) appendProse(root, before, ctx);
      root.appendChild(el("pre", "bk-pre", decodeEntities(match[1].replace(/^\n/, ""))));
      last = match.index + match[0].length;
      if (source[last] === "\n") last += 1;
    }
    const rest = source.slice(last);
    if (rest || last === 0) appendProse(root, rest, ctx);
    return root;
  }

  // ---------------------------------------------------------------------------------------
  // Text objects

  function textNode(obj, ctx, className) {
    if (obj === undefined || obj === null) return el("span", className || "");
    if (typeof obj === "string") {
      const span = el("span", className || "bk-plain");
      appendWithEmoji(span, obj);
      return span;
    }
    if (obj.type === "mrkdwn") {
      const node = renderMrkdwn(obj.text, ctx);
      if (className) node.classList.add(...className.split(" "));
      return node;
    }
    const span = el("span", (className ? className + " " : "") + "bk-plain");
    if (obj.emoji === false) span.textContent = obj.text || "";
    else appendWithEmoji(span, obj.text || "");
    return span;
  }

  function plainText(obj) {
    if (!obj) return "";
    return typeof obj === "string" ? obj : obj.text || "";
  }

  function plainWithEmoji(obj) {
    // Labels on buttons and options: emoji shortcodes become glyphs, as Slack shows them.
    const text = plainText(obj);
    if (obj && obj.emoji === false) return text;
    return text.replace(/:([a-z0-9_+'-]+):/gi, (whole, name) => EMOJI[name.toLowerCase()] || whole);
  }

  // ---------------------------------------------------------------------------------------
  // Actions and the confirm dialog

  const definitions = new WeakMap(); // interactive DOM node -> its element JSON

  function blockIdOf(node) {
    const block = node.closest("[data-block-id]");
    return block ? block.getAttribute("data-block-id") : "";
  }

  function showConfirm(confirm, ctx, onConfirm, onDeny) {
    const overlay = el("div", "bk bk-confirm-overlay");
    const dialog = el("div", "bk-confirm");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    const title = el("div", "bk-confirm-title", plainWithEmoji(confirm.title) || "Are you sure?");
    const titleId = uniqueName("confirm-title");
    title.id = titleId;
    dialog.setAttribute("aria-labelledby", titleId);
    dialog.appendChild(title);
    dialog.appendChild(textNode(confirm.text, ctx, "bk-confirm-text"));
    const buttons = el("div", "bk-confirm-buttons");
    const deny = el("button", "bk-button bk-confirm-deny", plainWithEmoji(confirm.deny) || "Cancel");
    deny.type = "button";
    const style = confirm.style === "danger" ? "danger" : "primary";
    const ok = el("button", "bk-button bk-button--" + style + " bk-confirm-confirm",
      plainWithEmoji(confirm.confirm) || "Yes");
    ok.type = "button";
    buttons.appendChild(deny);
    buttons.appendChild(ok);
    dialog.appendChild(buttons);
    overlay.appendChild(dialog);
    const close = () => {
      overlay.remove();
      document.removeEventListener("keydown", onKey, true);
    };
    const onKey = (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
        if (onDeny) onDeny();
      }
    };
    deny.addEventListener("click", () => {
      close();
      if (onDeny) onDeny();
    });
    ok.addEventListener("click", () => {
      close();
      onConfirm();
    });
    overlay.addEventListener("click", (event) => {
      if (event.target === overlay) {
        close();
        if (onDeny) onDeny();
      }
    });
    document.addEventListener("keydown", onKey, true);
    document.body.appendChild(overlay);
    ok.focus();
    return overlay;
  }

  // Sends `fields` as a block_actions entry for `node`, after the confirm dialog if any.
  function fire(node, element, fields, ctx, onDeny) {
    const action = Object.assign(
      {
        block_id: blockIdOf(node),
        action_id: node.getAttribute("data-action-id"),
        type: element.type,
      },
      fields,
      { action_ts: actionTs() },
    );
    const send = () => ctx.onAction(action);
    if (element.confirm) showConfirm(element.confirm, ctx, send, onDeny);
    else send();
  }

  // Whether this element reports changes as they happen (block_actions) in this surface.
  function firesLive(ctx, inInput, dispatchAction) {
    if (!inInput) return true;
    if (ctx.surface === "modal") return Boolean(dispatchAction);
    return true;
  }

  function register(node, element, stateful) {
    const actionId = element.action_id || randomId();
    node.setAttribute("data-action-id", actionId);
    node.setAttribute("data-element-type", element.type);
    if (stateful) node.setAttribute("data-bk-state", "");
    definitions.set(node, element);
    return node;
  }

  // ---------------------------------------------------------------------------------------
  // Elements

  function allOptions(element) {
    const out = [];
    for (const o of element.options || []) out.push(o);
    for (const g of element.option_groups || []) for (const o of g.options || []) out.push(o);
    return out;
  }

  function sameOption(a, b) {
    return a && b && a.value === b.value;
  }

  function renderButton(element, ctx) {
    const style = element.style === "primary" || element.style === "danger" ? element.style : null;
    const button = el("button", "bk-button" + (style ? " bk-button--" + style : ""),
      plainWithEmoji(element.text));
    button.type = "button";
    register(button, element, false);
    if (element.value !== undefined) button.setAttribute("data-value", element.value);
    if (style) button.setAttribute("data-style", style);
    if (element.accessibility_label) button.setAttribute("aria-label", element.accessibility_label);
    button.addEventListener("click", () => {
      const fields = { text: clone(element.text) };
      if (element.value !== undefined) fields.value = element.value;
      if (style) fields.style = style;
      const href = element.url ? safeUrl(element.url) : null;
      fire(button, element, fields, ctx);
      follow(href, ctx);
    });
    return button;
  }

  function renderOverflow(element, ctx) {
    const wrap = el("span", "bk-overflow-wrap");
    const button = el("button", "bk-overflow", "\u22EF");
    button.type = "button";
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", "More actions");
    register(button, element, false);
    const menu = el("div", "bk-menu");
    menu.setAttribute("role", "menu");
    menu.hidden = true;
    const closeMenu = () => {
      menu.hidden = true;
      button.setAttribute("aria-expanded", "false");
      document.removeEventListener("click", outside, true);
    };
    const outside = (event) => {
      if (!wrap.contains(event.target)) closeMenu();
    };
    (element.options || []).forEach((option) => {
      const item = el("button", "bk-menu-item", plainWithEmoji(option.text));
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.setAttribute("data-value", option.value);
      item.addEventListener("click", () => {
        closeMenu();
        fire(button, element, { selected_option: clone(option) }, ctx);
        follow(option.url ? safeUrl(option.url) : null, ctx);
      });
      menu.appendChild(item);
    });
    button.addEventListener("click", () => {
      if (menu.hidden) {
        menu.hidden = false;
        button.setAttribute("aria-expanded", "true");
        document.addEventListener("click", outside, true);
      } else {
        closeMenu();
      }
    });
    wrap.appendChild(button);
    wrap.appendChild(menu);
    return wrap;
  }

  function optionNode(option, selected) {
    const node = el("option", null, plainWithEmoji(option.text));
    node.value = option.value;
    if (selected) node.selected = true;
    return node;
  }

  function selectedOptionsFrom(select, element) {
    const options = allOptions(element);
    return Array.from(select.selectedOptions)
      .filter((o) => o.value !== "" || o.hasAttribute("data-real"))
      .map((o) => options.find((x) => x.value === o.value))
      .filter(Boolean)
      .map(clone);
  }

  // A menu of options: static, users, conversations or channels; single or multi.
  function renderSelect(element, ctx, inInput, dispatchAction) {
    const kind = element.type;
    const multi = kind.startsWith("multi_");
    const select = el("select", "bk-select" + (multi ? " bk-select--multi" : ""));
    register(select, element, true);
    if (multi) select.multiple = true;
    const placeholder = plainText(element.placeholder) || (multi ? "" : "Select an item");
    if (!multi) {
      const blank = el("option", "bk-placeholder", placeholder);
      blank.value = "";
      select.appendChild(blank);
    } else if (placeholder) {
      select.setAttribute("aria-label", placeholder);
      select.title = placeholder;
    }
    let entries = [];
    let count = 0;
    if (kind === "static_select" || kind === "multi_static_select") {
      const initial = multi ? element.initial_options || [] : [element.initial_option];
      const isInitial = (o) => initial.some((i) => sameOption(i, o));
      if (element.option_groups) {
        for (const group of element.option_groups) {
          const og = el("optgroup");
          og.label = plainWithEmoji(group.label);
          for (const option of group.options || []) {
            og.appendChild(optionNode(option, isInitial(option)));
            count += 1;
          }
          select.appendChild(og);
        }
      }
      for (const option of element.options || []) {
        select.appendChild(optionNode(option, isInitial(option)));
        count += 1;
      }
    } else {
      let pool;
      let label;
      let initial;
      if (kind.includes("users")) {
        pool = ctx.users;
        label = (id, u) => u.real_name || u.name || id;
        initial = multi ? element.initial_users : element.initial_user;
      } else if (kind.includes("conversations")) {
        pool = ctx.channels;
        label = (id, c) => "#" + (c.name || id);
        initial = multi ? element.initial_conversations : element.initial_conversation;
      } else {
        pool = ctx.channels;
        label = (id, c) => "#" + (c.name || id);
        initial = multi ? element.initial_channels : element.initial_channel;
      }
      const chosen = new Set(multi ? initial || [] : initial ? [initial] : []);
      entries = Object.keys(pool).map((id) => [id, label(id, pool[id] || {})]);
      entries.sort((a, b) => a[1].localeCompare(b[1]));
      for (const [id, text] of entries) {
        const node = el("option", null, text);
        node.value = id;
        node.setAttribute("data-real", "");
        if (chosen.has(id)) node.selected = true;
        select.appendChild(node);
        count += 1;
      }
    }
    if (multi) select.size = Math.min(Math.max(count, 2), 6);
    if (element.focus_on_load) select.autofocus = true;
    let previous = Array.from(select.selectedOptions).map((o) => o.value);
    if (firesLive(ctx, inInput, dispatchAction)) {
      select.addEventListener("change", () => {
        const before = previous;
        previous = Array.from(select.selectedOptions).map((o) => o.value);
        const value = selectValue(select, element);
        const revert = () => {
          for (const o of select.options) o.selected = before.includes(o.value);
          previous = before;
        };
        fire(select, element, value, ctx, revert);
      });
    }
    return select;
  }

  // The state of a select, keyed the way Slack keys it for that kind.
  function selectValue(select, element) {
    const kind = element.type;
    const chosen = Array.from(select.selectedOptions).map((o) => o.value).filter((v) => v !== "");
    switch (kind) {
      case "static_select": {
        const options = selectedOptionsFrom(select, element);
        return { selected_option: options.length ? options[0] : null };
      }
      case "multi_static_select":
        return { selected_options: selectedOptionsFrom(select, element) };
      case "users_select":
        return { selected_user: chosen[0] || null };
      case "multi_users_select":
        return { selected_users: chosen };
      case "conversations_select":
        return { selected_conversation: chosen[0] || null };
      case "multi_conversations_select":
        return { selected_conversations: chosen };
      case "channels_select":
        return { selected_channel: chosen[0] || null };
      case "multi_channels_select":
        return { selected_channels: chosen };
      default:
        return {};
    }
  }

  function renderTextInput(element, ctx, inInput, dispatchAction) {
    const kind = element.type;
    const multiline = kind === "plain_text_input" && element.multiline;
    const input = multiline ? el("textarea", "bk-input bk-textarea") : el("input", "bk-input");
    if (!multiline) {
      input.type = { email_text_input: "email", url_text_input: "url", number_input: "number" }[kind]
        || "text";
    } else {
      input.rows = 4;
    }
    register(input, element, true);
    const placeholder = plainText(element.placeholder);
    if (placeholder) input.placeholder = placeholder;
    if (element.initial_value !== undefined && element.initial_value !== null) {
      input.value = String(element.initial_value);
    }
    if (kind === "plain_text_input") {
      if (element.min_length !== undefined) input.minLength = Number(element.min_length);
      if (element.max_length !== undefined) input.maxLength = Number(element.max_length);
    }
    if (kind === "number_input") {
      input.step = element.is_decimal_allowed ? "any" : "1";
      input.inputMode = element.is_decimal_allowed ? "decimal" : "numeric";
      if (element.min_value !== undefined) input.min = String(element.min_value);
      if (element.max_value !== undefined) input.max = String(element.max_value);
    }
    if (element.focus_on_load) input.autofocus = true;
    if (firesLive(ctx, inInput, dispatchAction)) {
      const triggers = (element.dispatch_action_config || {}).trigger_actions_on
        || ["on_enter_pressed"];
      const send = () => fire(input, element, { value: input.value === "" ? null : input.value }, ctx);
      if (triggers.includes("on_enter_pressed")) {
        input.addEventListener("keydown", (event) => {
          if (event.key !== "Enter") return;
          if (multiline && !(event.ctrlKey || event.metaKey)) return;
          event.preventDefault();
          send();
        });
      }
      if (triggers.includes("on_character_entered")) input.addEventListener("input", send);
    }
    return input;
  }

  function renderPicker(element, ctx, inInput, dispatchAction) {
    const isDate = element.type === "datepicker";
    const input = el("input", "bk-input bk-picker");
    input.type = isDate ? "date" : "time";
    register(input, element, true);
    const initial = isDate ? element.initial_date : element.initial_time;
    if (initial) input.value = initial;
    const placeholder = plainText(element.placeholder);
    if (placeholder) {
      input.setAttribute("aria-label", placeholder);
      input.title = placeholder;
    }
    if (element.focus_on_load) input.autofocus = true;
    if (firesLive(ctx, inInput, dispatchAction)) {
      let previous = input.value;
      input.addEventListener("change", () => {
        const before = previous;
        previous = input.value;
        const fields = isDate
          ? { selected_date: input.value || null }
          : { selected_time: input.value || null };
        if (!isDate && element.timezone) fields.timezone = element.timezone;
        fire(input, element, fields, ctx, () => {
          input.value = before;
          previous = before;
        });
      });
    }
    return input;
  }

  function renderChoices(element, ctx, inInput, dispatchAction) {
    const radio = element.type === "radio_buttons";
    const group = el("div", "bk-choices " + (radio ? "bk-radios" : "bk-checkboxes"));
    group.setAttribute("role", radio ? "radiogroup" : "group");
    register(group, element, true);
    const name = uniqueName(radio ? "radio" : "check");
    const initial = radio ? [element.initial_option].filter(Boolean) : element.initial_options || [];
    const boxes = [];
    (element.options || []).forEach((option, index) => {
      const label = el("label", "bk-choice");
      const box = el("input");
      box.type = radio ? "radio" : "checkbox";
      box.name = name;
      box.value = option.value;
      box.setAttribute("data-index", String(index));
      box.checked = initial.some((i) => sameOption(i, option));
      boxes.push(box);
      label.appendChild(box);
      const words = el("span", "bk-choice-text");
      words.appendChild(textNode(option.text, ctx, "bk-choice-label"));
      if (option.description) {
        words.appendChild(textNode(option.description, ctx, "bk-choice-description"));
      }
      label.appendChild(words);
      group.appendChild(label);
    });
    if (element.focus_on_load && boxes[0]) boxes[0].autofocus = true;
    if (firesLive(ctx, inInput, dispatchAction)) {
      let previous = boxes.map((b) => b.checked);
      group.addEventListener("change", () => {
        const before = previous;
        previous = boxes.map((b) => b.checked);
        fire(group, element, choicesValue(group, element), ctx, () => {
          boxes.forEach((b, i) => {
            b.checked = before[i];
          });
          previous = before;
        });
      });
    }
    return group;
  }

  function choicesValue(group, element) {
    const options = element.options || [];
    const picked = Array.from(group.querySelectorAll("input"))
      .filter((b) => b.checked)
      .map((b) => clone(options[Number(b.getAttribute("data-index"))]));
    if (element.type === "radio_buttons") return { selected_option: picked[0] || null };
    return { selected_options: picked };
  }

  function renderImageElement(element, className) {
    const src = safeUrl(element.image_url, true);
    const img = el("img", className || "bk-image-element");
    if (src) img.src = src;
    img.alt = element.alt_text || "";
    if (element.alt_text) img.title = element.alt_text;
    return img;
  }

  function renderElement(element, ctx, inInput, dispatchAction) {
    if (!element || typeof element !== "object") return el("span");
    switch (element.type) {
      case "button":
        return renderButton(element, ctx);
      case "overflow":
        return renderOverflow(element, ctx);
      case "static_select":
      case "multi_static_select":
      case "users_select":
      case "multi_users_select":
      case "conversations_select":
      case "multi_conversations_select":
      case "channels_select":
      case "multi_channels_select":
        return renderSelect(element, ctx, inInput, dispatchAction);
      case "plain_text_input":
      case "number_input":
      case "email_text_input":
      case "url_text_input":
        return renderTextInput(element, ctx, inInput, dispatchAction);
      case "datepicker":
      case "timepicker":
        return renderPicker(element, ctx, inInput, dispatchAction);
      case "radio_buttons":
      case "checkboxes":
        return renderChoices(element, ctx, inInput, dispatchAction);
      case "image":
        return renderImageElement(element, "bk-accessory-image");
      default: {
        const span = el("span", "bk-unsupported", "[" + element.type + "]");
        if (element.action_id) span.setAttribute("data-action-id", element.action_id);
        return span;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Rich text

  function styled(node, style) {
    let out = node;
    if (!style) return out;
    if (style.code) {
      const code = el("code", "bk-code");
      code.appendChild(out);
      out = code;
    }
    for (const [flag, tag] of [["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
      if (style[flag]) {
        const wrap = el(tag, "bk-" + tag);
        wrap.appendChild(out);
        out = wrap;
      }
    }
    return out;
  }

  function richInline(item, ctx) {
    switch (item.type) {
      case "text": {
        const node = document.createTextNode(item.text || "");
        return styled(node, item.style);
      }
      case "link": {
        const href = safeUrl(item.url);
        const a = href ? el("a", "bk-link", item.text || item.url) : el("span", null, item.text || item.url);
        if (href) linkTo(a, href, ctx);
        return styled(a, item.style);
      }
      case "user":
        return styled(mentionNode("user", "@" + userLabel(item.user_id, ctx), item.user_id), item.style);
      case "channel":
        return styled(
          mentionNode("channel", "#" + channelLabel(item.channel_id, ctx), item.channel_id),
          item.style,
        );
      case "usergroup":
        return mentionNode("usergroup", "@" + (item.usergroup_id || "group"));
      case "broadcast":
        return mentionNode("broadcast", "@" + (item.range || "here"));
      case "emoji":
        return emojiNode(item.name || "", item.unicode);
      case "date":
        return styled(dateNode(item.timestamp, item.format, item.url, item.fallback, ctx), item.style);
      default:
        return document.createTextNode("");
    }
  }

  function richSection(section, ctx, tag, className) {
    const node = el(tag || "div", className || "bk-rich-section");
    for (const item of section.elements || []) node.appendChild(richInline(item, ctx));
    return node;
  }

  const BULLETS = ["disc", "circle", "square"];
  const NUMBERS = ["decimal", "lower-alpha", "lower-roman"];

  function richList(list, ctx) {
    const ordered = list.style === "ordered";
    const indent = Math.max(0, Number(list.indent) || 0);
    const node = el(ordered ? "ol" : "ul", "bk-rich-list bk-rich-list--indent-" + indent);
    node.style.listStyleType = (ordered ? NUMBERS : BULLETS)[indent % 3];
    node.style.marginLeft = indent * 28 + "px";
    node.setAttribute("data-indent", String(indent));
    if (ordered && list.offset) node.start = Number(list.offset) + 1;
    if (list.border) node.classList.add("bk-rich-list--border");
    for (const item of list.elements || []) node.appendChild(richSection(item, ctx, "li", "bk-rich-item"));
    return node;
  }

  function renderRichText(block, ctx) {
    const wrap = el("div", "bk-rich-text");
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") wrap.appendChild(richSection(part, ctx));
      else if (part.type === "rich_text_list") wrap.appendChild(richList(part, ctx));
      else if (part.type === "rich_text_quote") {
        wrap.appendChild(richSection(part, ctx, "blockquote", "bk-quote"));
      } else if (part.type === "rich_text_preformatted") {
        wrap.appendChild(richSection(part, ctx, "pre", "bk-pre"));
      }
    }
    return wrap;
  }

  // ---------------------------------------------------------------------------------------
  // Blocks

  function renderSection(block, ctx) {
    const node = el("div", "bk-section-inner");
    const body = el("div", "bk-section-body");
    if (block.text) body.appendChild(textNode(block.text, ctx, "bk-section-text"));
    if (block.fields && block.fields.length) {
      const grid = el("div", "bk-fields");
      for (const field of block.fields) grid.appendChild(textNode(field, ctx, "bk-field"));
      body.appendChild(grid);
    }
    node.appendChild(body);
    if (block.accessory) {
      const side = el("div", "bk-accessory");
      side.appendChild(renderElement(block.accessory, ctx, false, false));
      node.appendChild(side);
    }
    return node;
  }

  function renderContext(block, ctx) {
    const node = el("div", "bk-context-inner");
    for (const item of block.elements || []) {
      if (item.type === "image") node.appendChild(renderImageElement(item, "bk-context-image"));
      else node.appendChild(textNode(item, ctx, "bk-context-text"));
    }
    return node;
  }

  function renderImageBlock(block, ctx) {
    const node = el("figure", "bk-image-inner");
    if (block.title) node.appendChild(textNode(block.title, ctx, "bk-image-title"));
    node.appendChild(renderImageElement(block, "bk-image-img"));
    return node;
  }

  function renderActions(block, ctx) {
    const node = el("div", "bk-actions-inner");
    for (const element of block.elements || []) {
      const item = el("div", "bk-actions-item");
      item.appendChild(renderElement(element, ctx, false, false));
      node.appendChild(item);
    }
    return node;
  }

  function renderInput(block, ctx) {
    const node = el("div", "bk-input-inner");
    const element = block.element || {};
    const control = renderElement(element, ctx, true, block.dispatch_action);
    const controlId = uniqueName("input");
    const group = element.type === "radio_buttons" || element.type === "checkboxes";
    const label = el(group ? "div" : "label", "bk-input-label");
    label.appendChild(textNode(block.label, ctx, "bk-input-label-text"));
    if (block.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
    const labelId = uniqueName("label");
    label.id = labelId;
    if (group) control.setAttribute("aria-labelledby", labelId);
    else {
      control.id = controlId;
      label.htmlFor = controlId;
    }
    if (!block.optional && !group && "required" in control) control.required = true;
    node.appendChild(label);
    node.appendChild(control);
    if (block.hint) node.appendChild(textNode(block.hint, ctx, "bk-hint"));
    const error = block.block_id ? ctx.errors[block.block_id] : undefined;
    if (error) {
      const message = el("div", "bk-input-error", error);
      message.setAttribute("role", "alert");
      node.appendChild(message);
      node.classList.add("bk-has-error");
      control.setAttribute("aria-invalid", "true");
    }
    return node;
  }

  function renderBlock(block, ctx) {
    const type = block && block.type ? block.type : "unknown";
    const wrap = el("div", "bk-block bk-block--" + type.replace(/_/g, "-"));
    wrap.setAttribute("data-block-id", (block && block.block_id) || randomId());
    wrap.setAttribute("data-block-type", type);
    switch (type) {
      case "header":
        wrap.appendChild(textNode(block.text, ctx, "bk-header-text"));
        break;
      case "section":
        wrap.appendChild(renderSection(block, ctx));
        break;
      case "divider":
        wrap.appendChild(el("hr", "bk-divider-line"));
        break;
      case "context":
        wrap.appendChild(renderContext(block, ctx));
        break;
      case "image":
        wrap.appendChild(renderImageBlock(block, ctx));
        break;
      case "actions":
        wrap.appendChild(renderActions(block, ctx));
        break;
      case "input":
        wrap.appendChild(renderInput(block, ctx));
        break;
      case "rich_text":
        wrap.appendChild(renderRichText(block, ctx));
        break;
      case "markdown":
        wrap.appendChild(renderMrkdwn(block.text || "", ctx));
        break;
      default:
        wrap.appendChild(el("div", "bk-unsupported", "This block can't be shown here (" + type + ")."));
    }
    return wrap;
  }

  function renderBlocks(blocks, ctxIn) {
    const ctx = normaliseCtx(ctxIn);
    const root = el("div", "bk bk-surface bk-surface--" + ctx.surface);
    root.setAttribute("data-surface", ctx.surface);
    for (const block of blocks || []) root.appendChild(renderBlock(block, ctx));
    return root;
  }

  // ---------------------------------------------------------------------------------------
  // State for view_submission

  function elementState(node, element) {
    const kind = element.type;
    const entry = { type: kind };
    if (node.tagName === "SELECT") return Object.assign(entry, selectValue(node, element));
    if (kind === "radio_buttons" || kind === "checkboxes") {
      return Object.assign(entry, choicesValue(node, element));
    }
    if (kind === "datepicker") return Object.assign(entry, { selected_date: node.value || null });
    if (kind === "timepicker") {
      entry.selected_time = node.value || null;
      if (element.timezone) entry.timezone = element.timezone;
      return entry;
    }
    entry.value = node.value === "" ? null : node.value;
    return entry;
  }

  function collectState(root) {
    const values = {};
    if (!root) return values;
    for (const node of root.querySelectorAll("[data-bk-state]")) {
      const element = definitions.get(node);
      if (!element) continue;
      const blockId = blockIdOf(node);
      const actionId = node.getAttribute("data-action-id");
      values[blockId] = values[blockId] || {};
      values[blockId][actionId] = elementState(node, element);
    }
    return values;
  }

  window.BlockKit = {
    renderBlocks: renderBlocks,
    renderMrkdwn: renderMrkdwn,
    collectState: collectState,
    formatDate: function (timestamp, format, ctx) {
      return formatSlackDate(timestamp, format, normaliseCtx(ctx));
    },
    emoji: EMOJI,
  };
})();
