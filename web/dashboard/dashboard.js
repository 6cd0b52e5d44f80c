// Trainer dashboard of a group session (served by connectors/dashboard.py).
//
// The page lives at /webhooks/dashboard/view/<token>; it polls ../data/<token> every few
// seconds and draws everything from that JSON: participants, a chart per criterion (plain
// SVG), each participant's scores with the quoted sentences, the weakest criterion, the
// trend and the CSV link. Every text comes from the server (bot/texts/groups.yml) and is
// inserted as text, never as HTML. No external resources.
(function () {
  "use strict";

  const POLL_MS = 3000;
  const SVG = "http://www.w3.org/2000/svg";
  const token = decodeURIComponent(location.pathname.split("/").pop() || "");
  const dataUrl = "../data/" + encodeURIComponent(token);
  const csvUrl = "../csv/" + encodeURIComponent(token);

  const state = { data: null, raw: "", selected: null, texts: {}, timer: null };
  const $ = (id) => document.getElementById(id);

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (all, key) =>
      Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all);
  }

  function t(key, values) {
    return fill(state.texts[key], values || {});
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([name, value]) => node.setAttribute(name, String(value)));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function setState(name) {
    $("dashboard").setAttribute("data-state", name);
  }

  // ------------------------------------------------------------------ charts
  function distributionChart(criterion) {
    const width = 300, height = 170, left = 28, right = 8, top = 22, bottom = 30;
    const plotW = width - left - right, plotH = height - top - bottom;
    const bands = criterion.bands;
    const step = 100 / bands.length;
    const max = Math.max(1, ...bands);
    const barW = plotW / bands.length;
    const described = bands.map((count, i) => t("chart_band", {
      low: Math.round(i * step), high: i === bands.length - 1 ? 100 : Math.round((i + 1) * step) - 1,
      count,
    })).join(", ");
    const label = t("chart_label", {
      label: criterion.label, mean: criterion.mean === null ? "–" : criterion.mean, bands: described,
    });
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
    root.appendChild(svg("line", { class: "axis", x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH }));
    root.appendChild(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: top + plotH }));
    root.appendChild(svg("text", { x: left - 4, y: top + 4, "text-anchor": "end" }, String(max)));
    root.appendChild(svg("text", { x: left - 4, y: top + plotH, "text-anchor": "end" }, "0"));
    bands.forEach((count, i) => {
      const h = (count / max) * plotH;
      const x = left + i * barW + 4;
      root.appendChild(svg("rect", { class: "bar", x, y: top + plotH - h, width: barW - 8, height: h }));
      if (count) {
        root.appendChild(svg("text", { x: x + (barW - 8) / 2, y: top + plotH - h - 3, "text-anchor": "middle" }, String(count)));
      }
      const high = i === bands.length - 1 ? 100 : Math.round((i + 1) * step) - 1;
      root.appendChild(svg("text", { x: x + (barW - 8) / 2, y: height - 12, "text-anchor": "middle" },
        `${Math.round(i * step)}–${high}`));
    });
    if (criterion.mean !== null) {
      const x = left + (criterion.mean / 100) * plotW;
      root.appendChild(svg("line", { class: "mean", x1: x, y1: top - 4, x2: x, y2: top + plotH, "stroke-dasharray": "4 3" }));
      root.appendChild(svg("text", { class: "mean-label", x: Math.min(Math.max(x, left + 24), width - 30), y: top - 8, "text-anchor": "middle" },
        t("mean", { mean: criterion.mean })));
    }
    return root;
  }

  function trendChart(points) {
    const width = 320, height = 170, left = 40, right = 34, top = 14, bottom = 30;
    const plotW = width - left - right, plotH = height - top - bottom;
    const x = (i) => left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
    const y = (value) => top + plotH - (value / 100) * plotH;
    const label = t("trend_label", {
      points: points.map((p) => t("trend_point", { code: p.code, date: p.date, overall: p.overall })).join(", "),
    });
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
    [0, 50, 100].forEach((v) => {
      root.appendChild(svg("line", { class: "axis", x1: left, y1: y(v), x2: left + plotW, y2: y(v), "stroke-dasharray": v ? "2 4" : "" }));
      root.appendChild(svg("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end" }, String(v)));
    });
    root.appendChild(svg("polyline", { class: "trend-line", points: points.map((p, i) => `${x(i)},${y(p.overall)}`).join(" ") }));
    points.forEach((p, i) => {
      root.appendChild(svg("circle", { class: "trend-point" + (p.current ? " current" : ""), cx: x(i), cy: y(p.overall), r: 4 }));
      root.appendChild(svg("text", { x: x(i), y: height - 12, "text-anchor": "middle" }, p.code));
    });
    return root;
  }

  // ------------------------------------------------------------------ sections
  function renderHeader(data) {
    document.title = `${data.heading} – ${t("document_title")}`;
    $("heading").textContent = data.heading;
    $("intro").textContent = data.intro;
    $("status").textContent = t("status", { joined: data.joined, count: data.count });
    const csv = $("csv");
    csv.href = csvUrl;
    csv.setAttribute("download", `klartext-${data.code}.csv`);
    csv.textContent = t("csv");
    csv.hidden = false;
    const scenarios = $("scenarios-link");
    scenarios.href = "../scenarios/" + encodeURIComponent(token);
    scenarios.textContent = data.scenariosLink || "";
    scenarios.hidden = !data.scenariosLink;
    $("participants-title").textContent = t("participants");
    $("weakest-title").textContent = t("weakest");
    $("criteria-title").textContent = t("criteria");
    $("chart-note").textContent = t("chart_note");
    $("trend-title").textContent = t("trend");
    $("trend-note").textContent = t("trend_note");
    $("back").textContent = t("back");
  }

  function latest(person) {
    return person.roleplays[person.roleplays.length - 1];
  }

  function renderParticipants(data) {
    const list = clear($("participants"));
    $("no-results").textContent = t("no_results");
    $("no-results").hidden = data.participants.length > 0;
    data.participants.forEach((person) => {
      const button = el("button", { type: "button", class: "participant", "data-participant": person.name }, [
        el("span", { class: "name", text: person.name }),
        el("span", { text: t("points", { value: latest(person).overall }) }),
        el("span", { class: "sr-only", text: ` – ${t("show")}` }),
      ]);
      button.addEventListener("click", () => showDetail(person.name));
      list.appendChild(el("li", {}, [button]));
    });
  }

  function quoteBlock(text, caption) {
    return el("blockquote", {}, [el("p", { text: `„${text}“` }), el("footer", { text: caption })]);
  }

  function renderWeakest(data) {
    const box = clear($("weakest"));
    if (!data.weakest) {
      box.appendChild(el("p", { text: t("weakest_none") }));
      return;
    }
    box.appendChild(el("p", { class: "weakest-sentence", text: data.weakest.sentence }));
    if (data.weakest.examples.length) {
      box.appendChild(el("p", { text: t("examples") }));
      data.weakest.examples.forEach((e) =>
        box.appendChild(quoteBlock(e.text, `${e.participant} · ${e.percent} %`)));
    }
  }

  function renderCharts(data) {
    const box = clear($("charts"));
    data.criteria.forEach((criterion) => {
      const caption = el("figcaption", {}, [
        el("span", { text: criterion.label }),
        el("span", { class: "note", text: ` – ${criterion.mean === null ? t("not_rated") : t("mean", { mean: criterion.mean })}` }),
      ]);
      box.appendChild(el("figure", { "data-criterion": criterion.key }, [caption, distributionChart(criterion)]));
    });
  }

  function renderTrend(data) {
    const box = clear($("trend"));
    if (!data.trend.length) {
      box.appendChild(el("p", { text: t("trend_empty") }));
      return;
    }
    box.appendChild(trendChart(data.trend));
    const head = el("tr", {}, data.trendColumns.map((name) => el("th", { scope: "col", text: name })));
    const rows = data.trend.map((p) => el("tr", { class: p.current ? "current" : "" }, [
      el("td", { text: p.current ? `${p.code} ${t("this_session")}` : p.code }),
      el("td", { text: p.date }),
      el("td", { text: String(p.count) }),
      el("td", { text: String(p.overall) }),
    ]));
    const table = el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]);
    box.appendChild(el("div", { class: "table-wrap" }, [table]));
  }

  function scoreItem(score) {
    const head = el("div", { class: "score-head" }, [
      el("span", { text: score.label }),
      el("span", { text: score.percent === null ? t("not_rated") : `${score.percent} %` }),
    ]);
    const item = el("li", { "data-criterion": score.key }, [head]);
    if (score.percent !== null) {
      item.appendChild(el("meter", {
        min: "0", max: "100", low: "50", high: "75", optimum: "100",
        value: String(score.percent), "aria-label": score.label,
      }));
    }
    score.quotes.forEach((quote, i) => {
      const kind = i === 0 && score.quotes.length > 1 ? t("lowest") : (i === 0 ? "" : t("highest"));
      item.appendChild(quoteBlock(quote.text, kind ? `${kind} · ${quote.percent} %` : `${quote.percent} %`));
    });
    return item;
  }

  function renderDetail() {
    const person = state.data && state.data.participants.find((p) => p.name === state.selected);
    if (!person) return;
    $("detail-title").textContent = person.name;
    const body = clear($("detail-body"));
    person.roleplays.forEach((play) => {
      body.appendChild(el("h3", { text: t("roleplay", { date: play.date, time: play.time, overall: play.overall }) }));
      body.appendChild(el("ul", { class: "scores" }, play.scores.map(scoreItem)));
    });
  }

  function showDetail(name) {
    state.selected = name;
    renderDetail();
    $("overview").hidden = true;
    $("detail").hidden = false;
    $("detail-title").focus();
  }

  function showOverview() {
    const name = state.selected;
    state.selected = null;
    $("detail").hidden = true;
    $("overview").hidden = false;
    const button = Array.from(document.querySelectorAll(".participant"))
      .find((b) => b.getAttribute("data-participant") === name);
    if (button) button.focus();
  }

  function announceNew(before, data) {
    if (!before) return;
    const known = new Set(before.participants.map((p) => `${p.name}#${p.roleplays.length}`));
    const fresh = data.participants.filter((p) => !known.has(`${p.name}#${p.roleplays.length}`));
    if (fresh.length) $("announce").textContent = fresh.map((p) => t("new_result", { who: p.name })).join(" ");
  }

  function render(data) {
    const before = state.data;
    state.data = data;
    state.texts = data.texts;
    renderHeader(data);
    renderParticipants(data);
    renderWeakest(data);
    renderCharts(data);
    renderTrend(data);
    if (state.selected) renderDetail();
    announceNew(before, data);
    $("dashboard").setAttribute("data-count", String(data.count));
  }

  // ------------------------------------------------------------------ polling
  function clock() {
    return new Date().toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  async function poll() {
    let answer;
    try {
      answer = await fetch(dataUrl, { cache: "no-store", credentials: "omit" });
    } catch (error) {
      setState("offline");
      if (state.data) $("live").textContent = t("offline");
      return schedule();
    }
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      setState(body.gone ? "gone" : "offline");
      $("live").textContent = body.error || t("offline");
      if (body.gone) return undefined; // an expired or refused link stays refused: stop polling
      return schedule();
    }
    const raw = JSON.stringify(body);
    if (raw !== state.raw) {
      state.raw = raw;
      render(body);
    }
    setState("live");
    $("live").textContent = t("live", { time: clock() });
    return schedule();
  }

  function schedule() {
    state.timer = setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("back").addEventListener("click", showOverview);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.selected) showOverview();
    });
    poll();
  });
})();
