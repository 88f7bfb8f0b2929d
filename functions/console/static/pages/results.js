// Results: per campaign over time (sent, skipped by reason, failed, delivered, bounced,
// complained), conversions with the holdout's lift, survey scores with trend, distribution
// and detractors' comments; CSV export of the table shown.
import { get } from "../api.js";
import { chart, downloadCsv, el, field, fill, heading, percent, select, table } from "../ui.js";

export async function render(main, { id }) {
  const page = await get("campaigns?limit=100");
  const picker = select([["", "Choose a campaign"], ...page.items.map((c) => [c.campaign_id, `${c.name} (${c.status})`])], id || "");
  picker.addEventListener("change", () => {
    window.location.hash = picker.value ? `#/results/${encodeURIComponent(picker.value)}` : "#/results";
  });
  const body = el("div", { "aria-busy": id ? "true" : "false" }, id ? el("p", { text: "Loading results…" }) : null);
  fill(main, heading("Results"), el("div", { class: "toolbar" }, field("Campaign", picker)), body);
  if (!id) {
    fill(body, el("p", { text: "Choose a campaign to see its results." }));
    return;
  }
  const [stats, timeline, survey] = await Promise.all([
    get(`campaigns/${encodeURIComponent(id)}/stats`),
    get(`campaigns/${encodeURIComponent(id)}/timeline?days=30`),
    get(`campaigns/${encodeURIComponent(id)}/survey`),
  ]);
  fill(body, totals(stats), conversions(stats.conversions), overTime(id, timeline), surveys(survey));
  body.setAttribute("aria-busy", "false");
}

function totals(stats) {
  const rows = [
    ["Planned", stats.planned],
    ["Sent", stats.sent],
    ["Pending", stats.pending],
    ["Delivered", `${stats.delivered} (${percent(stats.delivery_rate)})`],
    ["Bounced", `${stats.bounced} (${percent(stats.bounce_rate)})`],
    ["Complained", `${stats.complained} (${percent(stats.complaint_rate)})`],
    ...Object.entries(stats.skipped).map(([reason, n]) => [`Skipped: ${reason}`, n]),
    ...Object.entries(stats.failed).map(([reason, n]) => [`Failed: ${reason}`, n]),
  ];
  return el(
    "section",
    { class: "card" },
    el("h2", { text: "All time" }),
    table([{ label: "What", value: (r) => r[0] }, { label: "Count", num: true, value: (r) => r[1] }], rows),
    stats.auto_pause ? el("p", { class: "error", text: `Paused automatically at ${stats.auto_pause.at}: ${stats.auto_pause.reason}` }) : null,
  );
}

function conversions(c) {
  if (!c) return null;
  const ci = c.lift_ci95 ? `${percent(c.lift_ci95[0])} to ${percent(c.lift_ci95[1])}` : "—";
  const money = (m) => Object.entries(m).map(([cur, v]) => `${v.toFixed(2)} ${cur}`).join(", ") || "—";
  const rows = [
    ["Recipients", c.recipients, c.recipient_conversions, percent(c.recipient_rate), money(c.revenue_per_recipient)],
    ["Holdout", c.holdout, c.holdout_conversions, percent(c.holdout_rate), money(c.revenue_per_holdout_member)],
  ];
  let verdict = "No holdout: set holdout_percent on the campaign to measure its lift.";
  if (c.lift !== null) {
    const significant = c.lift_ci95[0] > 0 || c.lift_ci95[1] < 0;
    verdict = `Lift ${percent(c.lift)} (95% interval ${ci})${significant ? "" : ": not distinguishable from no effect yet"}.`;
  }
  return el(
    "section",
    { class: "card" },
    el("h2", { text: `Conversions (orders within ${c.attribution_days} days)` }),
    table(
      [
        { label: "Group", value: (r) => r[0] },
        { label: "Members", num: true, value: (r) => r[1] },
        { label: "Converted", num: true, value: (r) => r[2] },
        { label: "Rate", num: true, value: (r) => r[3] },
        { label: "Revenue per member", value: (r) => r[4] },
      ],
      rows,
    ),
    el("p", { text: verdict }),
    c.open_windows ? el("p", { class: "muted", text: `${c.open_windows} attribution window(s) still open.` }) : null,
  );
}

function overTime(id, timeline) {
  const days = timeline.days;
  const canvas = el("canvas", { role: "img", "aria-label": "Messages per day: sent, skipped and failed" });
  const section = el(
    "section",
    { class: "card" },
    el("h2", { text: "Last 30 days" }),
    el("div", { class: "chart" }, canvas),
  );
  const columns = [
    ["Day", (d) => d.date],
    ["Sent", (d) => d.sent],
    ["Delivered", (d) => d.delivered],
    ["Bounced", (d) => d.bounced],
    ["Complained", (d) => d.complained],
    ["Skipped", (d) => d.skipped],
    ["Failed", (d) => d.failed],
    ["Pending", (d) => d.pending],
    ["Skipped by reason", (d) => Object.entries(d.skipped_by_reason).map(([r, n]) => `${r} ${n}`).join("; ")],
  ];
  const shown = days.filter((d) => d.planned);
  section.append(
    el("button", {
      type: "button",
      class: "secondary",
      text: "Export CSV",
      onclick: () => downloadCsv(`${id}-results.csv`, columns.map((c) => c[0]), days.map((d) => columns.map((c) => c[1](d)))),
    }),
    shown.length
      ? table(columns.map(([label, value]) => ({ label, value, num: label !== "Day" && label !== "Skipped by reason" })), shown)
      : el("p", { text: "Nothing planned in the last 30 days." }),
  );
  requestAnimationFrame(() =>
    chart(canvas, {
      type: "bar",
      data: {
        labels: days.map((d) => d.date.slice(5)),
        datasets: [
          { label: "Sent", data: days.map((d) => d.sent), backgroundColor: "#1a56b8", stack: "a" },
          { label: "Skipped", data: days.map((d) => d.skipped), backgroundColor: "#b0b7c0", stack: "a" },
          { label: "Failed", data: days.map((d) => d.failed), backgroundColor: "#a4161a", stack: "a" },
        ],
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    }),
  );
  return section;
}

function surveys(survey) {
  const kinds = Object.entries(survey.kinds);
  if (!kinds.length) return null;
  return kinds.map(([kind, r]) => {
    const trendCanvas = el("canvas", { role: "img", "aria-label": `${kind.toUpperCase()} per week` });
    const distCanvas = el("canvas", { role: "img", "aria-label": `${kind.toUpperCase()} score distribution` });
    requestAnimationFrame(() => {
      chart(trendCanvas, {
        type: "line",
        data: { labels: r.trend.map((w) => w.week), datasets: [{ label: kind.toUpperCase(), data: r.trend.map((w) => w.score), borderColor: "#1a56b8" }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false },
      });
      chart(distCanvas, {
        type: "bar",
        data: { labels: Object.keys(r.distribution), datasets: [{ label: "Answers", data: Object.values(r.distribution), backgroundColor: "#1a56b8" }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } },
      });
    });
    return el(
      "section",
      { class: "card" },
      el("h2", { text: `${kind.toUpperCase()}: ${r.score ?? "—"} from ${r.responses} answers` }),
      el("div", { class: "grid2" }, el("div", { class: "chart" }, trendCanvas), el("div", { class: "chart" }, distCanvas)),
      table(
        [{ label: "Score", value: (d) => d[0] }, { label: "Answers", num: true, value: (d) => d[1] }],
        Object.entries(r.distribution),
        { caption: "Score distribution" },
      ),
      el("h3", { text: "Detractors' comments" }),
      r.detractor_comments.length
        ? el("ul", {}, r.detractor_comments.map((c) => el("li", {}, el("strong", { text: `${c.score} · ` }), c.comment, el("span", { class: "muted", text: ` (${c.customer_id}, ${c.answered_at})` }))))
        : el("p", { text: "No detractor left a comment." }),
    );
  });
}
