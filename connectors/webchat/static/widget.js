/* omnibot web chat widget: one <script src=".../webchat/widget.js" defer> adds a launcher and a panel. */
(function () {
  "use strict";
  if (window.__omnibotWidget) return;
  window.__omnibotWidget = true;

  var script = document.currentScript;
  var base = new URL(script && script.src ? script.src : "/webchat/widget.js", location.href);
  var wsBase = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/webchat/ws";
  var TOKEN_KEY = "omnibot.token";
  var MAX_CHARS = 2000;
  var WELCOME = "Hi! Ask me about orders, delivery, returns or our stores. A person is one message away.";
  var BANNERS = {
    waiting: "An agent will join shortly. You can keep writing here.",
    agent: "You're chatting with our team."
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function storedToken() { try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function storeToken(t) { try { localStorage.setItem(TOKEN_KEY, t); } catch (e) { /* private mode */ } }

  var css = el("link", { rel: "stylesheet", href: new URL("/webchat/widget.css", base).href });
  document.head.appendChild(css);

  var root = el("div", { class: "omnibot", id: "omnibot" });
  var launcher = el("button", { class: "omnibot-launcher", type: "button", "aria-label": "Open chat",
                                "aria-expanded": "false", "aria-controls": "omnibot-panel" });
  launcher.innerHTML = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  var panel = el("section", { class: "omnibot-panel", id: "omnibot-panel", role: "dialog",
                              "aria-label": "Chat with Northwind support", hidden: "" });
  var header = el("header", { class: "omnibot-header" });
  var title = el("div", { class: "omnibot-title" });
  title.appendChild(el("strong", {}, "Support"));
  var status = el("span", { class: "omnibot-status", "aria-live": "polite" }, "We usually reply at once");
  title.appendChild(status);
  var close = el("button", { class: "omnibot-close", type: "button", "aria-label": "Close chat" }, "×");
  header.appendChild(title);
  header.appendChild(close);
  var banner = el("div", { class: "omnibot-banner", role: "status", hidden: "" });
  var reconnecting = el("div", { class: "omnibot-reconnecting", role: "status", hidden: "" },
                        "Connection lost. Reconnecting…");
  var log = el("ol", { class: "omnibot-messages", role: "log", "aria-live": "polite",
                       "aria-relevant": "additions", "aria-label": "Conversation" });
  var toSms = el("button", { class: "omnibot-action", type: "button", hidden: "" }, "Continue by SMS");
  // a link texted to someone else never replaces this visitor's conversation without asking
  var offer = el("div", { class: "omnibot-offer", role: "group", "aria-label": "Switch conversation", hidden: "" });
  var offerText = el("p", { class: "omnibot-offer-text", "aria-live": "assertive" });
  var switchButton = el("button", { class: "omnibot-option", type: "button" }, "Switch");
  var stayButton = el("button", { class: "omnibot-option", type: "button" }, "Stay here");
  [offerText, switchButton, stayButton].forEach(function (n) { offer.appendChild(n); });
  var form = el("form", { class: "omnibot-form" });
  var input = el("textarea", { class: "omnibot-input", rows: "1", maxlength: String(MAX_CHARS),
                               placeholder: "Write a message…", "aria-label": "Message" });
  var send = el("button", { class: "omnibot-send", type: "submit", "aria-label": "Send" }, "Send");
  form.appendChild(input);
  form.appendChild(send);
  [header, banner, reconnecting, offer, log, toSms, form].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(panel);
  root.appendChild(launcher);
  document.body.appendChild(root);

  var ws = null, token = storedToken(), retry = 0, opened = false, rendered = {}, pending = [];
  // a link texted to an SMS customer: ?continue=<token> opens this chat on their conversation
  var params = new URLSearchParams(location.search);
  var resume = params.get("continue");
  var confirmed = false;  // the visitor chose Switch: redeem the link (never from the page's URL)
  function dropResume() {
    resume = null;
    confirmed = false;
    offer.hidden = true;
    params.delete("continue");
    var query = params.toString();
    try { history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash); }
    catch (e) { /* a sandboxed page */ }
  }

  function timeOf(ts) {
    var d = new Date(ts * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function addBubble(m) {
    if (m.id && rendered[m.id]) return;
    if (m.id) rendered[m.id] = true;
    var item = el("li", { class: "omnibot-msg omnibot-" + m.role, "data-role": m.role });
    if (m.role === "agent" || m.role === "bot") {
      item.appendChild(el("span", { class: "omnibot-author" }, m.role === "agent" ? (m.author || "Agent") : "Assistant"));
    }
    if (m.text) item.appendChild(el("p", { class: "omnibot-text" }, m.text));
    if (m.role === "bot" && m.article) item.appendChild(articleLine(m.article));
    (m.media || []).forEach(function (file, i) {
      if (!/^https?:\/\//.test(file.url)) return;  // only web links become links
      var link = el("a", { class: "omnibot-media", href: file.url, target: "_blank",
                           rel: "noopener noreferrer" },
                    (file.content_type.indexOf("image/") === 0 ? "Picture " : "Attachment ") + (i + 1));
      item.appendChild(link);
    });
    if (m.ts && m.role !== "system") item.appendChild(el("time", { class: "omnibot-time" }, timeOf(m.ts)));
    // suggested replies belong to the newest message only
    Array.prototype.forEach.call(log.querySelectorAll(".omnibot-options"), function (n) { n.remove(); });
    if (m.role === "bot" && m.options && m.options.length) {
      var choices = el("div", { class: "omnibot-options", role: "group", "aria-label": "Suggested replies" });
      m.options.forEach(function (option) {
        var button = el("button", { type: "button", class: "omnibot-option" }, option);
        button.addEventListener("click", function () { say(option); input.focus(); });
        choices.appendChild(button);
      });
      item.appendChild(choices);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (m.role === "customer") pending = pending.filter(function (p) { return p.text !== m.text; });
  }
  // the help-centre article a bot answer came from; its title is data (textContent only),
  // and only a web address becomes a link (never javascript: or data:)
  function articleLine(article) {
    var line = el("p", { class: "omnibot-article" }, "From: ");
    var title = String(article.title || "the help centre");
    if (typeof article.url === "string" && /^https?:\/\//i.test(article.url)) {
      line.appendChild(el("a", { href: article.url, target: "_blank", rel: "noopener" }, title));
    } else {
      line.appendChild(document.createTextNode(title));
    }
    return line;
  }
  function showWelcome() {
    log.innerHTML = "";
    rendered = {};
    log.appendChild(el("li", { class: "omnibot-msg omnibot-bot omnibot-welcome" }, WELCOME));
  }
  function setState(state) {
    var text = BANNERS[state];
    banner.hidden = !text;
    banner.textContent = text || "";
    root.setAttribute("data-state", state);
    log.scrollTop = log.scrollHeight;  // the banner takes room from the list
  }
  function showError(message) {
    var note = el("li", { class: "omnibot-msg omnibot-error", role: "alert" }, message);
    log.appendChild(note);
    setTimeout(function () { note.remove(); }, 6000);
  }

  function whose(hint) {
    var digits = (hint || "").replace(/\D/g, "");
    return digits ? "your SMS conversation with …ending " + digits : "the SMS conversation this link was sent for";
  }
  function showNotice(text) {
    log.appendChild(el("li", { class: "omnibot-msg omnibot-system omnibot-link-note" }, text));
    log.scrollTop = log.scrollHeight;
  }
  function offerSwitch(hint) {
    offerText.textContent = "Continue " + whose(hint) + "? This chat stays as it is unless you switch.";
    offer.hidden = false;
    switchButton.focus();
  }
  function switchToLink() {
    confirmed = true;
    offer.hidden = true;
    if (ws) { var old = ws; ws = null; old.onclose = null; old.close(); }
    connect();
  }

  function connect() {
    var query = [];
    if (token) query.push("token=" + encodeURIComponent(token));
    if (resume) query.push("continue=" + encodeURIComponent(resume));
    if (resume && confirmed) query.push("confirm=1");
    var url = wsBase + (query.length ? "?" + query.join("&") : "");
    ws = new WebSocket(url);
    ws.onopen = function () {
      retry = 0;
      reconnecting.hidden = true;
      status.textContent = "Online";
      pending.forEach(function (p) { ws.send(JSON.stringify(p)); });
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "session") {
        token = frame.token; storeToken(token);
        toSms.hidden = !frame.sms;
      }
      else if (frame.type === "link_opened") {
        dropResume();  // used once; the session token carries on from here
        showNotice("Continuing " + whose(frame.phone_hint) + ".");
      }
      else if (frame.type === "link_offer") offerSwitch(frame.phone_hint);
      else if (frame.type === "history") { showWelcome(); frame.messages.forEach(addBubble); }
      else if (frame.type === "state") setState(frame.state);
      else if (frame.type === "message") addBubble(frame);
      else if (frame.type === "error") {
        if (frame.code === "link_invalid") dropResume();
        showError(frame.message);
      }
    };
    ws.onclose = function (event) {
      ws = null;
      status.textContent = "Offline";
      reconnecting.hidden = false;
      // 1012: the server is restarting and handed us back; any other process takes us now
      var delay = event.code === 1012 ? 0 : Math.min(15000, 500 * Math.pow(2, retry++));
      setTimeout(connect, delay);
    };
  }

  function open() {
    panel.hidden = false;
    root.classList.add("omnibot-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    if (!opened) { opened = true; if (!ws) { showWelcome(); connect(); } }
    input.focus();
  }
  function hide() {
    panel.hidden = true;
    root.classList.remove("omnibot-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    launcher.focus();
  }
  function say(text) {
    var frame = { type: "message", id: newId(), text: text };
    pending.push(frame);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }
  function submit() {
    var text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) { showError("Messages can be at most " + MAX_CHARS + " characters."); return; }
    say(text);
    input.value = "";
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else hide(); });
  close.addEventListener("click", hide);
  toSms.addEventListener("click", function () { say("Continue by SMS"); input.focus(); });
  switchButton.addEventListener("click", switchToLink);
  stayButton.addEventListener("click", function () { dropResume(); input.focus(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
    if (e.key === "Escape") hide();
  });
  if (resume) open();
  else if (token) { opened = true; showWelcome(); connect(); }
})();
