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
    desk.reset();
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
    const example = event.target.closest("button[data-say], button[data-tab]");
    if (!example) return;
    if (example.dataset.person !== person || example.dataset.in !== place) {
      await switchTo(example.dataset.person, example.dataset.in);
    }
    if (example.dataset.tab) {
      desk.show(example.dataset.tab);
      return;
    }
    desk.show("chat"); // what is said appears in the conversation
    input.focus();
    await say(example.dataset.say);
  });

  // ---------------------------------------------------------------- inbox and calendar
  // The selected person's emails (what Pairtime really sent through SMTP) and calendar
  // (read from the demo CalDAV server), each as HTML the server rendered for them.
  const desk = (() => {
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    const panels = {
      chat: document.getElementById("panel-chat"),
      inbox: document.getElementById("panel-inbox"),
      calendar: document.getElementById("panel-calendar"),
    };
    const unread = document.getElementById("unread");
    const said = document.getElementById("desk-status");
    let shown = "chat";
    let opened = null; // the key of the email shown, or null for the list
    let week = "next";
    let lastList = "";

    const idle = { reset() {}, tick() {}, show() {} };
    if (!tabs.length || !panels.inbox || !panels.calendar) return idle;

    async function get(path, params) {
      const query = new URLSearchParams({ person, ...params });
      const reply = await fetch(`/playground/api/${path}?${query}`, { cache: "no-store" });
      const data = await reply.json();
      if (!reply.ok) throw new Error(data.error || "That did not work.");
      return data;
    }

    function fill(panel, html) {
      const focused = panel.contains(document.activeElement) ? document.activeElement : null;
      const key = focused && (focused.dataset.mail || focused.dataset.answer || focused.dataset.week);
      panel.innerHTML = html; // rendered and escaped by the server (Jinja2, autoescape)
      if (key) {
        const same = panel.querySelector(
          `[data-mail="${CSS.escape(key)}"], [data-answer="${CSS.escape(key)}"], [data-week="${CSS.escape(key)}"]`,
        );
        if (same) same.focus();
      }
    }

    // A small count on the tab ("Inbox 2"), read out as "Inbox 2 unread".
    function showUnread(count) {
      if (!count) {
        unread.replaceChildren();
        return;
      }
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(count);
      const words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = " unread";
      unread.replaceChildren(" ", badge, words);
    }

    async function loadInbox() {
      const who = person;
      try {
        const data = await get("inbox", {});
        if (who !== person) return;
        showUnread(data.unread);
        if (shown === "inbox" && opened === null && data.html !== lastList) {
          lastList = data.html;
          fill(panels.inbox, data.html);
        }
      } catch (error) {
        said.textContent = error.message;
      }
    }

    async function openMail(key) {
      const who = person;
      try {
        const data = await get("mail", { id: key });
        if (who !== person) return;
        opened = key;
        fill(panels.inbox, data.html);
        panels.inbox.querySelector("h3")?.setAttribute("tabindex", "-1");
        panels.inbox.querySelector("h3")?.focus();
      } catch (error) {
        said.textContent = error.message;
      }
      loadInbox();
    }

    async function answer(control, choice) {
      if (control.getAttribute("aria-disabled") === "true") return;
      control.setAttribute("aria-disabled", "true");
      said.textContent = "Your mail client is working on it…";
      try {
        const reply = await fetch("/playground/api/mail", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ person, id: opened, answer: choice }),
        });
        const data = await reply.json();
        said.textContent = reply.ok ? data.said : data.error || "That did not work.";
        if (reply.ok) fill(panels.inbox, data.html);
      } catch (error) {
        said.textContent = "The Pairtime server does not answer. Is `pairtime serve` running?";
      } finally {
        control.removeAttribute("aria-disabled");
      }
    }

    async function loadCalendar() {
      const who = person;
      said.textContent = "Reading the calendar…";
      try {
        const data = await get("calendar", { week });
        if (who !== person) return;
        fill(panels.calendar, data.html);
        said.textContent = "";
      } catch (error) {
        said.textContent = error.message;
      }
    }

    function select(name, focus = false) {
      shown = name;
      for (const tab of tabs) {
        const mine = tab.getAttribute("aria-controls") === `panel-${name}`;
        tab.setAttribute("aria-selected", String(mine));
        tab.tabIndex = mine ? 0 : -1;
        if (mine && focus) tab.focus();
      }
      for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
      said.textContent = "";
      if (name === "inbox") {
        opened = null;
        lastList = "";
        loadInbox();
      } else if (name === "calendar") {
        loadCalendar();
      }
    }

    for (const tab of tabs) {
      tab.addEventListener("click", () => select(tab.getAttribute("aria-controls").slice(6)));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
        select(next.getAttribute("aria-controls").slice(6), true);
      });
    }

    panels.inbox.addEventListener("click", (event) => {
      const item = event.target.closest("button[data-mail]");
      if (item) return openMail(item.dataset.mail);
      if (event.target.closest("button[data-back]")) {
        opened = null;
        lastList = "";
        return loadInbox();
      }
      const choice = event.target.closest("button[data-answer]");
      if (choice) return answer(choice, choice.dataset.answer);
      return undefined;
    });

    panels.calendar.addEventListener("click", (event) => {
      const choice = event.target.closest("button[data-week]");
      if (!choice) return;
      week = choice.dataset.week;
      loadCalendar();
    });

    return {
      show(name) {
        if (name !== shown && panels[name]) select(name, true);
      },
      reset() {
        opened = null;
        lastList = "";
        showUnread(0);
        if (shown !== "chat") select(shown);
        else loadInbox();
      },
      tick() {
        if (shown !== "calendar") loadInbox();
      },
    };
  })();

  drawConversations();
  refresh();
  desk.tick();
  window.setInterval(() => {
    if (pending === 0) refresh();
    desk.tick();
  }, POLL_MS);
})();
