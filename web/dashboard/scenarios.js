// A trainer's own role-play scenarios (served by connectors/dashboard.py).
//
// The page lives at /webhooks/dashboard/scenarios/<token>; it talks to ../api/scenarios… and
// sends the signed token in the X-Klartext-Token header (never a cookie). The form is built
// from the server's layout (phases and reactions of bot/roleplay/scenarios.py); every text
// comes from the server (bot/texts/scenarios.yml) and is inserted as text, never as HTML.
// The checker's messages are shown as they are: in a list above the form and next to the
// field they name. No external resources.
(function () {
  "use strict";

  const token = decodeURIComponent(location.pathname.split("/").pop() || "");
  const api = "../api/scenarios";
  const state = {
    texts: {}, layout: null, extra: {}, current: null, own: true, maxBytes: 65536, busy: false,
  };
  const $ = (id) => document.getElementById(id);

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (all, key) =>
      Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all);
  }

  function t(key, values) {
    const value = key.split(".").reduce((node, part) => (node ? node[part] : undefined), state.texts);
    return fill(value === undefined ? key : value, values || {});
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (name === "text") node.textContent = value;
      else if (value !== undefined && value !== null) node.setAttribute(name, value);
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function setState(name) {
    $("scenarios").setAttribute("data-state", name);
  }

  async function call(method, path, body) {
    const headers = { "X-Klartext-Token": token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let answer;
    try {
      answer = await fetch(path, {
        method, headers, cache: "no-store", credentials: "omit",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      return { status: 0, data: { error: t("offline") } };
    }
    const data = await answer.json().catch(() => ({}));
    if (data.gone) setState("gone");
    return { status: answer.status, data };
  }

  // ------------------------------------------------------------------ the form
  const fieldId = (path) => "f-" + path.replace(/[^a-z0-9]+/gi, "-");

  function field(path, label, control, hint) {
    const id = fieldId(path);
    control.id = id;
    control.setAttribute("name", path);
    const parts = [el("label", { for: id, text: label })];
    if (hint) {
      const hintId = id + "-hint";
      parts.push(el("p", { id: hintId, class: "hint", text: hint }));
      control.setAttribute("aria-describedby", hintId);
    }
    parts.push(control);
    return el("div", { class: "field", "data-field": path }, parts);
  }

  function input(path, label, required) {
    return field(path, `${label} ${required ? t("required") : t("optional")}`, el("input", { type: "text" }));
  }

  function area(path, label, required, rows, hint) {
    return field(path, `${label} ${required ? t("required") : t("optional")}`,
      el("textarea", { rows: String(rows || 3) }), hint);
  }

  function buildForm() {
    const form = clear($("form"));
    form.appendChild(input("id", t("fields.id"), true));
    form.appendChild(input("title", t("fields.title"), true));
    const cases = el("select", {}, [el("option", { value: "", text: t("fields.case_none") })]);
    state.layout.cases.forEach((key) => cases.appendChild(el("option", { value: key, text: t(`cases.${key}`) })));
    form.appendChild(field("case", `${t("fields.case")} ${t("optional")}`, cases));
    form.appendChild(area("user_goal", t("fields.user_goal"), true, 3));

    const persona = el("fieldset", { "data-field": "persona" }, [el("legend", { text: t("fields.persona") })]);
    persona.appendChild(input("persona.name", t("fields.name"), true));
    persona.appendChild(input("persona.company", t("fields.company"), true));
    persona.appendChild(input("persona.role", t("fields.role"), false));
    persona.appendChild(area("persona.history", t("fields.history"), true, 4));
    form.appendChild(persona);

    const phases = el("fieldset", { "data-field": "phases" }, [
      el("legend", { text: t("fields.lines") }),
      el("p", { class: "hint", text: `${t("client_sie")} (${t("one_per_row")})` }),
    ]);
    state.layout.phases.forEach((entry) => {
      const box = el("fieldset", { "data-field": `phases.${entry.phase}`, class: "phase" }, [
        el("legend", { text: `${t(`phases.${entry.phase}`)} (${entry.phase})` }),
      ]);
      entry.reactions.forEach((reaction) => {
        const path = `phases.${entry.phase}.${reaction}`;
        box.appendChild(area(path, `${t(`reactions.${reaction}`)} (${reaction})`, true, 3, t("one_per_row")));
      });
      phases.appendChild(box);
    });
    form.appendChild(phases);

    const publish = el("input", { type: "checkbox" });
    const publishId = fieldId("publish");
    publish.id = publishId;
    form.appendChild(el("div", { class: "field checkbox", "data-field": "publish" }, [
      publish, el("label", { for: publishId, text: t("fields.publish") }),
    ]));
    form.addEventListener("submit", (event) => event.preventDefault());
  }

  const control = (path) => $(fieldId(path));

  function collectForm() {
    const value = (path) => control(path).value;
    const lines = {};
    state.layout.phases.forEach((entry) => entry.reactions.forEach((reaction) => {
      lines[`${entry.phase}.${reaction}`] = value(`phases.${entry.phase}.${reaction}`);
    }));
    return {
      id: value("id"), title: value("title"), case: value("case"), user_goal: value("user_goal"),
      persona: {
        name: value("persona.name"), company: value("persona.company"),
        role: value("persona.role"), history: value("persona.history"),
      },
      lines,
      extra: state.extra,
    };
  }

  function fillForm(form, published) {
    ["id", "title", "case", "user_goal"].forEach((key) => { control(key).value = form[key] || ""; });
    ["name", "company", "role", "history"].forEach((key) => {
      control(`persona.${key}`).value = (form.persona || {})[key] || "";
    });
    state.layout.phases.forEach((entry) => entry.reactions.forEach((reaction) => {
      control(`phases.${entry.phase}.${reaction}`).value = (form.lines || {})[`${entry.phase}.${reaction}`] || "";
    }));
    control("publish").checked = Boolean(published);
    state.extra = form.extra || {};
    $("kept").hidden = Object.keys(state.extra).length === 0;
  }

  // ------------------------------------------------------------------ errors, preview, result
  function clearErrors() {
    document.querySelectorAll(".field-error").forEach((node) => node.remove());
    document.querySelectorAll("[aria-invalid]").forEach((node) => {
      node.removeAttribute("aria-invalid");
      const hint = node.id + "-hint";
      if ($(hint)) node.setAttribute("aria-describedby", hint);
      else node.removeAttribute("aria-describedby");
    });
    clear($("errors")).hidden = true;
  }

  function holderOf(path) {
    let probe = String(path || "").replace(/\[\d+\]/g, "");
    while (probe) {
      const holder = document.querySelector(`#form [data-field="${CSS.escape(probe)}"]`);
      if (holder) return holder;
      probe = probe.includes(".") ? probe.slice(0, probe.lastIndexOf(".")) : "";
    }
    return null;
  }

  function showErrors(errors, fromForm, message) {
    clearErrors();
    const box = $("errors");
    box.appendChild(el("p", { class: "errors-title", text: message || t("errors_title") }));
    const list = el("ul", {});
    errors.forEach((error, i) => {
      const line = fromForm && error.field ? t("error_field", { field: error.field, problem: error.problem }) : error.message;
      list.appendChild(el("li", { text: line }));
      if (!fromForm) return;
      const holder = holderOf(error.field);
      if (!holder) return;
      const id = `err-${i}`;
      const note = el("p", { id, class: "field-error", "data-error-field": error.field, text: line });
      const target = holder.tagName === "FIELDSET" ? holder.querySelector("legend") : holder.querySelector("label");
      target.insertAdjacentElement("afterend", note);
      const input = holder.tagName === "FIELDSET" ? null : holder.querySelector("input, textarea, select");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const described = [id, input.getAttribute("aria-describedby")].filter(Boolean).join(" ");
        input.setAttribute("aria-describedby", described);
      }
    });
    box.appendChild(list);
    box.hidden = false;
    box.focus();
  }

  function renderPreview(preview) {
    const body = clear($("preview-body"));
    preview.briefing.forEach((line) => body.appendChild(el("p", { class: "note", text: line })));
    body.appendChild(el("p", { class: "client-line", text: preview.opening }));
    preview.turns.forEach((turn) => {
      body.appendChild(el("p", { class: "user-line", text: `${t("preview_you")}: ${turn.user}` }));
      turn.replies.forEach((reply) => body.appendChild(el("p", { class: "client-line", text: reply })));
    });
    $("preview").hidden = false;
  }

  function renderVersions(versions) {
    const list = clear($("versions-list"));
    (versions || []).forEach((v) => list.appendChild(el("li", { text: t("version_line", v) })));
    $("versions").hidden = !(versions && versions.length);
  }

  function result(message, kind) {
    const node = $("result");
    node.textContent = message || "";
    node.setAttribute("data-kind", kind || "");
  }

  // ------------------------------------------------------------------ list
  function item(entry, actionLabel) {
    const parts = [el("span", { class: "name", text: entry.title })];
    const details = [entry.id];
    if (entry.version) details.push(t("version", { version: entry.version }));
    if (entry.published) details.push(t("is_published"));
    parts.push(el("span", { class: "note", text: ` (${details.join(" · ")})` }));
    if (actionLabel) {
      const button = el("button", { type: "button", class: "link", "data-edit": entry.id, text: actionLabel });
      button.setAttribute("aria-label", `${actionLabel}: ${entry.title}`);
      button.addEventListener("click", () => edit(entry.id));
      parts.push(document.createTextNode(" "), button);
    }
    return el("li", { "data-scenario": entry.id }, parts);
  }

  function renderList(data) {
    const box = clear($("list"));
    const group = (title, entries, none, actionLabel) => {
      box.appendChild(el("h3", { text: title }));
      if (!entries.length) box.appendChild(el("p", { class: "note", text: none }));
      else box.appendChild(el("ul", { class: "scenario-list" }, entries.map((e) => item(e, actionLabel))));
    };
    group(t("own"), data.own, t("own_none"), t("edit"));
    group(t("published"), data.published, t("published_none"), t("view"));
    group(t("shipped"), data.shipped, "", t("template"));
  }

  async function reload() {
    const { status, data } = await call("GET", api);
    if (status !== 200) {
      setState(data.gone ? "gone" : "offline");
      $("status").textContent = data.error || t("offline");
      return false;
    }
    renderList(data);
    return true;
  }

  // ------------------------------------------------------------------ actions
  async function busy(work) {
    if (state.busy) return;
    state.busy = true;
    $("scenarios").setAttribute("aria-busy", "true");
    $("status").textContent = t("working");
    try {
      await work();
    } finally {
      state.busy = false;
      $("scenarios").removeAttribute("aria-busy");
      if ($("status").textContent === t("working")) $("status").textContent = "";
    }
  }

  function level() {
    return Number($("level").value || 2);
  }

  async function check(body, fromForm) {
    const { status, data } = await call("POST", `${api}/check`, { ...body, difficulty: level() });
    $("preview").hidden = true;
    if (status === 200) {
      clearErrors();
      result(data.message, "ok");
      renderPreview(data.preview);
      $("preview").scrollIntoView({ block: "nearest" });
    } else if (data.errors) {
      result(data.error, "error");
      showErrors(data.errors, fromForm, data.error);
    } else {
      result(data.error || t("offline"), "error");
    }
  }

  async function save(body, fromForm) {
    const { status, data } = await call("POST", `${api}/save`, body);
    if (status === 200) {
      clearErrors();
      state.current = data.id;
      state.own = true;
      $("form-title").textContent = `${t("form_title")}: ${data.id}`;
      result(data.message, "ok");
      renderVersions(data.versions);
      $("readonly").hidden = true;
      $("start-session").disabled = false;
      await reload();
    } else if (data.errors) {
      result(data.error, "error");
      showErrors(data.errors, fromForm, data.error);
    } else {
      result(data.error || t("offline"), "error");
    }
  }

  async function startSession() {
    if (!state.current) {
      result(t("saved_first"), "error");
      return;
    }
    const path = `${api}/item/${encodeURIComponent(state.current)}/session`;
    const { status, data } = await call("POST", path, { difficulty: level() });
    if (status === 200) {
      result(data.message, "ok");
      $("result").setAttribute("data-code", data.code);
    } else {
      result(data.error || t("offline"), "error");
    }
  }

  async function edit(id) {
    const { status, data } = await call("GET", `${api}/item/${encodeURIComponent(id)}`);
    if (status !== 200) {
      result(data.error || t("offline"), "error");
      return;
    }
    clearErrors();
    result("");
    $("preview").hidden = true;
    if (data.form) fillForm(data.form, data.published);
    $("yaml-text").value = data.yaml || "";
    state.current = data.id;
    state.own = data.own;
    $("readonly").hidden = data.own;
    $("form-title").textContent = `${t("form_title")}: ${data.id}`;
    $("start-session").disabled = false;
    renderVersions(data.versions);
    $("form-title").focus();
  }

  function startNew(focus) {
    fillForm({}, false);
    clearErrors();
    result("");
    state.current = null;
    state.own = true;
    $("readonly").hidden = true;
    $("preview").hidden = true;
    $("form-title").textContent = t("form_new");
    $("start-session").disabled = true;
    renderVersions([]);
    if (focus === true) control("id").focus();
  }

  function yamlBody() {
    const file = $("yaml-file").files[0];
    return { yaml: $("yaml-text").value, filename: file ? file.name : undefined };
  }

  function readFile() {
    const file = $("yaml-file").files[0];
    if (!file) return;
    if (file.size > state.maxBytes) {
      result(t("yaml_too_big", { limit: Math.round(state.maxBytes / 1024) }), "error");
      return;
    }
    const reader = new FileReader();
    reader.onload = () => { $("yaml-text").value = String(reader.result || ""); };
    reader.onerror = () => result(t("yaml_not_text"), "error");
    reader.readAsText(file, "utf-8");
  }

  // ------------------------------------------------------------------ start
  function label(id, key) {
    $(id).textContent = t(key);
  }

  async function start() {
    const { status, data } = await call("GET", api);
    if (status !== 200) {
      setState(data.gone ? "gone" : "offline");
      $("status").textContent = data.error || t("offline");
      return;
    }
    state.texts = data.texts;
    state.layout = data.layout;
    state.maxBytes = data.maxBytes || state.maxBytes;
    document.title = t("document_title");
    label("heading", "heading");
    label("intro", "intro");
    const back = $("back");
    back.href = `../view/${encodeURIComponent(token)}`;
    back.textContent = t("back");
    back.hidden = false;
    label("list-title", "list_title");
    label("new", "new");
    label("readonly", "form_readonly");
    label("kept", "kept");
    label("check", "check");
    label("save", "save");
    label("level-label", "fields.level");
    label("start-session", "start_session");
    label("preview-title", "preview_title");
    label("versions-title", "versions_title");
    label("yaml-title", "yaml_title");
    label("yaml-intro", "yaml_intro");
    label("yaml-file-label", "yaml_file");
    label("yaml-text-label", "yaml_text");
    label("yaml-check", "yaml_check");
    label("yaml-save", "yaml_save");
    const levels = clear($("level"));
    data.layout.levels.forEach((n) => levels.appendChild(el("option", { value: String(n), text: t(`levels.${n}`) })));
    levels.value = "2";
    buildForm();
    renderList(data);
    startNew(false);
    setState("ready");
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("new").addEventListener("click", () => startNew(true));
    $("check").addEventListener("click", () => busy(() => check({ form: collectForm() }, true)));
    $("save").addEventListener("click", () => busy(() => save({ form: collectForm(), publish: control("publish").checked }, true)));
    $("start-session").addEventListener("click", () => busy(startSession));
    $("yaml-file").addEventListener("change", readFile);
    $("yaml-check").addEventListener("click", () => busy(() => check(yamlBody(), false)));
    $("yaml-save").addEventListener("click", () => busy(() => save(yamlBody(), false)));
    start();
  });
})();
