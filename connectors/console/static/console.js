/* omnibot agent desk: the list of handed-over conversations, one conversation live, and the
   agent's actions, over one WebSocket (frames: connectors/agent_console_frames.py). */
(function () {
  "use strict";

  var ROOT = document.body.getAttribute("data-root") || "/agent";
  var NAME_KEY = "omnibot.agent.name";
  var MAX_CHARS = 4000;
  var CHANNELS = { sms: "SMS", webchat: "Web chat" };
  var STATES = { waiting: "Waiting", agent: "Claimed", bot: "Back with the bot" };
  var WARN_OUTCOMES = { taken: true, closed: true };
  var TITLE = document.title;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function stored(key) { try { return localStorage.getItem(key) || ""; } catch (e) { return ""; } }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }

  var nameForm = $("name-form"), nameInput = $("agent-name"), connection = $("connection");
  var lists = { waiting: $("waiting-list"), agent: $("claimed-list") };
  var counts = { waiting: $("waiting-count"), agent: $("claimed-count") };
  var announce = $("announce"), queueEmpty = $("queue-empty"), convEmpty = $("conv-empty"), conv = $("conv");
  var convTitle = $("conv-title"), convMeta = $("conv-meta"), outcome = $("outcome");
  var log = $("messages"), composer = $("composer"), text = $("text"), count = $("count");
  var buttons = { claim: $("claim"), resolve: $("resolve"), back_to_bot: $("back-to-bot"),
                  reply: $("reply"), note: $("note") };

  var ws = null, opened = false, retry = 0, offset = 0, tickets = null, current = null;
  // A sign-in link (#token=…) opened while signed in: the token leaves the address bar.
  if (/^#token=/.test(location.hash)) history.replaceState(null, "", location.pathname);
  var selected = decodeURIComponent(location.hash.slice(1)) || null, rendered = {}, pending = null;

  // --- the agent's name -----------------------------------------------------------------
  nameInput.value = stored(NAME_KEY);
  function agentName() { return stored(NAME_KEY).trim(); }
  function markName() {
    if (agentName()) nameForm.removeAttribute("data-missing");
    else nameForm.setAttribute("data-missing", "");
  }
  function saveName() {
    var name = nameInput.value.trim();
    if (!name || name === agentName()) return false;
    store(NAME_KEY, name);
    markName();
    renderHeader();
    return true;
  }
  nameForm.addEventListener("submit", function (e) {
    e.preventDefault();
    saveName();
    if (agentName()) say("Saved. Customers will see you as " + agentName() + ".", "info");
  });
  nameInput.addEventListener("change", saveName);  // typed, then straight to Claim
  markName();

  // --- times ------------------------------------------------------------------------------
  function now() { return Date.now() / 1000 + offset; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + pad(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + pad(Math.floor(s % 3600 / 60)) + " min";
  }
  function clock(ts) {
    return new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function waitText(t) {
    if (!t.escalated_at) return "";
    var since = duration(now() - t.escalated_at);
    return t.state === "waiting" ? "Waiting " + since : "With " + (t.agent || "an agent") + " · " + since;
  }
  function tick() {
    (tickets || []).forEach(function (t) {
      var node = document.querySelector('.ac-wait[data-conversation="' + t.conversation + '"]');
      if (node) node.textContent = waitText(t);
    });
  }
  setInterval(tick, 1000);

  // --- the list ---------------------------------------------------------------------------
  function badge(state) {
    return el("span", { class: "ac-badge ac-badge-" + state }, STATES[state] || state);
  }
  function channelText(t) {
    if (t.reaches && t.reaches.length > 1) {  // one customer on several channels
      return t.reaches.map(function (r) {
        var parts = r.split(" ");
        return (CHANNELS[parts[0]] || parts[0]) + (parts[1] ? " " + parts[1] : "");
      }).join(" + ");
    }
    var name = CHANNELS[t.channel] || t.channel || "unknown channel";
    return t.address ? name + " " + t.address : name;
  }
  function ticketItem(t) {
    var item = el("li");
    var button = el("button", { type: "button", class: "ac-ticket", "data-state": t.state,
                                "data-conversation": t.conversation });
    if (t.conversation === selected) button.setAttribute("aria-current", "true");
    var top = el("span", { class: "ac-ticket-top" });
    top.appendChild(el("strong", {}, t.customer));
    top.appendChild(badge(t.state));
    button.appendChild(top);
    button.appendChild(el("span", { class: "ac-ticket-reason" },
                          channelText(t) + (t.reason ? " · " + t.reason : "")));
    if (t.last_message) button.appendChild(el("span", { class: "ac-ticket-preview" }, "“" + t.last_message + "”"));
    button.appendChild(el("span", { class: "ac-wait", "data-conversation": t.conversation }, waitText(t)));
    button.addEventListener("click", function () { select(t.conversation); });
    item.appendChild(button);
    return item;
  }
  function announceNew(previous, next) {
    if (previous === null) return;  // the first list is not news
    var known = {};
    previous.forEach(function (t) { known[t.conversation] = true; });
    var fresh = next.filter(function (t) { return t.state === "waiting" && !known[t.conversation]; });
    if (fresh.length) {
      announce.textContent = fresh.length === 1
        ? "New conversation waiting: " + fresh[0].customer + ", " + (fresh[0].reason || "no reason given")
        : fresh.length + " new conversations waiting";
    }
  }
  function renderList() {
    var focused = document.activeElement && document.activeElement.getAttribute("data-conversation");
    lists.waiting.innerHTML = "";
    lists.agent.innerHTML = "";
    var n = { waiting: 0, agent: 0 };
    tickets.forEach(function (t) {
      if (!lists[t.state]) return;
      lists[t.state].appendChild(ticketItem(t));
      n[t.state] += 1;
    });
    counts.waiting.textContent = n.waiting;
    counts.agent.textContent = n.agent;
    queueEmpty.hidden = tickets.length > 0;
    document.title = n.waiting ? "(" + n.waiting + ") " + TITLE : TITLE;
    if (focused) {
      var again = document.querySelector('.ac-ticket[data-conversation="' + focused + '"]');
      if (again) again.focus();
    }
    var listed = tickets.filter(function (t) { return t.conversation === selected; })[0];
    if (listed && current && current.conversation === listed.conversation) {
      current.state = listed.state;
      current.agent = listed.agent;
      renderHeader();
    }
  }

  // --- the selected conversation ----------------------------------------------------------
  function select(cid) {
    if (!cid) return;
    selected = cid;
    history.replaceState(null, "", "#" + encodeURIComponent(cid));
    document.querySelectorAll(".ac-ticket").forEach(function (b) {
      if (b.getAttribute("data-conversation") === cid) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
    say("", "info");
    send({ type: "open", conversation: cid });
  }
  function renderHeader() {
    if (!current) return;
    convTitle.textContent = "";
    convTitle.appendChild(document.createTextNode(current.customer));
    convTitle.appendChild(badge(current.state));
    var parts = [channelText(current)];
    if (current.reason) parts.push("Reason: " + current.reason);
    if (current.intent) {
      var confidence = current.confidence == null ? "" : " (" + Math.round(current.confidence * 100) + " %)";
      parts.push("Last intent: " + current.intent + confidence);
    }
    if (current.detail) parts.push(current.detail);
    if (current.state === "agent") parts.push("Claimed by " + (current.agent || "an agent"));
    if (current.escalated_at) parts.push("Escalated at " + clock(current.escalated_at));
    convMeta.textContent = parts.join(" · ");
    var closed = current.state === "bot";
    var mine = current.state === "agent" && current.agent === agentName();
    buttons.claim.disabled = closed || mine;
    buttons.claim.textContent = mine ? "Claimed by you" : "Claim";
    buttons.resolve.disabled = closed;
    buttons.back_to_bot.disabled = closed;
    buttons.reply.disabled = closed;
    updateCount();
  }
  function authorOf(m, note) {
    if (note) return "Internal note · " + (m.author || "Agent");
    if (m.role === "customer") return "Customer" + (m.channel ? " · " + (CHANNELS[m.channel] || m.channel) : "");
    if (m.role === "bot") return "Assistant";
    if (m.role === "agent") return m.author || "Agent";
    return "";
  }
  // "(answered from: <title> <url>)": what the customer was told before they asked for a
  // person; the title is data (text only), and only a web address becomes a link
  function answeredFrom(article) {
    var line = el("p", { class: "ac-article" }, "(answered from: " + String(article.title || ""));
    var url = typeof article.url === "string" ? article.url : "";
    if (url) line.appendChild(document.createTextNode(" "));
    if (/^https?:\/\//i.test(url)) {
      line.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
    } else if (url) {
      line.appendChild(document.createTextNode(url));
    }
    line.appendChild(document.createTextNode(")"));
    return line;
  }
  // Personal data comes masked; "Reveal" asks for one message's original, which the server
  // records (who, which message) before it answers.
  function revealButton(m, textNode) {
    var button = el("button", { type: "button", class: "ac-reveal",
                                title: "Show the original; the reveal is recorded" }, "Reveal");
    var cid = current ? current.conversation : selected;
    button.addEventListener("click", function () {
      button.disabled = true;
      var url = ROOT + "/api/conversations/" + encodeURIComponent(cid) + "/messages/" +
                encodeURIComponent(m.id) + "/original";
      fetch(url, { method: "POST", credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (r) {
          if (!r) throw new Error("refused");
          textNode.textContent = r.text;
          button.replaceWith(el("span", { class: "ac-revealed" }, "Revealed (recorded)"));
        })
        .catch(function () {
          button.disabled = false;
          say("The original could not be shown; try again.", "error");
        });
    });
    return button;
  }
  function item(m, note) {
    var key = (note ? "n:" : "m:") + m.id;
    if (rendered[key]) return null;
    rendered[key] = true;
    var role = note ? "note" : m.role;
    var li = el("li", { class: "ac-msg ac-" + role, "data-role": role });
    var author = authorOf(m, note);
    if (author) li.appendChild(el("span", { class: "ac-author" }, author));
    if (m.text) {
      var said = el("p", { class: "ac-text" }, m.text);
      li.appendChild(said);
      if (m.masked) li.appendChild(revealButton(m, said));
    }
    if (role === "bot" && m.article) li.appendChild(answeredFrom(m.article));
    (m.media || []).forEach(function (file, i) {
      if (!/^https?:\/\//.test(file.url)) return;  // only web links become links
      li.appendChild(el("a", { class: "ac-media", href: file.url, target: "_blank", rel: "noopener noreferrer" },
                        (file.content_type.indexOf("image/") === 0 ? "Picture " : "Attachment ") + (i + 1)));
    });
    if (m.ts && role !== "system") li.appendChild(el("time", { class: "ac-time" }, clock(m.ts)));
    return li;
  }
  function append(m, note) {
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    var li = item(m, note);
    if (!li) return;
    log.appendChild(li);
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }
  function showHistory(frame) {
    current = frame.ticket;
    convEmpty.hidden = true;
    conv.hidden = false;
    rendered = {};
    log.setAttribute("aria-busy", "true");  // announce new lines, not the whole reload
    log.innerHTML = "";
    var all = frame.messages.map(function (m) { return { m: m, note: false }; })
      .concat(frame.notes.map(function (n) { return { m: n, note: true }; }));
    all.sort(function (a, b) { return a.m.ts - b.m.ts; });
    all.forEach(function (x) { var li = item(x.m, x.note); if (li) log.appendChild(li); });
    log.scrollTop = log.scrollHeight;
    log.setAttribute("aria-busy", "false");
    renderHeader();
  }

  // --- outcomes and errors ----------------------------------------------------------------
  function say(message, kind) {
    outcome.textContent = message;
    outcome.setAttribute("data-kind", kind);
  }

  // --- actions ----------------------------------------------------------------------------
  function act(action, withText) {
    if (!selected) return;
    var name = agentName();
    if (!name) {
      markName();
      say("Enter your name at the top first: customers see it.", "error");
      nameInput.focus();
      return;
    }
    var frame = { type: action, conversation: selected, agent: name };
    if (withText) {
      var value = text.value.trim();
      if (!value) { say("Write something first.", "error"); text.focus(); return; }
      var limit = action === "reply" ? replyLimit() : MAX_CHARS;
      if (value.length > limit) {
        say("Not sent: " + (limit < MAX_CHARS ? (CHANNELS[current.channel] || "their").toLowerCase() + " messages" : "messages") +
            " hold at most " + limit.toLocaleString("en") + " characters (yours has " +
            value.length.toLocaleString("en") + "). Please split it.", "error");
        return;
      }
      frame.text = value;
      pending = { action: action, conversation: selected };
    }
    if (!send(frame)) say("Not connected; try again in a moment.", "error");
  }
  function replyLimit() {
    // the customer's channel's own limit, sent by the server (one copy of it, in bot.models)
    return current && current.max_chars ? Math.min(current.max_chars, MAX_CHARS) : MAX_CHARS;
  }
  function updateCount() {
    var limit = replyLimit(), n = text.value.length;
    count.textContent = n ? n.toLocaleString("en") + " / " + limit.toLocaleString("en") + " characters" : "";
    if (n > limit) count.setAttribute("data-over", ""); else count.removeAttribute("data-over");
  }
  buttons.claim.addEventListener("click", function () { act("claim", false); });
  buttons.resolve.addEventListener("click", function () { act("resolve", false); });
  buttons.back_to_bot.addEventListener("click", function () { act("back_to_bot", false); });
  buttons.note.addEventListener("click", function () { act("note", true); });
  composer.addEventListener("submit", function (e) { e.preventDefault(); act("reply", true); });
  text.addEventListener("input", updateCount);
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); act("reply", true); }
  });

  // --- the socket -------------------------------------------------------------------------
  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }
  function setConnection(state, label) {
    connection.setAttribute("data-state", state);
    connection.textContent = label;
  }
  function onFrame(frame) {
    var mine = frame.conversation === selected;
    if (frame.type === "list") {
      offset = frame.now - Date.now() / 1000;
      announceNew(tickets, frame.conversations);
      tickets = frame.conversations;
      renderList();
    } else if (frame.type === "history" && mine) {
      showHistory(frame);
    } else if (frame.type === "message" && mine) {
      append(frame.message, false);
    } else if (frame.type === "note" && mine) {
      append(frame.note, true);
    } else if (frame.type === "state" && mine && current) {
      current.state = frame.state;
      current.agent = frame.agent;
      renderHeader();
    } else if (frame.type === "outcome") {
      if (mine || !selected) say(frame.message, WARN_OUTCOMES[frame.outcome] ? "warn" : "info");
      if (pending && pending.action === frame.action && pending.conversation === frame.conversation) {
        if (frame.outcome === "done") { text.value = ""; updateCount(); }
        pending = null;
      }
    } else if (frame.type === "error") {
      say(frame.message, "error");
      pending = null;
    }
  }
  function connect() {
    var url = new URL(ROOT + "/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(url.href);
    opened = false;
    ws.onopen = function () {
      opened = true;
      retry = 0;
      setConnection("online", "Online");
      if (selected) send({ type: "open", conversation: selected });
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    ws.onclose = function () {
      ws = null;
      setConnection("offline", "Offline, reconnecting…");
      if (!opened) {
        // Refused at the handshake: signed out or the token changed? The page will say.
        fetch(ROOT, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
          if (r.status === 401 || r.status === 403) location.reload();
        }).catch(function () { /* offline: keep retrying */ });
      }
      setTimeout(connect, Math.min(15000, 500 * Math.pow(2, retry++)));
    };
  }
  connect();

  // --- today's figures in the header (GET /agent/api/report/today, once a minute) ----------
  var TODAY_MS = 60000, today = $("today");
  function figure(id, value) { $(id).textContent = value; }
  function showToday(r) {
    figure("today-conversations", String(r.conversations));
    figure("today-contained", r.containment_rate === null ? "–" : Math.round(r.containment_rate * 100) + " %");
    figure("today-first-response", r.first_response_p50_s === null ? "–" : duration(r.first_response_p50_s));
    figure("today-csat", r.csat_average === null ? "–" : r.csat_average.toFixed(1) + " (" + r.csat_responses + ")");
    today.hidden = false;
  }
  function loadToday() {
    fetch(ROOT + "/api/report/today", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (r) { if (r) showToday(r); })
      .catch(function () { /* offline: the last figures stay */ });
  }
  loadToday();
  setInterval(loadToday, TODAY_MS);
})();
