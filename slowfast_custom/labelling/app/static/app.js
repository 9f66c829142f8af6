"use strict";
// The labelling page: shows one keyframe with its tracked boxes, a timeline row per person track, and sends
// every change to the server one at a time (each is saved there before it is acknowledged).

// Keys that toggle actions, in label-map order; the letters of the commands (a m n o u x) are left out.
const ACTION_KEYS = "1234567890qwertyipsdfghjklzcvb";
const EXCLUSIVE_TYPE = "PERSON_MOVEMENT";
const MIN_SIZE = 0.005; // smallest box side, as a fraction of the frame

const S = {
  project: null,
  tracks: new Map(), // person -> boxes of the current video, in time order
  video: null,
  index: 0, // index of the shown second in the video's keyframe seconds
  person: null, // selected person track
  span: null, // [first, last] seconds the next label applies to
  spanPinned: false, // set by hand: moving to another keyframe keeps it
  keyframeMode: false, // the default span is the one keyframe
  autoNext: false, // once a track is labelled to its end, select the next track with unlabelled boxes
  open: null, // the track the page last moved away from (Enter, auto-advance): its action lanes stay shown
  mode: null, // "add" or "merge" while waiting for the click that completes it
  drag: null,
  queue: Promise.resolve(),
  waiting: 0,
};

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

function seconds() { return S.project.videos.find((v) => v.name === S.video).seconds; }
function now() { return seconds()[S.index]; }
function boxesAt(second) { return S.project.boxes.filter((b) => b.video === S.video && b.second === second); }
function boxOf(person, second) { return (S.tracks.get(person) || []).find((b) => b.second === second); }
function actionIndex(id) { return S.project.actions.findIndex((a) => a.id === id); }
function actionKey(id) { return ACTION_KEYS[actionIndex(id)] || "·"; }
function actionName(id) { return S.project.actions[actionIndex(id)].name; }
function actionColor(id) { return `hsl(${(actionIndex(id) * 47) % 360}, 60%, 40%)`; }
function personColor(person) { return `hsl(${(person * 67) % 360}, 90%, 62%)`; }
// A model's actions for an unlabelled box (tools/annotate.py --model); they are labels only once accepted.
function suggested(b) { return b.actions.length ? null : (S.project.suggestions || {})[b.uid] || null; }

function status(text, kind = "") {
  const el = $("status");
  el.textContent = text;
  el.className = kind;
}

// -- talking to the server ---------------------------------------------------

function setWaiting(delta) {
  S.waiting += delta;
  document.body.dataset.pending = S.waiting; // the browser tests wait for 0
}

// Queue one change. `makeOp` runs when the change's turn comes, on the state every earlier change left.
function send(makeOp, then) {
  setWaiting(1);
  status("Saving…", "busy");
  S.queue = S.queue.then(async () => {
    const op = makeOp();
    if (!op) return;
    for (;;) {
      let response;
      try {
        response = await fetch("/api/change", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ ...op, revision: S.project.revision }),
        });
      } catch (err) {
        status("Server unreachable: the change waits here and is sent when it is back…", "error");
        await sleep(1000);
        continue;
      }
      const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
      if (!response.ok) {
        status(data.error, "error");
        if (response.status === 409) await reload(false);
        return;
      }
      update(data.state);
      status(`Saved: revision ${S.project.revision}`);
      if (then) then(data.result); // after: what it says (e.g. that every box is labelled) is not overwritten
      return;
    }
  }).catch((err) => status(String(err), "error")).finally(() => setWaiting(-1));
}

async function reload(announce = true) {
  for (;;) {
    try {
      const response = await fetch("/api/project");
      if (!response.ok) throw new Error((await response.json()).error);
      update(await response.json());
      if (announce) status(`Loaded: revision ${S.project.revision}`);
      return;
    } catch (err) {
      status(`Cannot load the project (${err.message}); retrying…`, "error");
      await sleep(1000);
    }
  }
}

function update(state) {
  const first = S.project === null;
  S.project = state;
  if (first) {
    $("dataset").textContent = `${state.dataset} · ${state.file}`;
    $("video").replaceChildren(...state.videos.map((v) => new Option(v.name, v.name)));
    S.video = state.videos.length ? state.videos[0].name : null;
    renderActionButtons();
  }
  const tracks = new Map();
  for (const b of state.boxes) {
    if (b.video !== S.video) continue;
    if (!tracks.has(b.person)) tracks.set(b.person, []);
    tracks.get(b.person).push(b);
  }
  for (const list of tracks.values()) list.sort((a, b) => a.second - b.second);
  S.tracks = new Map([...tracks.entries()].sort((a, b) => a[1][0].second - b[1][0].second || a[0] - b[0]));
  if (!S.tracks.has(S.person)) { S.person = null; S.span = null; }
  if (!S.tracks.has(S.open)) S.open = null;
  render();
}

// -- selection and span --------------------------------------------------------

// From `second` to the end of the track, stopping where the labels change: for an unlabelled keyframe that is
// the next labelled one, for a labelled one the next keyframe labelled otherwise.
function defaultSpan(person, second) {
  const track = S.tracks.get(person) || [];
  const i = track.findIndex((b) => b.second === second);
  if (i < 0) return null;
  if (S.keyframeMode) return [second, second];
  const key = track[i].actions.join();
  let j = i;
  while (j + 1 < track.length && track[j + 1].actions.join() === key) j++;
  return [second, track[j].second];
}

// The first track after the selected one (in timeline order, wrapping) with an unlabelled box, at that box.
function nextUnlabelled() {
  const order = [...S.tracks.keys()];
  const start = order.indexOf(S.person) + 1;
  for (let k = 0; k < order.length; k++) {
    const person = order[(start + k) % order.length];
    const box = S.tracks.get(person).find((b) => !b.actions.length);
    if (box) {
      if (person !== S.person) S.open = S.person; // its later runs are still one click away, on its lanes
      S.index = seconds().indexOf(box.second);
      select(person, box.second);
      return;
    }
  }
  status(`Every box of video ${S.video} is labelled`);
}

function select(person, second = now()) {
  S.person = person;
  S.span = person === null ? null : defaultSpan(person, second);
  S.spanPinned = false;
  render();
}

function goTo(index) {
  if (!S.video) return;
  S.index = clamp(index, 0, seconds().length - 1);
  if (S.person !== null && !S.spanPinned) S.span = defaultSpan(S.person, now());
  render();
}

function pinSpan(first, last) {
  if (S.person === null) return status("Select a person first", "error");
  if (first > last) [first, last] = [last, first];
  S.span = [first, last];
  S.spanPinned = true;
  render();
}

function clickPerson(person, second, shift) {
  if (S.mode === "merge" && S.person !== null && person !== S.person) {
    const keep = S.person;
    S.mode = null;
    send(() => ({ op: "merge", video: S.video, keep, absorb: person }));
    return;
  }
  if (shift && person === S.person && S.span) {
    pinSpan(Math.min(S.span[0], second), Math.max(S.span[0], second));
    return;
  }
  const index = seconds().indexOf(second);
  if (index >= 0) S.index = index;
  select(person, now());
}

// A click on an action lane: that action from that second over the default span (to the track's end, or to where
// its labels change), so a change of action inside a track is one click: where and what at once.
function clickLane(person, id, second) {
  const index = seconds().indexOf(second);
  if (index < 0 || !boxOf(person, second)) return;
  S.index = index;
  select(person, second);
  toggleAction(id);
}

// -- changes ------------------------------------------------------------------

function needSpan() {
  if (S.person === null) { status("Select a person first (click a box or a track row)", "error"); return false; }
  if (!S.span) { status(`Person ${S.person} has no box at ${now()} s: pick a keyframe of the track`, "error"); return false; }
  return true;
}

function toggleAction(id) {
  if (!needSpan()) return;
  const person = S.person, [first, last] = S.span, here = now();
  send(() => {
    const track = S.tracks.get(person) || [];
    const anchor = track.find((b) => b.second === here) || track.find((b) => b.second >= first && b.second <= last);
    const actions = new Set(anchor ? anchor.actions : []);
    if (actions.has(id)) {
      actions.delete(id);
    } else {
      // AVA's pose classes (PERSON_MOVEMENT) exclude each other: the new one replaces the old.
      const type = S.project.actions[actionIndex(id)].type;
      if (type === EXCLUSIVE_TYPE) for (const a of [...actions]) if (S.project.actions[actionIndex(a)].type === type) actions.delete(a);
      actions.add(id);
    }
    return { op: "label", video: S.video, person, first, last, actions: [...actions].sort((a, b) => a - b) };
  }, () => {
    const track = S.tracks.get(person);
    if (S.autoNext && S.person === person && track && last >= track[track.length - 1].second) nextUnlabelled();
  });
}

// Space: the suggested actions become the labels of the span's boxes (one change); Shift+Space: of every unlabelled
// box of the video.
function acceptSuggestions(wholeVideo) {
  if (wholeVideo) {
    send(() => ({ op: "accept_video", video: S.video }), (result) => {
      status(`Accepted the suggestions for ${result.boxes} boxes`);
      if (S.autoNext) nextUnlabelled();
    });
    return;
  }
  if (!needSpan()) return;
  const person = S.person, [first, last] = S.span;
  send(() => ({ op: "accept", video: S.video, person, first, last }), () => {
    const track = S.tracks.get(person);
    if (S.autoNext && S.person === person && track && last >= track[track.length - 1].second) nextUnlabelled();
  });
}

function deleteBoxes(wholeSpan) {
  if (!needSpan()) return;
  const [first, last] = wholeSpan ? S.span : [now(), now()];
  const person = S.person;
  send(() => ({ op: "delete", video: S.video, person, first, last }));
}

function split() {
  if (!needSpan()) return;
  const person = S.person, second = now();
  send(() => ({ op: "split", video: S.video, person, second }), (result) => select(result.person, second));
}

function setMode(mode) {
  if (mode === "merge" && S.person === null) return status("Select the person to keep first", "error");
  S.mode = S.mode === mode ? null : mode;
  if (S.mode === "merge") status(`Click the box or track row of the person to merge into ${S.person}`, "busy");
  if (S.mode === "add") status("Drag on the image to draw the new person's box", "busy");
  render();
}

// -- drawing ------------------------------------------------------------------

function place(el, box) {
  el.style.left = `${box[0] * 100}%`;
  el.style.top = `${box[1] * 100}%`;
  el.style.width = `${(box[2] - box[0]) * 100}%`;
  el.style.height = `${(box[3] - box[1]) * 100}%`;
}

function render() {
  document.body.dataset.revision = S.project.revision;
  if (!S.video) { status("This project has no videos", "error"); return; }
  const second = now();
  $("second").textContent = `${second} s`;
  $("second").dataset.second = second;
  const src = `/api/frame/${encodeURIComponent(S.video)}/${second}`;
  if ($("frame").getAttribute("src") !== src) $("frame").src = src;
  $("undo").disabled = !S.project.undo;
  $("undo").title = S.project.undo ? `Undo: ${S.project.undo} (Ctrl+Z or u)` : "Nothing to undo";
  $("redo").disabled = !S.project.redo;
  $("redo").title = S.project.redo ? `Redo: ${S.project.redo} (Ctrl+Shift+Z or Shift+U)` : "Nothing to redo";
  $("stage").classList.toggle("adding", S.mode === "add");
  $("add").classList.toggle("on", S.mode === "add");
  $("merge").classList.toggle("on", S.mode === "merge");
  $("keyframe-mode").checked = S.keyframeMode;
  $("auto-next").checked = S.autoNext;
  $("accept").hidden = !Object.keys(S.project.suggestions || {}).length;
  renderBoxes(second);
  renderSelection(second);
  renderTimeline(second);
}

function renderBoxes(second) {
  const layer = $("boxes");
  layer.replaceChildren();
  for (const b of boxesAt(second)) {
    const el = document.createElement("div");
    el.className = "box" + (b.actions.length ? " labelled" : "") + (b.person === S.person ? " selected" : "");
    el.dataset.uid = b.uid;
    el.dataset.person = b.person;
    el.style.borderColor = personColor(b.person);
    place(el, b.box);
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.style.background = personColor(b.person);
    const guess = suggested(b);
    tag.textContent = `${b.person}` + (b.actions.length ? ` ${b.actions.map(actionName).join(", ")}` : "")
      + (guess ? ` ${guess.map(actionName).join(", ")}?` : "");
    el.append(tag);
    if (b.person === S.person) {
      for (const corner of ["nw", "ne", "sw", "se"]) {
        const handle = document.createElement("span");
        handle.className = `handle ${corner}`;
        handle.dataset.corner = corner;
        el.append(handle);
      }
    }
    layer.append(el);
  }
}

function renderActionButtons() {
  $("actions").replaceChildren(...S.project.actions.map((a, i) => {
    const button = document.createElement("button");
    button.dataset.action = a.id;
    button.style.borderColor = actionColor(a.id);
    const key = document.createElement("kbd");
    key.textContent = ACTION_KEYS[i] || "";
    button.append(key, a.name);
    button.title = ACTION_KEYS[i] ? `Toggle ${a.name} over the span (key ${ACTION_KEYS[i]})` : `Toggle ${a.name}`;
    button.addEventListener("click", () => toggleAction(a.id));
    return button;
  }));
}

function renderSelection(second) {
  const box = S.person === null ? null : boxOf(S.person, second);
  const track = S.tracks.get(S.person) || [];
  $("person").textContent = S.person === null ? "Click a box or a track row to select a person."
    : `Person ${S.person}: ${track.length} keyframes, ${track[0].second}–${track[track.length - 1].second} s`
      + (box ? "" : ` (no box at ${second} s)`);
  $("span-first").value = S.span ? S.span[0] : "";
  $("span-last").value = S.span ? S.span[1] : "";
  for (const button of $("actions").children) {
    const id = Number(button.dataset.action);
    const on = !!box && box.actions.includes(id);
    button.classList.toggle("on", on);
    button.style.background = on ? actionColor(id) : "";
  }
}

function renderTimeline(second) {
  const all = seconds();
  const head = document.createElement("tr");
  head.append(document.createElement("th"));
  for (const s of all) {
    const th = document.createElement("th");
    th.textContent = s % 5 === 0 ? s : "";
    if (s === second) th.className = "now";
    head.append(th);
  }
  const rows = [head];
  for (const [person, track] of S.tracks) {
    const tr = document.createElement("tr");
    tr.dataset.person = person;
    if (person === S.person) tr.className = "selected";
    const th = document.createElement("th");
    th.className = "person";
    th.textContent = `${person}`;
    th.style.borderLeft = `6px solid ${personColor(person)}`;
    const labelled = track.filter((b) => b.actions.length).length;
    th.title = `Person ${person}: ${labelled} of ${track.length} keyframes labelled`;
    tr.append(th);
    const bySecond = new Map(track.map((b) => [b.second, b]));
    for (const s of all) {
      const td = document.createElement("td");
      td.dataset.second = s;
      const b = bySecond.get(s);
      const classes = [];
      if (b) {
        classes.push("tracked");
        if (b.actions.length) {
          classes.push("labelled");
          td.textContent = b.actions.map(actionKey).join("");
          td.style.background = actionColor(b.actions[0]);
          td.title = `${s} s: ${b.actions.map(actionName).join(", ")}`;
        } else if (suggested(b)) {
          const guess = suggested(b);
          classes.push("suggested");
          td.textContent = guess.map(actionKey).join("");
          td.style.color = actionColor(guess[0]);
          td.title = `${s} s: not labelled; suggested ${guess.map(actionName).join(", ")} (Space accepts)`;
        } else {
          td.title = `${s} s: not labelled`;
        }
      }
      if (s === second) classes.push("now");
      if (person === S.person && S.span && s >= S.span[0] && s <= S.span[1]) classes.push("span");
      td.className = classes.join(" ");
      tr.append(td);
    }
    rows.push(tr);
    if (person === S.person || person === S.open) rows.push(...laneRows(person, bySecond, all, second));
  }
  $("tracks").replaceChildren(...rows);
}

// One row per action under a track: a cell is that action at that second, filled where the box has it.
function laneRows(person, bySecond, all, second) {
  return S.project.actions.map((a) => {
    const tr = document.createElement("tr");
    tr.className = "lane";
    tr.dataset.person = person;
    tr.dataset.action = a.id;
    const th = document.createElement("th");
    th.className = "lane-name";
    th.textContent = a.name;
    th.title = `Click a cell: ${a.name} for person ${person} from that second (over the default span)`;
    tr.append(th);
    for (const s of all) {
      const td = document.createElement("td");
      td.dataset.second = s;
      const b = bySecond.get(s);
      if (b) {
        const on = b.actions.includes(a.id);
        td.className = "slot" + (on ? " on" : "") + (s === second ? " now" : "");
        if (on) td.style.background = actionColor(a.id);
        td.title = `${s} s: ${on ? "remove" : "set"} ${a.name} from here`;
      }
      tr.append(td);
    }
    return tr;
  });
}

// -- pointer: select, move, resize, draw ----------------------------------------

function pointAt(event) {
  const rect = $("boxes").getBoundingClientRect();
  return [clamp((event.clientX - rect.left) / rect.width, 0, 1), clamp((event.clientY - rect.top) / rect.height, 0, 1)];
}

function normalise(x1, y1, x2, y2) {
  [x1, x2] = [Math.min(x1, x2), Math.max(x1, x2)];
  [y1, y2] = [Math.min(y1, y2), Math.max(y1, y2)];
  return [x1, y1, x2, y2];
}

function onPointerDown(event) {
  if (event.button !== 0) return;
  const point = pointAt(event);
  if (S.mode === "add") {
    const el = document.createElement("div");
    el.className = "rubber";
    $("boxes").append(el);
    S.drag = { kind: "add", start: point, box: [...point, ...point], el };
    event.preventDefault();
    return;
  }
  const boxEl = event.target.closest(".box");
  if (!boxEl) return;
  const person = Number(boxEl.dataset.person);
  if (person !== S.person || S.mode === "merge") {
    clickPerson(person, now(), false);
    return;
  }
  const box = S.project.boxes.find((b) => b.uid === Number(boxEl.dataset.uid)).box;
  S.drag = { kind: event.target.dataset.corner || "move", uid: Number(boxEl.dataset.uid), start: point, from: box,
             box, el: boxEl };
  event.preventDefault();
}

function onPointerMove(event) {
  const d = S.drag;
  if (!d) return;
  const [x, y] = pointAt(event);
  const [dx, dy] = [x - d.start[0], y - d.start[1]];
  if (d.kind === "add") {
    d.box = normalise(d.start[0], d.start[1], x, y);
  } else if (d.kind === "move") {
    const [x1, y1, x2, y2] = d.from;
    const mx = clamp(dx, -x1, 1 - x2), my = clamp(dy, -y1, 1 - y2);
    d.box = [x1 + mx, y1 + my, x2 + mx, y2 + my];
  } else { // a corner handle: that corner follows the pointer
    let [x1, y1, x2, y2] = d.from;
    if (d.kind.includes("w")) x1 = clamp(x1 + dx, 0, 1); else x2 = clamp(x2 + dx, 0, 1);
    if (d.kind.includes("n")) y1 = clamp(y1 + dy, 0, 1); else y2 = clamp(y2 + dy, 0, 1);
    d.box = normalise(x1, y1, x2, y2);
  }
  place(d.el, d.box);
}

function onPointerUp() {
  const d = S.drag;
  if (!d) return;
  S.drag = null;
  const box = d.box.map((v) => Math.round(v * 1e6) / 1e6);
  const big = box[2] - box[0] >= MIN_SIZE && box[3] - box[1] >= MIN_SIZE;
  if (d.kind === "add") {
    d.el.remove();
    S.mode = null;
    if (!big) { render(); return status("Box too small: drag across the person to draw it", "error"); }
    const second = now();
    send(() => ({ op: "add", video: S.video, second, box }), (result) => select(result.person, second));
    return;
  }
  if (!big || box.every((v, i) => Math.abs(v - d.from[i]) < 1e-6)) { render(); return; }
  send(() => ({ op: "move", uid: d.uid, box }));
}

// -- keyboard -----------------------------------------------------------------

function onKey(event) {
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (!S.project || !S.video) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey) {
    const lower = key.toLowerCase();
    if (lower === "z" || lower === "y") {
      event.preventDefault();
      if (lower === "y" || event.shiftKey) redo(); else undo();
    }
    return;
  }
  if (event.altKey) return;
  const handlers = {
    ArrowLeft: () => goTo(S.index - 1), ArrowRight: () => goTo(S.index + 1),
    Home: () => goTo(0), End: () => goTo(seconds().length - 1),
    PageDown: () => stepVideo(1), PageUp: () => stepVideo(-1),
    Tab: () => nextPerson(event.shiftKey ? -1 : 1),
    Escape: () => { S.mode = null; if (S.drag) { S.drag.el.remove(); S.drag = null; } render(); status(""); },
    Delete: () => deleteBoxes(event.shiftKey), Backspace: () => deleteBoxes(event.shiftKey),
    ".": () => S.person !== null && pinSpan(now(), now()),
    ",": () => select(S.person),
    "[": () => S.span && pinSpan(now(), Math.max(now(), S.span[1])),
    "]": () => S.span && pinSpan(Math.min(now(), S.span[0]), now()),
    o: () => { S.keyframeMode = !S.keyframeMode; if (S.person !== null) select(S.person); else render(); },
    a: () => { S.autoNext = !S.autoNext; render(); },
    Enter: nextUnlabelled,
    " ": () => acceptSuggestions(event.shiftKey),
    n: () => setMode("add"), m: () => setMode("merge"), x: split, u: undo, U: redo,
  };
  if (handlers[key]) {
    event.preventDefault();
    handlers[key]();
    return;
  }
  const index = ACTION_KEYS.indexOf(key.toLowerCase());
  if (key.length === 1 && index >= 0 && index < S.project.actions.length) {
    event.preventDefault();
    toggleAction(S.project.actions[index].id);
  }
}

function showVideo(name) {
  S.video = name;
  S.index = 0;
  S.person = null;
  S.open = null;
  $("video").value = name;
  update(S.project);
}

// PageDown / PageUp: the next or previous video of the list, one key instead of opening the list.
function stepVideo(step) {
  const names = S.project.videos.map((v) => v.name);
  const at = clamp(names.indexOf(S.video) + step, 0, names.length - 1);
  if (names[at] !== S.video) showVideo(names[at]);
}

function nextPerson(step) {
  const people = boxesAt(now()).sort((a, b) => a.box[0] - b.box[0]).map((b) => b.person);
  if (!people.length) return;
  const at = people.indexOf(S.person);
  select(people[(at + step + people.length) % people.length]);
}

function undo() { send(() => ({ op: "undo" })); }
function redo() { send(() => ({ op: "redo" })); }

async function exportAva(event) {
  event.preventDefault();
  const items = $("val-videos").value.split(",").map((s) => s.trim()).filter(Boolean);
  // "video:14-18" sends those seconds of the video to val; a plain name, the whole video
  const names = items.filter((s) => !s.includes(":"));
  const ranges = items.filter((s) => s.includes(":"));
  setWaiting(1);
  status("Exporting…", "busy");
  await S.queue; // every change made before is saved first
  try {
    const response = await fetch("/api/export", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...(names.length ? { val_videos: names } : {}),
                             ...(ranges.length ? { val_ranges: ranges } : {}) }),
    });
    const data = await response.json();
    status(response.ok ? data.message : data.error, response.ok ? "" : "error");
  } catch (err) {
    status(`Export failed: ${err.message}`, "error");
  } finally {
    setWaiting(-1);
  }
}

// -- wiring -------------------------------------------------------------------

function init() {
  setWaiting(0);
  $("prev").addEventListener("click", () => goTo(S.index - 1));
  $("next").addEventListener("click", () => goTo(S.index + 1));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("video").addEventListener("change", (e) => {
    showVideo(e.target.value);
    e.target.blur(); // the keys are for labelling again
  });
  $("span-one").addEventListener("click", () => S.person !== null && pinSpan(now(), now()));
  $("span-default").addEventListener("click", () => select(S.person));
  for (const id of ["span-first", "span-last"]) {
    $(id).addEventListener("change", () => pinSpan(Number($("span-first").value), Number($("span-last").value)));
  }
  $("keyframe-mode").addEventListener("change", (e) => { S.keyframeMode = e.target.checked; select(S.person); });
  $("auto-next").addEventListener("change", (e) => { S.autoNext = e.target.checked; render(); });
  $("next-unlabelled").addEventListener("click", nextUnlabelled);
  $("accept").addEventListener("click", (e) => acceptSuggestions(e.shiftKey));
  $("add").addEventListener("click", () => setMode("add"));
  $("merge").addEventListener("click", () => setMode("merge"));
  $("delete").addEventListener("click", (e) => deleteBoxes(e.shiftKey));
  $("split").addEventListener("click", split);
  $("export").addEventListener("submit", exportAva);
  $("boxes").addEventListener("pointerdown", onPointerDown);
  window.addEventListener("pointermove", onPointerMove);
  window.addEventListener("pointerup", onPointerUp);
  $("tracks").addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-person]");
    if (!row) return;
    const person = Number(row.dataset.person);
    const cell = event.target.closest("td");
    if (row.classList.contains("lane") && S.mode !== "merge") {
      if (cell) clickLane(person, Number(row.dataset.action), Number(cell.dataset.second));
      return;
    }
    const track = S.tracks.get(person);
    const second = cell ? Number(cell.dataset.second) : (boxOf(person, now()) ? now() : track[0].second);
    clickPerson(person, second, event.shiftKey);
  });
  document.addEventListener("keydown", onKey);
  reload();
}

init();
