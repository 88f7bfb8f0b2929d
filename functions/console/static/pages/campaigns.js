// Campaigns: the list with status, topic, channels, next send and the last 7 days; filter by
// status; lifecycle actions with version conflicts explained.
import { ApiError, get, post } from "../api.js";
import { el, field, fill, formatInstant, heading, notice, select, statusBadge, table } from "../ui.js";

const ACTIONS = [
  ["Activate", "active", (s) => s === "draft" || s === "paused"],
  ["Pause", "paused", (s) => s === "active"],
  ["Archive", "archived", (s) => s !== "archived"],
];

export async function changeStatus(campaignId, status, version) {
  try {
    await post(`campaigns/${encodeURIComponent(campaignId)}/status`, { status, version });
    notice(`${campaignId} is now ${status}.`);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && error.body.error === "version_conflict") {
      notice(
        `${campaignId} was changed by someone else since this page was loaded (now version ${error.body.current_version}). ` +
          "The list has been reloaded: check it and try again.",
        true,
      );
    } else if (error instanceof ApiError && error.status === 409) {
      notice(`${campaignId}: ${error.message}`, true);
    } else if (error instanceof ApiError && error.status === 403) {
      notice("Viewers cannot change campaigns.", true);
    } else {
      notice(`${campaignId}: ${error.message}`, true);
    }
    return false;
  }
}

export function actionButtons(summary, canEdit, after) {
  return el(
    "div",
    { class: "actions" },
    ACTIONS.map(([label, status, allowed]) =>
      el("button", {
        type: "button",
        class: "secondary",
        text: label,
        title: `${label} ${summary.name}`,
        disabled: !canEdit || !allowed(summary.status),
        onclick: async () => {
          await changeStatus(summary.campaign_id, status, summary.version);
          await after();
        },
      }),
    ),
  );
}

async function load(container, status, canEdit) {
  const query = status ? `?status=${encodeURIComponent(status)}&limit=100` : "?limit=100";
  const page = await get(`campaigns${query}`);
  const timelines = await Promise.all(
    page.items.map((c) => get(`campaigns/${encodeURIComponent(c.campaign_id)}/timeline?days=7`).catch(() => null)),
  );
  const rows = page.items.map((c, i) => ({ ...c, timeline: timelines[i] }));
  const refresh = () => load(container, status, canEdit);
  const columns = [
    { label: "Campaign", value: (c) => el("a", { href: `#/campaigns/${encodeURIComponent(c.campaign_id)}`, text: c.name }) },
    { label: "Status", value: (c) => statusBadge(c.status) },
    { label: "Topic", value: (c) => `${c.topic}${c.category === "service" ? " (service)" : ""}` },
    { label: "Channels", value: (c) => c.channels.join(", ") },
    { label: "Next send", value: (c) => formatInstant(c.timeline && c.timeline.next_send) },
    { label: "Sent (7 days)", num: true, value: (c) => (c.timeline ? c.timeline.last_7_days.sent : "—") },
    { label: "Skipped (7 days)", num: true, value: (c) => (c.timeline ? c.timeline.last_7_days.skipped : "—") },
    { label: "Actions", value: (c) => actionButtons(c, canEdit, refresh) },
  ];
  fill(container, 
    rows.length ? table(columns, rows, { caption: `${rows.length} campaign(s)` }) : el("p", { text: "No campaigns." }),
  );
}

export async function render(main, { user }) {
  const canEdit = Boolean(user && user.canEdit);
  const filter = select(
    [["", "All"], ["draft", "Draft"], ["active", "Active"], ["paused", "Paused"], ["archived", "Archived"]],
    "",
    { name: "status" },
  );
  const list = el("div", { "aria-live": "polite", "aria-busy": "true" }, el("p", { text: "Loading campaigns…" }));
  const newButton = el("button", {
    type: "button",
    text: "New campaign",
    disabled: !canEdit,
    onclick: () => {
      window.location.hash = "#/campaigns/new";
    },
  });
  filter.addEventListener("change", () => load(list, filter.value, canEdit));
  fill(main, 
    heading("Campaigns"),
    el("div", { class: "toolbar" }, field("Filter by status", filter), newButton),
    canEdit ? null : el("p", { class: "muted", text: "You are signed in as a viewer: you can look at everything, not change it." }),
    list,
  );
  await load(list, "", canEdit);
  list.setAttribute("aria-busy", "false");
}
