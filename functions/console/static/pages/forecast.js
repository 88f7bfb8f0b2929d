// Forecast: the dry run of every active campaign for the next 30 days as a calendar. A day
// opens its messages by campaign and the customers who would be excluded, with the reason.
import { post } from "../api.js";
import { el, fill, heading, table } from "../ui.js";

const DAYS = 30;
const DOW = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function addDays(day, n) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return isoDay(date);
}

export async function render(main) {
  // "Today" is the stack's today (config.json): the local runner's clock may stand in 2027.
  const today = await serverToday();
  const result = await post("dry-run", { from: today, to: addDays(today, DAYS) });
  const byDay = new Map();
  for (let i = 0; i < DAYS; i += 1) byDay.set(addDays(today, i), { messages: [], excluded: [] });
  for (const message of result.messages) byDay.get(message.sent_at.slice(0, 10))?.messages.push(message);
  for (const entry of result.excluded) if (entry.sent_at) byDay.get(entry.sent_at.slice(0, 10))?.excluded.push(entry);

  const detail = el("section", { "aria-live": "polite", "aria-label": "Selected day" });
  const calendar = el("div", { class: "calendar", role: "group", "aria-label": "Next 30 days" });
  for (const name of DOW) calendar.append(el("div", { class: "dow", "aria-hidden": "true", text: name }));
  const first = new Date(`${today}T00:00:00Z`);
  for (let i = 0; i < (first.getUTCDay() + 6) % 7; i += 1) calendar.append(el("div", { class: "day empty", "aria-hidden": "true" }));
  const buttons = [];
  for (const [day, entry] of byDay) {
    const perCampaign = countBy(entry.messages, (m) => m.campaign_id);
    const label = new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
    const button = el(
      "button",
      {
        type: "button",
        class: "day",
        "aria-pressed": "false",
        "aria-label": `${label}: ${entry.messages.length} messages, ${entry.excluded.length} excluded`,
        onclick: () => {
          for (const b of buttons) b.setAttribute("aria-pressed", "false");
          button.setAttribute("aria-pressed", "true");
          showDay(detail, day, label, entry);
        },
      },
      el("span", { class: "date", text: label }),
      el("span", { class: "count", text: String(entry.messages.length) }),
      Object.entries(perCampaign)
        .slice(0, 3)
        .map(([campaign, n]) => el("span", { class: "muted", text: `${campaign} ${n}` })),
    );
    buttons.push(button);
    calendar.append(button);
  }
  fill(main, 
    heading("Forecast"),
    el("p", { class: "muted", text: `What the active campaigns would send from ${today} for ${DAYS} days (UTC days), computed by the dry run: nothing is sent. Order-triggered messages depend on future orders and are not shown.` }),
    el("p", { text: `${result.messages.length} messages, ${result.excluded.length} exclusions.` }),
    calendar,
    detail,
  );
}

async function serverToday() {
  try {
    const config = await fetch("config.json", { cache: "no-store" }).then((r) => r.json());
    if (config.today) return config.today;
  } catch {
    // fall back to the browser's day
  }
  return isoDay(new Date());
}

function countBy(items, key) {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] || 0) + 1;
  return counts;
}

function showDay(detail, day, label, entry) {
  const byCampaign = Object.entries(countBy(entry.messages, (m) => m.campaign_id)).map(([campaign, n]) => ({ campaign, n }));
  fill(detail, 
    el("h2", { text: label }),
    byCampaign.length
      ? table([{ label: "Campaign", value: (r) => r.campaign }, { label: "Messages", num: true, value: (r) => r.n }], byCampaign)
      : el("p", { text: "No messages that day." }),
    el("h3", { text: "Messages" }),
    entry.messages.length
      ? table(
          [
            { label: "Local time", value: (m) => m.local_time },
            { label: "Campaign", value: (m) => m.campaign_id },
            { label: "Customer", value: (m) => el("a", { href: `#/customers/${encodeURIComponent(m.customer_id)}`, text: m.customer_id }) },
            { label: "Channel", value: (m) => m.channel },
            { label: "Subject", value: (m) => m.subject || m.text.slice(0, 60) },
          ],
          entry.messages,
        )
      : el("p", { text: "None." }),
    el("h3", { text: "Excluded customers" }),
    entry.excluded.length
      ? table(
          [
            { label: "Campaign", value: (e) => e.campaign_id },
            { label: "Customer", value: (e) => el("a", { href: `#/customers/${encodeURIComponent(e.customer_id)}`, text: e.customer_id }) },
            { label: "Reason", value: (e) => e.reason },
          ],
          entry.excluded,
        )
      : el("p", { text: "None." }),
  );
  detail.querySelector("h2").setAttribute("tabindex", "-1");
  detail.querySelector("h2").focus();
}
