// The chat page. Everything from the server or the person is written with textContent only.
// Feedback on a recommendation is sent when the person writes again (went_on = true) or leaves
// (went_on = false); dwell is the time between showing the items and that moment.
"use strict";

const $ = (id) => document.getElementById(id);
let session = null;
let pending = null;  // {turn, shownAt, choice: Map item_id -> "accept" | "reject"}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function post(url, body) {
  const resp = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify(body)});
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) throw new Error(data && data.detail ? data.detail : `HTTP ${resp.status}`);
  return data;
}

function status(text, isError) {
  $("crs-status").textContent = text;
  $("crs-status").className = isError ? "error" : "";
}

function say(who, text) {
  const li = el("li", "msg " + who);
  li.appendChild(el("span", "who", who === "user" ? "You" : "Recommender"));
  li.appendChild(el("div", "text", text));
  $("crs-log").appendChild(li);
  return li;
}

function choose(state, li, itemId, what) {
  const now = state.choice.get(itemId) === what ? null : what;
  if (now) state.choice.set(itemId, now); else state.choice.delete(itemId);
  li.classList.toggle("accepted", now === "accept");
  li.classList.toggle("rejected", now === "reject");
}

function showRecommendation(r) {
  const li = say("rec", r.items.length ? "" : r.text);
  const list = el("ol", "rec");
  const state = {turn: r.turn, shownAt: performance.now(), choice: new Map()};
  for (const it of r.items) {
    const row = el("li");
    row.dataset.itemId = String(it.item_id);
    const what = el("span", "title", it.title);
    for (const c of it.categories || []) what.appendChild(el("span", "chip", c));
    row.appendChild(what);
    const yes = el("button", "accept ghost", "Accept");
    const no = el("button", "reject ghost", "Reject");
    yes.type = no.type = "button";
    yes.addEventListener("click", () => choose(state, row, it.item_id, "accept"));
    no.addEventListener("click", () => choose(state, row, it.item_id, "reject"));
    row.append(" ", yes, " ", no);
    list.appendChild(row);
  }
  li.appendChild(list);
  pending = state;
}

async function sendFeedback(wentOn) {
  if (!pending || !session) return;
  const p = pending;
  pending = null;
  const pick = (what) => [...p.choice].filter(([, v]) => v === what).map(([k]) => k);
  const r = await post("/crs/feedback", {session, turn: p.turn, accepted: pick("accept"),
                                         rejected: pick("reject"),
                                         dwell: (performance.now() - p.shownAt) / 1000, went_on: wentOn});
  status(`${r.logged} feedback logged`);
}

async function send() {
  const text = $("crs-text").value.trim();
  if (!text) return;
  $("crs-send").disabled = true;
  try {
    await sendFeedback(true);
    say("user", text);
    $("crs-text").value = "";
    const r = await post("/crs/turn", {session, text});
    session = r.session;
    showRecommendation(r);
    document.body.dataset.turns = String(document.querySelectorAll("ol.rec").length);
  } catch (e) {
    status(e.message, true);
  } finally {
    $("crs-send").disabled = false;
  }
}

async function leave() {
  try {
    await sendFeedback(false);
    session = null;
    $("crs-text").disabled = $("crs-send").disabled = $("crs-leave").disabled = true;
    document.body.dataset.left = "1";
  } catch (e) {
    status(e.message, true);
  }
}

$("crs-send").addEventListener("click", send);
$("crs-text").addEventListener("keydown", (ev) => { if (ev.key === "Enter") send(); });
$("crs-leave").addEventListener("click", leave);
document.body.dataset.ready = "1";
