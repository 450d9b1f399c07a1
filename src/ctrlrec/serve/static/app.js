// The ctrlrec page. Everything the server or the user supplies is written with textContent,
// never innerHTML, so a title or typed text can never become markup or script.
"use strict";

const $ = (id) => document.getElementById(id);
const liked = [];  // {item_id, title}
let info = null;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function getJSON(url, options) {
  const resp = await fetch(url, options);
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    const msg = body && body.detail ? body.detail : `HTTP ${resp.status}`;
    throw new Error(msg);
  }
  return body;
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function fillSelect(select, names) {
  for (const name of names) {
    const opt = el("option", null, name);
    opt.value = name;
    select.appendChild(opt);
  }
}

function chips(list, categories, highlight) {
  for (const c of categories) {
    const chip = el("span", "chip", c);
    if (highlight[c] === true) chip.classList.add("hit");
    if (highlight[c] === false) chip.classList.add("miss");
    list.appendChild(chip);
  }
}

function renderHistory(items, note) {
  const ol = $("history");
  ol.replaceChildren();
  for (const it of items) {
    const li = el("li");
    li.appendChild(el("div", "title", it.title));
    chips(li, it.categories, {});
    ol.appendChild(li);
  }
  $("history-note").textContent = note || "";
}

async function showUser() {
  const raw = $("user").value.trim();
  if (raw === "") { renderHistory(liked.map((x) => x), liked.length ? "typed" : ""); return; }
  try {
    const u = await getJSON(`/v1/users/${encodeURIComponent(raw)}?limit=10`);
    renderHistory(u.history, `last ${u.history.length} of ${u.n_history}`);
    setStatus("");
  } catch (e) {
    renderHistory([], "");
    setStatus(e.message, true);
  }
}

function renderLiked() {
  const ul = $("liked-list");
  ul.replaceChildren();
  liked.forEach((it, i) => {
    const li = el("li", "chip", it.title);
    const x = el("button", null, "×");
    x.type = "button";
    x.setAttribute("aria-label", `remove ${it.title}`);
    x.addEventListener("click", () => { liked.splice(i, 1); renderLiked(); showUser(); });
    li.appendChild(x);
    ul.appendChild(li);
  });
}

let searchTimer = null;
let lastOptions = [];
function searchTitles() {
  clearTimeout(searchTimer);
  const q = $("liked-input").value.trim();
  if (q.length < 2) return;
  searchTimer = setTimeout(async () => {
    try {
      lastOptions = await getJSON(`/v1/items?q=${encodeURIComponent(q)}&limit=10`);
      const dl = $("liked-options");
      dl.replaceChildren();
      for (const it of lastOptions) { const o = el("option"); o.value = it.title; dl.appendChild(o); }
    } catch (e) { /* autocomplete is best effort */ }
  }, 150);
}

async function addLiked() {
  const title = $("liked-input").value.trim();
  if (!title) return;
  let hit = lastOptions.find((it) => it.title === title);
  if (!hit) {
    const found = await getJSON(`/v1/items?q=${encodeURIComponent(title)}&limit=1`).catch(() => []);
    hit = found[0];
  }
  if (!hit) { setStatus(`no title matches “${title}”`, true); return; }
  if (!liked.some((x) => x.item_id === hit.item_id)) liked.push(hit);
  $("liked-input").value = "";
  renderLiked();
  showUser();
  setStatus("");
}

function intentParts() {
  const parts = [];
  if ($("include").value) parts.push({ kind: "I1+", category: $("include").value });
  if ($("exclude").value) parts.push({ kind: "I1-", category: $("exclude").value });
  if ($("prop-cat").value) {
    const share = Number($("prop-share").value) / 100;
    parts.push({ kind: $("prop-op").value, category: $("prop-cat").value, proportion: share });
  }
  return parts;
}

function highlightFor(parts, result) {
  // per category: true when the item satisfies the part about it, false when it breaks it
  return (item) => {
    const h = {};
    parts.forEach((p, j) => { if (item.categories.includes(p.category)) h[p.category] = item.satisfies[j]; });
    return h;
  };
}

function renderResult(res, parts) {
  const ol = $("results");
  ol.replaceChildren();
  const hl = highlightFor(parts, res);
  for (const it of res.items) {
    const li = el("li");
    li.appendChild(el("span", "title", it.title));
    if (it.nonexistent) li.appendChild(el("span", "flag", "not in catalog"));
    if (it.repeat) li.appendChild(el("span", "flag", "repeated"));
    if (it.in_history) li.appendChild(el("span", "flag", "already seen"));
    const box = el("div");
    chips(box, it.categories, hl(it));
    li.appendChild(box);
    ol.appendChild(li);
  }
  const ul = $("parts");
  ul.replaceChildren();
  for (const p of res.parts) {
    const what = p.kind === "I1+" ? `include ${p.category}` : p.kind === "I1-" ? `exclude ${p.category}`
      : `${p.kind.replace("I2", "")} ${Math.round(p.proportion * 100)}% ${p.category}`;
    ul.appendChild(el("li", `chip ${p.satisfied ? "hit" : "miss"}`, `${what}: ${p.satisfied ? "met" : "not met"}`));
  }
  if (res.history.length) renderHistory(res.history, $("history-note").textContent);
}

async function recommend() {
  const body = { k: Number($("k").value), mode: $("mode").value };
  const uid = $("user").value.trim();
  if (uid !== "") body.user_id = Number(uid);
  if (liked.length) body.history = liked.map((x) => x.item_id);
  const parts = intentParts();
  if (parts.length) body.intent = parts;
  const text = $("text").value.trim();
  if (text) body.text = text;
  $("go").disabled = true;
  setStatus("thinking…");
  try {
    const res = await getJSON("/v1/recommend", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    renderResult(res, parts);
    setStatus(`${res.items.length} items in ${(res.latency_ms / 1000).toFixed(1)} s (${res.mode})`);
  } catch (e) {
    // the answer on screen belonged to the previous request: never leave it under this error
    $("results").replaceChildren();
    $("parts").replaceChildren();
    setStatus(e.message, true);
  } finally {
    $("go").disabled = false;
  }
}

async function init() {
  try {
    info = await getJSON("/healthz");
    $("info").textContent = `${info.dataset}: ${info.users} users, ${info.items} items`;
    $("k").max = info.k_max;
    $("mode").value = info.default_mode;
    const cats = await getJSON("/v1/categories");
    for (const id of ["include", "exclude", "prop-cat"]) fillSelect($(id), cats);
  } catch (e) { setStatus(e.message, true); }
  $("user").addEventListener("change", showUser);
  $("random-user").addEventListener("click", () => {
    if (!info) return;
    $("user").value = Math.floor(Math.random() * info.users);
    showUser();
  });
  $("liked-input").addEventListener("input", searchTitles);
  $("liked-input").addEventListener("keydown", (e) => { if (e.key === "Enter") addLiked(); });
  $("liked-add").addEventListener("click", addLiked);
  $("go").addEventListener("click", recommend);
  document.body.dataset.ready = "1";
}

init();
