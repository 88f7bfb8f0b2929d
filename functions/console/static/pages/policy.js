// Policy: the account's messaging policy (quiet hours, daily limit, frequency cap, priority).
import { ApiError, get, put } from "../api.js";
import { guard } from "../app.js";
import { el, field, fill, heading, input, notice, showFieldErrors } from "../ui.js";

const OCCASIONS = ["post_purchase_survey", "birthday", "date", "holiday", "replenishment", "inactivity"];

export async function render(main, { user }) {
  const canEdit = Boolean(user && user.canEdit);
  const view = await get("policy");
  const policy = view.policy || { quiet_hours: {}, priority: [] };
  const form = el("form", { novalidate: true, "aria-label": "Messaging policy" });
  form.addEventListener("input", () => {
    guard.dirty = true;
  });
  const quiet = {};
  const quietSet = el("fieldset", {}, el("legend", { text: "Quiet hours (customer's local time)" }));
  for (const channel of ["email", "sms"]) {
    const window_ = (policy.quiet_hours || {})[channel];
    const on = el("input", { type: "checkbox", id: `quiet-${channel}`, checked: Boolean(window_) });
    const from = input({ type: "time", value: window_ ? window_.from : channel === "sms" ? "20:00" : "21:00" });
    const to = input({ type: "time", value: window_ ? window_.to : channel === "sms" ? "09:00" : "08:00" });
    quiet[channel] = { on, from, to };
    quietSet.append(
      el("div", { class: "inline" }, on, el("label", { for: on.id, text: `Quiet hours for ${channel === "email" ? "e-mail" : "SMS"}` })),
      el("div", { class: "grid2" }, field(`${channel === "email" ? "E-mail" : "SMS"}: quiet from`, from, { name: `quiet_hours.${channel}.from` }), field(`${channel === "email" ? "E-mail" : "SMS"}: quiet until`, to, { name: `quiet_hours.${channel}.to` })),
    );
  }
  quietSet.append(el("p", { class: "muted", text: "Without quiet hours for SMS, SMS still keeps to 08:00-21:00 local." }));
  const daily = input({ type: "number", min: 1, value: policy.daily_limit ?? "" });
  const capMax = input({ type: "number", min: 1, value: policy.frequency_cap ? policy.frequency_cap.max_messages : "" });
  const capDays = input({ type: "number", min: 1, value: policy.frequency_cap ? policy.frequency_cap.per_days : "" });
  const limits = el(
    "fieldset",
    {},
    el("legend", { text: "Limits (marketing messages, all channels)" }),
    el(
      "div",
      { class: "grid2" },
      field("Daily limit per customer", daily, { name: "daily_limit", hint: "empty: no limit" }),
      field("Frequency cap: messages", capMax, { name: "frequency_cap.max_messages", hint: "empty: no cap" }),
      field("Frequency cap: per days", capDays, { name: "frequency_cap.per_days" }),
    ),
  );
  const order = [...(policy.priority || [])];
  for (const o of OCCASIONS) if (!order.includes(o)) order.push(o);
  const priorityList = el("ol", { "data-field": "priority", id: "priority-list" });
  const drawPriority = () => {
    priorityList.replaceChildren(
      ...order.map((occasion, index) =>
        el(
          "li",
          {},
          `${occasion} `,
          el("button", { type: "button", class: "secondary", text: "Up", "aria-label": `Move ${occasion} up`, disabled: !canEdit || index === 0, onclick: () => move(index, -1) }),
          " ",
          el("button", { type: "button", class: "secondary", text: "Down", "aria-label": `Move ${occasion} down`, disabled: !canEdit || index === order.length - 1, onclick: () => move(index, 1) }),
        ),
      ),
    );
  };
  const move = (index, by) => {
    [order[index], order[index + by]] = [order[index + by], order[index]];
    guard.dirty = true;
    drawPriority();
    priorityList.querySelectorAll("button")[Math.max(0, (index + by) * 2)]?.focus();
  };
  drawPriority();
  const prioritySet = el("fieldset", {}, el("legend", { text: "Priority when the daily limit is reached (highest first)" }), priorityList, el("p", { class: "error", id: "priority-list-error", hidden: true }));
  const problems = el("div", { role: "alert", class: "error" });
  const save = el("button", { type: "submit", text: "Save", disabled: !canEdit });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const document_ = { quiet_hours: {}, priority: order };
    for (const [channel, q] of Object.entries(quiet)) if (q.on.checked) document_.quiet_hours[channel] = { from: q.from.value, to: q.to.value };
    if (daily.value) document_.daily_limit = Number(daily.value);
    if (capMax.value || capDays.value) document_.frequency_cap = { max_messages: Number(capMax.value), per_days: Number(capDays.value) };
    try {
      const saved = await put("policy", { ...document_, version: view.version });
      guard.dirty = false;
      notice(`Policy saved (version ${saved.version}).`);
      await render(main, { user });
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        const rest = showFieldErrors(form, error.fieldErrors);
        fill(problems, el("p", { text: "Not saved:" }), el("ul", {}, (rest.length ? rest : error.fieldErrors).map((p) => el("li", { text: `${p.field}: ${p.message}` }))));
      } else if (error instanceof ApiError && error.status === 409) {
        fill(problems, el("p", { text: `Someone else changed the policy meanwhile (now version ${error.body.current_version}). Reload to see it.` }));
      } else {
        fill(problems, el("p", { text: `Not saved: ${error.message}` }));
      }
    }
  });
  form.append(quietSet, limits, prioritySet, problems, save);
  if (!canEdit) for (const control of form.querySelectorAll("input")) control.disabled = true;
  fill(main, 
    heading("Messaging policy"),
    el("p", { class: "muted", text: view.policy ? `Version ${view.version}, saved ${view.updated_at || ""}.` : "No policy yet: SMS keeps to 08:00-21:00 local, nothing else is limited." }),
    form,
  );
  guard.dirty = false;
}
