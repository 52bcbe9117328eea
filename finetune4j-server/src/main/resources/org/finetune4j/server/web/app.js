// The page's only script: calls this server's API and renders with textContent (never as HTML).
"use strict";

const RECENT_MAX = 5;
const recent = []; // in this tab's memory only
const TOKEN_KEY = "finetune4j-token";
// The access token lives in sessionStorage: this tab only, gone when the tab closes. Never in
// localStorage, a cookie or the URL, and the server never writes it into the page.
let token = sessionStorage.getItem(TOKEN_KEY) || "";

const $ = (id) => document.getElementById(id);

/** The server answered 401: no token, or not the right one. */
class Unauthorized extends Error {}

async function api(path, body) {
  const headers = {};
  if (token) headers["Authorization"] = "Bearer " + token;
  const init = { method: body === undefined ? "GET" : "POST", headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => null);
  const msg = data && data.error ? data.error.message : res.status + " " + res.statusText;
  if (res.status === 401) throw new Unauthorized(msg);
  if (!res.ok) throw new Error(msg);
  return data;
}

function showError(msg) {
  $("error").textContent = msg;
  $("error").hidden = !msg;
}

/** The classifier and the model card, or (shown = false) neither: nothing to see without the token. */
function showApp(shown) {
  $("app").hidden = !shown;
  $("model-card").hidden = !shown;
}

/** Forgets the token (this tab's copy too) and shows the field, with `message` saying what went wrong. */
function askForToken(message) {
  token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  recent.length = 0;
  renderRecent();
  showApp(false);
  $("model-name").textContent = "";
  $("forget-token").hidden = true;
  $("token-card").hidden = false;
  $("token-error").textContent = message || "";
  $("token-error").hidden = !message;
  $("token").value = "";
  $("token").focus();
}

async function useToken(event) {
  event.preventDefault();
  const given = $("token").value.trim();
  if (!given) {
    askForToken("Paste the token first.");
    return;
  }
  // A header can carry only visible ASCII; fetch would otherwise fail with a message about headers.
  if (!/^[\x21-\x7e]+$/.test(given)) {
    askForToken("That is not a token: it has spaces, line breaks or letters a token cannot have."
        + " Copy it again, exactly as you were given it.");
    return;
  }
  token = given;
  $("token-form").querySelector("button").disabled = true;
  try {
    await loadModel();
  } finally {
    $("token-form").querySelector("button").disabled = false;
  }
}

function fmt(x) {
  return typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(4)) : String(x);
}

async function loadModel() {
  let m;
  try {
    m = await api("/v1/model");
  } catch (e) {
    if (e instanceof Unauthorized) {
      askForToken(token ? "That token was not accepted. Check that you copied all of it, then paste it again." : "");
    } else {
      $("load-error").textContent = "The model could not be loaded: " + e.message;
      $("load-error").hidden = false;
    }
    return;
  }
  if (token) sessionStorage.setItem(TOKEN_KEY, token); // kept only once the server has accepted it
  $("load-error").hidden = true;
  $("token-card").hidden = true;
  $("forget-token").hidden = !token;
  $("model-name").textContent = m.model + (m.adapter ? " + " + m.adapter : "");
  const facts = $("model-facts");
  facts.replaceChildren();
  const rows = [
    ["architecture", m.architecture], ["model type", m.model_type], ["problem", m.problem_type],
    ["labels", m.labels.join(", ")], ["max length", m.max_length + " tokens"],
    ["threshold", m.decision_threshold == null ? "argmax" : fmt(m.decision_threshold)],
  ];
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    facts.append(dt, dd);
  }
  const body = $("metrics").tBodies[0];
  body.replaceChildren();
  const metrics = m.metrics || {};
  for (const [k, v] of Object.entries(metrics)) {
    const tr = body.insertRow();
    tr.insertCell().textContent = k.replace(/^eval_/, "");
    tr.insertCell().textContent = fmt(v);
  }
  $("metrics-empty").hidden = Object.keys(metrics).length > 0;
  showError("");
  showApp(true);
}

function renderResult(predicted, ranked) {
  $("label").textContent = predicted.label;
  $("score").textContent = "(" + (predicted.score * 100).toFixed(1) + "%)";
  const bars = $("bars");
  bars.replaceChildren();
  for (const c of ranked) {
    const li = document.createElement("li");
    if (c.label === predicted.label) li.className = "top";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = c.label;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    fill.style.width = (c.score * 100).toFixed(1) + "%";
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = (c.score * 100).toFixed(1) + "%";
    li.append(name, track, value);
    bars.append(li);
  }
  $("result").hidden = false;
}

function renderRecent() {
  const ul = $("recent");
  ul.replaceChildren();
  for (const r of recent) {
    const li = document.createElement("li");
    li.title = "Classify again";
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = r.text;
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = r.label + " " + (r.score * 100).toFixed(0) + "%";
    li.append(text, tag);
    li.addEventListener("click", () => { $("text").value = r.text; classify(); });
    ul.append(li);
  }
  $("recent-empty").hidden = recent.length > 0;
}

async function classify(event) {
  if (event) event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) {
    showError("Type a text first.");
    return;
  }
  $("classify").disabled = true;
  $("status").textContent = "classifying...";
  const started = performance.now();
  try {
    // The predicted class (which honours a tuned threshold) and every class's score, as two requests
    // the server's batcher can run in one forward pass.
    const [predicted, ranked] = await Promise.all([
      api("/v1/classify", { inputs: text }),
      api("/v1/classify", { inputs: text, parameters: { top_k: null } }),
    ]);
    renderResult(predicted[0], ranked);
    recent.unshift({ text, label: predicted[0].label, score: predicted[0].score });
    recent.length = Math.min(recent.length, RECENT_MAX);
    renderRecent();
    showError("");
    $("status").textContent = Math.round(performance.now() - started) + " ms";
  } catch (e) {
    $("status").textContent = "";
    if (e instanceof Unauthorized) {
      askForToken("The server no longer accepts the token this page had. Paste the current one.");
    } else {
      showError(e.message);
    }
  } finally {
    $("classify").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("classify-form").addEventListener("submit", classify);
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) classify(e);
  });
  $("token-form").addEventListener("submit", useToken);
  $("forget-token").addEventListener("click", () => askForToken(""));
  loadModel();
});
