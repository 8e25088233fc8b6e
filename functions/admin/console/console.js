// Skiff's operators' console. One page, no framework: it signs in with Skiff's own
// login, keeps the tokens in this closure only (never in localStorage or a cookie),
// and calls /api/v1/admin with a bearer token. Every value from the API reaches the
// page through textContent, never as HTML.
(function () {
  "use strict";

  const API = "/api/v1";
  let tokens = null; // { access, refresh }

  // ------------------------------------------------------------ small helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function announce(message) {
    const status = document.getElementById("status");
    status.textContent = "";
    window.setTimeout(() => { status.textContent = message; }, 50);
  }

  function when(unix) {
    if (unix === null || unix === undefined) return "—";
    return new Date(unix * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }

  let currency = "usd";
  function money(minor) {
    const digits = ["jpy", "krw", "vnd", "clp"].includes(currency) ? 0 : 2;
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase(), minimumFractionDigits: digits })
        .format(minor / Math.pow(10, digits));
    } catch (_) {
      return (minor / Math.pow(10, digits)).toFixed(digits) + " " + currency;
    }
  }

  function percent(fraction) {
    return (fraction * 100).toFixed(1) + " %";
  }

  function badge(text, kind) {
    return el("span", { class: "badge " + (kind || ""), text });
  }

  function statusBadge(status) {
    const kind = { active: "ok", suspended: "bad", read_only: "bad", archived: "bad", unverified: "warn",
      inactive: "warn", expired: "warn", past_due: "warn", trialing: "warn", canceled: "warn" }[status] || "";
    return badge(status, kind);
  }

  // ------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.detail) || ("HTTP " + status));
      this.status = status;
      this.body = body || {};
    }
  }

  async function call(method, path, body, retried) {
    const headers = { "Accept": "application/json" };
    if (tokens) headers["Authorization"] = "Bearer " + tokens.access;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (response.status === 401 && tokens && !retried && await refresh()) {
      return call(method, path, body, true);
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  async function refresh() {
    try {
      const pair = await fetch(API + "/auth/refresh", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: tokens.refresh }), credentials: "omit",
      });
      if (!pair.ok) return false;
      const t = await pair.json();
      tokens = { access: t.access_token, refresh: t.refresh_token };
      return true;
    } catch (_) {
      return false;
    }
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, v);
    }
    const s = q.toString();
    return s ? "?" + s : "";
  }

  // ------------------------------------------------------------ sign-in

  const signin = document.getElementById("signin");
  const view = document.getElementById("view");
  const nav = document.getElementById("nav");

  document.getElementById("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("signin-error");
    error.textContent = "";
    const email = document.getElementById("email").value.trim();
    const password = document.getElementById("password").value;
    if (!email || !password) {
      error.textContent = "Enter your e-mail address and password.";
      return;
    }
    try {
      const pair = await call("POST", "/auth/login", { email, password });
      tokens = { access: pair.access_token, refresh: pair.refresh_token };
      // Only operators see the admin API; to anyone else it does not exist.
      await call("GET", "/admin/analytics");
    } catch (e) {
      tokens = null;
      error.textContent = e instanceof ApiError && e.status === 404
        ? "This account is not a platform operator."
        : e.message;
      return;
    }
    document.getElementById("password").value = "";
    signin.hidden = true;
    nav.hidden = false;
    view.hidden = false;
    if (!location.hash || location.hash === "#") location.hash = "#/overview";
    else route();
  });

  document.getElementById("signout").addEventListener("click", async () => {
    try { await call("POST", "/auth/logout", { refresh_token: tokens.refresh }); } catch (_) { /* signed out anyway */ }
    tokens = null;
    nav.hidden = true;
    view.hidden = true;
    view.replaceChildren();
    signin.hidden = false;
    document.getElementById("email").focus();
  });

  // ------------------------------------------------------------ routing

  const routes = {
    overview: overview,
    users: users,
    orgs: orgs,
    licenses: licenses,
    audit: audit,
    "dead-letters": deadLetters,
  };

  function route() {
    if (!tokens) return;
    const parts = location.hash.replace(/^#\/?/, "").split("/");
    const name = parts[0] || "overview";
    for (const a of nav.querySelectorAll("a")) {
      if (a.getAttribute("href") === "#/" + name) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const render = name === "orgs" && parts[1] ? () => orgPage(decodeURIComponent(parts[1])) : routes[name];
    if (!render) { location.hash = "#/overview"; return; }
    view.replaceChildren(el("p", { class: "meta", text: "Loading…" }));
    render().catch((e) => {
      view.replaceChildren(el("h1", { text: "Something went wrong" }), el("p", { class: "error", role: "alert", text: e.message }));
    });
  }
  window.addEventListener("hashchange", route);

  function heading(text) {
    const h = el("h1", { tabindex: "-1", text });
    window.setTimeout(() => h.focus(), 0);
    return h;
  }

  function table(caption, columns, rows) {
    const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null, text: c.title })));
    const body = rows.length
      ? rows.map((r) => el("tr", {}, columns.map((c) => el("td", { class: c.num ? "num" : null }, c.cell(r)))))
      : [el("tr", {}, el("td", { colspan: columns.length, class: "meta", text: "Nothing to show." }))];
    return el("div", { class: "table-wrap" }, el("table", {}, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, body)));
  }

  function field(id, label, control) {
    control.id = id;
    return el("div", {}, el("label", { for: id, text: label }), control);
  }

  function select(options, value) {
    return el("select", {}, options.map(([v, t]) => el("option", { value: v, selected: v === value, text: t })));
  }

  // A list with filters and cursor paging; `load(filters, cursor)` answers a page.
  function pagedList({ title, filters, columns, load, caption }) {
    const state = { cursors: [null], index: 0, shown: 0 };
    const results = el("div");
    const form = el("form", { class: "filters", role: "search" }, filters.map((f) => f.node),
      el("button", { type: "submit", text: "Search" }));
    const prev = el("button", { type: "button", class: "secondary", text: "Previous page" });
    const next = el("button", { type: "button", class: "secondary", text: "Next page" });
    const where = el("span", { class: "meta" });
    async function show() {
      const values = Object.fromEntries(filters.map((f) => [f.name, f.value()]));
      const mine = ++state.shown;
      const page = await load(values, state.cursors[state.index]);
      if (mine !== state.shown) return; // a newer request answers instead
      state.cursors[state.index + 1] = page.next_cursor || null;
      results.replaceChildren(table(caption, columns, page.items));
      prev.disabled = state.index === 0;
      next.disabled = !page.next_cursor;
      where.textContent = "Page " + (state.index + 1);
      announce(page.items.length + " " + caption.toLowerCase() + " shown");
    }
    form.addEventListener("submit", (e) => { e.preventDefault(); state.cursors = [null]; state.index = 0; show().catch(fail); });
    prev.addEventListener("click", () => { state.index = Math.max(0, state.index - 1); show().catch(fail); });
    next.addEventListener("click", () => { state.index += 1; show().catch(fail); });
    function fail(e) { results.replaceChildren(el("p", { class: "error", role: "alert", text: e.message })); }
    view.replaceChildren(heading(title), form, results, el("div", { class: "pager" }, prev, where, next));
    return show();
  }

  function input(name, type) {
    const i = el("input", { type: type || "search", name });
    return { name, node: null, input: i, value: () => i.value.trim() };
  }

  // ------------------------------------------------------------ overview

  async function overview() {
    const f = await call("GET", "/admin/analytics");
    currency = f.currency;
    const cards = [
      ["MRR", money(f.mrr), "mrr"], ["ARR", money(f.arr), "arr"],
      ["Active subscriptions", f.active_subscriptions, "active"], ["Trialing", f.trialing, "trialing"],
      ["Past due", f.past_due, "past-due"], ["Churn (30 days)", percent(f.churn_rate_30d), "churn"],
      ["Sign-ups this month", f.new_signups_this_month, "signups"],
      ["Trial conversion", percent(f.trial_conversion_rate), "conversion"],
      ["Seats in use", f.seats_in_use + " / " + f.seats_total, "seats"],
      ["Seat utilization", percent(f.license_utilization), "utilization"],
    ];
    const list = el("dl", { class: "cards" }, cards.map(([label, value, id]) =>
      el("div", { class: "card", "data-figure": id }, el("dt", { text: label }), el("dd", { text: String(value) }))));
    const charts = el("div", { class: "charts" });
    // The API serves the figures the scheduler stored last: say when they are of.
    const asOf = new Date(f.as_of * 1000).toISOString().slice(0, 16).replace("T", " ");
    const stamp = el("p", { class: "as-of", text: "Figures as of " + asOf + " UTC" });
    view.replaceChildren(heading("Overview"), stamp, list, el("h2", { text: "The last 90 days" }), charts);
    const series = [
      ["mrr", "MRR", money], ["signups", "Sign-ups per day", String],
      ["seats_in_use", "Seats in use", String], ["active_subscriptions", "Active subscriptions", String],
    ];
    for (const [metric, label, format] of series) {
      const s = await call("GET", "/admin/analytics/series" + query({ metric, days: 90 }));
      charts.append(chart(metric, label, s.points, format));
    }
  }

  function chart(metric, label, points, format) {
    const known = points.filter((p) => p.value !== null);
    const summary = known.length
      ? label + ": " + known.length + " days with figures, latest " + format(known[known.length - 1].value)
      : label + ": no figures yet";
    const plot = el("div", { role: "img", "aria-label": summary, "data-chart": metric });
    const rows = known.map((p) => el("tr", {}, el("td", { text: p.date + (p.live ? " (today)" : "") }), el("td", { class: "num", text: format(p.value) })));
    const data = el("details", {}, el("summary", { text: "Figures as a table" }),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Day" }), el("th", { scope: "col", class: "num", text: label }))), el("tbody", {}, rows)));
    const fig = el("figure", { class: "chart" }, el("figcaption", { text: label }), plot, data);
    window.requestAnimationFrame(() => {
      if (typeof uPlot === "undefined") return;
      const xs = points.map((p) => Date.parse(p.date + "T00:00:00Z") / 1000);
      const ys = points.map((p) => p.value);
      const width = () => Math.max(240, Math.floor(plot.getBoundingClientRect().width));
      const u = new uPlot({
        width: width(), height: 220,
        scales: { x: { time: true } },
        axes: [{}, { values: (u, vals) => vals.map((v) => metric === "mrr" ? money(v) : String(v)), size: 70 }],
        series: [{}, { label, stroke: "#0b5cad", width: 2, spanGaps: false, value: (u, v) => v === null ? "—" : format(v) }],
      }, [xs, ys], plot);
      // Follow the layout (the grid reflows as charts arrive, and on a resize).
      new ResizeObserver(() => {
        const w = width();
        if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: 220 });
      }).observe(plot);
    });
    return fig;
  }

  // ------------------------------------------------------------ users

  function users() {
    const q = input("q");
    q.node = field("users-q", "Search e-mail, name, company", q.input);
    const status = select([["", "Any status"], ["active", "Active"], ["unverified", "Unverified"], ["suspended", "Suspended"]], "");
    const statusFilter = { name: "status", node: field("users-status", "Status", status), value: () => status.value };
    return pagedList({
      title: "Users", caption: "Users", filters: [q, statusFilter],
      load: (v, cursor) => call("GET", "/admin/users" + query({ q: v.q, status: v.status, cursor, limit: 25 })),
      columns: [
        { title: "E-mail", cell: (u) => u.email },
        { title: "Name", cell: (u) => u.full_name },
        { title: "Company", cell: (u) => u.company || "—" },
        { title: "Status", cell: (u) => statusBadge(u.status) },
        { title: "Signed up", cell: (u) => when(u.created_at) },
        { title: "Action", cell: (u) => userAction(u) },
      ],
    });
  }

  function userAction(u) {
    const suspended = u.status === "suspended";
    const b = el("button", { type: "button", class: suspended ? "secondary" : "danger",
      text: suspended ? "Restore" : "Suspend", "aria-label": (suspended ? "Restore " : "Suspend ") + u.email });
    b.addEventListener("click", async () => {
      if (!suspended && !window.confirm("Suspend " + u.email + "? Their sessions and API keys are revoked.")) return;
      b.disabled = true;
      try {
        const d = await call("POST", "/admin/users/" + encodeURIComponent(u.id) + (suspended ? "/restore" : "/suspend"));
        announce(d.email + " is now " + d.status);
        route();
      } catch (e) { b.disabled = false; window.alert(e.message); }
    });
    return b;
  }

  // ------------------------------------------------------------ orgs

  function orgs() {
    const q = input("q");
    q.node = field("orgs-q", "Search name", q.input);
    const mode = select([["", "Any mode"], ["active", "Active"], ["read_only", "Read-only"], ["archived", "Archived"]], "");
    const plan = el("input", { type: "text", placeholder: "e.g. pro" });
    return pagedList({
      title: "Organizations", caption: "Organizations",
      filters: [q, { name: "mode", node: field("orgs-mode", "Mode", mode), value: () => mode.value },
        { name: "plan", node: field("orgs-plan", "Plan", plan), value: () => plan.value.trim() }],
      load: (v, cursor) => call("GET", "/admin/orgs" + query({ q: v.q, mode: v.mode, plan: v.plan, cursor, limit: 25 })),
      columns: [
        { title: "Name", cell: (o) => el("a", { href: "#/orgs/" + encodeURIComponent(o.id), text: o.name }) },
        { title: "Plan", cell: (o) => o.plan },
        { title: "Subscription", cell: (o) => statusBadge(o.subscription_status) },
        { title: "Mode", cell: (o) => [statusBadge(o.mode), o.held ? " on hold" : ""] },
        { title: "Created", cell: (o) => when(o.created_at) },
      ],
    });
  }

  async function orgPage(id) {
    const o = await call("GET", "/admin/orgs/" + encodeURIComponent(id));
    const held = !!o.profile.hold;
    const note = el("input", { type: "text", maxlength: 500 });
    const toggle = el("button", { type: "button", class: held ? "secondary" : "danger", text: held ? "Release hold" : "Put on hold" });
    toggle.addEventListener("click", async () => {
      toggle.disabled = true;
      try {
        const body = held ? undefined : (note.value.trim() ? { note: note.value.trim() } : undefined);
        await call("POST", "/admin/orgs/" + encodeURIComponent(id) + (held ? "/release" : "/hold"), body);
        announce(held ? "Hold released" : "Organization put on hold");
        await orgPage(id);
      } catch (e) { toggle.disabled = false; window.alert(e.message); }
    });
    const profile = el("dl", { class: "cards" },
      [["Plan", o.profile.tier], ["Mode", o.profile.mode], ["Reason", o.profile.reason || "—"],
        ["Subscription", o.subscription.status], ["Seats in plan", o.subscription.seats]]
        .map(([k, v]) => el("div", { class: "card" }, el("dt", { text: k }), el("dd", { text: String(v) }))));
    const holdInfo = held
      ? el("p", { text: "On hold since " + when(o.profile.hold.since) + (o.profile.hold.note ? ": " + o.profile.hold.note : "") })
      : field("hold-note", "Note (why, for operators)", note);
    const usage = table("Usage against the plan", [
      { title: "Entitlement", cell: (u) => u.entitlement.replace(/_/g, " ") },
      { title: "Use", cell: (u) => usageBar(u) },
      { title: "Used / limit", num: true, cell: (u) => u.used + " / " + (u.limit < 0 ? "unlimited" : u.limit) },
    ], o.usage);
    view.replaceChildren(
      heading(o.name),
      el("p", { class: "meta" }, el("code", { text: o.id }), " · created " + when(o.created_at)),
      profile,
      el("div", { class: "actions" }, holdInfo, toggle),
      el("h2", { text: "Usage" }), usage,
      el("h2", { text: "Members" }),
      table("Members", [
        { title: "E-mail", cell: (m) => m.email || "—" }, { title: "Name", cell: (m) => m.full_name || "—" },
        { title: "Role", cell: (m) => m.role }, { title: "Joined", cell: (m) => when(m.joined_at) },
      ], o.members),
      el("h2", { text: "Licenses" }),
      table("Licenses", [
        { title: "License", cell: (l) => el("code", { text: l.id }) }, { title: "Plan", cell: (l) => l.plan_id },
        { title: "Status", cell: (l) => [statusBadge(l.status), l.held ? " (operator)" : ""] },
        { title: "Seats in use", num: true, cell: (l) => l.seats_in_use + " / " + (l.max_seats < 0 ? "unlimited" : l.max_seats) },
        { title: "Expires", cell: (l) => when(l.expires_at) },
      ], o.licenses),
    );
  }

  function usageBar(u) {
    const max = u.limit < 0 ? Math.max(u.used, 1) : Math.max(u.limit, 1);
    const pct = Math.min(100, Math.round((u.used / max) * 100));
    const bar = el("div", { class: "bar" + (u.limit >= 0 && u.used >= u.limit && u.limit > 0 ? " full" : ""), role: "meter",
      "aria-valuemin": 0, "aria-valuemax": u.limit < 0 ? u.used : u.limit, "aria-valuenow": u.used,
      "aria-label": u.entitlement.replace(/_/g, " ") }, el("span"));
    bar.firstChild.style.width = pct + "%";
    return bar;
  }

  // ------------------------------------------------------------ licenses

  function licenses() {
    const q = input("q");
    q.node = field("licenses-q", "License key, owner e-mail, org or license id", q.input);
    const status = select([["", "Any status"], ["active", "Active"], ["suspended", "Suspended"], ["inactive", "Inactive"], ["expired", "Expired"]], "");
    return pagedList({
      title: "Licenses", caption: "Licenses",
      filters: [q, { name: "status", node: field("licenses-status", "Status", status), value: () => status.value }],
      load: (v, cursor) => call("GET", "/admin/licenses" + query({ q: v.q, status: v.status, cursor, limit: 25 })),
      columns: [
        { title: "Key", cell: (l) => el("code", { text: l.key }) },
        { title: "Organization", cell: (l) => el("a", { href: "#/orgs/" + encodeURIComponent(l.org_id), text: l.org_name || l.org_id }) },
        { title: "Owner", cell: (l) => l.owner_email || "—" },
        { title: "Plan", cell: (l) => l.plan_id },
        { title: "Status", cell: (l) => statusBadge(l.status) },
        { title: "Seats", num: true, cell: (l) => l.seats_used + " / " + (l.max_seats < 0 ? "unlimited" : l.max_seats) },
        { title: "Action", cell: (l) => licenseAction(l) },
      ],
    });
  }

  function licenseAction(l) {
    const b = el("button", { type: "button", class: l.held ? "secondary" : "danger", text: l.held ? "Reinstate" : "Suspend",
      "aria-label": (l.held ? "Reinstate " : "Suspend ") + l.key });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const d = await call("POST", "/admin/licenses/" + encodeURIComponent(l.id) + (l.held ? "/reinstate" : "/suspend"));
        announce("License " + d.key + " is " + d.status);
        route();
      } catch (e) { b.disabled = false; window.alert(e.message); }
    });
    return b;
  }

  // ------------------------------------------------------------ audit

  function audit() {
    const org = input("org", "text"); org.node = field("audit-org", "Org id", org.input);
    const actor = input("actor", "text"); actor.node = field("audit-actor", "Actor", actor.input);
    const action = input("action", "text"); action.node = field("audit-action", "Action", action.input);
    return pagedList({
      title: "Audit log", caption: "Audit entries", filters: [org, actor, action],
      load: (v, cursor) => call("GET", "/admin/audit" + query({ org: v.org, actor: v.actor, action: v.action, cursor, limit: 50 })),
      columns: [
        { title: "When", cell: (a) => when(a.at) }, { title: "Domain", cell: (a) => a.domain },
        { title: "Action", cell: (a) => a.action }, { title: "Actor", cell: (a) => a.actor },
        { title: "Organization", cell: (a) => a.org_id ? el("a", { href: "#/orgs/" + encodeURIComponent(a.org_id), text: a.org_id }) : "—" },
        { title: "Target", cell: (a) => a.target ? el("code", { text: a.target }) : "—" },
      ],
    });
  }

  // ------------------------------------------------------------ dead letters

  async function deadLetters() {
    const page = await call("GET", "/admin/dead-letters" + query({ limit: 100 }));
    view.replaceChildren(heading("Dead letters"),
      el("p", { class: "meta", text: "Messages the outbox gave up on. Replay puts one back on the queue; resolve drops it." }),
      table("Dead letters", [
        { title: "Message", cell: (d) => el("code", { text: d.message_id }) },
        { title: "Kind", cell: (d) => d.kind || "—" },
        { title: "Created", cell: (d) => when(d.created_at) },
        { title: "Deliveries", num: true, cell: (d) => d.receive_count },
        { title: "About", cell: (d) => d.summary && d.summary.to ? d.summary.to + " — " + d.summary.subject : JSON.stringify(d.summary) },
        { title: "Action", cell: (d) => [letterAction(d, "replay", "Replay"), " ", letterAction(d, "resolve", "Resolve")] },
      ], page.items));
    announce(page.items.length + " dead letters");
  }

  function letterAction(d, verb, label) {
    const b = el("button", { type: "button", class: verb === "resolve" ? "secondary" : null, text: label, "aria-label": label + " " + d.message_id });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await call("POST", "/admin/dead-letters/" + encodeURIComponent(d.message_id) + "/" + verb);
        await deadLetters();
        announce(label + " done");
      } catch (e) { b.disabled = false; window.alert(e.message); }
    });
    return b;
  }
})();
