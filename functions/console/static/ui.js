// Small DOM helpers: every text goes in as text (never HTML), every field gets a label.

let fieldCounter = 0;

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replace a node's children, leaving out null/false (conditional parts) and flattening lists.
export function fill(parent, ...children) {
  parent.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return parent;
}

export function uid(prefix = "f") {
  fieldCounter += 1;
  return `${prefix}-${fieldCounter}`;
}

// A labelled control with a place for its error. `control` is an input/select/textarea.
export function field(labelText, control, { hint, name } = {}) {
  const id = control.id || uid("field");
  control.id = id;
  if (name) control.dataset.field = name;
  const error = el("p", { class: "error", id: `${id}-error`, hidden: true });
  const parts = [el("label", { for: id, text: labelText }), control];
  if (hint) {
    const hintNode = el("p", { class: "hint", id: `${id}-hint`, text: hint });
    control.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    parts.push(hintNode);
  } else {
    control.setAttribute("aria-describedby", `${id}-error`);
  }
  parts.push(error);
  return el("div", { class: "field", dataset: { fieldFor: name || "" } }, parts);
}

export function input(attrs = {}) {
  return el("input", { type: "text", ...attrs });
}

export function select(options, value, attrs = {}) {
  const node = el("select", attrs);
  for (const option of options) {
    const [optionValue, text] = Array.isArray(option) ? option : [option, option];
    node.append(el("option", { value: optionValue, text, selected: optionValue === value }));
  }
  return node;
}

// Show the API's field errors next to their fields (data-field = the document path);
// returns the problems no field on the page claims.
export function showFieldErrors(root, errors) {
  for (const node of root.querySelectorAll(".error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const unclaimed = [];
  let first = null;
  for (const problem of errors) {
    const control = findControl(root, problem.field);
    if (!control) {
      unclaimed.push(problem);
      continue;
    }
    control.setAttribute("aria-invalid", "true");
    const error = root.querySelector(`#${CSS.escape(control.id)}-error`);
    if (error) {
      error.hidden = false;
      error.textContent = error.textContent ? `${error.textContent}; ${problem.message}` : problem.message;
    }
    first = first || control;
  }
  if (first) first.focus();
  return unclaimed;
}

function findControl(root, path) {
  // The most specific field whose name is the path or a prefix of it.
  let candidate = path;
  while (candidate) {
    const control = root.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
    if (control) return control;
    const cut = Math.max(candidate.lastIndexOf("."), candidate.lastIndexOf("["));
    candidate = cut > 0 ? candidate.slice(0, cut) : "";
  }
  return null;
}

// A message to show after the next navigation (e.g. "Saved" before opening the saved item).
export const flash = { message: "", bad: false };

export function notice(message, bad = false) {
  const node = document.getElementById("notice");
  node.textContent = message;
  node.className = bad ? "notice bad" : "notice";
  node.hidden = !message;
}

export function table(columns, rows, { caption, stack = true } = {}) {
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null, text: c.label })));
  const body = rows.map((row) =>
    el(
      "tr",
      {},
      columns.map((c) => {
        const value = c.value(row);
        return el("td", { class: c.num ? "num" : null, "data-label": c.label }, value instanceof Node ? value : String(value ?? ""));
      }),
    ),
  );
  return el(
    "div",
    { class: "table-wrap" },
    el("table", { class: stack ? "stack" : null }, caption ? el("caption", { class: "muted", text: caption }) : null, el("thead", {}, head), el("tbody", {}, body)),
  );
}

export function statusBadge(status) {
  return el("span", { class: `status status-${status}`, text: status });
}

export function formatInstant(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}

export function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
}

export function downloadCsv(filename, header, rows) {
  const escape = (value) => {
    const text = String(value ?? "");
    // Leading = + - @ would run as a formula in a spreadsheet: quote it away.
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const text = [header, ...rows].map((row) => row.map(escape).join(",")).join("\r\n") + "\r\n";
  const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
}

export function chart(canvas, config) {
  if (!window.Chart) return null; // the vendored script failed to load: the tables still show
  return new window.Chart(canvas, config);
}

export function heading(text) {
  return el("h1", { text, tabindex: "-1" });
}
