// Segments: the RFM grid (recency x frequency heat map with counts) and the named segments.
import { get } from "../api.js";
import { chart, el, fill, heading, table } from "../ui.js";

export async function render(main) {
  const grid = await get("segments");
  const max = Math.max(1, ...grid.recency_by_frequency.flat());
  const head = el("tr", {}, el("th", { scope: "col", text: "Recency \\ Frequency" }), [1, 2, 3, 4, 5].map((f) => el("th", { scope: "col", text: `F${f}` })));
  const rows = [5, 4, 3, 2, 1].map((r) =>
    el(
      "tr",
      {},
      el("th", { scope: "row", text: `R${r}` }),
      grid.recency_by_frequency[r - 1].map((n) => {
        const strength = n / max;
        return el("td", {
          text: String(n),
          style: { background: `rgba(26, 86, 184, ${(0.08 + 0.8 * strength).toFixed(2)})`, color: strength > 0.5 ? "#fff" : "#1b1f24" },
        });
      }),
    ),
  );
  const canvas = el("canvas", { role: "img", "aria-label": "Customers per named segment" });
  const segments = Object.entries(grid.segments);
  requestAnimationFrame(() =>
    chart(canvas, {
      type: "bar",
      data: { labels: segments.map((s) => s[0]), datasets: [{ label: "Customers", data: segments.map((s) => s[1]), backgroundColor: "#1a56b8" }] },
      options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false },
    }),
  );
  fill(main, 
    heading("Segments"),
    el("p", { class: "muted", text: `${grid.scored} customers scored by the daily RFM job (orders in the last 365 days); ${grid.unscored} without a score. Recency 5 = ordered most recently, frequency 5 = ordered most often.` }),
    el("section", { class: "card" }, el("h2", { text: "Recency x frequency" }), el("div", { class: "table-wrap" }, el("table", { class: "heat" }, el("thead", {}, head), el("tbody", {}, rows)))),
    el(
      "section",
      { class: "card" },
      el("h2", { text: "Named segments" }),
      el("div", { class: "chart" }, canvas),
      table([{ label: "Segment", value: (s) => s[0] }, { label: "Customers", num: true, value: (s) => s[1] }], segments),
    ),
  );
}
