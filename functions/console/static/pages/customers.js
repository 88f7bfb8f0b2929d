// Customers: look a customer up by id or e-mail; profile, consent and its audit trail, every
// message with its outcome, and why a campaign did not reach them.
import { ApiError, get } from "../api.js";
import { el, field, fill, formatInstant, heading, input, notice, select, statusBadge, table } from "../ui.js";

export async function render(main, { id }) {
  const query = input({ value: id || "", autocomplete: "off", placeholder: "c-0001 or ana@example.com" });
  const form = el(
    "form",
    {
      class: "toolbar",
      role: "search",
      onsubmit: async (event) => {
        event.preventDefault();
        const text = query.value.trim();
        if (!text) return;
        if (!text.includes("@")) {
          window.location.hash = `#/customers/${encodeURIComponent(text)}`;
          return;
        }
        try {
          const found = await get(`customers?email=${encodeURIComponent(text)}`);
          if (found.customer_ids.length === 1) window.location.hash = `#/customers/${encodeURIComponent(found.customer_ids[0])}`;
          else fill(results, matches(found.customer_ids));
        } catch (error) {
          fill(results, el("p", { class: "error", text: error instanceof ApiError && error.status === 422 ? `Not an e-mail address: ${error.fieldErrors.map((e) => e.message).join("; ")}` : error.message }));
        }
      },
    },
    field("Customer ID or e-mail", query),
    el("button", { type: "submit", text: "Look up" }),
  );
  const results = el("div", { "aria-live": "polite", "aria-busy": id ? "true" : "false" });
  fill(main, heading(id ? `Customer ${id}` : "Customers"), form, results);
  if (id) {
    fill(results, el("p", { text: "Loading the customer…" }));
    await show(results, id);
    results.setAttribute("aria-busy", "false");
  }
}

function matches(ids) {
  if (!ids.length) return el("p", { text: "Nobody has this address." });
  return el("div", {}, el("p", { text: `${ids.length} customers have this address:` }), el("ul", {}, ids.map((c) => el("li", {}, el("a", { href: `#/customers/${encodeURIComponent(c)}`, text: c })))));
}

async function show(results, id) {
  let profile;
  try {
    profile = await get(`customers/${encodeURIComponent(id)}`);
  } catch (error) {
    fill(results, el("p", { class: "error", text: error instanceof ApiError && error.status === 404 ? `No customer ${id}.` : error.message }));
    return;
  }
  const history = await get(`customers/${encodeURIComponent(id)}/history`);
  if (profile.erased) {
    fill(results, el("p", { text: "This customer's data was erased. Nothing is kept but the fact; nothing will be sent." }));
    return;
  }
  const p = profile.profile;
  const facts = [
    ["E-mail", p.email], ["Phone", p.phone], ["Name", [p.first_name, p.last_name].filter(Boolean).join(" ")],
    ["Locale", p.locale], ["Timezone", p.timezone], ["Country", p.country], ["Birthday", p.birthday],
    ["Last active", formatInstant(p.last_active_at)], ["RFM segment", p.rfm && p.rfm.segment], ["NPS group", p.nps_group],
  ].filter(([, v]) => v);
  const consentRows = ["email", "sms"].map((channel) => ({
    channel,
    consent: profile.consent[channel] ? "given" : "not given",
    unsubscribed: profile.unsubscribed[channel] ? formatInstant(profile.unsubscribed[channel]) : "—",
    topics: (profile.topics_off[channel] || []).join(", ") || "—",
    suppressed: profile.suppressed[channel] ? profile.suppressed[channel].reason || "yes" : "—",
  }));
  const campaigns = await get("campaigns?limit=100");
  const whyPicker = select([["", "Choose a campaign"], ...campaigns.items.map((c) => [c.campaign_id, c.name])], "");
  const whyOut = el("div", { "aria-live": "polite" });
  whyPicker.addEventListener("change", async () => {
    if (!whyPicker.value) return fill(whyOut);
    const answer = await get(`customers/${encodeURIComponent(id)}/history?campaign_id=${encodeURIComponent(whyPicker.value)}`);
    if (answer.deliveries.length) {
      fill(whyOut, el("p", { text: "Planned for this customer: see the messages above." }), messagesTable(answer.deliveries));
    } else {
      fill(whyOut, 
        el("p", { text: "Nothing was planned. Evaluated now, the reasons are:" }),
        el("ul", {}, (answer.not_planned_because || []).map((r) => el("li", { text: r }))),
      );
    }
  });
  fill(results, 
    el("section", { class: "card" }, el("h2", { text: "Profile" }), table([{ label: "Field", value: (r) => r[0] }, { label: "Value", value: (r) => r[1] }], facts)),
    el(
      "section",
      { class: "card" },
      el("h2", { text: "Consent" }),
      table(
        [
          { label: "Channel", value: (r) => r.channel },
          { label: "Consent", value: (r) => r.consent },
          { label: "Unsubscribed", value: (r) => r.unsubscribed },
          { label: "Topics off", value: (r) => r.topics },
          { label: "Suppressed", value: (r) => r.suppressed },
        ],
        consentRows,
      ),
      el("h3", { text: "Consent changes" }),
      history.consent_events.length
        ? table(
            [
              { label: "When", value: (e) => formatInstant(e.at) },
              { label: "How", value: (e) => e.via },
              { label: "What", value: (e) => e.changes.map((c) => `${c.action}${c.topic ? ` ${c.topic}` : ""} (${c.channel})`).join("; ") },
              { label: "Campaign", value: (e) => e.campaign_id || "—" },
            ],
            history.consent_events,
          )
        : el("p", { text: "No change recorded." }),
    ),
    el("section", { class: "card" }, el("h2", { text: "Messages" }), history.deliveries.length ? messagesTable(history.deliveries) : el("p", { text: "No message planned yet." })),
    el("section", { class: "card" }, el("h2", { text: "Why not?" }), field("Campaign", whyPicker), whyOut),
  );
  notice("");
}

function messagesTable(deliveries) {
  return table(
    [
      { label: "Planned for", value: (d) => formatInstant(d.deliver_at) },
      { label: "Campaign", value: (d) => el("a", { href: `#/campaigns/${encodeURIComponent(d.campaign_id)}`, text: d.campaign_id }) },
      { label: "Channel", value: (d) => d.channel },
      { label: "Outcome", value: (d) => el("span", {}, statusBadge(d.status), d.reason ? ` ${d.reason}` : "") },
    ],
    deliveries,
  );
}
