// The local server's pages: each form posts JSON to Skiff's API (same origin) and
// shows the API's own error messages next to the fields they name.
//
// A form names its endpoint in data-endpoint; the inputs marked data-send travel
// in the body under their name, with the token of the page's URL beside them.
// A form with data-sign-in first signs in with its data-sign-in-field inputs and
// sends the call with the access token it gets. data-same-as="<name>" marks a
// confirmation input that must repeat another.
"use strict";

// Read once, then dropped from the address bar and the history.
const TOKEN = new URLSearchParams(window.location.search).get("token") || "";
if (window.location.search) {
  window.history.replaceState(null, "", window.location.pathname);
}

function fieldsOf(form, marker) {
  const body = {};
  for (const input of form.querySelectorAll("input[" + marker + "]")) {
    body[input.name] = input.value;
  }
  return body;
}

function clearErrors(form) {
  for (const p of form.querySelectorAll("[data-error-for]")) p.textContent = "";
  for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
}

function showFieldError(form, name, message) {
  const slot = form.querySelector('[data-error-for="' + name + '"]');
  const input = form.querySelector('input[name="' + name + '"]');
  if (!slot || !input) return false;
  slot.textContent = slot.textContent ? slot.textContent + " " + message : message;
  input.setAttribute("aria-invalid", "true");
  return true;
}

function setStatus(form, text, ok) {
  const status = form.querySelector(".status");
  status.textContent = text;
  status.classList.toggle("ok", ok);
  status.focus();
}

async function call(endpoint, body, accessToken) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  if (accessToken) headers.authorization = "Bearer " + accessToken;
  const response = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch (_) {
    answer = null;
  }
  return { ok: response.ok, answer };
}

// The problem+json answer as messages: per field where the page has the field,
// the rest (and the detail) in the form's status line.
function showProblem(form, answer) {
  const loose = [];
  const errors = answer && Array.isArray(answer.errors) ? answer.errors : [];
  for (const e of errors) {
    if (!showFieldError(form, e.field, e.message)) loose.push(e.message);
  }
  const detail = answer && answer.detail ? answer.detail : "Skiff could not do this; please try again.";
  setStatus(form, errors.length && !loose.length ? detail : [detail].concat(loose).join(" "), false);
  const invalid = form.querySelector('input[aria-invalid="true"]');
  if (invalid) invalid.focus();
}

async function submit(form) {
  clearErrors(form);
  let mismatch = false;
  for (const confirm of form.querySelectorAll("input[data-same-as]")) {
    const original = form.querySelector('input[name="' + confirm.dataset.sameAs + '"]');
    if (original && original.value !== confirm.value) {
      showFieldError(form, confirm.name, "The two passwords differ.");
      mismatch = true;
    }
  }
  if (mismatch) {
    setStatus(form, "Please correct the marked fields.", false);
    form.querySelector('input[aria-invalid="true"]').focus();
    return;
  }
  if (!TOKEN) {
    setStatus(form, "This link has no token. Open the link from the e-mail again.", false);
    return;
  }
  let accessToken = null;
  if (form.dataset.signIn) {
    const signedIn = await call(form.dataset.signIn, fieldsOf(form, "data-sign-in-field"));
    if (!signedIn.ok) {
      showProblem(form, signedIn.answer);
      return;
    }
    accessToken = signedIn.answer.access_token;
  }
  const body = fieldsOf(form, "data-send");
  body.token = TOKEN;
  const done = await call(form.dataset.endpoint, body, accessToken);
  if (!done.ok) {
    showProblem(form, done.answer);
    return;
  }
  for (const input of form.querySelectorAll("input")) input.value = "";
  setStatus(form, form.dataset.done, true);
}

for (const form of document.querySelectorAll("form[data-endpoint]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    submit(form)
      .catch(() => setStatus(form, "Skiff could not be reached; please try again.", false))
      .finally(() => {
        button.disabled = false;
      });
  });
}
