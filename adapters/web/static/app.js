// The Pairtime playground page: switch person, talk, click, and poll for what changed.
// Plain JavaScript, no framework, nothing downloaded. Every message arrives as HTML the
// server rendered (and escaped) for the selected person; clicks post back the signed
// action reference the button carries.
"use strict";

(() => {
  const layout = document.querySelector(".layout");
  const select = document.getElementById("person");
  const log = document.getElementById("log");
  if (!layout || !select || !log) return; // an empty demo: nothing to drive

  const nav = document.getElementById("conversations");
  const title = document.getElementById("conversation-title");
  const form = document.getElementById("say");
  const input = document.getElementById("text");
  const status = document.getElementById("status");
  const POLL_MS = 2000;

  const circles = JSON.parse(nav.dataset.circles || "{}"); // channel -> circle name
  let person = select.value;
  let place = layout.dataset.in || "dm";
  let since = 0;
  let generation = 0; // bumps on every switch, so late answers for the last view are dropped
  let seen = {};

  const channelsOf = (who) => {
    const option = [...select.options].find((o) => o.value === who);
    return option ? option.dataset.channels.split(" ").filter(Boolean) : [];
  };

  // The buttons are made again only when the person's conversations change, so that
  // keyboard focus on one of them survives the page's polling.
  function drawConversations(latest = {}) {
    const places = ["dm", ...channelsOf(person)];
    const shown = [...nav.querySelectorAll("button")].map((b) => b.dataset.place);
    if (shown.join(" ") !== places.join(" ")) {
      nav.replaceChildren(
        ...places.map((where) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "button";
          button.dataset.place = where;
          button.textContent = where === "dm" ? "Pairtime (direct)" : `#${where}`;
          if (where !== "dm" && circles[where]) button.title = circles[where];
          const note = document.createElement("span");
          note.className = "visually-hidden";
          button.append(note);
          return button;
        }),
      );
    }
    for (const button of nav.querySelectorAll("button")) {
      const where = button.dataset.place;
      const unread = where !== place && (latest[where] || 0) > (seen[where] || 0);
      button.setAttribute("aria-pressed", String(where === place));
      button.classList.toggle("unread", unread);
      button.querySelector(".visually-hidden").textContent = unread ? " (new messages)" : "";
    }
  }

  function switchTo(who, where) {
    if (!channelsOf(who).includes(where)) where = "dm";
    person = who;
    place = where;
    select.value = who;
    since = 0;
    seen = {};
    generation += 1;
    log.replaceChildren();
    title.textContent = where === "dm" ? "Pairtime" : `#${where}`;
    const address = new URL(window.location.href);
    address.searchParams.set("as", who);
    address.searchParams.set("in", where);
    window.history.replaceState(null, "", address);
    drawConversations();
    return refresh();
  }

  function upsert(message) {
    const holder = document.createElement("template");
    holder.innerHTML = message.html;
    const fresh = holder.content.firstElementChild;
    const current = document.getElementById(fresh.id);
    if (current) {
      // Keep keyboard focus where it was: on the same control if it is still there.
      const focused = current.contains(document.activeElement) ? document.activeElement : null;
      current.replaceWith(fresh);
      if (focused) {
        const action = focused.dataset.action;
        const same = action && fresh.querySelector(`[data-action="${CSS.escape(action)}"]`);
        (same || fresh).focus();
      }
      return;
    }
    const later = [...log.children].find((li) => Number(li.id.slice(1)) > message.id);
    log.insertBefore(fresh, later || null);
  }

  // One request at a time, in order: an older answer never overwrites a newer one.
  let chain = Promise.resolve();
  let pending = 0;
  function refresh() {
    pending += 1;
    const run = chain.then(load).finally(() => {
      pending -= 1;
    });
    chain = run.catch(() => {});
    return run;
  }

  async function load() {
    const mine = generation;
    try {
      const query = new URLSearchParams({ person, in: place, since: String(since) });
      const reply = await fetch(`/playground/api/messages?${query}`, { cache: "no-store" });
      if (!reply.ok || mine !== generation) return;
      const data = await reply.json();
      if (mine !== generation) return;
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      data.messages.forEach(upsert);
      if (data.messages.length && atBottom) log.scrollTop = log.scrollHeight;
      since = data.seq;
      if (Object.keys(seen).length === 0) seen = { ...data.latest };
      seen[place] = data.latest[place] || 0;
      drawConversations(data.latest);
    } catch (error) {
      status.textContent = "The Pairtime server does not answer. Is `pairtime serve` running?";
    }
  }

  async function post(path, body) {
    status.textContent = "Pairtime is working on it…";
    try {
      const reply = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ person, in: place, ...body }),
      });
      const data = await reply.json();
      status.textContent = reply.ok ? "" : data.error || "That did not work.";
    } catch (error) {
      status.textContent = "The Pairtime server does not answer. Is `pairtime serve` running?";
    }
    await refresh();
  }

  const say = (text) => post("/playground/api/say", { text });

  async function act(control, action, value) {
    if (control.getAttribute("aria-disabled") === "true") return; // one click at a time
    control.setAttribute("aria-disabled", "true");
    const item = control.closest(".message");
    const message = item ? Number(item.id.slice(1)) : null;
    try {
      await post("/playground/api/act", value === undefined ? { message, action } : { message, action, value });
    } finally {
      control.removeAttribute("aria-disabled");
    }
  }

  select.addEventListener("change", () => switchTo(select.value, place));

  nav.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-place]");
    if (button) switchTo(person, button.dataset.place);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text);
  });

  log.addEventListener("click", (event) => {
    const action = event.target.closest("button[data-action]");
    if (action) {
      act(action, action.dataset.action);
      return;
    }
    const example = event.target.closest("button[data-say]");
    if (example) say(example.dataset.say);
  });

  log.addEventListener("submit", (event) => {
    const field = event.target.closest("form[data-action]");
    if (!field) return;
    event.preventDefault();
    act(field.querySelector("button") || field, field.dataset.action, field.elements.value.value);
  });

  document.querySelector(".guide")?.addEventListener("click", async (event) => {
    const example = event.target.closest("button[data-say]");
    if (!example) return;
    if (example.dataset.person !== person || example.dataset.in !== place) {
      await switchTo(example.dataset.person, example.dataset.in);
    }
    input.focus();
    await say(example.dataset.say);
  });

  drawConversations();
  refresh();
  window.setInterval(() => {
    if (pending === 0) refresh();
  }, POLL_MS);
})();
