/*
 * Klartext web chat widget – a small, self-made client on socket.io-client (v4).
 *
 * Protocol: Rasa's socket.io channel (session_request → session_confirm,
 * user_uttered → bot_uttered {text, quick_replies}) plus `bot_turn_done` from
 * connectors/socketio_channel.py. All interface texts come from window.KLARTEXT_CONFIG
 * (config.js, generated from connectors/channels.yml).
 *
 * Safety: every text – the user's and the coach's – is put into the page as text nodes
 * (textContent / createTextNode), never as HTML, so markup in a message is shown and never
 * executed; the coach's "*bold*" becomes a <strong> element built the same way.
 *
 * Persistence: the session id, the rendered conversation and the sign-in token live in
 * sessionStorage, so a reload of the tab continues the same conversation.
 *
 * Usage:  <div data-klartext-chat></div>  (mounted automatically)  or
 *         KlartextChat.mount(element, {server: "https://coach.example.org", token: "<JWT>"})
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var STORE = "klartext.";
  var AUTH_ERRORS = ["token_missing", "token_invalid", "token_expired"];
  var TYPING_TIMEOUT_MS = 60000;

  function storeKey(scope, key) { return STORE + scope + "." + key; }

  function save(scope, key, value) {
    try {
      if (value === undefined || value === null) sessionStorage.removeItem(storeKey(scope, key));
      else sessionStorage.setItem(storeKey(scope, key), JSON.stringify(value));
    } catch (e) { /* storage full or disabled: the chat still works, just not across reloads */ }
  }

  function restore(scope, key) {
    try {
      var raw = sessionStorage.getItem(storeKey(scope, key));
      return raw ? JSON.parse(raw) : null;
    } catch (e) { return null; }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // "*bold*" in the coach's texts → <strong>, built from text nodes (never parsed as HTML)
  function formatted(text) {
    var fragment = document.createDocumentFragment();
    var pattern = /\*([^*\n]+)\*/g;
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      fragment.appendChild(el("strong", null, match[1]));
      last = pattern.lastIndex;
    }
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function tokenFromHash() {
    var match = /(?:^|[#&])token=([^&]+)/.exec(location.hash || "");
    if (!match) return null;
    var token = decodeURIComponent(match[1]);
    // do not leave the token in the address bar or the history
    try { history.replaceState(null, "", location.pathname + location.search); } catch (e) {}
    return token;
  }

  function mount(target, options) {
    options = options || {};
    var root = typeof target === "string" ? document.querySelector(target) : target;
    if (!root || root.getAttribute("data-klartext-mounted")) return null;
    root.setAttribute("data-klartext-mounted", "1");

    var base = window.KLARTEXT_CONFIG || {};
    var texts = Object.assign({}, base.texts || {}, options.texts || {});
    var server = options.server || root.getAttribute("data-server") || base.server || scriptOrigin;
    var socketPath = options.socketPath || base.socketPath || "/socket.io";
    var signIn = options.signIn !== undefined ? options.signIn : !!base.signIn;
    var scope = options.storageScope || new URL(server, location.href).host;

    var token = options.token || root.getAttribute("data-token") || tokenFromHash() || restore(scope, "token");
    if (token) save(scope, "token", token);
    var sessionId = restore(scope, "session_id");
    var history = restore(scope, "history") || [];
    var socket = null;
    var ready = false;
    var typingTimer = null;

    if (root.hasAttribute("data-page-title") && texts.page_title) document.title = texts.page_title;

    // ---------------------------------------------------------------- layout
    root.classList.add("klartext-chat");
    var header = el("header", "kc-header");
    header.appendChild(el("h1", "kc-title", texts.title));
    header.appendChild(el("p", "kc-subtitle", texts.subtitle));
    var status = el("div", "kc-status");
    status.setAttribute("role", "status");
    header.appendChild(status);

    var log = el("div", "kc-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", texts.log_label || "");
    var intro = el("p", "kc-intro", texts.intro);
    log.appendChild(intro);

    var typing = el("div", "kc-typing", texts.typing);
    typing.hidden = true;

    var form = el("form", "kc-form");
    form.setAttribute("autocomplete", "off");
    var input = el("input", "kc-input");
    input.type = "text";
    input.name = "message";
    input.maxLength = 2000;
    input.placeholder = texts.placeholder || "";
    input.setAttribute("aria-label", texts.input_label || "");
    var sendButton = el("button", "kc-send", texts.send);
    sendButton.type = "submit";
    form.appendChild(input);
    form.appendChild(sendButton);

    root.appendChild(header);
    root.appendChild(log);
    root.appendChild(typing);
    root.appendChild(form);

    // ---------------------------------------------------------------- state
    function setState(state, message) {
      root.setAttribute("data-state", state);
      status.textContent = message || "";
      var usable = state === "connected" && ready;
      input.disabled = !usable;
      sendButton.disabled = !usable;
      renderButtonsState();
    }

    function persist() { save(scope, "history", history); }

    function showTyping(on) {
      typing.hidden = !on;
      if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
      if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
    }

    function scrollDown() { log.scrollTop = log.scrollHeight; }

    // ---------------------------------------------------------------- rendering
    var buttonGroups = [];  // {message, buttons: [HTMLButtonElement]}

    function renderButtonsState() {
      var usable = root.getAttribute("data-state") === "connected" && ready;
      buttonGroups.forEach(function (group) {
        group.buttons.forEach(function (button, index) {
          button.disabled = !usable || !!group.message.closed;
          if (group.message.chosen === index) button.classList.add("kc-chosen");
        });
      });
    }

    function renderMessage(message) {
      intro.hidden = true;
      var item = el("div", "kc-msg kc-msg-" + (message.from === "user" ? "user" : "bot"));
      item.appendChild(el("span", "kc-author", message.from === "user" ? texts.user_label : texts.bot_label));
      var bubble = el("div", "kc-bubble");
      // the user's own words exactly as typed; the coach's with *bold* emphasis
      bubble.appendChild(message.from === "user" ? document.createTextNode(message.text || "")
                                                 : formatted(message.text || ""));
      item.appendChild(bubble);
      if (message.buttons && message.buttons.length) {
        var group = el("div", "kc-buttons");
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", texts.buttons_label || "");
        var entry = { message: message, buttons: [] };
        message.buttons.forEach(function (choice, index) {
          var button = el("button", "kc-button", choice.title);
          button.type = "button";
          button.addEventListener("click", function () {
            if (button.disabled || message.closed) return;
            message.chosen = index;
            send(choice.payload, choice.title);
          });
          entry.buttons.push(button);
          group.appendChild(button);
        });
        buttonGroups.push(entry);
        item.appendChild(group);
      }
      log.appendChild(item);
      renderButtonsState();
      scrollDown();
    }

    function addMessage(message) {
      history.push(message);
      persist();
      renderMessage(message);
    }

    function closeOpenButtons() {
      history.forEach(function (message) { if (message.buttons && message.buttons.length) message.closed = true; });
    }

    function resetConversation() {
      history = [];
      buttonGroups = [];
      persist();
      Array.prototype.slice.call(log.querySelectorAll(".kc-msg")).forEach(function (node) { node.remove(); });
      intro.hidden = false;
    }

    function send(payload, shown) {
      if (!socket || !ready) return;
      closeOpenButtons();
      addMessage({ from: "user", text: shown });
      renderButtonsState();
      showTyping(true);
      socket.emit("user_uttered", { message: payload, session_id: sessionId });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value;
      if (!value.trim() || !ready) return;
      input.value = "";
      send(value, value);
      input.focus();
    });

    history.forEach(renderMessage);

    // ---------------------------------------------------------------- socket
    if (typeof window.io !== "function") {
      setState("error", texts.assets_missing);
      return null;
    }
    if (signIn && !token) {
      setState("signin-required", texts.sign_in_required);
      return null;
    }

    setState("connecting", texts.connecting);
    socket = window.io(server, { path: socketPath, auth: token ? { token: token } : {} });

    socket.on("connect", function () {
      socket.emit("session_request", { session_id: sessionId });
    });

    socket.on("session_confirm", function (confirmed) {
      var id = confirmed && typeof confirmed === "object" ? confirmed.session_id : confirmed;
      if (sessionId && id !== sessionId) resetConversation();  // another person / new session
      sessionId = id;
      save(scope, "session_id", id);
      ready = true;
      setState("connected", texts.connected);
    });

    socket.on("connect_error", function (err) {
      ready = false;
      var reason = err && err.message;
      if (AUTH_ERRORS.indexOf(reason) >= 0) {
        save(scope, "token", null);
        setState("signin-failed", reason === "token_missing" ? texts.sign_in_required : texts.sign_in_failed);
      } else {
        setState("reconnecting", texts.server_unreachable);
      }
    });

    socket.on("disconnect", function () {
      ready = false;
      showTyping(false);
      setState("reconnecting", texts.reconnecting);
    });

    socket.on("bot_uttered", function (message) {
      if (!message || typeof message !== "object") return;
      var choices = (message.quick_replies || message.buttons || []).map(function (button) {
        return { title: String(button.title || button.payload || ""), payload: String(button.payload || button.title || "") };
      });
      if (message.text === undefined && !choices.length) return;  // attachments are not shown
      addMessage({ from: "bot", text: message.text || "", buttons: choices });
    });

    socket.on("bot_turn_done", function () { showTyping(false); });

    return {
      socket: socket,
      send: function (text) { send(text, text); },
      get sessionId() { return sessionId; }
    };
  }

  window.KlartextChat = { mount: mount };

  function autoMount() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-klartext-chat]"), function (node) {
      mount(node, {});
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoMount);
  else autoMount();
})();
