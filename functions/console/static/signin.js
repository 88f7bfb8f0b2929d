// Local sign-in (python -m emulator serve): the local stack issues a token for the chosen
// role; in AWS, config.json points at the Cognito hosted UI and this page sends you there.
import { loadConfig, storeToken } from "./api.js";

async function start() {
  const config = await loadConfig();
  if (config.auth !== "local") {
    window.location.replace(config.signin_url);
    return;
  }
  for (const button of document.querySelectorAll("[data-role]")) {
    button.addEventListener("click", async () => {
      const problem = document.getElementById("problem");
      problem.textContent = "";
      try {
        const response = await fetch(config.local_signin_url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ role: button.dataset.role }),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const answer = await response.json();
        storeToken(answer.id_token);
        window.location.assign("./#/campaigns");
      } catch (error) {
        problem.textContent = `Could not sign in: ${error.message}`;
      }
    });
  }
}

start();
