// The campaign editor: every field, the audience as a form with a live size estimate,
// content per channel and locale with a live preview for a real customer, the API's
// validation errors next to their fields, and a warning before unsaved changes are lost.
import { ApiError, get, post, put } from "../api.js";
import { guard } from "../app.js";
import { actionButtons } from "./campaigns.js";
import { el, field, fill, flash, heading, input, notice, select, showFieldErrors, statusBadge } from "../ui.js";

const OCCASIONS = [
  ["birthday", "Birthday"],
  ["holiday", "Holiday"],
  ["inactivity", "Inactivity reminder"],
  ["date", "Customer's date (anniversary, renewal)"],
  ["replenishment", "Replenishment reminder"],
  ["post_purchase_survey", "Post-purchase survey"],
];
const FEB29 = [["feb28", "Feb 28 in other years"], ["mar1", "Mar 1 in other years"]];
// Occasion parameters: [key, label, kind, options/default, hint].
const OCCASION_FIELDS = {
  birthday: [["feb29", "Feb 29 birthdays", "select", FEB29]],
  holiday: [
    ["countries", "Countries (ISO codes, comma-separated)", "list", [], "e.g. DE, FR, US"],
    ["holidays", "Public holidays (names, comma-separated)", "list", [], "as the holidays calendar names them, e.g. Easter Monday"],
    ["custom", "Custom days (JSON list)", "json", [], '[{"name": "First day of spring", "month": 3, "day": 20}]'],
    ["lunar", "Lunar days (JSON list)", "json", [], '[{"name": "Lantern Festival", "month": 1, "day": 15}]'],
  ],
  inactivity: [["days", "Days without activity", "int", 30]],
  date: [
    ["date", "Date name", "text", "", "the customer's named date, e.g. signup or renewal"],
    ["repeat", "Repeat", "select", [["yearly", "Every year"], ["once", "Once"]]],
    ["offset_days", "Days before (-) or after (+) the date", "int", 0],
    ["feb29", "Feb 29 dates", "select", FEB29],
  ],
  replenishment: [
    ["days_after_purchase", "Days after purchase", "int", 30],
    ["skus", "Products (SKUs, comma-separated)", "list", []],
  ],
  post_purchase_survey: [
    ["delay_days", "Days after delivery", "int", 3],
    ["kind", "Question", "select", [["nps", "NPS (0-10)"], ["csat", "CSAT (1-5)"]]],
    ["throttle_days", "At most one survey per customer in (days)", "int", 30],
  ],
};
const ATTRIBUTES = [
  "country", "locale", "timezone", "attributes.tier", "created_at", "last_active_at",
  "days_since_last_order", "orders_count", "total_spent", "rfm_segment", "nps_group",
];
const OPERATORS = [
  ["eq", "is"], ["in", "is one of"], ["gte", "at least"], ["lte", "at most"],
  ["exists", "exists (true/false)"], ["before", "before (date)"], ["after", "after (date)"],
];
const EMPTY = {
  campaign_id: "", name: "", occasion: { type: "birthday", feb29: "feb28" }, channels: ["email"],
  send_at_local: "09:00", default_timezone: "UTC", category: "marketing",
  content: { email: { en: { subject: "", text: "" } } },
};

function parseScalar(text) {
  const value = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value === "true" || value === "false") return value === "true";
  return value;
}

function leafOf(row) {
  const op = row.op.value;
  const raw = row.value.value;
  let value;
  if (op === "in") value = raw.split(",").map((v) => parseScalar(v)).filter((v) => v !== "");
  else if (op === "exists") value = raw.trim() !== "false";
  else if (op === "before" || op === "after") value = raw.trim();
  else value = parseScalar(raw);
  return { attr: row.attr.value.trim(), [op]: value };
}

function isFlatRule(rule) {
  if (!rule) return true;
  const group = rule.all || rule.any;
  const leaves = group || [rule];
  return leaves.every((leaf) => leaf && typeof leaf.attr === "string");
}

export async function render(main, { id, user }) {
  const canEdit = Boolean(user && user.canEdit);
  let stored = null;
  let doc = structuredClone(EMPTY);
  if (id) {
    stored = await get(`campaigns/${encodeURIComponent(id)}`);
    doc = structuredClone(stored.campaign);
  }
  const form = el("form", { novalidate: true, "aria-label": "Campaign" });
  const problems = el("div", { role: "alert", class: "error" });
  const dirty = () => {
    guard.dirty = true;
  };
  form.addEventListener("input", dirty);
  form.addEventListener("change", dirty);

  // ------------------------------------------------------------ basics
  const idInput = input({ value: doc.campaign_id, name: "campaign_id", required: true, autocomplete: "off", disabled: Boolean(stored) });
  const nameInput = input({ value: doc.name, name: "name", required: true });
  const category = select([["marketing", "Marketing (counts toward the caps)"], ["service", "Service"]], doc.category || "marketing");
  const topic = input({ value: doc.topic || "", placeholder: "the occasion type", autocomplete: "off" });
  const topicNames = el(
    "textarea",
    { rows: 2, placeholder: "de = Geburtstagsangebote" },
    Object.entries(doc.topic_names || {}).map(([locale, name]) => `${locale} = ${name}`).join("\n"),
  );
  const basics = el(
    "fieldset",
    {},
    el("legend", { text: "Campaign" }),
    el(
      "div",
      { class: "grid2" },
      field("Campaign ID", idInput, { name: "campaign_id", hint: stored ? "cannot change after saving" : "letters, digits . _ : @ + -" }),
      field("Name", nameInput, { name: "name" }),
      field("Category", category, { name: "category" }),
      field("Topic", topic, { name: "topic", hint: "what a customer can switch off in the preference centre" }),
      field("Topic label per language", topicNames, { name: "topic_names", hint: "what the preference centre shows: one line per language, e.g. de = Geburtstagsangebote" }),
    ),
  );

  // ------------------------------------------------------------ occasion
  const occasionType = select(OCCASIONS, doc.occasion.type, {});
  const occasionFields = el("div", { class: "grid2" });
  let occasionControls = {};
  const drawOccasion = (values) => {
    occasionControls = {};
    occasionFields.replaceChildren();
    for (const [key, label, kind, options, hint] of OCCASION_FIELDS[occasionType.value] || []) {
      const current = values[key];
      let control;
      if (kind === "select") control = select(options, current ?? options[0][0]);
      else if (kind === "int") control = input({ type: "number", value: current ?? options, step: 1 });
      else if (kind === "list") control = input({ value: (current || []).join(", ") });
      else if (kind === "json") control = el("textarea", { rows: 3, placeholder: hint || "" }, JSON.stringify(current || []));
      else control = input({ value: current ?? options });
      occasionControls[key] = [kind, control];
      occasionFields.append(field(label, control, { name: `occasion.${key}`, hint: kind === "json" ? null : hint }));
    }
  };
  occasionType.addEventListener("change", () => drawOccasion({}));
  drawOccasion(doc.occasion);
  const occasionSet = el(
    "fieldset",
    {},
    el("legend", { text: "Occasion" }),
    field("Occasion", occasionType, { name: "occasion.type" }),
    occasionFields,
  );

  // ------------------------------------------------------------ when and where
  const sendAt = input({ type: "time", value: doc.send_at_local || "09:00", step: 60 });
  const timezone = input({ value: doc.default_timezone || "UTC", list: "timezones", autocomplete: "off" });
  const zones = el("datalist", { id: "timezones" }, ["UTC", "Europe/Berlin", "Europe/London", "Europe/Madrid", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Shanghai", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney"].map((z) => el("option", { value: z })));
  const channelBoxes = {};
  const channelSet = el("fieldset", { "data-field": "channels", id: "channels-set" }, el("legend", { text: "Channels" }));
  for (const channel of ["email", "sms"]) {
    const box = el("input", { type: "checkbox", id: `channel-${channel}`, checked: doc.channels.includes(channel) });
    channelBoxes[channel] = box;
    channelSet.append(el("div", { class: "inline" }, box, el("label", { for: box.id, text: channel === "email" ? "E-mail" : "SMS" })));
  }
  channelSet.append(el("p", { class: "error", id: "channels-set-error", hidden: true }));
  const smsSegments = input({ type: "number", min: 1, max: 10, value: doc.sms_max_segments ?? 3 });
  const when = el(
    "fieldset",
    {},
    el("legend", { text: "When and how" }),
    el(
      "div",
      { class: "grid2" },
      field("Send at (local time)", sendAt, { name: "send_at_local", hint: "in each customer's own timezone" }),
      field("Default timezone", timezone, { name: "default_timezone", hint: "for customers without one" }),
      field("SMS: at most segments", smsSegments, { name: "sms_max_segments" }),
    ),
    zones,
    channelSet,
  );

  // ------------------------------------------------------------ audience
  const audienceSet = el("fieldset", {}, el("legend", { text: "Audience" }));
  const match = select([["all", "all of these conditions"], ["any", "any of these conditions"]], doc.audience && doc.audience.any ? "any" : "all");
  const rows = [];
  const rowsBox = el("div", {});
  const estimateOut = el("p", { "aria-live": "polite", class: "muted", text: "" });
  const rawAudience = el("textarea", { rows: 5 }, doc.audience ? JSON.stringify(doc.audience, null, 2) : "");
  const flat = isFlatRule(doc.audience);
  const addRow = (leaf = { attr: "country", eq: "" }) => {
    const op = OPERATORS.map(([o]) => o).find((o) => o in leaf) || "eq";
    let value = leaf[op];
    if (Array.isArray(value)) value = value.join(", ");
    const row = {
      attr: input({ value: leaf.attr, list: "audience-attributes", autocomplete: "off" }),
      op: select(OPERATORS, op),
      value: input({ value: value === undefined ? "" : String(value) }),
    };
    const index = rows.length;
    const remove = el("button", {
      type: "button",
      class: "secondary",
      text: "Remove",
      "aria-label": `Remove condition ${index + 1}`,
      onclick: () => {
        rows.splice(rows.indexOf(row), 1);
        node.remove();
        dirty();
        scheduleEstimate();
      },
    });
    const node = el(
      "div",
      { class: "audience-row" },
      field(`Attribute ${index + 1}`, row.attr, { name: `audience.${match.value}[${index}].attr` }),
      field(`Condition ${index + 1}`, row.op),
      field(`Value ${index + 1}`, row.value, { name: `audience.${match.value}[${index}]` }),
      remove,
    );
    rows.push(row);
    rowsBox.append(node);
  };
  if (flat && doc.audience) for (const leaf of doc.audience.all || doc.audience.any || [doc.audience]) addRow(leaf);
  const attributeList = el("datalist", { id: "audience-attributes" }, ATTRIBUTES.map((a) => el("option", { value: a })));
  if (flat) {
    audienceSet.append(
      el("p", { class: "muted", text: "No condition: every customer. A customer without the attribute never matches a comparison." }),
      field("Customers matching", match),
      rowsBox,
      attributeList,
      el("button", { type: "button", class: "secondary", text: "Add condition", onclick: () => { addRow(); dirty(); } }),
      estimateOut,
    );
  } else {
    audienceSet.append(
      el("p", { class: "muted", text: "This rule nests groups (any/not inside all), which the form cannot show: edit it as JSON." }),
      field("Audience rule (JSON)", rawAudience, { name: "audience" }),
      estimateOut,
    );
  }
  const audience = () => {
    if (!flat) return rawAudience.value.trim() ? JSON.parse(rawAudience.value) : null;
    const leaves = rows.filter((r) => r.attr.value.trim()).map(leafOf);
    return leaves.length ? { [match.value]: leaves } : null;
  };

  // ------------------------------------------------------------ offer and measurement
  const hasOffer = el("input", { type: "checkbox", id: "has-offer", checked: Boolean(doc.offer) });
  const offer = doc.offer || { percent_off: 10, valid_days: 14, code_prefix: "OFFER" };
  const percentOff = input({ type: "number", min: 0.01, max: 100, step: "any", value: offer.percent_off });
  const validDays = input({ type: "number", min: 1, max: 366, value: offer.valid_days });
  const prefix = input({ value: offer.code_prefix, autocomplete: "off" });
  const holdout = input({ type: "number", min: 0, max: 50, step: "any", value: doc.holdout_percent ?? 0 });
  const attribution = input({ type: "number", min: 1, max: 90, value: doc.attribution_days ?? 7 });
  const extras = el(
    "fieldset",
    {},
    el("legend", { text: "Offer and measurement" }),
    el("div", { class: "inline" }, hasOffer, el("label", { for: "has-offer", text: "Include a coupon code" })),
    el(
      "div",
      { class: "grid2" },
      field("Percent off", percentOff, { name: "offer.percent_off" }),
      field("Valid for (days)", validDays, { name: "offer.valid_days" }),
      field("Code prefix", prefix, { name: "offer.code_prefix" }),
      field("Holdout (% of the audience held back)", holdout, { name: "holdout_percent", hint: "0-50; measures the lift" }),
      field("Attribution window (days)", attribution, { name: "attribution_days" }),
    ),
  );

  // ------------------------------------------------------------ content
  const content = structuredClone(doc.content || {});
  const contentSet = el("div", {});
  const contentControls = {};
  const drawContent = () => {
    contentSet.replaceChildren();
    for (const channel of ["email", "sms"]) {
      if (!channelBoxes[channel].checked) continue;
      const locales = content[channel] || (content[channel] = { en: channel === "email" ? { subject: "", text: "" } : { text: "" } });
      const set = el("fieldset", { "data-field": `content.${channel}`, id: `content-${channel}` }, el("legend", { text: channel === "email" ? "E-mail content" : "SMS content" }));
      set.append(el("p", { class: "error", id: `content-${channel}-error`, hidden: true }));
      for (const locale of Object.keys(locales)) {
        const template = locales[locale];
        const group = el("fieldset", { class: "locale", "data-locale": locale }, el("legend", { text: `${channel === "email" ? "E-mail" : "SMS"} · ${locale}` }));
        const controls = {};
        const parts = channel === "email" ? [["subject", "Subject", "input"], ["text", "Text", "textarea"], ["html", "HTML (optional)", "textarea"]] : [["text", "Text", "textarea"]];
        for (const [part, label, kind] of parts) {
          const control = kind === "input" ? input({ value: template[part] || "" }) : el("textarea", { rows: part === "html" ? 5 : 4 }, template[part] || "");
          control.addEventListener("input", () => {
            template[part] = control.value;
            schedulePreview();
          });
          controls[part] = control;
          group.append(field(label, control, { name: `content.${channel}.${locale}.${part}` }));
        }
        group.append(
          el("button", {
            type: "button",
            class: "secondary",
            text: `Remove ${locale}`,
            onclick: () => {
              delete locales[locale];
              dirty();
              drawContent();
            },
          }),
        );
        contentControls[`${channel}.${locale}`] = controls;
        set.append(group);
      }
      const newLocale = input({ placeholder: "e.g. de or zh-CN", autocomplete: "off" });
      set.append(
        el(
          "div",
          { class: "toolbar" },
          field(`Add a locale to ${channel === "email" ? "the e-mail" : "the SMS"}`, newLocale),
          el("button", {
            type: "button",
            class: "secondary",
            text: "Add locale",
            onclick: () => {
              const code = newLocale.value.trim();
              if (!code || locales[code]) return;
              locales[code] = channel === "email" ? { subject: "", text: "" } : { text: "" };
              dirty();
              drawContent();
            },
          }),
        ),
      );
      contentSet.append(set);
    }
  };
  for (const box of Object.values(channelBoxes)) box.addEventListener("change", drawContent);
  drawContent();

  // ------------------------------------------------------------ the document
  const documentNow = () => {
    const occasion = { type: occasionType.value };
    for (const [key, [kind, control]] of Object.entries(occasionControls)) {
      if (kind === "int") occasion[key] = control.value === "" ? undefined : Number(control.value);
      else if (kind === "list") occasion[key] = control.value.split(",").map((v) => v.trim()).filter(Boolean);
      else if (kind === "json") occasion[key] = control.value.trim() ? JSON.parse(control.value) : [];
      else occasion[key] = control.value;
    }
    const channels = Object.keys(channelBoxes).filter((c) => channelBoxes[c].checked);
    const body = {
      ...(stored ? stored.campaign : {}),
      campaign_id: idInput.value.trim(),
      name: nameInput.value,
      occasion,
      channels,
      send_at_local: sendAt.value,
      default_timezone: timezone.value.trim(),
      category: category.value,
      sms_max_segments: Number(smsSegments.value || 3),
      holdout_percent: Number(holdout.value || 0),
      attribution_days: Number(attribution.value || 7),
      content: Object.fromEntries(channels.map((c) => [c, content[c] || {}])),
    };
    if (topic.value.trim()) body.topic = topic.value.trim();
    else delete body.topic;
    const names = Object.fromEntries(
      topicNames.value
        .split("\n")
        .map((line) => line.split("="))
        .filter((parts) => parts.length >= 2 && parts[0].trim())
        .map(([locale, ...name]) => [locale.trim(), name.join("=").trim()]),
    );
    if (Object.keys(names).length) body.topic_names = names;
    else delete body.topic_names;
    const rule = audience();
    if (rule) body.audience = rule;
    else delete body.audience;
    if (hasOffer.checked) {
      body.offer = { percent_off: Number(percentOff.value), valid_days: Number(validDays.value), code_prefix: prefix.value.trim() };
    } else delete body.offer;
    delete body.status;
    return body;
  };
  const safeDocument = () => {
    try {
      return documentNow();
    } catch (error) {
      showFieldErrors(form, [{ field: flat ? "occasion" : "audience", message: `not valid JSON: ${error.message}` }]);
      return null;
    }
  };

  // ------------------------------------------------------------ estimate and preview
  let estimateTimer = null;
  const scheduleEstimate = () => {
    clearTimeout(estimateTimer);
    estimateTimer = setTimeout(runEstimate, 500);
  };
  const runEstimate = async () => {
    const body = safeDocument();
    if (!body) return;
    try {
      const result = await post("drafts/estimate", { campaign: { ...body, campaign_id: body.campaign_id || "draft" } });
      const reach = Object.entries(result.reachable).map(([c, n]) => `${n} by ${c}`).join(", ") || "nobody reachable";
      const held = Object.values(result.holdout || {}).reduce((a, b) => a + b, 0);
      estimateOut.textContent = `Audience today: ${result.in_audience} of ${result.customers} customers; reachable: ${reach}${held ? `; ${held} held back` : ""}.`;
    } catch (error) {
      estimateOut.textContent = error instanceof ApiError && error.status === 422 ? "Estimate: fix the errors shown first." : `Estimate unavailable: ${error.message}`;
    }
  };
  for (const node of [match, rowsBox, rawAudience]) {
    node.addEventListener("input", scheduleEstimate);
    node.addEventListener("change", scheduleEstimate);
  }

  const previewCustomer = input({ autocomplete: "off", placeholder: "a customer id, e.g. c-0001" });
  const previewChannel = select([["email", "E-mail"], ["sms", "SMS"]], doc.channels[0]);
  const previewOut = el("div", { "aria-live": "polite" });
  let previewTimer = null;
  const schedulePreview = () => {
    clearTimeout(previewTimer);
    if (previewCustomer.value.trim()) previewTimer = setTimeout(runPreview, 600);
  };
  const runPreview = async () => {
    const body = safeDocument();
    if (!body || !previewCustomer.value.trim()) return;
    try {
      const rendered = await post("drafts/preview", {
        campaign: { ...body, campaign_id: body.campaign_id || "draft" },
        customer_id: previewCustomer.value.trim(),
        channel: previewChannel.value,
      });
      const parts = [el("p", { class: "muted", text: `Locale ${rendered.locale}` })];
      if (rendered.channel === "email") {
        parts.push(el("h3", { text: `Subject: ${rendered.subject}` }));
        if (rendered.html) {
          const frame = el("iframe", { class: "preview-frame", title: "HTML part of the e-mail", sandbox: "" });
          frame.srcdoc = rendered.html;
          parts.push(frame);
        }
        parts.push(el("h3", { text: "Text part" }), el("div", { class: "pre", text: rendered.text }));
      } else {
        parts.push(el("div", { class: "pre", text: rendered.text }), el("p", { text: `${rendered.segments} segment(s), ${rendered.encoding}` }));
      }
      fill(previewOut, ...parts);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        const rest = showFieldErrors(form, error.fieldErrors);
        fill(previewOut, el("p", { class: "error", text: rest.length ? rest.map((p) => `${p.field}: ${p.message}`).join("; ") : "Fix the errors shown next to the fields to see the preview." }));
      } else {
        fill(previewOut, el("p", { class: "error", text: `Preview unavailable: ${error.message}` }));
      }
    }
  };
  previewCustomer.addEventListener("change", runPreview);
  previewChannel.addEventListener("change", runPreview);
  const previewSet = el(
    "fieldset",
    {},
    el("legend", { text: "Preview" }),
    el(
      "div",
      { class: "toolbar" },
      field("Preview for customer", previewCustomer),
      field("Channel", previewChannel),
      el("button", { type: "button", class: "secondary", text: "Preview", onclick: runPreview }),
    ),
    previewOut,
  );

  // ------------------------------------------------------------ save and lifecycle
  const save = async () => {
    const body = safeDocument();
    if (!body) return;
    try {
      let answer;
      if (stored) {
        answer = await put(`campaigns/${encodeURIComponent(stored.campaign.campaign_id)}`, { ...body, version: stored.version });
      } else {
        answer = await post("campaigns", body);
      }
      guard.dirty = false;
      showFieldErrors(form, []);
      fill(problems);
      const saved = `Saved ${answer.campaign.campaign_id} (version ${answer.version}).`;
      if (!stored) {
        flash.message = saved;
        window.location.hash = `#/campaigns/${encodeURIComponent(answer.campaign.campaign_id)}`;
      } else {
        await render(main, { id: stored.campaign.campaign_id, user });
        notice(saved);
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        const rest = showFieldErrors(form, error.fieldErrors);
        fill(problems, 
          el("p", { text: `The campaign was not saved: ${error.fieldErrors.length} problem(s), shown next to their fields.` }),
          rest.length ? el("ul", {}, rest.map((p) => el("li", { text: `${p.field}: ${p.message}` }))) : null,
        );
      } else if (error instanceof ApiError && error.status === 409 && error.body.error === "version_conflict") {
        fill(problems, el("p", { text: `Someone else saved this campaign meanwhile (now version ${error.body.current_version}). Reload the page to see their version; your changes are still in the form.` }));
      } else if (error instanceof ApiError && error.status === 403) {
        fill(problems, el("p", { text: "Viewers cannot save campaigns." }));
      } else {
        fill(problems, el("p", { text: `Not saved: ${error.message}` }));
      }
    }
  };
  const saveButton = el("button", { type: "submit", text: "Save", disabled: !canEdit });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  const lifecycle = stored
    ? actionButtons(
        { campaign_id: stored.campaign.campaign_id, name: stored.campaign.name, status: stored.campaign.status, version: stored.version },
        canEdit,
        async () => render(main, { id: stored.campaign.campaign_id, user }),
      )
    : null;

  form.append(basics, occasionSet, when, audienceSet, extras, contentSet, previewSet, problems, el("div", { class: "toolbar" }, saveButton));
  if (!canEdit) for (const control of form.querySelectorAll("input, select, textarea")) if (!previewSet.contains(control)) control.disabled = true;
  fill(main, 
    heading(stored ? `Campaign ${stored.campaign.name}` : "New campaign"),
    stored ? el("div", { class: "toolbar" }, el("span", {}, "Status: ", statusBadge(stored.campaign.status), ` · version ${stored.version}`), lifecycle, el("a", { href: `#/results/${encodeURIComponent(stored.campaign.campaign_id)}`, text: "Results" })) : null,
    form,
  );
  guard.dirty = false;
  if (stored) scheduleEstimate(); // a new campaign is estimated once it has been typed in
}
